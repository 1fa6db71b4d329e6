/*
 * results.json: the machine-readable record of a run (the `explain` format of issue 4, plus for
 * `audit` every window's score and flag, every skipped window with its reason, the threshold, the
 * turbines, the alarm episodes and the alarm review). Every number the PDF prints is here too.
 * Written with core/jw.h (shortest round-trip doubles, no locale), atomically, deterministic.
 * Times are ISO-8601 UTC strings ("2024-03-01T00:00:00Z").
 *
 * {
 *   "schema": "whyflag.results/2" (first; the JSON Schema is templates/results.schema.json),
 *   "tool", "results_version" (2), "command" ("explain" | "audit"), "generated_at", "run_id" (16
 * hex: digest of model hash, windows and scores), "model": {"path", "sha256", "quantized",
 * "surrogate", "output": {"name", "column", "kind": "probability" | "logit" | "unknown"}},
 *   "channels": [C names], "units": [C units], "T",
 *   "settings": {"method", "groups", "nsamples" (n | "auto" | "exact"), "max_samples",
 *                "convergence", "link", "background", "background_size", ..., "ig_method",
 *                "steps" (n | "auto"), "max_steps", "ig_tol", "baseline", "expected_gradients",
 *                "seed"},
 *   "background": {"n", "description", "windows": [{"turbine_id", "start"}]} (when there is one)
 *   "threshold": number | null (explain), "horizon_hours"             (audit)
 *   "windows": [ one per explained window, in window order:
 *     {"index", "turbine_id", "start", "end", "score",
 *      "status", "error"                                              (only when it failed)
 *      "kernelshap": {"players", "base_value", "f_x", "values", "std_err", "samples", "exact",
 *                     "converged", "link", "efficiency_gap"},
 *      "ig": {"method", "expected_gradients", "steps", "converged", "baseline", "values" [C][T],
 *             "channel_sums" [C], "f_x", "f_baseline", "delta", "surrogate"},
 *      "treeshap": {"players", "base_value", "f_x", "values", "output" ("margin" |
 *                   "probability"), "variant" ("interventional"), "exact", "efficiency_gap"}
 *                                                   (tree-ensemble models, issue 11)
 *      "ig": {"status": "not_applicable", "reason"}   (a model without a gradient)
 *      "treeshap_vs_kernelshap": {"compared" ("values": both explain the margin | "ranks"),
 *                   "max_abs_difference" | null, "spearman", "same_sign", "players"},
 *      "agreement": number | null (or an object, see results_checks.c), "why", "values",
 *      "dependence_note"?, "top_channel": the channel raising the score most}],
 *   "dependence": {...} (the background's channels, see results_checks.c; audit)
 *   audit only:
 *   "scores_file": "scores.csv", "scores_count": n  (every valid window's score, flag, label,
 *              component and interpolation are in scores.csv beside results.json, one row per
 *              window in window order, whatever the run's size: results.json keeps one shape)
 *   "review": {"true_alarms", "false_alarms", "channels": [{"channel", "mean_attribution_true",
 *              "mean_attribution_false", "top_driver_true", "top_driver_false"}]},
 *   "attribution_distribution": {"attribution", "quantiles", "windows"/"episodes": {"true_alarms"
 *              (repeat alarms included), "false_alarms", "no_failure_log"},
 *              "windows_outside_episodes", "channels": [{"channel", "mean_abs", per non-empty
 *              group {"median", "q1", "q3", "min", "max", "mean"}}] (by mean_abs, largest first)},
 *   "channel_ranges": [{"channel", "unit", "min", "max"}],
 *   "turbines": [{"turbine_id", "scored", "skipped", "max_score", "flagged", "episodes",
 *                 "failures", "missed_failures"}],
 *   "episodes": [{"turbine_id", "first_start", "first_end", "last_end", "flagged_windows",
 *                 "peak_start", "peak_score", "episode" (its number, 1-based), "outcome"
 *                 ("true alarm" | "repeat alarm" | "false alarm" | "no failure log"),
 *                 "failure_time"?, "component"?, "lead_hours"?, "top_channel"}],
 *   "outcomes": {"episodes", "true_alarms", "repeat_alarms", "false_alarms", "failures",
 *                "caught", "missed", "not_observable", "precision", "recall",
 *                "median_lead_hours", "episode_merge_gap_hours", "threshold_sweep": [{
 *                "threshold", "flagged_windows", "episodes", "true_alarms", "repeat_alarms",
 *                "false_alarms", "caught", "missed", "precision", "recall"}]}
 *                (the rule is written at the top of src/report/analysis.c's outcomes),
 *   "input": {"bytes", "rows", "rows_used", "rows_rejected", "rejected": {"malformed",
 *             "without_turbine_id", "off_grid", "time_outlier", "duplicate_conflicting",
 *             "nonexistent_local_time" (of the malformed)}, "timezone" (log.timezone),
 *             "ambiguous_local_time_rows", "cadence": {"configured_seconds",
 *             "turbines_checked", "turbines_mismatched",
 *             "median_step_min_seconds", "median_step_max_seconds", "approximate", "warning"
 *             (null or the sentence)},
 *             "duplicate_identical_ignored", "bad_cells", "reordered_rows", "turbines",
 *             "windows": {"valid", "skipped", "interpolated", "skipped_by_kind": {kind: n}}}
 *             (audit: every row is used, rejected with a reason, or an ignored exact duplicate:
 *             rows = rows_used + rows_rejected + duplicate_identical_ignored; a row whose
 *             timestamp comes again with other values is used, the later rows are rejected as
 *             duplicate_conflicting, and the windows touching that time are skipped)
 *   always:
 *   "skipped": [{"turbine_id", "start", "reason"}],
 *   "failures": [{"turbine_id", "time", "component", "outcome" ("caught" | "missed" |
 *                 "not observable"), "episode"?, "lead_hours"?}]     (when a failure log was read)
 *   "drift": {...}        (with a "drift" section in the config; documented in results_drift.c)
 *   "comparison": {...}   (with a second model B; documented in results_compare.c)
 * }
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "core/text.h"
#include "report/compare_impl.h"
#include "report/drift_impl.h"
#include "report/report_impl.h"
#include "report/time_impl.h"

/* "model_card": what the model is, as its ONNX file says (the PDF's model card page). */
void wf_results_json_model_card(wf_jw *w, const wf_model_card *c) {
    wf_jw_key(w, "model_card");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "file", c->name);
    wf_jw_kstr(w, "producer", c->producer);
    wf_jw_kint(w, "ir_version", c->ir_version);
    wf_jw_kint(w, "opset", c->opset);
    wf_jw_kbool(w, "quantized", c->quantized);
    wf_jw_kbool(w, "differentiable", c->differentiable);
    wf_jw_key(w, "inputs");
    wf_jw_arr_begin(w);
    for (int i = 0; i < c->n_inputs; i++)
        wf_jw_str(w, c->inputs[i]);
    wf_jw_arr_end(w);
    wf_jw_key(w, "outputs");
    wf_jw_arr_begin(w);
    for (int i = 0; i < c->n_outputs; i++)
        wf_jw_str(w, c->outputs[i]);
    wf_jw_arr_end(w);
    wf_jw_kint(w, "nodes", c->n_nodes);
    wf_jw_key(w, "op_counts");
    wf_jw_obj_begin(w);
    for (int k = 0; k < c->n_ops; k++)
        wf_jw_kint(w, c->op_name[k], c->op_count[k]);
    wf_jw_obj_end(w);
    wf_jw_kint(w, "parameters", c->parameters);
    wf_jw_kint(w, "zero_parameters", c->zero_parameters);
    wf_jw_key(w, "flops_per_window");
    if (c->flops >= 0)
        wf_jw_int(w, c->flops);
    else
        wf_jw_null(w);
    wf_jw_key(w, "metadata");
    wf_jw_obj_begin(w);
    for (int i = 0; i < c->n_meta; i++)
        wf_jw_kstr(w, c->meta_key[i], c->meta_value[i]);
    wf_jw_obj_end(w);
    wf_jw_obj_end(w);
}

static void kiso(wf_jw *w, const char *key, int64_t t) {
    char buf[32];
    wf_jw_kstr(w, key, wf_time_format_iso(t, buf));
}

/* A double that may be NaN: null is ambiguous, so NaN is written as absent-by-design null only
 * for "not applicable" fields documented as such (threshold of `explain`, agreement). */
static void kdouble_or_null(wf_jw *w, const char *key, double v) {
    wf_jw_key(w, key);
    if (isnan(v))
        wf_jw_null(w);
    else
        wf_jw_double(w, v);
}

void wf_results_json_settings(wf_jw *w, const wf_explain_settings *s) {
    wf_jw_key(w, "settings");
    if (!s) {
        wf_jw_null(w);
        return;
    }
    char buf[64];
    wf_jw_obj_begin(w);
    wf_jw_key(w, "method");
    wf_jw_str(w, wf_explain_method_name(s));
    const char *g = "channel";
    if (s->groups == WF_GROUPS_SEGMENTS) {
        snprintf(buf, sizeof buf, "segments:%d", s->segments);
        g = buf;
    } else if (s->groups == WF_GROUPS_CELL) {
        g = "cell";
    } else if (s->groups == WF_GROUPS_EXPLICIT || s->groups == WF_GROUPS_AUTO ||
               s->groups == WF_GROUPS_HIERARCHY) {
        g = wf_groups_name(s);
    }
    wf_jw_kstr(w, "groups", g);
    wf_jw_key(w, "nsamples");
    if (s->nsamples == WF_NSAMPLES_AUTO)
        wf_jw_str(w, "auto");
    else if (s->nsamples == WF_NSAMPLES_EXACT)
        wf_jw_str(w, "exact");
    else
        wf_jw_int(w, s->nsamples);
    wf_jw_kint(w, "max_samples", s->max_samples);
    wf_jw_kdouble(w, "convergence", s->convergence);
    wf_jw_kstr(w, "link", wf_link_name(s->link));
    wf_jw_kstr(w, "arithmetic", wf_arithmetic_name(s->arithmetic));
    wf_jw_kstr(w, "background", wf_background_name(s->background));
    if (s->background == WF_BACKGROUND_FILE)
        wf_jw_kstr(w, "background_path", s->background_path);
    wf_jw_kint(w, "background_size", s->background_size);
    wf_jw_kbool(w, "background_include_flagged", s->background_include_flagged);
    wf_jw_kstr(w, "ig_method", wf_ig_rule_name(s->ig_rule));
    wf_jw_key(w, "steps");
    if (s->steps > 0)
        wf_jw_int(w, s->steps);
    else
        wf_jw_str(w, "auto");
    wf_jw_kint(w, "max_steps", s->max_steps);
    wf_jw_kdouble(w, "ig_tol", s->ig_tol);
    wf_jw_kstr(w, "baseline", wf_baseline_name(s->baseline));
    if (s->baseline == WF_BASELINE_FILE)
        wf_jw_kstr(w, "baseline_path", s->baseline_path);
    wf_jw_kbool(w, "expected_gradients", s->expected_gradients);
    if (s->expected_gradients)
        wf_jw_kint(w, "eg_samples", s->eg_samples);
    if (wf_explain_uses_treeshap(s))
        wf_jw_kstr(w, "treeshap_output", wf_treeshap_output_name(s->treeshap_output));
    if (wf_explain_uses_treeshap(s) && s->treeshap_covers[0])
        wf_jw_kstr(w, "treeshap_covers", s->treeshap_covers);
    wf_jw_key(w, "seed");
    wf_jw_int(w, (int64_t)s->seed);
    wf_jw_obj_end(w);
}

/* Issue 11: "treeshap" (shaped as "kernelshap"), "ig" when not applicable, and
 * "treeshap_vs_kernelshap" when both ran. Written only for what ran, so runs without a tree
 * model write what they always did. */
static void write_treeshap(wf_jw *w, const wf_explanation *e) {
    if (e->has_treeshap) {
        const wf_treeshap_result *t = &e->treeshap;
        wf_jw_key(w, "treeshap");
        wf_jw_obj_begin(w);
        wf_jw_key(w, "players");
        wf_jw_arr_begin(w);
        for (int m = 0; m < t->M; m++)
            wf_jw_str(w, t->players ? t->players[m] : NULL);
        wf_jw_arr_end(w);
        wf_jw_kdouble(w, "base_value", t->base_value);
        wf_jw_kdouble(w, "f_x", t->f_x);
        wf_jw_key(w, "values");
        wf_jw_double_array(w, t->values, (size_t)t->M);
        wf_jw_kstr(w, "output", wf_treeshap_output_name(t->output));
        wf_jw_kstr(w, "variant", t->path_dependent ? "path_dependent" : "interventional");
        wf_jw_kbool(w, "exact", t->output == WF_TREESHAP_MARGIN);
        wf_jw_kdouble(w, "efficiency_gap", t->efficiency_gap);
        wf_jw_obj_end(w);
    }
    if (e->ig_not_applicable && !e->has_ig) {
        wf_jw_key(w, "ig");
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "status", "not_applicable");
        wf_jw_kstr(w, "reason", e->ig_reason ? e->ig_reason : "the model has no gradient");
        wf_jw_obj_end(w);
    }
    if (e->has_treeshap && e->has_kshap) {
        wf_jw_key(w, "treeshap_vs_kernelshap");
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "compared", isnan(e->ts_ks_max_diff) ? "ranks" : "values");
        kdouble_or_null(w, "max_abs_difference", e->ts_ks_max_diff);
        kdouble_or_null(w, "spearman", e->ts_ks_spearman);
        wf_jw_kint(w, "same_sign", e->ts_ks_same_sign);
        wf_jw_kint(w, "players", e->treeshap.M);
        wf_jw_obj_end(w);
    }
}

static void write_explanation(wf_jw *w, const wf_analysis *a, const wf_explanation *e) {
    const wf_windows *ws = a->r->windows;
    const wf_window *win = &ws->w[e->window_index];
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "index", e->window_index);
    wf_jw_kstr(w, "turbine_id", win->turbine_id);
    kiso(w, "start", win->start);
    kiso(w, "end", win->end);
    wf_jw_kdouble(w, "score", e->score);
    if (e->status != WF_OK) {
        wf_jw_kstr(w, "status", wf_status_str(e->status));
        wf_jw_kstr(w, "error", e->error);
    }
    if (e->has_kshap) {
        const wf_kshap_result *k = &e->kshap;
        wf_jw_key(w, "kernelshap");
        wf_jw_obj_begin(w);
        wf_jw_key(w, "players");
        wf_jw_arr_begin(w);
        for (int m = 0; m < k->M; m++)
            wf_jw_str(w, k->players ? k->players[m] : NULL);
        wf_jw_arr_end(w);
        wf_jw_kdouble(w, "base_value", k->base_value);
        wf_jw_kdouble(w, "f_x", k->f_x);
        wf_jw_key(w, "values");
        wf_jw_double_array(w, k->values, (size_t)k->M);
        wf_jw_key(w, "std_err");
        wf_jw_double_array(w, k->std_err, (size_t)k->M);
        wf_jw_kint(w, "samples", k->samples);
        wf_jw_kbool(w, "exact", k->exact);
        wf_jw_kbool(w, "converged", k->converged);
        wf_jw_kstr(w, "link", wf_link_name(k->link));
        wf_jw_kdouble(w, "efficiency_gap", k->efficiency_gap);
        wf_jw_obj_end(w);
    }
    if (e->has_ig) {
        const wf_ig_result *g = &e->ig;
        wf_jw_key(w, "ig");
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "method", wf_ig_rule_name(g->rule));
        wf_jw_kbool(w, "expected_gradients", g->expected_gradients);
        wf_jw_kint(w, "steps", g->steps);
        wf_jw_kbool(w, "converged", g->converged);
        wf_jw_kstr(w, "baseline", g->baseline ? g->baseline : "mean");
        wf_jw_key(w, "values");
        wf_jw_arr_begin(w);
        for (int c = 0; c < g->C; c++)
            wf_jw_double_array(w, g->values + (size_t)c * (size_t)g->T, (size_t)g->T);
        wf_jw_arr_end(w);
        wf_jw_key(w, "channel_sums");
        wf_jw_double_array(w, g->channel_sums, (size_t)g->C);
        wf_jw_kdouble(w, "f_x", g->f_x);
        wf_jw_kdouble(w, "f_baseline", g->f_baseline);
        wf_jw_kdouble(w, "delta", g->delta);
        wf_jw_kstr(w, "surrogate", g->surrogate);
        wf_jw_obj_end(w);
    }
    write_treeshap(w, e);
    wf_results_json_window_checks(w, a, e); /* "agreement", "why", "values", ... */
    int top = wf_an_top_channel(a, e);
    wf_jw_kstr(w, "top_channel", top >= 0 ? wf_an_channel(a, top) : NULL);
    wf_jw_obj_end(w);
}

static void write_audit_parts(wf_jw *w, const wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    /* every window's score is in scores.csv, whatever the run's size (issue 14): results.json
     * keeps one shape */
    wf_jw_kstr(w, "scores_file", "scores.csv");
    wf_jw_kint(w, "scores_count", ws->n);
    wf_jw_key(w, "turbines");
    wf_jw_arr_begin(w);
    for (int t = 0; t < a->n_turbines; t++) {
        const wf_turbine_summary *s = &a->turbines[t];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", s->id);
        wf_jw_kint(w, "scored", s->scored);
        wf_jw_kint(w, "skipped", s->skipped);
        kdouble_or_null(w, "max_score", s->max_score);
        wf_jw_kint(w, "flagged", s->flagged);
        wf_jw_kint(w, "episodes", s->episodes);
        wf_jw_kint(w, "failures", s->failures);
        wf_jw_kint(w, "missed_failures", s->missed);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    /* the alarm review and the channel ranges the PDF prints */
    int C = a->C, nt = 0, nf = 0;
    double *rv = calloc((size_t)C * 4 + 1, sizeof *rv);
    if (rv) {
        wf_an_review(a, rv, rv + C, rv + 2 * C, rv + 3 * C, &nt, &nf);
        wf_jw_key(w, "review");
        wf_jw_obj_begin(w);
        wf_jw_kint(w, "true_alarms", nt);
        wf_jw_kint(w, "false_alarms", nf);
        wf_jw_key(w, "channels");
        wf_jw_arr_begin(w);
        for (int c = 0; c < C; c++) {
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "channel", wf_an_channel(a, c));
            wf_jw_kdouble(w, "mean_attribution_true", rv[c]);
            wf_jw_kdouble(w, "mean_attribution_false", rv[C + c]);
            wf_jw_kint(w, "top_driver_true", (int64_t)rv[2 * C + c]);
            wf_jw_kint(w, "top_driver_false", (int64_t)rv[3 * C + c]);
            wf_jw_obj_end(w);
        }
        wf_jw_arr_end(w);
        wf_jw_obj_end(w);
        free(rv);
    } else {
        w->failed = 1;
    }
    wf_results_json_attr_dist(w, a); /* issue 14 (attr_dist.c) */
    wf_jw_key(w, "channel_ranges");
    wf_jw_arr_begin(w);
    for (int c = 0; c < C; c++) {
        double lo, hi;
        wf_an_channel_range(a, c, &lo, &hi);
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "channel", wf_an_channel(a, c));
        wf_jw_kstr(w, "unit", wf_an_unit(a, c));
        kdouble_or_null(w, "min", isfinite(lo) ? lo : NAN);
        kdouble_or_null(w, "max", isfinite(hi) ? hi : NAN);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_key(w, "episodes");
    wf_jw_arr_begin(w);
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", a->turbines[e->turbine].id);
        kiso(w, "first_start", ws->w[e->first].start);
        kiso(w, "first_end", ws->w[e->first].end);
        kiso(w, "last_end", ws->w[e->last].end);
        wf_jw_kint(w, "flagged_windows", e->n);
        kiso(w, "peak_start", ws->w[e->peak].start);
        wf_jw_kdouble(w, "peak_score", e->peak_score);
        wf_jw_kint(w, "episode", k + 1);
        wf_jw_kstr(w, "outcome", wf_outcome_str(e->outcome));
        if (e->outcome == WF_OUTCOME_TRUE) {
            kiso(w, "failure_time", e->failure_time);
            wf_jw_kstr(w, "component", e->component);
            wf_jw_kdouble(w, "lead_hours", e->lead_hours);
        }
        int64_t ew = wf_an_episode_window(a, e);
        int top = ew >= 0 ? wf_an_top_channel(a, a->expl_of[ew]) : -1;
        wf_jw_kstr(w, "top_channel", top >= 0 ? wf_an_channel(a, top) : NULL);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    /* outcomes that add up: the figures, the rule's parameters, and the sweep */
    wf_jw_key(w, "outcomes");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "episodes", a->n_episodes);
    wf_jw_kint(w, "true_alarms", a->n_true);
    wf_jw_kint(w, "repeat_alarms", a->n_repeat);
    wf_jw_kint(w, "false_alarms", a->n_false);
    wf_jw_kint(w, "failures", a->n_failures);
    wf_jw_kint(w, "caught", a->n_caught);
    wf_jw_kint(w, "missed", a->n_missed);
    wf_jw_kint(w, "not_observable", a->n_not_observable);
    kdouble_or_null(w, "precision", a->precision);
    kdouble_or_null(w, "recall", a->recall);
    kdouble_or_null(w, "median_lead_hours", a->median_lead_hours);
    wf_jw_kdouble(w, "episode_merge_gap_hours", (double)a->episode_merge_gap / 3600.0);
    wf_jw_key(w, "threshold_sweep");
    wf_jw_arr_begin(w);
    for (int k = 0; k < a->n_sweep; k++) {
        const wf_sweep_row *q = &a->sweep[k];
        wf_jw_obj_begin(w);
        wf_jw_kdouble(w, "threshold", q->threshold);
        wf_jw_kint(w, "flagged_windows", q->flagged);
        wf_jw_kint(w, "episodes", q->episodes);
        wf_jw_kint(w, "true_alarms", q->true_alarms);
        wf_jw_kint(w, "repeat_alarms", q->repeat_alarms);
        wf_jw_kint(w, "false_alarms", q->false_alarms);
        wf_jw_kint(w, "caught", q->caught);
        wf_jw_kint(w, "missed", q->missed);
        kdouble_or_null(w, "precision", q->precision);
        kdouble_or_null(w, "recall", q->recall);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);
}

/* issue 19: "window" and "report", what `whyflag report` needs to render the run again */
void wf_results_json_rerender(wf_jw *w, const wf_results *r) {
    const wf_windows *ws = r->windows;
    wf_jw_key(w, "window");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "T", ws->T);
    wf_jw_kint(w, "stride", ws->stride);
    wf_jw_kint(w, "cadence_seconds", ws->cadence);
    wf_jw_obj_end(w);
    if (!r->methods_text && !r->report_title && r->max_episode_pages <= 0)
        return;
    wf_jw_key(w, "report");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "title", r->report_title ? r->report_title : "");
    wf_jw_kint(w, "max_episode_pages", r->max_episode_pages);
    wf_jw_kbool(w, "per_turbine", r->per_turbine);
    wf_jw_kstr(w, "methods_text", r->methods_text);
    wf_jw_obj_end(w);
}

/* "input": the counts of the log's pass, so that no row or window vanishes without a number. */
static void write_input(wf_jw *w, const wf_data_stats *d) {
    int64_t rej = wf_data_rows_rejected(d);
    wf_jw_key(w, "input");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "bytes", d->bytes);
    wf_jw_kint(w, "rows", d->rows);
    wf_jw_kint(w, "rows_used", d->rows - rej - d->duplicate_identical);
    wf_jw_kint(w, "rows_rejected", rej);
    wf_jw_key(w, "rejected");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "malformed", d->malformed_rows);
    wf_jw_kint(w, "without_turbine_id", d->unnamed_rows); /* of the malformed */
    wf_jw_kint(w, "off_grid", d->off_grid_rows);
    wf_jw_kint(w, "time_outlier", d->outlier_rows);
    wf_jw_kint(w, "duplicate_conflicting", d->duplicate_conflicting);
    wf_jw_kint(w, "nonexistent_local_time", d->nonexistent_time_rows); /* of the malformed */
    wf_jw_obj_end(w);
    /* issue 14: the zone naive timestamps were read in, and the cadence check */
    wf_jw_kstr(w, "timezone", d->timezone[0] ? d->timezone : "UTC");
    wf_jw_kint(w, "ambiguous_local_time_rows", d->ambiguous_time_rows);
    wf_jw_key(w, "cadence");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "configured_seconds", d->cadence_seconds);
    wf_jw_kint(w, "turbines_checked", d->cadence_turbines);
    wf_jw_kint(w, "turbines_mismatched", d->cadence_mismatched);
    wf_jw_kint(w, "median_step_min_seconds", d->cadence_median_min);
    wf_jw_kint(w, "median_step_max_seconds", d->cadence_median_max);
    wf_jw_kbool(w, "approximate", d->cadence_approximate);
    char cw[WF_REASON_MAX];
    if (wf_data_cadence_warning(d, cw, sizeof cw))
        wf_jw_kstr(w, "warning", cw);
    else
        wf_jw_kstr(w, "warning", NULL);
    wf_jw_obj_end(w);
    wf_jw_kint(w, "duplicate_identical_ignored", d->duplicate_identical);
    wf_jw_kint(w, "bad_cells", d->bad_cells);
    wf_jw_kint(w, "reordered_rows", d->reordered_rows);
    wf_jw_kint(w, "turbines", d->turbines);
    wf_jw_key(w, "windows");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "valid", d->windows_valid);
    wf_jw_kint(w, "skipped", d->windows_skipped);
    wf_jw_kint(w, "interpolated", d->windows_interpolated);
    wf_jw_key(w, "skipped_by_kind");
    wf_jw_obj_begin(w);
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        wf_jw_kint(w, wf_skip_kind_str((wf_skip_kind)k), d->skipped_by_kind[k]);
    wf_jw_obj_end(w);
    wf_jw_obj_end(w);
    wf_jw_obj_end(w);
}

wf_status wf_results_write_json_with(const char *path, const wf_results *r, const wf_analysis *an,
                                     wf_error *err) {
    wf_analysis a;
    memset(&a, 0, sizeof a);
    wf_status st = an ? WF_OK : wf_analysis_build(&a, r, 0, err);
    if (st)
        return st;
    const wf_analysis *A = an ? an : &a;
    const wf_windows *ws = r->windows;
    /* Streamed into a temporary file beside path, renamed when complete. */
    char tmp[4200];
    st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st) {
        wf_analysis_free(&a);
        return st;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        remove(tmp);
        wf_analysis_free(&a);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    wf_jw w;
    wf_jw_init_file(&w, 1, f);
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "schema", WF_RESULTS_SCHEMA); /* issue 14: templates/results.schema.json */
    wf_jw_kstr(&w, "tool", r->tool ? r->tool : "whyflag");
    wf_jw_kint(&w, "results_version", WF_RESULTS_VERSION); /* issue 19 */
    wf_jw_kstr(&w, "command", r->command ? r->command : "explain");
    kiso(&w, "generated_at", r->generated_at);
    wf_jw_kstr(&w, "run_id", A->run_id);
    wf_jw_key(&w, "model");
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "path", r->model_path);
    wf_jw_kstr(&w, "sha256", r->model_sha256);
    wf_jw_kbool(&w, "quantized", r->model_quantized);
    wf_jw_kstr(&w, "surrogate", r->surrogate);
    if (r->output_name) { /* what the score is: issue 10 */
        wf_jw_key(&w, "output");
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "name", r->output_name);
        wf_jw_kint(&w, "column", r->output_column);
        wf_jw_kstr(&w, "kind", r->output_kind ? r->output_kind : "unknown");
        wf_jw_obj_end(&w);
    }
    wf_jw_obj_end(&w);
    wf_jw_key(&w, "channels");
    wf_jw_arr_begin(&w);
    for (int c = 0; c < ws->C; c++)
        wf_jw_str(&w, wf_an_channel(A, c));
    wf_jw_arr_end(&w);
    wf_jw_key(&w, "units");
    wf_jw_arr_begin(&w);
    for (int c = 0; c < ws->C; c++)
        wf_jw_str(&w, wf_an_unit(A, c));
    wf_jw_arr_end(&w);
    wf_jw_kint(&w, "T", ws->T);
    wf_results_json_rerender(&w, r); /* issue 19: "window", "report" */
    wf_results_json_settings(&w, r->settings);
    if (r->model_card)
        wf_results_json_model_card(&w, r->model_card);
    if (r->background) {
        wf_jw_key(&w, "background");
        wf_jw_obj_begin(&w);
        wf_jw_kint(&w, "n", r->background->n);
        wf_jw_kstr(&w, "description", r->background->description);
        /* The windows it was taken from (drawn windows, file windows, or the population of a
         * k-means summary): with the log, enough to rebuild every KernelSHAP value. */
        wf_jw_key(&w, "windows");
        wf_jw_arr_begin(&w);
        for (int64_t i = 0; i < r->background->n_src; i++) {
            wf_jw_obj_begin(&w);
            wf_jw_kstr(&w, "turbine_id", r->background->src[i].turbine_id);
            kiso(&w, "start", r->background->src[i].start);
            wf_jw_obj_end(&w);
        }
        wf_jw_arr_end(&w);
        if (r->background->weight) { /* issue 19: the percentiles beside the waterfall bars */
            wf_jw_key(&w, "weights");
            wf_jw_double_array(&w, r->background->weight, (size_t)r->background->n);
        }
        wf_jw_obj_end(&w);
    }
    wf_results_json_dependence(&w, r);
    kdouble_or_null(&w, "threshold", r->threshold);
    if (r->scores)
        wf_jw_kdouble(&w, "horizon_hours", r->horizon_hours);
    wf_jw_key(&w, "windows");
    wf_jw_arr_begin(&w);
    for (int64_t i = 0; i < r->n_explained; i++)
        write_explanation(&w, A, &r->expl[i]);
    wf_jw_arr_end(&w);
    if (r->scores)
        write_audit_parts(&w, A);
    wf_results_json_checks_summary(&w, A); /* audit and explain: when the whys were built */
    if (r->input)
        write_input(&w, r->input);
    wf_jw_key(&w, "skipped");
    wf_jw_arr_begin(&w);
    for (int64_t i = 0; i < ws->n_skipped; i++) {
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "turbine_id", ws->skipped[i].turbine_id);
        kiso(&w, "start", ws->skipped[i].start);
        wf_jw_kstr(&w, "reason", ws->skipped[i].reason);
        wf_jw_obj_end(&w);
    }
    wf_jw_arr_end(&w);
    if (r->failures && r->n_failures > 0) {
        wf_jw_key(&w, "failures");
        wf_jw_arr_begin(&w);
        for (int64_t i = 0; i < r->n_failures; i++) {
            wf_jw_obj_begin(&w);
            wf_jw_kstr(&w, "turbine_id", r->failures[i].turbine_id);
            kiso(&w, "time", r->failures[i].time);
            wf_jw_kstr(&w, "component", r->failures[i].component);
            if (A->fail_outcome) { /* audit: what became of it */
                wf_jw_kstr(&w, "outcome", wf_failure_outcome_str(A->fail_outcome[i]));
                if (A->fail_episode[i] >= 0) {
                    const wf_episode *e = &A->episodes[A->fail_episode[i]];
                    wf_jw_kint(&w, "episode", A->fail_episode[i] + 1);
                    wf_jw_kdouble(&w, "lead_hours",
                                  (double)(r->failures[i].time - ws->w[e->first].end) / 3600.0);
                }
            }
            wf_jw_obj_end(&w);
        }
        wf_jw_arr_end(&w);
    }
    if (r->drift)
        wf_results_json_drift(&w, A);
    if (r->compare) { /* issue 15 (results_compare.c) */
        wf_cmp cmp;
        if (wf_cmp_build(A, &cmp, err) != WF_OK) {
            w.failed = 1;
        } else {
            wf_results_json_compare(&w, A, &cmp);
            wf_cmp_free(&cmp);
        }
    }
    wf_jw_obj_end(&w);
    wf_jw_finish(&w);
    int bad = w.failed || ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        st = wf_error_set(err, WF_ERR_IO,
                          "%s: writing the results failed (disk full or out of "
                          "memory)",
                          path);
    } else {
        st = wf_file_commit(tmp, path, err);
    }
    wf_jw_free(&w);
    wf_analysis_free(&a);
    return st;
}

wf_status wf_results_write_json(const char *path, const wf_results *r, wf_error *err) {
    return wf_results_write_json_with(path, r, NULL, err);
}

/* A CSV text field: quoted (RFC 4180) when it holds a comma, quote or line break. Neutralised as
 * OWASP advises against CSV injection: a field starting with = + - @ or a control byte gets a
 * leading single quote, so no spreadsheet reads it as a formula; control bytes are written as
 * '?' (never raw). */
void wf_report_csv_field(FILE *f, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    int lead = wf_csv_needs_lead(s);
    int quote = strpbrk(s, ",\"") != NULL;
    for (const unsigned char *p = u; *p && !quote; p++)
        quote = *p < 0x20;
    if (quote)
        fputc('"', f);
    if (lead)
        fputc('\'', f);
    for (; *u; u++) {
        if (*u == '"')
            fputc('"', f);
        fputc(wf_csv_byte(*u), f);
    }
    if (quote)
        fputc('"', f);
}

wf_status wf_results_write_scores_csv(const char *path, const wf_results *r, wf_error *err) {
    char tmp[4200];
    wf_status st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st)
        return st;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    char *iobuf = malloc(1 << 16);
    if (iobuf)
        setvbuf(f, iobuf, _IOFBF, 1 << 16);
    fputs(r->compare ? "turbine_id,start,end,score,flagged,label,component,interpolated,score_b,"
                       "flagged_b\n"
                     : "turbine_id,start,end,score,flagged,label,component,interpolated\n",
          f);
    const wf_windows *ws = r->windows;
    for (int64_t i = 0; ws && r->scores && i < ws->n; i++) {
        const wf_window *w = &ws->w[i];
        char t0[32], t1[32], sc[40];
        wf_report_csv_field(f, w->turbine_id);
        fprintf(f, ",%s,%s,%s,%d,%d,", wf_time_format_iso(w->start, t0),
                wf_time_format_iso(w->end, t1), wf_fmt_double(sc, r->scores[i]),
                r->flagged ? r->flagged[i] : 0, w->label);
        wf_report_csv_field(f, w->label == 1 ? w->component : "");
        fprintf(f, ",%d", w->interpolated);
        if (r->compare) /* issue 15: model B's score and flag */
            fprintf(f, ",%s,%d", wf_fmt_double(sc, r->compare->scores_b[i]),
                    r->compare->flagged_b[i]);
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    free(iobuf);
    if (bad) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: write failed (disk full?)", path);
    }
    return wf_file_commit(tmp, path, err);
}
