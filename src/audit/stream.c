/*
 * wf_audit_part_run: one streaming pass over the log producing an audit part (see
 * audit_impl.h).
 *
 * Windows arrive from wf_data_stream_windows in log order. Those of owned turbines are appended
 * to the part (metadata only) and copied into a pending batch; a full batch is scored on all
 * threads and only the flagged windows' values are kept. Every valid window of the log, owned or
 * not, is offered to the background pool: a max-heap of the `pool` smallest seeded hashes among
 * unflagged windows (a candidate is scored alone when its hash would enter the heap, about
 * pool x ln(windows / pool) times in a run). At the end the part is put in canonical order, the
 * background is drawn from the pool and the flagged windows are explained.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/clock.h"
#include "core/strmap.h"
#include "whyflag/rng.h"

#define BATCH 8192        /* windows scored together */
#define EXPLAIN_CHUNK 256 /* windows explained between progress updates */

typedef struct pool_ent {
    uint64_t h;
    int64_t slot;
} pool_ent;

typedef struct stream {
    const wf_config *cfg;
    const wf_predictor *p;
    const wf_audit_run_opts *o;
    wf_audit_part *part;
    size_t CT;
    int C, T;
    double threshold;
    /* owned windows, log order */
    int64_t n, cap;
    wf_window *w;
    double *scores;
    int64_t *vslot;   /* slot in fv of a flagged window, else -1 */
    float *fv;        /* flagged windows' values */
    int64_t fn, fcap; /* in floats */
    /* pending batch */
    float *xb;
    int64_t *bidx;
    double *by;
    int64_t nb;
    /* background pool */
    int bg_from_data, include_flagged;
    uint64_t seed;
    int64_t pool_cap, pool_n;
    pool_ent *heap; /* max-heap on h */
    float *pool_x;
    wf_window *pool_w;
    void *ctx1;
    int64_t scored_alone;
    int64_t scored;
    int64_t ufs_k;     /* drift.unflagged_sample, 0 without drift */
    int ufs_retracted; /* a turbine's windows were taken back: check the candidates */
    wf_audit_ufs ufs;  /* its candidates (drift_sample.c) */
} stream;

/* ---------------------------------------------------------------- ownership */

static int owned(const stream *s, const char *id) {
    return !s->o->background_only && wf_audit_part_owns(s->part, id);
}

/* ---------------------------------------------------------------- scoring the batch */

static wf_status grow(void **p, int64_t *cap, int64_t need, size_t elem, wf_error *err) {
    if (need <= *cap)
        return WF_OK;
    int64_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (%lld records)", (long long)nc);
    *p = q;
    *cap = nc;
    return WF_OK;
}

static wf_status flush(stream *s, wf_error *err) {
    if (s->nb == 0)
        return WF_OK;
    wf_status st = wf_audit_score_array(s->p, s->xb, s->nb, s->o->threads, s->by, err);
    if (st)
        return st;
    if (s->part->cmp && (st = wf_audit_cmp_batch(s->part->cmp, &s->o->cmpm->pred, s->xb, s->bidx,
                                                 s->by, s->nb, s->o->threads, s->w, err)))
        return st;
    for (int64_t i = 0; i < s->nb; i++) {
        int64_t wi = s->bidx[i];
        double y = s->by[i];
        s->scores[wi] = y;
        if (isfinite(y) && y >= s->threshold) {
            int64_t fc = s->fcap;
            st = grow((void **)&s->fv, &fc, s->fn + (int64_t)s->CT, sizeof(float), err);
            if (st)
                return st;
            s->fcap = fc;
            memcpy(s->fv + s->fn, s->xb + (size_t)i * s->CT, sizeof(float) * s->CT);
            s->vslot[wi] = s->fn / (int64_t)s->CT;
            s->fn += (int64_t)s->CT;
        } else if (s->ufs_k > 0 && isfinite(y)) {
            wf_window w = s->w[wi];
            w.values = s->xb + (size_t)i * s->CT;
            w.index = -1;
            int64_t ps = wf_drift_period_start(w.end, s->cfg->drift.period);
            uint64_t h = wf_audit_ufs_hash(s->seed, w.turbine_id, w.start);
            if ((st = wf_audit_ufs_offer(&s->ufs, s->ufs_k, ps, h, &w, y, err)))
                return st;
        }
    }
    s->scored += s->nb;
    s->nb = 0;
    if (s->o->progress)
        s->o->progress(s->o->progress_user, "windows scored", s->scored, -1);
    return WF_OK;
}

/* ---------------------------------------------------------------- background pool */

static void heap_down(pool_ent *h, int64_t n, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].h > h[m].h)
            m = l;
        if (r < n && h[r].h > h[m].h)
            m = r;
        if (m == i)
            return;
        pool_ent t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(pool_ent *h, int64_t i) {
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (h[p].h >= h[i].h)
            return;
        pool_ent t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static wf_status pool_offer(stream *s, const wf_window *w, wf_error *err) {
    uint64_t h = wf_seeded_hash(s->seed, wf_window_key(w->turbine_id, w->start));
    if (s->pool_n == s->pool_cap && h >= s->heap[0].h)
        return WF_OK;
    if (!s->include_flagged) {
        float y;
        wf_status st = s->p->predict(s->ctx1, w->values, 1, &y, err);
        if (st)
            return st;
        s->scored_alone++;
        if (!isfinite(y) || (double)y >= s->threshold)
            return WF_OK;
    }
    int64_t slot;
    if (s->pool_n < s->pool_cap) {
        slot = s->pool_n;
        s->heap[s->pool_n] = (pool_ent){h, slot};
        heap_up(s->heap, s->pool_n++);
    } else {
        slot = s->heap[0].slot;
        s->heap[0].h = h;
        heap_down(s->heap, s->pool_n, 0);
    }
    memcpy(s->pool_x + (size_t)slot * s->CT, w->values, sizeof(float) * s->CT);
    s->pool_w[slot] = *w;
    s->pool_w[slot].values = NULL;
    return WF_OK;
}

/* ---------------------------------------------------------------- sink */

static wf_status on_window(void *user, const wf_window *w, wf_error *err) {
    stream *s = user;
    wf_status st;
    if (s->bg_from_data && (st = pool_offer(s, w, err)) != WF_OK)
        return st;
    if (!owned(s, w->turbine_id))
        return WF_OK;
    if (s->n == s->cap) {
        int64_t nc = s->cap ? s->cap * 2 : 4096;
        wf_window *a = realloc(s->w, sizeof *a * (size_t)nc);
        if (a)
            s->w = a;
        double *b = a ? realloc(s->scores, sizeof *b * (size_t)nc) : NULL;
        if (b)
            s->scores = b;
        int64_t *c = b ? realloc(s->vslot, sizeof *c * (size_t)nc) : NULL;
        if (!c)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (%lld windows)", (long long)nc);
        s->vslot = c;
        s->cap = nc;
    }
    s->w[s->n] = *w;
    s->w[s->n].values = NULL;
    s->scores[s->n] = NAN;
    s->vslot[s->n] = -1;
    wf_audit_part *pt = s->part;
    for (int c = 0; c < s->C; c++) {
        const float *v = w->values + (size_t)c * (size_t)s->T;
        double lo = pt->ch_min[c], hi = pt->ch_max[c];
        for (int t = 0; t < s->T; t++) {
            lo = fmin(lo, v[t]);
            hi = fmax(hi, v[t]);
        }
        pt->ch_min[c] = lo;
        pt->ch_max[c] = hi;
    }
    memcpy(s->xb + (size_t)s->nb * s->CT, w->values, sizeof(float) * s->CT);
    s->bidx[s->nb++] = s->n++;
    return s->nb == BATCH ? flush(s, err) : WF_OK;
}

static wf_status on_skipped(void *user, const wf_skipped *sk, wf_error *err) {
    stream *s = user;
    if (!owned(s, sk->turbine_id))
        return WF_OK;
    return wf_windows_push_skipped(&s->part->ws, sk, err);
}

/* The windower takes back a turbine whose rows were out of order (it re-emits them sorted). */
static wf_status on_retract(void *user, const char *id, wf_error *err) {
    stream *s = user;
    wf_status st = flush(s, err);
    if (st)
        return st;
    s->ufs_retracted = 1;
    int64_t j = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!strcmp(s->w[i].turbine_id, id))
            continue;
        wf_audit_cmp_move(s->part->cmp, j, i);
        s->w[j] = s->w[i];
        s->scores[j] = s->scores[i];
        s->vslot[j++] = s->vslot[i];
    }
    s->n = j;
    if (s->part->cmp)
        s->part->cmp->n = j;
    wf_windows *ws = &s->part->ws;
    j = 0;
    for (int64_t i = 0; i < ws->n_skipped; i++)
        if (strcmp(ws->skipped[i].turbine_id, id))
            ws->skipped[j++] = ws->skipped[i];
    ws->n_skipped = j;
    /* Pool: drop the turbine's windows (a window they displaced stays displaced: the pool is
     * still the same in every shard, as every shard reads the same log in the same order). */
    int64_t k = 0;
    for (int64_t i = 0; i < s->pool_n; i++) {
        int64_t slot = s->heap[i].slot;
        if (!strcmp(s->pool_w[slot].turbine_id, id))
            continue;
        s->heap[k++] = s->heap[i];
    }
    /* compact slots so that free slots are at the end */
    if (k != s->pool_n) {
        float *nx = malloc(sizeof(float) * s->CT * (size_t)(k ? k : 1));
        wf_window *nw = malloc(sizeof *nw * (size_t)(k ? k : 1));
        if (!nx || !nw) {
            free(nx);
            free(nw);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; i < k; i++) {
            memcpy(nx + (size_t)i * s->CT, s->pool_x + (size_t)s->heap[i].slot * s->CT,
                   sizeof(float) * s->CT);
            nw[i] = s->pool_w[s->heap[i].slot];
            s->heap[i].slot = i;
        }
        memcpy(s->pool_x, nx, sizeof(float) * s->CT * (size_t)k);
        memcpy(s->pool_w, nw, sizeof *nw * (size_t)k);
        free(nx);
        free(nw);
        s->pool_n = k;
        for (int64_t i = k / 2; i-- > 0;)
            heap_down(s->heap, k, i);
    }
    return WF_OK;
}

static int want(void *user, const char *id) {
    stream *s = user;
    return s->bg_from_data || owned(s, id);
}

/* ---------------------------------------------------------------- shard assignment */

typedef struct tcount {
    char id[WF_ID_MAX];
    int64_t rows;
    int32_t shard;
} tcount;

static int cmp_tcount_id(const void *a, const void *b) {
    return strcmp(((const tcount *)a)->id, ((const tcount *)b)->id);
}

static int cmp_tcount_lpt(const void *a, const void *b) {
    const tcount *x = a, *y = b;
    if (x->rows != y->rows)
        return x->rows > y->rows ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Count rows per turbine (a pass of the row reader; ids normalised by the windower's rule, so
 * that the table names the turbines the windower will see) and assign turbines to shards:
 * longest processing time first (rows descending, then id), each to the least loaded shard
 * (lowest k on ties). Deterministic: every shard computes the same table. */
static wf_status assign_shards(const wf_config *cfg, wf_audit_part *pt, wf_error *err) {
    wf_log_reader *r = NULL;
    wf_status st = wf_log_reader_open(&cfg->log, &r, err);
    if (st)
        return st;
    int64_t cap = 256, n = 0;
    tcount *tc = malloc(sizeof *tc * (size_t)cap);
    wf_strmap ids;
    wf_strmap_init(&ids);
    if (!tc) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    int64_t last_i = -1;
    size_t last_n = 0;
    const char *last_raw = NULL;
    char last_buf[4 * WF_ID_MAX];
    for (;;) {
        wf_log_row row;
        int done = 0;
        st = wf_log_reader_next(r, &row, &done, err);
        if (st || done)
            break;
        if (row.turbine_len == 0)
            continue; /* rows without an id: the windower counts them */
        if (last_i >= 0 && last_raw && row.turbine_len == last_n &&
            !memcmp(last_buf, row.turbine, row.turbine_len)) {
            tc[last_i].rows++;
            continue;
        }
        char id[WF_ID_MAX];
        size_t len = wf_turbine_id_normalize(row.turbine, row.turbine_len, id);
        int64_t ti = wf_strmap_get(&ids, id, len);
        if (ti < 0) {
            if (n == cap) {
                cap *= 2;
                tcount *q = realloc(tc, sizeof *tc * (size_t)cap);
                if (!q) {
                    st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                    goto done;
                }
                tc = q;
            }
            memset(&tc[n], 0, sizeof tc[n]);
            memcpy(tc[n].id, id, len + 1);
            if ((st = wf_strmap_put(&ids, id, len, n, err)) != WF_OK)
                goto done;
            ti = n++;
        }
        last_i = ti;
        last_raw = NULL;
        if (row.turbine_len < sizeof last_buf) {
            memcpy(last_buf, row.turbine, row.turbine_len);
            last_n = row.turbine_len;
            last_raw = last_buf;
        }
        tc[ti].rows++;
    }
    if (!st) { /* the first pass over the log: its digest is the run's */
        char hex[65];
        wf_log_reader_digest(r, hex);
        st = wf_audit_log_digest(cfg, &pt->id, hex, "counted rows per turbine", err);
    }
    if (st)
        goto done;
    qsort(tc, (size_t)n, sizeof *tc, cmp_tcount_lpt);
    int64_t *load = calloc((size_t)pt->shard_n, sizeof *load);
    pt->turbines = malloc(sizeof *pt->turbines * (size_t)(n ? n : 1));
    pt->turbine_shard = malloc(sizeof *pt->turbine_shard * (size_t)(n ? n : 1));
    pt->turbine_rows = malloc(sizeof *pt->turbine_rows * (size_t)(n ? n : 1));
    if (!load || !pt->turbines || !pt->turbine_shard || !pt->turbine_rows) {
        free(load);
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < pt->shard_n; k++)
            if (load[k] < load[best])
                best = k;
        load[best] += tc[i].rows;
        tc[i].shard = best;
    }
    qsort(tc, (size_t)n, sizeof *tc, cmp_tcount_id);
    for (int64_t i = 0; i < n; i++) {
        memcpy(pt->turbines[i], tc[i].id, WF_ID_MAX);
        pt->turbine_shard[i] = tc[i].shard;
        pt->turbine_rows[i] = tc[i].rows;
    }
    pt->n_turbines = n;
    free(load);
done:
    free(tc);
    wf_strmap_free(&ids);
    wf_log_reader_free(r);
    return st;
}

/* Hand the stream's windows to the part in canonical order (sorted in place, no copy of the
 * records); non-finite scores become skipped windows with their reason. */
static wf_status build_part(stream *s, wf_error *err) {
    wf_audit_part *pt = s->part;
    wf_windows *ws = &pt->ws;
    for (int64_t i = 0; i < s->n; i++) {
        if (isfinite(s->scores[i]))
            continue;
        wf_skipped sk;
        memset(&sk, 0, sizeof sk);
        snprintf(sk.turbine_id, sizeof sk.turbine_id, "%s", s->w[i].turbine_id);
        sk.start = s->w[i].start;
        snprintf(sk.reason, sizeof sk.reason,
                 "the model returned a non-finite score (%g) for this window", s->scores[i]);
        wf_status st = wf_windows_push_skipped(ws, &sk, err);
        if (st)
            return st;
    }
    int64_t *perm = NULL;
    wf_status ost = wf_windows_order(s->w, s->n, &perm, err);
    if (ost)
        return ost;
    if (pt->cmp && (ost = wf_audit_cmp_permute(pt->cmp, perm, s->n, err)) != WF_OK) {
        free(perm);
        return ost;
    }
    wf_windows_permute(perm, s->n, s->w, s->scores, s->vslot, NULL);
    free(perm);
    int64_t nf = 0;
    for (int64_t i = 0; i < s->n; i++)
        nf += isfinite(s->scores[i]) && s->vslot[i] >= 0;
    size_t n_alloc = s->n > 0 ? (size_t)s->n : 1, nf_alloc = nf > 0 ? (size_t)nf : 1;
    pt->flagged = malloc(n_alloc);
    ws->data = malloc(sizeof(float) * s->CT * nf_alloc);
    if (!pt->flagged || !ws->data)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    int64_t j = 0, f = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!isfinite(s->scores[i]))
            continue;
        wf_audit_cmp_move(pt->cmp, j, i);
        s->w[j] = s->w[i];
        s->w[j].index = j;
        s->scores[j] = s->scores[i];
        pt->flagged[j] = s->vslot[i] >= 0;
        if (s->vslot[i] >= 0) {
            memcpy(ws->data + (size_t)f * s->CT, s->fv + (size_t)s->vslot[i] * s->CT,
                   sizeof(float) * s->CT);
            s->w[j].values = ws->data + (size_t)f * s->CT;
            f++;
        }
        j++;
    }
    if (pt->cmp)
        pt->cmp->n = j;
    ws->w = s->w;
    ws->n = ws->cap = j;
    pt->scores = s->scores;
    s->w = NULL;
    s->scores = NULL;
    free(s->fv); /* the flagged values now live in ws->data */
    s->fv = NULL;
    wf_windows_sort_skipped(ws);
    return WF_OK;
}

/* ---------------------------------------------------------------- background */

static int cmp_pool(const void *a, const void *b) {
    const pool_ent *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h;
}

static wf_status build_background(stream *s, wf_error *err) {
    const wf_explain_settings *es = &s->cfg->explain;
    wf_audit_part *pt = s->part;
    if (es->background == WF_BACKGROUND_FILE) {
        wf_status st = wf_background_build(es, &pt->ws, NULL, &pt->bg, err);
        pt->has_bg = !st;
        return st;
    }
    if (s->pool_n == 0)
        return WF_OK; /* no unflagged window in the log: an error only if something must be
                         explained (checked by the caller) */
    qsort(s->heap, (size_t)s->pool_n, sizeof *s->heap, cmp_pool);
    wf_windows pool;
    memset(&pool, 0, sizeof pool);
    pool.C = s->C;
    pool.T = s->T;
    pool.n = pool.cap = s->pool_n;
    pool.w = malloc(sizeof *pool.w * (size_t)s->pool_n);
    pool.data = malloc(sizeof(float) * s->CT * (size_t)s->pool_n);
    if (!pool.w || !pool.data) {
        free(pool.w);
        free(pool.data);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < s->pool_n; i++) {
        int64_t slot = s->heap[i].slot;
        pool.w[i] = s->pool_w[slot];
        pool.w[i].index = i;
        pool.w[i].values = pool.data + (size_t)i * s->CT;
        memcpy(pool.w[i].values, s->pool_x + (size_t)slot * s->CT, sizeof(float) * s->CT);
    }
    wf_status st = WF_OK;
    const char *what = s->include_flagged ? "windows" : "unflagged windows";
    if (es->background == WF_BACKGROUND_KMEANS) {
        st = wf_background_build(es, &pool, NULL, &pt->bg, err);
        if (!st) {
            char d[sizeof pt->bg.description + 200];
            snprintf(d, sizeof d,
                     "%s, computed from the %lld %s with the smallest seeded hash (seed %llu) "
                     "of turbine id and start",
                     pt->bg.description, (long long)s->pool_n, what, (unsigned long long)s->seed);
            snprintf(pt->bg.description, sizeof pt->bg.description, "%.*s",
                     (int)sizeof pt->bg.description - 1, d);
        }
    } else {
        pt->bg.C = s->C;
        pt->bg.T = s->T;
        pt->bg.n = s->pool_n;
        pt->bg.x = malloc(sizeof(float) * s->CT * (size_t)s->pool_n);
        pt->bg.weight = malloc(sizeof(double) * (size_t)s->pool_n);
        if (!pt->bg.x || !pt->bg.weight) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        } else {
            memcpy(pt->bg.x, pool.data, sizeof(float) * s->CT * (size_t)s->pool_n);
            for (int64_t i = 0; i < s->pool_n; i++)
                pt->bg.weight[i] = 1.0 / (double)s->pool_n;
            st = wf_background_set_src(&pt->bg, NULL, pool.w, s->pool_n, err);
            snprintf(pt->bg.description, sizeof pt->bg.description,
                     "%lld %s of the log drawn by seeded hash (seed %llu): those with the "
                     "smallest hash of turbine id and start",
                     (long long)s->pool_n, what, (unsigned long long)s->seed);
        }
    }
    pt->has_bg = !st;
    free(pool.w);
    free(pool.data);
    return st;
}

/* ---------------------------------------------------------------- the run */

static wf_status init_part(const wf_config *cfg, const wf_audit_run_opts *o, wf_audit_part *pt,
                           wf_error *err) {
    memset(pt, 0, sizeof *pt);
    pt->shard_k = o->shard_k;
    pt->shard_n = o->shard_n < 1 ? 1 : o->shard_n;
    int C = cfg->log.n_channels;
    const char **names = calloc((size_t)(C > 0 ? C : 1), sizeof *names);
    const char **units = calloc((size_t)(C > 0 ? C : 1), sizeof *units);
    pt->ch_min = malloc(sizeof(double) * (size_t)(C > 0 ? C : 1));
    pt->ch_max = malloc(sizeof(double) * (size_t)(C > 0 ? C : 1));
    wf_status st = WF_OK;
    if (!names || !units || !pt->ch_min || !pt->ch_max)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int c = 0; !st && c < C; c++) {
        names[c] = cfg->log.channels[c].name;
        units[c] = cfg->log.channels[c].unit;
        pt->ch_min[c] = INFINITY;
        pt->ch_max[c] = -INFINITY;
    }
    if (!st)
        st = wf_windows_init(&pt->ws, C, cfg->window.length, names, units, err);
    free(names);
    free(units);
    if (!st) {
        pt->ws.stride = cfg->window.stride;
        pt->ws.cadence = cfg->log.cadence_seconds;
    }
    return st;
}

static void stream_free(stream *s) {
    free(s->w);
    free(s->scores);
    free(s->vslot);
    free(s->fv);
    free(s->xb);
    free(s->bidx);
    free(s->by);
    free(s->heap);
    free(s->pool_x);
    free(s->pool_w);
    wf_audit_ufs_free(&s->ufs);
    if (s->ctx1)
        s->p->ctx_free(s->ctx1);
}

/* After a turbine's windows were taken back and delivered again, every candidate of the sample
 * of unflagged windows must be one of the part's final unflagged windows: a candidate that was
 * never delivered again may have pushed a final window out of its period's bottom k. */
static wf_status ufs_check(stream *s, wf_error *err) {
    const wf_audit_part *pt = s->part;
    for (int64_t i = 0; i < s->ufs.ws.n; i++) {
        const wf_window *c = &s->ufs.ws.w[i];
        int64_t lo = 0, hi = pt->ws.n;
        while (lo < hi) { /* the part's windows are in (turbine id, start) order */
            int64_t mid = lo + (hi - lo) / 2;
            int d = strcmp(pt->ws.w[mid].turbine_id, c->turbine_id);
            if (d < 0 || (d == 0 && pt->ws.w[mid].start < c->start))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= pt->ws.n || strcmp(pt->ws.w[lo].turbine_id, c->turbine_id) ||
            pt->ws.w[lo].start != c->start || pt->flagged[lo])
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "drift.unflagged_sample: turbine %s's rows were out of time order "
                                "and its window at %lld, drawn for the sample, was not cut again; "
                                "sort the log by time or set drift.unflagged_sample to 0",
                                c->turbine_id, (long long)c->start);
    }
    return WF_OK;
}

wf_status wf_audit_part_run(const wf_config *cfg, const wf_model *model, const wf_predictor *pred,
                            const wf_audit_run_opts *o, wf_audit_part *pt, wf_error *err) {
    (void)model;
    wf_status st = init_part(cfg, o, pt, err);
    if (st)
        return st;
    if (pt->shard_k < 0 || pt->shard_k >= pt->shard_n)
        return wf_error_set(err, WF_ERR_INVALID, "shard %d/%d: k must be in 0..%d", pt->shard_k,
                            pt->shard_n, pt->shard_n - 1);
    if (!o->id)
        return wf_error_set(err, WF_ERR_INVALID, "audit part: no run identity given");
    pt->id = *o->id; /* config, model, background, baseline: hashed as they were parsed */
    pt->id.log[0] = pt->id.failures[0] = '\0';
    if (pt->shard_n > 1) {
        if (o->progress)
            o->progress(o->progress_user, "counting rows per turbine for the shard assignment", 0,
                        -1);
        st = assign_shards(cfg, pt, err);
        if (st)
            return st;
    }
    if (cfg->failures.path[0]) {
        /* Read once: the labels, the run's digest and (for a one-machine run) the report's
         * failure table all come from these bytes (kept in the part). */
        st = wf_failures_read_digest(cfg->failures.path, &cfg->log, &pt->failures, &pt->n_failures,
                                     pt->id.failures, err);
        if (st)
            return st;
        if (!pt->failures && !(pt->failures = malloc(sizeof *pt->failures)))
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        pt->has_failures = 1;
    }
    const wf_failure *failures = pt->failures;
    int64_t n_failures = pt->n_failures;

    const wf_explain_settings *es = &cfg->explain;
    stream s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.p = pred;
    s.o = o;
    s.part = pt;
    s.C = pt->ws.C;
    s.T = pt->ws.T;
    s.CT = (size_t)s.C * (size_t)s.T;
    s.threshold = cfg->threshold;
    s.seed = es->seed;
    s.include_flagged = es->background_include_flagged;
    if (cfg->has_drift && !o->background_only && cfg->drift.unflagged_sample > 0) {
        s.ufs_k = cfg->drift.unflagged_sample;
        st = wf_windows_init(&s.ufs.ws, s.C, s.T, (const char *const *)pt->ws.channels,
                             (const char *const *)pt->ws.units, err);
        if (st)
            return st; /* the part owns the failures */
        s.ufs.ws.stride = pt->ws.stride;
        s.ufs.ws.cadence = pt->ws.cadence;
    }
    int need_bg = o->background_only || es->do_kernelshap || wf_explain_uses_treeshap(es) ||
                  (es->do_ig && (es->expected_gradients || es->baseline == WF_BASELINE_MEAN ||
                                 es->baseline == WF_BASELINE_MEDIAN));
    s.bg_from_data = need_bg && es->background != WF_BACKGROUND_FILE;
    if (s.bg_from_data) {
        int64_t size = es->background_size > 0 ? es->background_size : 50;
        s.pool_cap =
            es->background == WF_BACKGROUND_KMEANS ? (size * 20 > 1000 ? size * 20 : 1000) : size;
    }
    s.xb = malloc(sizeof(float) * s.CT * BATCH);
    s.bidx = malloc(sizeof *s.bidx * BATCH);
    s.by = malloc(sizeof *s.by * BATCH);
    s.heap = malloc(sizeof *s.heap * (size_t)(s.pool_cap + 1));
    s.pool_x = malloc(sizeof(float) * s.CT * (size_t)(s.pool_cap + 1));
    s.pool_w = malloc(sizeof *s.pool_w * (size_t)(s.pool_cap + 1));
    if (!s.xb || !s.bidx || !s.by || !s.heap || !s.pool_x || !s.pool_w) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (o->cmpm && o->cmpm->model && !o->background_only &&
        (st = wf_audit_cmp_new(cfg, o->cmpm, s.CT, BATCH, &pt->cmp, err)))
        goto done;
    if (s.bg_from_data && !s.include_flagged) {
        st = pred->ctx_new(pred->user, 1, &s.ctx1, err);
        if (st)
            goto done;
    }
    wf_data_sink sink = {on_window, on_skipped, on_retract, &s, want};
    wf_data_config dc = wf_config_data(cfg);
    double t0 = wf_now_seconds();
    if (o->progress)
        o->progress(o->progress_user, "reading the log's windows", 0, -1);
    st = wf_data_stream_windows(&dc, failures, n_failures, &sink, &pt->stats, err);
    if (!st) /* the first pass when unsharded (its digest is the run's), else checked */
        st = wf_audit_log_digest(cfg, &pt->id, pt->stats.sha256, "read its windows", err);
    if (!st)
        st = flush(&s, err);
    if (!st)
        st = build_part(&s, err);
    if (!st && pt->cmp)
        st = wf_audit_cmp_check_arms(cfg, pt, err);
    if (!st && need_bg)
        st = build_background(&s, err);
    if (!st && cfg->has_drift && !o->background_only)
        st = wf_audit_drift_run(cfg, pt, &pt->drift, err);
    if (!st && s.ufs_retracted)
        st = ufs_check(&s, err);
    if (!st && pt->drift) { /* the part's sample of unflagged windows moves into its drift */
        pt->drift->ufs = s.ufs;
        pt->drift->ufs_k = s.ufs_k;
        memset(&s.ufs, 0, sizeof s.ufs);
        st = wf_audit_ufs_select(&pt->drift->ufs, s.ufs_k, err);
    }
    pt->seconds_stream = wf_now_seconds() - t0;
    if (st)
        goto done;

    int64_t nfl = 0;
    for (int64_t i = 0; i < pt->ws.n; i++)
        nfl += pt->flagged[i];
    if (nfl > 0 && need_bg && !pt->has_bg) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "every window of the log is flagged: no unflagged window to draw the "
                          "background from (set explain.background_include_flagged or give a "
                          "background file)");
        goto done;
    }
    if (nfl > 0) {
        int64_t *idx = malloc(sizeof *idx * (size_t)nfl);
        pt->expl = calloc((size_t)nfl, sizeof *pt->expl);
        if (!idx || !pt->expl) {
            free(idx);
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        int64_t k = 0;
        for (int64_t i = 0; i < pt->ws.n; i++)
            if (pt->flagged[i])
                idx[k++] = i;
        pt->n_expl = nfl;
        if (o->progress)
            o->progress(o->progress_user, "explaining flagged windows", 0, nfl);
        /* Groups "auto"/"hierarchy" resolved once, on the background (shard-independent). */
        wf_explain_plan plan;
        st = wf_explain_plan_build(es, pt->has_bg ? &pt->bg : NULL, pt->ws.channels, &plan, err);
        plan.s.threads = o->threads;
        /* In chunks, for the progress line (each window's result depends on it alone). */
        for (int64_t at = 0; !st && at < nfl; at += EXPLAIN_CHUNK) {
            int64_t m = nfl - at < EXPLAIN_CHUNK ? nfl - at : EXPLAIN_CHUNK;
            st = wf_explain_run(&plan.s, pred, pt->has_bg ? &pt->bg : NULL, &pt->ws, idx + at, m,
                                pt->expl + at, err);
            if (o->progress)
                o->progress(o->progress_user, "explaining flagged windows", at + m, nfl);
        }
        wf_explain_plan_deinit(&plan);
        free(idx);
        pt->seconds_explain = wf_now_seconds() - t0 - pt->seconds_stream;
    }
done:
    stream_free(&s);
    return st;
}

void wf_audit_part_free(wf_audit_part *pt) {
    if (!pt)
        return;
    free(pt->failures);
    free(pt->turbines);
    free(pt->turbine_shard);
    free(pt->turbine_rows);
    wf_windows_free(&pt->ws);
    free(pt->scores);
    free(pt->flagged);
    free(pt->ch_min);
    free(pt->ch_max);
    wf_background_deinit(&pt->bg);
    for (int64_t i = 0; pt->expl && i < pt->n_expl; i++)
        wf_explanation_deinit(&pt->expl[i]);
    free(pt->expl);
    for (int64_t i = 0; i < pt->n_strings; i++)
        free(pt->strings[i]);
    free(pt->strings);
    wf_audit_drift_free(pt->drift);
    wf_audit_cmp_free(pt->cmp);
    memset(pt, 0, sizeof *pt);
}
