/*
 * A small streaming JSON writer with deterministic, locale-independent number formatting.
 *
 * Output goes to a growable memory buffer; write it to disk with wf_file_write_atomic. Floats are
 * printed with the shortest representation that round-trips (%.9g for float, %.17g for double
 * only when %.15g does not round-trip), so results.json is byte-identical across runs and
 * machines. Non-finite numbers are not valid JSON: wf_jw_double writes them as the strings
 * "NaN", "Infinity", "-Infinity" so that they stay visible, never silently null.
 *
 * Usage: wf_jw_init(&w, pretty); wf_jw_obj_begin(&w); wf_jw_key(&w, "a"); wf_jw_int(&w, 1); ...
 * wf_jw_obj_end(&w); check w.failed (allocation failure) once at the end; wf_jw_free(&w).
 */
#ifndef WF_CORE_JW_H
#define WF_CORE_JW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WF_JW_MAX_DEPTH 64

typedef struct wf_jw {
    char *buf;
    size_t len, cap;
    int pretty; /* 0: compact, 1: two-space indent */
    int depth;
    int count[WF_JW_MAX_DEPTH]; /* items written at each depth */
    int after_key;
    int failed; /* set on allocation failure, write error or misuse; everything after is a no-op */
    FILE *sink; /* wf_jw_init_file: the buffer is written out whenever it passes 1 MB */
} wf_jw;

void wf_jw_init(wf_jw *w, int pretty);
/* Stream to f instead of keeping the whole document in memory (a fleet's results.json is
 * hundreds of MB): bytes go out in chunks of about 1 MB; wf_jw_finish writes the rest. The
 * caller opens and closes f and checks w->failed. */
void wf_jw_init_file(wf_jw *w, int pretty, FILE *f);
void wf_jw_free(wf_jw *w);
void wf_jw_obj_begin(wf_jw *w);
void wf_jw_obj_end(wf_jw *w);
void wf_jw_arr_begin(wf_jw *w);
void wf_jw_arr_end(wf_jw *w);
void wf_jw_key(wf_jw *w, const char *key);
void wf_jw_str(wf_jw *w, const char *s); /* NULL writes null */
void wf_jw_int(wf_jw *w, int64_t v);
void wf_jw_double(wf_jw *w, double v); /* shortest round-trip double */
void wf_jw_float(wf_jw *w, float v);   /* shortest round-trip float */
void wf_jw_bool(wf_jw *w, int v);
void wf_jw_null(wf_jw *w);
/* Convenience: key + value. */
void wf_jw_kstr(wf_jw *w, const char *key, const char *s);
void wf_jw_kint(wf_jw *w, const char *key, int64_t v);
void wf_jw_kdouble(wf_jw *w, const char *key, double v);
void wf_jw_kbool(wf_jw *w, const char *key, int v);
/* Arrays of numbers on one line (even in pretty mode, to keep files readable). */
void wf_jw_float_array(wf_jw *w, const float *v, size_t n);
void wf_jw_double_array(wf_jw *w, const double *v, size_t n);
/* Append a trailing newline (call once at the end). */
void wf_jw_finish(wf_jw *w);

/* Format a double / float into buf (size >= 32) the way wf_jw does. Returns buf. */
char *wf_fmt_double(char *buf, double v);
char *wf_fmt_float(char *buf, float v);

#endif
