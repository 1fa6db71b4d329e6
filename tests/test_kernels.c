/*
 * Kernels, part 1: GEMM and convolution.
 *  - fast (OpenBLAS / im2col + GEMM) against naive references on many shapes, within 1e-5 of the
 *    dot-product error bound (rtol 1e-5 on sum |a||b|);
 *  - backward kernels against central finite differences in double (rel err < 1e-4);
 *  - outputs against ONNX's own backend node tests (ONNX v1.22.0 data, tests/data/kernels/).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/kernels/onnx_node_cases.h"
#include "kernels_check.h"
#include "model/kernels/kernels.h"
#include "testutil.h"

#define RTOL_BOUND 1e-5 /* fast vs naive, relative to the sum of |products| */
#define RTOL_GRAD 1e-4  /* backward vs finite differences */

/* ---------------------------------------------------------------------------------------------
 * GEMM
 * ------------------------------------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C through both kernels; compare with the bound. */
static void gemm_compare(wf_rng *r, int M, int N, int K, int tA, int tB, float alpha, float beta) {
    size_t na = (size_t)M * (size_t)K, nb = (size_t)K * (size_t)N, nc = (size_t)M * (size_t)N;
    float *A = kc_alloc(na), *B = kc_alloc(nb), *C0 = kc_alloc(nc);
    float *Cf = kc_alloc(nc), *Cn = kc_alloc(nc), *Cb = kc_alloc(nc);
    kc_fill(r, A, na, -1, 1);
    kc_fill(r, B, nb, -1, 1);
    kc_fill(r, C0, nc, -1, 1);
    if (beta == 0.0f) {
        for (size_t i = 0; i < nc; i++) {
            C0[i] = NAN; /* beta == 0: C must be ignored, never propagated */
        }
    }
    memcpy(Cf, C0, nc * sizeof(float));
    memcpy(Cn, C0, nc * sizeof(float));
    wf_k_gemm(Cf, A, B, M, N, K, tA, tB, alpha, beta);
    wf_k_gemm_naive(Cn, A, B, M, N, K, tA, tB, alpha, beta);
    float *Aa = kc_abs_copy(A, na), *Ba = kc_abs_copy(B, nb);
    for (size_t i = 0; i < nc; i++) {
        Cb[i] = beta == 0.0f ? 0.0f : fabsf(C0[i]);
    }
    wf_k_gemm_naive(Cb, Aa, Ba, M, N, K, tA, tB, fabsf(alpha), fabsf(beta));
    char what[128];
    snprintf(what, sizeof what, "gemm M=%d N=%d K=%d tA=%d tB=%d a=%g b=%g", M, N, K, tA, tB,
             (double)alpha, (double)beta);
    kc_check_bound(what, Cf, Cn, Cb, nc, RTOL_BOUND, 1e-30);
    free(A);
    free(B);
    free(C0);
    free(Cf);
    free(Cn);
    free(Cb);
    free(Aa);
    free(Ba);
}

START_TEST(test_gemm_fast_vs_naive) {
    static const int shapes[][3] = {{1, 1, 1},   {1, 7, 1},     {5, 1, 3},      {1, 1, 300},
                                    {3, 4, 1},   {1, 128, 288}, {17, 33, 65},   {64, 64, 64},
                                    {2, 130, 7}, {129, 3, 257}, {100, 128, 288}};
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 0.25f}, {-2.0f, 1.0f}};
    wf_rng r;
    wf_rng_init(&r, 1);
    int cases = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int t = 0; t < 4; t++) {
            for (size_t k = 0; k < sizeof ab / sizeof ab[0]; k++) {
                gemm_compare(&r, shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t >> 1, ab[k][0],
                             ab[k][1]);
                cases++;
            }
        }
    }
    fprintf(stderr, "gemm: %d shape/transpose/alpha-beta cases agree\n", cases);
}
END_TEST

START_TEST(test_gemm_k0_and_leading_dims) {
    /* K == 0: C = beta * C. */
    float C[6] = {1, 2, 3, 4, 5, 6};
    wf_k_gemm(C, NULL, NULL, 2, 3, 0, 0, 0, 1.0f, 0.5f);
    for (int i = 0; i < 6; i++) {
        ck_assert_float_eq(C[i], 0.5f * (float)(i + 1));
    }
    /* Sub-matrices in place: a 3x4 block of A inside 5x9, B 4x2 inside 4x6, C 3x2 inside 4x7. */
    wf_rng r;
    wf_rng_init(&r, 2);
    float Abig[45], Bbig[24], Cbig[28], A[12], B[8], Cw[6];
    kc_fill(&r, Abig, 45, -1, 1);
    kc_fill(&r, Bbig, 24, -1, 1);
    for (int i = 0; i < 28; i++) {
        Cbig[i] = -99.0f;
    }
    for (int i = 0; i < 3; i++) {
        for (int p = 0; p < 4; p++) {
            A[i * 4 + p] = Abig[(i + 1) * 9 + 2 + p];
        }
    }
    for (int p = 0; p < 4; p++) {
        for (int j = 0; j < 2; j++) {
            B[p * 2 + j] = Bbig[p * 6 + 3 + j];
        }
    }
    wf_k_gemm_naive(Cw, A, B, 3, 2, 4, 0, 0, 1.0f, 0.0f);
    wf_k_gemm_ld(Cbig + 7 + 1, 7, Abig + 9 + 2, 9, Bbig + 3, 6, 3, 2, 4, 0, 0, 1.0f, 0.0f);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 2; j++) {
            ck_assert(fabsf(Cbig[(i + 1) * 7 + 1 + j] - Cw[i * 2 + j]) < 1e-5f);
        }
    }
    /* Cells outside the block are untouched. */
    ck_assert_float_eq(Cbig[0], -99.0f);
    ck_assert_float_eq(Cbig[7 + 3], -99.0f);
    ck_assert_float_eq(Cbig[3 * 7 + 6], -99.0f);
}
END_TEST

typedef struct gemm_ctx {
    const float *other; /* the operand that is held fixed */
    int M, N, K, tA, tB;
    float alpha;
    int wrt_b; /* 0: x is A, 1: x is B */
} gemm_ctx;

static void gemm_fwd(const void *vc, float *y, const float *x) {
    const gemm_ctx *c = vc;
    if (c->wrt_b) {
        wf_k_gemm_naive(y, c->other, x, c->M, c->N, c->K, c->tA, c->tB, c->alpha, 0.0f);
    } else {
        wf_k_gemm_naive(y, x, c->other, c->M, c->N, c->K, c->tA, c->tB, c->alpha, 0.0f);
    }
}

START_TEST(test_gemm_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 3);
    for (int wrt_b = 0; wrt_b < 2; wrt_b++) {
        for (int t = 0; t < 4; t++) {
            gemm_ctx c = {NULL, 5, 4, 3, t & 1, t >> 1, 0.75f, wrt_b};
            size_t na = 15, nb = 12, nc = 20;
            float A[15], B[12], W[20], dX[15];
            kc_fill(&r, A, na, -2, 2);
            kc_fill(&r, B, nb, -2, 2);
            kc_fill(&r, W, nc, -1, 1);
            /* start from 1 to check the += contract, subtract it before the comparison */
            for (int i = 0; i < 15; i++) {
                dX[i] = 1.0f;
            }
            char what[64];
            snprintf(what, sizeof what, "gemm d%s tA=%d tB=%d", wrt_b ? "B" : "A", c.tA, c.tB);
            if (wrt_b) {
                c.other = A;
                wf_k_gemm_backward_b(dX, W, A, c.M, c.N, c.K, c.tA, c.tB, c.alpha);
                for (size_t i = 0; i < nb; i++) {
                    dX[i] -= 1.0f;
                }
                kc_gradcheck(what, gemm_fwd, &c, B, nb, nc, W, dX, 0.0625, NULL, 1000, RTOL_GRAD);
            } else {
                c.other = B;
                wf_k_gemm_backward_a(dX, W, B, c.M, c.N, c.K, c.tA, c.tB, c.alpha);
                for (size_t i = 0; i < na; i++) {
                    dX[i] -= 1.0f;
                }
                kc_gradcheck(what, gemm_fwd, &c, A, na, nc, W, dX, 0.0625, NULL, 1000, RTOL_GRAD);
            }
        }
    }
}
END_TEST

/* ONNX Gemm node test: Y = alpha op(A) op(B) + beta C (C broadcast over rows). */
static void gemm_node(const char *what, const float *A, const int64_t *as, const float *B,
                      const int64_t *bs, const float *Cb, size_t cn, const float *want,
                      size_t nwant, int tA, int tB, float alpha, float beta) {
    int M = (int)(tA ? as[1] : as[0]);
    int K = (int)(tA ? as[0] : as[1]);
    int N = (int)(tB ? bs[0] : bs[1]);
    ck_assert_uint_eq((size_t)M * (size_t)N, nwant);
    float *Y = kc_alloc(nwant);
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            Y[i * N + j] = Cb != NULL ? Cb[cn == (size_t)N ? (size_t)j : 0] : 0.0f;
        }
    }
    wf_k_gemm(Y, A, B, M, N, K, tA, tB, alpha, Cb != NULL ? beta : 0.0f);
    tu_check_close_f(what, Y, want, nwant, 1e-5, 1e-6);
    free(Y);
}

START_TEST(test_gemm_onnx_node_tests) {
    gemm_node("gemm_all_attributes", nc_gemm_all_attributes_in0, nc_gemm_all_attributes_in0_shape,
              nc_gemm_all_attributes_in1, nc_gemm_all_attributes_in1_shape,
              nc_gemm_all_attributes_in2, nc_gemm_all_attributes_in2_n, nc_gemm_all_attributes_out0,
              nc_gemm_all_attributes_out0_n, 1, 1, 0.25f, 0.35f);
    gemm_node("gemm_transposeA", nc_gemm_transposeA_in0, nc_gemm_transposeA_in0_shape,
              nc_gemm_transposeA_in1, nc_gemm_transposeA_in1_shape, nc_gemm_transposeA_in2,
              nc_gemm_transposeA_in2_n, nc_gemm_transposeA_out0, nc_gemm_transposeA_out0_n, 1, 0,
              1.0f, 1.0f);
    gemm_node("gemm_transposeB", nc_gemm_transposeB_in0, nc_gemm_transposeB_in0_shape,
              nc_gemm_transposeB_in1, nc_gemm_transposeB_in1_shape, nc_gemm_transposeB_in2,
              nc_gemm_transposeB_in2_n, nc_gemm_transposeB_out0, nc_gemm_transposeB_out0_n, 0, 1,
              1.0f, 1.0f);
    gemm_node("gemm_alpha", nc_gemm_alpha_in0, nc_gemm_alpha_in0_shape, nc_gemm_alpha_in1,
              nc_gemm_alpha_in1_shape, nc_gemm_alpha_in2, nc_gemm_alpha_in2_n, nc_gemm_alpha_out0,
              nc_gemm_alpha_out0_n, 0, 0, 0.5f, 1.0f);
    gemm_node("gemm_beta", nc_gemm_beta_in0, nc_gemm_beta_in0_shape, nc_gemm_beta_in1,
              nc_gemm_beta_in1_shape, nc_gemm_beta_in2, nc_gemm_beta_in2_n, nc_gemm_beta_out0,
              nc_gemm_beta_out0_n, 0, 0, 1.0f, 0.5f);
    gemm_node("gemm_default_no_bias", nc_gemm_default_no_bias_in0,
              nc_gemm_default_no_bias_in0_shape, nc_gemm_default_no_bias_in1,
              nc_gemm_default_no_bias_in1_shape, NULL, 0, nc_gemm_default_no_bias_out0,
              nc_gemm_default_no_bias_out0_n, 0, 0, 1.0f, 1.0f);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Convolution
 * ------------------------------------------------------------------------------------------- */

/* A geometry of the table below and whether the conv has a bias. */
typedef struct conv_spec {
    kc_conv_case g;
    int has_bias;
} conv_spec;

static const conv_spec CONV_SPECS[] = {
    /* 1-D: the cnn1d shape for one window and a batch */
    {{1, 8, 16, 1, 1, {36}, {5}, {2}, {2}, {1}, {1}}, 1},
    {{3, 8, 16, 1, 1, {36}, {5}, {2}, {2}, {1}, {1}}, 1},
    {{2, 4, 6, 2, 1, {10}, {3}, {0}, {0}, {1}, {1}}, 1}, /* groups */
    {{2, 6, 6, 6, 1, {12}, {3}, {1}, {1}, {1}, {1}}, 0}, /* depthwise, no bias */
    {{2, 3, 4, 1, 1, {11}, {3}, {1}, {2}, {2}, {1}}, 1}, /* stride, asymmetric pads */
    {{2, 3, 4, 1, 1, {15}, {3}, {3}, {0}, {3}, {2}}, 1}, /* dilation and stride */
    {{1, 2, 3, 1, 1, {1}, {3}, {1}, {1}, {1}, {1}}, 1},  /* length 1 */
    {{4, 1, 1, 1, 1, {7}, {1}, {0}, {0}, {1}, {1}}, 0},  /* 1x1 */
    {{2, 5, 3, 1, 1, {9}, {9}, {4}, {4}, {1}, {1}}, 1},  /* kernel = length */
    {{1, 2, 2, 1, 1, {5}, {2}, {3}, {3}, {2}, {1}}, 1},  /* pads >= kernel */
    /* 2-D */
    {{1, 1, 1, 1, 2, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 0},
    {{2, 3, 4, 1, 2, {7, 5}, {3, 3}, {1, 0}, {1, 0}, {2, 2}, {1, 1}}, 1},
    {{2, 4, 6, 2, 2, {6, 7}, {2, 3}, {0, 1}, {1, 1}, {1, 2}, {2, 1}}, 1},
    {{3, 2, 4, 2, 2, {4, 9}, {1, 3}, {0, 2}, {0, 1}, {1, 1}, {1, 3}}, 0},
};

static size_t conv_nin(const wf_k_conv_geom *g) {
    size_t s = (size_t)g->n * (size_t)g->cin;
    for (int d = 0; d < g->ndim; d++) {
        s *= (size_t)g->in[d];
    }
    return s;
}

static size_t conv_nout(const wf_k_conv_geom *g) {
    size_t s = (size_t)g->n * (size_t)g->cout;
    for (int d = 0; d < g->ndim; d++) {
        s *= (size_t)g->out[d];
    }
    return s;
}

static size_t conv_nw(const wf_k_conv_geom *g) {
    size_t s = (size_t)g->cout * (size_t)(g->cin / g->group);
    for (int d = 0; d < g->ndim; d++) {
        s *= (size_t)g->k[d];
    }
    return s;
}

START_TEST(test_conv_geom) {
    wf_k_conv_geom g;
    memset(&g, 0, sizeof g);
    g.n = 1;
    g.cin = 8;
    g.cout = 16;
    g.group = 1;
    g.ndim = 1;
    g.in[0] = 36;
    g.k[0] = 5;
    g.stride[0] = 1;
    g.dilation[0] = 1;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    ck_assert_int_eq(g.out[0], 32);
    g.pad_begin[0] = 2;
    g.pad_end[0] = 2;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    ck_assert_int_eq(g.out[0], 36);
    g.stride[0] = 3;
    g.dilation[0] = 2; /* span 9: (36 + 4 - 9) / 3 + 1 = 11 */
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    ck_assert_int_eq(g.out[0], 11);
    g.k[0] = 30; /* span 59 > 40 */
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), -1);
    g.k[0] = 3;
    g.group = 3; /* 8 channels do not split in 3 groups */
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), -1);
    g.group = 1;
    g.stride[0] = 0;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), -1);
}
END_TEST

START_TEST(test_conv_fast_vs_naive) {
    wf_rng r;
    wf_rng_init(&r, 4);
    for (size_t ci = 0; ci < sizeof CONV_SPECS / sizeof CONV_SPECS[0]; ci++) {
        const conv_spec *c = &CONV_SPECS[ci];
        wf_k_conv_geom g;
        kc_conv_geom(&g, &c->g);
        size_t ni = conv_nin(&g), no = conv_nout(&g), nw = conv_nw(&g);
        float *x = kc_alloc(ni), *w = kc_alloc(nw), *b = kc_alloc((size_t)g.cout);
        float *yf = kc_alloc(no), *yn = kc_alloc(no), *yb = kc_alloc(no);
        float *dy = kc_alloc(no), *dxf = kc_alloc(ni), *dxn = kc_alloc(ni), *dxb = kc_alloc(ni);
        size_t ns = wf_k_conv_forward_scratch_size(&g);
        size_t nsb = wf_k_conv_backward_scratch_size(&g);
        float *scratch = kc_alloc(ns > nsb ? ns : nsb);
        kc_fill(&r, x, ni, -2, 2);
        kc_fill(&r, w, nw, -1, 1);
        kc_fill(&r, b, (size_t)g.cout, -1, 1);
        kc_fill(&r, dy, no, -1, 1);
        const float *bias = c->has_bias ? b : NULL;
        for (size_t i = 0; i < no; i++) {
            yf[i] = NAN; /* every output must be written */
        }
        wf_k_conv_forward(yf, x, w, bias, &g, scratch);
        wf_k_conv_forward_naive(yn, x, w, bias, &g);
        float *xa = kc_abs_copy(x, ni), *wa = kc_abs_copy(w, nw), *ba = kc_abs_copy(b, g.cout);
        wf_k_conv_forward_naive(yb, xa, wa, bias ? ba : NULL, &g);
        char what[96];
        snprintf(what, sizeof what, "conv spec %zu forward", ci);
        kc_check_bound(what, yf, yn, yb, no, RTOL_BOUND, 1e-30);
        /* backward: accumulate onto a nonzero din to check the += contract */
        for (size_t i = 0; i < ni; i++) {
            dxf[i] = dxn[i] = 0.5f;
        }
        wf_k_conv_backward_input(dxf, dy, w, &g, scratch);
        wf_k_conv_backward_input_naive(dxn, dy, w, &g);
        float *dya = kc_abs_copy(dy, no);
        for (size_t i = 0; i < ni; i++) {
            dxb[i] = 0.5f;
        }
        wf_k_conv_backward_input_naive(dxb, dya, wa, &g);
        snprintf(what, sizeof what, "conv spec %zu backward", ci);
        kc_check_bound(what, dxf, dxn, dxb, ni, RTOL_BOUND, 1e-30);
        free(x);
        free(w);
        free(b);
        free(yf);
        free(yn);
        free(yb);
        free(dy);
        free(dxf);
        free(dxn);
        free(dxb);
        free(scratch);
        free(xa);
        free(wa);
        free(ba);
        free(dya);
    }
}
END_TEST

typedef struct conv_ctx {
    const wf_k_conv_geom *g;
    const float *w, *b;
} conv_ctx;

/* The finite differences use the double-accumulating reference forward: the float sums of the
 * GEMM path add rounding noise of ~1e-6 |y| that the difference quotient would amplify (the fast
 * forward is checked against this reference above). */
static void conv_fwd(const void *vc, float *y, const float *x) {
    const conv_ctx *c = vc;
    wf_k_conv_forward_naive(y, x, c->w, c->b, c->g);
}

START_TEST(test_conv_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 5);
    for (size_t ci = 0; ci < sizeof CONV_SPECS / sizeof CONV_SPECS[0]; ci++) {
        wf_k_conv_geom g;
        kc_conv_geom(&g, &CONV_SPECS[ci].g);
        size_t ni = conv_nin(&g), no = conv_nout(&g), nw = conv_nw(&g);
        float *x = kc_alloc(ni), *w = kc_alloc(nw), *b = kc_alloc((size_t)g.cout);
        float *dy = kc_alloc(no), *dx = kc_alloc(ni);
        size_t ns = wf_k_conv_forward_scratch_size(&g);
        size_t nsb = wf_k_conv_backward_scratch_size(&g);
        float *scratch = kc_alloc(ns > nsb ? ns : nsb);
        kc_fill(&r, x, ni, -2, 2);
        kc_fill(&r, w, nw, -1, 1);
        kc_fill(&r, b, (size_t)g.cout, -1, 1);
        kc_fill(&r, dy, no, -1, 1);
        wf_k_conv_backward_input(dx, dy, w, &g, scratch);
        conv_ctx c = {&g, w, b};
        char what[64];
        snprintf(what, sizeof what, "conv spec %zu d/din", ci);
        kc_gradcheck(what, conv_fwd, &c, x, ni, no, dy, dx, 0.5, NULL, 300, RTOL_GRAD);
        free(x);
        free(w);
        free(b);
        free(dy);
        free(dx);
        free(scratch);
    }
}
END_TEST

/* One ONNX Conv node test through both kernels. pads in ONNX order (begins, then ends). */
static void conv_node(const char *what, const float *x, const int64_t *xs, const float *w,
                      const int64_t *ws, const float *b, const float *want, size_t nwant, int ndim,
                      const int *pads, const int *strides, const int *dil, int group) {
    wf_k_conv_geom g;
    memset(&g, 0, sizeof g);
    g.n = (int)xs[0];
    g.cin = (int)xs[1];
    g.cout = (int)ws[0];
    g.group = group;
    g.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        g.in[d] = (int)xs[2 + d];
        g.k[d] = (int)ws[2 + d];
        g.pad_begin[d] = pads[d];
        g.pad_end[d] = pads[ndim + d];
        g.stride[d] = strides[d];
        g.dilation[d] = dil[d];
    }
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    ck_assert_uint_eq(conv_nout(&g), nwant);
    float *y = kc_alloc(nwant), *yn = kc_alloc(nwant);
    float *scratch = kc_alloc(wf_k_conv_forward_scratch_size(&g));
    wf_k_conv_forward(y, x, w, b, &g, scratch);
    wf_k_conv_forward_naive(yn, x, w, b, &g);
    char lab[128];
    snprintf(lab, sizeof lab, "%s (im2col+gemm)", what);
    tu_check_close_f(lab, y, want, nwant, 1e-5, 1e-5);
    snprintf(lab, sizeof lab, "%s (naive)", what);
    tu_check_close_f(lab, yn, want, nwant, 1e-5, 1e-5);
    free(y);
    free(yn);
    free(scratch);
}

#define CONV1D_CASE(name, pad, stride, dil, group)                                                 \
    do {                                                                                           \
        int p_[2] = {pad, pad}, s_[1] = {stride}, d_[1] = {dil};                                   \
        conv_node(#name, nc_##name##_in0, nc_##name##_in0_shape, nc_##name##_in1,                  \
                  nc_##name##_in1_shape, nc_##name##_in2, nc_##name##_out0, nc_##name##_out0_n, 1, \
                  p_, s_, d_, group);                                                              \
    } while (0)

#define CONV2D_CASE(name, p0, p1, p2, p3, s0, s1)                                                  \
    do {                                                                                           \
        int p_[4] = {p0, p1, p2, p3}, s_[2] = {s0, s1}, d_[2] = {1, 1};                            \
        conv_node(#name, nc_##name##_in0, nc_##name##_in0_shape, nc_##name##_in1,                  \
                  nc_##name##_in1_shape, NULL, nc_##name##_out0, nc_##name##_out0_n, 2, p_, s_,    \
                  d_, 1);                                                                          \
    } while (0)

START_TEST(test_conv_onnx_node_tests) {
    CONV1D_CASE(Conv1d, 0, 1, 1, 1);
    CONV1D_CASE(Conv1d_dilated, 0, 1, 2, 1);
    CONV1D_CASE(Conv1d_groups, 0, 1, 1, 2);
    CONV1D_CASE(Conv1d_pad1, 1, 1, 1, 1);
    CONV1D_CASE(Conv1d_pad1size1, 1, 1, 1, 1);
    CONV1D_CASE(Conv1d_pad2, 2, 1, 1, 1);
    CONV1D_CASE(Conv1d_pad2size1, 2, 1, 1, 1);
    CONV1D_CASE(Conv1d_stride, 0, 2, 1, 1);
    CONV2D_CASE(basic_conv_with_padding, 1, 1, 1, 1, 1, 1);
    CONV2D_CASE(basic_conv_without_padding, 0, 0, 0, 0, 1, 1);
    CONV2D_CASE(conv_with_strides_and_asymmetric_padding, 1, 0, 1, 0, 2, 2);
    CONV2D_CASE(conv_with_strides_no_padding, 0, 0, 0, 0, 2, 2);
    CONV2D_CASE(conv_with_strides_padding, 1, 1, 1, 1, 2, 2);
    /* auto_pad SAME_LOWER, 5x5, kernel 3, stride 2: out 3, total pad 2 -> begin 1, end 1 */
    CONV2D_CASE(conv_with_autopad_same, 1, 1, 1, 1, 2, 2);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels");
    TCase *tg = tcase_create("gemm");
    tcase_add_test(tg, test_gemm_fast_vs_naive);
    tcase_add_test(tg, test_gemm_k0_and_leading_dims);
    tcase_add_test(tg, test_gemm_backward_fd);
    tcase_add_test(tg, test_gemm_onnx_node_tests);
    suite_add_tcase(s, tg);
    TCase *tc = tcase_create("conv");
    tcase_add_test(tc, test_conv_geom);
    tcase_add_test(tc, test_conv_fast_vs_naive);
    tcase_add_test(tc, test_conv_backward_fd);
    tcase_add_test(tc, test_conv_onnx_node_tests);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
