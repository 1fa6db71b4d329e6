/*
 * The ops of shape arithmetic, as torch emits them for dynamic axes (x.view(x.size(0), -1),
 * GRU/LSTM initial states, attention reshapes): Shape, Size, Gather, Slice, ConstantOfShape,
 * Cast, Range, Expand, Equal, Where. On shape subgraphs the engine evaluates them once per plan
 * (see engine.c: static nodes), so they never run per batch; Gather, Slice, Expand, Where and
 * Cast also run on float data with a backward pass (Integrated Gradients through them).
 * Forward loops are plain odometers over the output (the naive reference is the kernel).
 */
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/bcast.h"
#include "model/ops/ops.h"

#define DT_IDX (WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32))

static void contiguous_strides(const wf_tensor *t, int64_t *st) {
    int64_t acc = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= t->dims[i];
    }
}

static wf_status need_io(const wf_node *n, int min_in, int max_in, wf_error *err) {
    if (n->n_in < min_in || n->n_in > max_in || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs %d to %d inputs and an output", min_in,
                             max_in);
    for (int i = 0; i < min_in; i++)
        if (n->in[i] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "input %d is required", i);
    return WF_OK;
}

/* ---- Shape (opset 15: start/end), Size ---- */
static wf_status shape_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 1, 1, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_INT64;
    return WF_OK;
}

static void shape_range(const wf_node *n, int r, int64_t *a, int64_t *b) {
    int64_t s = wf_attr_int(n, "start", 0), e = wf_attr_int(n, "end", r);
    if (s < 0)
        s += r;
    if (e < 0)
        e += r;
    *a = s < 0 ? 0 : s > r ? r : s;
    *b = e < 0 ? 0 : e > r ? r : e;
    if (*b < *a)
        *b = *a;
}

static wf_status shape_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    (void)err;
    int64_t a, b;
    shape_range(n, in[0]->rank, &a, &b);
    out[0]->rank = 1;
    out[0]->dims[0] = b - a;
    return WF_OK;
}

static void shape_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t a, b;
    shape_range(n, in[0]->rank, &a, &b);
    int64_t *y = out[0]->data;
    for (int64_t i = a; i < b; i++)
        y[i - a] = in[0]->dims[i];
}

const wf_opdef wf_op_shape = {"Shape", shape_check, shape_shape, shape_fwd, NULL, 0, NULL};

static wf_status size_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    (void)n;
    (void)in;
    (void)scratch;
    (void)err;
    out[0]->rank = 0;
    return WF_OK;
}

static void size_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    *(int64_t *)out[0]->data = wf_numel(in[0]);
}

const wf_opdef wf_op_size = {"Size", shape_check, size_shape, size_fwd, NULL, 0, NULL};

/* ---- Gather ---- */
static wf_status gather_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 2, 2, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, DT_IDX, err);
    if (s)
        return s;
    n->p.axis = wf_attr_int(n, "axis", 0);
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status gather_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    int r = in[0]->rank, q = in[1]->rank;
    int64_t ax = wf_norm_axis(n->p.axis, r);
    if (ax < 0 || r == 0)
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                             (long long)n->p.axis, r);
    if (r + q - 1 > WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "output rank %d > %d", r + q - 1,
                             WF_MAX_RANK);
    int o = 0;
    for (int i = 0; i < ax; i++)
        out[0]->dims[o++] = in[0]->dims[i];
    for (int i = 0; i < q; i++)
        out[0]->dims[o++] = in[1]->dims[i];
    for (int i = (int)ax + 1; i < r; i++)
        out[0]->dims[o++] = in[0]->dims[i];
    out[0]->rank = o;
    /* indices known at plan time are checked here; others are clamped at run time */
    if (in[1]->data) {
        int64_t k = wf_numel(in[1]), d = in[0]->dims[ax];
        for (int64_t i = 0; i < k; i++) {
            int64_t v = wf_get_i(in[1], i);
            if (v < -d || v >= d)
                return wf_node_error(err, WF_ERR_SHAPE, n, "index %lld out of range [%lld, %lld)",
                                     (long long)v, (long long)-d, (long long)d);
        }
    }
    return WF_OK;
}

typedef struct gather_geom {
    int64_t outer, d, inner, k;
} gather_geom;

static void gather_setup(const wf_node *n, wf_tensor *const *in, gather_geom *g) {
    int r = in[0]->rank;
    int64_t ax = wf_norm_axis(n->p.axis, r);
    g->outer = 1;
    g->inner = 1;
    for (int i = 0; i < ax; i++)
        g->outer *= in[0]->dims[i];
    for (int i = (int)ax + 1; i < r; i++)
        g->inner *= in[0]->dims[i];
    g->d = in[0]->dims[ax];
    g->k = wf_numel(in[1]);
}

static int64_t gather_index(const wf_tensor *ind, int64_t j, int64_t d) {
    int64_t v = wf_get_i(ind, j);
    if (v < 0)
        v += d;
    return v < 0 ? 0 : v >= d ? d - 1 : v;
}

static void gather_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    gather_geom g;
    gather_setup(n, in, &g);
    size_t es = wf_dtype_size(in[0]->dtype), blk = (size_t)g.inner * es;
    const char *x = in[0]->data;
    char *y = out[0]->data;
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t j = 0; j < g.k; j++) {
            int64_t v = gather_index(in[1], j, g.d);
            memcpy(y + ((size_t)(o * g.k + j)) * blk, x + ((size_t)(o * g.d + v)) * blk, blk);
        }
}

static void gather_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    gather_geom g;
    gather_setup(n, in, &g);
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t j = 0; j < g.k; j++) {
            int64_t v = gather_index(in[1], j, g.d);
            float *gi = gin[0] + (o * g.d + v) * g.inner;
            const float *go = gout[0] + (o * g.k + j) * g.inner;
            for (int64_t i = 0; i < g.inner; i++)
                gi[i] += go[i];
        }
}

const wf_opdef wf_op_gather = {"Gather", gather_check, gather_shape, gather_fwd, gather_bwd,
                               0,        NULL};

/* ---- Slice ---- */
static wf_status slice_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, n->opset >= 10 ? 3 : 1, n->opset >= 10 ? 5 : 1, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    for (int i = 1; !s && i < n->n_in; i++)
        s = wf_check_dtype(n, vals, i, DT_IDX, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

/* Per input axis: first index, step and output count. */
static wf_status slice_geom(const wf_node *n, wf_tensor *const *in, int64_t *start, int64_t *step,
                            int64_t *cnt, wf_error *err) {
    int r = in[0]->rank;
    int64_t st[WF_MAX_RANK], en[WF_MAX_RANK], ax[WF_MAX_RANK], sp[WF_MAX_RANK];
    int k, ke, ka = -1, ks = -1;
    wf_status s;
    if (n->opset >= 10) {
        s = wf_read_i64(n, in[1], "the starts input", st, WF_MAX_RANK, &k, err);
        if (!s)
            s = wf_read_i64(n, in[2], "the ends input", en, WF_MAX_RANK, &ke, err);
        if (!s && n->n_in > 3 && in[3])
            s = wf_read_i64(n, in[3], "the axes input", ax, WF_MAX_RANK, &ka, err);
        if (!s && n->n_in > 4 && in[4])
            s = wf_read_i64(n, in[4], "the steps input", sp, WF_MAX_RANK, &ks, err);
        if (s)
            return s;
    } else {
        k = wf_attr_ints(n, "starts", st, WF_MAX_RANK);
        ke = wf_attr_ints(n, "ends", en, WF_MAX_RANK);
        ka = wf_attr_ints(n, "axes", ax, WF_MAX_RANK);
    }
    if (k < 0 || k != ke || (ka >= 0 && ka != k) || (ks >= 0 && ks != k) || k > r)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "starts, ends, axes and steps must have the same length <= rank %d",
                             r);
    for (int i = 0; i < r; i++) {
        start[i] = 0;
        step[i] = 1;
        cnt[i] = in[0]->dims[i];
    }
    int seen[WF_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        int64_t a = ka >= 0 ? wf_norm_axis(ax[i], r) : i;
        if (a < 0 || seen[a])
            return wf_node_error(err, WF_ERR_SHAPE, n, "bad or repeated axis %lld",
                                 (long long)(ka >= 0 ? ax[i] : i));
        seen[a] = 1;
        int64_t d = in[0]->dims[a], p = ks >= 0 ? sp[i] : 1, b = st[i], e = en[i];
        if (p == 0)
            return wf_node_error(err, WF_ERR_SHAPE, n, "step 0 on axis %lld", (long long)a);
        if (b < 0)
            b += d;
        if (e < 0)
            e += d;
        if (p > 0) {
            b = b < 0 ? 0 : b > d ? d : b;
            e = e < 0 ? 0 : e > d ? d : e;
        } else {
            b = b < 0 ? 0 : b > d - 1 ? d - 1 : b;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
        }
        int64_t c = p > 0 ? (e - b + p - 1) / p : (b - e + (-p) - 1) / (-p);
        start[a] = b;
        step[a] = p;
        cnt[a] = c > 0 ? c : 0;
    }
    return WF_OK;
}

static wf_status slice_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t b[WF_MAX_RANK], p[WF_MAX_RANK];
    wf_status s = slice_geom(n, in, b, p, out[0]->dims, err);
    out[0]->rank = in[0]->rank;
    return s;
}

/* Odometer over the output; src is the input element offset. */
#define SLICE_LOOP(BODY)                                                                           \
    do {                                                                                           \
        int64_t b[WF_MAX_RANK], p[WF_MAX_RANK], c[WF_MAX_RANK], ist[WF_MAX_RANK];                  \
        slice_geom(n, in, b, p, c, NULL);                                                          \
        contiguous_strides(in[0], ist);                                                            \
        int r = in[0]->rank;                                                                       \
        int64_t total = wf_numel(out[0]), idx[WF_MAX_RANK] = {0}, src = 0;                         \
        for (int d = 0; d < r; d++)                                                                \
            src += b[d] * ist[d];                                                                  \
        for (int64_t e = 0; e < total; e++) {                                                      \
            BODY;                                                                                  \
            for (int d = r - 1; d >= 0; d--) {                                                     \
                idx[d]++;                                                                          \
                src += p[d] * ist[d];                                                              \
                if (idx[d] < c[d])                                                                 \
                    break;                                                                         \
                src -= p[d] * ist[d] * c[d];                                                       \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void slice_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    size_t es = wf_dtype_size(in[0]->dtype);
    const char *x = in[0]->data;
    char *y = out[0]->data;
    SLICE_LOOP(memcpy(y + (size_t)e * es, x + (size_t)src * es, es));
}

static void slice_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    float *gi = gin[0];
    const float *go = gout[0];
    SLICE_LOOP(gi[src] += go[e]);
}

const wf_opdef wf_op_slice = {"Slice", slice_check, slice_shape, slice_fwd, slice_bwd, 0, NULL};

/* ---- ConstantOfShape ---- */
static wf_status cos_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 1, 1, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    const wf_attr *a = wf_attr_find(n, "value");
    wf_dtype dt = WF_DTYPE_FLOAT;
    if (a) {
        if (!a->has_tval)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "'value' must be a one-element tensor of a supported dtype");
        dt = a->tdtype;
    }
    vals[n->out[0]].dtype = dt;
    return WF_OK;
}

static wf_status cos_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    int k;
    wf_status s = wf_read_i64(n, in[0], "the shape input", out[0]->dims, WF_MAX_RANK, &k, err);
    out[0]->rank = k;
    return s;
}

static void cos_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)in;
    (void)s;
    const wf_attr *a = wf_attr_find(n, "value");
    double v = a ? a->tval : 0.0;
    int64_t total = wf_numel(out[0]);
    for (int64_t i = 0; i < total; i++)
        wf_set_d(out[0], i, v);
}

const wf_opdef wf_op_constant_of_shape = {
    "ConstantOfShape", cos_check, cos_shape, cos_fwd, NULL, 0, NULL};

/* ---- Cast ---- */
static wf_status cast_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 1, 1, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (s)
        return s;
    int64_t to = wf_attr_int(n, "to", 0);
    if (to != WF_DTYPE_FLOAT && to != WF_DTYPE_INT64 && to != WF_DTYPE_INT32 &&
        to != WF_DTYPE_INT8 && to != WF_DTYPE_UINT8 && to != WF_DTYPE_BOOL)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "cast to %s is not supported (float32, int64, int32, int8, uint8, "
                             "bool)",
                             wf_dtype_name((int)to));
    vals[n->out[0]].dtype = (wf_dtype)to;
    return WF_OK;
}

static wf_status same_dims(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)n;
    (void)scratch;
    (void)err;
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

static void cast_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    int64_t total = wf_numel(in[0]);
    if (in[0]->dtype == WF_DTYPE_FLOAT) {
        /* float -> integer truncates toward zero (C conversion, as ONNX Runtime) */
        for (int64_t i = 0; i < total; i++) {
            double v = wf_get_d(in[0], i);
            if (out[0]->dtype == WF_DTYPE_BOOL)
                wf_set_i(out[0], i, v != 0.0);
            else
                wf_set_d(out[0], i, v);
        }
    } else {
        for (int64_t i = 0; i < total; i++)
            wf_set_i(out[0], i, wf_get_i(in[0], i));
    }
}

static void cast_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    /* casts to integers are piecewise constant: zero gradient. An integer (quantized or int32
     * accumulator) to float keeps the value: the straight-through surrogate passes the gradient
     * on, in the integer tensor's own units. */
    int q_in = in[0]->dtype == WF_DTYPE_INT8 || in[0]->dtype == WF_DTYPE_UINT8 ||
               in[0]->dtype == WF_DTYPE_INT32;
    if (!gin[0] || (in[0]->dtype != WF_DTYPE_FLOAT && !q_in) || out[0]->dtype != WF_DTYPE_FLOAT)
        return;
    int64_t total = wf_numel(in[0]);
    for (int64_t i = 0; i < total; i++)
        gin[0][i] += gout[0][i];
}

const wf_opdef wf_op_cast = {"Cast", cast_check, same_dims, cast_fwd, cast_bwd, 0, NULL};

/* ---- Range ---- */
static wf_status range_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 3, 3, err);
    for (int i = 0; !s && i < 3; i++)
        s = wf_check_dtype(n, vals, i,
                           WF_DT_FLOATONLY | WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32),
                           err);
    if (s)
        return s;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status range_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    for (int i = 0; i < 3; i++)
        if (!in[i]->data || wf_numel(in[i]) != 1)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "input %d must be a scalar known at plan time (constant or "
                                 "shape arithmetic)",
                                 i);
    double a = wf_get_d(in[0], 0), b = wf_get_d(in[1], 0), d = wf_get_d(in[2], 0);
    if (d == 0.0)
        return wf_node_error(err, WF_ERR_SHAPE, n, "delta is 0");
    double c = (b - a) / d;
    int64_t k = c > 0 ? (int64_t)c : 0;
    if ((double)k < c)
        k++;
    out[0]->rank = 1;
    out[0]->dims[0] = k;
    return WF_OK;
}

static void range_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    int64_t k = out[0]->dims[0];
    if (in[0]->dtype == WF_DTYPE_FLOAT) {
        float a = ((const float *)in[0]->data)[0], d = ((const float *)in[2]->data)[0];
        for (int64_t i = 0; i < k; i++)
            ((float *)out[0]->data)[i] = a + (float)i * d;
    } else {
        int64_t a = wf_get_i(in[0], 0), d = wf_get_i(in[2], 0);
        for (int64_t i = 0; i < k; i++)
            wf_set_i(out[0], i, a + i * d);
    }
}

const wf_opdef wf_op_range = {"Range", range_check, range_shape, range_fwd, NULL, 0, NULL};

/* ---- Expand ---- */
static wf_status expand_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 2, 2, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status expand_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    wf_tensor sh = {0};
    int k;
    wf_status s = wf_read_i64(n, in[1], "the shape input", sh.dims, WF_MAX_RANK, &k, err);
    if (s)
        return s;
    sh.rank = k;
    return wf_broadcast_shape(n, in[0], &sh, out[0], err);
}

static void expand_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_bc b;
    const wf_tensor *ops[1] = {in[0]};
    wf_bc_init(&b, out[0], ops, 1);
    size_t es = wf_dtype_size(in[0]->dtype);
    int64_t total = wf_numel(out[0]);
    const char *x = in[0]->data;
    char *y = out[0]->data;
    for (int64_t e = 0; e < total; e++) {
        memcpy(y + (size_t)e * es, x + (size_t)b.off[0] * es, es);
        wf_bc_next(&b);
    }
}

static void expand_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    if (!gin[0])
        return;
    wf_bc b;
    const wf_tensor *ops[1] = {in[0]};
    wf_bc_init(&b, out[0], ops, 1);
    int64_t total = wf_numel(out[0]);
    for (int64_t e = 0; e < total; e++) {
        gin[0][b.off[0]] += gout[0][e];
        wf_bc_next(&b);
    }
}

const wf_opdef wf_op_expand = {"Expand", expand_check, expand_shape, expand_fwd, expand_bwd,
                               0,        NULL};

/* ---- Equal ---- */
static wf_status equal_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 2, 2, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (s)
        return s;
    if (vals[n->in[0]].dtype != vals[n->in[1]].dtype)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "inputs differ in dtype");
    vals[n->out[0]].dtype = WF_DTYPE_BOOL;
    return WF_OK;
}

static wf_status bin_bcast_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                 size_t *scratch, wf_error *err) {
    (void)scratch;
    return wf_broadcast_shape(n, in[0], in[1], out[0], err);
}

static void equal_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_bc b;
    const wf_tensor *ops[2] = {in[0], in[1]};
    wf_bc_init(&b, out[0], ops, 2);
    int64_t total = wf_numel(out[0]);
    uint8_t *y = out[0]->data;
    int fl = in[0]->dtype == WF_DTYPE_FLOAT;
    for (int64_t e = 0; e < total; e++) {
        y[e] = fl ? wf_get_d(in[0], b.off[0]) == wf_get_d(in[1], b.off[1])
                  : wf_get_i(in[0], b.off[0]) == wf_get_i(in[1], b.off[1]);
        wf_bc_next(&b);
    }
}

const wf_opdef wf_op_equal = {"Equal", equal_check, bin_bcast_shape, equal_fwd, NULL, 0, NULL};

/* ---- Where ---- */
static wf_status where_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = need_io(n, 3, 3, err);
    if (!s)
        s = wf_check_dtype(n, vals, 0, WF_DT_BIT(WF_DTYPE_BOOL), err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_ANY, err);
    if (s)
        return s;
    if (vals[n->in[1]].dtype != vals[n->in[2]].dtype)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "X and Y differ in dtype");
    vals[n->out[0]].dtype = vals[n->in[1]].dtype;
    return WF_OK;
}

static wf_status where_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    wf_tensor t = {0};
    wf_status s = wf_broadcast_shape(n, in[1], in[2], &t, err);
    if (!s)
        s = wf_broadcast_shape(n, in[0], &t, out[0], err);
    return s;
}

static void where_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_bc b;
    const wf_tensor *ops[3] = {in[0], in[1], in[2]};
    wf_bc_init(&b, out[0], ops, 3);
    int64_t total = wf_numel(out[0]);
    size_t es = wf_dtype_size(in[1]->dtype);
    const uint8_t *c = in[0]->data;
    const char *x = in[1]->data, *y = in[2]->data;
    char *o = out[0]->data;
    for (int64_t e = 0; e < total; e++) {
        if (c[b.off[0]])
            memcpy(o + (size_t)e * es, x + (size_t)b.off[1] * es, es);
        else
            memcpy(o + (size_t)e * es, y + (size_t)b.off[2] * es, es);
        wf_bc_next(&b);
    }
}

static void where_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    if (out[0]->dtype != WF_DTYPE_FLOAT)
        return;
    wf_bc b;
    const wf_tensor *ops[3] = {in[0], in[1], in[2]};
    wf_bc_init(&b, out[0], ops, 3);
    int64_t total = wf_numel(out[0]);
    const uint8_t *c = in[0]->data;
    for (int64_t e = 0; e < total; e++) {
        if (c[b.off[0]]) {
            if (gin[1])
                gin[1][b.off[1]] += gout[0][e];
        } else if (gin[2]) {
            gin[2][b.off[2]] += gout[0][e];
        }
        wf_bc_next(&b);
    }
}

const wf_opdef wf_op_where = {"Where", where_check, where_shape, where_fwd, where_bwd, 0, NULL};
