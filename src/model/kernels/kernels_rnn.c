/*
 * GRU/LSTM forward, structure-of-arrays over the batch (see kernels_rnn.h for the contract).
 *
 * Per block of L rows (lanes: WF_K_RNN_BLOCK, then 8 for the rest of the batch, the last block
 * padded with zero lanes that are computed and dropped, so every loop has a fixed trip count and
 * no epilogue) and per step:
 *   xT (I, L)   = the step's X rows, transposed
 *   a  (G H, L) = bias + W xT + R h            (GRU without linear_before_reset: z, r rows of R)
 *   gates       = elementwise over (H, L), in place in a
 *   Y[t]        = h, scattered back to the rows
 * Biases: Wb + Rb are added once where ONNX adds both to the pre-activation (every LSTM gate,
 * GRU z and r, and GRU h without linear_before_reset: tanh(W x + Wbh + Rh (r . h) + Rbh)); GRU
 * with linear_before_reset keeps Rbh inside r . (Rh h + Rbh).
 *
 * exp: x = n ln2 + r with n = round(x / ln2) (Cody-Waite split of ln2 so that n ln2_hi is exact),
 * e^r by its Taylor polynomial of degree 7 (|r| <= 0.347: truncation 5e-9 relative), times 2^n
 * built in the exponent bits. Written as plain loops that GCC vectorises (SSE2 baseline; an
 * AVX2 clone where the compiler supports target_clones); no operation is reordered across lanes,
 * so a lane's bits are the same in every clone (no FMA contraction: ISO C mode).
 */
#include <math.h>
#include <string.h>

#include "core/clones.h"
#include "model/kernels/kernels.h"
#include "model/kernels/kernels_rnn.h"

/* -DWF_RNN_NO_CLONES builds the baseline only (to test it on an AVX2 machine). */
#ifdef WF_RNN_NO_CLONES
#define WF_RNN_CLONES
#else
#define WF_RNN_CLONES WF_CLONES("avx2")
#endif
/* The helpers must be inlined into each clone to be compiled for its target. */
#if defined(__GNUC__)
#define WF_RNN_INLINE static inline __attribute__((always_inline))
#else
#define WF_RNN_INLINE static inline
#endif

/* e^x for x in [-87, 87] (clamped outside; NaN stays NaN). */
WF_RNN_INLINE float k_expf(float x) {
    float xc = x > -87.0f ? x : -87.0f; /* NaN -> -87, restored at the end */
    xc = xc < 87.0f ? xc : 87.0f;
    float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f; /* round(x / ln2), |n| <= 126 */
    float r = xc - n * 0.693359375f;                          /* exact: 9-bit ln2_hi */
    r = r + n * 2.12194440e-4f;                               /* ln2 = hi - 2.1219444e-4 */
    float p = 1.98412698e-4f;                                 /* 1/7! */
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n, n in [-126, 126]: normal */
    float s;
    memcpy(&s, &bits, sizeof s);
    float y = p * s;
    return x == x ? y : x;
}

WF_RNN_INLINE float k_sigmoid(float x) {
    return 1.0f / (1.0f + k_expf(-x));
}

/* tanh |x| = (1 - e) / (1 + e), e = exp(-2 |x|); |x| >= 9 gives 1 in float. */
WF_RNN_INLINE float k_tanh(float x) {
    float a = fabsf(x);
    a = a < 9.0f ? a : 9.0f;
    float e = k_expf(-2.0f * a);
    float t = copysignf((1.0f - e) / (1.0f + e), x);
    return x == x ? t : x;
}

WF_RNN_CLONES void wf_k_expf_vec(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = k_expf(x[i]);
}

WF_RNN_CLONES void wf_k_sigmoid_vec(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = k_sigmoid(x[i]);
}

WF_RNN_CLONES void wf_k_tanh_vec(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = k_tanh(x[i]);
}

size_t wf_k_rnn_ws_floats(int lstm, int64_t I, int64_t H) {
    int64_t GH = (lstm ? 4 : 3) * H;
    return (size_t)((I + GH + 3 * H) * WF_K_RNN_BLOCK + GH);
}

/* C (M, L) += A (M, K) Bt (K, L), k in order (per lane: the same sequence of float multiplies
 * and adds whatever the block). Eight-lane vectors written out (GCC vector extension; two SSE
 * registers each in the baseline clone): left to itself, GCC vectorises over k instead, with a
 * shuffle per product, 30x the instructions for K >= 8. */
#if defined(__GNUC__)
WF_RNN_INLINE void soa_gemm_acc(float *restrict C, const float *restrict A,
                                const float *restrict Bt, int64_t M, int64_t K, int L) {
    for (int64_t j = 0; j < M; j++) {
        const float *aj = A + j * K;
        float *cj = C + j * L;
        if (L % 32 == 0) {
            for (int q0 = 0; q0 < L; q0 += 32) {
                wf_v8 *cv = (wf_v8 *)(void *)(cj + q0);
                wf_v8 c0 = cv[0], c1 = cv[1], c2 = cv[2], c3 = cv[3];
                for (int64_t k = 0; k < K; k++) {
                    float a = aj[k];
                    wf_v8 w = {a, a, a, a, a, a, a, a};
                    const wf_v8 *b = (const wf_v8 *)(const void *)(Bt + k * L + q0);
                    c0 += w * b[0];
                    c1 += w * b[1];
                    c2 += w * b[2];
                    c3 += w * b[3];
                }
                cv[0] = c0;
                cv[1] = c1;
                cv[2] = c2;
                cv[3] = c3;
            }
        } else { /* L a multiple of 8 */
            for (int q0 = 0; q0 < L; q0 += 8) {
                wf_v8 *cv = (wf_v8 *)(void *)(cj + q0);
                wf_v8 c0 = cv[0];
                for (int64_t k = 0; k < K; k++) {
                    float a = aj[k];
                    wf_v8 w = {a, a, a, a, a, a, a, a};
                    c0 += w * *(const wf_v8 *)(const void *)(Bt + k * L + q0);
                }
                cv[0] = c0;
            }
        }
    }
}
#else
WF_RNN_INLINE void soa_gemm_acc(float *restrict C, const float *restrict A,
                                const float *restrict Bt, int64_t M, int64_t K, int L) {
    for (int64_t j = 0; j < M; j++)
        for (int64_t k = 0; k < K; k++)
            for (int q = 0; q < L; q++)
                C[j * L + q] += A[j * K + k] * Bt[k * L + q];
}
#endif

/* C (M, L) = bias[j] in every lane (0 without bias). */
WF_RNN_INLINE void soa_fill(float *restrict C, const float *restrict bias, int64_t M, int L) {
    for (int64_t j = 0; j < M; j++) {
        float v = bias ? bias[j] : 0.0f;
        for (int q = 0; q < L; q++)
            C[j * L + q] = v;
    }
}

/* LSTM cell over (H, L): a holds the pre-activations of i, o, f, c (rows of H each). */
WF_RNN_INLINE void lstm_cell(const float *restrict a, float *restrict h, float *restrict c,
                             int64_t H, int L) {
    for (int64_t j = 0; j < H; j++) {
        const float *ai = a + j * L, *ao = a + (H + j) * L, *af = a + (2 * H + j) * L,
                    *ag = a + (3 * H + j) * L;
        float *hj = h + j * L, *cj = c + j * L;
        for (int q = 0; q < L; q++) {
            float ig = k_sigmoid(ai[q]), og = k_sigmoid(ao[q]), fg = k_sigmoid(af[q]);
            float cn = fg * cj[q] + ig * k_tanh(ag[q]);
            cj[q] = cn;
            hj[q] = og * k_tanh(cn);
        }
    }
}

/* GRU gates z, r in place over (2H, L); u = r . h (without linear_before_reset). */
WF_RNN_INLINE void gru_zr(float *restrict a, const float *restrict h, float *restrict u, int lbr,
                          int64_t H, int L) {
    for (int64_t j = 0; j < 2 * H; j++)
        for (int q = 0; q < L; q++)
            a[j * L + q] = k_sigmoid(a[j * L + q]);
    if (!lbr)
        for (int64_t j = 0; j < H; j++)
            for (int q = 0; q < L; q++)
                u[j * L + q] = a[(H + j) * L + q] * h[j * L + q];
}

/* GRU update: ht = tanh(a_h) (a_h already holds Rh (r . h)) or tanh(a_h + r . u) with
 * u = Rh h + Rbh (linear_before_reset); h = (1 - z) ht + z h. */
WF_RNN_INLINE void gru_update(const float *restrict a, const float *restrict u, float *restrict h,
                              int lbr, int64_t H, int L) {
    for (int64_t j = 0; j < H; j++) {
        const float *z = a + j * L, *r = a + (H + j) * L, *ah = a + (2 * H + j) * L;
        const float *uj = u + j * L;
        float *hj = h + j * L;
        if (lbr)
            for (int q = 0; q < L; q++) {
                float ht = k_tanh(ah[q] + r[q] * uj[q]);
                hj[q] = (1.0f - z[q]) * ht + z[q] * hj[q];
            }
        else
            for (int q = 0; q < L; q++) {
                float ht = k_tanh(ah[q]);
                hj[q] = (1.0f - z[q]) * ht + z[q] * hj[q];
            }
    }
}

/* One block of nb <= L rows starting at row b0, L lanes (a constant in each caller). */
WF_RNN_INLINE void rnn_block(const wf_k_rnn *p, int64_t b0, int64_t nb, float *ws, int L) {
    int64_t T = p->T, I = p->I, H = p->H, GH = (p->lstm ? 4 : 3) * H;
    float *xT = ws, *a = xT + I * L, *h = a + GH * L, *c = h + H * L, *u = c + H * L,
          *bias = u + H * L;
    int lbr = !p->lstm && p->lbr;
    memset(xT, 0, (size_t)(I * L) * sizeof *xT);
    memset(h, 0, (size_t)(3 * H * L) * sizeof *h);
    for (int64_t q = 0; q < nb; q++)
        for (int64_t k = 0; k < H; k++) {
            if (p->h0)
                h[k * L + q] = p->h0[(b0 + q) * p->s_b + k];
            if (p->lstm && p->c0)
                c[k * L + q] = p->c0[(b0 + q) * p->s_b + k];
        }
    for (int64_t j = 0; j < GH; j++) {
        float wb = p->Wb ? p->Wb[j] : 0.0f, rb = p->Rb ? p->Rb[j] : 0.0f;
        bias[j] = lbr && j >= 2 * H ? wb : wb + rb;
    }
    for (int64_t s = 0; s < T; s++) {
        int64_t t = p->reverse ? T - 1 - s : s;
        const float *xr = p->X + t * p->x_t + b0 * p->x_b;
        for (int64_t q = 0; q < nb; q++)
            for (int64_t k = 0; k < I; k++)
                xT[k * L + q] = xr[q * p->x_b + k];
        soa_fill(a, bias, GH, L);
        soa_gemm_acc(a, p->W, xT, GH, I, L);
        if (p->lstm) {
            soa_gemm_acc(a, p->R, h, GH, H, L);
            lstm_cell(a, h, c, H, L);
        } else {
            soa_gemm_acc(a, p->R, h, 2 * H, H, L);
            if (lbr) {
                soa_fill(u, p->Rb ? p->Rb + 2 * H : NULL, H, L);
                soa_gemm_acc(u, p->R + 2 * H * H, h, H, H, L);
            }
            gru_zr(a, h, u, lbr, H, L);
            if (!lbr)
                soa_gemm_acc(a + 2 * H * L, p->R + 2 * H * H, u, H, H, L);
            gru_update(a, u, h, lbr, H, L);
        }
        if (p->Y) {
            float *y = p->Y + t * p->y_t + b0 * p->y_b;
            for (int64_t q = 0; q < nb; q++)
                for (int64_t k = 0; k < H; k++)
                    y[q * p->y_b + k] = h[k * L + q];
        }
    }
    for (int64_t q = 0; q < nb; q++)
        for (int64_t k = 0; k < H; k++) {
            if (p->Yh)
                p->Yh[(b0 + q) * p->s_b + k] = h[k * L + q];
            if (p->lstm && p->Yc)
                p->Yc[(b0 + q) * p->s_b + k] = c[k * L + q];
        }
}

/* The block widths, each compiled for the baseline and AVX2 (GCC does not inline the clones'
 * bodies otherwise). */
WF_RNN_CLONES static void rnn_block_wide(const wf_k_rnn *p, int64_t b0, int64_t nb, float *ws) {
    rnn_block(p, b0, nb, ws, WF_K_RNN_BLOCK);
}

WF_RNN_CLONES static void rnn_block_narrow(const wf_k_rnn *p, int64_t b0, int64_t nb, float *ws) {
    rnn_block(p, b0, nb, ws, 8);
}

/* Full blocks of WF_K_RNN_BLOCK lanes, the rest in blocks of 8 (a single window pays for 8 lanes,
 * not 64). A lane's arithmetic does not depend on the block width. */
void wf_k_rnn_forward(const wf_k_rnn *p, float *ws) {
    int64_t b0 = 0;
    for (; p->B - b0 >= WF_K_RNN_BLOCK; b0 += WF_K_RNN_BLOCK)
        rnn_block_wide(p, b0, WF_K_RNN_BLOCK, ws);
    for (; b0 < p->B; b0 += 8)
        rnn_block_narrow(p, b0, p->B - b0 < 8 ? p->B - b0 : 8, ws);
}

/* ---- backward (BPTT), same blocks ---- */

size_t wf_k_rnn_bwd_ws_floats(int lstm, int64_t T, int64_t I, int64_t H) {
    int64_t GH = (lstm ? 4 : 3) * H, nst = lstm ? 7 : 5;
    return (size_t)((T * nst * H + 2 * I + 2 * GH + 7 * H) * WF_K_RNN_BLOCK + GH + I * GH + H * GH);
}

/* Stored per step s (rows of L lanes): LSTM hp, cp, i, o, f, g, tanh(c); GRU hp, z, r, ht, u
 * (u = Rh h + Rbh with linear_before_reset, else r . hp). */
WF_RNN_INLINE void rnn_block_bwd(const wf_k_rnn *p, const wf_k_rnn_grad *g, int64_t b0, int64_t nb,
                                 float *ws, const float *bias, const float *WT, const float *RT,
                                 int L) {
    int64_t T = p->T, I = p->I, H = p->H, GH = (p->lstm ? 4 : 3) * H, nst = p->lstm ? 7 : 5;
    int lbr = !p->lstm && p->lbr;
    float *store = ws, *xT = store + T * nst * H * L, *a = xT + I * L, *h = a + GH * L,
          *c = h + H * L, *da = c + H * L, *dh = da + GH * L, *dc = dh + H * L, *dhp = dc + H * L,
          *tmp = dhp + H * L, *dxT = tmp + H * L;
    memset(xT, 0, (size_t)(I * L) * sizeof *xT);
    memset(h, 0, (size_t)(2 * H * L) * sizeof *h);
    for (int64_t q = 0; q < nb; q++)
        for (int64_t k = 0; k < H; k++) {
            if (p->h0)
                h[k * L + q] = p->h0[(b0 + q) * p->s_b + k];
            if (p->lstm && p->c0)
                c[k * L + q] = p->c0[(b0 + q) * p->s_b + k];
        }
    /* forward, storing */
    for (int64_t s = 0; s < T; s++) {
        int64_t t = p->reverse ? T - 1 - s : s;
        float *st = store + s * nst * H * L;
        const float *xr = p->X + t * p->x_t + b0 * p->x_b;
        for (int64_t q = 0; q < nb; q++)
            for (int64_t k = 0; k < I; k++)
                xT[k * L + q] = xr[q * p->x_b + k];
        memcpy(st, h, (size_t)(H * L) * sizeof *h);
        soa_fill(a, bias, GH, L);
        soa_gemm_acc(a, p->W, xT, GH, I, L);
        if (p->lstm) {
            memcpy(st + H * L, c, (size_t)(H * L) * sizeof *c);
            soa_gemm_acc(a, p->R, h, GH, H, L);
            float *gi = st + 2 * H * L, *tc = st + 6 * H * L;
            for (int64_t j = 0; j < 4 * H; j++)
                for (int q = 0; q < L; q++) {
                    float v = a[j * L + q];
                    gi[j * L + q] = j < 3 * H ? k_sigmoid(v) : k_tanh(v);
                }
            for (int64_t j = 0; j < H; j++)
                for (int q = 0; q < L; q++) {
                    float ig = gi[j * L + q], og = gi[(H + j) * L + q],
                          fg = gi[(2 * H + j) * L + q], gg = gi[(3 * H + j) * L + q];
                    float cn = fg * c[j * L + q] + ig * gg;
                    float tcn = k_tanh(cn);
                    c[j * L + q] = cn;
                    tc[j * L + q] = tcn;
                    h[j * L + q] = og * tcn;
                }
        } else {
            float *z = st + H * L, *r = st + 2 * H * L, *ht = st + 3 * H * L, *u = st + 4 * H * L;
            soa_gemm_acc(a, p->R, h, 2 * H, H, L);
            if (lbr) {
                soa_fill(u, p->Rb ? p->Rb + 2 * H : NULL, H, L);
                soa_gemm_acc(u, p->R + 2 * H * H, h, H, H, L);
            }
            gru_zr(a, h, u, lbr, H, L);
            memcpy(z, a, (size_t)(2 * H * L) * sizeof *a); /* z, r */
            if (!lbr)
                soa_gemm_acc(a + 2 * H * L, p->R + 2 * H * H, u, H, H, L);
            for (int64_t j = 0; j < H; j++)
                for (int q = 0; q < L; q++) {
                    float pre = a[(2 * H + j) * L + q];
                    if (lbr)
                        pre += r[j * L + q] * u[j * L + q];
                    float hv = k_tanh(pre), zv = z[j * L + q];
                    ht[j * L + q] = hv;
                    h[j * L + q] = (1.0f - zv) * hv + zv * h[j * L + q];
                }
        }
    }
    /* backward */
    memset(dh, 0, (size_t)(2 * H * L) * sizeof *dh);
    for (int64_t q = 0; q < nb; q++)
        for (int64_t k = 0; k < H; k++) {
            if (g->dYh)
                dh[k * L + q] = g->dYh[(b0 + q) * p->s_b + k];
            if (p->lstm && g->dYc)
                dc[k * L + q] = g->dYc[(b0 + q) * p->s_b + k];
        }
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = p->reverse ? T - 1 - s : s;
        const float *st = store + s * nst * H * L, *hp = st;
        if (g->dY) {
            const float *gy = g->dY + t * p->y_t + b0 * p->y_b;
            for (int64_t q = 0; q < nb; q++)
                for (int64_t k = 0; k < H; k++)
                    dh[k * L + q] += gy[q * p->y_b + k];
        }
        if (p->lstm) {
            const float *cp = st + H * L, *gi = st + 2 * H * L, *tc = st + 6 * H * L;
            for (int64_t j = 0; j < H; j++)
                for (int q = 0; q < L; q++) {
                    int64_t e = j * L + q;
                    float ig = gi[e], og = gi[H * L + e], fg = gi[2 * H * L + e],
                          gg = gi[3 * H * L + e], tcn = tc[e], dhv = dh[e];
                    float dcj = dc[e] + dhv * og * (1.0f - tcn * tcn);
                    da[e] = dcj * gg * ig * (1.0f - ig);
                    da[H * L + e] = dhv * tcn * og * (1.0f - og);
                    da[2 * H * L + e] = dcj * cp[e] * fg * (1.0f - fg);
                    da[3 * H * L + e] = dcj * ig * (1.0f - gg * gg);
                    dc[e] = dcj * fg;
                }
            soa_fill(dhp, NULL, H, L);
            soa_gemm_acc(dhp, RT, da, H, GH, L); /* R^T da */
        } else {
            const float *z = st + H * L, *r = st + 2 * H * L, *ht = st + 3 * H * L,
                        *u = st + 4 * H * L;
            for (int64_t j = 0; j < H; j++)
                for (int q = 0; q < L; q++) {
                    int64_t e = j * L + q;
                    float dhv = dh[e], zv = z[e], hv = ht[e];
                    float dah = dhv * (1.0f - zv) * (1.0f - hv * hv);
                    da[e] = dhv * (hp[e] - hv) * zv * (1.0f - zv);
                    da[2 * H * L + e] = dah;
                    dhp[e] = dhv * zv;
                    if (lbr) { /* dr = dah . u; du = dah . r */
                        float rv = r[e];
                        da[H * L + e] = dah * u[e] * rv * (1.0f - rv);
                        tmp[e] = dah * rv;
                    }
                }
            const float *RzrT = RT, *RhT = RT + 2 * H * H; /* (H, 2H), (H, H) */
            if (lbr) {
                soa_gemm_acc(dhp, RhT, tmp, H, H, L); /* Rh^T du */
            } else {
                soa_fill(tmp, NULL, H, L);
                soa_gemm_acc(tmp, RhT, da + 2 * H * L, H, H, L); /* d(r . hp) */
                for (int64_t j = 0; j < H; j++)
                    for (int q = 0; q < L; q++) {
                        int64_t e = j * L + q;
                        float rv = r[e];
                        da[H * L + e] = tmp[e] * hp[e] * rv * (1.0f - rv);
                        dhp[e] += tmp[e] * rv;
                    }
            }
            soa_gemm_acc(dhp, RzrT, da, H, 2 * H, L);
        }
        if (g->dX) {
            soa_fill(dxT, NULL, I, L);
            soa_gemm_acc(dxT, WT, da, I, GH, L); /* W^T da */
            float *gx = g->dX + t * p->x_t + b0 * p->x_b;
            for (int64_t q = 0; q < nb; q++)
                for (int64_t k = 0; k < I; k++)
                    gx[q * p->x_b + k] += dxT[k * L + q];
        }
        memcpy(dh, dhp, (size_t)(H * L) * sizeof *dh);
    }
    for (int64_t q = 0; q < nb; q++)
        for (int64_t k = 0; k < H; k++) {
            if (g->dh0)
                g->dh0[(b0 + q) * p->s_b + k] += dh[k * L + q];
            if (p->lstm && g->dc0)
                g->dc0[(b0 + q) * p->s_b + k] += dc[k * L + q];
        }
}

WF_RNN_CLONES static void rnn_block_bwd_wide(const wf_k_rnn *p, const wf_k_rnn_grad *g, int64_t b0,
                                             int64_t nb, float *ws, const float *bias,
                                             const float *WT, const float *RT) {
    rnn_block_bwd(p, g, b0, nb, ws, bias, WT, RT, WF_K_RNN_BLOCK);
}

WF_RNN_CLONES static void rnn_block_bwd_narrow(const wf_k_rnn *p, const wf_k_rnn_grad *g,
                                               int64_t b0, int64_t nb, float *ws, const float *bias,
                                               const float *WT, const float *RT) {
    rnn_block_bwd(p, g, b0, nb, ws, bias, WT, RT, 8);
}

void wf_k_rnn_backward(const wf_k_rnn *p, const wf_k_rnn_grad *g, float *ws) {
    int64_t T = p->T, I = p->I, H = p->H, GH = (p->lstm ? 4 : 3) * H, nst = p->lstm ? 7 : 5;
    float *blk = ws, *bias = blk + (T * nst * H + 2 * I + 2 * GH + 7 * H) * WF_K_RNN_BLOCK,
          *WT = bias + GH, *RT = WT + I * GH;
    int lbr = !p->lstm && p->lbr;
    for (int64_t j = 0; j < GH; j++) {
        float wb = p->Wb ? p->Wb[j] : 0.0f, rb = p->Rb ? p->Rb[j] : 0.0f;
        bias[j] = lbr && j >= 2 * H ? wb : wb + rb;
    }
    wf_k_transpose(WT, p->W, GH, I); /* (I, G H) */
    if (p->lstm) {
        wf_k_transpose(RT, p->R, GH, H); /* (H, 4H) */
    } else {
        wf_k_transpose(RT, p->R, 2 * H, H);                     /* Rzr^T (H, 2H) */
        wf_k_transpose(RT + 2 * H * H, p->R + 2 * H * H, H, H); /* Rh^T (H, H) */
    }
    int64_t b0 = 0;
    for (; p->B - b0 >= WF_K_RNN_BLOCK; b0 += WF_K_RNN_BLOCK)
        rnn_block_bwd_wide(p, g, b0, WF_K_RNN_BLOCK, blk, bias, WT, RT);
    for (; b0 < p->B; b0 += 8)
        rnn_block_bwd_narrow(p, g, b0, p->B - b0 < 8 ? p->B - b0 : 8, blk, bias, WT, RT);
}
