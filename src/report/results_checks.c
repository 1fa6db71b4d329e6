/*
 * results.json parts of the explanation checks (issue 13):
 *
 *   "dependence": {"rank_cells", "rank_means", "relations": [{"channel", "over" ("cells" |
 *                  "means"), "terms": [{"channel", "coef"}], "intercept", "residual_rms",
 *                  "residual_rel"}], "correlation" [C][C] (null for a constant channel),
 *                  "linkage": [{"a", "b", "height", "size"}] (scipy's convention), "groups":
 *                  [[names]], "cut", "exact_tol", "text"}
 *   per explained window:
 *     "why": {"text", "claim" ("main" | "several" | "disagree"), "drivers": [{"name",
 *             "channels", "share", "kernelshap", "ig"}]},
 *     "agreement": {"l1", "sign_agreement", "topk_overlap", "k", "spearman", "disagree",
 *                   "reason"}   (a number, the Spearman correlation, when no why was built)
 *     "values": [{"channel", "unit", "mean", "percentile"}] (the window's channel means and
 *               their percentile among the background windows' means; what the waterfall
 *               prints beside each bar)
 *     "dependence_note": the episode page's sentence when it applies
 *   audit: "explanation_checks": {"windows_with_why", "methods_disagree", "why_rule"}
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_impl.h"

static void kdn(wf_jw *w, const char *key, double v) {
    wf_jw_key(w, key);
    if (isnan(v))
        wf_jw_null(w);
    else
        wf_jw_double(w, v);
}

static void relations(wf_jw *w, const wf_dependence *d, const wf_dep_linear *l, const char *over) {
    for (int k = 0; k < l->n_relations; k++) {
        const wf_dep_relation *rl = &l->relations[k];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "channel", d->names[rl->channel]);
        wf_jw_kstr(w, "over", over);
        wf_jw_key(w, "terms");
        wf_jw_arr_begin(w);
        for (int t = 0; t < rl->n_terms; t++) {
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "channel", d->names[rl->basis[t]]);
            kdn(w, "coef", rl->coef[t]);
            wf_jw_obj_end(w);
        }
        wf_jw_arr_end(w);
        kdn(w, "intercept", rl->intercept);
        kdn(w, "residual_rms", rl->residual_rms);
        kdn(w, "residual_rel", rl->residual_rel);
        kdn(w, "sd", rl->sd); /* issue 19: the methods text reads it */
        wf_jw_obj_end(w);
    }
}

void wf_results_json_dependence(wf_jw *w, const wf_results *r) {
    const wf_dependence *d = r->dependence;
    if (!d)
        return;
    wf_jw_key(w, "dependence");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "rank_cells", d->cells.rank);
    wf_jw_kint(w, "rank_means", d->means.rank);
    wf_jw_kint(w, "rows_cells", d->cells.rows);
    wf_jw_kint(w, "rows_means", d->means.rows);
    wf_jw_key(w, "relations");
    wf_jw_arr_begin(w);
    relations(w, d, &d->cells, "cells");
    relations(w, d, &d->means, "means");
    wf_jw_arr_end(w);
    wf_jw_key(w, "correlation");
    wf_jw_arr_begin(w);
    for (int i = 0; i < d->C; i++) {
        wf_jw_arr_begin(w);
        for (int j = 0; j < d->C; j++) {
            double v = d->corr[i * d->C + j];
            if (isnan(v))
                wf_jw_null(w);
            else
                wf_jw_double(w, v);
        }
        wf_jw_arr_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_key(w, "linkage");
    wf_jw_arr_begin(w);
    for (int k = 0; k + 1 < d->C; k++) {
        wf_jw_obj_begin(w);
        wf_jw_kint(w, "a", d->merges[k].a);
        wf_jw_kint(w, "b", d->merges[k].b);
        kdn(w, "height", d->merges[k].height);
        wf_jw_kint(w, "size", d->merges[k].size);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_key(w, "groups");
    wf_jw_arr_begin(w);
    for (int g = 0; g < d->n_groups; g++) {
        wf_jw_arr_begin(w);
        for (int c = 0; c < d->C; c++)
            if (d->group_of[c] == g)
                wf_jw_str(w, d->names[c]);
        wf_jw_arr_end(w);
    }
    wf_jw_arr_end(w);
    kdn(w, "cut", d->options.cut);
    kdn(w, "exact_tol", d->options.exact_tol);
    wf_jw_kbool(w, "merge_exact", d->options.merge_exact);
    char text[4096];
    wf_dependence_describe(d, text, sizeof text);
    wf_jw_kstr(w, "text", text);
    wf_jw_obj_end(w);
}

void wf_results_json_window_checks(wf_jw *w, const wf_analysis *a, const wf_explanation *e) {
    int64_t wi = e->window_index;
    const wf_why *y = wf_an_why(a, wi);
    if (y) {
        wf_jw_key(w, "why");
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "text", y->text);
        wf_jw_kstr(w, "claim", wf_why_claim_str(y->claim));
        wf_jw_key(w, "drivers");
        wf_jw_arr_begin(w);
        for (int k = 0; k < y->n_drivers; k++) {
            const wf_why_driver *dr = &y->drivers[k];
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "name", dr->name);
            wf_jw_kstr(w, "channels", dr->channels);
            kdn(w, "share", dr->share);
            kdn(w, "kernelshap", dr->kernelshap);
            kdn(w, "ig", dr->ig);
            wf_jw_obj_end(w);
        }
        wf_jw_arr_end(w);
        wf_jw_obj_end(w);
        const wf_agreement *g = &y->agreement;
        wf_jw_key(w, "agreement");
        if (g->n == 0) {
            wf_jw_null(w); /* IG was not run */
        } else {
            wf_jw_obj_begin(w);
            kdn(w, "l1", g->l1);
            kdn(w, "sign_agreement", g->sign_agreement);
            wf_jw_kint(w, "material", g->n_material);
            wf_jw_kint(w, "sign_agree", g->n_sign_agree); /* issue 19 */
            wf_jw_kint(w, "n", g->n);
            wf_jw_kint(w, "topk_overlap", g->topk_overlap);
            wf_jw_kint(w, "k", g->k);
            kdn(w, "spearman", g->spearman);
            wf_jw_kbool(w, "disagree", g->disagree);
            char reason[512];
            wf_jw_kstr(w, "reason", wf_an_agreement_reason(a, wi, reason, sizeof reason));
            wf_jw_obj_end(w);
        }
    } else {
        kdn(w, "agreement", e->agreement);
    }
    const wf_windows *ws = a->r->windows;
    if (wi >= 0 && wi < ws->n && ws->w[wi].values) {
        wf_jw_key(w, "values");
        wf_jw_arr_begin(w);
        for (int c = 0; c < a->C; c++) {
            double m, p;
            wf_an_window_value(a, wi, c, &m, &p);
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "channel", wf_an_channel(a, c));
            wf_jw_kstr(w, "unit", wf_an_unit(a, c));
            kdn(w, "mean", m);
            kdn(w, "percentile", p);
            wf_jw_obj_end(w);
        }
        wf_jw_arr_end(w);
    }
    char note[1024];
    if (wf_an_dependence_note(a, wi, note, sizeof note))
        wf_jw_kstr(w, "dependence_note", note);
}

void wf_results_json_checks_summary(wf_jw *w, const wf_analysis *a) {
    if (!a->r->why)
        return;
    wf_jw_key(w, "explanation_checks");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "windows_with_why", a->n_why);
    wf_jw_kint(w, "methods_disagree", a->n_disagree);
    char rule[8192];
    wf_why_describe(rule, sizeof rule);
    wf_jw_kstr(w, "why_rule", rule);
    wf_jw_obj_end(w);
}
