/*
 * The ops issue 10 added, one graph each (tests/data/zoo/ops, built by gen_ops.py with
 * onnx.helper): forward against ONNX Runtime 1.30.0 (gen_ort_ops.js), backward against central
 * finite differences (4-point stencil, kinks skipped as in test_engine_grad.c). Also GRU/LSTM
 * backward through ONNX's node tests and the hand-built zoo graphs (every direction, layout 1,
 * initial states, linear_before_reset), shape folding errors, and the unsupported-op scan.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/onnx_tensor.h"
#include "model/ops/ops.h"
#include "onnx_pb.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

static float *read_f32(const char *rel, size_t *n) {
    size_t len;
    char *p = tu_read(tu_data(rel), &len);
    *n = len / sizeof(float);
    float *f = malloc(len + 4);
    memcpy(f, p, len);
    free(p);
    return f;
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
    for (int s = 0; s < 4; s++) {
        x[k] = (float)(x0 + steps[s]);
        L[s] = loss(e, in, ni, w);
    }
    x[k] = x0;
    return (8 * (L[0] - L[1]) - (L[2] - L[3])) / (12 * h);
}

/* Backward of L = sum w_i y_i (random w) w.r.t. input 0 against finite differences; returns the
 * relative L2 error. h0 scales the step (smaller near kinks). */
static double grad_check(const char *label, wf_model *m, wf_tensor *in, int ni, double h0) {
    wf_engine *e = NULL;
    wf_error err;
    ck_assert(wf_engine_new(m, 1, WF_ENGINE_GRAD, &e, &err) == WF_OK);
    ck_assert_msg(wf_engine_run(e, in, ni, &err) == WF_OK, "%s: %s", label, err.msg);
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
    int64_t stride = nx > 300 ? nx / 300 : 1;
    double num = 0, den = 0;
    int skipped = 0, used = 0;
    for (int64_t k = 0; k < nx; k += stride) {
        double h = h0 * (1.0 + fabs(((const float *)in[0].data)[k]));
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
    printf("%-34s grad vs FD: rel err %.2e (%d coords, %d kinks skipped)\n", label, rel, used,
           skipped);
    ck_assert_msg(skipped * 4 <= used + skipped, "%s: too many kinks (%d of %d)", label, skipped,
                  used + skipped);
    free(w);
    free(dy);
    free(dx);
    wf_engine_free(e);
    return rel;
}

START_TEST(test_ops_vs_ort_and_fd) {
    size_t len;
    char *txt = tu_read(tu_data("zoo/ops/ops.txt"), &len);
    char *save = NULL;
    int count = 0;
    double worst = 0;
    for (char *l = strtok_r(txt, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[64];
        int rank, used;
        ck_assert(sscanf(l, "%63s %d%n", name, &rank, &used) == 2);
        wf_tensor x = {WF_DTYPE_FLOAT, rank, {0}, NULL};
        const char *p = l + used;
        for (int d = 0; d < rank; d++) {
            long long v;
            int k;
            ck_assert(sscanf(p, "%lld%n", &v, &k) == 1);
            x.dims[d] = v;
            p += k;
        }
        char rel[256];
        snprintf(rel, sizeof rel, "zoo/ops/%s.onnx", name);
        wf_model *m = NULL;
        wf_error err;
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s", err.msg);
        size_t nx, ny;
        snprintf(rel, sizeof rel, "zoo/ops/%s.x.f32", name);
        x.data = read_f32(rel, &nx);
        ck_assert_uint_eq(nx, (size_t)wf_tensor_numel(&x));
        snprintf(rel, sizeof rel, "zoo/ops/%s.ort0.f32", name);
        float *want = read_f32(rel, &ny);
        snprintf(rel, sizeof rel, "zoo/ops/%s.shape.txt", name);
        char *shp = tu_read(tu_data(rel), &len);
        wf_engine *e = NULL;
        ck_assert(wf_engine_new(m, 1, 0, &e, &err) == WF_OK);
        ck_assert_msg(wf_engine_run(e, &x, 1, &err) == WF_OK, "%s: %s", name, err.msg);
        const wf_tensor *y = wf_engine_output(e, 0);
        char got_shape[256] = "";
        size_t gl = 0;
        for (int d = 0; d < y->rank; d++)
            gl += (size_t)snprintf(got_shape + gl, sizeof got_shape - gl, "%s%lld", d ? " " : "",
                                   (long long)y->dims[d]);
        ck_assert_msg(!strncmp(got_shape, shp, strlen(got_shape)) &&
                          (shp[strlen(got_shape)] == '\n' || !shp[strlen(got_shape)]),
                      "%s: shape '%s', ORT '%s'", name, got_shape, shp);
        ck_assert_uint_eq((size_t)wf_tensor_numel(y), ny);
        double d = 0;
        for (size_t i = 0; i < ny; i++) {
            double a = ((const float *)y->data)[i], b = want[i];
            double di = fabs(a - b) / (1.0 + fabs(b));
            if (!(di <= d))
                d = di;
        }
        printf("%-34s vs ORT: max |diff|/(1+|y|) %.2e\n", name, d);
        ck_assert_msg(d <= 1e-6, "%s: differs from ORT by %.3g", name, d);
        worst = fmax(worst, d);
        wf_engine_free(e);
        /* every graph but the integer casts has a gradient with respect to x */
        if (strcmp(name, "cast_chain")) {
            double r = grad_check(name, m, &x, 1, 1e-2);
            ck_assert_msg(r < 1e-3, "%s: backward disagrees with finite differences (%.3g)", name,
                          r);
        }
        free(shp);
        free(want);
        free(x.data);
        wf_model_free(m);
        count++;
    }
    free(txt);
    printf("%d op graphs match ORT (worst %.2e)\n", count, worst);
    ck_assert_int_ge(count, 58);
}
END_TEST

/* GRU/LSTM backward through time against finite differences: ONNX node tests (their inputs)
 * and the hand-built zoo graphs (window 0). */
START_TEST(test_rnn_grads) {
    const char *node_tests[] = {"test_gru_defaults",           "test_gru_with_initial_bias",
                                "test_gru_batchwise",          "test_lstm_defaults",
                                "test_lstm_with_initial_bias", "test_lstm_batchwise"};
    for (size_t t = 0; t < sizeof node_tests / sizeof node_tests[0]; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", tu_data("onnx/node"), node_tests[t]);
        wf_model *m = NULL;
        wf_error err;
        ck_assert_msg(wf_model_load(path, &m, &err) == WF_OK, "%s", err.msg);
        int ni = wf_model_n_inputs(m);
        wf_tensor in[8];
        memset(in, 0, sizeof in);
        for (int i = 0; i < ni; i++) {
            snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%d.pb", tu_data("onnx/node"),
                     node_tests[t], i);
            size_t len;
            char *buf = tu_read(path, &len);
            ck_assert(wf_onnx_read_tensor(buf, len, &in[i], NULL, 0, &err) == WF_OK);
            free(buf);
        }
        double r = grad_check(node_tests[t], m, in, ni, 1e-2);
        ck_assert_msg(r < 1e-3, "%s: BPTT disagrees with finite differences (%.3g)", node_tests[t],
                      r);
        for (int i = 0; i < ni; i++)
            free(in[i].data);
        wf_model_free(m);
    }
    const char *hand[] = {"h_gru_fwd_lbr", "h_gru_rev_init", "h_gru_bi_layout1",
                          "h_lstm_fwd",    "h_lstm_bi_init", "h_lstm_rev_layout1"};
    size_t nw;
    float *X = read_f32("zoo/windows.f32", &nw);
    for (size_t t = 0; t < sizeof hand / sizeof hand[0]; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "zoo/%s.onnx", hand[t]);
        wf_model *m = NULL;
        wf_error err;
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s", err.msg);
        wf_tensor x = {WF_DTYPE_FLOAT, 3, {1, 8, 36}, NULL};
        x.data = malloc(8 * 36 * sizeof(float));
        memcpy(x.data, X, 8 * 36 * sizeof(float));
        double r = grad_check(hand[t], m, &x, 1, 1e-2);
        ck_assert_msg(r < 1e-3, "%s: BPTT disagrees with finite differences (%.3g)", hand[t], r);
        free(x.data);
        wf_model_free(m);
    }
    free(X);
}
END_TEST

/* The engine's GRU/LSTM kernels (kernels_rnn.c) against the per-row naive reference (double dot
 * products): outputs and the gradients of X and the initial states, on every recurrent node of
 * the zoo's torch exports and hand-built graphs, 5 windows. */
START_TEST(test_rnn_batched_vs_naive) {
    const char *models[] = {"gru1_d13",       "gru2_d17",          "lstm1_d13",        "lstm2_d17",
                            "h_gru_fwd_lbr",  "h_gru_rev_init",    "h_gru_bi_layout1", "h_lstm_fwd",
                            "h_lstm_bi_init", "h_lstm_rev_layout1"};
    size_t nw;
    float *X = read_f32("zoo/windows.f32", &nw);
    int nodes = 0;
    double worst_f = 0, worst_b = 0;
    for (size_t t = 0; t < sizeof models / sizeof models[0]; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "zoo/%s.onnx", models[t]);
        wf_model *m = NULL;
        wf_engine *e = NULL;
        wf_error err;
        ck_assert(wf_model_load(tu_data(rel), &m, &err) == WF_OK);
        ck_assert(wf_engine_new(m, 5, 0, &e, &err) == WF_OK);
        wf_tensor x = {WF_DTYPE_FLOAT, 3, {5, 8, 36}, X};
        ck_assert_msg(wf_engine_run(e, &x, 1, &err) == WF_OK, "%s", err.msg);
        for (int j = 0; j < m->n_nodes; j++) {
            const wf_node *n = &m->nodes[j];
            if (strcmp(n->op->name, "GRU") && strcmp(n->op->name, "LSTM"))
                continue;
            nodes++;
            wf_tensor *pin[8] = {0}, *pout[3] = {0}, mine[3], ref[3];
            for (int k = 0; k < n->n_in; k++)
                pin[k] = n->in[k] >= 0 ? (wf_tensor *)wf_engine_value(e, n->in[k]) : NULL;
            float *g_out[3] = {0}, *gin_b[8] = {0}, *gin_n[8] = {0};
            for (int k = 0; k < n->n_out; k++) {
                if (n->out[k] < 0)
                    continue;
                mine[k] = *wf_engine_value(e, n->out[k]);
                ref[k] = mine[k];
                size_t cnt = (size_t)wf_tensor_numel(&mine[k]);
                ref[k].data = malloc(cnt * sizeof(float));
                g_out[k] = malloc(cnt * sizeof(float));
                for (size_t i = 0; i < cnt; i++)
                    g_out[k][i] = (float)sin(0.37 * (double)i + k);
                pout[k] = &ref[k];
            }
            size_t scr = 0;
            ck_assert(n->op->shape(n, pin, pout, &scr, &err) == WF_OK);
            void *scratch = malloc(scr);
            wf_rnn_forward_naive(n, pin, pout, scratch);
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    for (int64_t i = 0; i < wf_tensor_numel(&ref[k]); i++)
                        worst_f = fmax(worst_f, fabs((double)((float *)ref[k].data)[i] -
                                                     ((float *)mine[k].data)[i]));
            for (int k = 0; k < n->n_in; k++)
                if ((k == 0 || k == 5 || k == 6) && pin[k]) {
                    gin_b[k] = calloc((size_t)wf_tensor_numel(pin[k]), sizeof(float));
                    gin_n[k] = calloc((size_t)wf_tensor_numel(pin[k]), sizeof(float));
                }
            n->op->backward(n, pin, pout, gin_b, g_out, scratch);
            wf_rnn_backward_naive(n, pin, pout, gin_n, g_out, scratch);
            for (int k = 0; k < 8; k++)
                if (gin_b[k])
                    for (int64_t i = 0; i < wf_tensor_numel(pin[k]); i++)
                        worst_b = fmax(worst_b, fabs((double)gin_b[k][i] - gin_n[k][i]) /
                                                    (1.0 + fabs(gin_n[k][i])));
            for (int k = 0; k < 8; k++) {
                free(gin_b[k]);
                free(gin_n[k]);
            }
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0) {
                    free(ref[k].data);
                    free(g_out[k]);
                }
            free(scratch);
        }
        wf_engine_free(e);
        wf_model_free(m);
    }
    free(X);
    printf("GRU/LSTM batched vs naive on %d nodes: forward max|diff| %.2e, backward %.2e\n", nodes,
           worst_f, worst_b);
    ck_assert_int_ge(nodes, 10);
    ck_assert(worst_f <= 1e-5);
    ck_assert(worst_b <= 1e-5);
}
END_TEST

/* Non-default RNN activations are refused at load, naming the node and what is supported. */
START_TEST(test_rnn_activations) {
    wf_model *m = NULL;
    wf_error err;
    ck_assert(wf_model_load(tu_data("zoo/bad_gru_relu.onnx"), &m, &err) == WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "GRU") && strstr(err.msg, "activations 'Sigmoid,Relu'") &&
                      strstr(err.msg, "only the default Sigmoid,Tanh"),
                  "%s", err.msg);
    /* written-out defaults load (h_gru_bi_acts, h_lstm_acts are scored in test_model_zoo) */
    ck_assert(wf_model_load(tu_data("zoo/h_gru_bi_acts.onnx"), &m, &err) == WF_OK);
    wf_model_free(m);
}
END_TEST

/* A shape that depends on the data cannot be folded: the error names the node. */
START_TEST(test_fold_error_names_node) {
    pb g = {0}, m = {0};
    int64_t xd[2] = {-1, 4}, yd[1] = {-1};
    /* y = Reshape(x, Cast<int64>(ReduceMax(x))) : the target shape is data */
    pb_node3(&g, "ReduceMax", "x", NULL, NULL, "mx", "keepdims", 0);
    pb_node3(&g, "Cast", "mx", NULL, NULL, "mi", "to", 7);
    pb_node3(&g, "Unsqueeze", "mi", "ax", NULL, "sh", NULL, 0);
    int64_t ax[1] = {0}, axd[1] = {1};
    pb_init_raw(&g, "ax", 7, 1, axd, ax, sizeof ax);
    pb_node3(&g, "Reshape", "x", "sh", NULL, "y", NULL, 0);
    value_info(&g, 11, "x", 1, 2, xd);
    value_info(&g, 12, "y", 1, 1, yd);
    model_wrap(&m, &g, 13);
    wf_model *mod = NULL;
    wf_error err;
    ck_assert_msg(wf_model_load_mem(m.p, m.len, "dyn.onnx", &mod, &err) == WF_OK, "%s", err.msg);
    free(m.p);
    wf_engine *e = NULL;
    ck_assert(wf_engine_new(mod, 1, 0, &e, &err) == WF_OK);
    float xs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    wf_tensor x = {WF_DTYPE_FLOAT, 2, {2, 4}, xs};
    ck_assert(wf_engine_run(e, &x, 1, &err) != WF_OK);
    ck_assert_msg(strstr(err.msg, "Reshape") && strstr(err.msg, "shape input"), "%s", err.msg);
    wf_engine_free(e);
    wf_model_free(mod);
}
END_TEST

/* Every unsupported op at once, grouped, with counts and first nodes. */
START_TEST(test_scan_unsupported) {
    pb g = {0}, m = {0};
    int64_t xd[2] = {-1, 4};
    pb_node3(&g, "Relu", "x", NULL, NULL, "a", NULL, 0);
    pb_node3(&g, "Einsum", "a", NULL, NULL, "b", NULL, 0);
    pb_node3(&g, "Loop", "b", NULL, NULL, "c", NULL, 0);
    pb_node3(&g, "Einsum", "c", NULL, NULL, "y", NULL, 0);
    value_info(&g, 11, "x", 1, 2, xd);
    value_info(&g, 12, "y", 1, 2, xd);
    model_wrap(&m, &g, 13);
    wf_op_scan s;
    wf_error err;
    ck_assert(wf_model_scan_ops_mem(m.p, m.len, &s, &err) == WF_OK);
    ck_assert_int_eq(s.n_nodes, 4);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.items[0].op, "Einsum");
    ck_assert_int_eq(s.items[0].count, 2);
    ck_assert_int_eq(s.items[0].first_node, 1);
    ck_assert_str_eq(s.items[1].op, "Loop");
    ck_assert_int_eq(s.items[1].count, 1);
    char buf[256];
    wf_op_scan_format(&s, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "Einsum (2 nodes, first '' #1), Loop (1 node, first '' #2)"), "%s",
                  buf);
    wf_op_scan_free(&s);
    /* the loader names them all too */
    wf_model *mod = NULL;
    ck_assert(wf_model_load_mem(m.p, m.len, "u.onnx", &mod, &err) == WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "Einsum (2 nodes") && strstr(err.msg, "Loop (1 node"), "%s",
                  err.msg);
    free(m.p);
    /* every zoo model: nothing unsupported */
    ck_assert(wf_model_scan_ops(tu_data("zoo/transformer_d17.onnx"), &s, &err) == WF_OK);
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_gt(s.n_nodes, 20);
    wf_op_scan_free(&s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("engine_ops10");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ops_vs_ort_and_fd);
    tcase_add_test(tc, test_rnn_grads);
    tcase_add_test(tc, test_rnn_batched_vs_naive);
    tcase_add_test(tc, test_rnn_activations);
    tcase_add_test(tc, test_fold_error_names_node);
    tcase_add_test(tc, test_scan_unsupported);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
