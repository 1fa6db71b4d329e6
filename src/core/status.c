/*
 * Status strings, exit codes and the error struct helpers.
 */
#include "whyflag/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[WF_STATUS_MAX] = {
    [WF_OK] = "ok",
    [WF_ERR_NOMEM] = "out of memory",
    [WF_ERR_IO] = "i/o error",
    [WF_ERR_PARSE] = "parse error",
    [WF_ERR_UNSUPPORTED] = "unsupported",
    [WF_ERR_SHAPE] = "shape mismatch",
    [WF_ERR_INVALID] = "invalid argument",
    [WF_ERR_CONFIG] = "configuration error",
    [WF_ERR_DATA] = "data error",
    [WF_ERR_VERIFY] = "verification failed",
    [WF_ERR_NUMERIC] = "numerical error",
};

const char *wf_status_str(wf_status s) {
    if ((int)s < 0 || s >= WF_STATUS_MAX || !status_names[s])
        return "unknown status";
    return status_names[s];
}

/* Exit codes: 0 ok, 1 usage (CLI only), 2 input/config, 3 model, 4 data, 5 i/o, 6 verification,
 * 7 internal (memory, numeric). */
int wf_status_exit_code(wf_status s) {
    switch (s) {
    case WF_OK:
        return 0;
    case WF_ERR_CONFIG:
    case WF_ERR_INVALID:
        return 2;
    case WF_ERR_UNSUPPORTED:
    case WF_ERR_SHAPE:
        return 3;
    case WF_ERR_PARSE:
    case WF_ERR_DATA:
        return 4;
    case WF_ERR_IO:
        return 5;
    case WF_ERR_VERIFY:
        return 6;
    default:
        return 7;
    }
}

wf_status wf_error_set(wf_error *err, wf_status s, const char *fmt, ...) {
    if (!err)
        return s;
    err->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return s;
}

wf_status wf_error_prefix(wf_error *err, const char *fmt, ...) {
    if (!err)
        return WF_OK;
    char pre[WF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->status;
    /* Build pre + msg by hand, truncating at the buffer size. */
    char tmp[WF_ERROR_MSG_MAX];
    size_t np = strlen(pre), nm = strlen(err->msg);
    if (np > sizeof tmp - 1)
        np = sizeof tmp - 1;
    if (nm > sizeof tmp - 1 - np)
        nm = sizeof tmp - 1 - np;
    memcpy(tmp, pre, np);
    memcpy(tmp + np, err->msg, nm);
    tmp[np + nm] = '\0';
    memcpy(err->msg, tmp, sizeof tmp);
    return err->status;
}

void wf_error_clear(wf_error *err) {
    if (!err)
        return;
    err->status = WF_OK;
    err->msg[0] = '\0';
}
