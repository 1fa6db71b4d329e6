/*
 * Scoring windows on all cores (see whyflag/audit.h: wf_audit_score_windows, wf_audit_score_array).
 *
 * One window per model call: OpenBLAS's sgemm gives a row last-bit different results depending
 * on its position and on the number of rows in the call (measured: 130 of 256 rows differ when
 * computed alone), and an int8 model's QuantizeLinear turns such a bit into a whole quantum at a
 * rounding boundary (22 of 145k fleet windows moved by about 2%). Scored alone, a window's score
 * depends on the window only, whatever the batch, the threads or the shards, and it equals the
 * f(x) its explanation computes (also alone). The work is handed out in chunks through the one
 * parallel-for of the core (wf_par_run); each thread has its own predictor context.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "core/threads.h"

#define CHUNK 256 /* windows handed to a thread at a time */

typedef struct score_job {
    const wf_predictor *p;
    const float *x;       /* (n, C, T) contiguous, or NULL when ws is given */
    const wf_windows *ws; /* windows with their own values pointers */
    int64_t n;
    double *y;        /* (n) */
    int check_finite; /* a non-finite score is an error naming the window */
    wf_par par;
    wf_status st[64];
    wf_error err[64];
    int64_t first_bad[64]; /* lowest failing window of each thread (errors are reported for the
                            * lowest window overall, whatever the thread count) */
} score_job;

static void score_worker(void *arg, int tid) {
    score_job *j = arg;
    const wf_predictor *p = j->p;
    size_t cells = (size_t)p->C * (size_t)p->T;
    void *ctx = NULL;
    float y;
    j->first_bad[tid] = -1;
    wf_status st = p->ctx_new(p->user, 1, &ctx, &j->err[tid]);
    for (int64_t c; !st && (c = wf_par_next(&j->par)) >= 0;) {
        int64_t lo = c * CHUNK, hi = lo + CHUNK < j->n ? lo + CHUNK : j->n;
        for (int64_t i = lo; i < hi; i++) {
            const float *x = j->ws ? j->ws->w[i].values : j->x + (size_t)i * cells;
            st = p->predict(ctx, x, 1, &y, &j->err[tid]);
            if (!st && j->check_finite && !isfinite(y)) {
                char t[24];
                st = wf_error_set(&j->err[tid], WF_ERR_NUMERIC,
                                  "the model returned a non-finite score for window %lld "
                                  "(turbine %s, start %s)",
                                  (long long)i, j->ws->w[i].turbine_id,
                                  wf_time_format_iso(j->ws->w[i].start, t));
            }
            if (st) {
                j->first_bad[tid] = i;
                break;
            }
            j->y[i] = y;
        }
    }
    j->st[tid] = st;
    if (ctx)
        p->ctx_free(ctx);
}

static wf_status score_run(score_job *j, int threads, wf_error *err) {
    if (j->n <= 0)
        return WF_OK;
    j->par.n = (j->n + CHUNK - 1) / CHUNK;
    memset(j->st, 0, sizeof j->st);
    int used = wf_par_run(&j->par, threads, score_worker, j);
    int worst = -1;
    for (int t = 0; t < used; t++)
        if (j->st[t] &&
            (worst < 0 || (j->first_bad[t] >= 0 &&
                           (j->first_bad[worst] < 0 || j->first_bad[t] < j->first_bad[worst]))))
            worst = t;
    if (worst < 0)
        return WF_OK;
    if (err)
        *err = j->err[worst];
    return j->st[worst];
}

wf_status wf_audit_score_windows(const wf_predictor *p, const wf_windows *ws, int threads,
                                 double *scores, wf_error *err) {
    if (p->C != ws->C || p->T != ws->T)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "the model takes windows of %d channels x %d steps, the data has "
                            "%d x %d",
                            p->C, p->T, ws->C, ws->T);
    score_job *j = calloc(1, sizeof *j);
    if (!j)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory scoring windows");
    j->p = p;
    j->ws = ws;
    j->n = ws->n;
    j->y = scores;
    j->check_finite = 1;
    wf_status st = score_run(j, threads, err);
    free(j);
    return st;
}

wf_status wf_audit_score_array(const wf_predictor *p, const float *x, int64_t n, int threads,
                               double *y, wf_error *err) {
    score_job *j = calloc(1, sizeof *j);
    if (!j)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory scoring windows");
    j->p = p;
    j->x = x;
    j->n = n;
    j->y = y;
    wf_status st = score_run(j, threads, err);
    free(j);
    return st;
}
