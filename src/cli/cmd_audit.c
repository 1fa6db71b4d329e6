/*
 * whyflag audit CONFIG.json [--out DIR] [--shard K/N] [--sign KEY] [--threads N] [--quiet]
 *
 * The main job: stream the log, cut windows, score every window with the deployed model, flag
 * those at or above the threshold, explain the flagged ones (KernelSHAP and IG, settings from the
 * config's "explain" section), join the failure log, and write report.pdf, report.xlsx,
 * results.json, scores.csv and manifest.json into the output folder (see audit.h for the
 * pipeline, audit_output.c for the outputs).
 *
 * With --shard K/N: audit only shard K of N of the turbines (balanced by row count) and write a
 * shard folder (shard.bin + a partial manifest.json) for `whyflag merge`.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/audit.h"
#include "cli/audit_output.h"
#include "cli/cli.h"
#include "cli/pipeline.h"
#include "core/fileio.h"
#include "core/version.h"
#include "whyflag/config.h"
#include "whyflag/model.h"
#include "whyflag/report.h"

typedef struct audit_args {
    const char *config;
    const char *out;
    const char *sign_key;
    int threads; /* -1: from the config */
    int quiet;
    int shard_k, shard_n;
    int sharded; /* --shard given (even 0/1) */
} audit_args;

static int parse_args(int argc, char **argv, audit_args *a) {
    memset(a, 0, sizeof *a);
    a->threads = -1;
    a->shard_n = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--out") || !strcmp(s, "--sign") || !strcmp(s, "--threads") ||
            !strcmp(s, "--shard")) {
            if (i + 1 >= argc)
                return wf_cli_usage("audit", "%s needs a value", s);
            const char *v = argv[++i];
            if (!strcmp(s, "--out")) {
                a->out = v;
            } else if (!strcmp(s, "--sign")) {
                a->sign_key = v;
            } else if (!strcmp(s, "--shard")) {
                int k, n, used = 0;
                if (sscanf(v, "%d/%d%n", &k, &n, &used) != 2 || v[used] || n < 1 || n > 4096 ||
                    k < 0 || k >= n)
                    return wf_cli_usage("audit",
                                        "--shard expects K/N with 0 <= K < N <= 4096 (e.g. 2/4), "
                                        "got '%s'",
                                        v);
                a->shard_k = k;
                a->shard_n = n;
                a->sharded = 1;
            } else {
                char *end;
                long t = strtol(v, &end, 10);
                if (*end || t < 0 || t > 256)
                    return wf_cli_usage("audit", "--threads expects 0..256, got '%s'", v);
                a->threads = (int)t;
            }
        } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            a->quiet = 1;
        } else if (s[0] == '-' && s[1]) {
            return wf_cli_usage("audit", "unknown option %s", s);
        } else if (!a->config) {
            a->config = s;
        } else {
            return wf_cli_usage("audit", "unexpected argument %s", s);
        }
    }
    if (!a->config)
        return wf_cli_usage("audit", "usage: whyflag audit CONFIG.json [--out DIR] [--shard K/N] "
                                     "[--sign KEY] [--threads N] [--quiet]");
    if (a->sharded && a->sign_key)
        return wf_cli_usage("audit", "--sign goes to `whyflag merge`, which writes the manifest "
                                     "of the whole run");
    return 0;
}

typedef struct progress_state {
    int quiet, tty;
    double t0;
    char phase[96];
} progress_state;

/* Progress on stderr: a line per phase; counts updated in place when stderr is a terminal. */
static void progress(void *user, const char *phase, int64_t done, int64_t total) {
    progress_state *p = user;
    if (p->quiet || !p->tty) /* a log file gets the summary lines only */
        return;
    double el = wf_now_seconds() - p->t0;
    int newphase = strcmp(p->phase, phase) != 0;
    if (newphase) {
        if (p->phase[0])
            fprintf(stderr, "\n");
        snprintf(p->phase, sizeof p->phase, "%s", phase);
    }
    if (total > 0)
        fprintf(stderr, "\r  %s: %lld/%lld (%.0f s, ETA %.0f s)   ", phase, (long long)done,
                (long long)total, el,
                done > 0 ? el * (double)(total - done) / (double)done : 0.0);
    else
        fprintf(stderr, "\r  %s: %lld (%.0f s, %.0f/s)   ", phase, (long long)done, el,
                el > 0 ? (double)done / el : 0.0);
    fflush(stderr);
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

wf_status wf_audit_open(const char *config_path, wf_config *cfg, wf_model **model,
                        wf_predictor *pred, wf_error *err);
wf_status wf_audit_open(const char *config_path, wf_config *cfg, wf_model **model,
                        wf_predictor *pred, wf_error *err) {
    /* Load through the absolute path, as merge does (from the path the shards recorded), so that
     * every path in the results reads the same however the run was started. */
    char abs[PATH_MAX];
    if (realpath(config_path, abs))
        config_path = abs;
    wf_status st = wf_config_load(config_path, cfg, err);
    if (!st)
        st = wf_model_load(cfg->model, model, err);
    if (!st)
        st = check_channels(cfg, *model, err);
    if (!st) {
        wf_layout layout = WF_LAYOUT_AUTO;
        if (!strcmp(cfg->layout, "NCT"))
            layout = WF_LAYOUT_NCT;
        else if (!strcmp(cfg->layout, "NTC"))
            layout = WF_LAYOUT_NTC;
        st = wf_model_predictor(*model, cfg->log.n_channels, cfg->window.length, layout, pred, err);
    }
    return st;
}

/* The partial manifest of a shard folder: inputs, settings and shard.bin. */
static wf_status shard_manifest(const wf_config *cfg, const wf_model *model,
                                const wf_predictor *pred, const wf_audit_part *pt,
                                const char *dir, wf_error *err) {
    wf_results r;
    memset(&r, 0, sizeof r);
    r.tool = WF_TOOL_NAME;
    r.command = "audit --shard";
    r.model_path = cfg->model;
    memcpy(r.model_sha256, pt->id.model, sizeof r.model_sha256);
    r.model_quantized = wf_model_is_quantized(model);
    r.surrogate = pred->surrogate;
    r.threshold = cfg->threshold;
    r.generated_at = wf_audit_run_time();
    r.settings = &cfg->explain;
    r.background = pt->has_bg ? &pt->bg : NULL;
    r.windows = &pt->ws;
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = wf_data_dir();
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

int wf_cmd_audit(int argc, char **argv) {
    audit_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    wf_error err = {0};
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    wf_model *model = NULL;
    wf_predictor pred;
    memset(&pred, 0, sizeof pred);
    wf_audit_part part, all;
    memset(&part, 0, sizeof part);
    memset(&all, 0, sizeof all);
    progress_state ps = {a.quiet, isatty(fileno(stderr)), wf_now_seconds(), ""};
    uint8_t sign_key[32];
    const char *out_dir = NULL;
    wf_status st = wf_audit_open(a.config, &cfg, &model, &pred, &err);
    if (st)
        goto done;
    out_dir = a.out ? a.out : cfg.output_dir;
    /* Check the output folder and the key before any work, so that a typo costs nothing. */
    st = wf_audit_make_dir(out_dir, &err);
    if (!st && a.sign_key)
        st = wf_key_read_hex(a.sign_key, sign_key, &err);
    if (st)
        goto done;
    if (!a.quiet)
        fprintf(stderr, "whyflag audit: %s%s\n", cfg.log.path,
                a.sharded ? " (one shard)" : "");
    wf_audit_run_opts o = {a.shard_k, a.shard_n, a.threads >= 0 ? a.threads : cfg.explain.threads,
                           a.quiet, progress, &ps};
    st = wf_audit_part_run(&cfg, model, &pred, &o, &part, &err);
    if (ps.tty && ps.phase[0] && !a.quiet)
        fprintf(stderr, "\n");
    if (st)
        goto done;
    int64_t nfl = 0, bad = 0;
    for (int64_t i = 0; i < part.ws.n; i++)
        nfl += part.flagged[i];
    for (int64_t i = 0; i < part.n_expl; i++)
        bad += part.expl[i].status != WF_OK;
    if (!a.quiet)
        fprintf(stderr,
                "  %lld rows, %lld turbines%s, %lld windows scored, %lld skipped, %lld flagged at "
                "threshold %g, %lld explained%s (%.1f s)\n"
                "  read, windowed and scored in %.1f s (%.0f windows/s), explained in %.1f s "
                "(%.1f windows/s)\n",
                (long long)part.stats.rows, (long long)part.stats.turbines,
                a.sharded ? " in the log" : "", (long long)part.ws.n,
                (long long)part.ws.n_skipped, (long long)nfl, cfg.threshold,
                (long long)(part.n_expl - bad), bad ? " (some could not be: see results)" : "",
                wf_now_seconds() - ps.t0, part.seconds_stream,
                part.seconds_stream > 0 ? (double)part.ws.n / part.seconds_stream : 0.0,
                part.seconds_explain,
                part.seconds_explain > 0 ? (double)part.n_expl / part.seconds_explain : 0.0);
    if (a.sharded && !a.quiet) {
        int64_t mine = 0, rows = 0, all_rows = 0, nt = part.n_turbines;
        for (int64_t i = 0; i < part.n_turbines; i++) {
            all_rows += part.turbine_rows[i];
            if (part.turbine_shard[i] == a.shard_k) {
                mine++;
                rows += part.turbine_rows[i];
            }
        }
        if (a.shard_n == 1) { /* no assignment pass: everything is this shard's */
            mine = nt = part.stats.turbines;
            rows = all_rows = part.stats.rows;
        }
        fprintf(stderr, "  shard %d/%d: %lld of %lld turbines (%lld of %lld rows)\n", a.shard_k,
                a.shard_n, (long long)mine, (long long)nt, (long long)rows,
                (long long)all_rows);
    }
    if (a.sharded) {
        char path[WF_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/shard.bin", out_dir);
        st = wf_audit_shard_write(path, &part, &err);
        if (!st)
            st = shard_manifest(&cfg, model, &pred, &part, out_dir, &err);
        if (!st && !a.quiet)
            fprintf(stderr, "  wrote shard %d/%d to %s (%.1f s in all)\n", a.shard_k, a.shard_n,
                    out_dir, wf_now_seconds() - ps.t0);
        goto done;
    }
    const char *names[] = {a.config};
    st = wf_audit_combine(&part, names, 1, &all, &err);
    if (!st)
        st = wf_audit_write_outputs(&cfg, model, &pred, &all, out_dir,
                                    a.sign_key ? sign_key : NULL, &err);
    if (!st && !a.quiet)
        fprintf(stderr,
                "  wrote %s/report.pdf, report.xlsx, results.json, scores.csv, manifest.json%s "
                "(%.1f s in all)\n",
                out_dir, a.sign_key ? ", manifest.json.sig" : "", wf_now_seconds() - ps.t0);
done:
    rc = st ? wf_cli_fail("audit", &err) : 0;
    wf_audit_part_free(&part);
    wf_audit_part_free(&all);
    wf_predictor_deinit(&pred);
    wf_model_free(model);
    wf_config_deinit(&cfg);
    return rc;
}
