/*
 * The statistics of the model comparison (issue 15) as plain functions over counts: Cohen's
 * kappa, the exact McNemar test, quantiles, and the paired percentile bootstrap over turbines.
 * Checked against scipy.stats.binomtest and sklearn's cohen_kappa_score (tests/data/compare/).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare_impl.h"
#include "whyflag/rng.h"

const double wf_cmp_q[WF_CMP_NQ] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

double wf_cmp_kappa(int64_t both, int64_t only_a, int64_t only_b, int64_t neither) {
    double n = (double)(both + only_a + only_b + neither);
    if (n <= 0)
        return NAN;
    double po = (double)(both + neither) / n;
    double pa = (double)(both + only_a) / n, pb = (double)(both + only_b) / n;
    double pe = pa * pb + (1 - pa) * (1 - pb);
    if (pe >= 1)
        return NAN;
    return (po - pe) / (1 - pe);
}

/* log of the Binomial(n, 1/2) probability of k */
static double log_pmf_half(int64_t n, int64_t k) {
    return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) -
           (double)n * log(2.0);
}

double wf_cmp_mcnemar_p(int64_t b, int64_t c) {
    int64_t n = b + c, k = b < c ? b : c;
    if (n <= 0)
        return 1.0;
    /* P(X <= k): summed from the largest term down, relative to it (no underflow) */
    double lmax = log_pmf_half(n, k), s = 0;
    for (int64_t i = k; i >= 0; i--) {
        double t = exp(log_pmf_half(n, i) - lmax);
        s += t;
        if (t < 1e-17 * s)
            break;
    }
    double p = 2.0 * exp(lmax + log(s));
    return p > 1 ? 1.0 : p;
}

double wf_cmp_quantile(const double *x, int64_t n, double q) {
    if (n <= 0)
        return NAN;
    double h = (double)(n - 1) * q;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void interval(double *v, int64_t n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = *hi = NAN;
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    *lo = wf_cmp_quantile(v, n, 0.025);
    *hi = wf_cmp_quantile(v, n, 0.975);
}

void wf_cmp_bootstrap(const wf_cmp_counts *x, const wf_cmp_counts *y, int64_t nt, int resamples,
                      uint64_t seed, double *x_lo, double *x_hi, double *y_lo, double *y_hi) {
    for (int k = 0; k < 2; k++)
        x_lo[k] = x_hi[k] = y_lo[k] = y_hi[k] = NAN;
    if (nt <= 0 || resamples <= 0)
        return;
    double *v = malloc(sizeof(double) * 4 * (size_t)resamples);
    if (!v)
        return;
    double *xp = v, *xr = v + resamples, *yp = v + 2 * resamples, *yr = v + 3 * resamples;
    int64_t nxp = 0, nxr = 0, nyp = 0, nyr = 0;
    wf_rng rng;
    wf_rng_init_stream(&rng, seed, 0x636f6d70617265ULL); /* "compare" */
    for (int b = 0; b < resamples; b++) {
        wf_cmp_counts sx = {0, 0, 0, 0}, sy = {0, 0, 0, 0};
        for (int64_t t = 0; t < nt; t++) {
            int64_t i = (int64_t)wf_rng_below(&rng, (uint64_t)nt);
            sx.tp += x[i].tp;
            sx.fp += x[i].fp;
            sx.fail += x[i].fail;
            sx.caught += x[i].caught;
            sy.tp += y[i].tp;
            sy.fp += y[i].fp;
            sy.fail += y[i].fail;
            sy.caught += y[i].caught;
        }
        if (sx.tp + sx.fp > 0)
            xp[nxp++] = (double)sx.tp / (double)(sx.tp + sx.fp);
        if (sx.fail > 0)
            xr[nxr++] = (double)sx.caught / (double)sx.fail;
        if (sy.tp + sy.fp > 0)
            yp[nyp++] = (double)sy.tp / (double)(sy.tp + sy.fp);
        if (sy.fail > 0)
            yr[nyr++] = (double)sy.caught / (double)sy.fail;
    }
    interval(xp, nxp, &x_lo[0], &x_hi[0]);
    interval(xr, nxr, &x_lo[1], &x_hi[1]);
    interval(yp, nyp, &y_lo[0], &y_hi[0]);
    interval(yr, nyr, &y_lo[1], &y_hi[1]);
    free(v);
}
