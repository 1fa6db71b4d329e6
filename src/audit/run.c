/*
 * The audit's public entry points (include/whyflag/audit.h): open a run, run it (whole or one
 * shard), merge shard folders, and draw the run's background for `whyflag explain --config`.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit_impl.h"
#include "core/clock.h"
#include "core/fileio.h"
#include "whyflag/manifest.h"

void wf_audit_opts_default(wf_audit_opts *o) {
    memset(o, 0, sizeof *o);
    o->shard_n = 1;
    o->threads = -1;
}

/* The model's channels (metadata) must be the config's, in order. */
static wf_status check_channels(const wf_config *cfg, const wf_model *model, wf_error *err) {
    const char *const *mchan = NULL;
    int n = wf_model_channels(model, &mchan);
    if (n <= 0)
        return WF_OK;
    if (n != cfg->log.n_channels)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "%s: log.channels lists %d channels but the model %s was trained on %d",
                            cfg->config_path, cfg->log.n_channels, cfg->model, n);
    for (int c = 0; c < n; c++)
        if (strcmp(mchan[c], cfg->log.channels[c].name) != 0)
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s: log.channels[%d].name is '%s' but the model's channel %d is "
                                "'%s' (channels must be listed in the model's order)",
                                cfg->config_path, c, cfg->log.channels[c].name, c, mchan[c]);
    return WF_OK;
}

/* Each input is hashed from the bytes parsed, but the log may be read in more than one pass (the
 * shard assignment's count, the windower's pass for rows out of time order, drift's passes) and
 * merge reads the config and failure log again to check them against the shards' digests: so
 * every input must be a regular file, refused before anything is read (a FIFO or device would
 * hang or give different bytes each time). */
static wf_status check_regular(const char *path, const char *key, wf_error *err) {
    struct stat sb;
    if (!path || !path[0] || stat(path, &sb) != 0)
        return WF_OK; /* a missing file is reported, with its key, where it is opened */
    if (!S_ISREG(sb.st_mode))
        return wf_error_set(err, WF_ERR_IO,
                            "%s (%s) is not a regular file (a FIFO, device or folder); whyflag "
                            "reads its inputs more than once: copy it to a file first",
                            path, key);
    return WF_OK;
}

static wf_status check_inputs(const wf_config *cfg, wf_error *err) {
    wf_status st = check_regular(cfg->model, "model", err);
    if (!st)
        st = check_regular(cfg->log.path, "log.path", err);
    if (!st)
        st = check_regular(cfg->failures.path, "failures.path", err);
    if (!st && cfg->explain.background == WF_BACKGROUND_FILE)
        st = check_regular(cfg->explain.background_path, "explain.background.path", err);
    if (!st && cfg->explain.baseline == WF_BASELINE_FILE)
        st = check_regular(cfg->explain.baseline_path, "explain.baseline", err);
    return st;
}

wf_status wf_audit_open(const char *config_path, wf_audit **out, wf_error *err) {
    return wf_audit_open_output(config_path, NULL, out, err);
}

wf_status wf_audit_open_output(const char *config_path, const char *output, wf_audit **out,
                               wf_error *err) {
    *out = NULL;
    wf_audit *a = calloc(1, sizeof *a);
    if (!a)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    /* Load through the absolute path, as merge does (from the path the shards recorded), so that
     * every path in the results reads the same however the run was started. */
    char abs[PATH_MAX];
    if (realpath(config_path, abs))
        config_path = abs;
    /* Each file read once here, and hashed from the bytes parsed (the run's identity). */
    wf_status st = check_regular(config_path, "the config", err);
    if (!st)
        st = wf_audit_ident_config(config_path, &a->cfg, &a->id, err);
    if (!st)
        st = check_inputs(&a->cfg, err);
    if (!st)
        st = wf_audit_model_load_digest(a->cfg.model, &a->model, a->id.model, err);
    if (!st)
        st = check_channels(&a->cfg, a->model, err);
    if (!st)
        st = wf_explain_files_load(&a->cfg.explain, a->cfg.log.n_channels, a->cfg.window.length,
                                   &a->files, err);
    if (!st)
        wf_audit_ident_files(&a->files, &a->id);
    if (!st) {
        wf_layout layout = WF_LAYOUT_AUTO;
        if (!strcmp(a->cfg.layout, "NCT"))
            layout = WF_LAYOUT_NCT;
        else if (!strcmp(a->cfg.layout, "NTC"))
            layout = WF_LAYOUT_NTC;
        if (output && *output) /* the caller's choice overrides the config's model_output */
            snprintf(a->cfg.model_output, sizeof a->cfg.model_output, "%s", output);
        char what[WF_PATH_MAX + 32];
        snprintf(what, sizeof what, "%s: model_output", a->cfg.config_path);
        st = wf_model_predictor_spec(a->model, a->cfg.log.n_channels, a->cfg.window.length, layout,
                                     a->cfg.model_output, output && *output ? "--output" : what,
                                     &a->pred, err);
        if (!st)
            st = wf_audit_trees_setup_spec(&a->cfg.explain, a->model, a->cfg.log.n_channels,
                                           a->cfg.window.length, layout, a->cfg.model_output,
                                           &a->trees, err);
        if (!st && a->cfg.has_compare) /* model B (issue 15), checked before any work */
            st = wf_audit_cmp_model_open(&a->cfg, &a->cmpm, err);
    }
    if (st) {
        wf_audit_close(a);
        return st;
    }
    *out = a;
    return WF_OK;
}

void wf_audit_close(wf_audit *a) {
    if (!a)
        return;
    wf_predictor_deinit(&a->pred);
    wf_audit_cmp_model_close(&a->cmpm);
    wf_audit_trees_free(&a->trees);
    wf_model_free(a->model);
    wf_config_deinit(&a->cfg);
    wf_explain_files_free(&a->files);
    free(a);
}

wf_status wf_audit_set_compare(wf_audit *a, const char *model_path, wf_error *err) {
    wf_compare_config *cc = &a->cfg.compare;
    if (!a->cfg.has_compare)
        wf_compare_config_default(cc, a->cfg.threshold);
    char abs[PATH_MAX];
    if (realpath(model_path, abs))
        model_path = abs;
    if (snprintf(cc->model, sizeof cc->model, "%s", model_path) >= (int)sizeof cc->model)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", model_path);
    wf_audit_cmp_model_close(&a->cmpm);
    a->cfg.has_compare = 1;
    wf_status st = wf_audit_cmp_model_open(&a->cfg, &a->cmpm, err);
    if (st)
        a->cfg.has_compare = 0;
    return st;
}

const wf_config *wf_audit_config(const wf_audit *a) {
    return &a->cfg;
}

const wf_model *wf_audit_model(const wf_audit *a) {
    return a->model;
}

const wf_predictor *wf_audit_predictor(const wf_audit *a) {
    return &a->pred;
}

static void summarize(const wf_audit_part *pt, wf_audit_summary *sum) {
    sum->rows = pt->stats.rows;
    sum->turbines = pt->stats.turbines;
    sum->windows = pt->ws.n;
    sum->skipped = pt->ws.n_skipped;
    sum->flagged = sum->explained = sum->not_explained = 0;
    for (int64_t i = 0; i < pt->ws.n; i++)
        sum->flagged += pt->flagged[i];
    for (int64_t i = 0; i < pt->n_expl; i++) {
        if (pt->expl[i].status == WF_OK)
            sum->explained++;
        else
            sum->not_explained++;
    }
    sum->seconds_stream = pt->seconds_stream;
    sum->seconds_explain = pt->seconds_explain;
    sum->compared = pt->cmp != NULL;
    sum->seconds_compare_score = pt->cmp ? pt->cmp->seconds_score : 0;
}

/* A run that scored no window has nothing to report: an error (exit 4 in the CLI) naming what
 * was rejected, instead of a clean-looking empty report. */
static wf_status no_window(const char *log_path, const wf_data_stats *d, wf_error *err) {
    char what[WF_REASON_MAX * 2];
    const char *first = "";
    if (d) {
        wf_data_stats_describe(d, what, sizeof what);
        if (d->n_notes)
            first = d->notes[0];
    } else {
        snprintf(what, sizeof what, "every shard is empty");
    }
    return wf_error_set(err, WF_ERR_DATA,
                        "%s: no window could be scored, nothing was written: %s%s%s "
                        "(check log.time_format, log.cadence_seconds, the channel columns and "
                        "window.length)",
                        log_path, what, first[0] ? "; first problem: " : "", first);
}

wf_status wf_audit_run(wf_audit *a, const wf_audit_opts *o, wf_audit_summary *sum, wf_error *err) {
    double t0 = wf_now_seconds();
    wf_audit_summary dummy;
    if (!sum)
        sum = &dummy;
    memset(sum, 0, sizeof *sum);
    if (o->per_turbine) /* --per-turbine: as report.per_turbine in the config */
        a->cfg.report.per_turbine = 1;
    const wf_config *cfg = &a->cfg;
    int shard_n = o->shard_n < 1 ? 1 : o->shard_n;
    if (shard_n > WF_AUDIT_MAX_SHARDS || o->shard_k < 0 || o->shard_k >= shard_n)
        return wf_error_set(err, WF_ERR_INVALID, "shard %d/%d: expected 0 <= K < N <= %d",
                            o->shard_k, shard_n, WF_AUDIT_MAX_SHARDS);
    const char *out_dir = o->out_dir && *o->out_dir ? o->out_dir : cfg->output_dir;
    snprintf(sum->out_dir, sizeof sum->out_dir, "%s", out_dir);
    /* Check the output folder before any work, so that a typo costs nothing. */
    wf_status st = wf_audit_check_source_date(err);
    if (!st)
        st = wf_audit_make_dir(out_dir, err);
    if (st)
        return st;
    wf_audit_run_opts ro = {o->shard_k,
                            shard_n,
                            o->threads >= 0 ? o->threads : cfg->explain.threads,
                            0,
                            o->progress,
                            o->progress_user,
                            a->cmpm.model ? &a->cmpm : NULL,
                            &a->id};
    wf_audit_part part, all;
    memset(&part, 0, sizeof part);
    memset(&all, 0, sizeof all);
    st = wf_audit_part_run(cfg, a->model, &a->pred, &ro, &part, err);
    if (st)
        goto done;
    summarize(&part, sum);
    sum->have_data = 1;
    sum->data = part.stats;
    if (!o->sharded && part.ws.n == 0) {
        st = no_window(cfg->log.path, &part.stats, err);
        goto done;
    }
    if (o->sharded) {
        sum->fleet_turbines = part.n_turbines;
        for (int64_t i = 0; i < part.n_turbines; i++) {
            sum->fleet_rows += part.turbine_rows[i];
            if (part.turbine_shard[i] == o->shard_k) {
                sum->shard_turbines++;
                sum->shard_rows += part.turbine_rows[i];
            }
        }
        if (shard_n == 1) { /* no assignment pass: everything is this shard's */
            sum->shard_turbines = sum->fleet_turbines = part.stats.turbines;
            sum->shard_rows = sum->fleet_rows = part.stats.rows;
        }
        char path[WF_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/shard.bin", out_dir);
        st = wf_audit_shard_write(path, &part, err);
        if (!st)
            st = wf_audit_write_shard_manifest(cfg, a->model, &a->pred, &part, out_dir, o->data_dir,
                                               err);
        goto done;
    }
    const char *names[] = {cfg->config_path};
    st = wf_audit_combine(&part, names, 1, &all, err);
    if (!st)
        st =
            wf_audit_write_outputs(cfg, a->model, &a->pred, &all, out_dir, o->data_dir, o->sign_key,
                                   &a->cmpm, ro.threads, &sum->seconds_compare_explain, err);
    sum->signed_manifest = !st && o->sign_key;
done:
    sum->seconds_total = wf_now_seconds() - t0;
    wf_audit_part_free(&part);
    wf_audit_part_free(&all);
    return st;
}

wf_status wf_audit_merge(const char *const *dirs, int n, const wf_audit_opts *o,
                         wf_audit_summary *sum, wf_error *err) {
    double t0 = wf_now_seconds();
    wf_audit_summary dummy;
    if (!sum)
        sum = &dummy;
    memset(sum, 0, sizeof *sum);
    if (n < 1)
        return wf_error_set(err, WF_ERR_INVALID, "no shard folder given");
    wf_status st = wf_audit_check_source_date(err);
    if (st)
        return st;
    wf_audit_part *parts = calloc((size_t)n, sizeof *parts);
    wf_audit_part all;
    memset(&all, 0, sizeof all);
    wf_audit *a = NULL;
    if (!parts)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        char path[WF_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/shard.bin", dirs[i]);
        st = wf_audit_shard_read(path, &parts[i], err);
        if (st) {
            if (st == WF_ERR_IO)
                wf_error_prefix(err, "%s is not a finished shard folder: ", dirs[i]);
            goto done;
        }
    }
    /* The run's config, as the shards recorded it; it must not have changed since. */
    const char *cpath = parts[0].id.config_path;
    st = wf_audit_open(cpath, &a, err);
    if (st)
        goto done;
    /* The files merge just parsed (config, model, background, baseline: their digests taken
     * from those bytes) must be the ones the shards used. */
    const struct {
        const char *what, *now, *then;
    } same[] = {{cpath, a->id.config, parts[0].id.config},
                {a->cfg.model, a->id.model, parts[0].id.model},
                {a->cfg.explain.background_path, a->id.background, parts[0].id.background},
                {a->cfg.explain.baseline_path, a->id.baseline, parts[0].id.baseline}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (strcmp(same[i].now, same[i].then)) {
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s changed since the shards were run (SHA-256 %s, the shards used "
                              "%s)",
                              same[i].what, same[i].now[0] ? same[i].now : "(none)",
                              same[i].then[0] ? same[i].then : "(none)");
            goto done;
        }
    /* The shards compared a model B (the config's, or --compare's): the same one, unchanged. */
    if (parts[0].cmp && (!a->cmpm.model || strcmp(a->cmpm.sha256, parts[0].cmp->sha256)) &&
        (st = wf_audit_set_compare(a, parts[0].cmp->model, err)))
        goto done;
    if (parts[0].cmp && strcmp(a->cmpm.sha256, parts[0].cmp->sha256)) {
        st = wf_error_set(err, WF_ERR_VERIFY,
                          "%s (compare.model) changed since the shards were run (SHA-256 %s, the "
                          "shards used %s)",
                          parts[0].cmp->model, a->cmpm.sha256, parts[0].cmp->sha256);
        goto done;
    }
    if (parts[0].cmp)
        a->cfg.compare.threshold = parts[0].cmp->threshold_b;
    if (o->per_turbine)
        a->cfg.report.per_turbine = 1;
    const char *out_dir = o->out_dir && *o->out_dir ? o->out_dir : a->cfg.output_dir;
    snprintf(sum->out_dir, sizeof sum->out_dir, "%s", out_dir);
    st = wf_audit_make_dir(out_dir, err);
    if (st)
        goto done;
    st = wf_audit_combine(parts, dirs, n, &all, err);
    if (st)
        goto done;
    if (all.ws.n == 0) {
        st = no_window(a->cfg.log.path, NULL, err);
        goto done;
    }
    st = wf_audit_write_outputs(
        &a->cfg, a->model, &a->pred, &all, out_dir, o->data_dir, o->sign_key, &a->cmpm,
        o->threads >= 0 ? o->threads : a->cfg.explain.threads, &sum->seconds_compare_explain, err);
    if (!st) {
        summarize(&all, sum);
        sum->n_shards = n;
        sum->signed_manifest = o->sign_key != NULL;
    }
done:
    sum->seconds_total = wf_now_seconds() - t0;
    for (int i = 0; i < n; i++)
        wf_audit_part_free(&parts[i]);
    free(parts);
    wf_audit_part_free(&all);
    wf_audit_close(a);
    return st;
}

wf_status wf_audit_background(wf_audit *a, const wf_explain_settings *settings, int threads,
                              wf_background *bg, wf_error *err) {
    memset(bg, 0, sizeof *bg);
    wf_config with = a->cfg; /* shallow: borrowed for this call only */
    if (settings)
        with.explain = *settings;
    const wf_config *cfg = &with;
    wf_audit_run_opts ro = {
        0, 1, threads >= 0 ? threads : cfg->explain.threads, 1, NULL, NULL, NULL, &a->id};
    wf_audit_part part;
    memset(&part, 0, sizeof part);
    wf_status st = wf_audit_part_run(cfg, a->model, &a->pred, &ro, &part, err);
    if (!st && !part.has_bg)
        st = wf_error_set(err, WF_ERR_DATA,
                          "%s: no background could be drawn (every window of the log is flagged "
                          "or no window could be cut)",
                          cfg->log.path);
    if (!st) {
        *bg = part.bg;
        memset(&part.bg, 0, sizeof part.bg);
    }
    wf_audit_part_free(&part);
    return st;
}

wf_status wf_manifest_verify(const char *manifest_path, const uint8_t *pubkey,
                             const char *inputs_dir, char *report, size_t report_size,
                             int *n_problems, wf_error *err) {
    wf_manifest_doc doc;
    if (report && report_size)
        report[0] = '\0';
    if (n_problems)
        *n_problems = 0;
    wf_status st = wf_manifest_read(manifest_path, &doc, err);
    if (st)
        return st;
    st = wf_manifest_check(&doc, manifest_path, pubkey, inputs_dir, report, report_size, n_problems,
                           err);
    wf_manifest_doc_free(&doc);
    return st;
}
