/*
 * `whyflag report DIR`: an audit's report rendered again from its output folder (issue 19,
 * whyflag/rerender.h). results.json and the scores.csv it names must match the SHA-256
 * manifest.json records for them (else refused, or rendered with every page marked UNVERIFIED
 * under --force); the log and the config are read, when they are where the manifest says and
 * unchanged, for the signals of the explained windows and of the background, which results.json
 * does not hold.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_impl.h"
#include "core/fileio.h"
#include "whyflag/config.h"
#include "whyflag/manifest.h"
#include "whyflag/report.h"
#include "whyflag/rerender.h"
#include "whyflag/results_read.h"
#include "whyflag/versions.h"

static void warn(wf_rerender_summary *s, const char *fmt, ...) {
    if (s->n_warnings >= WF_RERENDER_MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->warnings[s->n_warnings++], sizeof s->warnings[0], fmt, ap); /* may be cut */
    va_end(ap);
}

static const wf_manifest_entry *entry(const wf_manifest_doc *m, const char *role,
                                      const char *path) {
    for (int64_t i = 0; i < m->n; i++)
        if (!strcmp(m->entry[i].role, role) && (!path || !strcmp(m->entry[i].path, path)))
            return &m->entry[i];
    return NULL;
}

/* 1 when the input of role exists and matches its recorded digest (a warning otherwise). */
static int input_ok(const wf_manifest_doc *m, const char *role, wf_rerender_summary *s) {
    const wf_manifest_entry *e = entry(m, role, NULL);
    char hex[65];
    wf_error e2;
    if (!e) {
        warn(s, "the manifest lists no %s%s", role, "");
        return 0;
    }
    if (wf_sha256_file_hex(e->path, hex, &e2) != WF_OK) {
        warn(s, "%s (%s) is not readable", e->path, role);
        return 0;
    }
    if (strcmp(hex, e->sha256) != 0) {
        warn(s, "%s (%s) changed since the audit (its SHA-256 differs from the manifest's)",
             e->path, role);
        return 0;
    }
    return 1;
}

static int64_t find_window(const wf_windows *ws, const char *id, int64_t start) {
    int64_t lo = 0, hi = ws->n - 1; /* canonical order: turbine id (bytes), then start */
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ws->w[mid].turbine_id, id);
        if (!c)
            c = ws->w[mid].start < start ? -1 : ws->w[mid].start > start;
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The explained windows' and the background's values from the log: 1 when all were found. */
static int fill_signals(wf_results_doc *d, const wf_config *cfg, wf_rerender_summary *s,
                        wf_error *err) {
    wf_windows log;
    memset(&log, 0, sizeof log);
    wf_data_config dc = wf_config_data(cfg);
    wf_error e2 = {0};
    if (wf_data_load_windows(&dc, &log, NULL, NULL, NULL, &e2) != WF_OK) {
        warn(s, "the log could not be windowed again: %s%s", e2.msg, "");
        return 0;
    }
    size_t cell = (size_t)d->ws.C * (size_t)d->ws.T;
    int ok = log.C == d->ws.C && log.T == d->ws.T;
    int64_t ne = d->r.n_explained;
    d->values = ok ? malloc(sizeof(float) * cell * (size_t)(ne > 0 ? ne : 1)) : NULL;
    for (int64_t i = 0; ok && d->values && i < ne; i++) {
        wf_window *w = &d->ws.w[d->expl[i].window_index];
        int64_t k = find_window(&log, w->turbine_id, w->start);
        if (k < 0) {
            ok = 0;
            break;
        }
        memcpy(d->values + (size_t)i * cell, log.w[k].values, sizeof(float) * cell);
        w->values = d->values + (size_t)i * cell;
    }
    wf_background *b = d->has_bg ? &d->bg : NULL;
    if (ok && b && b->n == b->n_src && b->n > 0) { /* drawn windows (a k-means summary is not) */
        b->x = malloc(sizeof(float) * cell * (size_t)b->n);
        for (int64_t i = 0; b->x && i < b->n; i++) {
            int64_t k = find_window(&log, b->src[i].turbine_id, b->src[i].start);
            if (k < 0) {
                ok = 0;
                break;
            }
            memcpy(b->x + (size_t)i * cell, log.w[k].values, sizeof(float) * cell);
        }
        if (!b->x)
            ok = 0;
    } else if (ok && b && b->n > 0) {
        warn(s,
             "the background is a summary of the windows (%s): the signal bands and the "
             "percentiles are left out%s",
             b->description, "");
    }
    if (!ok || !d->values) {
        for (int64_t i = 0; i < d->ws.n; i++)
            d->ws.w[i].values = NULL;
        if (b) {
            free(b->x);
            b->x = NULL;
        }
        warn(s, "the log does not hold the run's windows any more%s%s", "", "");
        ok = 0;
    }
    wf_windows_free(&log);
    (void)err;
    return ok;
}

wf_status wf_audit_rerender(const wf_rerender_opts *o, wf_rerender_summary *sum, wf_error *err) {
    wf_rerender_summary dummy;
    if (!sum)
        sum = &dummy;
    memset(sum, 0, sizeof *sum);
    const char *dir = o->dir;
    const char *out = o->out_dir && o->out_dir[0] ? o->out_dir : dir;
    char mpath[WF_PATH_MAX + 32], rpath[WF_PATH_MAX + 32], hex[65];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    snprintf(rpath, sizeof rpath, "%s/results.json", dir);
    wf_manifest_doc m;
    wf_status st = wf_manifest_read(mpath, &m, err);
    if (st)
        return st;
    const wf_manifest_entry *re = entry(&m, "output", "results.json");
    st = wf_sha256_file_hex(rpath, hex, err);
    if (!st && (!re || strcmp(re->sha256, hex) != 0)) {
        if (!o->force) {
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s does not match %s (SHA-256 %.16s... recorded, %.16s... found): "
                              "it was changed after the audit, so no report is rendered from it; "
                              "--force renders it with every page marked UNVERIFIED",
                              rpath, mpath, re ? re->sha256 : "(not listed)", hex);
        } else {
            sum->unverified = 1;
        }
    }
    wf_results_doc d;
    memset(&d, 0, sizeof d);
    if (!st)
        st = wf_results_read_json(rpath, &d, err);
    if (!st && d.scores_file[0]) { /* issue 14: the scores are in scores.csv, checked alike */
        char spath[WF_PATH_MAX + 300];
        snprintf(spath, sizeof spath, "%s/%s", dir, d.scores_file);
        const wf_manifest_entry *se = entry(&m, "output", d.scores_file);
        st = wf_sha256_file_hex(spath, hex, err);
        if (!st && (!se || strcmp(se->sha256, hex) != 0)) {
            if (!o->force)
                st = wf_error_set(err, WF_ERR_VERIFY,
                                  "%s does not match %s (SHA-256 %.16s... recorded, %.16s... "
                                  "found): it was changed after the audit, so no report is "
                                  "rendered from it; --force renders it with every page marked "
                                  "UNVERIFIED",
                                  spath, mpath, se ? se->sha256 : "(not listed)", hex);
            else
                sum->unverified = 1;
        }
    }
    char rid[17];
    if (!st)
        st = wf_report_run_id(&d.r, rid, err);
    if (!st && strcmp(rid, d.run_id) != 0 && !sum->unverified)
        st = wf_error_set(err, WF_ERR_VERIFY,
                          "%s: the run id recomputed from its windows and scores (%s) is not the "
                          "recorded one (%s): the file is inconsistent",
                          rpath, rid, d.run_id);
    if (st) {
        wf_results_doc_free(&d);
        wf_manifest_doc_free(&m);
        return st;
    }
    /* the config (template, fonts, how the log is read) and the log, when unchanged */
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int have_cfg = 0;
    if (input_ok(&m, "config", sum)) {
        wf_error e2 = {0};
        have_cfg = wf_config_load(entry(&m, "config", NULL)->path, &cfg, &e2) == WF_OK;
        if (!have_cfg)
            warn(sum, "the config could not be read: %s%s", e2.msg, "");
    }
    if (have_cfg && input_ok(&m, "log", sum))
        sum->signals = fill_signals(&d, &cfg, sum, err);
    else if (!have_cfg)
        warn(sum, "without the config the log cannot be windowed: the signals are left out%s%s", "",
             "");
    wf_report_options ro;
    wf_report_options_default(&ro);
    ro.data_dir = o->data_dir ? o->data_dir : WF_DATA_DIR;
    ro.template_path = o->template_path ? o->template_path
                       : have_cfg       ? cfg.report.template_path
                                        : NULL;
    ro.fonts_dir = have_cfg ? cfg.report.fonts_dir : NULL;
    ro.title = d.r.report_title;
    ro.max_episode_pages = d.r.max_episode_pages;
    ro.per_turbine = d.r.per_turbine;
    ro.unverified = sum->unverified;
    ro.signals_missing = !sum->signals;
    ro.threads = o->threads;
    for (int64_t i = 0; i < m.n && ro.n_inputs < WF_REPORT_MAX_INPUTS; i++) {
        const wf_manifest_entry *e = &m.entry[i];
        if (!strcmp(e->role, "output") || !strcmp(e->role, "template") || !strcmp(e->role, "font"))
            continue;
        ro.inputs[ro.n_inputs++] = (wf_report_input){e->role, e->path, e->sha256};
    }
    ro.versions[ro.n_versions++] = (wf_report_version){"protobuf-c", wf_model_version_protobuf_c()};
    ro.versions[ro.n_versions++] = (wf_report_version){"OpenBLAS", wf_model_version_openblas()};
    ro.versions[ro.n_versions++] = (wf_report_version){"cJSON", wf_io_version_cjson()};
    int n_missing = 0;
    char missing[400];
    st = wf_report_template_check(&ro, &n_missing, missing, sizeof missing, err);
    if (!st && n_missing > 0) {
        char nb[32];
        snprintf(nb, sizeof nb, "%d", n_missing);
        warn(sum,
             "the template's [words] section lacks %s of the report's words (%s...): they "
             "are printed in English",
             nb, missing);
    }
    if (!st)
        st = wf_audit_make_dir(out, err);
    char path[WF_PATH_MAX + 32];
    if (!st && !o->only_turbine) {
        snprintf(path, sizeof path, "%s/report.pdf", out);
        st = wf_report_write_pdf(path, &d.r, &ro, err);
        if (!st) {
            snprintf(path, sizeof path, "%s/report.xlsx", out);
            st = wf_report_write_xlsx(path, &d.r, &ro, err);
        }
    }
    if (!st && (o->only_turbine || ro.per_turbine)) {
        st = wf_report_write_turbines(out, &d.r, &ro, o->only_turbine, &sum->n_turbine_pdfs, err);
        sum->per_turbine = !st;
    }
    if (have_cfg)
        wf_config_deinit(&cfg);
    wf_results_doc_free(&d);
    wf_manifest_doc_free(&m);
    return st;
}
