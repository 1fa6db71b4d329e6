/*
 * Issue 11 wiring: the explain settings' new names (method "treeshap", treeshap_output) in
 * config.json and the shared string parsers, and an end-to-end audit of the tree sample
 * (samples/config_trees.json: a GradientBoostingClassifier on the Aurora windows) whose
 * results.json is checked against the library: TreeSHAP values add up to f_x - base_value,
 * IG is "not_applicable" with a reason, the report says so, and the first explained window's
 * TreeSHAP values equal wf_treeshap_explain called directly on that window with the audit's
 * background (wf_audit_background) and one player per channel.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag.h"
#include "whyflag/treeshap.h"
#include "whyflag/trees.h"

#define BASE                                                                                       \
    "\"model\": \"m.onnx\", \"log\": {\"path\": \"l.csv\", \"turbine_column\": \"t\", "            \
    "\"time_column\": \"ts\", \"cadence_seconds\": 600, \"channels\": [{\"name\": \"a\"}]}, "      \
    "\"window\": {\"length\": 4}"

static wf_status parse(const char *json, wf_config *cfg, wf_error *err) {
    return wf_config_parse(json, "c.json", "/base", cfg, err);
}

START_TEST(test_config_names) {
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(parse("{" BASE ", \"explain\": {\"method\": \"treeshap\", \"treeshap_output\": "
                        "\"probability\"}}",
                        &cfg, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.explain.do_treeshap, WF_TREESHAP_ON);
    ck_assert_int_eq(cfg.explain.do_kernelshap, 0);
    ck_assert_int_eq(cfg.explain.do_ig, 0);
    ck_assert_int_eq(cfg.explain.treeshap_output, WF_TREESHAP_PROBABILITY);
    ck_assert_str_eq(wf_explain_method_name(&cfg.explain), "treeshap");
    wf_config_deinit(&cfg);
    /* defaults: "both" (TreeSHAP when the model is a tree ensemble), margin */
    ck_assert_msg(parse("{" BASE "}", &cfg, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(cfg.explain.do_treeshap, WF_TREESHAP_AUTO);
    ck_assert_int_eq(cfg.explain.treeshap_output, WF_TREESHAP_MARGIN);
    ck_assert_str_eq(wf_explain_method_name(&cfg.explain), "both");
    ck_assert_int_eq(wf_explain_uses_treeshap(&cfg.explain), 0); /* no tree model set */
    wf_config_deinit(&cfg);

    static const struct {
        const char *json, *frag;
    } bad[] = {
        {"{" BASE ", \"explain\": {\"treeshap_output\": \"logodds\"}}",
         "explain.treeshap_output: found \"logodds\", expected \"margin\" or \"probability\""},
        {"{" BASE ", \"explain\": {\"treeshap_output\": 1}}", "explain.treeshap_output"},
        {"{" BASE ", \"explain\": {\"method\": \"tree\"}}",
         "explain.method: found \"tree\", expected \"kernelshap\", \"ig\", \"treeshap\" or "
         "\"both\""},
        {"{" BASE ", \"explain\": {\"treeshap\": \"margin\"}}", "explain.treeshap: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wf_error e = {0};
        ck_assert_int_eq(parse(bad[i].json, &cfg, &e), WF_ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, bad[i].frag) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, e.msg,
                      bad[i].frag);
    }
    /* the parsers the CLI flags share */
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_treeshap_output o = WF_TREESHAP_MARGIN;
    ck_assert_int_eq(wf_explain_parse_treeshap_output("probability", &o, &err), WF_OK);
    ck_assert_int_eq(o, WF_TREESHAP_PROBABILITY);
    ck_assert_str_eq(wf_treeshap_output_name(o), "probability");
    ck_assert_int_eq(wf_explain_parse_treeshap_output("prob", &o, &err), WF_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "found \"prob\", expected \"margin\" or"));
    ck_assert_int_eq(wf_explain_parse_method("treeshap", &s, &err), WF_OK);
    ck_assert_int_eq(wf_explain_uses_treeshap(&s), 1);
    ck_assert_int_eq(wf_explain_parse_method("kernelshap", &s, &err), WF_OK);
    ck_assert_int_eq(s.do_treeshap, WF_TREESHAP_OFF);
    ck_assert_int_eq(wf_explain_parse_method("both", &s, &err), WF_OK);
    ck_assert_int_eq(s.do_treeshap, WF_TREESHAP_AUTO);
}
END_TEST

/* The number after "key": at or after p (NAN if absent). */
static double num_after(const char *p, const char *key, const char **end) {
    const char *q = strstr(p, key);
    if (!q)
        return NAN;
    q += strlen(key);
    while (*q == ' ' || *q == ':')
        q++;
    char *e;
    double v = strtod(q, &e);
    if (end)
        *end = e;
    return v;
}

/* The string after "key": at or after p, into out. */
static void str_after(const char *p, const char *key, char *out, size_t n) {
    const char *q = strstr(p, key);
    ck_assert_ptr_nonnull(q);
    q = strchr(q + strlen(key), '"');
    ck_assert_ptr_nonnull(q);
    q++;
    size_t k = 0;
    while (*q && *q != '"' && k + 1 < n)
        out[k++] = *q++;
    out[k] = 0;
}

START_TEST(test_audit_tree_sample) {
    char cpath[1024];
    snprintf(cpath, sizeof cpath, "%s/samples/config_trees.json", WF_SOURCE_DIR);
    wf_audit *a = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_audit_open(cpath, &a, &err) == WF_OK, "%s", err.msg);
    const wf_config *cfg = wf_audit_config(a);
    ck_assert_ptr_nonnull(cfg->explain.tree_model);
    ck_assert_ptr_nonnull(cfg->explain.ig_not_applicable);
    ck_assert_int_eq(wf_explain_uses_treeshap(&cfg->explain), 1);

    const char *out = tu_tmpdir();
    wf_audit_opts o;
    wf_audit_opts_default(&o);
    o.out_dir = out;
    wf_audit_summary sum;
    ck_assert_msg(wf_audit_run(a, &o, &sum, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_gt(sum.explained, 0);

    char path[1200];
    snprintf(path, sizeof path, "%s/results.json", out);
    char *js = tu_read(path, NULL);
    ck_assert_ptr_nonnull(strstr(js, "\"treeshap_output\": \"margin\""));
    /* every window: treeshap sums to f_x - base_value within 1e-6, IG not applicable */
    int n_ts = 0;
    double worst = 0;
    for (const char *p = strstr(js, "\"treeshap\": {"); p; p = strstr(p + 1, "\"treeshap\": {")) {
        const char *e;
        double base = num_after(p, "\"base_value\"", NULL), fx = num_after(p, "\"f_x\"", NULL);
        const char *v = strstr(p, "\"values\": [");
        ck_assert_ptr_nonnull(v);
        v += strlen("\"values\": [");
        double s = 0;
        for (int m = 0; m < 8; m++) {
            s += strtod(v, (char **)&e);
            v = e + 1;
        }
        worst = fmax(worst, fabs(s - (fx - base)));
        ck_assert_ptr_nonnull(strstr(p, "\"output\": \"margin\""));
        ck_assert_ptr_nonnull(strstr(p, "\"variant\": \"interventional\""));
        n_ts++;
    }
    ck_assert_int_eq(n_ts, (int)sum.explained);
    ck_assert_msg(worst <= 1e-6, "TreeSHAP efficiency: max |sum - (f_x - base)| = %g", worst);
    int n_na = 0;
    for (const char *p = strstr(js, "\"status\": \"not_applicable\""); p;
         p = strstr(p + 1, "\"status\": \"not_applicable\""))
        n_na++;
    ck_assert_int_eq(n_na, n_ts);
    ck_assert_ptr_nonnull(strstr(js, "\"reason\": \"node 'TreeEnsembleClassifier'"));
    /* KernelSHAP (exact, link logit_output) explains the same margin: the two agree */
    double md = 0;
    for (const char *p = strstr(js, "\"max_abs_difference\""); p;
         p = strstr(p + 1, "\"max_abs_difference\""))
        md = fmax(md, num_after(p, "\"max_abs_difference\"", NULL));
    ck_assert_msg(md < 1e-4, "TreeSHAP vs KernelSHAP max |diff| %g", md);
    printf("trees audit: %d windows, TreeSHAP efficiency max %.3g, vs exact KernelSHAP on the "
           "margin max |diff| %.3g\n",
           n_ts, worst, md);

    /* the first explained window against wf_treeshap_explain called directly */
    const char *w0 = strstr(js, "\"index\":"); /* the first explained window (background
                                                * windows carry no index) */
    ck_assert_ptr_nonnull(w0);
    char tid[64], start[64];
    str_after(w0, "\"turbine_id\"", tid, sizeof tid);
    str_after(w0, "\"start\"", start, sizeof start);
    const char *t0 = strstr(w0, "\"treeshap\": {");
    double want[8], want_fx = num_after(t0, "\"f_x\"", NULL),
                    want_base = num_after(t0, "\"base_value\"", NULL);
    const char *v = strstr(t0, "\"values\": [") + strlen("\"values\": [");
    for (int m = 0; m < 8; m++) {
        char *e;
        want[m] = strtod(v, &e);
        v = e + 1;
    }
    wf_windows ws;
    wf_data_config dc = wf_config_data(cfg);
    ck_assert_msg(wf_data_load_windows(&dc, &ws, NULL, NULL, NULL, &err) == WF_OK, "%s", err.msg);
    int64_t wi = -1;
    for (int64_t i = 0; i < ws.n && wi < 0; i++) {
        char b[32];
        if (!strcmp(ws.w[i].turbine_id, tid) &&
            !strcmp(wf_time_format_iso(ws.w[i].start, b), start))
            wi = i;
    }
    ck_assert_msg(wi >= 0, "window %s %s not found", tid, start);
    wf_background bg;
    ck_assert_msg(wf_audit_background(a, NULL, 1, &bg, &err) == WF_OK, "%s", err.msg);
    int C = ws.C, T = ws.T;
    ck_assert_int_eq(C, 8);
    int64_t pstart[9], *cells = malloc(sizeof(int64_t) * (size_t)(C * T));
    for (int c = 0; c <= C; c++)
        pstart[c] = (int64_t)c * T;
    for (int k = 0; k < C * T; k++)
        cells[k] = k;
    wf_treeshap *ts = NULL;
    ck_assert_msg(wf_treeshap_new(cfg->explain.tree_model, bg.x, bg.weight, bg.n, C, pstart, cells,
                                  &ts, &err) == WF_OK,
                  "%s", err.msg);
    double phi[8], fx, base;
    ck_assert_msg(wf_treeshap_explain(ts, ws.w[wi].values, phi, &fx, &base, &err) == WF_OK, "%s",
                  err.msg);
    fprintf(stderr,
            "window %lld (%s %s): f_x %.17g (results.json %.17g), base %.17g (%.17g), bg n %lld\n",
            (long long)wi, tid, start, fx, want_fx, base, want_base, (long long)bg.n);
    /* results.json writes shortest round-trip doubles: equal to the last bit */
    for (int m = 0; m < 8; m++)
        ck_assert_msg(phi[m] == want[m], "player %d: library %.17g, results.json %.17g", m, phi[m],
                      want[m]);
    ck_assert(fx == want_fx);
    ck_assert(base == want_base);
    wf_treeshap_free(ts);
    free(cells);
    wf_background_deinit(&bg);
    wf_windows_free(&ws);

    /* report.pdf says IG does not apply (pdftotext, when installed) */
    char cmd[1400], *txt = NULL;
    snprintf(cmd, sizeof cmd, "pdftotext %s/report.pdf - 2>/dev/null", out);
    if (tu_run("command -v pdftotext >/dev/null", NULL) != 0) {
        tu_skip("pdftotext not installed: report.pdf text not checked");
    } else {
        ck_assert_int_eq(tu_run(cmd, &txt), 0);
        ck_assert_ptr_nonnull(strstr(txt, "Integrated Gradients does not apply"));
        ck_assert_ptr_nonnull(strstr(txt, "TreeSHAP vs KernelSHAP"));
        free(txt);
    }
    free(js);
    wf_audit_close(a);
}
END_TEST

/* A model with a gradient and method "treeshap": an error naming explain.method. */
START_TEST(test_treeshap_needs_trees) {
    wf_model *m = NULL;
    wf_error err = {0};
    char mp[1024];
    snprintf(mp, sizeof mp, "%s/samples/aurora_int8.onnx", WF_SOURCE_DIR);
    ck_assert_msg(wf_model_load(mp, &m, &err) == WF_OK, "%s", err.msg);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_audit_trees t;
    ck_assert_int_eq(wf_audit_trees_setup(&s, m, 8, 36, WF_LAYOUT_AUTO, &t, &err), WF_OK);
    ck_assert_ptr_null(s.tree_model); /* "both" on a differentiable model: as before */
    ck_assert_ptr_null(s.ig_not_applicable);
    wf_audit_trees_free(&t);
    ck_assert_int_eq(wf_explain_parse_method("treeshap", &s, &err), WF_OK);
    ck_assert_int_ne(wf_audit_trees_setup(&s, m, 8, 36, WF_LAYOUT_AUTO, &t, &err), WF_OK);
    ck_assert_msg(strstr(err.msg, "explain.method \"treeshap\"") != NULL, "%s", err.msg);
    wf_audit_trees_free(&t);
    wf_model_free(m);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("trees_audit");
    TCase *tc = tcase_create("trees_audit");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_config_names);
    tcase_add_test(tc, test_treeshap_needs_trees);
    tcase_add_test(tc, test_audit_tree_sample);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(suite());
}
