/*
 * The explain stage's driver: windows in parallel (each thread with its own predictor contexts),
 * each window with its own RNG stream wf_rng_init_stream(seed, wf_window_key(turbine, start))
 * and its result
 * written to out[k], so results are identical whatever the thread count. A window that fails gets
 * a status and an error text; the others go on. Also the agreement (Spearman) and the method text
 * for auditors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "explain/checks_impl.h"
#include "explain/explain_impl.h"
#include "whyflag/treeshap.h"
#include "whyflag/treeshap_path.h"

#define KSHAP_BATCH 8192 /* rows per predict call */
#define IG_BATCH_MAX 1024

void wf_explanation_deinit(wf_explanation *e) {
    if (!e)
        return;
    wf_kshap_result_free(&e->kshap);
    wf_ig_result_free(&e->ig);
    wf_treeshap_result_free(&e->treeshap);
    e->has_kshap = e->has_ig = e->has_treeshap = 0;
}

void wf_treeshap_result_free(wf_treeshap_result *r) {
    if (!r)
        return;
    for (int m = 0; r->players && m < r->M; m++)
        free(r->players[m]);
    free(r->players);
    free(r->values);
    memset(r, 0, sizeof *r);
}

/* ---- Spearman rank correlation ---- */

typedef struct vi {
    double v;
    int i;
} vi;

static int cmp_vi(const void *a, const void *b) {
    const vi *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return x->i - y->i;
}

/* Average ranks (1-based) for ties. */
static int ranks(const double *a, int n, double *r) {
    vi *s = malloc(sizeof(vi) * (size_t)n);
    if (!s)
        return -1;
    for (int i = 0; i < n; i++) {
        s[i].v = a[i];
        s[i].i = i;
    }
    qsort(s, (size_t)n, sizeof(vi), cmp_vi);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && s[j + 1].v == s[i].v)
            j++;
        double avg = 0.5 * (double)(i + j) + 1.0;
        for (int k = i; k <= j; k++)
            r[s[k].i] = avg;
        i = j + 1;
    }
    free(s);
    return 0;
}

double wf_spearman(const double *a, const double *b, int n) {
    if (n < 2)
        return NAN;
    double *ra = malloc(sizeof(double) * (size_t)n), *rb = malloc(sizeof(double) * (size_t)n);
    double out = NAN;
    if (ra && rb && !ranks(a, n, ra) && !ranks(b, n, rb)) {
        /* Pearson correlation of the ranks (exact with ties, unlike 1 - 6 sum d^2 / ...) */
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) {
            ma += ra[i];
            mb += rb[i];
        }
        ma /= n;
        mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        if (saa > 0 && sbb > 0)
            out = sab / sqrt(saa * sbb);
    }
    free(ra);
    free(rb);
    return out;
}

/* ---- the run ---- */

typedef struct run_job {
    const wf_explain_settings *s;
    const wf_predictor *p;
    const wf_background *bg;
    const wf_windows *ws;
    const int64_t *idx;
    wf_explanation *out;
    const wf_players *pl;
    const float *baseline; /* (C*T) IG baseline, NULL for EG */
    const char *baseline_name;
    const wf_treeshap *ts;       /* NULL unless interventional TreeSHAP runs */
    const wf_treeshap_path *tsp; /* NULL unless path-dependent TreeSHAP runs */
    int ig_na;                   /* IG asked for, the model has no gradient */
    const char *ig_reason;
    wf_par par;
} run_job;

/* TreeSHAP of window x into r (players' names copied from pl). */
static wf_status treeshap_window(const run_job *j, const float *x, wf_treeshap_result *r,
                                 wf_error *err) {
    int M = j->pl->M;
    memset(r, 0, sizeof *r);
    r->M = M;
    r->output = j->s->treeshap_output;
    r->values = calloc((size_t)M, sizeof *r->values);
    r->players = calloc((size_t)M, sizeof *r->players);
    if (!r->values || !r->players)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (TreeSHAP values)");
    for (int m = 0; m < M; m++) {
        const char *nm = j->pl->names ? j->pl->names[m] : NULL;
        size_t len = nm ? strlen(nm) : 0;
        if (nm && !(r->players[m] = malloc(len + 1)))
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (TreeSHAP players)");
        if (nm)
            memcpy(r->players[m], nm, len + 1);
    }
    r->path_dependent = j->tsp != NULL;
    wf_status st =
        j->tsp ? wf_treeshap_path_explain(j->tsp, x, r->values, &r->f_x, &r->base_value, err)
        : r->output == WF_TREESHAP_PROBABILITY
            ? wf_treeshap_explain_probability(j->ts, x, r->values, &r->f_x, &r->base_value, err)
            : wf_treeshap_explain(j->ts, x, r->values, &r->f_x, &r->base_value, err);
    if (st)
        return st;
    double sum = 0;
    for (int m = 0; m < M; m++)
        sum += r->values[m];
    r->efficiency_gap = sum - (r->f_x - r->base_value);
    return WF_OK;
}

/* TreeSHAP against KernelSHAP on one window (see wf_explanation). */
static void treeshap_vs_kshap(const run_job *j, wf_explanation *e) {
    const wf_kshap_result *k = &e->kshap;
    const wf_treeshap_result *t = &e->treeshap;
    e->ts_ks_max_diff = NAN;
    e->ts_ks_spearman = NAN;
    e->ts_ks_same_sign = 0;
    if (k->M != t->M)
        return;
    int olink = wf_tree_model_output_link(j->s->tree_model);
    int same_game = /* path-dependent TreeSHAP plays another game than KernelSHAP's */
        !t->path_dependent && t->output == WF_TREESHAP_MARGIN &&
        ((olink == 1 && k->link == WF_LINK_LOGIT_OUTPUT) ||
         (olink == 0 && k->link == WF_LINK_IDENTITY));
    double md = 0;
    for (int m = 0; m < t->M; m++) {
        double d = fabs(k->values[m] - t->values[m]);
        md = d > md ? d : md;
        e->ts_ks_same_sign +=
            (k->values[m] > 0) == (t->values[m] > 0) && (k->values[m] < 0) == (t->values[m] < 0);
    }
    if (same_game)
        e->ts_ks_max_diff = md;
    e->ts_ks_spearman = wf_spearman(k->values, t->values, t->M);
}

static void fail_window(wf_explanation *e, const wf_error *err, wf_status st) {
    wf_explanation_deinit(e);
    e->status = st;
    const char *m = err->msg[0] ? err->msg : wf_status_str(st);
    size_t n = strlen(m);
    if (n >= sizeof e->error)
        n = sizeof e->error - 1; /* the message is cut to the field's size */
    memcpy(e->error, m, n);
    e->error[n] = 0;
}

static void run_worker(void *arg, int tid) {
    (void)tid;
    run_job *j = arg;
    const wf_explain_settings *s = j->s;
    wf_coal_eval ce;
    wf_ig_eval ie;
    memset(&ce, 0, sizeof ce);
    memset(&ie, 0, sizeof ie);
    wf_error ierr = {0};
    wf_status ist = WF_OK;
    if (s->do_kernelshap)
        ist = wf_coal_eval_init(&ce, j->p, j->bg, j->pl, s->link,
                                s->arithmetic == WF_ARITHMETIC_EXACT ? 0 : 1, KSHAP_BATCH, &ierr);
    void *own_ctx = NULL;
    if (!ist && s->do_ig && !j->ig_na) {
        /* the nodes plus x and x', whose outputs ride along with the first batch */
        int64_t mb = (s->steps > 0 ? s->steps : s->max_steps) + 2;
        if (s->expected_gradients)
            mb = s->eg_samples;
        if (mb > IG_BATCH_MAX)
            mb = IG_BATCH_MAX;
        ist = wf_ig_eval_init(&ie, j->p, s->max_steps, mb, &ierr);
        if (s->arithmetic == WF_ARITHMETIC_EXACT)
            ie.cut = 0; /* every gradient row through the whole backward */
    }
    if (!ist && !ce.ctx && !ie.ctx) /* TreeSHAP alone, or IG not applicable: f(x) only */
        ist = j->p->ctx_new(j->p->user, 1, &own_ctx, &ierr);
    size_t CT = (size_t)j->p->C * (size_t)j->p->T;
    for (int64_t k; (k = wf_par_next(&j->par)) >= 0;) {
        wf_explanation *e = &j->out[k];
        int64_t wi = j->idx ? j->idx[k] : k;
        wf_error err = {0};
        e->window_index = wi;
        e->agreement = NAN;
        if (ist) {
            fail_window(e, &ierr, ist);
            continue;
        }
        const float *x = j->ws->w[wi].values;
        wf_rng rng;
        /* The stream follows the window (turbine, start), not its index, so that a shard of a
         * run explains a window exactly as the whole run does. */
        wf_rng_init_stream(&rng, s->seed,
                           wf_window_key(j->ws->w[wi].turbine_id, j->ws->w[wi].start));
        void *ctx = ce.ctx ? ce.ctx : ie.ctx ? ie.ctx : own_ctx;
        float y;
        wf_status st = j->p->predict(ctx, x, 1, &y, &err);
        if (!st && !isfinite(y))
            st = wf_error_set(&err, WF_ERR_NUMERIC, "the model returned a non-finite score (%g)",
                              (double)y);
        e->score = y;
        if (!st && s->do_kernelshap) {
            st = wf_coal_eval_window(&ce, x, &err);
            if (!st && s->hierarchy) /* groups "hierarchy": exact Owen values */
                st = wf_owen_window(&ce, s->hierarchy, &e->kshap, &err);
            else if (!st)
                st = wf_kshap_window(&ce, s->nsamples, s->max_samples, s->convergence, &rng,
                                     &e->kshap, &err);
            e->has_kshap = !st;
        }
        if (!st && (j->ts || j->tsp)) {
            st = treeshap_window(j, x, &e->treeshap, &err);
            e->has_treeshap = !st;
        }
        if (!st && s->do_ig && j->ig_na) {
            e->ig_not_applicable = 1;
            e->ig_reason = j->ig_reason;
        } else if (!st && s->do_ig) {
            if (s->expected_gradients)
                st = wf_eg_window(&ie, x, j->bg, s->eg_samples, &rng, &e->ig, &err);
            else
                st = wf_ig_window(&ie, x, j->baseline, s->ig_rule, s->steps, s->max_steps,
                                  s->ig_tol, &e->ig, &err);
            if (!st) {
                e->ig.rule = wf_ig_rule_resolve(s->ig_rule, s->steps);
                e->ig.baseline = s->expected_gradients ? "background" : j->baseline_name;
            }
            e->has_ig = !st;
        }
        if (st) {
            char t[24];
            wf_error_prefix(&err, "window %lld (turbine %s, start %s): ", (long long)wi,
                            j->ws->w[wi].turbine_id, wf_time_format_iso(j->ws->w[wi].start, t));
            fail_window(e, &err, st);
            continue;
        }
        e->status = WF_OK;
        e->error[0] = 0;
        if (e->has_kshap && e->has_ig && j->pl->is_channels)
            e->agreement = wf_spearman(e->kshap.values, e->ig.channel_sums, j->pl->M);
        if (e->has_kshap && e->has_treeshap)
            treeshap_vs_kshap(j, e);
        (void)CT;
    }
    wf_coal_eval_free(&ce);
    wf_ig_eval_free(&ie);
    if (own_ctx)
        j->p->ctx_free(own_ctx);
}

wf_status wf_explain_run(const wf_explain_settings *s, const wf_predictor *p,
                         const wf_background *bg, const wf_windows *ws, const int64_t *idx,
                         int64_t n, wf_explanation *out, wf_error *err) {
    if (s->groups == WF_GROUPS_AUTO || s->groups == WF_GROUPS_HIERARCHY) {
        /* resolved against the background (the same in every shard, so the players are too) */
        wf_explain_plan plan;
        wf_status st = wf_explain_plan_build(s, bg, ws->channels, &plan, err);
        if (st)
            return st;
        st = wf_explain_run(&plan.s, p, bg, ws, idx, n, out, err);
        wf_explain_plan_deinit(&plan);
        return st;
    }
    if (p->C != ws->C || p->T != ws->T)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "the model takes windows of %d channels x %d steps, the windows "
                            "are %d x %d",
                            p->C, p->T, ws->C, ws->T);
    int use_ts = wf_explain_uses_treeshap(s);
    if (use_ts && !s->tree_model)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "explain.method \"treeshap\": the model is not a tree ensemble "
                            "(TreeSHAP explains ai.onnx.ml TreeEnsemble models only)");
    int ig_na = s->do_ig && !p->grad;
    int need_bg = s->do_kernelshap || use_ts ||
                  (s->do_ig && !ig_na &&
                   (s->expected_gradients || s->baseline == WF_BASELINE_MEAN ||
                    s->baseline == WF_BASELINE_MEDIAN));
    if (need_bg && (!bg || bg->n < 1))
        return wf_error_set(err, WF_ERR_INVALID, "KernelSHAP and the %s baseline need a background",
                            wf_baseline_name(s->baseline));
    if (bg && (bg->C != p->C || bg->T != p->T))
        return wf_error_set(err, WF_ERR_SHAPE,
                            "background windows are %d x %d, the model takes %d x %d", bg->C, bg->T,
                            p->C, p->T);
    if (s->do_kernelshap && s->nsamples == 0)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "explain.nsamples: found 0, expected > 0, "
                            "\"auto\" or \"exact\"");
    if (s->do_ig && (s->steps < 0 || (s->steps == 0 && s->max_steps < 1)))
        return wf_error_set(err, WF_ERR_CONFIG, "explain.steps: found %d, expected > 0 or auto",
                            s->steps);
    for (int64_t k = 0; k < n; k++)
        if (idx && (idx[k] < 0 || idx[k] >= ws->n))
            return wf_error_set(err, WF_ERR_INVALID, "window index %lld out of range (0..%lld)",
                                (long long)idx[k], (long long)ws->n - 1);
    run_job j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.p = p;
    j.bg = bg;
    j.ws = ws;
    j.idx = idx;
    j.out = out;
    wf_players pl;
    memset(&pl, 0, sizeof pl);
    float *base = NULL;
    wf_status st = WF_OK;
    wf_treeshap *ts = NULL;
    wf_treeshap_path *tsp = NULL;
    j.ig_na = ig_na;
    j.ig_reason = s->ig_not_applicable ? s->ig_not_applicable
                                       : "the model gives no gradient with respect to its input";
    if (s->do_kernelshap || use_ts)
        st = wf_players_build(s, ws->C, ws->T, ws->channels, &pl, err);
    if (!st && s->do_kernelshap && s->hierarchy) {
        st = wf_hierarchy_check(s->hierarchy, err);
        if (!st && s->hierarchy->M != pl.M)
            st = wf_error_set(err, WF_ERR_CONFIG,
                              "explain.groups: the hierarchy has %d players, the explanation %d",
                              s->hierarchy->M, pl.M);
    }
    j.pl = &pl;
    if (!st && use_ts && s->treeshap_covers[0]) {
        /* path-dependent: covers from the background or from the windows of a file */
        int from_bg = !strcmp(s->treeshap_covers, "background");
        const wf_windows *cw = s->treeshap_cover_windows;
        if (s->treeshap_output != WF_TREESHAP_MARGIN)
            st = wf_error_set(err, WF_ERR_CONFIG,
                              "explain.treeshap_covers: path-dependent TreeSHAP explains the "
                              "margin only (treeshap_output \"margin\")");
        else if (!from_bg && (!cw || cw->C != ws->C || cw->T != ws->T))
            st = wf_error_set(err, WF_ERR_INVALID,
                              "explain.treeshap_covers: %s was not loaded as windows of %d x %d "
                              "(the caller loads it into treeshap_cover_windows)",
                              s->treeshap_covers, ws->C, ws->T);
        else
            st = wf_treeshap_path_new(s->tree_model, from_bg ? bg->x : cw->data,
                                      from_bg ? bg->weight : NULL, from_bg ? bg->n : cw->n, pl.M,
                                      pl.start, pl.cells, &tsp, err);
        if (st)
            wf_error_prefix(err, "TreeSHAP (path-dependent): ");
        j.tsp = tsp;
    } else if (!st && use_ts) {
        st = wf_treeshap_new(s->tree_model, bg->x, bg->weight, bg->n, pl.M, pl.start, pl.cells, &ts,
                             err);
        if (st)
            wf_error_prefix(err, "TreeSHAP: ");
        j.ts = ts;
    }
    if (!st && s->do_ig && !ig_na && !s->expected_gradients) {
        base = malloc(sizeof(float) * (size_t)ws->C * (size_t)ws->T);
        if (!base)
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        else if (s->baseline == WF_BASELINE_FILE)
            st = s->baseline_values
                     ? (memcpy(base, s->baseline_values,
                               sizeof(float) * (size_t)ws->C * (size_t)ws->T),
                        WF_OK)
                     : wf_error_set(err, WF_ERR_INVALID,
                                    "%s: the baseline file was not loaded (the caller loads it "
                                    "and hands its window in baseline_values)",
                                    s->baseline_path);
        else
            st = wf_ig_baseline(s->baseline, bg, ws->C, ws->T, base, err);
        j.baseline = base;
        j.baseline_name =
            s->baseline == WF_BASELINE_FILE ? s->baseline_path : wf_baseline_name(s->baseline);
    }
    if (!st) {
        for (int64_t k = 0; k < n; k++) {
            memset(&out[k], 0, sizeof out[k]);
            out[k].window_index = idx ? idx[k] : k;
            out[k].agreement = NAN;
            out[k].status = WF_ERR_INVALID;
            snprintf(out[k].error, sizeof out[k].error, "not explained (no worker ran it)");
        }
        j.par.n = n;
        wf_par_run(&j.par, s->threads, run_worker, &j);
    }
    free(base);
    wf_treeshap_free(ts);
    wf_treeshap_path_free(tsp);
    wf_players_free(&pl);
    return st;
}

/* ---- method text ---- */

/* Measured with tests/bench/bench_int8_audit.sh (explain.arithmetic "shortcut" against "exact"
 * on samples/config.json, compare_arith.py); update both when the shortcut changes. */
#define WF_ARITHMETIC_SAMPLE_BOUND "1.9e-5"
#define WF_ARITHMETIC_SAMPLE_RANKING "all 124"
/* IG's first-layer cut against "exact" on the same 124 windows: max |attribution difference|
 * (bench_int8_audit.sh's ig comparison); update when the cut changes. */
#define WF_IG_CUT_SAMPLE_BOUND "3e-8"
/* The hidden path on the sample audit run with samples/aurora_float.onnx (its 125 windows, IG
 * channel sums, shortcut against "exact"; the same steps and rankings); update when it or the
 * kernels change (6.4e-7 before the direct AVX-512 kernels, 8.4e-7 with them). */
#define WF_IG_HPATH_SAMPLE_BOUND "8.4e-7"

void wf_explain_describe(const wf_explain_settings *s, const wf_background *bg, char *buf,
                         size_t size) {
    size_t o = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (o < size) {                                                                            \
            int n_ = snprintf(buf + o, size - o, __VA_ARGS__);                                     \
            if (n_ > 0)                                                                            \
                o += (size_t)n_;                                                                   \
        }                                                                                          \
    } while (0)
    if (size == 0)
        return;
    buf[0] = 0;
    if (s->do_kernelshap) {
        ADD("KernelSHAP (interventional): the players are ");
        if (s->groups == WF_GROUPS_CHANNEL)
            ADD("the channels (each channel's whole row of the window)");
        else if (s->groups == WF_GROUPS_SEGMENTS)
            ADD("each channel split into %d equal time segments", s->segments);
        else if (s->groups == WF_GROUPS_CELL)
            ADD("the single cells (channel x time step) of the window");
        else if (s->groups == WF_GROUPS_AUTO)
            ADD("the groups of dependent channels found in the background (see Dependence among "
                "channels; a channel in no group is a player of its own)");
        else if (s->groups == WF_GROUPS_HIERARCHY)
            ADD("the channels, arranged in the complete-linkage dendrogram of the background's "
                "channels (see Dependence among channels); the values are the exact Owen values "
                "over it (shap's PartitionExplainer): each channel's marginal contribution "
                "averaged over every order of the channels that keeps each cluster together, all "
                "orders of a cluster's two halves equally likely");
        else
            ADD("%d groups of cells given in the configuration", s->n_groups);
        if (s->hierarchy)
            ADD(", arranged in a hierarchy (%d internal nodes); the values are the exact Owen "
                "values over it (shap's PartitionExplainer): each player's marginal contribution "
                "averaged over every order of the players that keeps each node's players "
                "together, all orders of a node's children equally likely",
                s->hierarchy->n_internal);
        ADD(". A player that is absent takes its values from a background window, and a "
            "coalition's value is the weighted mean of the model over the background");
        if (bg)
            ADD(" (%lld windows: %s)", (long long)bg->n, bg->description);
        ADD(". ");
        if (s->hierarchy || s->groups == WF_GROUPS_HIERARCHY)
            ADD("Every coalition the hierarchy needs is evaluated, so the values are exact. ");
        else if (s->nsamples == WF_NSAMPLES_EXACT)
            ADD("Every coalition is enumerated, so the values are the exact Shapley values. ");
        else
            ADD("When the players are few enough that every coalition can be enumerated within "
                "the budget (%s), the values are the exact Shapley values; otherwise coalitions "
                "are sampled as in shap's KernelExplainer (whole coalition sizes enumerated "
                "while the budget allows, the rest drawn in complementary pairs from the "
                "Shapley kernel) and the values solve the weighted least-squares problem with "
                "the sum of the values fixed to f(x) minus the base value. Standard errors come "
                "from independent sampling batches (Covert and Lee, 2021)%s. ",
                s->nsamples == WF_NSAMPLES_AUTO ? "automatic" : "a fixed number of samples",
                s->nsamples == WF_NSAMPLES_AUTO ? "; sampling continues, doubling the budget up "
                                                  "to the maximum, until the largest standard "
                                                  "error is below the convergence fraction of "
                                                  "the range of the values"
                                                : "");
        if (s->nsamples > 0)
            ADD("Budget: %lld coalitions. ", (long long)s->nsamples);
        else if (s->nsamples == WF_NSAMPLES_AUTO)
            ADD("Maximum: %lld coalitions, convergence fraction %g. ", (long long)s->max_samples,
                s->convergence);
        ADD("No L1 feature selection is applied (shap 0.47 and later select 10 features by "
            "default; whyflag keeps every player). ");
        if (s->link == WF_LINK_LOGIT)
            ADD("Values are in log-odds: the logit link is applied to each coalition's "
                "expected score, as shap's link=\"logit\". ");
        else if (s->link == WF_LINK_LOGIT_OUTPUT)
            ADD("Values explain the model's log-odds output (the logit of each score, "
                "averaged over the background). ");
        else
            ADD("Values are in the model's score units (identity link). ");
        if (s->arithmetic == WF_ARITHMETIC_EXACT)
            ADD("Every masked row of every coalition runs through the model's whole graph in its "
                "deployed arithmetic (explain.arithmetic \"exact\"). ");
        else
            ADD("Coalition values use the first-layer shortcut (explain.arithmetic \"shortcut\", "
                "the default): where the model starts with an affine layer, a masked row's "
                "first-layer pre-activation is summed from per-player partial products and the "
                "rest of the graph runs as deployed. For a quantized model the shortcut starts "
                "after the input's quantization, which acts on each cell alone, so the window and "
                "the background are quantized once. It equals the deployed arithmetic up to float "
                "rounding of the first layer, which a quantized hidden layer can turn into one "
                "quantization step of a hidden unit on rare rows: on the sample audit (int8 MLP, "
                "124 explained windows, 8 channels) the values were within %s of "
                "explain.arithmetic \"exact\" (every row through the deployed graph) and the "
                "channel ranking was unchanged on %s. ",
                WF_ARITHMETIC_SAMPLE_BOUND, WF_ARITHMETIC_SAMPLE_RANKING);
    }
    if (s->do_ig && !s->ig_not_applicable) {
        static const char *rules[] = {"Gauss-Legendre",
                                      "left Riemann",
                                      "right Riemann",
                                      "midpoint Riemann",
                                      "trapezoid (captum's weights: both ends halved)",
                                      "Clenshaw-Curtis (nested: each doubling of the steps reuses "
                                      "every earlier gradient)"};
        wf_ig_rule r = wf_ig_rule_resolve(s->ig_rule, s->steps);
        const char *rule = (int)r >= 0 && (int)r < 6 ? rules[r] : "?";
        if (s->expected_gradients) {
            ADD("Expected Gradients: %d (background window, position) pairs drawn at random per "
                "window; the gradient at a random point between each background window and the "
                "window, times their difference, averaged. ",
                s->eg_samples);
        } else {
            ADD("Integrated Gradients per cell (summed per channel) from the ");
            if (s->baseline == WF_BASELINE_ZEROS)
                ADD("all-zero baseline (raw sensor units: far from real data)");
            else if (s->baseline == WF_BASELINE_MEDIAN)
                ADD("per-channel median of the background");
            else if (s->baseline == WF_BASELINE_FILE)
                ADD("baseline window in %s", s->baseline_path);
            else
                ADD("per-channel mean of the background");
            ADD(", %s rule, ", rule);
            if (s->steps > 0)
                ADD("%d steps. ", s->steps);
            else if (r == WF_IG_CLENSHAW_CURTIS)
                ADD("steps doubled from 16 intervals (17 gradients) until the completeness gap "
                    "is within %g of f(x) - f(baseline), at most %d intervals (for a quantized "
                    "model, also until two doublings in a row move the gap by less than half "
                    "that: the rest of the gap is then the surrogate's, which more steps cannot "
                    "remove); the rule is as accurate per gradient as Gauss-Legendre on the "
                    "models whyflag was measured on, and a doubling evaluates only the new "
                    "gradients. ",
                    s->ig_tol, s->max_steps);
            else
                ADD("steps doubled from 16 until the completeness gap is within %g of "
                    "f(x) - f(baseline), at most %d steps (for a quantized model, also until two "
                    "doublings in a row move the gap by less than half that: the rest of the gap "
                    "is then the surrogate's, which more steps cannot remove). ",
                    s->ig_tol, s->max_steps);
        }
        if (!s->expected_gradients && s->arithmetic != WF_ARITHMETIC_EXACT)
            ADD("Where the model starts with an affine layer, the gradients along the path are "
                "summed at that layer's output and taken back to the cells once, on every batch "
                "of path points none of whose cells saturates the input's quantization "
                "(explain.arithmetic \"shortcut\"; \"exact\" takes each gradient through the "
                "whole backward pass): the same gradients summed in another order, within %s "
                "of \"exact\" on the sample audit. Where that layer reads the cells themselves "
                "(no input quantization), it is affine along the straight path, so the path's "
                "points are formed at its output from two evaluations, h(baseline) + "
                "a (h(x) - h(baseline)), instead of one per point, and f(x) and f(baseline) come "
                "from the same two (within float rounding of the deployed graph's first layer); "
                "with the sample's float model the channel sums were within %s of \"exact\". ",
                WF_IG_CUT_SAMPLE_BOUND, WF_IG_HPATH_SAMPLE_BOUND);
        ADD("The completeness gap (sum of the attributions minus f(x) - f(baseline)) is "
            "reported for every window. For a quantized model the gradients are those of a "
            "straight-through surrogate (quantization treated as identity in the backward pass) "
            "while f(x) and f(baseline) are the quantized model's real outputs, so the gap shows "
            "how well the surrogate explains the deployed model. ");
    }
    if (wf_explain_uses_treeshap(s) && s->treeshap_covers[0]) {
        ADD("TreeSHAP (exact, path-dependent, as shap's tree_path_dependent): the model is a "
            "tree ensemble; a coalition's value is the expected output given the coalition's "
            "cells, estimated along each tree: at a split on a cell outside the coalition both "
            "branches are averaged, weighted by how many cover windows (%s) take each branch. "
            "The cover windows are routed as the model routes them (missing values as the "
            "model's missing-value rule sends them); a leaf no cover window reaches gets a "
            "pseudo-count of 1e-6, so it weighs next to nothing against reached branches and "
            "splits an unreached subtree in proportion to its leaves. The values add up to the "
            "window's margin minus the cover-weighted mean margin",
            !strcmp(s->treeshap_covers, "background") ? "the background" : s->treeshap_covers);
        if (s->tree_model)
            ADD(" (%s)", wf_tree_model_margin_name(s->tree_model));
        ADD(". ");
        if (s->do_kernelshap)
            ADD("KernelSHAP estimates the interventional game (cells outside the coalition "
                "taken from background windows), a different question: the report compares "
                "their ranks and signs, not their values. ");
    } else if (wf_explain_uses_treeshap(s)) {
        ADD("TreeSHAP (exact, interventional): the model is a tree ensemble, so its Shapley "
            "values are computed exactly from the trees (no sampling) for the same players and "
            "the same background as KernelSHAP: a coalition's value is the weighted mean over "
            "the background windows of the ensemble's output with the coalition's cells taken "
            "from the window and the rest from the background window. ");
        if (s->tree_model)
            ADD("They explain the ensemble's %s; they add up to the window's margin minus the "
                "background's mean margin. ",
                wf_tree_model_margin_name(s->tree_model));
        if (s->treeshap_output == WF_TREESHAP_PROBABILITY)
            ADD("Reported on the probability scale with shap's rescaling (per background "
                "window, the margin values scaled by the change in probability over the change "
                "in margin): these add up to the probability minus the base probability but "
                "are approximate, not the Shapley values of the probability. ");
        else
            ADD("Reported on the margin (exact); the score is a monotone map of the margin, "
                "so the ranking of the channels is the same on either scale. ");
        if (s->do_kernelshap)
            ADD("Agreement: when KernelSHAP explains the same margin (link logit_output on a "
                "logistic classifier, identity when the score is the margin) the report shows "
                "the largest absolute difference between the two; otherwise the Spearman "
                "correlation of their ranks and how many signs agree, KernelSHAP being on the "
                "score and TreeSHAP on the margin. ");
    }
    if (s->do_ig && s->ig_not_applicable)
        ADD("Integrated Gradients does not apply: the model's score has no gradient (%s). ",
            s->ig_not_applicable);
    if (s->do_kernelshap && s->do_ig && s->groups == WF_GROUPS_CHANNEL && !s->ig_not_applicable)
        ADD("Agreement: Spearman rank correlation between the KernelSHAP channel values and the "
            "IG channel sums. ");
    ADD("Random seed: %llu (each window its own stream, so results do not depend on the number "
        "of threads).",
        (unsigned long long)s->seed);
#undef ADD
}
