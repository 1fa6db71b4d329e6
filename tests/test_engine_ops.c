/*
 * Ops without an ONNX node test among the fixtures, checked against their definitions computed
 * here in double: Pad (constant, reflect, edge; pads as an input), ReduceMean (axes, keepdims),
 * Dropout (inference identity), Softmax before opset 13 (input coerced to 2-D at axis). Each
 * also runs backward against the transpose of the (linear) map or finite differences.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_pb.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

/* Node with inputs, one output and attributes: ints list, string, int. */
static void node_x(pb *g, const char *op, const char *const *ins, int nin, const char *out,
                   const char *ints_name, const int64_t *ints, int nints, const char *str_name,
                   const char *str, const char *int_name, int64_t ival) {
    pb n = {0};
    for (int k = 0; k < nin; k++)
        f_str(&n, 1, ins[k]);
    f_str(&n, 2, out);
    f_str(&n, 4, op);
    if (ints_name) {
        pb a = {0};
        f_str(&a, 1, ints_name);
        for (int i = 0; i < nints; i++)
            f_varint(&a, 8, ints[i]);
        f_varint(&a, 20, 7);
        f_msg(&n, 5, &a);
    }
    if (str_name) {
        pb a = {0};
        f_str(&a, 1, str_name);
        f_str(&a, 4, str);
        f_varint(&a, 20, 3);
        f_msg(&n, 5, &a);
    }
    if (int_name) {
        pb a = {0};
        f_str(&a, 1, int_name);
        f_varint(&a, 3, ival);
        f_varint(&a, 20, 2);
        f_msg(&n, 5, &a);
    }
    f_msg(g, 1, &n);
}

static wf_model *finish(pb *g, int rank_in, const int64_t *din, int rank_out, const int64_t *dout,
                        int opset) {
    pb m = {0};
    value_info(g, 11, "x", 1, rank_in, din);
    value_info(g, 12, "y", 1, rank_out, dout);
    model_wrap(&m, g, opset);
    wf_model *mod = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load_mem(m.p, m.len, "op.onnx", &mod, &err) == WF_OK, "%s", err.msg);
    free(m.p);
    return mod;
}

/* Run x (dims) and return output data (owned by e); also dx for dy (if given). */
static const wf_tensor *run(wf_model *m, wf_engine **e, float *x, int rank, const int64_t *dims) {
    wf_error err;
    ck_assert(wf_engine_new(m, 1, WF_ENGINE_GRAD, e, &err) == WF_OK);
    wf_tensor t = {WF_DTYPE_FLOAT, rank, {0}, x};
    memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
    ck_assert_msg(wf_engine_run(*e, &t, 1, &err) == WF_OK, "%s", err.msg);
    return wf_engine_output(*e, 0);
}

START_TEST(test_pad_modes) {
    const char *modes[3] = {"constant", "reflect", "edge"};
    /* x (2, 3) = [[1 2 3] [4 5 6]], pads: axis0 (1, 0), axis1 (2, 1) -> (3, 6) */
    const float want[3][18] = {
        {9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9},
        {6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5},
        {1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6},
    };
    for (int md = 0; md < 3; md++) {
        pb g = {0};
        int64_t pd[1] = {4}, pads[4] = {1, 2, 0, 1}, sd[1] = {0};
        float cv = 9.0f;
        pb_init_raw(&g, "pads", 7, 1, pd, pads, sizeof pads);
        pb_init_f32(&g, "cv", 0, sd, &cv);
        const char *ins[3] = {"x", "pads", "cv"};
        node_x(&g, "Pad", ins, md == 0 ? 3 : 2, "y", NULL, NULL, 0, "mode", modes[md], NULL, 0);
        int64_t din[2] = {2, 3}, dout[2] = {3, 6};
        wf_model *m = finish(&g, 2, din, 2, dout, 13);
        float x[6] = {1, 2, 3, 4, 5, 6};
        wf_engine *e;
        const wf_tensor *y = run(m, &e, x, 2, din);
        ck_assert(y->rank == 2 && y->dims[0] == 3 && y->dims[1] == 6);
        for (int i = 0; i < 18; i++)
            ck_assert_msg(((const float *)y->data)[i] == want[md][i], "%s [%d]: %g, want %g",
                          modes[md], i, ((const float *)y->data)[i], want[md][i]);
        /* backward: dx[j] = number of output cells reading x[j] (dy = 1), from the table */
        float dy[18], dx[6];
        for (int i = 0; i < 18; i++)
            dy[i] = 1;
        wf_error err;
        ck_assert(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK);
        for (int j = 0; j < 6; j++) {
            int cnt = 0;
            /* count occurrences in the padded output that come from x[j] (values are unique) */
            for (int i = 0; i < 18; i++)
                cnt += want[md][i] == x[j] && !(md == 0 && want[md][i] == 9);
            ck_assert_msg(dx[j] == (float)cnt, "%s dx[%d] = %g, want %d", modes[md], j, dx[j], cnt);
        }
        wf_engine_free(e);
        wf_model_free(m);
    }
}
END_TEST

START_TEST(test_reduce_mean) {
    for (int keep = 0; keep < 2; keep++) {
        pb g = {0};
        int64_t axes[2] = {1, -1};
        const char *ins[1] = {"x"};
        node_x(&g, "ReduceMean", ins, 1, "y", "axes", axes, 2, NULL, NULL, "keepdims", keep);
        int64_t din[3] = {2, 3, 4}, dk[3] = {2, 1, 1}, dn[1] = {2};
        wf_model *m = finish(&g, 3, din, keep ? 3 : 1, keep ? dk : dn, 13);
        float x[24];
        for (int i = 0; i < 24; i++)
            x[i] = (float)(i * i % 7) - 2.5f;
        wf_engine *e;
        const wf_tensor *y = run(m, &e, x, 3, din);
        ck_assert_int_eq(y->rank, keep ? 3 : 1);
        for (int b = 0; b < 2; b++) {
            double s = 0;
            for (int k = 0; k < 12; k++)
                s += x[b * 12 + k];
            ck_assert(fabs(((const float *)y->data)[b] - s / 12) < 1e-6);
        }
        float dy[2] = {1.0f, -2.0f}, dx[24];
        wf_error err;
        ck_assert(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK);
        for (int i = 0; i < 24; i++)
            ck_assert(fabs(dx[i] - dy[i / 12] / 12.0f) < 1e-7);
        wf_engine_free(e);
        wf_model_free(m);
    }
}
END_TEST

START_TEST(test_dropout_and_old_softmax) {
    /* Dropout (opset 13, no training_mode) is the identity */
    pb g = {0};
    const char *ins[1] = {"x"};
    node_x(&g, "Dropout", ins, 1, "y", NULL, NULL, 0, NULL, NULL, NULL, 0);
    int64_t d[3] = {2, 3, 4};
    wf_model *m = finish(&g, 3, d, 3, d, 13);
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i * 0.1f - 1.0f;
    wf_engine *e;
    const wf_tensor *y = run(m, &e, x, 3, d);
    ck_assert(memcmp(y->data, x, sizeof x) == 0);
    wf_engine_free(e);
    wf_model_free(m);
    /* Softmax opset 11, axis 1 on (2, 3, 4): coerced to (2, 12), normalized over 12 values */
    pb g2 = {0};
    node_x(&g2, "Softmax", ins, 1, "y", NULL, NULL, 0, NULL, NULL, "axis", 1);
    m = finish(&g2, 3, d, 3, d, 11);
    y = run(m, &e, x, 3, d);
    for (int b = 0; b < 2; b++) {
        double z = 0;
        for (int k = 0; k < 12; k++)
            z += exp(x[b * 12 + k]);
        for (int k = 0; k < 12; k++)
            ck_assert(fabs(((const float *)y->data)[b * 12 + k] - exp(x[b * 12 + k]) / z) < 1e-6);
    }
    wf_engine_free(e);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, test_pad_modes);
    tcase_add_test(tc, test_reduce_mean);
    tcase_add_test(tc, test_dropout_and_old_softmax);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
