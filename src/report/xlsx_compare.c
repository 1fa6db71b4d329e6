/*
 * report.xlsx's Comparison sheet (issue 15): one row per window with both scores and flags, the
 * difference and the label, filterable (autofilter), and the explained disagreements' difference
 * game to the right. The same numbers as scores.csv and results.json's "comparison".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "report/compare_impl.h"

/* Excel serial date of a UTC time (days since 1899-12-30), as xlsx.c writes them. */
static double xl_date(int64_t t) {
    return (double)t / 86400.0 + 25569.0;
}

void wf_xlsx_compare_sheet(struct lxw_workbook *wb, const wf_analysis *a, const wf_cmp *cm,
                           struct lxw_format *head, struct lxw_format *title,
                           struct lxw_format *date) {
    const wf_results *r = a->r;
    const wf_results_compare *c = cm->c;
    const wf_windows *w = r->windows;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Comparison");
    if (!ws)
        return;
    (void)title;
    static const char *const h[] = {"turbine_id", "start",   "end",       "score_a",
                                    "flagged_a",  "score_b", "flagged_b", "score_a - score_b",
                                    "agreement",  "label",   "explained"};
    const int nh = (int)(sizeof h / sizeof h[0]);
    worksheet_set_column(ws, 0, 0, 12, NULL);
    worksheet_set_column(ws, 1, 2, 17, NULL);
    worksheet_set_column(ws, 3, (lxw_col_t)(nh - 1), 13, NULL);
    for (int i = 0; i < nh; i++)
        worksheet_write_string(ws, 0, (lxw_col_t)i, h[i], head);
    worksheet_freeze_panes(ws, 1, 1);
    /* a sheet holds at most LXW_ROW_MAX rows, as the Windows sheet (scores.csv has them all) */
    int64_t n = w->n < (int64_t)LXW_ROW_MAX - 2 ? w->n : (int64_t)LXW_ROW_MAX - 2;
    for (int64_t i = 0; i < n; i++) {
        lxw_row_t row = (lxw_row_t)(i + 1);
        const wf_window *x = &w->w[i];
        int fa = r->flagged[i], fb = c->flagged_b[i];
        worksheet_write_string(ws, row, 0, x->turbine_id, NULL);
        worksheet_write_number(ws, row, 1, xl_date(x->start), date);
        worksheet_write_number(ws, row, 2, xl_date(x->end), date);
        worksheet_write_number(ws, row, 3, r->scores[i], NULL);
        worksheet_write_number(ws, row, 4, fa, NULL);
        worksheet_write_number(ws, row, 5, c->scores_b[i], NULL);
        worksheet_write_number(ws, row, 6, fb, NULL);
        worksheet_write_number(ws, row, 7, r->scores[i] - c->scores_b[i], NULL);
        worksheet_write_string(ws, row, 8,
                               fa && fb ? "both"
                               : fa     ? "only A"
                               : fb     ? "only B"
                                        : "neither",
                               NULL);
        if (x->label >= 0)
            worksheet_write_number(ws, row, 9, x->label, NULL);
    }
    for (int64_t j = 0; j < c->n_windows; j++)
        if (c->win[j].status == WF_OK && c->win[j].window_index < n)
            worksheet_write_string(ws, (lxw_row_t)(c->win[j].window_index + 1), 10,
                                   c->win[j].phi_diff ? "difference game" : "agreement", NULL);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1), (lxw_col_t)(nh - 1));

    /* the explained disagreements: the difference game per player, to the right */
    lxw_col_t c0 = (lxw_col_t)(nh + 1);
    worksheet_write_string(ws, 0, c0, "disagreement", head);
    worksheet_write_string(ws, 0, c0 + 1, "start", head);
    worksheet_write_string(ws, 0, c0 + 2, "flagged by", head);
    for (int q = 0; q < c->M; q++) {
        char b[160];
        snprintf(b, sizeof b, "f_A - f_B: %s", c->players[q]);
        worksheet_write_string(ws, 0, c0 + 3 + (lxw_col_t)q, b, head);
    }
    worksheet_set_column(ws, c0, c0 + 3 + (lxw_col_t)c->M, 14, NULL);
    lxw_row_t row = 1;
    for (int64_t j = 0; j < c->n_windows; j++) {
        const wf_compare_window *x = &c->win[j];
        if (x->kind == 3 || !x->phi_diff)
            continue;
        const wf_window *win = &w->w[x->window_index];
        worksheet_write_string(ws, row, c0, win->turbine_id, NULL);
        worksheet_write_number(ws, row, c0 + 1, xl_date(win->start), date);
        worksheet_write_string(ws, row, c0 + 2, x->kind == 1 ? "only A" : "only B", NULL);
        for (int q = 0; q < x->M; q++)
            if (isfinite(x->phi_diff[q]))
                worksheet_write_number(ws, row, c0 + 3 + (lxw_col_t)q, x->phi_diff[q], NULL);
        row++;
    }
}
