/*
 * wf_engine_run_from (the predictor's predict_hidden: run the graph from a hidden value) after
 * the engine re-plans for a new batch size, on the deployed int8 QDQ MLP (samples/
 * aurora_int8.onnx), whose weights are DequantizeLinear nodes of constants (folded at plan
 * time). Reference: the full forward run of the same engine at the same batch size, whose
 * hidden value is fed back to run_from; the outputs must be identical bytes, for batch sizes
 * 256, 5, 256, 1 in turn (every change re-plans).
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

START_TEST(test_run_from_after_replan_int8) {
    wf_model *m = NULL;
    wf_error err = {0};
    ck_assert_int_eq(wf_model_load(WF_SOURCE_DIR "/samples/aurora_int8.onnx", &m, &err), 0);
    int hv = -1;
    for (int j = 0; j < m->n_nodes && hv < 0; j++)
        if (!strcmp(m->nodes[j].op->name, "Gemm"))
            hv = m->nodes[j].out[0];
    ck_assert_int_ge(hv, 0);
    wf_engine *e = NULL;
    ck_assert_int_eq(wf_engine_new(m, 256, WF_ENGINE_GRAD | WF_ENGINE_FREE_BATCH, &e, &err), 0);
    const int batches[4] = {256, 5, 256, 1};
    float *x = malloc(sizeof(float) * 256 * 8 * 36);
    for (int i = 0; i < 256 * 8 * 36; i++)
        x[i] = (float)((i * 7919) % 1000) / 100.0f - 3.0f;
    for (int b = 0; b < 4; b++) {
        int n = batches[b];
        wf_tensor t = {WF_DTYPE_FLOAT, 3, {n, 8, 36}, x};
        ck_assert_int_eq(wf_engine_run(e, &t, 1, &err), 0);
        const wf_tensor *h = wf_engine_value(e, hv);
        size_t nh = (size_t)wf_numel(h);
        float *hc = malloc(nh * sizeof *hc);
        memcpy(hc, h->data, nh * sizeof *hc);
        float *y = malloc((size_t)n * sizeof *y);
        memcpy(y, wf_engine_output(e, 0)->data, (size_t)n * sizeof *y);
        /* force a re-plan in between, as a predictor's chunks of another size do */
        int other = n == 5 ? 7 : 5;
        wf_tensor t2 = {WF_DTYPE_FLOAT, 3, {other, 8, 36}, x};
        ck_assert_int_eq(wf_engine_run(e, &t2, 1, &err), 0);
        wf_tensor tn = {WF_DTYPE_FLOAT, 3, {n, 8, 36}, NULL};
        ck_assert_msg(wf_engine_run_from(e, &tn, hv, hc, &err) == 0, "%s", err.msg);
        const float *y2 = wf_engine_output(e, 0)->data;
        for (int i = 0; i < n; i++)
            ck_assert_msg(y2[i] == y[i], "batch %d row %d: run_from %.9g, full run %.9g", n, i,
                          (double)y2[i], (double)y[i]);
        /* a fresh engine whose first call is run_from, at a batch other than its planned one */
        wf_engine *f = NULL;
        ck_assert_int_eq(wf_engine_new(m, 256, WF_ENGINE_GRAD | WF_ENGINE_FREE_BATCH, &f, &err), 0);
        ck_assert_msg(wf_engine_run_from(f, &tn, hv, hc, &err) == 0, "%s", err.msg);
        y2 = wf_engine_output(f, 0)->data;
        for (int i = 0; i < n; i++)
            ck_assert_msg(y2[i] == y[i], "fresh engine, batch %d row %d: run_from %.9g, full %.9g",
                          n, i, (double)y2[i], (double)y[i]);
        wf_engine_free(f);
        free(hc);
        free(y);
    }
    free(x);
    wf_engine_free(e);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_run_from");
    TCase *tc = tcase_create("replan");
    tcase_add_test(tc, test_run_from_after_replan_int8);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
