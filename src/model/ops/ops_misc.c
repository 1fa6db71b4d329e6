/*
 * Softmax (opset < 13: the input coerced to 2-D at axis; opset >= 13: along one axis) and
 * ReduceMean over any set of axes (sums in double).
 */
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

/* ---- Softmax ---- */
wf_status wf_softmax_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    n->p.axis = wf_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

int wf_softmax_geom(const wf_node *n, const wf_tensor *t, size_t *outer, size_t *len,
                    size_t *inner) {
    int r = t->rank;
    int64_t ax = n->p.axis < 0 ? n->p.axis + r : n->p.axis;
    if (r == 0 || ax < 0 || ax >= r)
        return -1;
    *outer = 1;
    *len = 1;
    *inner = 1;
    for (int i = 0; i < r; i++) {
        size_t d = (size_t)t->dims[i];
        if (i < ax)
            *outer *= d;
        else if (i == ax || n->opset < 13)
            *len *= d;
        else
            *inner *= d;
    }
    return 0;
}

wf_status wf_softmax_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    size_t a = 0, b = 0, c = 0;
    if (wf_softmax_geom(n, in[0], &a, &b, &c))
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                             (long long)n->p.axis, in[0]->rank);
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

static void softmax_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    size_t a = 0, b = 0, c = 0;
    wf_softmax_geom(n, in[0], &a, &b, &c);
    wf_k_softmax_forward(out[0]->data, in[0]->data, a, b, c);
}

static void softmax_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                        float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    size_t a = 0, b = 0, c = 0;
    wf_softmax_geom(n, in[0], &a, &b, &c);
    wf_k_softmax_backward(gin[0], gout[0], out[0]->data, a, b, c);
}

static int64_t softmax_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return 3 * wf_numel(in[0]);
}

const wf_opdef wf_op_softmax = {
    "Softmax", wf_softmax_check, wf_softmax_shape, softmax_fwd, softmax_bwd, 0, softmax_flops};

/* ---- ReduceMean ---- */
static wf_status rmean_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs a data input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    int k = wf_attr_ints(n, "axes", n->p.axes, WF_MAX_RANK);
    if (k > WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "more than %d axes", WF_MAX_RANK);
    n->p.has_axes = k >= 0;
    n->p.n_axes = k > 0 ? k : 0;
    n->p.keepdims = (int)wf_attr_int(n, "keepdims", 1);
    n->p.noop_empty_axes = (int)wf_attr_int(n, "noop_with_empty_axes", 0);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

/* Strides mapping each input axis to the (keepdims) output offset; 0 on reduced axes. */
static int64_t rmean_setup(const wf_node *n, wf_tensor *const *in, int64_t *ostr) {
    int red[WF_MAX_RANK];
    wf_reduce_axes(n, in, red, NULL);
    int r = in[0]->rank;
    int64_t acc = 1, count = 1;
    for (int i = r - 1; i >= 0; i--) {
        ostr[i] = red[i] ? 0 : acc;
        if (!red[i])
            acc *= in[0]->dims[i];
        else
            count *= in[0]->dims[i];
    }
    return count;
}

#define RM_LOOP(BODY)                                                                              \
    do {                                                                                           \
        int r = in[0]->rank;                                                                       \
        int64_t idx[WF_MAX_RANK] = {0}, o = 0, total = wf_numel(in[0]);                            \
        for (int64_t e = 0; e < total; e++) {                                                      \
            BODY;                                                                                  \
            for (int d = r - 1; d >= 0; d--) {                                                     \
                idx[d]++;                                                                          \
                o += ostr[d];                                                                      \
                if (idx[d] < in[0]->dims[d])                                                       \
                    break;                                                                         \
                o -= ostr[d] * in[0]->dims[d];                                                     \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void rmean_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    int64_t ostr[WF_MAX_RANK];
    int64_t count = rmean_setup(n, in, ostr);
    int64_t no = wf_numel(out[0]);
    double *acc = s;
    memset(acc, 0, (size_t)no * sizeof *acc);
    const float *x = in[0]->data;
    RM_LOOP(acc[o] += x[e]);
    float *y = out[0]->data;
    for (int64_t i = 0; i < no; i++)
        y[i] = (float)(acc[i] / (double)count);
}

static void rmean_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    int64_t ostr[WF_MAX_RANK];
    int64_t count = rmean_setup(n, in, ostr);
    float *gi = gin[0];
    const float *g = gout[0];
    float inv = (float)(1.0 / (double)count);
    RM_LOOP(gi[e] += g[o] * inv);
}

static int64_t rmean_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

const wf_opdef wf_op_reduce_mean = {"ReduceMean", rmean_check, wf_reduce_shape, rmean_fwd,
                                    rmean_bwd,    0,           rmean_flops};
