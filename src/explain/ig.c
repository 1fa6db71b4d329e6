/*
 * Integrated Gradients per cell: attr = (x - x') * sum_k w_k grad f(x' + a_k (x - x')), with the
 * nodes a_k and weights w_k of captum's approximation_methods (Gauss-Legendre: numpy's leggauss
 * mapped to [0, 1]; Riemann left/right/middle/trapezoid, the trapezoid with captum's weights 1/n
 * and both ends halved), or Clenshaw-Curtis (not in captum; nested, see below). Gradients
 * accumulate in double. delta = sum(attr) - (f(x) - f(x')) is always reported, f from predict
 * (for a quantized model the real int8 output, while the gradient is the straight-through
 * surrogate's). Adaptive mode doubles the steps from 16 until |delta| <= tol |f(x) - f(x')| or
 * max_steps. Expected Gradients draws (background row, alpha) pairs from the window's RNG stream.
 *
 * Why Clenshaw-Curtis for adaptive mode: its nodes on N intervals, a_j = sin^2(j pi / 2N), are
 * every other node of the rule on 2N intervals, so a doubling evaluates only the N new gradients
 * and reuses all earlier ones (Gauss-Legendre nodes of n and 2n points share none: a doubling to
 * 1,024 steps costs 2,032 gradients with Gauss-Legendre, 1,025 with Clenshaw-Curtis). Its accuracy
 * per node is close to Gauss-Legendre's on integrands that are not analytic (Trefethen, "Is Gauss
 * quadrature better than Clenshaw-Curtis?", SIAM Review 2008), and the gradient of a ReLU or
 * quantized network along the path is piecewise constant, where every rule converges at the same
 * O(1/n) rate (measured: tests/bench/bench_ig_nested.c). The difference between two successive
 * nested estimates is then a free error estimate. Gauss-Kronrod/Patterson nest too but need
 * tabulated or iterated nodes and grow 15, 31, 63, ... with no cheaper estimate; Clenshaw-Curtis
 * weights come from one cosine sum.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"

#define ADAPTIVE_START 16
#define WF_PI 3.14159265358979323846

/* Gauss-Legendre nodes/weights on [-1, 1] by Newton's method on P_n (as numpy's leggauss, which
 * refines its eigenvalue nodes with one Newton step; both reach double precision). */
static void leggauss(int n, double *x, double *w) {
    for (int i = 0; i < (n + 1) / 2; i++) {
        double z = cos(WF_PI * (i + 0.75) / (n + 0.5)), dp = 0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1, p1 = z;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            if (n == 1) {
                p1 = z;
                p0 = 1;
            }
            dp = n * (z * p1 - p0) / (z * z - 1);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-16)
                break;
        }
        { /* final derivative at the converged node */
            double p0 = 1, p1 = z;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2.0 * k - 1) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n == 1 ? 1 : n * (z * p1 - p0) / (z * z - 1);
        }
        double wi = 2.0 / ((1 - z * z) * dp * dp);
        x[i] = -z; /* ascending order, as numpy */
        x[n - 1 - i] = z;
        w[i] = wi;
        w[n - 1 - i] = wi;
    }
    if (n % 2 == 1)
        x[n / 2] = 0;
}

/* Clenshaw-Curtis on [0, 1] with N >= 1 intervals, N + 1 nodes in ascending order:
 * a_j = (1 - cos(j pi / N)) / 2 = sin^2(j pi / 2N), and weights (Waldvogel, BIT 46 (2006), eq. 2.2
 * halved for [0, 1]) w_j = c_j / 2N (1 - sum_{k=1}^{N/2} b_k cos(2 k j pi / N) / (4 k^2 - 1)),
 * c_0 = c_N = 1 and 2 otherwise, b_k = 1 for k = N/2 and 2 otherwise. The cosines come from one
 * table of cos(i pi / N), i < 2N, so the weights are sums of the same doubles in the same order
 * for every caller. The node's argument j pi / 2N is computed as (j pi) / (2N), which makes node
 * j of N intervals the same double as node 2j of 2N intervals (both products scale exactly by
 * 2). Returns 0 when out of memory for the table. */
static int clenshaw_curtis(int N, double *alphas, double *weights) {
    double *ct = malloc(sizeof(double) * 2 * (size_t)N);
    if (!ct)
        return 0;
    for (int i = 0; i < 2 * N; i++)
        ct[i] = cos((double)i * WF_PI / (double)N);
    for (int j = 0; j <= N; j++) {
        double sn = sin((double)j * WF_PI / (2.0 * (double)N));
        alphas[j] = sn * sn;
        double s = 0;
        for (int k = 1; 2 * k <= N; k++) {
            double b = 2 * k == N ? 1 : 2;
            int64_t m = (2 * (int64_t)k * j) % (2 * (int64_t)N);
            s += b * ct[m] / (4.0 * k * k - 1);
        }
        double c = j == 0 || j == N ? 1 : 2;
        weights[j] = c / (2.0 * N) * (1 - s);
    }
    alphas[0] = 0;
    alphas[N] = 1;
    free(ct);
    return 1;
}

int wf_ig_quadrature(wf_ig_rule rule, int n, double *alphas, double *weights) {
    if (rule == WF_IG_CLENSHAW_CURTIS) {
        if (n == 1) { /* one node: the midpoint */
            alphas[0] = 0.5;
            weights[0] = 1;
            return 1;
        }
        return clenshaw_curtis(n - 1, alphas, weights);
    }
    if (rule == WF_IG_GAUSS_LEGENDRE) {
        leggauss(n, alphas, weights);
        for (int k = 0; k < n; k++) {
            alphas[k] = 0.5 * (1 + alphas[k]);
            weights[k] = 0.5 * weights[k];
        }
        return 1;
    }
    /* torch.linspace(a, b, n): a + k (b - a) / (n - 1) */
    double a = 0, b = 1;
    if (rule == WF_IG_RIEMANN_LEFT) {
        b = 1 - 1.0 / n;
    } else if (rule == WF_IG_RIEMANN_RIGHT) {
        a = 1.0 / n;
    } else if (rule == WF_IG_RIEMANN_MIDDLE) {
        a = 1.0 / (2.0 * n);
        b = 1 - 1.0 / (2.0 * n);
    }
    for (int k = 0; k < n; k++) {
        alphas[k] = n > 1 ? a + (b - a) * k / (n - 1) : a;
        weights[k] = 1.0 / n;
    }
    if (rule == WF_IG_RIEMANN_TRAPEZOID) {
        weights[0] /= 2;
        weights[n - 1] /= 2;
    }
    return 1;
}

void wf_ig_eval_free(wf_ig_eval *ev) {
    if (!ev)
        return;
    if (ev->ctx)
        ev->p->ctx_free(ev->ctx);
    free(ev->xbuf);
    free(ev->ybuf);
    free(ev->gbuf);
    free(ev->acc);
    for (int i = 0; i < ev->n_qcache; i++)
        free(ev->qcache[i].alphas);
    free(ev->gstore);
    free(ev->slot);
    free(ev->hbuf);
    free(ev->hxb);
    free(ev->hin);
    free(ev->AT);
    free(ev->hb_of);
    free(ev->hstore);
    free(ev->hrow);
    free(ev->kind);
    free(ev->acch);
    free(ev->accx);
    memset(ev, 0, sizeof *ev);
}

wf_status wf_ig_eval_init(wf_ig_eval *ev, const wf_predictor *p, int max_steps, int64_t max_batch,
                          wf_error *err) {
    memset(ev, 0, sizeof *ev);
    ev->p = p;
    if (!p->grad)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "Integrated Gradients needs the model's gradient, which this "
                            "predictor does not provide");
    if (max_batch < 2)
        max_batch = 2;
    ev->max_batch = max_batch;
    size_t CT = (size_t)p->C * (size_t)p->T;
    wf_status st = p->ctx_new(p->user, max_batch, &ev->ctx, err);
    if (st) {
        ev->ctx = NULL;
        return st;
    }
    if (max_steps < ADAPTIVE_START)
        max_steps = ADAPTIVE_START;
    ev->xbuf = malloc(sizeof(float) * (size_t)max_batch * CT);
    ev->gbuf = malloc(sizeof(float) * (size_t)max_batch * CT);
    ev->ybuf = malloc(sizeof(float) * (size_t)max_batch);
    ev->acc = malloc(sizeof(double) * CT);
    ev->max_steps = max_steps * 2;
    ev->hrow = calloc((size_t)max_batch, 1);
    int bad = !ev->hrow;
    if (p->grad_hidden && p->hidden_to_input && p->hidden > 0) {
        ev->cut = 1;
        ev->hidden = p->hidden;
        ev->hbuf = malloc(sizeof(float) * (size_t)max_batch * (size_t)p->hidden);
        ev->acch = malloc(sizeof(double) * (size_t)p->hidden);
        ev->accx = malloc(sizeof(double) * CT);
        bad = bad || !ev->hbuf || !ev->acch || !ev->accx;
        if (p->grad_from_hidden && p->affine_a && p->affine_a0) {
            ev->hpath = 1;
            ev->hxb = malloc(sizeof(double) * 2 * (size_t)p->hidden);
            ev->hin = malloc(sizeof(float) * (size_t)max_batch * (size_t)p->hidden);
            ev->AT = malloc(sizeof(float) * CT * (size_t)p->hidden);
            ev->hb_of = malloc(sizeof(float) * CT);
            bad = bad || !ev->hxb || !ev->hin || !ev->AT || !ev->hb_of;
            for (size_t j = 0; !bad && j < (size_t)p->hidden; j++)
                for (size_t i = 0; i < CT; i++)
                    ev->AT[i * (size_t)p->hidden + j] = p->affine_a[j * CT + i];
        }
    }
    if (!ev->xbuf || !ev->gbuf || !ev->ybuf || !ev->acc || bad) {
        wf_ig_eval_free(ev);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for IG batches");
    }
    return WF_OK;
}

void wf_ig_result_free(wf_ig_result *r) {
    if (!r)
        return;
    free(r->values);
    free(r->channel_sums);
    memset(r, 0, sizeof *r);
}

static wf_status result_alloc(wf_ig_result *r, int C, int T, wf_error *err) {
    memset(r, 0, sizeof *r);
    r->C = C;
    r->T = T;
    r->values = calloc((size_t)C * (size_t)T, sizeof(double));
    r->channel_sums = calloc((size_t)C, sizeof(double));
    if (!r->values || !r->channel_sums) {
        wf_ig_result_free(r);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    return WF_OK;
}

static wf_status predict1(wf_ig_eval *ev, const float *x, double *y, wf_error *err) {
    float v;
    wf_status st = ev->p->predict(ev->ctx, x, 1, &v, err);
    if (st)
        return st;
    if (!isfinite(v))
        return wf_error_set(err, WF_ERR_NUMERIC, "the model returned a non-finite score");
    *y = v;
    return WF_OK;
}

/* Gradients of the rows [0, n_grad) of ev->xbuf (and outputs of all n rows): through the
 * first-layer cut where the eval has it (ev->hrow[k] = 1: row k's gradient is ev->hbuf's row k
 * on the first layer's pre-activation), else ev->gbuf's row k on the cells (hrow 0). */
static wf_status grad_batch(wf_ig_eval *ev, int n, int n_grad, wf_error *err) {
    const wf_predictor *p = ev->p;
    ev->grad_rows += n;
    if (!ev->cut) {
        memset(ev->hrow, 0, (size_t)n);
        return p->grad(ev->ctx, ev->xbuf, n, ev->ybuf, ev->gbuf, err);
    }
    if (ev->hpath && ev->cut) { /* every row's gradient on h */
        memset(ev->hrow, 1, (size_t)n_grad);
        ev->cut_rows += n_grad;
        return p->grad_from_hidden(ev->ctx, ev->hin, n, ev->ybuf, ev->hbuf, err);
    }
    wf_status st =
        p->grad_hidden(ev->ctx, ev->xbuf, n, n_grad, ev->ybuf, ev->hbuf, ev->gbuf, ev->hrow, err);
    for (int k = 0; !st && k < n_grad; k++)
        ev->cut_rows += ev->hrow[k];
    return st;
}

/* y (double) += w * x over n floats. Blocks of 8 with a fixed trip count: GCC's -O2 cost model
 * vectorises only those (as coalitions.c's axpy); the same operations per element. */
static void acc_row(double *restrict y, const float *restrict x, double w, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            y[i + k] += w * (double)x[i + k];
    for (; i < n; i++)
        y[i] += w * (double)x[i];
}

/* dst = xb + a (x - xb) over n floats (captum: baseline + alpha (input - baseline)), blocks of
 * 8 as acc_row */
static void lerp_row(float *restrict dst, const float *restrict xb, const float *restrict x,
                     float a, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            dst[i + k] = xb[i + k] + a * (x[i + k] - xb[i + k]);
    for (; i < n; i++)
        dst[i] = xb[i] + a * (x[i] - xb[i]);
}

/* hx = A x + a0 and hb = A xb + a0 in double into ev->hxb, for the hidden path's rows: cell by
 * cell over the transposed first layer (each sum in cell order); hb kept while xb repeats. */
static void path_begin(wf_ig_eval *ev, const float *x, const float *xb) {
    const wf_predictor *p = ev->p;
    size_t CT = (size_t)p->C * (size_t)p->T, H = (size_t)ev->hidden;
    int nb = !ev->have_hb || memcmp(ev->hb_of, xb, sizeof(float) * CT) != 0;
    for (int w = 0; w < 1 + nb; w++) {
        const float *v = w ? xb : x;
        double *h = ev->hxb + (size_t)w * H;
        for (size_t j = 0; j < H; j++)
            h[j] = p->affine_a0[j];
        for (size_t i = 0; i < CT; i++)
            acc_row(h, ev->AT + i * H, (double)v[i], H);
    }
    if (nb) {
        memcpy(ev->hb_of, xb, sizeof(float) * CT);
        ev->have_hb = 1;
    }
}

/* Row k of the next batch, the path's point at a: the cells xb + a (x - xb) into xbuf, or on
 * the hidden path the pre-activation hb + a (hx - hb) (in double, then rounded) into hin. */
static void path_row(wf_ig_eval *ev, int64_t k, const float *x, const float *xb, double a) {
    if (ev->hpath && ev->cut) {
        size_t H = (size_t)ev->hidden;
        const double *hx = ev->hxb, *hb = ev->hxb + H;
        float *dst = ev->hin + (size_t)k * H;
        for (size_t j = 0; j < H; j++)
            dst[j] = (float)(hb[j] + a * (hx[j] - hb[j]));
        return;
    }
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T;
    lerp_row(ev->xbuf + (size_t)k * CT, xb, x, (float)a, CT);
}

/* x and xb themselves as rows k and k + 1 (their outputs ride along with a batch); on the
 * hidden path their pre-activations h(x), h(xb), so that f(x) - f(xb), which the attributions
 * must add up to, is taken on the function the path integrates (as KernelSHAP's shortcut takes
 * f(x) from its own first layer); it differs from predict() by the first layer's rounding */
static void endpoint_rows(wf_ig_eval *ev, int64_t k, const float *x, const float *xb) {
    if (ev->hpath && ev->cut) {
        path_row(ev, k, x, xb, 1.0);
        path_row(ev, k + 1, x, xb, 0.0);
        return;
    }
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T;
    memcpy(ev->xbuf + (size_t)k * CT, x, sizeof(float) * CT);
    memcpy(ev->xbuf + (size_t)(k + 1) * CT, xb, sizeof(float) * CT);
}

/* ev->acc += J .* (A^T acch) when some row took the cut (any), then the finiteness check. */
static wf_status acc_finish(wf_ig_eval *ev, int any, wf_error *err) {
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T;
    if (any) {
        wf_status st = ev->p->hidden_to_input(ev->ctx, ev->acch, ev->accx, err);
        if (st)
            return st;
        for (size_t i = 0; i < CT; i++)
            ev->acc[i] += ev->accx[i];
    }
    for (size_t i = 0; i < CT; i++)
        if (!isfinite(ev->acc[i]))
            return wf_error_set(err, WF_ERR_NUMERIC, "the model's gradient is not finite");
    return WF_OK;
}

/* acc = sum_k w_k grad f(xb + a_k (x - xb)), over n nodes. When fx != NULL, x and xb ride
 * along as two extra rows of the first batch (if there is room) and their outputs, from the
 * same call (for a quantized model the real int8 outputs), go to *fx and *fb; otherwise they
 * are left for the caller. Returns in *got whether they were filled. */
static wf_status integrate(wf_ig_eval *ev, const float *x, const float *xb, const double *alphas,
                           const double *weights, int n, double *fx, double *fb, int *got,
                           wf_error *err) {
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T;
    size_t H = (size_t)ev->hidden;
    int any = 0;
    *got = 0;
    memset(ev->acc, 0, sizeof(double) * CT);
    if (ev->cut)
        memset(ev->acch, 0, sizeof(double) * H);
    for (int k0 = 0; k0 < n; k0 += (int)ev->max_batch) {
        int kn = n - k0 < ev->max_batch ? n - k0 : (int)ev->max_batch;
        for (int k = 0; k < kn; k++)
            path_row(ev, k, x, xb, alphas[k0 + k]);
        int extra = fx && k0 == 0 && kn + 2 <= ev->max_batch ? 2 : 0;
        if (extra)
            endpoint_rows(ev, kn, x, xb);
        wf_status st = grad_batch(ev, kn + extra, kn, err);
        if (st)
            return st;
        if (extra) {
            *fx = ev->ybuf[kn];
            *fb = ev->ybuf[kn + 1];
            *got = 1;
            if (!isfinite(*fx) || !isfinite(*fb))
                return wf_error_set(err, WF_ERR_NUMERIC, "the model returned a non-finite score");
        }
        for (int k = 0; k < kn; k++) {
            double w = weights[k0 + k];
            if (ev->hrow[k]) {
                acc_row(ev->acch, ev->hbuf + (size_t)k * H, w, H);
                any = 1;
            } else {
                acc_row(ev->acc, ev->gbuf + (size_t)k * CT, w, CT);
            }
        }
    }
    return acc_finish(ev, any, err);
}

/* Room for `need` gradient rows in ev->gstore (and node slots). 0 when out of memory. */
static int gstore_reserve(wf_ig_eval *ev, int64_t need) {
    if (need <= ev->gstore_cap)
        return 1;
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T;
    int64_t cap = ev->gstore_cap > 0 ? ev->gstore_cap : 64;
    while (cap < need)
        cap *= 2;
    float *g = realloc(ev->gstore, sizeof(float) * (size_t)cap * CT);
    if (!g)
        return 0;
    ev->gstore = g;
    int *sl = realloc(ev->slot, sizeof(int) * (size_t)cap);
    if (!sl)
        return 0;
    ev->slot = sl;
    uint8_t *kd = realloc(ev->kind, (size_t)cap);
    if (!kd)
        return 0;
    ev->kind = kd;
    if (ev->cut) {
        float *h = realloc(ev->hstore, sizeof(float) * (size_t)cap * (size_t)ev->hidden);
        if (!h)
            return 0;
        ev->hstore = h;
    }
    ev->gstore_cap = cap;
    return 1;
}

/* One level of adaptive Clenshaw-Curtis: N intervals, nodes al/weights wt (N + 1 each, from the
 * cache). At the first level (N == N0) every node's gradient is evaluated, afterwards only the
 * odd nodes (the even ones are the previous level's); they go to ev->gstore after the earlier
 * ones, in batches of max_batch in node order, so each gradient is the same whatever the batch
 * size. Then acc = sum_j w_j g_j over j = 0..N in node order, in double. x and xb ride along in
 * the first batch as in integrate(). */
static wf_status nested_level(wf_ig_eval *ev, const float *x, const float *xb, int N, int N0,
                              const double *al, const double *wt, double *fx, double *fb, int *got,
                              wf_error *err) {
    size_t CT = (size_t)ev->p->C * (size_t)ev->p->T, H = (size_t)ev->hidden;
    *got = 0;
    int first = N == N0, n_new = first ? N + 1 : N / 2;
    int64_t r0 = first ? 0 : N / 2 + 1; /* rows already stored: the previous level's nodes */
    if (!gstore_reserve(ev, r0 + n_new))
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %d IG gradients", N + 1);
    for (int k0 = 0; k0 < n_new; k0 += (int)ev->max_batch) {
        int kn = n_new - k0 < ev->max_batch ? n_new - k0 : (int)ev->max_batch;
        for (int k = 0; k < kn; k++) {
            int j = first ? k0 + k : 2 * (k0 + k) + 1;
            path_row(ev, k, x, xb, al[j]);
        }
        int extra = fx && k0 == 0 && kn + 2 <= ev->max_batch ? 2 : 0;
        if (extra)
            endpoint_rows(ev, kn, x, xb);
        wf_status st = grad_batch(ev, kn + extra, kn, err);
        if (st)
            return st;
        if (extra) {
            *fx = ev->ybuf[kn];
            *fb = ev->ybuf[kn + 1];
            *got = 1;
            if (!isfinite(*fx) || !isfinite(*fb))
                return wf_error_set(err, WF_ERR_NUMERIC, "the model returned a non-finite score");
        }
        for (int k = 0; k < kn; k++) {
            size_t r = (size_t)(r0 + k0 + k);
            ev->kind[r] = ev->hrow[k];
            if (ev->hrow[k])
                memcpy(ev->hstore + r * H, ev->hbuf + (size_t)k * H, sizeof(float) * H);
            else
                memcpy(ev->gstore + r * CT, ev->gbuf + (size_t)k * CT, sizeof(float) * CT);
        }
    }
    /* slot[j]: row of node j. Top down, so slot[j / 2] (the previous level's) is still unread
     * when node j = 2 (j / 2) takes it. */
    for (int j = N; j >= 0; j--)
        ev->slot[j] = first ? j : j % 2 ? (int)r0 + (j - 1) / 2 : ev->slot[j / 2];
    memset(ev->acc, 0, sizeof(double) * CT);
    if (ev->cut)
        memset(ev->acch, 0, sizeof(double) * H);
    int any = 0;
    for (int j = 0; j <= N; j++) {
        size_t r = (size_t)ev->slot[j];
        if (ev->kind[r]) {
            acc_row(ev->acch, ev->hstore + r * H, wt[j], H);
            any = 1;
        } else {
            acc_row(ev->acc, ev->gstore + r * CT, wt[j], CT);
        }
    }
    return acc_finish(ev, any, err);
}

static void finish(wf_ig_result *out, const float *x, const float *xb, const double *acc) {
    int C = out->C, T = out->T;
    double tot = 0;
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)c * (size_t)T + (size_t)t;
            double a = ((double)x[i] - (double)xb[i]) * acc[i];
            out->values[i] = a;
            s += a;
        }
        out->channel_sums[c] = s;
        tot += s;
    }
    out->delta = tot - (out->f_x - out->f_baseline);
}

/* The nodes and weights of `rule` with n points: from the eval's cache, computed on first use
 * (wf_ig_quadrature is deterministic, so cached and fresh nodes are the same doubles). When the
 * cache is full, computed into *own (malloc'd, the caller frees it). 0 when out of memory. */
static int quadrature_nodes(wf_ig_eval *ev, wf_ig_rule rule, int n, const double **al,
                            const double **wt, double **own) {
    *own = NULL;
    for (int i = 0; i < ev->n_qcache; i++)
        if (ev->qcache[i].rule == (int)rule && ev->qcache[i].n == n) {
            *al = ev->qcache[i].alphas;
            *wt = ev->qcache[i].weights;
            return 1;
        }
    double *buf = malloc(sizeof(double) * 2 * (size_t)n);
    if (!buf)
        return 0;
    if (!wf_ig_quadrature(rule, n, buf, buf + n)) {
        free(buf);
        return 0;
    }
    *al = buf;
    *wt = buf + n;
    int cap = (int)(sizeof ev->qcache / sizeof ev->qcache[0]);
    if (ev->n_qcache < cap) {
        struct wf_ig_qcache *c = &ev->qcache[ev->n_qcache++];
        c->rule = (int)rule;
        c->n = n;
        c->alphas = buf;
        c->weights = buf + n;
    } else {
        *own = buf;
    }
    return 1;
}

wf_ig_rule wf_ig_rule_resolve(wf_ig_rule rule, int steps) {
    if (rule == WF_IG_AUTO)
        return steps > 0 ? WF_IG_GAUSS_LEGENDRE : WF_IG_CLENSHAW_CURTIS;
    return rule;
}

wf_status wf_ig_window(wf_ig_eval *ev, const float *x, const float *xb, wf_ig_rule rule, int steps,
                       int max_steps, double tol, wf_ig_result *out, wf_error *err) {
    const wf_predictor *p = ev->p;
    wf_status st = result_alloc(out, p->C, p->T, err);
    if (st)
        return st;
    rule = wf_ig_rule_resolve(rule, steps);
    out->rule = rule;
    if (ev->hpath && ev->cut)
        path_begin(ev, x, xb);
    out->surrogate = p->surrogate;
    if (rule != WF_IG_GAUSS_LEGENDRE && steps == 1) {
        wf_ig_result_free(out);
        return wf_error_set(err, WF_ERR_CONFIG,
                            "explain.steps: Riemann and Clenshaw-Curtis rules need at least 2 "
                            "steps (as captum's Riemann rules)");
    }
    /* adaptive Clenshaw-Curtis: n counts intervals (n + 1 nodes, the gradients evaluated) */
    int nested = steps == 0 && rule == WF_IG_CLENSHAW_CURTIS;
    int n = steps > 0 ? steps : ADAPTIVE_START;
    if (steps == 0 && max_steps < n)
        max_steps = n;
    int have_f = 0;
    double prev_delta = NAN;
    int calm = 0; /* consecutive doublings that moved a surrogate's gap by < tol / 2 */
    while (!st) {
        const double *al = NULL, *wt = NULL;
        double *own = NULL;
        if (!quadrature_nodes(ev, rule, nested ? n + 1 : n, &al, &wt, &own)) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            break;
        }
        int got = 0;
        double *fx = have_f ? NULL : &out->f_x, *fb = have_f ? NULL : &out->f_baseline;
        if (nested)
            st = nested_level(ev, x, xb, n, ADAPTIVE_START, al, wt, fx, fb, &got, err);
        else
            st = integrate(ev, x, xb, al, wt, n, fx, fb, &got, err);
        free(own);
        if (!st && !have_f && !got) {
            if (ev->hpath && ev->cut) { /* from h(x) and h(xb), as the path's rows */
                endpoint_rows(ev, 0, x, xb);
                st = p->predict_hidden(ev->ctx, ev->hin, 2, ev->ybuf, err);
                out->f_x = ev->ybuf[0];
                out->f_baseline = ev->ybuf[1];
                if (!st && (!isfinite(out->f_x) || !isfinite(out->f_baseline)))
                    st = wf_error_set(err, WF_ERR_NUMERIC, "the model returned a non-finite score");
            } else {
                st = predict1(ev, x, &out->f_x, err);
                if (!st)
                    st = predict1(ev, xb, &out->f_baseline, err);
            }
        }
        have_f = 1;
        if (st)
            break;
        finish(out, x, xb, ev->acc);
        out->steps = nested ? n + 1 : n;
        double target = tol * fabs(out->f_x - out->f_baseline);
        out->converged = fabs(out->delta) <= target;
        if (steps > 0 || out->converged || 2 * n > max_steps)
            break;
        /* A surrogate's gap has two parts: the quadrature's error, which doubling removes, and
         * the surrogate's mismatch with the quantized outputs, which no step count removes. Stop
         * when two doublings in a row each move the gap by less than half the tolerance: the
         * integral has converged (converged stays 0: the tolerance itself was not met, and the
         * report says why). One calm doubling is not enough on a rough int8 path (a test). The
         * doubling from 16 to 32 does not count: on the int8 MLP a window whose gap moved by less
         * than a fifth of the tolerance from 17 to 33 and from 33 to 65 Clenshaw-Curtis nodes
         * moved by 2.2x the tolerance at 260 steps (a test); 17 nodes leave gaps of 0.1 on the
         * path's middle. */
        if (p->surrogate && n > 2 * ADAPTIVE_START &&
            fabs(out->delta - prev_delta) <= 0.5 * target) {
            if (++calm >= 2)
                break;
        } else {
            calm = 0;
        }
        prev_delta = out->delta;
        n *= 2;
    }
    if (steps > 0)
        out->converged = 1; /* fixed steps: no rule to meet; delta tells the error */
    if (st)
        wf_ig_result_free(out);
    return st;
}

wf_status wf_eg_window(wf_ig_eval *ev, const float *x, const wf_background *bg, int n_draws,
                       wf_rng *rng, wf_ig_result *out, wf_error *err) {
    const wf_predictor *p = ev->p;
    size_t CT = (size_t)p->C * (size_t)p->T;
    wf_status st = result_alloc(out, p->C, p->T, err);
    if (st)
        return st;
    out->expected_gradients = 1;
    out->surrogate = p->surrogate;
    out->steps = n_draws;
    out->converged = 1;
    st = predict1(ev, x, &out->f_x, err);
    /* f(x') = E_b f(b), weighted */
    double fb = 0;
    for (int64_t b0 = 0; !st && b0 < bg->n; b0 += ev->max_batch) {
        int64_t bn = bg->n - b0 < ev->max_batch ? bg->n - b0 : ev->max_batch;
        st = p->predict(ev->ctx, bg->x + (size_t)b0 * CT, bn, ev->ybuf, err);
        for (int64_t b = 0; !st && b < bn; b++)
            fb += bg->weight[b0 + b] * (double)ev->ybuf[b];
    }
    out->f_baseline = fb;
    double *acc = calloc(CT, sizeof(double));
    int64_t *which = malloc(sizeof(int64_t) * (size_t)ev->max_batch);
    if (!st && (!acc || !which))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int k0 = 0; !st && k0 < n_draws; k0 += (int)ev->max_batch) {
        int kn = n_draws - k0 < ev->max_batch ? n_draws - k0 : (int)ev->max_batch;
        for (int k = 0; k < kn; k++) {
            double u = wf_rng_uniform(rng), c = 0; /* background row by weight */
            int64_t b = bg->n - 1;
            for (int64_t j = 0; j < bg->n; j++) {
                c += bg->weight[j];
                if (u < c) {
                    b = j;
                    break;
                }
            }
            float a = (float)wf_rng_uniform(rng);
            which[k] = b;
            const float *xb = bg->x + (size_t)b * CT;
            float *dst = ev->xbuf + (size_t)k * CT;
            for (size_t i = 0; i < CT; i++)
                dst[i] = xb[i] + a * (x[i] - xb[i]);
        }
        st = p->grad(ev->ctx, ev->xbuf, kn, ev->ybuf, ev->gbuf, err);
        ev->grad_rows += kn;
        for (int k = 0; !st && k < kn; k++) {
            const float *xb = bg->x + (size_t)which[k] * CT;
            const float *g = ev->gbuf + (size_t)k * CT;
            for (size_t i = 0; i < CT; i++)
                acc[i] += ((double)x[i] - (double)xb[i]) * (double)g[i];
        }
    }
    if (!st) {
        double tot = 0;
        for (int c = 0; c < p->C; c++) {
            double s = 0;
            for (int t = 0; t < p->T; t++) {
                size_t i = (size_t)c * (size_t)p->T + (size_t)t;
                out->values[i] = acc[i] / n_draws;
                s += out->values[i];
            }
            out->channel_sums[c] = s;
            tot += s;
        }
        out->delta = tot - (out->f_x - out->f_baseline);
    }
    free(acc);
    free(which);
    if (st)
        wf_ig_result_free(out);
    return st;
}

static int cmp_vw(const void *a, const void *b) {
    const double *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

wf_status wf_ig_baseline(wf_baseline_kind kind, const wf_background *bg, int C, int T, float *out,
                         wf_error *err) {
    size_t CT = (size_t)C * (size_t)T;
    if (kind == WF_BASELINE_ZEROS) {
        memset(out, 0, sizeof(float) * CT);
        return WF_OK;
    }
    if (!bg || bg->n < 1 || bg->C != C || bg->T != T)
        return wf_error_set(err, WF_ERR_INVALID,
                            "the %s baseline needs a background of %d x %d windows",
                            wf_baseline_name(kind), C, T);
    double *vw = NULL;
    if (kind == WF_BASELINE_MEDIAN) {
        vw = malloc(sizeof(double) * 2 * (size_t)bg->n * (size_t)T);
        if (!vw)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int c = 0; c < C; c++) {
        double v = 0;
        if (kind == WF_BASELINE_MEAN) { /* weighted mean over all cells of the channel */
            for (int64_t b = 0; b < bg->n; b++) {
                double s = 0;
                const float *row = bg->x + (size_t)b * CT + (size_t)c * (size_t)T;
                for (int t = 0; t < T; t++)
                    s += row[t];
                v += bg->weight[b] * s / T;
            }
        } else { /* weighted median: each cell weighs w_b / T; ties at 1/2 average */
            size_t n = 0;
            for (int64_t b = 0; b < bg->n; b++) {
                const float *row = bg->x + (size_t)b * CT + (size_t)c * (size_t)T;
                for (int t = 0; t < T; t++, n++) {
                    vw[2 * n] = row[t];
                    vw[2 * n + 1] = bg->weight[b] / T;
                }
            }
            qsort(vw, n, 2 * sizeof(double), cmp_vw);
            double cum = 0;
            for (size_t i = 0; i < n; i++) {
                cum += vw[2 * i + 1];
                if (cum >= 0.5 - 1e-12) {
                    v = vw[2 * i];
                    if (fabs(cum - 0.5) <= 1e-12 && i + 1 < n)
                        v = 0.5 * (v + vw[2 * i + 2]);
                    break;
                }
            }
        }
        for (int t = 0; t < T; t++)
            out[(size_t)c * (size_t)T + (size_t)t] = (float)v;
    }
    free(vw);
    return WF_OK;
}
