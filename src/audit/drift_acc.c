/*
 * Exact, mergeable per-channel accumulation of values for drift, the reference profile of window
 * means, and judging single windows against it.
 *
 * A channel keeps the multiset of its values exactly, in one of two canonical forms chosen from
 * the multiset alone: sorted distinct values with counts ("pairs", 16 bytes a distinct value)
 * when that is at most half the size of the sorted raw values ("raw", 8 bytes a value), else the
 * sorted raw values. SCADA channels are logged at a fixed resolution (0.01 degC, 0.1 kW), so a
 * fleet-year of one channel has thousands to tens of thousands of distinct values: pairs keep it
 * in kilobytes. New values wait in a pending buffer that is folded in (sorted and merged) when it
 * grows past max(4 Ki values, the folded size) or when the budget needs room. After
 * wf_drift_acc_finish the form and its bytes depend on the multiset only, so statistics are
 * bit-identical however the rows were split into shards and merged.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/drift.h"

#define PEND_MIN 4096 /* values; a fleet holds an accumulator per turbine and period */

typedef struct acc_chan {
    double *v;       /* (nv) sorted: distinct values (pairs form) or all values (raw form) */
    uint64_t *w;     /* (nv) counts in pairs form, NULL in raw form */
    size_t nv;       /* entries of v */
    uint64_t total;  /* values folded in */
    double *pend;    /* (np) values waiting to be folded in, unsorted */
    size_t np, capp; /* pending count and capacity */
    int sk;          /* 1: compacted into the level-e grid (a sketch), always pairs form */
    int e;           /* the grid's level: buckets [k 2^e, (k+1) 2^e), when sk */
} acc_chan;

struct wf_drift_acc {
    int n_channels;
    size_t budget; /* bytes allowed for held entries in all, 0 = no limit */
    size_t bytes;  /* bytes held: 16 a pair, 8 a raw or pending value */
    size_t cap;    /* entries a channel may keep before it is compacted (0: exact, never) */
    size_t pend;   /* pending values a channel buffers before a fold (0: PEND_MIN or more) */
    acc_chan *ch;  /* (C) */
};

static size_t chan_bytes(const acc_chan *c) {
    return c->nv * (c->w ? 16 : 8) + c->np * 8;
}

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

wf_status wf_drift_acc_new(wf_drift_acc **out, int n_channels, size_t budget_bytes, wf_error *err) {
    *out = NULL;
    if (n_channels < 1) {
        return wf_error_set(err, WF_ERR_INVALID, "drift accumulator: %d channels, expected >= 1",
                            n_channels);
    }
    wf_drift_acc *a = calloc(1, sizeof(*a));
    if (a) {
        a->ch = calloc((size_t)n_channels, sizeof(acc_chan));
    }
    if (!a || !a->ch) {
        free(a);
        return wf_error_set(err, WF_ERR_NOMEM, "drift accumulator: out of memory for %d channels",
                            n_channels);
    }
    a->n_channels = n_channels;
    a->budget = budget_bytes;
    *out = a;
    return WF_OK;
}

void wf_drift_acc_free(wf_drift_acc *a) {
    if (!a) {
        return;
    }
    if (a->ch) {
        for (int c = 0; c < a->n_channels; c++) {
            free(a->ch[c].v);
            free(a->ch[c].w);
            free(a->ch[c].pend);
        }
    }
    free(a->ch);
    free(a);
}

/* ---- folding: merge two sorted run streams into the canonical form -------------------------- */

/* Runs (value, count) of a sorted array with optional counts; equal neighbours are grouped. */
typedef struct runs {
    const double *v;
    const uint64_t *w;
    size_t n, i;
} runs;

static int runs_next(runs *r, double *v, uint64_t *cnt) {
    if (r->i >= r->n) {
        return 0;
    }
    *v = r->v[r->i];
    *cnt = 0;
    while (r->i < r->n && r->v[r->i] == *v) {
        *cnt += r->w ? r->w[r->i] : 1;
        r->i++;
    }
    return 1;
}

/* Merge the sorted streams a and b (either may carry counts) into channel form. With count_only
 * set, only *n_distinct and *n_total are computed. Otherwise v_out/w_out (w_out NULL for raw)
 * receive the result. */
static void merge_runs(runs a, runs b, int count_only, double *v_out, uint64_t *w_out,
                       size_t *n_distinct, uint64_t *n_total) {
    double va = 0, vb = 0;
    uint64_t ca = 0, cb = 0;
    int ha = runs_next(&a, &va, &ca), hb = runs_next(&b, &vb, &cb);
    size_t m = 0;
    uint64_t total = 0, k = 0;
    while (ha || hb) {
        double v;
        uint64_t cnt;
        if (ha && (!hb || va < vb)) {
            v = va;
            cnt = ca;
            ha = runs_next(&a, &va, &ca);
        } else if (hb && (!ha || vb < va)) {
            v = vb;
            cnt = cb;
            hb = runs_next(&b, &vb, &cb);
        } else {
            v = va;
            cnt = ca + cb;
            ha = runs_next(&a, &va, &ca);
            hb = runs_next(&b, &vb, &cb);
        }
        if (!count_only) {
            if (w_out) {
                v_out[m] = v;
                w_out[m] = cnt;
            } else {
                for (uint64_t j = 0; j < cnt; j++) {
                    v_out[k + j] = v;
                }
            }
        }
        k += cnt;
        m++;
        total += cnt;
    }
    *n_distinct = m;
    *n_total = total;
}

/* Fold channel c's pending values (sorted) together with `extra` (sorted, counts optional, at
 * the channel's level when it is compacted) into the canonical form: pairs when at most half
 * the bytes of the raw values, always pairs when compacted. On failure nothing changes. */
static wf_status fold_exact(wf_drift_acc *a, int c, const double *xv, const uint64_t *xw, size_t xn,
                            wf_error *err) {
    acc_chan *ch = &a->ch[c];
    if (ch->w && ch->np && ch->nv) {
        /* pairs form: count the pending values that are already known in place (a binary search
         * each, no sort), keep only the new ones pending */
        size_t keep = 0;
        for (size_t i = 0; i < ch->np; i++) {
            double x = ch->pend[i];
            /* branch-free lower bound: random values defeat branch prediction */
            const double *b = ch->v;
            size_t len = ch->nv;
            while (len > 1) {
                size_t half = len / 2;
                b = (b[half] < x) ? b + half : b;
                len -= half;
            }
            size_t lo = (size_t)(b - ch->v) + (*b < x);
            if (lo < ch->nv && ch->v[lo] == x) {
                ch->w[lo]++;
                ch->total++;
            } else {
                ch->pend[keep++] = x;
            }
        }
        a->bytes -= (ch->np - keep) * 8;
        ch->np = keep;
    }
    if (ch->np == 0 && xn == 0) {
        return WF_OK;
    }
    if (ch->np) {
        qsort(ch->pend, ch->np, sizeof(double), cmp_double);
    }
    /* pending and extra first merged as a stream of runs, then with the folded entries: to keep
     * it one pass, fold pending into extra's stream via a temporary when both are present */
    double *tv = NULL;
    uint64_t *tw = NULL;
    runs p = {ch->pend, NULL, ch->np, 0};
    runs x = {xv, xw, xn, 0};
    runs in;
    if (ch->np && xn) {
        size_t m;
        uint64_t tot;
        merge_runs(p, x, 1, NULL, NULL, &m, &tot);
        tv = malloc(sizeof(double) * m);
        tw = malloc(sizeof(uint64_t) * m);
        if (!tv || !tw) {
            free(tv);
            free(tw);
            return wf_error_set(err, WF_ERR_NOMEM,
                                "drift accumulator: channel %d: out of memory folding %zu values",
                                c, m);
        }
        merge_runs(p, x, 0, tv, tw, &m, &tot);
        runs t = {tv, tw, m, 0};
        in = t;
    } else {
        in = ch->np ? p : x;
    }
    runs old = {ch->v, ch->w, ch->nv, 0};
    size_t m;
    uint64_t total;
    merge_runs(old, in, 1, NULL, NULL, &m, &total);
    int pairs = ch->sk || (uint64_t)m * 16 <= total * 8; /* canonical: pairs when <= half */
    size_t nv = pairs ? m : (size_t)total;
    double *nvv = malloc(sizeof(double) * (nv ? nv : 1));
    uint64_t *nww = pairs ? malloc(sizeof(uint64_t) * (nv ? nv : 1)) : NULL;
    if (!nvv || (pairs && !nww)) {
        free(nvv);
        free(nww);
        free(tv);
        free(tw);
        return wf_error_set(err, WF_ERR_NOMEM,
                            "drift accumulator: channel %d: out of memory folding %zu values", c,
                            nv);
    }
    old.i = 0;
    in.i = 0;
    merge_runs(old, in, 0, nvv, nww, &m, &total);
    free(tv);
    free(tw);
    a->bytes -= chan_bytes(ch);
    free(ch->v);
    free(ch->w);
    ch->v = nvv;
    ch->w = nww;
    ch->nv = nv;
    ch->total = total;
    ch->np = 0;
    a->bytes += chan_bytes(ch);
    return WF_OK;
}

/* ---- compaction: a dyadic grid whose level depends on the multiset only ------------------- */

/* A value's bucket at level e is [k 2^e, (k+1) 2^e) with k = floor(x 2^-e); its representative
 * is the bucket's midpoint (k + 1/2) 2^e, exact in double. When |x 2^-e| >= 2^52 the bucket
 * holds no other double than x, and x is its own representative. Buckets nest: level e + 1
 * joins pairs of level-e buckets, and rep(rep(x, e), e') = rep(x, e') for e' >= e, so a table
 * compacted to level e can be compacted further from its representatives alone. */
#define LEVEL_MIN (-1000)
#define LEVEL_MAX 960

double wf_drift_sketch_rep(double x, int e) {
    double u = ldexp(x, -e);
    if (fabs(u) >= 4503599627370496.0) /* 2^52 (also inf: x is far above the grid) */
        return x;
    double k = floor(u);
    if (k == 0 && x < 0) /* u underflowed to -0.0 */
        k = -1;
    return ldexp(k + 0.5, e);
}

/* Buckets of the sorted values v (n) at level e. */
static size_t buckets_at(const double *v, size_t n, int e) {
    size_t m = 0;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        double r = wf_drift_sketch_rep(v[i], e);
        if (m == 0 || r != last) {
            m++;
            last = r;
        }
    }
    return m;
}

/* The lowest level >= from at which the sorted values v (n) fall into at most cap buckets (the
 * count falls as the level rises); LEVEL_MAX when none. */
static int level_for(const double *v, size_t n, size_t cap, int from) {
    int lo = from, hi = LEVEL_MAX;
    if (lo >= hi || buckets_at(v, n, hi) > cap)
        return hi;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (buckets_at(v, n, mid) <= cap)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Compact channel c's folded table to level e (>= its level when already compacted), in place:
 * the representatives are ascending, equal ones are merged. */
static wf_status to_level(wf_drift_acc *a, int c, int e, wf_error *err) {
    acc_chan *ch = &a->ch[c];
    a->bytes -= chan_bytes(ch);
    if (!ch->w) {
        ch->w = malloc(sizeof(uint64_t) * (ch->nv ? ch->nv : 1));
        if (!ch->w) {
            a->bytes += chan_bytes(ch);
            return wf_error_set(err, WF_ERR_NOMEM,
                                "drift accumulator: channel %d: out of memory compacting %zu "
                                "values",
                                c, ch->nv);
        }
        for (size_t i = 0; i < ch->nv; i++)
            ch->w[i] = 1;
    }
    size_t m = 0;
    for (size_t i = 0; i < ch->nv; i++) {
        double r = wf_drift_sketch_rep(ch->v[i], e);
        if (m && ch->v[m - 1] == r) {
            ch->w[m - 1] += ch->w[i];
        } else {
            ch->v[m] = r;
            ch->w[m] = ch->w[i];
            m++;
        }
    }
    ch->nv = m;
    ch->sk = 1;
    ch->e = e;
    if (m) { /* give back the room (a smaller realloc does not move or fail in practice) */
        double *nv = realloc(ch->v, sizeof(double) * m);
        uint64_t *nw = realloc(ch->w, sizeof(uint64_t) * m);
        if (nv)
            ch->v = nv;
        if (nw)
            ch->w = nw;
    }
    a->bytes += chan_bytes(ch);
    return WF_OK;
}

/* After a fold: keep channel c within a->cap entries. Exact while its canonical form takes at
 * most 16 * cap bytes, else compacted to the lowest level with at most cap buckets. Both tests
 * grow with the multiset, so the level reached is that of the whole multiset, however it was
 * split and in whatever order the parts came. */
static wf_status enforce_cap(wf_drift_acc *a, int c, wf_error *err) {
    acc_chan *ch = &a->ch[c];
    if (a->cap == 0)
        return WF_OK;
    if (ch->sk) {
        if (ch->nv <= a->cap)
            return WF_OK;
        return to_level(a, c, level_for(ch->v, ch->nv, a->cap, ch->e + 1), err);
    }
    if (ch->nv * (ch->w ? 16 : 8) <= a->cap * 16)
        return WF_OK;
    return to_level(a, c, level_for(ch->v, ch->nv, a->cap, LEVEL_MIN), err);
}

/* Fold channel c's pending values (sorted) together with `extra` (sorted, counts optional;
 * compacted to level x_e when x_sk) into the canonical form. On failure nothing is lost. */
static wf_status fold(wf_drift_acc *a, int c, const double *xv, const uint64_t *xw, size_t xn,
                      int x_sk, int x_e, wf_error *err) {
    acc_chan *ch = &a->ch[c];
    wf_status st;
    if (x_sk && xn && (!ch->sk || ch->e < x_e)) {
        /* the union is compacted at least as coarsely as the extra values */
        if ((st = to_level(a, c, x_e, err)))
            return st;
    }
    if (ch->sk) {
        for (size_t i = 0; i < ch->np; i++)
            ch->pend[i] = wf_drift_sketch_rep(ch->pend[i], ch->e);
    }
    double *rv = NULL; /* extra at the channel's level when it is finer */
    uint64_t *rw = NULL;
    if (ch->sk && xn && (!x_sk || x_e < ch->e)) {
        rv = malloc(sizeof(double) * xn);
        rw = malloc(sizeof(uint64_t) * xn);
        if (!rv || !rw) {
            free(rv);
            free(rw);
            return wf_error_set(err, WF_ERR_NOMEM,
                                "drift accumulator: channel %d: out of memory folding %zu values",
                                c, xn);
        }
        size_t m = 0;
        for (size_t i = 0; i < xn; i++) {
            double r = wf_drift_sketch_rep(xv[i], ch->e);
            uint64_t k = xw ? xw[i] : 1;
            if (m && rv[m - 1] == r) {
                rw[m - 1] += k;
            } else {
                rv[m] = r;
                rw[m++] = k;
            }
        }
        xv = rv;
        xw = rw;
        xn = m;
    }
    st = fold_exact(a, c, xv, xw, xn, err);
    free(rv);
    free(rw);
    if (st == WF_OK)
        st = enforce_cap(a, c, err);
    return st;
}

static wf_status over_budget(const wf_drift_acc *a, size_t extra, int c, wf_error *err) {
    return wf_error_set(err, WF_ERR_UNSUPPORTED,
                        "drift accumulator: channel %d: %zu more bytes would hold %zu bytes, "
                        "over the memory budget of %zu bytes (even with every channel folded); "
                        "raise the drift memory budget or use a shorter reference period",
                        c, extra, a->bytes + extra, a->budget);
}

/* Room for `extra` more bytes: fold channel c, then every channel, before giving up. */
static wf_status make_room(wf_drift_acc *a, int c, size_t extra, wf_error *err) {
    if (a->budget == 0 || a->bytes + extra <= a->budget) {
        return WF_OK;
    }
    wf_status st = fold(a, c, NULL, NULL, 0, 0, 0, err);
    for (int k = 0; st == WF_OK && k < a->n_channels && a->bytes + extra > a->budget; k++) {
        st = fold(a, k, NULL, NULL, 0, 0, 0, err);
    }
    if (st != WF_OK) {
        return st;
    }
    if (a->bytes + extra > a->budget) {
        return over_budget(a, extra, c, err);
    }
    return WF_OK;
}

static wf_status check_channel(const wf_drift_acc *a, int c, wf_error *err) {
    if (c < 0 || c >= a->n_channels) {
        return wf_error_set(err, WF_ERR_INVALID,
                            "drift accumulator: channel %d out of range (0..%d)", c,
                            a->n_channels - 1);
    }
    return WF_OK;
}

/* Append k values (v as float or double, NaN skipped, -0.0 as +0.0) to channel c's pending. */
static wf_status add_pending(wf_drift_acc *a, int c, const float *vf, const double *vd, size_t n,
                             wf_error *err) {
    wf_status st = check_channel(a, c, err);
    if (st != WF_OK) {
        return st;
    }
    acc_chan *ch = &a->ch[c];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += vf ? !isnan(vf[i]) : !isnan(vd[i]);
    }
    if (k == 0) {
        return WF_OK;
    }
    size_t folded = ch->nv, most = a->pend ? a->pend : folded > PEND_MIN ? folded : PEND_MIN;
    if (ch->np + k > most) {
        st = fold(a, c, NULL, NULL, 0, 0, 0, err);
        if (st != WF_OK) {
            return st;
        }
    }
    st = make_room(a, c, k * 8, err);
    if (st != WF_OK) {
        return st;
    }
    if (ch->np + k > ch->capp) {
        size_t cap = ch->capp + ch->capp / 2;
        if (cap < ch->np + k) {
            cap = ch->np + k;
        }
        size_t least = a->pend ? a->pend : 1024;
        if (cap < least) {
            cap = least;
        }
        double *np = realloc(ch->pend, cap * sizeof(double));
        if (!np) {
            return wf_error_set(err, WF_ERR_NOMEM,
                                "drift accumulator: channel %d: out of memory for %zu values", c,
                                cap);
        }
        ch->pend = np;
        ch->capp = cap;
    }
    double *dst = ch->pend + ch->np;
    for (size_t i = 0; i < n; i++) {
        double v = vf ? (double)vf[i] : vd[i];
        if (!isnan(v)) {
            *dst++ = v + 0.0; /* + 0.0 turns -0.0 into +0.0 */
        }
    }
    ch->np += k;
    a->bytes += k * 8;
    return WF_OK;
}

wf_status wf_drift_acc_add_f(wf_drift_acc *a, int c, const float *v, size_t n, wf_error *err) {
    return add_pending(a, c, v, NULL, n, err);
}

wf_status wf_drift_acc_add_d(wf_drift_acc *a, int c, const double *v, size_t n, wf_error *err) {
    return add_pending(a, c, NULL, v, n, err);
}

wf_status wf_drift_acc_add_window(wf_drift_acc *a, const float *x, int T, wf_error *err) {
    /* x: (C, T) */
    for (int c = 0; c < a->n_channels; c++) {
        wf_status st = add_pending(a, c, x + (size_t)c * (size_t)T, NULL, (size_t)T, err);
        if (st != WF_OK) {
            return st;
        }
    }
    return WF_OK;
}

wf_status wf_drift_acc_add_counts(wf_drift_acc *a, int c, const double *v, const uint64_t *w,
                                  size_t n, wf_error *err) {
    return wf_drift_acc_add_compacted(a, c, v, w, n, 0, 0, err);
}

wf_status wf_drift_acc_add_compacted(wf_drift_acc *a, int c, const double *v, const uint64_t *w,
                                     size_t n, int compacted, int level, wf_error *err) {
    if (compacted && (level < LEVEL_MIN || level > LEVEL_MAX)) {
        return wf_error_set(err, WF_ERR_INVALID,
                            "drift accumulator: channel %d: level %d outside %d..%d", c, level,
                            LEVEL_MIN, LEVEL_MAX);
    }
    wf_status st = check_channel(a, c, err);
    if (st != WF_OK) {
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        int order_bad = i > 0 && (w ? !(v[i] > v[i - 1]) : !(v[i] >= v[i - 1]));
        if (isnan(v[i]) || order_bad || (w && w[i] == 0)) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift accumulator: channel %d: entry %zu (%.17g): expected "
                                "ascending values without NaN (strictly, with counts) and counts "
                                ">= 1",
                                c, i, v[i]);
        }
        if (compacted && wf_drift_sketch_rep(v[i], level) != v[i]) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift accumulator: channel %d: entry %zu (%.17g) is not a "
                                "bucket midpoint of level %d",
                                c, i, v[i], level);
        }
        if (v[i] == 0 && signbit(v[i])) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift accumulator: channel %d: entry %zu is -0.0; expected the "
                                "canonical +0.0",
                                c, i);
        }
    }
    st = make_room(a, c, n * 16, err);
    if (st == WF_OK) {
        st = fold(a, c, v, w, n, compacted, level, err);
    }
    if (st == WF_OK && a->budget && a->bytes > a->budget) {
        /* the fold is done and consistent; only report that the budget is now exceeded */
        return over_budget(a, 0, c, err);
    }
    return st;
}

wf_status wf_drift_acc_merge(wf_drift_acc *dst, const wf_drift_acc *src, wf_error *err) {
    if (dst->n_channels != src->n_channels) {
        return wf_error_set(err, WF_ERR_SHAPE,
                            "drift accumulator merge: %d channels into %d channels",
                            src->n_channels, dst->n_channels);
    }
    for (int c = 0; c < src->n_channels; c++) {
        if (src->ch[c].np) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift accumulator merge: the source is not finished (channel "
                                "%d has %zu pending values); call wf_drift_acc_finish first",
                                c, src->ch[c].np);
        }
    }
    size_t extra = 0;
    for (int c = 0; c < src->n_channels; c++) {
        extra += chan_bytes(&src->ch[c]);
    }
    if (dst->budget && dst->bytes + extra > dst->budget) {
        /* the worst case does not fit: fold dst and check the exact result size */
        size_t need = 0;
        for (int c = 0; c < dst->n_channels; c++) {
            wf_status st = fold(dst, c, NULL, NULL, 0, 0, 0, err);
            if (st != WF_OK) {
                return st;
            }
            runs o = {dst->ch[c].v, dst->ch[c].w, dst->ch[c].nv, 0};
            runs s = {src->ch[c].v, src->ch[c].w, src->ch[c].nv, 0};
            size_t m;
            uint64_t tot;
            merge_runs(o, s, 1, NULL, NULL, &m, &tot);
            need += (uint64_t)m * 16 <= tot * 8 ? m * 16 : (size_t)tot * 8;
        }
        if (need > dst->budget) {
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "drift accumulator merge: the merged values need %zu bytes, over "
                                "the memory budget of %zu bytes; raise the drift memory budget",
                                need, dst->budget);
        }
    }
    for (int c = 0; c < dst->n_channels; c++) {
        const acc_chan *s = &src->ch[c];
        wf_status st = fold(dst, c, s->v, s->w, s->nv, s->sk, s->e, err);
        if (st != WF_OK) {
            return st;
        }
    }
    return WF_OK;
}

wf_status wf_drift_acc_finish(wf_drift_acc *a, wf_error *err) {
    for (int c = 0; c < a->n_channels; c++) {
        wf_status st = fold(a, c, NULL, NULL, 0, 0, 0, err);
        if (st != WF_OK) {
            return st;
        }
        free(a->ch[c].pend);
        a->ch[c].pend = NULL;
        a->ch[c].capp = 0;
    }
    return WF_OK;
}

int wf_drift_acc_channels(const wf_drift_acc *a) {
    return a->n_channels;
}

wf_drift_sample wf_drift_acc_sample(const wf_drift_acc *a, int c) {
    wf_drift_sample s = {NULL, NULL, 0};
    if (c >= 0 && c < a->n_channels) {
        s.v = a->ch[c].v;
        s.w = a->ch[c].w;
        s.n = a->ch[c].nv;
    }
    return s;
}

size_t wf_drift_acc_bytes(const wf_drift_acc *a) {
    return a->bytes;
}

void wf_drift_acc_set_limits(wf_drift_acc *a, size_t cap, size_t pend) {
    a->cap = cap;
    a->pend = pend;
}

int wf_drift_acc_level(const wf_drift_acc *a, int c, int *level) {
    int sk = c >= 0 && c < a->n_channels && a->ch[c].sk;
    if (level)
        *level = sk ? a->ch[c].e : 0;
    return sk;
}

static wf_status check_finished(const wf_drift_acc *a, const char *what, wf_error *err) {
    for (int c = 0; c < a->n_channels; c++) {
        if (a->ch[c].np) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift: the %s accumulator is not finished (channel %d has %zu "
                                "pending values); call wf_drift_acc_finish first",
                                what, c, a->ch[c].np);
        }
    }
    return WF_OK;
}

wf_status wf_drift_acc_compare(const wf_drift_acc *ref, const wf_drift_acc *cur,
                               const wf_drift_settings *s, wf_drift_channel *out, wf_error *err) {
    if (ref->n_channels != cur->n_channels) {
        return wf_error_set(err, WF_ERR_SHAPE, "drift: reference has %d channels, current has %d",
                            ref->n_channels, cur->n_channels);
    }
    wf_status st = check_finished(ref, "reference", err);
    if (st == WF_OK) {
        st = check_finished(cur, "current", err);
    }
    for (int c = 0; st == WF_OK && c < ref->n_channels; c++) {
        wf_drift_sample a = wf_drift_acc_sample(ref, c), b = wf_drift_acc_sample(cur, c);
        st = wf_drift_compare_samples(&a, &b, s, &out[c], err);
        if (st != WF_OK) {
            wf_error_prefix(err, "channel %d: ", c);
        }
    }
    return st;
}

/* ---- out-of-reference windows -------------------------------------------------------------- */

void wf_drift_window_means(double *means, const float *x, int C, int T) {
    /* x: (C, T), means: (C) */
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        int k = 0;
        for (int t = 0; t < T; t++) {
            float v = x[(size_t)c * (size_t)T + (size_t)t];
            if (!isnan(v)) {
                s += v;
                k++;
            }
        }
        means[c] = k ? s / k : NAN;
    }
}

typedef struct prof_chan {
    double *mv;    /* (nm) distinct reference window means, sorted */
    uint64_t *cum; /* (nm) #(means <= mv[i]) */
    size_t nm;
    uint64_t total; /* reference windows with a mean */
    double mean_lo, mean_hi, value_lo, value_hi;
} prof_chan;

struct wf_drift_profile {
    int n_channels;
    prof_chan *ch; /* (C) */
};

void wf_drift_profile_free(wf_drift_profile *p) {
    if (!p) {
        return;
    }
    if (p->ch) {
        for (int c = 0; c < p->n_channels; c++) {
            free(p->ch[c].mv);
            free(p->ch[c].cum);
        }
    }
    free(p->ch);
    free(p);
}

wf_status wf_drift_profile_new(wf_drift_profile **out, const wf_drift_acc *means,
                               const wf_drift_acc *values, const wf_drift_settings *s,
                               wf_error *err) {
    *out = NULL;
    if (means->n_channels != values->n_channels) {
        return wf_error_set(err, WF_ERR_SHAPE,
                            "drift profile: %d channels of means but %d channels of values",
                            means->n_channels, values->n_channels);
    }
    wf_status st = check_finished(means, "window-means", err);
    if (st == WF_OK) {
        st = check_finished(values, "reference-values", err);
    }
    if (st != WF_OK) {
        return st;
    }
    int C = means->n_channels;
    wf_drift_profile *p = calloc(1, sizeof(*p));
    if (!p) {
        goto nomem;
    }
    p->n_channels = C;
    p->ch = calloc((size_t)C, sizeof(prof_chan));
    if (!p->ch) {
        goto nomem;
    }
    for (int c = 0; c < C; c++) {
        prof_chan *pc = &p->ch[c];
        wf_drift_sample m = wf_drift_acc_sample(means, c);
        runs r = {m.v, m.w, m.n, 0};
        size_t nd;
        uint64_t tot;
        runs none = {NULL, NULL, 0, 0};
        merge_runs(r, none, 1, NULL, NULL, &nd, &tot);
        pc->mv = malloc(sizeof(double) * (nd ? nd : 1));
        pc->cum = malloc(sizeof(uint64_t) * (nd ? nd : 1));
        if (!pc->mv || !pc->cum) {
            goto nomem;
        }
        r.i = 0;
        merge_runs(r, none, 0, pc->mv, pc->cum, &nd, &tot);
        for (size_t i = 1; i < nd; i++) {
            pc->cum[i] += pc->cum[i - 1];
        }
        pc->nm = nd;
        pc->total = tot;
        if (tot) {
            pc->mean_lo = wf_drift_sample_quantile(&m, s->oor_q_lo);
            pc->mean_hi = wf_drift_sample_quantile(&m, s->oor_q_hi);
        } else {
            pc->mean_lo = pc->mean_hi = NAN;
        }
        wf_drift_sample v = wf_drift_acc_sample(values, c);
        if (v.n) {
            pc->value_lo = wf_drift_sample_quantile(&v, s->oor_q_lo);
            pc->value_hi = wf_drift_sample_quantile(&v, s->oor_q_hi);
        } else {
            pc->value_lo = pc->value_hi = NAN;
        }
    }
    *out = p;
    return WF_OK;
nomem:
    wf_drift_profile_free(p);
    return wf_error_set(err, WF_ERR_NOMEM, "drift profile: out of memory (%d channels)", C);
}

void wf_drift_profile_bounds(const wf_drift_profile *p, int c, double *mean_lo, double *mean_hi,
                             double *value_lo, double *value_hi) {
    const prof_chan *pc = &p->ch[c];
    *mean_lo = pc->mean_lo;
    *mean_hi = pc->mean_hi;
    *value_lo = pc->value_lo;
    *value_hi = pc->value_hi;
}

/* scipy.stats.percentileofscore(kind="weak"): count(a <= score) * (100.0 / n) */
static double percentile_weak(const prof_chan *pc, double score) {
    size_t lo = 0, hi = pc->nm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pc->mv[mid] <= score) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    uint64_t k = lo ? pc->cum[lo - 1] : 0;
    return (double)k * (100.0 / (double)pc->total);
}

wf_status wf_drift_window_judge(const wf_drift_profile *p, const float *x, int C, int T,
                                wf_drift_window *out, wf_error *err) {
    /* x: (C, T) */
    if (C != p->n_channels) {
        return wf_error_set(err, WF_ERR_SHAPE,
                            "drift: window has %d channels, the reference profile %d", C,
                            p->n_channels);
    }
    out->outside = 0;
    for (int c = 0; c < C; c++) {
        const prof_chan *pc = &p->ch[c];
        const float *row = x + (size_t)c * (size_t)T;
        double mean;
        wf_drift_window_means(&mean, row, 1, T);
        int k = 0, nout = 0;
        for (int t = 0; t < T; t++) {
            if (isnan(row[t])) {
                continue;
            }
            k++;
            nout += (row[t] < pc->value_lo || row[t] > pc->value_hi);
        }
        int bounds = !isnan(pc->value_lo);
        out->share_out[c] = (k && bounds) ? (double)nout / (double)k : NAN;
        out->percentile[c] = (pc->total && !isnan(mean)) ? percentile_weak(pc, mean) : NAN;
        out->channel_out[c] = (mean < pc->mean_lo || mean > pc->mean_hi);
        if (out->channel_out[c]) {
            out->outside = 1;
        }
    }
    return WF_OK;
}
