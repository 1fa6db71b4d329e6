/*
 * Audit parts on disk (shard.bin) and their combination (merge).
 *
 * shard.bin is a plain binary record of a part, written atomically: the magic "WFSHARD1", a
 * byte-order and IEEE-754 check, then every field in a fixed order (integers as little-endian
 * int64, doubles and floats bit for bit, strings as length + bytes). The reader checks every
 * length against what is left in the file, so a truncated or foreign file is an error, never a
 * crash; the file ends with the SHA-256 of everything before it, so a changed bit is an error
 * too. Doubles are copied bit for bit: a merged run prints exactly the numbers its shards
 * computed.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/fileio.h"

#define MAGIC "WFSHARD1"
#define FORMAT_VERSION                                                                             \
    8 /* 2: background source windows; 3: drift; 4: TreeSHAP, IG n/a; 5: model comparison;         \
         6: row and window counts; 7: log.timezone and the cadence check; 8: drift budget          \
         (compacted tables, fleet tables, caps) and the unflagged sample */

/* ---------------------------------------------------------------- writer */

typedef wf_bw bw;

static void put(bw *b, const void *x, size_t n) {
    wf_bw_put(b, x, n);
}

static void put_i64(bw *b, int64_t v) {
    wf_bw_u64(b, (uint64_t)v);
}

static void put_f64(bw *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    put_i64(b, (int64_t)u);
}

static void put_str(bw *b, const char *s) {
    if (!s) {
        put_i64(b, -1);
        return;
    }
    size_t n = strlen(s);
    put_i64(b, (int64_t)n);
    put(b, s, n);
}

static void put_f64s(bw *b, const double *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        put_f64(b, v[i]);
}

static void put_f32s(bw *b, const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_i64(b, (int64_t)u);
    }
}

static void put_ident(bw *b, const wf_audit_ident *id) {
    put_str(b, id->tool);
    put_str(b, id->config);
    put_str(b, id->model);
    put_str(b, id->log);
    put_str(b, id->failures);
    put_str(b, id->background);
    put_str(b, id->baseline);
    put_str(b, id->config_path);
}

static void put_window(bw *b, const wf_window *w) {
    put_str(b, w->turbine_id);
    put_i64(b, w->start);
    put_i64(b, w->end);
    put_i64(b, w->label);
    put_str(b, w->component);
    put_i64(b, w->interpolated);
}

/* Issue 11: TreeSHAP values, their agreement with KernelSHAP, IG not applicable. */
static void put_trees(bw *b, const wf_explanation *e) {
    put_i64(b, e->has_treeshap);
    if (e->has_treeshap) {
        const wf_treeshap_result *t = &e->treeshap;
        put_i64(b, t->M);
        for (int p = 0; p < t->M; p++)
            put_str(b, t->players[p]);
        put_f64(b, t->base_value);
        put_f64(b, t->f_x);
        put_f64s(b, t->values, t->M);
        put_i64(b, t->output | t->path_dependent << 1); /* bit 1: variant (format 4 kept) */
        put_f64(b, t->efficiency_gap);
        put_f64(b, e->ts_ks_max_diff);
        put_f64(b, e->ts_ks_spearman);
        put_i64(b, e->ts_ks_same_sign);
    }
    put_i64(b, e->ig_not_applicable);
    if (e->ig_not_applicable)
        put_str(b, e->ig_reason);
}

static void put_expl(bw *b, const wf_explanation *e) {
    put_i64(b, e->window_index);
    put_f64(b, e->score);
    put_i64(b, e->status);
    put_str(b, e->error);
    put_f64(b, e->agreement);
    put_i64(b, e->has_kshap);
    if (e->has_kshap) {
        const wf_kshap_result *k = &e->kshap;
        put_i64(b, k->M);
        for (int p = 0; p < k->M; p++)
            put_str(b, k->players[p]);
        put_f64(b, k->base_value);
        put_f64(b, k->f_x);
        put_f64s(b, k->values, k->M);
        put_i64(b, k->std_err != NULL);
        if (k->std_err)
            put_f64s(b, k->std_err, k->M);
        put_i64(b, k->samples);
        put_i64(b, k->exact);
        put_i64(b, k->converged);
        put_i64(b, k->link);
        put_f64(b, k->efficiency_gap);
    }
    put_i64(b, e->has_ig);
    if (e->has_ig) {
        const wf_ig_result *g = &e->ig;
        put_i64(b, g->C);
        put_i64(b, g->T);
        put_f64s(b, g->values, (int64_t)g->C * g->T);
        put_f64s(b, g->channel_sums, g->C);
        put_f64(b, g->f_x);
        put_f64(b, g->f_baseline);
        put_f64(b, g->delta);
        put_i64(b, g->steps);
        put_i64(b, g->converged);
        put_i64(b, g->rule);
        put_i64(b, g->expected_gradients);
        put_str(b, g->baseline);
        put_str(b, g->surrogate);
    }
    put_trees(b, e);
}

/* The counts of the part's pass (rows read and rejected by reason, windows cut and skipped by
 * kind); the notes are not carried (they are for the shard's own summary line). */
#define STATS_FIELDS(X)                                                                            \
    X(bytes)                                                                                       \
    X(rows)                                                                                        \
    X(turbines)                                                                                    \
    X(windows_valid)                                                                               \
    X(windows_skipped)                                                                             \
    X(windows_interpolated)                                                                        \
    X(malformed_rows)                                                                              \
    X(unnamed_rows)                                                                                \
    X(bad_cells)                                                                                   \
    X(duplicate_identical)                                                                         \
    X(duplicate_conflicting)                                                                       \
    X(off_grid_rows)                                                                               \
    X(reordered_rows)                                                                              \
    X(outlier_rows)                                                                                \
    X(turbines_resorted)                                                                           \
    X(turbines_filtered)                                                                           \
    X(nonexistent_time_rows)                                                                       \
    X(ambiguous_time_rows)                                                                         \
    X(cadence_seconds)                                                                             \
    X(cadence_turbines)                                                                            \
    X(cadence_mismatched)                                                                          \
    X(cadence_median_min)                                                                          \
    X(cadence_median_max)                                                                          \
    X(cadence_approximate)

static void put_stats(bw *b, const wf_data_stats *d) {
#define PUT(f) put_i64(b, d->f);
    STATS_FIELDS(PUT)
#undef PUT
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        put_i64(b, d->skipped_by_kind[k]);
    put_str(b, d->timezone);
}

wf_status wf_audit_shard_write(const char *path, const wf_audit_part *pt, wf_error *err) {
    bw b = {0};
    put(&b, MAGIC, 8);
    put_i64(&b, 0x0102030405060708LL);
    put_f64(&b, 1.5);
    put_i64(&b, FORMAT_VERSION);
    put_i64(&b, pt->shard_k);
    put_i64(&b, pt->shard_n);
    put_ident(&b, &pt->id);
    put_i64(&b, pt->n_turbines);
    for (int64_t i = 0; i < pt->n_turbines; i++) {
        put_str(&b, pt->turbines[i]);
        put_i64(&b, pt->turbine_shard[i]);
        put_i64(&b, pt->turbine_rows[i]);
    }
    const wf_windows *ws = &pt->ws;
    int64_t CT = (int64_t)ws->C * ws->T;
    put_i64(&b, ws->C);
    put_i64(&b, ws->T);
    put_i64(&b, ws->stride);
    put_i64(&b, ws->cadence);
    for (int c = 0; c < ws->C; c++) {
        put_str(&b, ws->channels[c]);
        put_str(&b, ws->units[c]);
    }
    put_f64s(&b, pt->ch_min, ws->C);
    put_f64s(&b, pt->ch_max, ws->C);
    put_i64(&b, ws->n);
    for (int64_t i = 0; i < ws->n; i++) {
        put_window(&b, &ws->w[i]);
        put_f64(&b, pt->scores[i]);
        put_i64(&b, pt->flagged[i]);
        if (pt->flagged[i])
            put_f32s(&b, ws->w[i].values, CT);
    }
    put_i64(&b, ws->n_skipped);
    for (int64_t i = 0; i < ws->n_skipped; i++) {
        put_str(&b, ws->skipped[i].turbine_id);
        put_i64(&b, ws->skipped[i].start);
        put_str(&b, ws->skipped[i].reason);
    }
    put_i64(&b, pt->has_bg);
    if (pt->has_bg) {
        put_i64(&b, pt->bg.C);
        put_i64(&b, pt->bg.T);
        put_i64(&b, pt->bg.n);
        put_f32s(&b, pt->bg.x, pt->bg.n * (int64_t)pt->bg.C * pt->bg.T);
        put_f64s(&b, pt->bg.weight, pt->bg.n);
        put_str(&b, pt->bg.description);
        put_i64(&b, pt->bg.n_src);
        for (int64_t i = 0; i < pt->bg.n_src; i++) {
            put_str(&b, pt->bg.src[i].turbine_id);
            put_i64(&b, pt->bg.src[i].start);
        }
    }
    put_i64(&b, pt->n_expl);
    for (int64_t i = 0; i < pt->n_expl; i++)
        put_expl(&b, &pt->expl[i]);
    put_stats(&b, &pt->stats);
    put_i64(&b, pt->drift != NULL); /* drift: the accumulators' bytes (drift_audit.c) */
    if (pt->drift) {
        char *dp = NULL;
        size_t dn = 0;
        if (wf_audit_drift_encode(pt->drift, &dp, &dn, err))
            b.failed = 1;
        put_i64(&b, (int64_t)dn);
        put(&b, dp, dn);
        free(dp);
    }
    put_i64(&b, pt->cmp != NULL); /* comparison (issue 15): compare_audit.c's bytes */
    if (pt->cmp) {
        char *cp = NULL;
        size_t cn = 0;
        if (wf_audit_cmp_encode(pt->cmp, pt, &cp, &cn, err))
            b.failed = 1;
        put_i64(&b, (int64_t)cn);
        put(&b, cp, cn);
        free(cp);
    }
    put(&b, "END!", 4);
    /* the SHA-256 of everything before it: a flipped bit is caught, not merged */
    char hex[65];
    if (!b.failed)
        wf_sha256_hex(b.p, b.n, hex);
    put(&b, hex, 64);
    wf_status st = b.failed ? wf_error_set(err, WF_ERR_NOMEM, "out of memory writing %s", path)
                            : wf_file_write_atomic(path, b.p, b.n, err);
    free(b.p);
    return st;
}

/* ---------------------------------------------------------------- reader */

typedef wf_br br;

static int get(br *b, void *x, size_t n) {
    return wf_br_get(b, x, n);
}

static int64_t get_i64(br *b) {
    return (int64_t)wf_br_u64(b);
}

/* An int64 that must lie in [lo, hi]. */
static int64_t get_range(br *b, int64_t lo, int64_t hi) {
    int64_t v = get_i64(b);
    if (v < lo || v > hi) {
        b->bad = 1;
        return lo;
    }
    return v;
}

static double get_f64(br *b) {
    uint64_t u = (uint64_t)get_i64(b);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void get_f64s(br *b, double *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        v[i] = get_f64(b);
}

static void get_f32s(br *b, float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)get_i64(b);
        memcpy(&v[i], &u, 4);
    }
}

/* A string into buf (size cap, truncated never: too long = corrupt). */
static void get_strbuf(br *b, char *buf, size_t cap) {
    int64_t n = get_i64(b);
    if (n < 0 || (uint64_t)n >= cap) {
        b->bad = 1;
        buf[0] = '\0';
        return;
    }
    get(b, buf, (size_t)n);
    buf[n] = '\0';
}

/* A malloc'd string, or NULL (length -1). */
static char *get_strdup(br *b, int *null) {
    int64_t n = get_i64(b);
    *null = n == -1;
    if (n == -1)
        return NULL;
    if (n < 0 || (uint64_t)n > b->n - b->at) {
        b->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        b->bad = 1;
        return NULL;
    }
    get(b, s, (size_t)n);
    s[n] = '\0';
    return s;
}

/* Room for n items of size sz left in the file (each item takes at least 8 bytes)? */
static int fits(br *b, int64_t n) {
    if (n < 0 || (uint64_t)n > (b->n - b->at) / 8) {
        b->bad = 1;
        return 0;
    }
    return 1;
}

static void *alloc_n(br *b, int64_t n, size_t sz) {
    if (b->bad || !fits(b, n))
        return NULL;
    void *p = calloc((size_t)(n ? n : 1), sz);
    if (!p)
        b->bad = 1;
    return p;
}

static int keep_string(wf_audit_part *pt, char *s) {
    if (!s)
        return 0;
    char **q = realloc(pt->strings, sizeof *q * (size_t)(pt->n_strings + 1));
    if (!q) {
        free(s);
        return -1;
    }
    pt->strings = q;
    pt->strings[pt->n_strings++] = s;
    return 0;
}

static void get_trees(br *b, wf_audit_part *pt, wf_explanation *e) {
    int null;
    e->ts_ks_max_diff = e->ts_ks_spearman = NAN;
    e->has_treeshap = (int)get_range(b, 0, 1);
    if (e->has_treeshap && !b->bad) {
        wf_treeshap_result *t = &e->treeshap;
        t->M = (int)get_range(b, 0, 1 << 24);
        t->players = alloc_n(b, t->M, sizeof *t->players);
        for (int p = 0; t->players && p < t->M && !b->bad; p++)
            t->players[p] = get_strdup(b, &null);
        t->base_value = get_f64(b);
        t->f_x = get_f64(b);
        t->values = alloc_n(b, t->M, sizeof *t->values);
        if (t->values)
            get_f64s(b, t->values, t->M);
        int64_t ov = get_range(b, 0, 3);
        t->output = (wf_treeshap_output)(ov & 1);
        t->path_dependent = (int)(ov >> 1);
        t->efficiency_gap = get_f64(b);
        e->ts_ks_max_diff = get_f64(b);
        e->ts_ks_spearman = get_f64(b);
        e->ts_ks_same_sign = (int)get_range(b, 0, 1 << 24);
    }
    e->ig_not_applicable = (int)get_range(b, 0, 1);
    if (e->ig_not_applicable && !b->bad) {
        char *s = get_strdup(b, &null);
        e->ig_reason = s;
        if (keep_string(pt, s))
            b->bad = 1;
    }
}

static void get_expl(br *b, wf_audit_part *pt, wf_explanation *e, int C, int T) {
    int null;
    e->window_index = get_range(b, 0, pt->ws.n - 1);
    e->score = get_f64(b);
    e->status = (wf_status)get_range(b, 0, 1000);
    get_strbuf(b, e->error, sizeof e->error);
    e->agreement = get_f64(b);
    e->has_kshap = (int)get_range(b, 0, 1);
    if (e->has_kshap && !b->bad) {
        wf_kshap_result *k = &e->kshap;
        k->M = (int)get_range(b, 0, 1 << 24);
        k->players = alloc_n(b, k->M, sizeof *k->players);
        for (int p = 0; k->players && p < k->M && !b->bad; p++)
            k->players[p] = get_strdup(b, &null);
        k->base_value = get_f64(b);
        k->f_x = get_f64(b);
        k->values = alloc_n(b, k->M, sizeof *k->values);
        if (k->values)
            get_f64s(b, k->values, k->M);
        if (get_range(b, 0, 1)) {
            k->std_err = alloc_n(b, k->M, sizeof *k->std_err);
            if (k->std_err)
                get_f64s(b, k->std_err, k->M);
        }
        k->samples = get_i64(b);
        k->exact = (int)get_range(b, 0, 1);
        k->converged = (int)get_range(b, 0, 1);
        k->link = (wf_link)get_range(b, 0, 2);
        k->efficiency_gap = get_f64(b);
    }
    e->has_ig = (int)get_range(b, 0, 1);
    if (e->has_ig && !b->bad) {
        wf_ig_result *g = &e->ig;
        g->C = (int)get_range(b, C, C);
        g->T = (int)get_range(b, T, T);
        g->values = alloc_n(b, (int64_t)C * T, sizeof *g->values);
        if (g->values)
            get_f64s(b, g->values, (int64_t)C * T);
        g->channel_sums = alloc_n(b, C, sizeof *g->channel_sums);
        if (g->channel_sums)
            get_f64s(b, g->channel_sums, C);
        g->f_x = get_f64(b);
        g->f_baseline = get_f64(b);
        g->delta = get_f64(b);
        g->steps = (int)get_range(b, 0, INT_MAX);
        g->converged = (int)get_range(b, 0, 1);
        g->rule = (wf_ig_rule)get_range(b, 0, 5);
        g->expected_gradients = (int)get_range(b, 0, 1);
        char *s = get_strdup(b, &null);
        g->baseline = s;
        if (keep_string(pt, s))
            b->bad = 1;
        s = get_strdup(b, &null);
        g->surrogate = s;
        if (keep_string(pt, s))
            b->bad = 1;
    }
    get_trees(b, pt, e);
}

wf_status wf_audit_shard_read(const char *path, wf_audit_part *pt, wf_error *err) {
    memset(pt, 0, sizeof *pt);
    char *data = NULL;
    size_t len = 0;
    wf_status st = wf_file_read_all(path, &data, &len, err);
    if (st)
        return st;
    if (len < 8 || memcmp(data, MAGIC, 8)) {
        free(data);
        return wf_error_set(err, WF_ERR_PARSE, "%s: not a whyflag shard file (no %s header)", path,
                            MAGIC);
    }
    char hex[65];
    if (len >= 64 + 12)
        wf_sha256_hex(data, len - 64, hex);
    if (len < 64 + 12 || memcmp(hex, data + len - 64, 64)) {
        free(data);
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: the shard file is truncated or corrupt (its SHA-256 does not "
                            "match; rerun that shard)",
                            path);
    }
    br b = {(const unsigned char *)data, len - 64, 0, 0};
    char magic[8];
    if (get(&b, magic, 8) || memcmp(magic, MAGIC, 8)) {
        free(data);
        return wf_error_set(err, WF_ERR_PARSE, "%s: not a whyflag shard file (no %s header)", path,
                            MAGIC);
    }
    if (get_i64(&b) != 0x0102030405060708LL || get_f64(&b) != 1.5) {
        free(data);
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: written on a machine with another byte order or float format",
                            path);
    }
    int64_t ver = get_i64(&b);
    if (ver != FORMAT_VERSION) {
        free(data);
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: shard format version %lld, this whyflag reads version %d", path,
                            (long long)ver, FORMAT_VERSION);
    }
    pt->shard_k = (int)get_range(&b, 0, 1 << 20);
    pt->shard_n = (int)get_range(&b, 1, 1 << 20);
    get_strbuf(&b, pt->id.tool, sizeof pt->id.tool);
    get_strbuf(&b, pt->id.config, sizeof pt->id.config);
    get_strbuf(&b, pt->id.model, sizeof pt->id.model);
    get_strbuf(&b, pt->id.log, sizeof pt->id.log);
    get_strbuf(&b, pt->id.failures, sizeof pt->id.failures);
    get_strbuf(&b, pt->id.background, sizeof pt->id.background);
    get_strbuf(&b, pt->id.baseline, sizeof pt->id.baseline);
    get_strbuf(&b, pt->id.config_path, sizeof pt->id.config_path);
    pt->n_turbines = get_i64(&b);
    pt->turbines = alloc_n(&b, pt->n_turbines, sizeof *pt->turbines);
    pt->turbine_shard = alloc_n(&b, pt->n_turbines, sizeof *pt->turbine_shard);
    pt->turbine_rows = alloc_n(&b, pt->n_turbines, sizeof *pt->turbine_rows);
    for (int64_t i = 0; !b.bad && i < pt->n_turbines; i++) {
        get_strbuf(&b, pt->turbines[i], WF_ID_MAX);
        pt->turbine_shard[i] = (int32_t)get_range(&b, 0, pt->shard_n - 1);
        pt->turbine_rows[i] = get_range(&b, 0, INT64_MAX);
    }
    if (b.bad)
        pt->n_turbines = 0;
    int C = (int)get_range(&b, 1, 1 << 16), T = (int)get_range(&b, 1, 1 << 20);
    if (!b.bad && wf_windows_init(&pt->ws, C, T, NULL, NULL, err))
        b.bad = 1;
    wf_windows *ws = &pt->ws;
    ws->stride = (int)get_range(&b, 0, INT_MAX);
    ws->cadence = get_i64(&b);
    for (int c = 0; !b.bad && c < ws->C; c++) {
        int null;
        char *s = get_strdup(&b, &null);
        if (s) {
            free(ws->channels[c]);
            ws->channels[c] = s;
        }
        s = get_strdup(&b, &null);
        if (s) {
            free(ws->units[c]);
            ws->units[c] = s;
        }
    }
    pt->ch_min = alloc_n(&b, C, sizeof(double));
    pt->ch_max = alloc_n(&b, C, sizeof(double));
    if (pt->ch_min && pt->ch_max) {
        get_f64s(&b, pt->ch_min, C);
        get_f64s(&b, pt->ch_max, C);
    }
    int64_t n = get_i64(&b);
    int64_t CT = (int64_t)C * T;
    if (!b.bad && fits(&b, n)) {
        ws->w = calloc((size_t)(n ? n : 1), sizeof *ws->w);
        pt->scores = calloc((size_t)(n ? n : 1), sizeof *pt->scores);
        pt->flagged = calloc((size_t)(n ? n : 1), 1);
        if (!ws->w || !pt->scores || !pt->flagged)
            b.bad = 1;
    }
    /* flagged values go to a growing store; pointers are set once it stops moving */
    int64_t nf = 0, fcap = 0;
    float *fv = NULL;
    for (int64_t i = 0; !b.bad && i < n; i++) {
        wf_window *w = &ws->w[i];
        get_strbuf(&b, w->turbine_id, sizeof w->turbine_id);
        w->start = get_i64(&b);
        w->end = get_i64(&b);
        w->label = (int)get_range(&b, -1, 1);
        get_strbuf(&b, w->component, sizeof w->component);
        w->interpolated = (int)get_range(&b, 0, INT_MAX);
        w->index = i;
        pt->scores[i] = get_f64(&b);
        pt->flagged[i] = (uint8_t)get_range(&b, 0, 1);
        if (pt->flagged[i]) {
            if (!fits(&b, CT))
                break;
            if (nf == fcap) {
                fcap = fcap ? fcap * 2 : 64;
                float *q = realloc(fv, sizeof(float) * (size_t)(fcap * CT));
                if (!q) {
                    b.bad = 1;
                    break;
                }
                fv = q;
            }
            get_f32s(&b, fv + nf * CT, CT);
            w->values = (float *)(intptr_t)(nf + 1); /* slot + 1, fixed below */
            nf++;
        }
        ws->n = ws->cap = i + 1;
    }
    ws->data = fv;
    for (int64_t i = 0; i < ws->n; i++)
        if (ws->w[i].values)
            ws->w[i].values = fv + ((intptr_t)ws->w[i].values - 1) * CT;
    int64_t ns = get_i64(&b);
    if (!b.bad && fits(&b, ns)) {
        ws->skipped = calloc((size_t)(ns ? ns : 1), sizeof *ws->skipped);
        if (!ws->skipped)
            b.bad = 1;
        for (int64_t i = 0; !b.bad && i < ns; i++) {
            get_strbuf(&b, ws->skipped[i].turbine_id, WF_ID_MAX);
            ws->skipped[i].start = get_i64(&b);
            get_strbuf(&b, ws->skipped[i].reason, WF_REASON_MAX);
            ws->n_skipped = ws->cap_skipped = i + 1;
        }
    }
    pt->has_bg = (int)get_range(&b, 0, 1);
    if (pt->has_bg && !b.bad) {
        pt->bg.C = (int)get_range(&b, C, C);
        pt->bg.T = (int)get_range(&b, T, T);
        pt->bg.n = get_range(&b, 1, INT64_MAX / (CT + 1));
        pt->bg.x = alloc_n(&b, pt->bg.n * CT, sizeof(float));
        pt->bg.weight = alloc_n(&b, pt->bg.n, sizeof(double));
        if (pt->bg.x && pt->bg.weight) {
            get_f32s(&b, pt->bg.x, pt->bg.n * CT);
            get_f64s(&b, pt->bg.weight, pt->bg.n);
        }
        get_strbuf(&b, pt->bg.description, sizeof pt->bg.description);
        pt->bg.n_src = get_range(&b, 0, INT64_MAX / (int64_t)sizeof(wf_window_ref));
        pt->bg.src =
            b.bad ? NULL : alloc_n(&b, pt->bg.n_src ? pt->bg.n_src : 1, sizeof(wf_window_ref));
        for (int64_t i = 0; pt->bg.src && !b.bad && i < pt->bg.n_src; i++) {
            get_strbuf(&b, pt->bg.src[i].turbine_id, sizeof pt->bg.src[i].turbine_id);
            pt->bg.src[i].start = get_i64(&b);
        }
        if (!pt->bg.src)
            pt->bg.n_src = 0;
    }
    int64_t ne = get_i64(&b);
    if (!b.bad && fits(&b, ne)) {
        pt->expl = calloc((size_t)(ne ? ne : 1), sizeof *pt->expl);
        if (!pt->expl)
            b.bad = 1;
        for (int64_t i = 0; !b.bad && i < ne; i++) {
            get_expl(&b, pt, &pt->expl[i], C, T);
            pt->n_expl = i + 1;
        }
    }
#define GET(f) pt->stats.f = get_range(&b, 0, INT64_MAX);
    STATS_FIELDS(GET)
#undef GET
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        pt->stats.skipped_by_kind[k] = get_range(&b, 0, INT64_MAX);
    get_strbuf(&b, pt->stats.timezone, sizeof pt->stats.timezone);
    if (get_range(&b, 0, 1)) {
        int64_t dn = get_range(&b, 0, INT64_MAX);
        wf_error derr = {0};
        if (!b.bad && (dn > (int64_t)(b.n - b.at) ||
                       wf_audit_drift_decode(b.p + b.at, (size_t)dn, &pt->drift, &derr)))
            b.bad = 1;
        if (!b.bad)
            b.at += (size_t)dn;
    }
    if (get_range(&b, 0, 1)) {
        int64_t cn = get_range(&b, 0, INT64_MAX);
        wf_error cerr = {0};
        if (!b.bad && (cn > (int64_t)(b.n - b.at) ||
                       wf_audit_cmp_decode(b.p + b.at, (size_t)cn, pt, &pt->cmp, &cerr)))
            b.bad = 1;
        if (!b.bad)
            b.at += (size_t)cn;
    }
    char end[4];
    if (get(&b, end, 4) || memcmp(end, "END!", 4) || b.at != b.n)
        b.bad = 1;
    free(data);
    if (b.bad) {
        wf_audit_part_free(pt);
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: the shard file is truncated or corrupt (rerun that shard)", path);
    }
    return WF_OK;
}

/* ---------------------------------------------------------------- combine */

static const char *ident_diff(const wf_audit_ident *a, const wf_audit_ident *b) {
    if (strcmp(a->tool, b->tool))
        return "whyflag version";
    if (strcmp(a->config, b->config))
        return "config file (SHA-256)";
    if (strcmp(a->model, b->model))
        return "model (SHA-256)";
    if (strcmp(a->log, b->log))
        return "log (SHA-256)";
    if (strcmp(a->failures, b->failures))
        return "failure log (SHA-256)";
    if (strcmp(a->background, b->background))
        return "background file (SHA-256)";
    if (strcmp(a->baseline, b->baseline))
        return "baseline file (SHA-256)";
    return NULL;
}

static int same_bg(const wf_background *a, const wf_background *b) {
    if (a->n != b->n || a->C != b->C || a->T != b->T)
        return 0;
    size_t n = (size_t)a->n * (size_t)a->C * (size_t)a->T;
    return !memcmp(a->x, b->x, n * sizeof(float)) &&
           !memcmp(a->weight, b->weight, (size_t)a->n * sizeof(double)) &&
           !strcmp(a->description, b->description) && a->n_src == b->n_src &&
           (a->n_src == 0 || !memcmp(a->src, b->src, (size_t)a->n_src * sizeof *a->src));
}

/* The counts of the whole run from its parts. Every part reads the whole log: the rows, bytes,
 * turbines seen and rows without a turbine id are the same in each (taken from the first). A
 * part that declined no turbine (the one-machine run; every shard when the background is drawn
 * from the log, since each must see every window; a shard owning every turbine) counted the
 * whole log: its counts are the run's. Otherwise every other count belongs to the turbines a
 * part owns (a declined turbine counts nothing), so it is summed. */
static void merge_stats(const wf_audit_part *parts, int np, wf_data_stats *o) {
    const wf_data_stats *d0 = &parts[0].stats;
    memset(o, 0, sizeof *o);
    for (int i = 0; i < np; i++)
        if (parts[i].stats.turbines_filtered == 0) {
            *o = parts[i].stats;
            o->n_notes = 0; /* the notes stay with the part's own summary line */
            o->notes_dropped = 0;
            memset(o->notes, 0, sizeof o->notes);
            return;
        }
    o->bytes = d0->bytes;
    o->rows = d0->rows;
    o->turbines = d0->turbines;
    o->unnamed_rows = d0->unnamed_rows;
    o->malformed_rows = d0->unnamed_rows; /* + the owned turbines' malformed rows below */
    for (int i = 0; i < np; i++) {
        const wf_data_stats *d = &parts[i].stats;
        o->windows_valid += d->windows_valid;
        o->windows_skipped += d->windows_skipped;
        o->windows_interpolated += d->windows_interpolated;
        for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
            o->skipped_by_kind[k] += d->skipped_by_kind[k];
        o->malformed_rows += d->malformed_rows - d->unnamed_rows;
        o->bad_cells += d->bad_cells;
        o->duplicate_identical += d->duplicate_identical;
        o->duplicate_conflicting += d->duplicate_conflicting;
        o->off_grid_rows += d->off_grid_rows;
        o->reordered_rows += d->reordered_rows;
        o->outlier_rows += d->outlier_rows;
        o->turbines_resorted += d->turbines_resorted;
        o->nonexistent_time_rows += d->nonexistent_time_rows;
        o->ambiguous_time_rows += d->ambiguous_time_rows;
        o->cadence_turbines += d->cadence_turbines;
        if (d->cadence_mismatched) { /* the range of the mismatched turbines' median steps */
            if (!o->cadence_mismatched || d->cadence_median_min < o->cadence_median_min)
                o->cadence_median_min = d->cadence_median_min;
            if (d->cadence_median_max > o->cadence_median_max)
                o->cadence_median_max = d->cadence_median_max;
        }
        o->cadence_mismatched += d->cadence_mismatched;
        o->cadence_approximate |= d->cadence_approximate;
    }
    o->cadence_seconds = d0->cadence_seconds;
    snprintf(o->timezone, sizeof o->timezone, "%s", d0->timezone);
}

static int cmp_expl(const void *a, const void *b) {
    const wf_explanation *x = a, *y = b;
    return x->window_index < y->window_index ? -1 : x->window_index > y->window_index;
}

wf_status wf_audit_combine(wf_audit_part *parts, const char *const *names, int np,
                           wf_audit_part *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    if (np < 1)
        return wf_error_set(err, WF_ERR_INVALID, "no shard to merge");
    const wf_audit_part *p0 = &parts[0];
    int n = p0->shard_n;
    /* Same run, shards 0..n-1 each once. */
    int *seen = calloc((size_t)n, sizeof *seen);
    if (!seen)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    wf_status st = WF_OK;
    for (int i = 0; i < np && !st; i++) {
        const wf_audit_part *p = &parts[i];
        const char *d = ident_diff(&p0->id, &p->id);
        if (d)
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s belongs to another run than %s: its %s differs", names[i],
                              names[0], d);
        else if (p->shard_n != n)
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s is shard %d/%d but %s is shard %d/%d: they come from runs "
                              "split differently",
                              names[i], p->shard_k, p->shard_n, names[0], p0->shard_k, n);
        else if (seen[p->shard_k])
            st = wf_error_set(err, WF_ERR_VERIFY, "%s and %s are both shard %d/%d (duplicated)",
                              names[seen[p->shard_k] - 1], names[i], p->shard_k, n);
        else if (p->n_turbines != p0->n_turbines ||
                 (p->n_turbines &&
                  (memcmp(p->turbines, p0->turbines, sizeof *p->turbines * (size_t)p->n_turbines) ||
                   memcmp(p->turbine_shard, p0->turbine_shard,
                          sizeof *p->turbine_shard * (size_t)p->n_turbines))))
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s and %s disagree on which turbine belongs to which shard",
                              names[i], names[0]);
        else if (p->has_bg && p0->has_bg && !same_bg(&p->bg, &p0->bg))
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s and %s drew different background windows from the same log",
                              names[i], names[0]);
        else if (p->ws.C != p0->ws.C || p->ws.T != p0->ws.T)
            st = wf_error_set(err, WF_ERR_VERIFY, "%s and %s have different window shapes",
                              names[i], names[0]);
        if (!st)
            seen[p->shard_k] = i + 1;
    }
    for (int k = 0; k < n && !st; k++)
        if (!seen[k]) {
            char list[256] = "";
            size_t m = 0;
            for (int j = 0; j < n && m < sizeof list - 16; j++)
                if (!seen[j])
                    m += (size_t)snprintf(list + m, sizeof list - m, "%s%d", m ? ", " : "", j);
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "shard %d/%d is missing (missing: %s of 0..%d); run `whyflag audit "
                              "CONFIG --shard %d/%d` for it",
                              k, n, list, n - 1, k, n);
        }
    free(seen);
    if (st)
        return st;

    wf_data_stats merged;
    merge_stats(parts, np, &merged);

    /* Windows of all parts, canonical order. The parts' window records are moved one part at a
     * time (each freed once copied) and sorted in place: at most one extra part in memory. */
    int C = p0->ws.C, T = p0->ws.T;
    size_t CT = (size_t)C * (size_t)T;
    int64_t total = 0, total_sk = 0, total_e = 0, total_f = 0, total_s = 0;
    for (int i = 0; i < np; i++) {
        total += parts[i].ws.n;
        total_sk += parts[i].ws.n_skipped;
        total_e += parts[i].n_expl;
        total_s += parts[i].n_strings;
        for (int64_t j = 0; j < parts[i].ws.n; j++)
            total_f += parts[i].ws.w[j].values != NULL;
    }
    *out = parts[0]; /* identity, assignment, channels, background: moved below */
    out->stats = merged;
    out->cmp = NULL; /* combined below */
    out->shard_k = 0;
    memset(&out->ws, 0, sizeof out->ws);
    out->ws.C = C;
    out->ws.T = T;
    out->ws.stride = p0->ws.stride;
    out->ws.cadence = p0->ws.cadence;
    out->ws.channels = p0->ws.channels;
    out->ws.units = p0->ws.units;
    parts[0].ws.channels = parts[0].ws.units = NULL;
    parts[0].turbines = NULL;
    parts[0].turbine_shard = NULL;
    parts[0].turbine_rows = NULL;
    parts[0].failures = NULL; /* the failure log as parsed (a one-machine run), moved */
    parts[0].has_failures = 0;
    memset(&parts[0].bg, 0, sizeof parts[0].bg);
    parts[0].has_bg = 0;
    for (int i = 1; i < np; i++)
        if (!out->has_bg && parts[i].has_bg) {
            out->bg = parts[i].bg;
            out->has_bg = 1;
            memset(&parts[i].bg, 0, sizeof parts[i].bg);
            parts[i].has_bg = 0;
        }
    size_t na = total > 0 ? (size_t)total : 1;
    out->ch_min = malloc(sizeof(double) * (size_t)C);
    out->ch_max = malloc(sizeof(double) * (size_t)C);
    out->ws.data = malloc(sizeof(float) * CT * (total_f > 0 ? (size_t)total_f : 1));
    out->ws.skipped = malloc(sizeof *out->ws.skipped * (total_sk > 0 ? (size_t)total_sk : 1));
    out->flagged = malloc(na);
    out->expl = calloc(total_e > 0 ? (size_t)total_e : 1, sizeof *out->expl);
    out->strings = malloc(sizeof *out->strings * (total_s > 0 ? (size_t)total_s : 1));
    out->n_expl = out->n_strings = 0;
    out->ws.w = NULL;
    out->scores = NULL;
    int64_t *base = malloc(sizeof *base * (size_t)np);
    if (!out->ch_min || !out->ch_max || !out->ws.data || !out->ws.skipped || !out->flagged ||
        !out->expl || !out->strings || !base) {
        free(base);
        wf_audit_part_free(out);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory merging %lld windows",
                            (long long)total);
    }
    for (int c = 0; c < C; c++) {
        out->ch_min[c] = INFINITY;
        out->ch_max[c] = -INFINITY;
    }
    int64_t m = 0, f = 0;
    for (int i = 0; i < np; i++) {
        wf_audit_part *p = &parts[i];
        base[i] = m;
        for (int c = 0; c < C; c++) {
            out->ch_min[c] = fmin(out->ch_min[c], p->ch_min[c]);
            out->ch_max[c] = fmax(out->ch_max[c], p->ch_max[c]);
        }
        if (i == 0 && np == 1) { /* one part: move its arrays */
            out->ws.w = p->ws.w;
            out->scores = p->scores;
            p->ws.w = NULL;
            p->scores = NULL;
        } else {
            size_t nn = (size_t)(m + p->ws.n) > 0 ? (size_t)(m + p->ws.n) : 1;
            wf_window *nw = realloc(out->ws.w, sizeof *nw * nn);
            if (nw)
                out->ws.w = nw;
            double *ns = nw ? realloc(out->scores, sizeof *ns * nn) : NULL;
            if (ns)
                out->scores = ns;
            if (!nw || !ns) {
                free(base);
                wf_audit_part_free(out);
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory merging %lld windows",
                                    (long long)total);
            }
            memcpy(out->ws.w + m, p->ws.w, sizeof *nw * (size_t)p->ws.n);
            memcpy(out->scores + m, p->scores, sizeof *ns * (size_t)p->ws.n);
        }
        for (int64_t j = 0; j < p->ws.n; j++) {
            wf_window *w = &out->ws.w[m + j];
            out->flagged[m + j] = w->values != NULL;
            if (w->values) {
                memcpy(out->ws.data + (size_t)f * CT, w->values, sizeof(float) * CT);
                w->values = out->ws.data + (size_t)f * CT;
                f++;
            }
        }
        m += p->ws.n;
        for (int64_t j = 0; j < p->ws.n_skipped; j++)
            out->ws.skipped[out->ws.n_skipped++] = p->ws.skipped[j];
        /* done with this part's windows */
        free(p->ws.w);
        free(p->ws.data);
        free(p->ws.skipped);
        free(p->scores);
        free(p->flagged);
        p->ws.w = NULL;
        p->ws.data = NULL;
        p->ws.skipped = NULL;
        p->scores = NULL;
        p->flagged = NULL;
        p->ws.n = p->ws.n_skipped = 0;
    }
    if (!out->ws.w) { /* no windows at all */
        out->ws.w = malloc(sizeof *out->ws.w);
        out->scores = malloc(sizeof *out->scores);
    }
    int64_t *perm = NULL;
    wf_status ost = wf_windows_order(out->ws.w, total, &perm, err);
    int64_t *newpos = malloc(sizeof *newpos * na);
    if (ost || !newpos || !out->ws.w || !out->scores) {
        free(perm);
        free(newpos);
        free(base);
        wf_audit_part_free(out);
        return ost ? ost : wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int64_t j = 0; j < total; j++)
        newpos[perm[j]] = j;
    wf_windows_permute(perm, total, out->ws.w, out->scores, NULL, out->flagged);
    free(perm);
    for (int64_t j = 0; j < total; j++)
        out->ws.w[j].index = j;
    out->ws.n = out->ws.cap = total;
    out->ws.cap_skipped = out->ws.n_skipped;
    wf_windows_sort_skipped(&out->ws);
    for (int i = 0; i < np; i++) {
        wf_audit_part *p = &parts[i];
        for (int64_t j = 0; j < p->n_expl; j++) {
            wf_explanation e = p->expl[j];
            e.window_index = newpos[base[i] + e.window_index];
            out->expl[out->n_expl++] = e;
        }
        p->n_expl = 0;
        for (int64_t j = 0; j < p->n_strings; j++)
            out->strings[out->n_strings++] = p->strings[j];
        p->n_strings = 0;
    }
    /* explanations in window order (window indices are unique) */
    qsort(out->expl, (size_t)out->n_expl, sizeof *out->expl, cmp_expl);
    st = wf_audit_cmp_combine(parts, names, np, base, newpos, total, &out->cmp, err);
    free(base);
    free(newpos);
    wf_audit_drift **dr = malloc(sizeof *dr * (size_t)np);
    if (!dr && !st)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int i = 0; dr && i < np; i++)
        dr[i] = parts[i].drift;
    if (dr && !st)
        st = wf_audit_drift_combine(dr, np, &out->drift, err);
    free(dr);
    for (int i = 0; i < np; i++)
        wf_audit_part_free(&parts[i]);
    if (st)
        wf_audit_part_free(out);
    return st;
}
