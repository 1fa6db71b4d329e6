/*
 * Pieces of the audit pipeline shared by `audit`, `predict --config` and `merge`: scoring every
 * window with a predictor on all cores, the progress line, and the data directory lookup.
 */
#ifndef WF_CLI_PIPELINE_H
#define WF_CLI_PIPELINE_H

#include <stdint.h>

#include "whyflag/predictor.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

/* Progress line on stderr ("scored 1200/1716 windows, ETA 3 s"), only when stderr is a terminal
 * and not quiet. */
typedef struct wf_progress {
    int enabled;
    double t0;
    const char *what;
} wf_progress;

void wf_progress_init(wf_progress *p, int quiet, const char *what);
void wf_progress_update(wf_progress *p, int64_t done, int64_t total);
void wf_progress_done(wf_progress *p);
double wf_now_seconds(void);

/* scores[i] = f(ws->w[i]) for every window, split over `threads` threads (0 = all cores) each
 * with its own predictor context, one window per model call (OpenBLAS's results for a row depend
 * on the other rows of the call): each score depends only on its window, bit for bit. A
 * non-finite score is an error naming the window. */
wf_status wf_score_windows(const wf_predictor *p, const wf_windows *ws, int threads,
                           double *scores, wf_progress *progress, wf_error *err);

/* y[i] = f(x[i]) for n windows x (n, C, T) channel-major, split over `threads` threads (0 = all
 * cores), one window per model call as wf_score_windows. Non-finite outputs are returned as they
 * are (the caller decides). */
wf_status wf_score_array(const wf_predictor *p, const float *x, int64_t n, int threads, double *y,
                         wf_error *err);

/* Number of cores to use for threads == 0. */
int wf_cpu_count(void);

/* The folder with templates/ and fonts/: $WHYFLAG_DATA_DIR, else the build-time WF_DATA_DIR. */
const char *wf_data_dir(void);

#endif
