/*
 * A tiny parallel-for over pthreads. Items are handed out one at a time from a shared counter, so
 * which thread runs an item varies from run to run; callers keep results deterministic by writing
 * item i's result to slot i and by deriving any randomness from i (wf_rng_init_stream), never
 * from the thread.
 */
#ifndef WF_CORE_THREADS_H
#define WF_CORE_THREADS_H

#include <stdint.h>

/* Called once per worker thread: tid in [0, threads). The worker loops on wf_par_next. */
typedef void (*wf_par_worker)(void *arg, int tid);

typedef struct wf_par {
    int64_t n;    /* items */
    int64_t next; /* next item to hand out (atomic) */
} wf_par;

/* Number of online cores (>= 1). */
int wf_threads_ncpu(void);

/* Run worker(arg, tid) on `threads` threads (0 = all cores, capped at 64 and at n); the calling
 * thread is worker 0. If a thread cannot be started its share is taken by the others. Returns
 * the number of threads used. par->n must be set; par->next is reset to 0. */
int wf_par_run(wf_par *par, int threads, wf_par_worker worker, void *arg);

/* Next item index, or -1 when all are handed out. */
int64_t wf_par_next(wf_par *par);

/* Hand the allocator's free memory back to the system (glibc's malloc_trim; nothing elsewhere).
 * Called between the report's writers: each frees many small blocks that would otherwise stay
 * in the heap under the next writer's large arrays and raise the run's peak RSS. */
void wf_mem_release(void);

#endif
