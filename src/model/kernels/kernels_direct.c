/*
 * Direct AVX-512 register-tile kernels for the small layers of window models:
 *  - 1-D convolution (no im2col): the forward of a Conv over (n, cin, T) windows whose output
 *    channels per group are a multiple of 16, with the bias and an optional ReLU applied in
 *    registers, and the input gradient of a stride-1 one run as the same kernel over the
 *    flipped, transposed weights;
 *  - GEMM with few output columns (N a multiple of 16, at most 256; K at most 1,024), bias row
 *    and ReLU in registers: y = max(x W + b, 0), the hidden layers of an MLP, where OpenBLAS
 *    spends as long packing a 256-row chunk and the separate bias and ReLU passes as multiplying.
 *    It is the convolution's tile with K input channels of one tap and row-major output.
 *
 * Why: im2col writes every input value kW times and the sgemm then packs it again; for the
 * small convolutions of a window model (cin 16, T 18, k 5) the copies cost as much as the
 * products. Here the output tile of one window (TB time steps x 16 or 32 channels) sits in
 * registers; for every (input channel, tap) one vector load of the packed weights (ci, k) ->
 * 16 or 32 output channels, and a broadcast of the input value per time step, feed TB x 1..2
 * fused multiply-adds. The input of one window is copied once into a zero-padded line per
 * channel, so padding, stride and dilation are only the broadcast's address.
 *
 * Arithmetic: per output value, acc = bias, then acc = fma(x, w, acc) over (ci, k) in order
 * (over k for the GEMM);
 * ReLU is max(acc, 0), which gives 0 for NaN as wf_k_relu_forward does. Each window's values
 * depend only on that window (not on the batch, the chunking or the thread), so results stay
 * identical across thread counts. The reference is wf_k_conv_forward_naive (double
 * accumulation); tests/test_kernels_direct.c holds both to it.
 *
 * Only GCC or Clang on x86-64 with a processor that has AVX-512F (checked at run time); elsewhere
 * wf_k_conv1d_direct returns 0 and the caller takes im2col + sgemm.
 */
#include <stddef.h>
#include <string.h>

#include "model/kernels/kernels.h"

/* Rows of a tile: time steps per register block (2 x TB accumulators with 32 channels). */
#define WF_CD_TB 12
/* Padded input line of one window, all channels of one group (floats on the stack). */
#define WF_CD_LINE 8192
/* The GEMM kernel's limits: the packed weights (K x N) stay within L2 and a column block's
 * (K x 32) mostly in L1; above them OpenBLAS's blocking is the better choice. */
#define WF_CD_GEMM_MAX_N 256
#define WF_CD_GEMM_MAX_K 1024

#if defined(__GNUC__) && defined(__x86_64__) && !defined(WF_NO_CLONES)
#include <immintrin.h>
#define WF_CD_AVX512 1
#define WF_CD_TARGET __attribute__((target("avx512f")))
#define WF_CD_INLINE __attribute__((target("avx512f"), always_inline)) static inline

static int direct_available(void) {
    static int avail = -1; /* benign race: every thread writes the same value */
    if (avail < 0) {
        __builtin_cpu_init();
        avail = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return avail;
}

/* One register tile: out[co0 + c, t0 + tb] for c < 16 * NV, tb < TB.
 *   xp: padded input of the window's group, (cin_g, Lp), at column t0 * s
 *   wt: packed weights (cin_g * kW, ldw) at column co0
 *   o:  out + co0 * ldo + t0 (channel rows of ldo floats) */
WF_CD_INLINE void tile(const int NV, const int TB, const float *restrict xp, int Lp, int s, int d,
                       const float *restrict wt, int ldw, int cin_g, int kW,
                       const float *restrict bias, int relu, int add, float *restrict o, int ldo,
                       int rows) {
    __m512 acc[WF_CD_TB][2];
#pragma GCC unroll 12
    for (int tb = 0; tb < TB; tb++) {
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[tb][v] = bias ? _mm512_loadu_ps(bias + 16 * v) : _mm512_setzero_ps();
    }
    for (int ci = 0; ci < cin_g; ci++) {
        const float *xr = xp + (size_t)ci * (size_t)Lp;
        const float *wr = wt + (size_t)ci * (size_t)kW * (size_t)ldw;
        for (int k = 0; k < kW; k++) {
            __m512 w0 = _mm512_loadu_ps(wr + (size_t)k * (size_t)ldw);
            __m512 w1 = NV > 1 ? _mm512_loadu_ps(wr + (size_t)k * (size_t)ldw + 16) : w0;
            const float *xk = xr + (size_t)k * (size_t)d;
#pragma GCC unroll 12
            for (int tb = 0; tb < TB; tb++) {
                __m512 x = _mm512_set1_ps(xk[(size_t)tb * (size_t)s]);
                acc[tb][0] = _mm512_fmadd_ps(x, w0, acc[tb][0]);
                if (NV > 1)
                    acc[tb][1] = _mm512_fmadd_ps(x, w1, acc[tb][1]);
            }
        }
    }
    __m512 z = _mm512_setzero_ps();
    if (rows) { /* o is row-major (tb, c): stored as it stands */
#pragma GCC unroll 12
        for (int tb = 0; tb < TB; tb++) {
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                _mm512_storeu_ps(o + (size_t)tb * (size_t)ldo + 16 * v,
                                 relu ? _mm512_max_ps(acc[tb][v], z) : acc[tb][v]);
        }
        return;
    }
    /* (tb, c) in registers -> channel rows of o: through a tile on the stack. */
    float t[WF_CD_TB][32];
#pragma GCC unroll 12
    for (int tb = 0; tb < TB; tb++) {
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            _mm512_storeu_ps(&t[tb][16 * v], relu ? _mm512_max_ps(acc[tb][v], z) : acc[tb][v]);
    }
    for (int c = 0; c < 16 * NV; c++) {
        float *oc = o + (size_t)c * (size_t)ldo;
        if (add) {
            for (int tb = 0; tb < TB; tb++)
                oc[tb] += t[tb][c];
        } else {
            for (int tb = 0; tb < TB; tb++)
                oc[tb] = t[tb][c];
        }
    }
}

/* The tile with compile-time NV and TB (each case its own register allocation). */
#define WF_CD_CASE(nv, tb)                                                                         \
    case tb:                                                                                       \
        tile(nv, tb, xp, Lp, s, d, wt, ldw, cin_g, kW, bias, relu, add, o, ldo, rows);             \
        break
#define WF_CD_SWITCH(nv)                                                                           \
    switch (TB) {                                                                                  \
        WF_CD_CASE(nv, 1);                                                                         \
        WF_CD_CASE(nv, 2);                                                                         \
        WF_CD_CASE(nv, 3);                                                                         \
        WF_CD_CASE(nv, 4);                                                                         \
        WF_CD_CASE(nv, 5);                                                                         \
        WF_CD_CASE(nv, 6);                                                                         \
        WF_CD_CASE(nv, 7);                                                                         \
        WF_CD_CASE(nv, 8);                                                                         \
        WF_CD_CASE(nv, 9);                                                                         \
        WF_CD_CASE(nv, 10);                                                                        \
        WF_CD_CASE(nv, 11);                                                                        \
        WF_CD_CASE(nv, 12);                                                                        \
    default:                                                                                       \
        break;                                                                                     \
    }

WF_CD_TARGET static void tile_any(int NV, int TB, const float *xp, int Lp, int s, int d,
                                  const float *wt, int ldw, int cin_g, int kW, const float *bias,
                                  int relu, int add, float *o, int ldo, int rows) {
    if (NV == 2) {
        WF_CD_SWITCH(2)
    } else {
        WF_CD_SWITCH(1)
    }
}

/* One window of one group: every channel block and time block; out holds cout_g rows of OW. */
WF_CD_TARGET static void window(float *out, const float *xp, int Lp, int s, int d, const float *wt,
                                int cout_g, int cin_g, int kW, const float *bias, int relu, int add,
                                int OW) {
    int nblk = (OW + WF_CD_TB - 1) / WF_CD_TB;
    int tbn = (OW + nblk - 1) / nblk; /* even blocks: 18 -> 9 + 9, not 12 + 6 */
    for (int co0 = 0; co0 < cout_g; co0 += 32) {
        int NV = cout_g - co0 >= 32 ? 2 : 1;
        for (int t0 = 0; t0 < OW; t0 += tbn) {
            int TB = OW - t0 < tbn ? OW - t0 : tbn;
            tile_any(NV, TB, xp + (size_t)t0 * (size_t)s, Lp, s, d, wt + co0, cout_g, cin_g, kW,
                     bias ? bias + co0 : NULL, relu, add, out + (size_t)co0 * (size_t)OW + t0, OW,
                     0);
        }
    }
}

/* Rows r0.. of y (M, N) = x (M, K) @ wt (K, N) + bias, column block c0.. of 16 * NV. */
WF_CD_TARGET static void gemm_rows(float *y, const float *x, const float *wt, const float *bias,
                                   int M, int N, int K, int relu) {
    for (int c0 = 0; c0 < N; c0 += 32) {
        int NV = N - c0 >= 32 ? 2 : 1;
        for (int r0 = 0; r0 < M; r0 += WF_CD_TB) {
            int TB = M - r0 < WF_CD_TB ? M - r0 : WF_CD_TB;
            /* the conv tile with K input channels of one tap: x[r0 + tb, k] at xp + k + tb * K */
            tile_any(NV, TB, x + (size_t)r0 * (size_t)K, 1, K, 0, wt + c0, N, K, 1,
                     bias ? bias + c0 : NULL, relu, 0, y + (size_t)r0 * (size_t)N + c0, N, 1);
        }
    }
}

/* y (M, N) = x (M, K) @ w^T + bias for few columns (N < 16), w stored (N, K): per output a dot
 * product over K accumulated in double (16 floats a step, widened, into two 8-lane double
 * accumulators; the tail masked), the lanes reduced by _mm512_reduce_add_pd, the bias added in
 * double and the sum rounded to float once, then ReLU (v > 0 ? v : 0, NaN to 0). These are score
 * layers (32 -> 1, a logistic regression's 288 -> 1): tiny next to the layers before them, and
 * the score is what finite differences and IG's completeness read, so it is summed about
 * correctly rounded rather than in float (float partial sums made the logistic regression's
 * gradient check 2.7x noisier than OpenBLAS's). Two rows at a time for independent chains; a
 * row's values do not depend on the other rows. */
WF_CD_TARGET static void gemm_dot(float *y, const float *x, const float *w, const float *bias,
                                  int M, int N, int K, int relu) {
    int kf = K & ~15, kt = K & 15;
    __mmask16 tail = (__mmask16)((1u << kt) - 1u);
    for (int i0 = 0; i0 < M; i0 += 2) {
        int nr = M - i0 < 2 ? M - i0 : 2;
        for (int j = 0; j < N; j++) {
            const float *wj = w + (size_t)j * (size_t)K;
            __m512d acc[2][2];
            for (int r = 0; r < 2; r++)
                acc[r][0] = acc[r][1] = _mm512_setzero_pd();
            for (int k = 0; k < K; k += 16) {
                __mmask16 mk = k < kf ? (__mmask16)0xFFFF : tail;
                __m512 wv = _mm512_maskz_loadu_ps(mk, wj + k);
                __m512d w0 = _mm512_cvtps_pd(_mm512_castps512_ps256(wv));
                __m512d w1 = _mm512_cvtps_pd(
                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(wv), 1)));
                for (int r = 0; r < nr; r++) {
                    __m512 xv =
                        _mm512_maskz_loadu_ps(mk, x + (size_t)(i0 + r) * (size_t)K + (size_t)k);
                    __m512d x0 = _mm512_cvtps_pd(_mm512_castps512_ps256(xv));
                    __m512d x1 = _mm512_cvtps_pd(
                        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1)));
                    acc[r][0] = _mm512_fmadd_pd(x0, w0, acc[r][0]);
                    acc[r][1] = _mm512_fmadd_pd(x1, w1, acc[r][1]);
                }
            }
            for (int r = 0; r < nr; r++) {
                double d = _mm512_reduce_add_pd(_mm512_add_pd(acc[r][0], acc[r][1]));
                float v = (float)(d + (bias ? (double)bias[j] : 0.0));
                y[(size_t)(i0 + r) * (size_t)N + (size_t)j] = relu ? (v > 0.0f ? v : 0.0f) : v;
            }
        }
    }
}
#else
static int direct_available(void) {
    return 0;
}
#endif

int wf_k_gemm_dot_applies(int M, int N, int K) {
    return direct_available() && M >= 1 && N >= 1 && N < 16 && K >= 1 && K <= WF_CD_GEMM_MAX_K;
}

int wf_k_gemm_direct_applies(int M, int N, int K) {
    return direct_available() && M >= 1 && N >= 16 && N % 16 == 0 && N <= WF_CD_GEMM_MAX_N &&
           K >= 1 && K <= WF_CD_GEMM_MAX_K;
}

int wf_k_gemm_direct(float *y, const float *x, const float *w, int trans_b, const float *bias,
                     int M, int N, int K, int relu, float *scratch) {
#ifdef WF_CD_AVX512
    if ((trans_b || N == 1) && wf_k_gemm_dot_applies(M, N, K)) { /* one column: (K, 1) is (1, K) */
        gemm_dot(y, x, w, bias, M, N, K, relu);
        return 1;
    }
#endif
    if (!wf_k_gemm_direct_applies(M, N, K))
        return 0;
#ifdef WF_CD_AVX512
    const float *wt = w;
    if (trans_b) { /* w (N, K) -> scratch (K, N) */
        wf_k_transpose(scratch, w, N, K);
        wt = scratch;
    }
    gemm_rows(y, x, wt, bias, M, N, K, relu);
    return 1;
#else
    (void)y, (void)x, (void)w, (void)trans_b, (void)bias, (void)relu, (void)scratch, (void)wt;
    return 0;
#endif
}

/* Padded line length of one input channel: the last output's last tap, plus one. */
static size_t line_len(const wf_k_conv_geom *g) {
    return (size_t)(g->out[0] - 1) * (size_t)g->stride[0] +
           (size_t)(g->k[0] - 1) * (size_t)g->dilation[0] + 1;
}

size_t wf_k_conv1d_direct_scratch_size(const wf_k_conv_geom *g) {
    size_t kc = (size_t)(g->cin / g->group) * (size_t)g->k[0];
    return kc * (size_t)g->cout + 16;
}

int wf_k_conv1d_direct_applies(const wf_k_conv_geom *g) {
    if (!direct_available() || g->ndim != 1 || g->group < 1)
        return 0;
    int cout_g = g->cout / g->group, cin_g = g->cin / g->group;
    return cout_g % 16 == 0 && (size_t)cin_g * line_len(g) <= WF_CD_LINE;
}

#ifdef WF_CD_AVX512
/* xp (cin_g, Lp) = window b's channels of group gi, zero outside [0, T). */
static void pad_window(float *xp, const float *in, const wf_k_conv_geom *g, int b, int gi,
                       size_t Lp) {
    int cin_g = g->cin / g->group, T = g->in[0], pL = g->pad_begin[0];
    for (int ci = 0; ci < cin_g; ci++) {
        const float *x = in + ((size_t)b * (size_t)g->cin + (size_t)(gi * cin_g + ci)) * (size_t)T;
        float *l = xp + (size_t)ci * Lp;
        size_t lo = (size_t)pL < Lp ? (size_t)pL : Lp; /* l[j] = x[j - pL] */
        size_t hi = (size_t)pL + (size_t)T < Lp ? (size_t)pL + (size_t)T : Lp;
        memset(l, 0, lo * sizeof(float));
        if (hi > lo)
            memcpy(l + lo, x, (hi - lo) * sizeof(float));
        if (Lp > hi)
            memset(l + hi, 0, (Lp - hi) * sizeof(float));
    }
}
#endif

int wf_k_conv1d_direct(float *out, const float *in, const float *weight, const float *bias,
                       const wf_k_conv_geom *g, float *scratch, int relu) {
    if (!wf_k_conv1d_direct_applies(g))
        return 0;
#ifdef WF_CD_AVX512
    int cin_g = g->cin / g->group, cout_g = g->cout / g->group, kW = g->k[0], OW = g->out[0];
    size_t kc = (size_t)cin_g * (size_t)kW, Lp = line_len(g);
    /* wt: per group (kc, cout_g), wt[(ci * kW + k) * cout_g + co] = weight[co, ci, k] */
    for (int gi = 0; gi < g->group; gi++)
        wf_k_transpose(scratch + (size_t)gi * kc * (size_t)cout_g,
                       weight + (size_t)gi * (size_t)cout_g * kc, cout_g, (int64_t)kc);
    float xp[WF_CD_LINE];
    for (int b = 0; b < g->n; b++) {
        for (int gi = 0; gi < g->group; gi++) {
            pad_window(xp, in, g, b, gi, Lp);
            window(out + ((size_t)b * (size_t)g->cout + (size_t)gi * (size_t)cout_g) * (size_t)OW,
                   xp, (int)Lp, g->stride[0], g->dilation[0],
                   scratch + (size_t)gi * kc * (size_t)cout_g, cout_g, cin_g, kW,
                   bias ? bias + (size_t)gi * (size_t)cout_g : NULL, relu, 0, OW);
        }
    }
    return 1;
#else
    (void)out, (void)in, (void)weight, (void)bias, (void)scratch, (void)relu;
    return 0;
#endif
}

/* The input gradient of a stride-1 convolution is a convolution of dout with the weights
 * flipped in time and transposed in channels:
 *   din[ci, j] += sum_{co, k'} W'[ci, co, k'] dout[co, j - pb' + k' d],  W'[ci, co, k'] =
 *   W[co, ci, kW-1-k'],  pb' = (kW-1) d - pL,
 * so the forward tile runs it with add = 1 (cout_g becomes the reduction, cin_g the vector
 * axis). g' is that convolution's geometry. */
static int backward_geom(wf_k_conv_geom *gb, const wf_k_conv_geom *g) {
    if (g->ndim != 1 || g->stride[0] != 1)
        return 0;
    int span = (g->k[0] - 1) * g->dilation[0];
    if (g->pad_begin[0] > span || g->pad_end[0] > span)
        return 0;
    memset(gb, 0, sizeof *gb);
    gb->n = g->n;
    gb->cin = g->cout;
    gb->cout = g->cin;
    gb->group = g->group;
    gb->ndim = 1;
    gb->in[0] = g->out[0];
    gb->k[0] = g->k[0];
    gb->pad_begin[0] = span - g->pad_begin[0];
    gb->pad_end[0] = span - g->pad_end[0];
    gb->stride[0] = 1;
    gb->dilation[0] = g->dilation[0];
    /* stride 1: out = in + pads - span, which gives back the forward's input length */
    gb->out[0] = gb->in[0] + gb->pad_begin[0] + gb->pad_end[0] - span;
    return gb->out[0] == g->in[0] && wf_k_conv1d_direct_applies(gb);
}

int wf_k_conv1d_direct_backward_applies(const wf_k_conv_geom *g) {
    wf_k_conv_geom gb;
    return backward_geom(&gb, g);
}

int wf_k_conv1d_direct_backward_input(float *din, const float *dout, const float *weight,
                                      const wf_k_conv_geom *g, float *scratch) {
    wf_k_conv_geom gb;
    if (!backward_geom(&gb, g))
        return 0;
#ifdef WF_CD_AVX512
    int cin_g = g->cin / g->group, cout_g = g->cout / g->group, kW = g->k[0], T = g->in[0];
    size_t kc = (size_t)cin_g * (size_t)kW, kcb = (size_t)cout_g * (size_t)kW;
    size_t Lp = line_len(&gb);
    /* wt: per group (cout_g * kW, cin_g), wt[(co * kW + k') * cin_g + ci] = W[co, ci, kW-1-k'] */
    for (int gi = 0; gi < g->group; gi++) {
        float *wg = scratch + (size_t)gi * kcb * (size_t)cin_g;
        for (int co = 0; co < cout_g; co++)
            for (int ci = 0; ci < cin_g; ci++)
                for (int k = 0; k < kW; k++)
                    wg[((size_t)co * (size_t)kW + (size_t)(kW - 1 - k)) * (size_t)cin_g +
                       (size_t)ci] = weight[((size_t)gi * (size_t)cout_g + (size_t)co) * kc +
                                            (size_t)ci * (size_t)kW + (size_t)k];
    }
    float xp[WF_CD_LINE];
    for (int b = 0; b < g->n; b++) {
        for (int gi = 0; gi < g->group; gi++) {
            pad_window(xp, dout, &gb, b, gi, Lp);
            window(din + ((size_t)b * (size_t)g->cin + (size_t)gi * (size_t)cin_g) * (size_t)T, xp,
                   (int)Lp, 1, gb.dilation[0], scratch + (size_t)gi * kcb * (size_t)cin_g, cin_g,
                   cout_g, kW, NULL, 0, 1, T);
        }
    }
    return 1;
#else
    (void)din, (void)dout, (void)weight, (void)scratch;
    return 0;
#endif
}
