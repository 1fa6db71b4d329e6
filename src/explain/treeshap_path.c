/*
 * Path-dependent TreeSHAP (include/whyflag/treeshap_path.h): Algorithm 2 of Lundberg et al.
 * ("From local explanations to global understanding with explainable AI for trees", 2020), as
 * shap's C implementation writes it (tree_shap.h: extend_path, unwind_path, unwound_path_sum,
 * tree_shap_recursive), with the player of a split's feature in place of the feature so that
 * grouped players are handled inside the algorithm, and the naive reference beside it (the
 * recursion of the conditional expectation over all 2^M coalitions).
 *
 * The path holds, per player met on the way to the current node, the fraction of cover rows
 * that would come this way with the player unknown (z) and whether x comes this way (o), and
 * pweight: the permutation weights of the subsets of the path's players. At a leaf each
 * player's contribution is (o - z) times the path's weight with that player unwound. A player
 * met again is unwound and re-extended with the product of its fractions. Sums in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/treeshap_path.h"
#include "whyflag/treeshap.h"
#include "treeshap_impl.h"

/* ---- covers ---- */

/* Post-order fix of the covers below node i: uncovered leaves get eps, branches the sum of their
 * children. Recursion depth = tree depth (the loader rejects cycles). */
static double fix_covers(const wf_tree_ensemble *te, int32_t i, double eps, double *cover,
                         int64_t *unc) {
    if (te->mode[i] == WF_TREE_LEAF) {
        if (cover[i] == 0) {
            cover[i] = eps;
            (*unc)++;
        }
        return cover[i];
    }
    double l = fix_covers(te, te->child_true[i], eps, cover, unc);
    double r = fix_covers(te, te->child_false[i], eps, cover, unc);
    cover[i] = l + r;
    return cover[i];
}

wf_status wf_tree_covers(const wf_tree_ensemble *te, const float *rows, const double *weight,
                         int64_t n, double *cover, int64_t *n_uncovered, wf_error *err) {
    if (n < 1)
        return wf_error_set(err, WF_ERR_INVALID,
                            "path-dependent TreeSHAP needs at least one row to count node covers");
    double total = 0;
    for (int32_t i = 0; i < te->n_nodes; i++)
        cover[i] = 0;
    for (int64_t r = 0; r < n; r++) {
        const float *x = rows + r * te->n_features;
        double w = weight ? weight[r] : 1.0;
        if (!(w >= 0))
            return wf_error_set(err, WF_ERR_INVALID, "cover row %lld has weight %g, expected >= 0",
                                (long long)r, w);
        total += w;
        for (int t = 0; t < te->n_trees; t++) {
            int32_t i = te->roots[t];
            for (;;) {
                cover[i] += w;
                if (te->mode[i] == WF_TREE_LEAF)
                    break;
                i = wf_tree_goes_true(te, i, x[te->feature[i]]) ? te->child_true[i]
                                                                : te->child_false[i];
            }
        }
    }
    if (!(total > 0))
        return wf_error_set(err, WF_ERR_INVALID, "the cover rows' weights sum to %g, expected > 0",
                            total);
    int64_t unc = 0;
    double eps = WF_TREE_COVER_EPS * total / (double)n;
    for (int t = 0; t < te->n_trees; t++)
        fix_covers(te, te->roots[t], eps, cover, &unc);
    if (n_uncovered)
        *n_uncovered = unc;
    return WF_OK;
}

/* ---- Algorithm 2 ---- */

typedef struct pd_el {
    int32_t p; /* player, -1 for the root's placeholder */
    double z;  /* zero fraction: share of cover coming this way with p unknown */
    double o;  /* one fraction: 1 when x comes this way, else 0 */
    double pw; /* permutation weight */
} pd_el;

static void extend_path(pd_el *u, int d, double z, double o, int32_t p) {
    u[d].p = p;
    u[d].z = z;
    u[d].o = o;
    u[d].pw = d == 0 ? 1.0 : 0.0;
    for (int i = d - 1; i >= 0; i--) {
        u[i + 1].pw += o * u[i].pw * (i + 1) / (double)(d + 1);
        u[i].pw = z * u[i].pw * (d - i) / (double)(d + 1);
    }
}

static void unwind_path(pd_el *u, int d, int k) {
    double o = u[k].o, z = u[k].z, next = u[d].pw;
    for (int i = d - 1; i >= 0; --i) {
        if (o != 0) {
            double tmp = u[i].pw;
            u[i].pw = next * (d + 1) / (double)((i + 1) * o);
            next = tmp - u[i].pw * z * (d - i) / (double)(d + 1);
        } else {
            u[i].pw = (u[i].pw * (d + 1)) / (double)(z * (d - i));
        }
    }
    for (int i = k; i < d; ++i) {
        u[i].p = u[i + 1].p;
        u[i].z = u[i + 1].z;
        u[i].o = u[i + 1].o;
    }
}

static double unwound_path_sum(const pd_el *u, int d, int k) {
    double o = u[k].o, z = u[k].z, next = u[d].pw, total = 0;
    if (o != 0) {
        for (int i = d - 1; i >= 0; --i) {
            double tmp = next / (double)((i + 1) * o);
            total += tmp;
            next = u[i].pw - tmp * z * (d - i);
        }
    } else {
        for (int i = d - 1; i >= 0; --i)
            total += u[i].pw / (z * (d - i));
    }
    return total * (d + 1);
}

typedef struct pd_ctx {
    const wf_tree_ensemble *te;
    const double *cover;
    const float *x;
    const int32_t *fp;
    double *phi;
} pd_ctx;

static int32_t hot_child(const wf_tree_ensemble *te, int32_t i, const float *x) {
    return wf_tree_goes_true(te, i, x[te->feature[i]]) ? te->child_true[i] : te->child_false[i];
}

static void recurse(const pd_ctx *k, int32_t node, int d, pd_el *parent, double pz, double po,
                    int32_t pp) {
    const wf_tree_ensemble *te = k->te;
    pd_el *u = parent + d + 1;
    memmove(u, parent, (size_t)(d + 1) * sizeof *u);
    extend_path(u, d, pz, po, pp);
    /* splits on features of no player: x's value is always known */
    while (te->mode[node] != WF_TREE_LEAF && k->fp[te->feature[node]] < 0)
        node = hot_child(te, node, k->x);
    if (te->mode[node] == WF_TREE_LEAF) {
        double v = te->value[node];
        for (int i = 1; i <= d; ++i) {
            double w = unwound_path_sum(u, d, i);
            double scale = w * (u[i].o - u[i].z);
            k->phi[u[i].p] += scale * v;
        }
        return;
    }
    int32_t p = k->fp[te->feature[node]];
    int32_t hot = hot_child(te, node, k->x);
    int32_t cold = hot == te->child_true[node] ? te->child_false[node] : te->child_true[node];
    double w = k->cover[node];
    double hz = k->cover[hot] / w, cz = k->cover[cold] / w, iz = 1, io = 1;
    int pi = 0;
    for (; pi <= d; ++pi)
        if (u[pi].p == p)
            break;
    if (pi != d + 1) {
        iz = u[pi].z;
        io = u[pi].o;
        unwind_path(u, d, pi);
        d -= 1;
    }
    recurse(k, hot, d + 1, u, hz * iz, io, p);
    recurse(k, cold, d + 1, u, cz * iz, 0, p);
}

/* Cover-weighted expectation of the subtree at i (as shap's compute_expectations), following x
 * at splits on features of no player: v({}) of the game. */
static double expectation(const pd_ctx *k, int32_t i) {
    const wf_tree_ensemble *te = k->te;
    if (te->mode[i] == WF_TREE_LEAF)
        return te->value[i];
    if (k->fp[te->feature[i]] < 0)
        return expectation(k, hot_child(te, i, k->x));
    int32_t l = te->child_true[i], r = te->child_false[i];
    double lw = k->cover[l], rw = k->cover[r];
    if (lw == 0 && rw == 0)
        return 0;
    return (lw * expectation(k, l) + rw * expectation(k, r)) / (lw + rw);
}

static int tree_depth(const wf_tree_ensemble *te, int32_t i) {
    if (te->mode[i] == WF_TREE_LEAF)
        return 0;
    int l = tree_depth(te, te->child_true[i]), r = tree_depth(te, te->child_false[i]);
    return 1 + (l > r ? l : r);
}

static double margin(const wf_tree_ensemble *te, const float *x) {
    double f = te->base;
    for (int t = 0; t < te->n_trees; t++) {
        int32_t i = te->roots[t];
        while (te->mode[i] != WF_TREE_LEAF)
            i = hot_child(te, i, x);
        f += te->value[i];
    }
    return f;
}

static wf_status check_covers(const wf_tree_ensemble *te, const double *cover, wf_error *err) {
    for (int32_t i = 0; i < te->n_nodes; i++)
        if (!(cover[i] > 0))
            return wf_error_set(err, WF_ERR_INVALID,
                                "node %d has cover %g, expected > 0 (count covers with "
                                "wf_tree_covers)",
                                i, cover[i]);
    return WF_OK;
}

wf_status wf_treeshap_path_rows(const wf_tree_ensemble *te, const double *cover, const float *x,
                                const int32_t *feat_player, int M, double *phi, double *f_x,
                                double *base, wf_error *err) {
    wf_status s = check_covers(te, cover, err);
    if (s)
        return s;
    int D = 0;
    for (int t = 0; t < te->n_trees; t++) {
        int d = tree_depth(te, te->roots[t]);
        D = d > D ? d : D;
    }
    size_t maxd = (size_t)D + 2;
    pd_el *path = calloc(maxd * (maxd + 1) / 2 + maxd + 1, sizeof *path);
    if (!path)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (TreeSHAP path)");
    for (int p = 0; p < M; p++)
        phi[p] = 0;
    pd_ctx k = {te, cover, x, feat_player, phi};
    double b = 0;
    for (int t = 0; t < te->n_trees; t++) {
        b += expectation(&k, te->roots[t]);
        recurse(&k, te->roots[t], 0, path, 1, 1, -1);
    }
    *base = b + te->base;
    *f_x = margin(te, x);
    free(path);
    return WF_OK;
}

/* ---- naive reference ---- */

/* E_t(x, S) below node i: follow x where the split's player is in S (or is none). */
static double cond_exp(const wf_tree_ensemble *te, const double *cover, const float *x,
                       const int32_t *fp, uint32_t S, int32_t i) {
    if (te->mode[i] == WF_TREE_LEAF)
        return te->value[i];
    int32_t p = fp[te->feature[i]];
    if (p < 0 || (S >> p & 1u))
        return cond_exp(te, cover, x, fp, S, hot_child(te, i, x));
    int32_t l = te->child_true[i], r = te->child_false[i];
    return cover[l] / cover[i] * cond_exp(te, cover, x, fp, S, l) +
           cover[r] / cover[i] * cond_exp(te, cover, x, fp, S, r);
}

wf_status wf_treeshap_path_naive(const wf_tree_ensemble *te, const double *cover, const float *x,
                                 const int32_t *feat_player, int M, double *phi, double *f_x,
                                 double *base, wf_error *err) {
    if (M < 0 || M > 20)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "the naive path-dependent TreeSHAP enumerates 2^M coalitions: M = %d, "
                            "expected 0..20",
                            M);
    wf_status s = check_covers(te, cover, err);
    if (s)
        return s;
    uint32_t n = 1u << M;
    double *v = malloc((size_t)n * sizeof *v);
    double *w = malloc(((size_t)M + 1) * sizeof *w);
    if (!v || !w) {
        free(v);
        free(w);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (naive TreeSHAP)");
    }
    for (uint32_t S = 0; S < n; S++) {
        double e = te->base;
        for (int t = 0; t < te->n_trees; t++)
            e += cond_exp(te, cover, x, feat_player, S, te->roots[t]);
        v[S] = e;
    }
    /* w[s] = s! (M - s - 1)! / M! */
    for (int sz = 0; sz < M; sz++) {
        double c = 1.0 / M;
        for (int j = 1; j <= sz; j++)
            c *= (double)j / (double)(M - j);
        w[sz] = c;
    }
    for (int p = 0; p < M; p++) {
        double acc = 0;
        for (uint32_t S = 0; S < n; S++) {
            if (S >> p & 1u)
                continue;
            int sz = 0;
            for (uint32_t b = S; b; b &= b - 1)
                sz++;
            acc += w[sz] * (v[S | 1u << p] - v[S]);
        }
        phi[p] = acc;
    }
    *base = v[0];
    *f_x = margin(te, x);
    free(v);
    free(w);
    return WF_OK;
}

/* ---- on windows ---- */

struct wf_treeshap_path {
    const wf_tree_model *tm;
    wf_treeshap *inner; /* feature -> player map and the cover rows */
    double *cover;      /* (n_nodes) */
    int64_t n_uncovered, n_leaves;
    int M;
};

void wf_treeshap_path_free(wf_treeshap_path *ts) {
    if (!ts)
        return;
    wf_treeshap_free(ts->inner);
    free(ts->cover);
    free(ts);
}

wf_status wf_treeshap_path_new(const wf_tree_model *tm, const float *cw, const double *weight,
                               int64_t n, int M, const int64_t *start, const int64_t *cells,
                               wf_treeshap_path **out, wf_error *err) {
    *out = NULL;
    if (n < 1)
        return wf_error_set(err, WF_ERR_INVALID,
                            "path-dependent TreeSHAP needs at least one window to count node "
                            "covers");
    const wf_tree_ensemble *te = wf_tree_model_ensemble(tm);
    wf_treeshap_path *ts = calloc(1, sizeof *ts);
    if (!ts)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    ts->tm = tm;
    ts->M = M;
    /* wf_treeshap_new normalizes the weights to sum 1; covers only use their ratios */
    wf_status s = wf_treeshap_new(tm, cw, weight, n, M, start, cells, &ts->inner, err);
    if (s)
        goto fail;
    ts->cover = malloc(((size_t)te->n_nodes + 1) * sizeof *ts->cover);
    if (!ts->cover) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    const int32_t *fp;
    const float *rows;
    const double *w;
    int64_t nr;
    wf_treeshap_parts(ts->inner, &fp, &rows, &w, &nr);
    s = wf_tree_covers(te, rows, weight ? w : NULL, nr, ts->cover, &ts->n_uncovered, err);
    if (s)
        goto fail;
    for (int32_t i = 0; i < te->n_nodes; i++)
        ts->n_leaves += te->mode[i] == WF_TREE_LEAF;
    *out = ts;
    return WF_OK;
fail:
    wf_treeshap_path_free(ts);
    return s;
}

void wf_treeshap_path_coverage(const wf_treeshap_path *ts, int64_t *n_uncovered,
                               int64_t *n_leaves) {
    *n_uncovered = ts->n_uncovered;
    *n_leaves = ts->n_leaves;
}

wf_status wf_treeshap_path_explain(const wf_treeshap_path *ts, const float *x, double *phi,
                                   double *f_x, double *base, wf_error *err) {
    const wf_tree_ensemble *te = wf_tree_model_ensemble(ts->tm);
    float *row = malloc(((size_t)te->n_features + 1) * sizeof *row);
    if (!row)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    const int32_t *fp;
    const float *rows;
    const double *w;
    int64_t nr;
    wf_treeshap_parts(ts->inner, &fp, &rows, &w, &nr);
    wf_status s = wf_tree_model_rows(ts->tm, x, 1, row, err);
    if (!s)
        s = wf_treeshap_path_rows(te, ts->cover, row, fp, ts->M, phi, f_x, base, err);
    free(row);
    return s;
}
