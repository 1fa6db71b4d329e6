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
    default:
        return "no failure log";
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

static void outcomes(wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    int have_log = failure_log_present(r);
    double hz = r->horizon_hours > 0 ? r->horizon_hours : 72.0;
    int64_t hs = (int64_t)llround(hz * 3600.0);
    for (int k = 0; k < a->n_episodes; k++) {
        wf_episode *e = &a->episodes[k];
        e->outcome = have_log ? WF_OUTCOME_FALSE : WF_OUTCOME_UNKNOWN;
        if (!have_log)
            continue;
        int64_t from = ws->w[e->first].end, to = ws->w[e->last].end + hs;
        const char *id = a->turbines[e->turbine].id;
        for (int64_t f = 0; f < r->n_failures; f++) {
            const wf_failure *F = &r->failures[f];
            if (strcmp(F->turbine_id, id) != 0 || F->time <= from || F->time > to)
                continue;
            if (e->outcome != WF_OUTCOME_TRUE || F->time < e->failure_time) {
                e->outcome = WF_OUTCOME_TRUE;
                e->failure_time = F->time;
                e->component = F->component;
                e->lead_hours = (double)(F->time - from) / 3600.0;
            }
        }
        if (e->outcome == WF_OUTCOME_TRUE)
            a->n_true++;
        else
            a->n_false++;
    }
    /* Failures with no episode whose window ends before them within the horizon: missed. */
    for (int64_t f = 0; f < r->n_failures; f++) {
        const wf_failure *F = &r->failures[f];
        int tb = find_turbine(a, F->turbine_id);
        if (tb < 0)
            continue;
        a->turbines[tb].failures++;
        int caught = 0;
        for (int k = 0; k < a->n_episodes && !caught; k++) {
            const wf_episode *e = &a->episodes[k];
            if (e->turbine == tb && F->time > ws->w[e->first].end &&
                F->time <= ws->w[e->last].end + hs)
                caught = 1;
        }
        if (!caught) {
            a->turbines[tb].missed++;
            a->n_missed++;
        }
    }
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
    /* Turbines: sorted unique ids over valid and skipped windows. */
    for (int64_t i = 0; i < ws->n; i++)
        ids[i] = ws->w[i].turbine_id;
    for (int64_t i = 0; i < ws->n_skipped; i++)
        ids[ws->n + i] = ws->skipped[i].turbine_id;
    qsort(ids, (size_t)nid, sizeof *ids, cmp_str);
    a->turbines = calloc((size_t)(nid > 0 ? nid : 1), sizeof *a->turbines);
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
    /* Episodes: runs of flagged windows, same turbine, successive on the time grid. */
    int cap = 0;
    int64_t nrun = 0;
    int64_t step = (int64_t)ws->stride * ws->cadence;
    for (int64_t i = 0; i <= ws->n; i++) {
        int fl = i < ws->n && r->flagged && r->flagged[i];
        int cont =
            fl && nrun > 0 && strcmp(ws->w[run[nrun - 1]].turbine_id, ws->w[i].turbine_id) == 0 &&
            run[nrun - 1] == i - 1 && (step <= 0 || ws->w[i].start - ws->w[i - 1].start <= step);
        if (nrun > 0 && !cont) {
            int tb = find_turbine(a, ws->w[run[0]].turbine_id);
            if (add_episode(a, &cap, run, nrun, tb) != WF_OK)
                goto fail;
            a->turbines[tb].episodes++;
            nrun = 0;
        }
        if (fl)
            run[nrun++] = i;
    }
    for (int t = 0; t < a->n_turbines; t++)
        if (a->turbines[t].flagged > 0)
            a->n_flagged_turbines++;
    outcomes(a);
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
    /* Run id: a digest of what was decided (model, windows, scores), not of when. */
    {
        size_t cap2 = 256 + (size_t)ws->n * (WF_ID_MAX + 48);
        char *buf = malloc(cap2);
        if (!buf)
            goto fail;
        size_t len = (size_t)snprintf(buf, cap2, "%s|%d|%d|", r->model_sha256, ws->C, ws->T);
        for (int64_t i = 0; i < ws->n; i++) {
            char d[32];
            len += (size_t)snprintf(buf + len, cap2 - len, "%s,%lld,%s;", ws->w[i].turbine_id,
                                    (long long)ws->w[i].start, wf_fmt_double(d, score_of(r, a, i)));
        }
        char hex[65];
        wf_sha256_hex(buf, len, hex);
        free(buf);
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
    free((void *)a->expl_of);
    an_checks_free(a);
    memset(a, 0, sizeof *a);
}
