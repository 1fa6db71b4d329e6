/*
 * Backward against central finite differences for every differentiable op, using ONNX's node
 * test models (tests/data/onnx/node) as single-op graphs: the loss L = sum_i w_i * y_i (random w)
 * of output 0 is differentiated w.r.t. input 0 (float). Differences use the 4-point stencil
 * (8(L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / 12h accumulated in double; coordinates whose
 * stencil crosses a kink (ReLU at 0, a MaxPool tie switching) are detected by two step sizes
 * disagreeing and skipped (at most a quarter of them).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/onnx_tensor.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

static const char *const grad_tests[] = {
    "test_add_bcast",
    "test_sub_bcast",
    "test_mul_bcast",
    "test_div_bcast",
    "test_relu",
    "test_leakyrelu",
    "test_sigmoid",
    "test_tanh",
    "test_softmax_axis_1",
    "test_softmax_axis_0",
    "test_flatten_axis2",
    "test_transpose_all_permutations_4",
    "test_concat_3d_axis_1",
    "test_squeeze",
    "test_unsqueeze_two_axes",
    "test_reshape_negative_dim",
    "test_gemm_all_attributes",
    "test_gemm_transposeA",
    "test_matmul_bcast",
    "test_matmul_1d_3d",
    "test_basic_conv_with_padding",
    "test_conv_with_strides_and_asymmetric_padding",
    "test_conv_with_autopad_same",
    "pytorch-converted/test_Conv1d_dilated",
    "pytorch-converted/test_Conv1d_groups",
    "pytorch-converted/test_Conv1d_stride",
    "pytorch-converted/test_Conv1d_pad2",
    "pytorch-converted/test_MaxPool1d_stride",
    "pytorch-converted/test_AvgPool1d_stride",
    "test_maxpool_1d_default",
    "test_averagepool_1d_default",
    "test_globalaveragepool",
    "test_globalmaxpool",
    "test_batchnorm_epsilon",
    "pytorch-converted/test_BatchNorm1d_3d_input_eval",
    "pytorch-converted/test_Softmax",
    "pytorch-converted/test_Linear",
    "pytorch-converted/test_Linear_no_bias",
};

static void load_inputs(const char *dir, const wf_model *m, wf_tensor *in) {
    for (int i = 0; i < wf_model_n_inputs(m); i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        size_t len;
        char *buf = tu_read(path, &len);
        wf_error err;
        ck_assert_msg(wf_onnx_read_tensor(buf, len, &in[i], NULL, 0, &err) == WF_OK, "%s", err.msg);
        free(buf);
    }
}

static double loss(wf_engine *e, const wf_tensor *in, int ni, const double *w) {
    wf_error err;
    ck_assert_msg(wf_engine_run(e, in, ni, &err) == WF_OK, "%s", err.msg);
    const wf_tensor *y = wf_engine_output(e, 0);
    double L = 0;
    for (int64_t i = 0; i < wf_tensor_numel(y); i++)
        L += w[i] * ((const float *)y->data)[i];
    return L;
}

static double fd_at(wf_engine *e, wf_tensor *in, int ni, const double *w, int64_t k, double h) {
    float *x = in[0].data;
    float x0 = x[k];
    double L[4];
    const double steps[4] = {h, -h, 2 * h, -2 * h};
    double real[4];
    for (int s = 0; s < 4; s++) {
        x[k] = (float)(x0 + steps[s]);
        real[s] = (double)x[k] - x0;
        L[s] = loss(e, in, ni, w);
    }
    x[k] = x0;
    (void)real;
    return (8 * (L[0] - L[1]) - (L[2] - L[3])) / (12 * h);
}

static void check_one(const char *name) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", tu_data("onnx/node"), name);
    char path[8192];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    wf_model *m = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load(path, &m, &err) == WF_OK, "%s", err.msg);
    int ni = wf_model_n_inputs(m);
    wf_tensor in[16];
    memset(in, 0, sizeof in);
    load_inputs(dir, m, in);
    wf_engine *e = NULL;
    ck_assert(wf_engine_new(m, 1, WF_ENGINE_GRAD, &e, &err) == WF_OK);
    ck_assert_msg(wf_engine_run(e, in, ni, &err) == WF_OK, "%s", err.msg);
    const wf_tensor *y = wf_engine_output(e, 0);
    int64_t ny = wf_tensor_numel(y), nx = wf_tensor_numel(&in[0]);
    double *w = malloc((size_t)ny * sizeof *w);
    float *dy = malloc((size_t)ny * sizeof *dy), *dx = malloc((size_t)nx * sizeof *dx);
    unsigned seed = 7;
    for (int64_t i = 0; i < ny; i++) {
        seed = seed * 1664525u + 1013904223u;
        dy[i] = (float)(((seed >> 9) & 0xffff) / 32768.0 - 1.0);
        w[i] = dy[i];
    }
    ck_assert_msg(wf_engine_backward(e, 0, dy, 0, dx, &err) == WF_OK, "%s", err.msg);
    /* at most 300 coordinates, spread over the input */
    int64_t stride = nx > 300 ? nx / 300 : 1;
    double num = 0, den = 0;
    int skipped = 0, used = 0;
    for (int64_t k = 0; k < nx; k += stride) {
        double h = 2e-2 * (1.0 + fabs(((const float *)in[0].data)[k]));
        double f1 = fd_at(e, in, ni, w, k, h), f2 = fd_at(e, in, ni, w, k, h / 2);
        if (fabs(f1 - f2) > 1e-3 * (fabs(f1) + 1e-2)) {
            skipped++; /* kink inside the stencil */
            continue;
        }
        num += (dx[k] - f1) * (dx[k] - f1);
        den += f1 * f1;
        used++;
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    printf("%-48s grad vs FD: rel err %.2e (%d coords, %d kinks skipped)\n", name, rel, used,
           skipped);
    ck_assert_msg(skipped * 4 <= used + skipped, "%s: too many kinks (%d of %d)", name, skipped,
                  used + skipped);
    ck_assert_msg(rel < 1e-4, "%s: backward disagrees with finite differences, rel err %.3g", name,
                  rel);
    free(w);
    free(dy);
    free(dx);
    for (int i = 0; i < ni; i++)
        free(in[i].data);
    wf_engine_free(e);
    wf_model_free(m);
}

START_TEST(test_op_grads) {
    for (size_t i = 0; i < sizeof grad_tests / sizeof grad_tests[0]; i++)
        check_one(grad_tests[i]);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_grad");
    TCase *tc = tcase_create("grad");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_op_grads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
