/*
 * Drift accumulators under a cap (issue 16, one memory budget for the run): a channel past its
 * cap K is compacted onto the dyadic grid of wf_drift_sketch_rep at the lowest level with at
 * most K buckets. Checked here:
 *  - the compacted table is what the definition gives, recomputed by brute force from the raw
 *    values (every bucket [k 2^e, (k+1) 2^e) counted directly; the level is the lowest one);
 *  - it depends on the multiset only: any order, any split into parts merged in any order, a
 *    larger provisional cap lowered at the end, and a table compacted, encoded as its sample
 *    and read back all give the same bytes;
 *  - the error bounds stated in whyflag/drift.h against the exact figures (computed by
 *    wf_drift_compare_sorted on the raw values, itself checked against scipy in test_drift.c):
 *    |D - D_exact| <= b_ref + b_cur, |W1 - W1_exact| <= h_ref + h_cur, |std - std_exact| <=
 *    h_ref, and the measured PSI and normed Wasserstein errors (printed, bounded loosely).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/drift.h"

static uint64_t sm(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) {
    return (double)(sm(s) >> 11) * 0x1p-53;
}
static double gauss(uint64_t *s) {
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* n SCADA-like values: kind 0 normal(loc, sc), 1 bimodal, 2 heavy ties (few levels), 3 with
 * zeros and negatives; rounded to `res` like a logger (0 = no rounding) */
static double *make(int kind, size_t n, uint64_t seed, double loc, double sc, double res) {
    double *v = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double x;
        switch (kind) {
        case 1:
            x = (unif(&seed) < 0.3 ? loc - 2 * sc : loc + sc) + 0.5 * sc * gauss(&seed);
            break;
        case 2:
            x = loc + sc * (double)(sm(&seed) % 7);
            break;
        case 3:
            x = unif(&seed) < 0.2 ? 0.0 : loc + sc * gauss(&seed);
            break;
        default:
            x = loc + sc * gauss(&seed);
        }
        if (res > 0)
            x = round(x / res) * res;
        v[i] = x + 0.0;
    }
    return v;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static wf_drift_acc *acc_of(const double *v, size_t n, size_t cap, size_t pend) {
    wf_drift_acc *a = NULL;
    wf_error err = {0};
    ck_assert_int_eq(wf_drift_acc_new(&a, 1, 0, &err), WF_OK);
    wf_drift_acc_set_limits(a, cap, pend);
    ck_assert_int_eq(wf_drift_acc_add_d(a, 0, v, n, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(a, &err), WF_OK);
    return a;
}

static void same_table(const wf_drift_acc *a, const wf_drift_acc *b) {
    wf_drift_sample x = wf_drift_acc_sample(a, 0), y = wf_drift_acc_sample(b, 0);
    int la = 0, lb = 0;
    ck_assert_int_eq(wf_drift_acc_level(a, 0, &la), wf_drift_acc_level(b, 0, &lb));
    ck_assert_int_eq(la, lb);
    ck_assert_uint_eq(x.n, y.n);
    ck_assert_int_eq(x.w == NULL, y.w == NULL);
    ck_assert_int_eq(memcmp(x.v, y.v, sizeof(double) * x.n), 0);
    if (x.w)
        ck_assert_int_eq(memcmp(x.w, y.w, sizeof(uint64_t) * x.n), 0);
}

/* Brute force: buckets of the raw values at level e, by counting each [k 2^e, (k+1) 2^e)
 * directly (values sorted; k from floor in long double). */
static size_t brute_buckets(const double *s, size_t n, int e, double *mid, uint64_t *cnt) {
    size_t m = 0;
    long double lastk = 0;
    for (size_t i = 0; i < n; i++) {
        long double k = floorl(ldexpl((long double)s[i], -e));
        if (m == 0 || k != lastk) {
            if (mid) {
                mid[m] = (double)ldexpl(k + 0.5L, e);
                cnt[m] = 0;
            }
            m++;
            lastk = k;
        }
        if (cnt)
            cnt[m - 1]++;
    }
    return m;
}

START_TEST(test_definition) {
    const size_t caps[] = {32, 100, 500};
    for (int kind = 0; kind < 4; kind++) {
        size_t n = 20000;
        double *v = make(kind, n, 11 + (uint64_t)kind, 40.0, 5.0, 0.01);
        double *s = malloc(sizeof(double) * n);
        memcpy(s, v, sizeof(double) * n);
        qsort(s, n, sizeof(double), cmp_d);
        for (int ci = 0; ci < 3; ci++) {
            size_t K = caps[ci];
            wf_drift_acc *a = acc_of(v, n, K, 0);
            int e = 0;
            int sk = wf_drift_acc_level(a, 0, &e);
            size_t distinct = brute_buckets(s, n, -60, NULL, NULL); /* 2^-60: each value alone */
            size_t exact_bytes = distinct * 16 < n * 8 ? distinct * 16 : n * 8;
            ck_assert_int_eq(sk, exact_bytes > K * 16);
            wf_drift_sample x = wf_drift_acc_sample(a, 0);
            if (!sk) {
                ck_assert_uint_eq(wf_drift_sample_total(&x), n);
                wf_drift_acc_free(a);
                continue;
            }
            /* the lowest level with at most K buckets */
            ck_assert_uint_le(brute_buckets(s, n, e, NULL, NULL), K);
            ck_assert_uint_gt(brute_buckets(s, n, e - 1, NULL, NULL), K);
            double *mid = malloc(sizeof(double) * n);
            uint64_t *cnt = malloc(sizeof(uint64_t) * n);
            size_t m = brute_buckets(s, n, e, mid, cnt);
            ck_assert_uint_eq(x.n, m);
            for (size_t i = 0; i < m; i++) {
                ck_assert_double_eq(x.v[i], mid[i]);
                ck_assert_uint_eq(x.w[i], cnt[i]);
            }
            free(mid);
            free(cnt);
            wf_drift_acc_free(a);
        }
        free(v);
        free(s);
    }
}
END_TEST

START_TEST(test_multiset_only) {
    size_t n = 60000, K = 64;
    double *v = make(1, n, 5, 1500.0, 400.0, 0.1);
    wf_drift_acc *one = acc_of(v, n, K, 0);
    wf_error err = {0};
    /* reversed order, tiny pending buffers */
    double *r = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        r[i] = v[n - 1 - i];
    wf_drift_acc *rev = acc_of(r, n, K, 64);
    same_table(one, rev);
    /* 5 uneven parts, each compacted on its own (some exact, some not), merged in reverse order
     * into an accumulator with the same cap */
    size_t cut[6] = {0, 50, 3000, 3001, 30000, n};
    wf_drift_acc *parts[5];
    for (int p = 0; p < 5; p++)
        parts[p] = acc_of(v + cut[p], cut[p + 1] - cut[p], K, 0);
    wf_drift_acc *m = NULL;
    ck_assert_int_eq(wf_drift_acc_new(&m, 1, 0, &err), WF_OK);
    wf_drift_acc_set_limits(m, K, 0);
    for (int p = 4; p >= 0; p--)
        ck_assert_int_eq(wf_drift_acc_merge(m, parts[p], &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(m, &err), WF_OK);
    same_table(one, m);
    /* a provisional cap 10x larger, lowered at the end (what the audit does while it counts) */
    wf_drift_acc *prov = NULL;
    ck_assert_int_eq(wf_drift_acc_new(&prov, 1, 0, &err), WF_OK);
    wf_drift_acc_set_limits(prov, 10 * K, 256);
    ck_assert_int_eq(wf_drift_acc_add_d(prov, 0, r, n, &err), WF_OK);
    wf_drift_acc_set_limits(prov, K, 0);
    ck_assert_int_eq(wf_drift_acc_finish(prov, &err), WF_OK);
    same_table(one, prov);
    /* read back from its sample and level (the shard file) into an uncapped accumulator */
    wf_drift_sample x = wf_drift_acc_sample(one, 0);
    int e = 0;
    ck_assert(wf_drift_acc_level(one, 0, &e));
    wf_drift_acc *back = NULL;
    ck_assert_int_eq(wf_drift_acc_new(&back, 1, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_compacted(back, 0, x.v, x.w, x.n, 1, e, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(back, &err), WF_OK);
    same_table(one, back);
    /* a value that is not a midpoint of that level is refused */
    double bad = x.v[0] + ldexp(1.0, e - 2);
    uint64_t one_count = 1;
    ck_assert_int_eq(wf_drift_acc_add_compacted(back, 0, &bad, &one_count, 1, 1, e, &err),
                     WF_ERR_INVALID);
    for (int p = 0; p < 5; p++)
        wf_drift_acc_free(parts[p]);
    wf_drift_acc_free(one);
    wf_drift_acc_free(rev);
    wf_drift_acc_free(m);
    wf_drift_acc_free(prov);
    wf_drift_acc_free(back);
    free(v);
    free(r);
}
END_TEST

/* largest share of a sample in one entry (of a compacted table), 0 when exact */
static double max_share(const wf_drift_acc *a) {
    if (!wf_drift_acc_level(a, 0, NULL))
        return 0;
    wf_drift_sample x = wf_drift_acc_sample(a, 0);
    uint64_t tot = wf_drift_sample_total(&x), mx = 0;
    for (size_t i = 0; i < x.n; i++)
        mx = x.w[i] > mx ? x.w[i] : mx;
    return (double)mx / (double)tot;
}

static double half_step(const wf_drift_acc *a) {
    int e = 0;
    return wf_drift_acc_level(a, 0, &e) ? ldexp(1.0, e - 1) : 0;
}

START_TEST(test_error_bounds) {
    /* reference and current pairs: no drift, a shift, a scale change, bimodal, ties, zeros */
    struct {
        int kind_r, kind_c;
        double loc_r, sc_r, loc_c, sc_c, res;
    } pairs[] = {
        {0, 0, 40, 5, 40, 5, 0.01},        {0, 0, 40, 5, 41.5, 5, 0.01},
        {0, 0, 1200, 300, 1200, 450, 0.1}, {1, 0, 1500, 300, 1400, 500, 0.1},
        {2, 2, 10, 0.5, 10.25, 0.5, 0.01}, {3, 3, 2.3, 0.4, 2.6, 0.4, 0.001},
        {0, 1, 12, 3, 12, 3, 0},
    };
    const size_t caps[] = {64, 128, 512};
    double worst_d = 0, worst_wn = 0, worst_psi = 0, worst_p = 0;
    for (size_t pi = 0; pi < sizeof pairs / sizeof pairs[0]; pi++) {
        size_t nr = 30000, nc = 45000;
        double *r =
            make(pairs[pi].kind_r, nr, 100 + pi, pairs[pi].loc_r, pairs[pi].sc_r, pairs[pi].res);
        double *c =
            make(pairs[pi].kind_c, nc, 200 + pi, pairs[pi].loc_c, pairs[pi].sc_c, pairs[pi].res);
        qsort(r, nr, sizeof(double), cmp_d);
        qsort(c, nc, sizeof(double), cmp_d);
        wf_drift_settings s;
        wf_drift_settings_init(&s);
        wf_drift_channel ex, sk;
        wf_error err = {0};
        ck_assert_int_eq(wf_drift_compare_sorted(r, nr, c, nc, &s, &ex, &err), WF_OK);
        for (int ci = 0; ci < 3; ci++) {
            wf_drift_acc *ar = acc_of(r, nr, caps[ci], 0), *ac = acc_of(c, nc, caps[ci], 0);
            ck_assert_int_eq(wf_drift_acc_compare(ar, ac, &s, &sk, &err), WF_OK);
            double br = max_share(ar), bc = max_share(ac), hr = half_step(ar), hc = half_step(ac);
            double dd = fabs(sk.ks_statistic - ex.ks_statistic);
            double dw = fabs(sk.wasserstein - ex.wasserstein);
            double ds = fabs(sk.ref_std - ex.ref_std);
            ck_assert_msg(dd <= br + bc + 1e-12, "pair %zu K %zu: |dD| %g > %g + %g", pi, caps[ci],
                          dd, br, bc);
            ck_assert_msg(dw <= hr + hc + 1e-9 * (1 + ex.wasserstein),
                          "pair %zu K %zu: |dW| %g > %g + %g", pi, caps[ci], dw, hr, hc);
            ck_assert_msg(ds <= hr + 1e-9 * ex.ref_std, "pair %zu K %zu: |dstd| %g > %g", pi,
                          caps[ci], ds, hr);
            double dwn = fabs(sk.wasserstein_normed - ex.wasserstein_normed);
            double dpsi = fabs(sk.psi - ex.psi);
            double dp = fabs(sk.ks_pvalue - ex.ks_pvalue);
            if (caps[ci] == 128) {
                worst_d = fmax(worst_d, dd);
                worst_wn = fmax(worst_wn, dwn);
                worst_psi = fmax(worst_psi, dpsi);
                worst_p = fmax(worst_p, dp);
            }
            printf("pair %zu K %4zu: steps %g/%g  |dD| %.2e (bound %.2e)  |dWn| %.2e  |dPSI| %.2e "
                   "(PSI %.4f)  drifted %d/%d\n",
                   pi, caps[ci], 2 * hr, 2 * hc, dd, br + bc, dwn, dpsi, ex.psi, sk.drifted,
                   ex.drifted);
            /* the decision agrees unless the exact figure sits near the threshold */
            if (fabs(ex.wasserstein_normed - s.wasserstein_threshold) > 2 * (hr + hc) / ex.ref_std)
                ck_assert_int_eq(sk.drifted, ex.drifted);
            wf_drift_acc_free(ar);
            wf_drift_acc_free(ac);
        }
        free(r);
        free(c);
    }
    printf("K = 128, worst: |dD| %.2e |dWn| %.2e |dPSI| %.2e |dp| %.2e\n", worst_d, worst_wn,
           worst_psi, worst_p);
    /* measured on these pairs (K = 128); loose bounds so the test guards against regressions */
    ck_assert_double_lt(worst_psi, 0.02);
    ck_assert_double_lt(worst_wn, 0.02);
}
END_TEST

static Suite *drift_sketch_suite(void) {
    Suite *s = suite_create("drift_sketch");
    TCase *tc = tcase_create("sketch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_definition);
    tcase_add_test(tc, test_multiset_only);
    tcase_add_test(tc, test_error_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(drift_sketch_suite());
}
