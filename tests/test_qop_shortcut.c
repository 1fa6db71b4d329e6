/*
 * The KernelSHAP first-layer shortcut on QOperator models (src/model/affine_qop.c): the QOperator
 * twins of the deployed int8 MLP (tests/data/int8ms/mlp_qgemm.onnx: QGemm; mlp_qlinear.onnx:
 * QLinearMatMul + QLinearAdd; gen_qop_twins.py) with uint8 activations, and their int8-activation
 * variants (*_s8.onnx, gen_qop_s8.py).
 *
 * Reference: the deployed graph itself, every coalition row through the engine (explain.arithmetic
 * "exact"), whose QGemm, QLinearMatMul and QLinearAdd agree byte for byte with ONNX Runtime
 * (tests/test_engine_int8ms.c, test_engine_int8.c). The shortcut sums the first layer's int32
 * partials exactly (float32 holds them: the loader admits a layer only when every partial sum is
 * below 2^24) and requantizes them with the op's own code, so the comparison is exact: every
 * coalition value and every Shapley value equal bit for bit, on 1 and 2 threads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "testutil.h"
#include "test_background.h"
#include "test_explain_json.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NB 50
#define NM 4

static const char *models[NM] = {"int8ms/mlp_qgemm.onnx", "int8ms/mlp_qlinear.onnx",
                                 "int8ms/mlp_qgemm_s8.onnx", "int8ms/mlp_qlinear_s8.onnx"};
static wf_windows W;
static wf_background BG;

static void setup(void) {
    (void)tj_at; /* test_explain_json.h helpers this file does not need */
    (void)tj_num;
    if (W.n)
        return;
    tu_reference_windows(&W);
    tu_reference_background(&BG, NC, NT);
    ck_assert_int_eq(BG.n, NB);
}

static void load(int mi, wf_model **m, wf_predictor *p) {
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data(models[mi]), m, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_model_predictor(*m, NC, NT, WF_LAYOUT_AUTO, p, &err) == WF_OK, "%s", err.msg);
}

/* The shortcut is found, and the requantized sums continue the graph as deployed: for windows
 * and background rows, predict_hidden(A u + a0) (the sums formed here in int64 from u) equals
 * predict(x) bit for bit, and u = x_q - za holds integers in the 8-bit type's range. */
START_TEST(test_qop_first_layer) {
    setup();
    for (int mi = 0; mi < NM; mi++) {
        wf_model *m;
        wf_predictor p;
        wf_error err = {0};
        load(mi, &m, &p);
        ck_assert_msg(
            p.hidden == 64 && p.affine_a && p.affine_a0 && p.predict_hidden && p.affine_input,
            "%s: no QOperator first-layer shortcut (hidden %lld)", models[mi], (long long)p.hidden);
        enum { N = 16 };
        void *ctx;
        ck_assert(p.ctx_new(p.user, N, &ctx, &err) == WF_OK);
        float *x = malloc(sizeof(float) * N * CT), *u = malloc(sizeof(float) * N * CT);
        float *h = malloc(sizeof(float) * N * 64), y[N], yh[N];
        for (int i = 0; i < N; i++)
            memcpy(x + i * CT, i < 8 ? W.w[i * 17 % W.n].values : BG.x + (i - 8) * 5 * CT,
                   sizeof(float) * CT);
        ck_assert(p.affine_input(ctx, x, N, u, &err) == WF_OK);
        int64_t amax = 0;
        for (int i = 0; i < N * CT; i++)
            ck_assert(u[i] == rintf(u[i]) && fabsf(u[i]) <= 255.0f);
        for (int i = 0; i < 64 * CT; i++)
            ck_assert(p.affine_a[i] == rintf(p.affine_a[i]) && fabsf(p.affine_a[i]) <= 255.0f);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < 64; j++) {
                int64_t s = (int64_t)p.affine_a0[j];
                for (int c = 0; c < CT; c++)
                    s += (int64_t)p.affine_a[j * CT + c] * (int64_t)u[i * CT + c];
                amax = s > amax ? s : -s > amax ? -s : amax;
                h[i * 64 + j] = (float)s;
            }
        ck_assert(amax < (1 << 24));
        ck_assert(p.predict(ctx, x, N, y, &err) == WF_OK);
        ck_assert(p.predict_hidden(ctx, h, N, yh, &err) == WF_OK);
        for (int i = 0; i < N; i++)
            ck_assert_msg(y[i] == yh[i], "%s row %d: predict %.9g, predict_hidden %.9g", models[mi],
                          i, y[i], yh[i]);
        fprintf(stderr, "%s: predict_hidden(A u + a0) == predict(x) on %d rows (max |sum| %lld)\n",
                models[mi], N, (long long)amax);
        free(x);
        free(u);
        free(h);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* Every coalition of the 8 channels x 50 background rows, on 3 windows: the shortcut's value
 * equals the value of the rows run through the deployed graph, bit for bit. */
START_TEST(test_qop_coalitions_exact) {
    setup();
    for (int mi = 0; mi < NM; mi++) {
        wf_model *m;
        wf_predictor p;
        wf_error err = {0};
        load(mi, &m, &p);
        wf_explain_settings s;
        wf_explain_settings_default(&s);
        wf_players pl;
        ck_assert(wf_players_build(&s, NC, NT, NULL, &pl, &err) == WF_OK);
        wf_coal_eval ex, sc;
        ck_assert(wf_coal_eval_init(&ex, &p, &BG, &pl, WF_LINK_IDENTITY, 0, 256 * NB, &err) == 0);
        ck_assert(wf_coal_eval_init(&sc, &p, &BG, &pl, WF_LINK_IDENTITY, 2, 256 * NB, &err) == 0);
        ck_assert(sc.affine && sc.ux && !ex.affine);
        uint8_t masks[256 * NC];
        for (int S = 0; S < 256; S++)
            for (int c = 0; c < NC; c++)
                masks[S * NC + c] = (uint8_t)(S >> c & 1);
        double ve[256], vs[256], lo = 1e300, hi = -1e300;
        for (int w = 0; w < 3; w++) {
            const float *x = W.w[w * 31 % W.n].values;
            ck_assert(wf_coal_eval_window(&ex, x, &err) == WF_OK);
            ck_assert(wf_coal_eval_window(&sc, x, &err) == WF_OK);
            ck_assert(wf_coal_eval_values(&ex, masks, 256, ve, &err) == WF_OK);
            ck_assert(wf_coal_eval_values(&sc, masks, 256, vs, &err) == WF_OK);
            for (int S = 0; S < 256; S++) {
                ck_assert_msg(vs[S] == ve[S],
                              "%s window %d coalition %#x: shortcut %.17g, "
                              "deployed %.17g",
                              models[mi], w, S, vs[S], ve[S]);
                lo = fmin(lo, ve[S]);
                hi = fmax(hi, ve[S]);
            }
        }
        fprintf(stderr, "%s: 768 coalition values bit-identical (values span %.3g)\n", models[mi],
                hi - lo);
        ck_assert(hi - lo > 1e-2); /* the coalitions matter: not a saturated model */
        ck_assert(ex.evaluations == sc.evaluations);
        wf_coal_eval_free(&ex);
        wf_coal_eval_free(&sc);
        wf_players_free(&pl);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* The Shapley values of the public path (wf_explain_run, 8 channel groups, exact enumeration):
 * shortcut and "exact" arithmetic, 1 and 2 threads, all bit-identical. */
START_TEST(test_qop_shapley_exact) {
    setup();
    enum { NW = 6 };
    int64_t idx[NW];
    for (int i = 0; i < NW; i++)
        idx[i] = (int64_t)i * (W.n / NW);
    for (int mi = 0; mi < NM; mi++) {
        wf_model *m;
        wf_predictor p;
        wf_error err = {0};
        load(mi, &m, &p);
        wf_explanation out[4][NW];
        for (int a = 0; a < 4; a++) {
            wf_explain_settings s;
            wf_explain_settings_default(&s);
            s.do_ig = 0;
            s.nsamples = WF_NSAMPLES_EXACT;
            s.threads = 1 + (a & 1);
            s.arithmetic = a < 2 ? WF_ARITHMETIC_SHORTCUT : WF_ARITHMETIC_EXACT;
            ck_assert_msg(wf_explain_run(&s, &p, &BG, &W, idx, NW, out[a], &err) == WF_OK, "%s",
                          err.msg);
        }
        double span = 0;
        for (int i = 0; i < NW; i++) {
            for (int a = 0; a < 4; a++)
                ck_assert_msg(out[a][i].status == WF_OK && out[a][i].kshap.exact, "%s",
                              out[a][i].error);
            for (int a = 1; a < 4; a++) {
                ck_assert(out[a][i].kshap.f_x == out[0][i].kshap.f_x);
                ck_assert(out[a][i].kshap.base_value == out[0][i].kshap.base_value);
                for (int c = 0; c < NC; c++)
                    ck_assert_msg(out[a][i].kshap.values[c] == out[0][i].kshap.values[c],
                                  "%s window %d channel %d: run %d %.17g, shortcut 1 thread "
                                  "%.17g",
                                  models[mi], i, c, a, out[a][i].kshap.values[c],
                                  out[0][i].kshap.values[c]);
            }
            for (int c = 0; c < NC; c++)
                span = fmax(span, fabs(out[0][i].kshap.values[c]));
            for (int a = 0; a < 4; a++)
                wf_explanation_deinit(&out[a][i]);
        }
        fprintf(stderr,
                "%s: Shapley values of %d windows bit-identical (shortcut/exact x 1/2 threads; "
                "max |phi| %.3g)\n",
                models[mi], NW, span);
        ck_assert(span > 1e-3);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("qop_shortcut");
    TCase *tc = tcase_create("qop");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_qop_first_layer);
    tcase_add_test(tc, test_qop_coalitions_exact);
    tcase_add_test(tc, test_qop_shapley_exact);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
