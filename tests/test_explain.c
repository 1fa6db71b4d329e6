/*
 * The explain stage on analytic predictors whose answers are known in closed form or by a
 * brute-force computation written independently here: a linear model (Shapley values and IG are
 * w (x - E b) exactly), a small tanh/sigmoid MLP with its exact gradient (Shapley values by
 * averaging marginal contributions over all M! player orders, in double, straight from the
 * formula of the model), a quadratic (Gauss-Legendre is exact for it). Also the quadrature
 * nodes against captum's documented values, Spearman with ties, players, backgrounds,
 * determinism across thread counts, and a failing window.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "testutil.h"
#include "whyflag/config.h"
#include "whyflag/explain.h"

#define C_ 4
#define T_ 6
#define CT_ (C_ * T_)
#define H_ 6

/* ---- analytic predictors ---- */

typedef struct amodel {
    int kind;          /* 0 linear, 1 mlp, 2 quadratic */
    double w[CT_];     /* linear weights / quadratic coefficients */
    double c;          /* linear intercept */
    float A[H_ * CT_]; /* mlp first layer */
    float a0[H_];
    double v[H_], v0;
    float nan_marker; /* predict returns NaN for windows whose x[0] equals this (if nonzero) */
} amodel;

typedef struct actx {
    const amodel *m;
    int64_t max_batch;
} actx;

static wf_status a_ctx_new(void *user, int64_t max_batch, void **ctx, wf_error *err) {
    (void)err;
    actx *c = malloc(sizeof *c);
    c->m = user;
    c->max_batch = max_batch;
    *ctx = c;
    return WF_OK;
}

static void a_ctx_free(void *ctx) {
    free(ctx);
}

static double mlp_from_h(const amodel *m, const double *h, double *dz) {
    double s = m->v0;
    for (int j = 0; j < H_; j++) {
        double z = tanh(h[j]);
        s += m->v[j] * z;
        if (dz)
            dz[j] = m->v[j] * (1 - z * z);
    }
    return 1.0 / (1.0 + exp(-s));
}

/* f(x) in double, and its gradient if g != NULL */
static double a_eval(const amodel *m, const float *x, double *g) {
    if (m->kind == 0) {
        double s = m->c;
        for (int i = 0; i < CT_; i++) {
            s += m->w[i] * x[i];
            if (g)
                g[i] = m->w[i];
        }
        return s;
    }
    if (m->kind == 2) {
        double s = 0;
        for (int i = 0; i < CT_; i++) {
            s += m->w[i] * (double)x[i] * x[i];
            if (g)
                g[i] = 2 * m->w[i] * x[i];
        }
        return s;
    }
    double h[H_], dz[H_];
    for (int j = 0; j < H_; j++) {
        double s = m->a0[j];
        for (int i = 0; i < CT_; i++)
            s += (double)m->A[j * CT_ + i] * x[i];
        h[j] = s;
    }
    double y = mlp_from_h(m, h, dz);
    if (g)
        for (int i = 0; i < CT_; i++) {
            double s = 0;
            for (int j = 0; j < H_; j++)
                s += dz[j] * m->A[j * CT_ + i];
            g[i] = y * (1 - y) * s;
        }
    return y;
}

static wf_status a_predict(void *ctx, const float *x, int64_t n, float *y, wf_error *err) {
    actx *c = ctx;
    if (n > c->max_batch)
        return wf_error_set(err, WF_ERR_INVALID, "batch %lld > %lld", (long long)n,
                            (long long)c->max_batch);
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * CT_;
        y[i] = (float)a_eval(c->m, xi, NULL);
        if (c->m->nan_marker != 0 && xi[0] == c->m->nan_marker)
            y[i] = NAN;
    }
    return WF_OK;
}

static wf_status a_grad(void *ctx, const float *x, int64_t n, float *y, float *dx, wf_error *err) {
    actx *c = ctx;
    if (n > c->max_batch)
        return wf_error_set(err, WF_ERR_INVALID, "batch too big");
    for (int64_t i = 0; i < n; i++) {
        double g[CT_];
        y[i] = (float)a_eval(c->m, x + i * CT_, g);
        for (int k = 0; k < CT_; k++)
            dx[i * CT_ + k] = (float)g[k];
    }
    return WF_OK;
}

static wf_status a_predict_hidden(void *ctx, const float *h, int64_t n, float *y, wf_error *err) {
    actx *c = ctx;
    if (n > c->max_batch)
        return wf_error_set(err, WF_ERR_INVALID, "batch too big");
    for (int64_t i = 0; i < n; i++) {
        double hd[H_];
        for (int j = 0; j < H_; j++)
            hd[j] = h[i * H_ + j];
        y[i] = (float)mlp_from_h(c->m, hd, NULL);
    }
    return WF_OK;
}

static uint64_t lcg = 12345;
static double urand(void) { /* test data only */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static void make_model(amodel *m, int kind) {
    memset(m, 0, sizeof *m);
    m->kind = kind;
    for (int i = 0; i < CT_; i++)
        m->w[i] = urand() * 2 - 1;
    m->c = 0.3;
    for (int i = 0; i < H_ * CT_; i++)
        m->A[i] = (float)((urand() * 2 - 1) * 0.5);
    for (int j = 0; j < H_; j++) {
        m->a0[j] = (float)(urand() - 0.5);
        m->v[j] = (urand() * 2 - 1) * 2;
    }
    m->v0 = -0.2;
}

static void make_predictor(wf_predictor *p, amodel *m, int affine) {
    memset(p, 0, sizeof *p);
    p->C = C_;
    p->T = T_;
    p->user = m;
    p->ctx_new = a_ctx_new;
    p->ctx_free = a_ctx_free;
    p->predict = a_predict;
    p->grad = a_grad;
    if (affine && m->kind == 1) {
        p->hidden = H_;
        p->affine_a = m->A;
        p->affine_a0 = m->a0;
        p->predict_hidden = a_predict_hidden;
    }
}

/* windows: n random windows; background: nb windows with unequal weights */
static void make_windows(wf_windows *ws, int n) {
    wf_error err;
    const char *names[C_] = {"wind", "rpm", "temp", "vib"};
    ck_assert(wf_windows_init(ws, C_, T_, names, NULL, &err) == WF_OK);
    for (int k = 0; k < n; k++) {
        float v[CT_];
        for (int i = 0; i < CT_; i++)
            v[i] = (float)(urand() * 2 - 1);
        wf_window w;
        memset(&w, 0, sizeof w);
        w.index = -1;
        snprintf(w.turbine_id, sizeof w.turbine_id, "WT%02d", k % 3);
        w.start = 1000 * k;
        w.end = w.start + 600;
        w.values = v;
        ck_assert(wf_windows_push(ws, &w, &err) == WF_OK);
    }
}

static void make_bg(wf_background *bg, int n) {
    memset(bg, 0, sizeof *bg);
    bg->C = C_;
    bg->T = T_;
    bg->n = n;
    bg->x = malloc(sizeof(float) * (size_t)n * CT_);
    bg->weight = malloc(sizeof(double) * (size_t)n);
    double s = 0;
    for (int b = 0; b < n; b++) {
        for (int i = 0; i < CT_; i++)
            bg->x[b * CT_ + i] = (float)(urand() * 2 - 1);
        bg->weight[b] = 1 + b; /* unequal on purpose */
        s += bg->weight[b];
    }
    for (int b = 0; b < n; b++)
        bg->weight[b] /= s;
    snprintf(bg->description, sizeof bg->description, "test background");
}

/* ---- independent brute force: v(S) from the model formula, Shapley by all M! orders ---- */

static double brute_v(const amodel *m, const wf_players *pl, const wf_background *bg,
                      const float *x, unsigned S, wf_link link) {
    double s = 0;
    for (int64_t b = 0; b < bg->n; b++) {
        float z[CT_];
        memcpy(z, bg->x + b * CT_, sizeof z);
        for (int p = 0; p < pl->M; p++)
            if (S >> p & 1)
                for (int64_t k = pl->start[p]; k < pl->start[p + 1]; k++)
                    z[pl->cells[k]] = x[pl->cells[k]];
        double f = a_eval(m, z, NULL);
        s += bg->weight[b] * (link == WF_LINK_LOGIT_OUTPUT ? log(f / (1 - f)) : f);
    }
    return link == WF_LINK_LOGIT ? log(s / (1 - s)) : s;
}

static void brute_shapley(double *phi, const amodel *m, const wf_players *pl,
                          const wf_background *bg, const float *x, wf_link link) {
    int M = pl->M, perm[8];
    ck_assert(M <= 8);
    for (int i = 0; i < M; i++) {
        perm[i] = i;
        phi[i] = 0;
    }
    double nperm = 0;
    for (;;) { /* every permutation (Heap's order not needed: next_permutation) */
        unsigned S = 0;
        double prev = brute_v(m, pl, bg, x, 0, link);
        for (int i = 0; i < M; i++) {
            S |= 1u << perm[i];
            double cur = brute_v(m, pl, bg, x, S, link);
            phi[perm[i]] += cur - prev;
            prev = cur;
        }
        nperm++;
        int i = M - 2;
        while (i >= 0 && perm[i] > perm[i + 1])
            i--;
        if (i < 0)
            break;
        int j = M - 1;
        while (perm[j] < perm[i])
            j--;
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        for (int a = i + 1, b = M - 1; a < b; a++, b--) {
            t = perm[a];
            perm[a] = perm[b];
            perm[b] = t;
        }
    }
    for (int i = 0; i < M; i++)
        phi[i] /= nperm;
}

static void one_window(int kind, int affine, wf_groups_kind g, int segments, int64_t nsamples,
                       wf_link link, wf_kshap_result *r, wf_players *pl, amodel *m,
                       wf_background *bg, float *x) {
    wf_error err = {0};
    make_model(m, kind);
    make_bg(bg, 5);
    for (int i = 0; i < CT_; i++)
        x[i] = (float)(urand() * 2 - 1);
    wf_predictor p;
    make_predictor(&p, m, affine);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.groups = g;
    s.segments = segments;
    const char *names[C_] = {"wind", "rpm", "temp", "vib"};
    ck_assert(wf_players_build(&s, C_, T_, (char *const *)names, pl, &err) == WF_OK);
    wf_coal_eval ev;
    ck_assert_msg(wf_coal_eval_init(&ev, &p, bg, pl, link, affine ? 2 : 0, 64, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_int_eq(ev.affine, affine); /* the path asked for is the path taken */
    ck_assert(wf_coal_eval_window(&ev, x, &err) == WF_OK);
    wf_rng rng;
    wf_rng_init_stream(&rng, 7, 0);
    ck_assert_msg(wf_kshap_window(&ev, nsamples, 65536, 0.01, &rng, r, &err) == WF_OK, "%s",
                  err.msg);
    wf_coal_eval_free(&ev);
}

START_TEST(test_exact_linear_closed_form) {
    amodel m;
    wf_background bg;
    wf_players pl;
    wf_kshap_result r;
    float x[CT_];
    one_window(0, 0, WF_GROUPS_CHANNEL, 0, WF_NSAMPLES_EXACT, WF_LINK_IDENTITY, &r, &pl, &m, &bg,
               x);
    double want[C_];
    for (int c = 0; c < C_; c++) { /* phi_c = sum_t w (x - E_b b) */
        want[c] = 0;
        for (int t = 0; t < T_; t++) {
            int i = c * T_ + t;
            double eb = 0;
            for (int b = 0; b < bg.n; b++)
                eb += bg.weight[b] * bg.x[b * CT_ + i];
            want[c] += m.w[i] * ((double)x[i] - eb);
        }
    }
    ck_assert_int_eq(r.M, C_);
    ck_assert(r.exact && r.converged);
    ck_assert_str_eq(r.players[2], "temp");
    tu_check_close_d("exact linear phi", r.values, want, C_, 0, 1e-6);
    ck_assert(fabs(r.efficiency_gap) < 1e-12);
    wf_kshap_result_free(&r);
    wf_players_free(&pl);
    wf_background_deinit(&bg);
}
END_TEST

START_TEST(test_exact_mlp_vs_permutations) {
    /* exact mode, plain and affine paths, three links, against the M!-orders average */
    wf_link links[3] = {WF_LINK_IDENTITY, WF_LINK_LOGIT, WF_LINK_LOGIT_OUTPUT};
    for (int li = 0; li < 3; li++)
        for (int affine = 0; affine < 2; affine++) {
            amodel m;
            wf_background bg;
            wf_players pl;
            wf_kshap_result r;
            float x[CT_];
            one_window(1, affine, WF_GROUPS_SEGMENTS, 2, WF_NSAMPLES_EXACT, links[li], &r, &pl, &m,
                       &bg, x);
            ck_assert_int_eq(r.M, 8);
            ck_assert_str_eq(r.players[1], "wind[3:6)");
            double want[8];
            brute_shapley(want, &m, &pl, &bg, x, links[li]);
            tu_check_close_d("exact mlp phi", r.values, want, 8, 1e-5, 1e-6);
            double fx = brute_v(&m, &pl, &bg, x, 255, links[li]);
            double base = brute_v(&m, &pl, &bg, x, 0, links[li]);
            ck_assert(fabs(r.f_x - fx) < 1e-5 && fabs(r.base_value - base) < 1e-5);
            ck_assert(fabs(r.efficiency_gap) < 1e-12);
            wf_kshap_result_free(&r);
            wf_players_free(&pl);
            wf_background_deinit(&bg);
        }
}
END_TEST

START_TEST(test_affine_equals_plain) {
    /* sampled mode with the same RNG stream: same coalitions, values equal up to float rounding
     * of the first layer (tolerance 1e-6 relative to the largest value) */
    amodel m;
    wf_background bg;
    wf_players pl;
    wf_kshap_result r0, r1;
    float x[CT_];
    lcg = 99;
    one_window(1, 0, WF_GROUPS_CELL, 0, 200, WF_LINK_IDENTITY, &r0, &pl, &m, &bg, x);
    wf_players_free(&pl);
    wf_background_deinit(&bg);
    lcg = 99;
    one_window(1, 1, WF_GROUPS_CELL, 0, 200, WF_LINK_IDENTITY, &r1, &pl, &m, &bg, x);
    ck_assert_int_eq(r0.M, CT_);
    ck_assert_str_eq(r0.players[CT_ - 1], "vib@5");
    ck_assert_int_eq(r0.samples, r1.samples);
    double mx = 0;
    for (int i = 0; i < CT_; i++)
        mx = fmax(mx, fabs(r0.values[i]));
    tu_check_close_d("affine vs plain", r1.values, r0.values, CT_, 0, 1e-6 * mx);
    wf_kshap_result_free(&r0);
    wf_kshap_result_free(&r1);
    wf_players_free(&pl);
    wf_background_deinit(&bg);
}
END_TEST

START_TEST(test_sampled_linear_exact) {
    /* additive model: the constrained WLS recovers the exact values from any sample set */
    amodel m;
    wf_background bg;
    wf_players pl;
    wf_kshap_result r, e;
    float x[CT_];
    lcg = 5;
    one_window(0, 0, WF_GROUPS_CELL, 0, 300, WF_LINK_IDENTITY, &r, &pl, &m, &bg, x);
    ck_assert(!r.exact);
    double want[CT_];
    for (int i = 0; i < CT_; i++) {
        double eb = 0;
        for (int b = 0; b < bg.n; b++)
            eb += bg.weight[b] * bg.x[b * CT_ + i];
        want[i] = m.w[i] * ((double)x[i] - eb);
    }
    tu_check_close_d("sampled linear phi", r.values, want, CT_, 0, 2e-6);
    ck_assert(fabs(r.efficiency_gap) < 1e-10);
    for (int i = 0; i < CT_; i++)
        ck_assert_msg(r.std_err[i] < 1e-5, "SE of an exact fit %g", r.std_err[i]);
    ck_assert(r.converged);
    wf_kshap_result_free(&r);
    wf_players_free(&pl);
    wf_background_deinit(&bg);
    (void)e;
}
END_TEST

START_TEST(test_wls_vs_naive) {
    /* the set/complement accumulation of the normal equations against the dense textbook one,
     * on masks of every size (small sets, large sets, both values of the last player) */
    enum { M = 13, N = 400 };
    uint8_t z[N * M];
    double w[N], v[N], a[M], b[M];
    lcg = 8;
    for (int k = 0; k < N; k++) {
        int size = 1 + (int)(urand() * (M - 1));
        for (int i = 0; i < M; i++)
            z[k * M + i] = urand() < (double)size / M;
        w[k] = 0.1 + urand();
        v[k] = urand() * 2 - 1;
    }
    ck_assert(wf_kshap_wls(a, z, w, v, N, M, 0.2, 0.9, NULL) == 0);
    /* a workspace left dirty by an earlier solve gives the same bits */
    double gram[(M - 1) * (M - 1)], a2[M];
    for (int i = 0; i < (M - 1) * (M - 1); i++)
        gram[i] = 123.0 + i;
    ck_assert(wf_kshap_wls(a2, z, w, v, N, M, 0.2, 0.9, gram) == 0);
    ck_assert_int_eq(memcmp(a, a2, sizeof a), 0);
    ck_assert(wf_kshap_wls_naive(b, z, w, v, N, M, 0.2, 0.9) == 0);
    tu_check_close_d("WLS vs naive", a, b, M, 1e-10, 1e-12);
    double s = 0;
    for (int i = 0; i < M; i++)
        s += a[i];
    ck_assert(fabs(s - 0.7) < 1e-12);
}
END_TEST

START_TEST(test_shapley_axioms) {
    /* dummy (player with no weight gets 0) and symmetry (two identical players equal) */
    double v[16];
    /* v(S) = 3*[0 in S] + 2*[1 in S]*[2 in S] + 2*[1 in S]*[2 in S] ; player 3 dummy; 1 ~ 2 */
    for (unsigned S = 0; S < 16; S++)
        v[S] = 3.0 * (S & 1) + 4.0 * ((S >> 1 & 1) && (S >> 2 & 1));
    double phi[4];
    wf_shapley_exact(phi, v, 4);
    ck_assert(fabs(phi[0] - 3) < 1e-15);
    ck_assert(fabs(phi[1] - 2) < 1e-15 && fabs(phi[2] - 2) < 1e-15);
    ck_assert(fabs(phi[3]) < 1e-15);
}
END_TEST

/* Sampled KernelSHAP with 16 players: error ~ 1/sqrt(samples), SEs cover the error. */
START_TEST(test_sampled_convergence_and_se) {
    const int budgets[4] = {256, 512, 1024, 2048};
    double err_sum[4] = {0};
    int inside = 0, total = 0;
    for (int rep = 0; rep < 6; rep++) {
        amodel m;
        wf_background bg;
        wf_error err = {0};
        lcg = 1000 + (uint64_t)rep;
        make_model(&m, 1);
        for (int i = 0; i < H_ * CT_; i++)
            m.A[i] *= 3; /* strong interactions */
        make_bg(&bg, 4);
        float x[CT_];
        for (int i = 0; i < CT_; i++)
            x[i] = (float)(urand() * 2 - 1);
        wf_predictor p;
        make_predictor(&p, &m, 1);
        wf_explain_settings s;
        wf_explain_settings_default(&s);
        s.groups = WF_GROUPS_SEGMENTS;
        s.segments = 4; /* 16 players */
        wf_players pl;
        ck_assert(wf_players_build(&s, C_, T_, NULL, &pl, &err) == WF_OK);
        wf_coal_eval ev;
        ck_assert(wf_coal_eval_init(&ev, &p, &bg, &pl, WF_LINK_IDENTITY, 1, 4096, &err) == 0);
        ck_assert(wf_coal_eval_window(&ev, x, &err) == WF_OK);
        wf_kshap_result ex;
        wf_rng rng;
        wf_rng_init_stream(&rng, 1, (uint64_t)rep);
        ck_assert(wf_kshap_window(&ev, WF_NSAMPLES_EXACT, 0, 0.01, &rng, &ex, &err) == WF_OK);
        for (int bi = 0; bi < 4; bi++) {
            wf_kshap_result r;
            ck_assert(wf_kshap_window(&ev, budgets[bi], 0, 0.01, &rng, &r, &err) == WF_OK);
            double e2 = 0;
            for (int q = 0; q < 16; q++) {
                double d = r.values[q] - ex.values[q];
                e2 += d * d;
                ck_assert(isfinite(r.std_err[q]));
                inside += fabs(d) <= 3 * r.std_err[q];
                total++;
            }
            err_sum[bi] += sqrt(e2 / 16);
            ck_assert(fabs(r.efficiency_gap) < 1e-10);
            wf_kshap_result_free(&r);
        }
        wf_kshap_result_free(&ex);
        wf_coal_eval_free(&ev);
        wf_players_free(&pl);
        wf_background_deinit(&bg);
    }
    /* least-squares slope of log(error) on log(samples) */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int bi = 0; bi < 4; bi++) {
        double lx = log(budgets[bi]), ly = log(err_sum[bi] / 6);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
    }
    double slope = (4 * sxy - sx * sy) / (4 * sxx - sx * sx);
    fprintf(stderr,
            "analytic mlp, 16 players: rms error %.3g %.3g %.3g %.3g, slope %.3f, "
            "%d/%d within 3 SE\n",
            err_sum[0] / 6, err_sum[1] / 6, err_sum[2] / 6, err_sum[3] / 6, slope, inside, total);
    ck_assert_msg(slope < -0.3 && slope > -0.8, "slope %g", slope);
    ck_assert_msg(inside >= 0.95 * total, "%d of %d within 3 SE", inside, total);
}
END_TEST

START_TEST(test_quadrature_captum) {
    double a[8], w[8];
    /* captum's tests (test_approximation_methods.py): n = 2 */
    wf_ig_quadrature(WF_IG_RIEMANN_LEFT, 2, a, w);
    ck_assert(a[0] == 0 && a[1] == 0.5 && w[0] == 0.5 && w[1] == 0.5);
    wf_ig_quadrature(WF_IG_RIEMANN_RIGHT, 2, a, w);
    ck_assert(a[0] == 0.5 && a[1] == 1);
    wf_ig_quadrature(WF_IG_RIEMANN_MIDDLE, 2, a, w);
    ck_assert(a[0] == 0.25 && a[1] == 0.75);
    wf_ig_quadrature(WF_IG_RIEMANN_TRAPEZOID, 2, a, w);
    ck_assert(a[0] == 0 && a[1] == 1 && w[0] == 0.25 && w[1] == 0.25);
    /* Gauss-Legendre n = 3 on [0,1]: 0.5 -+ sqrt(3/5)/2, weights 5/18, 8/18, 5/18 */
    wf_ig_quadrature(WF_IG_GAUSS_LEGENDRE, 3, a, w);
    double r = sqrt(0.6) / 2;
    ck_assert(fabs(a[0] - (0.5 - r)) < 1e-15 && fabs(a[1] - 0.5) < 1e-15 &&
              fabs(a[2] - (0.5 + r)) < 1e-15);
    ck_assert(fabs(w[0] - 5.0 / 18) < 1e-15 && fabs(w[1] - 8.0 / 18) < 1e-15);
    /* n = 50: weights sum to 1, ascending nodes, exact for x^k (k < 100) */
    double a5[50], w5[50], s = 0, m7 = 0;
    wf_ig_quadrature(WF_IG_GAUSS_LEGENDRE, 50, a5, w5);
    for (int k = 0; k < 50; k++) {
        s += w5[k];
        m7 += w5[k] * pow(a5[k], 7);
        if (k)
            ck_assert(a5[k] > a5[k - 1]);
    }
    ck_assert(fabs(s - 1) < 1e-14 && fabs(m7 - 1.0 / 8) < 1e-14);
}
END_TEST

START_TEST(test_ig_analytic) {
    wf_error err = {0};
    lcg = 77;
    float x[CT_], xb[CT_];
    for (int i = 0; i < CT_; i++) {
        x[i] = (float)(urand() * 2 - 1);
        xb[i] = (float)(urand() * 2 - 1);
    }
    for (int kind = 0; kind < 3; kind += 2) {
        amodel m;
        make_model(&m, kind);
        wf_predictor p;
        make_predictor(&p, &m, 0);
        wf_ig_eval ev;
        ck_assert(wf_ig_eval_init(&ev, &p, 64, 64, &err) == WF_OK);
        wf_ig_result r;
        /* Gauss-Legendre with 2 nodes is exact for the linear and the quadratic model */
        ck_assert(wf_ig_window(&ev, x, xb, WF_IG_GAUSS_LEGENDRE, 2, 0, 0, &r, &err) == WF_OK);
        double want[CT_];
        for (int i = 0; i < CT_; i++)
            want[i] = kind == 0 ? m.w[i] * ((double)x[i] - xb[i])
                                : m.w[i] * ((double)x[i] * x[i] - (double)xb[i] * xb[i]);
        tu_check_close_d("IG GL exact", r.values, want, CT_, 1e-6, 1e-7);
        ck_assert(fabs(r.delta) < 1e-5);
        wf_ig_result_free(&r);
        if (kind == 0) { /* captum's trapezoid: weights sum to (n-1)/n */
            ck_assert(wf_ig_window(&ev, x, xb, WF_IG_RIEMANN_TRAPEZOID, 10, 0, 0, &r, &err) ==
                      WF_OK);
            for (int i = 0; i < CT_; i++)
                want[i] *= 0.9;
            tu_check_close_d("IG trapezoid", r.values, want, CT_, 1e-6, 1e-7);
            wf_ig_result_free(&r);
        }
        wf_ig_eval_free(&ev);
    }
    /* adaptive on the mlp reaches its tolerance; channel sums add up */
    amodel m;
    make_model(&m, 1);
    for (int i = 0; i < H_ * CT_; i++)
        m.A[i] *= 4;
    wf_predictor p;
    make_predictor(&p, &m, 0);
    wf_ig_eval ev;
    ck_assert(wf_ig_eval_init(&ev, &p, 1024, 256, &err) == WF_OK);
    wf_ig_result r;
    ck_assert(wf_ig_window(&ev, x, xb, WF_IG_RIEMANN_MIDDLE, 0, 1024, 1e-3, &r, &err) == WF_OK);
    ck_assert_msg(r.converged, "steps %d delta %g", r.steps, r.delta);
    ck_assert(fabs(r.delta) <= 1e-3 * fabs(r.f_x - r.f_baseline));
    ck_assert(r.steps >= 16);
    double tot = 0;
    for (int c = 0; c < C_; c++)
        tot += r.channel_sums[c];
    ck_assert(fabs(tot - (r.delta + r.f_x - r.f_baseline)) < 1e-9);
    wf_ig_result_free(&r);
    wf_ig_eval_free(&ev);
}
END_TEST

START_TEST(test_expected_gradients_linear) {
    /* linear model: the gradient is w everywhere, so EG = w (x - mean of the drawn background
     * rows), whose expectation is w (x - E_w b); 20000 draws put it within ~1% */
    wf_error err = {0};
    lcg = 31;
    amodel m;
    make_model(&m, 0);
    wf_background bg;
    make_bg(&bg, 5);
    wf_predictor p;
    make_predictor(&p, &m, 0);
    float x[CT_];
    for (int i = 0; i < CT_; i++)
        x[i] = (float)(urand() * 2 - 1);
    wf_ig_eval ev;
    ck_assert(wf_ig_eval_init(&ev, &p, 64, 512, &err) == WF_OK);
    wf_rng rng;
    wf_rng_init_stream(&rng, 3, 0);
    wf_ig_result r;
    ck_assert(wf_eg_window(&ev, x, &bg, 20000, &rng, &r, &err) == WF_OK);
    ck_assert(r.expected_gradients && r.steps == 20000);
    double want[CT_], mx = 0, fb = 0;
    for (int b = 0; b < bg.n; b++)
        fb += bg.weight[b] * a_eval(&m, bg.x + b * CT_, NULL);
    for (int i = 0; i < CT_; i++) {
        double eb = 0;
        for (int b = 0; b < bg.n; b++)
            eb += bg.weight[b] * bg.x[b * CT_ + i];
        want[i] = m.w[i] * ((double)x[i] - eb);
        mx = fmax(mx, fabs(want[i]));
    }
    tu_check_close_d("EG linear", r.values, want, CT_, 0, 0.03 * mx);
    ck_assert(fabs(r.f_baseline - fb) < 1e-6);
    double tot = 0;
    for (int c = 0; c < C_; c++)
        tot += r.channel_sums[c];
    ck_assert(fabs(tot - (r.f_x - r.f_baseline) - r.delta) < 1e-9);
    wf_ig_result_free(&r);
    wf_ig_eval_free(&ev);
    wf_background_deinit(&bg);
}
END_TEST

START_TEST(test_spearman) {
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {5, 6, 7, 8, 7}, c[5] = {5, 4, 3, 2, 1};
    ck_assert(fabs(wf_spearman(a, a, 5) - 1) < 1e-15);
    ck_assert(fabs(wf_spearman(a, c, 5) + 1) < 1e-15);
    /* ties: ranks of b are 1,2,3.5,5,3.5; scipy.stats.spearmanr gives 0.8207826816681233 */
    ck_assert_msg(fabs(wf_spearman(a, b, 5) - 0.8207826816681233) < 1e-12, "%.17g",
                  wf_spearman(a, b, 5));
    double k[3] = {1, 1, 1};
    ck_assert(isnan(wf_spearman(a, k, 3)));
}
END_TEST

START_TEST(test_players_and_errors) {
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_players pl;
    wf_error err = {0};
    s.groups = WF_GROUPS_SEGMENTS;
    s.segments = 4; /* T = 6: [0:1) [1:3) [3:4) [4:6) */
    ck_assert(wf_players_build(&s, 2, 6, NULL, &pl, &err) == WF_OK);
    ck_assert_int_eq(pl.M, 8);
    ck_assert_str_eq(pl.names[0], "c0[0:1)");
    ck_assert_str_eq(pl.names[7], "c1[4:6)");
    ck_assert_int_eq((int)pl.start[8], 12);
    wf_players_free(&pl);
    s.segments = 7;
    ck_assert(wf_players_build(&s, 2, 6, NULL, &pl, &err) == WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "segments:7"), "%s", err.msg);
    /* explicit groups: overlap is an error naming the group */
    int64_t c1[2] = {0, 1}, c2[2] = {1, 2};
    wf_group g[2];
    memset(g, 0, sizeof g);
    snprintf(g[0].name, sizeof g[0].name, "a");
    snprintf(g[1].name, sizeof g[1].name, "b");
    g[0].n_cells = 2;
    g[0].cells = c1;
    g[1].n_cells = 2;
    g[1].cells = c2;
    s.groups = WF_GROUPS_EXPLICIT;
    s.n_groups = 2;
    s.explicit_groups = g;
    ck_assert(wf_players_build(&s, 2, 6, NULL, &pl, &err) == WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "\"b\"") && strstr(err.msg, "already taken"), "%s", err.msg);
    c2[0] = 3;
    ck_assert(wf_players_build(&s, 2, 6, NULL, &pl, &err) == WF_OK);
    ck_assert_str_eq(pl.names[1], "b");
    wf_players_free(&pl);
    /* exact mode refuses too many players */
    s.groups = WF_GROUPS_CELL;
    s.explicit_groups = NULL;
    s.n_groups = 0;
}
END_TEST

/* The whole run: 1 and 2 threads give identical bytes; a NaN window fails alone. */
static void run_all(int threads, wf_explanation *out, int n, float marker, int nsamples) {
    static amodel m;
    static wf_background bg;
    static wf_windows ws;
    wf_error err = {0};
    if (!ws.n) {
        lcg = 4242;
        make_model(&m, 1);
        make_bg(&bg, 6);
        make_windows(&ws, n);
    }
    m.nan_marker = marker;
    if (marker != 0)
        ws.w[3].values[0] = marker;
    wf_predictor p;
    make_predictor(&p, &m, 1);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.threads = threads;
    s.seed = 11;
    s.steps = 0; /* adaptive */
    s.nsamples = nsamples;
    if (nsamples > 0)
        s.groups = WF_GROUPS_CELL; /* 24 players: sampled, with standard errors */
    ck_assert(wf_explain_run(&s, &p, &bg, &ws, NULL, n, out, &err) == WF_OK);
}

static int same_expl(const wf_explanation *a, const wf_explanation *b) {
    if (a->status != b->status || a->has_kshap != b->has_kshap || a->has_ig != b->has_ig ||
        memcmp(&a->score, &b->score, sizeof a->score) || strcmp(a->error, b->error))
        return 0;
    if (memcmp(&a->agreement, &b->agreement, sizeof(double)))
        return 0;
    if (a->has_kshap) {
        int M = a->kshap.M;
        if (M != b->kshap.M || a->kshap.samples != b->kshap.samples ||
            memcmp(a->kshap.values, b->kshap.values, sizeof(double) * (size_t)M) ||
            memcmp(a->kshap.std_err, b->kshap.std_err, sizeof(double) * (size_t)M) ||
            memcmp(&a->kshap.base_value, &b->kshap.base_value, sizeof(double)))
            return 0;
    }
    if (a->has_ig &&
        (a->ig.steps != b->ig.steps || memcmp(a->ig.values, b->ig.values, sizeof(double) * CT_) ||
         memcmp(&a->ig.delta, &b->ig.delta, sizeof(double))))
        return 0;
    return 1;
}

START_TEST(test_run_threads_and_failure) {
    enum { N = 9 };
    wf_explanation a[N], b[N];
    for (int pass = 0; pass < 2; pass++) {
        int ns = pass == 0 ? WF_NSAMPLES_AUTO : 100; /* channels: exact; cells: sampled */
        run_all(1, a, N, 0, ns);
        run_all(2, b, N, 0, ns);
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(a[i].status, WF_OK);
            ck_assert(a[i].has_kshap && a[i].has_ig);
            if (pass == 0)
                ck_assert(isfinite(a[i].agreement) && fabs(a[i].agreement) <= 1);
            else
                ck_assert(isnan(a[i].agreement) && !a[i].kshap.exact); /* players not channels */
            ck_assert(fabs(a[i].kshap.efficiency_gap) < 1e-10);
            ck_assert_msg(same_expl(&a[i], &b[i]), "window %d differs between 1 and 2 threads", i);
            wf_explanation_deinit(&a[i]);
            wf_explanation_deinit(&b[i]);
        }
    }
    run_all(2, a, N, 0.123f, WF_NSAMPLES_AUTO);
    for (int i = 0; i < N; i++) {
        if (i == 3) {
            ck_assert_int_eq(a[i].status, WF_ERR_NUMERIC);
            ck_assert_msg(strstr(a[i].error, "window 3") && strstr(a[i].error, "WT00"), "%s",
                          a[i].error);
            ck_assert(!a[i].has_kshap && !a[i].has_ig);
        } else {
            ck_assert_int_eq(a[i].status, WF_OK);
        }
        wf_explanation_deinit(&a[i]);
    }
}
END_TEST

START_TEST(test_background_and_describe) {
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    lcg = 3;
    make_windows(&ws, 40);
    uint8_t flags[40] = {0};
    for (int i = 0; i < 40; i += 4)
        flags[i] = 1;
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.background_size = 12;
    s.seed = 5;
    wf_background b1, b2, k;
    wf_error err = {0};
    ck_assert(wf_background_build(&s, &ws, flags, &b1, &err) == WF_OK);
    ck_assert(wf_background_build(&s, &ws, flags, &b2, &err) == WF_OK);
    ck_assert_int_eq((int)b1.n, 12);
    ck_assert(!memcmp(b1.x, b2.x, sizeof(float) * 12 * CT_)); /* seeded */
    double sw = 0;
    for (int i = 0; i < 12; i++) {
        sw += b1.weight[i];
        int found = -1; /* every drawn window is an unflagged run window */
        for (int w = 0; w < 40; w++)
            if (!memcmp(ws.w[w].values, b1.x + i * CT_, sizeof(float) * CT_))
                found = w;
        ck_assert(found >= 0 && !flags[found]);
    }
    ck_assert(fabs(sw - 1) < 1e-12);
    ck_assert_msg(strstr(b1.description, "12 unflagged windows"), "%s", b1.description);
    s.background = WF_BACKGROUND_KMEANS;
    s.background_size = 5;
    ck_assert(wf_background_build(&s, &ws, flags, &k, &err) == WF_OK);
    sw = 0;
    for (int i = 0; i < k.n; i++)
        sw += k.weight[i];
    ck_assert(k.n >= 1 && k.n <= 5 && fabs(sw - 1) < 1e-12);
    ck_assert_msg(strstr(k.description, "k-means"), "%s", k.description);
    /* mean baseline = weighted per-channel mean; median of a known set */
    float base[CT_];
    ck_assert(wf_ig_baseline(WF_BASELINE_MEAN, &k, C_, T_, base, &err) == WF_OK);
    double want = 0; /* cluster-size-weighted centers = mean of the unflagged windows */
    for (int w = 0; w < 40; w++)
        if (!flags[w])
            for (int t = 0; t < T_; t++)
                want += ws.w[w].values[T_ + t];
    want /= 30.0 * T_;
    ck_assert_msg(fabs(base[T_ + 2] - want) < 1e-5, "%g vs %g", base[T_ + 2], want);
    char text[4096];
    s.background = WF_BACKGROUND_SAMPLE;
    wf_explain_describe(&s, &b1, text, sizeof text);
    ck_assert_msg(strstr(text, "No L1 feature selection"), "%s", text);
    ck_assert(strstr(text, "seed: 5") && strstr(text, "surrogate") && strstr(text, "mean"));
    wf_background_deinit(&b1);
    wf_background_deinit(&b2);
    wf_background_deinit(&k);
    wf_windows_free(&ws);
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("kernelshap");
    tcase_add_test(tc, test_exact_linear_closed_form);
    tcase_add_test(tc, test_exact_mlp_vs_permutations);
    tcase_add_test(tc, test_affine_equals_plain);
    tcase_add_test(tc, test_sampled_linear_exact);
    tcase_add_test(tc, test_shapley_axioms);
    tcase_add_test(tc, test_wls_vs_naive);
    tcase_add_test(tc, test_sampled_convergence_and_se);
    tcase_add_test(tc, test_players_and_errors);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("ig");
    tcase_add_test(ti, test_quadrature_captum);
    tcase_add_test(ti, test_ig_analytic);
    tcase_add_test(ti, test_expected_gradients_linear);
    suite_add_tcase(s, ti);
    TCase *tr = tcase_create("run");
    tcase_add_test(tr, test_spearman);
    tcase_add_test(tr, test_run_threads_and_failure);
    tcase_add_test(tr, test_background_and_describe);
    suite_add_tcase(s, tr);
    return tu_run_suite(s);
}
