/*
 * The attributions of every explained alarm window, channel by channel (issue 14): one row per
 * channel (sorted by mean |attribution|), a strip per outcome group (true alarms above false
 * alarms), each window a dot jittered within its strip (deterministically: the same run draws
 * the same chart) over a box from the first to the third quartile with the median as a line
 * and whiskers to the smallest and largest value. cairo, through charts_impl.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/charts_impl.h"
#include "report/time_impl.h"
#include "report/turbine_impl.h"

static void col(cairo_t *cr, unsigned hex, double alpha) {
    cairo_set_source_rgba(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                          (hex & 255) / 255.0, alpha);
}

/* Colour-blind safe pair (Okabe-Ito vermilion and blue), grey for "no failure log". */
static const unsigned group_col[WF_AD_GROUPS] = {0xD55E00, 0x0072B2, 0x555555};
static const char *const group_name[WF_AD_GROUPS] = {"true alarms", "false alarms",
                                                     "alarms (no failure log)"};

/* A fraction in [-1, 1) from (channel, group, window): splitmix64 of the three. */
static double jitter(int c, int g, int64_t i) {
    uint64_t z = ((uint64_t)c << 48) ^ ((uint64_t)g << 40) ^ (uint64_t)i;
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 4503599627370496.0 - 1.0; /* 2^52 */
}

wf_status wf_chart_attr_dist(const wf_chart_ctx *cx, const wf_analysis *a, const wf_attr_dist *d,
                             double w_pt, double h_pt, wf_png *out, wf_error *err) {
    int C = d->C, groups[WF_AD_GROUPS], ng = 0;
    for (int g = 0; g < WF_AD_GROUPS; g++)
        if (d->n[g] > 0)
            groups[ng++] = g;
    if (ng == 0 || C == 0)
        return wf_error_set(err, WF_ERR_INVALID, "chart: no explained alarm window to draw");
    double lo = 0, hi = 0;
    for (int k = 0; k < ng; k++)
        for (int c = 0; c < C; c++) {
            lo = fmin(lo, d->stats[groups[k]][c].lo);
            hi = fmax(hi, d->stats[groups[k]][c].hi);
        }
    if (!(hi > lo))
        hi = lo + 1;
    double pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double lw = 0;
    for (int c = 0; c < C; c++)
        lw = fmax(lw, wf_chartx_text_w(&ch, wf_an_channel(a, c), 8, 0));
    double x0 = 10 + lw + 8, x1 = w_pt - 14, yt = 30, yb = h_pt - 34;
    double rh = (yb - yt) / C, sh = rh * 0.84 / ng; /* row and strip heights */
#define X(v) (x0 + ((v)-lo) / (hi - lo) * (x1 - x0))
    /* grid, ticks and the zero line */
    double step = wf_chartx_nice_step(hi - lo, 6);
    char buf[64];
    cairo_set_line_width(cr, 0.5);
    for (double v = ceil(lo / step) * step; v <= hi + 1e-12; v += step) {
        col(cr, 0xdddddd, 1);
        cairo_move_to(cr, X(v), yt);
        cairo_line_to(cr, X(v), yb);
        cairo_stroke(cr);
        col(cr, 0x444444, 1);
        wf_report_fmt_num(cx->words, buf, sizeof buf, fabs(v) < step * 1e-9 ? 0 : v,
                          step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9));
        wf_chartx_text(&ch, X(v), yb + 10, buf, 7, 0.5, 0, 0, 0);
    }
    wf_chartx_text(&ch, (x0 + x1) / 2, yb + 24,
                   "attribution of the channel to the window's score (score units)", 8, 0.5, 0, 0,
                   0);
    for (int r = 0; r < C; r++) {
        int c = d->order[r];
        double ry = yt + r * rh;
        if (r % 2 == 1) {
            col(cr, 0xf3f5f8, 1);
            cairo_rectangle(cr, x0, ry, x1 - x0, rh);
            cairo_fill(cr);
        }
        col(cr, 0x222222, 1);
        wf_chartx_text(&ch, x0 - 6, ry + rh / 2, wf_an_channel(a, c), 8, 1, 1, 0, 0);
        for (int k = 0; k < ng; k++) {
            int g = groups[k];
            double sy = ry + rh * 0.08 + k * sh, mid = sy + sh / 2;
            const wf_attr_stats *s = &d->stats[g][c];
            /* whisker, box, median */
            col(cr, group_col[g], 0.9);
            cairo_set_line_width(cr, 0.7);
            cairo_move_to(cr, X(s->lo), mid);
            cairo_line_to(cr, X(s->hi), mid);
            cairo_stroke(cr);
            col(cr, group_col[g], 0.18);
            cairo_rectangle(cr, X(s->q1), sy + sh * 0.12, fmax(X(s->q3) - X(s->q1), 0.8),
                            sh * 0.76);
            cairo_fill_preserve(cr);
            col(cr, group_col[g], 0.9);
            cairo_stroke(cr);
            cairo_set_line_width(cr, 1.6);
            cairo_move_to(cr, X(s->median), sy + sh * 0.08);
            cairo_line_to(cr, X(s->median), sy + sh * 0.92);
            cairo_stroke(cr);
            /* the windows */
            const double *v = d->vals[g] + (size_t)c * (size_t)d->n[g];
            double rad = d->n[g] > 400 ? 0.8 : d->n[g] > 100 ? 1.1 : 1.5;
            col(cr, group_col[g], d->n[g] > 400 ? 0.35 : 0.6);
            for (int64_t i = 0; i < d->n[g]; i++) {
                cairo_arc(cr, X(v[i]), mid + jitter(c, g, i) * sh * 0.36, rad, 0,
                          6.283185307179586);
                cairo_fill(cr);
            }
        }
    }
    col(cr, 0x333333, 1);
    cairo_set_line_width(cr, 0.9);
    cairo_move_to(cr, X(0), yt);
    cairo_line_to(cr, X(0), yb);
    cairo_stroke(cr);
    col(cr, 0x888888, 1);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x0, yt, x1 - x0, yb - yt);
    cairo_stroke(cr);
#undef X
    /* legend */
    double lx = x0;
    for (int k = 0; k < ng; k++) {
        int g = groups[k];
        col(cr, group_col[g], 0.8);
        cairo_arc(cr, lx + 4, 11, 2.5, 0, 6.283185307179586);
        cairo_fill(cr);
        snprintf(buf, sizeof buf, "%s (%lld windows)", group_name[g], (long long)d->n[g]);
        col(cr, 0x222222, 1);
        wf_chartx_text(&ch, lx + 10, 11, buf, 7.5, 0, 1, 0, 0);
        lx += 10 + wf_chartx_text_w(&ch, buf, 7.5, 0) + 14;
    }
    col(cr, 0x555555, 1);
    wf_chartx_text(&ch, x0, 22,
                   "dots: windows; box: first to third quartile; bar: median; whiskers: smallest "
                   "to largest",
                   7, 0, 1, 0, 0);
    return wf_chartx_end(&ch, out, err);
}
