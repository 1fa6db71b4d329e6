/*
 * Bad ONNX input: each case must fail at load with a clear message (never a crash). Models are
 * written here with a tiny protobuf encoder (field numbers of onnx.proto) so that every defect is
 * explicit; a well-formed model built the same way loads and runs (the encoder's control).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_pb.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

static void expect_fail(const pb *m, const char *fragment) {
    wf_model *mod = NULL;
    wf_error err;
    wf_error_clear(&err);
    wf_status s = wf_model_load_mem(m->p, m->len, "bad.onnx", &mod, &err);
    ck_assert_msg(s != WF_OK, "loaded, expected failure with '%s'", fragment);
    ck_assert_ptr_null(mod);
    ck_assert_msg(strstr(err.msg, fragment) != NULL, "message '%s' lacks '%s'", err.msg, fragment);
    ck_assert_msg(strstr(err.msg, "bad.onnx") != NULL, "message '%s' lacks the file name", err.msg);
}

START_TEST(test_control_loads_and_runs) {
    pb m = {0};
    simple(&m, "Relu", 1, NULL);
    wf_model *mod = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load_mem(m.p, m.len, "ok.onnx", &mod, &err) == WF_OK, "%s", err.msg);
    wf_engine *e = NULL;
    ck_assert(wf_engine_new(mod, 2, 0, &e, &err) == WF_OK);
    float x[8] = {-1, 2, -3, 4, 5, -6, 7, -8};
    wf_tensor t = {WF_DTYPE_FLOAT, 2, {2, 4}, x};
    ck_assert_msg(wf_engine_run(e, &t, 1, &err) == WF_OK, "%s", err.msg);
    const float *y = wf_engine_output(e, 0)->data;
    ck_assert(y[0] == 0 && y[1] == 2 && y[7] == 0);
    /* wrong fixed dim: a clear shape error */
    wf_tensor bad = {WF_DTYPE_FLOAT, 2, {2, 3}, x};
    ck_assert(wf_engine_run(e, &bad, 1, &err) == WF_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "expects 4") != NULL, "%s", err.msg);
    wf_engine_free(e);
    wf_model_free(mod);
    free(m.p);
}
END_TEST

START_TEST(test_truncated_and_random) {
    size_t len;
    char *good = tu_read(tu_data("aurora/mlp.onnx"), &len);
    pb m = {(uint8_t *)good, len / 2, len};
    expect_fail(&m, "not a valid ONNX model");
    /* random bytes: deterministic xorshift */
    uint8_t buf[4096];
    uint64_t s = 88172645463325252ull;
    for (int trial = 0; trial < 50; trial++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        wf_model *mod = NULL;
        wf_error err;
        ck_assert(wf_model_load_mem(buf, 64 + (size_t)trial * 60, "rnd", &mod, &err) != WF_OK);
        ck_assert(strlen(err.msg) > 0);
    }
    pb empty = {(uint8_t *)good, 0, 0};
    expect_fail(&empty, "empty file");
    free(good);
}
END_TEST

START_TEST(test_cycle_and_missing_input) {
    pb g = {0}, m = {0};
    int64_t d[2] = {-1, 4};
    node(&g, "Relu", "b", "a", NULL);
    node(&g, "Tanh", "a", "b", NULL);
    node(&g, "Sigmoid", "x", "c", NULL);
    value_info(&g, 11, "x", 1, 2, d);
    value_info(&g, 12, "a", 1, 2, d);
    model_wrap(&m, &g, 13);
    expect_fail(&m, "cycle through node");
    free(m.p);
    memset(&m, 0, sizeof m);
    pb g2 = {0};
    node(&g2, "Relu", "nope", "y", NULL);
    value_info(&g2, 11, "x", 1, 2, d);
    value_info(&g2, 12, "y", 1, 2, d);
    model_wrap(&m, &g2, 13);
    expect_fail(&m, "input 'nope' is not produced by any node");
    free(m.p);
}
END_TEST

static void with_initializer(pb *m, const int64_t *dims, int rank, int location, size_t raw) {
    pb g = {0}, t = {0};
    int64_t d[2] = {-1, 4};
    for (int i = 0; i < rank; i++)
        f_varint(&t, 1, dims[i]);
    f_varint(&t, 2, 1);
    f_str(&t, 8, "w");
    uint8_t zeros[64] = {0};
    f_bytes(&t, 9, zeros, raw);
    if (location)
        f_varint(&t, 14, 1);
    f_msg(&g, 5, &t);
    pb n = {0};
    f_str(&n, 1, "x");
    f_str(&n, 1, "w");
    f_str(&n, 2, "y");
    f_str(&n, 4, "Add");
    f_msg(&g, 1, &n);
    value_info(&g, 11, "x", 1, 2, d);
    value_info(&g, 12, "y", 1, 2, d);
    model_wrap(m, &g, 13);
}

START_TEST(test_absurd_dims_and_data) {
    pb m = {0};
    int64_t neg[1] = {-5};
    with_initializer(&m, neg, 1, 0, 16);
    expect_fail(&m, "absurd dimension -5");
    free(m.p);
    memset(&m, 0, sizeof m);
    int64_t huge[3] = {1 << 20, 1 << 20, 4};
    with_initializer(&m, huge, 3, 0, 16);
    expect_fail(&m, "more than 2^31 elements");
    free(m.p);
    memset(&m, 0, sizeof m);
    int64_t four[1] = {4};
    with_initializer(&m, four, 1, 0, 8);
    expect_fail(&m, "raw_data holds 8 bytes");
    free(m.p);
    memset(&m, 0, sizeof m);
    with_initializer(&m, four, 1, 1, 16);
    expect_fail(&m, "external file");
    free(m.p);
    memset(&m, 0, sizeof m);
    int64_t r9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
    with_initializer(&m, r9, 9, 0, 16);
    expect_fail(&m, "rank 9");
    free(m.p);
}
END_TEST

START_TEST(test_unsupported_op_dtype_domain) {
    pb m = {0};
    simple(&m, "Einsum", 1, NULL); /* LSTM was the example until issue 10 supported it */
    expect_fail(&m, "op 'Einsum' is not supported; unsupported in this file: Einsum (1 node");
    expect_fail(&m, "(supported ops: Add");
    free(m.p);
    memset(&m, 0, sizeof m);
    simple(&m, "Relu", 10, NULL);
    expect_fail(&m, "dtype float16");
    free(m.p);
    memset(&m, 0, sizeof m);
    simple(&m, "Relu", 22, NULL);
    expect_fail(&m, "dtype int4");
    free(m.p);
    memset(&m, 0, sizeof m);
    simple(&m, "FusedGemm", 1, "com.microsoft");
    expect_fail(&m, "op 'FusedGemm' of domain 'com.microsoft' is not supported");
    free(m.p);
    memset(&m, 0, sizeof m);
    simple(&m, "QLinearSoftmax", 1, "com.microsoft"); /* quantized, but not one of the eight */
    expect_fail(&m, "op 'QLinearSoftmax' of domain 'com.microsoft' is not supported");
    free(m.p);
    memset(&m, 0, sizeof m);
    /* opset too new */
    pb g = {0};
    int64_t d[2] = {-1, 4};
    node(&g, "Relu", "x", "y", NULL);
    value_info(&g, 11, "x", 1, 2, d);
    value_info(&g, 12, "y", 1, 2, d);
    model_wrap(&m, &g, 99);
    expect_fail(&m, "opset 99 is not supported");
    free(m.p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("onnx_bad");
    TCase *tc = tcase_create("bad");
    tcase_add_test(tc, test_control_loads_and_runs);
    tcase_add_test(tc, test_truncated_and_random);
    tcase_add_test(tc, test_cycle_and_missing_input);
    tcase_add_test(tc, test_absurd_dims_and_data);
    tcase_add_test(tc, test_unsupported_op_dtype_domain);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
