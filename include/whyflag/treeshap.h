/*
 * whyflag: interventional TreeSHAP for tree-ensemble models (exact Shapley values of the raw
 * margin, players = groups of window cells, against a weighted background).
 *
 * For players P (a partition of window cells: channels, segments or single cells) the game is
 *   v(S) = sum_b w_b * margin(x_S, b_rest)
 * with x_S the window's cells for players in S and the background window b's elsewhere: the
 * same game that KernelSHAP estimates with that background, so the values equal exact
 * KernelSHAP of the margin. The algorithm walks each tree once per background row, following
 * both branches only where x and b disagree, and credits each reached leaf to the players that
 * had to be in (x side) or out (b side) of S to reach it; a player met twice on a path keeps the
 * side chosen first, which is what grouping inside the algorithm means (values of grouped
 * players are not sums of per-cell values). Cost: O(background x nodes reached) per window.
 *
 * Players must not share a tree feature: each feature the trees read must be a function of the
 * cells of one player (or of none); otherwise wf_treeshap_new returns WF_ERR_UNSUPPORTED naming
 * the feature and the two players (e.g. per-channel ReduceMean features with one player per
 * cell).
 *
 * Threads: a wf_treeshap is read-only after wf_treeshap_new; wf_treeshap_explain may run from
 * many threads at once. Ownership: wf_treeshap_new -> wf_treeshap_free; the tree model (and its
 * wf_model) must outlive it.
 */
#ifndef WHYFLAG_TREESHAP_H
#define WHYFLAG_TREESHAP_H

#include <stdint.h>

#include "whyflag/status.h"
#include "whyflag/trees.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_treeshap wf_treeshap;

/* bg: (nb, C, T) background windows; weight: (nb) summing to 1, or NULL for uniform.
 * Players: M groups in CSR form, player p holds cells[start[p] .. start[p+1]) (c*T+t), as
 * KernelSHAP's players. */
wf_status wf_treeshap_new(const wf_tree_model *tm, const float *bg, const double *weight,
                          int64_t nb, int M, const int64_t *start, const int64_t *cells,
                          wf_treeshap **out, wf_error *err);
void wf_treeshap_free(wf_treeshap *ts);

/* Values of window x (C, T): phi (M), *f_x = margin(x), *base = sum_b w_b margin(b); the
 * values sum to f_x - base up to rounding. */
wf_status wf_treeshap_explain(const wf_treeshap *ts, const float *x, double *phi, double *f_x,
                              double *base, wf_error *err);

/* Approximate values on the probability scale, as shap's TreeExplainer(model_output=
 * "probability") computes them with an interventional background: per background row b the
 * margin values are rescaled by (p(x) - p(b)) / (f(x) - f(b)) (by 1 when f(x) == f(b)), p the
 * score's map of the margin (logistic for a LOGISTIC classifier, the identity when the score is
 * the margin), then averaged with the weights. They sum to p(x) - sum_b w_b p(b) exactly but
 * are not the Shapley values of the probability game: label them approximate. *p_x = p(x),
 * *p_base = sum_b w_b p(b). WF_ERR_UNSUPPORTED for other post transforms. */
wf_status wf_treeshap_explain_probability(const wf_treeshap *ts, const float *x, double *phi,
                                          double *p_x, double *p_base, wf_error *err);

/* The same on tree-input rows directly: x (n_features), bg (nb, n_features), feature -> player
 * map feat_player (n_features; -1 for a feature that is no player's: it is held at x's value).
 * Allocates O(M + tree depth^2) scratch per call. */
wf_status wf_treeshap_rows(const wf_tree_ensemble *te, const float *x, const float *bg,
                           const double *weight, int64_t nb, const int32_t *feat_player, int M,
                           double *phi, double *f_x, double *base, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif
