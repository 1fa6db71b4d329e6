/*
 * The drift chapter's reliance chart (issue 16, item 4): per period, the mean |attribution| of
 * every channel over the explained (flagged) windows as solid lines with dots, and over the
 * seeded sample of unflagged windows as dashed lines, so that quiet periods have a line too and
 * a shift in what the model leans on shows as lines crossing.
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/charts_impl.h"
#include "report/drift_impl.h"

static const unsigned PAL[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                               0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
#define N_PAL (sizeof PAL / sizeof PAL[0])

static void rgb(cairo_t *cr, unsigned hex) {
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

wf_status wf_chart_drift_reliance(const wf_chart_ctx *cx, const wf_analysis *a,
                                  const wf_drift_concept *cc, double w_pt, double h_pt, wf_png *out,
                                  wf_error *err) {
    const wf_results_drift *d = a->r->drift;
    int C = a->C;
    int64_t np = cc->n_periods;
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double hi = 0;
    for (int64_t i = 0; i < np * C; i++) {
        if (isfinite(cc->attr[i]))
            hi = fmax(hi, cc->attr[i]);
        if (isfinite(cc->attr_unflagged[i]))
            hi = fmax(hi, cc->attr_unflagged[i]);
    }
    hi = hi > 0 ? hi * 1.08 : 1;
    double left = 48, right = 120, top = 14, bottom = 30;
    double x0 = left, x1 = w_pt - right, y0 = top, y1 = h_pt - bottom;
    wf_chartx_period_frame(&ch, x0, x1, y0, y1, hi, "mean |attribution|", d->period_label, np);
    double dash[] = {4, 3};
    for (int c = 0; c < C; c++) {
        rgb(cr, PAL[(size_t)c % N_PAL]);
        cairo_set_line_width(cr, 1.4);
        wf_chartx_period_line(&ch, cc->attr + c, (size_t)C, np, x0, x1, y0, y1, hi, 2.0);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1.0);
        wf_chartx_period_line(&ch, cc->attr_unflagged + c, (size_t)C, np, x0, x1, y0, y1, hi, 0);
        cairo_set_dash(cr, NULL, 0, 0);
        double ly = y0 + 6 + c * 11;
        cairo_rectangle(cr, x1 + 10, ly - 3, 10, 6);
        cairo_fill(cr);
        rgb(cr, 0x222222);
        wf_chartx_text(&ch, x1 + 24, ly, wf_an_channel(a, c), 7.5, 0, 1, 0, 0);
    }
    rgb(cr, 0x222222);
    cairo_set_line_width(cr, 1.2);
    double ly = y0 + 14 + C * 11;
    cairo_move_to(cr, x1 + 10, ly);
    cairo_line_to(cr, x1 + 22, ly);
    cairo_stroke(cr);
    wf_chartx_text(&ch, x1 + 26, ly, "flagged", 7.5, 0, 1, 0, 0);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, x1 + 10, ly + 11);
    cairo_line_to(cr, x1 + 22, ly + 11);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    (void)d;
    wf_chartx_text(&ch, x1 + 26, ly + 11, "unflagged sample", 7.5, 0, 1, 0, 0);
    rgb(cr, 0x333333);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x0, y1);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
    return wf_chartx_end(&ch, out, err);
}
