/*
 * Interventional TreeSHAP with grouped players (include/whyflag/treeshap.h).
 *
 * For one window x, one background row b and one tree, the margin of the composite input
 * (x on the players in S, b elsewhere) reaches leaf L exactly when every split on L's path that
 * x and b take differently agrees with S: the players whose x side leads to L must be in S (set
 * A), those whose b side leads to L must be out (set B). That game, g(S) = v_L [A in S, B out of
 * S], has the Shapley values
 *   phi_i = v_L (|A|-1)! |B|! / (|A|+|B|)!   for i in A,
 *   phi_i = -v_L |A]! (|B|-1)! / (|A|+|B|)!  for i in B,   0 otherwise,
 * and the game of the margin is the sum of these games over reached leaves, trees and
 * background rows (weighted). A path on which one player would have to be both in and out of S
 * is never walked: once a player's side is chosen, later splits of its features follow it.
 * Sums in double; leaves, thresholds and comparisons as the model computes them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/treeshap.h"
#include "treeshap_impl.h"

struct wf_treeshap {
    const wf_tree_model *tm;
    int M, F, depth;
    int64_t nb;
    float *bg_rows;       /* (nb, F) */
    double *weight;       /* (nb) */
    int32_t *feat_player; /* (F) */
};

typedef struct ts_walk {
    const wf_tree_ensemble *te;
    const float *x, *b;
    const int32_t *fp;
    uint8_t *state;     /* (M): 0 free, 1 in S (x side), 2 out of S (b side) */
    int32_t *in_list;   /* (depth) players of A */
    int32_t *out_list;  /* (depth) players of B */
    const double *coef; /* (depth + 1)^2: coef[a * (D + 1) + c] = (a-1)! c! / (a+c)! */
    int D;
    double w; /* background row weight */
    double *phi;
} ts_walk;

static void walk(ts_walk *k, int32_t i, int a, int c) {
    const wf_tree_ensemble *te = k->te;
    if (te->mode[i] == WF_TREE_LEAF) {
        double v = te->value[i] * k->w;
        if (v == 0 || a + c == 0)
            return;
        if (a) {
            double win = v * k->coef[a * (k->D + 1) + c];
            for (int j = 0; j < a; j++)
                k->phi[k->in_list[j]] += win;
        }
        if (c) {
            double wout = -v * k->coef[c * (k->D + 1) + a];
            for (int j = 0; j < c; j++)
                k->phi[k->out_list[j]] += wout;
        }
        return;
    }
    int32_t f = te->feature[i];
    int32_t cx = wf_tree_goes_true(te, i, k->x[f]) ? te->child_true[i] : te->child_false[i];
    int32_t cb = wf_tree_goes_true(te, i, k->b[f]) ? te->child_true[i] : te->child_false[i];
    int32_t p = k->fp[f];
    if (cx == cb || p < 0) {
        walk(k, cx, a, c);
        return;
    }
    if (k->state[p] == 1) {
        walk(k, cx, a, c);
        return;
    }
    if (k->state[p] == 2) {
        walk(k, cb, a, c);
        return;
    }
    k->state[p] = 1;
    k->in_list[a] = p;
    walk(k, cx, a + 1, c);
    k->state[p] = 2;
    k->out_list[c] = p;
    walk(k, cb, a, c + 1);
    k->state[p] = 0;
}

static double leaf_value(const wf_tree_ensemble *te, int32_t i, const float *x) {
    while (te->mode[i] != WF_TREE_LEAF)
        i = wf_tree_goes_true(te, i, x[te->feature[i]]) ? te->child_true[i] : te->child_false[i];
    return te->value[i];
}

/* Largest number of splits on a root-to-leaf path. */
static int max_depth(const wf_tree_ensemble *te, wf_error *err, int *out) {
    int32_t *stack = malloc(((size_t)te->n_nodes + 1) * 2 * sizeof *stack);
    if (!stack)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    int best = 0;
    for (int t = 0; t < te->n_trees; t++) {
        int sp = 0;
        stack[sp++] = te->roots[t];
        stack[sp++] = 0;
        while (sp) {
            int d = stack[--sp];
            int32_t i = stack[--sp];
            if (te->mode[i] == WF_TREE_LEAF) {
                best = d > best ? d : best;
                continue;
            }
            if (sp + 4 > 2 * te->n_nodes + 2)
                break; /* cannot happen for a tree; the loader checked */
            stack[sp++] = te->child_true[i];
            stack[sp++] = d + 1;
            stack[sp++] = te->child_false[i];
            stack[sp++] = d + 1;
        }
    }
    free(stack);
    *out = best;
    return WF_OK;
}

static double logistic(double m) {
    return 1 / (1 + exp(-m));
}

/* logistic: shap's model_output="probability" rescaling (per background row, the row's margin
 * values times (sigma(f(x)) - sigma(f(b))) / (f(x) - f(b)), times 1 when f(x) == f(b)). */
static wf_status rows_core(const wf_tree_ensemble *te, const float *x, const float *bg,
                           const double *weight, int64_t nb, const int32_t *feat_player, int M,
                           int logit, double *phi, double *f_x, double *base, wf_error *err) {
    if (nb < 1 || M < 0)
        return wf_error_set(err, WF_ERR_INVALID, "TreeSHAP needs at least one background row");
    int D = 0;
    wf_status s = max_depth(te, err, &D);
    if (s)
        return s;
    if (D > 4096)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "a tree is %d splits deep; TreeSHAP supports up to 4096", D);
    size_t nc = (size_t)(D + 1) * (size_t)(D + 1);
    double *coef = malloc(nc * sizeof *coef);
    uint8_t *state = calloc((size_t)M + 1, 1);
    int32_t *lists = malloc(((size_t)D + 1) * 2 * sizeof *lists);
    double *phir = logit ? calloc((size_t)M + 1, sizeof *phir) : NULL;
    if (!coef || !state || !lists || (logit && !phir)) {
        free(coef);
        free(state);
        free(lists);
        free(phir);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    /* coef(a, c) = (a-1)! c! / (a+c)! = 1 / (a * binom(a+c, a)) */
    for (int a = 0; a <= D; a++)
        for (int c = 0; c <= D; c++) {
            double bin = 1;
            for (int j = 1; j <= a; j++)
                bin = bin * (c + j) / j;
            coef[a * (D + 1) + c] = a ? 1.0 / (a * bin) : 0;
        }
    for (int p = 0; p < M; p++)
        phi[p] = 0;
    ts_walk k = {te, x, NULL, feat_player, state, lists, lists + D + 1, coef, D, 0, phi};
    double fx = te->base, eb = 0;
    for (int t = 0; t < te->n_trees; t++)
        fx += leaf_value(te, te->roots[t], x);
    for (int64_t r = 0; r < nb; r++) {
        k.b = bg + r * te->n_features;
        double w = weight ? weight[r] : 1.0 / (double)nb;
        double fb = te->base;
        if (logit) { /* this row's margin values alone, then rescaled */
            k.w = 1;
            k.phi = phir;
            for (int p = 0; p < M; p++)
                phir[p] = 0;
        } else {
            k.w = w;
        }
        for (int t = 0; t < te->n_trees; t++) {
            fb += leaf_value(te, te->roots[t], k.b);
            walk(&k, te->roots[t], 0, 0);
        }
        if (logit) {
            double f = fx == fb ? 1.0 : (logistic(fx) - logistic(fb)) / (fx - fb);
            for (int p = 0; p < M; p++)
                phi[p] += w * f * phir[p];
            eb += w * logistic(fb);
        } else {
            eb += w * fb;
        }
    }
    *f_x = logit ? logistic(fx) : fx;
    *base = eb;
    free(coef);
    free(state);
    free(lists);
    free(phir);
    return WF_OK;
}

wf_status wf_treeshap_rows(const wf_tree_ensemble *te, const float *x, const float *bg,
                           const double *weight, int64_t nb, const int32_t *feat_player, int M,
                           double *phi, double *f_x, double *base, wf_error *err) {
    return rows_core(te, x, bg, weight, nb, feat_player, M, 0, phi, f_x, base, err);
}

void wf_treeshap_free(wf_treeshap *ts) {
    if (!ts)
        return;
    free(ts->bg_rows);
    free(ts->weight);
    free(ts->feat_player);
    free(ts);
}

wf_status wf_treeshap_new(const wf_tree_model *tm, const float *bg, const double *weight,
                          int64_t nb, int M, const int64_t *start, const int64_t *cells,
                          wf_treeshap **out, wf_error *err) {
    *out = NULL;
    const wf_tree_ensemble *te = wf_tree_model_ensemble(tm);
    if (nb < 1)
        return wf_error_set(err, WF_ERR_INVALID, "TreeSHAP needs at least one background window");
    /* cells of the model's windows: the largest cell a feature reads bounds the map */
    int64_t ncell = 0;
    for (int64_t i = 0; i < start[M]; i++)
        ncell = cells[i] + 1 > ncell ? cells[i] + 1 : ncell;
    for (int f = 0; f < te->n_features; f++) {
        const int32_t *fc;
        int k = wf_tree_model_feature_cells(tm, f, &fc);
        for (int j = 0; j < k; j++)
            ncell = fc[j] + 1 > ncell ? fc[j] + 1 : ncell;
    }
    wf_treeshap *ts = calloc(1, sizeof *ts);
    int32_t *cell_player = malloc(((size_t)ncell + 1) * sizeof *cell_player);
    wf_status s = WF_OK;
    if (!ts || !cell_player) {
        free(ts);
        free(cell_player);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    ts->tm = tm;
    ts->M = M;
    ts->F = te->n_features;
    ts->nb = nb;
    for (int64_t c = 0; c < ncell; c++)
        cell_player[c] = -1;
    for (int p = 0; p < M; p++)
        for (int64_t i = start[p]; i < start[p + 1]; i++) {
            if (cells[i] < 0 || cell_player[cells[i]] >= 0) {
                s = wf_error_set(err, WF_ERR_INVALID,
                                 "TreeSHAP players must be disjoint sets of cells: cell %lld is "
                                 "in players %d and %d",
                                 (long long)cells[i], cell_player[cells[i]], p);
                goto fail;
            }
            cell_player[cells[i]] = p;
        }
    ts->feat_player = malloc(((size_t)ts->F + 1) * sizeof *ts->feat_player);
    ts->bg_rows = malloc(((size_t)nb * (size_t)ts->F + 1) * sizeof *ts->bg_rows);
    ts->weight = malloc((size_t)nb * sizeof *ts->weight);
    if (!ts->feat_player || !ts->bg_rows || !ts->weight) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int f = 0; f < ts->F; f++) {
        const int32_t *fc;
        int k = wf_tree_model_feature_cells(tm, f, &fc);
        int p = -1;
        for (int j = 0; j < k; j++) {
            int q = cell_player[fc[j]];
            if (q < 0) {
                s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                                 "tree feature %d depends on cell %d, which is in no player", f,
                                 fc[j]);
                goto fail;
            }
            if (p >= 0 && q != p) {
                s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                                 "tree feature %d depends on cells of players %d and %d (the "
                                 "graph combines cells before the trees, e.g. a per-channel "
                                 "summary): TreeSHAP needs every tree feature inside one player; "
                                 "use players that hold whole summaries (channels) or KernelSHAP",
                                 f, p, q);
                goto fail;
            }
            p = q;
        }
        ts->feat_player[f] = p;
    }
    for (int64_t r = 0; r < nb; r++)
        ts->weight[r] = weight ? weight[r] : 1.0 / (double)nb;
    s = wf_tree_model_rows(tm, bg, nb, ts->bg_rows, err);
    if (s)
        goto fail;
    free(cell_player);
    *out = ts;
    return WF_OK;
fail:
    free(cell_player);
    wf_treeshap_free(ts);
    return s;
}

static wf_status explain(const wf_treeshap *ts, const float *x, int logit, double *phi, double *f_x,
                         double *base, wf_error *err) {
    float *row = malloc(((size_t)ts->F + 1) * sizeof *row);
    if (!row)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    wf_status s = wf_tree_model_rows(ts->tm, x, 1, row, err);
    if (!s)
        s = rows_core(wf_tree_model_ensemble(ts->tm), row, ts->bg_rows, ts->weight, ts->nb,
                      ts->feat_player, ts->M, logit, phi, f_x, base, err);
    free(row);
    return s;
}

wf_status wf_treeshap_explain(const wf_treeshap *ts, const float *x, double *phi, double *f_x,
                              double *base, wf_error *err) {
    return explain(ts, x, 0, phi, f_x, base, err);
}

wf_status wf_treeshap_explain_probability(const wf_treeshap *ts, const float *x, double *phi,
                                          double *p_x, double *p_base, wf_error *err) {
    int link = wf_tree_model_output_link(ts->tm);
    if (link < 0)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "the score is not the margin or a logistic map of it (%s): no "
                            "probability-scale TreeSHAP",
                            wf_tree_model_margin_name(ts->tm));
    return explain(ts, x, link == 1, phi, p_x, p_base, err);
}

void wf_treeshap_parts(const wf_treeshap *ts, const int32_t **feat_player, const float **rows,
                       const double **weight, int64_t *n) {
    *feat_player = ts->feat_player;
    *rows = ts->bg_rows;
    *weight = ts->weight;
    *n = ts->nb;
}
