/*
 * KernelSHAP on one window: exact enumeration for small M, otherwise shap-compatible sampling
 * (shap/explainers/_kernel.py, KernelExplainer.explain, l1_reg=False):
 *   - coalition sizes 1..ceil((M-1)/2) with the Shapley kernel weight (M-1)/(s(M-s)), doubled
 *     for sizes that are paired with their complement size;
 *   - whole sizes are enumerated (with their complements) while the remaining budget times the
 *     size's share of the remaining weight covers every subset of that size;
 *   - the rest of the budget draws a size from the remaining weights, a uniform subset of that
 *     size and its complement; a mask drawn again adds 1 to its (and its complement's) count;
 *     counts are scaled to the weight left;
 *   - phi solves the constrained weighted least squares with efficiency exact.
 * Not done: shap 0.47+'s default L1 feature selection (l1_reg="num_features(10)").
 *
 * Standard errors (Covert & Lee, AISTATS 2021, "Improving KernelSHAP"): the sampled part is
 * drawn as B independent batches; each batch, with the enumerated part, gives its own estimate;
 * SE = sd(batch estimates) / sqrt(B). The reported values are the estimate on all batches
 * together (repeated masks across batches add weight, as in one shap run of the whole budget).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"

#define MAX_BATCHES 10

void wf_kshap_result_free(wf_kshap_result *r) {
    if (!r)
        return;
    if (r->players)
        for (int p = 0; p < r->M; p++)
            free(r->players[p]);
    free(r->players);
    free(r->values);
    free(r->std_err);
    memset(r, 0, sizeof *r);
}

static wf_status result_alloc(wf_kshap_result *r, const wf_players *pl, wf_link link,
                              wf_error *err) {
    memset(r, 0, sizeof *r);
    r->M = pl->M;
    r->link = link;
    r->players = calloc((size_t)pl->M, sizeof(char *));
    r->values = calloc((size_t)pl->M, sizeof(double));
    r->std_err = calloc((size_t)pl->M, sizeof(double));
    int bad = !r->players || !r->values || !r->std_err;
    for (int p = 0; !bad && p < pl->M; p++) {
        size_t n = strlen(pl->names[p]) + 1;
        r->players[p] = malloc(n);
        if (!r->players[p])
            bad = 1;
        else
            memcpy(r->players[p], pl->names[p], n);
    }
    if (bad) {
        wf_kshap_result_free(r);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %d players", pl->M);
    }
    return WF_OK;
}

void wf_shapley_exact(double *phi, const double *v, int M) {
    /* w(s) = s! (M-s-1)! / M! = 1 / (M * C(M-1, s)) */
    double w[WF_KSHAP_EXACT_MAX_M + 1];
    double c = 1; /* C(M-1, s) */
    for (int s = 0; s < M; s++) {
        w[s] = 1.0 / ((double)M * c);
        c = c * (double)(M - 1 - s) / (double)(s + 1);
    }
    uint64_t N = (uint64_t)1 << M;
    for (int i = 0; i < M; i++) {
        uint64_t bit = (uint64_t)1 << i;
        double s = 0;
        for (uint64_t S = 0; S < N; S++) {
            if (S & bit)
                continue;
            s += w[__builtin_popcountll(S)] * (v[S | bit] - v[S]);
        }
        phi[i] = s;
    }
}

static wf_status kshap_exact(wf_coal_eval *ev, wf_kshap_result *out, wf_error *err) {
    int M = ev->pl->M;
    uint64_t N = (uint64_t)1 << M;
    double *v = malloc(sizeof(double) * N);
    int64_t chunk = ev->max_batch / ev->bg->n;
    if (chunk < 1)
        chunk = 1;
    if ((uint64_t)chunk > N)
        chunk = (int64_t)N;
    uint8_t *z = malloc((size_t)chunk * (size_t)M);
    if (!v || !z) {
        free(v);
        free(z);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory enumerating 2^%d coalitions", M);
    }
    wf_status st = WF_OK;
    for (uint64_t S0 = 0; S0 < N && !st; S0 += (uint64_t)chunk) {
        int64_t n = N - S0 < (uint64_t)chunk ? (int64_t)(N - S0) : chunk;
        for (int64_t k = 0; k < n; k++)
            for (int p = 0; p < M; p++)
                z[(size_t)k * M + (size_t)p] = (uint8_t)(((S0 + (uint64_t)k) >> p) & 1);
        st = wf_coal_eval_values(ev, z, n, v + S0, err);
    }
    if (!st) {
        wf_shapley_exact(out->values, v, M);
        out->base_value = v[0];
        out->f_x = v[N - 1];
        out->samples = (int64_t)N;
        out->exact = 1;
        out->converged = 1;
    }
    free(v);
    free(z);
    return st;
}

/* ---- a set of distinct masks with open-addressing lookup ---- */

typedef struct mset {
    int M;
    int64_t n, cap;
    uint8_t *z;     /* (cap, M) */
    double *w;      /* (cap) weight or count */
    int64_t *aux;   /* (cap) free use: global index of a batch entry */
    int64_t *table; /* (tcap) entry index or -1 */
    int64_t tcap;
} mset;

static void mset_free(mset *s) {
    free(s->z);
    free(s->w);
    free(s->aux);
    free(s->table);
    memset(s, 0, sizeof *s);
}

/* Eight mask bytes a step (a multiply-xorshift mix; the bytes are 0 or 1), then the rest byte by
 * byte: a 288-cell mask costs 36 multiplies, not 288. The hash only places entries in the
 * table; an entry's index is its insertion order, so results do not depend on it. */
static uint64_t mhash(const uint8_t *m, int M) {
    uint64_t h = 1469598103934665603ull;
    int i = 0;
    for (; i + 8 <= M; i += 8) {
        uint64_t v;
        memcpy(&v, m + i, sizeof v);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < M; i++) {
        h ^= m[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int mset_rehash(mset *s, int64_t tcap) {
    int64_t *t = malloc(sizeof(int64_t) * (size_t)tcap);
    if (!t)
        return -1;
    for (int64_t i = 0; i < tcap; i++)
        t[i] = -1;
    for (int64_t e = 0; e < s->n; e++) {
        uint64_t h = mhash(s->z + (size_t)e * (size_t)s->M, s->M) & (uint64_t)(tcap - 1);
        while (t[h] >= 0)
            h = (h + 1) & (uint64_t)(tcap - 1);
        t[h] = e;
    }
    free(s->table);
    s->table = t;
    s->tcap = tcap;
    return 0;
}

/* Entry storage for n entries (n > s->cap). -1 on out of memory (the set stays valid). */
static int mset_grow(mset *s, int64_t n) {
    uint8_t *z = realloc(s->z, (size_t)n * (size_t)s->M);
    if (z)
        s->z = z;
    double *w = realloc(s->w, sizeof(double) * (size_t)n);
    if (w)
        s->w = w;
    int64_t *a = realloc(s->aux, sizeof(int64_t) * (size_t)n);
    if (a)
        s->aux = a;
    if (!z || !w || !a)
        return -1;
    s->cap = n;
    return 0;
}

/* Room for n entries up front (the expected count), so that filling the set neither copies
 * its masks on growth nor rehashes: the same entries in the same order. -1 on out of memory. */
static int mset_reserve(mset *s, int64_t n) {
    if (n <= s->cap)
        return 0;
    if (mset_grow(s, n))
        return -1;
    int64_t t = 1024;
    while (t < 2 * (n + 1))
        t *= 2;
    return t > s->tcap ? mset_rehash(s, t) : 0;
}

/* Index of mask m, adding it (weight 0) if absent; *added tells which. -1 on out of memory. */
static int64_t mset_get(mset *s, const uint8_t *m, int *added) {
    *added = 0;
    if (2 * (s->n + 1) > s->tcap && mset_rehash(s, s->tcap ? 2 * s->tcap : 1024))
        return -1;
    uint64_t h = mhash(m, s->M) & (uint64_t)(s->tcap - 1);
    while (s->table[h] >= 0) {
        int64_t e = s->table[h];
        if (!memcmp(s->z + (size_t)e * (size_t)s->M, m, (size_t)s->M))
            return e;
        h = (h + 1) & (uint64_t)(s->tcap - 1);
    }
    if (s->n == s->cap && mset_grow(s, s->cap ? 2 * s->cap : 256))
        return -1;
    int64_t e = s->n++;
    memcpy(s->z + (size_t)e * (size_t)s->M, m, (size_t)s->M);
    s->w[e] = 0;
    s->aux[e] = -1;
    s->table[h] = e;
    *added = 1;
    return e;
}

/* ---- shap's plan: which sizes are enumerated, the weights of the rest ---- */

static double binom(int n, int k) {
    double c = 1;
    for (int i = 1; i <= k; i++)
        c = c * (double)(n - k + i) / (double)i;
    return c;
}

typedef struct plan {
    int M, n_sizes, n_paired, n_full;
    int64_t samples_left;
    double weight_left;
    double *rw; /* (n_sizes - n_full) probabilities of the sampled sizes */
} plan;

/* Add every coalition of `size` (and its complement when paired) with weight w to fixed. */
static int add_size(mset *fixed, int M, int size, int paired, double w) {
    int idx[WF_ID_MAX * 64];
    uint8_t *m = malloc((size_t)M);
    if (!m || size > (int)(sizeof idx / sizeof idx[0]))
        return free(m), -1;
    for (int i = 0; i < size; i++)
        idx[i] = i;
    for (;;) {
        memset(m, 0, (size_t)M);
        for (int i = 0; i < size; i++)
            m[idx[i]] = 1;
        int added;
        int64_t e = mset_get(fixed, m, &added);
        if (e < 0)
            return free(m), -1;
        fixed->w[e] += w;
        if (paired) {
            for (int i = 0; i < M; i++)
                m[i] = !m[i];
            e = mset_get(fixed, m, &added);
            if (e < 0)
                return free(m), -1;
            fixed->w[e] += w;
        }
        int i = size - 1; /* next combination in lexicographic order */
        while (i >= 0 && idx[i] == M - size + i)
            i--;
        if (i < 0)
            break;
        idx[i]++;
        for (int j = i + 1; j < size; j++)
            idx[j] = idx[j - 1] + 1;
    }
    free(m);
    return 0;
}

static int make_plan(plan *pl, mset *fixed, int M, int64_t nsamples) {
    memset(pl, 0, sizeof *pl);
    pl->M = M;
    pl->n_sizes = (M - 1 + 1) / 2; /* ceil((M-1)/2) */
    pl->n_paired = (M - 1) / 2;    /* floor((M-1)/2) */
    int S = pl->n_sizes;
    double wv[WF_ID_MAX * 64], rem[WF_ID_MAX * 64];
    if (S > (int)(sizeof wv / sizeof wv[0]))
        return -1;
    double tot = 0;
    for (int i = 1; i <= S; i++) {
        wv[i - 1] = (double)(M - 1) / ((double)i * (double)(M - i));
        if (i <= pl->n_paired)
            wv[i - 1] *= 2;
        tot += wv[i - 1];
    }
    for (int i = 0; i < S; i++) {
        wv[i] /= tot;
        rem[i] = wv[i];
    }
    double left = (double)nsamples;
    int nfull = 0;
    for (int size = 1; size <= S; size++) {
        double nsub = binom(M, size);
        if (size <= pl->n_paired)
            nsub *= 2;
        if (left * rem[size - 1] / nsub >= 1.0 - 1e-8) {
            nfull++;
            left -= nsub;
            if (rem[size - 1] < 1.0) {
                double d = 1 - rem[size - 1];
                for (int i = 0; i < S; i++)
                    rem[i] /= d;
            }
            double w = wv[size - 1] / binom(M, size);
            if (size <= pl->n_paired)
                w /= 2.0;
            if (add_size(fixed, M, size, size <= pl->n_paired, w))
                return -1;
        } else {
            break;
        }
    }
    pl->n_full = nfull;
    pl->samples_left = (int64_t)nsamples - fixed->n;
    if (nfull < S) {
        int R = S - nfull;
        pl->rw = malloc(sizeof(double) * (size_t)R);
        if (!pl->rw)
            return -1;
        double s = 0;
        for (int i = 0; i < R; i++) {
            int size = nfull + 1 + i;
            pl->rw[i] = wv[size - 1] / (size <= pl->n_paired ? 2.0 : 1.0);
            s += pl->rw[i];
        }
        for (int i = 0; i < R; i++)
            pl->rw[i] /= s;
        pl->weight_left = 0;
        for (int i = nfull; i < S; i++)
            pl->weight_left += wv[i];
    }
    return 0;
}

/* One batch of shap's sampling loop: `budget` new masks (fewer if 4*budget draws run out). */
static int sample_batch(mset *b, const plan *pl, int64_t budget, wf_rng *rng, int *perm,
                        uint8_t *m) {
    int M = pl->M, R = pl->n_sizes - pl->n_full;
    int64_t left = budget;
    for (int64_t draw = 0; left > 0 && draw < 4 * budget; draw++) {
        double u = wf_rng_uniform(rng), c = 0;
        int ind = R - 1;
        for (int i = 0; i < R; i++) {
            c += pl->rw[i];
            if (u < c) {
                ind = i;
                break;
            }
        }
        int size = ind + pl->n_full + 1;
        for (int i = 0; i < M; i++)
            perm[i] = i;
        for (int i = 0; i < size; i++) { /* partial Fisher-Yates: a uniform size-subset */
            int j = i + (int)wf_rng_below(rng, (uint64_t)(M - i));
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        memset(m, 0, (size_t)M);
        for (int i = 0; i < size; i++)
            m[perm[i]] = 1;
        int added;
        int64_t e = mset_get(b, m, &added);
        if (e < 0)
            return -1;
        b->w[e] += 1.0;
        if (added)
            left--;
        if (left > 0 && size <= pl->n_paired) {
            for (int i = 0; i < M; i++)
                m[i] = !m[i];
            int64_t ec = mset_get(b, m, &added);
            if (ec < 0)
                return -1;
            b->w[ec] += 1.0;
            if (added)
                left--;
        }
    }
    return 0;
}

/* Solve with the fixed part plus entries of set r (weights = counts scaled to weight_left),
 * whose v values are vg[r->aux[e]] (or vg[e] when r->aux is NULL-like: global set). */
static int solve_with(double *phi, const mset *fixed, const double *vfixed, const mset *r,
                      const double *vr_global, int use_aux, const plan *pl, double base, double fx,
                      double *gram) {
    int M = pl->M;
    int64_t n = fixed->n + r->n;
    uint8_t *z = malloc((size_t)(n ? n : 1) * (size_t)M);
    double *w = malloc(sizeof(double) * (size_t)(n ? n : 1));
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (!z || !w || !v) {
        free(z);
        free(w);
        free(v);
        return -2;
    }
    if (fixed->n) /* an empty set has no buffer yet */
        memcpy(z, fixed->z, (size_t)fixed->n * (size_t)M);
    if (r->n)
        memcpy(z + (size_t)fixed->n * (size_t)M, r->z, (size_t)r->n * (size_t)M);
    double cnt = 0;
    for (int64_t e = 0; e < r->n; e++)
        cnt += r->w[e];
    for (int64_t e = 0; e < fixed->n; e++) {
        w[e] = fixed->w[e];
        v[e] = vfixed[e];
    }
    for (int64_t e = 0; e < r->n; e++) {
        w[fixed->n + e] = cnt > 0 ? r->w[e] * pl->weight_left / cnt : 0;
        v[fixed->n + e] = vr_global[use_aux ? r->aux[e] : e];
    }
    int rc = wf_kshap_wls(phi, z, w, v, n, M, base, fx, gram);
    free(z);
    free(w);
    free(v);
    return rc;
}

/* Sampled KernelSHAP with budget nsamples. */
static wf_status kshap_sampled(wf_coal_eval *ev, int64_t nsamples, wf_rng *rng,
                               wf_kshap_result *out, wf_error *err) {
    int M = ev->pl->M;
    plan pl;
    mset fixed = {.M = M}, all = {.M = M}, batch[MAX_BATCHES];
    memset(batch, 0, sizeof batch);
    double *vf = NULL, *va = NULL, *phib = NULL;
    int *perm = malloc(sizeof(int) * (size_t)M);
    uint8_t *m = malloc((size_t)M * 2);
    wf_status st = WF_OK;
    int B = 0;
    /* the normal equations' workspace, kept on the evaluator for the next windows (NULL when
     * it cannot be had: wf_kshap_wls then allocates its own) */
    size_t gn = (size_t)(M - 1) * (size_t)(M - 1);
    if (M > 1 && ev->gram_cap < gn) {
        free(ev->gram);
        ev->gram = malloc(sizeof(double) * gn);
        ev->gram_cap = ev->gram ? gn : 0;
    }
    double *gram = M > 1 ? ev->gram : NULL;
    if (!perm || !m || make_plan(&pl, &fixed, M, nsamples)) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory planning %lld coalitions",
                          (long long)nsamples);
        goto done;
    }
    /* Batches: each must hold enough samples to be solvable on its own (about 2M). */
    int64_t left = pl.samples_left > 0 && pl.rw ? pl.samples_left : 0;
    B = (int)(left / (2 * (int64_t)M));
    if (B > MAX_BATCHES)
        B = MAX_BATCHES;
    if (B < 1)
        B = left > 0 ? 1 : 0;
    for (int b = 0; b < B; b++) {
        batch[b].M = M;
        int64_t nb = left / B + (b < left % B ? 1 : 0);
        if (mset_reserve(&batch[b], nb + 1) || mset_reserve(&all, left + 1) ||
            sample_batch(&batch[b], &pl, nb, rng, perm, m)) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory sampling coalitions");
            goto done;
        }
        for (int64_t e = 0; e < batch[b].n; e++) {
            int added;
            int64_t g = mset_get(&all, batch[b].z + (size_t)e * (size_t)M, &added);
            if (g < 0) {
                st = wf_error_set(err, WF_ERR_NOMEM, "out of memory sampling coalitions");
                goto done;
            }
            all.w[g] += batch[b].w[e];
            batch[b].aux[e] = g;
        }
    }
    /* v for: empty, full, fixed masks, the union of the sampled masks */
    vf = malloc(sizeof(double) * (size_t)(fixed.n + 2));
    va = malloc(sizeof(double) * (size_t)(all.n ? all.n : 1));
    phib = malloc(sizeof(double) * (size_t)M * (size_t)(B ? B : 1));
    if (!vf || !va || !phib) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory for coalition values");
        goto done;
    }
    memset(m, 0, (size_t)M);
    memset(m + M, 1, (size_t)M);
    st = wf_coal_eval_values(ev, m, 2, vf, err);
    if (!st && fixed.n)
        st = wf_coal_eval_values(ev, fixed.z, fixed.n, vf + 2, err);
    if (!st && all.n)
        st = wf_coal_eval_values(ev, all.z, all.n, va, err);
    if (st)
        goto done;
    double base = vf[0], fx = vf[1];
    out->base_value = base;
    out->f_x = fx;
    out->samples = fixed.n + all.n;
    int rc = solve_with(out->values, &fixed, vf + 2, &all, va, 0, &pl, base, fx, gram);
    if (rc) {
        st = wf_error_set(err, rc == -2 ? WF_ERR_NOMEM : WF_ERR_NUMERIC,
                          "KernelSHAP: the weighted least-squares system of %lld coalitions "
                          "for %d players is singular (give more samples)",
                          (long long)out->samples, M);
        goto done;
    }
    int nb_ok = 0;
    for (int b = 0; b < B; b++) {
        rc = solve_with(phib + (size_t)nb_ok * M, &fixed, vf + 2, &batch[b], va, 1, &pl, base, fx,
                        gram);
        if (rc == -2) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (rc == 0)
            nb_ok++;
    }
    if (B == 0) {
        for (int p = 0; p < M; p++)
            out->std_err[p] = 0; /* every coalition of every size enumerated */
    } else if (nb_ok < 2) {
        for (int p = 0; p < M; p++)
            out->std_err[p] = NAN; /* too few samples for independent batches */
    } else {
        for (int p = 0; p < M; p++) {
            double mean = 0, ss = 0;
            for (int b = 0; b < nb_ok; b++)
                mean += phib[(size_t)b * M + p];
            mean /= nb_ok;
            for (int b = 0; b < nb_ok; b++) {
                double d = phib[(size_t)b * M + p] - mean;
                ss += d * d;
            }
            out->std_err[p] = sqrt(ss / (nb_ok - 1)) / sqrt((double)nb_ok);
        }
    }
done:
    free(pl.rw);
    mset_free(&fixed);
    mset_free(&all);
    for (int b = 0; b < MAX_BATCHES; b++)
        mset_free(&batch[b]);
    free(vf);
    free(va);
    free(phib);
    free(perm);
    free(m);
    return st;
}

/* max SE / (max phi - min phi) < tol; NaN SEs never converge. */
static int converged(const wf_kshap_result *r, double tol) {
    double lo = INFINITY, hi = -INFINITY, se = 0;
    for (int p = 0; p < r->M; p++) {
        if (isnan(r->std_err[p]))
            return 0;
        lo = fmin(lo, r->values[p]);
        hi = fmax(hi, r->values[p]);
        se = fmax(se, r->std_err[p]);
    }
    double range = hi - lo;
    return range > 0 ? se / range < tol : se == 0;
}

wf_status wf_kshap_window(wf_coal_eval *ev, int64_t nsamples, int64_t max_samples,
                          double convergence, wf_rng *rng, wf_kshap_result *out, wf_error *err) {
    int M = ev->pl->M;
    wf_status st = result_alloc(out, ev->pl, ev->link, err);
    if (st)
        return st;
    /* 2^M - 2 (the number of proper non-empty coalitions), saturated */
    int64_t all = M < 62 ? ((int64_t)1 << M) - 2 : INT64_MAX;
    int exact = nsamples == WF_NSAMPLES_EXACT || (nsamples > 0 && nsamples >= all);
    int64_t first = 16 * (int64_t)M > 256 ? 16 * (int64_t)M : 256; /* auto's first budget */
    if (nsamples == WF_NSAMPLES_AUTO && all <= first)
        exact = 1; /* auto where enumerating is as cheap as the first sample: exact */
    if (exact && M > WF_KSHAP_EXACT_MAX_M) {
        wf_kshap_result_free(out);
        return wf_error_set(err, WF_ERR_INVALID,
                            "exact KernelSHAP enumerates 2^%d coalitions; exact mode is limited "
                            "to %d players (use a sample budget or \"auto\")",
                            M, WF_KSHAP_EXACT_MAX_M);
    }
    if (exact) {
        st = kshap_exact(ev, out, err);
    } else if (nsamples > 0) {
        st = kshap_sampled(ev, nsamples, rng, out, err);
        if (!st)
            out->converged = converged(out, convergence);
    } else {
        /* auto: double the budget until the convergence rule holds or max_samples is reached */
        int64_t budget = first;
        for (;;) {
            if (budget > max_samples)
                budget = max_samples;
            st = kshap_sampled(ev, budget, rng, out, err);
            if (st)
                break;
            out->converged = converged(out, convergence);
            if (out->converged || budget >= max_samples)
                break;
            budget *= 2;
        }
    }
    if (st) {
        wf_kshap_result_free(out);
        return st;
    }
    double s = 0;
    for (int p = 0; p < M; p++)
        s += out->values[p];
    out->efficiency_gap = s - (out->f_x - out->base_value);
    return WF_OK;
}
