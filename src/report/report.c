/*
 * wf_report_write_all: results.json, report.pdf, report.xlsx, and when there are scores (an
 * audit) scores.csv, episodes.csv, failure_outcomes.csv and attributions.csv (issue 14), then
 * manifest.json (+ signature) in one call. The three reports are first written into a staging
 * folder inside out_dir and moved into place only when all of them succeeded, so a failed run
 * leaves no partial report; the manifest is written last, over the final files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/threads.h"
#include "report/report_impl.h"
#include "report/turbine_impl.h"

static wf_status mkdir_p1(const char *dir, wf_error *err) {
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return wf_error_set(err, WF_ERR_IO, "%s: exists and is not a folder", dir);
        return WF_OK;
    }
    if (mkdir(dir, 0777) != 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create the output folder: %s", dir,
                            strerror(errno));
    return WF_OK;
}

wf_status wf_report_write_all(const wf_results *r, const wf_report_options *o, const char *out_dir,
                              wf_error *err) {
    wf_report_options oo;
    if (o)
        oo = *o;
    else
        wf_report_options_default(&oo);
    wf_report_versions_complete(&oo); /* once, for every writer */
    o = &oo;
    /* issue 19: results.json records what the report was rendered with */
    wf_results rr = *r;
    char *methods = malloc(8192);
    if (!methods)
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", out_dir);
    wf_report_methods_text(r, o, methods, 8192);
    rr.methods_text = methods;
    rr.report_title = o->title && o->title[0] ? o->title : "";
    rr.max_episode_pages = o->max_episode_pages > 0 ? o->max_episode_pages : 200;
    rr.per_turbine = o->per_turbine;
    r = &rr;
    /* the tables (results_tables.c) are written by one call, into the staging folder */
    const char *names[4 + WF_RESULTS_N_TABLES] = {"results.json", "report.pdf", "report.xlsx",
                                                  "scores.csv"};
    for (int k = 0; k < WF_RESULTS_N_TABLES; k++)
        names[4 + k] = wf_results_table_names[k];
    const int n_names = r->scores ? 4 + WF_RESULTS_N_TABLES : 3;
    wf_status st = mkdir_p1(out_dir, err);
    char stage[4096], from[4200], to[4200];
    if (!st &&
        snprintf(stage, sizeof stage, "%s/.whyflag-staging-XXXXXX", out_dir) >= (int)sizeof stage)
        st = wf_error_set(err, WF_ERR_INVALID, "%s: path too long", out_dir);
    if (!st && !mkdtemp(stage))
        st = wf_error_set(err, WF_ERR_IO, "%s: cannot write into the output folder: %s", out_dir,
                          strerror(errno));
    if (st) {
        free(methods);
        return st;
    }
    /* one analysis for every writer (at fleet scale each build costs seconds and ~90 MB) */
    wf_analysis an;
    memset(&an, 0, sizeof an);
    if (!st)
        st = wf_analysis_build(&an, r, o->max_episode_pages, err);
    for (int i = 0; i < n_names && !st; i++) {
        wf_mem_release(); /* what the run or the previous writer freed, back to the system */
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        if (i == 0)
            st = wf_results_write_json_with(from, r, &an, err);
        else if (i == 1)
            st = wf_report_write_pdf_with(from, r, o, &an, err);
        else if (i == 2)
            st = wf_report_write_xlsx_with(from, r, o, &an, err);
        else if (i == 3)
            st = wf_results_write_scores_csv(from, r, err);
        else if (i == 4)
            st = wf_results_write_tables_with(stage, r, &an, err);
    }
    wf_analysis_free(&an);
    char **tnames = NULL; /* issue 19: turbines/<file>.pdf (report_turbines.c) */
    int n_tnames = 0;
    if (!st && o->per_turbine)
        st = wf_report_turbines_stage(r, o, stage, &tnames, &n_tnames, err);
    for (int i = 0; i < n_names && !st; i++) {
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        snprintf(to, sizeof to, "%s/%s", out_dir, names[i]);
        if (rename(from, to) != 0)
            st =
                wf_error_set(err, WF_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
    }
    for (int i = 0; i < n_names; i++) { /* clean the staging folder whatever happened */
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        remove(from);
    }
    if (!st)
        st = wf_report_turbines_publish(stage, out_dir, o->per_turbine, err);
    wf_report_turbines_clean(stage);
    rmdir(stage);
    if (!st)
        st = wf_report_manifest_with(out_dir, r, o, names, n_names, tnames, n_tnames, err);
    wf_report_names_free(tnames, n_tnames);
    free(methods);
    return st;
}
