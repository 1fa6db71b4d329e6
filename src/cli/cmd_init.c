/*
 * whyflag init LOG.csv [--model M.onnx] [--out config.json] [--force]: guess the log's layout
 * (src/data: wf_log_guess_file) and write a starting config (src/io). Paths in the config are
 * written relative to the config's folder, as the loader reads them.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fileio.h"
#include "whyflag/config.h"
#include "whyflag/data.h"
#include "whyflag/model.h"

/* path as seen from the folder of `from` (both made absolute; falls back to the absolute path) */
static void relative_to(const char *path, const char *from, char *out, size_t size) {
    char ap[PATH_MAX], af[PATH_MAX], dir[PATH_MAX];
    if (!realpath(path, ap)) {
        snprintf(out, size, "%s", path);
        return;
    }
    wf_path_dirname(from, dir, sizeof dir);
    if (!realpath(dir, af)) {
        snprintf(out, size, "%s", ap);
        return;
    }
    size_t n = strlen(af);
    if (!strncmp(ap, af, n) && ap[n] == '/')
        snprintf(out, size, "%s", ap + n + 1);
    else
        snprintf(out, size, "%s", ap);
}

int wf_cmd_init(int argc, char **argv) {
    const char *log = NULL, *model = NULL, *out = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--model") || !strcmp(s, "--out")) {
            if (i + 1 >= argc)
                return wf_cli_usage("init", "%s needs a value", s);
            if (!strcmp(s, "--model"))
                model = argv[++i];
            else
                out = argv[++i];
        } else if (!strcmp(s, "--force")) {
            force = 1;
        } else if (s[0] == '-' && s[1]) {
            return wf_cli_usage("init", "unknown option %s", s);
        } else if (!log) {
            log = s;
        } else {
            return wf_cli_usage("init", "unexpected argument %s", s);
        }
    }
    if (!log)
        return wf_cli_usage("init", "usage: whyflag init LOG.csv [--model M.onnx] [--out "
                                    "config.json] [--force]");
    if (out && !force && access(out, F_OK) == 0) {
        wf_error e = {0};
        wf_error_set(&e, WF_ERR_IO, "%s exists: not overwritten (--force to replace it)", out);
        return wf_cli_fail("init", &e);
    }
    wf_error err = {0};
    wf_model *m = NULL;
    const char *const *names = NULL;
    int n_model = 0, T = 0;
    if (model) {
        if (wf_model_load(model, &m, &err))
            return wf_cli_fail("init", &err);
        n_model = wf_model_channels(m, &names);
        T = wf_model_window_length(m);
    }
    wf_log_guess *g = calloc(1, sizeof *g);
    char *text = NULL;
    int rc = 0;
    if (!g) {
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        rc = wf_cli_fail("init", &err);
        goto done;
    }
    if (wf_log_guess_file(log, names, n_model, g, &err)) {
        rc = wf_cli_fail("init", &err);
        goto done;
    }
    char lrel[PATH_MAX], mrel[PATH_MAX], frel[PATH_MAX], fpath[PATH_MAX + 32], ldir[PATH_MAX];
    const char *cfg_at = out ? out : "./config.json";
    relative_to(log, cfg_at, lrel, sizeof lrel);
    if (model)
        relative_to(model, cfg_at, mrel, sizeof mrel);
    /* a failure log beside the log (failures.csv) is taken as the labels */
    wf_path_dirname(log, ldir, sizeof ldir);
    snprintf(fpath, sizeof fpath, "%s/failures.csv", ldir);
    int has_failures = access(fpath, R_OK) == 0;
    if (has_failures) {
        relative_to(fpath, cfg_at, frel, sizeof frel);
        fprintf(stderr, "whyflag init: failure log: %s (found beside the log)\n", fpath);
    }
    if (wf_config_starting_json(g, lrel, model ? mrel : NULL, has_failures ? frel : NULL, T, &text,
                                &err)) {
        rc = wf_cli_fail("init", &err);
        goto done;
    }
    for (int i = 0; i < g->n_notes; i++)
        fprintf(stderr, "whyflag init: %s\n", g->notes[i]);
    if (!model)
        fprintf(stderr, "whyflag init: no --model: set \"model\" and list the channels in the "
                        "model's order\n");
    if (out) {
        if (wf_file_write_atomic(out, text, strlen(text), &err)) {
            rc = wf_cli_fail("init", &err);
            goto done;
        }
        fprintf(stderr,
                "whyflag init: wrote %s (%d channels); check it, then run `whyflag audit "
                "%s`\n",
                out, g->n_channels, out);
    } else {
        fputs(text, stdout);
    }
    if (g->n_unmatched)
        rc = 2; /* a config that will not load as it is: say so in the exit code too */
done:
    free(text);
    free(g);
    wf_model_free(m);
    return rc;
}
