/*
 * results.json's "drift" object (issue 16): the reference, the settings, data drift per channel
 * (fleet-wide, per turbine, per period), the concept-drift signals per period and the
 * out-of-reference figures of every explained window. Every number the Drift sheet and the PDF
 * chapter print is here. A statistic that could not be evaluated (an empty sample) is null.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/drift_impl.h"

const char *wf_drift_method_str(int method) {
    return method == WF_DRIFT_METHOD_KS            ? "ks"
           : method == WF_DRIFT_METHOD_WASSERSTEIN ? "wasserstein"
                                                   : "none";
}

static void kd(wf_jw *w, const char *key, double v) {
    wf_jw_key(w, key);
    if (isnan(v) || isinf(v))
        wf_jw_null(w);
    else
        wf_jw_double(w, v);
}

static void kiso(wf_jw *w, const char *key, int64_t t) {
    char buf[32];
    wf_jw_kstr(w, key, wf_time_format_iso(t, buf));
}

static void channels(wf_jw *w, const wf_analysis *a, const wf_drift_channel *ch,
                     const uint8_t *compacted) {
    wf_jw_key(w, "channels");
    wf_jw_arr_begin(w);
    for (int c = 0; c < a->C; c++) {
        const wf_drift_channel *x = &ch[c];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "name", wf_an_channel(a, c));
        wf_jw_kint(w, "n_reference", (int64_t)x->n_ref);
        wf_jw_kint(w, "n_current", (int64_t)x->n_cur);
        wf_jw_kbool(w, "evaluated", x->evaluated);
        kd(w, "ks_statistic", x->ks_statistic);
        kd(w, "ks_pvalue", x->ks_pvalue);
        kd(w, "wasserstein_normed", x->wasserstein_normed);
        kd(w, "psi", x->psi);
        wf_jw_kstr(w, "method", wf_drift_method_str(x->method));
        wf_jw_kbool(w, "drifted", x->drifted);
        wf_jw_kbool(w, "compacted", compacted ? compacted[c] : 0);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
}

void wf_results_json_drift(wf_jw *w, const wf_analysis *a) {
    const wf_results_drift *d = a->r->drift;
    int C = a->C;
    wf_drift_concept cc;
    wf_error err = {0};
    if (wf_drift_concept_build(a, &cc, &err)) {
        w->failed = 1;
        return;
    }
    wf_jw_key(w, "drift");
    wf_jw_obj_begin(w);
    wf_jw_key(w, "reference");
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "kind", d->reference_is_log ? "log" : "period");
    if (d->reference_is_log) {
        wf_jw_kstr(w, "path", d->ref_path);
    } else {
        kiso(w, "from", d->ref_from);
        kiso(w, "to", d->ref_to);
    }
    wf_jw_kint(w, "windows", d->n_ref_windows);
    wf_jw_obj_end(w);
    wf_jw_kstr(w, "period", d->period);
    wf_jw_key(w, "settings");
    wf_jw_obj_begin(w);
    kd(w, "ks_alpha", d->settings.ks_alpha);
    wf_jw_kint(w, "ks_max_reference", (int64_t)d->settings.ks_max_ref);
    kd(w, "wasserstein_threshold", d->settings.wasserstein_threshold);
    kd(w, "wasserstein_min_std", d->settings.wasserstein_min_std);
    wf_jw_kint(w, "psi_bins", d->settings.psi_bins);
    wf_jw_key(w, "out_of_range");
    double q[2] = {d->settings.oor_q_lo, d->settings.oor_q_hi};
    wf_jw_double_array(w, q, 2);
    wf_jw_obj_end(w);

    wf_jw_key(w, "memory");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "budget_mb", d->memory_mb);
    wf_jw_kint(w, "cap_fleet_entries", (int64_t)d->cap_fleet);
    wf_jw_kint(w, "cap_table_entries", (int64_t)d->cap_table);
    wf_jw_kstr(w, "compaction",
               "a table past its cap keeps the midpoints (k + 1/2) 2^e of the buckets "
               "[k 2^e, (k+1) 2^e) at the lowest level e with at most cap buckets; a figure "
               "from a compacted table says \"compacted\": true");
    wf_jw_obj_end(w);

    channels(w, a, d->fleet, d->fleet_compacted);

    wf_jw_key(w, "turbines");
    wf_jw_arr_begin(w);
    for (int64_t t = 0; t < d->n_turbines; t++) {
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", d->turbine[t]);
        channels(w, a, d->by_turbine + (size_t)t * (size_t)C,
                 d->turbine_compacted ? d->turbine_compacted + (size_t)t * (size_t)C : NULL);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);

    wf_jw_key(w, "periods");
    wf_jw_arr_begin(w);
    for (int64_t p = 0; p < d->n_periods; p++) {
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "label", d->period_label[p]);
        kiso(w, "start", d->period_start[p]);
        channels(w, a, d->by_period + (size_t)p * (size_t)C,
                 d->period_compacted ? d->period_compacted + (size_t)p * (size_t)C : NULL);
        wf_jw_kint(w, "windows", cc.windows[p]);
        wf_jw_kint(w, "flagged", cc.flagged[p]);
        wf_jw_kint(w, "explained", cc.explained[p]);
        wf_jw_kint(w, "failure_windows", cc.positives[p]);
        wf_jw_kint(w, "true_flags", cc.true_pos[p]);
        kd(w, "precision", cc.precision[p]);
        kd(w, "recall", cc.recall[p]);
        wf_jw_key(w, "score_quantiles");
        wf_jw_obj_begin(w);
        for (int k = 0; k < WF_DRIFT_NQ; k++) {
            char key[16];
            snprintf(key, sizeof key, "%g", wf_drift_score_q[k]);
            kd(w, key, cc.score_q[(size_t)p * WF_DRIFT_NQ + (size_t)k]);
        }
        wf_jw_obj_end(w);
        wf_jw_key(w, "mean_abs_attribution");
        wf_jw_obj_begin(w);
        for (int c = 0; c < C; c++)
            kd(w, wf_an_channel(a, c), cc.attr[(size_t)p * (size_t)C + (size_t)c]);
        wf_jw_obj_end(w);
        wf_jw_kint(w, "unflagged_explained", cc.sampled[p]);
        wf_jw_key(w, "mean_abs_attribution_unflagged");
        wf_jw_obj_begin(w);
        for (int c = 0; c < C; c++)
            kd(w, wf_an_channel(a, c), cc.attr_unflagged[(size_t)p * (size_t)C + (size_t)c]);
        wf_jw_obj_end(w);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);

    /* the seeded sample of unflagged windows, with each one's channel attributions (the sums
     * of its groups' attributions over each channel, as the episode pages use them) */
    wf_jw_key(w, "unflagged_sample");
    wf_jw_obj_begin(w);
    wf_jw_kint(w, "per_period", d->unflagged_per_period);
    wf_jw_kstr(w, "rule",
               "per period, the unflagged windows with the smallest seeded hash of (turbine id, "
               "start) among those whose end lies in it; explained like the flagged ones");
    wf_jw_key(w, "windows");
    wf_jw_arr_begin(w);
    double *ca = malloc(sizeof(double) * (size_t)(C > 0 ? C : 1));
    for (int64_t i = 0; ca && i < d->n_sample; i++) {
        const wf_window *win = &d->sample[i];
        const wf_explanation *e = &d->sample_expl[i];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", win->turbine_id);
        kiso(w, "start", win->start);
        kiso(w, "end", win->end);
        wf_jw_kstr(w, "period", d->period_label[d->sample_period[i]]);
        kd(w, "score", d->sample_score[i]);
        int ok = wf_an_usable(a, e) && wf_an_channel_attr(a, e, ca);
        wf_jw_kbool(w, "explained", ok);
        wf_jw_key(w, "channel_attribution");
        if (ok) {
            wf_jw_obj_begin(w);
            for (int c = 0; c < C; c++)
                kd(w, wf_an_channel(a, c), ca[c]);
            wf_jw_obj_end(w);
        } else {
            wf_jw_null(w);
        }
        wf_jw_obj_end(w);
    }
    if (!ca)
        w->failed = 1;
    free(ca);
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);

    wf_jw_key(w, "reference_ranges");
    wf_jw_arr_begin(w);
    for (int c = 0; c < C; c++) {
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "name", wf_an_channel(a, c));
        kd(w, "window_mean_low", d->mean_lo[c]);
        kd(w, "window_mean_high", d->mean_hi[c]);
        kd(w, "value_low", d->value_lo[c]);
        kd(w, "value_high", d->value_hi[c]);
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);

    wf_jw_key(w, "windows");
    wf_jw_arr_begin(w);
    for (int64_t j = 0; j < d->n_windows; j++) {
        const wf_window *win = &a->r->windows->w[d->window_index[j]];
        wf_jw_obj_begin(w);
        wf_jw_kstr(w, "turbine_id", win->turbine_id);
        kiso(w, "start", win->start);
        wf_jw_kbool(w, "outside_reference", d->outside[j]);
        wf_jw_key(w, "channels_outside");
        wf_jw_arr_begin(w);
        for (int c = 0; c < C; c++)
            if (d->channel_out[(size_t)j * (size_t)C + (size_t)c])
                wf_jw_str(w, wf_an_channel(a, c));
        wf_jw_arr_end(w);
        wf_jw_key(w, "percentile");
        wf_jw_arr_begin(w);
        for (int c = 0; c < C; c++) {
            double v = d->percentile[(size_t)j * (size_t)C + (size_t)c];
            if (isnan(v))
                wf_jw_null(w);
            else
                wf_jw_double(w, v);
        }
        wf_jw_arr_end(w);
        wf_jw_key(w, "share_outside");
        wf_jw_arr_begin(w);
        for (int c = 0; c < C; c++) {
            double v = d->share_out[(size_t)j * (size_t)C + (size_t)c];
            if (isnan(v))
                wf_jw_null(w);
            else
                wf_jw_double(w, v);
        }
        wf_jw_arr_end(w);
        char s[1024];
        wf_jw_kstr(w, "sentence", wf_drift_window_sentence(a, j, s, sizeof s));
        wf_jw_obj_end(w);
    }
    wf_jw_arr_end(w);
    wf_jw_obj_end(w);
    wf_drift_concept_free(&cc);
}
