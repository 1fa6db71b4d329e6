/*
 * The flat tables of an audit beside results.json (issue 14), for readers that want rows, not a
 * document: each loads with one call of pandas.read_csv (or any CSV reader) and holds the same
 * values as results.json, from the same analysis (analysis.c: episodes, failure credit).
 *
 *   episodes.csv          turbine_id,episode,start,end,flagged_windows,peak_start,peak_score,
 *                         outcome,failure_time,component,lead_hours
 *                         one row per alarm episode, in results.json's "episodes" order; outcome
 *                         "true alarm" | "repeat alarm" | "false alarm" | "no failure log"; the
 *                         failure it was credited with (time, component, lead hours) on a true
 *                         alarm, else empty cells
 *   failure_outcomes.csv  turbine_id,time,component,outcome,episode,lead_hours
 *                         one row per failure of the failure log, in the log's order; outcome
 *                         "caught" | "missed" | "not observable"; the crediting episode's number
 *                         and the lead time when caught, else empty. Not named failures.csv: the
 *                         failure log is often named so, and may lie in the output folder.
 *   attributions.csv      turbine_id,window_start,method,player,value
 *                         long format: one row per explained window, method and player, in
 *                         window order; method "kernelshap" (or "owen" with groups "hierarchy":
 *                         the exact Owen values), "ig" (the channel sums of Integrated Gradients;
 *                         the per-timestep values stay in results.json), "treeshap"; player the
 *                         channel, or the group/segment/cell the values are over.
 *
 * Times are ISO-8601 UTC, numbers the shortest text that reads back as the same double, a
 * number that is not known an empty cell. Every text cell goes through wf_report_csv_field (the
 * OWASP neutralisation scores.csv has). A table with no row has its header, so the set of files
 * and their columns never change with the data.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "report/report_impl.h"

const char *const wf_results_table_names[WF_RESULTS_N_TABLES] = {
    "episodes.csv", "failure_outcomes.csv", "attributions.csv"};

/* ,number (empty when not finite) */
static void cnum(FILE *f, double v) {
    char b[40];
    fputc(',', f);
    if (isfinite(v))
        fputs(wf_fmt_double(b, v), f);
}

/* ,time */
static void ciso(FILE *f, int64_t t) {
    char b[32];
    fputc(',', f);
    fputs(wf_time_format_iso(t, b), f);
}

/* ,text */
static void ctext(FILE *f, const char *s) {
    fputc(',', f);
    wf_report_csv_field(f, s ? s : "");
}

static void write_episodes(FILE *f, const wf_analysis *a) {
    const wf_windows *ws = a->r->windows;
    fputs("turbine_id,episode,start,end,flagged_windows,peak_start,peak_score,outcome,"
          "failure_time,component,lead_hours\n",
          f);
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        int credited = e->outcome == WF_OUTCOME_TRUE;
        wf_report_csv_field(f, a->turbines[e->turbine].id);
        fprintf(f, ",%d", k + 1);
        ciso(f, ws->w[e->first].start);
        ciso(f, ws->w[e->last].end);
        fprintf(f, ",%lld", (long long)e->n);
        ciso(f, ws->w[e->peak].start);
        cnum(f, e->peak_score);
        ctext(f, wf_outcome_str(e->outcome));
        if (credited)
            ciso(f, e->failure_time);
        else
            fputc(',', f);
        ctext(f, credited ? e->component : "");
        cnum(f, credited ? e->lead_hours : NAN);
        fputc('\n', f);
    }
}

static void write_failures(FILE *f, const wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    fputs("turbine_id,time,component,outcome,episode,lead_hours\n", f);
    for (int64_t i = 0; r->failures && a->fail_outcome && i < r->n_failures; i++) {
        const wf_failure *x = &r->failures[i];
        wf_report_csv_field(f, x->turbine_id);
        ciso(f, x->time);
        ctext(f, x->component);
        ctext(f, wf_failure_outcome_str(a->fail_outcome[i]));
        int k = a->fail_episode[i];
        if (k >= 0) {
            /* the lead time results.json's "failures" gives: to the end of the episode's first
             * flagged window */
            fprintf(f, ",%d", k + 1);
            cnum(f, (double)(x->time - ws->w[a->episodes[k].first].end) / 3600.0);
        } else {
            fputs(",,", f);
        }
        fputc('\n', f);
    }
}

static void attr_rows(FILE *f, const wf_window *w, const char *method, char *const *players, int M,
                      const double *values) {
    for (int m = 0; values && m < M; m++) {
        wf_report_csv_field(f, w->turbine_id);
        ciso(f, w->start);
        ctext(f, method);
        ctext(f, players ? players[m] : "");
        cnum(f, values[m]);
        fputc('\n', f);
    }
}

static void write_attributions(FILE *f, const wf_analysis *a) {
    const wf_results *r = a->r;
    const wf_windows *ws = r->windows;
    const int owen = r->settings && r->settings->groups == WF_GROUPS_HIERARCHY;
    fputs("turbine_id,window_start,method,player,value\n", f);
    for (int64_t i = 0; r->expl && i < r->n_explained; i++) {
        const wf_explanation *e = &r->expl[i];
        const wf_window *w = &ws->w[e->window_index];
        if (e->has_kshap)
            attr_rows(f, w, owen ? "owen" : "kernelshap", e->kshap.players, e->kshap.M,
                      e->kshap.values);
        if (e->has_ig && e->ig.channel_sums)
            attr_rows(f, w, "ig", ws->channels, e->ig.C, e->ig.channel_sums);
        if (e->has_treeshap)
            attr_rows(f, w, "treeshap", e->treeshap.players, e->treeshap.M, e->treeshap.values);
    }
}

typedef void (*table_fn)(FILE *f, const wf_analysis *a);

static wf_status write_table(const char *path, table_fn fn, const wf_analysis *a, wf_error *err) {
    char tmp[4200];
    wf_status st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st)
        return st;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    fn(f, a);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: write failed (disk full?)", path);
    }
    return wf_file_commit(tmp, path, err);
}

wf_status wf_results_write_tables(const char *dir, const wf_results *r, wf_error *err) {
    return wf_results_write_tables_with(dir, r, NULL, err);
}

wf_status wf_results_write_tables_with(const char *dir, const wf_results *r, const wf_analysis *an,
                                       wf_error *err) {
    wf_analysis a;
    memset(&a, 0, sizeof a);
    wf_status st = an ? WF_OK : wf_analysis_build(&a, r, 0, err);
    if (st)
        return st;
    static const table_fn fns[WF_RESULTS_N_TABLES] = {write_episodes, write_failures,
                                                      write_attributions};
    char path[4200];
    for (int k = 0; k < WF_RESULTS_N_TABLES && !st; k++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, wf_results_table_names[k]) >=
            (int)sizeof path)
            st = wf_error_set(err, WF_ERR_INVALID, "%s: path too long", dir);
        else
            st = write_table(path, fns[k], an ? an : &a, err);
    }
    wf_analysis_free(&a);
    return st;
}
