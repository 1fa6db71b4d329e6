/*
 * The element arithmetic of ONNX Runtime's requantization (QGemm, QLinearMatMul, QLinearConv)
 * and of QLinearAdd, shared by those ops (ops_quant.c, ops_qlinear_ms.c), QLinearConv's kernel
 * (kernels_quant.c) and the fused QOperator tail (ops_qtail.c), so every path writes the same
 * bytes by construction.
 */
#ifndef WF_KERNELS_QELEM_H
#define WF_KERNELS_QELEM_H

#include <math.h>
#include <stdint.h>

/* ONNX Runtime's requantization of an int32 sum (MlasRequantizeOutput, x86-64; QGemm,
 * QLinearMatMul, QLinearConv): f = a m in float32 (a = float(acc), which rounds to nearest
 * beyond 2^24 as cvtdq2ps), clamped to [vmin, vmax] = [lo - zy, hi - zy] as maxps then minps
 * (NaN takes vmin), rounded half to even (cvtps2dq, default mode), + zy: the code in [lo, hi].
 * In float32, not double: where f lands on a tie that a * m in exact arithmetic misses, ONNX
 * Runtime rounds the tie (tests/data/int8ms qtail_u8_n64: acc -10625, m 0.00080000004, zy 110
 * gives 102, not the double's 101). */
static inline int32_t wf_requant_elem(float a, float m, float vmin, float vmax, int32_t zy) {
    float f = a * m;
    f = f > vmin ? f : vmin;
    f = f < vmax ? f : vmax;
    return (int32_t)rintf(f) + zy;
}

/* QLinearAdd's element (MLAS): c = fma(a, rx, t) (t the other operand's term with the fixed
 * part), rounded as cvtps2dq and saturated by the packs, as a float holding the code in
 * [lo, hi] (cvtps2dq gives INT32_MIN for NaN and v >= 2^31, hence the type's low end). */
static inline float wf_qadd_elem(float a, float rx, float t, float lo, float hi) {
    float v = fmaf(a, rx, t);
    return v >= 2147483648.0f ? lo : v >= hi ? hi : v > lo ? rintf(v) : lo;
}

#endif
