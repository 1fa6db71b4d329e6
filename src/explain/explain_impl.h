/*
 * Internals of the explain stage shared by its files and reachable by tests: players (groups of
 * window cells), the per-thread coalition evaluator, KernelSHAP on one window, IG on one window,
 * quadrature rules and the small dense solver.
 */
#ifndef WF_EXPLAIN_IMPL_H
#define WF_EXPLAIN_IMPL_H

#include <stdint.h>

#include "whyflag/explain.h"
#include "whyflag/rng.h"

/* ---- players (players.c) ---- */

/* M players; player p holds cells[start[p] .. start[p+1]) (indices c*T+t). */
typedef struct wf_players {
    int M, C, T;
    int64_t *start;  /* (M+1) */
    int64_t *cells;  /* (start[M]) */
    char **names;    /* (M) */
    int is_channels; /* 1 when player p is exactly channel p (agreement is defined) */
} wf_players;

/* channels: C names (may be NULL: "c0", "c1", ...). */
wf_status wf_players_build(const wf_explain_settings *s, int C, int T, char *const *channels,
                           wf_players *pl, wf_error *err);
void wf_players_free(wf_players *pl);

/* ---- coalition values v(S) (coalitions.c) ---- */

/* Per-thread evaluator of v(S) = link-space weighted mean over background rows b of
 * f(x with S's cells, b elsewhere). */
typedef struct wf_coal_eval {
    const wf_predictor *p;
    const wf_background *bg;
    const wf_players *pl;
    wf_link link;
    int affine;              /* 1: the affine shortcut is available (partials computed) */
    int auto_path;           /* 1: choose the shortcut or the plain path per call, by cost */
    int64_t first_layer_nnz; /* nonzero weights of A (the plain first layer's cost per row) */
    void *ctx;               /* predictor context, owned */
    int64_t max_batch;       /* rows per predict call */
    const float *x;          /* (C*T) window being explained (borrowed) */
    float *xbuf;             /* (max_batch, C*T) masked inputs */
    float *ybuf;             /* (max_batch) */
    float *hbuf;             /* (max_batch, hidden) affine path */
    uint8_t *cellmask;       /* (C*T) */
    double *hb;              /* (n_bg, hidden) a0 + A b, per background row (once) */
    double *hx;              /* (hidden) a0 + A x (per window) */
    float *D;                /* (n_bg, M, hidden) A[:,cells p] (x - b)[cells p] (per window) */
    int *act;                /* (M) scratch: players whose partials a coalition adds */
    const float **rows;      /* (M) scratch: those partials' rows (sum_rows) */
    float *coef;             /* (M) scratch: their factors */
    int single;              /* every player is one cell: partials from AT and diff, no D */
    float *AT;               /* (C*T, hidden) the first layer transposed (single-cell players) */
    float *diff;             /* (n_bg, C*T) x - b (per window, single-cell players) */
    float *ub;               /* (n_bg, C*T) g(b) when the predictor has affine_input, else NULL */
    float *ux;               /* (C*T) g(x) (per window), idem */
    double *dxd;             /* (C*T + hidden) scratch of the partials (x - b, one sum row) */
    double *Pb;              /* (M, n_bg, hidden) A[:,cells p] b[cells p] (once; NULL: formed per
                              * window from x - b, when it would not fit the partials' budget) */
    float *hbf, *hxf;        /* hb and hx rounded to float (the coalition rows' start values) */
    int64_t evaluations;     /* model rows evaluated (for benchmarks) */
    double *gram;            /* (gram_cap) KernelSHAP's normal equations, reused across windows
                              * (a fresh 287 x 287 block per solve was paged in every time) */
    size_t gram_cap;
} wf_coal_eval;

/* affine: 0 plain path; 1 the affine shortcut when the predictor has one and it pays (channel
 * groups, segments; not single cells); 2 the shortcut whenever the predictor has one (tests). */
wf_status wf_coal_eval_init(wf_coal_eval *ev, const wf_predictor *p, const wf_background *bg,
                            const wf_players *pl, wf_link link, int affine, int64_t max_batch,
                            wf_error *err);
void wf_coal_eval_free(wf_coal_eval *ev);
/* Set the window x (C*T) to explain (precomputes the affine partials). */
wf_status wf_coal_eval_window(wf_coal_eval *ev, const float *x, wf_error *err);
/* v[k] for coalitions masks (n, M) (1 = player on, takes x's cells). */
wf_status wf_coal_eval_values(wf_coal_eval *ev, const uint8_t *masks, int64_t n, double *v,
                              wf_error *err);
/* The link applied to a probability-space value (identity, logit). */
double wf_link_apply(wf_link link, double v);

/* ---- KernelSHAP (kshap.c) ---- */

/* Explain the window set in ev with nsamples (> 0, AUTO or EXACT); fills out (allocates its
 * arrays; names copied from the players). rng: this window's stream. */
wf_status wf_kshap_window(wf_coal_eval *ev, int64_t nsamples, int64_t max_samples,
                          double convergence, wf_rng *rng, wf_kshap_result *out, wf_error *err);
void wf_kshap_result_free(wf_kshap_result *r);

/* Exact Shapley values from all 2^M coalition values v[mask] (bit p = player p), in double. */
void wf_shapley_exact(double *phi, const double *v, int M);

/* Largest M for exact mode. */
#define WF_KSHAP_EXACT_MAX_M 24

/* ---- linear algebra (solve.c) ---- */

/* Solve A x = b in place for symmetric A (n, n) by Gaussian elimination with partial pivoting
 * (A and b are overwritten, x returned in b). Returns -1 if A is (numerically) singular. */
int wf_solve_dense(double *A, double *b, int n);

/* shap's constrained weighted least squares: phi with sum(phi) = total exactly, minimising
 * sum_k w_k (v_k - base - z_k . phi)^2. z: (n, M) 0/1, w: (n), v: (n) link-space values.
 * gram: (M - 1)^2 doubles of workspace for the normal equations, or NULL to allocate them.
 * Returns -1 if the system is singular. */
int wf_kshap_wls(double *phi, const uint8_t *z, const double *w, const double *v, int64_t n, int M,
                 double base, double fx, double *gram);
/* The same by the textbook formulas (dense X, X^T W X): the reference the tests compare with. */
int wf_kshap_wls_naive(double *phi, const uint8_t *z, const double *w, const double *v, int64_t n,
                       int M, double base, double fx);

/* ---- Integrated Gradients (ig.c) ---- */

/* Quadrature on [0, 1] as captum's approximation_methods: alphas and weights (n each), ascending;
 * WF_IG_CLENSHAW_CURTIS: n nodes on n - 1 intervals, both ends included. 0 when out of memory. */
int wf_ig_quadrature(wf_ig_rule rule, int n, double *alphas, double *weights);

/* Per-thread IG workspace. */
typedef struct wf_ig_eval {
    const wf_predictor *p;
    void *ctx;
    int64_t max_batch;
    float *xbuf, *ybuf, *gbuf; /* (max_batch, C*T), (max_batch), (max_batch, C*T) */
    double *acc;               /* (C*T) */
    int max_steps;
    /* Quadrature nodes computed once per (rule, step count) and kept for the eval's life (the
     * eval is per thread, so no lock; the same function fills them, so values are identical). */
    struct wf_ig_qcache {
        int rule, n;
        double *alphas, *weights; /* (n) each, one allocation */
    } qcache[16];
    int n_qcache;
    /* Adaptive Clenshaw-Curtis: the gradients of every node evaluated so far for the current
     * window, in the order they were evaluated (the 17 nodes of 16 intervals, then the new odd
     * nodes of each doubling). gstore: (gstore_cap, C*T), grown by doubling. */
    float *gstore;
    int64_t gstore_cap;
    int *slot; /* (gstore_cap) scratch: node j of the current level -> its row in gstore */
    /* The first-layer cut (the predictor's grad_hidden, unless explain.arithmetic "exact"):
     * rows whose gradient factors through the first layer keep d f / d h (hidden floats) and
     * are summed on h, then mapped to the cells once (hidden_to_input). hbuf: (max_batch,
     * hidden), hrow: (max_batch) 1 where hbuf's row holds the row's gradient; hstore:
     * (gstore_cap, hidden) and kind: (gstore_cap) the same for the stored nodes; acch: (hidden)
     * and accx: (C*T) the sums. cut_rows: rows that took the cut (the benchmarks count). */
    int cut;
    int64_t hidden;
    float *hbuf, *hstore;
    uint8_t *hrow, *kind;
    double *acch, *accx;
    int64_t cut_rows;
    /* The hidden path (the predictor's grad_from_hidden, with the cut): rows are formed on the
     * first layer's pre-activation, hb + a (hx - hb), from hx = A x + a0 and hb = A xb + a0
     * computed once per window in double (hxb: (2, hidden)); hin: (max_batch, hidden). AT:
     * (C*T, hidden) the first layer transposed; hb_of: (C*T) the baseline hb was computed for
     * (have_hb), reused while the windows share it. */
    int hpath, have_hb;
    double *hxb;
    float *hin, *AT, *hb_of;
    /* Rows handed to the predictor's grad() since init (path nodes and the x, x' rows that ride
     * along): what the benchmarks count. */
    int64_t grad_rows;
} wf_ig_eval;

wf_status wf_ig_eval_init(wf_ig_eval *ev, const wf_predictor *p, int max_steps, int64_t max_batch,
                          wf_error *err);
void wf_ig_eval_free(wf_ig_eval *ev);

/* IG of x against baseline xb (both (C*T)) with `steps` (> 0) or adaptive (steps == 0, up to
 * max_steps, tolerance tol). Fills out (allocates values and channel_sums). */
/* WF_IG_AUTO resolved: Clenshaw-Curtis when steps == 0 (adaptive), else Gauss-Legendre. */
wf_ig_rule wf_ig_rule_resolve(wf_ig_rule rule, int steps);
wf_status wf_ig_window(wf_ig_eval *ev, const float *x, const float *xb, wf_ig_rule rule, int steps,
                       int max_steps, double tol, wf_ig_result *out, wf_error *err);
/* Expected Gradients: n_draws (background row, alpha) pairs drawn from rng. */
wf_status wf_eg_window(wf_ig_eval *ev, const float *x, const wf_background *bg, int n_draws,
                       wf_rng *rng, wf_ig_result *out, wf_error *err);
void wf_ig_result_free(wf_ig_result *r);

/* Baseline window (C*T) from the background: mean, median, zeros. */
wf_status wf_ig_baseline(wf_baseline_kind kind, const wf_background *bg, int C, int T, float *out,
                         wf_error *err);

/* ---- agreement (explain.c) ---- */

/* Spearman rank correlation with average ranks for ties; NaN if n < 2 or a side is constant. */
double wf_spearman(const double *a, const double *b, int n);

#endif
