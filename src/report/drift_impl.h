/*
 * Internal to src/report: the drift chapter (issue 16). The data-drift numbers come ready from
 * the audit (wf_results.drift); the concept-drift signals per period are computed here from the
 * windows, scores, labels and explanations (drift_concept.c), once, and printed by results.json
 * (results_drift.c), the workbook (xlsx_drift.c) and the PDF (pdf_drift.c).
 */
#ifndef WF_REPORT_DRIFT_IMPL_H
#define WF_REPORT_DRIFT_IMPL_H

#include <stdint.h>

#include "core/jw.h"
#include "report/report_impl.h"

#define WF_DRIFT_NQ 5 /* score quantiles per period: 0.05, 0.25, 0.5, 0.75, 0.95 */
extern const double wf_drift_score_q[WF_DRIFT_NQ];

typedef struct wf_drift_concept {
    int64_t n_periods;
    int C;
    int64_t *windows, *flagged, *explained;   /* (n_periods) */
    int64_t *labelled, *positives, *true_pos; /* windows with a label, label 1, flagged and 1 */
    double *precision, *recall;               /* (n_periods) NaN when undefined */
    double *score_q;                          /* (n_periods, WF_DRIFT_NQ) NaN when no window */
    double *attr;                             /* (n_periods, C) mean |attribution|, NaN if none */
    int64_t *sampled;                         /* (n_periods) unflagged windows explained */
    double *attr_unflagged;                   /* (n_periods, C) their mean |attribution| */
} wf_drift_concept;

/* From a wf_analysis of results with r->drift != NULL. */
wf_status wf_drift_concept_build(const wf_analysis *a, wf_drift_concept *out, wf_error *err);
void wf_drift_concept_free(wf_drift_concept *c);

/* results.json's "drift" object (key included); out of memory sets w->failed. */
void wf_results_json_drift(wf_jw *w, const wf_analysis *a);
/* "ks" / "wasserstein" / "none" */
const char *wf_drift_method_str(int method);

/* The per-window sentence: "vibration_rms is higher than anything in the reference period: the
 * model is extrapolating." into buf, for drift window j (index into r->drift arrays); "" when
 * the window is inside the reference. Returns buf. */
char *wf_drift_window_sentence(const wf_analysis *a, int64_t j, char *buf, size_t size);
/* Drift row j of the explained window with index wi, or -1. */
int64_t wf_drift_window_row(const wf_results_drift *d, int64_t wi);

/* Charts (charts_drift.c): a turbine x channel heat map of wasserstein_normed, and the normed
 * Wasserstein distance of every channel per period with the threshold. */
wf_status wf_chart_drift_heatmap(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                                 double h_pt, wf_png *out, wf_error *err);
wf_status wf_chart_drift_trend(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                               double h_pt, wf_png *out, wf_error *err);
/* The model's reliance per period (charts_reliance.c): mean |attribution| of every channel over
 * the explained (flagged) windows, solid, and over the seeded sample of unflagged windows,
 * dashed. */
wf_status wf_chart_drift_reliance(const wf_chart_ctx *cx, const wf_analysis *a,
                                  const wf_drift_concept *cc, double w_pt, double h_pt, wf_png *out,
                                  wf_error *err);

/* The PDF chapter (pdf_drift.c) is declared in pdf_impl.h's neighbour, pdf_drift.h. */

/* The workbook's Drift sheet (xlsx_drift.c); the libxlsxwriter types stay opaque here. */
struct lxw_workbook;
struct lxw_format;
void wf_xlsx_drift_sheet(struct lxw_workbook *wb, const wf_analysis *a, struct lxw_format *head,
                         struct lxw_format *title, struct lxw_format *date);

#endif
