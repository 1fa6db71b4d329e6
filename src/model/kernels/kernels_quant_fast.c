/*
 * QuantizeLinear and DequantizeLinear as loops a compiler vectorises (SSE2 baseline: no rintf
 * call, no type switch per element), bit-identical to the scalar references wf_k_quantize_ref and
 * wf_k_dequantize_ref in kernels_quant.c.
 *
 * Quantize, per element, with y = x / scale in float32 as the reference:
 *  - rounding half to even without rintf: for |y| < 2^23, (|y| + 2^23) - 2^23 lies in
 *    [2^23, 2^24) before the subtraction, where float32 spacing is exactly 1, so the addition
 *    rounds |y| to an integer under the default rounding mode (half to even), as rintf does; the
 *    subtraction is exact; the sign is put back (rint is odd). |y| >= 2^23 is already an integer
 *    (rintf(y) == y), as are the infinities.
 *  - saturation in float: r + zp is exact for |r| < 2^24 - 256; for larger |r| the float sum may
 *    round but keeps its sign and stays beyond [lo, hi], so it saturates as the reference's
 *    double sum does. The clamped value is an integer in [lo, hi], converted exactly.
 *  - NaN: every comparison is false; it is replaced by zp clamped to [lo, hi], as the reference.
 * Dequantize: (float)(x - zp) * scale with the difference in int32 (|x - zp| < 2^32 for int8
 * and uint8; int32 x uses int64 as the reference).
 */
#include <math.h>

#include "core/clones.h"
#include "model/kernels/kernels.h"

/* saturate(rint(y) + zp) for y = x / s, as a float holding an integer in [lo, hi]. */
static inline float quant_f(float x, float s, float zpf, float lo, float hi, float nanv) {
    float y = x / s;
    float a = fabsf(y);
    float r = a < 8388608.0f ? (a + 8388608.0f) - 8388608.0f : a;
    r = copysignf(r, y);
    float v = r + zpf;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return v == v ? v : nanv; /* NaN: zp, clamped */
}

#define WF_QUANT_CLONES WF_CLONES2("arch=x86-64-v4", "avx2")

WF_QUANT_CLONES
void wf_k_quantize(void *y, const float *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                   size_t inner) {
    int s8 = q->type == WF_K_QTYPE_S8;
    float lo = s8 ? -128.0f : 0.0f, hi = s8 ? 127.0f : 255.0f;
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++, e += inner) {
            float s = q->scale[q->per_axis ? a : 0];
            float zpf = (float)wf_k_qparam_zp(q, a);
            float nanv = zpf < lo ? lo : (zpf > hi ? hi : zpf);
            const float *xs = x + e;
            if (s8) {
                int8_t *ys = (int8_t *)y + e;
                for (size_t i = 0; i < inner; i++)
                    ys[i] = (int8_t)(int32_t)quant_f(xs[i], s, zpf, lo, hi, nanv);
            } else {
                uint8_t *ys = (uint8_t *)y + e;
                for (size_t i = 0; i < inner; i++)
                    ys[i] = (uint8_t)(int32_t)quant_f(xs[i], s, zpf, lo, hi, nanv);
            }
        }
    }
}

WF_QUANT_CLONES
void wf_k_dequantize(float *y, const void *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                     size_t inner) {
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++, e += inner) {
            float s = q->scale[q->per_axis ? a : 0];
            int32_t zp = wf_k_qparam_zp(q, a);
            float *ys = y + e;
            if (q->type == WF_K_QTYPE_S8) {
                const int8_t *xs = (const int8_t *)x + e;
                for (size_t i = 0; i < inner; i++)
                    ys[i] = (float)((int32_t)xs[i] - zp) * s;
            } else if (q->type == WF_K_QTYPE_U8) {
                const uint8_t *xs = (const uint8_t *)x + e;
                for (size_t i = 0; i < inner; i++)
                    ys[i] = (float)((int32_t)xs[i] - zp) * s;
            } else {
                const int32_t *xs = (const int32_t *)x + e;
                for (size_t i = 0; i < inner; i++)
                    ys[i] = (float)((int64_t)xs[i] - zp) * s;
            }
        }
    }
}

/* The straight-through mask: 1 where saturate(rint(x / s) + zp) did not clamp, i.e. the unclamped
 * value rint(y) + zp lies in [lo, hi] (as wf_k_qdq_mask's quant1): rint as quant_f; the float sum
 * is exact where it matters (|r| < 2^24 - 256) and otherwise stays beyond [lo, hi]; NaN fails
 * both comparisons (mask 0, as the reference). */
WF_QUANT_CLONES
void wf_k_qdq_mask_fast(uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                        size_t axis_len, size_t inner) {
    if (q->type != WF_K_QTYPE_S8 && q->type != WF_K_QTYPE_U8) {
        wf_k_qdq_mask(mask, x, q, outer, axis_len, inner);
        return;
    }
    int s8 = q->type == WF_K_QTYPE_S8;
    float lo = s8 ? -128.0f : 0.0f, hi = s8 ? 127.0f : 255.0f;
    size_t e = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t a = 0; a < axis_len; a++, e += inner) {
            float s = q->scale[q->per_axis ? a : 0];
            float zpf = (float)wf_k_qparam_zp(q, a);
            const float *xs = x + e;
            uint8_t *ms = mask + e;
            for (size_t i = 0; i < inner; i++) {
                float y = xs[i] / s;
                float ay = fabsf(y);
                float r = ay < 8388608.0f ? (ay + 8388608.0f) - 8388608.0f : ay;
                float v = copysignf(r, y) + zpf;
                ms[i] = (uint8_t)((v >= lo) & (v <= hi));
            }
        }
    }
}

/* y = DequantizeLinear(QuantizeLinear(Relu(x))) over n values, per tensor (q: the QuantizeLinear's
 * parameters, dq: the DequantizeLinear's, both S8 or both U8): in one pass the operations of
 * wf_k_relu_forward (x > 0 ? x : 0), wf_k_quantize (quant_f) and wf_k_dequantize in turn, so the
 * same floats (test_kernels_quant_fast.c). */
WF_QUANT_CLONES
void wf_k_relu_qdq(float *y, const float *x, const wf_k_qparam *q, const wf_k_qparam *dq,
                   size_t n) {
    int s8 = q->type == WF_K_QTYPE_S8;
    float lo = s8 ? -128.0f : 0.0f, hi = s8 ? 127.0f : 255.0f;
    float s = q->scale[0], ds = dq->scale[0];
    int32_t zp = wf_k_qparam_zp(q, 0), dzp = wf_k_qparam_zp(dq, 0);
    float zpf = (float)zp;
    float nanv = zpf < lo ? lo : (zpf > hi ? hi : zpf);
    for (size_t i = 0; i < n; i++) {
        float r = x[i] > 0.0f ? x[i] : 0.0f;
        int32_t v = (int32_t)quant_f(r, s, zpf, lo, hi, nanv);
        y[i] = (float)(v - dzp) * ds;
    }
}
