/*
 * Reductions and normalizations: ReduceMax, ReduceMin, ReduceSum, ReduceSumSquare, ReduceL2
 * (axes as attribute, or as input from opset 13/18), LayerNormalization (opset 17),
 * InstanceNormalization and LogSoftmax. Sums, means and variances accumulate in double. Forward
 * and backward side by side; the loops are the naive reference kernels.
 */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/bcast.h"
#include "model/ops/ops.h"

/* ---- Reduce* ---- */
enum { R_MAX, R_MIN, R_SUM, R_SUMSQ, R_L2 };

static wf_status red_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->n_in > 2 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs a data input and 1 output");
    const char *nm = n->op->name + 6;
    n->p.kind = !strcmp(nm, "Max")         ? R_MAX
                : !strcmp(nm, "Min")       ? R_MIN
                : !strcmp(nm, "Sum")       ? R_SUM
                : !strcmp(nm, "SumSquare") ? R_SUMSQ
                                           : R_L2;
    unsigned mask = WF_DT_FLOATONLY;
    if (n->p.kind <= R_SUM)
        mask |= WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32);
    wf_status s = wf_check_dtype(n, vals, 0, mask, err);
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
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

/* Output offset stride per input axis (0 on reduced axes). */
static void red_setup(const wf_node *n, wf_tensor *const *in, int64_t *ostr) {
    int red[WF_MAX_RANK];
    wf_reduce_axes(n, in, red, NULL);
    int64_t acc = 1;
    for (int i = in[0]->rank - 1; i >= 0; i--) {
        ostr[i] = red[i] ? 0 : acc;
        if (!red[i])
            acc *= in[0]->dims[i];
    }
}

#define RED_LOOP(BODY)                                                                             \
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

static void red_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    int64_t ostr[WF_MAX_RANK];
    red_setup(n, in, ostr);
    int64_t no = wf_numel(out[0]);
    double *acc = s;
    int kind = n->p.kind;
    double init = kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : 0.0;
    for (int64_t i = 0; i < no; i++)
        acc[i] = init;
    const wf_tensor *x = in[0];
    if (kind == R_MAX)
        RED_LOOP(if (wf_get_d(x, e) > acc[o]) acc[o] = wf_get_d(x, e));
    else if (kind == R_MIN)
        RED_LOOP(if (wf_get_d(x, e) < acc[o]) acc[o] = wf_get_d(x, e));
    else if (kind == R_SUM)
        RED_LOOP(acc[o] += wf_get_d(x, e));
    else
        RED_LOOP(acc[o] += wf_get_d(x, e) * wf_get_d(x, e));
    for (int64_t i = 0; i < no; i++)
        wf_set_d(out[0], i, kind == R_L2 ? sqrt(acc[i]) : acc[i]);
}

static void red_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    if (!gin[0] || in[0]->dtype != WF_DTYPE_FLOAT)
        return;
    int64_t ostr[WF_MAX_RANK];
    red_setup(n, in, ostr);
    const float *x = in[0]->data, *y = out[0]->data, *g = gout[0];
    float *gi = gin[0];
    switch (n->p.kind) {
    case R_MAX:
    case R_MIN: { /* ties share the gradient evenly (torch.amax/amin) */
        double *cnt = s;
        memset(cnt, 0, (size_t)wf_numel(out[0]) * sizeof *cnt);
        RED_LOOP(if (x[e] == y[o]) cnt[o] += 1.0);
        RED_LOOP(if (x[e] == y[o]) gi[e] += (float)(g[o] / cnt[o]));
        break;
    }
    case R_SUM:
        RED_LOOP(gi[e] += g[o]);
        break;
    case R_SUMSQ:
        RED_LOOP(gi[e] += 2.0f * x[e] * g[o]);
        break;
    default:
        RED_LOOP(if (y[o] > 0) gi[e] += g[o] * x[e] / y[o]);
        break;
    }
}

static int64_t red_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

const wf_opdef wf_op_reduce_max = {"ReduceMax", red_check, wf_reduce_shape, red_fwd,
                                   red_bwd,     0,         red_flops};
const wf_opdef wf_op_reduce_min = {"ReduceMin", red_check, wf_reduce_shape, red_fwd,
                                   red_bwd,     0,         red_flops};
const wf_opdef wf_op_reduce_sum = {"ReduceSum", red_check, wf_reduce_shape, red_fwd,
                                   red_bwd,     0,         red_flops};
const wf_opdef wf_op_reduce_sum_square = {"ReduceSumSquare", red_check, wf_reduce_shape, red_fwd,
                                          red_bwd,           0,         red_flops};
const wf_opdef wf_op_reduce_l2 = {"ReduceL2", red_check, wf_reduce_shape, red_fwd,
                                  red_bwd,    0,         red_flops};

/* ---- normalization over rows: LayerNormalization, InstanceNormalization ----
 * Both normalize rows x[r, 0..D) to (x - mean) * rstd and apply a scale and bias that depend on
 * the element (LayerNorm: position in the row) or the row (InstanceNorm: channel). */

static wf_status ln_check(wf_node *n, wf_value *vals, wf_error *err) {
    int inst = !strcmp(n->op->name, "InstanceNormalization");
    if (n->n_in < (inst ? 3 : 2) || n->n_in > 3 || n->in[0] < 0 || n->in[1] < 0 || n->n_out < 1 ||
        n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs X, scale%s and an output",
                             inst ? ", B" : " (and B)");
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "the Mean and InvStdDev outputs are not supported");
    for (int i = 0; i < n->n_in; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    n->p.kind = inst;
    n->p.axis = wf_attr_int(n, "axis", -1);
    n->p.eps = wf_attr_float(n, "epsilon", 1e-5f);
    if (!inst && wf_attr_int(n, "stash_type", 1) != 1)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "stash_type must be 1 (float)");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

/* rows, D (row length), and for InstanceNorm the channel count C. */
static int ln_geom(const wf_node *n, const wf_tensor *x, int64_t *rows, int64_t *D, int64_t *C) {
    int r = x->rank;
    *rows = 1;
    *D = 1;
    *C = 1;
    if (n->p.kind) {
        if (r < 2)
            return -1;
        *C = x->dims[1];
        *rows = x->dims[0] * x->dims[1];
        for (int i = 2; i < r; i++)
            *D *= x->dims[i];
        return 0;
    }
    int64_t ax = wf_norm_axis(n->p.axis, r);
    if (ax < 0)
        return -1;
    for (int i = 0; i < r; i++)
        *(i < ax ? rows : D) *= x->dims[i];
    return 0;
}

static wf_status ln_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t rows, D, C;
    if (ln_geom(n, in[0], &rows, &D, &C))
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld does not fit rank %d",
                             (long long)n->p.axis, in[0]->rank);
    int64_t want = n->p.kind ? C : D;
    for (int i = 1; i < n->n_in; i++)
        if (in[i] && wf_numel(in[i]) != want && wf_numel(in[i]) != 1)
            return wf_node_error(err, WF_ERR_SHAPE, n, "input %d has %lld values, expected %lld", i,
                                 (long long)wf_numel(in[i]), (long long)want);
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

static void row_stats(const float *x, int64_t D, float eps, double *mean, double *rstd) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < D; i++)
        m += x[i];
    m /= (double)D;
    for (int64_t i = 0; i < D; i++)
        v += (x[i] - m) * (x[i] - m);
    v /= (double)D;
    *mean = m;
    *rstd = 1.0 / sqrt(v + (double)eps);
}

/* scale and bias of element i of row r */
static float ln_param(const wf_tensor *t, int inst, int64_t r, int64_t C, int64_t i, float def) {
    if (!t)
        return def;
    const float *p = t->data;
    if (wf_numel(t) == 1)
        return p[0];
    return inst ? p[r % C] : p[i];
}

static void ln_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t rows, D, C;
    ln_geom(n, in[0], &rows, &D, &C);
    const wf_tensor *sc = in[1], *bi = n->n_in > 2 ? in[2] : NULL;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = (const float *)in[0]->data + r * D;
        float *y = (float *)out[0]->data + r * D;
        double m, rs;
        row_stats(x, D, n->p.eps, &m, &rs);
        for (int64_t i = 0; i < D; i++)
            y[i] = (float)((x[i] - m) * rs) * ln_param(sc, n->p.kind, r, C, i, 1.0f) +
                   ln_param(bi, n->p.kind, r, C, i, 0.0f);
    }
}

/* dx = rstd * (gs - mean(gs) - xhat * mean(gs * xhat)), gs = g * scale */
static void ln_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, float *const *gin,
                   float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    int64_t rows, D, C;
    ln_geom(n, in[0], &rows, &D, &C);
    for (int64_t r = 0; r < rows; r++) {
        const float *x = (const float *)in[0]->data + r * D, *g = gout[0] + r * D;
        float *gx = gin[0] + r * D;
        double m, rs, a = 0, b = 0;
        row_stats(x, D, n->p.eps, &m, &rs);
        for (int64_t i = 0; i < D; i++) {
            double gs = (double)g[i] * ln_param(in[1], n->p.kind, r, C, i, 1.0f);
            a += gs;
            b += gs * (x[i] - m) * rs;
        }
        a /= (double)D;
        b /= (double)D;
        for (int64_t i = 0; i < D; i++) {
            double gs = (double)g[i] * ln_param(in[1], n->p.kind, r, C, i, 1.0f);
            gx[i] += (float)(rs * (gs - a - (x[i] - m) * rs * b));
        }
    }
}

static int64_t ln_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return 6 * wf_numel(in[0]);
}

const wf_opdef wf_op_layer_norm = {
    "LayerNormalization", ln_check, ln_shape, ln_fwd, ln_bwd, 0, ln_flops};
const wf_opdef wf_op_instance_norm = {
    "InstanceNormalization", ln_check, ln_shape, ln_fwd, ln_bwd, 0, ln_flops};

/* ---- LogSoftmax (opset < 13: coerced to 2-D at axis; >= 13: one axis) ---- */
static void lsm_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    size_t A = 0, L = 0, I = 0;
    wf_softmax_geom(n, in[0], &A, &L, &I);
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (size_t a = 0; a < A; a++)
        for (size_t c = 0; c < I; c++) {
            const float *xr = x + a * L * I + c;
            float *yr = y + a * L * I + c;
            float mx = -INFINITY;
            for (size_t l = 0; l < L; l++)
                mx = fmaxf(mx, xr[l * I]);
            double sum = 0;
            for (size_t l = 0; l < L; l++)
                sum += exp((double)xr[l * I] - mx);
            float lse = (float)log(sum);
            for (size_t l = 0; l < L; l++)
                yr[l * I] = xr[l * I] - mx - lse;
        }
}

/* dx = g - softmax * sum(g) */
static void lsm_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    size_t A = 0, L = 0, I = 0;
    wf_softmax_geom(n, in[0], &A, &L, &I);
    const float *y = out[0]->data, *g = gout[0];
    for (size_t a = 0; a < A; a++)
        for (size_t c = 0; c < I; c++) {
            size_t base = a * L * I + c;
            double sg = 0;
            for (size_t l = 0; l < L; l++)
                sg += g[base + l * I];
            for (size_t l = 0; l < L; l++)
                gin[0][base + l * I] +=
                    (float)(g[base + l * I] - exp((double)y[base + l * I]) * sg);
        }
}

/* the check, geometry and shape are Softmax's (ops_misc.c) */
const wf_opdef wf_op_log_softmax = {
    "LogSoftmax", wf_softmax_check, wf_softmax_shape, lsm_fwd, lsm_bwd, 0, NULL};
