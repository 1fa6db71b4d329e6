/*
 * Kernels, part 7 (issue 12): the direct AVX-512 kernels (kernels_direct.c) against the naive
 * double-accumulating references. The 1-D convolution, forward (with and without bias and ReLU) and
 * input gradient, over geometries that reach every register tile (output lengths 1 to 40 give tiles
 * of 1 to 12 steps), 16 to 64 output channels per group, groups, stride, dilation and padding wider
 * than the kernel. Also:
 *  - the im2col + sgemm path (wf_k_conv_forward_gemm, wf_k_conv_backward_input_gemm) on the same
 *    geometries, so both paths of wf_k_conv_forward stay checked on a processor with AVX-512;
 *  - each window's values do not depend on the batch around it (bit-identical alone and in a
 *    batch of 5), which keeps explanations identical across thread counts and chunkings;
 *  - ReLU of NaN is 0 as in wf_k_relu_forward;
 *  - where the kernel does not apply (2-D, 8 channels per group, stride 2 for the backward) it
 *    says so and leaves the output untouched.
 * The GEMM with few columns (wf_k_gemm_direct) against wf_k_gemm_naive: M across whole and
 * partial 12-row tiles, N of one to sixteen 16-column blocks, K from 1 to the 288 cells of a
 * window, w as (K, N) or transposed, bias row or none, ReLU or none; each row's values alone
 * and in a batch the same bits; shapes outside its limits left to sgemm, y untouched. Fewer than
 * 16 columns stored (N, K) (score layers) take the double-accumulated dot path: 1 to 15 columns,
 * K across the 16 lanes, against the same reference, rows alone the same bits.
 * On a processor without AVX-512 the direct kernels never apply; the checks of it are skipped
 * (and say so) and the sgemm checks still run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_check.h"
#include "model/kernels/kernels.h"
#include "testutil.h"

static const kc_conv_case CASES[] = {
    {5, 16, 32, 1, 1, {18}, {5}, {2}, {2}, {1}, {1}}, /* cnn1d conv2 */
    {3, 8, 16, 1, 1, {36}, {5}, {2}, {2}, {1}, {1}},  /* cnn1d conv1 */
    {2, 3, 16, 1, 1, {1}, {3}, {1}, {1}, {1}, {1}},   /* length 1: a 1-step tile */
    {2, 4, 48, 1, 1, {13}, {3}, {1}, {1}, {1}, {1}}, /* 48 channels: a 32 and a 16 block, 13 = 7 + 6
                                                      */
    {2, 32, 16, 2, 1, {25}, {3}, {0}, {2}, {1}, {1}},  /* 2 groups of 16 out, 16 in */
    {3, 5, 64, 1, 1, {40}, {7}, {3}, {3}, {1}, {1}},   /* 40 steps: 4 tiles of 10 */
    {2, 6, 32, 1, 1, {30}, {3}, {2}, {1}, {2}, {1}},   /* stride 2 */
    {2, 4, 16, 1, 1, {29}, {3}, {4}, {4}, {1}, {3}},   /* dilation 3 */
    {2, 4, 16, 1, 1, {23}, {4}, {1}, {2}, {3}, {2}},   /* stride and dilation */
    {1, 2, 32, 1, 1, {5}, {2}, {3}, {3}, {1}, {1}},    /* pads wider than the kernel */
    {4, 16, 16, 1, 1, {12}, {1}, {0}, {0}, {1}, {1}},  /* 1x1 */
    {2, 16, 32, 1, 1, {11}, {11}, {5}, {5}, {1}, {1}}, /* kernel = length */
    {2, 64, 32, 4, 1, {17}, {5}, {4}, {0}, {1}, {1}},  /* 4 groups of 16 in, 8 out: forward falls
                                                          back */
    {1, 16, 16, 16, 1, {9}, {3}, {1}, {1}, {1}, {1}},  /* depthwise: 1 channel per group, falls back
                                                        */
};

typedef struct bufs {
    size_t nin, nw, nout;
    float *x, *w, *b, *dy, *scratch;
    float *xa, *wa, *ba, *dya; /* absolute values: the error bound */
} bufs;

static void bufs_init(bufs *u, const wf_k_conv_geom *g, uint64_t seed) {
    u->nin = (size_t)g->n * (size_t)g->cin * (size_t)g->in[0];
    u->nw = (size_t)g->cout * (size_t)(g->cin / g->group) * (size_t)g->k[0];
    u->nout = (size_t)g->n * (size_t)g->cout * (size_t)g->out[0];
    wf_rng r;
    wf_rng_init(&r, seed);
    u->x = kc_alloc(u->nin);
    u->w = kc_alloc(u->nw);
    u->b = kc_alloc((size_t)g->cout);
    u->dy = kc_alloc(u->nout);
    kc_fill(&r, u->x, u->nin, -2, 2);
    kc_fill(&r, u->w, u->nw, -1, 1);
    kc_fill(&r, u->b, (size_t)g->cout, -0.5, 0.5);
    kc_fill(&r, u->dy, u->nout, -1, 1);
    size_t fs = wf_k_conv_forward_scratch_size(g), bs = wf_k_conv_backward_scratch_size(g);
    ck_assert_uint_ge(fs, wf_k_conv1d_direct_scratch_size(g));
    u->scratch = kc_alloc(fs > bs ? fs : bs);
    u->xa = kc_abs_copy(u->x, u->nin);
    u->wa = kc_abs_copy(u->w, u->nw);
    u->ba = kc_abs_copy(u->b, (size_t)g->cout);
    u->dya = kc_abs_copy(u->dy, u->nout);
}

static void bufs_free(bufs *u) {
    free(u->x);
    free(u->w);
    free(u->b);
    free(u->dy);
    free(u->scratch);
    free(u->xa);
    free(u->wa);
    free(u->ba);
    free(u->dya);
}

static void fill_nan(float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = NAN; /* every output must be written */
}

START_TEST(test_direct_forward) {
    const kc_conv_case *c = &CASES[_i];
    wf_k_conv_geom g;
    kc_conv_geom(&g, c);
    bufs u;
    bufs_init(&u, &g, 7100 + (uint64_t)_i);
    float *y = kc_alloc(u.nout), *yn = kc_alloc(u.nout), *yb = kc_alloc(u.nout);
    int applies = wf_k_conv1d_direct_applies(&g);
    char what[96];
    for (int variant = 0; variant < 4; variant++) {
        int relu = variant & 1;
        const float *bias = variant & 2 ? NULL : u.b;
        wf_k_conv_forward_naive(yn, u.x, u.w, bias, &g);
        wf_k_conv_forward_naive(yb, u.xa, u.wa, bias ? u.ba : NULL, &g);
        if (relu)
            for (size_t i = 0; i < u.nout; i++)
                yn[i] = yn[i] > 0.0f ? yn[i] : 0.0f;
        fill_nan(y, u.nout);
        int did = wf_k_conv1d_direct(y, u.x, u.w, bias, &g, u.scratch, relu);
        ck_assert_int_eq(did, applies);
        if (did) {
            snprintf(what, sizeof what, "direct case %d relu %d bias %d", _i, relu, bias != NULL);
            kc_check_bound(what, y, yn, yb, u.nout, 1e-6, 0);
        } else {
            for (size_t i = 0; i < u.nout; i++)
                ck_assert(isnan(y[i])); /* untouched */
        }
        if (!relu) { /* the im2col + sgemm path on the same geometry */
            fill_nan(y, u.nout);
            wf_k_conv_forward_gemm(y, u.x, u.w, bias, &g, u.scratch);
            snprintf(what, sizeof what, "gemm case %d bias %d", _i, bias != NULL);
            kc_check_bound(what, y, yn, yb, u.nout, 1e-6, 0);
        }
    }
    if (!applies && c->cout / c->group % 16 == 0)
        fprintf(stderr, "case %d: no AVX-512 here, the direct kernel is not checked\n", _i);
    free(y);
    free(yn);
    free(yb);
    bufs_free(&u);
}
END_TEST

START_TEST(test_direct_backward) {
    const kc_conv_case *c = &CASES[_i];
    wf_k_conv_geom g;
    kc_conv_geom(&g, c);
    bufs u;
    bufs_init(&u, &g, 7300 + (uint64_t)_i);
    float *dx = kc_alloc(u.nin), *dxn = kc_alloc(u.nin), *dxb = kc_alloc(u.nin);
    /* accumulate onto a nonzero din: the += contract */
    for (size_t i = 0; i < u.nin; i++)
        dxn[i] = dxb[i] = 0.5f;
    wf_k_conv_backward_input_naive(dxn, u.dy, u.w, &g);
    wf_k_conv_backward_input_naive(dxb, u.dya, u.wa, &g);
    for (size_t i = 0; i < u.nin; i++)
        dx[i] = 0.5f;
    int did = wf_k_conv1d_direct_backward_input(dx, u.dy, u.w, &g, u.scratch);
    ck_assert_int_eq(did, wf_k_conv1d_direct_backward_applies(&g));
    char what[96];
    if (did) {
        snprintf(what, sizeof what, "direct backward case %d", _i);
        kc_check_bound(what, dx, dxn, dxb, u.nin, 1e-6, 0);
    } else {
        for (size_t i = 0; i < u.nin; i++)
            ck_assert_float_eq(dx[i], 0.5f);
    }
    for (size_t i = 0; i < u.nin; i++)
        dx[i] = 0.5f;
    wf_k_conv_backward_input_gemm(dx, u.dy, u.w, &g, u.scratch);
    snprintf(what, sizeof what, "gemm backward case %d", _i);
    kc_check_bound(what, dx, dxn, dxb, u.nin, 1e-6, 0);
    free(dx);
    free(dxn);
    free(dxb);
    bufs_free(&u);
}
END_TEST

/* Where the kernel applies: every case with 16k output channels per group on an AVX-512
 * processor; the backward also needs stride 1, 16k input channels per group and pads of at most
 * the kernel's span. */
START_TEST(test_direct_applies) {
    wf_k_conv_geom g;
    kc_conv_geom(&g, &CASES[0]);
    int avx512 = wf_k_conv1d_direct_applies(&g);
    if (!avx512) {
        fprintf(stderr, "no AVX-512 here: the direct kernel applies nowhere\n");
        return;
    }
    ck_assert(wf_k_conv1d_direct_backward_applies(&g));
    kc_conv_geom(&g, &CASES[1]); /* cin 8: forward yes, backward no */
    ck_assert(wf_k_conv1d_direct_applies(&g));
    ck_assert(!wf_k_conv1d_direct_backward_applies(&g));
    kc_conv_geom(&g, &CASES[6]); /* stride 2: forward only */
    ck_assert(wf_k_conv1d_direct_applies(&g));
    ck_assert(!wf_k_conv1d_direct_backward_applies(&g));
    kc_conv_geom(&g, &CASES[9]); /* pads 3 > span 1 */
    ck_assert(wf_k_conv1d_direct_applies(&g));
    ck_assert(!wf_k_conv1d_direct_backward_applies(&g));
    kc_conv_geom(&g, &CASES[12]); /* 8 out per group */
    ck_assert(!wf_k_conv1d_direct_applies(&g));
    ck_assert(wf_k_conv1d_direct_backward_applies(&g));
    /* 2-D: never */
    memset(&g, 0, sizeof g);
    g.n = 1, g.cin = 16, g.cout = 16, g.group = 1, g.ndim = 2;
    g.in[0] = g.in[1] = 6, g.k[0] = g.k[1] = 3, g.stride[0] = g.stride[1] = 1;
    g.dilation[0] = g.dilation[1] = 1;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    ck_assert(!wf_k_conv1d_direct_applies(&g));
    ck_assert(!wf_k_conv1d_direct_backward_applies(&g));
    /* an input too long for the padded line (16 x 600 floats > 8,192) */
    kc_conv_geom(&g, &(kc_conv_case){1, 16, 16, 1, 1, {600}, {3}, {1}, {1}, {1}, {1}});
    ck_assert(!wf_k_conv1d_direct_applies(&g));
}
END_TEST

/* Each window alone and in a batch of 5: the same bits, forward and backward. */
START_TEST(test_direct_batch_independent) {
    kc_conv_case c = CASES[0];
    wf_k_conv_geom g, g1;
    kc_conv_geom(&g, &c);
    c.n = 1;
    kc_conv_geom(&g1, &c);
    bufs u;
    bufs_init(&u, &g, 7500);
    float *y = kc_alloc(u.nout), *y1 = kc_alloc(u.nout / (size_t)g.n);
    float *dx = kc_alloc(u.nin), *dx1 = kc_alloc(u.nin / (size_t)g.n);
    wf_k_conv_relu_forward(y, u.x, u.w, u.b, &g, u.scratch);
    wf_k_conv_backward_input(dx, u.dy, u.w, &g, u.scratch);
    size_t per_in = u.nin / (size_t)g.n, per_out = u.nout / (size_t)g.n;
    for (int b = 0; b < g.n; b++) {
        wf_k_conv_relu_forward(y1, u.x + (size_t)b * per_in, u.w, u.b, &g1, u.scratch);
        ck_assert_int_eq(memcmp(y1, y + (size_t)b * per_out, per_out * sizeof *y), 0);
        memset(dx1, 0, per_in * sizeof *dx1);
        wf_k_conv_backward_input(dx1, u.dy + (size_t)b * per_out, u.w, &g1, u.scratch);
        ck_assert_int_eq(memcmp(dx1, dx + (size_t)b * per_in, per_in * sizeof *dx), 0);
    }
    free(y);
    free(y1);
    free(dx);
    free(dx1);
    bufs_free(&u);
}
END_TEST

/* ReLU of a NaN pre-activation is 0, as wf_k_relu_forward gives; without ReLU the NaN stays. */
START_TEST(test_direct_relu_nan) {
    kc_conv_case c = CASES[0];
    c.n = 1;
    wf_k_conv_geom g;
    kc_conv_geom(&g, &c);
    bufs u;
    bufs_init(&u, &g, 7600);
    if (!wf_k_conv1d_direct_applies(&g)) {
        bufs_free(&u);
        return;
    }
    u.x[3] = NAN; /* channel 0, step 3: reaches steps 1..5 of every output channel */
    float *y = kc_alloc(u.nout), *yr = kc_alloc(u.nout);
    ck_assert(wf_k_conv1d_direct(y, u.x, u.w, u.b, &g, u.scratch, 0));
    ck_assert(wf_k_conv1d_direct(yr, u.x, u.w, u.b, &g, u.scratch, 1));
    int OW = g.out[0];
    for (int co = 0; co < g.cout; co++)
        for (int t = 0; t < OW; t++) {
            float v = y[(size_t)co * (size_t)OW + (size_t)t];
            float r = yr[(size_t)co * (size_t)OW + (size_t)t];
            int hit = t >= 1 && t <= 5;
            ck_assert_int_eq(isnan(v) != 0, hit);
            float want = 0.0f;
            wf_k_relu_forward(&want, &v, 1);
            ck_assert(!isnan(r));
            ck_assert_float_eq(r, want);
        }
    free(y);
    free(yr);
    bufs_free(&u);
}
END_TEST

typedef struct gcase {
    int M, N, K;
} gcase;

static const gcase GEMMS[] = {
    {256, 32, 64}, /* the mlp's hidden layer on a 256-row chunk */
    {1, 16, 1},    /* one row, one column block, K 1 */
    {13, 48, 7},   /* a 32 and a 16 block, 12 + 1 rows */
    {25, 64, 288}, /* the mlp's first layer on whole windows */
    {12, 256, 33}, /* the widest */
    {7, 80, 1024}, /* the longest */
};

/* One product y (M, N) = x @ op(w) (+ bias b when use_bias), ReLU when relu, by the direct GEMM
 * against wf_k_gemm_naive (C = bias rows, then x op(w) + C in double, then ReLU) within
 * kc_check_bound's bound; rows 0, step, 2 step, ... computed alone give the same bits. w is (K, N),
 * or (N, K) when tb; scratch: K N floats. */
static void gemm_check(const char *what, const float *x, const float *w, const float *b, int M,
                       int N, int K, int tb, int relu, int use_bias, int step, float *scratch,
                       float *y) {
    size_t nx = (size_t)M * (size_t)K, nw = (size_t)K * (size_t)N, ny = (size_t)M * (size_t)N;
    const float *bias = use_bias ? b : NULL;
    float *xa = kc_abs_copy(x, nx), *wa = kc_abs_copy(w, nw), *ba = kc_abs_copy(b, (size_t)N);
    float *yn = kc_alloc(ny), *yb = kc_alloc(ny), *y1 = kc_alloc((size_t)N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            yn[(size_t)i * (size_t)N + (size_t)j] = bias ? b[j] : 0.0f;
            yb[(size_t)i * (size_t)N + (size_t)j] = bias ? ba[j] : 0.0f;
        }
    wf_k_gemm_naive(yn, x, w, M, N, K, 0, tb, 1.0f, 1.0f);
    wf_k_gemm_naive(yb, xa, wa, M, N, K, 0, tb, 1.0f, 1.0f);
    if (relu)
        for (size_t i = 0; i < ny; i++)
            yn[i] = yn[i] > 0.0f ? yn[i] : 0.0f;
    fill_nan(y, ny);
    ck_assert(wf_k_gemm_direct(y, x, w, tb, bias, M, N, K, relu, scratch));
    kc_check_bound(what, y, yn, yb, ny, 1e-6, 0);
    for (int i = 0; i < M; i += step) {
        ck_assert(
            wf_k_gemm_direct(y1, x + (size_t)i * (size_t)K, w, tb, bias, 1, N, K, relu, scratch));
        ck_assert_int_eq(memcmp(y1, y + (size_t)i * (size_t)N, (size_t)N * sizeof *y), 0);
    }
    free(xa);
    free(wa);
    free(ba);
    free(yn);
    free(yb);
    free(y1);
}

START_TEST(test_direct_gemm) {
    const gcase *c = &GEMMS[_i];
    size_t nx = (size_t)c->M * (size_t)c->K, nw = (size_t)c->K * (size_t)c->N;
    size_t ny = (size_t)c->M * (size_t)c->N;
    if (!wf_k_gemm_direct_applies(c->M, c->N, c->K)) {
        fprintf(stderr, "gemm case %d: no AVX-512 here, the direct GEMM is not checked\n", _i);
        return;
    }
    wf_rng r;
    wf_rng_init(&r, 7700 + (uint64_t)_i);
    float *x = kc_alloc(nx), *w = kc_alloc(nw), *b = kc_alloc((size_t)c->N);
    kc_fill(&r, x, nx, -2, 2);
    kc_fill(&r, w, nw, -1, 1);
    kc_fill(&r, b, (size_t)c->N, -0.5, 0.5);
    float *y = kc_alloc(ny), *scratch = kc_alloc(nw);
    for (int variant = 0; variant < 8; variant++) {
        int relu = variant & 1, tb = (variant >> 2) & 1, use_bias = !(variant & 2);
        char what[96];
        snprintf(what, sizeof what, "gemm case %d relu %d bias %d transB %d", _i, relu, use_bias,
                 tb);
        gemm_check(what, x, w, b, c->M, c->N, c->K, tb, relu, use_bias, 5, scratch, y);
    }
    free(x);
    free(w);
    free(b);
    free(y);
    free(scratch);
}
END_TEST

/* The dot-product path for fewer than 16 columns (w stored (N, K)) against wf_k_gemm_naive:
 * 1, 3, 8 and 15 columns, K below, at and across the 16 lanes, 1 to 9 rows (whole groups of four
 * and a rest), bias and ReLU; each row alone gives the same bits. */
START_TEST(test_direct_gemm_dot) {
    static const int Ns[] = {1, 3, 8, 15}, Ks[] = {1, 16, 32, 47, 300}, Ms[] = {1, 4, 9};
    wf_rng r;
    wf_rng_init(&r, 7800);
    int checked = 0;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 5; b++)
            for (size_t c = 0; c < 3; c++) {
                int N = Ns[a], K = Ks[b], M = Ms[c];
                if (!wf_k_gemm_dot_applies(M, N, K)) {
                    fprintf(stderr, "gemm dot: no AVX-512 here, not checked\n");
                    return;
                }
                size_t nx = (size_t)M * (size_t)K, nw = (size_t)N * (size_t)K;
                size_t ny = (size_t)M * (size_t)N;
                float *x = kc_alloc(nx), *w = kc_alloc(nw), *bb = kc_alloc((size_t)N);
                kc_fill(&r, x, nx, -2, 2);
                kc_fill(&r, w, nw, -1, 1);
                kc_fill(&r, bb, (size_t)N, -0.5, 0.5);
                float *y = kc_alloc(ny);
                for (int variant = 0; variant < 4; variant++) {
                    int relu = variant & 1, use_bias = !(variant & 2);
                    char what[96];
                    snprintf(what, sizeof what, "gemm dot M %d N %d K %d relu %d bias %d", M, N, K,
                             relu, use_bias);
                    gemm_check(what, x, w, bb, M, N, K, 1, relu, use_bias, 1, NULL, y);
                    if (N == 1) { /* one column: w (K, 1) not transposed is the same array */
                        float *yt = kc_alloc(ny);
                        ck_assert(wf_k_gemm_direct(yt, x, w, 0, use_bias ? bb : NULL, M, N, K, relu,
                                                   NULL));
                        ck_assert_int_eq(memcmp(yt, y, ny * sizeof *y), 0);
                        free(yt);
                    }
                    checked++;
                }
                free(x);
                free(w);
                free(bb);
                free(y);
            }
    printf("gemm dot: %d shapes x variants within the bound of the double reference\n", checked);
}
END_TEST

/* Outside its limits the direct GEMM declines and writes nothing: fewer than 16 columns stored
 * (K, N), N not a multiple of 16 above it, too wide, too long, no rows. */
START_TEST(test_direct_gemm_declines) {
    const int shapes[][4] = {{4, 8, 16, 0},    {4, 24, 16, 1}, {4, 272, 16, 1},
                             {4, 32, 1025, 1}, {0, 32, 16, 1}, {4, 8, 1025, 1}};
    static float x[4 * 1025], y[4 * 272];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2], tb = shapes[i][3];
        ck_assert(!wf_k_gemm_direct_applies(M, N, K));
        float *wb = kc_alloc((size_t)N * (size_t)K), *sc = kc_alloc((size_t)N * (size_t)K);
        fill_nan(y, sizeof y / sizeof *y);
        ck_assert(!wf_k_gemm_direct(y, x, wb, tb, NULL, M, N, K, 0, sc));
        for (size_t j = 0; j < sizeof y / sizeof *y; j++)
            ck_assert(isnan(y[j]));
        free(wb);
        free(sc);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_direct");
    TCase *tc = tcase_create("direct");
    int n = (int)(sizeof CASES / sizeof *CASES);
    tcase_add_loop_test(tc, test_direct_forward, 0, n);
    tcase_add_loop_test(tc, test_direct_backward, 0, n);
    tcase_add_test(tc, test_direct_applies);
    tcase_add_test(tc, test_direct_batch_independent);
    tcase_add_test(tc, test_direct_relu_nan);
    tcase_add_loop_test(tc, test_direct_gemm, 0, (int)(sizeof GEMMS / sizeof *GEMMS));
    tcase_add_test(tc, test_direct_gemm_dot);
    tcase_add_test(tc, test_direct_gemm_declines);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
