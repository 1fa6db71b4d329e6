/*
 * Explanation throughput on the Aurora mlp and cnn1d at the peers' settings (shared/fixtures
 * README): KernelSHAP with 8 channel groups and a 50-window background (every coalition: the
 * exact values, as shap's nsamples=2048 is for 8 players), KernelSHAP over 288 cells with
 * nsamples 2048, and Integrated Gradients with 50 Gauss-Legendre steps. Prints ms per
 * explanation, explanations/s and the effective GFLOP/s (model rows evaluated x the model's FLOPs
 * per forward evaluation; IG counts forward + backward as 3 forwards; the affine shortcut does
 * fewer real FLOPs than it is credited with, which is the point of it), with 1 and 2 threads.
 * Beside it, the work actually executed (issue 12): the engine's FLOP count of every node it ran
 * (2MNK + bias per Gemm/Conv, one per element elsewhere; forward, forward from the hidden layer
 * under the affine shortcut, and backward, a data gradient counted as its node's forward), its
 * GFLOP/s and the fraction of the single-core sgemm peak measured at the start of the same run
 * (1024^3 through wf_k_gemm on 1 thread, best of 7 by the thread's CPU clock). GFLOP/s is over wall
 * time; GFLOP/cpu over the process's CPU seconds (all threads), which is what a shared machine
 * leaves comparable, and the fraction of peak is that per-core rate over the peak (also taken in
 * CPU seconds). Not counted: the shortcut's own partial sums (coalitions.c, not engine nodes), nor
 * IG's two first-layer evaluations per window on the hidden path (ig.c). Targets (issue 4): mlp
 * below 8 ms (8 groups) and 25 ms (288 cells) per explanation, IG below 0.13 ms per window. Run by
 * hand when the machine is quiet.
 *
 * usage: bench_explain [scale [mlp|cnn1d [workload [max_threads [exact]]]]]
 *   scale multiplies the number of windows (default 1); workload 0, 1, 2 runs that one only
 *   (8 groups, 288 cells, IG); max_threads 1 skips the 2-thread runs; "exact" sets
 *   explain.arithmetic "exact" (no first-layer shortcut: every coalition row through the graph).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "whyflag/config.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) {
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU seconds of the whole process (all threads): on a shared machine the time the work ran. */
static double cpu_now(void) {
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

typedef struct cfg {
    const char *label;
    int kshap, cells, n;
} cfg;

/* sgemm GFLOP/s of one 1024^3 product on 1 OpenBLAS thread, best of 7, timed by the calling
 * thread's CPU clock: OpenBLAS's idle pool threads spin for a while after a multi-threaded call,
 * and the process clock would charge their spinning to the product (it halved the peak once). */
static double sgemm_peak(void) {
    const int n = 1024;
    float *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n),
          *c = malloc(sizeof(float) * (size_t)n * n);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0;
    }
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.25f;
        b[i] = (float)(i % 5) * 0.5f;
    }
    int th = wf_k_blas_get_threads();
    wf_k_blas_set_threads(1);
    double best = 0;
    for (int r = 0; r < 8; r++) { /* the first warms up */
        double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        wf_k_gemm(c, a, b, n, n, n, 0, 0, 1.0f, 0.0f);
        double g = 2.0 * n * n * n / (clock_s(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e-9;
        if (r > 0 && g > best)
            best = g;
    }
    wf_k_blas_set_threads(th);
    free(a);
    free(b);
    free(c);
    return best;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    const char *only = argc > 2 ? argv[2] : NULL; /* a model name: run that one only */
    int only_cfg = argc > 3 ? atoi(argv[3]) : -1; /* 0, 1, 2: that workload only */
    int max_threads = argc > 4 ? atoi(argv[4]) : 2;
    int exact = argc > 5 && !strcmp(argv[5], "exact"); /* every coalition row through the graph */
    double peak = sgemm_peak();
    printf("sgemm peak (1024^3, 1 thread): %.1f GFLOP/s\n", peak);
    const char *models[2] = {"mlp", "cnn1d"};
    const double flops[2] = {41797, 142053}; /* shared/fixtures/aurora/models_info.json */
    wf_error err = {0};
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    if (wf_windows_read_json(WF_SOURCE_DIR "/tests/data/data/windows.json", &ws, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_background bg;
    if (wf_background_build(&s, &ws, NULL, &bg, &err)) { /* 50 windows, seed 0 */
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const cfg cfgs[3] = {{"KernelSHAP 8 groups, bg 50, exact", 1, 0, 40},
                         {"KernelSHAP 288 cells, nsamples 2048", 1, 1, 6},
                         {"IG 50 steps Gauss-Legendre", 0, 0, 400}};
    printf("%-6s %-38s %7s %11s %10s %10s %12s %9s %9s %7s\n", "model", "method", "threads",
           "ms/expl", "expl/s", "eff GFLOP/s", "exec MFLOP/w", "GFLOP/s", "GFLOP/cpu", "of peak");
    for (int mi = 0; mi < 2; mi++) {
        if (only && strcmp(only, models[mi]))
            continue;
        char path[512];
        snprintf(path, sizeof path, WF_SOURCE_DIR "/tests/data/aurora/%s.onnx", models[mi]);
        wf_model *m;
        wf_predictor p;
        if (wf_model_load(path, &m, &err) ||
            wf_model_predictor(m, ws.C, ws.T, WF_LAYOUT_AUTO, &p, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        for (int ci = 0; ci < 3; ci++) {
            if (only_cfg >= 0 && ci != only_cfg)
                continue;
            const cfg *c = &cfgs[ci];
            int n = c->n * scale;
            if (n > ws.n)
                n = (int)ws.n;
            int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
            for (int i = 0; i < n; i++)
                idx[i] = (int64_t)i * (ws.n / n);
            wf_explanation *ex = calloc((size_t)n, sizeof *ex);
            for (int threads = 1; threads <= max_threads; threads++) {
                wf_explain_settings_default(&s);
                s.do_kernelshap = c->kshap;
                s.do_ig = !c->kshap;
                s.groups = c->cells ? WF_GROUPS_CELL : WF_GROUPS_CHANNEL;
                s.nsamples = 2048;
                s.steps = 50;
                s.threads = threads;
                if (exact)
                    s.arithmetic = WF_ARITHMETIC_EXACT;
                int64_t f0 = wf_engine_flops_executed();
                double t0 = now(), c0 = cpu_now();
                if (wf_explain_run(&s, &p, &bg, &ws, idx, n, ex, &err)) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
                double dt = now() - t0, dc = cpu_now() - c0;
                double fx = (double)(wf_engine_flops_executed() - f0);
                double rows = 0;
                for (int i = 0; i < n; i++) {
                    if (ex[i].status) {
                        fprintf(stderr, "window %d: %s\n", i, ex[i].error);
                        return 1;
                    }
                    rows += c->kshap ? (double)ex[i].kshap.samples * (double)bg.n
                                     : 3.0 * (ex[i].ig.steps + 2);
                    wf_explanation_deinit(&ex[i]);
                }
                double gx = fx / dt * 1e-9, gc = fx / dc * 1e-9;
                printf("%-6s %-38s %7d %11.3f %10.1f %10.2f %12.2f %9.2f %9.2f %6.1f%%\n",
                       models[mi], c->label, threads, 1e3 * dt / n, n / dt,
                       rows * flops[mi] / dt * 1e-9, fx / n * 1e-6, gx, gc, 100.0 * gc / peak);
                fflush(stdout);
            }
            free(ex);
            free(idx);
        }
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    wf_background_deinit(&bg);
    wf_windows_free(&ws);
    return 0;
}
