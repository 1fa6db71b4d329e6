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

#include "cli/cli.h"
#include "cli/progress.h"
#include "whyflag/audit.h"
#include "whyflag/report.h"

#define USAGE "usage: whyflag merge SHARD_DIR... --out DIR [--sign KEY] [--quiet]"

int wf_cmd_merge(int argc, char **argv) {
    const char *out = NULL, *sign = NULL;
    int quiet = 0, n = 0;
    const char **dirs = (const char **)calloc((size_t)argc, sizeof *dirs);
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
    uint8_t key[32];
    wf_status st = sign ? wf_key_read_hex(sign, key, &err) : WF_OK;
    wf_audit_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!st) {
        wf_audit_opts o;
        wf_audit_opts_default(&o);
        o.out_dir = out;
        o.data_dir = wf_data_dir();
        o.sign_key = sign ? key : NULL;
        st = wf_audit_merge(dirs, n, &o, &sum, &err);
    }
    if (!st && !quiet)
        fprintf(stderr,
                "whyflag merge: %d shards, %lld windows, %lld explained: wrote %s/report.pdf, "
                "report.xlsx, results.json, scores.csv, episodes.csv, failure_outcomes.csv, "
                "attributions.csv, manifest.json (%.1f s)\n",
                n, (long long)sum.windows, (long long)(sum.explained + sum.not_explained),
                sum.out_dir, sum.seconds_total);
    int rc = st ? wf_cli_fail("merge", &err) : 0;
    free(dirs);
    return rc;
}
