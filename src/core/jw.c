/*
 * Streaming JSON writer: see jw.h. No locale dependence: numbers are formatted with snprintf in
 * the "C" locale, which the CLI never changes (it never calls setlocale).
 */
#include "core/jw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wf_jw_init(wf_jw *w, int pretty) {
    memset(w, 0, sizeof *w);
    w->pretty = pretty;
}

void wf_jw_init_file(wf_jw *w, int pretty, FILE *f) {
    wf_jw_init(w, pretty);
    w->sink = f;
}

static void drain(wf_jw *w) {
    if (!w->sink || w->failed || w->len == 0)
        return;
    if (fwrite(w->buf, 1, w->len, w->sink) != w->len)
        w->failed = 1;
    w->len = 0;
    w->buf[0] = '\0';
}

void wf_jw_free(wf_jw *w) {
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static void put(wf_jw *w, const char *s, size_t n) {
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (w->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(w->buf, cap);
        if (!nb) {
            w->failed = 1;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
    if (w->sink && w->len >= (1u << 20))
        drain(w);
}

static void puts_(wf_jw *w, const char *s) {
    put(w, s, strlen(s));
}

static void newline(wf_jw *w) {
    if (!w->pretty)
        return;
    put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
        put(w, "  ", 2);
}

/* Called before any value or key: separator and indentation. */
static void pre_value(wf_jw *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth - 1] > 0)
            put(w, ",", 1);
        newline(w);
        w->count[w->depth - 1]++;
    }
}

static void open_(wf_jw *w, const char *c) {
    pre_value(w);
    puts_(w, c);
    if (w->depth >= WF_JW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->count[w->depth] = 0;
    w->depth++;
}

static void close_(wf_jw *w, const char *c) {
    if (w->depth <= 0) {
        w->failed = 1;
        return;
    }
    int had = w->count[w->depth - 1];
    w->depth--;
    if (had)
        newline(w);
    puts_(w, c);
}

void wf_jw_obj_begin(wf_jw *w) {
    open_(w, "{");
}
void wf_jw_obj_end(wf_jw *w) {
    close_(w, "}");
}
void wf_jw_arr_begin(wf_jw *w) {
    open_(w, "[");
}
void wf_jw_arr_end(wf_jw *w) {
    close_(w, "]");
}

static void put_escaped(wf_jw *w, const char *s) {
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            puts_(w, "\\\"");
            break;
        case '\\':
            puts_(w, "\\\\");
            break;
        case '\n':
            puts_(w, "\\n");
            break;
        case '\r':
            puts_(w, "\\r");
            break;
        case '\t':
            puts_(w, "\\t");
            break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(w, esc);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void wf_jw_key(wf_jw *w, const char *key) {
    pre_value(w);
    put_escaped(w, key);
    put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->after_key = 1;
}

void wf_jw_str(wf_jw *w, const char *s) {
    pre_value(w);
    if (!s)
        puts_(w, "null");
    else
        put_escaped(w, s);
}

void wf_jw_int(wf_jw *w, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    pre_value(w);
    puts_(w, b);
}

char *wf_fmt_double(char *buf, double v) {
    if (isnan(v))
        return strcpy(buf, "\"NaN\"");
    if (isinf(v))
        return strcpy(buf, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    if (v == 0.0)
        return strcpy(buf, signbit(v) ? "-0" : "0");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

char *wf_fmt_float(char *buf, float v) {
    if (isnan(v) || isinf(v))
        return wf_fmt_double(buf, v);
    if (v == 0.0f)
        return strcpy(buf, signbit(v) ? "-0" : "0");
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, 32, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    return buf;
}

void wf_jw_double(wf_jw *w, double v) {
    char b[40];
    pre_value(w);
    puts_(w, wf_fmt_double(b, v));
}

void wf_jw_float(wf_jw *w, float v) {
    char b[40];
    pre_value(w);
    puts_(w, wf_fmt_float(b, v));
}

void wf_jw_bool(wf_jw *w, int v) {
    pre_value(w);
    puts_(w, v ? "true" : "false");
}

void wf_jw_null(wf_jw *w) {
    pre_value(w);
    puts_(w, "null");
}

void wf_jw_kstr(wf_jw *w, const char *key, const char *s) {
    wf_jw_key(w, key);
    wf_jw_str(w, s);
}
void wf_jw_kint(wf_jw *w, const char *key, int64_t v) {
    wf_jw_key(w, key);
    wf_jw_int(w, v);
}
void wf_jw_kdouble(wf_jw *w, const char *key, double v) {
    wf_jw_key(w, key);
    wf_jw_double(w, v);
}
void wf_jw_kbool(wf_jw *w, const char *key, int v) {
    wf_jw_key(w, key);
    wf_jw_bool(w, v);
}

void wf_jw_float_array(wf_jw *w, const float *v, size_t n) {
    char b[40];
    pre_value(w);
    put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(w, ",", 1);
        puts_(w, wf_fmt_float(b, v[i]));
    }
    put(w, "]", 1);
}

void wf_jw_double_array(wf_jw *w, const double *v, size_t n) {
    char b[40];
    pre_value(w);
    put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(w, ",", 1);
        puts_(w, wf_fmt_double(b, v[i]));
    }
    put(w, "]", 1);
}

void wf_jw_finish(wf_jw *w) {
    put(w, "\n", 1);
    drain(w);
}
