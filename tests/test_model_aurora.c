/*
 * The five Aurora models (tests/data/aurora, from shared/fixtures/aurora) on all 1,716 windows
 * against ONNX Runtime's scores (ort_scores.csv): within 2e-6 absolute. The int8 QDQ model runs as
 * int8 and is held to ONNX Runtime with optimizations disabled (the ONNX specification); the
 * distance to ORT's default fused integer kernels is reported. Also: the predictor's gradient
 * against central differences, and the affine first layer against the plain path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

#define NCOL 11

/* ort_scores.csv: index,turbine_id,start,end,label,logreg,mlp,cnn1d,mlp_int8_qdq,mlp_pruned,
 * mlp_int8_qdq_optdisabled. Returns rows; col[c][i] for numeric columns 5..10. */
static int read_scores(double **col, int max) {
    char *text = tu_read(tu_data("aurora/ort_scores.csv"), NULL);
    char *line = strtok(text, "\n"); /* header */
    int n = 0;
    while ((line = strtok(NULL, "\n")) && n < max) {
        char *p = line;
        for (int c = 0; c < NCOL; c++) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = 0;
            if (c >= 5)
                col[c][n] = strtod(p, NULL);
            p = comma ? comma + 1 : p + strlen(p);
        }
        n++;
    }
    free(text);
    return n;
}

static wf_windows W;
static double *cols[NCOL];
static int nrows;

static void setup(void) {
    wf_error err;
    if (W.n == 0) {
        ck_assert_msg(wf_windows_read_json(tu_data("data/windows.json"), &W, &err) == WF_OK, "%s",
                      err.msg);
        for (int c = 0; c < NCOL; c++)
            cols[c] = calloc(4096, sizeof(double));
        nrows = read_scores(cols, 4096);
    }
}

static double score_model(const char *file, int column, int column2, double *max2) {
    setup();
    ck_assert_int_eq(nrows, 1716);
    ck_assert_int_eq((int)W.n, 1716);
    wf_model *m = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load(tu_data(file), &m, &err) == WF_OK, "%s", err.msg);
    wf_predictor p;
    ck_assert_msg(wf_model_predictor(m, W.C, W.T, WF_LAYOUT_AUTO, &p, &err) == WF_OK, "%s",
                  err.msg);
    void *ctx = NULL;
    ck_assert_msg(p.ctx_new(p.user, W.n, &ctx, &err) == WF_OK, "%s", err.msg);
    float *y = malloc((size_t)W.n * sizeof *y);
    ck_assert_msg(p.predict(ctx, W.data, W.n, y, &err) == WF_OK, "%s", err.msg);
    double maxd = 0, maxd2 = 0;
    for (int i = 0; i < nrows; i++) {
        double d = fabs(y[i] - cols[column][i]);
        if (d > maxd)
            maxd = d;
        if (column2 >= 0 && fabs(y[i] - cols[column2][i]) > maxd2)
            maxd2 = fabs(y[i] - cols[column2][i]);
    }
    if (max2)
        *max2 = maxd2;
    printf("%s: max |whyflag - ORT| = %.3g over %d windows\n", file, maxd, nrows);
    free(y);
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_model_free(m);
    return maxd;
}

START_TEST(test_logreg) {
    ck_assert(score_model("aurora/logreg.onnx", 5, -1, NULL) <= 2e-6);
}
END_TEST
START_TEST(test_mlp) {
    ck_assert(score_model("aurora/mlp.onnx", 6, -1, NULL) <= 2e-6);
}
END_TEST
START_TEST(test_cnn1d) {
    ck_assert(score_model("aurora/cnn1d.onnx", 7, -1, NULL) <= 2e-6);
}
END_TEST
START_TEST(test_mlp_pruned) {
    ck_assert(score_model("aurora/mlp_pruned.onnx", 9, -1, NULL) <= 2e-6);
}
END_TEST
START_TEST(test_mlp_int8) {
    double fused = 0;
    double spec = score_model("aurora/mlp_int8_qdq.onnx", 10, 8, &fused);
    printf("mlp_int8_qdq: vs ORT optimizations disabled (spec) %.3g, vs ORT default fused "
           "integer kernels %.3g\n",
           spec, fused);
    ck_assert(spec <= 2e-6);
    /* the quantized model must not be the float model: scores differ from mlp by up to 0.08 */
    double dmax = 0;
    for (int i = 0; i < nrows; i++)
        dmax = fmax(dmax, fabs(cols[10][i] - cols[6][i]));
    ck_assert(dmax > 1e-2);
}
END_TEST

/* Gradient of the score w.r.t. the window against central differences (4-point stencil,
 * accumulated in double from float evaluations) on 40 cells of a few windows; cells whose stencil
 * crosses a kink (ReLU, MaxPool switching) are detected by two step sizes disagreeing and skipped
 * (at most half). Error: ||dx - fd|| / ||fd|| over the checked cells. */
static double eval1(wf_predictor *p, void *ctx, const float *x) {
    float y;
    wf_error err;
    ck_assert(p->predict(ctx, x, 1, &y, &err) == WF_OK);
    return y;
}

static double fd4(wf_predictor *p, void *ctx, float *x, int k, double h) {
    float x0 = x[k];
    double L[4];
    const double st[4] = {h, -h, 2 * h, -2 * h};
    for (int s = 0; s < 4; s++) {
        x[k] = (float)(x0 + st[s]);
        L[s] = eval1(p, ctx, x);
    }
    x[k] = x0;
    return (8 * (L[0] - L[1]) - (L[2] - L[3])) / (12 * h);
}

static void grad_check(const char *file, double hfrac, double tol) {
    setup();
    wf_model *m = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load(tu_data(file), &m, &err) == WF_OK, "%s", err.msg);
    wf_predictor p;
    ck_assert(wf_model_predictor(m, W.C, W.T, WF_LAYOUT_AUTO, &p, &err) == WF_OK);
    void *ctx = NULL;
    ck_assert(p.ctx_new(p.user, 4, &ctx, &err) == WF_OK);
    int ct = W.C * W.T;
    float *x = malloc((size_t)ct * sizeof *x), *dx = malloc((size_t)ct * sizeof *dx);
    int checked = 0, used = 0, skipped = 0;
    double worst = 0, sd[64] = {0};
    /* each channel's spread over the data: steps are a fraction of it */
    for (int c = 0; c < W.C && c < 64; c++) {
        double s1 = 0, s2 = 0, cnt = 0;
        for (int64_t i = 0; i < W.n; i += 11)
            for (int t = 0; t < W.T; t++) {
                double v = W.w[i].values[c * W.T + t];
                s1 += v;
                s2 += v * v;
                cnt++;
            }
        sd[c] = sqrt(fmax(s2 / cnt - (s1 / cnt) * (s1 / cnt), 1e-12));
    }
    for (int64_t wi = 0; wi < W.n && checked < 4; wi += 7) {
        memcpy(x, W.w[wi].values, (size_t)ct * sizeof *x);
        float y;
        ck_assert(p.grad(ctx, x, 1, &y, dx, &err) == WF_OK);
        if (y < 0.02f || y > 0.98f)
            continue;
        double num = 0, den = 0;
        for (int k = (int)(wi % 7); k < ct; k += 7) {
            double h = hfrac * sd[k / W.T];
            double f1 = fd4(&p, ctx, x, k, h), f2 = fd4(&p, ctx, x, k, h / 2);
            if (fabs(f1 - f2) > 1e-3 * (fabs(f1) + 1e-4)) {
                skipped++;
                continue;
            }
            num += (dx[k] - f1) * (dx[k] - f1);
            den += f1 * f1;
            used++;
        }
        double rel = sqrt(num / fmax(den, 1e-300));
        if (rel > worst)
            worst = rel;
        checked++;
    }
    printf("%s: gradient vs central differences, worst rel err %.3g over %d windows (%d cells, "
           "%d kinks skipped)\n",
           file, worst, checked, used, skipped);
    ck_assert_int_ge(checked, 3);
    ck_assert(skipped * 2 <= used + skipped); /* ReLU/MaxPool networks have many kinks */
    ck_assert_msg(worst < tol, "%s: relative error %.3g", file, worst);
    free(x);
    free(dx);
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}

START_TEST(test_grad_models) {
    grad_check("aurora/logreg.onnx", 2e-2, 1e-4);
    grad_check("aurora/mlp.onnx", 2e-2, 1e-4);
    /* cnn1d: 1.2e-4 measured; its ops pass 1e-4 one by one in test_engine_grad. The reference
     * is the limit here: differences of float32 evaluations. Measured with power-of-two steps
     * h = k x sd: even the smooth logreg (whose gradient has no kinks) moves from 2.9e-4 (k =
     * 0.005) to 1.0e-5 (k = 0.08) with h alone, and larger steps cross cnn1d's kinks. A check
     * below 1e-4 for cnn1d needs a double-precision reference evaluation (not built). */
    grad_check("aurora/cnn1d.onnx", 1e-2, 2e-4);
    grad_check("aurora/mlp_pruned.onnx", 2e-2, 1e-4);
}
END_TEST

/* The affine first layer folded with the normalization (and, for logreg, the ReduceMean; for
 * cnn1d, the first Conv) gives the same scores. */
START_TEST(test_affine_mlp) {
    setup();
    const char *files[] = {"aurora/mlp.onnx", "aurora/mlp_pruned.onnx", "aurora/logreg.onnx",
                           "aurora/cnn1d.onnx"};
    for (int f = 0; f < 4; f++) {
        wf_model *m = NULL;
        wf_error err;
        ck_assert(wf_model_load(tu_data(files[f]), &m, &err) == WF_OK);
        wf_predictor p;
        ck_assert(wf_model_predictor(m, W.C, W.T, WF_LAYOUT_AUTO, &p, &err) == WF_OK);
        ck_assert_msg(p.hidden > 0 && p.affine_a && p.predict_hidden, "no affine layer found");
        void *ctx = NULL;
        int n = 64, ct = W.C * W.T;
        ck_assert(p.ctx_new(p.user, n, &ctx, &err) == WF_OK);
        float *y = malloc((size_t)n * sizeof *y), *yh = malloc((size_t)n * sizeof *yh);
        float *h = malloc((size_t)(n * p.hidden) * sizeof *h);
        ck_assert(p.predict(ctx, W.data, n, y, &err) == WF_OK);
        for (int i = 0; i < n; i++)
            for (int64_t k = 0; k < p.hidden; k++) {
                double acc = p.affine_a0[k];
                for (int e = 0; e < ct; e++)
                    acc += (double)p.affine_a[k * ct + e] * W.data[(size_t)i * ct + e];
                h[i * p.hidden + k] = (float)acc;
            }
        ck_assert_msg(p.predict_hidden(ctx, h, n, yh, &err) == WF_OK, "%s", err.msg);
        double md = 0;
        for (int i = 0; i < n; i++)
            md = fmax(md, fabs(y[i] - yh[i]));
        printf("%s: affine path vs plain path max diff %.3g (hidden %lld)\n", files[f], md,
               (long long)p.hidden);
        ck_assert(md < 1e-5);
        free(y);
        free(yh);
        free(h);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_aurora");
    TCase *tc = tcase_create("aurora");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_logreg);
    tcase_add_test(tc, test_mlp);
    tcase_add_test(tc, test_cnn1d);
    tcase_add_test(tc, test_mlp_pruned);
    tcase_add_test(tc, test_mlp_int8);
    tcase_add_test(tc, test_grad_models);
    tcase_add_test(tc, test_affine_mlp);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    wf_windows_free(&W);
    for (int c = 0; c < NCOL; c++)
        free(cols[c]);
    return rc;
}
