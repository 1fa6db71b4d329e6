/*
 * Data drift per channel (KS, normed Wasserstein, PSI, Evidently's default rule), out-of-reference
 * windows, exact mergeable accumulation and UTC period bucketing. See include/whyflag/drift.h for
 * the definitions each function matches; the KS distribution itself is in drift_kstwo.c.
 *
 * Every statistic walks sorted arrays once, in a fixed order, so a result depends on the multiset
 * of values only (never on how rows were split or merged). Sums of many terms use Neumaier's
 * compensated summation: more accurate than numpy's pairwise sum, and still deterministic.
 *
 * Non-goals: categorical channels (Evidently's chi-square / z-test for columns with few distinct
 * values), approximate sketches (the accumulators are exact and bounded by a budget instead).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/drift.h"

void wf_drift_settings_init(wf_drift_settings *s) {
    s->ks_max_ref = 1000;
    s->ks_alpha = 0.05;
    s->ks_auto = 0;
    s->ks_pvalue_max_n = 0;
    s->wasserstein_threshold = 0.1;
    s->wasserstein_min_std = 0.001;
    s->psi_bins = 10;
    s->psi_eps = 1e-4;
    s->oor_q_lo = 0.005;
    s->oor_q_hi = 0.995;
}

/* ---- compensated sum (Neumaier) ---------------------------------------------------------- */

typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *k, double x) {
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x)) {
        k->c += (k->s - t) + x;
    } else {
        k->c += (x - t) + k->s;
    }
    k->s = t;
}

static double ksum_get(const ksum *k) {
    return k->s + k->c;
}

/* ---- the statistics ------------------------------------------------------------------------ */

double wf_drift_ks_statistic(const double *a, size_t na, const double *b, size_t nb) {
    /* Walk the pooled sorted values; at each distinct x the ECDFs are #(<= x)/n, divided as
     * scipy 1.10.1 does (searchsorted(..., "right") / n in double). */
    size_t i = 0, j = 0;
    double maxS = -INFINITY, minS = INFINITY;
    while (i < na || j < nb) {
        double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        while (i < na && a[i] <= x) {
            i++;
        }
        while (j < nb && b[j] <= x) {
            j++;
        }
        double diff = (double)i / (double)na - (double)j / (double)nb;
        if (diff > maxS) {
            maxS = diff;
        }
        if (diff < minS) {
            minS = diff;
        }
    }
    double negmin = -minS;
    negmin = negmin < 0 ? 0 : (negmin > 1 ? 1 : negmin);
    return negmin > maxS ? negmin : maxS;
}

double wf_drift_ks_pvalue(double d, size_t na, size_t nb, wf_status *status) {
    if (status) {
        *status = WF_OK;
    }
    /* scipy: m, n = sorted([float(n1), float(n2)], reverse=True); en = m*n/(m+n);
     * kstwo.sf(d, np.round(en)); np.round rounds half to even, as rint does by default. */
    double m = (double)(na > nb ? na : nb), n = (double)(na > nb ? nb : na);
    double en = m * n / (m + n);
    double nr = rint(en);
    if (!(nr >= 1) || nr > 2147483647.0) {
        return NAN; /* kstwo's shape n must be an integer >= 1 */
    }
    double p = wf_drift_kstwo_sf((int)nr, d);
    if (isnan(p) && !isnan(d) && status) {
        *status = WF_ERR_NOMEM; /* the only other way to NaN: a scratch allocation failed */
    }
    return p;
}

double wf_drift_wasserstein(const double *a, size_t na, const double *b, size_t nb) {
    /* scipy _cdf_distance(p=1): sum over consecutive pooled values of |U(x) - V(x)| * delta,
     * with U(x) = #(u <= x)/n. Tied pooled values contribute delta = 0, so walking distinct
     * values gives the same terms. */
    size_t i = 0, j = 0;
    ksum sum = {0, 0};
    double x = (b[0] < a[0]) ? b[0] : a[0];
    for (;;) {
        while (i < na && a[i] <= x) {
            i++;
        }
        while (j < nb && b[j] <= x) {
            j++;
        }
        if (i >= na && j >= nb) {
            break;
        }
        double y = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        double u = (double)i / (double)na, v = (double)j / (double)nb;
        ksum_add(&sum, fabs(u - v) * (y - x));
        x = y;
    }
    return ksum_get(&sum);
}

double wf_drift_std(const double *a, size_t na) {
    ksum s = {0, 0};
    for (size_t i = 0; i < na; i++) {
        ksum_add(&s, a[i]);
    }
    double mean = ksum_get(&s) / (double)na;
    ksum q = {0, 0};
    for (size_t i = 0; i < na; i++) {
        double d = a[i] - mean;
        ksum_add(&q, d * d);
    }
    return sqrt(ksum_get(&q) / (double)na);
}

double wf_drift_quantile(const double *a, size_t na, double q) {
    /* numpy 1.24 _quantile, method "linear": virtual index (n-1)*q, gamma = index - floor,
     * _lerp(a, b, t) = a + (b-a)*t, or b - (b-a)*(1-t) when t >= 0.5 */
    double vi = (double)(na - 1) * q;
    if (vi >= (double)(na - 1)) {
        return a[na - 1];
    }
    if (vi < 0) {
        return a[0];
    }
    double prev = floor(vi);
    size_t lo = (size_t)prev;
    double t = vi - prev;
    double x0 = a[lo], x1 = a[lo + 1];
    double diff = x1 - x0;
    if (t >= 0.5) {
        return x1 - diff * (1 - t);
    }
    return x0 + diff * t;
}

/* #(a <= x) in a sorted array */
static size_t count_le(const double *a, size_t n, double x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

double wf_drift_psi(const double *ref, size_t nr, const double *cur, size_t nc, int bins,
                    double eps) {
    /* bin k (0-based) holds (e_k, e_{k+1}] with e_0 = -inf, e_bins = +inf and inner edges
     * e_k = quantile(ref, k/bins): numpy.searchsorted(edges, x, side="left") */
    ksum psi = {0, 0};
    size_t prev_r = 0, prev_c = 0;
    for (int k = 0; k < bins; k++) {
        size_t cr, cc;
        if (k == bins - 1) {
            cr = nr;
            cc = nc;
        } else {
            double e = wf_drift_quantile(ref, nr, (double)(k + 1) / (double)bins);
            cr = count_le(ref, nr, e);
            cc = count_le(cur, nc, e);
        }
        double sr = (double)(cr - prev_r) / (double)nr;
        double sc = (double)(cc - prev_c) / (double)nc;
        if (sr == 0) {
            sr = eps;
        }
        if (sc == 0) {
            sc = eps;
        }
        ksum_add(&psi, (sc - sr) * log(sc / sr));
        prev_r = cr;
        prev_c = cc;
    }
    return ksum_get(&psi);
}

double wf_drift_percentile_weak(const double *a, size_t na, double score) {
    /* scipy: count(a <= score) * (100.0 / n) */
    return (double)count_le(a, na, score) * (100.0 / (double)na);
}

static wf_status check_sorted(const double *a, size_t n, const char *what, wf_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i])) {
            return wf_error_set(err, WF_ERR_INVALID, "drift: %s value %zu is NaN", what, i);
        }
        if (i > 0 && a[i] < a[i - 1]) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift: %s values are not sorted at %zu (%.17g after %.17g)", what,
                                i, a[i], a[i - 1]);
        }
    }
    return WF_OK;
}

wf_status wf_drift_compare_sorted(const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                                  const wf_drift_settings *s, wf_drift_channel *out,
                                  wf_error *err) {
    wf_status st;
    memset(out, 0, sizeof(*out));
    out->n_ref = n_ref;
    out->n_cur = n_cur;
    out->ks_statistic = out->ks_pvalue = out->wasserstein = out->ref_std = NAN;
    out->ks_pvalue_auto = NAN;
    out->wasserstein_normed = out->psi = NAN;
    out->method = WF_DRIFT_METHOD_NONE;
    if (s->ks_pvalue_max_n > 0 && s->ks_pvalue_max_n < s->ks_max_ref) {
        return wf_error_set(err, WF_ERR_INVALID,
                            "drift: ks_pvalue_max_n %zu is below ks_max_ref %zu, so the KS rule "
                            "would lack its p-value",
                            s->ks_pvalue_max_n, s->ks_max_ref);
    }
    if (s->psi_bins < 1) {
        return wf_error_set(err, WF_ERR_INVALID, "drift: psi_bins is %d, expected >= 1",
                            s->psi_bins);
    }
    st = check_sorted(ref, n_ref, "reference", err);
    if (st != WF_OK) {
        return st;
    }
    st = check_sorted(cur, n_cur, "current", err);
    if (st != WF_OK) {
        return st;
    }
    if (n_ref == 0 || n_cur == 0) {
        return WF_OK;
    }
    out->evaluated = 1;
    out->ks_statistic = wf_drift_ks_statistic(ref, n_ref, cur, n_cur);
    /* the asymptotic p-value costs O(n) double-double terms when p is small and n large (as in
     * scipy: ~0.3 s at n = 125,000); settings.ks_pvalue_max_n may skip it */
    double mx = (double)(n_ref > n_cur ? n_ref : n_cur),
           mn = (double)(n_ref > n_cur ? n_cur : n_ref);
    double en = rint(mx * mn / (mx + mn));
    int skip = s->ks_pvalue_max_n > 0 && en > (double)s->ks_pvalue_max_n;
    if (skip) {
        out->ks_pvalue_skipped = 1;
    } else {
        out->ks_pvalue = wf_drift_ks_pvalue(out->ks_statistic, n_ref, n_cur, &st);
    }
    if (st != WF_OK) {
        return wf_error_set(err, st, "drift: out of memory in the KS p-value (n %zu vs %zu)", n_ref,
                            n_cur);
    }
    if (s->ks_auto && !(skip && mx > 10000)) {
        out->ks_pvalue_auto = wf_drift_ks_pvalue_auto(out->ks_statistic, n_ref, n_cur, &st);
        if (st != WF_OK) {
            return wf_error_set(err, st, "drift: out of memory in the KS p-value (n %zu vs %zu)",
                                n_ref, n_cur);
        }
    }
    out->wasserstein = wf_drift_wasserstein(ref, n_ref, cur, n_cur);
    out->ref_std = wf_drift_std(ref, n_ref);
    double norm = out->ref_std > s->wasserstein_min_std ? out->ref_std : s->wasserstein_min_std;
    out->wasserstein_normed = out->wasserstein / norm;
    out->psi = wf_drift_psi(ref, n_ref, cur, n_cur, s->psi_bins, s->psi_eps);
    if (n_ref <= s->ks_max_ref) {
        out->method = WF_DRIFT_METHOD_KS;
        double p = s->ks_auto ? out->ks_pvalue_auto : out->ks_pvalue;
        out->drifted = p < s->ks_alpha; /* NaN: not drifted */
    } else {
        out->method = WF_DRIFT_METHOD_WASSERSTEIN;
        out->drifted = out->wasserstein_normed >= s->wasserstein_threshold;
    }
    return WF_OK;
}

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Copy the non-NaN values of v as doubles, -0.0 as +0.0, sorted. */
static wf_status sorted_copy_f(const float *v, size_t n, double **out, size_t *nout,
                               wf_error *err) {
    double *d = malloc(sizeof(double) * (n ? n : 1));
    if (!d) {
        return wf_error_set(err, WF_ERR_NOMEM, "drift: out of memory copying %zu values", n);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            d[k++] = (double)v[i] + 0.0;
        }
    }
    qsort(d, k, sizeof(double), cmp_double);
    *out = d;
    *nout = k;
    return WF_OK;
}

wf_status wf_drift_compare_f(const float *ref, size_t n_ref, const float *cur, size_t n_cur,
                             const wf_drift_settings *s, wf_drift_channel *out, wf_error *err) {
    double *r = NULL, *c = NULL;
    size_t nr = 0, nc = 0;
    wf_status st = sorted_copy_f(ref, n_ref, &r, &nr, err);
    if (st == WF_OK) {
        st = sorted_copy_f(cur, n_cur, &c, &nc, err);
    }
    if (st == WF_OK) {
        st = wf_drift_compare_sorted(r, nr, c, nc, s, out, err);
    }
    free(r);
    free(c);
    return st;
}

/* ---- accumulator --------------------------------------------------------------------------- */

struct wf_drift_acc {
    int n_channels;
    size_t budget; /* bytes of values allowed in all, 0 = no limit */
    size_t held;   /* values held in all channels */
    double **v;    /* (C) each (cap[c]) */
    size_t *n;     /* (C) */
    size_t *cap;   /* (C) */
    int *sorted;   /* (C) */
};

wf_status wf_drift_acc_new(wf_drift_acc **out, int n_channels, size_t budget_bytes, wf_error *err) {
    *out = NULL;
    if (n_channels < 1) {
        return wf_error_set(err, WF_ERR_INVALID, "drift accumulator: %d channels, expected >= 1",
                            n_channels);
    }
    wf_drift_acc *a = calloc(1, sizeof(*a));
    if (!a) {
        goto fail;
    }
    a->n_channels = n_channels;
    a->budget = budget_bytes;
    a->v = calloc((size_t)n_channels, sizeof(double *));
    a->n = calloc((size_t)n_channels, sizeof(size_t));
    a->cap = calloc((size_t)n_channels, sizeof(size_t));
    a->sorted = calloc((size_t)n_channels, sizeof(int));
    if (!a->v || !a->n || !a->cap || !a->sorted) {
        goto fail;
    }
    for (int c = 0; c < n_channels; c++) {
        a->sorted[c] = 1;
    }
    *out = a;
    return WF_OK;
fail:
    wf_drift_acc_free(a);
    return wf_error_set(err, WF_ERR_NOMEM, "drift accumulator: out of memory for %d channels",
                        n_channels);
}

void wf_drift_acc_free(wf_drift_acc *a) {
    if (!a) {
        return;
    }
    if (a->v) {
        for (int c = 0; c < a->n_channels; c++) {
            free(a->v[c]);
        }
    }
    free(a->v);
    free(a->n);
    free(a->cap);
    free(a->sorted);
    free(a);
}

static wf_status budget_check(const wf_drift_acc *a, size_t extra, const char *what,
                              wf_error *err) {
    if (a->budget == 0) {
        return WF_OK;
    }
    size_t limit = a->budget / sizeof(double);
    if (extra > limit || a->held > limit - extra) {
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "drift accumulator: %s %zu values would hold %zu values (%zu bytes), "
                            "over the memory budget of %zu bytes; raise the drift memory budget "
                            "or use a shorter reference period",
                            what, extra, a->held + extra, (a->held + extra) * sizeof(double),
                            a->budget);
    }
    return WF_OK;
}

/* Make room for `extra` more values in channel c. Spare capacity is at most half the values. */
static wf_status reserve(wf_drift_acc *a, int c, size_t extra, wf_error *err) {
    size_t need = a->n[c] + extra;
    if (need <= a->cap[c]) {
        return WF_OK;
    }
    size_t cap = a->cap[c] + a->cap[c] / 2;
    if (cap < need) {
        cap = need;
    }
    if (cap < 16) {
        cap = 16;
    }
    if (a->budget) {
        size_t most = a->n[c] + (a->budget / sizeof(double) - a->held);
        if (cap > most && most >= need) {
            cap = most;
        }
    }
    double *nv = realloc(a->v[c], cap * sizeof(double));
    if (!nv) {
        return wf_error_set(err, WF_ERR_NOMEM,
                            "drift accumulator: channel %d: out of memory for %zu values", c, cap);
    }
    a->v[c] = nv;
    a->cap[c] = cap;
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

wf_status wf_drift_acc_add_f(wf_drift_acc *a, int c, const float *v, size_t n, wf_error *err) {
    wf_status st = check_channel(a, c, err);
    if (st != WF_OK) {
        return st;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += !isnan(v[i]);
    }
    st = budget_check(a, k, "adding", err);
    if (st == WF_OK) {
        st = reserve(a, c, k, err);
    }
    if (st != WF_OK) {
        return wf_error_prefix(err, "channel %d: ", c);
    }
    double *dst = a->v[c] + a->n[c];
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            *dst++ = (double)v[i] + 0.0; /* + 0.0 turns -0.0 into +0.0 */
        }
    }
    a->n[c] += k;
    a->held += k;
    if (k) {
        a->sorted[c] = 0;
    }
    return WF_OK;
}

wf_status wf_drift_acc_add_d(wf_drift_acc *a, int c, const double *v, size_t n, wf_error *err) {
    wf_status st = check_channel(a, c, err);
    if (st != WF_OK) {
        return st;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += !isnan(v[i]);
    }
    st = budget_check(a, k, "adding", err);
    if (st == WF_OK) {
        st = reserve(a, c, k, err);
    }
    if (st != WF_OK) {
        return wf_error_prefix(err, "channel %d: ", c);
    }
    double *dst = a->v[c] + a->n[c];
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            *dst++ = v[i] + 0.0;
        }
    }
    a->n[c] += k;
    a->held += k;
    if (k) {
        a->sorted[c] = 0;
    }
    return WF_OK;
}

wf_status wf_drift_acc_add_window(wf_drift_acc *a, const float *x, int T, wf_error *err) {
    /* x: (C, T) */
    size_t k = 0;
    for (size_t i = 0; i < (size_t)a->n_channels * (size_t)T; i++) {
        k += !isnan(x[i]);
    }
    wf_status st = budget_check(a, k, "adding a window of", err);
    if (st != WF_OK) {
        return st;
    }
    for (int c = 0; c < a->n_channels; c++) {
        st = wf_drift_acc_add_f(a, c, x + (size_t)c * (size_t)T, (size_t)T, err);
        if (st != WF_OK) {
            return st;
        }
    }
    return WF_OK;
}

wf_status wf_drift_acc_merge(wf_drift_acc *dst, const wf_drift_acc *src, wf_error *err) {
    if (dst->n_channels != src->n_channels) {
        return wf_error_set(err, WF_ERR_SHAPE,
                            "drift accumulator merge: %d channels into %d channels",
                            src->n_channels, dst->n_channels);
    }
    wf_status st = budget_check(dst, src->held, "merging", err);
    for (int c = 0; st == WF_OK && c < dst->n_channels; c++) {
        st = reserve(dst, c, src->n[c], err);
    }
    if (st != WF_OK) {
        return st;
    }
    for (int c = 0; c < dst->n_channels; c++) {
        if (src->n[c] == 0) {
            continue;
        }
        memcpy(dst->v[c] + dst->n[c], src->v[c], src->n[c] * sizeof(double));
        dst->n[c] += src->n[c];
        dst->held += src->n[c];
        dst->sorted[c] = 0;
    }
    return WF_OK;
}

void wf_drift_acc_finish(wf_drift_acc *a) {
    for (int c = 0; c < a->n_channels; c++) {
        if (!a->sorted[c]) {
            /* no NaN and no -0.0 are stored, so equal values are equal bit patterns and the
             * sorted buffer is the same bytes whatever order the values came in */
            qsort(a->v[c], a->n[c], sizeof(double), cmp_double);
            a->sorted[c] = 1;
        }
        if (a->n[c] > 0 && a->cap[c] > a->n[c]) {
            /* give back the spare capacity; keeping the old block is fine if realloc fails */
            double *nv = realloc(a->v[c], a->n[c] * sizeof(double));
            if (nv) {
                a->v[c] = nv;
                a->cap[c] = a->n[c];
            }
        }
    }
}

int wf_drift_acc_channels(const wf_drift_acc *a) {
    return a->n_channels;
}

const double *wf_drift_acc_values(const wf_drift_acc *a, int c, size_t *n) {
    if (c < 0 || c >= a->n_channels) {
        *n = 0;
        return NULL;
    }
    *n = a->n[c];
    return a->v[c];
}

size_t wf_drift_acc_bytes(const wf_drift_acc *a) {
    return a->held * sizeof(double);
}

static wf_status check_finished(const wf_drift_acc *a, const char *what, wf_error *err) {
    for (int c = 0; c < a->n_channels; c++) {
        if (!a->sorted[c]) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift: the %s accumulator is not finished (channel %d unsorted); "
                                "call wf_drift_acc_finish first",
                                what, c);
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
        st = wf_drift_compare_sorted(ref->v[c], ref->n[c], cur->v[c], cur->n[c], s, &out[c], err);
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

void wf_drift_profile_free(wf_drift_profile *p) {
    if (!p) {
        return;
    }
    if (p->means) {
        for (int c = 0; c < p->n_channels; c++) {
            free(p->means[c]);
        }
    }
    free(p->means);
    free(p->n_means);
    free(p->mean_lo);
    free(p->mean_hi);
    free(p->value_lo);
    free(p->value_hi);
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
    p->n_means = calloc((size_t)C, sizeof(size_t));
    p->means = calloc((size_t)C, sizeof(double *));
    p->mean_lo = calloc((size_t)C, sizeof(double));
    p->mean_hi = calloc((size_t)C, sizeof(double));
    p->value_lo = calloc((size_t)C, sizeof(double));
    p->value_hi = calloc((size_t)C, sizeof(double));
    if (!p->n_means || !p->means || !p->mean_lo || !p->mean_hi || !p->value_lo || !p->value_hi) {
        goto nomem;
    }
    for (int c = 0; c < C; c++) {
        size_t n = means->n[c];
        p->n_means[c] = n;
        p->means[c] = malloc(sizeof(double) * (n ? n : 1));
        if (!p->means[c]) {
            goto nomem;
        }
        if (n) {
            memcpy(p->means[c], means->v[c], n * sizeof(double));
            p->mean_lo[c] = wf_drift_quantile(p->means[c], n, s->oor_q_lo);
            p->mean_hi[c] = wf_drift_quantile(p->means[c], n, s->oor_q_hi);
        } else {
            p->mean_lo[c] = p->mean_hi[c] = NAN;
        }
        size_t nv = values->n[c];
        if (nv) {
            p->value_lo[c] = wf_drift_quantile(values->v[c], nv, s->oor_q_lo);
            p->value_hi[c] = wf_drift_quantile(values->v[c], nv, s->oor_q_hi);
        } else {
            p->value_lo[c] = p->value_hi[c] = NAN;
        }
    }
    *out = p;
    return WF_OK;
nomem:
    wf_drift_profile_free(p);
    return wf_error_set(err, WF_ERR_NOMEM, "drift profile: out of memory (%d channels)", C);
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
        const float *row = x + (size_t)c * (size_t)T;
        double mean;
        wf_drift_window_means(&mean, row, 1, T);
        int k = 0, nout = 0;
        for (int t = 0; t < T; t++) {
            if (isnan(row[t])) {
                continue;
            }
            k++;
            nout += (row[t] < p->value_lo[c] || row[t] > p->value_hi[c]);
        }
        int bounds = !isnan(p->value_lo[c]);
        out->share_out[c] = (k && bounds) ? (double)nout / (double)k : NAN;
        out->percentile[c] = (p->n_means[c] && !isnan(mean))
                                 ? wf_drift_percentile_weak(p->means[c], p->n_means[c], mean)
                                 : NAN;
        out->channel_out[c] = (mean < p->mean_lo[c] || mean > p->mean_hi[c]);
        if (out->channel_out[c]) {
            out->outside = 1;
        }
    }
    return WF_OK;
}

/* ---- periods ----------------------------------------------------------------------------- */

/* Howard Hinnant's days_from_civil / civil_from_days (public domain), proleptic Gregorian. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t wf_drift_period_start(int64_t t, wf_drift_period kind) {
    int64_t days = floor_div(t, 86400);
    if (kind == WF_DRIFT_PERIOD_WEEK) {
        int64_t wd = ((days + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday: Monday = 0 */
        return (days - wd) * 86400;
    }
    if (kind == WF_DRIFT_PERIOD_MONTH) {
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        return days_from_civil(y, m, 1) * 86400;
    }
    return days * 86400;
}

int64_t wf_drift_period_next(int64_t start, wf_drift_period kind) {
    int64_t s = wf_drift_period_start(start, kind);
    if (kind == WF_DRIFT_PERIOD_WEEK) {
        return s + 7 * 86400;
    }
    if (kind == WF_DRIFT_PERIOD_MONTH) {
        int64_t y;
        int m, d;
        civil_from_days(floor_div(s, 86400), &y, &m, &d);
        return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
    }
    return s + 86400;
}

char *wf_drift_period_label(int64_t t, wf_drift_period kind, char *buf, size_t size) {
    int64_t days = floor_div(wf_drift_period_start(t, kind), 86400);
    int64_t y;
    int m, d;
    if (kind == WF_DRIFT_PERIOD_WEEK) {
        /* the ISO week-year is the year of the week's Thursday */
        int64_t thu = days + 3;
        civil_from_days(thu, &y, &m, &d);
        int64_t week = (thu - days_from_civil(y, 1, 1)) / 7 + 1;
        snprintf(buf, size, "%04lld-W%02lld", (long long)y, (long long)week);
    } else if (kind == WF_DRIFT_PERIOD_MONTH) {
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, size, "%04lld-%02d", (long long)y, m);
    } else {
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, size, "%04lld-%02d-%02d", (long long)y, m, d);
    }
    return buf;
}
