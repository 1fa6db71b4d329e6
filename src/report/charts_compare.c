/*
 * The model comparison's charts (issue 15): score of A against score of B for every window with
 * both thresholds (the quadrants are the agreement table), and the waterfall of the difference
 * game of one window (E f_A - E f_B over the background, each player's share, f_A(x) - f_B(x)).
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/charts_impl.h"
#include "report/compare_impl.h"

#define PI 3.14159265358979323846

static void rgb(cairo_t *cr, unsigned hex) {
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

wf_status wf_chart_compare_scatter(const wf_chart_ctx *cx, const wf_analysis *a, double w_pt,
                                   double h_pt, wf_png *out, wf_error *err) {
    const wf_results *r = a->r;
    const wf_results_compare *c = r->compare;
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double left = 50, right = 150, top = 14, bottom = 38;
    double side = fmin(w_pt - left - right, h_pt - top - bottom);
    double x0 = left, y0 = top + side; /* origin (score 0, 0) */
    /* scores outside [0, 1] (a logit output) are drawn on the range of both */
    double lo = 0, hi = 1;
    for (int64_t i = 0; i < r->windows->n; i++) {
        lo = fmin(lo, fmin(r->scores[i], c->scores_b[i]));
        hi = fmax(hi, fmax(r->scores[i], c->scores_b[i]));
    }
#define SX(v) (x0 + ((v)-lo) / (hi - lo) * side)
#define SY(v) (y0 - ((v)-lo) / (hi - lo) * side)
    rgb(cr, 0xf4f4f4);
    cairo_rectangle(cr, x0, top, side, side);
    cairo_fill(cr);
    rgb(cr, 0x999999);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x0, top, side, side);
    cairo_stroke(cr);
    /* the diagonal */
    rgb(cr, 0xbbbbbb);
    cairo_move_to(cr, SX(lo), SY(lo));
    cairo_line_to(cr, SX(hi), SY(hi));
    cairo_stroke(cr);
    /* ticks */
    rgb(cr, 0x222222);
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4.0;
        char b[32];
        snprintf(b, sizeof b, "%.2f", v);
        wf_chartx_text(&ch, SX(v), y0 + 9, b, 7, 0.5, 1, 0, 0);
        wf_chartx_text(&ch, x0 - 4, SY(v), b, 7, 1, 1, 0, 0);
    }
    char lab[300];
    snprintf(lab, sizeof lab, "score of A (%s)", c->a.name);
    wf_chartx_text(&ch, x0 + side / 2, y0 + 24, lab, 8, 0.5, 1, 1, 0);
    snprintf(lab, sizeof lab, "score of B (%s)", c->b.name);
    wf_chartx_text(&ch, 12, top + side / 2, lab, 8, 0.5, 1, 1, -PI / 2);
    /* thresholds */
    double dash[] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_line_width(cr, 1);
    rgb(cr, 0x1f77b4);
    cairo_move_to(cr, SX(c->a.threshold), top);
    cairo_line_to(cr, SX(c->a.threshold), y0);
    cairo_stroke(cr);
    rgb(cr, 0xff7f0e);
    cairo_move_to(cr, x0, SY(c->b.threshold));
    cairo_line_to(cr, x0 + side, SY(c->b.threshold));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    /* points: agreement grey, disagreement red (drawn last, on top) */
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < r->windows->n; i++) {
            int dis = r->flagged[i] != c->flagged_b[i];
            if (dis != pass)
                continue;
            rgb(cr, dis ? 0xd62728 : (r->flagged[i] ? 0x555555 : 0x9a9a9a));
            cairo_arc(cr, SX(r->scores[i]), SY(c->scores_b[i]), dis ? 3.0 : 1.6, 0, 2 * PI);
            cairo_fill(cr);
        }
    /* legend */
    double lx = x0 + side + 14, ly = top + 10;
    struct {
        unsigned col;
        const char *txt;
        int line;
    } L[] = {{0x1f77b4, "threshold of A", 1},
             {0xff7f0e, "threshold of B", 1},
             {0x555555, "both flag", 0},
             {0x9a9a9a, "neither flags", 0},
             {0xd62728, "one flags, one not", 0}};
    for (size_t k = 0; k < sizeof L / sizeof L[0]; k++) {
        rgb(cr, L[k].col);
        if (L[k].line) {
            cairo_set_dash(cr, dash, 2, 0);
            cairo_move_to(cr, lx, ly);
            cairo_line_to(cr, lx + 14, ly);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        } else {
            cairo_arc(cr, lx + 7, ly, 2.6, 0, 2 * PI);
            cairo_fill(cr);
        }
        rgb(cr, 0x222222);
        wf_chartx_text(&ch, lx + 20, ly, L[k].txt, 7.5, 0, 1, 0, 0);
        ly += 14;
    }
#undef SX
#undef SY
    return wf_chartx_end(&ch, out, err);
}

wf_status wf_chart_compare_waterfall(const wf_chart_ctx *cx, const wf_analysis *a, int64_t j,
                                     double w_pt, double h_pt, wf_png *out, wf_error *err) {
    const wf_results_compare *c = a->r->compare;
    const wf_compare_window *x = &c->win[j];
    int M = x->M;
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    int ord[64], n = M < 64 ? M : 64;
    for (int p = 0; p < n; p++)
        ord[p] = p;
    for (int i = 1; i < n; i++) { /* by |value|, largest first */
        int v = ord[i], k = i - 1;
        while (k >= 0 && fabs(x->phi_diff[ord[k]]) < fabs(x->phi_diff[v])) {
            ord[k + 1] = ord[k];
            k--;
        }
        ord[k + 1] = v;
    }
    double left = 110, right = 60, top = 8, bottom = 26;
    double rh = (h_pt - top - bottom) / (n + 2);
    /* range of the running sum */
    double s = x->base_diff, lo = fmin(s, x->fx_diff), hi = fmax(s, x->fx_diff);
    for (int k = 0; k < n; k++) {
        s += x->phi_diff[ord[k]];
        lo = fmin(lo, s);
        hi = fmax(hi, s);
    }
    lo = fmin(lo, 0);
    hi = fmax(hi, 0);
    double pad = (hi - lo) * 0.08 + 1e-12;
    lo -= pad;
    hi += pad;
    double pw = w_pt - left - right;
#define PX(v) (left + ((v)-lo) / (hi - lo) * pw)
    rgb(cr, 0xbbbbbb);
    cairo_set_line_width(cr, 0.6);
    cairo_move_to(cr, PX(0), top);
    cairo_line_to(cr, PX(0), h_pt - bottom);
    cairo_stroke(cr);
    char b[96];
    rgb(cr, 0x222222);
    snprintf(b, sizeof b, "E f_A - E f_B = %+.4f", x->base_diff);
    wf_chartx_text(&ch, left - 6, top + rh * 0.5, "background", 7.5, 1, 1, 0, 0);
    rgb(cr, 0x7f7f7f);
    cairo_rectangle(cr, PX(fmin(0, x->base_diff)), top + rh * 0.15, fabs(PX(x->base_diff) - PX(0)),
                    rh * 0.7);
    cairo_fill(cr);
    rgb(cr, 0x222222);
    wf_chartx_text(&ch, PX(fmax(0, x->base_diff)) + 4, top + rh * 0.5, b, 7, 0, 1, 0, 0);
    s = x->base_diff;
    for (int k = 0; k < n; k++) {
        double v = x->phi_diff[ord[k]], y = top + rh * (k + 1);
        rgb(cr, 0x222222);
        wf_chartx_text(&ch, left - 6, y + rh * 0.5, c->players[ord[k]], 7.5, 1, 1, 0, 0);
        rgb(cr, v >= 0 ? 0x1f77b4 : 0xff7f0e); /* pushes A above B / B above A */
        cairo_rectangle(cr, PX(fmin(s, s + v)), y + rh * 0.15, fmax(fabs(PX(s + v) - PX(s)), 0.8),
                        rh * 0.7);
        cairo_fill(cr);
        rgb(cr, 0x222222);
        snprintf(b, sizeof b, "%+.4f", v);
        wf_chartx_text(&ch, PX(fmax(s, s + v)) + 4, y + rh * 0.5, b, 7, 0, 1, 0, 0);
        s += v;
    }
    double y = top + rh * (n + 1);
    rgb(cr, 0x222222);
    wf_chartx_text(&ch, left - 6, y + rh * 0.5, "f_A(x) - f_B(x)", 7.5, 1, 1, 1, 0);
    rgb(cr, 0x333333);
    cairo_rectangle(cr, PX(fmin(0, x->fx_diff)), y + rh * 0.15, fabs(PX(x->fx_diff) - PX(0)),
                    rh * 0.7);
    cairo_fill(cr);
    snprintf(b, sizeof b, "%+.4f", x->fx_diff);
    rgb(cr, 0x222222);
    wf_chartx_text(&ch, PX(fmax(0, x->fx_diff)) + 4, y + rh * 0.5, b, 7, 0, 1, 1, 0);
    wf_chartx_text(&ch, left, h_pt - 10,
                   "blue: the player raises A's score relative to B's; orange: lowers it", 7, 0, 1,
                   0, 0);
#undef PX
    return wf_chartx_end(&ch, out, err);
}
