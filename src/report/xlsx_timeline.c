/*
 * The workbook's score timeline (issue 14, "time context"): on each flagged turbine's sheet a
 * native Excel chart of the turbine's score over the audited period, read from cells of that
 * sheet (so it stays live: edit a cell, the chart follows). Series: the score (a blank row where
 * the turbine has no scored window for more than a stride, so the line breaks at data gaps),
 * the flagged windows as dots, the threshold as a dashed line, each failure of the turbine as a
 * vertical line and the alarm episodes as thick bars above the scores (true and repeat alarms,
 * false alarms). The data sit below everything else on the sheet: libxlsxwriter's
 * constant-memory mode writes rows in order, so they must come last. libxlsxwriter only here and
 * in xlsx.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "report/time_impl.h"

static double xl_date(int64_t t) {
    return (double)t / 86400.0 + 25569.0; /* days since 1899-12-30 */
}

double wf_xlsx_wrap_height(const char *text, double width) {
    /* word wrap at about one character per unit of column width (Calibri 11 averages a little
     * narrower than the '0' a unit is measured in, so this errs on the tall side) */
    int per = (int)(width > 4 ? width : 4), lines = 1, len = 0;
    for (const char *q = text; *q;) {
        const char *w = q;
        while (*q && *q != ' ')
            q++;
        int wl = 0;
        for (const char *k = w; k < q; k++)
            wl += ((unsigned char)*k & 0xC0) != 0x80; /* characters, not bytes */
        if (len > 0 && len + 1 + wl > per) {
            lines++;
            len = wl;
        } else {
            len += (len > 0) + wl;
        }
        while (*q == ' ')
            q++;
    }
    double h = 15.0 * lines + 3;
    return h < 409 ? h : 409; /* Excel's largest row height */
}

typedef struct series_spec {
    const char *name;
    int col; /* x in col, y in col + 1 */
    int r0, r1;
} series_spec;

int wf_xlsx_turbine_timeline(lxw_workbook *wb, lxw_worksheet *ws, const char *sheet,
                             const wf_analysis *a, int ti, int row, lxw_format *head,
                             lxw_format *bold, lxw_format *date, lxw_format *score) {
    const wf_results *r = a->r;
    const wf_windows *wd = r->windows;
    const char *id = a->turbines[ti].id;
    if (!r->scores || !ws)
        return row;
    /* the turbine's windows are one run in the window list (turbine order) */
    int64_t i0 = a->turbines[ti].first_window, i1 = i0;
    if (i0 < 0 || i0 >= wd->n || strcmp(wd->w[i0].turbine_id, id) != 0)
        return row;
    while (i1 < wd->n && strcmp(wd->w[i1].turbine_id, id) == 0)
        i1++;
    double lo = 0, hi = 1;
    int64_t t0 = wd->w[i0].end, t1 = wd->w[i0].end;
    for (int64_t i = i0; i < i1; i++) {
        t0 = wd->w[i].end < t0 ? wd->w[i].end : t0;
        t1 = wd->w[i].end > t1 ? wd->w[i].end : t1;
        if (isfinite(r->scores[i])) {
            lo = fmin(lo, r->scores[i]);
            hi = fmax(hi, r->scores[i]);
        }
    }
    if (isfinite(r->threshold)) {
        lo = fmin(lo, r->threshold);
        hi = fmax(hi, r->threshold);
    }
    /* failures of the turbine from its first window to the horizon after its last */
    int64_t tmax = t1 + (int64_t)(r->horizon_hours * 3600.0);
    int64_t fail_hi = t1;
    for (int64_t f = 0; f < r->n_failures; f++) {
        const wf_failure *F = &r->failures[f];
        if (!strcmp(F->turbine_id, id) && F->time >= t0 && F->time <= tmax && F->time > fail_hi)
            fail_hi = F->time;
    }
    double band = hi + (hi - lo) * 0.06, top = hi + (hi - lo) * 0.1;
    lxw_row_t R = (lxw_row_t)row;
    worksheet_write_string(ws, R, 0,
                           "Score timeline: the data of the chart \"Score over the audited "
                           "period\" (a blank row breaks the line at a gap in the data)",
                           bold);
    static const char *const names[] = {"Window end",
                                        "Score",
                                        "Flagged score",
                                        "",
                                        "Threshold: time",
                                        "Threshold",
                                        "",
                                        "Failure time",
                                        "Failure marker",
                                        "",
                                        "True alarm: time",
                                        "True alarm episode",
                                        "",
                                        "False alarm: time",
                                        "False alarm episode"};
    for (int c = 0; c < 15; c++)
        if (names[c][0])
            worksheet_write_string(ws, R + 1, (lxw_col_t)c, names[c], head);
    lxw_row_t d0 = R + 2;
    /* rows are written in order (constant-memory mode): every column block is laid out first,
     * then written row by row */
    int64_t step = (int64_t)wd->stride * wd->cadence;
    int64_t n_sc = 0, n_fail = 0, n_ep[2] = {0, 0};
    int64_t prev = -1;
    for (int64_t i = i0; i < i1; i++) {
        if (prev >= 0 && step > 0 && wd->w[i].start - wd->w[prev].start > step)
            n_sc++; /* the blank row of a gap */
        n_sc++;
        prev = i;
    }
    for (int64_t f = 0; f < r->n_failures; f++) {
        const wf_failure *F = &r->failures[f];
        n_fail += !strcmp(F->turbine_id, id) && F->time >= t0 && F->time <= tmax;
    }
    for (int k = 0; k < a->n_episodes; k++)
        if (a->episodes[k].turbine == ti)
            n_ep[a->episodes[k].outcome == WF_OUTCOME_FALSE]++;
    int64_t rows = n_sc;
    rows = rows > 2 ? rows : 2;
    rows = rows > 3 * n_fail ? rows : 3 * n_fail;
    rows = rows > 3 * n_ep[0] ? rows : 3 * n_ep[0];
    rows = rows > 3 * n_ep[1] ? rows : 3 * n_ep[1];
    int64_t wi = i0, fi = 0, cur_f = -1;
    int ep_pos[2] = {0, 0}, cur_e[2] = {-1, -1};
    prev = -1;
    for (int64_t k = 0; k < rows; k++) {
        lxw_row_t y = d0 + (lxw_row_t)k;
        if (wi < i1) { /* score block: a blank row at a gap, else the next window */
            if (prev >= 0 && step > 0 && wd->w[wi].start - wd->w[prev].start > step && prev != -2) {
                prev = -2; /* the gap's blank row is this one */
            } else {
                worksheet_write_number(ws, y, 0, xl_date(wd->w[wi].end), date);
                if (isfinite(r->scores[wi]))
                    worksheet_write_number(ws, y, 1, r->scores[wi], score);
                if (r->flagged && r->flagged[wi] && isfinite(r->scores[wi]))
                    worksheet_write_number(ws, y, 2, r->scores[wi], score);
                prev = wi++;
            }
        }
        if (k < 2) { /* threshold: across the period */
            worksheet_write_number(ws, y, 4, xl_date(k == 0 ? t0 : fail_hi), date);
            worksheet_write_number(ws, y, 5, r->threshold, score);
        }
        /* failures and episodes: (x, y) on row k % 3 == 0, (x', y') on the next, a blank
         * row; each row's cells are written before the next row's (constant-memory mode) */
        if (k % 3 == 0) {
            while (fi < r->n_failures && (strcmp(r->failures[fi].turbine_id, id) ||
                                          r->failures[fi].time < t0 || r->failures[fi].time > tmax))
                fi++;
            cur_f = fi < r->n_failures ? fi++ : -1;
            for (int g = 0; g < 2; g++) {
                while (ep_pos[g] < a->n_episodes &&
                       (a->episodes[ep_pos[g]].turbine != ti ||
                        (a->episodes[ep_pos[g]].outcome == WF_OUTCOME_FALSE) != g))
                    ep_pos[g]++;
                cur_e[g] = ep_pos[g] < a->n_episodes ? ep_pos[g]++ : -1;
            }
        }
        if (k % 3 < 2) {
            int second = k % 3 == 1;
            if (cur_f >= 0) {
                worksheet_write_number(ws, y, 7, xl_date(r->failures[cur_f].time), date);
                worksheet_write_number(ws, y, 8, second ? top : lo, score);
            }
            for (int g = 0; g < 2; g++) {
                if (cur_e[g] < 0)
                    continue;
                const wf_episode *E = &a->episodes[cur_e[g]];
                lxw_col_t c = (lxw_col_t)(g ? 13 : 10);
                worksheet_write_number(ws, y, c, xl_date(wd->w[second ? E->last : E->first].end),
                                       date);
                worksheet_write_number(ws, y, c + 1, band, score);
            }
        }
    }
    /* the chart */
    lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_SCATTER_STRAIGHT);
    if (!ch)
        return (int)(d0 + (lxw_row_t)rows + 1);
    series_spec sp[] = {
        {"Score", 0, (int)d0, (int)(d0 + (lxw_row_t)n_sc - 1)},
        {"Flagged window", 1, (int)d0, (int)(d0 + (lxw_row_t)n_sc - 1)},
        {"Threshold", 4, (int)d0, (int)d0 + 1},
        {"Failure", 7, (int)d0, (int)(d0 + (lxw_row_t)(3 * n_fail) - 2)},
        {"True or repeat alarm episode", 10, (int)d0, (int)(d0 + (lxw_row_t)(3 * n_ep[0]) - 2)},
        {"False alarm episode", 13, (int)d0, (int)(d0 + (lxw_row_t)(3 * n_ep[1]) - 2)},
    };
    for (int k = 0; k < 6; k++) {
        if (sp[k].r1 < sp[k].r0)
            continue; /* no failure / no such episode */
        lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
        int xc = k == 1 ? 0 : sp[k].col, yc = k == 1 ? 2 : sp[k].col + 1;
        chart_series_set_categories(s, sheet, (lxw_row_t)sp[k].r0, (lxw_col_t)xc,
                                    (lxw_row_t)sp[k].r1, (lxw_col_t)xc);
        chart_series_set_values(s, sheet, (lxw_row_t)sp[k].r0, (lxw_col_t)yc, (lxw_row_t)sp[k].r1,
                                (lxw_col_t)yc);
        chart_series_set_name(s, sp[k].name);
        lxw_chart_line ln = {0};
        lxw_chart_fill fl = {0};
        switch (k) {
        case 0:
            ln.color = 0x1B3A5C;
            ln.width = 1.25;
            break;
        case 1: /* dots only */
            ln.none = LXW_TRUE;
            chart_series_set_marker_type(s, LXW_CHART_MARKER_CIRCLE);
            chart_series_set_marker_size(s, 4);
            fl.color = 0xD55E00;
            chart_series_set_marker_fill(s, &fl);
            chart_series_set_marker_line(s, &(lxw_chart_line){.color = 0xD55E00});
            break;
        case 2:
            ln.color = 0xD55E00;
            ln.width = 1.25;
            ln.dash_type = LXW_CHART_LINE_DASH_DASH;
            break;
        case 3:
            ln.color = 0x8E1B10;
            ln.width = 2;
            break;
        default: /* episodes: thick bars, a square at each end so a one-window one shows */
            ln.color = k == 4 ? 0xD55E00 : 0x0072B2;
            ln.width = 6;
            chart_series_set_marker_type(s, LXW_CHART_MARKER_SQUARE);
            chart_series_set_marker_size(s, 5);
            fl.color = ln.color;
            chart_series_set_marker_fill(s, &fl);
            chart_series_set_marker_line(s, &(lxw_chart_line){.color = ln.color});
            break;
        }
        chart_series_set_line(s, &ln);
    }
    char title[160];
    snprintf(title, sizeof title, "%s: score over the audited period", id);
    chart_title_set_name(ch, title);
    chart_axis_set_name(ch->x_axis, "window end (UTC)");
    chart_axis_set_num_format(ch->x_axis, "yyyy-mm-dd");
    chart_axis_set_min(ch->x_axis, floor(xl_date(t0)));
    chart_axis_set_max(ch->x_axis, ceil(xl_date(fail_hi)));
    chart_axis_set_name(ch->y_axis, "score");
    chart_axis_set_min(ch->y_axis, lo);
    chart_axis_set_max(ch->y_axis, top);
    chart_axis_set_num_format(ch->y_axis, "0.00");
    chart_axis_major_gridlines_set_visible(ch->x_axis, LXW_TRUE);
    chart_axis_major_gridlines_set_line(ch->x_axis, &(lxw_chart_line){.color = 0xDDDDDD});
    chart_axis_major_gridlines_set_visible(ch->y_axis, LXW_TRUE);
    chart_axis_major_gridlines_set_line(ch->y_axis, &(lxw_chart_line){.color = 0xDDDDDD});
    chart_show_blanks_as(ch, LXW_CHART_BLANKS_AS_GAP);
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options co = {.x_offset = 10, .y_offset = 0, .x_scale = 1.7, .y_scale = 1.1};
    worksheet_insert_chart_opt(ws, 1, 15, ch, &co);
    return (int)(d0 + (lxw_row_t)rows + 1);
}
