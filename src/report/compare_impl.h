/*
 * Internal to src/report: the model comparison chapter (issue 15). The models' scores, flags and
 * the explanations of their disagreements come ready from the audit (wf_results.compare); the
 * paired statistics and each model's alarm episodes and outcomes are computed here, once, with
 * the analysis the report uses for A (analysis.c), and printed by results.json
 * (results_compare.c), the workbook (xlsx_compare.c) and the PDF (pdf_compare.c).
 */
#ifndef WF_REPORT_COMPARE_IMPL_H
#define WF_REPORT_COMPARE_IMPL_H

#include <stdint.h>

#include "core/jw.h"
#include "report/report_impl.h"

#define WF_CMP_NQ 7 /* quantiles of score_a - score_b: 0.01 0.05 0.25 0.5 0.75 0.95 0.99 */
extern const double wf_cmp_q[WF_CMP_NQ];

/* ---- statistics (compare_stats.c), plain functions over counts ---- */

/* Cohen's kappa of two raters' yes/no over n = both + only_a + only_b + neither items; NaN when
 * the chance agreement is 1 (both raters constant). */
double wf_cmp_kappa(int64_t both, int64_t only_a, int64_t only_b, int64_t neither);
/* Exact two-sided McNemar p-value: P of a result as extreme as min(b, c) under Binomial(b + c,
 * 1/2), doubled and capped at 1 (1 when b + c = 0). */
double wf_cmp_mcnemar_p(int64_t b, int64_t c);
/* Quantile q of sorted x (n > 0) by linear interpolation between order statistics (numpy's
 * default, Hyndman-Fan type 7). */
double wf_cmp_quantile(const double *sorted, int64_t n, double q);

/* Per-turbine counts of one model's alarms and failures. */
typedef struct wf_cmp_counts {
    int64_t tp, fp;       /* true and false alarm episodes */
    int64_t fail, caught; /* failures, of them caught */
} wf_cmp_counts;

/* Percentile bootstrap (2.5%, 97.5%) of precision = sum tp / sum (tp + fp) and recall = sum
 * caught / sum fail over nt turbines resampled with replacement, `resamples` times, from RNG
 * stream (seed, "compare"); the same draws for the two models x and y (paired). Replicates where
 * a ratio is undefined are left out. lo/hi [0] precision, [1] recall; NaN when no replicate. */
void wf_cmp_bootstrap(const wf_cmp_counts *x, const wf_cmp_counts *y, int64_t nt, int resamples,
                      uint64_t seed, double *x_lo, double *x_hi, double *y_lo, double *y_hi);

/* ---- the chapter's numbers ---- */

typedef struct wf_cmp_outcomes {
    int64_t turbines, flagged, episodes, true_alarms, false_alarms, failures, caught, missed;
    double median_lead_hours; /* NaN when no true alarm */
    double precision, recall; /* NaN when undefined */
    double precision_lo, precision_hi, recall_lo, recall_hi;
} wf_cmp_outcomes;

typedef struct wf_cmp {
    const wf_results_compare *c;
    int64_t n, both, only_a, only_b, neither;
    double kappa;
    double diff_mean, diff_max_abs, diff_q[WF_CMP_NQ];
    int64_t labelled, mc_b, mc_c;
    double mc_p;
    wf_cmp_outcomes a, b; /* every turbine, each model */
    int has_arms;
    wf_cmp_outcomes arm_a, arm_b; /* A on the turbines that ran A, B on those that ran B */
    wf_analysis an_b;             /* the analysis of B's flags (episodes, outcomes) */
    int have_an_b;
    /* explanations */
    int64_t n_dis_explained, n_both_explained;
    double both_spearman, both_sign, both_topk; /* means over explained both-flag windows */
    int64_t both_top_same;
    int fidelity; /* relation teacher/student: the student's fidelity to the teacher */
    int64_t fid_n;
    double fid_top_agree, fid_spearman, fid_max_abs_diff;
} wf_cmp;

wf_status wf_cmp_build(const wf_analysis *a, wf_cmp *out, wf_error *err);
void wf_cmp_free(wf_cmp *c);
/* "only A", "only B", "both" */
const char *wf_cmp_kind_str(int kind);

/* results.json's "comparison" object (key included). */
void wf_results_json_compare(wf_jw *w, const wf_analysis *a, const wf_cmp *c);

/* Chart (charts_compare.c): score A vs score B per window with both thresholds. */
wf_status wf_chart_compare_scatter(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                                   double h_pt, wf_png *out, wf_error *err);
/* Waterfall of the difference game's values of explained window j (base -> f_A - f_B). */
wf_status wf_chart_compare_waterfall(const wf_chart_ctx *cx, const wf_analysis *a, int64_t j,
                                     double w_pt, double h_pt, wf_png *out, wf_error *err);

/* The workbook's Comparison sheet (xlsx_compare.c); the libxlsxwriter types stay opaque. */
struct lxw_workbook;
struct lxw_format;
void wf_xlsx_compare_sheet(struct lxw_workbook *wb, const wf_analysis *a, const wf_cmp *c,
                           struct lxw_format *head, struct lxw_format *title,
                           struct lxw_format *date);

#endif
