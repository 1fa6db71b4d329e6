/*
 * The first-layer cut of Integrated Gradients (issue 12): the predictor's grad_hidden stops the
 * backward at the affine first layer's pre-activation h where no cell of the input's
 * QuantizeLinear saturates, IG sums d f / d h over the path and maps the sum to the cells once
 * (hidden_to_input: J .* A^T sum). Checked against the uncut path (every row through the
 * engine's whole backward, ev.cut = 0, what explain.arithmetic "exact" runs), on the deployed
 * int8 QDQ MLP (samples/aurora_int8.onnx = tests/data/aurora/mlp_int8_qdq.onnx) and the float
 * MLP (tests/data/aurora/mlp.onnx), windows of tests/data/data/windows.json, the channel-mean
 * baseline:
 *   - wf_engine_backward_span from the output to the input gives the bytes of
 *     wf_engine_backward;
 *   - per row, J .* (A^T dh) equals grad()'s row up to float rounding;
 *   - adaptive IG with and without the cut: the same steps and convergence, attributions within
 *     1e-6 of the largest |attribution| (float summation order only);
 *   - a window with a cell far outside the input quantization range at both ends of the path
 *     (every row saturates it): the cut falls back on every row and the bytes are the uncut
 *     ones; a cell that saturates at x only: the rows whose chunk saturates fall back, the rest
 *     take the cut, the result within the same tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "model/model_impl.h"
#include "testutil.h"
#include "test_background.h"
#include "test_explain_json.h"
#include "whyflag/engine.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NWIN 24

static wf_windows W;
static float base_mean[CT];

static void setup(void) {
    if (W.n)
        return;
    tu_reference_windows(&W);
    ck_assert_int_ge(W.n, NWIN);
    (void)tj_at; /* the shared reader's helpers this suite does not need */
    (void)tj_num;
    tu_channel_mean_baseline(base_mean, NC, NT);
}

/* the int8 QDQ and float MLPs, then the QOperator twins of the int8 one (QGemm; QLinearMatMul +
 * QLinearAdd; u8 and s8 activations: tests/data/int8ms/gen_qop_twins.py, gen_qop_s8.py), whose
 * cut factors the op's own straight-through backward through its int32 sums */
#define NMODEL 6
static const char *const model_path[NMODEL] = {
    "aurora/mlp_int8_qdq.onnx", "aurora/mlp.onnx",          "int8ms/mlp_qgemm.onnx",
    "int8ms/mlp_qlinear.onnx",  "int8ms/mlp_qgemm_s8.onnx", "int8ms/mlp_qlinear_s8.onnx"};

static void load(int which, wf_model **m, wf_predictor *p) {
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data(model_path[which]), m, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_model_predictor(*m, NC, NT, WF_LAYOUT_AUTO, p, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(p->grad_hidden && p->hidden_to_input && p->hidden > 0,
                  "%s: the first-layer cut is offered", model_path[which]);
}

START_TEST(test_span_is_backward) {
    setup();
    wf_model *m;
    wf_predictor p;
    load(0, &m, &p);
    wf_error err = {0};
    wf_engine *e = NULL;
    ck_assert_int_eq(wf_engine_new(m, 4, WF_ENGINE_GRAD, &e, &err), 0);
    float *x = malloc(sizeof(float) * 4 * CT), g1[4 * CT], g2[4 * CT], dy[4] = {1, 1, 1, 1};
    for (int i = 0; i < 4; i++)
        memcpy(x + i * CT, W.w[i].values, sizeof(float) * CT);
    wf_tensor t = {WF_DTYPE_FLOAT, 3, {4, NC, NT}, x};
    ck_assert_int_eq(wf_engine_run(e, &t, 1, &err), 0);
    ck_assert_int_eq(wf_engine_backward(e, 0, dy, 0, g1, &err), 0);
    ck_assert_msg(wf_engine_backward_span(e, m->outputs[0], dy, m->inputs[0], g2, &err) == 0, "%s",
                  err.msg);
    ck_assert(memcmp(g1, g2, sizeof g1) == 0);
    /* a span that does not run backward (input to output) is refused */
    ck_assert_int_ne(wf_engine_backward_span(e, m->inputs[0], g1, m->outputs[0], g2, &err), 0);
    wf_engine_free(e);
    free(x);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* grad_hidden's rows against grad()'s */
START_TEST(test_rows_factor) {
    setup();
    for (int which = 0; which < NMODEL; which++) {
        wf_model *m;
        wf_predictor p;
        load(which, &m, &p);
        wf_error err = {0};
        void *ctx = NULL;
        ck_assert_int_eq(p.ctx_new(p.user, 8, &ctx, &err), 0);
        enum { N = 8 };
        int64_t H = p.hidden;
        float *x = malloc(sizeof(float) * N * CT), *dx = malloc(sizeof(float) * N * CT);
        float *dx2 = malloc(sizeof(float) * N * CT), *dh = malloc(sizeof(float) * N * H);
        float y[N], y2[N];
        uint8_t hrow[N];
        double *dhd = malloc(sizeof(double) * H), fx[CT];
        for (int i = 0; i < N; i++) /* path points between a window and the baseline */
            for (int k = 0; k < CT; k++) {
                float a = (float)i / (N - 1);
                x[i * CT + k] = base_mean[k] + a * (W.w[i].values[k] - base_mean[k]);
            }
        ck_assert_int_eq(p.grad(ctx, x, N, y, dx, &err), 0);
        ck_assert_int_eq(p.grad_hidden(ctx, x, N, N, y2, dh, dx2, hrow, &err), 0);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            ck_assert(y[i] == y2[i]);
            ck_assert_int_eq(hrow[i], 1); /* these windows stay inside the input's range */
            for (int64_t j = 0; j < H; j++)
                dhd[j] = dh[i * H + j];
            ck_assert_int_eq(p.hidden_to_input(ctx, dhd, fx, &err), 0);
            double mx = 0, d = 0;
            for (int k = 0; k < CT; k++) {
                mx = fmax(mx, fabs(dx[i * CT + k]));
                d = fmax(d, fabs(fx[k] - dx[i * CT + k]));
            }
            worst = fmax(worst, d / mx);
        }
        printf("%s: J .* (A^T dh) against grad(), max |diff| / max |grad| %.3g\n",
               model_path[which], worst);
        ck_assert_msg(worst < 1e-6, "%s: %g", model_path[which], worst);
        p.ctx_free(ctx);
        free(x);
        free(dx);
        free(dx2);
        free(dh);
        free(dhd);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* IG of x against xb with and without the cut; returns max |diff| / max |attr|. */
static double ig_both(wf_ig_eval *cut, wf_ig_eval *plain, const float *x, const float *xb,
                      int exact_bytes) {
    wf_error err = {0};
    wf_ig_result a, b;
    ck_assert_msg(wf_ig_window(cut, x, xb, WF_IG_AUTO, 0, 1024, 0.01, &a, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_msg(wf_ig_window(plain, x, xb, WF_IG_AUTO, 0, 1024, 0.01, &b, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_int_eq(a.steps, b.steps);
    ck_assert_int_eq(a.converged, b.converged);
    if (cut->hpath) { /* f from the first layer in double: the float first layer's rounding */
        ck_assert(fabs(a.f_x - b.f_x) <= 1e-6 * fmax(1.0, fabs(b.f_x)));
        ck_assert(fabs(a.f_baseline - b.f_baseline) <= 1e-6 * fmax(1.0, fabs(b.f_baseline)));
    } else {
        ck_assert(a.f_x == b.f_x && a.f_baseline == b.f_baseline);
    }
    double mx = 0, d = 0;
    for (int k = 0; k < CT; k++) {
        mx = fmax(mx, fabs(b.values[k]));
        d = fmax(d, fabs(a.values[k] - b.values[k]));
    }
    if (exact_bytes) {
        ck_assert(memcmp(a.values, b.values, sizeof(double) * CT) == 0);
        ck_assert(a.delta == b.delta);
    }
    wf_ig_result_free(&a);
    wf_ig_result_free(&b);
    return mx > 0 ? d / mx : d;
}

START_TEST(test_ig_cut_equals_uncut) {
    setup();
    for (int which = 0; which < NMODEL; which++) {
        wf_model *m;
        wf_predictor p;
        load(which, &m, &p);
        wf_error err = {0};
        wf_ig_eval cut, plain;
        ck_assert(wf_ig_eval_init(&cut, &p, 1024, 1024, &err) == WF_OK);
        ck_assert(wf_ig_eval_init(&plain, &p, 1024, 1024, &err) == WF_OK);
        ck_assert_int_eq(cut.cut, 1);
        plain.cut = 0;
        double worst = 0;
        for (int i = 0; i < NWIN; i++)
            worst = fmax(worst, ig_both(&cut, &plain, W.w[i].values, base_mean, 0));
        printf("%s: IG cut vs uncut over %d windows: max |diff| / max |attr| %.3g; %lld of %lld "
               "gradient rows cut\n",
               model_path[which], NWIN, worst, (long long)cut.cut_rows, (long long)cut.grad_rows);
        ck_assert_msg(worst < 1e-6, "%s: %g", model_path[which], worst);
        ck_assert_int_eq(plain.cut_rows, 0);
        /* the float mlp's first layer reads the cells themselves: its rows are formed on the
         * pre-activation (the hidden path); the int8 model quantizes its input first, so its
         * rows are cells */
        ck_assert_int_eq(cut.hpath, which == 1);
        ck_assert_int_eq(cut.grad_rows, plain.grad_rows);
        /* every path row took the cut: the rows not cut are the x, x' rows riding along */
        ck_assert_int_eq(cut.cut_rows, cut.grad_rows - 2 * NWIN);
        wf_ig_eval_free(&cut);
        wf_ig_eval_free(&plain);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* Saturating cells of the int8 model's input QuantizeLinear: the cut must fall back. */
START_TEST(test_ig_cut_saturation) {
    setup();
    wf_model *m;
    wf_predictor p;
    load(0, &m, &p);
    wf_error err = {0};
    wf_ig_eval cut, plain;
    ck_assert(wf_ig_eval_init(&cut, &p, 1024, 1024, &err) == WF_OK);
    ck_assert(wf_ig_eval_init(&plain, &p, 1024, 1024, &err) == WF_OK);
    plain.cut = 0;
    float x[CT], xb[CT];
    /* both ends of the path far outside the range in one cell: every row saturates it */
    memcpy(x, W.w[3].values, sizeof x);
    memcpy(xb, base_mean, sizeof xb);
    x[2 * NT + 5] = xb[2 * NT + 5] = 1e6f;
    int64_t c0 = cut.cut_rows;
    ig_both(&cut, &plain, x, xb, 1);
    ck_assert_int_eq(cut.cut_rows, c0);
    /* the cell below the range at x only, twice as far from x' as where the input's
     * QuantizeLinear starts to saturate (found by bisection on grad_hidden's verdict): rows
     * nearer x saturate, those nearer x' do not. Small batches (7 rows a chunk), so that both
     * kinds of chunk occur. */
    void *ctx = NULL;
    ck_assert_int_eq(p.ctx_new(p.user, 2, &ctx, &err), 0);
    float y[1], dh[1024], dx[CT];
    uint8_t hrow[1] = {7};
    ck_assert(p.hidden <= 1024);
    const int cell = 2 * NT + 5;
    memcpy(xb, base_mean, sizeof xb);
    double in = 0, out = -1e6; /* offsets from x'[cell]: inside, saturating */
    memcpy(x, xb, sizeof x);
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (in + out);
        x[cell] = (float)(xb[cell] + mid);
        ck_assert_int_eq(p.grad_hidden(ctx, x, 1, 1, y, dh, dx, hrow, &err), 0);
        if (hrow[0])
            in = mid;
        else
            out = mid;
    }
    wf_ig_eval cut7, plain7;
    ck_assert(wf_ig_eval_init(&cut7, &p, 1024, 7, &err) == WF_OK);
    ck_assert(wf_ig_eval_init(&plain7, &p, 1024, 7, &err) == WF_OK);
    plain7.cut = 0;
    memcpy(x, W.w[3].values, sizeof x);
    x[cell] = (float)(xb[cell] + 2 * out);
    double d = ig_both(&cut7, &plain7, x, xb, 0);
    printf("int8, a cell saturating on the half of the path nearer x: %lld of %lld gradient rows "
           "cut, max |diff| / max |attr| %.3g\n",
           (long long)cut7.cut_rows, (long long)cut7.grad_rows, d);
    ck_assert(cut7.cut_rows > 0 && cut7.cut_rows < cut7.grad_rows - 2);
    ck_assert_msg(d < 1e-6, "%g", d);
    wf_ig_eval_free(&cut7);
    wf_ig_eval_free(&plain7);
    /* a NaN cell (z is NaN: mask 0 while q = zp is inside the range) never takes the cut */
    memcpy(x, W.w[3].values, sizeof x);
    x[7] = NAN;
    ck_assert_int_eq(p.grad_hidden(ctx, x, 1, 1, y, dh, dx, hrow, &err), 0);
    ck_assert_int_eq(hrow[0], 0);
    p.ctx_free(ctx);
    wf_ig_eval_free(&cut);
    wf_ig_eval_free(&plain);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* predict_hidden (its Relu -> QuantizeLinear -> DequantizeLinear in one pass, written into the
 * engine's buffer) against the engine's full forward at the same batch size (one chunk: BLAS
 * may round another row count differently): the same output bytes from the hidden value the
 * forward computed, for batches of 256 and 7 rows. */
START_TEST(test_predict_hidden_fused) {
    setup();
    wf_model *m;
    wf_predictor p;
    load(0, &m, &p);
    wf_error err = {0};
    int hv = -1;
    for (int j = 0; j < m->n_nodes && hv < 0; j++)
        if (!strcmp(m->nodes[j].op->name, "Gemm"))
            hv = m->nodes[j].out[0];
    ck_assert_int_ge(hv, 0);
    ck_assert_int_eq(p.hidden, 64);
    enum { N = 256 };
    float *x = malloc(sizeof(float) * N * CT), *h = malloc(sizeof(float) * N * 64);
    float y[N], y2[N];
    for (int i = 0; i < N; i++)
        memcpy(x + (size_t)i * CT, W.w[i % W.n].values, sizeof(float) * CT);
    const int sizes[2] = {N, 7};
    for (int b = 0; b < 2; b++) {
        int n = sizes[b];
        wf_engine *e = NULL;
        ck_assert_int_eq(wf_engine_new(m, n, 0, &e, &err), 0);
        wf_tensor t = {WF_DTYPE_FLOAT, 3, {n, NC, NT}, x};
        ck_assert_int_eq(wf_engine_run(e, &t, 1, &err), 0);
        memcpy(h, wf_engine_value(e, hv)->data, sizeof(float) * (size_t)n * 64);
        memcpy(y, wf_engine_output(e, 0)->data, sizeof(float) * (size_t)n);
        void *ctx = NULL;
        ck_assert_int_eq(p.ctx_new(p.user, n, &ctx, &err), 0);
        ck_assert_msg(p.predict_hidden(ctx, h, n, y2, &err) == 0, "%s", err.msg);
        ck_assert_msg(memcmp(y, y2, sizeof(float) * (size_t)n) == 0, "batch %d", n);
        p.ctx_free(ctx);
        wf_engine_free(e);
    }
    free(x);
    free(h);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ig_cut");
    TCase *tc = tcase_create("first_layer_cut");
    tcase_add_test(tc, test_span_is_backward);
    tcase_add_test(tc, test_rows_factor);
    tcase_add_test(tc, test_ig_cut_equals_uncut);
    tcase_add_test(tc, test_ig_cut_saturation);
    tcase_add_test(tc, test_predict_hidden_fused);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    wf_windows_free(&W);
    return rc;
}
