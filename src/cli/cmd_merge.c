/*
 * whyflag merge SHARD_DIR... --out DIR [--sign KEY] [--quiet]
 *
 * Reads SHARD_DIR/shard.bin of every shard of a sharded audit, checks that they belong to the
 * same run (same whyflag, config, model, log, failure log and background digests, the same
 * turbine assignment and background) and that shards 0..N-1 are each there once, and writes the
 * outputs of the whole run, exactly as the one-machine `whyflag audit` would have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "cli/audit_output.h"
#include "cli/cli.h"
#include "cli/pipeline.h"
#include "core/fileio.h"
#include "whyflag/report.h"

wf_status wf_audit_open(const char *config_path, wf_config *cfg, wf_model **model,
                        wf_predictor *pred, wf_error *err);

#define USAGE "usage: whyflag merge SHARD_DIR... --out DIR [--sign KEY] [--quiet]"

int wf_cmd_merge(int argc, char **argv) {
    const char *out = NULL, *sign = NULL;
    int quiet = 0, n = 0;
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    if (!dirs)
        return 7;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--out") || !strcmp(s, "--sign")) {
            if (i + 1 >= argc) {
                free(dirs);
                return wf_cli_usage("merge", "%s needs a value\n" USAGE, s);
            }
            if (!strcmp(s, "--out"))
                out = argv[++i];
            else
                sign = argv[++i];
        } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            quiet = 1;
        } else if (s[0] == '-' && s[1]) {
            free(dirs);
            return wf_cli_usage("merge", "unknown option %s\n" USAGE, s);
        } else {
            dirs[n++] = s;
        }
    }
    if (n == 0) {
        free(dirs);
        return wf_cli_usage("merge", "no shard folder given\n" USAGE);
    }
    wf_error err = {0};
    wf_status st = WF_OK;
    double t0 = wf_now_seconds();
    wf_audit_part *parts = calloc((size_t)n, sizeof *parts);
    wf_audit_part all;
    memset(&all, 0, sizeof all);
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    wf_model *model = NULL;
    wf_predictor pred;
    memset(&pred, 0, sizeof pred);
    uint8_t key[32];
    int nread = 0;
    if (!parts) {
        st = wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (sign && (st = wf_key_read_hex(sign, key, &err)))
        goto done;
    for (nread = 0; nread < n; nread++) {
        char path[WF_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/shard.bin", dirs[nread]);
        st = wf_audit_shard_read(path, &parts[nread], &err);
        if (st) {
            if (st == WF_ERR_IO)
                wf_error_prefix(&err, "%s is not a finished shard folder: ", dirs[nread]);
            goto done;
        }
    }
    /* The run's config, as the shards recorded it; it must not have changed since. */
    const char *cpath = parts[0].id.config_path;
    st = wf_audit_open(cpath, &cfg, &model, &pred, &err);
    if (st)
        goto done;
    char hex[65];
    st = wf_sha256_file_hex(cpath, hex, &err);
    if (st)
        goto done;
    if (strcmp(hex, parts[0].id.config)) {
        st = wf_error_set(&err, WF_ERR_VERIFY,
                          "%s changed since the shards were run (SHA-256 %s, the shards used %s)",
                          cpath, hex, parts[0].id.config);
        goto done;
    }
    const char *out_dir = out ? out : cfg.output_dir;
    st = wf_audit_make_dir(out_dir, &err);
    if (st)
        goto done;
    st = wf_audit_combine(parts, dirs, n, &all, &err);
    if (st)
        goto done;
    st = wf_audit_write_outputs(&cfg, model, &pred, &all, out_dir, sign ? key : NULL, &err);
    if (!st && !quiet)
        fprintf(stderr,
                "whyflag merge: %d shards, %lld windows, %lld explained: wrote %s/report.pdf, "
                "report.xlsx, results.json, scores.csv, manifest.json (%.1f s)\n",
                n, (long long)all.ws.n, (long long)all.n_expl, out_dir, wf_now_seconds() - t0);
done:
    {
        int rc = st ? wf_cli_fail("merge", &err) : 0;
        for (int i = 0; parts && i < n; i++)
            wf_audit_part_free(&parts[i]);
        free(parts);
        wf_audit_part_free(&all);
        wf_predictor_deinit(&pred);
        wf_model_free(model);
        wf_config_deinit(&cfg);
        free(dirs);
        return rc;
    }
}
