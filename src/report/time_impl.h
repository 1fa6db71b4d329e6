/*
 * Internal to src/report (issue 14, "time context"): the fleet-wide distribution of the channel
 * attributions over every explained alarm window, split by outcome (attr_dist.c, drawn by
 * charts_dist.c), the fleet PDF's "Score timelines" and "Attributions across alarms" chapters
 * (pdf_fleet_time.c) and the workbook's native score-timeline chart on each flagged turbine's
 * sheet (xlsx_timeline.c). libharu, cairo and libxlsxwriter types stay opaque here.
 */
#ifndef WF_REPORT_TIME_IMPL_H
#define WF_REPORT_TIME_IMPL_H

#include <stdint.h>

#include "core/jw.h"
#include "report/report_impl.h"

/* ---------------------------------------------------------------- attribution distribution */

/* Groups of alarm windows by the outcome of their episode. */
enum {
    WF_AD_TRUE = 0,    /* true and repeat alarms: a failure followed within the horizon */
    WF_AD_FALSE = 1,   /* false alarms: no failure followed */
    WF_AD_UNKNOWN = 2, /* no failure log */
    WF_AD_GROUPS = 3
};

typedef struct wf_attr_stats {
    double median, q1, q3, lo, hi, mean; /* NaN when the group is empty */
} wf_attr_stats;

/* Every explained window that lies in an alarm episode and has per-channel attributions
 * (wf_an_channel_attr: KernelSHAP channel values, else IG channel sums, else TreeSHAP). */
typedef struct wf_attr_dist {
    int C;
    int64_t n[WF_AD_GROUPS];            /* windows per group */
    int64_t n_episodes[WF_AD_GROUPS];   /* episodes with at least one such window */
    double *vals[WF_AD_GROUPS];         /* (C, n[g]) per channel, ascending */
    wf_attr_stats *stats[WF_AD_GROUPS]; /* (C) */
    double *mean_abs;                   /* (C) mean |attribution| over all groups' windows */
    int *order;                         /* (C) channels by mean_abs, largest first */
    int64_t n_kshap, n_ig, n_tree;      /* windows by the attribution used */
    int64_t n_outside;                  /* explained windows in no episode (not shown) */
} wf_attr_dist;

/* Build (vals, stats, order owned; wf_attr_dist_free). An analysis without such windows gives
 * all n = 0 (not an error). */
wf_status wf_attr_dist_build(const wf_analysis *a, wf_attr_dist *d, wf_error *err);
void wf_attr_dist_free(wf_attr_dist *d);
/* Quantile q of n ascending values, linear between order statistics (numpy's default):
 * position q (n - 1). NaN for n = 0. */
double wf_attr_quantile(const double *sorted, int64_t n, double q);
/* "KernelSHAP channel values", "Integrated Gradients channel sums", ... (what the windows used;
 * "mixed: ..." when they differ). buf >= 160. */
const char *wf_attr_dist_kind(const wf_attr_dist *d, char *buf, size_t n);
/* results.json's "attribution_distribution" (key included). */
void wf_results_json_attr_dist(wf_jw *w, const wf_analysis *a);

/* Strips per channel (rows in d->order): each window's attribution as a dot, jittered
 * deterministically within its strip, over a box (quartiles, median line, whiskers to min and
 * max); true alarms above false alarms in each row. */
wf_status wf_chart_attr_dist(const wf_chart_ctx *cx, const wf_analysis *a, const wf_attr_dist *d,
                             double w_pt, double h_pt, wf_png *out, wf_error *err);

/* ---------------------------------------------------------------- fleet PDF chapters */

struct pdf_ctx;
/* "Score timelines": every flagged turbine's score timeline (wf_chart_timeline), four to a page,
 * at most WF_TIMELINES_MAX turbines (the highest scores; the rest named). After [summary]. */
#define WF_TIMELINES_MAX 32
wf_status pdf_sec_timelines(struct pdf_ctx *p, wf_error *err);
/* "Attributions across alarms": the distribution chart and its table of medians. After
 * [review]. Nothing when no explained window lies in an episode. */
wf_status pdf_sec_attr_dist(struct pdf_ctx *p, wf_error *err);

/* ---------------------------------------------------------------- workbook */

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;
/* The native score-timeline chart of turbine ti on its sheet ws (named sheet): its data (window
 * end, score, flagged score, threshold, failures, episodes) written from row `row` down (below
 * everything else on the sheet, so constant-memory mode keeps it), the chart placed at row 1
 * beside the contribution chart. Returns the next free row. */
int wf_xlsx_turbine_timeline(struct lxw_workbook *wb, struct lxw_worksheet *ws, const char *sheet,
                             const wf_analysis *a, int ti, int row, struct lxw_format *head,
                             struct lxw_format *bold, struct lxw_format *date,
                             struct lxw_format *score);
/* Row height (points) for text wrapped in a column `width` characters wide (Calibri 11). */
double wf_xlsx_wrap_height(const char *text, double width);

#endif
