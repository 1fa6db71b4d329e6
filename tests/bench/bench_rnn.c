/*
 * GRU and LSTM throughput (issue 10): the zoo's torch exports (tests/data/zoo/{gru,lstm}{1,2}_d17:
 * 1 and 2 layers (lstm2 bidirectional) over the 36 steps of an 8-channel window, hidden size 6;
 * see gen_zoo.py) scored
 * in batches through the predictor, on 1 and 2 threads (one predictor context per thread, rows
 * split between them), and the gradient (backward through time) on 1 thread. Compare with
 * ONNX Runtime on the same models and batch: node tests/bench/ort_rnn.js.
 * usage: bench_rnn [batch] [repeats] [model (one of the four, or all)] [threads (1 or 2: that
 *        count only, no gradient; default both and the gradient)]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whyflag/model.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): on a loaded machine the wall time counts the
 * other jobs' share too, the CPU time much less so. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct job {
    const wf_predictor *p;
    const float *x;
    float *y;
    int64_t n;
    int chunk;
    int st;
} job;

static void *run(void *arg) {
    job *j = arg;
    void *ctx = NULL;
    wf_error err = {0};
    if (j->p->ctx_new(j->p->user, j->chunk, &ctx, &err)) {
        fprintf(stderr, "ctx: %s\n", err.msg);
        j->st = 1;
        return NULL;
    }
    size_t ct = (size_t)j->p->C * (size_t)j->p->T;
    for (int64_t i = 0; i < j->n && !j->st; i += j->chunk) {
        int64_t k = j->n - i < j->chunk ? j->n - i : j->chunk;
        if (j->p->predict(ctx, j->x + (size_t)i * ct, k, j->y + i, &err)) {
            fprintf(stderr, "predict: %s\n", err.msg);
            j->st = 1;
        }
    }
    j->p->ctx_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    int64_t batch = argc > 1 ? atoll(argv[1]) : 4096;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    const int C = 8, T = 36, chunk = 256;
    size_t ct = (size_t)C * T;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/zoo/windows.f32", WF_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    float base[16 * 8 * 36];
    if (!f || fread(base, sizeof base, 1, f) != 1) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    fclose(f);
    float *x = malloc(sizeof(float) * ct * (size_t)batch),
          *y = malloc(sizeof(float) * (size_t)batch);
    float *dx = malloc(sizeof(float) * ct * (size_t)chunk);
    for (int64_t i = 0; i < batch; i++)
        memcpy(x + (size_t)i * ct, base + (size_t)(i % 16) * ct, sizeof(float) * ct);
    static const char *const models[] = {"gru1_d17", "gru2_d17", "lstm1_d17", "lstm2_d17"};
    for (int mi = 0; mi < 4; mi++) {
        if (argc > 3 && strcmp(argv[3], "all") && strcmp(argv[3], models[mi]))
            continue;
        snprintf(path, sizeof path, "%s/tests/data/zoo/%s.onnx", WF_SOURCE_DIR, models[mi]);
        wf_model *m = NULL;
        wf_predictor p;
        wf_error err = {0};
        if (wf_model_load(path, &m, &err) ||
            wf_model_predictor(m, C, T, WF_LAYOUT_AUTO, &p, &err)) {
            fprintf(stderr, "%s: %s\n", models[mi], err.msg);
            return 1;
        }
        int only = argc > 4 ? atoi(argv[4]) : 0;
        for (int threads = 1; threads <= 2; threads++) {
            if (only && threads != only)
                continue;
            double best = 1e30, best_cpu = 1e30;
            for (int r = 0; r < repeats; r++) {
                job jobs[2];
                pthread_t tid;
                int64_t half = threads == 1 ? batch : batch / 2;
                for (int t = 0; t < threads; t++)
                    jobs[t] = (job){&p,           x + (size_t)(t * half) * ct,
                                    y + t * half, t == threads - 1 ? batch - t * half : half,
                                    chunk,        0};
                double t0 = now(), c0 = cpu_now();
                if (threads == 2)
                    pthread_create(&tid, NULL, run, &jobs[1]);
                run(&jobs[0]);
                if (threads == 2)
                    pthread_join(tid, NULL);
                double dt = now() - t0, dc = cpu_now() - c0;
                if (dc < best_cpu)
                    best_cpu = dc;
                if (jobs[0].st || (threads == 2 && jobs[1].st))
                    return 1;
                if (dt < best)
                    best = dt;
            }
            printf("whyflag %-10s batch %lld, %d thread(s): %8.3f ms, %.3f M windows/s, cpu %8.3f "
                   "ms\n",
                   models[mi], (long long)batch, threads, best * 1e3, (double)batch / best / 1e6,
                   best_cpu * 1e3);
        }
        if (only) {
            wf_predictor_deinit(&p);
            wf_model_free(m);
            continue;
        }
        /* gradient through time, 1 thread, one chunk at a time */
        void *ctx = NULL;
        p.ctx_new(p.user, chunk, &ctx, &err);
        double t0 = now();
        int64_t n = batch < 1024 ? batch : 1024;
        for (int64_t i = 0; i < n; i += chunk) {
            int64_t k = n - i < chunk ? n - i : chunk;
            if (p.grad(ctx, x + (size_t)i * ct, k, y, dx, &err)) {
                fprintf(stderr, "grad: %s\n", err.msg);
                return 1;
            }
        }
        double dt = now() - t0;
        printf("whyflag %-10s gradient (BPTT), 1 thread: %.3f ms per 1,000 windows\n", models[mi],
               dt / (double)n * 1e6);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    free(x);
    free(y);
    free(dx);
    return 0;
}
