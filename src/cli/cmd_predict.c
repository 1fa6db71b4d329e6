/*
 * whyflag predict --model M.onnx --windows W.json [--out scores.csv] [--layout NCT|NTC]:
 * score every window with the model (its first output), one CSV row per window in input order,
 * written atomically (stdout when --out is absent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fileio.h"
#include "whyflag/audit.h"
#include "whyflag/config.h"
#include "whyflag/data.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

#define USAGE                                                                                      \
    "usage: whyflag predict --model M.onnx --windows W.json [--out scores.csv] "                   \
    "[--layout NCT|NTC]\n       whyflag predict --config C.json [--out scores.csv]"

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static int sb_add(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap + n + 1) * 2;
        char *q = realloc(b->p, nc);
        if (!q)
            return -1;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
    return 0;
}

int wf_cmd_predict(int argc, char **argv) {
    const char *model = NULL, *wpath = NULL, *out = NULL, *cpath = NULL, *output = NULL;
    wf_layout layout = WF_LAYOUT_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--model") || !strcmp(a, "--windows") || !strcmp(a, "--out") ||
            !strcmp(a, "--layout") || !strcmp(a, "--config") || !strcmp(a, "--output")) {
            if (i + 1 >= argc)
                return wf_cli_usage("predict", "%s needs a value\n" USAGE, a);
            const char *v = argv[++i];
            if (!strcmp(a, "--output"))
                output = v;
            else if (!strcmp(a, "--model"))
                model = v;
            else if (!strcmp(a, "--windows"))
                wpath = v;
            else if (!strcmp(a, "--out"))
                out = v;
            else if (!strcmp(a, "--config"))
                cpath = v;
            else if (!strcmp(v, "NCT"))
                layout = WF_LAYOUT_NCT;
            else if (!strcmp(v, "NTC"))
                layout = WF_LAYOUT_NTC;
            else
                return wf_cli_usage("predict", "--layout must be NCT or NTC, not '%s'", v);
        } else {
            return wf_cli_usage("predict", "unexpected argument %s\n" USAGE, a);
        }
    }
    if (cpath && (model || wpath))
        return wf_cli_usage("predict", "--config replaces --model and --windows\n" USAGE);
    if (!cpath && (!model || !wpath))
        return wf_cli_usage("predict", USAGE);
    wf_error err = {0};
    wf_model *m = NULL;
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    wf_predictor p;
    memset(&p, 0, sizeof p);
    void *ctx = NULL;
    float *y = NULL;
    sbuf b = {0};
    int rc = 0;
    wf_audit *au = NULL;
    const wf_predictor *pp = &p;
    wf_data_stats stats;
    if (cpath) {
        /* Straight from the log: the windows the config cuts, scored on all cores. */
        wf_data_config dc;
        if (!wf_audit_open_output(cpath, output, &au, &err))
            dc = wf_config_data(wf_audit_config(au));
        if (!au || wf_data_load_windows(&dc, &ws, NULL, NULL, &stats, &err)) {
            rc = wf_cli_fail("predict", &err);
            goto done;
        }
        model = wf_audit_config(au)->model;
        pp = wf_audit_predictor(au);
    } else if (wf_model_load(model, &m, &err) || wf_windows_read_json(wpath, &ws, &err) ||
               wf_model_check_windows(m, &ws, model, wpath, &err) ||
               wf_model_predictor_spec(m, ws.C, ws.T, layout, output, "--output", &p, &err)) {
        rc = wf_cli_fail("predict", &err);
        goto done;
    }
    int64_t n = ws.n;
    y = malloc((size_t)(n ? n : 1) * sizeof *y);
    double *yd = malloc((size_t)(n ? n : 1) * sizeof *yd);
    if (!y || !yd) {
        free(yd);
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        rc = wf_cli_fail("predict", &err);
        goto done;
    }
    if (n > 0 && wf_audit_score_array(pp, ws.data, n, 0, yd, &err)) {
        free(yd);
        rc = wf_cli_fail("predict", &err);
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)yd[i];
    free(yd);
    int bad = sb_add(&b, "turbine_id,start,end,score\n");
    for (int64_t i = 0; i < n && !bad; i++) {
        char line[256], t0[32], t1[32];
        snprintf(line, sizeof line, "%s,%s,%s,%.9g\n", ws.w[i].turbine_id,
                 wf_time_format_iso(ws.w[i].start, t0), wf_time_format_iso(ws.w[i].end, t1),
                 (double)y[i]);
        bad = sb_add(&b, line);
    }
    if (bad) {
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        rc = wf_cli_fail("predict", &err);
        goto done;
    }
    if (out) {
        if (wf_file_write_atomic(out, b.p, b.len, &err)) {
            rc = wf_cli_fail("predict", &err);
            goto done;
        }
        fprintf(stderr, "whyflag predict: %lld windows scored with %s, wrote %s\n", (long long)n,
                model, out);
    } else {
        fputs(b.p, stdout);
    }
done:
    free(b.p);
    free(y);
    if (ctx)
        p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_windows_free(&ws);
    wf_model_free(m);
    wf_audit_close(au);
    return rc;
}
