/*
 * whyflag audit CONFIG.json [--out DIR] [--shard K/N] [--sign KEY] [--threads N] [--per-turbine]
 *               [--compare B.onnx] [--quiet]
 *
 * The main job: stream the log, cut windows, score every window with the deployed model, flag
 * those at or above the threshold, explain the flagged ones (KernelSHAP and IG, settings from the
 * config's "explain" section), join the failure log, and write report.pdf, report.xlsx,
 * results.json, scores.csv and manifest.json into the output folder. The work is the library's
 * (include/whyflag/audit.h); this file parses the arguments and prints.
 *
 * With --shard K/N: audit only shard K of N of the turbines (balanced by row count) and write a
 * shard folder (shard.bin + a partial manifest.json) for `whyflag merge`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "whyflag/audit.h"
#include "whyflag/report.h"

typedef struct audit_args {
    const char *config;
    const char *out;
    const char *sign_key;
    const char *output;  /* --output NAME[:COLUMN] */
    const char *compare; /* --compare B.onnx (issue 15) */
    int threads;         /* -1: from the config */
    int quiet;
    int shard_k, shard_n;
    int sharded;     /* --shard given (even 0/1) */
    int per_turbine; /* --per-turbine: turbines/<id>.pdf (issue 19) */
} audit_args;

static int parse_args(int argc, char **argv, audit_args *a) {
    memset(a, 0, sizeof *a);
    a->threads = -1;
    a->shard_n = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--out") || !strcmp(s, "--sign") || !strcmp(s, "--threads") ||
            !strcmp(s, "--shard") || !strcmp(s, "--output") || !strcmp(s, "--compare")) {
            if (i + 1 >= argc)
                return wf_cli_usage("audit", "%s needs a value", s);
            const char *v = argv[++i];
            if (!strcmp(s, "--out")) {
                a->out = v;
            } else if (!strcmp(s, "--sign")) {
                a->sign_key = v;
            } else if (!strcmp(s, "--output")) {
                a->output = v;
            } else if (!strcmp(s, "--compare")) {
                a->compare = v;
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
        } else if (!strcmp(s, "--per-turbine")) {
            a->per_turbine = 1;
        } else if (s[0] == '-' && s[1]) {
            return wf_cli_usage("audit", "unknown option %s", s);
        } else if (!a->config) {
            a->config = s;
        } else {
            return wf_cli_usage("audit", "unexpected argument %s", s);
        }
    }
    if (!a->config)
        return wf_cli_usage("audit",
                            "usage: whyflag audit CONFIG.json [--out DIR] [--shard K/N] "
                            "[--sign KEY] [--threads N] [--per-turbine] [--compare B.onnx] "
                            "[--quiet]");
    if (a->sharded && a->sign_key)
        return wf_cli_usage("audit", "--sign goes to `whyflag merge`, which writes the manifest "
                                     "of the whole run");
    return 0;
}

/* Rows rejected and windows skipped, by reason, with the data notes (always when any); a warning
 * (even with --quiet) when more than max_share of the rows or of the windows was rejected. */
static void print_data(const wf_data_stats *d, double max_share, int quiet) {
    int64_t rej = wf_data_rows_rejected(d), cut = d->windows_valid + d->windows_skipped;
    char line[2 * WF_REASON_MAX];
    wf_data_stats_describe(d, line, sizeof line);
    /* the cadence check is a warning, printed with --quiet too and after a merge (whose notes
     * stay in the shards); the same words among the notes are not printed twice */
    char cw[WF_REASON_MAX];
    int cadence = wf_data_cadence_warning(d, cw, sizeof cw);
    if (!quiet && (rej || d->windows_skipped || d->n_notes)) {
        fprintf(stderr, "  data: %s\n", line);
        for (int i = 0; i < d->n_notes; i++)
            if (!cadence || !strstr(d->notes[i], cw))
                fprintf(stderr, "  note: %s\n", d->notes[i]);
        if (d->notes_dropped)
            fprintf(stderr, "  (%lld more notes not shown)\n", (long long)d->notes_dropped);
    }
    double rs = d->rows > 0 ? (double)rej / (double)d->rows : 0.0;
    double ws = cut > 0 ? (double)d->windows_skipped / (double)cut : 0.0;
    if (rs > max_share || ws > max_share)
        fprintf(stderr,
                "whyflag audit: warning: %.0f%% of the rows and %.0f%% of the windows were "
                "rejected (more than report.max_rejected_share = %g): %s\n",
                100.0 * rs, 100.0 * ws, max_share, line);
    if (cadence)
        fprintf(stderr, "whyflag audit: warning: %s\n", cw);
}

int wf_cmd_audit(int argc, char **argv) {
    audit_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    wf_error err = {0};
    wf_audit *au = NULL;
    wf_cli_progress_state ps;
    wf_cli_progress_init(&ps, a.quiet);
    uint8_t sign_key[32];
    wf_audit_summary sum;
    memset(&sum, 0, sizeof sum);
    /* The key before any work, so that a typo costs nothing. */
    wf_status st = a.sign_key ? wf_key_read_hex(a.sign_key, sign_key, &err) : WF_OK;
    if (!st)
        st = wf_audit_open_output(a.config, a.output, &au, &err);
    if (!st && a.compare) /* model B, checked before any work */
        st = wf_audit_set_compare(au, a.compare, &err);
    if (st)
        goto done;
    const wf_config *cfg = wf_audit_config(au);
    if (!a.quiet)
        fprintf(stderr, "whyflag audit: %s%s\n", cfg->log.path, a.sharded ? " (one shard)" : "");
    wf_audit_opts o;
    wf_audit_opts_default(&o);
    o.shard_k = a.shard_k;
    o.shard_n = a.shard_n;
    o.sharded = a.sharded;
    o.threads = a.threads;
    o.out_dir = a.out;
    o.data_dir = wf_data_dir();
    o.sign_key = a.sign_key ? sign_key : NULL;
    o.progress = wf_cli_progress;
    o.progress_user = &ps;
    o.per_turbine = a.per_turbine;
    st = wf_audit_run(au, &o, &sum, &err);
    wf_cli_progress_end(&ps);
    if (!st && sum.have_data)
        print_data(&sum.data, cfg->report.max_rejected_share, a.quiet);
    if (!st && !a.sharded) { /* issue 19: words the template lacks are printed in English */
        wf_report_options ro;
        wf_report_options_default(&ro);
        ro.data_dir = o.data_dir;
        ro.template_path = cfg->report.template_path;
        int n_missing = 0;
        char keys[400];
        wf_error e2 = {0};
        if (wf_report_template_check(&ro, &n_missing, keys, sizeof keys, &e2) == WF_OK &&
            n_missing > 0)
            fprintf(stderr,
                    "whyflag audit: warning: the report template's [words] section lacks %d of "
                    "the report's words (%s...): they are printed in English\n",
                    n_missing, keys);
    }
    if (st || a.quiet)
        goto done;
    fprintf(stderr,
            "  %lld rows, %lld turbines%s, %lld windows scored, %lld skipped, %lld flagged at "
            "threshold %g, %lld explained%s (%.1f s)\n"
            "  read, windowed and scored in %.1f s (%.0f windows/s), explained in %.1f s "
            "(%.1f windows/s)\n",
            (long long)sum.rows, (long long)sum.turbines, a.sharded ? " in the log" : "",
            (long long)sum.windows, (long long)sum.skipped, (long long)sum.flagged, cfg->threshold,
            (long long)sum.explained, sum.not_explained ? " (some could not be: see results)" : "",
            sum.seconds_total, sum.seconds_stream,
            sum.seconds_stream > 0 ? (double)sum.windows / sum.seconds_stream : 0.0,
            sum.seconds_explain,
            sum.seconds_explain > 0
                ? (double)(sum.explained + sum.not_explained) / sum.seconds_explain
                : 0.0);
    if (sum.compared) /* issue 15 */
        fprintf(stderr,
                "  model B (%s): scored in %.2f s (part of the pass), comparison explained and "
                "timed in %.1f s\n",
                cfg->compare.model, sum.seconds_compare_score, sum.seconds_compare_explain);
    if (a.sharded) {
        fprintf(stderr, "  shard %d/%d: %lld of %lld turbines (%lld of %lld rows)\n", a.shard_k,
                a.shard_n, (long long)sum.shard_turbines, (long long)sum.fleet_turbines,
                (long long)sum.shard_rows, (long long)sum.fleet_rows);
        fprintf(stderr, "  wrote shard %d/%d to %s (%.1f s in all)\n", a.shard_k, a.shard_n,
                sum.out_dir, wf_now_seconds() - ps.t0);
    } else {
        fprintf(stderr,
                "  wrote %s/report.pdf, report.xlsx, results.json, scores.csv, episodes.csv, "
                "failure_outcomes.csv, attributions.csv, manifest.json%s%s "
                "(%.1f s in all)\n",
                sum.out_dir, sum.signed_manifest ? ", manifest.json.sig" : "",
                cfg->report.per_turbine ? ", turbines/" : "", wf_now_seconds() - ps.t0);
    }
done:
    rc = st ? wf_cli_fail("audit", &err) : 0;
    wf_audit_close(au);
    return rc;
}
