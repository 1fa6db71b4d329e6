/*
 * whyflag: tree-ensemble models (ai.onnx.ml TreeEnsembleClassifier/Regressor) as TreeSHAP sees
 * them, and the question "does this model have a gradient?".
 *
 * wf_tree_model_new finds the tree ensemble that produces a model's score (wf_model_predictor's
 * head: the first output, or for a classifier the positive-class probability, directly or
 * through ZipMap), and describes:
 *  - the ensemble's raw margin for the score's column as plain arrays (wf_tree_ensemble): the
 *    sum over trees of leaf values plus a base, before the post transform (log-odds for a
 *    LOGISTIC classifier, the class vote for a random forest, the prediction of a regressor);
 *  - which window cells each tree feature is a function of (the graph between the model input
 *    and the trees may reshape, transpose, cast, scale, or reduce per channel: ReduceMean/Max/
 *    Min/Sum, Concat, elementwise ops with constants);
 *  - the tree-input rows of windows (the engine runs that part of the graph).
 * Not supported (WF_ERR_UNSUPPORTED with the reason): MIN/MAX aggregation (not additive), a
 * score that is not a monotone map of one margin column (two-class ORT variants that mix
 * columns), more than one tree ensemble feeding the score, ops between input and trees that
 * this analysis does not know, anything after the trees but the post transform and ZipMap.
 *
 * Ownership: wf_tree_model_new -> wf_tree_model_free; the model must outlive it. The ensemble
 * and feature cell lists are owned by the tree model.
 */
#ifndef WHYFLAG_TREES_H
#define WHYFLAG_TREES_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/model.h"
#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Node modes as in the ONNX-ML spec. */
typedef enum wf_tree_mode {
    WF_TREE_LEQ = 0,
    WF_TREE_LT = 1,
    WF_TREE_GTE = 2,
    WF_TREE_GT = 3,
    WF_TREE_EQ = 4,
    WF_TREE_NEQ = 5,
    WF_TREE_LEAF = 6
} wf_tree_mode;

/* margin(row) = base + sum over trees t of value[leaf_t(row)]. Arrays are (n_nodes) unless
 * said otherwise. */
typedef struct wf_tree_ensemble {
    int n_features; /* row length the trees read */
    int n_trees, n_nodes;
    const int32_t *roots;                    /* (n_trees) */
    const int32_t *feature;                  /* branch: feature read */
    const int32_t *child_true, *child_false; /* -1 at leaves */
    const uint8_t *mode;                     /* wf_tree_mode */
    const uint8_t *missing_true;             /* NaN goes to the true child */
    const float *threshold;                  /* compared in float, as ONNX Runtime does */
    const double *value;                     /* leaf value of the margin (0 at branches) */
    double base;
} wf_tree_ensemble;

/* 1 when value v takes node i's true branch. */
static inline int wf_tree_goes_true(const wf_tree_ensemble *te, int32_t i, float v) {
    float th = te->threshold[i];
    if (v != v && te->missing_true[i])
        return 1;
    switch (te->mode[i]) {
    case WF_TREE_LEQ:
        return v <= th;
    case WF_TREE_LT:
        return v < th;
    case WF_TREE_GTE:
        return v >= th;
    case WF_TREE_GT:
        return v > th;
    case WF_TREE_EQ:
        return v == th;
    default:
        return v != th;
    }
}

typedef struct wf_tree_model wf_tree_model;

/* Windows are (C, T) channel-major; layout as for wf_model_predictor. */
wf_status wf_tree_model_new(const wf_model *m, int C, int T, wf_layout layout, wf_tree_model **out,
                            wf_error *err);
/* As wf_tree_model_new for the score a user chose (config model_output, --output): spec NULL or
 * "" = the default score, "NAME[:COLUMN]" = graph output NAME (a tree ensemble's score, directly
 * or through ZipMap) and its column, e.g. "output_probability:2" explains the raw margin of class
 * 2 of a 3-class classifier (the margin before SOFTMAX: its probability is not a monotone map of
 * one margin, so TreeSHAP reports that class's margin). */
wf_status wf_tree_model_new_spec(const wf_model *m, int C, int T, wf_layout layout,
                                 const char *spec, wf_tree_model **out, wf_error *err);
void wf_tree_model_free(wf_tree_model *tm);

const wf_tree_ensemble *wf_tree_model_ensemble(const wf_tree_model *tm);
/* What the margin is, e.g. "log-odds (margin before LOGISTIC) of class 1"; static or owned. */
const char *wf_tree_model_margin_name(const wf_tree_model *tm);
/* How the score maps the margin: 0 identity (the score is the margin), 1 logistic (a
 * LOGISTIC classifier's positive class), -1 anything else (SOFTMAX, PROBIT, ...). */
int wf_tree_model_output_link(const wf_tree_model *tm);
/* The cells (c * T + t) tree feature f is a function of: returns the count (0: a constant) and
 * sets *cells (owned by tm). */
int wf_tree_model_feature_cells(const wf_tree_model *tm, int f, const int32_t **cells);
/* Tree-input rows of n windows: x (n, C, T) -> rows (n, n_features). */
wf_status wf_tree_model_rows(const wf_tree_model *tm, const float *x, int64_t n, float *rows,
                             wf_error *err);

/* 1 when the score has a gradient with respect to the input; 0 with a reason (e.g. "node 'x'
 * (#3, TreeEnsembleClassifier) is piecewise constant: no gradient") when some node between
 * the input and the score has none. reason may be NULL. */
int wf_model_differentiable(const wf_model *m, char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
