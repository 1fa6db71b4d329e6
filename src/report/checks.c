/*
 * The checks of the explanations in the report (issue 13): the why of each window, the agreement
 * marks, each channel's window mean with its percentile in the background (printed beside its
 * waterfall bar), and the dependence note of an episode page. results.json, the PDF and the
 * workbook all print these from here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_impl.h"

const wf_why *wf_an_why(const wf_analysis *a, int64_t wi) {
    return a->why_of && wi >= 0 ? a->why_of[wi] : NULL;
}

int wf_an_window_value(const wf_analysis *a, int64_t wi, int c, double *mean, double *pct) {
    *mean = *pct = NAN;
    const wf_windows *ws = a->r->windows;
    const float *v = wi >= 0 && wi < ws->n ? ws->w[wi].values : NULL;
    if (!v || c < 0 || c >= ws->C)
        return 0;
    double s = 0;
    for (int t = 0; t < ws->T; t++)
        s += v[(size_t)c * ws->T + t];
    *mean = s / ws->T;
    const wf_background *bg = a->r->background;
    if (a->bg_means) {
        double below = 0, equal = 0, total = 0;
        for (int64_t b = 0; b < bg->n; b++) {
            double w = bg->weight ? bg->weight[b] : 1.0;
            double m = a->bg_means[b * bg->C + c];
            total += w;
            if (m < *mean)
                below += w;
            else if (m == *mean)
                equal += w;
        }
        if (total > 0)
            *pct = 100 * (below + 0.5 * equal) / total;
    }
    return 1;
}

char *wf_an_value_label(const wf_analysis *a, int64_t wi, int c, char *buf, size_t n) {
    double m, p;
    buf[0] = '\0';
    if (!wf_an_window_value(a, wi, c, &m, &p))
        return buf;
    const char *u = wf_an_unit(a, c);
    int k = snprintf(buf, n, "%.4g%s%s", m, u[0] ? " " : "", u);
    if (k > 0 && (size_t)k < n && !isnan(p))
        snprintf(buf + k, n - (size_t)k, " (p%.0f)", p);
    return buf;
}

static int channel_index(const wf_analysis *a, const char *name) {
    for (int c = 0; c < a->C; c++)
        if (!strcmp(wf_an_channel(a, c), name))
            return c;
    return -1;
}

int wf_an_dependence_note(const wf_analysis *a, int64_t wi, char *buf, size_t n) {
    buf[0] = '\0';
    const wf_dependence *d = a->r->dependence;
    const wf_why *y = wf_an_why(a, wi);
    const wf_explain_settings *s = a->r->settings;
    if (!d || !y || !s || s->groups != WF_GROUPS_CHANNEL || !wf_dependence_found(d) || d->C != a->C)
        return 0;
    /* groups of 2+ channels that hold a channel the sentence names */
    uint8_t *want = calloc((size_t)(d->n_groups > 0 ? d->n_groups : 1), 1);
    int *size = calloc((size_t)(d->n_groups > 0 ? d->n_groups : 1), sizeof(int));
    if (!want || !size) {
        free(want);
        free(size);
        return 0;
    }
    for (int c = 0; c < d->C; c++)
        size[d->group_of[c]]++;
    int any = 0;
    for (int k = 0; k < y->n_drivers; k++) {
        int c = channel_index(a, y->drivers[k].name);
        if (c >= 0 && size[d->group_of[c]] >= 2) {
            want[d->group_of[c]] = 1;
            any = 1;
        }
    }
    if (any) {
        size_t o = 0;
        o += (size_t)snprintf(buf + o, n - o,
                              "Some channels named above move together in the fleet's data, so "
                              "KernelSHAP may split their credit between them arbitrarily; "
                              "explain.groups \"auto\" would explain them together as ");
        int first = 1;
        for (int g = 0; g < d->n_groups && o < n; g++) {
            if (!want[g])
                continue;
            o += (size_t)snprintf(buf + o, n - o, "%sthe group {", first ? "" : " and ");
            first = 0;
            int f2 = 1;
            for (int c = 0; c < d->C && o < n; c++)
                if (d->group_of[c] == g) {
                    o += (size_t)snprintf(buf + o, n - o, "%s%s", f2 ? "" : ", ", d->names[c]);
                    f2 = 0;
                }
            if (o < n)
                o += (size_t)snprintf(buf + o, n - o, "}");
        }
        if (o < n)
            snprintf(buf + o, n - o, ".");
    }
    free(want);
    free(size);
    return any;
}

const char *wf_an_why_short(const wf_analysis *a, int64_t wi, char *buf, size_t n) {
    const wf_why *y = wf_an_why(a, wi);
    if (!y) {
        int top = wi >= 0 ? wf_an_top_channel(a, a->expl_of[wi]) : -1;
        snprintf(buf, n, "%s", top >= 0 ? wf_an_channel(a, top) : "-");
        return buf;
    }
    if (y->claim == WF_WHY_DISAGREE) { /* the page says which drivers and why */
        snprintf(buf, n, "DISAGREE (methods)");
        return buf;
    }
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < y->n_drivers && o < n; k++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s", k ? ", " : "", y->drivers[k].name);
    return buf;
}

const char *wf_an_agreement_reason(const wf_analysis *a, int64_t wi, char *buf, size_t n) {
    const wf_why *y = wf_an_why(a, wi);
    const wf_explanation *e = wi >= 0 ? a->expl_of[wi] : NULL;
    buf[0] = '\0';
    if (!y)
        return buf;
    const char *r = y->agreement.reason;
    size_t o = 0;
    while (*r && o + 1 < n) { /* "driver K" -> the K-th player's name */
        int k, used = 0;
        if (!strncmp(r, "driver ", 7) && sscanf(r + 7, "%d%n", &k, &used) == 1 && e &&
            e->has_kshap && e->kshap.players && k >= 0 && k < e->kshap.M) {
            o += (size_t)snprintf(buf + o, n - o, "%s", e->kshap.players[k]);
            r += 7 + used;
            continue;
        }
        buf[o++] = *r++;
        buf[o] = '\0';
    }
    if (o >= n)
        buf[n - 1] = '\0';
    return buf;
}
