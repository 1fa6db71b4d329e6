/*
 * The model comparison's numbers (issue 15) and results.json's "comparison" object:
 *
 *   "comparison": {
 *     "relation": "teacher", "windows": N,
 *     "agreement": {"both", "only_a", "only_b", "neither"}, "cohens_kappa",
 *     "score_difference": {"mean", "max_abs", "quantiles": {"0.01": .., ..., "0.99": ..}}
 *                          (of score_a - score_b over every window),
 *     "mcnemar": {"windows" (labelled), "b" (A right, B wrong), "c" (A wrong, B right),
 *                 "p_value" (exact two-sided binomial)},
 *     "bootstrap": {"resamples", "seed", "over": "turbines", "interval": 0.95},
 *     "models": {"a": MODEL, "b": MODEL},
 *     "arms": {"A": {"turbines": [...], ...METRICS of A}, "B": {... of B}}   (when given)
 *     "explanations": {"settings", "max_explained", "disagreements", "both_flagged",
 *                      "players": [...], "max_difference_check", "windows": [...],
 *                      "attribution_agreement": {...}},
 *     "fidelity": {...}    (relation "teacher" or "student")
 *   }
 *   MODEL: "name", "path", "sha256", "threshold", "output", "quantized", "parameters",
 *          "zero_parameters", "flops", "file_bytes", "seconds_per_window" (null when not
 *          measured), METRICS
 *   METRICS: "flagged_windows", "alarm_episodes", "true_alarms", "false_alarms",
 *            "failures_caught", "failures_missed", "median_lead_hours",
 *            "precision": {"value", "ci95": [lo, hi]}, "recall": {...}
 *
 * Precision is per alarm episode (true alarm episodes / episodes), recall per failure (failures
 * with an alarm before them within the horizon / failures), both as the report counts them for A
 * (analysis.c), and B's episodes are built by the same code from B's flags.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jw.h"
#include "report/compare_impl.h"
#include "whyflag/model.h"

const char *wf_cmp_kind_str(int kind) {
    return kind == 1 ? "only_a" : kind == 2 ? "only_b" : "both";
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int in_arm_b(const wf_results_compare *c, const char *id) {
    for (int k = 0; k < c->n_arm_b; k++)
        if (!strcmp(c->arm_b[k], id))
            return 1;
    return 0;
}

/* Per-turbine counts of the analysis an (episodes, failures). */
static void counts(const wf_analysis *an, wf_cmp_counts *ct) {
    for (int t = 0; t < an->n_turbines; t++) {
        memset(&ct[t], 0, sizeof ct[t]);
        ct[t].fail = an->turbines[t].failures;
        ct[t].caught = an->turbines[t].failures - an->turbines[t].missed;
    }
    for (int k = 0; k < an->n_episodes; k++) {
        const wf_episode *e = &an->episodes[k];
        if (e->outcome == WF_OUTCOME_TRUE)
            ct[e->turbine].tp++;
        else if (e->outcome == WF_OUTCOME_FALSE)
            ct[e->turbine].fp++;
    }
}

/* Outcomes of analysis an over the turbines with sel[t] (NULL: all). */
static void outcomes(const wf_analysis *an, const wf_cmp_counts *ct, const int *sel,
                     wf_cmp_outcomes *o) {
    memset(o, 0, sizeof *o);
    double *lead = malloc(sizeof(double) * (size_t)(an->n_episodes > 0 ? an->n_episodes : 1));
    int64_t nl = 0;
    for (int t = 0; t < an->n_turbines; t++) {
        if (sel && !sel[t])
            continue;
        o->turbines++;
        o->flagged += an->turbines[t].flagged;
        o->episodes += an->turbines[t].episodes;
        o->true_alarms += ct[t].tp;
        o->false_alarms += ct[t].fp;
        o->failures += ct[t].fail;
        o->caught += ct[t].caught;
    }
    o->missed = o->failures - o->caught;
    for (int k = 0; lead && k < an->n_episodes; k++) {
        const wf_episode *e = &an->episodes[k];
        if (e->outcome == WF_OUTCOME_TRUE && (!sel || sel[e->turbine]))
            lead[nl++] = e->lead_hours;
    }
    qsort(lead, (size_t)nl, sizeof *lead, cmp_dbl);
    o->median_lead_hours = nl ? wf_cmp_quantile(lead, nl, 0.5) : NAN;
    free(lead);
    o->precision = o->true_alarms + o->false_alarms
                       ? (double)o->true_alarms / (double)(o->true_alarms + o->false_alarms)
                       : NAN;
    o->recall = o->failures ? (double)o->caught / (double)o->failures : NAN;
    o->precision_lo = o->precision_hi = o->recall_lo = o->recall_hi = NAN;
}

/* Bootstrap the intervals of x (and y) over the selected turbines. */
static void intervals(const wf_cmp_counts *cx, const wf_cmp_counts *cy, const int *sel, int nt,
                      const wf_results_compare *c, wf_cmp_outcomes *x, wf_cmp_outcomes *y) {
    wf_cmp_counts *sx = malloc(sizeof *sx * (size_t)(nt > 0 ? nt : 1));
    wf_cmp_counts *sy = malloc(sizeof *sy * (size_t)(nt > 0 ? nt : 1));
    int64_t m = 0;
    for (int t = 0; sx && sy && t < nt; t++)
        if (!sel || sel[t]) {
            sx[m] = cx[t];
            sy[m++] = cy[t];
        }
    double xl[2], xh[2], yl[2], yh[2];
    if (sx && sy) {
        wf_cmp_bootstrap(sx, sy, m, c->bootstrap, c->seed, xl, xh, yl, yh);
        x->precision_lo = xl[0];
        x->precision_hi = xh[0];
        x->recall_lo = xl[1];
        x->recall_hi = xh[1];
        if (y) {
            y->precision_lo = yl[0];
            y->precision_hi = yh[0];
            y->recall_lo = yl[1];
            y->recall_hi = yh[1];
        }
    }
    free(sx);
    free(sy);
}

wf_status wf_cmp_build(const wf_analysis *a, wf_cmp *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    const wf_results *r = a->r;
    const wf_results_compare *c = r->compare;
    const wf_windows *ws = r->windows;
    out->c = c;
    int64_t n = ws->n;
    out->n = n;
    double *d = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!d)
        return wf_error_set(err, WF_ERR_NOMEM, "report: out of memory (comparison)");
    double sum = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        int fa = r->flagged[i], fb = c->flagged_b[i];
        out->both += fa && fb;
        out->only_a += fa && !fb;
        out->only_b += !fa && fb;
        out->neither += !fa && !fb;
        d[i] = r->scores[i] - c->scores_b[i];
        sum += d[i];
        mx = fmax(mx, fabs(d[i]));
        int lab = ws->w[i].label;
        if (lab == 0 || lab == 1) {
            int ra = fa == lab, rb = fb == lab;
            out->labelled++;
            out->mc_b += ra && !rb;
            out->mc_c += !ra && rb;
        }
    }
    out->kappa = wf_cmp_kappa(out->both, out->only_a, out->only_b, out->neither);
    out->diff_mean = n ? sum / (double)n : NAN;
    out->diff_max_abs = n ? mx : NAN;
    qsort(d, (size_t)n, sizeof *d, cmp_dbl);
    for (int q = 0; q < WF_CMP_NQ; q++)
        out->diff_q[q] = wf_cmp_quantile(d, n, wf_cmp_q[q]);
    free(d);
    out->mc_p = wf_cmp_mcnemar_p(out->mc_b, out->mc_c);

    /* B's episodes and outcomes: the analysis of the same results with B's scores and flags */
    wf_results rb = *r;
    rb.scores = c->scores_b;
    rb.flagged = c->flagged_b;
    rb.n_explained = 0;
    rb.expl = NULL;
    rb.why = NULL;
    rb.drift = NULL;
    rb.compare = NULL;
    wf_status st = wf_analysis_build(&out->an_b, &rb, 0, err);
    if (st)
        return st;
    out->have_an_b = 1;
    /* an_b points to rb: only its counts are read below, never r again */
    int nt = a->n_turbines;
    wf_cmp_counts *ca = malloc(sizeof *ca * (size_t)(nt > 0 ? nt : 1));
    wf_cmp_counts *cb = malloc(sizeof *cb * (size_t)(nt > 0 ? nt : 1));
    int *sel = calloc((size_t)(nt > 0 ? nt : 1), sizeof *sel);
    if (!ca || !cb || !sel) {
        free(ca);
        free(cb);
        free(sel);
        wf_cmp_free(out);
        return wf_error_set(err, WF_ERR_NOMEM, "report: out of memory (comparison)");
    }
    counts(a, ca);
    counts(&out->an_b, cb);
    outcomes(a, ca, NULL, &out->a);
    outcomes(&out->an_b, cb, NULL, &out->b);
    intervals(ca, cb, NULL, nt, c, &out->a, &out->b);
    if (c->n_arm_b > 0) {
        out->has_arms = 1;
        for (int t = 0; t < nt; t++)
            sel[t] = !in_arm_b(c, a->turbines[t].id);
        outcomes(a, ca, sel, &out->arm_a);
        intervals(ca, cb, sel, nt, c, &out->arm_a, NULL);
        for (int t = 0; t < nt; t++)
            sel[t] = !sel[t];
        outcomes(&out->an_b, cb, sel, &out->arm_b);
        intervals(cb, ca, sel, nt, c, &out->arm_b, NULL);
    }
    free(ca);
    free(cb);
    free(sel);
    out->an_b.r = NULL; /* rb is gone */

    /* explanations: agreement of A and B on windows both flag, fidelity of a student */
    double ss = 0, sg = 0, tk = 0;
    int64_t nsg = 0, nss = 0;
    out->fidelity = !strcmp(c->relation, "teacher") || !strcmp(c->relation, "student");
    out->fid_top_agree = out->fid_spearman = out->fid_max_abs_diff = NAN;
    double fsp = 0, fmx = 0;
    int64_t ftop = 0, fsn = 0;
    for (int64_t j = 0; j < c->n_windows; j++) {
        const wf_compare_window *w = &c->win[j];
        if (w->kind == 3)
            out->n_both_explained += w->status == WF_OK;
        else
            out->n_dis_explained += w->status == WF_OK;
        if (w->status != WF_OK || !w->has_kshap)
            continue;
        if (w->kind == 3) {
            if (!isnan(w->agree.spearman)) {
                ss += w->agree.spearman;
                nss++;
            }
            if (!isnan(w->agree.sign_agreement)) {
                sg += w->agree.sign_agreement;
                nsg++;
            }
            tk += w->agree.topk_overlap;
            out->both_top_same += w->top_a == w->top_b;
        }
        out->fid_n++;
        ftop += w->top_a == w->top_b;
        if (!isnan(w->agree.spearman)) {
            fsp += w->agree.spearman;
            fsn++;
        }
        for (int p = 0; p < w->M; p++)
            fmx = fmax(fmx, fabs(w->phi_a[p] - w->phi_b[p]));
    }
    int64_t nb = 0;
    for (int64_t j = 0; j < c->n_windows; j++)
        nb += c->win[j].kind == 3 && c->win[j].status == WF_OK && c->win[j].has_kshap;
    out->both_spearman = nss ? ss / (double)nss : NAN;
    out->both_sign = nsg ? sg / (double)nsg : NAN;
    out->both_topk = nb ? tk / (double)nb : NAN;
    if (out->fid_n) {
        out->fid_top_agree = (double)ftop / (double)out->fid_n;
        out->fid_spearman = fsn ? fsp / (double)fsn : NAN;
        out->fid_max_abs_diff = fmx;
    }
    return WF_OK;
}

void wf_cmp_free(wf_cmp *c) {
    if (c->have_an_b)
        wf_analysis_free(&c->an_b);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- results.json */

static void knum(wf_jw *w, const char *k, double v) {
    if (isfinite(v))
        wf_jw_kdouble(w, k, v);
    else {
        wf_jw_key(w, k);
        wf_jw_null(w);
    }
}

static void ratio(wf_jw *w, const char *k, double v, double lo, double hi) {
    wf_jw_key(w, k);
    wf_jw_obj_begin(w);
    knum(w, "value", v);
    wf_jw_key(w, "ci95");
    wf_jw_arr_begin(w);
    if (isfinite(lo))
        wf_jw_double(w, lo);
    else
        wf_jw_null(w);
    if (isfinite(hi))
        wf_jw_double(w, hi);
    else
        wf_jw_null(w);
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);
}

static void metrics(wf_jw *w, const wf_cmp_outcomes *o) {
    wf_jw_kint(w, "turbines", o->turbines);
    wf_jw_kint(w, "flagged_windows", o->flagged);
    wf_jw_kint(w, "alarm_episodes", o->episodes);
    wf_jw_kint(w, "true_alarms", o->true_alarms);
    wf_jw_kint(w, "false_alarms", o->false_alarms);
    wf_jw_kint(w, "failures", o->failures);
    wf_jw_kint(w, "failures_caught", o->caught);
    wf_jw_kint(w, "failures_missed", o->missed);
    knum(w, "median_lead_hours", o->median_lead_hours);
    ratio(w, "precision", o->precision, o->precision_lo, o->precision_hi);
    ratio(w, "recall", o->recall, o->recall_lo, o->recall_hi);
}

static void model(wf_jw *w, const char *key, const wf_compare_model *m, const wf_cmp_outcomes *o,
                  const char *relation) {
    wf_jw_key(w, key);
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "name", m->name);
    wf_jw_kstr(w, "path", m->path);
    wf_jw_kstr(w, "sha256", m->sha256);
    if (relation)
        wf_jw_kstr(w, "relation", relation);
    wf_jw_kdouble(w, "threshold", m->threshold);
    wf_jw_key(w, "output");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "name", m->output_name);
    wf_jw_kint(w, "column", m->output_column);
    wf_jw_kstr(w, "kind", m->output_kind);
    wf_jw_obj_end(w);
    wf_jw_kbool(w, "quantized", m->quantized);
    if (m->card) {
        wf_jw_kint(w, "parameters", m->card->parameters);
        wf_jw_kint(w, "zero_parameters", m->card->zero_parameters);
        if (m->card->flops >= 0)
            wf_jw_kint(w, "flops", m->card->flops);
        else
            knum(w, "flops", NAN);
    }
    wf_jw_kint(w, "file_bytes", m->file_bytes);
    knum(w, "seconds_per_window", m->seconds_per_window);
    metrics(w, o);
    wf_jw_obj_end(w);
}

static void darr(wf_jw *w, const char *k, const double *v, int n) {
    wf_jw_key(w, k);
    if (!v) {
        wf_jw_null(w);
        return;
    }
    wf_jw_arr_begin(w);
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            wf_jw_double(w, v[i]);
        else
            wf_jw_null(w);
    wf_jw_arr_end(w);
}

void wf_results_json_compare(wf_jw *w, const wf_analysis *a, const wf_cmp *cm) {
    const wf_results *r = a->r;
    const wf_results_compare *c = cm->c;
    const wf_windows *ws = r->windows;
    wf_jw_key(w, "comparison");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "relation", c->relation);
    wf_jw_kint(w, "windows", cm->n);
    wf_jw_key(w, "agreement");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "both", cm->both);
    wf_jw_kint(w, "only_a", cm->only_a);
    wf_jw_kint(w, "only_b", cm->only_b);
    wf_jw_kint(w, "neither", cm->neither);
    wf_jw_obj_end(w);
    knum(w, "cohens_kappa", cm->kappa);
    wf_jw_key(w, "score_difference");
    wf_jw_obj_begin(w);
    knum(w, "mean", cm->diff_mean);
    knum(w, "max_abs", cm->diff_max_abs);
    wf_jw_key(w, "quantiles");
    wf_jw_obj_begin(w);
    for (int q = 0; q < WF_CMP_NQ; q++) {
        char k[16];
        snprintf(k, sizeof k, "%g", wf_cmp_q[q]);
        knum(w, k, cm->diff_q[q]);
    }
    wf_jw_obj_end(w);
    wf_jw_obj_end(w);
    wf_jw_key(w, "mcnemar");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "windows", cm->labelled);
    wf_jw_kint(w, "b", cm->mc_b);
    wf_jw_kint(w, "c", cm->mc_c);
    wf_jw_kdouble(w, "p_value", cm->mc_p);
    wf_jw_obj_end(w);
    wf_jw_key(w, "bootstrap");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "resamples", c->bootstrap);
    wf_jw_kint(w, "seed", (int64_t)c->seed);
    wf_jw_kstr(w, "over", "turbines");
    wf_jw_kdouble(w, "interval", 0.95);
    wf_jw_obj_end(w);
    wf_jw_key(w, "models");
    wf_jw_obj_begin(w);
    model(w, "a", &c->a, &cm->a, NULL);
    model(w, "b", &c->b, &cm->b, c->relation);
    wf_jw_obj_end(w);
    if (cm->has_arms) {
        wf_jw_key(w, "arms");
        wf_jw_obj_begin(w);
        for (int arm = 0; arm < 2; arm++) {
            wf_jw_key(w, arm ? "B" : "A");
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "model", arm ? "b" : "a");
            wf_jw_key(w, "turbine_ids");
            wf_jw_arr_begin(w);
            for (int t = 0; t < a->n_turbines; t++)
                if (in_arm_b(c, a->turbines[t].id) == arm)
                    wf_jw_str(w, a->turbines[t].id);
            wf_jw_arr_end(w);
            metrics(w, arm ? &cm->arm_b : &cm->arm_a);
            wf_jw_obj_end(w);
        }
        wf_jw_obj_end(w);
    }
    wf_jw_key(w, "explanations");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "settings", c->settings_text);
    wf_jw_kint(w, "max_explained", c->max_explained);
    wf_jw_kint(w, "disagreements", c->n_disagree);
    wf_jw_kint(w, "disagreements_explained", cm->n_dis_explained);
    wf_jw_kint(w, "both_flagged", c->n_both);
    wf_jw_kint(w, "both_flagged_explained", cm->n_both_explained);
    knum(w, "max_difference_check", c->max_diff_check);
    wf_jw_key(w, "players");
    wf_jw_arr_begin(w);
    for (int p = 0; p < c->M; p++)
        wf_jw_str(w, c->players[p]);
    wf_jw_arr_end(w);
    wf_jw_key(w, "attribution_agreement");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "windows", cm->n_both_explained);
    knum(w, "mean_spearman", cm->both_spearman);
    knum(w, "mean_sign_agreement", cm->both_sign);
    knum(w, "mean_topk_overlap", cm->both_topk);
    wf_jw_kint(w, "same_top_player", cm->both_top_same);
    wf_jw_obj_end(w);
    wf_jw_key(w, "windows");
    wf_jw_arr_begin(w);
    for (int64_t j = 0; j < c->n_windows; j++) {
        const wf_compare_window *x = &c->win[j];
        const wf_window *win = &ws->w[x->window_index];
        char iso[32];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", win->turbine_id);
        wf_jw_kstr(w, "start", wf_time_format_iso(win->start, iso));
        wf_jw_kstr(w, "flagged_by", wf_cmp_kind_str(x->kind));
        wf_jw_kdouble(w, "score_a", x->score_a);
        wf_jw_kdouble(w, "score_b", x->score_b);
        if (x->status != WF_OK) {
            wf_jw_kstr(w, "error", x->error);
            wf_jw_obj_end(w);
            continue;
        }
        if (x->has_kshap) {
            darr(w, "kernelshap_a", x->phi_a, x->M);
            darr(w, "kernelshap_b", x->phi_b, x->M);
            knum(w, "base_a", x->base_a);
            knum(w, "base_b", x->base_b);
            if (x->phi_diff) {
                darr(w, "kernelshap_difference", x->phi_diff, x->M);
                knum(w, "base_difference", x->base_diff);
                knum(w, "f_difference", x->fx_diff);
                knum(w, "difference_check", x->diff_check);
                knum(w, "difference_efficiency_gap", x->diff_efficiency);
            }
            wf_jw_key(w, "agreement");
            wf_jw_obj_begin(w);
            knum(w, "spearman", x->agree.spearman);
            knum(w, "sign_agreement", x->agree.sign_agreement);
            wf_jw_kint(w, "topk_overlap", x->agree.topk_overlap);
            wf_jw_kint(w, "k", x->agree.k);
            knum(w, "l1", x->agree.l1);
            wf_jw_obj_end(w);
            wf_jw_kstr(w, "top_a", x->top_a >= 0 ? c->players[x->top_a] : NULL);
            wf_jw_kstr(w, "top_b", x->top_b >= 0 ? c->players[x->top_b] : NULL);
        }
        if (x->has_ig) {
            darr(w, "ig_a", x->ig_a, ws->C);
            darr(w, "ig_b", x->ig_b, ws->C);
            knum(w, "ig_delta_a", x->ig_delta_a);
            knum(w, "ig_delta_b", x->ig_delta_b);
        }
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);
    if (cm->fidelity) {
        wf_jw_key(w, "fidelity");
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "student", !strcmp(c->relation, "teacher") ? "a" : "b");
        wf_jw_kint(w, "windows", cm->fid_n);
        knum(w, "top_player_agreement", cm->fid_top_agree);
        knum(w, "mean_rank_correlation", cm->fid_spearman);
        knum(w, "max_attribution_difference", cm->fid_max_abs_diff);
        wf_jw_obj_end(w);
    }
    wf_jw_obj_end(w);
}
