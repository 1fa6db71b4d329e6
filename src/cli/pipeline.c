/*
 * Shared pipeline pieces for the CLI: scoring on all cores, progress line, data directory.
 */
#include "cli/pipeline.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCORE_BATCH 4096

double wf_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void wf_progress_init(wf_progress *p, int quiet, const char *what) {
    p->enabled = !quiet && isatty(fileno(stderr));
    p->t0 = wf_now_seconds();
    p->what = what;
}

void wf_progress_update(wf_progress *p, int64_t done, int64_t total) {
    if (!p || !p->enabled || total <= 0)
        return;
    double el = wf_now_seconds() - p->t0;
    double eta = done > 0 ? el * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r  %s %lld/%lld (%3.0f%%), elapsed %.0f s, ETA %.0f s   ", p->what,
            (long long)done, (long long)total, 100.0 * (double)done / (double)total, el, eta);
    fflush(stderr);
}

void wf_progress_done(wf_progress *p) {
    if (p && p->enabled)
        fprintf(stderr, "\n");
}

int wf_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

const char *wf_data_dir(void) {
    const char *d = getenv("WHYFLAG_DATA_DIR");
    return d && *d ? d : WF_DATA_DIR;
}

typedef struct score_job {
    const wf_predictor *p;
    const wf_windows *ws;
    double *scores;
    int64_t lo, hi; /* window range of this thread */
    wf_status st;
    wf_error err;
    int64_t done; /* read by the main thread only after join */
} score_job;

static void *score_thread(void *arg) {
    score_job *j = arg;
    const wf_predictor *p = j->p;
    int64_t cells = (int64_t)p->C * p->T;
    void *ctx = NULL;
    float *x = NULL, *y = NULL;
    j->st = p->ctx_new(p->user, SCORE_BATCH, &ctx, &j->err);
    if (j->st)
        return NULL;
    x = malloc(sizeof(float) * (size_t)(cells * SCORE_BATCH));
    y = malloc(sizeof(float) * SCORE_BATCH);
    if (!x || !y) {
        j->st = wf_error_set(&j->err, WF_ERR_NOMEM, "out of memory scoring windows");
        goto done;
    }
    for (int64_t b = j->lo; b < j->hi; b++) {
        /* one window per call: see arr_thread */
        int64_t n = 1;
        for (int64_t i = 0; i < n; i++)
            memcpy(x + i * cells, j->ws->w[b + i].values, sizeof(float) * (size_t)cells);
        j->st = p->predict(ctx, x, n, y, &j->err);
        if (j->st)
            goto done;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(y[i])) {
                char t[24];
                j->st = wf_error_set(&j->err, WF_ERR_NUMERIC,
                                     "the model returned a non-finite score for window %lld "
                                     "(turbine %s, start %s)",
                                     (long long)(b + i), j->ws->w[b + i].turbine_id,
                                     wf_time_format_iso(j->ws->w[b + i].start, t));
                goto done;
            }
            j->scores[b + i] = y[i];
        }
        j->done = b + n - j->lo;
    }
done:
    free(x);
    free(y);
    p->ctx_free(ctx);
    return NULL;
}

wf_status wf_score_windows(const wf_predictor *p, const wf_windows *ws, int threads,
                           double *scores, wf_progress *progress, wf_error *err) {
    if (p->C != ws->C || p->T != ws->T)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "the model takes windows of %d channels x %d steps, the data has "
                            "%d x %d",
                            p->C, p->T, ws->C, ws->T);
    if (threads <= 0)
        threads = wf_cpu_count();
    if (threads > 64)
        threads = 64;
    if ((int64_t)threads > ws->n / 256 + 1)
        threads = (int)(ws->n / 256 + 1); /* small sets: one thread is faster */
    score_job jobs[64];
    pthread_t tids[64];
    int64_t per = (ws->n + threads - 1) / threads;
    for (int t = 0; t < threads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].p = p;
        jobs[t].ws = ws;
        jobs[t].scores = scores;
        jobs[t].lo = t * per < ws->n ? t * per : ws->n;
        jobs[t].hi = (t + 1) * per < ws->n ? (t + 1) * per : ws->n;
    }
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, score_thread, &jobs[t]) != 0)
            break;
        started = t;
    }
    /* Threads that failed to start: their ranges run on this thread after its own. */
    score_thread(&jobs[0]);
    for (int t = started + 1; t < threads; t++)
        score_thread(&jobs[t]);
    for (int t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);
    wf_progress_update(progress, ws->n, ws->n);
    for (int t = 0; t < threads; t++) {
        if (jobs[t].st) {
            if (err)
                *err = jobs[t].err;
            return jobs[t].st;
        }
    }
    return WF_OK;
}

/* ---------------------------------------------------------------- scoring an array */

typedef struct arr_job {
    const wf_predictor *p;
    const float *x;
    double *y;
    int64_t lo, hi;
    wf_status st;
    wf_error err;
} arr_job;

static void *arr_thread(void *arg) {
    arr_job *j = arg;
    const wf_predictor *p = j->p;
    size_t cells = (size_t)p->C * (size_t)p->T;
    void *ctx = NULL;
    float *y = malloc(sizeof(float) * SCORE_BATCH);
    if (!y) {
        j->st = wf_error_set(&j->err, WF_ERR_NOMEM, "out of memory scoring windows");
        return NULL;
    }
    j->st = p->ctx_new(p->user, SCORE_BATCH, &ctx, &j->err);
    /* One window per call: OpenBLAS's sgemm gives a row last-bit different results depending
     * on its position and on the number of rows in the call (measured: 130 of 256 rows differ
     * when computed alone), and an int8 model's QuantizeLinear turns such a bit into a whole
     * quantum at a rounding boundary (22 of 145k fleet windows moved by about 2%). Scored
     * alone, a window's score depends on the window only, whatever the batch, the threads or
     * the shards, and it equals the f(x) its explanation computes (also alone). */
    for (int64_t i = j->lo; !j->st && i < j->hi; i++) {
        j->st = p->predict(ctx, j->x + (size_t)i * cells, 1, y, &j->err);
        if (!j->st)
            j->y[i] = y[0];
    }
    if (ctx)
        p->ctx_free(ctx);
    free(y);
    return NULL;
}

wf_status wf_score_array(const wf_predictor *p, const float *x, int64_t n, int threads, double *y,
                         wf_error *err) {
    if (n <= 0)
        return WF_OK;
    if (threads <= 0)
        threads = wf_cpu_count();
    if (threads > 64)
        threads = 64;
    if ((int64_t)threads > n / 256 + 1)
        threads = (int)(n / 256 + 1);
    arr_job jobs[64];
    pthread_t tids[64];
    int64_t per = (n + threads - 1) / threads;
    for (int t = 0; t < threads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].p = p;
        jobs[t].x = x;
        jobs[t].y = y;
        jobs[t].lo = t * per < n ? t * per : n;
        jobs[t].hi = (t + 1) * per < n ? (t + 1) * per : n;
    }
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, arr_thread, &jobs[t]) != 0)
            break;
        started = t;
    }
    arr_thread(&jobs[0]);
    for (int t = started + 1; t < threads; t++)
        arr_thread(&jobs[t]);
    for (int t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);
    for (int t = 0; t < threads; t++)
        if (jobs[t].st) {
            if (err)
                *err = jobs[t].err;
            return jobs[t].st;
        }
    return WF_OK;
}
