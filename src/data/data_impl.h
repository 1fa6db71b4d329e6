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

#endif
