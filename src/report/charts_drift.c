/*
 * The drift chapter's charts (issue 16): a turbine x channel heat map of the normed Wasserstein
 * distance (each turbine's current rows against its own reference rows), and the distance of
 * every channel per period against the fleet reference, with the drift threshold dashed.
 */
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "report/charts_impl.h"
#include "report/drift_impl.h"

static void rgb(cairo_t *cr, unsigned hex) {
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

/* White at 0, amber at the threshold, dark red at 3x the threshold and above. */
static void heat(cairo_t *cr, double v, double thr) {
    double t = fmin(fmax(v / (3 * thr), 0), 1);
    double r, g, b;
    if (t < 1.0 / 3) {
        double u = t * 3;
        r = 1;
        g = 1 - 0.25 * u;
        b = 1 - 0.75 * u;
    } else {
        double u = (t - 1.0 / 3) * 1.5;
        r = 1 - 0.35 * u;
        g = 0.75 - 0.65 * u;
        b = 0.25 - 0.15 * u;
    }
    cairo_set_source_rgb(cr, r, g, b);
}

wf_status wf_chart_drift_heatmap(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                                 double h_pt, wf_png *out, wf_error *err) {
    const wf_results_drift *d = a->r->drift;
    int C = a->C;
    int64_t nt = d->n_turbines;
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double thr = d->settings.wasserstein_threshold;
    double left = 60, top = 70, right = 50, bottom = 40;
    double cw = (w_pt - left - right) / (C > 0 ? C : 1);
    double rh = (h_pt - top - bottom) / (double)(nt > 0 ? nt : 1);
    rgb(cr, 0x222222);
    for (int c = 0; c < C; c++)
        wf_chartx_text(&ch, left + (c + 0.5) * cw, top - 6, wf_an_channel(a, c), 7.5, 0, 1, 0, 0.6);
    for (int64_t t = 0; t < nt; t++) {
        rgb(cr, 0x222222);
        wf_chartx_text(&ch, left - 6, top + (t + 0.5) * rh, d->turbine[t], 8, 1, 1, 0, 0);
        for (int c = 0; c < C; c++) {
            const wf_drift_channel *x = &d->by_turbine[(size_t)t * (size_t)C + (size_t)c];
            double x0 = left + c * cw, y0 = top + t * rh;
            if (x->evaluated && isfinite(x->wasserstein_normed))
                heat(cr, x->wasserstein_normed, thr);
            else
                rgb(cr, 0xcccccc);
            cairo_rectangle(cr, x0, y0, cw, rh);
            cairo_fill(cr);
            rgb(cr, 0xffffff);
            cairo_set_line_width(cr, 0.8);
            cairo_rectangle(cr, x0, y0, cw, rh);
            cairo_stroke(cr);
            char buf[32];
            if (x->evaluated && isfinite(x->wasserstein_normed))
                snprintf(buf, sizeof buf, "%.2f", x->wasserstein_normed);
            else
                snprintf(buf, sizeof buf, "n/a");
            double v = x->wasserstein_normed;
            rgb(cr, isfinite(v) && v > 1.6 * thr ? 0xffffff : 0x222222);
            if (rh >= 7)
                wf_chartx_text(&ch, x0 + cw / 2, y0 + rh / 2, buf, fmin(7.5, rh * 0.7), 0.5, 1,
                               x->drifted, 0);
        }
    }
    /* legend */
    double ly = h_pt - 26, lx = left;
    rgb(cr, 0x222222);
    wf_chartx_text(&ch, lx, ly, "normed Wasserstein distance:", 7.5, 0, 1, 0, 0);
    lx += wf_chartx_text_w(&ch, "normed Wasserstein distance:", 7.5, 0) + 6;
    for (int k = 0; k <= 30; k++) {
        heat(cr, 3 * thr * k / 30.0, thr);
        cairo_rectangle(cr, lx + k * 4, ly - 5, 4.2, 10);
        cairo_fill(cr);
    }
    rgb(cr, 0x222222);
    char b0[48], b1[48];
    snprintf(b0, sizeof b0, "0");
    wf_chartx_text(&ch, lx, ly + 11, b0, 6.5, 0.5, 1, 0, 0);
    snprintf(b1, sizeof b1, "%g (threshold)", thr);
    wf_chartx_text(&ch, lx + 40, ly + 11, b1, 6.5, 0.5, 1, 0, 0);
    snprintf(b1, sizeof b1, "%g+", 3 * thr);
    wf_chartx_text(&ch, lx + 120, ly + 11, b1, 6.5, 0.5, 1, 0, 0);
    wf_chartx_text(&ch, left, ly + 22,
                   "bold: drifted (Evidently's rule); grey: not evaluated (no reference or "
                   "current rows)",
                   7.5, 0, 1, 0, 0);
    return wf_chartx_end(&ch, out, err);
}

static const unsigned PALETTE[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])

wf_status wf_chart_drift_trend(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                               double h_pt, wf_png *out, wf_error *err) {
    const wf_results_drift *d = a->r->drift;
    int C = a->C;
    int64_t np = d->n_periods;
    double *col = malloc(sizeof(double) * (size_t)(np > 0 ? np : 1)); /* one channel's line */
    if (!col)
        return wf_error_set(err, WF_ERR_NOMEM, "chart: out of memory");
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st) {
        free(col);
        return st;
    }
    cairo_t *cr = ch.cr;
    double thr = d->settings.wasserstein_threshold;
    double hi = 2 * thr;
    for (int64_t i = 0; i < np * C; i++)
        if (d->by_period[i].evaluated && isfinite(d->by_period[i].wasserstein_normed))
            hi = fmax(hi, d->by_period[i].wasserstein_normed);
    hi *= 1.08;
    double left = 42, right = 120, top = 14, bottom = 30;
    double x0 = left, x1 = w_pt - right, y0 = top, y1 = h_pt - bottom;
    wf_chartx_period_frame(&ch, x0, x1, y0, y1, hi, "normed Wasserstein", d->period_label, np);
    /* threshold */
    double ty = y1 - thr / hi * (y1 - y0);
    double dash[] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    rgb(cr, 0xc0392b);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, x0, ty);
    cairo_line_to(cr, x1, ty);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    /* one line per channel, broken where a period was not evaluated */
    for (int c = 0; c < C; c++) {
        rgb(cr, PALETTE[(size_t)c % N_PALETTE]);
        cairo_set_line_width(cr, 1.4);
        for (int64_t p = 0; p < np; p++) { /* NaN where a period was not evaluated */
            const wf_drift_channel *x = &d->by_period[(size_t)p * (size_t)C + (size_t)c];
            col[p] = x->evaluated ? x->wasserstein_normed : NAN;
        }
        wf_chartx_period_line(&ch, col, 1, np, x0, x1, y0, y1, hi, 2.2);
        double ly = y0 + 6 + c * 11;
        cairo_rectangle(cr, x1 + 10, ly - 3, 10, 6);
        cairo_fill(cr);
        rgb(cr, 0x222222);
        wf_chartx_text(&ch, x1 + 24, ly, wf_an_channel(a, c), 7.5, 0, 1, 0, 0);
    }
    rgb(cr, 0xc0392b);
    char buf[64];
    snprintf(buf, sizeof buf, "threshold %g", thr);
    wf_chartx_text(&ch, x1 + 10, y0 + 12 + C * 11, buf, 7.5, 0, 1, 0, 0);
    rgb(cr, 0x333333);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x0, y1);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
    free(col);
    return wf_chartx_end(&ch, out, err);
}
