/*
 * The issue-10 zoo (tests/data/zoo, see gen_zoo.py): tiny PdM models exported by torch 1.13.1
 * with and without dynamic batch axes at opsets 13 and 17, and GRU/LSTM graphs built with
 * onnx.helper. Every output of every model must match ONNX Runtime 1.30.0 (graph optimizations
 * off) within 2e-6 on 16 windows; d(sum of output 0)/dx must match torch autograd in float64
 * (windows 0-3); models declaring batch 1 must score any batch through the predictor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

#define NW 16
#define C 8
#define T 36
#define TOL 2e-6

typedef struct zoo_entry {
    char name[64];
    int n_out;
} zoo_entry;

static int zoo_list(zoo_entry *z, int max) {
    size_t len;
    char *txt = tu_read(tu_data("zoo/models.txt"), &len);
    int n = 0;
    char *save = NULL;
    for (char *l = strtok_r(txt, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save))
        if (sscanf(l, "%63s %d", z[n].name, &z[n].n_out) == 2)
            n++;
    free(txt);
    return n;
}

static float *read_f32(const char *rel, size_t *n) {
    size_t len;
    char *p = tu_read(tu_data(rel), &len);
    *n = len / sizeof(float);
    float *f = malloc(len + 4);
    memcpy(f, p, len);
    free(p);
    return f;
}

static int is_fixed(const char *name) {
    size_t l = strlen(name);
    return l > 3 && !strcmp(name + l - 3, "_b1");
}

/* Every output of the model on the 16 windows against ONNX Runtime; returns max |diff|. */
static double check_model(const zoo_entry *z, const float *X, char *why, size_t why_size) {
    char path[1024];
    snprintf(path, sizeof path, "zoo/%.63s.onnx", z->name);
    wf_model *m = NULL;
    wf_error err;
    if (wf_model_load(tu_data(path), &m, &err)) {
        snprintf(why, why_size, "load: %.500s", err.msg);
        return INFINITY;
    }
    wf_engine *e = NULL;
    ck_assert(wf_engine_new(m, NW, 0, &e, &err) == WF_OK);
    int fixed = is_fixed(z->name), runs = fixed ? NW : 1, per = fixed ? 1 : NW;
    double worst = 0;
    float *got[4] = {0};
    size_t per_out[4] = {0};
    for (int r = 0; r < runs; r++) {
        wf_tensor t = {WF_DTYPE_FLOAT, 3, {per, C, T}, (void *)(X + (size_t)r * per * C * T)};
        if (wf_engine_run(e, &t, 1, &err)) {
            snprintf(why, why_size, "run: %.500s", err.msg);
            worst = INFINITY;
            goto done;
        }
        for (int k = 0; k < z->n_out && k < 4; k++) {
            const wf_tensor *o = wf_engine_output(e, k);
            size_t n = (size_t)wf_tensor_numel(o);
            if (!got[k]) {
                per_out[k] = n;
                got[k] = malloc(n * (size_t)runs * sizeof(float));
            }
            memcpy(got[k] + (size_t)r * n, o->data, n * sizeof(float));
        }
    }
    for (int k = 0; k < z->n_out && k < 4; k++) {
        char rel[1024];
        snprintf(rel, sizeof rel, "zoo/%s.ort%d.f32", z->name, k);
        size_t n;
        float *want = read_f32(rel, &n);
        if (n != per_out[k] * (size_t)runs) {
            snprintf(why, why_size, "output %d holds %zu values, ORT %zu", k,
                     per_out[k] * (size_t)runs, n);
            worst = INFINITY;
        } else {
            for (size_t i = 0; i < n; i++) {
                double d = fabs((double)got[k][i] - want[i]);
                if (!(d <= worst))
                    worst = d;
            }
        }
        free(want);
    }
done:
    for (int k = 0; k < 4; k++)
        free(got[k]);
    wf_engine_free(e);
    wf_model_free(m);
    return worst;
}

/* d(sum of output 0, column 1 of a softmax head)/dx for windows 0-3 against torch autograd float64:
 * max |diff| / max |g|. */
static double check_grad(const zoo_entry *z, const float *X, char *why, size_t why_size) {
    char rel[1024];
    snprintf(rel, sizeof rel, "zoo/%s.grad.f32", z->name);
    FILE *f = fopen(tu_data(rel), "rb");
    if (!f)
        return -1; /* no torch reference (hand-built graphs) */
    fclose(f);
    size_t n;
    float *want = read_f32(rel, &n);
    snprintf(rel, sizeof rel, "zoo/%.63s.onnx", z->name);
    wf_model *m = NULL;
    wf_error err;
    double worst = INFINITY;
    if (wf_model_load(tu_data(rel), &m, &err)) {
        snprintf(why, why_size, "load: %.500s", err.msg);
        free(want);
        return worst;
    }
    wf_engine *e = NULL;
    ck_assert(wf_engine_new(m, 4, WF_ENGINE_GRAD, &e, &err) == WF_OK);
    int fixed = is_fixed(z->name), runs = fixed ? 4 : 1, per = fixed ? 1 : 4;
    float *dx = calloc(4 * C * T, sizeof *dx), *dy = NULL;
    for (int r = 0; r < runs; r++) {
        wf_tensor t = {WF_DTYPE_FLOAT, 3, {per, C, T}, (void *)(X + (size_t)r * per * C * T)};
        if (wf_engine_run(e, &t, 1, &err)) {
            snprintf(why, why_size, "run: %.500s", err.msg);
            goto done;
        }
        size_t ny = (size_t)wf_tensor_numel(wf_engine_output(e, 0));
        free(dy);
        dy = malloc(ny * sizeof *dy);
        for (size_t i = 0; i < ny; i++) /* two per window (softmax head): class 1 */
            dy[i] = ny == (size_t)(2 * per) ? (float)(i % 2) : 1.0f;
        if (wf_engine_backward(e, 0, dy, 0, dx + (size_t)r * per * C * T, &err)) {
            snprintf(why, why_size, "backward: %.500s", err.msg);
            goto done;
        }
    }
    double mx = 0, md = 0;
    for (size_t i = 0; i < n && i < 4 * C * T; i++) {
        mx = fmax(mx, fabs(want[i]));
        md = fmax(md, fabs((double)dx[i] - want[i]));
    }
    worst = md / fmax(mx, 1e-12);
done:
    free(dy);
    free(dx);
    free(want);
    wf_engine_free(e);
    wf_model_free(m);
    return worst;
}

START_TEST(test_zoo_vs_ort) {
    zoo_entry z[128];
    int nz = zoo_list(z, 128);
    ck_assert_int_ge(nz, 40);
    size_t nx;
    float *X = read_f32("zoo/windows.f32", &nx);
    ck_assert_uint_eq(nx, (size_t)NW * C * T);
    int bad = 0;
    for (int i = 0; i < nz; i++) {
        char why[600] = "", gwhy[600] = "";
        double d = check_model(&z[i], X, why, sizeof why);
        double g = check_grad(&z[i], X, gwhy, sizeof gwhy);
        int ok = d <= TOL && g <= 1e-4;
        printf("zoo %-22s max|diff| vs ORT %.3g  grad rel err vs torch f64 %s%.3g  %s %s%s\n",
               z[i].name, d, g < 0 ? "(none) " : "", g < 0 ? 0.0 : g, ok ? "ok" : "FAIL", why,
               gwhy);
        fflush(stdout);
        bad += !ok;
    }
    free(X);
    ck_assert_msg(bad == 0, "%d of %d zoo models fail", bad, nz);
}
END_TEST

/* Fixed-batch exports (batch 1 in the file) score any batch through the predictor. */
START_TEST(test_zoo_fixed_batch_predictor) {
    zoo_entry z[128];
    int nz = zoo_list(z, 128);
    size_t nx;
    float *X = read_f32("zoo/windows.f32", &nx);
    int bad = 0, tried = 0;
    for (int i = 0; i < nz; i++) {
        if (!is_fixed(z[i].name) || strstr(z[i].name, "softmax"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "zoo/%.63s.onnx", z[i].name);
        wf_model *m = NULL;
        wf_error err;
        wf_predictor p;
        void *ctx = NULL;
        float y[NW];
        tried++;
        if (wf_model_load(tu_data(path), &m, &err) ||
            wf_model_predictor(m, C, T, WF_LAYOUT_NCT, &p, &err)) {
            printf("fixed-batch %s: %s\n", z[i].name, err.msg);
            fflush(stdout);
            bad++;
            wf_model_free(m);
            continue;
        }
        ck_assert(p.ctx_new(p.user, NW, &ctx, &err) == WF_OK);
        if (p.predict(ctx, X, NW, y, &err)) {
            printf("fixed-batch %s: %s\n", z[i].name, err.msg);
            bad++;
        } else {
            snprintf(path, sizeof path, "zoo/%s.ort0.f32", z[i].name);
            size_t n;
            float *want = read_f32(path, &n);
            double d = 0;
            for (int k = 0; k < NW; k++)
                d = fmax(d, fabs((double)y[k] - want[k]));
            /* gradients through the predictor (either batch mode) against torch autograd */
            float dx[4 * C * T], y4[4];
            ck_assert(p.grad(ctx, X, 4, y4, dx, &err) == WF_OK);
            snprintf(path, sizeof path, "zoo/%.63s.grad.f32", z[i].name);
            size_t ng;
            float *gw = read_f32(path, &ng);
            double gm = 0, gd = 0;
            for (size_t k = 0; k < ng; k++) {
                gm = fmax(gm, fabs(gw[k]));
                gd = fmax(gd, fabs((double)dx[k] - gw[k]));
            }
            free(gw);
            int mode = wf_predictor_batch_mode(&p);
            printf("fixed-batch %-16s %s: predictor(16 windows) max|diff| vs ORT %.3g, grad rel "
                   "err vs torch %.3g\n",
                   z[i].name, mode == 1 ? "batch rebound" : "one window per call", d, gd / gm);
            bad += !(gd <= 1e-4 * gm) || (mode != 1 && mode != 2);
            bad += !(d <= TOL);
            free(want);
        }
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    free(X);
    ck_assert_int_ge(tried, 10);
    ck_assert_msg(bad == 0, "%d fixed-batch models fail", bad);
}
END_TEST

/* The score from a named output and a column of a [N, K] head (--output NAME[:COLUMN]). */
START_TEST(test_zoo_output_column) {
    size_t nx;
    float *X = read_f32("zoo/windows.f32", &nx);
    const char *models[] = {"softmax_head_d13", "softmax_head_b1", "two_out_d17"};
    for (int t = 0; t < 3; t++) {
        char path[1024];
        snprintf(path, sizeof path, "zoo/%s.onnx", models[t]);
        wf_model *m = NULL;
        wf_error err;
        wf_predictor p;
        ck_assert_msg(wf_model_load(tu_data(path), &m, &err) == WF_OK, "%s", err.msg);
        int two = t == 2, out = two ? wf_model_output_index(m, "prob") : 0, col = two ? -1 : 1;
        ck_assert_int_eq(out, two ? 1 : 0);
        ck_assert_int_eq(wf_model_output_index(m, "nope"), -1);
        if (!two) { /* a head of 2 values per window is not a score without a column */
            ck_assert(wf_model_predictor(m, C, T, WF_LAYOUT_NCT, &p, &err) == WF_ERR_SHAPE);
            ck_assert_msg(strstr(err.msg, "holds 2 values per window"), "%s", err.msg);
            ck_assert(wf_model_predictor_output(m, C, T, WF_LAYOUT_NCT, 0, 2, &p, &err) ==
                      WF_ERR_SHAPE);
            ck_assert_msg(strstr(err.msg, "column 2 does not exist"), "%s", err.msg);
        }
        ck_assert_msg(wf_model_predictor_output(m, C, T, WF_LAYOUT_NCT, out, col, &p, &err) ==
                          WF_OK,
                      "%s", err.msg);
        void *ctx;
        ck_assert(p.ctx_new(p.user, NW, &ctx, &err) == WF_OK);
        float y[NW], y4[4], dx[4 * C * T];
        ck_assert_msg(p.predict(ctx, X, NW, y, &err) == WF_OK, "%s", err.msg);
        snprintf(path, sizeof path, "zoo/%s.ort%d.f32", models[t], out);
        size_t n;
        float *want = read_f32(path, &n);
        double d = 0;
        for (int i = 0; i < NW; i++)
            d = fmax(d, fabs((double)y[i] - want[two ? i : 2 * i + 1]));
        free(want);
        ck_assert(p.grad(ctx, X, 4, y4, dx, &err) == WF_OK);
        double gd = 0, gm = 0;
        if (!two) { /* the torch gradient of the softmax head is d p(class 1)/dx */
            snprintf(path, sizeof path, "zoo/%s.grad.f32", models[t]);
            float *gw = read_f32(path, &n);
            for (size_t k = 0; k < n; k++) {
                gm = fmax(gm, fabs(gw[k]));
                gd = fmax(gd, fabs((double)dx[k] - gw[k]));
            }
            free(gw);
        }
        printf("output %s of %s, column %d: max|diff| vs ORT %.3g, grad rel err vs torch %.3g\n",
               two ? "prob" : "0", models[t], col, d, gm > 0 ? gd / gm : 0.0);
        ck_assert(d <= TOL);
        ck_assert(gd <= 1e-4 * gm);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    free(X);
}
END_TEST

/* The affine first layer survives torch's x.view(x.size(0), -1) (a Reshape whose shape is
 * folded from Shape/Gather/Concat): predict_hidden(A x + a0) equals predict(x). */
START_TEST(test_zoo_affine_through_view) {
    size_t nx;
    float *X = read_f32("zoo/windows.f32", &nx);
    const char *models[] = {"mlp_view_d13", "mlp_view_d17", "two_out_d13", "two_out_d17"};
    const int64_t hidden[] = {16, 16, 8, 8};
    for (int t = 0; t < 4; t++) {
        char path[1024];
        snprintf(path, sizeof path, "zoo/%s.onnx", models[t]);
        wf_model *m = NULL;
        wf_error err;
        wf_predictor p;
        ck_assert(wf_model_load(tu_data(path), &m, &err) == WF_OK);
        ck_assert_msg(wf_model_predictor(m, C, T, WF_LAYOUT_NCT, &p, &err) == WF_OK, "%s", err.msg);
        ck_assert_msg(p.hidden == hidden[t], "%s: hidden %lld", models[t], (long long)p.hidden);
        void *ctx;
        ck_assert(p.ctx_new(p.user, NW, &ctx, &err) == WF_OK);
        float y[NW], yh[NW], *h = malloc((size_t)(NW * p.hidden) * sizeof *h);
        ck_assert(p.predict(ctx, X, NW, y, &err) == WF_OK);
        for (int i = 0; i < NW; i++)
            for (int64_t j = 0; j < p.hidden; j++) {
                double a = p.affine_a0[j];
                for (int k = 0; k < C * T; k++)
                    a += (double)p.affine_a[j * C * T + k] * X[i * C * T + k];
                h[i * p.hidden + j] = (float)a;
            }
        ck_assert_msg(p.predict_hidden(ctx, h, NW, yh, &err) == WF_OK, "%s", err.msg);
        double d = 0;
        for (int i = 0; i < NW; i++)
            d = fmax(d, fabs((double)yh[i] - y[i]));
        printf("affine %-14s hidden %lld: predict_hidden vs predict max|diff| %.3g\n", models[t],
               (long long)p.hidden, d);
        ck_assert(d <= 1e-5);
        free(h);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    free(X);
}
END_TEST

/* Shapes resolved at plan time: in every dynamic-batch torch export, the nodes a run executes
 * all compute float data (no Shape, Gather of shapes, Concat of int64, ...). */
START_TEST(test_zoo_no_shape_ops_at_run) {
    zoo_entry z[128];
    int nz = zoo_list(z, 128), checked = 0;
    for (int i = 0; i < nz; i++) {
        if (is_fixed(z[i].name) || !strncmp(z[i].name, "h_", 2))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "zoo/%.63s.onnx", z[i].name);
        wf_model *m = NULL;
        wf_engine *e = NULL;
        wf_error err;
        ck_assert(wf_model_load(tu_data(path), &m, &err) == WF_OK);
        ck_assert(wf_engine_new(m, 5, 0, &e, &err) == WF_OK);
        ck_assert(wf_engine_flops(e) >= 0); /* planned for batch 5 */
        int folded = 0, run = 0;
        for (int j = 0; j < m->n_nodes; j++) {
            const wf_node *n = &m->nodes[j];
            if (wf_engine_node_folded(e, j)) {
                folded++;
                continue;
            }
            run++;
            ck_assert_msg(strcmp(n->op->name, "Shape") != 0, "%s", z[i].name);
            for (int k = 0; k < n->n_out; k++)
                ck_assert_msg(n->out[k] < 0 || m->vals[n->out[k]].dtype == WF_DTYPE_FLOAT,
                              "%s: node #%d (%s) computes %s at run time", z[i].name, n->onnx_index,
                              n->op->name, wf_dtype_name(m->vals[n->out[k]].dtype));
        }
        printf("%-18s %3d nodes run, %3d folded at plan time\n", z[i].name, run, folded);
        checked++;
        wf_engine_free(e);
        wf_model_free(m);
    }
    ck_assert_int_ge(checked, 20);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_zoo");
    TCase *tc = tcase_create("zoo");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_zoo_vs_ort);
    tcase_add_test(tc, test_zoo_fixed_batch_predictor);
    tcase_add_test(tc, test_zoo_output_column);
    tcase_add_test(tc, test_zoo_affine_through_view);
    tcase_add_test(tc, test_zoo_no_shape_ops_at_run);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
