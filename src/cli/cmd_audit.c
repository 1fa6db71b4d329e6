/*
 * whyflag audit CONFIG.json [--out DIR] [--sign KEY] [--threads N] [--quiet]
 *
 * The main job: read the log, cut windows, score every window with the deployed model, flag those
 * at or above the threshold, explain the flagged ones (KernelSHAP and IG, settings from the
 * config's "explain" section), join the failure log, and write report.pdf, report.xlsx,
 * results.json and manifest.json into the output folder.
 *
 * Nothing half-written is ever left in the output folder: every output is written into a
 * staging folder beside it and moved into place only when all of them were written.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/pipeline.h"
#include "core/fileio.h"
#include "core/version.h"
#include "whyflag/config.h"
#include "whyflag/data.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/report.h"
#include "whyflag/results.h"
#include "whyflag/versions.h"

static const char *const OUTPUTS[] = {"report.pdf", "report.xlsx", "results.json",
                                      "manifest.json", "manifest.json.sig"};

typedef struct audit_args {
    const char *config;
    const char *out;
    const char *sign_key;
    int threads; /* -1: from the config */
    int quiet;
} audit_args;

static int parse_args(int argc, char **argv, audit_args *a) {
    memset(a, 0, sizeof *a);
    a->threads = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--out") || !strcmp(s, "--sign") || !strcmp(s, "--threads")) {
            if (i + 1 >= argc)
                return wf_cli_usage("audit", "%s needs a value", s);
            const char *v = argv[++i];
            if (!strcmp(s, "--out"))
                a->out = v;
            else if (!strcmp(s, "--sign"))
                a->sign_key = v;
            else {
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
        return wf_cli_usage("audit", "usage: whyflag audit CONFIG.json [--out DIR] [--sign KEY] "
                                     "[--threads N] [--quiet]");
    return 0;
}

static int64_t run_time(void) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 0)
            return (int64_t)v;
    }
    return (int64_t)time(NULL);
}

static wf_status make_dir(const char *path, wf_error *err) {
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
    for (size_t i = 0; i < sizeof OUTPUTS / sizeof OUTPUTS[0]; i++) {
        char p[WF_PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/%s", dir, OUTPUTS[i]);
        remove(p);
    }
    /* Temporary files a failed writer may have left behind. */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[WF_PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Move every output from staging into out_dir. */
static wf_status publish(const char *staging, const char *out_dir, wf_error *err) {
    for (size_t i = 0; i < sizeof OUTPUTS / sizeof OUTPUTS[0]; i++) {
        char from[WF_PATH_MAX + 64], to[WF_PATH_MAX + 64];
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

int wf_cmd_audit(int argc, char **argv) {
    audit_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;

    wf_error err = {0};
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    wf_model *model = NULL;
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    wf_failure *failures = NULL;
    int64_t n_failures = 0;
    wf_data_stats *stats = calloc(1, sizeof *stats);
    wf_predictor pred;
    memset(&pred, 0, sizeof pred);
    wf_background bg;
    memset(&bg, 0, sizeof bg);
    double *scores = NULL;
    uint8_t *flags = NULL;
    int64_t *idx = NULL;
    wf_explanation *expl = NULL;
    int64_t n_flagged = 0;
    char staging[WF_PATH_MAX + 64] = "";
    char methods[4096];
    wf_status st = WF_OK;
    double t_start = wf_now_seconds();

    if (!stats) {
        st = wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st = wf_config_load(a.config, &cfg, &err);
    if (st)
        goto fail;
    const char *out_dir = a.out ? a.out : cfg.output_dir;
    int threads = a.threads >= 0 ? a.threads : cfg.explain.threads;
    cfg.explain.threads = threads;

    /* Check the output folder before any work, so that a typo costs nothing. */
    st = make_dir(out_dir, &err);
    if (st)
        goto fail;

    uint8_t sign_key[32];
    if (a.sign_key) {
        st = wf_key_read_hex(a.sign_key, sign_key, &err);
        if (st)
            goto fail;
    }

    st = wf_model_load(cfg.model, &model, &err);
    if (st)
        goto fail;
    const char *const *mchan = NULL;
    int n_mchan = wf_model_channels(model, &mchan);
    if (n_mchan > 0) {
        if (n_mchan != cfg.log.n_channels) {
            st = wf_error_set(&err, WF_ERR_CONFIG,
                              "%s: log.channels lists %d channels but the model %s was trained "
                              "on %d",
                              cfg.config_path, cfg.log.n_channels, cfg.model, n_mchan);
            goto fail;
        }
        for (int c = 0; c < n_mchan; c++) {
            if (strcmp(mchan[c], cfg.log.channels[c].name) != 0) {
                st = wf_error_set(&err, WF_ERR_CONFIG,
                                  "%s: log.channels[%d].name is '%s' but the model's channel %d "
                                  "is '%s' (channels must be listed in the model's order)",
                                  cfg.config_path, c, cfg.log.channels[c].name, c, mchan[c]);
                goto fail;
            }
        }
    }

    if (!a.quiet)
        fprintf(stderr, "whyflag audit: reading %s\n", cfg.log.path);
    st = wf_data_load_windows(&cfg, &ws, cfg.failures.path[0] ? &failures : NULL, &n_failures,
                              stats, &err);
    if (st)
        goto fail;
    if (!a.quiet)
        fprintf(stderr,
                "  %lld rows, %lld turbines, %lld windows valid, %lld skipped (%.1f s)\n",
                (long long)stats->rows, (long long)stats->turbines, (long long)ws.n,
                (long long)ws.n_skipped, wf_now_seconds() - t_start);

    wf_layout layout = WF_LAYOUT_AUTO;
    if (!strcmp(cfg.layout, "NCT"))
        layout = WF_LAYOUT_NCT;
    else if (!strcmp(cfg.layout, "NTC"))
        layout = WF_LAYOUT_NTC;
    st = wf_model_predictor(model, ws.C, ws.T, layout, &pred, &err);
    if (st)
        goto fail;

    scores = calloc((size_t)(ws.n ? ws.n : 1), sizeof *scores);
    flags = calloc((size_t)(ws.n ? ws.n : 1), 1);
    idx = calloc((size_t)(ws.n ? ws.n : 1), sizeof *idx);
    if (!scores || !flags || !idx) {
        st = wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    wf_progress prog;
    wf_progress_init(&prog, a.quiet, "windows scored");
    st = wf_score_windows(&pred, &ws, threads, scores, &prog, &err);
    wf_progress_done(&prog);
    if (st)
        goto fail;
    for (int64_t i = 0; i < ws.n; i++) {
        flags[i] = scores[i] >= cfg.threshold;
        if (flags[i])
            idx[n_flagged++] = i;
    }
    if (!a.quiet)
        fprintf(stderr, "  %lld windows scored, %lld flagged at threshold %g\n", (long long)ws.n,
                (long long)n_flagged, cfg.threshold);

    /* Background and explanations of the flagged windows. */
    if (n_flagged > 0) {
        st = wf_background_build(&cfg.explain, &ws, flags, &bg, &err);
        if (st)
            goto fail;
        expl = calloc((size_t)n_flagged, sizeof *expl);
        if (!expl) {
            st = wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        double t_ex = wf_now_seconds();
        st = wf_explain_run(&cfg.explain, &pred, &bg, &ws, idx, n_flagged, expl, &err);
        if (st)
            goto fail;
        if (!a.quiet) {
            int64_t bad = 0;
            for (int64_t i = 0; i < n_flagged; i++)
                bad += expl[i].status != WF_OK;
            fprintf(stderr, "  %lld windows explained (%lld could not be) in %.1f s\n",
                    (long long)(n_flagged - bad), (long long)bad, wf_now_seconds() - t_ex);
        }
    }
    wf_explain_describe(&cfg.explain, n_flagged > 0 ? &bg : NULL, methods, sizeof methods);

    /* Results and reports. */
    wf_results r;
    memset(&r, 0, sizeof r);
    r.tool = WF_TOOL_NAME;
    r.command = "audit";
    r.model_path = cfg.model;
    st = wf_sha256_file_hex(cfg.model, r.model_sha256, &err);
    if (st)
        goto fail;
    r.model_quantized = wf_model_is_quantized(model);
    r.surrogate = pred.surrogate;
    r.threshold = cfg.threshold;
    r.generated_at = run_time();
    r.settings = &cfg.explain;
    r.background = n_flagged > 0 ? &bg : NULL;
    r.windows = &ws;
    r.scores = scores;
    r.flagged = flags;
    r.n_failures = n_failures;
    r.failures = failures;
    r.horizon_hours = cfg.failures.horizon_hours;
    r.n_explained = n_flagged;
    r.expl = expl;

    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = wf_data_dir();
    o.template_path = cfg.report.template_path;
    o.fonts_dir = cfg.report.fonts_dir;
    o.title = cfg.report.title;
    o.max_episode_pages = cfg.report.max_episode_pages;
    o.methods_text = methods;
    o.inputs[o.n_inputs++] = (wf_report_input){"model", cfg.model};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", cfg.log.path};
    if (cfg.failures.path[0])
        o.inputs[o.n_inputs++] = (wf_report_input){"failures", cfg.failures.path};
    o.inputs[o.n_inputs++] = (wf_report_input){"config", cfg.config_path};
    if (cfg.explain.background == WF_BACKGROUND_FILE)
        o.inputs[o.n_inputs++] = (wf_report_input){"background", cfg.explain.background_path};
    if (cfg.explain.baseline == WF_BASELINE_FILE)
        o.inputs[o.n_inputs++] = (wf_report_input){"baseline", cfg.explain.baseline_path};
    o.versions[o.n_versions++] = (wf_report_version){"protobuf-c", wf_model_version_protobuf_c()};
    o.versions[o.n_versions++] = (wf_report_version){"OpenBLAS", wf_model_version_openblas()};
    o.versions[o.n_versions++] = (wf_report_version){"cJSON", wf_config_version_cjson()};
    if (a.sign_key) {
        o.sign = 1;
        memcpy(o.sign_key, sign_key, 32);
    }

    snprintf(staging, sizeof staging, "%s/.whyflag-staging-XXXXXX", out_dir);
    if (!mkdtemp(staging)) {
        st = wf_error_set(&err, WF_ERR_IO, "%s: cannot create a staging folder: %s", out_dir,
                          strerror(errno));
        staging[0] = '\0';
        goto fail;
    }
    st = wf_report_write_all(&r, &o, staging, &err);
    if (st)
        goto fail;
    st = publish(staging, out_dir, &err);
    if (st)
        goto fail;
    remove_staging(staging);
    staging[0] = '\0';
    if (!a.quiet)
        fprintf(stderr, "  wrote %s/report.pdf, report.xlsx, results.json, manifest.json%s "
                        "(%.1f s in all)\n",
                out_dir, a.sign_key ? ", manifest.json.sig" : "", wf_now_seconds() - t_start);

fail:
    if (staging[0])
        remove_staging(staging);
    rc = st ? wf_cli_fail("audit", &err) : 0;
    if (expl)
        for (int64_t i = 0; i < n_flagged; i++)
            wf_explanation_deinit(&expl[i]);
    free(expl);
    free(idx);
    free(flags);
    free(scores);
    wf_background_deinit(&bg);
    wf_predictor_deinit(&pred);
    free(failures);
    wf_windows_free(&ws);
    wf_model_free(model);
    wf_config_deinit(&cfg);
    free(stats);
    return rc;
}
