/*
 * Tree-ensemble models seen by TreeSHAP (include/whyflag/trees.h), the score head shared with
 * the predictor, and the differentiability query.
 *
 * Which cells a tree feature depends on is found by propagating cell sets (one bitset per tensor
 * element) through the graph from the model input to the trees' input, op by op, at batch 1 with
 * the shapes of a real run. Only ops whose element dependencies are known here are followed;
 * anything else on that path makes wf_tree_model_new fail with the node's name. Non-goal: a
 * general dependency analysis (Gather, Conv, MatMul mix many cells into one feature; TreeSHAP
 * then has no per-player decomposition anyway unless every feature stays inside one player).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops_ml_trees.h"
#include "whyflag/trees.h"

/* ---- the score head ---- */

int wf_model_score_head(const wf_model *m) {
    if (m->n_outputs < 1)
        return -1;
    if (m->vals[m->outputs[0]].dtype == WF_DTYPE_FLOAT)
        return 0;
    for (int i = 1; i < m->n_outputs; i++)
        if (m->vals[m->outputs[i]].dtype == WF_DTYPE_FLOAT)
            return i;
    return -1;
}

/* ---- differentiability ---- */

int wf_model_differentiable(const wf_model *m, char *reason, size_t reason_size) {
    int head = wf_model_score_head(m);
    if (reason && reason_size)
        reason[0] = 0;
    if (head < 0) {
        if (reason && reason_size)
            snprintf(reason, reason_size, "%s: no float output to differentiate", m->name);
        return 0;
    }
    /* values that depend on an input, values the score depends on */
    char *fwd = calloc((size_t)m->n_vals + 1, 1), *bwd = calloc((size_t)m->n_vals + 1, 1);
    int ok = 1;
    if (!fwd || !bwd) {
        free(fwd);
        free(bwd);
        if (reason && reason_size)
            snprintf(reason, reason_size, "out of memory");
        return 0;
    }
    for (int i = 0; i < m->n_inputs; i++)
        fwd[m->inputs[i]] = 1;
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        int any = 0;
        for (int k = 0; k < n->n_in; k++)
            any |= n->in[k] >= 0 && fwd[n->in[k]];
        /* Shape and Size read the input's shape, not its values: what follows them (the shape
         * arithmetic of dynamic-batch exports, folded at plan time) carries no gradient. */
        if (!strcmp(n->op->name, "Shape") || !strcmp(n->op->name, "Size"))
            any = 0;
        for (int k = 0; any && k < n->n_out; k++)
            if (n->out[k] >= 0)
                fwd[n->out[k]] = 1;
    }
    bwd[m->outputs[head]] = 1;
    for (int j = m->n_nodes - 1; j >= 0; j--) {
        const wf_node *n = &m->nodes[j];
        int any = 0;
        for (int k = 0; k < n->n_out; k++)
            any |= n->out[k] >= 0 && bwd[n->out[k]];
        if (!any)
            continue;
        int on_path = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && fwd[n->in[k]]) {
                bwd[n->in[k]] = 1;
                on_path = 1;
            }
        if (on_path && !n->op->backward && ok) {
            ok = 0;
            if (reason && reason_size) {
                char lb[300];
                snprintf(reason, reason_size,
                         "%s is piecewise constant or has no gradient rule: the score has no "
                         "gradient (Integrated Gradients does not apply)",
                         wf_node_label(n, lb, sizeof lb));
            }
        }
    }
    free(fwd);
    free(bwd);
    return ok;
}

/* ---- the tree model ---- */

struct wf_tree_model {
    const wf_model *m;
    int C, T;
    wf_layout layout;
    int x_value; /* value index of the trees' input X */
    int col;     /* explained column */
    int link;    /* wf_tree_model_output_link */
    wf_tree_ensemble te;
    char margin_name[160];
    int32_t *feat_begin; /* (n_features + 1) */
    int32_t *cells;      /* (feat_begin[n_features]) */
    void *block;         /* ensemble arrays */
};

void wf_tree_model_free(wf_tree_model *tm) {
    if (!tm)
        return;
    free(tm->feat_begin);
    free(tm->cells);
    free(tm->block);
    free(tm);
}

const wf_tree_ensemble *wf_tree_model_ensemble(const wf_tree_model *tm) {
    return &tm->te;
}

int wf_tree_model_output_link(const wf_tree_model *tm) {
    return tm->link;
}

const char *wf_tree_model_margin_name(const wf_tree_model *tm) {
    return tm->margin_name;
}

int wf_tree_model_feature_cells(const wf_tree_model *tm, int f, const int32_t **cells) {
    if (f < 0 || f >= tm->te.n_features) {
        *cells = NULL;
        return 0;
    }
    *cells = tm->cells + tm->feat_begin[f];
    return tm->feat_begin[f + 1] - tm->feat_begin[f];
}

static void input_tensor(const wf_tree_model *tm, int64_t n, const float *data, wf_tensor *t) {
    memset(t, 0, sizeof *t);
    t->dtype = WF_DTYPE_FLOAT;
    t->data = (void *)data;
    t->dims[0] = n;
    if (tm->layout == WF_LAYOUT_FLAT) {
        t->rank = 2;
        t->dims[1] = (int64_t)tm->C * tm->T;
    } else {
        t->rank = 3;
        t->dims[1] = tm->layout == WF_LAYOUT_NCT ? tm->C : tm->T;
        t->dims[2] = tm->layout == WF_LAYOUT_NCT ? tm->T : tm->C;
    }
}

wf_status wf_tree_model_rows(const wf_tree_model *tm, const float *x, int64_t n, float *rows,
                             wf_error *err) {
    size_t ct = (size_t)tm->C * (size_t)tm->T;
    float *buf = NULL;
    const float *xin = x;
    if (tm->layout == WF_LAYOUT_NTC) {
        buf = malloc((size_t)n * ct * sizeof *buf + 1);
        if (!buf)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < tm->C; c++)
                for (int t = 0; t < tm->T; t++)
                    buf[(i * tm->T + t) * tm->C + c] = x[(i * tm->C + c) * tm->T + t];
        xin = buf;
    }
    wf_engine *e = NULL;
    wf_status s = wf_engine_new(tm->m, n, 0, &e, err);
    if (!s) {
        wf_tensor t;
        input_tensor(tm, n, xin, &t);
        s = wf_engine_run(e, &t, 1, err);
    }
    if (!s) {
        const wf_tensor *xv = wf_engine_value(e, tm->x_value);
        int64_t F = xv->dims[xv->rank - 1];
        int64_t nr = xv->rank == 1 ? 1 : xv->dims[0];
        if (nr != n || F < tm->te.n_features)
            s = wf_error_set(err, WF_ERR_SHAPE,
                             "%s: the trees' input holds %lld rows of %lld features for %lld "
                             "windows",
                             tm->m->name, (long long)nr, (long long)F, (long long)n);
        else
            for (int64_t i = 0; i < n; i++)
                memcpy(rows + i * tm->te.n_features, (const float *)xv->data + i * F,
                       (size_t)tm->te.n_features * sizeof *rows);
    }
    wf_engine_free(e);
    free(buf);
    return s;
}

/* ---- cell dependency sets ---- */

typedef struct depset {
    int words;      /* uint64 words per element */
    uint64_t **val; /* (n_vals): NULL = unknown (not followed), else numel * words */
    char *known;    /* (n_vals) 1 when val[v] holds sets (constants: all empty) */
} depset;

static void strides_of(const wf_tensor *t, int64_t *st) {
    int64_t s = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= t->dims[i];
    }
}

static void or_into(uint64_t *dst, const uint64_t *src, int words) {
    for (int w = 0; w < words; w++)
        dst[w] |= src[w];
}

/* Offset in `in` (broadcast to out's shape, numpy rules) of output element i. */
static int64_t bcast_offset(const wf_tensor *out, const wf_tensor *in, int64_t i) {
    int64_t ost[WF_MAX_RANK], ist[WF_MAX_RANK], off = 0;
    strides_of(out, ost);
    strides_of(in, ist);
    int shift = out->rank - in->rank;
    for (int a = 0; a < out->rank; a++) {
        int64_t idx = (i / ost[a]) % out->dims[a];
        int b = a - shift;
        if (b >= 0 && in->dims[b] != 1)
            off += idx * ist[b];
    }
    return off;
}

static int is_any(const char *op, const char *const *names) {
    for (; *names; names++)
        if (!strcmp(op, *names))
            return 1;
    return 0;
}

/* Reduced axes of a Reduce* node for input rank r: attribute or constant input 1. */
static int reduce_axes(const wf_node *n, const wf_model *m, int r, int *red) {
    int64_t axes[WF_MAX_RANK];
    int k = wf_attr_ints(n, "axes", axes, WF_MAX_RANK);
    if (k > WF_MAX_RANK)
        return -1;
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const wf_value *v = &m->vals[n->in[1]];
        if (v->kind != WF_VAL_CONST || v->c.dtype != WF_DTYPE_INT64)
            return -1;
        k = (int)wf_numel(&v->c);
        if (k > WF_MAX_RANK)
            return -1;
        memcpy(axes, v->c.data, (size_t)k * sizeof *axes);
    }
    memset(red, 0, WF_MAX_RANK * sizeof *red);
    if (k <= 0) {
        if (!wf_attr_int(n, "noop_with_empty_axes", 0))
            for (int i = 0; i < r; i++)
                red[i] = 1;
        return 0;
    }
    for (int i = 0; i < k; i++) {
        int64_t a = wf_norm_axis(axes[i], r);
        if (a < 0)
            return -1;
        red[a] = 1;
    }
    return 0;
}

/* Dependency sets of node n's output 0 from its inputs; 0, or -1 when the op is not followed. */
static int dep_node(const wf_model *m, const wf_engine *e, const wf_node *n, depset *d) {
    static const char *const same[] = {"Identity",  "Cast",      "Dropout", "Scaler",    "Relu",
                                       "LeakyRelu", "Sigmoid",   "Tanh",    "Abs",       "Neg",
                                       "Sqrt",      "Exp",       "Log",     "Flatten",   "Reshape",
                                       "Squeeze",   "Unsqueeze", "Clip",    "Floor",     "Ceil",
                                       "Round",     "Sign",      "Imputer", "Binarizer", NULL};
    static const char *const binary[] = {"Add", "Sub", "Mul", "Div",  "Pow",
                                         "Max", "Min", "Sum", "Mean", NULL};
    static const char *const reduce[] = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum",
                                         "ReduceL1",   "ReduceL2",  NULL};
    const char *op = n->op->name;
    int W = d->words;
    int v = n->out[0];
    const wf_tensor *ot = wf_engine_value(e, v);
    int64_t on = wf_numel(ot);
    uint64_t *dst = calloc((size_t)on * (size_t)W + 1, sizeof *dst);
    if (!dst)
        return -1;
    d->val[v] = dst;
    d->known[v] = 1;
    if (is_any(op, same)) {
        if (n->in[0] < 0 || !d->known[n->in[0]] || wf_numel(wf_engine_value(e, n->in[0])) != on)
            return -1;
        memcpy(dst, d->val[n->in[0]], (size_t)on * (size_t)W * sizeof *dst);
        return 0;
    }
    if (is_any(op, binary)) {
        for (int k = 0; k < n->n_in; k++) {
            int iv = n->in[k];
            if (iv < 0)
                continue;
            if (!d->known[iv])
                return -1;
            const wf_tensor *it = wf_engine_value(e, iv);
            for (int64_t i = 0; i < on; i++)
                or_into(dst + i * W, d->val[iv] + bcast_offset(ot, it, i) * W, W);
        }
        return 0;
    }
    if (!strcmp(op, "Transpose")) {
        const wf_tensor *it = wf_engine_value(e, n->in[0]);
        if (!d->known[n->in[0]])
            return -1;
        int r = it->rank;
        int64_t perm[WF_MAX_RANK], ist[WF_MAX_RANK], ost[WF_MAX_RANK];
        int k = wf_attr_ints(n, "perm", perm, WF_MAX_RANK);
        if (k > WF_MAX_RANK || (k >= 0 && k != r) || ot->rank != r)
            return -1;
        for (int a = 0; a < r && k < 0; a++)
            perm[a] = r - 1 - a;
        for (int a = 0; a < r; a++)
            if (perm[a] < 0 || perm[a] >= r)
                return -1;
        strides_of(it, ist);
        strides_of(ot, ost);
        for (int64_t i = 0; i < on; i++) {
            int64_t off = 0;
            for (int a = 0; a < r; a++)
                off += ((i / ost[a]) % ot->dims[a]) * ist[perm[a]];
            memcpy(dst + i * W, d->val[n->in[0]] + off * W, (size_t)W * sizeof *dst);
        }
        return 0;
    }
    if (is_any(op, reduce)) {
        const wf_tensor *it = wf_engine_value(e, n->in[0]);
        int red[WF_MAX_RANK];
        if (!d->known[n->in[0]] || reduce_axes(n, m, it->rank, red))
            return -1;
        /* map each input element to its (keepdims) output element */
        int64_t ist[WF_MAX_RANK], kst[WF_MAX_RANK], s = 1;
        strides_of(it, ist);
        for (int a = it->rank - 1; a >= 0; a--) {
            kst[a] = red[a] ? 0 : s;
            s *= red[a] ? 1 : it->dims[a];
        }
        if (s != on)
            return -1;
        int64_t inn = wf_numel(it);
        for (int64_t i = 0; i < inn; i++) {
            int64_t o = 0;
            for (int a = 0; a < it->rank; a++)
                o += ((i / ist[a]) % it->dims[a]) * kst[a];
            or_into(dst + o * W, d->val[n->in[0]] + i * W, W);
        }
        return 0;
    }
    if (!strcmp(op, "Normalizer")) { /* every output of a row depends on the whole row */
        const wf_tensor *it = wf_engine_value(e, n->in[0]);
        if (!d->known[n->in[0]] || it->rank > 2 || wf_numel(it) != on)
            return -1;
        int64_t c = it->rank ? it->dims[it->rank - 1] : 1, r = c ? on / c : 0;
        for (int64_t b = 0; b < r; b++) {
            uint64_t *acc = dst + b * c * W;
            for (int64_t j = 0; j < c; j++)
                or_into(acc, d->val[n->in[0]] + (b * c + j) * W, W);
            for (int64_t j = 1; j < c; j++)
                memcpy(acc + j * W, acc, (size_t)W * sizeof *dst);
        }
        return 0;
    }
    if (!strcmp(op, "ArrayFeatureExtractor")) { /* constant indices on the last axis */
        const wf_tensor *it = wf_engine_value(e, n->in[0]);
        const wf_value *iv = &m->vals[n->in[1]];
        if (!d->known[n->in[0]] || iv->kind != WF_VAL_CONST || it->rank < 1)
            return -1;
        int64_t c = it->dims[it->rank - 1], k = wf_numel(&iv->c), r = c ? wf_numel(it) / c : 0;
        const int64_t *ix = iv->c.data;
        if (r * k != on)
            return -1;
        for (int64_t b = 0; b < r; b++)
            for (int64_t j = 0; j < k; j++)
                if (ix[j] >= 0 && ix[j] < c)
                    memcpy(dst + (b * k + j) * W, d->val[n->in[0]] + (b * c + ix[j]) * W,
                           (size_t)W * sizeof *dst);
        return 0;
    }
    if (!strcmp(op, "FeatureVectorizer")) { /* concat along axis 1, each input cut or padded */
        const wf_attr *a = wf_attr_find(n, "inputdimensions");
        int64_t N = ot->dims[0], Wd = ot->dims[1], off = 0;
        for (int k = 0; k < n->n_in; k++) {
            if (!d->known[n->in[k]])
                return -1;
            const wf_tensor *it = wf_engine_value(e, n->in[k]);
            int64_t c = it->rank ? it->dims[it->rank - 1] : 1;
            for (int64_t b = 0; b < N; b++)
                for (int64_t j = 0; j < a->ints[k] && j < c; j++)
                    memcpy(dst + (b * Wd + off + j) * W, d->val[n->in[k]] + (b * c + j) * W,
                           (size_t)W * sizeof *dst);
            off += a->ints[k];
        }
        return 0;
    }
    if (!strcmp(op, "Concat")) {
        int r = ot->rank;
        int64_t ax = wf_norm_axis(wf_attr_int(n, "axis", 0), r);
        if (ax < 0)
            return -1;
        int64_t outer = 1, inner = 1, base = 0;
        for (int a = 0; a < ax; a++)
            outer *= ot->dims[a];
        for (int a = (int)ax + 1; a < r; a++)
            inner *= ot->dims[a];
        for (int k = 0; k < n->n_in; k++) {
            int iv = n->in[k];
            if (iv < 0)
                continue;
            if (!d->known[iv])
                return -1;
            const wf_tensor *it = wf_engine_value(e, iv);
            int64_t len = it->dims[ax];
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < len * inner; j++)
                    memcpy(dst + ((o * ot->dims[ax] + base) * inner + j) * W,
                           d->val[iv] + (o * len * inner + j) * W, (size_t)W * sizeof *dst);
            base += len;
        }
        return 0;
    }
    return -1;
}

/* Feature -> cells of the trees' input X (value xv), into tm->feat_begin/cells. */
static wf_status feature_cells(wf_tree_model *tm, const wf_engine *e, int tree_node,
                               wf_error *err) {
    const wf_model *m = tm->m;
    int CT = tm->C * tm->T;
    depset d = {(CT + 63) / 64, NULL, NULL};
    d.val = calloc((size_t)m->n_vals + 1, sizeof *d.val);
    d.known = calloc((size_t)m->n_vals + 1, 1);
    char *fromx = calloc((size_t)m->n_vals + 1, 1); /* depends on the model input */
    wf_status s = WF_OK;
    if (!d.val || !d.known || !fromx) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int v = 0; v < m->n_vals; v++)
        if (m->vals[v].kind == WF_VAL_CONST) {
            d.known[v] = 1;
            d.val[v] = calloc((size_t)wf_numel(&m->vals[v].c) * (size_t)d.words + 1, 8);
            if (!d.val[v]) {
                s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
    int xin = m->inputs[0];
    d.val[xin] = calloc((size_t)CT * (size_t)d.words + 1, 8);
    if (!d.val[xin]) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    d.known[xin] = 1;
    fromx[xin] = 1;
    for (int e_ = 0; e_ < CT; e_++) {
        int cell = e_;
        if (tm->layout == WF_LAYOUT_NTC) /* element t*C + c */
            cell = (e_ % tm->C) * tm->T + e_ / tm->C;
        d.val[xin][(size_t)e_ * d.words + cell / 64] |= (uint64_t)1 << (cell % 64);
    }
    int bad = -1;
    for (int j = 0; j < tree_node; j++) {
        const wf_node *n = &m->nodes[j];
        int any = 0, all_known = 1;
        for (int k = 0; k < n->n_in; k++) {
            int iv = n->in[k];
            if (iv < 0 || !fromx[iv])
                continue;
            any = 1;
            all_known &= d.known[iv];
        }
        for (int k = 0; any && k < n->n_out; k++)
            if (n->out[k] >= 0)
                fromx[n->out[k]] = 1;
        if (!any) { /* computed from constants only: depends on no cell */
            for (int k = 0; k < n->n_out; k++) {
                int ov = n->out[k];
                if (ov < 0)
                    continue;
                d.val[ov] = calloc((size_t)wf_numel(wf_engine_value(e, ov)) * d.words + 1, 8);
                if (!d.val[ov]) {
                    s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                    goto done;
                }
                d.known[ov] = 1;
            }
            continue;
        }
        if (!all_known || n->n_out != 1 || dep_node(m, e, n, &d)) {
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    d.known[n->out[k]] = 0;
            if (bad < 0)
                bad = j;
        }
    }
    if (!d.known[tm->x_value]) {
        char lb[300];
        s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                         "%s: TreeSHAP cannot tell which window cells the tree features depend "
                         "on: %s between the input and the trees is not one of the ops it "
                         "follows (reshapes, Transpose, Cast, Scaler, Imputer, Normalizer, "
                         "elementwise ops, ReduceMean/Max/Min/Sum, Concat, "
                         "ArrayFeatureExtractor, FeatureVectorizer)",
                         m->name,
                         bad >= 0 ? wf_node_label(&m->nodes[bad], lb, sizeof lb) : "a node");
        goto done;
    }
    const wf_tensor *xt = wf_engine_value(e, tm->x_value);
    int F = tm->te.n_features;
    if (wf_numel(xt) < F) {
        s = wf_error_set(err, WF_ERR_SHAPE, "%s: the trees' input is smaller than its features",
                         m->name);
        goto done;
    }
    int64_t total = 0;
    for (int f = 0; f < F; f++)
        for (int w = 0; w < d.words; w++)
            for (uint64_t b = d.val[tm->x_value][(size_t)f * d.words + w]; b; b &= b - 1)
                total++;
    tm->feat_begin = malloc(((size_t)F + 1) * sizeof *tm->feat_begin);
    tm->cells = malloc(((size_t)total + 1) * sizeof *tm->cells);
    if (!tm->feat_begin || !tm->cells) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    int32_t k = 0;
    for (int f = 0; f < F; f++) {
        tm->feat_begin[f] = k;
        const uint64_t *b = d.val[tm->x_value] + (size_t)f * d.words;
        for (int c = 0; c < CT; c++)
            if (b[c / 64] >> (c % 64) & 1)
                tm->cells[k++] = c;
    }
    tm->feat_begin[F] = k;
done:
    if (d.val)
        for (int v = 0; v < m->n_vals; v++)
            free(d.val[v]);
    free(d.val);
    free(d.known);
    free(fromx);
    return s;
}

/* The margin of column col as leaf values and a base; WF_ERR_UNSUPPORTED when the score is not
 * a monotone map of one such margin. */
static wf_status margin_of(wf_tree_model *tm, const wf_node *n, const wf_ml_trees *t, int col,
                           wf_error *err) {
    static const char *const post_names[] = {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO",
                                             "PROBIT"};
    char lb[300];
    wf_node_label(n, lb, sizeof lb);
    if (t->agg == WF_ML_MIN || t->agg == WF_ML_MAX)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s: aggregate_function %s is not a sum over trees: TreeSHAP needs "
                            "an additive ensemble (SUM or AVERAGE)",
                            lb, t->agg == WF_ML_MIN ? "MIN" : "MAX");
    int target = col;
    double base = 0;
    if (t->classifier && t->n_out == 2) {
        if (t->binary_case) {
            /* one weight column: the positive probability is a map of s[class] + base */
            int cls = t->weights[0].target;
            if (cls != 0 || col != 1)
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: a one-column binary classifier with weights on class %d "
                                    "is not supported by TreeSHAP",
                                    lb, cls);
            if (t->post == WF_ML_PROBIT || !(t->post == WF_ML_LOGISTIC || t->all_positive))
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: with one weight column and post_transform %s the "
                                    "positive-class score is not a monotone map of the margin",
                                    lb, post_names[t->post]);
            if (t->n_base == 2)
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: one weight column with two base_values mixes columns "
                                    "(ONNX Runtime's binary rule)",
                                    lb);
            target = 0;
            base = t->n_base == 1 ? t->base[0] : 0;
        } else {
            if (t->n_base == 2)
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: two classes with two base_values: ONNX Runtime sets "
                                    "class 1 from class 0's score; not supported by TreeSHAP",
                                    lb);
            base = (t->n_base == 1 && col == 0) ? t->base[0] : 0;
        }
    } else if (t->classifier) {
        base = col < t->n_base ? t->base[col] : 0;
    } else if (t->n_out == 1) {
        base = t->n_base == 1 ? t->base[0] : 0;
    } else {
        base = t->n_base == t->n_out ? t->base[col] : 0;
    }
    /* the score as a map of the margin: identity, logistic, or something else */
    tm->link = t->post == WF_ML_NONE ? 0 : t->post == WF_ML_LOGISTIC ? 1 : -1;
    if (t->classifier && t->n_out == 2 && t->binary_case && t->all_positive)
        tm->link = 0; /* ORT writes [1 - s, s] whatever the transform (PROBIT rejected above) */
    if (!t->classifier && t->n_out == 1 && t->post != WF_ML_PROBIT)
        tm->link = 0; /* one target: ORT applies only PROBIT */
    double scale = t->agg == WF_ML_AVERAGE ? 1.0 / t->n_trees : 1.0;
    int N = t->n_nodes;
    size_t bytes = (size_t)N * (4 * sizeof(int32_t) + 2 + sizeof(float) + sizeof(double)) +
                   (size_t)t->n_trees * sizeof(int32_t) + 256;
    char *p = calloc(1, bytes);
    if (!p)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    tm->block = p;
    double *value = (double *)p;
    p += (size_t)N * sizeof(double);
    float *thr = (float *)p;
    p += (size_t)N * sizeof(float);
    int32_t *feat = (int32_t *)p;
    p += (size_t)N * sizeof(int32_t);
    int32_t *ct = (int32_t *)p;
    p += (size_t)N * sizeof(int32_t);
    int32_t *cf = (int32_t *)p;
    p += (size_t)N * sizeof(int32_t);
    int32_t *roots = (int32_t *)p;
    p += (size_t)t->n_trees * sizeof(int32_t);
    uint8_t *mode = (uint8_t *)p;
    p += N;
    uint8_t *miss = (uint8_t *)p;
    for (int i = 0; i < N; i++) {
        const wf_ml_node *nd = &t->nodes[i];
        feat[i] = nd->feature;
        ct[i] = nd->child_true;
        cf[i] = nd->child_false;
        mode[i] = nd->mode;
        miss[i] = nd->missing_true;
        thr[i] = nd->threshold;
        double v = 0;
        for (int j = 0; j < nd->w_count; j++)
            if (t->weights[nd->w_begin + j].target == target)
                v += t->weights[nd->w_begin + j].value;
        value[i] = v * scale;
    }
    memcpy(roots, t->roots, (size_t)t->n_trees * sizeof *roots);
    tm->te.n_features = t->n_features;
    tm->te.n_trees = t->n_trees;
    tm->te.n_nodes = N;
    tm->te.roots = roots;
    tm->te.feature = feat;
    tm->te.child_true = ct;
    tm->te.child_false = cf;
    tm->te.mode = mode;
    tm->te.missing_true = miss;
    tm->te.threshold = thr;
    tm->te.value = value;
    tm->te.base = base;
    if (t->classifier)
        snprintf(tm->margin_name, sizeof tm->margin_name,
                 "raw margin of class %lld (score before post_transform %s)",
                 (long long)t->labels[col], post_names[t->post]);
    else
        snprintf(tm->margin_name, sizeof tm->margin_name,
                 "raw margin of target %d (before post_transform %s)", col, post_names[t->post]);
    return WF_OK;
}

static wf_status resolve_layout(const wf_model *m, int C, int T, wf_layout layout, wf_layout *got,
                                wf_error *err) {
    const wf_value *x = &m->vals[m->inputs[0]];
    const int64_t *d = x->decl_dims;
    if (x->decl_rank == 2) {
        *got = WF_LAYOUT_FLAT;
        return WF_OK;
    }
    if (x->decl_rank != 3)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: input '%s' has rank %d; a window model takes [N, C, T], "
                            "[N, T, C] or [N, C*T]",
                            m->name, x->name, x->decl_rank);
    int nct = (d[1] < 0 || d[1] == C) && (d[2] < 0 || d[2] == T);
    int ntc = (d[1] < 0 || d[1] == T) && (d[2] < 0 || d[2] == C);
    if (layout == WF_LAYOUT_NCT || layout == WF_LAYOUT_NTC) {
        *got = layout;
        return WF_OK;
    }
    if (nct == ntc)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: input '%s' is ambiguous or does not fit C=%d x T=%d: pass the "
                            "layout",
                            m->name, x->name, C, T);
    *got = nct ? WF_LAYOUT_NCT : WF_LAYOUT_NTC;
    return WF_OK;
}

/* head: graph output of the score; column: the ensemble's column, -1 for the default. */
static wf_status tree_model_at(const wf_model *m, int C, int T, wf_layout layout, int head,
                               int column, wf_tree_model **out, wf_error *err);

wf_status wf_tree_model_new(const wf_model *m, int C, int T, wf_layout layout, wf_tree_model **out,
                            wf_error *err) {
    *out = NULL;
    if (m->n_inputs != 1)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: TreeSHAP needs a model with one input",
                            m->name);
    int head = wf_model_score_head(m);
    if (head < 0)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: no float output to explain", m->name);
    return tree_model_at(m, C, T, layout, head, -1, out, err);
}

wf_status wf_tree_model_new_spec(const wf_model *m, int C, int T, wf_layout layout,
                                 const char *spec, wf_tree_model **out, wf_error *err) {
    *out = NULL;
    if (!spec || !*spec)
        return wf_tree_model_new(m, C, T, layout, out, err);
    if (m->n_inputs != 1)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: TreeSHAP needs a model with one input",
                            m->name);
    /* "NAME[:COLUMN]" as wf_model_predictor_spec reads it */
    char name[160];
    int column = -1;
    snprintf(name, sizeof name, "%s", spec);
    char *colon = strrchr(name, ':');
    if (colon) {
        char *end;
        long c = strtol(colon + 1, &end, 10);
        if (colon[1] && !*end && c >= 0 && c < 1000000) {
            column = (int)c;
            *colon = '\0';
        }
    }
    int o = wf_model_output_index(m, name);
    if (o < 0)
        return wf_error_set(err, WF_ERR_CONFIG, "%s: the model has no output '%s'", m->name, name);
    if (m->vals[m->outputs[o]].dtype == WF_DTYPE_INT64)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "%s: output '%s' holds class labels, not a score to explain", m->name,
                            name);
    return tree_model_at(m, C, T, layout, o, column, out, err);
}

static wf_status tree_model_at(const wf_model *m, int C, int T, wf_layout layout, int head,
                               int column, wf_tree_model **out, wf_error *err) {
    /* back from the score through ZipMap/Identity to the ensemble */
    int v = m->outputs[head];
    const wf_node *tn = NULL;
    int tn_index = -1;
    while (m->vals[v].kind == WF_VAL_NODE) {
        const wf_node *n = &m->nodes[m->vals[v].producer];
        if (!strcmp(n->op->name, "ZipMap") || !strcmp(n->op->name, "Identity")) {
            v = n->in[0];
            continue;
        }
        if (!strcmp(n->op->name, "TreeEnsembleClassifier") ||
            !strcmp(n->op->name, "TreeEnsembleRegressor")) {
            tn = n;
            tn_index = m->vals[v].producer;
        }
        break;
    }
    if (!tn) {
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s: the score output '%s' is not produced by a TreeEnsembleClassifier "
                            "or TreeEnsembleRegressor (through ZipMap or Identity at most): "
                            "TreeSHAP does not apply",
                            m->name, m->vals[m->outputs[head]].name);
    }
    const wf_ml_trees *t = tn->aux;
    int width = t->n_out;
    int col = width == 1 ? 0 : width == 2 ? 1 : -1;
    if (column >= width)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "%s: column %d of output '%s', which has %d (0..%d)", m->name, column,
                            m->vals[m->outputs[head]].name, width, width - 1);
    if (column >= 0 && width > 1)
        col = column;
    if (col < 0)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s: the trees score %d classes or targets; whyflag explains one score "
                            "(a single target or the positive class of two, or the column named "
                            "by model_output / --output NAME:COLUMN)",
                            m->name, width);
    wf_tree_model *tm = calloc(1, sizeof *tm);
    if (!tm)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    tm->m = m;
    tm->C = C;
    tm->T = T;
    tm->x_value = tn->in[0];
    tm->col = col;
    wf_status s = resolve_layout(m, C, T, layout, &tm->layout, err);
    if (!s)
        s = margin_of(tm, tn, t, col, err);
    wf_engine *e = NULL;
    if (!s)
        s = wf_engine_new(m, 1, 0, &e, err);
    if (!s) {
        float *zero = calloc((size_t)C * (size_t)T, sizeof *zero);
        wf_tensor in;
        input_tensor(tm, 1, zero, &in);
        s = zero ? wf_engine_run(e, &in, 1, err) : wf_error_set(err, WF_ERR_NOMEM, "oom");
        free(zero);
    }
    if (!s)
        s = feature_cells(tm, e, tn_index, err);
    wf_engine_free(e);
    if (s) {
        wf_tree_model_free(tm);
        return s;
    }
    *out = tm;
    return WF_OK;
}
