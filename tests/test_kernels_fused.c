/*
 * Kernels, part 6 (issue 12): the fused and blocked fast paths against their naive references.
 *  - Conv + ReLU (wf_k_conv_relu_forward): bit-identical to wf_k_conv_forward then ReLU, and
 *    within the dot-product bound of the naive conv then the naive ReLU, over 1-D and 2-D
 *    geometries (the 1-D stride-1 im2col path, its fallbacks, groups, one window);
 *  - the 1-D im2col itself, exactly: one-hot kernels make every output a copy of one input cell
 *    (or 0 in the padding), which the GEMM reproduces without rounding;
 *  - GlobalAveragePool over eight planes side by side, MaxPool k2 s2 with argmax, and the
 *    branch-free ReLU backward: bit-identical to their references (ties, NaN, -0);
 *  - the engine's Conv/Gemm -> Relu fusion end to end: explanations of the Aurora cnn1d and
 *    mlp bit-identical on 1 and 2 threads (the reference outputs of ONNX Runtime, torch and
 *    captum are checked in test_model_aurora and test_explain_aurora).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_check.h"
#include "model/kernels/kernels.h"
#include "testutil.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

static const kc_conv_case CASES[] = {
    {7, 8, 16, 1, 1, {36}, {5}, {2}, {2}, {1}, {1}},  /* cnn1d conv1 */
    {5, 16, 32, 1, 1, {18}, {5}, {2}, {2}, {1}, {1}}, /* cnn1d conv2 */
    {1, 8, 16, 1, 1, {36}, {5}, {2}, {2}, {1}, {1}},  /* one window: GEMM into out */
    {3, 6, 4, 2, 1, {21}, {3}, {1}, {0}, {1}, {2}},   /* groups, dilation, odd pads */
    {4, 3, 5, 1, 1, {9}, {3}, {0}, {0}, {2}, {1}},    /* stride 2: generic im2col */
    {4, 3, 5, 1, 1, {6}, {3}, {1}, {1}, {1}, {1}},    /* OW < 8: generic im2col */
    {2, 3, 4, 1, 2, {7, 9}, {3, 2}, {1, 0}, {1, 1}, {1, 2}, {1, 1}}, /* 2-D */
    {3, 4, 6, 1, 1, {40}, {7}, {0}, {6}, {1}, {1}},                  /* end padding only */
};

START_TEST(test_conv_relu_matches_references) {
    const kc_conv_case *c = &CASES[_i];
    wf_k_conv_geom g;
    kc_conv_geom(&g, c);
    size_t nin = (size_t)g.n * g.cin * g.in[0] * (g.ndim == 2 ? g.in[1] : 1);
    size_t kk = (size_t)g.k[0] * (g.ndim == 2 ? g.k[1] : 1);
    size_t nw = (size_t)g.cout * (g.cin / g.group) * kk;
    size_t nout = (size_t)g.n * g.cout * g.out[0] * (g.ndim == 2 ? g.out[1] : 1);
    wf_rng r;
    wf_rng_init(&r, 1200 + (uint64_t)_i);
    float *x = kc_alloc(nin), *w = kc_alloc(nw), *b = kc_alloc((size_t)g.cout);
    kc_fill(&r, x, nin, -2, 2);
    kc_fill(&r, w, nw, -1, 1);
    kc_fill(&r, b, (size_t)g.cout, -0.5, 0.5);
    float *scratch = kc_alloc(wf_k_conv_forward_scratch_size(&g));
    float *yf = kc_alloc(nout), *yc = kc_alloc(nout), *yn = kc_alloc(nout), *yb = kc_alloc(nout);
    wf_k_conv_relu_forward(yf, x, w, b, &g, scratch);
    wf_k_conv_forward(yc, x, w, b, &g, scratch);
    wf_k_relu_forward(yc, yc, nout);
    ck_assert_int_eq(memcmp(yf, yc, nout * sizeof *yf), 0);
    /* naive conv then naive ReLU; the bound is the conv of |x|, |w|, |b| */
    wf_k_conv_forward_naive(yn, x, w, b, &g);
    for (size_t i = 0; i < nout; i++)
        yn[i] = yn[i] > 0.0f ? yn[i] : 0.0f;
    float *xa = kc_abs_copy(x, nin), *wa = kc_abs_copy(w, nw), *ba = kc_abs_copy(b, g.cout);
    wf_k_conv_forward_naive(yb, xa, wa, ba, &g);
    kc_check_bound("conv_relu", yf, yn, yb, nout, 1e-6, 0);
    /* without bias too */
    wf_k_conv_relu_forward(yf, x, w, NULL, &g, scratch);
    wf_k_conv_forward(yc, x, w, NULL, &g, scratch);
    wf_k_relu_forward(yc, yc, nout);
    ck_assert_int_eq(memcmp(yf, yc, nout * sizeof *yf), 0);
    free(x);
    free(w);
    free(b);
    free(xa);
    free(wa);
    free(ba);
    free(scratch);
    free(yf);
    free(yc);
    free(yn);
    free(yb);
}
END_TEST

/* One-hot kernels (tap t of input channel ci for output co): every output is one input cell or a
 * padding 0, exactly, so any misplaced im2col value shows. */
START_TEST(test_im2col_1d_exact) {
    const int n = 3, cin = 4, W = 19, k = 5, pb = 2, pe = 1;
    kc_conv_case c = {n, cin, cin * k, 1, 1, {W}, {k}, {pb}, {pe}, {1}, {1}};
    wf_k_conv_geom g;
    kc_conv_geom(&g, &c);
    int OW = g.out[0];
    size_t nin = (size_t)n * cin * W, nout = (size_t)n * g.cout * OW;
    size_t nw = (size_t)g.cout * cin * k;
    float *x = kc_alloc(nin), *w = kc_alloc(nw), *y = kc_alloc(nout);
    for (size_t i = 0; i < nin; i++)
        x[i] = (float)(i + 1);
    for (int co = 0; co < g.cout; co++) /* output co = (ci, tap) */
        w[((size_t)co * cin + (size_t)(co / k)) * k + (size_t)(co % k)] = 1.0f;
    float *scratch = kc_alloc(wf_k_conv_forward_scratch_size(&g));
    wf_k_conv_forward(y, x, w, NULL, &g, scratch);
    for (int b = 0; b < n; b++)
        for (int co = 0; co < g.cout; co++)
            for (int ow = 0; ow < OW; ow++) {
                int ci = co / k, t = ow + co % k - pb;
                float want = t >= 0 && t < W ? x[((size_t)b * cin + ci) * W + t] : 0.0f;
                ck_assert_float_eq(y[((size_t)b * g.cout + co) * OW + ow], want);
            }
    free(x);
    free(w);
    free(y);
    free(scratch);
}
END_TEST

START_TEST(test_global_avgpool_bits) {
    const size_t ncs[] = {1, 7, 8, 9, 17, 64, 100};
    const size_t ss[] = {0, 1, 2, 18, 33};
    wf_rng r;
    wf_rng_init(&r, 77);
    for (size_t a = 0; a < sizeof ncs / sizeof *ncs; a++)
        for (size_t c = 0; c < sizeof ss / sizeof *ss; c++) {
            size_t nc = ncs[a], s = ss[c];
            float *x = kc_alloc(nc * s), *y = kc_alloc(nc), *z = kc_alloc(nc);
            for (size_t i = 0; i < nc * s; i++) /* full-precision floats, wide range */
                x[i] = (float)((wf_rng_uniform(&r) - 0.5) * pow(2.0, 20 * wf_rng_uniform(&r)));
            if (nc * s > 3) {
                x[1] = NAN;
                x[2] = INFINITY;
            }
            wf_k_global_avgpool_forward(y, x, nc, s);
            wf_k_global_avgpool_forward_naive(z, x, nc, s);
            ck_assert_int_eq(memcmp(y, z, nc * sizeof *y), 0);
            free(x);
            free(y);
            free(z);
        }
}
END_TEST

START_TEST(test_maxpool_k2s2_argmax_bits) {
    const int n = 3, c = 5, W = 14;
    wf_k_pool_geom g;
    memset(&g, 0, sizeof g);
    g.n = n;
    g.c = c;
    g.ndim = 1;
    g.in[0] = W;
    g.k[0] = 2;
    g.stride[0] = 2;
    g.dilation[0] = 1;
    ck_assert_int_eq(wf_k_pool_geom_finish(&g), 0);
    int OW = g.out[0];
    size_t nin = (size_t)n * c * W, nout = (size_t)n * c * OW;
    float *x = kc_alloc(nin), *y = kc_alloc(nout);
    int32_t *am = calloc(nout, sizeof *am);
    ck_assert_ptr_nonnull(am);
    wf_rng r;
    wf_rng_init(&r, 5);
    for (size_t i = 0; i < nin; i++) /* few distinct values: many ties */
        x[i] = (float)((int)(wf_rng_uniform(&r) * 5) - 2);
    x[0] = NAN;   /* first NaN: kept (nothing is > NaN) */
    x[3] = NAN;   /* second NaN: the first element stays */
    x[4] = -0.0f; /* -0 against +0: equal, the first wins */
    x[5] = 0.0f;
    wf_k_maxpool_forward(y, am, x, &g);
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int o = 0; o < OW; o++) {
            const float *xp = x + p * W;
            /* the reference rule: the first maximum in scan order, strict > */
            float best = xp[2 * o];
            int32_t idx = 2 * o;
            if (xp[2 * o + 1] > best) {
                best = xp[2 * o + 1];
                idx = 2 * o + 1;
            }
            ck_assert_int_eq(am[p * OW + o], idx);
            ck_assert_int_eq(memcmp(&y[p * OW + o], &best, sizeof best), 0);
        }
    /* and the backward still routes to those indices */
    float *dy = kc_alloc(nout), *dx = kc_alloc(nin);
    for (size_t i = 0; i < nout; i++)
        dy[i] = (float)(i + 1);
    wf_k_maxpool_backward(dx, dy, am, &g);
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int o = 0; o < OW; o++)
            ck_assert_float_eq(dx[p * W + (size_t)am[p * OW + o]], dy[p * OW + o]);
    free(x);
    free(y);
    free(am);
    free(dy);
    free(dx);
}
END_TEST

START_TEST(test_relu_backward_bits) {
    const size_t n = 203;
    float *x = kc_alloc(n), *dy = kc_alloc(n), *a = kc_alloc(n), *b = kc_alloc(n);
    wf_rng r;
    wf_rng_init(&r, 9);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(wf_rng_uniform(&r) - 0.5);
        dy[i] = (float)(wf_rng_uniform(&r) - 0.5);
        a[i] = b[i] = i % 3 == 0 ? -0.0f : (float)(wf_rng_uniform(&r) - 0.5);
    }
    x[0] = NAN;
    x[1] = 0.0f;
    x[2] = -0.0f;
    a[0] = a[1] = a[2] = b[0] = b[1] = b[2] = -0.0f;
    x[3] = INFINITY;
    x[4] = -INFINITY;
    wf_k_relu_backward(a, dy, x, n);
    wf_k_relu_backward_naive(b, dy, x, n);
    ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    ck_assert(signbit(a[0]) && signbit(a[1]) && signbit(a[2])); /* -0 kept where x <= 0 */
    free(x);
    free(dy);
    free(a);
    free(b);
}
END_TEST

/* KernelSHAP (8 groups, exact) and IG of the Aurora models on 1 and 2 threads: same bits. */
static void explain_threads(const char *model) {
    wf_error err = {0};
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    ck_assert_msg(wf_windows_read_json(WF_SOURCE_DIR "/tests/data/data/windows.json", &ws, &err) ==
                      WF_OK,
                  "%s", err.msg);
    char path[512];
    snprintf(path, sizeof path, WF_SOURCE_DIR "/tests/data/aurora/%s.onnx", model);
    wf_model *m;
    wf_predictor p;
    ck_assert_msg(wf_model_load(path, &m, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_model_predictor(m, ws.C, ws.T, WF_LAYOUT_AUTO, &p, &err) == WF_OK, "%s",
                  err.msg);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_background bg;
    ck_assert_msg(wf_background_build(&s, &ws, NULL, &bg, &err) == WF_OK, "%s", err.msg);
    enum { NW = 3 };
    int64_t idx[NW] = {0, 7, 91};
    wf_explanation e1[NW], e2[NW];
    s.do_kernelshap = 1;
    s.do_ig = 1;
    s.groups = WF_GROUPS_CHANNEL;
    s.nsamples = 2048;
    s.steps = 50;
    s.threads = 1;
    ck_assert_msg(wf_explain_run(&s, &p, &bg, &ws, idx, NW, e1, &err) == WF_OK, "%s", err.msg);
    s.threads = 2;
    ck_assert_msg(wf_explain_run(&s, &p, &bg, &ws, idx, NW, e2, &err) == WF_OK, "%s", err.msg);
    for (int k = 0; k < NW; k++) {
        ck_assert_int_eq(e1[k].status, WF_OK);
        ck_assert_int_eq(e2[k].status, WF_OK);
        ck_assert_int_eq(e1[k].kshap.M, e2[k].kshap.M);
        ck_assert_int_eq(memcmp(e1[k].kshap.values, e2[k].kshap.values,
                                (size_t)e1[k].kshap.M * sizeof *e1[k].kshap.values),
                         0);
        size_t ct = (size_t)ws.C * (size_t)ws.T;
        ck_assert_int_eq(memcmp(e1[k].ig.values, e2[k].ig.values, ct * sizeof *e1[k].ig.values), 0);
        wf_explanation_deinit(&e1[k]);
        wf_explanation_deinit(&e2[k]);
    }
    wf_background_deinit(&bg);
    wf_predictor_deinit(&p);
    wf_model_free(m);
    wf_windows_free(&ws);
}

START_TEST(test_explain_threads_cnn1d) {
    explain_threads("cnn1d");
}
END_TEST

START_TEST(test_explain_threads_mlp) {
    explain_threads("mlp");
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_fused");
    TCase *tc = tcase_create("fused");
    tcase_add_loop_test(tc, test_conv_relu_matches_references, 0,
                        (int)(sizeof CASES / sizeof *CASES));
    tcase_add_test(tc, test_im2col_1d_exact);
    tcase_add_test(tc, test_global_avgpool_bits);
    tcase_add_test(tc, test_maxpool_k2s2_argmax_bits);
    tcase_add_test(tc, test_relu_backward_bits);
    tcase_add_test(tc, test_explain_threads_cnn1d);
    tcase_add_test(tc, test_explain_threads_mlp);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
