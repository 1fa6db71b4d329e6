/*
 * Engine throughput: rows/s and GFLOP/s for the Aurora mlp and cnn1d at batch 100,000 (the
 * 1,716 reference windows tiled), with 1 thread and with 2 threads (the batch split across 2
 * predictor contexts in 2 pthreads, OpenBLAS single-threaded), beside the machine's measured
 * sgemm peak (1024^3 products, OpenBLAS with 1 and 2 threads). Run by hand when the machine is
 * quiet; the ONNX Runtime peer is tests/bench/ort_bench.js on the same batch.
 *
 * usage: bench_engine [batch] [repeats]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct job {
    wf_predictor *p;
    void *ctx;
    const float *x;
    int64_t n;
    float *y;
    int rc;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    wf_error err;
    j->rc = j->p->predict(j->ctx, j->x, j->n, j->y, &err);
    if (j->rc)
        fprintf(stderr, "predict: %s\n", err.msg);
    return NULL;
}

static double sgemm_peak(int threads) {
    int n = 1024;
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *c = malloc((size_t)n * n * sizeof *c);
    for (int i = 0; i < n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    wf_k_blas_set_threads(threads);
    wf_k_gemm(c, a, b, n, n, n, 0, 0, 1.0f, 0.0f); /* warm up */
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        wf_k_gemm(c, a, b, n, n, n, 0, 0, 1.0f, 0.0f);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    free(a);
    free(b);
    free(c);
    wf_k_blas_set_threads(1);
    return 2.0 * n * n * n / best / 1e9;
}

static int bench_model(const char *file, const wf_windows *ws, int64_t batch, int repeats) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/aurora/%s", WF_SOURCE_DIR, file);
    wf_model *m = NULL;
    wf_error err;
    if (wf_model_load(path, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    wf_engine *e = NULL;
    int64_t flops = -1;
    if (!wf_engine_new(m, 1, WF_ENGINE_SHAPES_ONLY, &e, &err))
        flops = wf_engine_flops(e);
    wf_engine_free(e);
    wf_predictor p;
    if (wf_model_predictor(m, ws->C, ws->T, WF_LAYOUT_AUTO, &p, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        wf_model_free(m);
        return 1;
    }
    size_t ct = (size_t)ws->C * (size_t)ws->T;
    float *x = malloc((size_t)batch * ct * sizeof *x), *y = malloc((size_t)batch * sizeof *y);
    for (int64_t i = 0; i < batch; i++)
        memcpy(x + (size_t)i * ct, ws->data + (size_t)(i % ws->n) * ct, ct * sizeof *x);
    for (int threads = 1; threads <= 2; threads++) {
        job jobs[2];
        int64_t half = (batch + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
            jobs[t].p = &p;
            jobs[t].x = x + (size_t)(t * half) * ct;
            jobs[t].n = t == threads - 1 ? batch - t * half : half;
            jobs[t].y = y + t * half;
            p.ctx_new(p.user, jobs[t].n, &jobs[t].ctx, &err);
        }
        double best = 1e9;
        for (int r = 0; r < repeats; r++) {
            pthread_t th[2];
            double t0 = now();
            for (int t = 0; t < threads; t++)
                pthread_create(&th[t], NULL, run_job, &jobs[t]);
            for (int t = 0; t < threads; t++)
                pthread_join(th[t], NULL);
            double dt = now() - t0;
            if (dt < best)
                best = dt;
        }
        double rows = (double)batch / best;
        printf("%-12s batch %lld, %d thread(s): %8.3f ms, %6.3f M rows/s, %6.2f GFLOP/s "
               "(%lld FLOPs per row)\n",
               file, (long long)batch, threads, best * 1e3, rows / 1e6,
               flops > 0 ? rows * (double)flops / 1e9 : 0.0, (long long)flops);
        for (int t = 0; t < threads; t++)
            p.ctx_free(jobs[t].ctx);
    }
    free(x);
    free(y);
    wf_predictor_deinit(&p);
    wf_model_free(m);
    return 0;
}

int main(int argc, char **argv) {
    int64_t batch = argc > 1 ? atoll(argv[1]) : 100000;
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/data/windows.json", WF_SOURCE_DIR);
    wf_windows ws;
    wf_error err;
    if (wf_windows_read_json(path, &ws, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("sgemm peak (1024^3, OpenBLAS): %.1f GFLOP/s with 1 thread, %.1f with 2\n",
           sgemm_peak(1), sgemm_peak(2));
    wf_k_blas_set_threads(1); /* the engine parallelizes across windows itself */
    int rc = bench_model("mlp.onnx", &ws, batch, repeats) ||
             bench_model("cnn1d.onnx", &ws, batch, repeats);
    wf_windows_free(&ws);
    return rc;
}
