/*
 * ai.onnx.ml ops: TreeEnsembleClassifier, TreeEnsembleRegressor, ZipMap and Scaler.
 *
 * The tree ensembles follow the ONNX-ML spec as ONNX Runtime (1.30, CPU) computes it for float
 * input: thresholds and leaf weights are float (double *_as_tensor attributes are rounded to
 * float, as ORT does for float input), scores are summed in float in tree order (trees are the
 * runs of equal nodes_treeids; a run's first node is its root), base values are added after the
 * trees, then the post transform. The classifier's two-class rules (one weight column, base
 * values, the label and the second probability column) copy ORT's TreeAggregatorClassifier.
 * String class labels: the label output holds the class index into classlabels_strings (whyflag
 * has no string tensors; the declared string output is accepted). Non-goals: double/int inputs.
 *
 * ZipMap's sequence of maps is not materialized: its output aliases the probability tensor (N,
 * classes) that feeds it, which is what a score is read from. Trees have no gradient (backward
 * NULL), so a graph with them is not differentiable (wf_model_differentiable).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"
#include "model/ops/ops_ml_trees.h"

/* ---- attribute helpers ---- */

/* Ints attribute as (pointer, count); count -1 when absent. */
static const int64_t *ints_of(const wf_node *n, const char *name, int *count) {
    const wf_attr *a = wf_attr_find(n, name);
    if (!a) {
        *count = -1;
        return NULL;
    }
    *count = a->type == WF_ATTR_INTS ? a->n : 0;
    return a->ints;
}

/* Reals from `name` (floats) or `name`_as_tensor (float/double tensor) into a malloc'd double
 * array; *count -1 when neither is present. */
static wf_status reals_of(const wf_node *n, const char *name, double **out, int *count,
                          wf_error *err) {
    *out = NULL;
    *count = -1;
    char tname[96];
    snprintf(tname, sizeof tname, "%s_as_tensor", name);
    const wf_attr *a = wf_attr_find(n, name);
    const wf_attr *t = wf_attr_find(n, tname);
    if (a && a->type == WF_ATTR_FLOATS) {
        *out = malloc(((size_t)a->n + 1) * sizeof **out);
        if (!*out)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        for (int i = 0; i < a->n; i++)
            (*out)[i] = a->floats[i];
        *count = a->n;
    } else if (t) {
        if (t->type != WF_ATTR_TENSOR || (!t->dbl && t->n_dbl))
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "attribute '%s' must be a float or double tensor", tname);
        *out = malloc(((size_t)t->n_dbl + 1) * sizeof **out);
        if (!*out)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        if (t->n_dbl)
            memcpy(*out, t->dbl, (size_t)t->n_dbl * sizeof **out);
        *count = t->n_dbl;
    } else if (a) {
        *count = 0;
    }
    return WF_OK;
}

static int mode_of(const char *s) {
    static const char *const names[] = {"BRANCH_LEQ", "BRANCH_LT",  "BRANCH_GTE", "BRANCH_GT",
                                        "BRANCH_EQ",  "BRANCH_NEQ", "LEAF"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static int post_of(const char *s) {
    static const char *const names[] = {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

typedef struct key_idx {
    int64_t tree, node;
    int32_t idx;
} key_idx;

static int key_cmp(const void *a, const void *b) {
    const key_idx *x = a, *y = b;
    if (x->tree != y->tree)
        return x->tree < y->tree ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return 0;
}

static int32_t key_find(const key_idx *keys, int n, int64_t tree, int64_t node) {
    key_idx k = {tree, node, 0};
    const key_idx *f = bsearch(&k, keys, (size_t)n, sizeof *keys, key_cmp);
    return f ? f->idx : -1;
}

/* Bump allocation inside the one aux block. */
static void *carve(char **p, size_t bytes) {
    void *r = *p;
    *p += (bytes + 15) & ~(size_t)15;
    return r;
}

/* Parse the tree attributes (prefix "class" or "target") into n->aux. */
static wf_status trees_parse(wf_node *n, int classifier, wf_error *err) {
    const char *wp = classifier ? "class" : "target";
    int nn = 0, c1, c2, c3, c4, c5, cm;
    const int64_t *treeids = ints_of(n, "nodes_treeids", &nn);
    const int64_t *nodeids = ints_of(n, "nodes_nodeids", &c1);
    const int64_t *featids = ints_of(n, "nodes_featureids", &c2);
    const int64_t *trueids = ints_of(n, "nodes_truenodeids", &c3);
    const int64_t *falseids = ints_of(n, "nodes_falsenodeids", &c4);
    const int64_t *missing = ints_of(n, "nodes_missing_value_tracks_true", &cm);
    const wf_attr *modes = wf_attr_find(n, "nodes_modes");
    char name[64];
    snprintf(name, sizeof name, "%s_treeids", wp);
    const int64_t *wtree = ints_of(n, name, &c5);
    snprintf(name, sizeof name, "%s_nodeids", wp);
    int cw1, cw2, cwv, cb;
    const int64_t *wnode = ints_of(n, name, &cw1);
    snprintf(name, sizeof name, "%s_ids", wp);
    const int64_t *wid = ints_of(n, name, &cw2);
    double *thr = NULL, *wval = NULL, *base = NULL;
    key_idx *keys = NULL;
    int32_t *wcount = NULL;
    wf_status s = WF_OK;
    if (nn <= 0 || c1 != nn || c2 != nn || c3 != nn || c4 != nn || !modes || modes->n_strs != nn)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "nodes_treeids, nodes_nodeids, nodes_featureids, nodes_modes, "
                             "nodes_truenodeids and nodes_falsenodeids must be non-empty lists of "
                             "one length (%d nodes)",
                             nn);
    if (cm >= 0 && cm != nn && cm != 0)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "nodes_missing_value_tracks_true has %d entries for %d nodes", cm, nn);
    int nthr = 0, nw = 0;
    s = reals_of(n, "nodes_values", &thr, &nthr, err);
    if (!s) {
        snprintf(name, sizeof name, "%s_weights", wp);
        s = reals_of(n, name, &wval, &cwv, err);
    }
    if (!s)
        s = reals_of(n, "base_values", &base, &cb, err);
    if (s)
        goto done;
    if (nthr != nn) {
        s = wf_node_error(err, WF_ERR_PARSE, n, "nodes_values has %d entries for %d nodes", nthr,
                          nn);
        goto done;
    }
    nw = c5 < 0 ? 0 : c5;
    if (cw1 != nw || cw2 != nw || cwv != nw || (nw && !wtree)) {
        s = wf_node_error(err, WF_ERR_PARSE, n,
                          "%s_treeids, %s_nodeids, %s_ids and %s_weights must have one length", wp,
                          wp, wp, wp);
        goto done;
    }
    int n_out;
    int64_t *labels_src = NULL;
    if (classifier) {
        int cl = 0;
        const int64_t *labs = ints_of(n, "classlabels_int64s", &cl);
        const wf_attr *sl = wf_attr_find(n, "classlabels_strings");
        if (sl && sl->n_strs > 0) {
            /* string labels: like ORT, classes are their indices; the label output holds the
             * index into classlabels_strings (whyflag has no string tensors) */
            cl = sl->n_strs;
            labs = NULL;
        } else if (cl <= 0) {
            s = wf_node_error(err, WF_ERR_PARSE, n,
                              "classlabels_int64s and classlabels_strings are missing or empty");
            goto done;
        }
        n_out = cl;
        labels_src = (int64_t *)labs;
    } else {
        n_out = (int)wf_attr_int(n, "n_targets", 1);
        if (n_out < 1 || n_out > 1000000) {
            s = wf_node_error(err, WF_ERR_PARSE, n, "n_targets %d must be >= 1", n_out);
            goto done;
        }
    }
    if (cb < 0)
        cb = 0;
    if (cb != 0 && cb != 1 && cb != n_out) {
        s = wf_node_error(err, WF_ERR_PARSE, n, "base_values has %d entries for %d outputs", cb,
                          n_out);
        goto done;
    }
    int post = post_of(wf_attr_str(n, "post_transform", "NONE"));
    int agg = 0;
    if (!classifier) {
        const char *a = wf_attr_str(n, "aggregate_function", "SUM");
        agg = !strcmp(a, "SUM")       ? WF_ML_SUM
              : !strcmp(a, "AVERAGE") ? WF_ML_AVERAGE
              : !strcmp(a, "MIN")     ? WF_ML_MIN
              : !strcmp(a, "MAX")     ? WF_ML_MAX
                                      : -1;
        if (agg < 0) {
            s = wf_node_error(err, WF_ERR_PARSE, n,
                              "aggregate_function '%s' (expected SUM, AVERAGE, MIN or MAX)", a);
            goto done;
        }
    }
    if (post < 0) {
        s = wf_node_error(err, WF_ERR_PARSE, n,
                          "post_transform '%s' (expected NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO or "
                          "PROBIT)",
                          wf_attr_str(n, "post_transform", ""));
        goto done;
    }
    /* Trees: runs of equal tree ids. */
    int n_trees = 0;
    for (int i = 0; i < nn; i++)
        if (i == 0 || treeids[i] != treeids[i - 1])
            n_trees++;
    size_t bytes = sizeof(wf_ml_trees) + 16 * 8 + (size_t)cb * sizeof(float) +
                   (size_t)n_out * sizeof(int64_t) + (size_t)n_trees * sizeof(int32_t) +
                   (size_t)nn * sizeof(wf_ml_node) + (size_t)nw * sizeof(wf_ml_weight);
    char *blk = calloc(1, bytes);
    keys = malloc((size_t)nn * sizeof *keys);
    wcount = calloc((size_t)nn + 1, sizeof *wcount);
    if (!blk || !keys || !wcount) {
        free(blk);
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    char *p = blk;
    wf_ml_trees *t = carve(&p, sizeof *t);
    n->aux = blk;
    t->classifier = classifier;
    t->n_nodes = nn;
    t->n_weights = nw;
    t->n_out = n_out;
    t->n_base = cb;
    t->agg = agg;
    t->post = post;
    t->base = carve(&p, (size_t)cb * sizeof(float));
    t->labels = carve(&p, (size_t)n_out * sizeof(int64_t));
    t->roots = carve(&p, (size_t)n_trees * sizeof(int32_t));
    t->nodes = carve(&p, (size_t)nn * sizeof(wf_ml_node));
    t->weights = carve(&p, (size_t)nw * sizeof(wf_ml_weight));
    for (int i = 0; i < cb; i++)
        t->base[i] = (float)base[i];
    for (int i = 0; classifier && i < n_out; i++)
        t->labels[i] = labels_src ? labels_src[i] : i;
    for (int i = 0; i < nn; i++) {
        keys[i].tree = treeids[i];
        keys[i].node = nodeids[i];
        keys[i].idx = i;
        if (i == 0 || treeids[i] != treeids[i - 1])
            t->roots[t->n_trees++] = i;
    }
    qsort(keys, (size_t)nn, sizeof *keys, key_cmp);
    for (int i = 1; i < nn; i++)
        if (!key_cmp(&keys[i - 1], &keys[i])) {
            s = wf_node_error(err, WF_ERR_PARSE, n, "node %lld of tree %lld is defined twice",
                              (long long)keys[i].node, (long long)keys[i].tree);
            goto done;
        }
    int maxf = -1;
    for (int i = 0; i < nn; i++) {
        wf_ml_node *d = &t->nodes[i];
        int m = mode_of(modes->strs[i]);
        if (m < 0) {
            s = wf_node_error(err, WF_ERR_PARSE, n,
                              "nodes_modes[%d] is '%s' (expected BRANCH_LEQ, BRANCH_LT, "
                              "BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ or LEAF)",
                              i, modes->strs[i]);
            goto done;
        }
        d->mode = (uint8_t)m;
        d->missing_true = cm > 0 && missing[i] != 0;
        d->threshold = (float)thr[i];
        d->child_true = d->child_false = -1;
        if (m == WF_ML_LEAF)
            continue;
        if (featids[i] < 0 || featids[i] > 100000000) {
            s = wf_node_error(err, WF_ERR_PARSE, n, "nodes_featureids[%d] = %lld", i,
                              (long long)featids[i]);
            goto done;
        }
        d->feature = (int32_t)featids[i];
        if (d->feature > maxf)
            maxf = d->feature;
        d->child_true = key_find(keys, nn, treeids[i], trueids[i]);
        d->child_false = key_find(keys, nn, treeids[i], falseids[i]);
        if (d->child_true < 0 || d->child_false < 0) {
            s = wf_node_error(err, WF_ERR_PARSE, n,
                              "node %lld of tree %lld points to node %lld, which tree %lld does "
                              "not have",
                              (long long)nodeids[i], (long long)treeids[i],
                              (long long)(d->child_true < 0 ? trueids[i] : falseids[i]),
                              (long long)treeids[i]);
            goto done;
        }
    }
    t->n_features = maxf + 1;
    /* Leaf weights grouped per leaf, in attribute order. */
    for (int i = 0; i < nw; i++) {
        int32_t leaf = key_find(keys, nn, wtree[i], wnode[i]);
        if (leaf < 0 || t->nodes[leaf].mode != WF_ML_LEAF) {
            s = wf_node_error(err, WF_ERR_PARSE, n,
                              "%s weight %d refers to node %lld of tree %lld, which is not a leaf",
                              wp, i, (long long)wnode[i], (long long)wtree[i]);
            goto done;
        }
        if (wid[i] < 0 || wid[i] >= n_out) {
            s = wf_node_error(err, WF_ERR_PARSE, n, "%s_ids[%d] = %lld, outside 0..%d", wp, i,
                              (long long)wid[i], n_out - 1);
            goto done;
        }
        wcount[leaf]++;
    }
    int32_t acc = 0;
    for (int i = 0; i < nn; i++) {
        t->nodes[i].w_begin = acc;
        acc += wcount[i];
        wcount[i] = 0;
    }
    for (int i = 0; i < nw; i++) {
        int32_t leaf = key_find(keys, nn, wtree[i], wnode[i]);
        wf_ml_weight *w = &t->weights[t->nodes[leaf].w_begin + wcount[leaf]++];
        w->target = (int32_t)wid[i];
        w->value = (float)wval[i];
    }
    for (int i = 0; i < nn; i++)
        t->nodes[i].w_count = wcount[i];
    /* Every tree must be a tree: no node reached twice (cycles, shared subtrees). */
    memset(wcount, 0, (size_t)nn * sizeof *wcount);
    int32_t *stack = (int32_t *)keys; /* keys are no longer needed */
    for (int k = 0; k < t->n_trees; k++) {
        int sp = 0;
        stack[sp++] = t->roots[k];
        while (sp) {
            int32_t v = stack[--sp];
            if (wcount[v]++) {
                s = wf_node_error(err, WF_ERR_PARSE, n,
                                  "tree %lld reaches node %lld twice: not a tree",
                                  (long long)treeids[t->roots[k]], (long long)nodeids[v]);
                goto done;
            }
            if (t->nodes[v].mode != WF_ML_LEAF) {
                if (sp + 2 > nn) {
                    s = wf_node_error(err, WF_ERR_PARSE, n, "tree %lld is not a tree",
                                      (long long)treeids[t->roots[k]]);
                    goto done;
                }
                stack[sp++] = t->nodes[v].child_true;
                stack[sp++] = t->nodes[v].child_false;
            }
        }
    }
    if (classifier) {
        int first = -1, one = 1;
        t->all_positive = 1;
        for (int i = 0; i < nw; i++) {
            if (first < 0)
                first = (int)wid[i];
            else if (wid[i] != first)
                one = 0;
            if (wval[i] < 0)
                t->all_positive = 0;
        }
        t->binary_case = n_out == 2 && nw > 0 && one;
    }
done:
    free(thr);
    free(wval);
    free(base);
    free(keys);
    free(wcount);
    return s;
}

/* ---- post transforms, as ONNX Runtime computes them in float ---- */

static float ml_logistic(float v) {
    float e = 1.0f / (1.0f + expf(-fabsf(v)));
    return v < 0 ? 1.0f - e : e;
}

static float ml_erfinv(float x) {
    float sgn = x < 0 ? -1.0f : 1.0f;
    x = (1 - x) * (1 + x);
    float lg = logf(x);
    float v = 2 / ((float)3.14159265358979323846 * 0.147f) + 0.5f * lg;
    float v2 = 1 / (0.147f) * lg;
    float v3 = -v + sqrtf(v * v - v2);
    return sgn * sqrtf(v3);
}

static float ml_probit(float v) {
    return (float)1.41421356237309504880 * ml_erfinv(2 * v - 1);
}

/* write_scores for len >= 2 (and the regressor's any len) */
static void ml_write(const float *s, int len, int post, float *out) {
    switch (post) {
    case WF_ML_PROBIT:
        for (int i = 0; i < len; i++)
            out[i] = ml_probit(s[i]);
        break;
    case WF_ML_LOGISTIC:
        for (int i = 0; i < len; i++)
            out[i] = ml_logistic(s[i]);
        break;
    case WF_ML_SOFTMAX: {
        float mx = s[0], sum = 0;
        for (int i = 1; i < len; i++)
            mx = s[i] > mx ? s[i] : mx;
        for (int i = 0; i < len; i++) {
            out[i] = expf(s[i] - mx);
            sum += out[i];
        }
        for (int i = 0; i < len; i++)
            out[i] /= sum;
        break;
    }
    case WF_ML_SOFTMAX_ZERO: {
        float mx = s[0], sum = 0;
        for (int i = 1; i < len; i++)
            mx = s[i] > mx ? s[i] : mx;
        for (int i = 0; i < len; i++) {
            if (s[i] > 0.0000001f || s[i] < -0.0000001f) {
                out[i] = expf(s[i] - mx);
                sum += out[i];
            } else {
                out[i] = 0;
            }
        }
        for (int i = 0; i < len; i++)
            out[i] /= sum;
        break;
    }
    default:
        memcpy(out, s, (size_t)len * sizeof *out);
        break;
    }
}

/* write_binary_scores: one score column for two classes. */
static void ml_write_binary(float sc, int post, int add, float *out) {
    if (post == WF_ML_PROBIT) {
        out[0] = ml_probit(sc);
        out[1] = 0; /* ORT leaves it unset */
        return;
    }
    switch (add) {
    case 0:
    case 1:
        out[0] = 1.f - sc;
        out[1] = sc;
        break;
    case 2:
    case 3:
        if (post == WF_ML_LOGISTIC) {
            out[0] = ml_logistic(-sc);
            out[1] = ml_logistic(sc);
        } else if (add == 2) {
            out[0] = -sc;
            out[1] = sc;
        } else {
            out[0] = sc;
            out[1] = -sc;
        }
        break;
    default:
        out[0] = sc;
        out[1] = 0; /* ORT leaves it unset */
        break;
    }
}

/* ---- shared check/shape ---- */

static wf_status trees_check(wf_node *n, wf_value *vals, int classifier, wf_error *err) {
    int want_out = classifier ? 2 : 1;
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out < want_out || n->n_out > want_out)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and %d output(s)", want_out);
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    free(n->aux);
    n->aux = NULL;
    s = trees_parse(n, classifier, err);
    if (s)
        return s;
    if (classifier) {
        vals[n->out[0]].dtype = WF_DTYPE_INT64;
        if (n->out[1] >= 0)
            vals[n->out[1]].dtype = WF_DTYPE_FLOAT;
    } else {
        vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    }
    return WF_OK;
}

static wf_status trees_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    const wf_ml_trees *t = n->aux;
    const wf_tensor *x = in[0];
    if (x->rank != 1 && x->rank != 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must be [N, features] or [features], is %d-D",
                             x->rank);
    int64_t f = x->dims[x->rank - 1];
    if (f < t->n_features)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "X has %lld features per row but the trees read feature %d",
                             (long long)f, t->n_features - 1);
    int64_t N = x->rank == 1 ? 1 : x->dims[0];
    *scratch = (size_t)t->n_out * (2 * sizeof(float) + 1) + 64;
    if (t->classifier) {
        out[0]->rank = 1;
        out[0]->dims[0] = N;
        if (out[1]) {
            out[1]->rank = 2;
            out[1]->dims[0] = N;
            out[1]->dims[1] = t->n_out;
        }
    } else {
        out[0]->rank = 2;
        out[0]->dims[0] = N;
        out[0]->dims[1] = t->n_out;
    }
    return WF_OK;
}

/* Sum (or min/max) of the leaf weights over the trees for row x into s/has. */
static void trees_accumulate(const wf_ml_trees *t, const float *x, float *s, unsigned char *has) {
    memset(s, 0, (size_t)t->n_out * sizeof *s);
    memset(has, 0, (size_t)t->n_out);
    for (int k = 0; k < t->n_trees; k++) {
        const wf_ml_node *leaf = &t->nodes[wf_ml_leaf(t, t->roots[k], x)];
        if (t->n_out == 1) {
            /* one target: ORT gives every leaf one value (its weights' sum, 0 without any), so a
             * weightless leaf counts as 0 for MIN/MAX */
            float v = 0;
            for (int j = 0; j < leaf->w_count; j++)
                v += t->weights[leaf->w_begin + j].value;
            if (t->agg == WF_ML_MIN)
                s[0] = (!has[0] || v < s[0]) ? v : s[0];
            else if (t->agg == WF_ML_MAX)
                s[0] = (!has[0] || v > s[0]) ? v : s[0];
            else
                s[0] += v;
            has[0] = 1;
            continue;
        }
        for (int j = 0; j < leaf->w_count; j++) {
            const wf_ml_weight *w = &t->weights[leaf->w_begin + j];
            float *d = &s[w->target];
            if (t->agg == WF_ML_MIN)
                *d = (!has[w->target] || w->value < *d) ? w->value : *d;
            else if (t->agg == WF_ML_MAX)
                *d = (!has[w->target] || w->value > *d) ? w->value : *d;
            else
                *d += w->value;
            has[w->target] = 1;
        }
    }
}

static void regressor_row(const wf_ml_trees *t, const float *x, float *y, float *s,
                          unsigned char *has) {
    trees_accumulate(t, x, s, has);
    if (t->n_out == 1) { /* FinalizeScores1: only PROBIT applies */
        float origin = t->n_base == 1 ? t->base[0] : 0.f;
        float v = s[0];
        if (t->agg == WF_ML_AVERAGE)
            v = v / (float)t->n_trees + origin;
        else if (t->agg == WF_ML_SUM)
            v = v + origin;
        else
            v = has[0] ? v + origin : origin;
        y[0] = t->post == WF_ML_PROBIT ? ml_probit(v) : v;
        return;
    }
    int use_base = t->n_base == t->n_out;
    for (int k = 0; k < t->n_out; k++) {
        if (t->agg == WF_ML_SUM)
            s[k] = use_base ? s[k] + t->base[k] : s[k];
        else if (t->agg == WF_ML_AVERAGE)
            s[k] = use_base ? s[k] / (float)t->n_trees + t->base[k] : s[k] / (float)t->n_trees;
        else
            s[k] = (use_base ? t->base[k] : 0.f) + (has[k] ? s[k] : 0.f);
    }
    ml_write(s, t->n_out, t->post, y);
}

static int64_t binary_label(const wf_ml_trees *t, int len, const float *s, const unsigned char *has,
                            int *add) {
    float pos = (len == 2 && has[1]) ? s[1] : (has[0] ? s[0] : 0.f);
    if (t->binary_case) {
        if (t->all_positive) {
            *add = pos > 0.5f ? 0 : 1;
            return t->labels[pos > 0.5f ? 1 : 0];
        }
        *add = pos > 0 ? 2 : 3;
        return t->labels[pos > 0 ? 1 : 0];
    }
    return pos > 0 ? 1 : 0;
}

static void classifier_row(const wf_ml_trees *t, const float *x, int64_t *label, float *z, float *s,
                           unsigned char *has) {
    trees_accumulate(t, x, s, has);
    if (t->n_out > 2) {
        for (int k = 0; k < t->n_base; k++) {
            if (!has[k]) {
                has[k] = 1;
                s[k] = t->base[k];
            } else {
                s[k] += t->base[k];
            }
        }
        int maxc = -1;
        float maxw = 0;
        for (int k = 0; k < t->n_out; k++)
            if (has[k] && (maxc == -1 || s[k] > maxw)) {
                maxc = k;
                maxw = s[k];
            }
        *label = t->labels[maxc < 0 ? 0 : maxc];
        ml_write(s, t->n_out, t->post, z);
        return;
    }
    /* two classes (a single class is handled as two, like ORT's n_targets_or_classes_) */
    int len = 2, add = -1;
    if (t->n_out == 1) {
        len = 1;
    } else if (t->n_base == 2) {
        if (has[1]) {
            s[1] = t->base[1] + s[0];
            s[0] = -s[1];
            has[1] = 1;
        } else {
            s[1] += t->base[1];
            s[0] += t->base[0];
        }
    } else if (t->n_base == 1) {
        s[0] += t->base[0];
        if (!has[1])
            len = 1;
    } else {
        add = 3;
        if (!has[1])
            len = 1;
    }
    *label = binary_label(t, len, s, has, &add);
    if (len == 1)
        ml_write_binary(s[0], t->post, add, z);
    else
        ml_write(s, 2, t->post, z);
}

static void trees_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *scr) {
    const wf_ml_trees *t = n->aux;
    const wf_tensor *x = in[0];
    int64_t N = x->rank == 1 ? 1 : x->dims[0];
    int64_t F = x->dims[x->rank - 1];
    float *s = scr;
    float *z2 = s + t->n_out;
    unsigned char *has = (unsigned char *)(z2 + t->n_out);
    const float *xd = x->data;
    for (int64_t i = 0; i < N; i++) {
        const float *row = xd + i * F;
        if (t->classifier) {
            float *z = out[1] ? (float *)out[1]->data + i * t->n_out : z2;
            classifier_row(t, row, (int64_t *)out[0]->data + i, z, s, has);
        } else {
            regressor_row(t, row, (float *)out[0]->data + i * t->n_out, s, has);
        }
    }
}

static int64_t trees_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)out;
    const wf_ml_trees *t = n->aux;
    int64_t N = in[0]->rank == 1 ? 1 : in[0]->dims[0];
    return N * (int64_t)t->n_nodes; /* an upper bound of the comparisons */
}

static wf_status classifier_check(wf_node *n, wf_value *vals, wf_error *err) {
    return trees_check(n, vals, 1, err);
}
static wf_status regressor_check(wf_node *n, wf_value *vals, wf_error *err) {
    return trees_check(n, vals, 0, err);
}

const wf_opdef wf_op_tree_classifier = {
    "TreeEnsembleClassifier", classifier_check, trees_shape, trees_fwd, NULL, 0, trees_flops};
const wf_opdef wf_op_tree_regressor = {
    "TreeEnsembleRegressor", regressor_check, trees_shape, trees_fwd, NULL, 0, trees_flops};

/* ---- ZipMap: the probability tensor itself (alias) ---- */

static wf_status zipmap_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status zipmap_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    if (in[0]->rank != 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must be [N, classes], is %d-D", in[0]->rank);
    out[0]->rank = 2;
    out[0]->dims[0] = in[0]->dims[0];
    out[0]->dims[1] = in[0]->dims[1];
    return WF_OK;
}

static void zipmap_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)in;
    (void)out;
    (void)s;
}

const wf_opdef wf_op_zipmap = {"ZipMap", zipmap_check, zipmap_shape, zipmap_fwd, wf_nop_bwd,
                               1,        NULL};

/* ---- Scaler: Y = (X - offset) * scale, per feature (last axis) or one value ---- */

static wf_status scaler_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    const wf_attr *o = wf_attr_find(n, "offset"), *c = wf_attr_find(n, "scale");
    if ((o && o->type != WF_ATTR_FLOATS) || (c && c->type != WF_ATTR_FLOATS))
        return wf_node_error(err, WF_ERR_PARSE, n, "offset and scale must be float lists");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static int scaler_len(const wf_node *n, const char *name) {
    const wf_attr *a = wf_attr_find(n, name);
    return a ? a->n : 0;
}

static wf_status scaler_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    const wf_tensor *x = in[0];
    int64_t f = x->rank ? x->dims[x->rank - 1] : 1;
    int lo = scaler_len(n, "offset"), ls = scaler_len(n, "scale");
    if ((lo > 1 && lo != f) || (ls > 1 && ls != f))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "offset (%d) and scale (%d) must have 1 or %lld values", lo, ls,
                             (long long)f);
    out[0]->rank = x->rank;
    memcpy(out[0]->dims, x->dims, sizeof x->dims);
    return WF_OK;
}

static void scaler_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    const wf_attr *o = wf_attr_find(n, "offset"), *c = wf_attr_find(n, "scale");
    const wf_tensor *x = in[0];
    int64_t f = x->rank ? x->dims[x->rank - 1] : 1, numel = wf_numel(x);
    const float *xd = x->data;
    float *y = out[0]->data;
    for (int64_t i = 0; i < numel; i++) {
        int64_t j = i % f;
        float off = o && o->n ? o->floats[o->n > 1 ? j : 0] : 0.f;
        float sc = c && c->n ? c->floats[c->n > 1 ? j : 0] : 1.f;
        y[i] = (xd[i] - off) * sc;
    }
}

static void scaler_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    (void)out;
    (void)s;
    if (!gin[0])
        return;
    const wf_attr *c = wf_attr_find(n, "scale");
    const wf_tensor *x = in[0];
    int64_t f = x->rank ? x->dims[x->rank - 1] : 1, numel = wf_numel(x);
    for (int64_t i = 0; i < numel; i++) {
        float sc = c && c->n ? c->floats[c->n > 1 ? i % f : 0] : 1.f;
        gin[0][i] += gout[0][i] * sc;
    }
}

const wf_opdef wf_op_scaler = {"Scaler", scaler_check, scaler_shape, scaler_fwd, scaler_bwd,
                               0,        NULL};

/* ---- the ai.onnx.ml table ---- */

extern const wf_opdef wf_op_imputer, wf_op_binarizer, wf_op_normalizer, wf_op_afe,
    wf_op_feature_vectorizer, wf_op_linear_regressor, wf_op_linear_classifier;

static const wf_opdef *const ml_table[] = {&wf_op_tree_classifier,
                                           &wf_op_tree_regressor,
                                           &wf_op_zipmap,
                                           &wf_op_scaler,
                                           &wf_op_imputer,
                                           &wf_op_binarizer,
                                           &wf_op_normalizer,
                                           &wf_op_afe,
                                           &wf_op_feature_vectorizer,
                                           &wf_op_linear_regressor,
                                           &wf_op_linear_classifier};

const wf_opdef *wf_op_find_ml(const char *op_type) {
    for (size_t i = 0; i < sizeof ml_table / sizeof ml_table[0]; i++)
        if (!strcmp(ml_table[i]->name, op_type))
            return ml_table[i];
    return NULL;
}

const char *wf_op_ml_supported_list(void) {
    return "TreeEnsembleClassifier, TreeEnsembleRegressor, ZipMap, Scaler, Imputer, Binarizer, "
           "Normalizer, ArrayFeatureExtractor, FeatureVectorizer, LinearRegressor, "
           "LinearClassifier";
}
