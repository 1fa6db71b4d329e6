/*
 * Drift (issue 16): KS statistic and asymptotic p-value, the kstwo / smirnov distributions,
 * normed Wasserstein, PSI, numpy.quantile, out-of-reference windows and UTC periods, all against
 * tests/data/drift/drift_refs.txt written by scipy 1.10.1 / numpy 1.24.2 / Python's datetime
 * (gen_drift_refs.py); and accumulators merged from shards split in different ways giving
 * bit-identical results.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "whyflag/drift.h"

/* ---- replaying a sample recipe (see gen_drift_refs.py) ------------------------------------ */

typedef struct sm64 {
    uint64_t s;
} sm64;

static uint64_t sm64_next(sm64 *g) {
    g->s += 0x9E3779B97F4A7C15ull;
    uint64_t z = g->s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double sm64_u(sm64 *g) {
    return (double)(sm64_next(g) >> 11) * 0x1p-53;
}

/* dist:n:seed:loc:scale:quant:nan_every -> malloc'd (n) doubles (float32-exact, NaN cells) */
static double *recipe(const char *spec, size_t *n_out) {
    char dist[16];
    unsigned long long n, seed;
    double loc, scale, quant;
    long nan_every;
    int got = sscanf(spec, "%15[a-z0-9]:%llu:%llu:%lf:%lf:%lf:%ld", dist, &n, &seed, &loc, &scale,
                     &quant, &nan_every);
    ck_assert_msg(got == 7, "bad recipe %s", spec);
    double *x = malloc(sizeof(double) * (n ? n : 1));
    ck_assert_ptr_nonnull(x);
    sm64 g = {seed};
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!strcmp(dist, "unif")) {
            v = loc + scale * sm64_u(&g);
        } else if (!strcmp(dist, "norm4")) {
            double u1 = sm64_u(&g);
            double u2 = sm64_u(&g);
            double u3 = sm64_u(&g);
            double u4 = sm64_u(&g);
            v = loc + scale * ((((u1 + u2) + u3) + u4) - 2.0);
        } else if (!strcmp(dist, "cube")) {
            double u = sm64_u(&g);
            v = loc + scale * ((u * u) * u);
        } else {
            ck_abort_msg("unknown dist %s", dist);
            v = 0;
        }
        if (quant > 0) {
            v = floor(v / quant + 0.5) * quant;
        }
        v = (double)(float)v;
        if (nan_every > 0 && (long)(i % (size_t)nan_every) == nan_every - 1) {
            v = NAN;
        }
        x[i] = v;
    }
    *n_out = n;
    return x;
}

static float *to_float(const double *x, size_t n) {
    float *f = malloc(sizeof(float) * (n ? n : 1));
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)x[i];
    }
    return f;
}

/* ---- reading the reference file ------------------------------------------------------------ */

typedef struct refs {
    char *text;
    char **lines;
    size_t n;
} refs;

static refs load_refs(void) {
    refs r = {0};
    size_t len;
    r.text = tu_read(tu_data("drift/drift_refs.txt"), &len);
    size_t cap = 1024;
    r.lines = malloc(sizeof(char *) * cap);
    for (char *p = strtok(r.text, "\n"); p; p = strtok(NULL, "\n")) {
        if (r.n == cap) {
            cap *= 2;
            r.lines = realloc(r.lines, sizeof(char *) * cap);
        }
        r.lines[r.n++] = p;
    }
    ck_assert_uint_gt(r.n, 100);
    return r;
}

static void free_refs(refs *r) {
    free(r->text);
    free(r->lines);
}

static int starts(const char *line, const char *word) {
    size_t k = strlen(word);
    return !strncmp(line, word, k) && line[k] == ' ';
}

/* split a line into whitespace-separated fields (modifies a copy) */
static int fields(const char *line, char *buf, size_t bufsz, char **f, int maxf) {
    snprintf(buf, bufsz, "%s", line);
    int k = 0;
    for (char *p = strtok(buf, " "); p && k < maxf; p = strtok(NULL, " ")) {
        f[k++] = p;
    }
    return k;
}

/* relative error with exact zeros and NaN handled: NaN must match NaN */
static double relerr(double got, double want) {
    if (isnan(want) || isnan(got)) {
        return (isnan(want) && isnan(got)) ? 0.0 : INFINITY;
    }
    if (got == want) {
        return 0.0;
    }
    return fabs(got - want) / fabs(want);
}

/* ---- tests ----------------------------------------------------------------------------------- */

START_TEST(test_replay_matches_python) {
    /* the recipes replay the generator's samples exactly (count, first value, sum in order) */
    refs r = load_refs();
    int checked = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!starts(r.lines[i], "check")) {
            continue;
        }
        char buf[512], *f[8];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 8), 5);
        size_t n;
        double *x = recipe(f[1], &n);
        size_t k = 0;
        double s = 0.0, first = NAN;
        for (size_t j = 0; j < n; j++) {
            if (!isnan(x[j])) {
                if (k == 0) {
                    first = x[j];
                }
                s += x[j];
                k++;
            }
        }
        ck_assert_uint_eq(k, strtoull(f[2], NULL, 10));
        ck_assert_msg(first == strtod(f[3], NULL), "%s first %.17g want %s", f[1], first, f[3]);
        ck_assert_msg(s == strtod(f[4], NULL), "%s sum %.17g want %s", f[1], s, f[4]);
        free(x);
        checked++;
    }
    ck_assert_int_gt(checked, 30);
    free_refs(&r);
}
END_TEST

START_TEST(test_kstwo_smirnov_grid) {
    refs r = load_refs();
    double max_rel = 0, max_rel_sm = 0;
    int nk = 0, ns = 0, bad = 0;
    for (size_t i = 0; i < r.n; i++) {
        int is_k = starts(r.lines[i], "kstwo"), is_s = starts(r.lines[i], "smirnov");
        if (!is_k && !is_s) {
            continue;
        }
        char buf[256], *f[6];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 6), 4);
        int n = atoi(f[1]);
        double d = strtod(f[2], NULL), want = strtod(f[3], NULL);
        double got = is_k ? wf_drift_kstwo_sf(n, d) : wf_drift_smirnov_sf(n, d);
        double e = relerr(got, want);
        if (e > 1e-9 && bad < 8) {
            fprintf(stderr, "%s n=%d d=%.17g: got %.17g want %.17g (rel %.3g)\n", f[0], n, d, got,
                    want, e);
        }
        bad += e > 1e-9;
        if (is_k) {
            max_rel = e > max_rel ? e : max_rel;
            nk++;
        } else {
            max_rel_sm = e > max_rel_sm ? e : max_rel_sm;
            ns++;
        }
    }
    fprintf(stderr, "kstwo.sf: %d points, max rel err %.3g; smirnov: %d points, max rel %.3g\n", nk,
            max_rel, ns, max_rel_sm);
    ck_assert_int_gt(nk, 300);
    ck_assert_int_eq(bad, 0);
    free_refs(&r);
}
END_TEST

START_TEST(test_ks_auto_grid) {
    refs r = load_refs();
    double max_rel = 0;
    int n = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!starts(r.lines[i], "ksauto")) {
            continue;
        }
        char buf[256], *f[6];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 6), 5);
        size_t n1 = strtoull(f[1], NULL, 10), n2 = strtoull(f[2], NULL, 10);
        double d = strtod(f[3], NULL), want = strtod(f[4], NULL);
        wf_status st;
        double got = wf_drift_ks_pvalue_auto(d, n1, n2, &st);
        ck_assert_int_eq(st, WF_OK);
        double e = relerr(got, want);
        ck_assert_msg(e <= 1e-9, "ks auto n1=%zu n2=%zu d=%.17g: got %.17g want %.17g", n1, n2, d,
                      got, want);
        max_rel = e > max_rel ? e : max_rel;
        n++;
    }
    fprintf(stderr, "ks_2samp auto p-value: %d points, max rel err %.3g\n", n, max_rel);
    ck_assert_int_gt(n, 1000);
    free_refs(&r);
}
END_TEST

static int cmp_d(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

START_TEST(test_quantile_numpy) {
    refs r = load_refs();
    int nq = 0;
    double max_rel = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!starts(r.lines[i], "quantile")) {
            continue;
        }
        char buf[256], *f[6];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 6), 4);
        size_t n;
        double *x = recipe(f[1], &n);
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (!isnan(x[j])) {
                x[k++] = x[j];
            }
        }
        wf_error err;
        wf_drift_acc *a;
        ck_assert_int_eq(wf_drift_acc_new(&a, 1, 0, &err), WF_OK);
        ck_assert_int_eq(wf_drift_acc_add_d(a, 0, x, k, &err), WF_OK);
        ck_assert_int_eq(wf_drift_acc_finish(a, &err), WF_OK);
        wf_drift_sample sm = wf_drift_acc_sample(a, 0);
        double got = wf_drift_sample_quantile(&sm, strtod(f[2], NULL));
        qsort(x, k, sizeof(double), cmp_d);
        double got_plain = wf_drift_quantile(x, k, strtod(f[2], NULL));
        ck_assert(memcmp(&got, &got_plain, sizeof got) == 0);
        double e = relerr(got, strtod(f[3], NULL));
        ck_assert_msg(e <= 1e-15, "quantile %s q=%s: got %.17g want %s", f[1], f[2], got, f[3]);
        max_rel = e > max_rel ? e : max_rel;
        wf_drift_acc_free(a);
        free(x);
        nq++;
    }
    fprintf(stderr, "numpy.quantile: %d values, max rel err %.3g\n", nq, max_rel);
    ck_assert_int_gt(nq, 40);
    free_refs(&r);
}
END_TEST

typedef struct errmax {
    double d, p, w, sd, wn, psi, pa;
} errmax;

static void check_channel(const char *name, const wf_drift_channel *c, char **f, errmax *em) {
    size_t n_ref = strtoull(f[4], NULL, 10), n_cur = strtoull(f[5], NULL, 10);
    double d = strtod(f[6], NULL), p = strtod(f[7], NULL), w = strtod(f[8], NULL);
    double sd = strtod(f[9], NULL), wn = strtod(f[10], NULL), psi = strtod(f[11], NULL);
    int drifted = atoi(f[12]), method = atoi(f[13]);
    ck_assert_uint_eq(c->n_ref, n_ref);
    ck_assert_uint_eq(c->n_cur, n_cur);
    ck_assert_int_eq(c->evaluated, 1);
    double ed = fabs(c->ks_statistic - d);
    double ep = relerr(c->ks_pvalue, p), ew = relerr(c->wasserstein, w);
    double esd = relerr(c->ref_std, sd), ewn = relerr(c->wasserstein_normed, wn);
    double epsi = relerr(c->psi, psi);
    ck_assert_msg(ed <= 1e-12, "%s: KS D %.17g want %.17g", name, c->ks_statistic, d);
    ck_assert_msg(ep <= 1e-9, "%s: KS p %.17g want %.17g (rel %.3g)", name, c->ks_pvalue, p, ep);
    ck_assert_msg(ew <= 1e-9, "%s: W %.17g want %.17g", name, c->wasserstein, w);
    ck_assert_msg(esd <= 1e-9, "%s: std %.17g want %.17g", name, c->ref_std, sd);
    ck_assert_msg(ewn <= 1e-9, "%s: W normed %.17g want %.17g", name, c->wasserstein_normed, wn);
    ck_assert_msg(epsi <= 1e-9, "%s: PSI %.17g want %.17g (rel %.3g)", name, c->psi, psi, epsi);
    ck_assert_msg(c->drifted == drifted, "%s: drifted %d want %d", name, c->drifted, drifted);
    ck_assert_msg((int)c->method == method, "%s: method %d want %d", name, c->method, method);
    em->d = ed > em->d ? ed : em->d;
    em->p = ep > em->p ? ep : em->p;
    em->w = ew > em->w ? ew : em->w;
    em->sd = esd > em->sd ? esd : em->sd;
    em->wn = ewn > em->wn ? ewn : em->wn;
    em->psi = epsi > em->psi ? epsi : em->psi;
}

/* the auto (exact for <= 10,000 values) p-value and the rule that uses it */
static void check_auto(const char *name, const wf_drift_channel *c, char **f, errmax *em) {
    double pa = strtod(f[14], NULL);
    double e = relerr(c->ks_pvalue_auto, pa);
    ck_assert_msg(e <= 1e-9, "%s: KS p auto %.17g want %.17g (rel %.3g)", name, c->ks_pvalue_auto,
                  pa, e);
    ck_assert_msg(c->drifted == atoi(f[15]), "%s: drifted (auto rule) %d want %s", name, c->drifted,
                  f[15]);
    em->pa = e > em->pa ? e : em->pa;
}

START_TEST(test_cases_scipy) {
    /* every case two ways: raw floats with NaN cells (wf_drift_compare_f), and through
     * accumulators fed window by window (wf_drift_acc_compare) */
    refs r = load_refs();
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    errmax em = {0};
    int ncases = 0;
    clock_t t0 = clock();
    for (size_t i = 0; i < r.n; i++) {
        if (!starts(r.lines[i], "case")) {
            continue;
        }
        char buf[1024], *f[16];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 16), 16);
        size_t nr, nc;
        double *ref = recipe(f[2], &nr), *cur = recipe(f[3], &nc);
        float *rf = to_float(ref, nr), *cf = to_float(cur, nc);
        wf_error err;
        wf_drift_channel ch;
        wf_status st = wf_drift_compare_f(rf, nr, cf, nc, &s, &ch, &err);
        ck_assert_msg(st == WF_OK, "%s: %s", f[1], err.msg);
        check_channel(f[1], &ch, f, &em);
        wf_drift_settings sa = s;
        sa.ks_auto = 1;
        wf_drift_channel cha;
        st = wf_drift_compare_f(rf, nr, cf, nc, &sa, &cha, &err);
        ck_assert_msg(st == WF_OK, "%s: %s", f[1], err.msg);
        check_auto(f[1], &cha, f, &em);

        wf_drift_acc *ar, *ac;
        ck_assert_int_eq(wf_drift_acc_new(&ar, 1, 0, &err), WF_OK);
        ck_assert_int_eq(wf_drift_acc_new(&ac, 1, 0, &err), WF_OK);
        for (size_t j = 0; j < nr; j += 7) {
            size_t k = nr - j < 7 ? nr - j : 7;
            ck_assert_int_eq(wf_drift_acc_add_window(ar, rf + j, (int)k, &err), WF_OK);
        }
        ck_assert_int_eq(wf_drift_acc_add_d(ac, 0, cur, nc, &err), WF_OK);
        ck_assert_int_eq(wf_drift_acc_finish(ar, &err), WF_OK);
        ck_assert_int_eq(wf_drift_acc_finish(ac, &err), WF_OK);
        wf_drift_channel ch2;
        ck_assert_int_eq(wf_drift_acc_compare(ar, ac, &s, &ch2, &err), WF_OK);
        check_channel(f[1], &ch2, f, &em);
        ck_assert(memcmp(&ch.ks_pvalue, &ch2.ks_pvalue, sizeof(double)) == 0 ||
                  (isnan(ch.ks_pvalue) && isnan(ch2.ks_pvalue)));
        ck_assert(memcmp(&ch.psi, &ch2.psi, sizeof(double)) == 0);
        wf_drift_acc_free(ar);
        wf_drift_acc_free(ac);
        free(ref);
        free(cur);
        free(rf);
        free(cf);
        ncases++;
    }
    fprintf(stderr,
            "%d cases vs scipy/numpy: max err KS D %.3g (abs), p %.3g, W %.3g, std %.3g, "
            "W normed %.3g, PSI %.3g, p auto %.3g (rel); %.2f s\n",
            ncases, em.d, em.p, em.w, em.sd, em.wn, em.psi, em.pa,
            (double)(clock() - t0) / CLOCKS_PER_SEC);
    ck_assert_int_ge(ncases, 25);
    free_refs(&r);
}
END_TEST

START_TEST(test_empty_and_invalid) {
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    wf_error err;
    wf_drift_channel ch;
    float nan3[3] = {NAN, NAN, NAN}, v[3] = {1, 2, 3};
    ck_assert_int_eq(wf_drift_compare_f(nan3, 3, v, 3, &s, &ch, &err), WF_OK);
    ck_assert_int_eq(ch.evaluated, 0);
    ck_assert_int_eq(ch.drifted, 0);
    ck_assert_int_eq(ch.method, WF_DRIFT_METHOD_NONE);
    ck_assert(isnan(ch.ks_pvalue) && isnan(ch.psi) && isnan(ch.wasserstein_normed));
    /* skipping the p-value of large samples: explicit, and refused below the KS rule's size */
    float big[3000];
    for (int i = 0; i < 3000; i++) {
        big[i] = (float)(i % 1000) / 7.0f;
    }
    s.ks_pvalue_max_n = 1000;
    ck_assert_int_eq(wf_drift_compare_f(big, 3000, big, 2500, &s, &ch, &err), WF_OK);
    ck_assert_int_eq(ch.ks_pvalue_skipped, 1);
    ck_assert(isnan(ch.ks_pvalue) && !isnan(ch.ks_statistic) && !isnan(ch.psi));
    ck_assert_int_eq(ch.method, WF_DRIFT_METHOD_WASSERSTEIN);
    ck_assert_int_eq(wf_drift_compare_f(big, 600, big, 500, &s, &ch, &err), WF_OK);
    ck_assert_int_eq(ch.ks_pvalue_skipped, 0);
    ck_assert(!isnan(ch.ks_pvalue));
    s.ks_pvalue_max_n = 999;
    ck_assert_int_eq(wf_drift_compare_f(big, 600, big, 500, &s, &ch, &err), WF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "ks_pvalue_max_n"));
    wf_drift_settings_init(&s);
    double unsorted[3] = {1, 3, 2}, sorted[2] = {0, 1};
    ck_assert_int_eq(wf_drift_compare_sorted(unsorted, 3, sorted, 2, &s, &ch, &err),
                     WF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "not sorted"));
}
END_TEST

START_TEST(test_budget_error) {
    wf_error err;
    wf_drift_acc *a;
    ck_assert_int_eq(wf_drift_acc_new(&a, 2, 800, &err), WF_OK); /* 100 values */
    double v[80];
    for (int i = 0; i < 80; i++) {
        v[i] = i;
    }
    ck_assert_int_eq(wf_drift_acc_add_d(a, 0, v, 80, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_d(a, 1, v, 20, &err), WF_OK);
    ck_assert_uint_eq(wf_drift_acc_bytes(a), 800);
    ck_assert_int_eq(wf_drift_acc_add_d(a, 1, v, 1, &err), WF_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "memory budget of 800 bytes"));
    ck_assert_ptr_nonnull(strstr(err.msg, "channel 1"));
    ck_assert_uint_eq(wf_drift_acc_bytes(a), 800); /* unchanged, nothing truncated */
    /* NaN cells cost nothing */
    double nanv[2] = {NAN, NAN};
    ck_assert_int_eq(wf_drift_acc_add_d(a, 1, nanv, 2, &err), WF_OK);
    /* merging over budget fails and leaves dst unchanged */
    wf_drift_acc *b;
    ck_assert_int_eq(wf_drift_acc_new(&b, 2, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_d(b, 0, v, 1, &err), WF_OK);
    /* an unfinished source or accumulator is refused */
    ck_assert_int_eq(wf_drift_acc_merge(a, b, &err), WF_ERR_INVALID);
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    wf_drift_channel out[2];
    ck_assert_int_eq(wf_drift_acc_compare(a, b, &s, out, &err), WF_ERR_INVALID);
    ck_assert_int_eq(wf_drift_acc_finish(b, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_merge(a, b, &err), WF_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "808 bytes"));
    ck_assert_uint_eq(wf_drift_acc_bytes(a), 800);
    /* bad counts */
    double dup[2] = {1, 1}, desc[2] = {2, 1};
    uint64_t ones[2] = {1, 1}, zero[2] = {1, 0};
    ck_assert_int_eq(wf_drift_acc_add_counts(b, 0, dup, ones, 2, &err), WF_ERR_INVALID);
    ck_assert_int_eq(wf_drift_acc_add_counts(b, 0, desc, NULL, 2, &err), WF_ERR_INVALID);
    ck_assert_int_eq(wf_drift_acc_add_counts(b, 0, desc + 1, zero + 1, 1, &err), WF_ERR_INVALID);
    ck_assert_int_eq(wf_drift_acc_add_counts(b, 0, dup, NULL, 2, &err), WF_OK);
    wf_drift_acc_free(a);
    wf_drift_acc_free(b);
}
END_TEST

/* split the values of 3 channels into `shards` accumulators by `how`, merge in `order`,
 * finish; returns the merged accumulator */
static wf_drift_acc *split_merge(const float *x, size_t n, int shards, int how, int reverse,
                                 uint64_t seed) {
    /* x: (3, n) */
    wf_error err;
    wf_drift_acc *sh[8];
    for (int k = 0; k < shards; k++) {
        ck_assert_int_eq(wf_drift_acc_new(&sh[k], 3, 0, &err), WF_OK);
    }
    sm64 g = {seed};
    for (size_t i = 0; i < n; i++) {
        int k;
        if (how == 0) {
            k = (int)(i * (size_t)shards / n); /* contiguous blocks */
        } else if (how == 1) {
            k = (int)(i % (size_t)shards); /* round robin */
        } else {
            k = (int)(sm64_next(&g) % (uint64_t)shards); /* random */
        }
        for (int c = 0; c < 3; c++) {
            ck_assert_int_eq(wf_drift_acc_add_f(sh[k], c, &x[(size_t)c * n + i], 1, &err), WF_OK);
        }
    }
    for (int k = 0; k < shards; k++) {
        /* shards finish on their own, as separate processes would */
        ck_assert_int_eq(wf_drift_acc_finish(sh[k], &err), WF_OK);
    }
    wf_drift_acc *m;
    ck_assert_int_eq(wf_drift_acc_new(&m, 3, 0, &err), WF_OK);
    for (int j = 0; j < shards; j++) {
        int k = reverse ? shards - 1 - j : j;
        ck_assert_int_eq(wf_drift_acc_merge(m, sh[k], &err), WF_OK);
        wf_drift_acc_free(sh[k]);
    }
    ck_assert_int_eq(wf_drift_acc_finish(m, &err), WF_OK);
    return m;
}

START_TEST(test_merge_bit_identical) {
    /* 3 channels of 6,000 values with ties, NaN cells and -0.0 / +0.0 zeros */
    size_t n = 6000, nn;
    double *d = recipe("norm4:18000:77:0:1:0.25:13", &nn);
    float *x = to_float(d, nn);
    for (size_t i = 0; i < nn; i += 97) {
        x[i] = (i / 97) % 2 ? -0.0f : 0.0f;
    }
    size_t nc;
    double *cd = recipe("norm4:18000:78:0.1:1:0.25:11", &nc);
    float *cx = to_float(cd, nc);
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    wf_error err;
    wf_drift_acc *cur = split_merge(cx, n, 1, 0, 0, 0);
    wf_drift_acc *base = split_merge(x, n, 1, 0, 0, 0);
    wf_drift_channel want[3];
    ck_assert_int_eq(wf_drift_acc_compare(base, cur, &s, want, &err), WF_OK);
    int ways = 0;
    for (int shards = 2; shards <= 7; shards += 5) {
        for (int how = 0; how < 3; how++) {
            for (int rev = 0; rev < 2; rev++) {
                wf_drift_acc *m = split_merge(x, n, shards, how, rev, 1000 + (uint64_t)shards);
                for (int c = 0; c < 3; c++) {
                    wf_drift_sample s1 = wf_drift_acc_sample(base, c);
                    wf_drift_sample s2 = wf_drift_acc_sample(m, c);
                    ck_assert_uint_eq(s1.n, s2.n);
                    ck_assert(s1.w != NULL && s2.w != NULL); /* quantized: counts form */
                    ck_assert_msg(memcmp(s1.v, s2.v, s1.n * sizeof(double)) == 0 &&
                                      memcmp(s1.w, s2.w, s1.n * sizeof(uint64_t)) == 0,
                                  "channel %d differs: %d shards, split %d, reverse %d", c, shards,
                                  how, rev);
                    ck_assert_uint_eq(wf_drift_acc_bytes(base), wf_drift_acc_bytes(m));
                }
                wf_drift_channel got[3];
                ck_assert_int_eq(wf_drift_acc_compare(m, cur, &s, got, &err), WF_OK);
                for (int c = 0; c < 3; c++) {
                    const double a[6] = {want[c].ks_statistic,       want[c].ks_pvalue,
                                         want[c].wasserstein,        want[c].ref_std,
                                         want[c].wasserstein_normed, want[c].psi};
                    const double b[6] = {got[c].ks_statistic,       got[c].ks_pvalue,
                                         got[c].wasserstein,        got[c].ref_std,
                                         got[c].wasserstein_normed, got[c].psi};
                    ck_assert(memcmp(a, b, sizeof a) == 0);
                    ck_assert_int_eq(want[c].drifted, got[c].drifted);
                }
                wf_drift_acc_free(m);
                ways++;
            }
        }
    }
    ck_assert_int_eq(ways, 12);
    wf_drift_acc_free(base);
    wf_drift_acc_free(cur);
    free(d);
    free(x);
    free(cd);
    free(cx);
}
END_TEST

START_TEST(test_fold_within_budget) {
    /* 300,000 values at a 0.01 resolution (like SCADA logs) fit a 64 KB budget that their raw
     * form (2.4 MB) would exceed; the statistics equal the plain-array ones bit for bit. Then
     * continuous data, split in two shards, merges bit-identically in the raw form. */
    size_t n;
    double *x = recipe("norm4:300000:90:20:1:0.01:0", &n);
    size_t nc;
    double *y = recipe("norm4:200000:91:20.02:1:0.01:0", &nc);
    wf_error err;
    wf_drift_acc *a, *b;
    ck_assert_int_eq(wf_drift_acc_new(&a, 1, 65536, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_new(&b, 1, 0, &err), WF_OK);
    for (size_t i = 0; i < n; i += 1000) {
        ck_assert_msg(wf_drift_acc_add_d(a, 0, x + i, 1000, &err) == WF_OK, "%s", err.msg);
        ck_assert_uint_le(wf_drift_acc_bytes(a), 65536);
    }
    ck_assert_int_eq(wf_drift_acc_add_d(b, 0, y, nc, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(a, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(b, &err), WF_OK);
    wf_drift_sample sa = wf_drift_acc_sample(a, 0);
    ck_assert_ptr_nonnull(sa.w);
    ck_assert_uint_eq(wf_drift_sample_total(&sa), n);
    fprintf(stderr, "300,000 values at 0.01 resolution: %zu distinct, %zu bytes\n", sa.n,
            wf_drift_acc_bytes(a));
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    s.ks_auto = 1;
    wf_drift_channel got, want;
    ck_assert_int_eq(wf_drift_acc_compare(a, b, &s, &got, &err), WF_OK);
    qsort(x, n, sizeof(double), cmp_d);
    qsort(y, nc, sizeof(double), cmp_d);
    ck_assert_int_eq(wf_drift_compare_sorted(x, n, y, nc, &s, &want, &err), WF_OK);
    ck_assert(memcmp(&got.ks_statistic, &want.ks_statistic, sizeof(double)) == 0);
    ck_assert(memcmp(&got.ks_pvalue, &want.ks_pvalue, sizeof(double)) == 0);
    ck_assert(memcmp(&got.wasserstein, &want.wasserstein, sizeof(double)) == 0);
    ck_assert(memcmp(&got.psi, &want.psi, sizeof(double)) == 0);
    ck_assert(relerr(got.ref_std, want.ref_std) <= 1e-15);
    ck_assert_int_eq(got.drifted, want.drifted);
    wf_drift_acc_free(a);
    wf_drift_acc_free(b);
    free(x);
    free(y);

    /* continuous values: raw form, and a two-shard merge equals the single accumulator */
    double *z = recipe("norm4:50000:92:0:1:0:0", &n);
    wf_drift_acc *one, *s1, *s2;
    ck_assert_int_eq(wf_drift_acc_new(&one, 1, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_new(&s1, 1, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_new(&s2, 1, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_d(one, 0, z, n, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_d(s1, 0, z + 30000, n - 30000, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_d(s2, 0, z, 30000, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(one, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(s2, &err), WF_OK); /* s1 keeps its values pending */
    ck_assert_int_eq(wf_drift_acc_merge(s1, s2, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(s1, &err), WF_OK);
    wf_drift_sample o = wf_drift_acc_sample(one, 0), m = wf_drift_acc_sample(s1, 0);
    ck_assert_ptr_null(o.w);
    ck_assert_ptr_null(m.w);
    ck_assert_uint_eq(o.n, n);
    ck_assert_uint_eq(m.n, n);
    ck_assert(memcmp(o.v, m.v, n * sizeof(double)) == 0);
    /* written out as (values, counts) and read back: the same sample */
    wf_drift_acc *back;
    ck_assert_int_eq(wf_drift_acc_new(&back, 1, 0, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_add_counts(back, 0, o.v, o.w, o.n, &err), WF_OK);
    ck_assert_int_eq(wf_drift_acc_finish(back, &err), WF_OK);
    wf_drift_sample bk = wf_drift_acc_sample(back, 0);
    ck_assert_uint_eq(bk.n, n);
    ck_assert(memcmp(o.v, bk.v, n * sizeof(double)) == 0);
    wf_drift_acc_free(back);
    wf_drift_acc_free(one);
    wf_drift_acc_free(s1);
    wf_drift_acc_free(s2);
    free(z);
}
END_TEST

START_TEST(test_out_of_reference) {
    refs r = load_refs();
    int C = 0, T = 0, R = 0;
    double shift[3], scale[3];
    wf_drift_profile *prof = NULL;
    wf_drift_settings s;
    wf_drift_settings_init(&s);
    wf_error err;
    int nwin = 0;
    double max_rel = 0;
    for (size_t i = 0; i < r.n; i++) {
        char buf[2048], *f[32];
        if (starts(r.lines[i], "oor_ref")) {
            ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 32), 11);
            C = atoi(f[1]);
            T = atoi(f[2]);
            R = atoi(f[3]);
            ck_assert_int_eq(C, 3);
            for (int c = 0; c < 3; c++) {
                shift[c] = strtod(f[5 + c], NULL);
                scale[c] = strtod(f[8 + c], NULL);
            }
            size_t n;
            double *cells = recipe(f[4], &n); /* (R, C, T) */
            ck_assert_uint_eq(n, (size_t)R * C * T);
            wf_drift_acc *means, *values;
            ck_assert_int_eq(wf_drift_acc_new(&means, C, 0, &err), WF_OK);
            ck_assert_int_eq(wf_drift_acc_new(&values, C, 0, &err), WF_OK);
            float *w = malloc(sizeof(float) * (size_t)C * T);
            for (int k = 0; k < R; k++) {
                for (int c = 0; c < C; c++) {
                    for (int t = 0; t < T; t++) {
                        double v = cells[((size_t)k * C + c) * T + t];
                        w[c * T + t] = (float)(shift[c] + scale[c] * v);
                    }
                }
                double m[3];
                wf_drift_window_means(m, w, C, T);
                for (int c = 0; c < C; c++) {
                    ck_assert_int_eq(wf_drift_acc_add_d(means, c, &m[c], 1, &err), WF_OK);
                }
                ck_assert_int_eq(wf_drift_acc_add_window(values, w, T, &err), WF_OK);
            }
            ck_assert_int_eq(wf_drift_acc_finish(means, &err), WF_OK);
            ck_assert_int_eq(wf_drift_acc_finish(values, &err), WF_OK);
            ck_assert_int_eq(wf_drift_profile_new(&prof, means, values, &s, &err), WF_OK);
            for (int c = 0; c < C; c++) {
                double mlo, mhi, vlo, vhi;
                wf_drift_profile_bounds(prof, c, &mlo, &mhi, &vlo, &vhi);
                ck_assert(mlo < mhi && vlo < mhi && vlo < vhi && vlo < mlo && vhi > mhi);
            }
            wf_drift_acc_free(means);
            wf_drift_acc_free(values);
            free(w);
            free(cells);
        } else if (starts(r.lines[i], "oor_win")) {
            ck_assert_ptr_nonnull(prof);
            ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 32), 2 + 4 * C + 1);
            size_t n;
            double *cells = recipe(f[1], &n);
            ck_assert_uint_eq(n, (size_t)C * T);
            float w[3 * 64];
            for (int c = 0; c < C; c++) {
                for (int t = 0; t < T; t++) {
                    double v = cells[c * T + t];
                    w[c * T + t] = isnan(v) ? NAN : (float)(shift[c] + scale[c] * v);
                }
            }
            double pct[3], share[3], m[3];
            int cout[3];
            wf_drift_window out = {pct, share, cout, 0};
            ck_assert_int_eq(wf_drift_window_judge(prof, w, C, T, &out, &err), WF_OK);
            wf_drift_window_means(m, w, C, T);
            for (int c = 0; c < C; c++) {
                double em = relerr(m[c], strtod(f[2 + 4 * c], NULL));
                double ep = relerr(pct[c], strtod(f[3 + 4 * c], NULL));
                double es = fabs(share[c] - strtod(f[4 + 4 * c], NULL));
                ck_assert_msg(em <= 1e-12 && ep <= 1e-12 && es <= 1e-12,
                              "%s channel %d: mean %.17g pct %.17g share %.17g vs %s %s %s", f[1],
                              c, m[c], pct[c], share[c], f[2 + 4 * c], f[3 + 4 * c], f[4 + 4 * c]);
                ck_assert_int_eq(cout[c], atoi(f[5 + 4 * c]));
                max_rel = fmax(max_rel, fmax(em, fmax(ep, es)));
            }
            ck_assert_int_eq(out.outside, atoi(f[2 + 4 * C]));
            free(cells);
            nwin++;
        }
    }
    fprintf(stderr, "out-of-reference: %d windows, max err %.3g\n", nwin, max_rel);
    ck_assert_int_ge(nwin, 6);
    wf_drift_profile_free(prof);
    free_refs(&r);
}
END_TEST

START_TEST(test_periods) {
    refs r = load_refs();
    int np = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!starts(r.lines[i], "period")) {
            continue;
        }
        char buf[256], *f[10];
        ck_assert_int_eq(fields(r.lines[i], buf, sizeof buf, f, 10), 8);
        int64_t t = strtoll(f[1], NULL, 10);
        ck_assert_int_eq(wf_drift_period_start(t, WF_DRIFT_PERIOD_DAY), strtoll(f[2], NULL, 10));
        ck_assert_int_eq(wf_drift_period_start(t, WF_DRIFT_PERIOD_WEEK), strtoll(f[3], NULL, 10));
        ck_assert_int_eq(wf_drift_period_start(t, WF_DRIFT_PERIOD_MONTH), strtoll(f[4], NULL, 10));
        char lab[16];
        ck_assert_str_eq(wf_drift_period_label(t, WF_DRIFT_PERIOD_DAY, lab, sizeof lab), f[5]);
        ck_assert_str_eq(wf_drift_period_label(t, WF_DRIFT_PERIOD_WEEK, lab, sizeof lab), f[6]);
        ck_assert_str_eq(wf_drift_period_label(t, WF_DRIFT_PERIOD_MONTH, lab, sizeof lab), f[7]);
        /* next period starts where the following one does */
        for (int k = 0; k < 3; k++) {
            int64_t st = wf_drift_period_start(t, (wf_drift_period)k);
            int64_t nx = wf_drift_period_next(st, (wf_drift_period)k);
            ck_assert_int_gt(nx, t);
            ck_assert_int_eq(wf_drift_period_start(nx - 1, (wf_drift_period)k), st);
            ck_assert_int_eq(wf_drift_period_start(nx, (wf_drift_period)k), nx);
        }
        np++;
    }
    ck_assert_int_ge(np, 10);
    free_refs(&r);
}
END_TEST

static Suite *drift_suite(void) {
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("drift");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_replay_matches_python);
    tcase_add_test(tc, test_kstwo_smirnov_grid);
    tcase_add_test(tc, test_ks_auto_grid);
    tcase_add_test(tc, test_quantile_numpy);
    tcase_add_test(tc, test_cases_scipy);
    tcase_add_test(tc, test_empty_and_invalid);
    tcase_add_test(tc, test_budget_error);
    tcase_add_test(tc, test_merge_bit_identical);
    tcase_add_test(tc, test_fold_within_budget);
    tcase_add_test(tc, test_out_of_reference);
    tcase_add_test(tc, test_periods);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(drift_suite());
}
