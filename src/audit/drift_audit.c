/*
 * Drift in the audit (issue 16): the passes that fill a part's drift accumulators, their
 * shard.bin encoding and their combination (see drift_audit.h).
 *
 * Rows, not window cells: data drift is measured on the log's rows (every row with a readable
 * time and turbine id and the right field count; a channel's empty or non-numeric cells are left
 * out). With a reference period, the rows inside it are the reference and every other row of the
 * log is current; with another log, all of that log's rows are the reference and all of the
 * audited log's rows are current. The rows are read by the data stage's row reader in a pass of
 * their own; the reference windows (their channel means make the out-of-range profile) by a
 * windowing pass over the reference source.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/strmap.h"

/* ---------------------------------------------------------------- the part's tables */

static wf_status new_acc(const wf_config *cfg, int C, wf_drift_acc **a, wf_error *err) {
    size_t budget = (size_t)cfg->drift.memory_mb * 1024u * 1024u;
    return wf_drift_acc_new(a, C, budget, err);
}

void wf_audit_drift_free(wf_audit_drift *d) {
    if (!d)
        return;
    for (int64_t i = 0; i < d->n_tb; i++) {
        wf_drift_acc_free(d->tb_ref[i]);
        wf_drift_acc_free(d->tb_cur[i]);
    }
    for (int64_t i = 0; i < d->n_per; i++)
        wf_drift_acc_free(d->per_cur[i]);
    free(d->tb_id);
    free(d->tb_ref);
    free(d->tb_cur);
    free(d->per_start);
    free(d->per_cur);
    wf_drift_acc_free(d->ref_extra);
    wf_drift_acc_free(d->ref_means);
    free(d);
}

static wf_status drift_alloc(wf_audit_drift **out, int C, wf_error *err) {
    wf_audit_drift *d = calloc(1, sizeof *d);
    if (!d)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    d->C = C;
    *out = d;
    return WF_OK;
}

/* Turbine slot of id (added with empty accumulators when new; accs may be NULL when the caller
 * fills them itself). */
static wf_status tb_add(wf_audit_drift *d, const char *id, int make, const wf_config *cfg,
                        int64_t *slot, wf_error *err) {
    if (d->n_tb == d->tb_cap) {
        int64_t nc = d->tb_cap ? d->tb_cap * 2 : 64;
        void *a = realloc(d->tb_id, sizeof *d->tb_id * (size_t)nc);
        if (a)
            d->tb_id = a;
        void *b = a ? realloc(d->tb_ref, sizeof *d->tb_ref * (size_t)nc) : NULL;
        if (b)
            d->tb_ref = b;
        void *c = b ? realloc(d->tb_cur, sizeof *d->tb_cur * (size_t)nc) : NULL;
        if (!c)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (%lld turbines)", (long long)nc);
        d->tb_cur = c;
        d->tb_cap = nc;
    }
    int64_t i = d->n_tb;
    snprintf(d->tb_id[i], WF_ID_MAX, "%s", id);
    d->tb_ref[i] = d->tb_cur[i] = NULL;
    d->n_tb++;
    wf_status st = WF_OK;
    if (make && !(st = new_acc(cfg, d->C, &d->tb_ref[i], err)))
        st = new_acc(cfg, d->C, &d->tb_cur[i], err);
    *slot = i;
    return st;
}

static wf_status per_add(wf_audit_drift *d, int64_t start, wf_drift_acc *acc, int64_t *slot,
                         wf_error *err) {
    if (d->n_per == d->per_cap) {
        int64_t nc = d->per_cap ? d->per_cap * 2 : 16;
        void *a = realloc(d->per_start, sizeof *d->per_start * (size_t)nc);
        if (a)
            d->per_start = a;
        void *b = a ? realloc(d->per_cur, sizeof *d->per_cur * (size_t)nc) : NULL;
        if (!b)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        d->per_cur = b;
        d->per_cap = nc;
    }
    d->per_start[d->n_per] = start;
    d->per_cur[d->n_per] = acc;
    *slot = d->n_per++;
    return WF_OK;
}

static int64_t per_find(const wf_audit_drift *d, int64_t start) {
    for (int64_t i = d->n_per; i-- > 0;) /* few periods; the last one is the usual hit */
        if (d->per_start[i] == start)
            return i;
    return -1;
}

static int cmp_id(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* Is id one of the audited log's turbines in the shard table? */
static int in_table(const wf_audit_part *pt, const char *id) {
    return bsearch(id, pt->turbines, (size_t)pt->n_turbines, sizeof *pt->turbines, cmp_id) != NULL;
}

/* ---------------------------------------------------------------- row passes */

typedef struct rowpass {
    const wf_config *cfg;
    const wf_audit_part *pt;
    wf_audit_drift *d;
    wf_strmap map; /* turbine id -> slot */
} rowpass;

/* Slot of a row's turbine: -1 when this part does not take it; -2 for the extra reference. */
static wf_status row_slot(rowpass *rp, const char *id, size_t len, int reference_log, int64_t *slot,
                          wf_error *err) {
    int64_t s = wf_strmap_get(&rp->map, id, len);
    if (s != -1) {
        *slot = s;
        return WF_OK;
    }
    const wf_audit_part *pt = rp->pt;
    int take;
    if (!reference_log) {
        take = wf_audit_part_owns(pt, id);
    } else if (pt->shard_n > 1) {
        take = in_table(pt, id) ? wf_audit_part_owns(pt, id) : (pt->shard_k == 0 ? 2 : 0);
    } else {
        take = 2; /* not in the map: the audited log has no such turbine */
    }
    if (take == 1) {
        wf_status st = tb_add(rp->d, id, 1, rp->cfg, &s, err);
        if (st)
            return st;
    } else {
        s = take == 2 ? -2 : -3;
    }
    *slot = s;
    return wf_strmap_put(&rp->map, id, len, s, err);
}

static wf_status add_row(rowpass *rp, wf_drift_acc *acc, const wf_log_row *row, wf_error *err) {
    for (int c = 0; c < rp->d->C; c++) {
        if (row->state[c] != WF_CELL_OK)
            continue;
        wf_status st = wf_drift_acc_add_f(acc, c, &row->values[c], 1, err);
        if (st)
            return st;
    }
    return WF_OK;
}

static wf_status row_pass(rowpass *rp, const wf_log_config *log, int reference_log, wf_error *err) {
    const wf_drift_config *dc = &rp->cfg->drift;
    wf_audit_drift *d = rp->d;
    wf_log_reader *r = NULL;
    wf_status st = wf_log_reader_open(log, &r, err);
    if (st)
        return reference_log ? wf_error_prefix(err, "drift.reference.path: ") : st;
    char last_raw[4 * WF_ID_MAX];
    size_t last_n = (size_t)-1;
    int64_t slot = -3;
    for (;;) {
        wf_log_row row;
        int done = 0;
        if ((st = wf_log_reader_next(r, &row, &done, err)) || done)
            break;
        if (row.turbine_len == 0)
            continue;
        if (row.turbine_len != last_n || memcmp(last_raw, row.turbine, row.turbine_len)) {
            char id[WF_ID_MAX];
            size_t len = wf_turbine_id_normalize(row.turbine, row.turbine_len, id);
            if ((st = row_slot(rp, id, len, reference_log, &slot, err)))
                break;
            last_n = (size_t)-1;
            if (row.turbine_len < sizeof last_raw) {
                memcpy(last_raw, row.turbine, row.turbine_len);
                last_n = row.turbine_len;
            }
        }
        if (slot == -3 || row.malformed || !row.time_ok)
            continue;
        if (reference_log) {
            st = add_row(rp, slot == -2 ? d->ref_extra : d->tb_ref[slot], &row, err);
        } else if (dc->ref_kind == WF_DRIFT_REF_PERIOD && row.time >= dc->ref_from &&
                   row.time < dc->ref_to) {
            st = add_row(rp, d->tb_ref[slot], &row, err);
        } else {
            st = add_row(rp, d->tb_cur[slot], &row, err);
            int64_t ps = wf_drift_period_start(row.time, dc->period), pi = per_find(d, ps);
            if (!st && pi < 0) {
                wf_drift_acc *a = NULL;
                if (!(st = new_acc(rp->cfg, d->C, &a, err)) && (st = per_add(d, ps, a, &pi, err)))
                    wf_drift_acc_free(a);
            }
            if (!st)
                st = add_row(rp, d->per_cur[pi], &row, err);
        }
        if (st)
            break;
    }
    if (!st && !reference_log) { /* the audited log again: the bytes the run's digest recorded */
        char hex[65];
        wf_log_reader_digest(r, hex);
        st = wf_audit_log_check(rp->cfg, &rp->pt->id, hex, "measured drift", err);
    }
    wf_log_reader_free(r);
    return st;
}

/* ---------------------------------------------------------------- reference windows */

typedef struct winpass {
    const wf_config *cfg;
    const wf_audit_part *pt;
    int reference_log;
    int C;
    int64_t n, cap;
    double *means;         /* (n, C) */
    char (*id)[WF_ID_MAX]; /* (n) */
} winpass;

static int win_want(void *user, const char *id) {
    winpass *w = user;
    const wf_audit_part *pt = w->pt;
    if (!w->reference_log || pt->shard_n <= 1)
        return wf_audit_part_owns(pt, id);
    return in_table(pt, id) ? wf_audit_part_owns(pt, id) : pt->shard_k == 0;
}

static wf_status win_take(void *user, const wf_window *win, wf_error *err) {
    winpass *w = user;
    const wf_drift_config *dc = &w->cfg->drift;
    if (!w->reference_log && (win->start < dc->ref_from || win->end >= dc->ref_to))
        return WF_OK;
    if (w->n == w->cap) {
        int64_t nc = w->cap ? w->cap * 2 : 256;
        void *a = realloc(w->means, sizeof(double) * (size_t)w->C * (size_t)nc);
        if (a)
            w->means = a;
        void *b = a ? realloc(w->id, sizeof *w->id * (size_t)nc) : NULL;
        if (!b)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        w->id = b;
        w->cap = nc;
    }
    wf_drift_window_means(w->means + (size_t)w->n * (size_t)w->C, win->values, w->C,
                          w->cfg->window.length);
    snprintf(w->id[w->n], WF_ID_MAX, "%s", win->turbine_id);
    w->n++;
    return WF_OK;
}

static wf_status win_skip(void *user, const wf_skipped *s, wf_error *err) {
    (void)user;
    (void)s;
    (void)err;
    return WF_OK;
}

/* A turbine's rows were out of order: forget its windows, they come again. */
static wf_status win_retract(void *user, const char *id, wf_error *err) {
    (void)err;
    winpass *w = user;
    int64_t j = 0;
    for (int64_t i = 0; i < w->n; i++) {
        if (!strcmp(w->id[i], id))
            continue;
        memmove(w->means + (size_t)j * (size_t)w->C, w->means + (size_t)i * (size_t)w->C,
                sizeof(double) * (size_t)w->C);
        memcpy(w->id[j], w->id[i], WF_ID_MAX);
        j++;
    }
    w->n = j;
    return WF_OK;
}

static wf_status window_pass(const wf_config *cfg, const wf_audit_part *pt,
                             const wf_log_config *log, int reference_log, wf_audit_drift *d,
                             wf_error *err) {
    winpass w = {cfg, pt, reference_log, d->C, 0, 0, NULL, NULL};
    wf_data_sink sink = {win_take, win_skip, win_retract, &w, win_want};
    wf_failures_config nofail;
    memset(&nofail, 0, sizeof nofail);
    wf_data_config dc = {log, &cfg->window, &nofail};
    wf_data_stats stats;
    wf_status st = wf_data_stream_windows(&dc, NULL, 0, &sink, &stats, err);
    if (st && reference_log)
        wf_error_prefix(err, "drift.reference.path: ");
    if (!st && !reference_log)
        st = wf_audit_log_check(cfg, &pt->id, stats.sha256, "cut drift's reference windows", err);
    for (int64_t i = 0; !st && i < w.n; i++)
        for (int c = 0; !st && c < d->C; c++)
            st =
                wf_drift_acc_add_d(d->ref_means, c, w.means + (size_t)i * (size_t)d->C + c, 1, err);
    d->n_ref_windows = w.n;
    free(w.means);
    free(w.id);
    return st;
}

/* ---------------------------------------------------------------- the run */

typedef struct tb_sort {
    char id[WF_ID_MAX];
    wf_drift_acc *ref, *cur;
} tb_sort;

static int cmp_tb(const void *a, const void *b) {
    return strcmp(((const tb_sort *)a)->id, ((const tb_sort *)b)->id);
}

typedef struct per_sort {
    int64_t start;
    wf_drift_acc *acc;
} per_sort;

static int cmp_per(const void *a, const void *b) {
    const per_sort *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort the turbines and the periods, finish every accumulator. */
static wf_status finish_all(wf_audit_drift *d, wf_error *err) {
    wf_status st = WF_OK;
    if (d->n_tb > 1) {
        tb_sort *t = malloc(sizeof *t * (size_t)d->n_tb);
        if (!t)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < d->n_tb; i++) {
            memcpy(t[i].id, d->tb_id[i], WF_ID_MAX);
            t[i].ref = d->tb_ref[i];
            t[i].cur = d->tb_cur[i];
        }
        qsort(t, (size_t)d->n_tb, sizeof *t, cmp_tb);
        for (int64_t i = 0; i < d->n_tb; i++) {
            memcpy(d->tb_id[i], t[i].id, WF_ID_MAX);
            d->tb_ref[i] = t[i].ref;
            d->tb_cur[i] = t[i].cur;
        }
        free(t);
    }
    if (d->n_per > 1) {
        per_sort *p = malloc(sizeof *p * (size_t)d->n_per);
        if (!p)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < d->n_per; i++)
            p[i] = (per_sort){d->per_start[i], d->per_cur[i]};
        qsort(p, (size_t)d->n_per, sizeof *p, cmp_per);
        for (int64_t i = 0; i < d->n_per; i++) {
            d->per_start[i] = p[i].start;
            d->per_cur[i] = p[i].acc;
        }
        free(p);
    }
    for (int64_t i = 0; !st && i < d->n_tb; i++)
        if (!(st = wf_drift_acc_finish(d->tb_ref[i], err)))
            st = wf_drift_acc_finish(d->tb_cur[i], err);
    for (int64_t i = 0; !st && i < d->n_per; i++)
        st = wf_drift_acc_finish(d->per_cur[i], err);
    if (!st)
        st = wf_drift_acc_finish(d->ref_extra, err);
    if (!st)
        st = wf_drift_acc_finish(d->ref_means, err);
    return st;
}

wf_status wf_audit_drift_run(const wf_config *cfg, const wf_audit_part *pt, wf_audit_drift **out,
                             wf_error *err) {
    *out = NULL;
    wf_audit_drift *d = NULL;
    int C = cfg->log.n_channels;
    wf_status st = drift_alloc(&d, C, err);
    if (st)
        return st;
    if ((st = new_acc(cfg, C, &d->ref_extra, err)) || (st = new_acc(cfg, C, &d->ref_means, err))) {
        wf_audit_drift_free(d);
        return st;
    }
    rowpass rp = {cfg, pt, d, {0}};
    wf_strmap_init(&rp.map);
    st = row_pass(&rp, &cfg->log, 0, err);
    wf_log_config ref_log = cfg->log; /* the same column mapping, another file */
    if (!st && cfg->drift.ref_kind == WF_DRIFT_REF_LOG) {
        snprintf(ref_log.path, sizeof ref_log.path, "%s", cfg->drift.ref_path);
        st = row_pass(&rp, &ref_log, 1, err);
    }
    wf_strmap_free(&rp.map);
    if (!st)
        st = window_pass(cfg, pt, &ref_log, cfg->drift.ref_kind == WF_DRIFT_REF_LOG, d, err);
    if (!st)
        st = finish_all(d, err);
    if (st) {
        wf_audit_drift_free(d);
        return st;
    }
    *out = d;
    return WF_OK;
}

/* ---------------------------------------------------------------- shard.bin encoding */

/* An accumulator: per channel n, then n (value bits, count) pairs. */
static void put_acc(wf_bw *b, const wf_drift_acc *a, int C) {
    for (int c = 0; c < C; c++) {
        wf_drift_sample s = wf_drift_acc_sample(a, c);
        wf_bw_u64(b, s.n);
        for (size_t i = 0; i < s.n; i++) {
            uint64_t u;
            memcpy(&u, &s.v[i], 8);
            wf_bw_u64(b, u);
            wf_bw_u64(b, s.w ? s.w[i] : 1);
        }
    }
}

wf_status wf_audit_drift_encode(const wf_audit_drift *d, char **p, size_t *n, wf_error *err) {
    wf_bw b = {0};
    wf_bw_u64(&b, (uint64_t)d->C);
    wf_bw_u64(&b, (uint64_t)d->n_tb);
    for (int64_t i = 0; i < d->n_tb; i++) {
        size_t len = strlen(d->tb_id[i]);
        wf_bw_u64(&b, len);
        wf_bw_put(&b, d->tb_id[i], len);
        put_acc(&b, d->tb_ref[i], d->C);
        put_acc(&b, d->tb_cur[i], d->C);
    }
    wf_bw_u64(&b, (uint64_t)d->n_per);
    for (int64_t i = 0; i < d->n_per; i++) {
        wf_bw_u64(&b, (uint64_t)d->per_start[i]);
        put_acc(&b, d->per_cur[i], d->C);
    }
    put_acc(&b, d->ref_extra, d->C);
    put_acc(&b, d->ref_means, d->C);
    wf_bw_u64(&b, (uint64_t)d->n_ref_windows);
    if (b.failed) {
        free(b.p);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    *p = b.p;
    *n = b.n;
    return WF_OK;
}

static wf_status get_acc(wf_br *r, const wf_config *cfg_unused, int C, wf_drift_acc **out,
                         wf_error *err) {
    (void)cfg_unused;
    wf_status st = wf_drift_acc_new(out, C, 0, err);
    double *v = NULL;
    uint64_t *w = NULL;
    for (int c = 0; !st && c < C && !r->bad; c++) {
        uint64_t n = wf_br_u64(r);
        if (r->bad || n > (r->n - r->at) / 16) {
            r->bad = 1;
            break;
        }
        free(v);
        free(w);
        v = malloc(sizeof *v * (size_t)(n ? n : 1));
        w = malloc(sizeof *w * (size_t)(n ? n : 1));
        if (!v || !w) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            break;
        }
        /* (value, count) pairs ascending; a sample stored as sorted values repeats a value
         * with count 1, so repeats are summed here */
        uint64_t m = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t u = wf_br_u64(r), k = wf_br_u64(r);
            double x;
            memcpy(&x, &u, 8);
            if (isnan(x) || k == 0 || (m && x < v[m - 1]))
                r->bad = 1;
            if (m && x == v[m - 1]) {
                w[m - 1] += k;
            } else {
                v[m] = x;
                w[m++] = k;
            }
        }
        if (!r->bad && m)
            st = wf_drift_acc_add_counts(*out, c, v, w, (size_t)m, err);
    }
    free(v);
    free(w);
    if (!st && !r->bad)
        st = wf_drift_acc_finish(*out, err);
    return st;
}

wf_status wf_audit_drift_decode(const unsigned char *p, size_t n, wf_audit_drift **out,
                                wf_error *err) {
    *out = NULL;
    wf_br r = {p, n, 0, 0};
    uint64_t C = wf_br_u64(&r);
    if (r.bad || C < 1 || C > (1 << 16))
        return wf_error_set(err, WF_ERR_PARSE, "drift section: bad channel count");
    wf_audit_drift *d = NULL;
    wf_status st = drift_alloc(&d, (int)C, err);
    if (st)
        return st;
    uint64_t nt = wf_br_u64(&r);
    if (nt > n / 8)
        r.bad = 1;
    for (uint64_t i = 0; !st && !r.bad && i < nt; i++) {
        uint64_t len = wf_br_u64(&r);
        if (r.bad || len >= WF_ID_MAX || n - r.at < len) {
            r.bad = 1;
            break;
        }
        char id[WF_ID_MAX];
        memcpy(id, p + r.at, len);
        id[len] = '\0';
        r.at += len;
        int64_t slot;
        if ((st = tb_add(d, id, 0, NULL, &slot, err)))
            break;
        if (!(st = get_acc(&r, NULL, d->C, &d->tb_ref[slot], err)))
            st = get_acc(&r, NULL, d->C, &d->tb_cur[slot], err);
    }
    uint64_t np = st ? 0 : wf_br_u64(&r);
    if (np > n / 8)
        r.bad = 1;
    for (uint64_t i = 0; !st && !r.bad && i < np; i++) {
        int64_t start = (int64_t)wf_br_u64(&r), slot;
        wf_drift_acc *a = NULL;
        st = get_acc(&r, NULL, d->C, &a, err);
        if (!st && (st = per_add(d, start, a, &slot, err)))
            wf_drift_acc_free(a);
    }
    if (!st && !r.bad)
        st = get_acc(&r, NULL, d->C, &d->ref_extra, err);
    if (!st && !r.bad)
        st = get_acc(&r, NULL, d->C, &d->ref_means, err);
    if (!st)
        d->n_ref_windows = (int64_t)wf_br_u64(&r);
    if (!st && (r.bad || r.at != r.n))
        st = wf_error_set(err, WF_ERR_PARSE, "drift section: truncated or corrupt");
    if (st) {
        wf_audit_drift_free(d);
        return st;
    }
    *out = d;
    return WF_OK;
}

/* ---------------------------------------------------------------- combine */

static wf_status merge_into(wf_drift_acc **dst, const wf_drift_acc *src, int C, wf_error *err) {
    if (!*dst) {
        wf_status st = wf_drift_acc_new(dst, C, 0, err);
        if (st)
            return st;
    }
    wf_status st = wf_drift_acc_merge(*dst, src, err);
    return st ? st : wf_drift_acc_finish(*dst, err);
}

wf_status wf_audit_drift_combine(wf_audit_drift *const *parts, int np, wf_audit_drift **out,
                                 wf_error *err) {
    *out = NULL;
    int have = 0;
    for (int i = 0; i < np; i++)
        have += parts[i] != NULL;
    if (have == 0)
        return WF_OK;
    if (have != np)
        return wf_error_set(err, WF_ERR_DATA,
                            "some shards carry drift accumulators and some do "
                            "not: rerun every shard with the same config");
    int C = parts[0]->C;
    wf_audit_drift *d = NULL;
    wf_status st = drift_alloc(&d, C, err);
    for (int i = 0; !st && i < np; i++) {
        const wf_audit_drift *p = parts[i];
        if (p->C != C) {
            st = wf_error_set(err, WF_ERR_DATA, "shards differ in their channel count");
            break;
        }
        for (int64_t t = 0; !st && t < p->n_tb; t++) {
            int64_t slot;
            if ((st = tb_add(d, p->tb_id[t], 0, NULL, &slot, err)))
                break;
            if (!(st = merge_into(&d->tb_ref[slot], p->tb_ref[t], C, err)))
                st = merge_into(&d->tb_cur[slot], p->tb_cur[t], C, err);
        }
        for (int64_t k = 0; !st && k < p->n_per; k++) {
            int64_t slot = per_find(d, p->per_start[k]);
            if (slot < 0 && (st = per_add(d, p->per_start[k], NULL, &slot, err)))
                break;
            st = merge_into(&d->per_cur[slot], p->per_cur[k], C, err);
        }
        if (!st)
            st = merge_into(&d->ref_extra, p->ref_extra, C, err);
        if (!st)
            st = merge_into(&d->ref_means, p->ref_means, C, err);
        d->n_ref_windows += p->n_ref_windows;
    }
    if (!st)
        st = finish_all(d, err);
    if (!st) {
        for (int64_t t = 1; t < d->n_tb; t++)
            if (!strcmp(d->tb_id[t], d->tb_id[t - 1]))
                st = wf_error_set(err, WF_ERR_DATA,
                                  "turbine %s is in two shards' drift accumulators", d->tb_id[t]);
    }
    if (st) {
        wf_audit_drift_free(d);
        return st;
    }
    *out = d;
    return WF_OK;
}
