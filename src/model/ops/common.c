/*
 * Helpers shared by the op families: attribute access, node labels for messages, dtype checks,
 * numpy broadcasting, shape-like int64 inputs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"

const wf_attr *wf_attr_find(const wf_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i].name, name))
            return &n->attr[i];
    return NULL;
}

int64_t wf_attr_int(const wf_node *n, const char *name, int64_t def) {
    const wf_attr *a = wf_attr_find(n, name);
    return a ? a->i : def;
}

float wf_attr_float(const wf_node *n, const char *name, float def) {
    const wf_attr *a = wf_attr_find(n, name);
    return a ? a->f : def;
}

const char *wf_attr_str(const wf_node *n, const char *name, const char *def) {
    const wf_attr *a = wf_attr_find(n, name);
    return a && a->s ? a->s : def;
}

int wf_attr_ints(const wf_node *n, const char *name, int64_t *out, int max) {
    const wf_attr *a = wf_attr_find(n, name);
    if (!a)
        return -1;
    if (a->type != WF_ATTR_INTS || !a->ints)
        return 0; /* a scalar or float list where ints were expected: read as empty */
    int k = a->n < max ? a->n : max;
    for (int i = 0; i < k; i++)
        out[i] = a->ints[i];
    return a->n;
}

const char *wf_node_label(const wf_node *n, char *buf, size_t size) {
    snprintf(buf, size, "node '%s' (#%d, %s)", n->name ? n->name : "", n->onnx_index,
             n->op ? n->op->name : "?");
    return buf;
}

wf_status wf_node_error(wf_error *err, wf_status s, const wf_node *n, const char *fmt, ...) {
    if (!err)
        return s;
    char lb[256], msg[WF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wf_error_set(err, s, "%s: %s", wf_node_label(n, lb, sizeof lb), msg);
}

static void mask_names(unsigned mask, char *buf, size_t size) {
    buf[0] = 0;
    size_t len = 0;
    for (int d = 0; d < 32; d++)
        if (mask & (1u << d)) {
            int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", wf_dtype_name(d));
            if (w < 0 || (size_t)w >= size - len)
                break;
            len += (size_t)w;
        }
}

wf_status wf_check_dtype(const wf_node *n, const wf_value *vals, int i, unsigned mask,
                         wf_error *err) {
    if (i >= n->n_in || n->in[i] < 0)
        return WF_OK;
    wf_dtype d = vals[n->in[i]].dtype;
    if ((unsigned)d < 32 && (mask & (1u << d)))
        return WF_OK;
    char names[160];
    mask_names(mask, names, sizeof names);
    return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "input %d ('%s') has dtype %s; supported: %s",
                         i, vals[n->in[i]].name, wf_dtype_name(d), names);
}

int64_t wf_norm_axis(int64_t axis, int rank) {
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= (rank > 0 ? rank : 1))
        return -1;
    return axis;
}

wf_status wf_check_numel(const wf_node *n, const wf_tensor *t, wf_error *err) {
    int64_t p = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 || t->dims[i] > WF_MAX_NUMEL)
            return wf_node_error(err, WF_ERR_SHAPE, n, "absurd dimension %lld at axis %d",
                                 (long long)t->dims[i], i);
        p *= t->dims[i];
        if (p > WF_MAX_NUMEL)
            return wf_node_error(err, WF_ERR_SHAPE, n, "output would hold more than 2^31 elements");
    }
    return WF_OK;
}

wf_status wf_broadcast_shape(const wf_node *n, const wf_tensor *a, const wf_tensor *b,
                             wf_tensor *out, wf_error *err) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    out->rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return wf_node_error(err, WF_ERR_SHAPE, n,
                                 "shapes cannot broadcast: dim %lld vs %lld at output axis %d",
                                 (long long)da, (long long)db, i);
        out->dims[i] = da == 1 ? db : da;
    }
    return wf_check_numel(n, out, err);
}

wf_status wf_read_i64(const wf_node *n, const wf_tensor *t, const char *what, int64_t *out, int max,
                      int *count, wf_error *err) {
    if (!t->data)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "%s must be a constant or a graph input (it is computed by the "
                             "graph)",
                             what);
    if (t->dtype != WF_DTYPE_INT64 && t->dtype != WF_DTYPE_INT32)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "%s must be int64, not %s", what,
                             wf_dtype_name(t->dtype));
    int64_t k = wf_numel(t);
    if (t->rank > 1 || k > max)
        return wf_node_error(err, WF_ERR_SHAPE, n, "%s must be a vector of at most %d values", what,
                             max);
    for (int64_t i = 0; i < k; i++)
        out[i] = t->dtype == WF_DTYPE_INT64 ? ((const int64_t *)t->data)[i]
                                            : ((const int32_t *)t->data)[i];
    *count = (int)k;
    return WF_OK;
}

/* ---- the Reduce* family (ReduceMean in ops_misc.c, the others in ops_norm.c) ---- */

/* Which input axes are reduced (red[i]); 0 axes and noop: identity. */
wf_status wf_reduce_axes(const wf_node *n, wf_tensor *const *in, int *red, wf_error *err) {
    int64_t axes[WF_MAX_RANK];
    int k = n->p.n_axes, r = in[0]->rank;
    memcpy(axes, n->p.axes, sizeof axes);
    if (n->n_in >= 2 && in[1]) {
        wf_status s = wf_read_i64(n, in[1], "the axes input", axes, WF_MAX_RANK, &k, err);
        if (s)
            return s;
    }
    memset(red, 0, WF_MAX_RANK * sizeof *red);
    if (k == 0) {
        if (!n->p.noop_empty_axes)
            for (int i = 0; i < r; i++)
                red[i] = 1;
        return WF_OK;
    }
    for (int i = 0; i < k; i++) {
        int64_t a = wf_norm_axis(axes[i], r);
        if (a < 0)
            return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                                 (long long)axes[i], r);
        red[a] = 1;
    }
    return WF_OK;
}

wf_status wf_reduce_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err) {
    int red[WF_MAX_RANK];
    wf_status s = wf_reduce_axes(n, in, red, err);
    if (s)
        return s;
    int o = 0;
    for (int i = 0; i < in[0]->rank; i++) {
        if (!red[i])
            out[0]->dims[o++] = in[0]->dims[i];
        else if (n->p.keepdims)
            out[0]->dims[o++] = 1;
    }
    out[0]->rank = o;
    *scratch = (size_t)wf_numel(out[0]) * sizeof(double);
    return WF_OK;
}
