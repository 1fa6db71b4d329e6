/*
 * Quantization kernels: QuantizeLinear, DequantizeLinear, the float QDQ pair with its
 * straight-through-estimator mask, MatMulInteger, the integer GEMM of the QDQ path, QLinearMatMul
 * and QLinearConv.
 *
 * Arithmetic follows the ONNX reference implementation (onnx/reference/ops/op_quantize_linear.py,
 * op_dequantize_linear.py, op_qlinear_matmul.py, op_qlinear_conv.py, ONNX 1.22):
 *  - QuantizeLinear: x / scale in float32, np.rint (round half to even), + zp in int32, clip.
 *  - DequantizeLinear: (x - zp) * scale. The reference computes float32(x) - zp, then * scale,
 *    with one final rounding to float32; for |x - zp| < 2^24 (every int8/uint8 case, and int32
 *    biases in practice) that equals float32(x - zp) * scale in float32, which ONNX Runtime
 *    computes and which we compute (the integer difference in int64, so it cannot overflow).
 *  - QLinearMatMul / QLinearConv: the multiplier a_scale * b_scale / y_scale is formed in float32
 *    (numpy float32 scalars), then the int32 accumulator times the multiplier is computed in
 *    float64 (numpy promotes int32 * float32 to float64), y_zp is added in float64, then rint and
 *    clip. Note the rounding happens AFTER adding y_zp, as the reference does; ONNX Runtime's MLAS
 *    rounds a float32 product before adding the zero point, which can differ by one on exact ties.
 */
#include <math.h>

#include "model/kernels/kernels.h"
#include "model/kernels/qelem.h"

static int qmin_of(wf_k_qtype t) {
    return t == WF_K_QTYPE_S8 ? -128 : 0;
}

static int qmax_of(wf_k_qtype t) {
    return t == WF_K_QTYPE_S8 ? 127 : 255;
}

/* Element i of an integer tensor of type t. */
static int32_t qget(const void *p, wf_k_qtype t, size_t i) {
    switch (t) {
    case WF_K_QTYPE_S8:
        return ((const int8_t *)p)[i];
    case WF_K_QTYPE_S32:
        return ((const int32_t *)p)[i];
    case WF_K_QTYPE_U8:
    default:
        return ((const uint8_t *)p)[i];
    }
}

static void qset(void *p, wf_k_qtype t, size_t i, int32_t v) {
    if (t == WF_K_QTYPE_S8) {
        ((int8_t *)p)[i] = (int8_t)v;
    } else {
        ((uint8_t *)p)[i] = (uint8_t)v;
    }
}

static float scale_at(const wf_k_qparam *q, size_t k) {
    return q->scale[q->per_axis ? k : 0];
}

/* saturate(rint(x / scale) + zp). *inside = 0 when the unclamped value is outside [lo, hi]. */
static int32_t quant1(float x, float scale, int32_t zp, int lo, int hi, int *inside) {
    float r = rintf(x / scale); /* float32 division as ONNX; default rounding: half to even */
    if (isnan(r)) {
        *inside = 0;
        return zp < lo ? lo : (zp > hi ? hi : zp);
    }
    double v = (double)r + (double)zp; /* exact for |r| < 2^53; infinities stay infinite */
    if (v < lo) {
        *inside = 0;
        return lo;
    }
    if (v > hi) {
        *inside = 0;
        return hi;
    }
    *inside = 1;
    return (int32_t)v;
}

void wf_k_quantize_ref(void *y, const float *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                       size_t inner) {
    int lo = qmin_of(q->type);
    int hi = qmax_of(q->type);
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++) {
            float s = scale_at(q, a);
            int32_t zp = wf_k_qparam_zp(q, a);
            for (size_t i = 0; i < inner; i++, e++) {
                int inside;
                qset(y, q->type, e, quant1(x[e], s, zp, lo, hi, &inside));
            }
        }
    }
}

void wf_k_dequantize_ref(float *y, const void *x, const wf_k_qparam *q, size_t outer,
                         size_t axis_len, size_t inner) {
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++) {
            float s = scale_at(q, a);
            int64_t zp = wf_k_qparam_zp(q, a);
            for (size_t i = 0; i < inner; i++, e++) {
                y[e] = (float)((int64_t)qget(x, q->type, e) - zp) * s;
            }
        }
    }
}

void wf_k_qdq_forward(float *y, uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                      size_t axis_len, size_t inner) {
    int lo = qmin_of(q->type);
    int hi = qmax_of(q->type);
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++) {
            float s = scale_at(q, a);
            int32_t zp = wf_k_qparam_zp(q, a);
            for (size_t i = 0; i < inner; i++, e++) {
                int inside;
                int32_t v = quant1(x[e], s, zp, lo, hi, &inside);
                y[e] = (float)(v - zp) * s;
                if (mask != NULL) {
                    mask[e] = (uint8_t)inside;
                }
            }
        }
    }
}

void wf_k_qdq_mask(uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                   size_t axis_len, size_t inner) {
    int lo = qmin_of(q->type);
    int hi = qmax_of(q->type);
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++) {
            float s = scale_at(q, a);
            int32_t zp = wf_k_qparam_zp(q, a);
            for (size_t i = 0; i < inner; i++, e++) {
                int inside;
                (void)quant1(x[e], s, zp, lo, hi, &inside);
                mask[e] = (uint8_t)inside;
            }
        }
    }
}

void wf_k_ste_backward(float *din, const float *dout, const uint8_t *mask, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (mask[i]) {
            din[i] += dout[i];
        }
    }
}

void wf_k_matmul_integer(int32_t *y, const void *a, wf_k_qtype a_type, const void *a_zp,
                         int a_zp_per_row, const void *b, wf_k_qtype b_type, const void *b_zp,
                         int b_zp_per_col, int M, int N, int K) {
    for (int i = 0; i < M; i++) {
        int32_t za = a_zp != NULL ? qget(a_zp, a_type, a_zp_per_row ? (size_t)i : 0) : 0;
        for (int j = 0; j < N; j++) {
            int32_t zb = b_zp != NULL ? qget(b_zp, b_type, b_zp_per_col ? (size_t)j : 0) : 0;
            int32_t acc = 0;
            for (int p = 0; p < K; p++) {
                int32_t va = qget(a, a_type, (size_t)i * (size_t)K + (size_t)p) - za;
                int32_t vb = qget(b, b_type, (size_t)p * (size_t)N + (size_t)j) - zb;
                acc += va * vb;
            }
            y[(size_t)i * (size_t)N + (size_t)j] = acc;
        }
    }
}

size_t wf_k_qgemm_scratch_size(int M, int N, int K) {
    return (size_t)M * (size_t)K + (size_t)K * (size_t)N + (size_t)M * (size_t)N;
}

void wf_k_qgemm_s32(int32_t *acc, const void *a, wf_k_qtype a_type, const void *a_zp, const void *b,
                    wf_k_qtype b_type, const void *b_zp, int b_zp_per_col, int M, int N, int K,
                    int transB, float *scratch) {
    size_t nA = (size_t)M * (size_t)K, nB = (size_t)K * (size_t)N, nC = (size_t)M * (size_t)N;
    float *fa = scratch, *fb = scratch + nA, *fc = scratch + nA + nB;
    int32_t za = a_zp != NULL ? qget(a_zp, a_type, 0) : 0;
    int32_t amax = 0, bmax = 0;
    for (size_t i = 0; i < nA; i++) {
        int32_t v = qget(a, a_type, i) - za;
        amax = v > amax ? v : (-v > amax ? -v : amax);
        fa[i] = (float)v;
    }
    /* b element e sits in column (transB ? e / K : e % N) */
    for (size_t e = 0; e < nB; e++) {
        size_t col = transB ? e / (size_t)K : e % (size_t)N;
        int32_t zb = b_zp != NULL ? qget(b_zp, b_type, b_zp_per_col ? col : 0) : 0;
        int32_t v = qget(b, b_type, e) - zb;
        bmax = v > bmax ? v : (-v > bmax ? -v : bmax);
        fb[e] = (float)v;
    }
    if ((double)K * (double)amax * (double)bmax < 16777216.0) {
        wf_k_gemm(fc, fa, fb, M, N, K, 0, transB, 1.0f, 0.0f);
        for (size_t i = 0; i < nC; i++) {
            acc[i] = (int32_t)fc[i];
        }
        return;
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            int32_t s = 0;
            for (int p = 0; p < K; p++) {
                size_t be =
                    transB ? (size_t)j * (size_t)K + (size_t)p : (size_t)p * (size_t)N + (size_t)j;
                s += (int32_t)fa[(size_t)i * (size_t)K + (size_t)p] * (int32_t)fb[be];
            }
            acc[(size_t)i * (size_t)N + (size_t)j] = s;
        }
    }
}

void wf_k_qgemm_dequant(float *y, const int32_t *acc, float a_scale, const float *b_scale,
                        int b_per_col, const float *bias, int M, int N) {
    for (int j = 0; j < N; j++) {
        float m = a_scale * b_scale[b_per_col ? j : 0];
        float bj = bias != NULL ? bias[j] : 0.0f;
        for (int i = 0; i < M; i++) {
            size_t e = (size_t)i * (size_t)N + (size_t)j;
            y[e] = (float)acc[e] * m + bj;
        }
    }
}

/* ONNX Runtime's requantization (wf_requant_elem, qelem.h): float32, round, then + y_zp. Not
 * ONNX's numpy reference, which multiplies in double and adds y_zp first: the two differ on
 * rounding ties (tests/data/int8ms qtail_u8_n64, qlmm_tie_order, qconv_tie_*, against ONNX
 * Runtime 1.30); ONNX's conformance tests hold for both. */
static int32_t requant(int32_t acc, float mult, int32_t yzp, int lo, int hi) {
    return wf_requant_elem((float)acc, mult, (float)(lo - yzp), (float)(hi - yzp), yzp);
}

/* a_scale * b_scale / y_scale in float32, in that order (numpy float32 scalar arithmetic). */
static float multiplier(float sa, float sb, float sy) {
    float p = sa * sb; /* rounded to float32 (C11, FLT_EVAL_METHOD 0 on x86-64; no contraction) */
    return p / sy;
}

void wf_k_qlinear_matmul(void *y, const void *a, const void *b, const wf_k_qparam *aq,
                         const wf_k_qparam *bq, const wf_k_qparam *yq, int M, int N, int K) {
    int lo = qmin_of(yq->type);
    int hi = qmax_of(yq->type);
    float sy = yq->scale[0];
    int32_t zy = wf_k_qparam_zp(yq, 0);
    for (int i = 0; i < M; i++) {
        int32_t za = wf_k_qparam_zp(aq, (size_t)i);
        float sa = scale_at(aq, (size_t)i);
        for (int j = 0; j < N; j++) {
            int32_t zb = wf_k_qparam_zp(bq, (size_t)j);
            int32_t acc = 0;
            for (int p = 0; p < K; p++) {
                int32_t va = qget(a, aq->type, (size_t)i * (size_t)K + (size_t)p) - za;
                int32_t vb = qget(b, bq->type, (size_t)p * (size_t)N + (size_t)j) - zb;
                acc += va * vb;
            }
            float m = multiplier(sa, scale_at(bq, (size_t)j), sy);
            qset(y, yq->type, (size_t)i * (size_t)N + (size_t)j, requant(acc, m, zy, lo, hi));
        }
    }
}

void wf_k_qlinear_conv(void *y, const void *x, const void *w, const int32_t *bias,
                       const wf_k_qparam *xq, const wf_k_qparam *wq, const wf_k_qparam *yq,
                       const wf_k_conv_geom *g) {
    int one = g->ndim == 1;
    int H = one ? 1 : g->in[0], W = g->in[one ? 0 : 1];
    int kH = one ? 1 : g->k[0], kW = g->k[one ? 0 : 1];
    int pT = one ? 0 : g->pad_begin[0], pL = g->pad_begin[one ? 0 : 1];
    int sH = one ? 1 : g->stride[0], sW = g->stride[one ? 0 : 1];
    int dH = one ? 1 : g->dilation[0], dW = g->dilation[one ? 0 : 1];
    int OH = one ? 1 : g->out[0], OW = g->out[one ? 0 : 1];
    int cin_g = g->cin / g->group;
    int cout_g = g->cout / g->group;
    int lo = qmin_of(yq->type);
    int hi = qmax_of(yq->type);
    int32_t zx = wf_k_qparam_zp(xq, 0);
    int32_t zy = wf_k_qparam_zp(yq, 0);
    float sx = xq->scale[0];
    float sy = yq->scale[0];
    for (int b = 0; b < g->n; b++) {
        for (int co = 0; co < g->cout; co++) {
            int gi = co / cout_g;
            int32_t zw = wf_k_qparam_zp(wq, (size_t)co);
            float m = multiplier(sx, scale_at(wq, (size_t)co), sy);
            for (int oh = 0; oh < OH; oh++) {
                for (int ow = 0; ow < OW; ow++) {
                    int32_t acc = bias != NULL ? bias[co] : 0;
                    for (int ci = 0; ci < cin_g; ci++) {
                        size_t xplane = ((size_t)b * (size_t)g->cin + (size_t)(gi * cin_g + ci)) *
                                        (size_t)H * (size_t)W;
                        size_t wbase =
                            ((size_t)co * (size_t)cin_g + (size_t)ci) * (size_t)kH * (size_t)kW;
                        for (int kh = 0; kh < kH; kh++) {
                            int ih = oh * sH - pT + kh * dH;
                            if (ih < 0 || ih >= H) {
                                continue; /* padding holds x_zp: contributes 0 */
                            }
                            for (int kw = 0; kw < kW; kw++) {
                                int iw = ow * sW - pL + kw * dW;
                                if (iw < 0 || iw >= W) {
                                    continue;
                                }
                                int32_t vx = qget(x, xq->type,
                                                  xplane + (size_t)ih * (size_t)W + (size_t)iw) -
                                             zx;
                                int32_t vw = qget(w, wq->type,
                                                  wbase + (size_t)kh * (size_t)kW + (size_t)kw) -
                                             zw;
                                acc += vx * vw;
                            }
                        }
                    }
                    size_t o =
                        (((size_t)b * (size_t)g->cout + (size_t)co) * (size_t)OH + (size_t)oh) *
                            (size_t)OW +
                        (size_t)ow;
                    qset(y, yq->type, o, requant(acc, m, zy, lo, hi));
                }
            }
        }
    }
}
