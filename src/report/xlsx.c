/*
 * report.xlsx (libxlsxwriter, its only user): Summary (an Excel table with filters, conditional
 * formatting on scores, links to the turbine sheets), Episodes, Windows (every window, skipped
 * ones with their reasons), Attributions (one row per explained window and channel), one sheet
 * per flagged turbine (IG heatmap as a 3-colour scale, native bar chart of the channel
 * contributions), Methods, Manifest. Numbers are stored as numbers with formats; times as Excel
 * dates (UTC). Reproducible: the document's created date is r->generated_at.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <xlsxwriter.h>

#include "core/fileio.h"
#include "core/version.h"
#include "report/compare_impl.h"
#include "report/drift_impl.h"
#include "report/report_impl.h"
#include "report/time_impl.h"
#include "report/turbine_impl.h"

typedef struct xl {
    lxw_workbook *wb;
    lxw_format *head, *date, *score, *num, *sci, *wrap, *title, *bold, *link, *mono;
    const wf_analysis *a;
    const wf_results *r;
    const wf_report_options *o;
    char (*sheet)[32]; /* (n_turbines) sheet name of each flagged turbine, "" if none */
    int big;           /* constant-memory mode */
    char refused[32];  /* a sheet name libxlsxwriter refused ("" = none) */
} xl;

/* Every sheet through here: a refused name is recorded (the workbook then fails with its name)
 * and the sheet's writer returns at once, never using a NULL worksheet. */
static lxw_worksheet *add_sheet(xl *x, const char *name) {
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);
    if (!ws && !x->refused[0])
        snprintf(x->refused, sizeof x->refused, "%s", name);
    return ws;
}

/* Excel serial date of a UTC time (days since 1899-12-30). */
static double xl_date(int64_t t) {
    return (double)t / 86400.0 + 25569.0;
}

static void put_num(lxw_worksheet *ws, int row, int col, double v, lxw_format *f) {
    if (isfinite(v))
        worksheet_write_number(ws, (lxw_row_t)row, (lxw_col_t)col, v, f);
    else
        worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)col, isnan(v) ? "" : "inf", NULL);
}

static void header(xl *x, lxw_worksheet *ws, int row, const char *const *names, int n,
                   const double *widths) {
    for (int i = 0; i < n; i++) {
        worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)i, names[i], x->head);
        if (widths)
            worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
    }
    worksheet_freeze_panes(ws, (lxw_row_t)(row + 1), 0);
}

/* Sheet names of flagged turbines. Rule: characters Excel forbids ([ ] : * ? / \ ') and control
 * bytes become '_'; the name is cut to 31 bytes at a character boundary (so at most 31
 * characters); a name equal to a fixed sheet or Excel's reserved "History" (without regard to
 * case) gets the prefix "T "; a name equal, without regard to case, to an earlier one gets the
 * suffix " (2)", " (3)"... (the name cut further at a character boundary to make room). */
static const char *const fixed_sheets[] = {"Summary", "Episodes", "Windows", "Attributions",
                                           "Methods", "Manifest", "History", "Why",
                                           "Drift",   NULL};

/* Longest prefix of s (UTF-8) of at most max bytes that ends at a character boundary. */
static size_t utf8_cut(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int sheet_taken(const char *name, char (*sheet)[32], int n) {
    for (int i = 0; fixed_sheets[i]; i++)
        if (strcasecmp(name, fixed_sheets[i]) == 0)
            return 1;
    for (int j = 0; j < n; j++)
        if (sheet[j][0] && strcasecmp(name, sheet[j]) == 0)
            return 1;
    return 0;
}

static void sheet_name_for(const char *id, char (*sheet)[32], int i) {
    char clean[WF_ID_MAX + 8], base[32];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p && k + 1 < sizeof clean; p++)
        clean[k++] = (*p < 0x20 || strchr("[]:*?/\\'", *p)) ? '_' : (char)*p;
    clean[k] = '\0';
    if (!k)
        snprintf(clean, sizeof clean, "Turbine");
    for (int i2 = 0; fixed_sheets[i2]; i2++)
        if (strcasecmp(clean, fixed_sheets[i2]) == 0) {
            /* clean is one of the short fixed names here, so "T " + it always fits */
            char tmp[sizeof clean];
            if (snprintf(tmp, sizeof tmp, "T %s", clean) < (int)sizeof tmp)
                memcpy(clean, tmp, sizeof clean);
        }
    size_t n = utf8_cut(clean, 31);
    memcpy(base, clean, n);
    base[n] = '\0';
    memcpy(sheet[i], base, n + 1);
    for (int num = 2; sheet_taken(sheet[i], sheet, i); num++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, " (%d)", num);
        size_t m = utf8_cut(base, 31 - (size_t)sl);
        memcpy(sheet[i], base, m);
        memcpy(sheet[i] + m, suffix, (size_t)sl + 1);
    }
}

static void sheet_summary(xl *x) {
    const wf_analysis *a = x->a;
    lxw_worksheet *ws = add_sheet(x, "Summary");
    if (!ws)
        return;
    static const char *const names[] = {"Turbine",     "Windows scored",     "Windows skipped",
                                        "Max score",   "Flagged windows",    "Episodes",
                                        "True alarms", "False alarms",       "Missed failures",
                                        "Top channel", "Justification (PDF)"};
    static const double widths[] = {12, 15, 16, 11, 16, 10, 12, 12, 15, 20, 24};
    /* issue 19: with per-turbine PDFs, a last column links each flagged turbine to its PDF */
    int n = x->o->per_turbine ? 11 : 10, nt = a->n_turbines;
    char(*files)[WF_TURBINE_FILE_MAX] =
        x->o->per_turbine ? calloc((size_t)(nt + 1), sizeof *files) : NULL;
    if (files)
        wf_report_turbine_files(a, files);
    lxw_table_column cols[11];
    lxw_table_column *colp[12];
    memset(cols, 0, sizeof cols);
    for (int i = 0; i < n; i++) {
        cols[i].header = (char *)names[i];
        colp[i] = &cols[i];
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
    }
    colp[n] = NULL;
    lxw_table_options opt;
    memset(&opt, 0, sizeof opt);
    opt.name = "Turbines";
    opt.style_type = LXW_TABLE_STYLE_TYPE_MEDIUM;
    opt.style_type_number = 2;
    opt.columns = colp;
    if (x->big) {
        header(x, ws, 0, names, n, widths);
        worksheet_autofilter(ws, 0, 0, (lxw_row_t)(nt > 0 ? nt : 1), (lxw_col_t)(n - 1));
    } else {
        worksheet_add_table(ws, 0, 0, (lxw_row_t)(nt > 0 ? nt : 1), (lxw_col_t)(n - 1), &opt);
    }
    worksheet_freeze_panes(ws, 1, 0);
    double attr[256];
    for (int i = 0; i < nt; i++) {
        const wf_turbine_summary *s = &a->turbines[i];
        lxw_row_t row = (lxw_row_t)(i + 1);
        if (x->sheet[i][0]) {
            char url[80];
            snprintf(url, sizeof url, "internal:'%s'!A1", x->sheet[i]);
            worksheet_write_url(ws, row, 0, url, x->link);
            worksheet_write_string(ws, row, 0, s->id, x->link);
        } else {
            worksheet_write_string(ws, row, 0, s->id, NULL);
        }
        worksheet_write_number(ws, row, 1, (double)s->scored, NULL);
        worksheet_write_number(ws, row, 2, (double)s->skipped, NULL);
        put_num(ws, (int)row, 3, s->max_score, x->score);
        worksheet_write_number(ws, row, 4, (double)s->flagged, NULL);
        worksheet_write_number(ws, row, 5, (double)s->episodes, NULL);
        int tru = 0, fal = 0;
        const wf_explanation *best = NULL;
        for (int k = 0; k < a->n_episodes; k++) {
            const wf_episode *e = &a->episodes[k];
            if (e->turbine != i)
                continue;
            tru += e->outcome == WF_OUTCOME_TRUE || e->outcome == WF_OUTCOME_REPEAT; /* preceded
                                                                                   a failure */
            fal += e->outcome == WF_OUTCOME_FALSE;
            int64_t ew = wf_an_episode_window(a, e);
            const wf_explanation *ex = ew >= 0 ? a->expl_of[ew] : NULL;
            if (ex && (!best || ex->score > best->score) && wf_an_channel_attr(a, ex, attr))
                best = ex;
        }
        worksheet_write_number(ws, row, 6, tru, NULL);
        worksheet_write_number(ws, row, 7, fal, NULL);
        worksheet_write_number(ws, row, 8, (double)s->missed, NULL);
        int top = best ? wf_an_top_channel(a, best) : -1;
        worksheet_write_string(ws, row, 9, top >= 0 ? wf_an_channel(a, top) : "", NULL);
        if (files && s->flagged > 0) { /* relative: the workbook and turbines/ move together */
            char url[WF_TURBINE_FILE_MAX + 32], text[WF_TURBINE_FILE_MAX + 16];
            snprintf(url, sizeof url, "external:turbines/%s", files[i]);
            snprintf(text, sizeof text, "turbines/%s", files[i]);
            worksheet_write_url(ws, row, 10, url, x->link);
            worksheet_write_string(ws, row, 10, text, x->link);
        } else if (n == 11) {
            worksheet_write_string(ws, row, 10, "", NULL);
        }
    }
    free(files);
    if (nt > 0) {
        lxw_conditional_format cf;
        memset(&cf, 0, sizeof cf);
        cf.type = LXW_CONDITIONAL_3_COLOR_SCALE;
        cf.min_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.min_value = 0;
        /* colour-blind safe (issue 14): blue below the threshold, light at it, vermilion
         * above (ColorBrewer RdBu's blue, Okabe-Ito's vermilion), not green-yellow-red */
        cf.min_color = 0x2166AC;
        cf.mid_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.mid_value = isfinite(x->r->threshold) ? x->r->threshold : 0.5;
        cf.mid_color = 0xF7F7F7;
        cf.max_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.max_value = 1;
        cf.max_color = 0xD55E00;
        worksheet_conditional_format_range(ws, 1, 3, (lxw_row_t)nt, 3, &cf);
    }
    worksheet_activate(ws);
}

static void sheet_episodes(xl *x) {
    const wf_analysis *a = x->a;
    const wf_windows *w = x->r->windows;
    lxw_worksheet *ws = add_sheet(x, "Episodes");
    if (!ws)
        return;
    static const char *const names[] = {"Episode",
                                        "Turbine",
                                        "First window start",
                                        "Last window end",
                                        "Flagged windows",
                                        "Peak score",
                                        "Why",
                                        "Outcome",
                                        "Failure time",
                                        "Component",
                                        "Lead time (h)",
                                        "Detail in PDF"};
    static const double widths[] = {9, 10, 18, 18, 15, 11, 18, 13, 18, 14, 13, 13};
    header(x, ws, 0, names, 12, widths);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(a->n_episodes > 0 ? a->n_episodes : 1), 11);
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        lxw_row_t row = (lxw_row_t)(k + 1);
        worksheet_write_number(ws, row, 0, k + 1, NULL);
        worksheet_write_string(ws, row, 1, a->turbines[e->turbine].id, NULL);
        worksheet_write_number(ws, row, 2, xl_date(w->w[e->first].start), x->date);
        worksheet_write_number(ws, row, 3, xl_date(w->w[e->last].end), x->date);
        worksheet_write_number(ws, row, 4, (double)e->n, NULL);
        put_num(ws, (int)row, 5, e->peak_score, x->score);
        int64_t ew = wf_an_episode_window(a, e);
        char why[256]; /* the why's driver(s), "DISAGREE: ..." when the methods disagree */
        worksheet_write_string(ws, row, 6, ew >= 0 ? wf_an_why_short(a, ew, why, sizeof why) : "",
                               NULL);
        worksheet_write_string(ws, row, 7, wf_outcome_str(e->outcome), NULL);
        if (e->outcome == WF_OUTCOME_TRUE) {
            worksheet_write_number(ws, row, 8, xl_date(e->failure_time), x->date);
            worksheet_write_string(ws, row, 9, e->component ? e->component : "", NULL);
            worksheet_write_number(ws, row, 10, e->lead_hours, x->num);
        }
        worksheet_write_string(ws, row, 11, e->detailed ? "yes" : "no (capped)", NULL);
    }
}

static void sheet_windows(xl *x) {
    const wf_results *r = x->r;
    const wf_windows *w = r->windows;
    lxw_worksheet *ws = add_sheet(x, "Windows");
    if (!ws)
        return;
    static const char *const names[] = {"Turbine",    "Start",     "End",
                                        "Status",     "Score",     "Flagged",
                                        "Label",      "Component", "Interpolated points",
                                        "Skip reason"};
    static const double widths[] = {10, 18, 18, 9, 9, 9, 7, 14, 12, 70};
    header(x, ws, 0, names, 10, widths);
    int64_t i = 0, j = 0;
    lxw_row_t row = 1;
    /* Valid and skipped windows merged in (turbine, start) order. */
    while ((i < w->n || j < w->n_skipped) && row < LXW_ROW_MAX - 2) {
        int take_valid;
        if (i >= w->n)
            take_valid = 0;
        else if (j >= w->n_skipped)
            take_valid = 1;
        else {
            int c = strcmp(w->w[i].turbine_id, w->skipped[j].turbine_id);
            take_valid = c < 0 || (c == 0 && w->w[i].start <= w->skipped[j].start);
        }
        if (take_valid) {
            const wf_window *v = &w->w[i];
            worksheet_write_string(ws, row, 0, v->turbine_id, NULL);
            worksheet_write_number(ws, row, 1, xl_date(v->start), x->date);
            worksheet_write_number(ws, row, 2, xl_date(v->end), x->date);
            worksheet_write_string(ws, row, 3, "scored", NULL);
            double s = r->scores ? r->scores[i] : x->a->expl_of[i] ? x->a->expl_of[i]->score : NAN;
            put_num(ws, (int)row, 4, s, x->score);
            worksheet_write_number(ws, row, 5, r->flagged && r->flagged[i] ? 1 : 0, NULL);
            worksheet_write_number(ws, row, 6, v->label, NULL);
            worksheet_write_string(ws, row, 7, v->component, NULL);
            worksheet_write_number(ws, row, 8, v->interpolated, NULL);
            i++;
        } else {
            const wf_skipped *s = &w->skipped[j];
            worksheet_write_string(ws, row, 0, s->turbine_id, NULL);
            worksheet_write_number(ws, row, 1, xl_date(s->start), x->date);
            worksheet_write_string(ws, row, 3, "skipped", NULL);
            worksheet_write_string(ws, row, 9, s->reason, NULL);
            j++;
        }
        row++;
    }
    if (i < w->n || j < w->n_skipped) /* beyond Excel's row limit: say so, never drop silently */
        worksheet_write_string(ws, row++, 0,
                               "(more windows than an Excel sheet holds: see results.json)", NULL);
    worksheet_autofilter(ws, 0, 0, row > 1 ? row - 1 : 1, 9);
    if (row > 1) {
        lxw_conditional_format cf;
        memset(&cf, 0, sizeof cf);
        cf.type = LXW_CONDITIONAL_DATA_BAR;
        cf.bar_color = 0xD55E00; /* Okabe-Ito vermilion */
        cf.min_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.min_value = 0;
        cf.max_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.max_value = 1;
        worksheet_conditional_format_range(ws, 1, 4, row - 1, 4, &cf);
    }
}

/* Issue 11: 1 when e's TreeSHAP players are the channels in order (its values go in a channel
 * column beside KernelSHAP's). */
static int treeshap_channels(const wf_analysis *a, const wf_explanation *e) {
    if (!e->has_treeshap || e->treeshap.M != a->C || !e->treeshap.players)
        return 0;
    for (int c = 0; c < a->C; c++)
        if (!e->treeshap.players[c] || strcmp(e->treeshap.players[c], wf_an_channel(a, c)))
            return 0;
    return 1;
}

/* Header of the TreeSHAP column, naming what the values explain, e.g. "TreeSHAP value
 * (margin, path-dependent)"; NULL when no explained window has channel TreeSHAP values. */
static const char *treeshap_header(const wf_analysis *a, const wf_results *r, char *buf, size_t n) {
    for (int64_t i = 0; i < r->n_explained; i++) {
        const wf_explanation *e = &r->expl[i];
        if (e->status == WF_OK && treeshap_channels(a, e)) {
            snprintf(buf, n, "TreeSHAP value (%s%s)", wf_treeshap_output_name(e->treeshap.output),
                     e->treeshap.path_dependent ? ", path-dependent" : "");
            return buf;
        }
    }
    return NULL;
}

static void sheet_attributions(xl *x) {
    const wf_analysis *a = x->a;
    const wf_results *r = x->r;
    lxw_worksheet *ws = add_sheet(x, "Attributions");
    if (!ws)
        return;
    static const char *const names[] = {
        "Turbine", "Window start",     "Window end",    "Score",          "Channel",
        "Unit",    "KernelSHAP value", "KernelSHAP SE", "IG channel sum", "Top driver"};
    static const double widths[] = {10, 18, 18, 9, 18, 8, 16, 15, 15, 11};
    header(x, ws, 0, names, 10, widths);
    char tsh[64];
    const char *tsname = treeshap_header(a, r, tsh, sizeof tsh); /* column 10 for tree models */
    if (tsname) {
        worksheet_write_string(ws, 0, 10, tsname, x->head);
        worksheet_set_column(ws, 10, 10, 22, NULL);
    }
    lxw_row_t row = 1;
    for (int64_t i = 0; i < r->n_explained; i++) {
        const wf_explanation *e = &r->expl[i];
        if (e->status != WF_OK)
            continue;
        const wf_window *v = &r->windows->w[e->window_index];
        int top = wf_an_top_channel(a, e);
        int kc = e->has_kshap && e->kshap.M == a->C;
        for (int c = 0; c < a->C; c++) {
            worksheet_write_string(ws, row, 0, v->turbine_id, NULL);
            worksheet_write_number(ws, row, 1, xl_date(v->start), x->date);
            worksheet_write_number(ws, row, 2, xl_date(v->end), x->date);
            put_num(ws, (int)row, 3, e->score, x->score);
            worksheet_write_string(ws, row, 4, wf_an_channel(a, c), NULL);
            worksheet_write_string(ws, row, 5, wf_an_unit(a, c), NULL);
            if (kc) {
                put_num(ws, (int)row, 6, e->kshap.values[c], x->sci);
                put_num(ws, (int)row, 7, e->kshap.std_err ? e->kshap.std_err[c] : 0, x->sci);
            }
            if (e->has_ig && e->ig.channel_sums)
                put_num(ws, (int)row, 8, e->ig.channel_sums[c], x->sci);
            worksheet_write_number(ws, row, 9, c == top ? 1 : 0, NULL);
            if (tsname && treeshap_channels(a, e))
                put_num(ws, (int)row, 10, e->treeshap.values[c], x->sci);
            row++;
        }
    }
    worksheet_autofilter(ws, 0, 0, row > 1 ? row - 1 : 1, tsname ? 10 : 9);
}

/* Returns the last row written (the score timeline goes below it: xlsx_timeline.c). */
static int sheet_turbine(xl *x, int ti) {
    const wf_analysis *a = x->a;
    const wf_results *r = x->r;
    int C = a->C, T = a->T;
    lxw_worksheet *ws = add_sheet(x, x->sheet[ti]);
    if (!ws)
        return 0;
    /* The explained flagged window with the highest score. */
    const wf_explanation *best = NULL;
    for (int64_t i = 0; i < r->n_explained; i++) {
        const wf_explanation *e = &r->expl[i];
        if (e->status == WF_OK &&
            strcmp(r->windows->w[e->window_index].turbine_id, a->turbines[ti].id) == 0 &&
            (!best || e->score > best->score))
            best = e;
    }
    char buf[256], t1[32];
    snprintf(buf, sizeof buf, "%s: its flagged windows and the explanation of the highest score",
             a->turbines[ti].id);
    worksheet_write_string(ws, 0, 0, buf, x->title);
    worksheet_write_url(ws, 0, 8, "internal:'Summary'!A1", x->link);
    worksheet_write_string(ws, 0, 8, "back to Summary", x->link);
    worksheet_set_column(ws, 0, 0, 20, NULL);
    worksheet_set_column(ws, 1, 3, 17, NULL);
    if (!best) {
        worksheet_write_string(ws, 2, 0, "No explained window for this turbine.", NULL);
        return 2;
    }
    const wf_window *v = &r->windows->w[best->window_index];
    snprintf(buf, sizeof buf, "Window %s", wf_fmt_time_short(v->start, t1));
    worksheet_write_string(ws, 1, 0, buf, x->bold);
    worksheet_write_string(ws, 1, 2, "Score", x->bold);
    put_num(ws, 1, 3, best->score, x->score);
    static const char *const names[] = {"Channel", "KernelSHAP value", "KernelSHAP SE",
                                        "IG channel sum"};
    header(x, ws, 3, names, 4, NULL);
    int kc = best->has_kshap && best->kshap.M == C;
    char tsh[64];
    int tc = treeshap_channels(a, best); /* tree models: TreeSHAP in column E */
    if (tc) {
        snprintf(tsh, sizeof tsh, "TreeSHAP value (%s%s)",
                 wf_treeshap_output_name(best->treeshap.output),
                 best->treeshap.path_dependent ? ", path-dependent" : "");
        worksheet_write_string(ws, 3, 4, tsh, x->head);
    }
    for (int c = 0; c < C; c++) {
        lxw_row_t row = (lxw_row_t)(4 + c);
        worksheet_write_string(ws, row, 0, wf_an_channel(a, c), NULL);
        if (kc) {
            put_num(ws, (int)row, 1, best->kshap.values[c], x->sci);
            put_num(ws, (int)row, 2, best->kshap.std_err ? best->kshap.std_err[c] : 0, x->sci);
        }
        if (best->has_ig && best->ig.channel_sums)
            put_num(ws, (int)row, 3, best->ig.channel_sums[c], x->sci);
        if (tc)
            put_num(ws, (int)row, 4, best->treeshap.values[c], x->sci);
    }
    lxw_chart *ch = workbook_add_chart(x->wb, LXW_CHART_BAR);
    lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
    chart_series_set_categories(s, x->sheet[ti], 4, 0, (lxw_row_t)(4 + C - 1), 0);
    int vc = kc ? 1 : tc ? 4 : 3; /* without KernelSHAP a tree model's chart shows TreeSHAP */
    chart_series_set_values(s, x->sheet[ti], 4, (lxw_col_t)vc, (lxw_row_t)(4 + C - 1),
                            (lxw_col_t)vc);
    chart_series_set_name(s, kc ? "KernelSHAP value" : tc ? tsh : "IG channel sum");
    lxw_chart_fill pos = {.color = 0xC0392B};
    chart_series_set_fill(s, &pos);
    chart_series_set_invert_if_negative(s);
    chart_title_set_name(ch, "Channel contributions to the score");
    /* In a bar chart libxlsxwriter's x_axis is the horizontal (value) axis and y_axis the
     * vertical (category) one; reversed so the first channel is at the top. */
    chart_axis_set_name(ch->x_axis, vc == 4 && best->treeshap.output == WF_TREESHAP_MARGIN
                                        ? "contribution to the model's margin (TreeSHAP)"
                                        : "contribution to the score (score units)");
    chart_axis_set_name(ch->y_axis, "channel");
    chart_axis_set_reverse(ch->y_axis);
    chart_axis_set_crossing_max(ch->y_axis); /* keep the value axis at the bottom */
    /* the channel names at the left edge of the plot, not at zero where negative bars end */
    chart_axis_set_label_position(ch->y_axis, LXW_CHART_AXIS_LABEL_POSITION_LOW);
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options co = {.x_offset = 10, .y_offset = 0, .x_scale = 1.2, .y_scale = 1.1};
    worksheet_insert_chart_opt(ws, 1, 5, ch, &co);
    /* IG heatmap: rows = channels, columns = time steps. */
    int hr = 4 + C + 14;
    if (best->has_ig && best->ig.values && best->ig.C == C && best->ig.T == T) {
        worksheet_write_string(ws, (lxw_row_t)(hr - 2), 0,
                               "Integrated Gradients per cell (score units): rows are channels, "
                               "columns minutes since the window start",
                               x->bold);
        worksheet_write_string(ws, (lxw_row_t)(hr - 1), 0, "Channel", x->head);
        double vmax = 0;
        for (int t = 0; t < T; t++) {
            double mins = (double)r->windows->cadence * t / 60.0;
            worksheet_write_number(ws, (lxw_row_t)(hr - 1), (lxw_col_t)(1 + t),
                                   r->windows->cadence > 0 ? mins : t, x->head);
        }
        for (int c = 0; c < C; c++) {
            worksheet_write_string(ws, (lxw_row_t)(hr + c), 0, wf_an_channel(a, c), NULL);
            for (int t = 0; t < T; t++) {
                double val = best->ig.values[c * T + t];
                vmax = fmax(vmax, fabs(val));
                put_num(ws, hr + c, 1 + t, val, x->sci);
            }
        }
        if (T > 0)
            worksheet_set_column(ws, 4, (lxw_col_t)T, 9, NULL);
        lxw_conditional_format cf;
        memset(&cf, 0, sizeof cf);
        cf.type = LXW_CONDITIONAL_3_COLOR_SCALE;
        cf.min_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.min_value = vmax > 0 ? -vmax : -1;
        cf.min_color = 0x2166AC;
        cf.mid_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.mid_value = 0;
        cf.mid_color = 0xFFFFFF;
        cf.max_rule_type = LXW_CONDITIONAL_RULE_TYPE_NUMBER;
        cf.max_value = vmax > 0 ? vmax : 1;
        cf.max_color = 0xB2182B;
        worksheet_conditional_format_range(ws, (lxw_row_t)hr, 1, (lxw_row_t)(hr + C - 1),
                                           (lxw_col_t)T, &cf);
    }
    /* Every flagged window of the turbine, below the heatmap. */
    int lr = hr + C + 2;
    static const char *const lnames[] = {"Flagged window start", "End", "Score", "Top channel"};
    for (int i = 0; i < 4; i++)
        worksheet_write_string(ws, (lxw_row_t)lr, (lxw_col_t)i, lnames[i], x->head);
    for (int64_t i = 0; i < r->windows->n; i++) {
        const wf_window *fw = &r->windows->w[i];
        if (!r->flagged || !r->flagged[i] || strcmp(fw->turbine_id, a->turbines[ti].id) != 0)
            continue;
        lr++;
        worksheet_write_number(ws, (lxw_row_t)lr, 0, xl_date(fw->start), x->date);
        worksheet_write_number(ws, (lxw_row_t)lr, 1, xl_date(fw->end), x->date);
        put_num(ws, lr, 2, r->scores[i], x->score);
        int top = wf_an_top_channel(a, a->expl_of[i]);
        worksheet_write_string(ws, (lxw_row_t)lr, 3, top >= 0 ? wf_an_channel(a, top) : "", NULL);
    }
    worksheet_freeze_panes(ws, 1, 1);
    return lr;
}

/* issue 13: one row per explained window: the sentence of why, its claim, the agreement of the
 * two methods (DISAGREE marked) and the dependence note; as results.json's "why"/"agreement". */
static void sheet_why(xl *x) {
    const wf_analysis *a = x->a;
    const wf_results *r = x->r;
    if (!r->why)
        return;
    lxw_worksheet *ws = add_sheet(x, "Why");
    if (!ws)
        return;
    static const char *const names[] = {
        "Turbine",        "Window start",  "Score",    "Claim", "Methods",      "L1 distance",
        "Signs agreeing", "Top-k overlap", "Spearman", "Why",   "Disagreement", "Dependence note"};
    static const double widths[] = {10, 18, 9, 10, 11, 12, 14, 13, 10, 90, 50, 60};
    header(x, ws, 0, names, 12, widths);
    lxw_row_t row = 1;
    for (int64_t i = 0; i < r->n_explained; i++) {
        const wf_why *y = wf_an_why(a, r->expl[i].window_index);
        if (!y)
            continue;
        const wf_window *v = &r->windows->w[r->expl[i].window_index];
        const wf_agreement *g = &y->agreement;
        worksheet_write_string(ws, row, 0, v->turbine_id, NULL);
        worksheet_write_number(ws, row, 1, xl_date(v->start), x->date);
        put_num(ws, (int)row, 2, r->expl[i].score, x->score);
        worksheet_write_string(ws, row, 3, wf_why_claim_str(y->claim), NULL);
        worksheet_write_string(ws, row, 4,
                               g->n == 0     ? ""
                               : g->disagree ? "DISAGREE"
                                             : "agree",
                               g->disagree ? x->bold : NULL);
        if (g->n > 0) {
            put_num(ws, (int)row, 5, g->l1, x->num);
            put_num(ws, (int)row, 6, g->sign_agreement, x->num);
            worksheet_write_number(ws, row, 7, g->topk_overlap, NULL);
            put_num(ws, (int)row, 8, g->spearman, x->num);
        }
        worksheet_write_string(ws, row, 9, y->text, NULL);
        char reason[512];
        worksheet_write_string(
            ws, row, 10, wf_an_agreement_reason(a, r->expl[i].window_index, reason, sizeof reason),
            NULL);
        char note[1024];
        wf_an_dependence_note(a, r->expl[i].window_index, note, sizeof note);
        worksheet_write_string(ws, row, 11, note, NULL);
        row++;
    }
    worksheet_freeze_panes(ws, 1, 0);
}

static void kv(lxw_worksheet *ws, lxw_row_t *row, const char *k, const char *v, lxw_format *f) {
    worksheet_write_string(ws, *row, 0, k, NULL);
    worksheet_write_string(ws, *row, 1, v ? v : "", f);
    (*row)++;
}

static void sheet_methods(xl *x) {
    lxw_worksheet *ws = add_sheet(x, "Methods");
    if (!ws)
        return;
    static const char *const names[] = {"Item", "Description"};
    static const double widths[] = {24, 120};
    header(x, ws, 0, names, 2, widths);
    char *buf = malloc(8192);
    if (!buf)
        return;
    wf_report_methods_text(x->r, x->o, buf, 8192);
    lxw_row_t row = 1;
    char *save = buf;
    int i = 0;
    while (save && *save) {
        char *nl = strchr(save, '\n');
        if (nl)
            *nl = '\0';
        if (*save) {
            char k[32];
            snprintf(k, sizeof k, "method %d", ++i);
            /* wrapped in its cell, the row as tall as its lines (issue 14): a paragraph never
             * runs past its column (readers that do not fit rows to wrapped text included) */
            worksheet_set_row(ws, row, wf_xlsx_wrap_height(save, 120), x->wrap);
            kv(ws, &row, k, save, x->wrap);
        }
        save = nl ? nl + 1 : NULL;
    }
    free(buf);
    char num[32];
    kv(ws, &row, "threshold", wf_fmt_score(x->r->threshold, num), NULL);
    snprintf(num, sizeof num, "%g", x->r->horizon_hours);
    kv(ws, &row, "failure horizon (hours)", num, NULL);
}

static void sheet_manifest(xl *x) {
    const wf_report_options *o = x->o;
    lxw_worksheet *ws = add_sheet(x, "Manifest");
    if (!ws)
        return;
    static const char *const names[] = {"Item", "Value", "SHA-256"};
    static const double widths[] = {18, 50, 68};
    header(x, ws, 0, names, 3, widths);
    lxw_row_t row = 1;
    int has_model = 0;
    for (int i = 0; i < o->n_inputs; i++)
        has_model |= strcmp(o->inputs[i].role, "model") == 0;
    if (!has_model) {
        worksheet_write_string(ws, row, 0, "model", NULL);
        worksheet_write_string(ws, row, 1, x->r->model_path ? x->r->model_path : "", NULL);
        worksheet_write_string(ws, row, 2, x->r->model_sha256, x->mono);
        row++;
    }
    for (int i = 0; i < o->n_inputs; i++) {
        char hex[65];
        wf_error e2;
        if (o->inputs[i].sha256) /* the digest of what the run read */
            snprintf(hex, sizeof hex, "%.64s", o->inputs[i].sha256);
        else if (wf_sha256_file_hex(o->inputs[i].path, hex, &e2) != WF_OK)
            snprintf(hex, sizeof hex, "(unreadable)");
        worksheet_write_string(ws, row, 0, o->inputs[i].role, NULL);
        worksheet_write_string(ws, row, 1, o->inputs[i].path, NULL);
        worksheet_write_string(ws, row, 2, hex, x->mono);
        row++;
    }
    row++;
    for (int i = 0; i < o->n_versions; i++)
        kv(ws, &row, o->versions[i].name, o->versions[i].value, NULL);
    struct utsname u;
    char plat[400], when[32];
    if (uname(&u) == 0)
        snprintf(plat, sizeof plat, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(plat, sizeof plat, "unknown");
    kv(ws, &row, "platform", plat, NULL);
    kv(ws, &row, "time of the run", wf_time_format_iso(x->r->generated_at, when), NULL);
    kv(ws, &row, "run id", x->a->run_id, NULL);
    if (x->r->settings) {
        snprintf(plat, sizeof plat, "%llu", (unsigned long long)x->r->settings->seed);
        kv(ws, &row, "seed", plat, NULL);
    }
    kv(ws, &row, "note", "manifest.json beside this workbook holds the SHA-256 of this file", NULL);
}

wf_status wf_report_write_xlsx(const char *path, const wf_results *r, const wf_report_options *o,
                               wf_error *err) {
    return wf_report_write_xlsx_with(path, r, o, NULL, err);
}

wf_status wf_report_write_xlsx_with(const char *path, const wf_results *r,
                                    const wf_report_options *o, const wf_analysis *an,
                                    wf_error *err) {
    wf_report_options def;
    if (o)
        def = *o;
    else
        wf_report_options_default(&def);
    wf_report_versions_complete(&def); /* a no-op when wf_report_write_all did it */
    o = &def;
    wf_analysis a;
    memset(&a, 0, sizeof a);
    wf_status st = an ? WF_OK : wf_analysis_build(&a, r, o->max_episode_pages, err);
    if (st)
        return st;
    const wf_analysis *A = an ? an : &a;
    char tmp[4096];
    st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st) {
        wf_analysis_free(&a);
        return st;
    }
    xl x = {0};
    x.a = A;
    x.r = r;
    x.o = o;
    x.sheet = calloc((size_t)(A->n_turbines > 0 ? A->n_turbines : 1), sizeof *x.sheet);
    /* Big runs (more than 100k windows) use libxlsxwriter's constant-memory mode, which streams
     * rows to disk; it cannot hold Excel tables, so Summary then gets a plain autofilter. */
    x.big = o->xlsx_stream > 0 ||
            (o->xlsx_stream == 0 && r->windows->n + r->windows->n_skipped > 100000);
    lxw_workbook_options wo = {
        .constant_memory = x.big ? LXW_TRUE : LXW_FALSE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    x.wb = x.sheet ? workbook_new_opt(tmp, &wo) : NULL;
    if (!x.wb) {
        remove(tmp);
        free(x.sheet);
        wf_analysis_free(&a);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot start the workbook", path);
    }
    lxw_doc_properties props = {0};
    props.title = "Turbine alarm audit";
    props.author = (char *)(r->tool ? r->tool : WF_TOOL_NAME);
    props.comments = "Written by whyflag; see manifest.json for the hashes of every file.";
    props.created = (time_t)r->generated_at;
    workbook_set_properties(x.wb, &props);
    x.head = workbook_add_format(x.wb);
    format_set_bold(x.head);
    format_set_bg_color(x.head, 0x1B3A5C);
    format_set_font_color(x.head, 0xFFFFFF);
    x.date = workbook_add_format(x.wb);
    format_set_num_format(x.date, "yyyy-mm-dd hh:mm");
    x.score = workbook_add_format(x.wb);
    format_set_num_format(x.score, "0.000");
    x.num = workbook_add_format(x.wb);
    format_set_num_format(x.num, "0.0");
    x.sci = workbook_add_format(x.wb);
    format_set_num_format(x.sci, "0.0000");
    x.wrap = workbook_add_format(x.wb);
    format_set_text_wrap(x.wrap);
    format_set_align(x.wrap, LXW_ALIGN_VERTICAL_TOP);
    x.title = workbook_add_format(x.wb);
    format_set_bold(x.title);
    format_set_font_size(x.title, 13);
    x.bold = workbook_add_format(x.wb);
    format_set_bold(x.bold);
    x.link = workbook_get_default_url_format(x.wb);
    x.mono = workbook_add_format(x.wb);
    format_set_font_name(x.mono, "Consolas");
    for (int i = 0; i < A->n_turbines; i++) {
        if (A->turbines[i].flagged == 0)
            continue;
        sheet_name_for(A->turbines[i].id, x.sheet, i);
    }
    sheet_summary(&x);
    sheet_episodes(&x);
    sheet_windows(&x);
    sheet_attributions(&x);
    sheet_why(&x);
    if (r->drift)
        wf_xlsx_drift_sheet(x.wb, A, x.head, x.title, x.date);
    if (r->compare) { /* issue 15 (xlsx_compare.c) */
        wf_cmp cmp;
        wf_error cerr = {0};
        if (wf_cmp_build(A, &cmp, &cerr) == WF_OK) {
            wf_xlsx_compare_sheet(x.wb, A, &cmp, x.head, x.title, x.date);
            wf_cmp_free(&cmp);
        }
    }
    for (int i = 0; i < A->n_turbines; i++)
        if (x.sheet[i][0]) { /* issue 14: the score timeline below (xlsx_timeline.c) */
            int last = sheet_turbine(&x, i);
            wf_xlsx_turbine_timeline(x.wb, workbook_get_worksheet_by_name(x.wb, x.sheet[i]),
                                     x.sheet[i], A, i, last + 3, x.head, x.bold, x.date, x.score);
        }
    sheet_methods(&x);
    sheet_manifest(&x);
    lxw_error le = workbook_close(x.wb);
    free(x.sheet);
    wf_analysis_free(&a);
    if (x.refused[0]) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: libxlsxwriter refused the sheet name '%s'", path,
                            x.refused);
    }
    if (le != LXW_NO_ERROR) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: libxlsxwriter: %s", path, lxw_strerror(le));
    }
    return wf_file_commit(tmp, path, err);
}
