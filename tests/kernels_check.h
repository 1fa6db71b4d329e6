/*
 * Helpers for the kernel suites (tests/test_kernels*.c), header-only because every test_*.c is
 * its own executable linked with testutil.c alone.
 *
 *  - kc_fill: random values on a grid of 2^-12 so that x +- k*h is exact in float for the
 *    power-of-two steps h the gradient checker uses (the finite difference then sees exactly
 *    the intended perturbation).
 *  - kc_check_bound: |got - want| <= rtol * bound elementwise, where bound is the same
 *    computation on absolute values (sum |a||b|): the standard error bound of a dot product, so
 *    cancellation does not make a correct result look wrong.
 *  - kc_gradcheck: backward against central finite differences of L = sum_i w_i y_i, computed in
 *    double with the 4-point stencil (8(L(+h) - L(-h)) - (L(+2h) - L(-2h))) / 12h (error O(h^4)),
 *    through the float kernel (linear and piecewise-linear ops: the stencil is exact) or, with
 *    kc_gradcheck2, through a double evaluation of the same formula (smooth ops).
 */
#ifndef WF_KERNELS_CHECK_H
#define WF_KERNELS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "testutil.h"
#include "whyflag/rng.h"

static inline void kc_fill(wf_rng *r, float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        double v = lo + (hi - lo) * wf_rng_uniform(r);
        x[i] = (float)(nearbyint(v * 4096.0) / 4096.0);
    }
}

static inline float *kc_alloc(size_t n) {
    float *p = calloc(n > 0 ? n : 1, sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

static inline float *kc_abs_copy(const float *x, size_t n) {
    float *p = kc_alloc(n);
    for (size_t i = 0; i < n; i++) {
        p[i] = fabsf(x[i]);
    }
    return p;
}

/* Fails the test if any |got - want| > rtol * bound + atol. Returns the max of
 * |got - want| / bound. */
static inline double kc_check_bound(const char *what, const float *got, const float *want,
                                    const float *bound, size_t n, double rtol, double atol) {
    double worst = 0.0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (isnan(got[i]) || isnan(want[i])) {
            d = isnan(got[i]) && isnan(want[i]) ? 0.0 : INFINITY;
        }
        double b = (double)bound[i];
        double rel = b > 0 ? d / b : (d > 0 ? INFINITY : 0.0);
        if (rel > worst) {
            worst = rel;
        }
        if (d > rtol * b + atol) {
            if (bad < 5) {
                fprintf(stderr, "  %s[%zu]: got %.9g want %.9g (bound %.3g)\n", what, i,
                        (double)got[i], (double)want[i], b);
            }
            bad++;
        }
    }
    ck_assert_msg(bad == 0, "%s: %d of %zu values outside %g * bound (worst %g)", what, bad, n,
                  rtol, worst);
    return worst;
}

/* y = f(x) for the op under test; ctx holds its parameters. */
typedef void (*kc_fwd_fn)(const void *ctx, float *y, const float *x);
/* The same function evaluated in double (for smooth ops whose float outputs would put rounding
 * noise of ~1e-7 |y| / h into the difference quotient; the float forward is checked elsewhere
 * against peer outputs, the finite differences check the backward's math). */
typedef void (*kc_fwd_d_fn)(const void *ctx, double *y, const double *x);
/* Nonzero to skip input element j (a kink within the stencil: ReLU at 0, a max-pool tie). */
typedef int (*kc_skip_fn)(const void *ctx, const float *x, size_t j, double h);

/* L = sum_i w_i y_i at x, where x[j] is moved by delta. */
static inline double kc_loss_at(kc_fwd_fn f, kc_fwd_d_fn fd, const void *ctx, const float *x,
                                size_t nx, size_t j, double delta, const float *w, size_t ny) {
    double L = 0.0;
    if (fd != NULL) {
        double *xd = malloc(nx * sizeof(double));
        double *yd = malloc((ny > 0 ? ny : 1) * sizeof(double));
        ck_assert(xd != NULL && yd != NULL);
        for (size_t i = 0; i < nx; i++) {
            xd[i] = (double)x[i];
        }
        xd[j] += delta;
        fd(ctx, yd, xd);
        for (size_t i = 0; i < ny; i++) {
            L += (double)w[i] * yd[i];
        }
        free(xd);
        free(yd);
    } else {
        float *xp = kc_alloc(nx), *y = kc_alloc(ny);
        memcpy(xp, x, nx * sizeof(float));
        xp[j] = (float)((double)x[j] + delta); /* exact: x on a 2^-12 grid, h a power of 2 */
        f(ctx, y, xp);
        for (size_t i = 0; i < ny; i++) {
            L += (double)w[i] * (double)y[i];
        }
        free(xp);
        free(y);
    }
    return L;
}

/* dx: the backward kernel's result for dout = w (accumulated into zeros). Checks up to
 * max_points input elements (evenly spread); relative error per element is
 * |fd - dx| / max(|fd|, |dx|, 1e-2 * max|dx|) and must stay below rtol.
 * Exactly one of f (float forward) and fdbl (double forward) is non-NULL.
 * Returns the number of elements checked. */
static inline size_t kc_gradcheck2(const char *what, kc_fwd_fn f, kc_fwd_d_fn fdbl, const void *ctx,
                                   const float *x, size_t nx, size_t ny, const float *w,
                                   const float *dx, double h, kc_skip_fn skip, size_t max_points,
                                   double rtol) {
    double gmax = 0.0;
    for (size_t j = 0; j < nx; j++) {
        if (fabs((double)dx[j]) > gmax) {
            gmax = fabs((double)dx[j]);
        }
    }
    ck_assert_msg(gmax > 0.0, "%s: the analytic gradient is identically zero", what);
    size_t step = nx > max_points ? (nx + max_points - 1) / max_points : 1;
    size_t checked = 0;
    size_t skipped = 0;
    int bad = 0;
    double worst = 0.0;
    for (size_t j = 0; j < nx; j += step) {
        if (skip != NULL && skip(ctx, x, j, h)) {
            skipped++;
            continue;
        }
        double L[4];
        const double s[4] = {-2.0, -1.0, 1.0, 2.0};
        for (int k = 0; k < 4; k++) {
            L[k] = kc_loss_at(f, fdbl, ctx, x, nx, j, s[k] * h, w, ny);
        }
        double fd = (8.0 * (L[2] - L[1]) - (L[3] - L[0])) / (12.0 * h);
        double an = (double)dx[j];
        double den = fmax(fmax(fabs(fd), fabs(an)), 1e-2 * gmax);
        double rel = fabs(fd - an) / den;
        if (rel > worst) {
            worst = rel;
        }
        if (rel > rtol) {
            if (bad < 5) {
                fprintf(stderr, "  %s: d/dx[%zu]: backward %.9g finite difference %.9g\n", what, j,
                        an, fd);
            }
            bad++;
        }
        checked++;
    }
    fprintf(stderr, "%s: gradient checked at %zu points (%zu skipped), max rel err %.2e %s\n", what,
            checked, skipped, worst, bad ? "NOT OK" : "OK");
    ck_assert_msg(bad == 0, "%s: %d gradient entries off by more than %g relative", what, bad,
                  rtol);
    ck_assert_msg(checked > 0, "%s: no gradient entry checked", what);
    return checked;
}

/* kc_gradcheck2 with a float forward (the kernel itself). */
static inline size_t kc_gradcheck(const char *what, kc_fwd_fn f, const void *ctx, const float *x,
                                  size_t nx, size_t ny, const float *w, const float *dx, double h,
                                  kc_skip_fn skip, size_t max_points, double rtol) {
    return kc_gradcheck2(what, f, NULL, ctx, x, nx, ny, w, dx, h, skip, max_points, rtol);
}

/* A convolution geometry as literal fields (stride and dilation 0 read as 1), for test tables;
 * kc_conv_geom fills g from it and asserts wf_k_conv_geom_finish accepts it. */
typedef struct kc_conv_case {
    int n, cin, cout, group, ndim;
    int in[2], k[2], pb[2], pe[2], s[2], d[2];
} kc_conv_case;

static inline void kc_conv_geom(wf_k_conv_geom *g, const kc_conv_case *c) {
    memset(g, 0, sizeof *g);
    g->n = c->n;
    g->cin = c->cin;
    g->cout = c->cout;
    g->group = c->group;
    g->ndim = c->ndim;
    for (int i = 0; i < c->ndim; i++) {
        g->in[i] = c->in[i];
        g->k[i] = c->k[i];
        g->pad_begin[i] = c->pb[i];
        g->pad_end[i] = c->pe[i];
        g->stride[i] = c->s[i] ? c->s[i] : 1;
        g->dilation[i] = c->d[i] ? c->d[i] : 1;
    }
    ck_assert_int_eq(wf_k_conv_geom_finish(g), 0);
}

#endif
