/*
 * The outputs of an audit (one-machine run or merge) from a combined part: results.json,
 * report.pdf, report.xlsx, scores.csv, manifest.json (+ .sig). Everything is written into a
 * staging folder inside the output folder and moved into place only when all of it was written,
 * so a failed run never leaves a half-written or mismatched set.
 *
 * Two runs publishing into one folder: the output folder itself is locked (flock on the folder,
 * no file left behind) from staging to the last rename, and a second run fails at once naming
 * the folder. Holding the lock, a run removes the .whyflag-staging-* folders that runs killed
 * mid-write left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/fileio.h"
#include "core/version.h"
#include "whyflag/report.h"
#include "whyflag/versions.h"

static const char *const OUTPUTS[] = {"report.pdf", "report.xlsx",   "results.json",
                                      "scores.csv", "manifest.json", "manifest.json.sig"};
#define N_OUTPUTS (sizeof OUTPUTS / sizeof OUTPUTS[0])

int64_t wf_audit_run_time(void) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 0)
            return (int64_t)v;
    }
    return (int64_t)time(NULL);
}

wf_status wf_audit_check_source_date(wf_error *err) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return WF_OK;
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (*end || v < 0 || errno == ERANGE || v >= 253402300800ll) /* 10000-01-01 */
        return wf_error_set(err, WF_ERR_INVALID,
                            "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds since "
                            "1970-01-01 (0 .. 253402300799); unset it or fix it",
                            sde);
    return WF_OK;
}

wf_status wf_audit_make_dir(const char *path, wf_error *err) {
    /* mkdir -p: parents first (a Slurm array writes shards/shard-K into a fresh shards/) */
    char p[WF_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", path);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        mkdir(p, 0777); /* errors surface below, on the folder itself */
        *q = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create the output folder: %s", path,
                            strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return wf_error_set(err, WF_ERR_IO, "%s: not a folder", path);
    if (access(path, W_OK) != 0)
        return wf_error_set(err, WF_ERR_IO, "%s: the output folder is not writable", path);
    return WF_OK;
}

static void remove_staging(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[WF_PATH_MAX + 400];
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
                remove(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Lock out_dir for publishing: *fd (close it to unlock). */
static wf_status lock_out_dir(const char *out_dir, int *fd, wf_error *err) {
    *fd = open(out_dir, O_RDONLY | O_DIRECTORY);
    if (*fd < 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open the output folder: %s", out_dir,
                            strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return wf_error_set(err, WF_ERR_IO,
                                "%s: another whyflag run is writing its outputs into this folder "
                                "now; use another --out or wait for it",
                                out_dir);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot lock the output folder: %s", out_dir,
                            strerror(e));
    }
    return WF_OK;
}

static void remove_staging(const char *dir);

/* Staging folders of runs that died mid-write (the lock is held: no live run owns one). */
static void remove_stale_staging(const char *out_dir) {
    DIR *d = opendir(out_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".whyflag-staging-", 17) != 0)
            continue;
        char p[WF_PATH_MAX + 300];
        if (snprintf(p, sizeof p, "%s/%s", out_dir, e->d_name) < (int)sizeof p)
            remove_staging(p);
    }
    closedir(d);
}

static wf_status publish(const char *staging, const char *out_dir, int per_turbine, wf_error *err) {
    /* turbines/ (issue 19) first: the manifest moved in last lists what is there */
    wf_status st = wf_report_turbines_publish(staging, out_dir, per_turbine, err);
    if (st)
        return st;
    for (size_t i = 0; i < N_OUTPUTS; i++) {
        char from[WF_PATH_MAX + 160], to[WF_PATH_MAX + 64];
        snprintf(from, sizeof from, "%s/%s", staging, OUTPUTS[i]);
        snprintf(to, sizeof to, "%s/%s", out_dir, OUTPUTS[i]);
        if (access(from, F_OK) != 0) {
            remove(to); /* e.g. a stale signature from an earlier signed run */
            continue;
        }
        if (rename(from, to) != 0)
            return wf_error_set(err, WF_ERR_IO, "%s: cannot move into place: %s", to,
                                strerror(errno));
    }
    return WF_OK;
}

/* What the results and the manifest say of every run and shard: identity, model, settings. */
static void results_common(wf_results *r, const wf_config *cfg, const wf_model *model,
                           const wf_predictor *pred, const wf_audit_part *pt, const char *command) {
    memset(r, 0, sizeof *r);
    r->tool = WF_TOOL_NAME;
    r->command = command;
    r->model_path = cfg->model;
    memcpy(r->model_sha256, pt->id.model, sizeof r->model_sha256);
    r->model_quantized = wf_model_is_quantized(model);
    r->surrogate = pred->surrogate;
    r->output_name = pred->output_name[0] ? pred->output_name : NULL;
    r->output_column = pred->output_column;
    r->output_kind = pred->output_kind;
    r->threshold = cfg->threshold;
    r->generated_at = wf_audit_run_time();
    r->settings = &cfg->explain;
    r->background = pt->has_bg ? &pt->bg : NULL;
    r->windows = &pt->ws;
}

wf_status wf_audit_write_outputs(const wf_config *cfg, const wf_model *model,
                                 const wf_predictor *pred, const wf_audit_part *all,
                                 const char *out_dir, const char *data_dir, const uint8_t *sign_key,
                                 wf_error *err) {
    char methods[4096];
    wf_explain_describe(&cfg->explain, all->has_bg ? &all->bg : NULL, methods, sizeof methods);
    wf_failure *failures = NULL;
    int64_t n_failures = 0;
    wf_status st = WF_OK;
    if (cfg->failures.path[0]) {
        /* read once, and the bytes parsed must be those the run's digest recorded */
        char hex[65];
        st = wf_failures_read_digest(cfg->failures.path, &cfg->log, &failures, &n_failures, hex,
                                     err);
        if (!st && strcmp(hex, all->id.failures) != 0)
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s (failures.path) changed during the run (SHA-256 %s when the "
                              "run started, %s now): nothing was written; rerun the audit",
                              cfg->failures.path, all->id.failures, hex);
        if (st) {
            free(failures);
            return st;
        }
    }
    wf_audit_checks checks;
    st = wf_audit_checks_build(cfg, all, &checks, err);
    if (st) {
        free(failures);
        return st;
    }
    wf_results r;
    results_common(&r, cfg, model, pred, all, "audit");
    wf_model_card *card = malloc(sizeof *card);
    if (card) {
        wf_model_card_build(model, card);
        r.model_card = card;
    }
    r.dependence = checks.plan.has_dep ? &checks.plan.dep : NULL;
    r.why = checks.why;
    r.scores = all->scores;
    r.flagged = all->flagged;
    r.n_failures = n_failures;
    r.failures = failures;
    r.horizon_hours = cfg->failures.horizon_hours;
    r.channel_min = all->ch_min;
    r.channel_max = all->ch_max;
    r.n_explained = all->n_expl;
    r.expl = all->expl;
    wf_audit_drift_report drift;
    memset(&drift, 0, sizeof drift);
    if (all->drift) {
        if ((st = wf_audit_drift_report_build(cfg, all, &drift, err))) {
            free(failures);
            return st;
        }
        r.drift = &drift.r;
    }

    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = data_dir ? data_dir : WF_DATA_DIR;
    o.template_path = cfg->report.template_path;
    o.fonts_dir = cfg->report.fonts_dir;
    o.title = cfg->report.title;
    o.max_episode_pages = cfg->report.max_episode_pages;
    o.methods_text = methods;
    o.per_turbine = cfg->report.per_turbine; /* issue 19: turbines/<file>.pdf */
    /* The digests the run computed when it started: the manifest records what was read. */
    o.inputs[o.n_inputs++] = (wf_report_input){"model", cfg->model, all->id.model};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", cfg->log.path, all->id.log};
    if (cfg->failures.path[0])
        o.inputs[o.n_inputs++] =
            (wf_report_input){"failures", cfg->failures.path, all->id.failures};
    o.inputs[o.n_inputs++] = (wf_report_input){"config", cfg->config_path, all->id.config};
    if (cfg->explain.background == WF_BACKGROUND_FILE)
        o.inputs[o.n_inputs++] =
            (wf_report_input){"background", cfg->explain.background_path, all->id.background};
    if (cfg->explain.baseline == WF_BASELINE_FILE)
        o.inputs[o.n_inputs++] =
            (wf_report_input){"baseline", cfg->explain.baseline_path, all->id.baseline};
    o.versions[o.n_versions++] = (wf_report_version){"protobuf-c", wf_model_version_protobuf_c()};
    o.versions[o.n_versions++] = (wf_report_version){"OpenBLAS", wf_model_version_openblas()};
    o.versions[o.n_versions++] = (wf_report_version){"cJSON", wf_io_version_cjson()};
    if (sign_key) {
        o.sign = 1;
        memcpy(o.sign_key, sign_key, 32);
    }

    char staging[WF_PATH_MAX + 64];
    if (snprintf(staging, sizeof staging, "%s/.whyflag-staging-XXXXXX", out_dir) >=
        (int)sizeof staging) {
        free(failures);
        free(card);
        wf_audit_checks_free(&checks);
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", out_dir);
    }
    int lock_fd = -1;
    st = lock_out_dir(out_dir, &lock_fd, err);
    if (st) {
        free(failures);
        return st;
    }
    remove_stale_staging(out_dir);
    if (!mkdtemp(staging)) {
        st = wf_error_set(err, WF_ERR_IO, "%s: cannot create a staging folder: %s", out_dir,
                          strerror(errno));
    } else {
        st = wf_report_write_all(&r, &o, staging, err);
        if (!st)
            st = publish(staging, out_dir, o.per_turbine, err);
        wf_report_turbines_clean(staging);
        remove_staging(staging);
    }
    free(card);
    wf_audit_drift_report_free(&drift);
    close(lock_fd);
    free(failures);
    wf_audit_checks_free(&checks);
    return st;
}

/* The partial manifest of a shard folder: inputs, settings and shard.bin. */
wf_status wf_audit_write_shard_manifest(const wf_config *cfg, const wf_model *model,
                                        const wf_predictor *pred, const wf_audit_part *pt,
                                        const char *dir, const char *data_dir, wf_error *err) {
    wf_results r;
    results_common(&r, cfg, model, pred, pt, "audit --shard");
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = data_dir ? data_dir : WF_DATA_DIR;
    o.template_path = cfg->report.template_path;
    o.fonts_dir = cfg->report.fonts_dir;
    o.inputs[o.n_inputs++] = (wf_report_input){"model", cfg->model, pt->id.model};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", cfg->log.path, pt->id.log};
    if (cfg->failures.path[0])
        o.inputs[o.n_inputs++] = (wf_report_input){"failures", cfg->failures.path, pt->id.failures};
    o.inputs[o.n_inputs++] = (wf_report_input){"config", cfg->config_path, pt->id.config};
    static const char *const outs[] = {"shard.bin"};
    return wf_manifest_write(dir, &r, &o, outs, 1, err);
}
