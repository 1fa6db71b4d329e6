/*
 * The wf_windows container (windows.h): init, push, free, canonical sort, and the windows file
 * writer (core/jw.h, atomic). Floats are written shortest-round-trip, so 7.27 stays 7.27.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "whyflag/data.h"

static char *dup_str(const char *s) {
    size_t n = strlen(s ? s : "");
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s ? s : "", n + 1);
    return d;
}

wf_status wf_windows_init(wf_windows *ws, int C, int T, const char *const *channels,
                          const char *const *units, wf_error *err) {
    memset(ws, 0, sizeof *ws);
    if (C <= 0 || T <= 0)
        return wf_error_set(err, WF_ERR_INVALID, "windows: C and T must be positive (got %d, %d)",
                            C, T);
    ws->C = C;
    ws->T = T;
    ws->channels = calloc((size_t)C, sizeof(char *));
    ws->units = calloc((size_t)C, sizeof(char *));
    if (!ws->channels || !ws->units)
        goto nomem;
    for (int c = 0; c < C; c++) {
        char name[32];
        snprintf(name, sizeof name, "ch%d", c);
        ws->channels[c] = dup_str(channels && channels[c] ? channels[c] : name);
        ws->units[c] = dup_str(units && units[c] ? units[c] : "");
        if (!ws->channels[c] || !ws->units[c])
            goto nomem;
    }
    return WF_OK;
nomem:
    wf_windows_free(ws);
    return wf_error_set(err, WF_ERR_NOMEM, "out of memory (windows)");
}

wf_status wf_windows_push(wf_windows *ws, const wf_window *w, wf_error *err) {
    size_t CT = (size_t)ws->C * (size_t)ws->T;
    if (ws->n == ws->cap) {
        int64_t nc = ws->cap ? ws->cap * 2 : 256;
        wf_window *nw = realloc(ws->w, sizeof *nw * (size_t)nc);
        if (!nw)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (windows)");
        ws->w = nw;
        float *nd = realloc(ws->data, sizeof(float) * CT * (size_t)nc);
        if (!nd)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (window values)");
        ws->data = nd;
        ws->cap = nc;
        for (int64_t i = 0; i < ws->n; i++)
            ws->w[i].values = ws->data + (size_t)i * CT;
    }
    wf_window *d = &ws->w[ws->n];
    *d = *w;
    d->values = ws->data + (size_t)ws->n * CT;
    memcpy(d->values, w->values, sizeof(float) * CT);
    if (d->index < 0)
        d->index = ws->n;
    ws->n++;
    return WF_OK;
}

wf_status wf_windows_push_skipped(wf_windows *ws, const wf_skipped *s, wf_error *err) {
    if (ws->n_skipped == ws->cap_skipped) {
        int64_t nc = ws->cap_skipped ? ws->cap_skipped * 2 : 64;
        wf_skipped *ns = realloc(ws->skipped, sizeof *ns * (size_t)nc);
        if (!ns)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (skipped windows)");
        ws->skipped = ns;
        ws->cap_skipped = nc;
    }
    ws->skipped[ws->n_skipped++] = *s;
    return WF_OK;
}

void wf_windows_free(wf_windows *ws) {
    if (!ws)
        return;
    for (int c = 0; c < ws->C; c++) {
        if (ws->channels)
            free(ws->channels[c]);
        if (ws->units)
            free(ws->units[c]);
    }
    free(ws->channels);
    free(ws->units);
    free(ws->w);
    free(ws->data);
    free(ws->skipped);
    memset(ws, 0, sizeof *ws);
}

/* ---------------------------------------------------------------- canonical order */

/* The one window ordering of whyflag: windows by (turbine id, start), skipped entries by
 * (turbine id, start, reason). The audit (one machine, shards, merge) and the windows files
 * all use it, so that results never depend on the order rows or shards arrived in. */

typedef struct order_key {
    const char *id;
    int64_t start;
    int64_t i;
} order_key;

static int cmp_key(const void *pa, const void *pb) {
    const order_key *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_skipped(const void *pa, const void *pb) {
    const wf_skipped *a = pa, *b = pb;
    int c = strcmp(a->turbine_id, b->turbine_id);
    if (c)
        return c;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

void wf_windows_sort_skipped(wf_windows *ws) {
    if (ws->n_skipped > 1)
        qsort(ws->skipped, (size_t)ws->n_skipped, sizeof *ws->skipped, cmp_skipped);
}

wf_status wf_windows_order(const wf_window *w, int64_t n, int64_t **perm, wf_error *err) {
    order_key *k = malloc(sizeof *k * (size_t)(n ? n : 1));
    int64_t *p = malloc(sizeof *p * (size_t)(n ? n : 1));
    if (!k || !p) {
        free(k);
        free(p);
        *perm = NULL;
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory ordering %lld windows", (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        k[i] = (order_key){w[i].turbine_id, w[i].start, i};
    qsort(k, (size_t)n, sizeof *k, cmp_key);
    for (int64_t j = 0; j < n; j++)
        p[j] = k[j].i;
    free(k);
    *perm = p;
    return WF_OK;
}

/* new[j] = old[perm[j]], following cycles: one record is held aside at a time, never a second
 * copy of the arrays (the fleet-scale memory bound). */
void wf_windows_permute(int64_t *perm, int64_t n, wf_window *w, double *d, int64_t *l, uint8_t *b) {
    for (int64_t j = 0; j < n; j++) {
        if (perm[j] < 0 || perm[j] == j)
            continue;
        wf_window tw = w[j];
        double td = d ? d[j] : 0;
        int64_t tl = l ? l[j] : 0;
        uint8_t tb = b ? b[j] : 0;
        int64_t k = j;
        for (;;) {
            int64_t nx = perm[k];
            perm[k] = -1;
            if (nx == j) {
                w[k] = tw;
                if (d)
                    d[k] = td;
                if (l)
                    l[k] = tl;
                if (b)
                    b[k] = tb;
                break;
            }
            w[k] = w[nx];
            if (d)
                d[k] = d[nx];
            if (l)
                l[k] = l[nx];
            if (b)
                b[k] = b[nx];
            k = nx;
        }
    }
}

wf_status wf_windows_sort(wf_windows *ws, wf_error *err) {
    wf_windows_sort_skipped(ws);
    if (ws->n == 0)
        return WF_OK;
    size_t CT = (size_t)ws->C * (size_t)ws->T;
    int64_t *perm = NULL;
    float *tmp = malloc(sizeof(float) * (CT ? CT : 1));
    wf_status st = tmp ? wf_windows_order(ws->w, ws->n, &perm, err)
                       : wf_error_set(err, WF_ERR_NOMEM, "out of memory sorting windows");
    if (st) {
        free(tmp);
        return st;
    }
    /* The values block follows the same cycles as the records (data[i] stays w[i]'s). */
    for (int64_t j = 0; j < ws->n; j++) {
        if (perm[j] < 0 || perm[j] == j) {
            perm[j] = -1;
            continue;
        }
        wf_window tw = ws->w[j];
        memcpy(tmp, ws->data + (size_t)j * CT, sizeof(float) * CT);
        int64_t k = j;
        for (;;) {
            int64_t nx = perm[k];
            perm[k] = -1;
            if (nx == j) {
                ws->w[k] = tw;
                memcpy(ws->data + (size_t)k * CT, tmp, sizeof(float) * CT);
                break;
            }
            ws->w[k] = ws->w[nx];
            memcpy(ws->data + (size_t)k * CT, ws->data + (size_t)nx * CT, sizeof(float) * CT);
            k = nx;
        }
    }
    for (int64_t i = 0; i < ws->n; i++) {
        ws->w[i].values = ws->data + (size_t)i * CT;
        ws->w[i].index = i;
    }
    free(perm);
    free(tmp);
    return WF_OK;
}

/* ---------------------------------------------------------------- writer */

wf_status wf_windows_write_json(const char *path, const wf_windows *ws, wf_error *err) {
    wf_jw w;
    wf_jw_init(&w, 0);
    char ts[32];
    int T = ws->T;
    int64_t n_pos = 0;
    for (int64_t i = 0; i < ws->n; i++)
        n_pos += ws->w[i].label == 1;
    wf_jw_obj_begin(&w);
    wf_jw_key(&w, "channels");
    wf_jw_arr_begin(&w);
    for (int c = 0; c < ws->C; c++)
        wf_jw_str(&w, ws->channels[c]);
    wf_jw_arr_end(&w);
    wf_jw_key(&w, "units");
    wf_jw_arr_begin(&w);
    for (int c = 0; c < ws->C; c++)
        wf_jw_str(&w, ws->units ? ws->units[c] : "");
    wf_jw_arr_end(&w);
    wf_jw_kint(&w, "T", T);
    wf_jw_kint(&w, "stride", ws->stride);
    wf_jw_kint(&w, "cadence_seconds", ws->cadence);
    wf_jw_kstr(&w, "layout", "values[c][t], c in channels order, t in time order");
    wf_jw_kint(&w, "n_windows", ws->n);
    wf_jw_kint(&w, "n_positive", n_pos);
    wf_jw_kint(&w, "n_skipped", ws->n_skipped);
    wf_jw_key(&w, "windows");
    wf_jw_arr_begin(&w);
    for (int64_t i = 0; i < ws->n; i++) {
        const wf_window *x = &ws->w[i];
        wf_jw_obj_begin(&w);
        wf_jw_kint(&w, "index", x->index);
        wf_jw_kstr(&w, "turbine_id", x->turbine_id);
        wf_jw_kstr(&w, "start", wf_time_format_iso(x->start, ts));
        wf_jw_kstr(&w, "end", wf_time_format_iso(x->end, ts));
        wf_jw_kint(&w, "label", x->label);
        wf_jw_kstr(&w, "component", x->component);
        if (x->interpolated)
            wf_jw_kint(&w, "interpolated", x->interpolated);
        wf_jw_key(&w, "values");
        wf_jw_arr_begin(&w);
        for (int c = 0; c < ws->C; c++)
            wf_jw_float_array(&w, x->values + (size_t)c * (size_t)T, (size_t)T);
        wf_jw_arr_end(&w);
        wf_jw_obj_end(&w);
    }
    wf_jw_arr_end(&w);
    wf_jw_key(&w, "skipped");
    wf_jw_arr_begin(&w);
    for (int64_t i = 0; i < ws->n_skipped; i++) {
        const wf_skipped *s = &ws->skipped[i];
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "turbine_id", s->turbine_id);
        wf_jw_kstr(&w, "start", wf_time_format_iso(s->start, ts));
        wf_jw_kstr(&w, "reason", s->reason);
        wf_jw_obj_end(&w);
    }
    wf_jw_arr_end(&w);
    wf_jw_obj_end(&w);
    wf_jw_finish(&w);
    wf_status st;
    if (w.failed)
        st = wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory writing the windows file", path);
    else
        st = wf_file_write_atomic(path, w.buf, w.len, err);
    wf_jw_free(&w);
    return st;
}
