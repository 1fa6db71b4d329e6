/*
 * The structure-of-arrays GRU/LSTM forward and backward through time
 * (src/model/kernels/kernels_rnn.c) against the naive per-row references (wf_rnn_forward_naive,
 * wf_rnn_backward_naive: double dot products, libm expf/tanhf) on every
 * recurrent node of the zoo (torch exports and hand-built graphs: forward, reverse,
 * bidirectional, layout 1, linear_before_reset, initial states, Y/Y_h/Y_c), over a batch of 70
 * rows (one full 64-lane block and a padded one); the rows' bits do not depend on the batch they
 * are run in (so neither on the chunking nor on the thread count; forward); and its polynomial exp,
 * sigmoid and tanh against libm in double over a dense sweep.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels_rnn.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

static const char *const models[] = {
    "gru1_d13",       "gru2_d17",         "lstm1_d13",  "lstm2_d17",      "h_gru_fwd_lbr",
    "h_gru_rev_init", "h_gru_bi_layout1", "h_lstm_fwd", "h_lstm_bi_init", "h_lstm_rev_layout1"};
#define NMODELS (sizeof models / sizeof models[0])
enum { NB = 70, CT = 8 * 36 };

/* NB windows: the zoo's 16, tiled, each copy scaled a little differently. */
static float *windows(void) {
    size_t len;
    char *p = tu_read(tu_data("zoo/windows.f32"), &len);
    ck_assert_uint_ge(len, 16 * CT * sizeof(float));
    float *X = malloc((size_t)NB * CT * sizeof *X);
    for (int i = 0; i < NB; i++)
        for (int k = 0; k < CT; k++) {
            float v;
            memcpy(&v, p + ((size_t)(i % 16) * CT + (size_t)k) * sizeof v, sizeof v);
            X[(size_t)i * CT + (size_t)k] = v * (1.0f + 0.07f * (float)(i / 16));
        }
    free(p);
    return X;
}

static int is_rnn(const wf_node *n) {
    return !strcmp(n->op->name, "GRU") || !strcmp(n->op->name, "LSTM");
}

START_TEST(test_fast_vs_naive) {
    float *X = windows();
    int nodes = 0;
    double worst = 0, worst_b = 0;
    for (size_t t = 0; t < NMODELS; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "zoo/%s.onnx", models[t]);
        wf_model *m = NULL;
        wf_engine *e = NULL;
        wf_error err;
        ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s", err.msg);
        ck_assert(wf_engine_new(m, NB, 0, &e, &err) == WF_OK);
        wf_tensor x = {WF_DTYPE_FLOAT, 3, {NB, 8, 36}, X};
        ck_assert_msg(wf_engine_run(e, &x, 1, &err) == WF_OK, "%s", err.msg);
        for (int j = 0; j < m->n_nodes; j++) {
            const wf_node *n = &m->nodes[j];
            if (!is_rnn(n))
                continue;
            nodes++;
            wf_tensor *pin[8] = {0}, *pout[3] = {0}, ref[3];
            for (int k = 0; k < n->n_in; k++)
                pin[k] = n->in[k] >= 0 ? (wf_tensor *)wf_engine_value(e, n->in[k]) : NULL;
            for (int k = 0; k < n->n_out; k++) {
                if (n->out[k] < 0)
                    continue;
                ref[k] = *wf_engine_value(e, n->out[k]);
                ref[k].data = malloc((size_t)wf_tensor_numel(&ref[k]) * sizeof(float));
                pout[k] = &ref[k];
            }
            size_t scr = 0;
            ck_assert(n->op->shape(n, pin, pout, &scr, &err) == WF_OK);
            void *scratch = malloc(scr);
            wf_rnn_forward_naive(n, pin, pout, scratch);
            double node_worst = 0;
            for (int k = 0; k < n->n_out; k++) {
                if (n->out[k] < 0)
                    continue;
                const wf_tensor *fast = wf_engine_value(e, n->out[k]);
                ck_assert_int_eq(wf_tensor_numel(fast), wf_tensor_numel(&ref[k]));
                for (int64_t i = 0; i < wf_tensor_numel(fast); i++)
                    node_worst = fmax(node_worst, fabs((double)((const float *)fast->data)[i] -
                                                       ((const float *)ref[k].data)[i]));
                free(ref[k].data);
            }
            /* backward: gradients of X and the initial states for pseudo-random output
             * gradients, fast (n->op->backward) against wf_rnn_backward_naive */
            float *g_out[3] = {0}, *gin_f[8] = {0}, *gin_n[8] = {0};
            for (int k = 0; k < n->n_out; k++) {
                if (n->out[k] < 0)
                    continue;
                size_t cnt = (size_t)wf_tensor_numel(wf_engine_value(e, n->out[k]));
                g_out[k] = malloc(cnt * sizeof(float));
                for (size_t i = 0; i < cnt; i++)
                    g_out[k][i] = (float)sin(0.37 * (double)i + k);
                pout[k] = (wf_tensor *)wf_engine_value(e, n->out[k]);
            }
            for (int k = 0; k < n->n_in; k++)
                if ((k == 0 || k == 5 || k == 6) && pin[k]) {
                    gin_f[k] = calloc((size_t)wf_tensor_numel(pin[k]), sizeof(float));
                    gin_n[k] = calloc((size_t)wf_tensor_numel(pin[k]), sizeof(float));
                }
            n->op->backward(n, pin, pout, gin_f, g_out, scratch);
            wf_rnn_backward_naive(n, pin, pout, gin_n, g_out, scratch);
            double node_bwd = 0;
            for (int k = 0; k < 8; k++) {
                if (gin_f[k])
                    for (int64_t i = 0; i < wf_tensor_numel(pin[k]); i++)
                        node_bwd = fmax(node_bwd, fabs((double)gin_f[k][i] - gin_n[k][i]) /
                                                      (1.0 + fabs(gin_n[k][i])));
                free(gin_f[k]);
                free(gin_n[k]);
            }
            for (int k = 0; k < 3; k++)
                free(g_out[k]);
            printf("%-20s %s node %d: fast vs naive max|diff| %.2e, backward %.2e\n", models[t],
                   n->op->name, j, node_worst, node_bwd);
            worst = fmax(worst, node_worst);
            worst_b = fmax(worst_b, node_bwd);
            free(scratch);
        }
        wf_engine_free(e);
        wf_model_free(m);
    }
    free(X);
    printf("GRU/LSTM fast vs naive, %d nodes, batch %d: forward max|diff| %.2e, backward max "
           "|diff|/(1+|ref|) %.2e\n",
           nodes, NB, worst, worst_b);
    ck_assert_int_ge(nodes, 12);
    ck_assert_msg(worst <= 1e-6, "fast forward differs from the naive reference by %.3g", worst);
    ck_assert_msg(worst_b <= 1e-6, "fast backward differs from the naive reference by %.3g",
                  worst_b);
}
END_TEST

/* Each recurrent node's outputs for a row are bit-identical whether the row is run inside the
 * batch of NB or alone, or in a batch of 3 at an odd offset. */
START_TEST(test_rows_independent) {
    float *X = windows();
    const int lone[] = {0, 5, 63, 64, 69};
    int checked = 0;
    for (size_t t = 0; t < NMODELS; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "zoo/%s.onnx", models[t]);
        wf_model *m = NULL;
        wf_engine *big = NULL, *small = NULL;
        wf_error err;
        ck_assert(wf_model_load(tu_data(rel), &m, &err) == WF_OK);
        ck_assert(wf_engine_new(m, NB, 0, &big, &err) == WF_OK);
        ck_assert(wf_engine_new(m, 3, 0, &small, &err) == WF_OK);
        wf_tensor x = {WF_DTYPE_FLOAT, 3, {NB, 8, 36}, X};
        ck_assert(wf_engine_run(big, &x, 1, &err) == WF_OK);
        for (size_t r = 0; r < sizeof lone / sizeof lone[0]; r++) {
            for (int nb = 1; nb <= 3; nb += 2) {
                int row0 = lone[r] + nb > NB ? NB - nb : lone[r];
                wf_tensor xs = {WF_DTYPE_FLOAT, 3, {nb, 8, 36}, X + (size_t)row0 * CT};
                ck_assert(wf_engine_run(small, &xs, 1, &err) == WF_OK);
                for (int j = 0; j < m->n_nodes; j++) {
                    const wf_node *n = &m->nodes[j];
                    if (!is_rnn(n))
                        continue;
                    for (int k = 0; k < n->n_out; k++) {
                        if (n->out[k] < 0)
                            continue;
                        const wf_tensor *a = wf_engine_value(big, n->out[k]),
                                        *b = wf_engine_value(small, n->out[k]);
                        /* the batch axis of the output: Y (T, D, B, H) or (B, T, D, H);
                         * Y_h/Y_c (D, B, H) or (B, D, H) */
                        int layout = (int)n->p.axis;
                        int bax = layout ? 0 : (k == 0 ? 2 : 1);
                        int64_t outer = 1, inner = 1;
                        for (int d = 0; d < bax; d++)
                            outer *= a->dims[d];
                        for (int d = bax + 1; d < a->rank; d++)
                            inner *= a->dims[d];
                        ck_assert_int_eq(b->dims[bax], nb);
                        for (int64_t o = 0; o < outer; o++)
                            for (int q = 0; q < nb; q++) {
                                const float *pa = (const float *)a->data +
                                                  (o * NB + row0 + q) * inner,
                                            *pb = (const float *)b->data + (o * nb + q) * inner;
                                ck_assert_msg(!memcmp(pa, pb, (size_t)inner * sizeof(float)),
                                              "%s node %d output %d: row %d differs when run "
                                              "in a batch of %d",
                                              models[t], j, k, row0 + q, nb);
                            }
                        checked++;
                    }
                }
            }
        }
        wf_engine_free(big);
        wf_engine_free(small);
        wf_model_free(m);
    }
    free(X);
    ck_assert_int_ge(checked, 100);
}
END_TEST

/* exp (relative), sigmoid and tanh (absolute and relative) against libm in double over
 * [-40, 40] (2,000,001 points) and the special values. */
START_TEST(test_activations) {
    enum { N = 2000001, CH = 4096 };
    float xs[CH], ye[CH], ys[CH], yt[CH];
    double e_rel = 0, s_abs = 0, s_rel = 0, t_abs = 0, t_rel = 0;
    for (int i0 = 0; i0 < N; i0 += CH) {
        int n = N - i0 < CH ? N - i0 : CH;
        for (int i = 0; i < n; i++)
            xs[i] = (float)(-40.0 + 80.0 * (double)(i0 + i) / (N - 1));
        wf_k_expf_vec(ye, xs, (size_t)n);
        wf_k_sigmoid_vec(ys, xs, (size_t)n);
        wf_k_tanh_vec(yt, xs, (size_t)n);
        for (int i = 0; i < n; i++) {
            double x = xs[i], e = exp(x), s = 1.0 / (1.0 + exp(-x)), t = tanh(x);
            e_rel = fmax(e_rel, fabs(ye[i] - e) / e);
            s_abs = fmax(s_abs, fabs(ys[i] - s));
            s_rel = fmax(s_rel, fabs(ys[i] - s) / s);
            t_abs = fmax(t_abs, fabs(yt[i] - t));
            if (fabs(x) > 0.5)
                t_rel = fmax(t_rel, fabs(yt[i] - t) / fabs(t));
        }
    }
    printf("exp rel %.2e; sigmoid abs %.2e rel %.2e; tanh abs %.2e, rel (|x| > 0.5) %.2e\n", e_rel,
           s_abs, s_rel, t_abs, t_rel);
    /* measured: 1.02e-7; 8.89e-8, 1.49e-7; 8.90e-8, 1.55e-7 */
    ck_assert(e_rel <= 1.5e-7);
    ck_assert(s_abs <= 1e-7 && s_rel <= 2e-7);
    ck_assert(t_abs <= 1e-7 && t_rel <= 2e-7);
    /* special values: NaN stays NaN, infinities saturate */
    float sp[4] = {NAN, INFINITY, -INFINITY, 0.0f}, o[4];
    wf_k_sigmoid_vec(o, sp, 4);
    ck_assert(isnan(o[0]) && o[1] == 1.0f && o[2] >= 0.0f && o[2] < 1e-37f && o[3] == 0.5f);
    wf_k_tanh_vec(o, sp, 4);
    ck_assert(isnan(o[0]) && o[1] == 1.0f && o[2] == -1.0f && o[3] == 0.0f);
    wf_k_expf_vec(o, sp, 4);
    ck_assert(isnan(o[0]) && o[1] > 6e37f && o[2] < 2e-38f && o[3] == 1.0f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_rnn");
    TCase *tc = tcase_create("rnn");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fast_vs_naive);
    tcase_add_test(tc, test_rows_independent);
    tcase_add_test(tc, test_activations);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
