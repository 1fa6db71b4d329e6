/*
 * Concept-drift signals per period (issue 16), from the windows of a run: windows scored,
 * flagged and explained; precision and recall of the flags against the failure labels; score
 * quantiles (numpy.quantile, "linear"); the mean |attribution| per channel over the explained
 * windows and over the seeded sample of unflagged windows (wf_results_drift.sample). A window
 * belongs to the period holding its end (wf_results_drift.window_period).
 * Also the per-window sentence of the episode pages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/drift_impl.h"

const double wf_drift_score_q[WF_DRIFT_NQ] = {0.05, 0.25, 0.5, 0.75, 0.95};

void wf_drift_concept_free(wf_drift_concept *c) {
    if (!c)
        return;
    free(c->windows);
    free(c->flagged);
    free(c->explained);
    free(c->labelled);
    free(c->positives);
    free(c->true_pos);
    free(c->precision);
    free(c->recall);
    free(c->score_q);
    free(c->attr);
    free(c->sampled);
    free(c->attr_unflagged);
    memset(c, 0, sizeof *c);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.quantile(v, q) with the default linear method; v sorted, n >= 1. */
static double quantile_sorted(const double *v, int64_t n, double q) {
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    double f = pos - (double)lo;
    return v[lo] + (v[lo + 1] - v[lo]) * f;
}

wf_status wf_drift_concept_build(const wf_analysis *a, wf_drift_concept *c, wf_error *err) {
    memset(c, 0, sizeof *c);
    const wf_results *r = a->r;
    const wf_results_drift *d = r->drift;
    const wf_windows *ws = r->windows;
    int64_t P = d->n_periods, PA = P ? P : 1;
    int C = a->C;
    c->n_periods = P;
    c->C = C;
    c->windows = calloc((size_t)PA, sizeof(int64_t));
    c->flagged = calloc((size_t)PA, sizeof(int64_t));
    c->explained = calloc((size_t)PA, sizeof(int64_t));
    c->labelled = calloc((size_t)PA, sizeof(int64_t));
    c->positives = calloc((size_t)PA, sizeof(int64_t));
    c->true_pos = calloc((size_t)PA, sizeof(int64_t));
    c->precision = calloc((size_t)PA, sizeof(double));
    c->recall = calloc((size_t)PA, sizeof(double));
    c->score_q = calloc((size_t)PA * WF_DRIFT_NQ, sizeof(double));
    c->attr = calloc((size_t)PA * (size_t)C, sizeof(double));
    c->sampled = calloc((size_t)PA, sizeof(int64_t));
    c->attr_unflagged = calloc((size_t)PA * (size_t)C, sizeof(double));
    int64_t *off = calloc((size_t)PA + 1, sizeof(int64_t));
    double *sorted = malloc(sizeof(double) * (size_t)(ws->n ? ws->n : 1));
    double *ca = malloc(sizeof(double) * (size_t)C);
    if (!c->windows || !c->flagged || !c->explained || !c->labelled || !c->positives ||
        !c->true_pos || !c->precision || !c->recall || !c->score_q || !c->attr || !off || !sorted ||
        !ca || !c->sampled || !c->attr_unflagged) {
        free(off);
        free(sorted);
        free(ca);
        wf_drift_concept_free(c);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < ws->n; i++) {
        int64_t p = d->window_period[i];
        c->windows[p]++;
        int fl = r->flagged && r->flagged[i];
        c->flagged[p] += fl;
        if (ws->w[i].label >= 0) {
            c->labelled[p]++;
            c->positives[p] += ws->w[i].label == 1;
            c->true_pos[p] += fl && ws->w[i].label == 1;
        }
        const wf_explanation *e = a->expl_of ? a->expl_of[i] : NULL;
        if (e && wf_an_usable(a, e) && wf_an_channel_attr(a, e, ca)) {
            c->explained[p]++;
            for (int ch = 0; ch < C; ch++)
                c->attr[(size_t)p * (size_t)C + (size_t)ch] += fabs(ca[ch]);
        }
    }
    /* the seeded sample of unflagged windows (explained, never episodes) */
    for (int64_t i = 0; i < d->n_sample; i++) {
        const wf_explanation *e = &d->sample_expl[i];
        int64_t p = d->sample_period[i];
        if (wf_an_usable(a, e) && wf_an_channel_attr(a, e, ca)) {
            c->sampled[p]++;
            for (int ch = 0; ch < C; ch++)
                c->attr_unflagged[(size_t)p * (size_t)C + (size_t)ch] += fabs(ca[ch]);
        }
    }
    /* scores per period: a counting sort by period, then each slice sorted */
    for (int64_t p = 0; p < P; p++)
        off[p + 1] = off[p] + c->windows[p];
    int64_t *at = calloc((size_t)PA, sizeof(int64_t));
    if (!at) {
        free(off);
        free(sorted);
        free(ca);
        wf_drift_concept_free(c);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; r->scores && i < ws->n; i++) {
        int64_t p = d->window_period[i];
        sorted[off[p] + at[p]++] = r->scores[i];
    }
    for (int64_t p = 0; p < P; p++) {
        int64_t n = c->windows[p];
        double *q = c->score_q + (size_t)p * WF_DRIFT_NQ;
        if (n > 0 && r->scores) {
            qsort(sorted + off[p], (size_t)n, sizeof(double), cmp_d);
            for (int k = 0; k < WF_DRIFT_NQ; k++)
                q[k] = quantile_sorted(sorted + off[p], n, wf_drift_score_q[k]);
        } else {
            for (int k = 0; k < WF_DRIFT_NQ; k++)
                q[k] = NAN;
        }
        c->precision[p] =
            c->labelled[p] && c->flagged[p] ? (double)c->true_pos[p] / (double)c->flagged[p] : NAN;
        c->recall[p] = c->positives[p] ? (double)c->true_pos[p] / (double)c->positives[p] : NAN;
        for (int ch = 0; ch < C; ch++) {
            double *v = &c->attr[(size_t)p * (size_t)C + (size_t)ch];
            *v = c->explained[p] ? *v / (double)c->explained[p] : NAN;
            double *u = &c->attr_unflagged[(size_t)p * (size_t)C + (size_t)ch];
            *u = c->sampled[p] ? *u / (double)c->sampled[p] : NAN;
        }
    }
    free(at);
    free(off);
    free(sorted);
    free(ca);
    return WF_OK;
}

int64_t wf_drift_window_row(const wf_results_drift *d, int64_t wi) {
    int64_t lo = 0, hi = d->n_windows;
    while (lo < hi) { /* window_index ascends (explanations are in window order) */
        int64_t mid = (lo + hi) / 2;
        if (d->window_index[mid] < wi)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_windows && d->window_index[lo] == wi ? lo : -1;
}

char *wf_drift_window_sentence(const wf_analysis *a, int64_t j, char *buf, size_t size) {
    const wf_results_drift *d = a->r->drift;
    buf[0] = '\0';
    if (!d || j < 0 || !d->outside[j])
        return buf;
    int C = d->C;
    char hi[512] = "", lo[512] = "";
    int nh = 0, nl = 0, hi_all = 1, lo_all = 1; /* beyond every reference window mean */
    const wf_window *w = &a->r->windows->w[d->window_index[j]];
    for (int c = 0; c < C; c++) {
        if (!d->channel_out[(size_t)j * (size_t)C + (size_t)c])
            continue;
        double m = 0;
        int n = 0;
        for (int t = 0; t < a->T; t++) {
            float v = w->values[(size_t)c * (size_t)a->T + (size_t)t];
            if (!isnan(v)) {
                m += v;
                n++;
            }
        }
        m = n ? m / n : NAN;
        int above = m > d->mean_hi[c];
        double pc = d->percentile[(size_t)j * (size_t)C + (size_t)c];
        if (above && pc < 100)
            hi_all = 0;
        if (!above && pc > 0)
            lo_all = 0;
        char *dst = above ? hi : lo;
        int *k = above ? &nh : &nl;
        size_t used = strlen(dst);
        snprintf(dst + used, sizeof hi - used, "%s%s", *k ? " and " : "", wf_an_channel(a, c));
        (*k)++;
    }
    const char *where = d->reference_is_log ? "the reference log" : "the reference period";
    char qh[64], ql[64];
    snprintf(qh, sizeof qh, "%s", hi_all ? "anything" : "the usual range");
    snprintf(ql, sizeof ql, "%s", lo_all ? "anything" : "the usual range");
    if (nh && nl)
        snprintf(buf, size,
                 "%s %s higher than %s and %s %s lower than %s in %s: the model is "
                 "extrapolating.",
                 hi, nh > 1 ? "are" : "is", qh, lo, nl > 1 ? "are" : "is", ql, where);
    else
        snprintf(buf, size, "%s %s %s than %s in %s: the model is extrapolating.", nh ? hi : lo,
                 (nh ? nh : nl) > 1 ? "are" : "is", nh ? "higher" : "lower", nh ? qh : ql, where);
    return buf;
}
