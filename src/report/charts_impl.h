/*
 * Internal to the report's charts: the drawing surface shared by charts.c and the drift charts
 * (charts_drift.c). cairo types stay inside src/report.
 */
#ifndef WF_REPORT_CHARTS_IMPL_H
#define WF_REPORT_CHARTS_IMPL_H

#include <cairo.h>

#include "report/report_impl.h"

typedef struct chart {
    cairo_surface_t *surf;
    cairo_t *cr;
    cairo_font_face_t *font, *bold;
    double w, h;                         /* points */
    const struct wf_report_words *words; /* numbers in its decimal mark (issue 19) */
} chart;

/* A white w_pt x h_pt chart at cx->dpi with the fonts loaded; wf_chartx_end encodes it as PNG
 * and frees it. */
wf_status wf_chartx_begin(chart *ch, const wf_chart_ctx *cx, double w_pt, double h_pt,
                          wf_error *err);
wf_status wf_chartx_end(chart *ch, wf_png *out, wf_error *err);
/* Text anchored at (x, y): ax 0 left / 0.5 centre / 1 right; mid: vertically centred on y;
 * angle in radians. */
void wf_chartx_text(chart *ch, double x, double y, const char *s, double size, double ax, int mid,
                    int bold, double angle);
double wf_chartx_text_w(chart *ch, const char *s, double size, int bold);
/* Tick step of 1, 2, 2.5 or 5 x 10^k giving about n ticks over range (1 if range is not > 0). */
double wf_chartx_nice_step(double range, int n);
/* The frame of a per-period trend chart over the plot x0..x1, y0 (top)..y1: the grid from 0 to
 * hi in about 5 labelled steps, y_title written upwards at the left, the np period labels under
 * the plot (at most 26, evenly thinned). Period p sits at wf_chartx_period_x. */
void wf_chartx_period_frame(chart *ch, double x0, double x1, double y0, double y1, double hi,
                            const char *y_title, const char (*labels)[16], int64_t np);
double wf_chartx_period_x(double x0, double x1, int64_t p, int64_t np);
/* One series over the periods of such a chart, v[p * stride] for p < np, in the current colour
 * and line width; broken where a value is not finite; dots of radius dot_r (0: none). */
void wf_chartx_period_line(chart *ch, const double *v, size_t stride, int64_t np, double x0,
                           double x1, double y0, double y1, double hi, double dot_r);

#endif
