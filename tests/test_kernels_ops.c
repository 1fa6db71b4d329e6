/*
 * Kernels, part 2: pooling, BatchNormalization, Softmax, activations, ReduceMean and Pad.
 *  - forward outputs against ONNX's backend node tests (ONNX v1.22.0 data, tests/data/kernels/)
 *    and against the worked examples of the ONNX operator documentation;
 *  - semantics the node tests do not reach (ceil_mode, count_include_pad, dilation, ties) on
 *    small inputs worked out by hand from the ONNX specification;
 *  - every backward against 4-point central differences in double (rel err < 1e-4), skipping
 *    points whose stencil crosses a kink (ReLU at 0, a change of max-pool argmax).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/kernels/onnx_node_cases.h"
#include "kernels_check.h"
#include "model/kernels/kernels.h"
#include "testutil.h"

#define RTOL_GRAD 1e-4

static void fill_pool(wf_k_pool_geom *g, int n, int c, int ndim, const int *in, const int *k,
                      const int *pb, const int *pe, const int *s, const int *d, int ceil_mode,
                      int include_pad) {
    memset(g, 0, sizeof *g);
    g->n = n;
    g->c = c;
    g->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        g->in[i] = in[i];
        g->k[i] = k[i];
        g->pad_begin[i] = pb != NULL ? pb[i] : 0;
        g->pad_end[i] = pe != NULL ? pe[i] : 0;
        g->stride[i] = s != NULL ? s[i] : 1;
        g->dilation[i] = d != NULL ? d[i] : 1;
    }
    g->ceil_mode = ceil_mode;
    g->count_include_pad = include_pad;
    ck_assert_int_eq(wf_k_pool_geom_finish(g), 0);
}

static size_t pool_nin(const wf_k_pool_geom *g) {
    size_t s = (size_t)g->n * (size_t)g->c;
    for (int d = 0; d < g->ndim; d++) {
        s *= (size_t)g->in[d];
    }
    return s;
}

static size_t pool_nout(const wf_k_pool_geom *g) {
    size_t s = (size_t)g->n * (size_t)g->c;
    for (int d = 0; d < g->ndim; d++) {
        s *= (size_t)g->out[d];
    }
    return s;
}

/* ---------------------------------------------------------------------------------------------
 * Pooling
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_pool_onnx_node_tests) {
    wf_k_pool_geom g;
    float y[256];
    int32_t am[256];
    /* pytorch-converted AvgPool1d (both): Unsqueeze to (2, 3, 6, 1), kernel (2, 1), stride (2, 1)
     */
    {
        int in[2] = {6, 1}, k[2] = {2, 1}, s[2] = {2, 1};
        fill_pool(&g, 2, 3, 2, in, k, NULL, NULL, s, NULL, 0, 0);
        ck_assert_uint_eq(pool_nout(&g), nc_AvgPool1d_out0_n);
        wf_k_avgpool_forward(y, nc_AvgPool1d_in0, &g);
        tu_check_close_f("AvgPool1d", y, nc_AvgPool1d_out0, nc_AvgPool1d_out0_n, 1e-6, 1e-7);
        wf_k_avgpool_forward(y, nc_AvgPool1d_stride_in0, &g);
        tu_check_close_f("AvgPool1d_stride", y, nc_AvgPool1d_stride_out0,
                         nc_AvgPool1d_stride_out0_n, 1e-6, 1e-7);
    }
    {
        int in[1] = {32}, k[1] = {2};
        fill_pool(&g, 1, 3, 1, in, k, NULL, NULL, NULL, NULL, 0, 0);
        ck_assert_uint_eq(pool_nout(&g), nc_averagepool_1d_default_out0_n);
        wf_k_avgpool_forward(y, nc_averagepool_1d_default_in0, &g);
        tu_check_close_f("averagepool_1d_default", y, nc_averagepool_1d_default_out0,
                         nc_averagepool_1d_default_out0_n, 1e-6, 1e-7);
        ck_assert_uint_eq(pool_nout(&g), nc_maxpool_1d_default_out0_n);
        wf_k_maxpool_forward(y, am, nc_maxpool_1d_default_in0, &g);
        tu_check_close_f("maxpool_1d_default", y, nc_maxpool_1d_default_out0,
                         nc_maxpool_1d_default_out0_n, 0, 0);
    }
    {
        int in[1] = {4}, k[1] = {4}, s[1] = {4};
        fill_pool(&g, 2, 10, 1, in, k, NULL, NULL, s, NULL, 0, 0);
        ck_assert_uint_eq(pool_nout(&g), nc_MaxPool1d_out0_n);
        wf_k_maxpool_forward(y, NULL, nc_MaxPool1d_in0, &g);
        tu_check_close_f("MaxPool1d", y, nc_MaxPool1d_out0, nc_MaxPool1d_out0_n, 0, 0);
        wf_k_maxpool_forward(y, am, nc_MaxPool1d_stride_in0, &g);
        tu_check_close_f("MaxPool1d_stride", y, nc_MaxPool1d_stride_out0,
                         nc_MaxPool1d_stride_out0_n, 0, 0);
        /* argmax points at the selected value */
        for (size_t p = 0; p < nc_MaxPool1d_stride_out0_n; p++) {
            ck_assert_float_eq(nc_MaxPool1d_stride_in0[p * 4 + (size_t)am[p]], y[p]);
        }
    }
    /* Global pools over (1, 3, 5, 5) and (1, 1, 3, 3) */
    wf_k_global_avgpool_forward(y, nc_globalaveragepool_in0, 3, 25);
    tu_check_close_f("globalaveragepool", y, nc_globalaveragepool_out0, nc_globalaveragepool_out0_n,
                     1e-6, 1e-7);
    wf_k_global_avgpool_forward(y, nc_globalaveragepool_precomputed_in0, 1, 9);
    tu_check_close_f("globalaveragepool_precomputed", y, nc_globalaveragepool_precomputed_out0, 1,
                     1e-6, 0);
    wf_k_global_maxpool_forward(y, am, nc_globalmaxpool_in0, 3, 25);
    tu_check_close_f("globalmaxpool", y, nc_globalmaxpool_out0, nc_globalmaxpool_out0_n, 0, 0);
    wf_k_global_maxpool_forward(y, am, nc_globalmaxpool_precomputed_in0, 1, 9);
    tu_check_close_f("globalmaxpool_precomputed", y, nc_globalmaxpool_precomputed_out0, 1, 0, 0);
    ck_assert_int_eq(am[0], 8); /* [[1,2,3],[4,5,6],[7,8,9]] -> 9 at index 8 */
}
END_TEST

/* The kernel-2 stride-2 fast path (forward without argmax) against the general loop (taken when
 * argmax is wanted) on data with ties, NaNs and -inf: the same floats, bit for bit. */
START_TEST(test_maxpool_k2s2_fast_path) {
    enum { N = 3, C = 5, W = 36 };
    static float x[N * C * W], y1[N * C * W / 2], y2[N * C * W / 2];
    static int32_t am[N * C * W / 2];
    uint64_t r = 88172645463325252ull;
    for (int i = 0; i < N * C * W; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int u = (int)(r % 100);
        x[i] = u < 5 ? NAN : u < 8 ? -INFINITY : u < 30 ? 1.0f : (float)(u % 13) - 6.0f;
    }
    wf_k_pool_geom g;
    int in[1] = {W}, k[1] = {2}, s[1] = {2};
    fill_pool(&g, N, C, 1, in, k, NULL, NULL, s, NULL, 0, 0);
    ck_assert_int_eq(g.out[0], W / 2);
    wf_k_maxpool_forward(y1, NULL, x, &g); /* fast path */
    wf_k_maxpool_forward(y2, am, x, &g);   /* general loop */
    ck_assert(memcmp(y1, y2, sizeof y1) == 0);
}
END_TEST

START_TEST(test_pool_semantics) {
    wf_k_pool_geom g;
    float y[16];
    int32_t am[16];
    const float x5[5] = {1, 2, 3, 4, 5};
    /* ceil_mode, no padding: windows [1 2] [3 4] [5] */
    {
        int in[1] = {5}, k[1] = {2}, s[1] = {2};
        fill_pool(&g, 1, 1, 1, in, k, NULL, NULL, s, NULL, 1, 0);
        ck_assert_int_eq(g.out[0], 3);
        wf_k_maxpool_forward(y, am, x5, &g);
        ck_assert_float_eq(y[0], 2.0f);
        ck_assert_float_eq(y[1], 4.0f);
        ck_assert_float_eq(y[2], 5.0f);
        ck_assert_int_eq(am[2], 4);
        wf_k_avgpool_forward(y, x5, &g);
        ck_assert_float_eq(y[0], 1.5f);
        ck_assert_float_eq(y[2], 5.0f); /* divisor 1: the window is cut at the data end */
        g.count_include_pad = 1;
        wf_k_avgpool_forward(y, x5, &g);
        ck_assert_float_eq(y[2], 5.0f); /* no padding: still 1 position inside the extent */
        g.ceil_mode = 0;
        ck_assert_int_eq(wf_k_pool_geom_finish(&g), 0);
        ck_assert_int_eq(g.out[0], 2);
    }
    /* pads 1/1, kernel 3, stride 2: windows [-1 0 1] [1 2 3] [3 4 5] */
    {
        int in[1] = {5}, k[1] = {3}, s[1] = {2}, p[1] = {1};
        fill_pool(&g, 1, 1, 1, in, k, p, p, s, NULL, 1, 0);
        ck_assert_int_eq(g.out[0], 3);
        wf_k_avgpool_forward(y, x5, &g);
        ck_assert_float_eq(y[0], 1.5f);
        ck_assert_float_eq(y[1], 3.0f);
        ck_assert_float_eq(y[2], 4.5f);
        g.count_include_pad = 1;
        wf_k_avgpool_forward(y, x5, &g);
        ck_assert_float_eq(y[0], 1.0f);
        ck_assert_float_eq(y[1], 3.0f);
        ck_assert_float_eq(y[2], 3.0f);
        wf_k_maxpool_forward(y, am, x5, &g);
        ck_assert_float_eq(y[0], 2.0f);
        ck_assert_float_eq(y[2], 5.0f);
    }
    /* ceil_mode drops a last window that would start inside the end padding:
     * in 3, kernel 1, stride 2, pad_end 1: ceil((3+1-1)/2)+1 = 3, but window 2 starts at 4 >= 3 */
    {
        const float x3[3] = {1, 2, 3};
        int in[1] = {3}, k[1] = {1}, s[1] = {2}, pe[1] = {1};
        fill_pool(&g, 1, 1, 1, in, k, NULL, pe, s, NULL, 1, 0);
        ck_assert_int_eq(g.out[0], 2);
        wf_k_maxpool_forward(y, am, x3, &g);
        ck_assert_float_eq(y[0], 1.0f);
        ck_assert_float_eq(y[1], 3.0f);
    }
    /* dilation 3, kernel 2: windows (i, i+3) */
    {
        const float x7[7] = {3, 1, 4, 1, 5, 9, 2};
        int in[1] = {7}, k[1] = {2}, d[1] = {3};
        fill_pool(&g, 1, 1, 1, in, k, NULL, NULL, NULL, d, 0, 0);
        ck_assert_int_eq(g.out[0], 4);
        wf_k_maxpool_forward(y, am, x7, &g);
        const float want[4] = {3, 5, 9, 2};
        const int32_t want_am[4] = {0, 4, 5, 6};
        for (int i = 0; i < 4; i++) {
            ck_assert_float_eq(y[i], want[i]);
            ck_assert_int_eq(am[i], want_am[i]);
        }
        wf_k_avgpool_forward(y, x7, &g);
        ck_assert_float_eq(y[2], 6.5f); /* (4 + 9) / 2 */
    }
    /* ties: the first maximum in scan order wins */
    {
        const float xt[4] = {2, 2, 1, 2};
        int in[1] = {4}, k[1] = {2};
        fill_pool(&g, 1, 1, 1, in, k, NULL, NULL, NULL, NULL, 0, 0);
        wf_k_maxpool_forward(y, am, xt, &g);
        ck_assert_int_eq(am[0], 0);
        ck_assert_int_eq(am[1], 1);
        ck_assert_int_eq(am[2], 3);
        const float xt2[4] = {7, 7, 7, 7}; /* 2x2 plane, one 2x2 window: row-major first */
        int in2[2] = {2, 2}, k2[2] = {2, 2};
        fill_pool(&g, 1, 1, 2, in2, k2, NULL, NULL, NULL, NULL, 0, 0);
        wf_k_maxpool_forward(y, am, xt2, &g);
        ck_assert_int_eq(am[0], 0);
    }
    /* 2-D, 4x4, kernel 2x2, stride 2 */
    {
        const float x16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        int in[2] = {4, 4}, k[2] = {2, 2}, s[2] = {2, 2};
        fill_pool(&g, 1, 1, 2, in, k, NULL, NULL, s, NULL, 0, 0);
        wf_k_maxpool_forward(y, am, x16, &g);
        const float want[4] = {6, 8, 14, 16};
        const int32_t want_am[4] = {5, 7, 13, 15};
        for (int i = 0; i < 4; i++) {
            ck_assert_float_eq(y[i], want[i]);
            ck_assert_int_eq(am[i], want_am[i]);
        }
        wf_k_avgpool_forward(y, x16, &g);
        ck_assert_float_eq(y[0], 3.5f);
        ck_assert_float_eq(y[3], 13.5f);
    }
    /* 2-D average windows cut at the data end (ceil_mode) and reaching into padding:
     * x = 1..9 as 3x3 */
    {
        const float x9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        int in[2] = {3, 3}, k[2] = {2, 2}, s[2] = {2, 2}, p[2] = {1, 1};
        /* ceil_mode, no padding: windows {1 2 4 5}, {3 6}, {7 8}, {9} whatever include_pad says */
        for (int inc = 0; inc < 2; inc++) {
            fill_pool(&g, 1, 1, 2, in, k, NULL, NULL, s, NULL, 1, inc);
            ck_assert_int_eq(g.out[0], 2);
            ck_assert_int_eq(g.out[1], 2);
            wf_k_avgpool_forward(y, x9, &g);
            const float want[4] = {3.0f, 4.5f, 7.5f, 9.0f};
            for (int i = 0; i < 4; i++) {
                ck_assert_float_eq(y[i], want[i]);
            }
        }
        /* pads 1 on every side, floor: windows at (-1,-1), (-1,1), (1,-1), (1,1) */
        fill_pool(&g, 1, 1, 2, in, k, p, p, s, NULL, 0, 1);
        wf_k_avgpool_forward(y, x9, &g);
        const float want_inc[4] = {0.25f, 1.25f, 2.75f, 7.0f};
        const float want_exc[4] = {1.0f, 2.5f, 5.5f, 7.0f};
        for (int i = 0; i < 4; i++) {
            ck_assert_float_eq(y[i], want_inc[i]);
        }
        g.count_include_pad = 0;
        wf_k_avgpool_forward(y, x9, &g);
        for (int i = 0; i < 4; i++) {
            ck_assert_float_eq(y[i], want_exc[i]);
        }
    }
    /* 2-D with H = 1 and end padding on H: rows past the data read only padding */
    {
        const float x3[3] = {1, 3, 2};
        int in[2] = {1, 3}, k[2] = {1, 2}, pe[2] = {1, 0};
        fill_pool(&g, 1, 1, 2, in, k, NULL, pe, NULL, NULL, 0, 0);
        ck_assert_int_eq(g.out[0], 2);
        ck_assert_int_eq(g.out[1], 2);
        wf_k_maxpool_forward(y, am, x3, &g);
        ck_assert_float_eq(y[0], 3.0f);
        ck_assert_float_eq(y[1], 3.0f);
        ck_assert_float_eq(y[2], -FLT_MAX);
        ck_assert_int_eq(am[3], -1);
    }
    /* invalid geometries */
    {
        int in[1] = {3}, k[1] = {5};
        memset(&g, 0, sizeof g);
        g.n = 1;
        g.c = 1;
        g.ndim = 1;
        g.in[0] = in[0];
        g.k[0] = k[0];
        g.stride[0] = 1;
        g.dilation[0] = 1;
        ck_assert_int_eq(wf_k_pool_geom_finish(&g), -1);
        g.k[0] = 2;
        g.stride[0] = 0;
        ck_assert_int_eq(wf_k_pool_geom_finish(&g), -1);
    }
}
END_TEST

typedef struct pool_ctx {
    const wf_k_pool_geom *g;
    int max; /* 1: MaxPool, 0: AveragePool */
    int32_t *am0, *am1;
} pool_ctx;

static void pool_fwd(const void *vc, float *y, const float *x) {
    const pool_ctx *c = vc;
    if (c->max) {
        wf_k_maxpool_forward(y, NULL, x, c->g);
    } else {
        wf_k_avgpool_forward(y, x, c->g);
    }
}

/* Skip x[j] when moving it by up to 2h changes any argmax (the stencil would cross a kink). */
static int pool_skip(const void *vc, const float *x, size_t j, double h) {
    const pool_ctx *c = vc;
    if (!c->max) {
        return 0;
    }
    size_t ni = pool_nin(c->g), no = pool_nout(c->g);
    float *xp = kc_alloc(ni), *y = kc_alloc(no);
    memcpy(xp, x, ni * sizeof(float));
    wf_k_maxpool_forward(y, c->am0, x, c->g);
    int skip = 0;
    for (int s = -2; s <= 2 && !skip; s += 4) {
        xp[j] = (float)((double)x[j] + s * h);
        wf_k_maxpool_forward(y, c->am1, xp, c->g);
        skip = memcmp(c->am0, c->am1, no * sizeof(int32_t)) != 0;
    }
    free(xp);
    free(y);
    return skip;
}

typedef struct pool_spec {
    int n, c, ndim, in[2], k[2], pb[2], pe[2], s[2], d[2], ceil_mode, include_pad;
} pool_spec;

static const pool_spec POOL_SPECS[] = {
    {2, 3, 1, {36}, {2}, {0}, {0}, {2}, {1}, 0, 0}, /* cnn1d-like */
    {1, 2, 1, {11}, {3}, {1}, {2}, {2}, {1}, 1, 0},
    {1, 2, 1, {11}, {3}, {1}, {2}, {2}, {1}, 1, 1},
    {2, 1, 1, {13}, {3}, {2}, {2}, {1}, {2}, 0, 1},
    {1, 2, 2, {5, 6}, {2, 3}, {1, 0}, {0, 1}, {2, 2}, {1, 1}, 1, 0},
    {1, 2, 2, {5, 6}, {2, 3}, {1, 0}, {0, 1}, {2, 2}, {1, 1}, 1, 1},
    {2, 1, 2, {6, 7}, {2, 2}, {0, 1}, {0, 1}, {1, 2}, {2, 1}, 0, 0},
};

START_TEST(test_pool_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 11);
    for (size_t si = 0; si < sizeof POOL_SPECS / sizeof POOL_SPECS[0]; si++) {
        const pool_spec *p = &POOL_SPECS[si];
        wf_k_pool_geom g;
        fill_pool(&g, p->n, p->c, p->ndim, p->in, p->k, p->pb, p->pe, p->s, p->d, p->ceil_mode,
                  p->include_pad);
        size_t ni = pool_nin(&g), no = pool_nout(&g);
        float *x = kc_alloc(ni), *y = kc_alloc(no), *dy = kc_alloc(no), *dx = kc_alloc(ni);
        int32_t *am = calloc(no, sizeof(int32_t)), *am0 = calloc(no, sizeof(int32_t));
        int32_t *am1 = calloc(no, sizeof(int32_t));
        ck_assert(am != NULL && am0 != NULL && am1 != NULL);
        kc_fill(&r, x, ni, -2, 2);
        kc_fill(&r, dy, no, -1, 1);
        for (int max = 0; max < 2; max++) {
            memset(dx, 0, ni * sizeof(float));
            if (max) {
                wf_k_maxpool_forward(y, am, x, &g);
                wf_k_maxpool_backward(dx, dy, am, &g);
            } else {
                wf_k_avgpool_backward(dx, dy, &g);
            }
            pool_ctx c = {&g, max, am0, am1};
            char what[64];
            snprintf(what, sizeof what, "%s spec %zu d/din", max ? "maxpool" : "avgpool", si);
            kc_gradcheck(what, pool_fwd, &c, x, ni, no, dy, dx, max ? 1.0 / 1024 : 0.5, pool_skip,
                         400, RTOL_GRAD);
        }
        free(x);
        free(y);
        free(dy);
        free(dx);
        free(am);
        free(am0);
        free(am1);
    }
}
END_TEST

typedef struct gpool_ctx {
    size_t nc, s;
    int max;
} gpool_ctx;

static void gpool_fwd(const void *vc, float *y, const float *x) {
    const gpool_ctx *c = vc;
    if (c->max) {
        wf_k_global_maxpool_forward(y, NULL, x, c->nc, c->s);
    } else {
        wf_k_global_avgpool_forward(y, x, c->nc, c->s);
    }
}

START_TEST(test_global_pool_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 12);
    size_t nc = 6, s = 17;
    float x[102], dy[6], dx[102], y[6];
    int32_t am[6];
    kc_fill(&r, x, nc * s, -2, 2);
    kc_fill(&r, dy, nc, -1, 1);
    for (int max = 0; max < 2; max++) {
        memset(dx, 0, sizeof dx);
        if (max) {
            wf_k_global_maxpool_forward(y, am, x, nc, s);
            wf_k_global_maxpool_backward(dx, dy, am, nc, s);
        } else {
            wf_k_global_avgpool_backward(dx, dy, nc, s);
        }
        gpool_ctx c = {nc, s, max};
        /* distinct grid values 2^-12 apart at least: h = 2^-15 keeps every argmax in place */
        kc_gradcheck(max ? "global maxpool d/din" : "global avgpool d/din", gpool_fwd, &c, x,
                     nc * s, nc, dy, dx, max ? 1.0 / 32768 : 0.5, NULL, 200, RTOL_GRAD);
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * BatchNormalization
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_batchnorm_onnx_node_tests) {
    float y[256];
    /* (2, 3, 4, 5): n 2, c 3, s 20 */
    wf_k_batchnorm_forward(y, nc_batchnorm_example_in0, nc_batchnorm_example_in1,
                           nc_batchnorm_example_in2, nc_batchnorm_example_in3,
                           nc_batchnorm_example_in4, 1e-5f, 2, 3, 20);
    tu_check_close_f("batchnorm_example", y, nc_batchnorm_example_out0, nc_batchnorm_example_out0_n,
                     1e-5, 1e-6);
    wf_k_batchnorm_forward(y, nc_batchnorm_epsilon_in0, nc_batchnorm_epsilon_in1,
                           nc_batchnorm_epsilon_in2, nc_batchnorm_epsilon_in3,
                           nc_batchnorm_epsilon_in4, 0.01f, 2, 3, 20);
    tu_check_close_f("batchnorm_epsilon", y, nc_batchnorm_epsilon_out0, nc_batchnorm_epsilon_out0_n,
                     1e-5, 1e-6);
    /* PyTorch BatchNorm1d on (4, 5, 3) */
    wf_k_batchnorm_forward(y, nc_BatchNorm1d_3d_input_eval_in0, nc_BatchNorm1d_3d_input_eval_in1,
                           nc_BatchNorm1d_3d_input_eval_in2, nc_BatchNorm1d_3d_input_eval_in3,
                           nc_BatchNorm1d_3d_input_eval_in4, 9.99999974737875e-06f, 4, 5, 3);
    tu_check_close_f("BatchNorm1d_3d_input_eval", y, nc_BatchNorm1d_3d_input_eval_out0,
                     nc_BatchNorm1d_3d_input_eval_out0_n, 1e-5, 1e-6);
}
END_TEST

typedef struct bn_ctx {
    const float *scale, *bias, *mean, *var;
    size_t n, c, s;
} bn_ctx;

static void bn_fwd(const void *vc, float *y, const float *x) {
    const bn_ctx *b = vc;
    wf_k_batchnorm_forward(y, x, b->scale, b->bias, b->mean, b->var, 1e-3f, b->n, b->c, b->s);
}

START_TEST(test_batchnorm_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 13);
    float x[2 * 3 * 7], dy[42], dx[42], sc[3], bi[3], me[3], va[3];
    kc_fill(&r, x, 42, -2, 2);
    kc_fill(&r, dy, 42, -1, 1);
    kc_fill(&r, sc, 3, -2, 2);
    kc_fill(&r, bi, 3, -1, 1);
    kc_fill(&r, me, 3, -1, 1);
    kc_fill(&r, va, 3, 0.1, 2);
    memset(dx, 0, sizeof dx);
    wf_k_batchnorm_backward(dx, dy, sc, va, 1e-3f, 2, 3, 7);
    bn_ctx b = {sc, bi, me, va, 2, 3, 7};
    kc_gradcheck("batchnorm d/din", bn_fwd, &b, x, 42, 42, dy, dx, 0.5, NULL, 100, RTOL_GRAD);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Softmax and activations
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_softmax_onnx_node_tests) {
    float y[256];
    wf_k_softmax_forward(y, nc_softmax_axis_0_in0, 1, 3, 20);
    tu_check_close_f("softmax_axis_0", y, nc_softmax_axis_0_out0, 60, 1e-6, 1e-7);
    wf_k_softmax_forward(y, nc_softmax_axis_1_in0, 3, 4, 5);
    tu_check_close_f("softmax_axis_1", y, nc_softmax_axis_1_out0, 60, 1e-6, 1e-7);
    wf_k_softmax_forward(y, nc_softmax_axis_2_in0, 12, 5, 1);
    tu_check_close_f("softmax_axis_2", y, nc_softmax_axis_2_out0, 60, 1e-6, 1e-7);
    wf_k_softmax_forward(y, nc_softmax_large_number_in0, 2, 4, 1);
    tu_check_close_f("softmax_large_number", y, nc_softmax_large_number_out0, 8, 1e-6, 1e-7);
    wf_k_softmax_forward(y, nc_Softmax_in0, 10, 20, 1);
    tu_check_close_f("Softmax (pytorch)", y, nc_Softmax_out0, 200, 1e-6, 1e-7);
    wf_k_softmax_forward(y, nc_softmax_lastdim_in0, 2, 128, 1);
    tu_check_close_f("softmax_lastdim (pytorch)", y, nc_softmax_lastdim_out0, 256, 1e-6, 1e-7);
}
END_TEST

typedef struct act_ctx {
    int op; /* 0 sigmoid, 1 tanh, 2 relu, 3 leaky, 4 softmax */
    float alpha;
    size_t n, outer, len, inner;
} act_ctx;

static void act_fwd(const void *vc, float *y, const float *x) {
    const act_ctx *a = vc;
    switch (a->op) {
    case 0:
        wf_k_sigmoid_forward(y, x, a->n);
        break;
    case 1:
        wf_k_tanh_forward(y, x, a->n);
        break;
    case 2:
        wf_k_relu_forward(y, x, a->n);
        break;
    case 3:
        wf_k_leaky_relu_forward(y, x, a->alpha, a->n);
        break;
    default:
        wf_k_softmax_forward(y, x, a->outer, a->len, a->inner);
        break;
    }
}

/* The smooth ops in double, for the finite differences (see kernels_check.h). */
static void act_fwd_d(const void *vc, double *y, const double *x) {
    const act_ctx *a = vc;
    if (a->op == 0) {
        for (size_t i = 0; i < a->n; i++) {
            y[i] = 1.0 / (1.0 + exp(-x[i]));
        }
    } else if (a->op == 1) {
        for (size_t i = 0; i < a->n; i++) {
            y[i] = tanh(x[i]);
        }
    } else {
        for (size_t o = 0; o < a->outer; o++) {
            for (size_t k = 0; k < a->inner; k++) {
                size_t base = o * a->len * a->inner + k;
                double sum = 0.0;
                for (size_t j = 0; j < a->len; j++) {
                    sum += exp(x[base + j * a->inner]);
                }
                for (size_t j = 0; j < a->len; j++) {
                    y[base + j * a->inner] = exp(x[base + j * a->inner]) / sum;
                }
            }
        }
    }
}

/* ReLU/LeakyReLU: skip points whose stencil [x - 2h, x + 2h] reaches the kink at 0. */
static int act_skip(const void *vc, const float *x, size_t j, double h) {
    const act_ctx *a = vc;
    return (a->op == 2 || a->op == 3) && fabs((double)x[j]) <= 2.5 * h;
}

START_TEST(test_activations_onnx_node_tests) {
    float y[128];
    wf_k_sigmoid_forward(y, nc_sigmoid_in0, 60);
    tu_check_close_f("sigmoid", y, nc_sigmoid_out0, 60, 1e-6, 1e-7);
    wf_k_sigmoid_forward(y, nc_Sigmoid_in0, 120);
    tu_check_close_f("Sigmoid (pytorch)", y, nc_Sigmoid_out0, 120, 1e-6, 1e-7);
    wf_k_tanh_forward(y, nc_tanh_in0, 60);
    tu_check_close_f("tanh", y, nc_tanh_out0, 60, 1e-6, 1e-7);
    wf_k_tanh_forward(y, nc_Tanh_in0, 120);
    tu_check_close_f("Tanh (pytorch)", y, nc_Tanh_out0, 120, 1e-6, 1e-7);
    wf_k_relu_forward(y, nc_relu_in0, 60);
    tu_check_close_f("relu", y, nc_relu_out0, 60, 0, 0);
    wf_k_relu_forward(y, nc_ReLU_in0, 120);
    tu_check_close_f("ReLU (pytorch)", y, nc_ReLU_out0, 120, 0, 0);
    wf_k_leaky_relu_forward(y, nc_leakyrelu_in0, 0.1f, 60);
    tu_check_close_f("leakyrelu", y, nc_leakyrelu_out0, 60, 1e-7, 0);
    wf_k_leaky_relu_forward(y, nc_leakyrelu_default_in0, 0.01f, 60);
    tu_check_close_f("leakyrelu_default", y, nc_leakyrelu_default_out0, 60, 1e-7, 0);
    wf_k_leaky_relu_forward(y, nc_LeakyReLU_with_negval_in0, 0.5f, 30);
    tu_check_close_f("LeakyReLU_with_negval (pytorch)", y, nc_LeakyReLU_with_negval_out0, 30, 1e-7,
                     0);
    /* in place (out == in) is allowed for the elementwise activations */
    float z[60];
    memcpy(z, nc_sigmoid_in0, sizeof z);
    wf_k_sigmoid_forward(z, z, 60);
    tu_check_close_f("sigmoid in place", z, nc_sigmoid_out0, 60, 1e-6, 1e-7);
    memcpy(z, nc_relu_in0, sizeof z); /* ReLU and LeakyReLU have separate in-place loops */
    wf_k_relu_forward(z, z, 60);
    tu_check_close_f("relu in place", z, nc_relu_out0, 60, 0, 0);
    memcpy(z, nc_leakyrelu_in0, sizeof z);
    wf_k_leaky_relu_forward(z, z, 0.1f, 60);
    tu_check_close_f("leakyrelu in place", z, nc_leakyrelu_out0, 60, 1e-7, 0);
    /* sigmoid saturates without overflow or NaN */
    const float big[4] = {-200.0f, -88.0f, 88.0f, 200.0f};
    wf_k_sigmoid_forward(z, big, 4);
    ck_assert(z[0] == 0.0f && z[1] > 0.0f && z[1] < 1e-37f && z[3] == 1.0f);
}
END_TEST

START_TEST(test_activations_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 14);
    const size_t n = 64;
    float x[64], y[64], dy[64], dx[64];
    kc_fill(&r, x, n, -4, 4);
    kc_fill(&r, dy, n, -1, 1);
    static const char *names[5] = {"sigmoid", "tanh", "relu", "leaky_relu", "softmax"};
    for (int op = 0; op < 5; op++) {
        /* softmax over axis 1 of (2, 8, 4) */
        act_ctx a = {op, 0.2f, n, 2, 8, 4};
        act_fwd(&a, y, x);
        memset(dx, 0, sizeof dx);
        switch (op) {
        case 0:
            wf_k_sigmoid_backward(dx, dy, y, n);
            break;
        case 1:
            wf_k_tanh_backward(dx, dy, y, n);
            break;
        case 2:
            wf_k_relu_backward(dx, dy, x, n);
            break;
        case 3:
            wf_k_leaky_relu_backward(dx, dy, x, a.alpha, n);
            break;
        default:
            wf_k_softmax_backward(dx, dy, y, 2, 8, 4);
            break;
        }
        char what[64];
        snprintf(what, sizeof what, "%s d/din", names[op]);
        if (op == 2 || op == 3) {
            /* piecewise linear: the stencil through the float kernel is exact */
            kc_gradcheck(what, act_fwd, &a, x, n, n, dy, dx, 0.125, act_skip, n, RTOL_GRAD);
        } else {
            /* smooth: double forward, h = 2^-6 (stencil error h^4 |f'''''| / 30 < 1e-8) */
            kc_gradcheck2(what, NULL, act_fwd_d, &a, x, n, n, dy, dx, 1.0 / 64, NULL, n, RTOL_GRAD);
        }
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * ReduceMean
 * ------------------------------------------------------------------------------------------- */

typedef struct rm_ctx {
    size_t outer, reduce, inner;
} rm_ctx;

static void rm_fwd(const void *vc, float *y, const float *x) {
    const rm_ctx *c = vc;
    wf_k_reduce_mean_forward(y, x, c->outer, c->reduce, c->inner);
}

START_TEST(test_reduce_mean) {
    /* (2, 3, 2): mean over axis 1 */
    const float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    float y[4];
    wf_k_reduce_mean_forward(y, x, 2, 3, 2);
    ck_assert_float_eq(y[0], 3.0f);  /* (1 + 3 + 5) / 3 */
    ck_assert_float_eq(y[1], 4.0f);  /* (2 + 4 + 6) / 3 */
    ck_assert_float_eq(y[2], 9.0f);  /* (7 + 9 + 11) / 3 */
    ck_assert_float_eq(y[3], 10.0f); /* (8 + 10 + 12) / 3 */
    /* all axes: one output */
    wf_k_reduce_mean_forward(y, x, 1, 12, 1);
    ck_assert_float_eq(y[0], 6.5f);
    /* backward against finite differences */
    wf_rng r;
    wf_rng_init(&r, 15);
    float xr[60], dy[12], dx[60];
    kc_fill(&r, xr, 60, -2, 2);
    kc_fill(&r, dy, 12, -1, 1);
    memset(dx, 0, sizeof dx);
    wf_k_reduce_mean_backward(dx, dy, 3, 5, 4);
    rm_ctx c = {3, 5, 4};
    kc_gradcheck("reduce_mean d/din", rm_fwd, &c, xr, 60, 12, dy, dx, 0.5, NULL, 60, RTOL_GRAD);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Pad
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_pad_documented_examples) {
    /* ONNX operator documentation, Pad examples 1-3: data (3, 2), pads [0, 2, 0, 0] */
    const float data[6] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
    const int shape[2] = {3, 2};
    const int pads[4] = {0, 2, 0, 0};
    const float want_const[12] = {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f};
    const float want_reflect[12] = {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f,
                                    2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f};
    const float want_edge[12] = {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f,
                                 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f};
    int os[2];
    float y[64];
    ck_assert_int_eq(wf_k_pad_shape(os, shape, pads, 2, WF_K_PAD_CONSTANT), 0);
    ck_assert_int_eq(os[0], 3);
    ck_assert_int_eq(os[1], 4);
    wf_k_pad_forward(y, data, shape, pads, 2, WF_K_PAD_CONSTANT, 0.0f);
    tu_check_close_f("pad constant (ONNX doc)", y, want_const, 12, 0, 0);
    wf_k_pad_forward(y, data, shape, pads, 2, WF_K_PAD_REFLECT, 0.0f);
    tu_check_close_f("pad reflect (ONNX doc)", y, want_reflect, 12, 0, 0);
    wf_k_pad_forward(y, data, shape, pads, 2, WF_K_PAD_EDGE, 0.0f);
    tu_check_close_f("pad edge (ONNX doc)", y, want_edge, 12, 0, 0);

    /* numpy.pad semantics on both axes (the example of OpenVINO's Pad-12 specification):
     * data 3x4 = 1..12, pads begin [0, 1], end [2, 3] */
    float d12[12];
    for (int i = 0; i < 12; i++) {
        d12[i] = (float)(i + 1);
    }
    const int s34[2] = {3, 4};
    const int p2[4] = {0, 1, 2, 3};
    const float want_r[40] = {2,  1,  2,  3, 4, 3, 2, 1, 6, 5, 6, 7, 8, 7, 6, 5, 10, 9, 10, 11,
                              12, 11, 10, 9, 6, 5, 6, 7, 8, 7, 6, 5, 2, 1, 2, 3, 4,  3, 2,  1};
    const float want_e[40] = {1,  1,  2,  3,  4,  4,  4,  4,  5,  5,  6,  7, 8,  8,
                              8,  8,  9,  9,  10, 11, 12, 12, 12, 12, 9,  9, 10, 11,
                              12, 12, 12, 12, 9,  9,  10, 11, 12, 12, 12, 12};
    const float want_c[40] = {-1, 1,  2,  3,  4,  -1, -1, -1, -1, 5,  6,  7,  8,  -1,
                              -1, -1, -1, 9,  10, 11, 12, -1, -1, -1, -1, -1, -1, -1,
                              -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    wf_k_pad_forward(y, d12, s34, p2, 2, WF_K_PAD_REFLECT, 0.0f);
    tu_check_close_f("pad reflect 3x4", y, want_r, 40, 0, 0);
    wf_k_pad_forward(y, d12, s34, p2, 2, WF_K_PAD_EDGE, 0.0f);
    tu_check_close_f("pad edge 3x4", y, want_e, 40, 0, 0);
    wf_k_pad_forward(y, d12, s34, p2, 2, WF_K_PAD_CONSTANT, -1.0f);
    tu_check_close_f("pad constant -1 3x4", y, want_c, 40, 0, 0);

    /* negative pads crop: [1 2 3 4] with pads [-1, 1] -> [2 3 4 0] */
    const float d4[4] = {1, 2, 3, 4};
    const int s4[1] = {4};
    const int pn[2] = {-1, 1};
    const float want_n[4] = {2, 3, 4, 0};
    ck_assert_int_eq(wf_k_pad_shape(os, s4, pn, 1, WF_K_PAD_CONSTANT), 0);
    ck_assert_int_eq(os[0], 4);
    wf_k_pad_forward(y, d4, s4, pn, 1, WF_K_PAD_CONSTANT, 0.0f);
    tu_check_close_f("pad negative", y, want_n, 4, 0, 0);
    /* reflect beyond the axis length keeps reflecting (period 2(n - 1) = 4, numpy.pad):
     * [1 2 3] with pads [4, 0] -> [1 2 3 2 1 2 3] */
    const int s3[1] = {3};
    const int pr[2] = {4, 0};
    const float want_rr[7] = {1, 2, 3, 2, 1, 2, 3};
    wf_k_pad_forward(y, d4, s3, pr, 1, WF_K_PAD_REFLECT, 0.0f);
    tu_check_close_f("pad reflect beyond length", y, want_rr, 7, 0, 0);
    /* shape errors */
    const int bad[2] = {-5, 0};
    ck_assert_int_eq(wf_k_pad_shape(os, s4, bad, 1, WF_K_PAD_CONSTANT), -1);
    const int s0[1] = {0};
    const int p1[2] = {1, 0};
    ck_assert_int_eq(wf_k_pad_shape(os, s0, p1, 1, WF_K_PAD_EDGE), -1);
    ck_assert_int_eq(wf_k_pad_shape(os, s0, p1, 1, WF_K_PAD_CONSTANT), 0);
}
END_TEST

typedef struct pad_ctx {
    const int *shape, *pads;
    int ndim;
    wf_k_pad_mode mode;
} pad_ctx;

static void pad_fwd(const void *vc, float *y, const float *x) {
    const pad_ctx *c = vc;
    wf_k_pad_forward(y, x, c->shape, c->pads, c->ndim, c->mode, 0.75f);
}

START_TEST(test_pad_backward_fd) {
    wf_rng r;
    wf_rng_init(&r, 16);
    const int shape[3] = {2, 3, 5};
    const int pad_sets[3][6] = {
        {0, 1, 2, 1, 2, 3},  /* plain */
        {1, 0, -1, 0, 2, 4}, /* crop at the start of the last axis */
        {0, 2, 6, 0, 3, 7},  /* reflect beyond the axis length */
    };
    float x[30];
    kc_fill(&r, x, 30, -2, 2);
    for (int ps = 0; ps < 3; ps++) {
        for (int m = 0; m < 3; m++) {
            int os[3];
            ck_assert_int_eq(wf_k_pad_shape(os, shape, pad_sets[ps], 3, (wf_k_pad_mode)m), 0);
            size_t no = (size_t)os[0] * (size_t)os[1] * (size_t)os[2];
            float *dy = kc_alloc(no), *dx = kc_alloc(30);
            kc_fill(&r, dy, no, -1, 1);
            wf_k_pad_backward(dx, dy, shape, pad_sets[ps], 3, (wf_k_pad_mode)m);
            pad_ctx c = {shape, pad_sets[ps], 3, (wf_k_pad_mode)m};
            char what[64];
            snprintf(what, sizeof what, "pad set %d mode %d d/din", ps, m);
            kc_gradcheck(what, pad_fwd, &c, x, 30, no, dy, dx, 0.5, NULL, 30, RTOL_GRAD);
            free(dy);
            free(dx);
        }
    }
}
END_TEST

/* Every backward kernel adds into din: running it on din = 1 must give 1 + (result on 0). */
START_TEST(test_backward_accumulates) {
    wf_rng r;
    wf_rng_init(&r, 17);
    enum { N = 48 };
    float x[N], y[N], dy[N], d0[N], d1[N];
    kc_fill(&r, x, N, -2, 2);
    kc_fill(&r, dy, N, -1, 1);
    wf_k_pool_geom g;
    int in[1] = {8}, k[1] = {2}, s[1] = {2};
    fill_pool(&g, 2, 3, 1, in, k, NULL, NULL, s, NULL, 0, 0); /* (2, 3, 8) -> (2, 3, 4) */
    int32_t am[N];
    wf_k_maxpool_forward(y, am, x, &g);
    float sc[3] = {0.5f, -1.0f, 2.0f}, va[3] = {1.0f, 0.5f, 2.0f};
    const int shape[2] = {6, 8}, pads[4] = {1, 0, -1, 0}; /* output stays (6, 8) */
    for (int op = 0; op < 11; op++) {
        for (int base = 0; base < 2; base++) {
            float *d = base ? d1 : d0;
            for (int i = 0; i < N; i++) {
                d[i] = (float)base;
            }
            switch (op) {
            case 0:
                wf_k_maxpool_backward(d, dy, am, &g);
                break;
            case 1:
                wf_k_avgpool_backward(d, dy, &g);
                break;
            case 2:
                wf_k_global_avgpool_backward(d, dy, 6, 8);
                break;
            case 3:
                wf_k_global_maxpool_backward(d, dy, am, 6, 8);
                break;
            case 4:
                wf_k_batchnorm_backward(d, dy, sc, va, 1e-5f, 2, 3, 8);
                break;
            case 5:
                wf_k_softmax_backward(d, dy, x, 6, 8, 1);
                break;
            case 6:
                wf_k_sigmoid_backward(d, dy, x, N);
                break;
            case 7:
                wf_k_tanh_backward(d, dy, x, N);
                break;
            case 8:
                wf_k_relu_backward(d, dy, x, N);
                break;
            case 9:
                wf_k_reduce_mean_backward(d, dy, 6, 8, 1);
                break;
            default:
                wf_k_pad_backward(d, dy, shape, pads, 2, WF_K_PAD_EDGE);
                break;
            }
        }
        for (int i = 0; i < N; i++) {
            ck_assert_msg(fabsf(d1[i] - (1.0f + d0[i])) <= 1e-6f,
                          "backward op %d overwrites din[%d]: %g vs 1 + %g", op, i, (double)d1[i],
                          (double)d0[i]);
        }
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_ops");
    TCase *tp = tcase_create("pool");
    tcase_add_test(tp, test_pool_onnx_node_tests);
    tcase_add_test(tp, test_pool_semantics);
    tcase_add_test(tp, test_maxpool_k2s2_fast_path);
    tcase_add_test(tp, test_pool_backward_fd);
    tcase_add_test(tp, test_global_pool_backward_fd);
    suite_add_tcase(s, tp);
    TCase *tb = tcase_create("batchnorm");
    tcase_add_test(tb, test_batchnorm_onnx_node_tests);
    tcase_add_test(tb, test_batchnorm_backward_fd);
    suite_add_tcase(s, tb);
    TCase *ta = tcase_create("activations");
    tcase_add_test(ta, test_softmax_onnx_node_tests);
    tcase_add_test(ta, test_activations_onnx_node_tests);
    tcase_add_test(ta, test_activations_backward_fd);
    suite_add_tcase(s, ta);
    TCase *tr = tcase_create("reduce_pad");
    tcase_add_test(tr, test_reduce_mean);
    tcase_add_test(tr, test_pad_documented_examples);
    tcase_add_test(tr, test_pad_backward_fd);
    tcase_add_test(tr, test_backward_accumulates);
    suite_add_tcase(s, tr);
    return tu_run_suite(s);
}
