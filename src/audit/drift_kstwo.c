/*
 * The two-sided one-sample Kolmogorov-Smirnov distribution, survival function only: a port of
 * what scipy.stats.kstwo.sf(d, n) computes in scipy 1.10.1, which is what
 * scipy.stats.ks_2samp(..., method="asymp") evaluates at n = round(m*n/(m+n)).
 *
 * Credits and licences (all BSD-style, compatible with ours):
 *  - scipy/stats/_ksstats.py (SciPy 1.10.1, Copyright 2003-2022 SciPy Developers, BSD-3-Clause):
 *    the Simard & L'Ecuyer (2011) selection among Ruben-Gambino, Durbin/Marsaglia-Tsang-Wang
 *    matrix, Pomeranz recursion, Pelz-Good and 2*smirnov; written by Paul van Mulbregt.
 *  - scipy/special/cephes/kolmogorov.c (SciPy 1.10.1, BSD-3-Clause): smirnov(n, d), the one-sided
 *    distribution by the Birnbaum-Tingey / Smirnov sum in double-double arithmetic.
 *  - scipy/special/cephes/dd_idefs.h, dd_real_idefs.h: double-double arithmetic from the QD
 *    library, Copyright (c) 2003-2009 The Regents of the University of California, through
 *    Lawrence Berkeley National Laboratory, modified BSD licence (BSD-LBNL).
 * The port keeps each algorithm, its constants and its order of operations; only the parts the
 * survival function needs are kept (no pdf, no inverse). numpy's matmul/convolve are plain loops
 * here, so results may differ from scipy's in the last bits (the tests allow 1e-9 relative).
 *
 * Non-goals: other alternatives ("less"/"greater"), the exact two-sample distribution.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/drift.h"

/* M_PI and M_LN2 are not C11 */
#define KS_PI 3.14159265358979323846264338327950288
#define KS_LN2 0.693147180559945309417232121458176568

/* ---------------------------------------------------------------------------------------- */
/* double-double arithmetic (QD / cephes dd_real_idefs.h); volatile as in the original, so the
 * compiler cannot fuse or reassociate the error-free transformations. */

typedef struct dd {
    double hi, lo;
} dd;

#define DD_SPLITTER 134217729.0               /* 2^27 + 1 */
#define DD_SPLIT_THRESH 6.69692879491417e+299 /* 2^996 */

static dd dd_make(double hi, double lo) {
    dd r = {hi, lo};
    return r;
}

static double quick_two_sum(double a, double b, double *err) {
    volatile double s = a + b;
    volatile double c = s - a;
    *err = b - c;
    return s;
}

static double two_sum(double a, double b, double *err) {
    volatile double s = a + b;
    volatile double c = s - a;
    volatile double d = b - c;
    volatile double e = s - c;
    *err = (a - e) + d;
    return s;
}

static void two_split(double a, double *hi, double *lo) {
    volatile double temp, tempma;
    if (a > DD_SPLIT_THRESH || a < -DD_SPLIT_THRESH) {
        a *= 3.7252902984619140625e-09; /* 2^-28 */
        temp = DD_SPLITTER * a;
        tempma = temp - a;
        *hi = temp - tempma;
        *lo = a - *hi;
        *hi *= 268435456.0; /* 2^28 */
        *lo *= 268435456.0;
    } else {
        temp = DD_SPLITTER * a;
        tempma = temp - a;
        *hi = temp - tempma;
        *lo = a - *hi;
    }
}

static double two_prod(double a, double b, double *err) {
    double a_hi, a_lo, b_hi, b_lo;
    double p = a * b;
    volatile double c, d;
    two_split(a, &a_hi, &a_lo);
    two_split(b, &b_hi, &b_lo);
    c = a_hi * b_hi - p;
    d = c + a_hi * b_lo + a_lo * b_hi;
    *err = d + a_lo * b_lo;
    return p;
}

static int dd_is_zero(dd a) {
    return a.hi == 0.0;
}

static dd dd_neg(dd a) {
    return dd_make(-a.hi, -a.lo);
}

static dd dd_floor(dd a) {
    double hi = floor(a.hi);
    double lo = 0.0;
    if (hi == a.hi) {
        lo = floor(a.lo);
        hi = quick_two_sum(hi, lo, &lo);
    }
    return dd_make(hi, lo);
}

static dd dd_ldexp(dd a, int e) {
    return dd_make(ldexp(a.hi, e), ldexp(a.lo, e));
}

static dd dd_frexp(dd a, int *expt) {
    int exponent;
    double man = frexp(a.hi, &exponent);
    double b1 = ldexp(a.lo, -exponent);
    if (fabs(man) == 0.5 && man * b1 < 0) {
        man *= 2;
        b1 *= 2;
        exponent -= 1;
    }
    *expt = exponent;
    return dd_make(man, b1);
}

static dd dd_add_d_d(double a, double b) {
    double s, e;
    s = two_sum(a, b, &e);
    return dd_make(s, e);
}

static dd dd_add_dd_d(dd a, double b) {
    double s1, s2;
    s1 = two_sum(a.hi, b, &s2);
    s2 += a.lo;
    s1 = quick_two_sum(s1, s2, &s2);
    return dd_make(s1, s2);
}

static dd dd_add(dd a, dd b) { /* dd_ieee_add */
    double s1, s2, t1, t2;
    s1 = two_sum(a.hi, b.hi, &s2);
    t1 = two_sum(a.lo, b.lo, &t2);
    s2 += t1;
    s1 = quick_two_sum(s1, s2, &s2);
    s2 += t2;
    s1 = quick_two_sum(s1, s2, &s2);
    return dd_make(s1, s2);
}

static dd dd_sub(dd a, dd b) {
    return dd_add(a, dd_neg(b));
}

static dd dd_sub_dd_d(dd a, double b) {
    double s1, s2;
    s1 = two_sum(a.hi, -b, &s2);
    s2 += a.lo;
    s1 = quick_two_sum(s1, s2, &s2);
    return dd_make(s1, s2);
}

static dd dd_mul_d_d(double a, double b) {
    double p, e;
    p = two_prod(a, b, &e);
    return dd_make(p, e);
}

static dd dd_mul(dd a, dd b) {
    double p1, p2;
    p1 = two_prod(a.hi, b.hi, &p2);
    p2 += (a.hi * b.lo + a.lo * b.hi);
    p1 = quick_two_sum(p1, p2, &p2);
    return dd_make(p1, p2);
}

static dd dd_mul_dd_d(dd a, double b) {
    double p1, p2, e1, e2;
    p1 = two_prod(a.hi, b, &e1);
    p2 = two_prod(a.lo, b, &e2);
    p1 = quick_two_sum(p1, e2 + p2 + e1, &e1);
    return dd_make(p1, e1);
}

static dd dd_mul_d_dd(double a, dd b) {
    double p1, p2, e1, e2;
    p1 = two_prod(a, b.hi, &e1);
    p2 = two_prod(a, b.lo, &e2);
    p1 = quick_two_sum(p1, e2 + p2 + e1, &e1);
    return dd_make(p1, e1);
}

static dd dd_div(dd a, dd b) { /* dd_accurate_div */
    double q1, q2, q3;
    dd r;
    q1 = a.hi / b.hi;
    r = dd_sub(a, dd_mul_dd_d(b, q1));
    q2 = r.hi / b.hi;
    r = dd_sub(r, dd_mul_dd_d(b, q2));
    q3 = r.hi / b.hi;
    q1 = quick_two_sum(q1, q2, &q2);
    return dd_add_dd_d(dd_make(q1, q2), q3);
}

static dd dd_div_d_d(double a, double b) {
    return dd_div(dd_make(a, 0.0), dd_make(b, 0.0));
}

static dd dd_div_dd_d(dd a, double b) {
    return dd_div(a, dd_make(b, 0.0));
}

static dd dd_inv(dd a) {
    return dd_div(dd_make(1.0, 0.0), a);
}

/* ---------------------------------------------------------------------------------------- */
/* smirnov(n, d): cephes kolmogorov.c, survival function part of _smirnov */

#define SMIRNOV_MAX_COMPUTE_N 1000000
#define SM_UPPER_MAX_TERMS 3
#define SM_UPPERSUM_MIN_N 10
#define KS_MAX_EXPONENT 960
/* cephes MINLOG with DENORMAL defined: log(2**-1075) */
#define KS_MINLOG (-7.451332191019412076235E2)

static double next_power_of_2(double x) {
    double q = ldexp(x, 1 - DBL_MANT_DIG);
    double L = fabs(q + x);
    if (L == 0) {
        L = fabs(x);
    } else {
        int Lint = (int)(L);
        if (Lint == L) {
            L = Lint;
        }
    }
    return L;
}

/* floor(n*x) and the remainder, exactly. */
static double mod_nx(int n, double x, int *nxfloor_out, double *nx_out) {
    dd nxD = dd_mul_d_d(n, x);
    dd nxfloorD = dd_floor(nxD);
    dd alphaD = dd_sub(nxD, nxfloorD);
    double alpha = alphaD.hi;
    int nxfloor = (int)nxfloorD.hi;
    if (alpha == 1) {
        nxfloor += 1;
        alpha = 0;
    }
    *nx_out = nxD.hi;
    *nxfloor_out = nxfloor;
    return alpha;
}

/* The binomial coefficient as (mantissa in [0.5,1), exponent): C(n, j+1) from C(n, j). */
static void update_binomial(dd *Cman, int *Cexpt, int n, int j) {
    int expt;
    dd rat = dd_div_d_d(n - j, j + 1.0);
    dd man2 = dd_mul(*Cman, rat);
    man2 = dd_frexp(man2, &expt);
    *Cexpt += expt;
    *Cman = man2;
}

static dd pow_D(dd a, int m) {
    double ans, r, adj;
    if (m <= 0) {
        if (m == 0) {
            return dd_make(1.0, 0.0);
        }
        return dd_inv(pow_D(a, -m));
    }
    if (dd_is_zero(a)) {
        return dd_make(0.0, 0.0);
    }
    ans = pow(a.hi, m);
    r = a.lo / a.hi;
    adj = m * r;
    if (fabs(adj) > 1e-8) {
        if (fabs(adj) < 1e-4) {
            /* first two terms of the Taylor series of (1+r)^m */
            adj += (m * r) * ((m - 1) / 2.0 * r);
        } else {
            adj = expm1(m * log1p(r));
        }
    }
    return dd_add_d_d(ans, ans * adj);
}

static double pow2(double a, double b, int m) {
    return pow_D(dd_add_d_d(a, b), m).hi;
}

/* a^m = significand * 2^expt, returned as (significand, *expt). */
static dd pow2_scaled_D(dd a, int m, int *pExponent) {
    dd ans, y;
    int ansE, yE;
    int maxExpt = KS_MAX_EXPONENT;
    int q, r, y2mE, y2rE, y2mqE;
    dd y2r, y2m, y2mq;

    if (m <= 0) {
        int aE1, aE2;
        if (m == 0) {
            *pExponent = 0;
            return dd_make(1.0, 0.0);
        }
        ans = pow2_scaled_D(a, -m, &aE1);
        ans = dd_frexp(dd_inv(ans), &aE2);
        *pExponent = -aE1 + aE2;
        return ans;
    }
    y = dd_frexp(a, &yE);
    if (m == 1) {
        *pExponent = yE;
        return y;
    }
    if (m * (y.hi - 1) / y.hi < -KS_MAX_EXPONENT * KS_LN2) {
        double lg2y = log(y.hi) / KS_LN2;
        double lgAns = m * lg2y;
        if (lgAns <= -KS_MAX_EXPONENT) {
            maxExpt = (int)(next_power_of_2(-KS_MAX_EXPONENT / lg2y + 1) / 2);
        }
    }
    if (m <= maxExpt) {
        dd ans1 = pow_D(y, m);
        ans = dd_frexp(ans1, &ansE);
        ansE += m * yE;
        *pExponent = ansE;
        return ans;
    }
    q = m / maxExpt;
    r = m % maxExpt;
    y2r = pow2_scaled_D(y, r, &y2rE);
    y2m = pow2_scaled_D(y, maxExpt, &y2mE);
    y2mq = pow2_scaled_D(y2m, q, &y2mqE);
    ans = dd_frexp(dd_mul(y2r, y2mq), &ansE);
    y2mqE += y2mE * q;
    ansE += y2mqE + y2rE;
    ansE += m * yE;
    *pExponent = ansE;
    return ans;
}

/* ((a+b)/(c+d))^m */
static dd pow4_D(double a, double b, double c, double d, int m) {
    dd A, C, X;
    if (m <= 0) {
        if (m == 0) {
            return dd_make(1.0, 0.0);
        }
        return pow4_D(c, d, a, b, -m);
    }
    A = dd_add_d_d(a, b);
    C = dd_add_d_d(c, d);
    if (dd_is_zero(A)) {
        return dd_is_zero(C) ? dd_make(NAN, NAN) : dd_make(0.0, 0.0);
    }
    if (dd_is_zero(C)) {
        return A.hi < 0 ? dd_make(-INFINITY, -INFINITY) : dd_make(INFINITY, INFINITY);
    }
    X = dd_div(A, C);
    return pow_D(X, m);
}

/* A_v(n, x) = Binomial(n,v) * (1-x-v/n)^(n-v) * (x+v/n)^(v-1) */
static dd compute_Av(int n, double x, int v, dd Cman, int Cexpt) {
    int t1E, t2E, ansE;
    dd t2x = dd_sub_dd_d(dd_div_d_d(n - v, n), x); /* 1 - x - v/n */
    dd t2 = pow2_scaled_D(t2x, n - v, &t2E);
    dd t1x = dd_add_dd_d(dd_div_d_d(v, n), x); /* x + v/n */
    dd t1 = pow2_scaled_D(t1x, v - 1, &t1E);
    dd ans = dd_mul(t1, t2);
    ans = dd_mul(ans, Cman);
    ansE = Cexpt + t1E + t2E;
    return dd_ldexp(ans, ansE);
}

static double clip01(double p) {
    return p < 0 ? 0 : (p > 1 ? 1 : p);
}

double wf_drift_smirnov_sf(int n, double x) {
    double nx, alpha, sf;
    dd AjSum = dd_make(0.0, 0.0);
    int bUseUpperSum;
    int nxfl, n1mxfl, n1mxceil;

    if (isnan(x)) {
        return NAN;
    }
    if (!(n > 0 && x >= 0.0 && x <= 1.0)) {
        return NAN;
    }
    if (n == 1) {
        return 1 - x;
    }
    if (x == 0.0) {
        return 1.0;
    }
    if (x == 1.0) {
        return 0.0;
    }
    alpha = mod_nx(n, x, &nxfl, &nx);
    n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
    n1mxceil = n - nxfl;
    if (alpha == 0) {
        n1mxfl -= 1;
        n1mxceil += 1;
    }
    /* x <= 1/n */
    if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {
        double t = pow2(1, x, n - 1);
        return clip01(1 - x * t);
    }
    /* the sf underflows */
    if (-2 * n * x * x < KS_MINLOG) {
        return 0;
    }
    /* x >= 1 - 1/n */
    if (nxfl >= n - 1) {
        return pow2(1, -x, n);
    }
    if (n > SMIRNOV_MAX_COMPUTE_N) {
        /* p ~ e^(-(6nx+1)^2 / 18n) */
        double logp = -pow(6.0 * n * x + 1, 2) / 18.0 / n;
        if (logp < -KS_LN2) {
            sf = exp(logp);
        } else {
            sf = 1 - (-expm1(logp));
        }
        return clip01(sf);
    }
    {
        int nUpperTerms = n - n1mxceil + 1;
        bUseUpperSum = (nUpperTerms <= 1 && x < 0.5);
        bUseUpperSum =
            (bUseUpperSum || ((n >= SM_UPPERSUM_MIN_N) && (nUpperTerms <= SM_UPPER_MAX_TERMS) &&
                              (x <= 0.5 / sqrt(n))));
    }
    {
        int start = 0, step = 1, nTerms = n1mxfl + 1;
        int j, firstJ = 0;
        int vmid = n / 2;
        dd Cman = dd_make(1.0, 0.0);
        int Cexpt = 0;
        dd Aj;
        double prob;

        if (bUseUpperSum) {
            start = n;
            step = -1;
            nTerms = n - n1mxceil + 1;
            Aj = pow4_D(1, x, 1, 0, n - 1);
        } else {
            dd t2 = pow4_D(1, -x, 1, 0, n);
            Aj = dd_div_dd_d(t2, x);
        }
        AjSum = dd_add(AjSum, Aj);
        update_binomial(&Cman, &Cexpt, n, 0);
        firstJ++;
        for (j = firstJ; j < nTerms; j += 1) {
            int v = start + j * step;
            Aj = compute_Av(n, x, v, Cman, Cexpt);
            if (isfinite(Aj.hi) && !dd_is_zero(Aj)) {
                AjSum = dd_add(AjSum, Aj);
            }
            /* safe to stop early? */
            if (!dd_is_zero(Aj)) {
                if ((4 * (nTerms - j) * fabs(Aj.hi) < DBL_EPSILON * AjSum.hi) &&
                    (j != nTerms - 1)) {
                    break;
                }
            } else if (j > vmid) {
                break;
            }
            update_binomial(&Cman, &Cexpt, n, j);
        }
        prob = dd_mul_d_dd(x, AjSum).hi;
        sf = (step < 0) ? 1 - prob : prob;
    }
    return clip01(sf);
}

/* ---------------------------------------------------------------------------------------- */
/* kstwo: scipy/stats/_ksstats.py */

#define KS_E128 128
#define KS_EP128 0x1p128
#define KS_EM128 0x1p-128
#define KS_MIN_LOG (-708)

static const double stirling_coeffs[8] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                          -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                          -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                          -2.7777777777777777778e-3, 8.3333333333333333333e-2};

/* log(n! / n^n) by Stirling with the n*log(n) removed up front. */
static double log_nfactorial_div_n_pow_n(double n) {
    double rn = 1.0 / n;
    double x = rn / n;
    double y = 0.0;
    for (int i = 0; i < 8; i++) {
        y = y * x + stirling_coeffs[i]; /* numpy.polyval: Horner from the highest power */
    }
    return log(n) / 2 - n + log(2 * KS_PI) / 2 + rn * y;
}

/* c = a (m,m) @ b (m,m), all row-major; c must not alias a or b. */
static void matmul_sq(double *c, const double *a, const double *b, int m) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) {
            double s = 0.0;
            for (int k = 0; k < m; k++) {
                s += a[i * m + k] * b[k * m + j];
            }
            c[i * m + j] = s;
        }
    }
}

/* Pr(D_n <= d) by Durbin's matrix, Marsaglia-Tsang-Wang. Returns NaN when scratch fails. */
static double kolmogn_dmtw_cdf(int n, double d) {
    if (d >= 1.0) {
        return 1.0;
    }
    double nd = n * d;
    if (nd <= 0.5) {
        return 0.0;
    }
    int k = (int)ceil(nd);
    double h = k - nd;
    int m = 2 * k - 1;
    size_t mm = (size_t)m * (size_t)m;
    double *buf = malloc(sizeof(double) * (mm * 4 + 2 * (size_t)m));
    if (!buf) {
        return NAN;
    }
    double *H = buf;         /* (m, m) */
    double *Hpwr = H + mm;   /* (m, m) */
    double *tmp = Hpwr + mm; /* (m, m) */
    double *tmp2 = tmp + mm; /* (m, m) */
    double *v = tmp2 + mm;   /* (m) */
    double *w = v + m;       /* (m) */
    memset(H, 0, sizeof(double) * mm);
    double fac = 1.0;
    for (int j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    double base = 2 * h - 1.0;
    double tt = pow(base > 0 ? base : 0, m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (int i = 1; i < m; i++) {
        for (int r = i - 1; r < m; r++) {
            H[r * m + i] = w[r - (i - 1)];
        }
    }
    for (int r = 0; r < m; r++) {
        H[r * m + 0] = v[r];
    }
    for (int c = 0; c < m; c++) {
        H[(m - 1) * m + c] = v[m - 1 - c];
    }
    memset(Hpwr, 0, sizeof(double) * mm);
    for (int i = 0; i < m; i++) {
        Hpwr[i * m + i] = 1.0;
    }
    int nn = n;
    int expnt = 0;
    int Hexpnt = 0;
    while (nn > 0) {
        if (nn % 2) {
            matmul_sq(tmp, Hpwr, H, m);
            memcpy(Hpwr, tmp, sizeof(double) * mm);
            expnt += Hexpnt;
        }
        matmul_sq(tmp2, H, H, m);
        memcpy(H, tmp2, sizeof(double) * mm);
        Hexpnt *= 2;
        if (fabs(H[(k - 1) * m + (k - 1)]) > KS_EP128) {
            for (size_t i = 0; i < mm; i++) {
                H[i] /= KS_EP128;
            }
            Hexpnt += KS_E128;
        }
        nn = nn / 2;
    }
    double p = Hpwr[(k - 1) * m + (k - 1)];
    free(buf);
    /* times n!/n^n */
    for (int i = 1; i <= n; i++) {
        p = i * p / n;
        if (fabs(p) < KS_EM128) {
            p *= KS_EP128;
            expnt -= KS_E128;
        }
    }
    if (expnt != 0) {
        p = ldexp(p, expnt);
    }
    return clip01(p);
}

static void pomeranz_j1j2(int i, int n, int ll, int ceilf, int roundf, int *j1o, int *j2o) {
    int j1, j2;
    if (i == 0) {
        j1 = -ll - ceilf - 1;
        j2 = ll + ceilf - 1;
    } else {
        int ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
        if (ip1mod2 == 0) {
            if (ip1div2 == n + 1) {
                j1 = n - ll - ceilf - 1;
                j2 = n + ll + ceilf - 1;
            } else {
                j1 = ip1div2 - 1 - ll - roundf - 1;
                j2 = ip1div2 + ll - 1 + ceilf - 1;
            }
        } else {
            j1 = ip1div2 - 1 - ll - 1;
            j2 = ip1div2 + ll + roundf - 1;
        }
    }
    *j1o = (j1 + 2 > 0) ? j1 + 2 : 0;
    *j2o = (j2 < n) ? j2 : n;
}

/* Pr(D_n <= x) by the Pomeranz recursion. Returns NaN when scratch fails. */
static double kolmogn_pomeranz_cdf(int n, double x) {
    double t = n * x;
    int ll = (int)floor(t);
    double f = 1.0 * (t - ll);
    double g = f < 1.0 - f ? f : 1.0 - f;
    int ceilf = f > 0 ? 1 : 0;
    int roundf = f > 0.5 ? 1 : 0;
    int npwrs = 2 * (ll + 1);
    double *buf = malloc(sizeof(double) * 5 * (size_t)npwrs);
    if (!buf) {
        return NAN;
    }
    double *gpower = buf;                    /* (g/n)^m/m! */
    double *twogpower = gpower + npwrs;      /* (2g/n)^m/m! */
    double *onem2gpower = twogpower + npwrs; /* ((1-2g)/n)^m/m! */
    double *V0 = onem2gpower + npwrs;
    double *V1 = V0 + npwrs;
    gpower[0] = 1.0;
    twogpower[0] = 1.0;
    onem2gpower[0] = 1.0;
    int expnt = 0;
    double g_over_n = g / n, two_g_over_n = 2 * g / n, one_minus_two_g_over_n = (1 - 2 * g) / n;
    for (int m = 1; m < npwrs; m++) {
        gpower[m] = gpower[m - 1] * g_over_n / m;
        twogpower[m] = twogpower[m - 1] * two_g_over_n / m;
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / m;
    }
    memset(V0, 0, sizeof(double) * (size_t)npwrs);
    memset(V1, 0, sizeof(double) * (size_t)npwrs);
    V1[0] = 1;
    int V0s = 0, V1s = 0;
    int j1, j2;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
    for (int i = 1; i < 2 * n + 2; i++) {
        int k1 = j1;
        double *sw = V0;
        V0 = V1;
        V1 = sw;
        int swi = V0s;
        V0s = V1s;
        V1s = swi;
        memset(V1, 0, sizeof(double) * (size_t)npwrs);
        pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pwrs;
        if (i == 1 || i == 2 * n + 1) {
            pwrs = gpower;
        } else {
            pwrs = (i % 2) ? twogpower : onem2gpower;
        }
        int ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            /* conv = numpy.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]) (full), of which
             * entries conv_start .. conv_start+conv_len-1 go to V1[0 .. conv_len-1]. */
            int off = k1 - V0s;
            int conv_start = j1 - k1;
            int conv_len = j2 - j1 + 1;
            double vmax = 0.0;
            for (int q = 0; q < conv_len; q++) {
                int kk = conv_start + q;
                double s = 0.0;
                for (int a = 0; a < ln2; a++) {
                    int b = kk - a;
                    if (b < 0 || b >= ln2) {
                        continue;
                    }
                    int ia = off + a;
                    if (ia < 0 || ia >= npwrs) {
                        continue;
                    }
                    s += V0[ia] * pwrs[b];
                }
                V1[q] = s;
                if (q == 0 || s > vmax) {
                    vmax = s;
                }
            }
            /* scale against underflow (numpy: 0 < max(V1) < 2^-128 over the whole row) */
            for (int q = conv_len; q < npwrs; q++) {
                if (V1[q] > vmax) {
                    vmax = V1[q];
                }
            }
            if (0 < vmax && vmax < KS_EM128) {
                for (int q = 0; q < npwrs; q++) {
                    V1[q] *= KS_EP128;
                }
                expnt -= KS_E128;
            }
            V1s = V0s + j1 - k1;
        }
    }
    double ans = V1[n - V1s];
    free(buf);
    for (int m = 1; m <= n; m++) {
        if (fabs(ans) > KS_EP128) {
            ans *= KS_EM128;
            expnt += KS_E128;
        }
        ans *= m;
    }
    if (expnt != 0) {
        ans = ldexp(ans, expnt);
    }
    return clip01(ans);
}

/* Pelz-Good approximation to Pr(D_n <= x). */
static double kolmogn_pelzgood_cdf(int n, double x) {
    if (x <= 0.0) {
        return 0.0;
    }
    if (x >= 1.0) {
        return 1.0;
    }
    const double pi2 = KS_PI * KS_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    const double sqrt2pi = sqrt(2 * KS_PI), sqrt3 = sqrt(3.0);
    double z = sqrt((double)n) * x;
    double zsquared = pow(z, 2), zthree = pow(z, 3), zfour = pow(z, 4), zsix = pow(z, 6);
    double qlog = -pi2 / 8 / zsquared;
    if (qlog < KS_MIN_LOG) {
        return 0.0;
    }
    double q = exp(qlog);
    double k1a = -zsquared;
    double k1b = pi2 / 4;
    double k2a = 6 * zsix + 2 * zfour;
    double k2b = (2 * zfour - 5 * zsquared) * pi2 / 4;
    double k2c = pi4 * (1 - 2 * zsquared) / 16;
    double k3d = pi6 * (5 - 30 * zsquared) / 64;
    double k3c = pi4 * (-60 * zsquared + 212 * zfour) / 16;
    double k3b = pi2 * (135 * zfour - 96 * zsix) / 4;
    double k3a = -30 * zsix - 90 * pow(z, 8);
    double K[4] = {0, 0, 0, 0};
    int maxk = (int)ceil(16 * z / KS_PI);
    for (int k = maxk; k > 0; k--) {
        double m = 2 * k - 1;
        double msquared = m * m, mfour = pow(m, 4), msix = pow(m, 6);
        double qpower = pow(q, 8 * k);
        double coeffs[4] = {1.0, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour,
                            k3a + k3b * msquared + k3c * mfour + k3d * msix};
        for (int i = 0; i < 4; i++) {
            K[i] *= qpower;
            K[i] += coeffs[i];
        }
    }
    double div[4] = {z, 6 * zfour, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++) {
        K[i] *= q;
        K[i] *= sqrt2pi;
        K[i] /= div[i];
    }
    /* the sums over all integers k */
    q = exp(-pi2 / 2 / zsquared);
    double sqrt3z = sqrt3 * z;
    double k2extra = 0.0, k3extra = 0.0;
    for (int k = maxk; k > 0; k--) {
        double ksq = (double)k * k;
        double kspi = KS_PI * k;
        double qp = pow(q, ksq);
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    k2extra *= pi2 * sqrt2pi / (-36 * zthree);
    K[2] += k2extra;
    k3extra *= pi2 * sqrt2pi / (216 * zsix);
    K[3] += k3extra;
    for (int i = 0; i < 4; i++) {
        K[i] /= pow(n * 1.0, i / 2.0);
    }
    double sum = 0.0;
    for (int i = 0; i < 4; i++) {
        sum += K[i];
    }
    return sum;
}

double wf_drift_kstwo_sf(int n, double x) {
    if (isnan(x) || n <= 0) {
        return NAN;
    }
    /* rv_continuous.sf: 1 at or below the support's lower end 0.5/n, 0 at or above 1 */
    if (x <= 0.5 / n) {
        return 1.0;
    }
    if (x >= 1.0) {
        return 0.0;
    }
    double t = n * x;
    if (t <= 1.0) { /* Ruben-Gambino: 1/2n <= x <= 1/n */
        double prob;
        if (t <= 0.5) {
            return 1.0;
        }
        if (n <= 140) {
            prob = 1.0;
            for (int i = 1; i <= n; i++) {
                prob *= i * (1.0 / n) * (2 * t - 1);
            }
        } else {
            prob = exp(log_nfactorial_div_n_pow_n(n) + n * log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= n - 1) { /* Ruben-Gambino */
        return clip01(2 * pow(1.0 - x, n));
    }
    if (x >= 0.5) { /* exact: 2 * smirnov */
        return clip01(2 * wf_drift_smirnov_sf(n, x));
    }
    double nxsquared = t * x;
    if (n <= 140) {
        if (nxsquared <= 0.754693) {
            return clip01(1.0 - kolmogn_dmtw_cdf(n, x));
        }
        if (nxsquared <= 4) {
            return clip01(1.0 - kolmogn_pomeranz_cdf(n, x));
        }
        return clip01(2 * wf_drift_smirnov_sf(n, x)); /* Miller's approximation */
    }
    if (nxsquared >= 370.0) {
        return 0.0;
    }
    if (nxsquared >= 2.2) {
        return clip01(2 * wf_drift_smirnov_sf(n, x));
    }
    double cdfprob;
    if (nxsquared >= 18.0) {
        cdfprob = 1.0;
    } else if (n <= 100000 && n * pow(x, 1.5) <= 1.4) {
        cdfprob = kolmogn_dmtw_cdf(n, x);
    } else {
        cdfprob = kolmogn_pelzgood_cdf(n, x);
    }
    return clip01(1.0 - cdfprob);
}

/* ---------------------------------------------------------------------------------------- */
/* The exact two-sample distribution: scipy/stats/_stats_py.py (_attempt_exact_2kssamp,
 * _compute_prob_outside_square) and scipy/stats/_stats_pythran.py
 * (_compute_outer_prob_inside_method, with Viehmann's recursion for 1 - p), SciPy 1.10.1. */

/* Pr(D_{n,n} >= h/n) = 2 * A0 * (1 - A1*(1 - A2*(1 - ...))) */
static double prob_outside_square(int64_t n, int64_t h) {
    double P = 0.0;
    int64_t k = (int64_t)floor((double)n / (double)h);
    while (k >= 0) {
        double p1 = 1.0;
        for (int64_t j = 0; j < h; j++) {
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        }
        P = p1 * (1.0 - P);
        k -= 1;
    }
    return 2 * P;
}

/* The share of lattice paths from (0,0) to (m,n) that leave |x/m - y/n| < h/lcm. NaN when the
 * scratch allocation fails. */
static double outer_prob_inside(int64_t m, int64_t n, int64_t g, int64_t h) {
    if (m < n) {
        int64_t t = m;
        m = n;
        n = t;
    }
    int64_t mg = m / g, ng = n / g;
    int64_t minj = 0, maxj = (int64_t)ceil((double)h / (double)mg);
    if (maxj > n + 1) {
        maxj = n + 1;
    }
    int64_t curlen = maxj - minj;
    int64_t lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    double *A = malloc(sizeof(double) * (size_t)(lenA > 0 ? lenA : 1));
    if (!A) {
        return NAN;
    }
    for (int64_t j = 0; j < lenA; j++) {
        A[j] = 1.0;
    }
    for (int64_t j = minj; j < maxj && j < lenA; j++) {
        A[j] = 0.0;
    }
    double result;
    for (int64_t i = 1; i <= m; i++) {
        int64_t lastminj = minj, lastlen = curlen;
        minj = (int64_t)floor((double)(ng * i - h) / (double)mg) + 1;
        if (minj < 0) {
            minj = 0;
        }
        if (minj > n) {
            minj = n;
        }
        maxj = (int64_t)ceil((double)(ng * i + h) / (double)mg);
        if (maxj > n + 1) {
            maxj = n + 1;
        }
        if (maxj <= minj) {
            free(A);
            return 1.0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        for (int64_t jj = 0; jj < maxj - minj; jj++) {
            int64_t j = jj + minj;
            val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
            A[jj] = val;
        }
        curlen = maxj - minj;
        if (lastlen > curlen) {
            for (int64_t q = maxj - minj; q < maxj - minj + (lastlen - curlen) && q < lenA; q++) {
                A[q] = 1;
            }
        }
    }
    result = A[maxj - minj - 1];
    free(A);
    return result;
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
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

double wf_drift_ks_pvalue_auto(double d, size_t na, size_t nb, wf_status *status) {
    if (status) {
        *status = WF_OK;
    }
    int64_t n1 = (int64_t)na, n2 = (int64_t)nb;
    if (n1 <= 10000 && n2 <= 10000 && n1 > 0 && n2 > 0 && !isnan(d)) {
        int64_t g = gcd64(n1, n2);
        int64_t lcm = (n1 / g) * n2;
        int64_t h = (int64_t)rint(d * (double)lcm); /* np.round: half to even */
        if (h == 0) {
            return 1.0;
        }
        double prob = (n1 == n2) ? prob_outside_square(n1, h) : outer_prob_inside(n1, n2, g, h);
        if (isnan(prob) && n1 != n2) {
            if (status) {
                *status = WF_ERR_NOMEM;
            }
            return NAN;
        }
        if (prob >= 0 && prob <= 1) {
            return prob;
        }
        /* scipy warns "Exact calculation unsuccessful" and falls back to asymp */
    }
    return wf_drift_ks_pvalue(d, na, nb, status);
}
