/*
 * Shape ops: Flatten, Reshape, Squeeze, Unsqueeze (views: the output aliases the input's data
 * and gradient), Transpose, Concat (copies, any supported dtype) and Pad (float32).
 */
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

static wf_status passthrough_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs a data input and 1 output");
    for (int i = 1; i < n->n_in; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_BIT(WF_DTYPE_INT64), err);
        if (s)
            return s;
    }
    n->p.axis = wf_attr_int(n, "axis", 1);
    n->p.allowzero = (int)wf_attr_int(n, "allowzero", 0);
    int k = wf_attr_ints(n, "axes", n->p.axes, WF_MAX_RANK);
    if (k > WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "more than %d axes", WF_MAX_RANK);
    n->p.has_axes = k >= 0;
    n->p.n_axes = k > 0 ? k : 0;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

/* ---- Flatten ---- */
static wf_status flatten_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                               size_t *scratch, wf_error *err) {
    (void)scratch;
    int r = in[0]->rank;
    int64_t axis = n->p.axis < 0 ? n->p.axis + r : n->p.axis;
    if (axis < 0 || axis > r)
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                             (long long)n->p.axis, r);
    int64_t a = 1, b = 1;
    for (int i = 0; i < r; i++)
        *(i < axis ? &a : &b) *= in[0]->dims[i];
    out[0]->rank = 2;
    out[0]->dims[0] = a;
    out[0]->dims[1] = b;
    return WF_OK;
}

static void view_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)in;
    (void)out;
    (void)s;
}

const wf_opdef wf_op_flatten = {
    "Flatten", passthrough_check, flatten_shape, view_fwd, wf_nop_bwd, 1, NULL};

/* ---- Reshape ---- */
static wf_status reshape_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                               size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t shp[WF_MAX_RANK];
    int k;
    if (n->n_in >= 2 && in[1]) {
        wf_status s = wf_read_i64(n, in[1], "the shape input", shp, WF_MAX_RANK, &k, err);
        if (s)
            return s;
    } else {
        k = wf_attr_ints(n, "shape", shp, WF_MAX_RANK);
        if (k < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "no shape input or attribute");
        if (k > WF_MAX_RANK)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "rank %d > %d", k, WF_MAX_RANK);
    }
    int64_t total = wf_numel(in[0]), known = 1;
    int neg = -1;
    for (int i = 0; i < k; i++) {
        int64_t d = shp[i];
        if (d == 0 && !n->p.allowzero) {
            if (i >= in[0]->rank)
                return wf_node_error(err, WF_ERR_SHAPE, n, "shape[%d] = 0 copies a missing axis",
                                     i);
            d = in[0]->dims[i];
        } else if (d == -1) {
            if (neg >= 0)
                return wf_node_error(err, WF_ERR_SHAPE, n, "shape has two -1 entries");
            neg = i;
            d = 1;
        } else if (d < 0 || d > WF_MAX_NUMEL) {
            return wf_node_error(err, WF_ERR_SHAPE, n, "absurd shape entry %lld",
                                 (long long)shp[i]);
        }
        out[0]->dims[i] = d;
        known *= d;
        if (known > WF_MAX_NUMEL)
            return wf_node_error(err, WF_ERR_SHAPE, n, "shape holds more than 2^31 elements");
    }
    out[0]->rank = k;
    if (neg >= 0) {
        if (known == 0 || total % known)
            return wf_node_error(err, WF_ERR_SHAPE, n,
                                 "cannot infer the -1 entry: %lld elements into blocks of %lld",
                                 (long long)total, (long long)known);
        out[0]->dims[neg] = total / known;
        known = total;
    }
    if (known != total)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "cannot reshape %lld elements into a shape of %lld", (long long)total,
                             (long long)known);
    return WF_OK;
}

const wf_opdef wf_op_reshape = {
    "Reshape", passthrough_check, reshape_shape, view_fwd, wf_nop_bwd, 1, NULL};

/* Axes of Squeeze/Unsqueeze: attribute before opset 13, second input after. */
static wf_status get_axes(const wf_node *n, wf_tensor *const *in, int64_t *axes, int *k,
                          wf_error *err) {
    if (n->n_in >= 2 && in[1])
        return wf_read_i64(n, in[1], "the axes input", axes, WF_MAX_RANK, k, err);
    *k = n->p.has_axes ? n->p.n_axes : -1;
    memcpy(axes, n->p.axes, sizeof n->p.axes);
    return WF_OK;
}

static wf_status squeeze_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                               size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t axes[WF_MAX_RANK];
    int k;
    wf_status s = get_axes(n, in, axes, &k, err);
    if (s)
        return s;
    int r = in[0]->rank, drop[WF_MAX_RANK] = {0};
    if (k <= 0) {
        for (int i = 0; i < r; i++)
            drop[i] = in[0]->dims[i] == 1;
    } else {
        for (int i = 0; i < k; i++) {
            int64_t a = wf_norm_axis(axes[i], r);
            if (a < 0 || in[0]->dims[a] != 1)
                return wf_node_error(
                    err, WF_ERR_SHAPE, n, "axis %lld cannot be squeezed (rank %d, dim %lld)",
                    (long long)axes[i], r, a < 0 ? -1LL : (long long)in[0]->dims[a]);
            drop[a] = 1;
        }
    }
    int o = 0;
    for (int i = 0; i < r; i++)
        if (!drop[i])
            out[0]->dims[o++] = in[0]->dims[i];
    out[0]->rank = o;
    return WF_OK;
}

const wf_opdef wf_op_squeeze = {
    "Squeeze", passthrough_check, squeeze_shape, view_fwd, wf_nop_bwd, 1, NULL};

static wf_status unsqueeze_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                 size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t axes[WF_MAX_RANK];
    int k;
    wf_status s = get_axes(n, in, axes, &k, err);
    if (s)
        return s;
    if (k <= 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "no axes");
    int r = in[0]->rank + k;
    if (r > WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "output rank %d > %d", r, WF_MAX_RANK);
    int ins[WF_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        int64_t a = wf_norm_axis(axes[i], r);
        if (a < 0 || ins[a])
            return wf_node_error(err, WF_ERR_SHAPE, n, "bad or repeated axis %lld",
                                 (long long)axes[i]);
        ins[a] = 1;
    }
    int j = 0;
    for (int i = 0; i < r; i++)
        out[0]->dims[i] = ins[i] ? 1 : in[0]->dims[j++];
    out[0]->rank = r;
    return WF_OK;
}

const wf_opdef wf_op_unsqueeze = {
    "Unsqueeze", passthrough_check, unsqueeze_shape, view_fwd, wf_nop_bwd, 1, NULL};

/* ---- Transpose ---- */
static wf_status transpose_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    int k = wf_attr_ints(n, "perm", n->p.perm, WF_MAX_RANK);
    if (k > WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "perm longer than %d", WF_MAX_RANK);
    n->p.n_perm = k;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static void perm_of(const wf_node *n, int r, int64_t *perm) {
    for (int i = 0; i < r; i++)
        perm[i] = n->p.n_perm >= 0 ? n->p.perm[i] : r - 1 - i;
}

static wf_status transpose_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                 size_t *scratch, wf_error *err) {
    (void)scratch;
    int r = in[0]->rank;
    if (n->p.n_perm >= 0 && n->p.n_perm != r)
        return wf_node_error(err, WF_ERR_SHAPE, n, "perm has %d entries for rank %d", n->p.n_perm,
                             r);
    int64_t perm[WF_MAX_RANK];
    int seen[WF_MAX_RANK] = {0};
    perm_of(n, r, perm);
    for (int i = 0; i < r; i++) {
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]])
            return wf_node_error(err, WF_ERR_SHAPE, n, "perm is not a permutation of 0..%d", r - 1);
        seen[perm[i]] = 1;
        out[0]->dims[i] = in[0]->dims[perm[i]];
    }
    out[0]->rank = r;
    return WF_OK;
}

/* Output dims and, per output axis, the input stride (odometer over the output). */
typedef struct tr_iter {
    int r;
    int64_t odims[WF_MAX_RANK], istr[WF_MAX_RANK];
} tr_iter;

static void tr_setup(const wf_node *n, const wf_tensor *in, const wf_tensor *out, tr_iter *it) {
    int64_t perm[WF_MAX_RANK], st[WF_MAX_RANK];
    int r = in->rank;
    perm_of(n, r, perm);
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= in->dims[i];
    }
    it->r = r;
    for (int i = 0; i < r; i++) {
        it->odims[i] = out->dims[i];
        it->istr[i] = st[perm[i]];
    }
}

/* Merge output axes that are also adjacent and in order in the input (fewer, longer runs); keeps
 * at least one axis. */
static void tr_coalesce(tr_iter *it) {
    int r = 0;
    for (int i = 0; i < it->r; i++) {
        if (it->odims[i] == 1)
            continue; /* a unit axis never moves the source */
        if (r > 0 && it->istr[r - 1] == it->istr[i] * it->odims[i]) {
            it->odims[r - 1] *= it->odims[i];
            it->istr[r - 1] = it->istr[i];
        } else {
            it->odims[r] = it->odims[i];
            it->istr[r] = it->istr[i];
            r++;
        }
    }
    if (r == 0) {
        it->odims[0] = 1;
        it->istr[0] = 1;
        r = 1;
    }
    it->r = r;
}

/* Row by row over the last (coalesced) output axis: a strided gather, or a plain copy when that
 * axis is contiguous in the input; the other axes by odometer. */
#define TR_ROWS(T)                                                                                 \
    do {                                                                                           \
        const T *xs = (const T *)(const void *)x;                                                  \
        T *ys = (T *)(void *)y;                                                                    \
        int64_t idx[WF_MAX_RANK] = {0}, src = 0;                                                   \
        for (int64_t o = 0; o < outer; o++, ys += inner) {                                         \
            if (step == 1)                                                                         \
                for (int64_t i = 0; i < inner; i++)                                                \
                    ys[i] = xs[src + i];                                                           \
            else                                                                                   \
                for (int64_t i = 0; i < inner; i++)                                                \
                    ys[i] = xs[src + i * step];                                                    \
            for (int d = it.r - 2; d >= 0; d--) {                                                  \
                idx[d]++;                                                                          \
                src += it.istr[d];                                                                 \
                if (idx[d] < it.odims[d])                                                          \
                    break;                                                                         \
                src -= it.istr[d] * it.odims[d];                                                   \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void transpose_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    tr_iter it;
    tr_setup(n, in[0], out[0], &it);
    int64_t total = wf_numel(out[0]);
    if (total == 0)
        return;
    tr_coalesce(&it);
    int64_t inner = it.odims[it.r - 1], step = it.istr[it.r - 1], outer = total / inner;
    size_t es = wf_dtype_size(in[0]->dtype);
    const char *x = in[0]->data;
    char *y = out[0]->data;
    if (es == 4)
        TR_ROWS(uint32_t);
    else if (es == 1)
        TR_ROWS(char);
    else
        TR_ROWS(uint64_t);
}

static void transpose_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    tr_iter it;
    tr_setup(n, in[0], out[0], &it);
    int64_t total = wf_numel(out[0]);
    if (total == 0)
        return;
    tr_coalesce(&it);
    int64_t inner = it.odims[it.r - 1], step = it.istr[it.r - 1], outer = total / inner;
    const float *g = gout[0];
    float *gi = gin[0];
    /* row by row as transpose_fwd: gin[src + i step] += gout[row + i] */
    int64_t idx[WF_MAX_RANK] = {0}, src = 0;
    for (int64_t o = 0; o < outer; o++, g += inner) {
        for (int64_t i = 0; i < inner; i++)
            gi[src + i * step] += g[i];
        for (int d = it.r - 2; d >= 0; d--) {
            idx[d]++;
            src += it.istr[d];
            if (idx[d] < it.odims[d])
                break;
            src -= it.istr[d] * it.odims[d];
            idx[d] = 0;
        }
    }
}

const wf_opdef wf_op_transpose = {
    "Transpose", transpose_check, transpose_shape, transpose_fwd, transpose_bwd, 0, NULL};

/* ---- Concat ---- */
static wf_status concat_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs and 1 output");
    if (!wf_attr_find(n, "axis"))
        return wf_node_error(err, WF_ERR_PARSE, n, "attribute 'axis' is required");
    n->p.axis = wf_attr_int(n, "axis", 0);
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "input %d is empty", i);
        if (vals[n->in[i]].dtype != vals[n->in[0]].dtype)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "inputs differ in dtype");
    }
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status concat_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    int r = in[0]->rank;
    int64_t ax = wf_norm_axis(n->p.axis, r);
    if (ax < 0 || r == 0)
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                             (long long)n->p.axis, r);
    *out[0] = *in[0];
    out[0]->data = NULL;
    out[0]->dims[ax] = 0;
    for (int i = 0; i < n->n_in; i++) {
        if (in[i]->rank != r)
            return wf_node_error(err, WF_ERR_SHAPE, n, "input %d has rank %d, not %d", i,
                                 in[i]->rank, r);
        for (int d = 0; d < r; d++)
            if (d != ax && in[i]->dims[d] != in[0]->dims[d])
                return wf_node_error(err, WF_ERR_SHAPE, n, "input %d differs at axis %d", i, d);
        out[0]->dims[ax] += in[i]->dims[ax];
    }
    return wf_check_numel(n, out[0], err);
}

static void concat_geom(const wf_node *n, const wf_tensor *o, int64_t *outer, int64_t *inner) {
    int64_t ax = wf_norm_axis(n->p.axis, o->rank);
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < ax; d++)
        *outer *= o->dims[d];
    for (int d = (int)ax + 1; d < o->rank; d++)
        *inner *= o->dims[d];
}

static void concat_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t outer, inner, ax = wf_norm_axis(n->p.axis, out[0]->rank);
    concat_geom(n, out[0], &outer, &inner);
    size_t es = wf_dtype_size(out[0]->dtype);
    int64_t orow = out[0]->dims[ax] * inner;
    int64_t off = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t row = in[i]->dims[ax] * inner;
        for (int64_t o = 0; o < outer; o++)
            memcpy((char *)out[0]->data + (o * orow + off) * es,
                   (const char *)in[i]->data + o * row * es, (size_t)row * es);
        off += row;
    }
}

static void concat_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    (void)s;
    int64_t outer, inner, ax = wf_norm_axis(n->p.axis, out[0]->rank);
    concat_geom(n, out[0], &outer, &inner);
    int64_t orow = out[0]->dims[ax] * inner, off = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t row = in[i]->dims[ax] * inner;
        if (gin[i])
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < row; k++)
                    gin[i][o * row + k] += gout[0][o * orow + off + k];
        off += row;
    }
}

const wf_opdef wf_op_concat = {"Concat", concat_check, concat_shape, concat_fwd, concat_bwd,
                               0,        NULL};

/* ---- Pad (float32 data) ---- */
static wf_status pad_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs a data input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (!s)
        s = wf_check_dtype(n, vals, 2, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 3, WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32), err);
    if (s)
        return s;
    const char *mode = wf_attr_str(n, "mode", "constant");
    if (!strcmp(mode, "constant"))
        n->p.pad_mode = WF_K_PAD_CONSTANT;
    else if (!strcmp(mode, "reflect"))
        n->p.pad_mode = WF_K_PAD_REFLECT;
    else if (!strcmp(mode, "edge"))
        n->p.pad_mode = WF_K_PAD_EDGE;
    else
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "mode '%s' is not supported (constant, reflect, edge)", mode);
    int k = wf_attr_ints(n, "pads", n->p.pads_attr, 2 * WF_MAX_RANK);
    if (k > 2 * WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "too many pads");
    n->p.n_pads = k;
    n->p.pad_value = wf_attr_float(n, "value", 0.0f);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

/* Resolved pads (all begins then all ends, for every axis) and the constant value. */
static wf_status pad_resolve(const wf_node *n, wf_tensor *const *in, int *pads, float *value,
                             wf_error *err) {
    int r = in[0]->rank;
    int64_t p[2 * WF_MAX_RANK] = {0}, axes[WF_MAX_RANK];
    int k, na = r;
    if (n->n_in >= 2 && in[1]) {
        wf_status s = wf_read_i64(n, in[1], "the pads input", p, 2 * WF_MAX_RANK, &k, err);
        if (s)
            return s;
    } else {
        k = n->p.n_pads;
        memcpy(p, n->p.pads_attr, sizeof p);
    }
    if (n->n_in >= 4 && in[3]) {
        wf_status s = wf_read_i64(n, in[3], "the axes input", axes, WF_MAX_RANK, &na, err);
        if (s)
            return s;
    } else {
        for (int i = 0; i < r; i++)
            axes[i] = i;
    }
    if (k != 2 * na)
        return wf_node_error(err, WF_ERR_SHAPE, n, "%d pads for %d axes", k, na);
    memset(pads, 0, 2 * WF_MAX_RANK * sizeof *pads);
    for (int i = 0; i < na; i++) {
        int64_t a = wf_norm_axis(axes[i], r);
        if (a < 0)
            return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range",
                                 (long long)axes[i]);
        if (p[i] > WF_MAX_NUMEL || p[i] < -WF_MAX_NUMEL || p[na + i] > WF_MAX_NUMEL ||
            p[na + i] < -WF_MAX_NUMEL)
            return wf_node_error(err, WF_ERR_SHAPE, n, "absurd pad");
        pads[a] = (int)p[i];
        pads[r + a] = (int)p[na + i];
    }
    *value = n->p.pad_value;
    if (n->n_in >= 3 && in[2] && in[2]->data && wf_numel(in[2]) >= 1)
        *value = ((const float *)in[2]->data)[0];
    return WF_OK;
}

static wf_status pad_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    int pads[2 * WF_MAX_RANK];
    float v;
    wf_status s = pad_resolve(n, in, pads, &v, err);
    if (s)
        return s;
    int r = in[0]->rank, ishape[WF_MAX_RANK], oshape[WF_MAX_RANK];
    for (int i = 0; i < r; i++)
        ishape[i] = (int)in[0]->dims[i];
    if (wf_k_pad_shape(oshape, ishape, pads, r, (wf_k_pad_mode)n->p.pad_mode) < 0)
        return wf_node_error(err, WF_ERR_SHAPE, n, "pads give an invalid output shape");
    out[0]->rank = r;
    for (int i = 0; i < r; i++)
        out[0]->dims[i] = oshape[i];
    return wf_check_numel(n, out[0], err);
}

static void pad_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int pads[2 * WF_MAX_RANK], ishape[WF_MAX_RANK];
    float v;
    if (pad_resolve(n, in, pads, &v, NULL))
        return;
    for (int i = 0; i < in[0]->rank; i++)
        ishape[i] = (int)in[0]->dims[i];
    wf_k_pad_forward(out[0]->data, in[0]->data, ishape, pads, in[0]->rank,
                     (wf_k_pad_mode)n->p.pad_mode, v);
}

static void pad_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    int pads[2 * WF_MAX_RANK], ishape[WF_MAX_RANK];
    float v;
    if (pad_resolve(n, in, pads, &v, NULL))
        return;
    for (int i = 0; i < in[0]->rank; i++)
        ishape[i] = (int)in[0]->dims[i];
    wf_k_pad_backward(gin[0], gout[0], ishape, pads, in[0]->rank, (wf_k_pad_mode)n->p.pad_mode);
}

const wf_opdef wf_op_pad = {"Pad", pad_check, pad_shape, pad_fwd, pad_bwd, 0, NULL};
