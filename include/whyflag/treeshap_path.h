/*
 * whyflag: path-dependent TreeSHAP (shap's feature_perturbation="tree_path_dependent",
 * Lundberg et al. 2020, Algorithm 2) for tree-ensemble models, with node covers counted from
 * data, since ONNX TreeEnsemble files carry none.
 *
 * The game: v(S) = base + sum over trees of E_t(x, S), where E_t walks tree t from its root; at
 * a split on a feature of a player in S (or of no player) it follows x's branch, at a split on a
 * feature of a player outside S it averages both branches weighted by cover(child) /
 * cover(node). The values are the Shapley values of that game, phi sums to margin(x) - v({}).
 * With one player per tree feature this is exactly shap's tree_path_dependent with
 * node_sample_weight = the covers; players group features inside the algorithm (a player's
 * features are "known" together), as for interventional TreeSHAP.
 *
 * Covers (wf_tree_covers): each cover row (a window's tree-input row) is routed through every
 * tree exactly as the model scores it (wf_tree_goes_true: thresholds compared in float, NaN to
 * the true child when nodes_missing_value_tracks_true is set, else as the comparison with NaN
 * falls: false for LEQ/LT/GTE/GT/EQ, true for NEQ) and adds its weight (1 when weights are NULL)
 * to every node it passes. A leaf no row reaches gets the pseudo-cover 1e-6 x the mean row
 * weight (shap gives uncovered nodes 1e-6 too), and a branch's cover is the sum of its
 * children's, so covers stay additive: a node no row reaches splits its weight between its
 * branches in proportion to their leaves, and it weighs (number of leaves below) x 1e-6 against
 * its covered sibling. When every leaf is reached the covers are the exact counts.
 *
 * Threads: wf_treeshap_path is read-only after _new; _explain may run from many threads.
 * Ownership: wf_treeshap_path_new -> wf_treeshap_path_free; the tree model must outlive it.
 */
#ifndef WHYFLAG_TREESHAP_PATH_H
#define WHYFLAG_TREESHAP_PATH_H

#include <stdint.h>

#include "whyflag/status.h"
#include "whyflag/trees.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pseudo-cover of a leaf no cover row reaches, relative to the mean row weight. */
#define WF_TREE_COVER_EPS 1e-6

/* cover (n_nodes): node covers of the rows (n, n_features) with weights (n) or NULL (1 each),
 * by the rule above. *n_uncovered (may be NULL): leaves no row reached. */
wf_status wf_tree_covers(const wf_tree_ensemble *te, const float *rows, const double *weight,
                         int64_t n, double *cover, int64_t *n_uncovered, wf_error *err);

typedef struct wf_treeshap_path wf_treeshap_path;

/* Covers from the windows cw (n, C, T) (weights (n) or NULL); players in CSR form as for
 * wf_treeshap_new (same rule: every tree feature inside one player). */
wf_status wf_treeshap_path_new(const wf_tree_model *tm, const float *cw, const double *weight,
                               int64_t n, int M, const int64_t *start, const int64_t *cells,
                               wf_treeshap_path **out, wf_error *err);
void wf_treeshap_path_free(wf_treeshap_path *ts);

/* Values of window x (C, T): phi (M), *f_x = margin(x), *base = v({}) (the cover-weighted mean
 * margin). */
wf_status wf_treeshap_path_explain(const wf_treeshap_path *ts, const float *x, double *phi,
                                   double *f_x, double *base, wf_error *err);
/* Leaves no cover row reached, and all leaves. */
void wf_treeshap_path_coverage(const wf_treeshap_path *ts, int64_t *n_uncovered, int64_t *n_leaves);

/* The same on one tree-input row x (n_features) with covers (n_nodes) and feature -> player map
 * (n_features; -1: always follows x). Allocates O(depth^2) scratch per call. */
wf_status wf_treeshap_path_rows(const wf_tree_ensemble *te, const double *cover, const float *x,
                                const int32_t *feat_player, int M, double *phi, double *f_x,
                                double *base, wf_error *err);

/* Naive reference: v(S) for all 2^M coalitions by the recursion above, then the Shapley sum.
 * M <= 20. Same outputs as wf_treeshap_path_rows. */
wf_status wf_treeshap_path_naive(const wf_tree_ensemble *te, const double *cover, const float *x,
                                 const int32_t *feat_player, int M, double *phi, double *f_x,
                                 double *base, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif
