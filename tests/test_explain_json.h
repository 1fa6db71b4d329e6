/*
 * A minimal JSON reader for the explain tests' reference files (shap/captum outputs). Test code
 * only: the library's one JSON reader is cJSON in src/io, which tests do not reach into.
 * Parses a whole document into a tree; numbers as double; strings unescaped only for \" and \\.
 */
#ifndef WF_TEST_EXPLAIN_JSON_H
#define WF_TEST_EXPLAIN_JSON_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum { TJ_NULL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ, TJ_BOOL } tj_kind;

typedef struct tj {
    tj_kind kind;
    double num;
    char *str;        /* TJ_STR; key for object members */
    int n;            /* children */
    struct tj **kids; /* TJ_ARR / TJ_OBJ */
    char **keys;      /* TJ_OBJ */
} tj;

static void tj_ws(const char **p) {
    while (**p && isspace((unsigned char)**p))
        (*p)++;
}

static char *tj_strlit(const char **p) {
    (*p)++; /* opening quote */
    const char *s = *p;
    size_t n = 0;
    while (s[n] && s[n] != '"')
        n += s[n] == '\\' ? 2 : 1;
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            i++;
        o[k++] = s[i];
    }
    o[k] = 0;
    *p = s + n + 1;
    return o;
}

static tj *tj_parse_value(const char **p) {
    tj_ws(p);
    tj *v = calloc(1, sizeof *v);
    char c = **p;
    if (c == '{' || c == '[') {
        v->kind = c == '{' ? TJ_OBJ : TJ_ARR;
        (*p)++;
        int cap = 0;
        for (;;) {
            tj_ws(p);
            if (**p == '}' || **p == ']') {
                (*p)++;
                break;
            }
            if (**p == ',') {
                (*p)++;
                continue;
            }
            if (v->n == cap) {
                cap = cap ? 2 * cap : 8;
                v->kids = realloc(v->kids, sizeof(tj *) * (size_t)cap);
                if (v->kind == TJ_OBJ)
                    v->keys = realloc(v->keys, sizeof(char *) * (size_t)cap);
            }
            if (v->kind == TJ_OBJ) {
                v->keys[v->n] = tj_strlit(p);
                tj_ws(p);
                (*p)++; /* ':' */
            }
            v->kids[v->n++] = tj_parse_value(p);
        }
    } else if (c == '"') {
        v->kind = TJ_STR;
        v->str = tj_strlit(p);
    } else if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
        v->kind = TJ_BOOL;
        v->num = **p == 't';
        *p += **p == 't' ? 4 : 5;
    } else if (!strncmp(*p, "null", 4)) {
        v->kind = TJ_NULL;
        *p += 4;
    } else if (!strncmp(*p, "NaN", 3)) {
        v->kind = TJ_NUM;
        v->num = NAN;
        *p += 3;
    } else {
        char *end;
        v->kind = TJ_NUM;
        v->num = strtod(*p, &end);
        *p = end;
    }
    return v;
}

static void tj_free(tj *v) {
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        tj_free(v->kids[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->str);
    free(v);
}

static tj *tj_load(const char *path) {
    char *text = tu_read(path, NULL);
    const char *p = text;
    tj *v = tj_parse_value(&p);
    free(text);
    return v;
}

/* Member by key path "a/b" ('/' separates levels; a key containing '/' is tried whole first). */
static tj *tj_get(tj *v, const char *key) {
    if (!v || v->kind != TJ_OBJ)
        return NULL;
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->keys[i], key))
            return v->kids[i];
    const char *sl = strchr(key, '/');
    while (sl) {
        size_t n = (size_t)(sl - key);
        for (int i = 0; i < v->n; i++)
            if (strlen(v->keys[i]) == n && !strncmp(v->keys[i], key, n)) {
                tj *r = tj_get(v->kids[i], sl + 1);
                if (r)
                    return r;
            }
        sl = strchr(sl + 1, '/');
    }
    return NULL;
}

static tj *tj_at(tj *v, int i) {
    return v && (v->kind == TJ_ARR) && i >= 0 && i < v->n ? v->kids[i] : NULL;
}

/* Flatten the numbers of v (nested arrays, row-major) into out (up to max); returns count. */
static int tj_flat(const tj *v, double *out, int max) {
    if (!v)
        return 0;
    if (v->kind == TJ_NUM) {
        if (max > 0)
            out[0] = v->num;
        return 1;
    }
    int k = 0;
    if (v->kind == TJ_ARR)
        for (int i = 0; i < v->n; i++)
            k += tj_flat(v->kids[i], out + k, max - k);
    return k;
}

static double tj_num(const tj *v) {
    return v && (v->kind == TJ_NUM || v->kind == TJ_BOOL) ? v->num : NAN;
}

#endif
