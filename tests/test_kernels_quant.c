/*
 * Kernels, part 3: quantization (QuantizeLinear, DequantizeLinear, the QDQ pair with its
 * straight-through estimator, MatMulInteger, QLinearMatMul, QLinearConv).
 *  - outputs against ONNX's backend node tests (ONNX v1.22.0 data, tests/data/kernels/), which
 *    must match exactly (integer outputs);
 *  - the arithmetic details of the ONNX specification and of ONNX Runtime on cases worked out
 *    by hand: round half to even, the float32 division, saturation at both ends of int8 and
 *    uint8, per-axis parameters, the requantization's order (round, then add the zero point,
 *    as ONNX Runtime; ONNX's numpy reference adds first, and the two differ on ties);
 *  - the QLinearMatMul requantization rows (wf_qmm_requant: vectorised clones, short rows side
 *    by side): the bytes of MLAS's requantization transcribed value by value, on accumulators
 *    aimed at rounding ties, exact ties, saturation and accumulators beyond 2^24.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/kernels/onnx_node_cases.h"
#include "kernels_check.h"
#include "model/kernels/kernels.h"
#include "model/ops/ops.h"
#include "testutil.h"

static wf_k_qparam qp(const float *scale, const void *zp, wf_k_qtype t, int per_axis) {
    wf_k_qparam q = {scale, zp, t, per_axis};
    return q;
}

/* ---------------------------------------------------------------------------------------------
 * QuantizeLinear / DequantizeLinear
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_quantize_onnx_node_tests) {
    uint8_t y[32];
    wf_k_qparam q = qp(nc_quantizelinear_in1, nc_quantizelinear_in2, WF_K_QTYPE_U8, 0);
    wf_k_quantize(y, nc_quantizelinear_in0, &q, 1, 1, nc_quantizelinear_in0_n);
    for (int i = 0; i < nc_quantizelinear_out0_n; i++) {
        ck_assert_int_eq(y[i], nc_quantizelinear_out0[i]);
    }
    /* (1, 3, 3, 2), axis 1: outer 1, axis 3, inner 6 */
    q = qp(nc_quantizelinear_axis_in1, nc_quantizelinear_axis_in2, WF_K_QTYPE_U8, 1);
    wf_k_quantize(y, nc_quantizelinear_axis_in0, &q, 1, 3, 6);
    for (int i = 0; i < nc_quantizelinear_axis_out0_n; i++) {
        ck_assert_int_eq(y[i], nc_quantizelinear_axis_out0[i]);
    }
    float f[32];
    q = qp(nc_dequantizelinear_in1, nc_dequantizelinear_in2, WF_K_QTYPE_U8, 0);
    wf_k_dequantize(f, nc_dequantizelinear_in0, &q, 1, 1, nc_dequantizelinear_in0_n);
    tu_check_close_f("dequantizelinear", f, nc_dequantizelinear_out0, nc_dequantizelinear_out0_n, 0,
                     0);
    q = qp(nc_dequantizelinear_axis_in1, nc_dequantizelinear_axis_in2, WF_K_QTYPE_U8, 1);
    wf_k_dequantize(f, nc_dequantizelinear_axis_in0, &q, 1, 3, 6);
    tu_check_close_f("dequantizelinear_axis", f, nc_dequantizelinear_axis_out0,
                     nc_dequantizelinear_axis_out0_n, 0, 0);
}
END_TEST

START_TEST(test_quantize_rounding_and_saturation) {
    const float one = 1.0f;
    /* round half to even on x / scale */
    const float xr[10] = {2.5f, 3.5f,  -2.5f,      -3.5f,      0.5f,
                          1.5f, -0.5f, 2.4999998f, 2.5000002f, -1.5f};
    const int8_t want_r[10] = {2, 4, -2, -4, 0, 2, 0, 2, 3, -2};
    int8_t s8[16];
    wf_k_qparam q = qp(&one, NULL, WF_K_QTYPE_S8, 0);
    wf_k_quantize(s8, xr, &q, 1, 1, 10);
    for (int i = 0; i < 10; i++) {
        ck_assert_msg(s8[i] == want_r[i], "round(%g) = %d, want %d", (double)xr[i], s8[i],
                      want_r[i]);
    }
    /* x / scale is a float32 division, as in ONNX: 0.35f / 0.1f rounds to exactly 3.5f in float
     * (the real quotient is 3.49999989), so the result is 4, where a double division gives 3. */
    const float tenth = 0.1f;
    const float x35[2] = {0.35f, 0.25f}; /* 0.25f / 0.1f -> 2.5f -> 2 */
    q = qp(&tenth, NULL, WF_K_QTYPE_S8, 0);
    wf_k_quantize(s8, x35, &q, 1, 1, 2);
    ck_assert_int_eq(s8[0], 4);
    ck_assert_int_eq(s8[1], 2);

    /* saturation at both ends, int8 and uint8, with zero points */
    const float xs[6] = {200.0f, -200.0f, 127.4f, -128.4f, 1e30f, -INFINITY};
    const int8_t want_s8[6] = {127, -128, 127, -128, 127, -128};
    q = qp(&one, NULL, WF_K_QTYPE_S8, 0);
    wf_k_quantize(s8, xs, &q, 1, 1, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(s8[i], want_s8[i]);
    }
    const uint8_t zp128 = 128;
    const float xu[6] = {-128.4f, -129.0f, 127.0f, 128.0f, 0.0f, NAN};
    const uint8_t want_u8[6] = {0, 0, 255, 255, 128, 128};
    uint8_t u8[16];
    q = qp(&one, &zp128, WF_K_QTYPE_U8, 0);
    wf_k_quantize(u8, xu, &q, 1, 1, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(u8[i] == want_u8[i], "u8[%d] = %d, want %d", i, u8[i], want_u8[i]);
    }
    /* the STE mask: 1 inside the range (the boundary value itself included), 0 if saturated */
    uint8_t mask[6];
    const uint8_t want_mask[6] = {1, 0, 1, 0, 1, 0};
    wf_k_qdq_mask(mask, xu, &q, 1, 1, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(mask[i] == want_mask[i], "mask[%d] = %d", i, mask[i]);
    }
    const int8_t zpm3 = -3;
    const float xz[3] = {-126.0f, -125.0f, 131.0f}; /* -126 - 3 = -129 saturates; 128 too */
    const int8_t want_z[3] = {-128, -128, 127};
    q = qp(&one, &zpm3, WF_K_QTYPE_S8, 0);
    wf_k_quantize(s8, xz, &q, 1, 1, 3);
    wf_k_qdq_mask(mask, xz, &q, 1, 1, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(s8[i], want_z[i]);
    }
    ck_assert_int_eq(mask[0], 0);
    ck_assert_int_eq(mask[1], 1);
    ck_assert_int_eq(mask[2], 0);
}
END_TEST

START_TEST(test_quantize_per_axis) {
    /* (2, 3, 2) along axis 1: scales 1, 2, 4; int8 zero points 0, 1, -1 */
    const float sc[3] = {1.0f, 2.0f, 4.0f};
    const int8_t zp[3] = {0, 1, -1};
    const float x[12] = {1, -1, 3, 5, 10, -10, 2, 3, -4, 6, 400, -600};
    /* outer 0: a=0: 1, -1 | a=1: 3/2=1.5->2 +1 = 3, 5/2=2.5->2 +1 = 3 | a=2: 2.5->2 -1 = 1,
     *          -2.5->-2 -1 = -3
     * outer 1: a=0: 2, 3 | a=1: -2+1 = -1, 3+1 = 4 | a=2: 100-1 = 99, -150-1 -> -128 */
    const int8_t want[12] = {1, -1, 3, 3, 1, -3, 2, 3, -1, 4, 99, -128};
    int8_t y[12];
    wf_k_qparam q = qp(sc, zp, WF_K_QTYPE_S8, 1);
    wf_k_quantize(y, x, &q, 2, 3, 2);
    for (int i = 0; i < 12; i++) {
        ck_assert_msg(y[i] == want[i], "y[%d] = %d, want %d", i, y[i], want[i]);
    }
    /* dequantize back: (y - zp) * scale */
    float f[12];
    wf_k_dequantize(f, y, &q, 2, 3, 2);
    const float want_f[12] = {1, -1, 4, 4, 8, -8, 2, 3, -4, 6, 400, -508};
    tu_check_close_f("dequantize per axis", f, want_f, 12, 0, 0);
    /* the QDQ pair equals quantize then dequantize, bit for bit */
    float g[12];
    uint8_t mask[12];
    wf_k_qdq_forward(g, mask, x, &q, 2, 3, 2);
    ck_assert_mem_eq(g, f, sizeof f);
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(mask[i], i == 11 ? 0 : 1);
    }
    /* and the STE backward passes the gradient where the mask is 1 (accumulating) */
    float dy[12], dx[12];
    for (int i = 0; i < 12; i++) {
        dy[i] = (float)(i + 1);
        dx[i] = 0.5f;
    }
    wf_k_ste_backward(dx, dy, mask, 12);
    for (int i = 0; i < 12; i++) {
        ck_assert_float_eq(dx[i], i == 11 ? 0.5f : 0.5f + (float)(i + 1));
    }
}
END_TEST

START_TEST(test_dequantize_int32_and_uint8) {
    /* int32 biases: (x - zp) * scale in float32 */
    const int32_t b[5] = {0, 1000, -1000, 16777217, -2147483647 - 1};
    const float sc = 0.5f;
    const int32_t zp = 0;
    float f[5];
    wf_k_qparam q = qp(&sc, &zp, WF_K_QTYPE_S32, 0);
    wf_k_dequantize(f, b, &q, 1, 1, 5);
    ck_assert_float_eq(f[0], 0.0f);
    ck_assert_float_eq(f[1], 500.0f);
    ck_assert_float_eq(f[2], -500.0f);
    ck_assert_float_eq(f[3], 8388608.0f); /* float(16777217) = 16777216, as ONNX casts x first */
    ck_assert_float_eq(f[4], -1073741824.0f);
    /* a zero point that would overflow an int32 subtraction */
    const int32_t zbig = 2147483647;
    const int32_t xm[1] = {-2147483647 - 1};
    const float s1 = 1.0f;
    q = qp(&s1, &zbig, WF_K_QTYPE_S32, 0);
    wf_k_dequantize(f, xm, &q, 1, 1, 1);
    ck_assert_float_eq(f[0], -4294967296.0f);
    /* uint8 with a zero point: the activations of the deployed QDQ model (scale a0, zp 28) */
    const uint8_t u[4] = {0, 28, 29, 255};
    const float s0 = 0.08909137547016144f;
    const uint8_t z0 = 28;
    q = qp(&s0, &z0, WF_K_QTYPE_U8, 0);
    wf_k_dequantize(f, u, &q, 1, 1, 4);
    ck_assert_float_eq(f[0], -28.0f * s0);
    ck_assert_float_eq(f[1], 0.0f);
    ck_assert_float_eq(f[2], s0);
    ck_assert_float_eq(f[3], 227.0f * s0);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * MatMulInteger, QLinearMatMul, QLinearConv
 * ------------------------------------------------------------------------------------------- */

START_TEST(test_matmul_integer_onnx_node_test) {
    int32_t y[8];
    wf_k_matmul_integer(y, nc_matmulinteger_in0, WF_K_QTYPE_U8, nc_matmulinteger_in2, 0,
                        nc_matmulinteger_in1, WF_K_QTYPE_U8, nc_matmulinteger_in3, 0, 4, 2, 3);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(y[i], nc_matmulinteger_out0[i]);
    }
}
END_TEST

/* One (batched) QLinearMatMul node test: inputs a, a_scale, a_zp, b, b_scale, b_zp, y_scale,
 * y_zp; a (B, M, K), b (B, K, N) with B = 1 for 2-D. */
static void qlmm_node(const char *what, const void *a, const int64_t *as, int andim,
                      const float *sa, const void *za, const void *b, const int64_t *bs,
                      const float *sb, const void *zb, const float *sy, const void *zy,
                      const void *want, size_t nwant, wf_k_qtype t) {
    int batch = andim == 3 ? (int)as[0] : 1;
    int M = (int)as[andim - 2], K = (int)as[andim - 1], N = (int)bs[andim - 1];
    ck_assert_uint_eq((size_t)batch * (size_t)M * (size_t)N, nwant);
    wf_k_qparam aq = qp(sa, za, t, 0), bq = qp(sb, zb, t, 0), yq = qp(sy, zy, t, 0);
    uint8_t y[64];
    for (int i = 0; i < batch; i++) {
        wf_k_qlinear_matmul(
            y + (size_t)i * (size_t)(M * N), (const uint8_t *)a + (size_t)i * (size_t)(M * K),
            (const uint8_t *)b + (size_t)i * (size_t)(K * N), &aq, &bq, &yq, M, N, K);
    }
    for (size_t i = 0; i < nwant; i++) {
        int got = t == WF_K_QTYPE_S8 ? ((int8_t *)y)[i] : y[i];
        int exp = t == WF_K_QTYPE_S8 ? ((const int8_t *)want)[i] : ((const uint8_t *)want)[i];
        ck_assert_msg(got == exp, "%s[%zu]: got %d want %d", what, i, got, exp);
    }
}

#define QLMM_CASE(name, nd, t)                                                                     \
    qlmm_node(#name, nc_##name##_in0, nc_##name##_in0_shape, nd, nc_##name##_in1, nc_##name##_in2, \
              nc_##name##_in3, nc_##name##_in3_shape, nc_##name##_in4, nc_##name##_in5,            \
              nc_##name##_in6, nc_##name##_in7, nc_##name##_out0, nc_##name##_out0_n, t)

START_TEST(test_qlinear_matmul_onnx_node_tests) {
    QLMM_CASE(qlinearmatmul_2D_uint8_float32, 2, WF_K_QTYPE_U8);
    QLMM_CASE(qlinearmatmul_2D_int8_float32, 2, WF_K_QTYPE_S8);
    QLMM_CASE(qlinearmatmul_3D_uint8_float32, 3, WF_K_QTYPE_U8);
    QLMM_CASE(qlinearmatmul_3D_int8_float32, 3, WF_K_QTYPE_S8);
}
END_TEST

START_TEST(test_qlinear_matmul_semantics) {
    /* Rounding happens before adding y_zp, in float32 (ONNX Runtime's MlasRequantizeOutput):
     * acc = 5, multiplier 1 * 0.5 / 1 = 0.5 -> 2.5 -> 2 (half to even), + y_zp 1 = 3. ONNX's numpy
     * reference adds first (3.5 -> 4); ONNX Runtime 1.30 rounds first, as tests/data/int8ms
     * qlmm_tie_order shows on the same kind of tie (acc 7 and 22, multipliers 0.5 and 0.25,
     * y_zp 11: 15 and 17 where adding first gives 14 and 16). */
    const uint8_t a[1] = {5}, b[1] = {1}, zy = 1;
    const float s1 = 1.0f, s05 = 0.5f;
    wf_k_qparam aq = qp(&s1, NULL, WF_K_QTYPE_U8, 0), bq = qp(&s05, NULL, WF_K_QTYPE_U8, 0);
    wf_k_qparam yq = qp(&s1, &zy, WF_K_QTYPE_U8, 0);
    uint8_t y[8];
    wf_k_qlinear_matmul(y, a, b, &aq, &bq, &yq, 1, 1, 1);
    ck_assert_int_eq(y[0], 3);

    /* Mixed types and per-column b: a uint8 (2, 3) zp 10; b int8 (3, 2) with per-column scales
     * {0.5, 0.25} and zero points {0, -2}; y int8, scale 1, zp -1.
     *   A - za = [[2, 0, -2], [5, 1, 0]]; B - zb = [[1, 6], [2, 4], [3, 2]]
     *   acc = [[2 - 6, 12 - 4], [5 + 2, 30 + 4]] = [[-4, 8], [7, 34]]
     *   y = rint(acc * {0.5, 0.25}) - 1 = [[-3, 1], [3.5 -> 4 - 1, 8.5 -> 8 - 1]] */
    const uint8_t a2[6] = {12, 10, 8, 15, 11, 10};
    const int8_t b2[6] = {1, 4, 2, 2, 3, 0};
    const uint8_t za = 10;
    const int8_t zb[2] = {0, -2};
    const float sb[2] = {0.5f, 0.25f};
    const int8_t zy8 = -1;
    aq = qp(&s1, &za, WF_K_QTYPE_U8, 0);
    bq = qp(sb, zb, WF_K_QTYPE_S8, 1);
    yq = qp(&s1, &zy8, WF_K_QTYPE_S8, 0);
    int8_t y8[4];
    wf_k_qlinear_matmul(y8, a2, b2, &aq, &bq, &yq, 2, 2, 3);
    const int8_t want[4] = {-3, 1, 3, 7};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(y8[i] == want[i], "y[%d] = %d, want %d", i, y8[i], want[i]);
    }
    /* saturation of the requantized value */
    const float big = 100.0f;
    yq = qp(&s1, NULL, WF_K_QTYPE_S8, 0);
    aq = qp(&big, &za, WF_K_QTYPE_U8, 0);
    wf_k_qlinear_matmul(y8, a2, b2, &aq, &bq, &yq, 2, 2, 3);
    ck_assert_int_eq(y8[0], -128);
    ck_assert_int_eq(y8[3], 127);
}
END_TEST

/* ONNX Runtime's requantization transcribed from MLAS's SSE2 MlasRequantizeOutput, one value at
 * a time: cvtepi32_ps, mulps, maxps with lo - zy (a NaN product takes it), minps with hi - zy,
 * cvtps2dq (half to even), paddd zy. The rows under test (wf_qmm_requant: vectorised clones,
 * short rows side by side) must give its bytes. */
static int32_t requant_ref(int32_t acc, float m, int32_t zy, int lo, int hi) {
    float f = (float)acc * m, mn = (float)(lo - zy), mx = (float)(hi - zy);
    f = f > mn ? f : mn;
    f = f < mx ? f : mx;
    return (int32_t)nearbyintf(f) + zy;
}

static void requant_float_path_width(int N, int M, int NMAX) {
    static int32_t acc[160 * 64];
    static uint8_t yu[160 * 64];
    static int8_t ys[160 * 64];
    float mj[64], bsc[64];
    ck_assert_int_le(M * N, 160 * NMAX);
    wf_rng r;
    wf_rng_init(&r, 9100 + (uint64_t)N);
    for (int j = 0; j < N; j++) /* per-column scales over two decades */
        bsc[j] = (float)(0.002 * pow(10.0, 2.0 * wf_rng_uniform(&r)));
    float sa = 0.0371f, sy = 0.0213f;
    for (int variant = 0; variant < 4; variant++) {
        int s8 = variant & 1;
        uint8_t zu = 7;
        int8_t zs = -3;
        int32_t zy = s8 ? zs : zu;
        float mm[64]; /* the multiplier as wf_qmm_requant forms it */
        if (variant >= 2)
            for (int j = 0; j < N; j++)
                bsc[j] = j % 2 ? 0.5f * sy / sa : bsc[j];
        for (int j = 0; j < N; j++)
            mm[j] = sa * bsc[j] / sy;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                int32_t *a = &acc[i * N + j];
                double m = (double)mm[j];
                int kind = i % 8;
                if (kind < 4) { /* aimed at k + 1/2 - zy, and one either side */
                    double k = floor(wf_rng_uniform(&r) * 300.0) - 150.0;
                    *a = (int32_t)llround((k + 0.5 - zy) / m) + (kind - 1) % 2;
                } else if (kind == 4) { /* anywhere in the unsaturated range */
                    *a = (int32_t)llround((wf_rng_uniform(&r) * 400.0 - 200.0) / m);
                } else if (kind == 5) { /* saturating either way */
                    *a = (int32_t)((wf_rng_uniform(&r) * 2.0 - 1.0) * 2e9);
                } else if (kind == 6) { /* beyond 2^24, near the clamp when m is small */
                    *a = (int32_t)(16777216.0 + wf_rng_uniform(&r) * 1e6) * (j % 2 ? 1 : -1);
                } else {
                    *a = (int32_t)llround((wf_rng_uniform(&r) * 2.0 - 1.0) * 1e5);
                }
            }
        wf_tensor t_sa = {WF_DTYPE_FLOAT, 0, {0}, &sa};
        wf_tensor t_sb = {WF_DTYPE_FLOAT, 1, {N}, bsc};
        wf_tensor t_sy = {WF_DTYPE_FLOAT, 0, {0}, &sy};
        wf_tensor t_zy = {
            s8 ? WF_DTYPE_INT8 : WF_DTYPE_UINT8, 0, {0}, s8 ? (void *)&zs : (void *)&zu};
        wf_tensor *in[8] = {NULL, &t_sa, NULL, NULL, &t_sb, NULL, &t_sy, &t_zy};
        wf_dtype dy = s8 ? WF_DTYPE_INT8 : WF_DTYPE_UINT8;
        wf_qmm_requant(in, acc, M, N, s8 ? (void *)ys : (void *)yu, dy, mj);
        int lo = s8 ? -128 : 0, hi = s8 ? 127 : 255, ties = 0;
        for (int i = 0; i < M * N; i++) {
            int j = i % N;
            int32_t want = requant_ref(acc[i], mm[j], zy, lo, hi);
            int32_t got = s8 ? ys[i] : yu[i];
            double v = (double)acc[i] * (double)mm[j] + zy;
            ties += fabs(v - floor(v) - 0.5) < 1e-3 && fabs(v) < 300;
            ck_assert_msg(got == want, "variant %d value %d: acc %d m %.9g got %d want %d", variant,
                          i, acc[i], (double)mm[j], got, want);
        }
        ck_assert_int_gt(ties, 8 * N / 5); /* the test reached the cases it is about */
    }
}

START_TEST(test_qmm_requant_float_path) {
    enum { NMAX = 64, M = 160 };
    static const int widths[3] = {64, 32, 1}; /* whole blocks, and short rows side by side */
    for (int w = 0; w < 3; w++)
        requant_float_path_width(widths[w], M, NMAX);
}

END_TEST

START_TEST(test_qlinear_conv_onnx_node_test) {
    /* x (1, 1, 7, 7) uint8, w (1, 1, 1, 1) uint8, no bias, default attributes */
    wf_k_conv_geom g;
    memset(&g, 0, sizeof g);
    g.n = 1;
    g.cin = 1;
    g.cout = 1;
    g.group = 1;
    g.ndim = 2;
    g.in[0] = 7;
    g.in[1] = 7;
    g.k[0] = 1;
    g.k[1] = 1;
    g.stride[0] = g.stride[1] = 1;
    g.dilation[0] = g.dilation[1] = 1;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    wf_k_qparam xq = qp(nc_qlinearconv_in1, nc_qlinearconv_in2, WF_K_QTYPE_U8, 0);
    wf_k_qparam wq = qp(nc_qlinearconv_in4, nc_qlinearconv_in5, WF_K_QTYPE_U8, 0);
    wf_k_qparam yq = qp(nc_qlinearconv_in6, nc_qlinearconv_in7, WF_K_QTYPE_U8, 0);
    uint8_t y[49];
    wf_k_qlinear_conv(y, nc_qlinearconv_in0, nc_qlinearconv_in3, NULL, &xq, &wq, &yq, &g);
    for (int i = 0; i < 49; i++) {
        ck_assert_msg(y[i] == nc_qlinearconv_out0[i], "qlinearconv[%d]: got %d want %d", i, y[i],
                      nc_qlinearconv_out0[i]);
    }
}
END_TEST

START_TEST(test_qlinear_conv_semantics) {
    /* 1-D, 2 output channels with per-channel int8 weight scales, an int32 bias and padding
     * (padded x cells hold x_zp and contribute 0).
     *   x uint8 [12 14 10], zp 10 -> [2 4 0]; kernel 3, pads 1/1
     *   w int8 ch0 [1 0 -1] zp 0, ch1 [2 2 2] zp 1 -> [1 1 1]; bias [1, -3]
     *   ch0: t0: pad*1 + 2*0 + 4*-1 = -4 +1 = -3; t1: 2 - 0 + 1 = 3; t2: 4*1 + 0 + pad + 1 = 5
     *   ch1: t0: 0 + 2 + 4 - 3 = 3; t1: 6 - 3 = 3; t2: 4 + 0 - 3 = 1
     *   multipliers: x_scale 0.5 * w_scale {1, 0.25} / y_scale 0.5 = {1, 0.25}; y_zp 100
     *   ch0: 97, 103, 105; ch1: 0.75 + 100 -> 101, 101, 100.25 -> 100 */
    wf_k_conv_geom g;
    memset(&g, 0, sizeof g);
    g.n = 1;
    g.cin = 1;
    g.cout = 2;
    g.group = 1;
    g.ndim = 1;
    g.in[0] = 3;
    g.k[0] = 3;
    g.pad_begin[0] = 1;
    g.pad_end[0] = 1;
    g.stride[0] = 1;
    g.dilation[0] = 1;
    ck_assert_int_eq(wf_k_conv_geom_finish(&g), 0);
    const uint8_t x[3] = {12, 14, 10}, zx = 10, zy = 100;
    const int8_t w[6] = {1, 0, -1, 2, 2, 2}, zw[2] = {0, 1};
    const int32_t bias[2] = {1, -3};
    const float sx = 0.5f, sw[2] = {1.0f, 0.25f}, sy = 0.5f;
    wf_k_qparam xq = qp(&sx, &zx, WF_K_QTYPE_U8, 0);
    wf_k_qparam wq = qp(sw, zw, WF_K_QTYPE_S8, 1);
    wf_k_qparam yq = qp(&sy, &zy, WF_K_QTYPE_U8, 0);
    uint8_t y[6];
    wf_k_qlinear_conv(y, x, w, bias, &xq, &wq, &yq, &g);
    const uint8_t want[6] = {97, 103, 105, 101, 101, 100};
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(y[i] == want[i], "y[%d] = %d, want %d", i, y[i], want[i]);
    }
}
END_TEST

/* The integer GEMM of the QDQ path equals MatMulInteger (itself checked against ONNX's node
 * test) exactly: through sgemm below the 2^24 bound, including sums at the bound, and through
 * the int32 loop above it. */
static void qgemm_case(wf_rng *r, int M, int N, int K, int transB, int per_col, int extreme) {
    uint8_t *a = malloc((size_t)M * (size_t)K);
    int8_t *b = malloc((size_t)K * (size_t)N), *bt = malloc((size_t)K * (size_t)N);
    int8_t *zb = malloc((size_t)N);
    int32_t *want = malloc((size_t)M * (size_t)N * sizeof(int32_t));
    int32_t *got = malloc((size_t)M * (size_t)N * sizeof(int32_t));
    float *scratch = kc_alloc(wf_k_qgemm_scratch_size(M, N, K));
    ck_assert(a && b && bt && zb && want && got);
    for (size_t i = 0; i < (size_t)M * (size_t)K; i++) {
        a[i] = (uint8_t)(extreme ? 192 + wf_rng_below(r, 64) : wf_rng_below(r, 256));
    }
    for (size_t i = 0; i < (size_t)K * (size_t)N; i++) {
        b[i] =
            (int8_t)(extreme ? -128 + (int)wf_rng_below(r, 32) : (int)wf_rng_below(r, 256) - 128);
    }
    for (int j = 0; j < N; j++) {
        zb[j] = extreme ? 0 : (int8_t)((int)wf_rng_below(r, 9) - 4);
    }
    const uint8_t za = extreme ? 0 : 37;
    /* b stored (N, K) for transB */
    for (int p = 0; p < K; p++) {
        for (int j = 0; j < N; j++) {
            bt[(size_t)j * (size_t)K + (size_t)p] = b[(size_t)p * (size_t)N + (size_t)j];
        }
    }
    wf_k_matmul_integer(want, a, WF_K_QTYPE_U8, &za, 0, b, WF_K_QTYPE_S8, zb, per_col, M, N, K);
    wf_k_qgemm_s32(got, a, WF_K_QTYPE_U8, &za, transB ? bt : b, WF_K_QTYPE_S8, zb, per_col, M, N, K,
                   transB, scratch);
    for (size_t i = 0; i < (size_t)M * (size_t)N; i++) {
        ck_assert_msg(got[i] == want[i], "qgemm M=%d N=%d K=%d tB=%d: [%zu] %d != %d", M, N, K,
                      transB, i, got[i], want[i]);
    }
    free(a);
    free(b);
    free(bt);
    free(zb);
    free(want);
    free(got);
    free(scratch);
}

START_TEST(test_qgemm_exact) {
    wf_rng r;
    wf_rng_init(&r, 21);
    for (int t = 0; t < 2; t++) {
        qgemm_case(&r, 7, 5, 288, t, 1, 0);  /* the QDQ mlp's first layer depth */
        qgemm_case(&r, 33, 64, 31, t, 0, 0); /* per-tensor zero point */
        qgemm_case(&r, 1, 1, 1, t, 0, 0);
        /* near-extreme values (a in [192, 255], b in [-128, -97]): K = 514 stays below the bound
         * 514 * 255 * 128 = 16,773,120 < 2^24 (sgemm); K = 2000 sums to ~5e7 > 2^24, where float
         * sums would round (the int32 loop) */
        qgemm_case(&r, 3, 4, 514, t, 0, 1);
        qgemm_case(&r, 3, 4, 2000, t, 0, 1);
    }
    /* dequantization with a float bias, per column scales */
    const int32_t acc[4] = {10, -20, 0, 7};
    const float sb[2] = {0.5f, 0.25f}, bias[2] = {1.0f, -1.0f};
    float y[4];
    wf_k_qgemm_dequant(y, acc, 0.5f, sb, 1, bias, 2, 2);
    ck_assert_float_eq(y[0], 10.0f * 0.25f + 1.0f);
    ck_assert_float_eq(y[1], -20.0f * 0.125f - 1.0f);
    ck_assert_float_eq(y[2], 1.0f);
    ck_assert_float_eq(y[3], 7.0f * 0.125f - 1.0f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_quant");
    TCase *tq = tcase_create("quantize");
    tcase_add_test(tq, test_quantize_onnx_node_tests);
    tcase_add_test(tq, test_quantize_rounding_and_saturation);
    tcase_add_test(tq, test_quantize_per_axis);
    tcase_add_test(tq, test_dequantize_int32_and_uint8);
    suite_add_tcase(s, tq);
    TCase *tl = tcase_create("qlinear");
    tcase_add_test(tl, test_matmul_integer_onnx_node_test);
    tcase_add_test(tl, test_qlinear_matmul_onnx_node_tests);
    tcase_add_test(tl, test_qlinear_matmul_semantics);
    tcase_add_test(tl, test_qmm_requant_float_path);
    tcase_add_test(tl, test_qlinear_conv_onnx_node_test);
    tcase_add_test(tl, test_qlinear_conv_semantics);
    tcase_add_test(tl, test_qgemm_exact);
    suite_add_tcase(s, tl);
    return tu_run_suite(s);
}
