/*
 * Parsed state of the ai.onnx.ml tree ensembles (TreeEnsembleClassifier, TreeEnsembleRegressor),
 * shared by their kernels (ops_ml.c) and by the TreeSHAP view of a model (trees.c). One malloc'd
 * block hangs off the node (wf_node.aux).
 */
#ifndef WF_MODEL_OPS_ML_TREES_H
#define WF_MODEL_OPS_ML_TREES_H

#include <stdint.h>

#include "model/model_impl.h"

typedef enum wf_ml_mode {
    WF_ML_LEQ = 0,
    WF_ML_LT = 1,
    WF_ML_GTE = 2,
    WF_ML_GT = 3,
    WF_ML_EQ = 4,
    WF_ML_NEQ = 5,
    WF_ML_LEAF = 6
} wf_ml_mode;

typedef enum wf_ml_agg { WF_ML_SUM = 0, WF_ML_AVERAGE = 1, WF_ML_MIN = 2, WF_ML_MAX = 3 } wf_ml_agg;

typedef enum wf_ml_post {
    WF_ML_NONE = 0,
    WF_ML_LOGISTIC = 1,
    WF_ML_SOFTMAX = 2,
    WF_ML_SOFTMAX_ZERO = 3,
    WF_ML_PROBIT = 4
} wf_ml_post;

typedef struct wf_ml_node {
    int32_t feature;
    int32_t child_true, child_false; /* indices into nodes (-1 at leaves) */
    int32_t w_begin, w_count;        /* leaf weights: weights[w_begin .. +w_count) */
    uint8_t mode;                    /* wf_ml_mode */
    uint8_t missing_true;            /* NaN goes to the true child */
    float threshold;                 /* float input: ONNX Runtime compares in float */
} wf_ml_node;

typedef struct wf_ml_weight {
    int32_t target; /* class or target index */
    float value;
} wf_ml_weight;

typedef struct wf_ml_trees {
    int classifier;
    int n_trees, n_nodes, n_weights;
    int n_out;        /* classes (classifier) or targets (regressor) */
    int n_features;   /* 1 + the largest feature id */
    int agg, post;    /* wf_ml_agg (classifier: SUM), wf_ml_post */
    int n_base;       /* 0, 1 or n_out base values */
    int binary_case;  /* classifier: 2 classes and every weight on one class id */
    int all_positive; /* classifier: no negative weight */
    float *base;      /* (n_base) */
    int64_t *labels;  /* (n_out) classifier int64 labels */
    int32_t *roots;   /* (n_trees) node index of each tree's root, in tree order */
    wf_ml_node *nodes;
    wf_ml_weight *weights;
} wf_ml_trees;

/* 1 when x takes the true branch of node nd (NaN follows missing_true, else the comparison). */
static inline int wf_ml_goes_true(const wf_ml_node *nd, float x) {
    if (x != x && nd->missing_true)
        return 1;
    switch (nd->mode) {
    case WF_ML_LEQ:
        return x <= nd->threshold;
    case WF_ML_LT:
        return x < nd->threshold;
    case WF_ML_GTE:
        return x >= nd->threshold;
    case WF_ML_GT:
        return x > nd->threshold;
    case WF_ML_EQ:
        return x == nd->threshold;
    default:
        return x != nd->threshold;
    }
}

/* Leaf reached by row x (n_features) in the tree rooted at node r. */
static inline int32_t wf_ml_leaf(const wf_ml_trees *t, int32_t r, const float *x) {
    const wf_ml_node *nd = &t->nodes[r];
    while (nd->mode != WF_ML_LEAF) {
        r = wf_ml_goes_true(nd, x[nd->feature]) ? nd->child_true : nd->child_false;
        nd = &t->nodes[r];
    }
    return r;
}

extern const wf_opdef wf_op_tree_classifier, wf_op_tree_regressor, wf_op_zipmap;

#endif
