/*
 * whyflag: status codes and the error struct every library call fills in.
 *
 * The library never prints and never exits. A failing call returns a wf_status and, when the
 * caller passes a wf_error, writes a message into it that names the file, line, column, ONNX node
 * or config key involved and says what was expected. Only the CLI prints and maps statuses to
 * exit codes (see wf_status_exit_code).
 */
#ifndef WHYFLAG_STATUS_H
#define WHYFLAG_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wf_status {
    WF_OK = 0,              /* success */
    WF_ERR_NOMEM = 1,       /* an allocation failed */
    WF_ERR_IO = 2,          /* a file could not be opened, read or written */
    WF_ERR_PARSE = 3,       /* malformed input: CSV, JSON, protobuf */
    WF_ERR_UNSUPPORTED = 4, /* valid input that whyflag does not support (op, dtype, option) */
    WF_ERR_SHAPE = 5,       /* tensor or window shapes do not fit */
    WF_ERR_INVALID = 6,     /* invalid argument or value (programmer or user) */
    WF_ERR_CONFIG = 7,      /* bad configuration key or value */
    WF_ERR_DATA = 8,        /* data problem: NaN, gap, missing column, duplicate timestamp */
    WF_ERR_VERIFY = 9,      /* a hash or signature did not verify */
    WF_ERR_NUMERIC = 10,    /* numerical failure: singular system, non-finite result */
    WF_STATUS_MAX
} wf_status;

#define WF_ERROR_MSG_MAX 1024

/* Filled in by a failing call. Caller-owned, usually on the stack; no cleanup needed. */
typedef struct wf_error {
    wf_status status;
    char msg[WF_ERROR_MSG_MAX];
} wf_error;

/* Short constant name of a status ("io error"). Never NULL. */
const char *wf_status_str(wf_status s);

/* Exit code the CLI uses for a status; documented in the README. */
int wf_status_exit_code(wf_status s);

/* Set err (if not NULL) to status s and a printf-style message; returns s. */
wf_status wf_error_set(wf_error *err, wf_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix err->msg with a printf-style context ("model.onnx: "), keeping the status; returns it. */
wf_status wf_error_prefix(wf_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reset err to WF_OK with an empty message. */
void wf_error_clear(wf_error *err);

#ifdef __cplusplus
}
#endif
#endif
