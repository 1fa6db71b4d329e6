/*
 * The fused QOperator tail (src/model/ops/ops_qtail.c): QLinearMatMul -> QLinearAdd (bias) ->
 * DequantizeLinear -> QuantizeLinear in one pass from the matmul's sums, which forward-only runs
 * take (engine.c).
 *
 * Reference: the same graph node by node - an engine created with WF_ENGINE_GRAD runs every node
 * unless set forward-only - whose ops agree byte for byte with ONNX Runtime
 * (tests/test_engine_int8ms.c, which also runs the qtail_* graphs fused against ONNX Runtime's
 * outputs). Here, on the QLinearMatMul twins of the deployed MLP (u8 and s8 activations) and the
 * qtail_* graphs (rows of 64 and of 32, per-column scales, no bias, scales that put every stage
 * on rounding ties; their own fixed batch), batches of 1 to 300 rows with every input code and
 * saturating values: the
 * outputs are equal byte for byte, the fused engine holds the tails it should, and a backward
 * after a forward-only run is refused rather than reading the values the tail skipped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/rng.h"

typedef struct {
    const char *path;
    int tails; /* QLinearMatMul nodes heading a tail */
} tail_model;

static const tail_model models[] = {
    {"int8ms/mlp_qlinear.onnx", 2}, /* layers 0 and 1 (the 1-wide score has no bias tail) */
    {"int8ms/mlp_qlinear_s8.onnx", 2},      {"int8ms/qtail_u8_n64.onnx", 1},
    {"int8ms/qtail_s8_n32_col.onnx", 1},    {"int8ms/qtail_s8u8_n64_col.onnx", 1},
    {"int8ms/qtail_u8_n32_nobias.onnx", 1}, {"int8ms/qtail_u8_n64_tie.onnx", 1},
    {"int8ms/qtail_s8_n32_tie.onnx", 1},
};
#define NMODEL (int)(sizeof models / sizeof models[0])

static int count_tails(const wf_model *m, const wf_engine *e) {
    int n = 0;
    for (int j = 0; j < m->n_nodes; j++)
        n += wf_engine_has_tail(e, j);
    return n;
}

/* x: rows of the model's input (float windows or 8-bit codes): every code in turn, then random;
 * floats spread over +-4 and, one row in 7, far beyond (saturating every layer). */
static void fill(const wf_model *m, wf_tensor *t, int64_t rows, wf_rng *r) {
    const wf_value *in = &m->vals[m->inputs[0]];
    int64_t per = 1;
    t->rank = in->decl_rank;
    t->dims[0] = rows;
    for (int d = 1; d < in->decl_rank; d++) {
        t->dims[d] = in->decl_dims[d];
        per *= in->decl_dims[d];
    }
    t->dtype = in->dtype;
    size_t n = (size_t)(rows * per);
    t->data = malloc(n * wf_dtype_size(in->dtype));
    ck_assert_ptr_nonnull(t->data);
    for (size_t i = 0; i < n; i++) {
        if (in->dtype == WF_DTYPE_FLOAT) {
            double u = wf_rng_uniform(r) * 8.0 - 4.0;
            ((float *)t->data)[i] = (float)((i / (size_t)per) % 7 == 3 ? u * 1e3 : u);
        } else {
            uint8_t c = i < 256 ? (uint8_t)i : (uint8_t)(wf_rng_uniform(r) * 256.0);
            ((uint8_t *)t->data)[i] = c;
        }
    }
}

START_TEST(test_fused_equals_unfused) {
    static const int64_t batches[] = {1, 3, 64, 70, 300};
    wf_rng r;
    wf_rng_init(&r, 1206);
    for (int mi = 0; mi < NMODEL; mi++) {
        wf_model *m;
        wf_error err = {0};
        ck_assert_msg(wf_model_load(tu_data(models[mi].path), &m, &err) == WF_OK, "%s", err.msg);
        wf_engine *ef = NULL, *eu = NULL;
        ck_assert_int_eq(wf_engine_new(m, 1, 0, &ef, &err), WF_OK);
        ck_assert_int_eq(wf_engine_new(m, 1, WF_ENGINE_GRAD, &eu, &err), WF_OK);
        size_t checked = 0;
        int64_t fixed = m->vals[m->inputs[0]].decl_dims[0]; /* the qtail_* graphs: one shape */
        size_t nb = fixed > 0 ? 1 : sizeof batches / sizeof batches[0];
        for (size_t b = 0; b < nb; b++) {
            wf_tensor x;
            memset(&x, 0, sizeof x);
            int64_t rows = fixed > 0 ? fixed : batches[b];
            fill(m, &x, rows, &r);
            ck_assert_msg(wf_engine_run(ef, &x, 1, &err) == WF_OK, "%s", err.msg);
            ck_assert_msg(wf_engine_run(eu, &x, 1, &err) == WF_OK, "%s", err.msg);
            /* the fused engine took its tails (on any processor: the sums come from the packed
             * B or, without AVX-512, from B's codes), the gradient engine none */
            ck_assert_msg(wf_engine_ran_tails(ef), "%s: no tail ran", models[mi].path);
            ck_assert(!wf_engine_ran_tails(eu));
            if (b == 0) { /* tails are made on the first plan */
                ck_assert_msg(count_tails(m, ef) == models[mi].tails, "%s: %d tails, want %d",
                              models[mi].path, count_tails(m, ef), models[mi].tails);
                ck_assert_int_eq(count_tails(m, eu), 0); /* a gradient engine: node by node */
            }
            for (int o = 0; o < m->n_outputs; o++) {
                const wf_tensor *yf = wf_engine_output(ef, o), *yu = wf_engine_output(eu, o);
                size_t bytes = (size_t)wf_numel(yf) * wf_dtype_size(yf->dtype);
                ck_assert_int_eq(wf_numel(yf), wf_numel(yu));
                if (memcmp(yf->data, yu->data, bytes)) {
                    size_t k = 0;
                    while (((const char *)yf->data)[k] == ((const char *)yu->data)[k])
                        k++;
                    ck_abort_msg("%s, batch %lld: output %d differs at byte %zu", models[mi].path,
                                 (long long)rows, o, k);
                }
                checked += bytes;
            }
            free(x.data);
        }
        printf("%s: %d tail(s), fused == node by node on %zu output bytes\n", models[mi].path,
               models[mi].tails, checked);
        wf_engine_free(ef);
        wf_engine_free(eu);
        wf_model_free(m);
    }
}
END_TEST

/* A gradient engine set forward-only takes the tails; a backward after such a run is refused
 * with a message naming the cause, and after a run with the mode off it works again. */
START_TEST(test_backward_after_forward_only) {
    wf_model *m;
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data("int8ms/mlp_qlinear.onnx"), &m, &err) == WF_OK, "%s",
                  err.msg);
    wf_engine *e = NULL;
    ck_assert_int_eq(wf_engine_new(m, 2, WF_ENGINE_GRAD, &e, &err), WF_OK);
    wf_rng r;
    wf_rng_init(&r, 7);
    wf_tensor x;
    memset(&x, 0, sizeof x);
    fill(m, &x, 2, &r);
    int64_t nx = wf_numel(&x);
    float dy[2] = {1.0f, 1.0f}, *dx = malloc(sizeof(float) * (size_t)nx);
    wf_engine_forward_only(e, 1);
    ck_assert_int_eq(wf_engine_run(e, &x, 1, &err), WF_OK);
    ck_assert_int_eq(count_tails(m, e), 2);
    ck_assert_int_eq(wf_engine_backward(e, 0, dy, 0, dx, &err), WF_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "forward-only"), "%s", err.msg);
    wf_engine_forward_only(e, 0);
    ck_assert_int_eq(count_tails(m, e), 0);
    ck_assert_int_eq(wf_engine_run(e, &x, 1, &err), WF_OK);
    ck_assert_msg(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK, "%s", err.msg);
    free(dx);
    free(x.data);
    wf_engine_free(e);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("qtail");
    TCase *tc = tcase_create("qtail");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fused_equals_unfused);
    tcase_add_test(tc, test_backward_after_forward_only);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
