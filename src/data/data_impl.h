/*
 * Internals of src/data that the tests reach (not part of the public API).
 */
#ifndef WF_DATA_IMPL_H
#define WF_DATA_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/data.h"

/* Open a log reader on a file with a given read buffer size (tests use tiny buffers to exercise
 * refills), or on a memory buffer (data is borrowed until wf_log_reader_free; name is used in
 * messages). buf_size 0 = the default (8 MB). */
wf_status wf_log_reader_open_ex(const wf_log_config *log, size_t buf_size, wf_log_reader **out,
                                wf_error *err);
wf_status wf_log_reader_open_mem(const wf_log_config *log, const char *data, size_t len,
                                 const char *name, wf_log_reader **out, wf_error *err);

/* Add a note to stats (dropped, and counted, when full). */
void wf_data_note(wf_data_stats *st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The streaming core on an already open reader (the file-opening wrappers call this; the fuzz
 * harness and tests call it on memory). reopen, when not NULL, opens a second reader for the
 * fallback pass over out-of-order turbines (NULL: the fallback is an error). */
typedef wf_status (*wf_reopen_fn)(void *ctx, wf_log_reader **out, wf_error *err);
wf_status wf_data_stream_reader(const wf_data_config *cfg, wf_log_reader *r, wf_reopen_fn reopen,
                                void *reopen_ctx, const wf_failure *failures, int64_t n_failures,
                                const wf_data_sink *sink, wf_data_stats *stats, wf_error *err);

/* Collect windows from a reader into ws (canonical order), as wf_data_load_windows does. */
wf_status wf_data_collect_reader(const wf_data_config *cfg, wf_log_reader *r, wf_reopen_fn reopen,
                                 void *reopen_ctx, const wf_failure *failures, int64_t n_failures,
                                 wf_windows *ws, wf_data_stats *stats, wf_error *err);

/* A time zone from TZif bytes (tests feed hand-made files: a footer-only v3 file, v1 files). */
wf_status wf_tz_load_mem(const char *name, const unsigned char *data, size_t len, wf_tz **out,
                         wf_error *err);

/* Naive time -> UTC for a row: 0 when fine; -1 when the local time does not exist in tz (a
 * problem text is written to problem). *ambiguous is set when it was in a repeated hour. */
int wf_tz_row_time(const wf_tz *tz, int64_t local, int64_t *utc, int *ambiguous, char *problem,
                   size_t n);

/* The cadence check (cadence.c): per turbine, the median step between consecutive rows. */
#define WF_CADENCE_VALUES 16
typedef struct wf_cadence_acc {
    int64_t last; /* time of the previous row, when has_last */
    int has_last;
    int64_t n, lt, eq, gt; /* positive steps: all, below, at and above the configured cadence */
    int nv;
    int64_t v[WF_CADENCE_VALUES], c[WF_CADENCE_VALUES]; /* distinct steps and their counts */
    int64_t other;                                      /* steps not in v (table full) */
} wf_cadence_acc;
void wf_cadence_add(wf_cadence_acc *a, int64_t time, int64_t cadence);
/* 1 when the turbine's median step differs from cadence (*median its value, *exact = 0 when the
 * table overflowed and the value is the median of the steps it holds), 0 when it equals it or
 * there is no step. */
int wf_cadence_median(const wf_cadence_acc *a, int64_t cadence, int64_t *median, int *exact);

#endif
