/*
 * The com.microsoft quantized ops (QGemm, QLinearAdd, QLinearMul, QLinearSigmoid,
 * QLinearLeakyRelu, QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat) bit for bit
 * against ONNX Runtime: hand-built graphs of tests/data/int8ms (gen_int8ms.py, onnx.helper) with
 * onnxruntime-node 1.30.0's outputs (refs.json, gen_ort_int8ms.js, optimizations disabled), uint8
 * and int8, zero points at the extremes, saturation and rounding ties; the loader accepts these
 * ops of the domain only. Gradients: the straight-through surrogate of each op (and of
 * DynamicQuantizeLinear, MatMulInteger, ConvInteger) against central finite differences in
 * double of the float function the op stands for, evaluated at the dequantized inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "testutil.h"
#include "test_explain_json.h"
#include "test_tensor_json.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/trees.h"

static double at(const wf_tensor *t, int64_t i) {
    return t->dtype == WF_DTYPE_FLOAT   ? ((float *)t->data)[i]
           : t->dtype == WF_DTYPE_INT32 ? ((int32_t *)t->data)[i]
           : t->dtype == WF_DTYPE_INT8  ? ((int8_t *)t->data)[i]
                                        : ((uint8_t *)t->data)[i];
}

/* every case of refs.json: dtype, shape and every output byte equal ONNX Runtime's */
START_TEST(test_ops_vs_ort) {
    tj *r = tj_load(tu_data("int8ms/refs.json"));
    tj *cs = tj_get(r, "cases");
    ck_assert(cs && cs->n >= 100);
    int checked = 0, bad_cases = 0;
    long bytes = 0;
    for (int c = 0; c < cs->n; c++) {
        tj *k = tj_at(cs, c);
        const char *model = tj_get(k, "model")->str;
        ck_assert_msg(!tj_get(k, "error"), "%s: the reference has no outputs", model);
        char rel[256];
        snprintf(rel, sizeof rel, "int8ms/%s", model);
        wf_model *m;
        wf_error err = {0};
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s: %s", model, err.msg);
        ck_assert(wf_model_is_quantized(m));
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
            const wf_tensor *got = wf_engine_output(e, o);
            ck_assert_msg(got->dtype == want.dtype, "%s: dtype %d, want %d", model, got->dtype,
                          want.dtype);
            ck_assert_msg(got->rank == want.rank &&
                              !memcmp(got->dims, want.dims, sizeof(int64_t) * (size_t)want.rank),
                          "%s: shape differs from ONNX Runtime's", model);
            int64_t nv = wf_tensor_numel(&want), nbad = 0, first = -1;
            for (int64_t i = 0; i < nv; i++)
                if (memcmp((const char *)got->data + i * (int64_t)wf_dtype_size(want.dtype),
                           (const char *)want.data + i * (int64_t)wf_dtype_size(want.dtype),
                           wf_dtype_size(want.dtype))) {
                    nbad++;
                    if (first < 0)
                        first = i;
                }
            if (nbad) {
                bad_cases++;
                fprintf(stderr,
                        "%s case %d: %lld of %lld values differ, first #%lld: %.9g, ONNX "
                        "Runtime %.9g\n",
                        model, c, (long long)nbad, (long long)nv, (long long)first, at(got, first),
                        at(&want, first));
            }
            bytes += (long)(nv * (int64_t)wf_dtype_size(want.dtype));
            free(want.data);
            checked++;
        }
        for (int i = 0; i < ins->n; i++)
            free(in[i].data);
        wf_engine_free(e);
        wf_model_free(m);
    }
    fprintf(stderr, "int8ms: %d outputs (%ld bytes) of %d cases checked, %d differ\n", checked,
            bytes, cs->n, bad_cases);
    ck_assert_int_eq(bad_cases, 0);
    tj_free(r);
}
END_TEST

/* The straight-through surrogate's input gradient of each graph of grad_refs.json (x -> Quantize
 * -> op -> Dequantize, and two dynamically quantized layers) equals torch autograd's gradient of
 * the float graph in float64 (gen_grad.py), within float32 rounding. */
START_TEST(test_surrogate_gradients) {
    tj *r = tj_load(tu_data("int8ms/grad_refs.json"));
    tj *cs = tj_get(r, "cases");
    ck_assert(cs && cs->n >= 20);
    double worst = 0.0;
    for (int c = 0; c < cs->n; c++) {
        tj *k = tj_at(cs, c);
        const char *model = tj_get(k, "model")->str;
        char rel[256];
        snprintf(rel, sizeof rel, "int8ms/%s", model);
        wf_model *m;
        wf_error err = {0};
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s: %s", model, err.msg);
        char why[512];
        ck_assert_msg(wf_model_differentiable(m, why, sizeof why), "%s: %s", model, why);
        tj *d = tj_get(k, "dims");
        wf_tensor x = {WF_DTYPE_FLOAT, d->n, {0}, NULL};
        for (int i = 0; i < d->n; i++)
            x.dims[i] = (int64_t)tj_num(tj_at(d, i));
        int nx = (int)wf_tensor_numel(&x);
        double *v = malloc(sizeof(double) * (size_t)nx * 2);
        float *xf = malloc(sizeof(float) * (size_t)nx), *dx = calloc((size_t)nx, sizeof(float));
        ck_assert_int_eq(tj_flat(tj_get(k, "x"), v, nx), nx);
        for (int i = 0; i < nx; i++)
            xf[i] = (float)v[i];
        x.data = xf;
        wf_engine *e;
        ck_assert(wf_engine_new(m, 0, WF_ENGINE_GRAD, &e, &err) == WF_OK);
        ck_assert_msg(wf_engine_run(e, &x, 1, &err) == WF_OK, "%s: %s", model, err.msg);
        int ny = (int)wf_tensor_numel(wf_engine_output(e, 0));
        double *dyd = malloc(sizeof(double) * (size_t)ny);
        float *dy = malloc(sizeof(float) * (size_t)ny);
        ck_assert_int_eq(tj_flat(tj_get(k, "dy"), dyd, ny), ny);
        for (int i = 0; i < ny; i++)
            dy[i] = (float)dyd[i];
        ck_assert_msg(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK, "%s: %s", model, err.msg);
        ck_assert_int_eq(tj_flat(tj_get(k, "dx"), v, nx), nx);
        double scale = 0.0, maxerr = 0.0;
        for (int i = 0; i < nx; i++)
            scale = fabs(v[i]) > scale ? fabs(v[i]) : scale;
        for (int i = 0; i < nx; i++) {
            double e1 = fabs((double)dx[i] - v[i]);
            maxerr = e1 > maxerr ? e1 : maxerr;
        }
        double relerr = maxerr / (scale > 0 ? scale : 1.0);
        ck_assert_msg(scale > 0.0, "%s: the reference gradient is zero", model);
        ck_assert_msg(relerr < 2e-5, "%s: max |dx - torch| %.3g of max |dx| %.3g", model, maxerr,
                      scale);
        worst = relerr > worst ? relerr : worst;
        free(v);
        free(xf);
        free(dx);
        free(dyd);
        free(dy);
        wf_engine_free(e);
        wf_model_free(m);
    }
    fprintf(stderr, "int8ms: %d surrogate gradients, max error %.3g relative to max |dx|\n", cs->n,
            worst);
    tj_free(r);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_int8ms");
    TCase *tc = tcase_create("int8ms");
    tcase_add_test(tc, test_ops_vs_ort);
    tcase_add_test(tc, test_surrogate_gradients);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
