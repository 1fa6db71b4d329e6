/*
 * KernelSHAP on the deployed int8 QDQ MLP (tests/data/aurora/mlp_int8_qdq.onnx): the first-layer
 * shortcut through the input quantization (explain.arithmetic "shortcut", the default) against
 * the deployed arithmetic (explain.arithmetic "exact"), and both against exact Shapley values
 * that ONNX Runtime's scores give by enumeration (tests/data/int8/shap_groups_mlp_int8_ort.json,
 * written by gen_shap_int8_ort.js: onnxruntime-node 1.30.0, optimizations disabled, all 256
 * coalitions x 50 background windows, Shapley in float64).
 *
 * Tolerances. Both paths quantize the same cells, so the hidden pre-activations differ only by
 * float rounding of the first layer (summation order: partial products vs the engine's sgemm,
 * about 1e-7 relative). The hidden layer's own QuantizeLinear rounds them to its grid, so on the
 * rare rows where a pre-activation sits within that rounding of a rounding boundary one hidden
 * unit moves by one quantization step; one such row of the 50 moves a coalition's value by a
 * fiftieth of the score change (measured: 14 of 768 coalition values moved, by at most 3.0e-4).
 * Shapley values weigh each coalition little: measured on the 20 reference windows, at most
 * 6.7e-6 between the two arithmetics (1.9e-5 on the 124 explained windows of the sample audit,
 * tests/bench/bench_int8_audit.sh), channel ranking unchanged on all. The tests allow 2e-5 for
 * the Shapley values, 1e-3 for one coalition's value, and require the ranking unchanged. ONNX
 * Runtime's Gemm rounds differently again, so the same one-step flips separate both from its
 * reference (measured 5.1e-5 for the Shapley values, 4.1e-4 for a coalition value, f(x) within
 * 1.2e-7); allowed 1e-4 and 1e-3.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "testutil.h"
#include "test_background.h"
#include "test_explain_json.h"
#include "whyflag/config.h"
#include "whyflag/engine.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NB 50
#define NREF 20
#define TOL_ARITH 2e-5 /* shortcut vs exact, Shapley values (see the file comment) */
#define TOL_ORT 1e-4   /* either vs ONNX Runtime's enumeration */
#define TOL_V 1e-3     /* one coalition's value (a flip moves 1 of the 50 rows) */

static wf_windows W;
static wf_background BG;
static int64_t ref_idx[NREF];

static void setup(void) {
    if (W.n)
        return;
    tu_reference_windows(&W);
    tu_reference_background(&BG, NC, NT);
    ck_assert_int_eq(BG.n, NB);
    tj *g = tj_load(tu_data("int8/shap_groups_mlp_int8_ort.json"));
    double ix[NREF];
    ck_assert_int_eq(tj_flat(tj_get(g, "windows"), ix, NREF), NREF);
    for (int i = 0; i < NREF; i++)
        ref_idx[i] = (int64_t)ix[i];
    tj_free(g);
}

static void load(const char *name, wf_model **m, wf_predictor *p) {
    char path[256];
    wf_error err = {0};
    snprintf(path, sizeof path, "aurora/%s.onnx", name);
    ck_assert_msg(wf_model_load(tu_data(path), m, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_model_predictor(*m, NC, NT, WF_LAYOUT_AUTO, p, &err) == WF_OK, "%s", err.msg);
}

/* rows (NB, CT): channel c from x when bit c of S is set, else from background row b */
static void masked(float *rows, const float *x, const float *bx, int S) {
    for (int b = 0; b < NB; b++)
        for (int c = 0; c < NC; c++)
            memcpy(rows + (size_t)b * CT + c * NT, (S >> c & 1 ? x : bx + (size_t)b * CT) + c * NT,
                   sizeof(float) * NT);
}

/* The shortcut reaches past the input's QuantizeLinear/DequantizeLinear, and that prefix maps
 * each cell on its own: quantizing a masked row equals masking the quantized rows, bit for bit. */
START_TEST(test_shortcut_through_quantization) {
    setup();
    wf_model *m, *mf;
    wf_predictor p, pf;
    wf_error err = {0};
    load("mlp_int8_qdq", &m, &p);
    load("mlp", &mf, &pf);
    ck_assert_msg(p.hidden == 64 && p.affine_a && p.predict_hidden && p.affine_input,
                  "int8 mlp: no first-layer shortcut (hidden %lld)", (long long)p.hidden);
    ck_assert(pf.hidden == 64 && !pf.affine_input); /* the float mlp: A maps x itself */
    void *ctx;
    ck_assert(p.ctx_new(p.user, NB, &ctx, &err) == WF_OK);
    float *rows = malloc(sizeof(float) * NB * CT), *u = malloc(sizeof(float) * NB * CT);
    float *ux = malloc(sizeof(float) * CT), *ub = malloc(sizeof(float) * NB * CT);
    float *um = malloc(sizeof(float) * NB * CT);
    const float *x = W.w[ref_idx[0]].values;
    ck_assert(p.affine_input(ctx, x, 1, ux, &err) == WF_OK);
    ck_assert(p.affine_input(ctx, BG.x, NB, ub, &err) == WF_OK);
    int differ = 0;
    for (int c = 0; c < CT; c++)
        differ += ux[c] != x[c];
    ck_assert_msg(differ > CT / 2, "g(x) looks like x itself (%d of %d cells differ)", differ, CT);
    const int sets[5] = {0, 1, 0x5a, 0xf0, 0xff};
    for (int k = 0; k < 5; k++) {
        masked(rows, x, BG.x, sets[k]);
        ck_assert(p.affine_input(ctx, rows, NB, u, &err) == WF_OK);
        masked(um, ux, ub, sets[k]);
        ck_assert_msg(!memcmp(u, um, sizeof(float) * NB * CT), "coalition %#x: g does not commute",
                      sets[k]);
    }
    free(rows);
    free(u);
    free(ux);
    free(ub);
    free(um);
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_predictor_deinit(&pf);
    wf_model_free(m);
    wf_model_free(mf);
}
END_TEST

/* "exact" (affine = 0, what explain.arithmetic "exact" passes) runs every coalition row through
 * the deployed graph: each coalition's value equals, bit for bit, the weighted mean of the
 * engine's own forward pass on the 50 masked rows. The shortcut is then within the bound. */
START_TEST(test_exact_is_deployed_arithmetic) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load("mlp_int8_qdq", &m, &p);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_players pl;
    ck_assert(wf_players_build(&s, NC, NT, NULL, &pl, &err) == WF_OK);
    wf_coal_eval ex, sc;
    ck_assert(wf_coal_eval_init(&ex, &p, &BG, &pl, WF_LINK_IDENTITY, 0, NB, &err) == WF_OK);
    ck_assert(wf_coal_eval_init(&sc, &p, &BG, &pl, WF_LINK_IDENTITY, 1, 256 * NB, &err) == WF_OK);
    ck_assert(!ex.affine && sc.affine && sc.ub && sc.ux);
    wf_engine *e;
    ck_assert(wf_engine_new(m, NB, 0, &e, &err) == WF_OK);
    uint8_t masks[256 * NC];
    for (int S = 0; S < 256; S++)
        for (int c = 0; c < NC; c++)
            masks[S * NC + c] = (uint8_t)(S >> c & 1);
    double ve[256], vs[256], vo[256];
    float *rows = malloc(sizeof(float) * NB * CT);
    double maxd = 0, maxo = 0, maxso = 0;
    int moved = 0, moved_o = 0;
    tj *r = tj_load(tu_data("int8/shap_groups_mlp_int8_ort.json"));
    for (int w = 0; w < 3; w++) {
        ck_assert_int_eq(tj_flat(tj_at(tj_get(r, "v"), w), vo, 256), 256);
        const float *x = W.w[ref_idx[w]].values;
        ck_assert(wf_coal_eval_window(&ex, x, &err) == WF_OK);
        ck_assert(wf_coal_eval_window(&sc, x, &err) == WF_OK);
        int64_t ev0 = ex.evaluations;
        ck_assert_msg(wf_coal_eval_values(&ex, masks, 256, ve, &err) == WF_OK, "%s", err.msg);
        ck_assert_msg(wf_coal_eval_values(&sc, masks, 256, vs, &err) == WF_OK, "%s", err.msg);
        ck_assert_int_eq(ex.evaluations - ev0, 256 * NB);
        for (int S = 0; S < 256; S++) {
            masked(rows, x, BG.x, S);
            wf_tensor t = {WF_DTYPE_FLOAT, 3, {NB, NC, NT}, rows};
            ck_assert(wf_engine_run(e, &t, 1, &err) == WF_OK);
            const float *y = wf_engine_output(e, 0)->data;
            double ref = 0;
            for (int b = 0; b < NB; b++)
                ref += BG.weight[b] * (double)y[b];
            ck_assert_msg(ve[S] == ref, "window %d coalition %#x: exact %.17g, engine %.17g", w, S,
                          ve[S], ref);
            double d = fabs(vs[S] - ve[S]);
            maxd = fmax(maxd, d);
            moved += d > 1e-6;
            maxo = fmax(maxo, fabs(ve[S] - vo[S]));
            maxso = fmax(maxso, fabs(vs[S] - vo[S]));
            moved_o += fabs(ve[S] - vo[S]) > 1e-6;
        }
    }
    fprintf(stderr,
            "int8 mlp: exact coalition values equal the engine's forward on all 3 x 256 "
            "coalitions; shortcut vs exact: max |dv| %.3g, %d of 768 values moved by more than "
            "1e-6; vs ONNX Runtime: exact max |dv| %.3g (%d moved), shortcut %.3g\n",
            maxd, moved, maxo, moved_o, maxso);
    ck_assert(maxd <= TOL_V && maxo <= TOL_V && maxso <= TOL_V);
    tj_free(r);
    free(rows);
    wf_engine_free(e);
    wf_coal_eval_free(&ex);
    wf_coal_eval_free(&sc);
    wf_players_free(&pl);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* Other QDQ shapes (tests/data/int8/gen_qdq_shortcut.py): a 1-D Conv with per-channel int8
 * weights behind a per-tensor input quantization, and a time-major [N, T, C] input quantized per
 * channel before a MatMul with per-column weights. The shortcut must reach both first layers
 * (weights folded at plan time) and give every coalition value of the deployed graph within the
 * one-step-flip bound, most of them within float rounding. */
START_TEST(test_shortcut_other_qdq_shapes) {
    setup();
    const char *names[2] = {"int8/qdq_conv1d.onnx", "int8/qdq_ntc.onnx"};
    const int64_t hidden[2] = {6 * 32, 16};
    for (int mi = 0; mi < 2; mi++) {
        wf_model *m;
        wf_predictor p;
        wf_error err = {0};
        ck_assert_msg(wf_model_load(tu_data(names[mi]), &m, &err) == WF_OK, "%s", err.msg);
        ck_assert_msg(wf_model_predictor(m, NC, NT, WF_LAYOUT_AUTO, &p, &err) == WF_OK, "%s",
                      err.msg);
        ck_assert_msg(p.hidden == hidden[mi] && p.affine_input, "%s: hidden %lld, affine_input %d",
                      names[mi], (long long)p.hidden, p.affine_input != NULL);
        wf_explain_settings s;
        wf_explain_settings_default(&s);
        wf_players pl;
        ck_assert(wf_players_build(&s, NC, NT, NULL, &pl, &err) == WF_OK);
        wf_coal_eval ex, sc;
        ck_assert(wf_coal_eval_init(&ex, &p, &BG, &pl, WF_LINK_IDENTITY, 0, 256 * NB, &err) == 0);
        ck_assert(wf_coal_eval_init(&sc, &p, &BG, &pl, WF_LINK_IDENTITY, 2, 256 * NB, &err) == 0);
        ck_assert(sc.affine && sc.ux);
        uint8_t masks[256 * NC];
        for (int S = 0; S < 256; S++)
            for (int c = 0; c < NC; c++)
                masks[S * NC + c] = (uint8_t)(S >> c & 1);
        double ve[256], vs[256], maxd = 0, lo = 1e300, hi = -1e300;
        int moved = 0;
        for (int w = 0; w < 2; w++) {
            const float *x = W.w[ref_idx[w]].values;
            ck_assert(wf_coal_eval_window(&ex, x, &err) == WF_OK);
            ck_assert(wf_coal_eval_window(&sc, x, &err) == WF_OK);
            ck_assert(wf_coal_eval_values(&ex, masks, 256, ve, &err) == WF_OK);
            ck_assert(wf_coal_eval_values(&sc, masks, 256, vs, &err) == WF_OK);
            for (int S = 0; S < 256; S++) {
                maxd = fmax(maxd, fabs(vs[S] - ve[S]));
                moved += fabs(vs[S] - ve[S]) > 1e-6;
                lo = fmin(lo, ve[S]);
                hi = fmax(hi, ve[S]);
            }
        }
        fprintf(stderr,
                "%s: shortcut vs exact coalition values max |dv| %.3g, %d of 512 moved by more "
                "than 1e-6 (values span %.3g)\n",
                names[mi], maxd, moved, hi - lo);
        ck_assert(hi - lo > 1e-2); /* the coalitions matter: not a saturated model */
        ck_assert(maxd <= TOL_V && moved <= 512 / 10);
        wf_coal_eval_free(&ex);
        wf_coal_eval_free(&sc);
        wf_players_free(&pl);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* order of the channels by value, descending (ties by index) */
static void ranking(const double *v, int *ord) {
    for (int i = 0; i < NC; i++)
        ord[i] = i;
    for (int i = 1; i < NC; i++)
        for (int j = i; j > 0 && v[ord[j]] > v[ord[j - 1]]; j--) {
            int t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
}

START_TEST(test_shortcut_vs_exact_vs_ort) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load("mlp_int8_qdq", &m, &p);
    tj *r = tj_load(tu_data("int8/shap_groups_mlp_int8_ort.json"));
    wf_explanation out[2][NREF];
    for (int a = 0; a < 2; a++) {
        wf_explain_settings s;
        wf_explain_settings_default(&s);
        s.do_ig = 0;
        s.nsamples = WF_NSAMPLES_EXACT;
        s.threads = 1;
        s.arithmetic = a ? WF_ARITHMETIC_EXACT : WF_ARITHMETIC_SHORTCUT;
        ck_assert_msg(wf_explain_run(&s, &p, &BG, &W, ref_idx, NREF, out[a], &err) == WF_OK, "%s",
                      err.msg);
        for (int i = 0; i < NREF; i++)
            ck_assert_msg(out[a][i].status == WF_OK && out[a][i].kshap.exact, "window %d: %s", i,
                          out[a][i].error);
    }
    double d_se = 0, d_ort[2] = {0, 0}, d_fx = 0, want[NC];
    int same_rank = 0;
    double ef = tj_num(tj_get(r, "E_f_background"));
    for (int i = 0; i < NREF; i++) {
        ck_assert_int_eq(tj_flat(tj_at(tj_get(r, "exact"), i), want, NC), NC);
        double fx = tj_num(tj_at(tj_get(r, "f_x"), i));
        int o0[NC], o1[NC];
        ranking(out[0][i].kshap.values, o0);
        ranking(out[1][i].kshap.values, o1);
        same_rank += !memcmp(o0, o1, sizeof o0);
        for (int a = 0; a < 2; a++) {
            const wf_kshap_result *k = &out[a][i].kshap;
            ck_assert(fabs(k->efficiency_gap) < 1e-12);
            ck_assert(fabs(k->base_value - ef) < 1e-6);
            d_fx = fmax(d_fx, fabs(k->f_x - fx));
            for (int c = 0; c < NC; c++)
                d_ort[a] = fmax(d_ort[a], fabs(k->values[c] - want[c]));
        }
        for (int c = 0; c < NC; c++)
            d_se = fmax(d_se, fabs(out[0][i].kshap.values[c] - out[1][i].kshap.values[c]));
        wf_explanation_deinit(&out[0][i]);
        wf_explanation_deinit(&out[1][i]);
    }
    fprintf(stderr,
            "int8 mlp, 20 windows, 8 channels exact: max |phi_shortcut - phi_exact| %.3g, "
            "ranking unchanged on %d of %d; vs ONNX Runtime's enumeration: shortcut %.3g, exact "
            "%.3g; f(x) vs ORT %.3g\n",
            d_se, same_rank, NREF, d_ort[0], d_ort[1], d_fx);
    ck_assert(d_se <= TOL_ARITH);
    ck_assert_int_eq(same_rank, NREF);
    ck_assert(d_ort[0] <= TOL_ORT && d_ort[1] <= TOL_ORT);
    ck_assert(d_fx <= 1e-6);
    tj_free(r);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* explain.arithmetic parses as "shortcut" (default) and "exact", and nothing else. */
START_TEST(test_arithmetic_setting) {
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    ck_assert_int_eq(s.arithmetic, WF_ARITHMETIC_SHORTCUT);
    wf_error err = {0};
    ck_assert(wf_explain_parse_arithmetic("exact", &s.arithmetic, &err) == WF_OK);
    ck_assert_int_eq(s.arithmetic, WF_ARITHMETIC_EXACT);
    ck_assert_str_eq(wf_arithmetic_name(s.arithmetic), "exact");
    ck_assert(wf_explain_parse_arithmetic("shortcut", &s.arithmetic, &err) == WF_OK);
    ck_assert_str_eq(wf_arithmetic_name(s.arithmetic), "shortcut");
    ck_assert(wf_explain_parse_arithmetic("fast", &s.arithmetic, &err) == WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "\"shortcut\" or \"exact\"") != NULL, "%s", err.msg);
    char text[8192];
    s.arithmetic = WF_ARITHMETIC_SHORTCUT;
    wf_explain_describe(&s, NULL, text, sizeof text);
    ck_assert_msg(strstr(text, "shortcut") && strstr(text, "\"exact\""), "%s", text);
    s.arithmetic = WF_ARITHMETIC_EXACT;
    wf_explain_describe(&s, NULL, text, sizeof text);
    ck_assert_msg(strstr(text, "deployed arithmetic"), "%s", text);
}
END_TEST

/* The key and the flag: config explain.arithmetic, `whyflag explain --arithmetic`, and
 * results.json's settings.arithmetic; a wrong value names the key and what was expected. */
#define CFG_BASE                                                                                   \
    "\"model\": \"m.onnx\", \"log\": {\"path\": \"l.csv\", \"turbine_column\": \"t\", "            \
    "\"time_column\": \"ts\", \"cadence_seconds\": 600, \"channels\": [{\"name\": \"a\"}]}, "      \
    "\"window\": {\"length\": 4}"

START_TEST(test_arithmetic_config_and_cli) {
    setup();
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse("{" CFG_BASE ", \"explain\": {\"arithmetic\": \"exact\"}}",
                                  "c.json", "/base", &cfg, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.explain.arithmetic, WF_ARITHMETIC_EXACT);
    wf_config_deinit(&cfg);
    ck_assert(wf_config_parse("{" CFG_BASE "}", "c.json", "/base", &cfg, &err) == WF_OK);
    ck_assert_int_eq(cfg.explain.arithmetic, WF_ARITHMETIC_SHORTCUT);
    wf_config_deinit(&cfg);
    ck_assert(wf_config_parse("{" CFG_BASE ", \"explain\": {\"arithmetic\": 1}}", "c.json", "/base",
                              &cfg, &err) == WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "explain.arithmetic"), "%s", err.msg);
    /* the CLI on three windows */
    const char *dir = tu_tmpdir();
    char wpath[600], out[600], cmd[4096];
    snprintf(wpath, sizeof wpath, "%s/w3.json", dir);
    snprintf(out, sizeof out, "%s/r.json", dir);
    wf_windows w3;
    ck_assert(wf_windows_init(&w3, W.C, W.T, (const char *const *)W.channels, NULL, &err) == 0);
    for (int i = 0; i < 3; i++) {
        wf_window w = W.w[ref_idx[i]];
        w.index = -1;
        ck_assert(wf_windows_push(&w3, &w, &err) == WF_OK);
    }
    ck_assert(wf_windows_write_json(wpath, &w3, &err) == WF_OK);
    wf_windows_free(&w3);
    for (int a = 0; a < 3; a++) {
        const char *val[3] = {"exact", "shortcut", "fast"};
        snprintf(cmd, sizeof cmd,
                 "'%s' explain --model '%s' --windows '%s' --out '%s' --method kernelshap "
                 "--nsamples exact --threads 1 --quiet --arithmetic %s",
                 WF_CLI, tu_data("aurora/mlp_int8_qdq.onnx"), wpath, out, val[a]);
        char *text = NULL;
        int rc = tu_run(cmd, &text);
        if (a < 2) {
            ck_assert_msg(rc == 0, "rc %d: %s", rc, text);
            char *j = tu_read(out, NULL), want[64];
            snprintf(want, sizeof want, "\"arithmetic\": \"%s\"", val[a]);
            ck_assert_msg(strstr(j, want) != NULL, "results.json lacks %s", want);
            free(j);
        } else {
            ck_assert_msg(rc != 0 && text && strstr(text, "--arithmetic") &&
                              strstr(text, "\"shortcut\" or \"exact\""),
                          "rc %d: %s", rc, text ? text : "");
        }
        free(text);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain_int8");
    TCase *tc = tcase_create("int8");
    tcase_add_test(tc, test_arithmetic_setting);
    tcase_add_test(tc, test_arithmetic_config_and_cli);
    tcase_add_test(tc, test_shortcut_through_quantization);
    tcase_add_test(tc, test_exact_is_deployed_arithmetic);
    tcase_add_test(tc, test_shortcut_vs_exact_vs_ort);
    tcase_add_test(tc, test_shortcut_other_qdq_shapes);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
