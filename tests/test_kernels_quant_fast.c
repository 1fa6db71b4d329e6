/*
 * The vectorised QuantizeLinear / DequantizeLinear kernels and the straight-through mask
 * (kernels_quant_fast.c) against the scalar references (wf_k_quantize_ref, wf_k_dequantize_ref,
 * wf_k_qdq_mask), which test_kernels_quant checks
 * against ONNX's node tests: every output byte must match, on ties at every .5 (half to even),
 * both saturation ends, NaN, infinities, signed zeros, subnormals, values at and around 2^23 and
 * 2^24 times the scale, FLT_MAX, per-tensor and per-axis parameters, int8 and uint8 with
 * extreme zero points, and 200,000 random floats of every magnitude (random bit patterns).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "testutil.h"

#define NE 4096

static float edge[NE];
static int n_edge;

static void add(float v) {
    if (n_edge < NE)
        edge[n_edge++] = v;
}

static void build_edges(float scale) {
    n_edge = 0;
    for (int k = -300; k <= 300; k++) { /* ties and neighbours */
        float t = ((float)k + 0.5f) * scale;
        add(t);
        add(nextafterf(t, INFINITY));
        add(nextafterf(t, -INFINITY));
        add((float)k * scale);
    }
    const float sp[] = {0.0f,        -0.0f,      NAN,         -NAN,       INFINITY,    -INFINITY,
                        FLT_MAX,     -FLT_MAX,   FLT_MIN,     -FLT_MIN,   1e-45f,      -1e-45f,
                        8388608.0f,  8388607.5f, -8388607.5f, 8388609.0f, 16777216.0f, -16777216.0f,
                        16777215.0f, 4194303.5f, -4194302.5f, 1e30f,      -1e30f,      2.5f,
                        -2.5f,       0.5f,       -0.5f,       1.5f,       -1.5f};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        add(sp[i]);
        add(sp[i] * scale);
    }
    for (int e = -10; e <= 30; e++) { /* around 2^e times the scale */
        float v = ldexpf(1.0f, e) * scale;
        add(v);
        add(-v);
        add(nextafterf(v, 0.0f));
        add(v + 0.5f * scale);
        add(-v - 0.5f * scale);
    }
}

static int check_quant(const float *x, size_t n, const float *scale, const void *zp, wf_k_qtype t,
                       int per_axis, size_t outer, size_t axis_len) {
    size_t inner = n / (outer * axis_len);
    n = outer * axis_len * inner;
    uint8_t *a = malloc(n), *b = malloc(n);
    wf_k_qparam q = {scale, zp, t, per_axis};
    memset(a, 0xAA, n);
    memset(b, 0x55, n);
    wf_k_quantize(a, x, &q, outer, axis_len, inner);
    wf_k_quantize_ref(b, x, &q, outer, axis_len, inner);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            if (bad < 5)
                fprintf(stderr, "x=%a scale=%a: fast %d ref %d\n", (double)x[i],
                        (double)scale[per_axis ? (i / inner) % axis_len : 0], a[i], b[i]);
            bad++;
        }
    /* the straight-through mask (wf_k_qdq_mask_fast against wf_k_qdq_mask) on the same values */
    memset(a, 0xAA, n);
    memset(b, 0x55, n);
    wf_k_qdq_mask_fast(a, x, &q, outer, axis_len, inner);
    wf_k_qdq_mask(b, x, &q, outer, axis_len, inner);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            if (bad < 5)
                fprintf(stderr, "x=%a scale=%a: mask fast %d ref %d\n", (double)x[i],
                        (double)scale[per_axis ? (i / inner) % axis_len : 0], a[i], b[i]);
            bad++;
        }
    free(a);
    free(b);
    return bad;
}

START_TEST(test_quantize_edges_bit_identical) {
    const float scales[] = {1.0f, 0.5f, 0.1f, 0.0078125f, 3.0f, 1e-3f, 0.0235294f, 1e-30f, 1e30f};
    const int8_t zs8[] = {0, -128, 127, 5, -3};
    const uint8_t zu8[] = {0, 255, 128, 3};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        build_edges(scales[s]);
        for (size_t z = 0; z < sizeof zs8; z++)
            ck_assert_int_eq(
                check_quant(edge, (size_t)n_edge, &scales[s], &zs8[z], WF_K_QTYPE_S8, 0, 1, 1), 0);
        for (size_t z = 0; z < sizeof zu8; z++)
            ck_assert_int_eq(
                check_quant(edge, (size_t)n_edge, &scales[s], &zu8[z], WF_K_QTYPE_U8, 0, 1, 1), 0);
        ck_assert_int_eq(
            check_quant(edge, (size_t)n_edge, &scales[s], NULL, WF_K_QTYPE_S8, 0, 1, 1), 0);
        ck_assert_int_eq(
            check_quant(edge, (size_t)n_edge, &scales[s], NULL, WF_K_QTYPE_U8, 0, 1, 1), 0);
    }
}
END_TEST

START_TEST(test_quantize_random_bits_and_per_axis) {
    size_t n = 200000;
    float *x = malloc(n * sizeof *x);
    uint64_t st = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t bits = (uint32_t)(st >> 32);
        if (i % 2) /* half of them of moderate magnitude: exponents near the scale */
            bits = (bits & 0x807FFFFFu) | ((uint32_t)(120 + (st >> 20) % 20) << 23);
        memcpy(&x[i], &bits, sizeof bits);
    }
    const float sc[4] = {0.0078125f, 0.37f, 2.0f, 1e-4f};
    const int8_t z8[4] = {0, -7, 127, -128};
    const uint8_t zu[4] = {0, 128, 255, 17};
    ck_assert_int_eq(check_quant(x, n, sc, z8, WF_K_QTYPE_S8, 0, 1, 1), 0);
    ck_assert_int_eq(check_quant(x, n, sc + 1, zu + 1, WF_K_QTYPE_U8, 0, 1, 1), 0);
    ck_assert_int_eq(check_quant(x, n, sc, z8, WF_K_QTYPE_S8, 1, 10, 4), 0);
    ck_assert_int_eq(check_quant(x, n, sc, zu, WF_K_QTYPE_U8, 1, 5, 4), 0);
    free(x);
}
END_TEST

/* The fused Relu -> QuantizeLinear -> DequantizeLinear (wf_k_relu_qdq) against the three kernels
 * in turn: the same floats on the edge values, their negatives and random bit patterns. */
START_TEST(test_relu_qdq_bit_identical) {
    const float scales[] = {0.0235294f, 0.1f, 1.0f, 1e-3f, 3.0f};
    const int8_t zs8[] = {0, -128, 127, -3};
    const uint8_t zu8[] = {0, 255, 128};
    enum { N = 2 * NE + 4096 };
    float *x = malloc(N * sizeof *x), *r = malloc(N * sizeof *r), *a = malloc(N * sizeof *a),
          *b = malloc(N * sizeof *b);
    uint8_t *q = malloc(N);
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
        build_edges(scales[si]);
        size_t n = 0;
        for (int i = 0; i < n_edge; i++) {
            x[n++] = edge[i];
            x[n++] = -edge[i];
        }
        uint64_t st = 0x9E3779B97F4A7C15ull + si;
        for (int i = 0; i < 4096; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t bits = (uint32_t)(st >> 32);
            if (i % 2)
                bits = (bits & 0x807FFFFFu) | ((uint32_t)(118 + (st >> 20) % 16) << 23);
            memcpy(&x[n++], &bits, sizeof bits);
        }
        for (int t = 0; t < 2; t++)
            for (int z = 0; z < (t ? 3 : 4); z++) {
                const void *zp = t ? (const void *)&zu8[z] : (const void *)&zs8[z];
                wf_k_qparam qp = {&scales[si], zp, t ? WF_K_QTYPE_U8 : WF_K_QTYPE_S8, 0};
                wf_k_relu_forward(r, x, n);
                wf_k_quantize(q, r, &qp, 1, 1, n);
                wf_k_dequantize(b, q, &qp, 1, 1, n);
                wf_k_relu_qdq(a, x, &qp, &qp, n);
                ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "scale %g zp %d type %d",
                              (double)scales[si], t ? zu8[z] : zs8[z], t);
            }
    }
    free(x);
    free(r);
    free(a);
    free(b);
    free(q);
}
END_TEST

START_TEST(test_dequantize_bit_identical) {
    int8_t s8[256];
    uint8_t u8[256];
    int32_t s32[260];
    for (int i = 0; i < 256; i++) {
        s8[i] = (int8_t)(i - 128);
        u8[i] = (uint8_t)i;
        s32[i] = (i - 128) * 8388611;
    }
    s32[256] = INT32_MIN;
    s32[257] = INT32_MAX;
    s32[258] = 16777217;
    s32[259] = -16777217;
    const float sc[4] = {0.0078125f, 0.37f, 3.4e38f, 1e-40f};
    float a[260], b[260];
    for (int k = 0; k < 4; k++) {
        const int8_t z8[4] = {0, -128, 127, 9};
        const uint8_t zu[4] = {0, 255, 128, 1};
        const int32_t z32[4] = {0, INT32_MIN, INT32_MAX, -5};
        wf_k_qparam q8 = {&sc[k], &z8[k], WF_K_QTYPE_S8, 0};
        wf_k_dequantize(a, s8, &q8, 1, 1, 256);
        wf_k_dequantize_ref(b, s8, &q8, 1, 1, 256);
        ck_assert_int_eq(memcmp(a, b, 256 * sizeof *a), 0);
        wf_k_qparam qu = {&sc[k], &zu[k], WF_K_QTYPE_U8, 0};
        wf_k_dequantize(a, u8, &qu, 1, 1, 256);
        wf_k_dequantize_ref(b, u8, &qu, 1, 1, 256);
        ck_assert_int_eq(memcmp(a, b, 256 * sizeof *a), 0);
        wf_k_qparam q32 = {&sc[k], &z32[k], WF_K_QTYPE_S32, 0};
        wf_k_dequantize(a, s32, &q32, 1, 1, 260);
        wf_k_dequantize_ref(b, s32, &q32, 1, 1, 260);
        ck_assert_int_eq(memcmp(a, b, 260 * sizeof *a), 0);
    }
    const int8_t z8a[4] = {1, -2, 3, -128};
    wf_k_qparam qa = {sc, z8a, WF_K_QTYPE_S8, 1};
    wf_k_dequantize(a, s8, &qa, 4, 4, 16);
    wf_k_dequantize_ref(b, s8, &qa, 4, 4, 16);
    ck_assert_int_eq(memcmp(a, b, 256 * sizeof *a), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_quant_fast");
    TCase *tc = tcase_create("qdq");
    tcase_add_test(tc, test_quantize_edges_bit_identical);
    tcase_add_test(tc, test_quantize_random_bits_and_per_axis);
    tcase_add_test(tc, test_relu_qdq_bit_identical);
    tcase_add_test(tc, test_dequantize_bit_identical);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
