/*
 * The analysis shared by every output: turbines, alarm episodes (consecutive flagged windows of a
 * turbine), outcomes against the failure log and the explanation of each window. Pure
 * bookkeeping over the wf_results; no third-party library here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "report/report_impl.h"

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int find_turbine(const wf_analysis *a, const char *id) {
    int lo = 0, hi = a->n_turbines - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(a->turbines[mid].id, id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

const char *wf_an_channel(const wf_analysis *a, int c) {
    const wf_windows *ws = a->r->windows;
    return (ws->channels && ws->channels[c]) ? ws->channels[c] : "?";
}

const char *wf_an_unit(const wf_analysis *a, int c) {
    const wf_windows *ws = a->r->windows;
    return (ws->units && ws->units[c]) ? ws->units[c] : "";
}

/* KernelSHAP players are the channels when there are C of them named like the channels. */
static int kshap_is_channels(const wf_analysis *a, const wf_explanation *e) {
    if (!e->has_kshap || e->kshap.M != a->C || !e->kshap.players)
        return 0;
    for (int c = 0; c < a->C; c++)
        if (!e->kshap.players[c] || strcmp(e->kshap.players[c], wf_an_channel(a, c)) != 0)
            return 0;
    return 1;
}

int wf_an_channel_attr(const wf_analysis *a, const wf_explanation *e, double *out) {
    if (!e || e->status != WF_OK)
        return 0;
    if (kshap_is_channels(a, e)) {
        for (int c = 0; c < a->C; c++)
            out[c] = e->kshap.values[c];
        return 1;
    }
    if (e->has_ig && e->ig.channel_sums && e->ig.C == a->C) {
        for (int c = 0; c < a->C; c++)
            out[c] = e->ig.channel_sums[c];
        return 1;
    }
    if (e->has_treeshap && e->treeshap.M == a->C && e->treeshap.players) { /* TreeSHAP alone */
        for (int c = 0; c < a->C; c++)
            if (!e->treeshap.players[c] || strcmp(e->treeshap.players[c], wf_an_channel(a, c)))
                return 0;
        for (int c = 0; c < a->C; c++)
            out[c] = e->treeshap.values[c];
        return 1;
    }
    return 0;
}

int wf_an_top_channel(const wf_analysis *a, const wf_explanation *e) {
    double v[256];
    if (a->C > 256 || !wf_an_channel_attr(a, e, v))
        return -1;
    int best = -1;
    for (int c = 0; c < a->C; c++)
        if (best < 0 || v[c] > v[best])
            best = c;
    /* The driver of an alarm is the channel pushing the score up the most; if nothing pushes up,
     * fall back to the largest magnitude. */
    if (best >= 0 && v[best] <= 0) {
        for (int c = 0; c < a->C; c++)
            if (fabs(v[c]) > fabs(v[best]))
                best = c;
    }
    return best;
}

int wf_an_usable(const wf_analysis *a, const wf_explanation *e) {
    double v[256];
    return e && a->C <= 256 && wf_an_channel_attr(a, e, v);
}

int64_t wf_an_episode_window(const wf_analysis *a, const wf_episode *e) {
    if (wf_an_usable(a, a->expl_of[e->first]))
        return e->first;
    if (wf_an_usable(a, a->expl_of[e->peak]))
        return e->peak;
    int64_t best = -1;
    for (int64_t i = 0; i < e->n; i++) {
        int64_t w = e->windows[i];
        if (wf_an_usable(a, a->expl_of[w]) &&
            (best < 0 || a->expl_of[w]->score > a->expl_of[best]->score))
            best = w;
    }
    return best;
}

void wf_an_review(const wf_analysis *a, double *mean_true, double *mean_false, double *top_true,
                  double *top_false, int *n_true, int *n_false) {
    int C = a->C, nt = 0, nf = 0;
    double attr[256];
    for (int c = 0; c < C; c++)
        mean_true[c] = mean_false[c] = top_true[c] = top_false[c] = 0;
    for (int k = 0; k < a->n_episodes && C <= 256; k++) {
        const wf_episode *e = &a->episodes[k];
        int64_t ew = wf_an_episode_window(a, e);
        const wf_explanation *x = ew >= 0 ? a->expl_of[ew] : NULL;
        if (e->outcome == WF_OUTCOME_UNKNOWN || !wf_an_channel_attr(a, x, attr))
            continue;
        int top = wf_an_top_channel(a, x);
        int tru = e->outcome == WF_OUTCOME_TRUE;
        for (int c = 0; c < C; c++)
            (tru ? mean_true : mean_false)[c] += attr[c];
        if (top >= 0)
            (tru ? top_true : top_false)[top] += 1;
        nt += tru;
        nf += !tru;
    }
    for (int c = 0; c < C; c++) {
        mean_true[c] = nt ? mean_true[c] / nt : 0;
        mean_false[c] = nf ? mean_false[c] / nf : 0;
    }
    *n_true = nt;
    *n_false = nf;
}

void wf_an_channel_range(const wf_analysis *a, int c, double *lo, double *hi) {
    const wf_windows *ws = a->r->windows;
    if (a->r->channel_min && a->r->channel_max) {
        *lo = a->r->channel_min[c];
        *hi = a->r->channel_max[c];
        return;
    }
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int64_t i = 0; i < ws->n; i++)
        for (int k = 0; k < ws->T; k++) {
            double v = ws->w[i].values[c * ws->T + k];
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
}

const char *wf_outcome_str(wf_outcome o) {
    switch (o) {
    case WF_OUTCOME_TRUE:
        return "true alarm";
    case WF_OUTCOME_FALSE:
        return "false alarm";
    case WF_OUTCOME_REPEAT:
        return "repeat alarm";
    default:
        return "no failure log";
    }
}

const char *wf_failure_outcome_str(wf_failure_outcome o) {
    switch (o) {
    case WF_FAILURE_CAUGHT:
        return "caught";
    case WF_FAILURE_MISSED:
        return "missed";
    default:
        return "not observable";
    }
}

char *wf_fmt_time_short(int64_t t, char *buf) {
    char iso[32];
    wf_time_format_iso(t, iso);
    /* 2024-03-04T10:00:00Z -> 2024-03-04 10:00 UTC */
    snprintf(buf, 32, "%.10s %.5s UTC", iso, iso + 11);
    return buf;
}

char *wf_fmt_score(double v, char *buf) {
    if (isnan(v))
        snprintf(buf, 32, "n/a");
    else
        snprintf(buf, 32, "%.3f", v);
    return buf;
}

static double score_of(const wf_results *r, const wf_analysis *a, int64_t i) {
    if (r->scores)
        return r->scores[i];
    if (a->expl_of && a->expl_of[i])
        return a->expl_of[i]->score;
    return NAN;
}

static int failure_log_present(const wf_results *r) {
    if (r->n_failures > 0)
        return 1;
    for (int64_t i = 0; i < r->windows->n; i++)
        if (r->windows->w[i].label >= 0)
            return 1;
    return 0;
}

static int cmp_episode_score(const void *pa, const void *pb, const wf_analysis *a) {
    const wf_episode *x = &a->episodes[*(const int *)pa];
    const wf_episode *y = &a->episodes[*(const int *)pb];
    if (x->peak_score > y->peak_score)
        return -1;
    if (x->peak_score < y->peak_score)
        return 1;
    return (*(const int *)pa > *(const int *)pb) - (*(const int *)pa < *(const int *)pb);
}

/* A stable insertion sort: episode counts are small and qsort has no context pointer in C11. */
static void sort_by_score(int *idx, int n, const wf_analysis *a) {
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && cmp_episode_score(&idx[j], &v, a) > 0) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
}

static wf_status add_episode(wf_analysis *a, int *cap, const int64_t *idx, int64_t n, int tb) {
    if (a->n_episodes == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        wf_episode *ne = realloc(a->episodes, (size_t)nc * sizeof *ne);
        if (!ne)
            return WF_ERR_NOMEM;
        a->episodes = ne;
        *cap = nc;
    }
    wf_episode *e = &a->episodes[a->n_episodes];
    memset(e, 0, sizeof *e);
    e->windows = malloc((size_t)n * sizeof *e->windows);
    if (!e->windows)
        return WF_ERR_NOMEM;
    memcpy(e->windows, idx, (size_t)n * sizeof *idx);
    e->n = n;
    e->turbine = tb;
    e->first = idx[0];
    e->last = idx[n - 1];
    e->peak = idx[0];
    e->peak_score = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        double s = score_of(a->r, a, idx[k]);
        if (s > e->peak_score) {
            e->peak_score = s;
            e->peak = idx[k];
        }
    }
    a->n_episodes++;
    return WF_OK;
}

/* ---------------------------------------------------------------- episodes and outcomes
 *
 * The rule (the methods page says it in words):
 * - Episodes. The flagged windows of a turbine, in time order, form one episode while the gap
 *   between two of them (the time between their starts, less one stride) is shorter than
 *   report.episode_merge_gap (default one stride: only successive windows; a gap of skipped
 *   windows or unflagged windows ends the episode).
 * - Crediting. An episode precedes failure F when F is after the end of its first flagged window
 *   and at most the horizon after the end of its last. Each failure is credited to one episode:
 *   the first (earliest) that precedes it; it is then caught, with the lead time from the end of
 *   that episode's first window. An episode credited with a failure is a true alarm; one that
 *   precedes only failures already credited to an earlier episode is a repeat alarm; any other is
 *   a false alarm (without a failure log: no outcome).
 * - A failure that no episode precedes is missed when some scored window of its turbine ends
 *   within the horizon before it (the model could have flagged it), else not observable (no
 *   data, skipped windows, or before the audited period). caught + missed + not observable =
 *   failures in the log.
 * - Precision = (true + repeat alarms) / episodes; recall = caught / (caught + missed).
 */

typedef struct ep_span {
    int turbine;
    int64_t from, to; /* end of the first flagged window; end of the last + horizon */
} ep_span;

static int64_t merge_gap_s(const wf_analysis *a) {
    const wf_windows *ws = a->r->windows;
    int64_t step = (int64_t)ws->stride * ws->cadence;
    double g = a->r->episode_merge_gap_hours;
    return g > 0 ? (int64_t)llround(g * 3600.0) : step;
}

/* 1 when flagged window i continues the episode whose last flagged window is p. */
static int continues(const wf_analysis *a, int64_t p, int64_t i) {
    const wf_windows *ws = a->r->windows;
    if (strcmp(ws->w[p].turbine_id, ws->w[i].turbine_id) != 0)
        return 0;
    int64_t step = (int64_t)ws->stride * ws->cadence;
    if (step <= 0)
        return p == i - 1; /* no time grid known: successive windows */
    return ws->w[i].start - ws->w[p].start - step < a->episode_merge_gap;
}

static int64_t horizon_s(const wf_results *r) {
    return (int64_t)llround((r->horizon_hours > 0 ? r->horizon_hours : 72.0) * 3600.0);
}

/* The one span builder of the run's episodes and the threshold sweep's: walks the windows (in
 * turbine, time order) and calls fn for each episode, a run of flagged windows under the merge
 * rule, with its first and last flagged window and, when run (ws->n) is given, every flagged
 * window of it (n of them). Flagged: the run's flags (th NaN) or score >= th. *n_flagged (may be
 * NULL) receives the number of flagged windows. */
typedef wf_status (*span_fn)(wf_analysis *a, void *user, int64_t first, int64_t last,
                             const int64_t *run, int64_t n);

static wf_status episode_spans(wf_analysis *a, double th, int64_t *run, span_fn fn, void *user,
                               int64_t *n_flagged) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    int by_flags = isnan(th);
    int64_t first = -1, last = -1, n = 0, nf = 0;
    for (int64_t i = 0; i <= ws->n; i++) {
        int fl = i < ws->n && (by_flags ? r->flagged && r->flagged[i] : r->scores[i] >= th);
        nf += fl;
        if (i < ws->n && !fl)
            continue; /* an unflagged window neither ends nor extends an episode */
        if (fl && last >= 0 && continues(a, last, i)) {
            last = i;
            if (run)
                run[n] = i;
            n++;
            continue;
        }
        if (last >= 0) {
            wf_status st = fn(a, user, first, last, run, n);
            if (st)
                return st;
            last = -1;
        }
        if (fl) {
            first = last = i;
            if (run)
                run[0] = i;
            n = 1;
        }
    }
    if (n_flagged)
        *n_flagged = nf;
    return WF_OK;
}

/* Credit the failures to the episodes (spans, in time order per turbine). ep_out (ne): outcome;
 * ep_fail (ne): the first failure credited, -1; f_out, f_ep (nf): each failure's outcome and
 * crediting episode. Any output may be NULL. Counts into *c (true, repeat, false, caught,
 * missed, not observable). */
typedef struct credit_counts {
    int64_t t, rep, f, caught, missed, unobs;
} credit_counts;

static void credit(const wf_analysis *a, const ep_span *sp, int ne, wf_outcome *ep_out,
                   int64_t *ep_fail, wf_failure_outcome *f_out, int *f_ep, credit_counts *c) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    int have_log = failure_log_present(r);
    int64_t hs = horizon_s(r);
    memset(c, 0, sizeof *c);
    for (int k = 0; k < ne; k++) {
        if (ep_out)
            ep_out[k] = have_log ? WF_OUTCOME_FALSE : WF_OUTCOME_UNKNOWN;
        if (ep_fail)
            ep_fail[k] = -1;
    }
    for (int64_t f = 0; f < r->n_failures; f++) {
        const wf_failure *F = &r->failures[f];
        int tb = find_turbine(a, F->turbine_id);
        int first = -1;
        for (int k = 0; tb >= 0 && k < ne; k++)
            if (sp[k].turbine == tb && F->time > sp[k].from && F->time <= sp[k].to &&
                (first < 0 || sp[k].from < sp[first].from))
                first = k;
        wf_failure_outcome fo;
        if (first >= 0) {
            fo = WF_FAILURE_CAUGHT;
            c->caught++;
            if (ep_out)
                ep_out[first] = WF_OUTCOME_TRUE;
            if (ep_fail && (ep_fail[first] < 0 || F->time < r->failures[ep_fail[first]].time))
                ep_fail[first] = f;
            /* later episodes that also precede it: repeats, unless credited themselves */
            for (int k = 0; ep_out && k < ne; k++)
                if (k != first && sp[k].turbine == tb && F->time > sp[k].from &&
                    F->time <= sp[k].to && ep_out[k] == WF_OUTCOME_FALSE)
                    ep_out[k] = WF_OUTCOME_REPEAT;
        } else {
            int seen = 0; /* a scored window of the turbine ends in [F - horizon, F) */
            int64_t lo = tb >= 0 ? a->turbines[tb].first_window : 0;
            int64_t hi = tb >= 0 ? a->turbines[tb].first_window + a->turbines[tb].scored : 0;
            for (int64_t i = lo; i < hi && !seen; i++)
                seen = ws->w[i].end < F->time && F->time - ws->w[i].end <= hs;
            fo = seen ? WF_FAILURE_MISSED : WF_FAILURE_NOT_OBSERVABLE;
            if (seen)
                c->missed++;
            else
                c->unobs++;
        }
        if (f_out)
            f_out[f] = fo;
        if (f_ep)
            f_ep[f] = first;
    }
    /* a repeat that a later failure credits is true: the pass above set TRUE over REPEAT only
     * for the first episode; recount from the final outcomes */
    for (int k = 0; ep_out && k < ne; k++) {
        c->t += ep_out[k] == WF_OUTCOME_TRUE;
        c->rep += ep_out[k] == WF_OUTCOME_REPEAT;
        c->f += ep_out[k] == WF_OUTCOME_FALSE;
    }
}

static double ratio(int64_t num, int64_t den) {
    return den > 0 ? (double)num / (double)den : NAN;
}

static int cmp_dbl(const void *x, const void *y) {
    double p = *(const double *)x, q = *(const double *)y;
    return p < q ? -1 : p > q;
}

static wf_status outcomes(wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    int ne = a->n_episodes;
    ep_span *sp = malloc(sizeof *sp * (size_t)(ne > 0 ? ne : 1));
    wf_outcome *eo = malloc(sizeof *eo * (size_t)(ne > 0 ? ne : 1));
    int64_t *ef = malloc(sizeof *ef * (size_t)(ne > 0 ? ne : 1));
    int64_t nf = r->n_failures;
    a->fail_outcome = malloc(sizeof *a->fail_outcome * (size_t)(nf > 0 ? nf : 1));
    a->fail_episode = malloc(sizeof *a->fail_episode * (size_t)(nf > 0 ? nf : 1));
    double *leads = malloc(sizeof *leads * (size_t)(nf > 0 ? nf : 1));
    if (!sp || !eo || !ef || !a->fail_outcome || !a->fail_episode || !leads) {
        free(sp);
        free(eo);
        free(ef);
        free(leads);
        return WF_ERR_NOMEM;
    }
    int64_t hs = horizon_s(r);
    for (int k = 0; k < ne; k++) {
        const wf_episode *e = &a->episodes[k];
        sp[k] = (ep_span){e->turbine, ws->w[e->first].end, ws->w[e->last].end + hs};
    }
    credit_counts c;
    credit(a, sp, ne, eo, ef, a->fail_outcome, a->fail_episode, &c);
    for (int k = 0; k < ne; k++) {
        wf_episode *e = &a->episodes[k];
        e->outcome = eo[k];
        if (ef[k] >= 0) {
            const wf_failure *F = &r->failures[ef[k]];
            e->failure_time = F->time;
            e->component = F->component;
            e->lead_hours = (double)(F->time - sp[k].from) / 3600.0;
        }
    }
    int nl = 0;
    for (int64_t f = 0; f < nf; f++) {
        int tb = find_turbine(a, r->failures[f].turbine_id);
        if (tb >= 0) {
            a->turbines[tb].failures++;
            a->turbines[tb].missed += a->fail_outcome[f] == WF_FAILURE_MISSED;
        }
        if (a->fail_episode[f] >= 0)
            leads[nl++] = (double)(r->failures[f].time - sp[a->fail_episode[f]].from) / 3600.0;
    }
    a->n_true = c.t;
    a->n_repeat = c.rep;
    a->n_false = c.f;
    a->n_caught = c.caught;
    a->n_missed = c.missed;
    a->n_not_observable = c.unobs;
    a->n_failures = nf;
    a->precision = failure_log_present(r) ? ratio(c.t + c.rep, ne) : NAN;
    a->recall = ratio(c.caught, c.caught + c.missed);
    a->median_lead_hours = NAN;
    if (nl > 0) {
        qsort(leads, (size_t)nl, sizeof *leads, cmp_dbl);
        a->median_lead_hours = nl % 2 ? leads[nl / 2] : 0.5 * (leads[nl / 2 - 1] + leads[nl / 2]);
    }
    free(sp);
    free(eo);
    free(ef);
    free(leads);
    return WF_OK;
}

typedef struct sweep_spans {
    ep_span *sp;
    int ne;
    int64_t hs;
} sweep_spans;

static wf_status sweep_span(wf_analysis *a, void *user, int64_t first, int64_t last,
                            const int64_t *run, int64_t n) {
    sweep_spans *ss = user;
    const wf_windows *ws = a->r->windows;
    (void)run;
    (void)n;
    ss->sp[ss->ne++] = (ep_span){find_turbine(a, ws->w[first].turbine_id), ws->w[first].end,
                                 ws->w[last].end + ss->hs};
    return WF_OK;
}

/* The threshold sweep: for each threshold, the flags score >= t, their episodes (same merge
 * rule) and outcomes (same crediting). Thresholds: 0.05, 0.10, ..., 0.95 for a probability, else
 * the 5%, 10%, ..., 95% quantiles of the scores; and the run's own. */
static wf_status sweep(wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    a->n_sweep = 0;
    if (!r->scores || !failure_log_present(r) || ws->n < 1)
        return WF_OK;
    double th[WF_SWEEP_MAX];
    int nt = 0;
    int prob = r->output_kind && !strcmp(r->output_kind, "probability");
    double *sorted = NULL;
    if (!prob) {
        sorted = malloc(sizeof *sorted * (size_t)ws->n);
        if (!sorted)
            return WF_ERR_NOMEM;
        memcpy(sorted, r->scores, sizeof *sorted * (size_t)ws->n);
        qsort(sorted, (size_t)ws->n, sizeof *sorted, cmp_dbl);
    }
    for (int k = 1; k <= 19; k++) {
        double q = k / 20.0;
        if (prob) {
            th[nt++] = q;
        } else {
            double pos = q * (double)(ws->n - 1);
            int64_t lo = (int64_t)floor(pos);
            int64_t hi = lo + 1 < ws->n ? lo + 1 : lo;
            th[nt++] = sorted[lo] + (pos - (double)lo) * (sorted[hi] - sorted[lo]);
        }
    }
    free(sorted);
    if (!isnan(r->threshold)) {
        int have = 0;
        for (int k = 0; k < nt; k++)
            have |= fabs(th[k] - r->threshold) < 1e-12;
        if (!have)
            th[nt++] = r->threshold;
    }
    qsort(th, (size_t)nt, sizeof *th, cmp_dbl);
    ep_span *sp = malloc(sizeof *sp * (size_t)ws->n);
    wf_outcome *eo = malloc(sizeof *eo * (size_t)ws->n);
    if (!sp || !eo) {
        free(sp);
        free(eo);
        return WF_ERR_NOMEM;
    }
    int64_t hs = horizon_s(r);
    for (int k = 0; k < nt; k++) {
        wf_sweep_row *row = &a->sweep[a->n_sweep++];
        memset(row, 0, sizeof *row);
        row->threshold = th[k];
        sweep_spans ss = {sp, 0, hs};
        episode_spans(a, th[k], NULL, sweep_span, &ss, &row->flagged);
        int ne = ss.ne;
        credit_counts c;
        credit(a, sp, ne, eo, NULL, NULL, NULL, &c);
        row->episodes = ne;
        row->true_alarms = c.t;
        row->repeat_alarms = c.rep;
        row->false_alarms = c.f;
        row->caught = c.caught;
        row->missed = c.missed;
        row->precision = ratio(c.t + c.rep, ne);
        row->recall = ratio(c.caught, c.caught + c.missed);
    }
    free(sp);
    free(eo);
    return WF_OK;
}

/* The run's episodes (episode_spans over its flags): every flagged window kept. */
static wf_status run_episode(wf_analysis *a, void *user, int64_t first, int64_t last,
                             const int64_t *run, int64_t n) {
    (void)last;
    int tb = find_turbine(a, a->r->windows->w[first].turbine_id);
    wf_status st = add_episode(a, user, run, n, tb);
    if (!st)
        a->turbines[tb].episodes++;
    return st;
}

/* The checks' indexes (issue 13): each window's why, and the background windows' channel means
 * for the percentiles beside the waterfall bars; read through checks.c's accessors. */
static int an_checks_init(wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    a->why_of = NULL;
    a->bg_means = NULL;
    a->n_why = a->n_disagree = 0;
    if (r->why) {
        a->why_of = calloc((size_t)(ws->n > 0 ? ws->n : 1), sizeof *a->why_of);
        if (!a->why_of)
            return -1;
        for (int64_t i = 0; i < r->n_explained; i++) {
            const wf_why *y = &r->why[i];
            if (!y->text[0])
                continue;
            a->why_of[r->expl[i].window_index] = y;
            a->n_why++;
            a->n_disagree += y->claim == WF_WHY_DISAGREE;
        }
    }
    const wf_background *bg = r->background;
    if (bg && bg->n > 0 && bg->x && bg->C == ws->C && bg->T == ws->T) {
        a->bg_means = malloc(sizeof(double) * (size_t)bg->n * (size_t)bg->C);
        if (!a->bg_means)
            return -1;
        for (int64_t b = 0; b < bg->n; b++)
            for (int c = 0; c < bg->C; c++) {
                const float *v = bg->x + ((size_t)b * bg->C + c) * bg->T;
                double s = 0;
                for (int t = 0; t < bg->T; t++)
                    s += v[t];
                a->bg_means[b * bg->C + c] = s / bg->T;
            }
    }
    return 0;
}

static void an_checks_free(wf_analysis *a) {
    free((void *)a->why_of);
    free(a->bg_means);
    a->why_of = NULL;
    a->bg_means = NULL;
}

wf_status wf_analysis_build(wf_analysis *a, const wf_results *r, int max_detail, wf_error *err) {
    memset(a, 0, sizeof *a);
    a->r = r;
    const wf_windows *ws = r->windows;
    if (!ws)
        return wf_error_set(err, WF_ERR_INVALID, "report: results hold no windows");
    a->C = ws->C;
    a->T = ws->T;
    wf_status st = WF_ERR_NOMEM;
    int64_t nid = ws->n + ws->n_skipped;
    const char **ids = malloc((size_t)(nid > 0 ? nid : 1) * sizeof *ids);
    a->expl_of = calloc((size_t)(ws->n > 0 ? ws->n : 1), sizeof *a->expl_of);
    int64_t *run = malloc((size_t)(ws->n > 0 ? ws->n : 1) * sizeof *run);
    if (!ids || !a->expl_of || !run)
        goto fail;
    for (int64_t i = 0; i < r->n_explained; i++) {
        int64_t w = r->expl[i].window_index;
        if (w < 0 || w >= ws->n) {
            st = wf_error_set(err, WF_ERR_INVALID,
                              "report: explanation %lld points to window %lld of %lld",
                              (long long)i, (long long)w, (long long)ws->n);
            goto out;
        }
        a->expl_of[w] = &r->expl[i];
    }
    if (an_checks_init(a))
        goto fail;
    /* Turbines: sorted unique ids over valid and skipped windows. A window's id is listed only
     * where it differs from the previous window's (windows come in runs of one turbine), so a
     * fleet's millions of windows sort as a few thousand ids. */
    nid = 0;
    for (int64_t i = 0; i < ws->n; i++)
        if (i == 0 || strcmp(ws->w[i - 1].turbine_id, ws->w[i].turbine_id) != 0)
            ids[nid++] = ws->w[i].turbine_id;
    for (int64_t i = 0; i < ws->n_skipped; i++)
        if (i == 0 || strcmp(ws->skipped[i - 1].turbine_id, ws->skipped[i].turbine_id) != 0)
            ids[nid++] = ws->skipped[i].turbine_id;
    qsort(ids, (size_t)nid, sizeof *ids, cmp_str);
    int64_t n_unique = 0;
    for (int64_t i = 0; i < nid; i++)
        n_unique += i == 0 || strcmp(ids[i - 1], ids[i]) != 0;
    a->turbines = calloc((size_t)(n_unique > 0 ? n_unique : 1), sizeof *a->turbines);
    if (!a->turbines)
        goto fail;
    for (int64_t i = 0; i < nid; i++) {
        if (a->n_turbines > 0 && strcmp(a->turbines[a->n_turbines - 1].id, ids[i]) == 0)
            continue;
        wf_turbine_summary *t = &a->turbines[a->n_turbines++];
        snprintf(t->id, sizeof t->id, "%s", ids[i]);
        t->max_score = NAN;
    }
    a->period_start = INT64_MAX;
    a->period_end = INT64_MIN;
    for (int64_t i = 0; i < ws->n; i++) {
        const wf_window *w = &ws->w[i];
        wf_turbine_summary *t = &a->turbines[find_turbine(a, w->turbine_id)];
        if (t->scored == 0)
            t->first_window = i; /* windows are in turbine order: [first_window, + scored) */
        t->scored++;
        double s = score_of(r, a, i);
        if (!isnan(s) && (isnan(t->max_score) || s > t->max_score))
            t->max_score = s;
        if (r->flagged && r->flagged[i]) {
            t->flagged++;
            a->n_flagged++;
        }
        if (w->start < a->period_start)
            a->period_start = w->start;
        if (w->end > a->period_end)
            a->period_end = w->end;
    }
    for (int64_t i = 0; i < ws->n_skipped; i++) {
        a->turbines[find_turbine(a, ws->skipped[i].turbine_id)].skipped++;
        if (ws->skipped[i].start < a->period_start)
            a->period_start = ws->skipped[i].start;
    }
    if (a->period_start == INT64_MAX)
        a->period_start = a->period_end = 0;
    if (a->period_end == INT64_MIN) /* only skipped windows: the period is where they start */
        a->period_end = a->period_start;
    /* Episodes: runs of flagged windows of a turbine, gaps shorter than the merge gap. */
    int cap = 0;
    a->episode_merge_gap = merge_gap_s(a);
    if (episode_spans(a, NAN, run, run_episode, &cap, NULL) != WF_OK)
        goto fail;
    for (int t = 0; t < a->n_turbines; t++)
        if (a->turbines[t].flagged > 0)
            a->n_flagged_turbines++;
    if (outcomes(a) != WF_OK || sweep(a) != WF_OK)
        goto fail;
    a->episode_order = malloc((size_t)(a->n_episodes > 0 ? a->n_episodes : 1) * sizeof(int));
    if (!a->episode_order)
        goto fail;
    for (int k = 0; k < a->n_episodes; k++)
        a->episode_order[k] = k;
    if (max_detail <= 0)
        max_detail = 200;
    if (a->n_episodes > max_detail)
        sort_by_score(a->episode_order, a->n_episodes, a);
    for (int k = 0; k < a->n_episodes && k < max_detail; k++)
        a->episodes[a->episode_order[k]].detailed = 1;
    /* Run id: a digest of what was decided (model, windows, scores), not of when. The text
     * "model|C|T|id,start,score;..." is hashed as it is formatted, through a 16 KiB buffer:
     * at fleet scale the whole text would be ~130 MB at the report's memory peak. */
    {
        wf_hasher *h = wf_hasher_new();
        if (!h)
            goto fail;
        char buf[1 << 14];
        size_t len = (size_t)snprintf(buf, sizeof buf, "%s|%d|%d|", r->model_sha256, ws->C, ws->T);
        for (int64_t i = 0; i < ws->n; i++) {
            char d[32];
            if (len > sizeof buf - (WF_ID_MAX + 64)) {
                wf_hasher_update(h, buf, len);
                len = 0;
            }
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s,%lld,%s;", ws->w[i].turbine_id,
                                    (long long)ws->w[i].start, wf_fmt_double(d, score_of(r, a, i)));
        }
        wf_hasher_update(h, buf, len);
        char hex[65];
        wf_hasher_hex(h, hex);
        wf_hasher_free(h);
        memcpy(a->run_id, hex, 16);
        a->run_id[16] = '\0';
    }
    free(ids);
    free(run);
    return WF_OK;
fail:
    st = wf_error_set(err, WF_ERR_NOMEM, "report: out of memory building the analysis");
out:
    free(ids);
    free(run);
    wf_analysis_free(a);
    return st;
}

void wf_analysis_free(wf_analysis *a) {
    for (int k = 0; k < a->n_episodes; k++)
        free(a->episodes[k].windows);
    free(a->episodes);
    free(a->episode_order);
    free(a->turbines);
    free(a->fail_outcome);
    free(a->fail_episode);
    free((void *)a->expl_of);
    an_checks_free(a);
    memset(a, 0, sizeof *a);
}
