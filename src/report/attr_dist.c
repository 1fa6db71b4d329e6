/*
 * The distribution of the channel attributions over every explained alarm window, split by the
 * outcome of the window's episode (issue 14, "time context"): a window of a true or repeat alarm
 * (a failure followed within the horizon), of a false alarm, or of an episode without a failure
 * log. The attribution is the one every other fleet view uses (wf_an_channel_attr: KernelSHAP
 * channel values, else IG channel sums, else TreeSHAP values). Quantiles are linear between
 * order statistics (numpy's default), so anyone can recompute them from results.json.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/time_impl.h"

double wf_attr_quantile(const double *sorted, int64_t n, double q) {
    if (n <= 0)
        return NAN;
    double pos = q * (double)(n - 1);
    int64_t i = (int64_t)floor(pos);
    if (i >= n - 1)
        return sorted[n - 1];
    double f = pos - (double)i;
    return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

static int cmp_double(const void *pa, const void *pb) {
    double x = *(const double *)pa, y = *(const double *)pb;
    return (x > y) - (x < y);
}

static int group_of(wf_outcome o) {
    return o == WF_OUTCOME_TRUE || o == WF_OUTCOME_REPEAT ? WF_AD_TRUE
           : o == WF_OUTCOME_FALSE                        ? WF_AD_FALSE
                                                          : WF_AD_UNKNOWN;
}

void wf_attr_dist_free(wf_attr_dist *d) {
    if (!d)
        return;
    for (int g = 0; g < WF_AD_GROUPS; g++) {
        free(d->vals[g]);
        free(d->stats[g]);
    }
    free(d->mean_abs);
    free(d->order);
    memset(d, 0, sizeof *d);
}

wf_status wf_attr_dist_build(const wf_analysis *a, wf_attr_dist *d, wf_error *err) {
    memset(d, 0, sizeof *d);
    int C = a->C;
    d->C = C;
    double *attr = malloc((size_t)(C > 0 ? C : 1) * sizeof *attr);
    d->mean_abs = calloc((size_t)(C > 0 ? C : 1), sizeof *d->mean_abs);
    d->order = malloc((size_t)(C > 0 ? C : 1) * sizeof *d->order);
    if (!attr || !d->mean_abs || !d->order)
        goto nomem;
    /* count per group, then fill (channel-major) */
    int64_t usable = 0;
    for (int64_t i = 0; i < a->r->n_explained; i++)
        usable += wf_an_channel_attr(a, &a->r->expl[i], attr);
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        int g = group_of(e->outcome), any = 0;
        for (int64_t j = 0; j < e->n; j++)
            if (wf_an_channel_attr(a, a->expl_of[e->windows[j]], attr)) {
                d->n[g]++;
                any = 1;
            }
        d->n_episodes[g] += any;
    }
    int64_t total = 0;
    for (int g = 0; g < WF_AD_GROUPS; g++) {
        total += d->n[g];
        d->vals[g] =
            malloc((size_t)(d->n[g] > 0 ? d->n[g] : 1) * (size_t)(C > 0 ? C : 1) * sizeof(double));
        d->stats[g] = calloc((size_t)(C > 0 ? C : 1), sizeof(wf_attr_stats));
        if (!d->vals[g] || !d->stats[g])
            goto nomem;
    }
    d->n_outside = usable - total;
    int64_t at[WF_AD_GROUPS] = {0, 0, 0};
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        int g = group_of(e->outcome);
        for (int64_t j = 0; j < e->n; j++) {
            const wf_explanation *x = a->expl_of[e->windows[j]];
            if (!wf_an_channel_attr(a, x, attr))
                continue;
            int ks = x->has_kshap && x->kshap.M == C && x->kshap.values, same = ks;
            for (int c = 0; c < C && same; c++)
                same = x->kshap.values[c] == attr[c];
            int ig = !same && x->has_ig && x->ig.channel_sums && x->ig.channel_sums[0] == attr[0];
            d->n_kshap += same;
            d->n_ig += ig;
            d->n_tree += !same && !ig;
            for (int c = 0; c < C; c++) {
                d->vals[g][(size_t)c * (size_t)d->n[g] + (size_t)at[g]] = attr[c];
                d->mean_abs[c] += fabs(attr[c]);
            }
            at[g]++;
        }
    }
    for (int c = 0; c < C; c++) {
        d->mean_abs[c] = total > 0 ? d->mean_abs[c] / (double)total : 0;
        d->order[c] = c;
    }
    for (int g = 0; g < WF_AD_GROUPS; g++)
        for (int c = 0; c < C; c++) {
            double *v = d->vals[g] + (size_t)c * (size_t)d->n[g];
            int64_t n = d->n[g];
            wf_attr_stats *s = &d->stats[g][c];
            if (n > 0)
                qsort(v, (size_t)n, sizeof *v, cmp_double);
            double sum = 0;
            for (int64_t i = 0; i < n; i++)
                sum += v[i];
            s->median = wf_attr_quantile(v, n, 0.5);
            s->q1 = wf_attr_quantile(v, n, 0.25);
            s->q3 = wf_attr_quantile(v, n, 0.75);
            s->lo = n ? v[0] : NAN;
            s->hi = n ? v[n - 1] : NAN;
            s->mean = n ? sum / (double)n : NAN;
        }
    /* channels by mean |attribution|, largest first, ties in channel order (insertion sort:
     * C is small, and no comparator needs the key through a global) */
    for (int i = 1; i < C; i++) {
        int c = d->order[i], j = i;
        while (j > 0 && d->mean_abs[d->order[j - 1]] < d->mean_abs[c]) {
            d->order[j] = d->order[j - 1];
            j--;
        }
        d->order[j] = c;
    }
    free(attr);
    return WF_OK;
nomem:
    free(attr);
    wf_attr_dist_free(d);
    return wf_error_set(err, WF_ERR_NOMEM, "report: out of memory (attribution distribution)");
}

const char *wf_attr_dist_kind(const wf_attr_dist *d, char *buf, size_t n) {
    int kinds = (d->n_kshap > 0) + (d->n_ig > 0) + (d->n_tree > 0);
    if (kinds <= 1)
        snprintf(buf, n, "%s",
                 d->n_ig     ? "Integrated Gradients channel sums (KernelSHAP per channel is off)"
                 : d->n_tree ? "TreeSHAP channel values"
                             : "KernelSHAP channel values");
    else
        snprintf(buf, n,
                 "mixed: KernelSHAP channel values for %lld windows, Integrated Gradients "
                 "channel sums for %lld, TreeSHAP values for %lld",
                 (long long)d->n_kshap, (long long)d->n_ig, (long long)d->n_tree);
    return buf;
}

static const char *const group_key[WF_AD_GROUPS] = {"true_alarms", "false_alarms",
                                                    "no_failure_log"};

void wf_results_json_attr_dist(wf_jw *w, const wf_analysis *a) {
    wf_attr_dist d;
    wf_error e2;
    if (wf_attr_dist_build(a, &d, &e2) != WF_OK) {
        w->failed = 1;
        return;
    }
    char kind[200];
    wf_jw_key(w, "attribution_distribution");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "attribution", d.n[0] + d.n[1] + d.n[2] ? wf_attr_dist_kind(&d, kind, 200) : "");
    wf_jw_kstr(w, "quantiles", "linear between order statistics (numpy default)");
    wf_jw_key(w, "windows");
    wf_jw_obj_begin(w);
    for (int g = 0; g < WF_AD_GROUPS; g++)
        wf_jw_kint(w, group_key[g], d.n[g]);
    wf_jw_obj_end(w);
    wf_jw_key(w, "episodes");
    wf_jw_obj_begin(w);
    for (int g = 0; g < WF_AD_GROUPS; g++)
        wf_jw_kint(w, group_key[g], d.n_episodes[g]);
    wf_jw_obj_end(w);
    wf_jw_kint(w, "windows_outside_episodes", d.n_outside);
    wf_jw_key(w, "channels");
    wf_jw_arr_begin(w);
    for (int i = 0; i < d.C; i++) {
        int c = d.order[i];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "channel", wf_an_channel(a, c));
        wf_jw_kdouble(w, "mean_abs", d.mean_abs[c]);
        for (int g = 0; g < WF_AD_GROUPS; g++) {
            if (d.n[g] == 0)
                continue;
            const wf_attr_stats *s = &d.stats[g][c];
            wf_jw_key(w, group_key[g]);
            wf_jw_obj_begin(w);
            wf_jw_kdouble(w, "median", s->median);
            wf_jw_kdouble(w, "q1", s->q1);
            wf_jw_kdouble(w, "q3", s->q3);
            wf_jw_kdouble(w, "min", s->lo);
            wf_jw_kdouble(w, "max", s->hi);
            wf_jw_kdouble(w, "mean", s->mean);
            wf_jw_obj_end(w);
        }
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);
    wf_attr_dist_free(&d);
}
