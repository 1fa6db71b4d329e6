/*
 * whyflag explain --model M.onnx --windows W.json [--method kernelshap|ig|treeshap|both]
 *   [--treeshap-output margin|probability] [--treeshap-covers background|none|FILE]
 *   [--arithmetic shortcut|exact]
 *   [--background B.json] [--groups channel|segments:K|cell|auto|hierarchy] [--nsamples
 * N|auto|exact] [--seed S]
 *   [--link identity|logit|logit_output] [--baseline zeros|mean|median|FILE] [--steps N|auto]
 *   [--ig-method auto|clenshaw_curtis|gausslegendre|...] [--threads N] [--threshold X]
 *   [--layout NCT|NTC] [--config C.json] --out results.json
 *
 * Explains every window of W.json. Settings come from the config's "explain" section when
 * --config is given, then the flags override them. Without --background the background is drawn
 * from W.json itself (seeded); with --threshold the windows scoring at or above it are left out
 * of that draw (unflagged windows only, the default of the config). results.json is written by
 * the report stage's writer (wf_results_write_json).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/fileio.h"
#include "core/version.h"
#include "whyflag/audit.h"
#include "whyflag/config.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/results.h"
#include "whyflag/windows.h"

#define USAGE                                                                                      \
    "usage: whyflag explain --model M.onnx --windows W.json --out results.json\n"                  \
    "  [--method kernelshap|ig|treeshap|both] [--treeshap-output margin|probability]\n"            \
    "  [--treeshap-covers background|none|FILE]\n"                                                 \
    "  [--background B.json] [--groups channel|segments:K|cell|auto|hierarchy]\n"                  \
    "  [--nsamples N|auto|exact] [--seed S] [--link identity|logit|logit_output]\n"                \
    "  [--baseline zeros|mean|median|FILE] [--steps N|auto] [--ig-method auto|\n"                  \
    "  clenshaw_curtis|gausslegendre|riemann_left|riemann_right|riemann_middle|\n"                 \
    "  riemann_trapezoid] [--threads N]\n"                                                         \
    "  [--arithmetic shortcut|exact]\n"                                                            \
    "  [--threshold X] [--layout NCT|NTC] [--config C.json] [--quiet]"

static int parse_u64(const char *v, uint64_t *out) {
    if (!v || !*v || *v == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

typedef struct flag {
    const char *name, *value;
} flag;

/* Apply one explain flag to s; returns 0, or an exit code after printing. */
static int apply_flag(wf_explain_settings *s, const char *a, const char *v) {
    wf_error err = {0};
    wf_status st = WF_OK;
    if (!strcmp(a, "--method")) {
        st = wf_explain_parse_method(v, s, &err);
    } else if (!strcmp(a, "--groups")) {
        st = wf_explain_parse_groups(v, s, &err);
    } else if (!strcmp(a, "--nsamples")) {
        st = wf_explain_parse_nsamples(v, &s->nsamples, &err);
    } else if (!strcmp(a, "--link")) {
        st = wf_explain_parse_link(v, &s->link, &err);
    } else if (!strcmp(a, "--baseline")) {
        st = wf_explain_parse_baseline(v, s, &err);
    } else if (!strcmp(a, "--steps")) {
        st = wf_explain_parse_steps(v, &s->steps, &err);
    } else if (!strcmp(a, "--treeshap-output")) {
        st = wf_explain_parse_treeshap_output(v, &s->treeshap_output, &err);
    } else if (!strcmp(a, "--treeshap-covers")) {
        st = wf_explain_parse_treeshap_covers(v, s, &err);
    } else if (!strcmp(a, "--arithmetic")) {
        st = wf_explain_parse_arithmetic(v, &s->arithmetic, &err);
    } else if (!strcmp(a, "--ig-method")) {
        st = wf_explain_parse_ig_method(v, &s->ig_rule, &err);
    } else if (!strcmp(a, "--background")) {
        s->background = WF_BACKGROUND_FILE;
        snprintf(s->background_path, sizeof s->background_path, "%s", v);
    } else if (!strcmp(a, "--seed")) {
        if (parse_u64(v, &s->seed))
            st = wf_error_set(&err, WF_ERR_CONFIG, "found \"%s\", expected an unsigned integer", v);
    } else if (!strcmp(a, "--threads")) {
        char *end;
        long t = strtol(v, &end, 10);
        if (*end || t < 0 || t > 1024)
            st = wf_error_set(&err, WF_ERR_CONFIG, "found \"%s\", expected 0..1024 (0 = all cores)",
                              v);
        else
            s->threads = (int)t;
    }
    if (st) {
        wf_error_prefix(&err, "%s: ", a);
        return wf_cli_fail("explain", &err);
    }
    return 0;
}

int wf_cmd_explain(int argc, char **argv) {
    const char *model = NULL, *wpath = NULL, *out = NULL, *cpath = NULL, *output = NULL;
    double threshold = NAN;
    int quiet = 0;
    wf_layout layout = WF_LAYOUT_AUTO;
    flag flags[64];
    int nflags = 0;
    static const char *const settings_flags[] = {
        "--method",   "--groups",  "--nsamples",        "--link",
        "--baseline", "--steps",   "--ig-method",       "--background",
        "--seed",     "--threads", "--treeshap-output", "--treeshap-covers",
        NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        int is_setting = 0;
        for (int k = 0; settings_flags[k]; k++)
            is_setting |= !strcmp(a, settings_flags[k]);
        is_setting |= !strcmp(a, "--arithmetic");
        int known = is_setting || !strcmp(a, "--model") || !strcmp(a, "--windows") ||
                    !strcmp(a, "--out") || !strcmp(a, "--config") || !strcmp(a, "--layout") ||
                    !strcmp(a, "--threshold") || !strcmp(a, "--output");
        if (!known)
            return wf_cli_usage("explain", "unexpected argument %s\n" USAGE, a);
        if (i + 1 >= argc)
            return wf_cli_usage("explain", "%s needs a value\n" USAGE, a);
        const char *v = argv[++i];
        if (is_setting) {
            if (nflags == 64)
                return wf_cli_usage("explain", "too many flags");
            flags[nflags].name = a;
            flags[nflags++].value = v;
        } else if (!strcmp(a, "--output")) {
            output = v;
        } else if (!strcmp(a, "--model")) {
            model = v;
        } else if (!strcmp(a, "--windows")) {
            wpath = v;
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--config")) {
            cpath = v;
        } else if (!strcmp(a, "--threshold")) {
            char *end;
            threshold = strtod(v, &end);
            if (*end || !isfinite(threshold))
                return wf_cli_usage("explain", "--threshold must be a number, not '%s'", v);
        } else if (!strcmp(v, "NCT")) {
            layout = WF_LAYOUT_NCT;
        } else if (!strcmp(v, "NTC")) {
            layout = WF_LAYOUT_NTC;
        } else {
            return wf_cli_usage("explain", "--layout must be NCT or NTC, not '%s'", v);
        }
    }
    wf_audit *au = NULL;
    wf_explain_files files;
    memset(&files, 0, sizeof files);
    wf_error err = {0};
    int rc = 0;
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_model *m = NULL;
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    wf_predictor p;
    memset(&p, 0, sizeof p);
    wf_background bg;
    memset(&bg, 0, sizeof bg);
    wf_audit_trees trees;
    memset(&trees, 0, sizeof trees);
    wf_explanation *ex = NULL;
    wf_explain_plan plan;
    memset(&plan, 0, sizeof plan);
    wf_why *why = NULL;
    double *scores = NULL;
    uint8_t *flagged = NULL;
    if (cpath) {
        if (wf_audit_open_output(cpath, output, &au, &err)) {
            rc = wf_cli_fail("explain", &err);
            goto done;
        }
        const wf_config *cfg = wf_audit_config(au);
        s = cfg->explain; /* borrowed: the run owns the explicit groups until the end */
        if (!model && cfg->model[0])
            model = cfg->model;
        if (!output && cfg->model_output[0])
            output = cfg->model_output;
        if (isnan(threshold))
            threshold = cfg->threshold;
    }
    for (int k = 0; k < nflags; k++) {
        rc = apply_flag(&s, flags[k].name, flags[k].value);
        if (rc)
            goto done;
    }
    if (!model || !wpath || !out) {
        rc = wf_cli_usage("explain", "--model, --windows and --out are required\n" USAGE);
        goto done;
    }
    double t0 = wf_now_seconds();
    if (wf_model_load(model, &m, &err) || wf_windows_read_json(wpath, &ws, &err) ||
        wf_model_check_windows(m, &ws, model, wpath, &err) ||
        wf_model_predictor_spec(m, ws.C, ws.T, layout, output, "--output", &p, &err) ||
        wf_audit_trees_setup_spec(&s, m, ws.C, ws.T, layout, output, &trees, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    if (ws.n < 1) {
        wf_error_set(&err, WF_ERR_DATA, "%s holds no windows to explain", wpath);
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    /* The background and baseline files the settings name (explain opens no file). */
    if (wf_explain_files_load(&s, ws.C, ws.T, &files, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    int need_bg = s.do_kernelshap || wf_explain_uses_treeshap(&s) ||
                  (s.do_ig && (s.expected_gradients || s.baseline == WF_BASELINE_MEAN ||
                               s.baseline == WF_BASELINE_MEDIAN));
    if (au && need_bg) {
        /* The run's background, drawn from the config's log exactly as `whyflag audit` draws
         * it, so that the values equal the audit's for the same window. */
        if (wf_audit_background(au, &s, s.threads, &bg, &err)) {
            rc = wf_cli_fail("explain", &err);
            goto done;
        }
    } else if (need_bg && !isnan(threshold) && s.background != WF_BACKGROUND_FILE) {
        scores = malloc(sizeof(double) * (size_t)ws.n);
        flagged = malloc((size_t)ws.n);
        if (!scores || !flagged) {
            wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
            rc = wf_cli_fail("explain", &err);
            goto done;
        }
        if (wf_audit_score_windows(&p, &ws, s.threads, scores, &err)) {
            rc = wf_cli_fail("explain", &err);
            goto done;
        }
        for (int64_t i = 0; i < ws.n; i++)
            flagged[i] = scores[i] >= threshold;
    }
    if (need_bg && !au && wf_background_build(&s, &ws, flagged, &bg, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    ex = calloc((size_t)ws.n, sizeof *ex);
    if (!ex) {
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    if (wf_explain_run(&s, &p, need_bg ? &bg : NULL, &ws, NULL, ws.n, ex, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    /* The checks the audit prints: the dependence of the background and each window's why. */
    if (need_bg &&
        wf_explain_checks_build(&s, &bg, ws.C, ws.T, ws.channels, ex, ws.n, &plan, &why, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    wf_results r;
    memset(&r, 0, sizeof r);
    r.tool = WF_TOOL_NAME;
    r.command = "explain";
    r.model_path = model;
    if (wf_sha256_file_hex(model, r.model_sha256, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    r.model_quantized = wf_model_is_quantized(m);
    r.surrogate = p.surrogate;
    r.threshold = NAN;
    r.generated_at = wf_audit_run_time();
    r.settings = &s;
    r.background = need_bg ? &bg : NULL;
    r.windows = &ws;
    r.n_explained = ws.n;
    r.expl = ex;
    r.why = why;
    r.dependence = plan.has_dep ? &plan.dep : NULL;
    if (wf_results_write_json(out, &r, &err)) {
        rc = wf_cli_fail("explain", &err);
        goto done;
    }
    int64_t bad = 0, first_bad = -1;
    for (int64_t i = 0; i < ws.n; i++)
        if (ex[i].status != WF_OK) {
            if (first_bad < 0)
                first_bad = i;
            bad++;
        }
    if (!quiet)
        fprintf(stderr, "whyflag explain: %lld windows explained (%s) in %.2f s, wrote %s\n",
                (long long)(ws.n - bad), wf_explain_method_name(&s), wf_now_seconds() - t0, out);
    if (bad) {
        fprintf(stderr,
                "whyflag explain: %lld window(s) could not be explained (status and error in "
                "%s); the first: %s\n",
                (long long)bad, out, ex[first_bad].error);
        if (bad == ws.n)
            rc = wf_status_exit_code(ex[first_bad].status);
    }
done:
    if (ex)
        for (int64_t i = 0; i < ws.n; i++)
            wf_explanation_deinit(&ex[i]);
    free(ex);
    free(why);
    wf_explain_plan_deinit(&plan);
    free(scores);
    free(flagged);
    wf_background_deinit(&bg);
    wf_predictor_deinit(&p);
    wf_audit_trees_free(&trees);
    wf_windows_free(&ws);
    wf_model_free(m);
    wf_explain_files_free(&files);
    wf_audit_close(au);
    return rc;
}
