/*
 * Parallel-for over pthreads (see threads.h). The shared counter is a GCC/Clang __atomic builtin
 * on a plain int64_t so that the struct stays plain C11 without <stdatomic.h> in the header.
 */
#include "core/threads.h"

#include <pthread.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define MAX_THREADS 64

int wf_threads_ncpu(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int64_t wf_par_next(wf_par *par) {
    int64_t i = __atomic_fetch_add(&par->next, 1, __ATOMIC_RELAXED);
    return i < par->n ? i : -1;
}

typedef struct par_start {
    wf_par_worker worker;
    void *arg;
    int tid;
} par_start;

static void *par_main(void *p) {
    par_start *s = p;
    s->worker(s->arg, s->tid);
    return NULL;
}

int wf_par_run(wf_par *par, int threads, wf_par_worker worker, void *arg) {
    if (threads <= 0)
        threads = wf_threads_ncpu();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((int64_t)threads > par->n)
        threads = par->n > 0 ? (int)par->n : 1;
    par->next = 0;
    pthread_t tids[MAX_THREADS];
    par_start st[MAX_THREADS];
    int started = 1;
    for (int t = 1; t < threads; t++) {
        st[t].worker = worker;
        st[t].arg = arg;
        st[t].tid = t;
        if (pthread_create(&tids[t], NULL, par_main, &st[t]) != 0)
            break;
        started = t + 1;
    }
    worker(arg, 0);
    for (int t = 1; t < started; t++)
        pthread_join(tids[t], NULL);
    return started;
}

#if defined(__GLIBC__)
void wf_mem_release(void) {
    malloc_trim(0);
}
#else
void wf_mem_release(void) {}
#endif
