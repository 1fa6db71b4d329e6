/*
 * report.xlsx's Drift sheet (issue 16): the reference and the thresholds, then four tables one
 * under the other: data drift per channel fleet-wide, per turbine and channel, per period and
 * channel, the concept-drift signals per period, and the out-of-reference figures of every
 * explained window. The same numbers as results.json's "drift" object; an empty cell is a
 * statistic that could not be evaluated.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "report/drift_impl.h"

static void num(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v) {
    if (isfinite(v))
        worksheet_write_number(ws, r, c, v, NULL);
}

static void heads(lxw_worksheet *ws, lxw_row_t r, const char *const *h, int n, lxw_format *f) {
    for (int i = 0; i < n; i++)
        worksheet_write_string(ws, r, (lxw_col_t)i, h[i], f);
}

/* The figures of one channel from column c0 on. */
static void figures(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c0, const wf_drift_channel *x) {
    worksheet_write_number(ws, r, c0, (double)x->n_ref, NULL);
    worksheet_write_number(ws, r, c0 + 1, (double)x->n_cur, NULL);
    num(ws, r, c0 + 2, x->ks_statistic);
    num(ws, r, c0 + 3, x->ks_pvalue);
    num(ws, r, c0 + 4, x->wasserstein_normed);
    num(ws, r, c0 + 5, x->psi);
    worksheet_write_string(ws, r, c0 + 6, wf_drift_method_str(x->method), NULL);
    worksheet_write_string(ws, r, c0 + 7,
                           !x->evaluated ? "not evaluated"
                           : x->drifted  ? "drifted"
                                         : "no",
                           NULL);
}

#define FIG_HEADS                                                                                  \
    "n reference", "n current", "KS statistic", "KS p-value", "Wasserstein (normed)", "PSI",       \
        "rule", "drift"

void wf_xlsx_drift_sheet(struct lxw_workbook *wb, const wf_analysis *a, struct lxw_format *head,
                         struct lxw_format *title, struct lxw_format *date) {
    const wf_results_drift *d = a->r->drift;
    wf_drift_concept cc;
    wf_error err = {0};
    if (!d || wf_drift_concept_build(a, &cc, &err))
        return;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Drift");
    if (!ws) {
        wf_drift_concept_free(&cc);
        return;
    }
    int C = a->C;
    worksheet_set_column(ws, 0, 0, 18, NULL);
    worksheet_set_column(ws, 1, 12, 14, NULL);
    lxw_row_t r = 0;
    worksheet_write_string(ws, r++, 0, "Data and model drift", title);
    char buf[2048];
    snprintf(buf, sizeof buf, "Reference: %s (%lld reference windows). Periods: %s.", d->reference,
             (long long)d->n_ref_windows, d->period);
    worksheet_write_string(ws, r++, 0, buf, NULL);
    snprintf(buf, sizeof buf,
             "Rule (Evidently's default): a reference of at most %zu values uses the KS test "
             "(drift when p < %g), a larger one the normed Wasserstein distance (drift when >= "
             "%g). PSI with %d bins at the reference's quantiles.",
             d->settings.ks_max_ref, d->settings.ks_alpha, d->settings.wasserstein_threshold,
             d->settings.psi_bins);
    worksheet_write_string(ws, r++, 0, buf, NULL);
    r++;

    worksheet_write_string(ws, r++, 0, "Fleet-wide, per channel", title);
    const char *const h1[] = {"channel", FIG_HEADS};
    heads(ws, r++, h1, 9, head);
    for (int c = 0; c < C; c++, r++) {
        worksheet_write_string(ws, r, 0, wf_an_channel(a, c), NULL);
        figures(ws, r, 1, &d->fleet[c]);
    }
    r++;

    worksheet_write_string(ws, r++, 0, "Per turbine (against its own reference rows)", title);
    const char *const h2[] = {"turbine", "channel", FIG_HEADS};
    heads(ws, r++, h2, 10, head);
    for (int64_t t = 0; t < d->n_turbines; t++)
        for (int c = 0; c < C; c++, r++) {
            worksheet_write_string(ws, r, 0, d->turbine[t], NULL);
            worksheet_write_string(ws, r, 1, wf_an_channel(a, c), NULL);
            figures(ws, r, 2, &d->by_turbine[(size_t)t * (size_t)C + (size_t)c]);
        }
    r++;

    worksheet_write_string(ws, r++, 0, "Per period (current rows of the period)", title);
    const char *const h3[] = {"period", "channel", FIG_HEADS};
    heads(ws, r++, h3, 10, head);
    for (int64_t p = 0; p < d->n_periods; p++)
        for (int c = 0; c < C; c++, r++) {
            worksheet_write_string(ws, r, 0, d->period_label[p], NULL);
            worksheet_write_string(ws, r, 1, wf_an_channel(a, c), NULL);
            figures(ws, r, 2, &d->by_period[(size_t)p * (size_t)C + (size_t)c]);
        }
    r++;

    worksheet_write_string(ws, r++, 0, "Model signals per period", title);
    const char *const h4[] = {"period",      "start",      "windows",     "flagged",
                              "explained",   "precision",  "recall",      "score q0.05",
                              "score q0.25", "score q0.5", "score q0.75", "score q0.95"};
    heads(ws, r, h4, 12, head);
    for (int c = 0; c < C; c++) {
        snprintf(buf, sizeof buf, "mean |attr| %s", wf_an_channel(a, c));
        worksheet_write_string(ws, r, (lxw_col_t)(12 + c), buf, head);
    }
    worksheet_write_string(ws, r, (lxw_col_t)(12 + C), "unflagged explained", head);
    for (int c = 0; c < C; c++) {
        snprintf(buf, sizeof buf, "unflagged mean |attr| %s", wf_an_channel(a, c));
        worksheet_write_string(ws, r, (lxw_col_t)(13 + C + c), buf, head);
    }
    r++;
    for (int64_t p = 0; p < d->n_periods; p++, r++) {
        worksheet_write_string(ws, r, 0, d->period_label[p], NULL);
        worksheet_write_number(ws, r, 1, (double)d->period_start[p] / 86400.0 + 25569.0, date);
        worksheet_write_number(ws, r, 2, (double)cc.windows[p], NULL);
        worksheet_write_number(ws, r, 3, (double)cc.flagged[p], NULL);
        worksheet_write_number(ws, r, 4, (double)cc.explained[p], NULL);
        num(ws, r, 5, cc.precision[p]);
        num(ws, r, 6, cc.recall[p]);
        for (int k = 0; k < WF_DRIFT_NQ; k++)
            num(ws, r, (lxw_col_t)(7 + k), cc.score_q[(size_t)p * WF_DRIFT_NQ + (size_t)k]);
        for (int c = 0; c < C; c++)
            num(ws, r, (lxw_col_t)(12 + c), cc.attr[(size_t)p * (size_t)C + (size_t)c]);
        worksheet_write_number(ws, r, (lxw_col_t)(12 + C), (double)cc.sampled[p], NULL);
        for (int c = 0; c < C; c++)
            num(ws, r, (lxw_col_t)(13 + C + c),
                cc.attr_unflagged[(size_t)p * (size_t)C + (size_t)c]);
    }
    r++;

    worksheet_write_string(ws, r++, 0, "Explained windows against the reference", title);
    const char *const h5[] = {"turbine", "start", "outside the reference", "channels outside"};
    heads(ws, r, h5, 4, head);
    for (int c = 0; c < C; c++) {
        snprintf(buf, sizeof buf, "percentile %s", wf_an_channel(a, c));
        worksheet_write_string(ws, r, (lxw_col_t)(4 + c), buf, head);
        snprintf(buf, sizeof buf, "share outside %s", wf_an_channel(a, c));
        worksheet_write_string(ws, r, (lxw_col_t)(4 + C + c), buf, head);
    }
    r++;
    for (int64_t j = 0; j < d->n_windows; j++, r++) {
        const wf_window *w = &a->r->windows->w[d->window_index[j]];
        worksheet_write_string(ws, r, 0, w->turbine_id, NULL);
        worksheet_write_number(ws, r, 1, (double)w->start / 86400.0 + 25569.0, date);
        worksheet_write_string(ws, r, 2, d->outside[j] ? "yes" : "no", NULL);
        size_t used = 0;
        buf[0] = '\0';
        for (int c = 0; c < C; c++)
            if (d->channel_out[(size_t)j * (size_t)C + (size_t)c] && used + 80 < sizeof buf)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "",
                                         wf_an_channel(a, c));
        worksheet_write_string(ws, r, 3, buf, NULL);
        for (int c = 0; c < C; c++) {
            num(ws, r, (lxw_col_t)(4 + c), d->percentile[(size_t)j * (size_t)C + (size_t)c]);
            num(ws, r, (lxw_col_t)(4 + C + c), d->share_out[(size_t)j * (size_t)C + (size_t)c]);
        }
    }
    wf_drift_concept_free(&cc);
}
