/*
 * The predictor over windows (n, C, T): layouts NCT / NTC / flat (AUTO and its ambiguity error),
 * scores, gradients and the affine first layer on small models whose answers follow by hand;
 * the straight-through estimator of QuantizeLinear/DequantizeLinear.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_pb.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

/* x[N, 4, 4] - mean[1, 4, 1] -> Flatten -> Gemm(W (1, 16), transB, b) -> y[N, 1] */
static wf_model *model_a(float *W, float *mean, float *b) {
    pb g = {0}, m = {0};
    int64_t xd[3] = {-1, 4, 4}, yd[2] = {-1, 1}, wd[2] = {1, 16}, md[3] = {1, 4, 1}, bd[1] = {1};
    for (int k = 0; k < 16; k++)
        W[k] = 0.1f * (float)(k + 1) * (k % 2 ? -1.0f : 1.0f);
    for (int k = 0; k < 4; k++)
        mean[k] = (float)k;
    b[0] = 0.25f;
    pb_init_f32(&g, "W", 2, wd, W);
    pb_init_f32(&g, "mean", 3, md, mean);
    pb_init_f32(&g, "b", 1, bd, b);
    pb_node3(&g, "Sub", "x", "mean", NULL, "xs", NULL, 0);
    pb_node3(&g, "Flatten", "xs", NULL, NULL, "f", "axis", 1);
    pb_node3(&g, "Gemm", "f", "W", "b", "y", "transB", 1);
    value_info(&g, 11, "x", 1, 3, xd);
    value_info(&g, 12, "y", 1, 2, yd);
    model_wrap(&m, &g, 13);
    wf_model *mod = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load_mem(m.p, m.len, "a.onnx", &mod, &err) == WF_OK, "%s", err.msg);
    free(m.p);
    return mod;
}

START_TEST(test_layouts) {
    float W[16], mean[4], b[1];
    wf_model *m = model_a(W, mean, b);
    wf_predictor p;
    wf_error err;
    ck_assert(wf_model_predictor(m, 4, 4, WF_LAYOUT_AUTO, &p, &err) == WF_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "--layout NCT or --layout NTC"), "%s", err.msg);
    ck_assert(wf_model_predictor(m, 3, 4, WF_LAYOUT_AUTO, &p, &err) == WF_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "fits neither"), "%s", err.msg);
    float x[2 * 16];
    for (int i = 0; i < 32; i++)
        x[i] = (float)((i * 7) % 11) - 3.0f;
    for (int lay = 0; lay < 2; lay++) {
        wf_layout L = lay ? WF_LAYOUT_NTC : WF_LAYOUT_NCT;
        ck_assert_msg(wf_model_predictor(m, 4, 4, L, &p, &err) == WF_OK, "%s", err.msg);
        void *ctx;
        ck_assert(p.ctx_new(p.user, 2, &ctx, &err) == WF_OK);
        float y[2], dx[32];
        ck_assert(p.grad(ctx, x, 2, y, dx, &err) == WF_OK);
        for (int i = 0; i < 2; i++) {
            /* window cell (c, t) sits at model cell (c, t) for NCT, (t, c) for NTC */
            double want = b[0];
            for (int c = 0; c < 4; c++)
                for (int t = 0; t < 4; t++) {
                    int e = lay ? t * 4 + c : c * 4 + t;
                    int row = lay ? t : c; /* the mean broadcasts along model axis 1 */
                    want += W[e] * (x[i * 16 + c * 4 + t] - mean[row]);
                    ck_assert_msg(fabs(dx[i * 16 + c * 4 + t] - W[e]) < 1e-6, "grad layout %d",
                                  lay);
                    ck_assert(p.affine_a && fabs(p.affine_a[c * 4 + t] - W[e]) < 1e-6);
                }
            ck_assert_msg(fabs(y[i] - want) < 1e-5, "layout %d: y %g want %g", lay, y[i], want);
        }
        /* a0 = b - sum W * mean (normalization folded in) */
        double a0 = b[0];
        for (int e = 0; e < 16; e++)
            a0 -= W[e] * mean[e / 4];
        ck_assert(p.hidden == 1 && fabs(p.affine_a0[0] - a0) < 1e-5);
        float h[1] = {1.5f}, yh;
        ck_assert(p.predict_hidden(ctx, h, 1, &yh, &err) == WF_OK);
        ck_assert(fabs(yh - 1.5f) < 1e-7); /* Gemm output is the score itself */
        ck_assert(p.surrogate == NULL);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
    }
    wf_model_free(m);
}
END_TEST

START_TEST(test_flat_layout) {
    pb g = {0}, mm = {0};
    int64_t xd[2] = {-1, 6}, yd[2] = {-1, 1}, wd[2] = {6, 1};
    float W[6] = {1, 2, 3, 4, 5, 6};
    pb_init_f32(&g, "W", 2, wd, W);
    pb_node3(&g, "MatMul", "x", "W", NULL, "y", NULL, 0);
    value_info(&g, 11, "x", 1, 2, xd);
    value_info(&g, 12, "y", 1, 2, yd);
    model_wrap(&mm, &g, 13);
    wf_model *m = NULL;
    wf_error err;
    ck_assert(wf_model_load_mem(mm.p, mm.len, "flat.onnx", &m, &err) == WF_OK);
    free(mm.p);
    wf_predictor p;
    ck_assert(wf_model_predictor(m, 2, 4, WF_LAYOUT_AUTO, &p, &err) == WF_ERR_SHAPE);
    ck_assert(wf_model_predictor(m, 2, 3, WF_LAYOUT_AUTO, &p, &err) == WF_OK);
    void *ctx;
    ck_assert(p.ctx_new(p.user, 3000, &ctx, &err) == WF_OK);
    /* 3000 windows: crosses the predictor's internal chunking */
    float *x = malloc(3000 * 6 * sizeof *x), *y = malloc(3000 * sizeof *y);
    for (int i = 0; i < 3000 * 6; i++)
        x[i] = (float)(i % 13) * 0.5f;
    ck_assert(p.predict(ctx, x, 3000, y, &err) == WF_OK);
    for (int i = 0; i < 3000; i++) {
        double want = 0;
        for (int k = 0; k < 6; k++)
            want += W[k] * x[i * 6 + k];
        ck_assert_msg(fabs(y[i] - want) < 1e-4, "row %d", i);
    }
    ck_assert(p.predict(ctx, x, 3001, y, &err) == WF_ERR_INVALID);
    free(x);
    free(y);
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* x[N, 4] -> QuantizeLinear(scale 0.5, zp 10 uint8) -> DequantizeLinear -> y: forward per the
 * ONNX formula, backward 1 inside the uint8 range and 0 where it saturates. */
START_TEST(test_qdq_ste) {
    pb g = {0}, mm = {0};
    int64_t xd[2] = {-1, 4}, sd[1] = {0};
    float s = 0.5f;
    uint8_t zp = 10;
    pb_init_f32(&g, "s", 0, sd, &s);
    pb_init_raw(&g, "zp", 2, 0, sd, &zp, 1);
    pb_node3(&g, "QuantizeLinear", "x", "s", "zp", "q", NULL, 0);
    pb_node3(&g, "DequantizeLinear", "q", "s", "zp", "y", NULL, 0);
    value_info(&g, 11, "x", 1, 2, xd);
    value_info(&g, 12, "y", 1, 2, xd);
    model_wrap(&mm, &g, 13);
    wf_model *m = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load_mem(mm.p, mm.len, "qdq.onnx", &m, &err) == WF_OK, "%s", err.msg);
    free(mm.p);
    ck_assert(wf_model_is_quantized(m));
    wf_engine *e;
    ck_assert(wf_engine_new(m, 1, WF_ENGINE_GRAD, &e, &err) == WF_OK);
    /* 0.25/0.5 = 0.5 rounds to even 0; -4.9/0.5 = -9.8 -> -10 + 10 = 0 (in range);
     * -6 -> -12 + 10 saturates at 0; 200 -> 410 saturates at 255 */
    float x[4] = {0.25f, -4.9f, -6.0f, 200.0f};
    wf_tensor t = {WF_DTYPE_FLOAT, 2, {1, 4}, x};
    ck_assert(wf_engine_run(e, &t, 1, &err) == WF_OK);
    const float *y = wf_engine_output(e, 0)->data;
    const float want[4] = {0.0f, -5.0f, -5.0f, 122.5f};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(y[i] == want[i], "y[%d] = %g, want %g", i, y[i], want[i]);
    float dy[4] = {1, 1, 1, 1}, dx[4];
    ck_assert(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK);
    ck_assert(dx[0] == 1.0f && dx[1] == 1.0f && dx[2] == 0.0f && dx[3] == 0.0f);
    wf_engine_free(e);
    wf_model_free(m);
    /* the quantized Aurora mlp names its surrogate */
    ck_assert(wf_model_load(tu_data("aurora/mlp_int8_qdq.onnx"), &m, &err) == WF_OK);
    wf_predictor p;
    ck_assert(wf_model_predictor(m, 8, 36, WF_LAYOUT_AUTO, &p, &err) == WF_OK);
    ck_assert(p.surrogate && strstr(p.surrogate, "straight-through estimator"));
    /* quantization is not affine: the first layer's map never reads x itself, only the
     * quantized cells g(x) (affine_input; test_explain_int8 checks it against the engine) */
    ck_assert(p.hidden == 64 && p.affine_input != NULL);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_predictor");
    TCase *tc = tcase_create("predictor");
    tcase_add_test(tc, test_layouts);
    tcase_add_test(tc, test_flat_layout);
    tcase_add_test(tc, test_qdq_ste);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
