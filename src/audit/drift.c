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
#include <stdint.h>
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

/* ---- the statistics over weighted sorted samples ---------------------------------------- */

/* A sample is a sorted array of values, each counted w[i] times (w NULL: once). */
static uint64_t wcount(const wf_drift_sample *a, size_t i) {
    return a->w ? a->w[i] : 1;
}

uint64_t wf_drift_sample_total(const wf_drift_sample *a) {
    if (!a->w) {
        return a->n;
    }
    uint64_t t = 0;
    for (size_t i = 0; i < a->n; i++) {
        t += a->w[i];
    }
    return t;
}

/* #(values <= x), for queries x that never decrease: the cursor walks each sample once. */
typedef struct cursor {
    size_t i;
    uint64_t cum;
} cursor;

static uint64_t cursor_le(const wf_drift_sample *a, cursor *c, double x) {
    while (c->i < a->n && a->v[c->i] <= x) {
        c->cum += wcount(a, c->i);
        c->i++;
    }
    return c->cum;
}

/* the value at 0-based position k of the expanded sorted sample */
static double value_at(const wf_drift_sample *a, uint64_t k) {
    if (!a->w) {
        return a->v[k];
    }
    uint64_t cum = 0;
    for (size_t i = 0; i < a->n; i++) {
        cum += a->w[i];
        if (k < cum) {
            return a->v[i];
        }
    }
    return a->v[a->n - 1];
}

static double ks_statistic_s(const wf_drift_sample *a, uint64_t na, const wf_drift_sample *b,
                             uint64_t nb) {
    /* Walk the pooled sorted values; at each distinct x the ECDFs are #(<= x)/n, divided as
     * scipy 1.10.1 does (searchsorted(..., "right") / n in double). */
    cursor ca = {0, 0}, cb = {0, 0};
    double maxS = -INFINITY, minS = INFINITY;
    while (ca.i < a->n || cb.i < b->n) {
        double x =
            (cb.i >= b->n || (ca.i < a->n && a->v[ca.i] <= b->v[cb.i])) ? a->v[ca.i] : b->v[cb.i];
        double diff =
            (double)cursor_le(a, &ca, x) / (double)na - (double)cursor_le(b, &cb, x) / (double)nb;
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

static double wasserstein_s(const wf_drift_sample *a, uint64_t na, const wf_drift_sample *b,
                            uint64_t nb) {
    /* scipy _cdf_distance(p=1): sum over consecutive pooled values of |U(x) - V(x)| * delta,
     * with U(x) = #(u <= x)/n. Tied pooled values contribute delta = 0, so walking distinct
     * values gives the same terms. */
    cursor ca = {0, 0}, cb = {0, 0};
    ksum sum = {0, 0};
    double x = (b->v[0] < a->v[0]) ? b->v[0] : a->v[0];
    for (;;) {
        double u = (double)cursor_le(a, &ca, x) / (double)na;
        double v = (double)cursor_le(b, &cb, x) / (double)nb;
        if (ca.i >= a->n && cb.i >= b->n) {
            break;
        }
        double y =
            (cb.i >= b->n || (ca.i < a->n && a->v[ca.i] <= b->v[cb.i])) ? a->v[ca.i] : b->v[cb.i];
        ksum_add(&sum, fabs(u - v) * (y - x));
        x = y;
    }
    return ksum_get(&sum);
}

static double std_s(const wf_drift_sample *a, uint64_t na) {
    ksum s = {0, 0};
    for (size_t i = 0; i < a->n; i++) {
        ksum_add(&s, (double)wcount(a, i) * a->v[i]);
    }
    double mean = ksum_get(&s) / (double)na;
    ksum q = {0, 0};
    for (size_t i = 0; i < a->n; i++) {
        double d = a->v[i] - mean;
        ksum_add(&q, (double)wcount(a, i) * (d * d));
    }
    return sqrt(ksum_get(&q) / (double)na);
}

static double quantile_s(const wf_drift_sample *a, uint64_t na, double q) {
    /* numpy 1.24 _quantile, method "linear": virtual index (n-1)*q, gamma = index - floor,
     * _lerp(a, b, t) = a + (b-a)*t, or b - (b-a)*(1-t) when t >= 0.5 */
    double vi = (double)(na - 1) * q;
    if (vi >= (double)(na - 1)) {
        return value_at(a, na - 1);
    }
    if (vi < 0) {
        return value_at(a, 0);
    }
    double prev = floor(vi);
    uint64_t lo = (uint64_t)prev;
    double t = vi - prev;
    double x0 = value_at(a, lo), x1 = value_at(a, lo + 1);
    double diff = x1 - x0;
    if (t >= 0.5) {
        return x1 - diff * (1 - t);
    }
    return x0 + diff * t;
}

static double psi_s(const wf_drift_sample *ref, uint64_t nr, const wf_drift_sample *cur,
                    uint64_t nc, int bins, double eps) {
    /* bin k (0-based) holds (e_k, e_{k+1}] with e_0 = -inf, e_bins = +inf and inner edges
     * e_k = quantile(ref, k/bins): numpy.searchsorted(edges, x, side="left"). The edges never
     * decrease, so one cursor per sample walks it once. */
    ksum psi = {0, 0};
    cursor crr = {0, 0}, ccr = {0, 0};
    uint64_t prev_r = 0, prev_c = 0;
    for (int k = 0; k < bins; k++) {
        uint64_t cr, cc;
        if (k == bins - 1) {
            cr = nr;
            cc = nc;
        } else {
            double e = quantile_s(ref, nr, (double)(k + 1) / (double)bins);
            cr = cursor_le(ref, &crr, e);
            cc = cursor_le(cur, &ccr, e);
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

/* ---- the plain-array entry points ---------------------------------------------------------- */

static wf_drift_sample plain(const double *v, size_t n) {
    wf_drift_sample s = {v, NULL, n};
    return s;
}

double wf_drift_ks_statistic(const double *a, size_t na, const double *b, size_t nb) {
    wf_drift_sample sa = plain(a, na), sb = plain(b, nb);
    return ks_statistic_s(&sa, na, &sb, nb);
}

double wf_drift_wasserstein(const double *a, size_t na, const double *b, size_t nb) {
    wf_drift_sample sa = plain(a, na), sb = plain(b, nb);
    return wasserstein_s(&sa, na, &sb, nb);
}

double wf_drift_std(const double *a, size_t na) {
    wf_drift_sample sa = plain(a, na);
    return std_s(&sa, na);
}

double wf_drift_quantile(const double *a, size_t na, double q) {
    wf_drift_sample sa = plain(a, na);
    return quantile_s(&sa, na, q);
}

double wf_drift_sample_quantile(const wf_drift_sample *a, double q) {
    return quantile_s(a, wf_drift_sample_total(a), q);
}

double wf_drift_psi(const double *ref, size_t nr, const double *cur, size_t nc, int bins,
                    double eps) {
    wf_drift_sample sa = plain(ref, nr), sb = plain(cur, nc);
    return psi_s(&sa, nr, &sb, nc, bins, eps);
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

double wf_drift_percentile_weak(const double *a, size_t na, double score) {
    /* scipy: count(a <= score) * (100.0 / n) */
    return (double)count_le(a, na, score) * (100.0 / (double)na);
}

static wf_status check_sample(const wf_drift_sample *a, const char *what, wf_error *err) {
    for (size_t i = 0; i < a->n; i++) {
        if (isnan(a->v[i])) {
            return wf_error_set(err, WF_ERR_INVALID, "drift: %s value %zu is NaN", what, i);
        }
        if (i > 0 && a->v[i] < a->v[i - 1]) {
            return wf_error_set(err, WF_ERR_INVALID,
                                "drift: %s values are not sorted at %zu (%.17g after %.17g)", what,
                                i, a->v[i], a->v[i - 1]);
        }
        if (a->w && a->w[i] == 0) {
            return wf_error_set(err, WF_ERR_INVALID, "drift: %s value %zu has count 0", what, i);
        }
    }
    return WF_OK;
}

wf_status wf_drift_compare_samples(const wf_drift_sample *ref, const wf_drift_sample *cur,
                                   const wf_drift_settings *s, wf_drift_channel *out,
                                   wf_error *err) {
    wf_status st;
    memset(out, 0, sizeof(*out));
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
    st = check_sample(ref, "reference", err);
    if (st != WF_OK) {
        return st;
    }
    st = check_sample(cur, "current", err);
    if (st != WF_OK) {
        return st;
    }
    uint64_t n_ref = wf_drift_sample_total(ref), n_cur = wf_drift_sample_total(cur);
    out->n_ref = (size_t)n_ref;
    out->n_cur = (size_t)n_cur;
    if (n_ref == 0 || n_cur == 0) {
        return WF_OK;
    }
    out->evaluated = 1;
    out->ks_statistic = ks_statistic_s(ref, n_ref, cur, n_cur);
    /* the asymptotic p-value costs O(n) double-double terms when p is small and n large (as in
     * scipy: ~0.3 s at n = 125,000); settings.ks_pvalue_max_n may skip it */
    double mx = (double)(n_ref > n_cur ? n_ref : n_cur),
           mn = (double)(n_ref > n_cur ? n_cur : n_ref);
    double en = rint(mx * mn / (mx + mn));
    int skip = s->ks_pvalue_max_n > 0 && en > (double)s->ks_pvalue_max_n;
    st = WF_OK;
    if (skip) {
        out->ks_pvalue_skipped = 1;
    } else {
        out->ks_pvalue = wf_drift_ks_pvalue(out->ks_statistic, out->n_ref, out->n_cur, &st);
    }
    if (st == WF_OK && s->ks_auto && !(skip && mx > 10000)) {
        out->ks_pvalue_auto =
            wf_drift_ks_pvalue_auto(out->ks_statistic, out->n_ref, out->n_cur, &st);
    }
    if (st != WF_OK) {
        return wf_error_set(err, st, "drift: out of memory in the KS p-value (n %zu vs %zu)",
                            out->n_ref, out->n_cur);
    }
    out->wasserstein = wasserstein_s(ref, n_ref, cur, n_cur);
    out->ref_std = std_s(ref, n_ref);
    double norm = out->ref_std > s->wasserstein_min_std ? out->ref_std : s->wasserstein_min_std;
    out->wasserstein_normed = out->wasserstein / norm;
    out->psi = psi_s(ref, n_ref, cur, n_cur, s->psi_bins, s->psi_eps);
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

wf_status wf_drift_compare_sorted(const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                                  const wf_drift_settings *s, wf_drift_channel *out,
                                  wf_error *err) {
    wf_drift_sample a = plain(ref, n_ref), b = plain(cur, n_cur);
    return wf_drift_compare_samples(&a, &b, s, out, err);
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
