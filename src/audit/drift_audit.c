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
 *
 * Memory: drift.memory_mb (default 64) is one budget B for all of a run's accumulators. A
 * quarter goes to the fleet-wide tables (reference rows, current rows, reference window means:
 * 3 C channels, each exact while it fits its share, else compacted), half to the per-turbine and
 * per-period tables (2 n_turbines + n_periods tables of C channels, a cap of
 * K = (B/2) / (16 bytes x that many channels) entries each), a quarter to their pending values.
 * The caps follow the fleet's counts of turbines and periods, which every shard sees (every
 * shard parses every row), so each table is compacted to the same K in every shard (see
 * wf_drift_acc_set_limits for the sketch and its error bounds). While the log streams the
 * counts seen so far give a larger provisional cap, lowered as they grow; the final cap is
 * applied at the end, which gives the same table as applying it from the start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/strmap.h"

/* ---------------------------------------------------------------- the part's tables */

#define CAP_MIN 32      /* entries: a budget leaving fewer per table is refused */
#define PEND_FLEET 4096 /* pending values of a fleet-wide channel */
#define PEND_MIN_TB 64  /* pending values of a per-turbine or per-period channel, at least */

static uint64_t budget_bytes(const wf_config *cfg) {
    return (uint64_t)cfg->drift.memory_mb * 1024u * 1024u;
}

/* Caps from the budget: fleet-wide tables, and per-turbine/per-period tables for n_tables
 * tables of C channels. */
static uint64_t cap_fleet_of(const wf_config *cfg, int C) {
    return budget_bytes(cfg) / 4 / (16u * 3u * (uint64_t)C);
}
static uint64_t cap_table_of(const wf_config *cfg, int C, int64_t n_tables) {
    return budget_bytes(cfg) / 2 / (16u * (uint64_t)C * (uint64_t)(n_tables > 0 ? n_tables : 1));
}
static uint64_t pend_table_of(const wf_config *cfg, int C, int64_t n_tables) {
    uint64_t p =
        budget_bytes(cfg) / 4 / (8u * (uint64_t)C * (uint64_t)(n_tables > 0 ? n_tables : 1));
    return p < PEND_MIN_TB ? PEND_MIN_TB : p;
}

static wf_status new_acc(const wf_config *cfg, int C, wf_drift_acc **a, wf_error *err) {
    (void)cfg;
    return wf_drift_acc_new(a, C, 0, err); /* the run's budget is kept by the caps */
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
    wf_drift_acc_free(d->fleet_ref);
    wf_drift_acc_free(d->fleet_cur);
    wf_drift_acc_free(d->ref_means);
    wf_audit_ufs_free(&d->ufs);
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
    /* the fleet's counts so far (every row, whoever owns it) and the provisional limits */
    int64_t n_tb_seen, n_per_seen, per_seen_cap, last_ps;
    int64_t *per_seen; /* (n_per_seen) period starts of current rows */
    uint64_t cap, pend, cap_applied;
} rowpass;

/* The provisional limits for the tables counted so far; when the cap has fallen by more than
 * an eighth since it was last applied, every table of the part is compacted to it now. */
static wf_status limits_update(rowpass *rp, wf_error *err) {
    wf_audit_drift *d = rp->d;
    int64_t n = 2 * rp->n_tb_seen + rp->n_per_seen;
    rp->cap = cap_table_of(rp->cfg, d->C, n);
    rp->pend = pend_table_of(rp->cfg, d->C, n);
    if (rp->cap_applied && rp->cap >= rp->cap_applied - rp->cap_applied / 8)
        return WF_OK;
    rp->cap_applied = rp->cap;
    wf_status st = WF_OK;
    for (int64_t i = 0; !st && i < d->n_tb; i++) {
        wf_drift_acc_set_limits(d->tb_ref[i], rp->cap, rp->pend);
        wf_drift_acc_set_limits(d->tb_cur[i], rp->cap, rp->pend);
        if (!(st = wf_drift_acc_finish(d->tb_ref[i], err)))
            st = wf_drift_acc_finish(d->tb_cur[i], err);
    }
    for (int64_t i = 0; !st && i < d->n_per; i++) {
        wf_drift_acc_set_limits(d->per_cur[i], rp->cap, rp->pend);
        st = wf_drift_acc_finish(d->per_cur[i], err);
    }
    return st;
}

/* Count the period of a current row of the audited log (any turbine's). */
static wf_status period_seen(rowpass *rp, int64_t ps, wf_error *err) {
    if (rp->n_per_seen && ps == rp->last_ps)
        return WF_OK;
    rp->last_ps = ps;
    for (int64_t i = rp->n_per_seen; i-- > 0;)
        if (rp->per_seen[i] == ps)
            return WF_OK;
    if (rp->n_per_seen == rp->per_seen_cap) {
        int64_t nc = rp->per_seen_cap ? rp->per_seen_cap * 2 : 64;
        int64_t *a = realloc(rp->per_seen, sizeof *a * (size_t)nc);
        if (!a)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        rp->per_seen = a;
        rp->per_seen_cap = nc;
    }
    rp->per_seen[rp->n_per_seen++] = ps;
    return limits_update(rp, err);
}

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
        rp->n_tb_seen++;
        wf_status st = limits_update(rp, err);
        if (st)
            return st;
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
        wf_drift_acc_set_limits(rp->d->tb_ref[s], rp->cap, rp->pend);
        wf_drift_acc_set_limits(rp->d->tb_cur[s], rp->cap, rp->pend);
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
        if (row.malformed || !row.time_ok)
            continue;
        int is_ref = reference_log || (dc->ref_kind == WF_DRIFT_REF_PERIOD &&
                                       row.time >= dc->ref_from && row.time < dc->ref_to);
        int64_t ps = is_ref ? 0 : wf_drift_period_start(row.time, dc->period);
        if (!is_ref && (st = period_seen(rp, ps, err)))
            break;
        if (slot == -3)
            continue;
        if (is_ref) {
            st = add_row(rp, d->fleet_ref, &row, err);
            if (!st && slot != -2)
                st = add_row(rp, d->tb_ref[slot], &row, err);
        } else {
            st = add_row(rp, d->fleet_cur, &row, err);
            if (!st)
                st = add_row(rp, d->tb_cur[slot], &row, err);
            int64_t pi = per_find(d, ps);
            if (!st && pi < 0) {
                wf_drift_acc *a = NULL;
                if (!(st = new_acc(rp->cfg, d->C, &a, err)) && (st = per_add(d, ps, a, &pi, err)))
                    wf_drift_acc_free(a);
                if (!st)
                    wf_drift_acc_set_limits(a, rp->cap, rp->pend);
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
        st = wf_drift_acc_finish(d->fleet_ref, err);
    if (!st)
        st = wf_drift_acc_finish(d->fleet_cur, err);
    if (!st)
        st = wf_drift_acc_finish(d->ref_means, err);
    return st;
}

/* Every table at its final cap (the fleet's counts known); finish_all then compacts. */
static void set_final_limits(wf_audit_drift *d) {
    for (int64_t i = 0; i < d->n_tb; i++) {
        wf_drift_acc_set_limits(d->tb_ref[i], d->cap_table, 0);
        wf_drift_acc_set_limits(d->tb_cur[i], d->cap_table, 0);
    }
    for (int64_t i = 0; i < d->n_per; i++)
        wf_drift_acc_set_limits(d->per_cur[i], d->cap_table, 0);
    wf_drift_acc_set_limits(d->fleet_ref, d->cap_fleet, PEND_FLEET);
    wf_drift_acc_set_limits(d->fleet_cur, d->cap_fleet, PEND_FLEET);
    wf_drift_acc_set_limits(d->ref_means, d->cap_fleet, PEND_FLEET);
}

/* Is the budget enough for n_turbines turbines (and at least one period)? Checked before the
 * passes with the main pass's turbine count, and after them with the fleet's counts. */
static wf_status budget_check(const wf_config *cfg, int C, int64_t n_tb, int64_t n_per,
                              wf_error *err) {
    int64_t n = 2 * n_tb + n_per;
    if (cap_table_of(cfg, C, n) >= CAP_MIN && cap_fleet_of(cfg, C) >= CAP_MIN)
        return WF_OK;
    uint64_t need = (uint64_t)CAP_MIN * 16u * 2u * (uint64_t)C * (uint64_t)(n > 3 ? n : 3);
    return wf_error_set(err, WF_ERR_CONFIG,
                        "drift.memory_mb: %lld MiB is too small for %lld turbines and %lld "
                        "periods of %d channels (%lld tables of %d entries at least); expected at "
                        "least %llu MiB",
                        (long long)cfg->drift.memory_mb, (long long)n_tb, (long long)n_per, C,
                        (long long)n * C, CAP_MIN,
                        (unsigned long long)((need + (1u << 20) - 1) >> 20));
}

wf_status wf_audit_drift_run(const wf_config *cfg, const wf_audit_part *pt, wf_audit_drift **out,
                             wf_error *err) {
    *out = NULL;
    wf_audit_drift *d = NULL;
    int C = cfg->log.n_channels;
    wf_status st = budget_check(cfg, C, pt->stats.turbines, 1, err);
    if (!st)
        st = drift_alloc(&d, C, err);
    if (st)
        return st;
    if ((st = new_acc(cfg, C, &d->fleet_ref, err)) || (st = new_acc(cfg, C, &d->fleet_cur, err)) ||
        (st = new_acc(cfg, C, &d->ref_means, err))) {
        wf_audit_drift_free(d);
        return st;
    }
    d->cap_fleet = cap_fleet_of(cfg, C);
    wf_drift_acc_set_limits(d->fleet_ref, d->cap_fleet, PEND_FLEET);
    wf_drift_acc_set_limits(d->fleet_cur, d->cap_fleet, PEND_FLEET);
    wf_drift_acc_set_limits(d->ref_means, d->cap_fleet, PEND_FLEET);
    rowpass rp;
    memset(&rp, 0, sizeof rp);
    rp.cfg = cfg;
    rp.pt = pt;
    rp.d = d;
    wf_strmap_init(&rp.map);
    st = limits_update(&rp, err);
    if (!st)
        st = row_pass(&rp, &cfg->log, 0, err);
    wf_log_config ref_log = cfg->log; /* the same column mapping, another file */
    if (!st && cfg->drift.ref_kind == WF_DRIFT_REF_LOG) {
        snprintf(ref_log.path, sizeof ref_log.path, "%s", cfg->drift.ref_path);
        st = row_pass(&rp, &ref_log, 1, err);
    }
    wf_strmap_free(&rp.map);
    free(rp.per_seen);
    d->n_tb_fleet = rp.n_tb_seen;
    d->n_per_fleet = rp.n_per_seen;
    d->cap_table = cap_table_of(cfg, C, 2 * d->n_tb_fleet + d->n_per_fleet);
    if (!st)
        st = budget_check(cfg, C, d->n_tb_fleet, d->n_per_fleet, err);
    if (!st) { /* compact now, before the reference windows add their means */
        set_final_limits(d);
        st = finish_all(d, err);
    }
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

/* An accumulator: per channel n, its level (0: exact, else level + 1 - LEVEL_BASE), then n
 * (value bits, count) pairs. */
#define LEVEL_BASE (-1000)
static void put_acc(wf_bw *b, const wf_drift_acc *a, int C) {
    for (int c = 0; c < C; c++) {
        wf_drift_sample s = wf_drift_acc_sample(a, c);
        int e = 0;
        int sk = wf_drift_acc_level(a, c, &e);
        wf_bw_u64(b, s.n);
        wf_bw_u64(b, sk ? (uint64_t)(e - LEVEL_BASE + 1) : 0);
        for (size_t i = 0; i < s.n; i++) {
            uint64_t u;
            memcpy(&u, &s.v[i], 8);
            wf_bw_u64(b, u);
            wf_bw_u64(b, s.w ? s.w[i] : 1);
        }
    }
}

/* The sample of unflagged windows: k, C, T, n, then per window its identity, period, hash,
 * score and values. */
static void put_ufs(wf_bw *b, const wf_audit_ufs *u, int64_t k) {
    const wf_windows *ws = &u->ws;
    wf_bw_u64(b, (uint64_t)k);
    wf_bw_u64(b, (uint64_t)ws->C);
    wf_bw_u64(b, (uint64_t)ws->T);
    wf_bw_u64(b, (uint64_t)ws->n);
    size_t CT = (size_t)ws->C * (size_t)ws->T;
    for (int64_t i = 0; i < ws->n; i++) {
        const wf_window *w = &ws->w[i];
        size_t len = strlen(w->turbine_id);
        wf_bw_u64(b, len);
        wf_bw_put(b, w->turbine_id, len);
        wf_bw_u64(b, (uint64_t)w->start);
        wf_bw_u64(b, (uint64_t)w->end);
        wf_bw_u64(b, (uint64_t)(int64_t)w->label);
        wf_bw_u64(b, (uint64_t)(int64_t)w->interpolated);
        wf_bw_u64(b, (uint64_t)u->period[i]);
        wf_bw_u64(b, u->hash[i]);
        uint64_t sb;
        memcpy(&sb, &u->score[i], 8);
        wf_bw_u64(b, sb);
        for (size_t j = 0; j < CT; j++) {
            uint32_t x;
            memcpy(&x, &w->values[j], 4);
            wf_bw_u64(b, x);
        }
    }
}

static wf_status get_ufs(wf_br *r, int C, wf_audit_ufs *u, int64_t *k, wf_error *err) {
    *k = (int64_t)wf_br_u64(r);
    uint64_t c = wf_br_u64(r), T = wf_br_u64(r), n = wf_br_u64(r);
    if (r->bad || (c != 0 && c != (uint64_t)C) || T > 100000 || *k < 0 ||
        (c && T && n > (r->n - r->at) / (8 * c * T)))
        return wf_error_set(err, WF_ERR_PARSE, "drift section: bad unflagged sample");
    if (c == 0)
        return WF_OK;
    wf_status st = wf_windows_init(&u->ws, C, (int)T, NULL, NULL, err);
    float *x = malloc(sizeof(float) * (size_t)(c * T));
    if (!st && !x)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; !st && i < n && !r->bad; i++) {
        wf_window w;
        memset(&w, 0, sizeof w);
        uint64_t len = wf_br_u64(r);
        if (r->bad || len >= WF_ID_MAX || r->n - r->at < len) {
            r->bad = 1;
            break;
        }
        memcpy(w.turbine_id, r->p + r->at, len);
        r->at += len;
        w.start = (int64_t)wf_br_u64(r);
        w.end = (int64_t)wf_br_u64(r);
        w.label = (int)(int64_t)wf_br_u64(r);
        w.interpolated = (int)(int64_t)wf_br_u64(r);
        int64_t period = (int64_t)wf_br_u64(r);
        uint64_t h = wf_br_u64(r), sb = wf_br_u64(r);
        double score;
        memcpy(&score, &sb, 8);
        for (uint64_t j = 0; j < c * T; j++) {
            uint32_t v = (uint32_t)wf_br_u64(r);
            memcpy(&x[j], &v, 4);
        }
        w.values = x;
        w.index = -1;
        if (!r->bad)
            st = wf_audit_ufs_offer(u, INT64_MAX, period, h, &w, score, err);
    }
    free(x);
    if (!st && r->bad)
        st = wf_error_set(err, WF_ERR_PARSE, "drift section: truncated unflagged sample");
    return st;
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
    put_acc(&b, d->fleet_ref, d->C);
    put_acc(&b, d->fleet_cur, d->C);
    put_acc(&b, d->ref_means, d->C);
    wf_bw_u64(&b, (uint64_t)d->n_ref_windows);
    wf_bw_u64(&b, d->cap_fleet);
    wf_bw_u64(&b, d->cap_table);
    wf_bw_u64(&b, (uint64_t)d->n_tb_fleet);
    wf_bw_u64(&b, (uint64_t)d->n_per_fleet);
    put_ufs(&b, &d->ufs, d->ufs_k);
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
        uint64_t n = wf_br_u64(r), lv = wf_br_u64(r);
        if (r->bad || n > (r->n - r->at) / 16 || lv > 4096) {
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
        int e = (int)lv - 1 + LEVEL_BASE;
        if (!r->bad && (m || lv))
            st = wf_drift_acc_add_compacted(*out, c, v, w, (size_t)m, lv != 0, e, err);
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
        st = get_acc(&r, NULL, d->C, &d->fleet_ref, err);
    if (!st && !r.bad)
        st = get_acc(&r, NULL, d->C, &d->fleet_cur, err);
    if (!st && !r.bad)
        st = get_acc(&r, NULL, d->C, &d->ref_means, err);
    if (!st) {
        d->n_ref_windows = (int64_t)wf_br_u64(&r);
        d->cap_fleet = wf_br_u64(&r);
        d->cap_table = wf_br_u64(&r);
        d->n_tb_fleet = (int64_t)wf_br_u64(&r);
        d->n_per_fleet = (int64_t)wf_br_u64(&r);
        st = get_ufs(&r, d->C, &d->ufs, &d->ufs_k, err);
    }
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

static wf_status merge_into(wf_drift_acc **dst, const wf_drift_acc *src, int C, uint64_t cap,
                            wf_error *err) {
    if (!*dst) {
        wf_status st = wf_drift_acc_new(dst, C, 0, err);
        if (st)
            return st;
        wf_drift_acc_set_limits(*dst, cap, 0);
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
            if (!(st = merge_into(&d->tb_ref[slot], p->tb_ref[t], C, p->cap_table, err)))
                st = merge_into(&d->tb_cur[slot], p->tb_cur[t], C, p->cap_table, err);
        }
        for (int64_t k = 0; !st && k < p->n_per; k++) {
            int64_t slot = per_find(d, p->per_start[k]);
            if (slot < 0 && (st = per_add(d, p->per_start[k], NULL, &slot, err)))
                break;
            st = merge_into(&d->per_cur[slot], p->per_cur[k], C, p->cap_table, err);
        }
        if (!st && i > 0 &&
            (p->cap_fleet != d->cap_fleet || p->cap_table != d->cap_table ||
             p->n_tb_fleet != d->n_tb_fleet || p->n_per_fleet != d->n_per_fleet))
            st = wf_error_set(err, WF_ERR_DATA,
                              "shards differ in their drift budget or fleet counts (caps "
                              "%llu/%llu against %llu/%llu): rerun every shard with the same "
                              "config and log",
                              (unsigned long long)p->cap_fleet, (unsigned long long)p->cap_table,
                              (unsigned long long)d->cap_fleet, (unsigned long long)d->cap_table);
        if (i == 0) {
            d->cap_fleet = p->cap_fleet;
            d->cap_table = p->cap_table;
            d->n_tb_fleet = p->n_tb_fleet;
            d->n_per_fleet = p->n_per_fleet;
        }
        if (!st)
            st = merge_into(&d->fleet_ref, p->fleet_ref, C, p->cap_fleet, err);
        if (!st)
            st = merge_into(&d->fleet_cur, p->fleet_cur, C, p->cap_fleet, err);
        if (!st)
            st = merge_into(&d->ref_means, p->ref_means, C, p->cap_fleet, err);
        d->n_ref_windows += p->n_ref_windows;
        if (!st && i > 0 && p->ufs_k != d->ufs_k)
            st = wf_error_set(err, WF_ERR_DATA,
                              "shards differ in drift.unflagged_sample: rerun every shard with "
                              "the same config");
        d->ufs_k = p->ufs_k;
        if (!st && p->ufs.ws.C && !d->ufs.ws.C)
            st = wf_windows_init(&d->ufs.ws, p->ufs.ws.C, p->ufs.ws.T,
                                 (const char *const *)p->ufs.ws.channels,
                                 (const char *const *)p->ufs.ws.units, err);
        for (int64_t k = 0; !st && k < p->ufs.ws.n; k++)
            st = wf_audit_ufs_offer(&d->ufs, INT64_MAX, p->ufs.period[k], p->ufs.hash[k],
                                    &p->ufs.ws.w[k], p->ufs.score[k], err);
    }
    if (!st)
        st = wf_audit_ufs_select(&d->ufs, d->ufs_k, err);
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
