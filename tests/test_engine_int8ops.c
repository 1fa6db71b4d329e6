/*
 * The dynamic-quantization ops (DynamicQuantizeLinear, MatMulInteger, ConvInteger) bit for bit
 * against ONNX Runtime: hand-built graphs of tests/data/int8ops (gen_int8ops.py, onnx.helper)
 * with ONNX Runtime 1.30.0's outputs (refs.json, gen_ort_int8ops.js, optimizations disabled),
 * and ONNX's own node test test_matmulinteger. A model with DynamicQuantizeLinear is scored one
 * window at a time (its scale depends on the batch) and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/onnx_tensor.h"
#include "testutil.h"
#include "test_explain_json.h"
#include "test_tensor_json.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/predictor.h"
#include "whyflag/trees.h"

/* output equals the reference: dtype, shape and every byte */
static void same(const char *what, const wf_tensor *got, const wf_tensor *want) {
    ck_assert_msg(got->dtype == want->dtype, "%s: dtype %d, want %d", what, got->dtype,
                  want->dtype);
    ck_assert_msg(wf_tensor_numel(got) == wf_tensor_numel(want), "%s: %lld values, want %lld", what,
                  (long long)wf_tensor_numel(got), (long long)wf_tensor_numel(want));
    size_t bytes = (size_t)wf_tensor_numel(want) * wf_dtype_size(want->dtype);
    if (memcmp(got->data, want->data, bytes)) {
        for (int64_t i = 0; i < wf_tensor_numel(want); i++) {
            double g = want->dtype == WF_DTYPE_FLOAT   ? ((float *)got->data)[i]
                       : want->dtype == WF_DTYPE_INT32 ? ((int32_t *)got->data)[i]
                       : want->dtype == WF_DTYPE_INT8  ? ((int8_t *)got->data)[i]
                                                       : ((uint8_t *)got->data)[i];
            double w = want->dtype == WF_DTYPE_FLOAT   ? ((float *)want->data)[i]
                       : want->dtype == WF_DTYPE_INT32 ? ((int32_t *)want->data)[i]
                       : want->dtype == WF_DTYPE_INT8  ? ((int8_t *)want->data)[i]
                                                       : ((uint8_t *)want->data)[i];
            ck_assert_msg(g == w, "%s: element %lld is %.9g, ONNX Runtime %.9g", what, (long long)i,
                          g, w);
        }
    }
}

START_TEST(test_ops_vs_ort) {
    tj *r = tj_load(tu_data("int8ops/refs.json"));
    tj *cs = tj_get(r, "cases");
    ck_assert(cs && cs->n >= 14);
    int checked = 0;
    for (int c = 0; c < cs->n; c++) {
        tj *k = tj_at(cs, c);
        const char *model = tj_get(k, "model")->str;
        ck_assert_msg(!tj_get(k, "error"), "%s: the reference has no outputs", model);
        char rel[256];
        snprintf(rel, sizeof rel, "int8ops/%s", model);
        wf_model *m;
        wf_error err = {0};
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s: %s", model, err.msg);
        tj *ins = tj_get(k, "inputs"), *outs = tj_get(k, "outputs");
        ck_assert_int_eq(ins->n, wf_model_n_inputs(m));
        wf_tensor in[4];
        for (int i = 0; i < ins->n; i++)
            tensor_of(tj_at(ins, i), &in[i]);
        wf_engine *e;
        ck_assert(wf_engine_new(m, 0, 0, &e, &err) == WF_OK);
        ck_assert_msg(wf_engine_run(e, in, ins->n, &err) == WF_OK, "%s: %s", model, err.msg);
        for (int o = 0; o < outs->n; o++) {
            wf_tensor want;
            tensor_of(tj_at(outs, o), &want);
            char what[320];
            snprintf(what, sizeof what, "%s case %d output %d", model, c, o);
            same(what, wf_engine_output(e, o), &want);
            free(want.data);
            checked++;
        }
        for (int i = 0; i < ins->n; i++)
            free(in[i].data);
        wf_engine_free(e);
        wf_model_free(m);
    }
    fprintf(stderr, "int8ops: %d outputs of %d cases bit-identical to ONNX Runtime\n", checked,
            cs->n);
    tj_free(r);
}
END_TEST

/* ONNX's node test for MatMulInteger (uint8 x uint8, scalar zero points) */
START_TEST(test_matmulinteger_node) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_matmulinteger/model.onnx", tu_data("onnx/node"));
    wf_model *m;
    wf_error err = {0};
    ck_assert_msg(wf_model_load(path, &m, &err) == WF_OK, "%s", err.msg);
    int ni = wf_model_n_inputs(m);
    wf_tensor in[4], want;
    for (int i = 0; i <= ni; i++) {
        if (i < ni)
            snprintf(path, sizeof path, "%s/test_matmulinteger/test_data_set_0/input_%d.pb",
                     tu_data("onnx/node"), i);
        else
            snprintf(path, sizeof path, "%s/test_matmulinteger/test_data_set_0/output_0.pb",
                     tu_data("onnx/node"));
        size_t len;
        char *buf = tu_read(path, &len);
        ck_assert(wf_onnx_read_tensor(buf, len, i < ni ? &in[i] : &want, NULL, 0, &err) == WF_OK);
        free(buf);
    }
    wf_engine *e;
    ck_assert(wf_engine_new(m, 0, 0, &e, &err) == WF_OK);
    ck_assert_msg(wf_engine_run(e, in, ni, &err) == WF_OK, "%s", err.msg);
    same("test_matmulinteger", wf_engine_output(e, 0), &want);
    for (int i = 0; i < ni; i++)
        free(in[i].data);
    free(want.data);
    wf_engine_free(e);
    wf_model_free(m);
}
END_TEST

/* The dynamically quantized dense layer: the predictor scores one window per engine call (the
 * scale is computed from the batch), so three windows in one predict call equal ONNX Runtime's
 * scores of each window alone; inspect and the model card say so. IG differentiates the
 * straight-through surrogate (values in test_engine_int8ms.c), one window per engine call too. */
START_TEST(test_dynamic_one_window_at_a_time) {
    tj *r = tj_load(tu_data("int8ops/refs.json"));
    tj *cs = tj_get(r, "cases");
    float x[3 * 8], want[3 * 4];
    int nw = 0;
    for (int c = 0; c < cs->n && nw < 3; c++) {
        tj *k = tj_at(cs, c);
        if (strcmp(tj_get(k, "model")->str, "dyn_dense.onnx"))
            continue;
        double v[8];
        ck_assert_int_eq(tj_flat(tj_get(tj_at(tj_get(k, "inputs"), 0), "data"), v, 8), 8);
        for (int i = 0; i < 8; i++)
            x[nw * 8 + i] = (float)v[i];
        ck_assert_int_eq(tj_flat(tj_get(tj_at(tj_get(k, "outputs"), 0), "data"), v, 4), 4);
        for (int i = 0; i < 4; i++)
            want[nw * 4 + i] = (float)v[i];
        nw++;
    }
    ck_assert_int_eq(nw, 3);
    wf_model *m;
    wf_error err = {0};
    ck_assert(wf_model_load(tu_data("int8ops/dyn_dense.onnx"), &m, &err) == WF_OK);
    ck_assert(wf_model_batch_dependent(m) != NULL);
    ck_assert(wf_model_is_quantized(m));
    ck_assert(wf_model_differentiable(m, NULL, 0));
    wf_model_card card;
    wf_model_card_build(m, &card);
    ck_assert_msg(strstr(card.batch_note, "one window at a time"), "%s", card.batch_note);
    /* one window = 8 channels x 1 step; the score is output column 2 */
    wf_predictor p;
    ck_assert_msg(wf_model_predictor_output(m, 8, 1, WF_LAYOUT_AUTO, 0, 2, &p, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_int_eq(wf_predictor_batch_mode(&p), 2);
    ck_assert(p.hidden == 0 && !p.affine_input); /* no shortcut through a dynamic quantization */
    void *ctx;
    ck_assert(p.ctx_new(p.user, 3, &ctx, &err) == WF_OK);
    float y[3];
    ck_assert(p.predict(ctx, x, 3, y, &err) == WF_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(y[i] == want[i * 4 + 2], "window %d: %.9g, ONNX Runtime alone %.9g", i,
                      (double)y[i], (double)want[i * 4 + 2]);
    /* gradients of the three windows in one call equal those of each window alone */
    ck_assert(p.grad != NULL);
    float yg[3], dx[3 * 8], y1, dx1[8];
    ck_assert(p.grad(ctx, x, 3, yg, dx, &err) == WF_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert(yg[i] == y[i]);
        ck_assert(p.grad(ctx, x + i * 8, 1, &y1, dx1, &err) == WF_OK);
        ck_assert(!memcmp(dx1, dx + i * 8, sizeof dx1));
    }
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    /* a whole batch through the engine at once would differ: the scale is the batch's */
    wf_engine *e;
    ck_assert(wf_engine_new(m, 0, WF_ENGINE_FREE_BATCH, &e, &err) == WF_OK);
    wf_tensor t = {WF_DTYPE_FLOAT, 2, {3, 8}, x};
    ck_assert_msg(wf_engine_run(e, &t, 1, &err) == WF_OK, "%s", err.msg);
    const float *yb = wf_engine_output(e, 0)->data;
    int differ = 0;
    for (int i = 0; i < 12; i++)
        differ += yb[i] != want[i];
    fprintf(stderr,
            "dyn_dense: 3 windows scored alone equal ONNX Runtime; as one batch %d of 12 "
            "values differ\n",
            differ);
    wf_engine_free(e);
    char *text = NULL;
    ck_assert(wf_model_describe(m, 0, &text, &err) == WF_OK);
    ck_assert_msg(strstr(text, "one window at a time"), "%s", text);
    free(text);
    wf_model_free(m);
    tj_free(r);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_int8ops");
    TCase *tc = tcase_create("int8ops");
    tcase_add_test(tc, test_ops_vs_ort);
    tcase_add_test(tc, test_matmulinteger_node);
    tcase_add_test(tc, test_dynamic_one_window_at_a_time);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
