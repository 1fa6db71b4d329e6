/*
 * The score timeline of one turbine (issue 19, the turbine's justification PDF): every scored
 * window's score at its end time, the threshold, the flagged windows marked, alarm episodes
 * shaded and the failures of the log as vertical lines. cairo, through charts_impl.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/charts_impl.h"
#include "report/turbine_impl.h"

static void col(cairo_t *cr, unsigned hex) {
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

wf_status wf_chart_timeline(const wf_chart_ctx *cx, const wf_analysis *a, int turbine,
                            const wf_report_words *words, double w_pt, double h_pt, wf_png *out,
                            wf_error *err) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    const char *id = a->turbines[turbine].id;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    double lo = 0, hi = 1;
    for (int64_t i = 0; i < ws->n; i++) {
        if (strcmp(ws->w[i].turbine_id, id) != 0)
            continue;
        t0 = ws->w[i].end < t0 ? ws->w[i].end : t0;
        t1 = ws->w[i].end > t1 ? ws->w[i].end : t1;
        double s = r->scores ? r->scores[i] : NAN;
        if (isfinite(s)) {
            lo = fmin(lo, s);
            hi = fmax(hi, s);
        }
    }
    if (t0 == INT64_MAX)
        return wf_error_set(err, WF_ERR_INVALID, "chart: turbine %s has no scored window", id);
    if (t1 <= t0)
        t1 = t0 + 3600;
    if (isfinite(r->threshold)) {
        lo = fmin(lo, r->threshold);
        hi = fmax(hi, r->threshold);
    }
    chart ch;
    wf_status st = wf_chartx_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double x0 = 46, x1 = w_pt - 14, yt = 14, yb = h_pt - 20;
#define X(t) (x0 + (double)((t)-t0) / (double)(t1 - t0) * (x1 - x0))
#define Y(v) (yb - ((v)-lo) / (hi - lo) * (yb - yt))
    /* gaps (issue 14): where successive scored windows are more than a stride apart the score
     * line breaks; the break is shaded grey so a gap reads as missing data, not as a low score */
    {
        int64_t gstep = (int64_t)ws->stride * ws->cadence, gprev = -1;
        for (int64_t i = 0; i < ws->n && gstep > 0; i++) {
            if (strcmp(ws->w[i].turbine_id, id) != 0)
                continue;
            if (gprev >= 0 && ws->w[i].start - ws->w[gprev].start > gstep) {
                double xa = X(ws->w[gprev].end), xb = X(ws->w[i].end);
                /* hatched, so a gap never reads as a (grey) false-alarm episode */
                cairo_save(cr);
                cairo_rectangle(cr, xa, yt, xb - xa, yb - yt);
                cairo_clip(cr);
                col(cr, 0xf2f2f2);
                cairo_paint(cr);
                col(cr, 0xb0b0b0);
                cairo_set_line_width(cr, 0.6);
                for (double hx = xa - (yb - yt); hx < xb; hx += 4) {
                    cairo_move_to(cr, hx, yb);
                    cairo_line_to(cr, hx + (yb - yt), yt);
                }
                cairo_stroke(cr);
                cairo_restore(cr);
                if (xb - xa > 34) {
                    col(cr, 0x555555);
                    wf_chartx_text(&ch, (xa + xb) / 2, yb - 8, "no data", 6.5, 0.5, 1, 0, 0);
                }
            }
            gprev = i;
        }
    }
    /* episodes of this turbine, shaded */
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        if (e->turbine != turbine)
            continue;
        double xa = X(ws->w[e->first].end), xb = X(ws->w[e->last].end);
        col(cr, e->outcome == WF_OUTCOME_TRUE ? 0xf6d5d0 : 0xe8e8ef);
        cairo_rectangle(cr, xa - 2, yt, xb - xa + 4, yb - yt);
        cairo_fill(cr);
    }
    /* value grid and ticks: 0, 0.25, ... when the scores are probabilities */
    cairo_set_line_width(cr, 0.5);
    double step = (hi - lo) <= 1.0001 ? 0.25 : pow(10, floor(log10(hi - lo)));
    char buf[64];
    for (double v = ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
        col(cr, 0xdddddd);
        cairo_move_to(cr, x0, Y(v));
        cairo_line_to(cr, x1, Y(v));
        cairo_stroke(cr);
        col(cr, 0x444444);
        wf_report_fmt_num(words, buf, sizeof buf, v, 2);
        wf_chartx_text(&ch, x0 - 4, Y(v), buf, 7, 1, 1, 0, 0);
    }
    /* days on the time axis (about 8 labels) */
    int64_t span = t1 - t0, day = 86400, every = day;
    while (span / every > 8)
        every *= 2;
    for (int64_t t = (t0 / day + 1) * day; t <= t1; t += every) {
        double x = X(t);
        col(cr, 0xdddddd);
        cairo_move_to(cr, x, yt);
        cairo_line_to(cr, x, yb);
        cairo_stroke(cr);
        col(cr, 0x444444);
        wf_report_fmt_date(words, buf, sizeof buf, t);
        wf_chartx_text(&ch, x, yb + 10, buf, 7, 0.5, 0, 0, 0);
    }
    /* failures of this turbine */
    for (int64_t f = 0; f < r->n_failures; f++) {
        const wf_failure *F = &r->failures[f];
        if (strcmp(F->turbine_id, id) != 0 || F->time < t0 || F->time > t1)
            continue;
        col(cr, 0x8e1b10);
        cairo_set_line_width(cr, 1.2);
        cairo_move_to(cr, X(F->time), yt);
        cairo_line_to(cr, X(F->time), yb);
        cairo_stroke(cr);
        /* in the margin above the frame: never over the scores near the top (issue 14) */
        wf_chartx_text(&ch, X(F->time) - 3, yt - 3, wf_report_word(words, "tl_failure"), 7, 1, 0, 1,
                       0);
    }
    /* threshold */
    if (isfinite(r->threshold)) {
        col(cr, 0xc0392b);
        cairo_set_line_width(cr, 0.8);
        double dash[] = {3, 2};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x0, Y(r->threshold));
        cairo_line_to(cr, x1, Y(r->threshold));
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    /* the scores, one line per run of successive windows, flagged windows as dots */
    col(cr, 0x1b3a5c);
    cairo_set_line_width(cr, 0.9);
    int64_t step_s = (int64_t)ws->stride * ws->cadence, prev = -1;
    for (int64_t i = 0; i < ws->n && r->scores; i++) {
        if (strcmp(ws->w[i].turbine_id, id) != 0 || !isfinite(r->scores[i]))
            continue;
        double x = X(ws->w[i].end), y = Y(r->scores[i]);
        if (prev >= 0 && (step_s <= 0 || ws->w[i].start - ws->w[prev].start <= step_s))
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        prev = i;
    }
    cairo_stroke(cr);
    col(cr, 0xc0392b);
    for (int64_t i = 0; i < ws->n && r->scores && r->flagged; i++) {
        if (strcmp(ws->w[i].turbine_id, id) != 0 || !r->flagged[i])
            continue;
        cairo_arc(cr, X(ws->w[i].end), Y(r->scores[i]), 1.8, 0, 6.283185307179586);
        cairo_fill(cr);
    }
    /* frame and legend */
    col(cr, 0x444444);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, x0, yt, x1 - x0, yb - yt);
    cairo_stroke(cr);
#undef X
#undef Y
    return wf_chartx_end(&ch, out, err);
}
