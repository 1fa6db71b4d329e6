/*
 * Elementwise math: the unary functions Erf (GELU as torch exports it), Sqrt, Exp, Log, Abs,
 * Neg, Reciprocal, Clip, HardSigmoid, HardSwish, Softplus, Elu, Selu; the broadcasting binary
 * and variadic ones Pow, PRelu, Min, Max. float32 (Min/Max/Abs/Neg also on integers for shape
 * arithmetic). Forward and backward side by side; each formula is the naive reference kernel.
 */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/bcast.h"
#include "model/ops/ops.h"

enum {
    U_ERF,
    U_SQRT,
    U_EXP,
    U_LOG,
    U_ABS,
    U_NEG,
    U_RECIP,
    U_CLIP,
    U_HSIG,
    U_HSWISH,
    U_SOFTPLUS,
    U_ELU,
    U_SELU
};

static const char *const unary_names[] = {
    "Erf",  "Sqrt",        "Exp",       "Log",      "Abs", "Neg", "Reciprocal",
    "Clip", "HardSigmoid", "HardSwish", "Softplus", "Elu", "Selu"};

static wf_status unary_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs an input and 1 output");
    int k = 0;
    while (strcmp(unary_names[k], n->op->name))
        k++;
    n->p.kind = k;
    unsigned mask = WF_DT_FLOATONLY;
    if (k == U_ABS || k == U_NEG)
        mask |= WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32);
    wf_status s = wf_check_dtype(n, vals, 0, mask, err);
    if (s)
        return s;
    if (k == U_CLIP) {
        for (int i = 1; i < n->n_in; i++) {
            s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
            if (s)
                return s;
        }
        n->p.alpha = wf_attr_float(n, "min", -INFINITY);
        n->p.beta = wf_attr_float(n, "max", INFINITY);
    } else if (k == U_HSIG) {
        n->p.alpha = wf_attr_float(n, "alpha", 0.2f);
        n->p.beta = wf_attr_float(n, "beta", 0.5f);
    } else if (k == U_ELU) {
        n->p.alpha = wf_attr_float(n, "alpha", 1.0f);
    } else if (k == U_SELU) {
        n->p.alpha = wf_attr_float(n, "alpha", 1.67326319217681884765625f);
        n->p.beta = wf_attr_float(n, "gamma", 1.05070102214813232421875f);
    } else if (n->n_in != 1) {
        return wf_node_error(err, WF_ERR_PARSE, n, "needs exactly 1 input");
    }
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status unary_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    if (n->p.kind == U_CLIP)
        for (int i = 1; i < n->n_in; i++)
            if (in[i] && (!in[i]->data || wf_numel(in[i]) != 1))
                return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                     "min and max must be scalars known at plan time");
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

static void clip_bounds(const wf_node *n, wf_tensor *const *in, float *lo, float *hi) {
    *lo = n->p.alpha;
    *hi = n->p.beta;
    if (n->opset >= 11) {
        *lo = n->n_in > 1 && in[1] ? ((const float *)in[1]->data)[0] : -INFINITY;
        *hi = n->n_in > 2 && in[2] ? ((const float *)in[2]->data)[0] : INFINITY;
    }
}

static float softplus(float x) {
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

static void unary_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t total = wf_numel(in[0]);
    if (in[0]->dtype != WF_DTYPE_FLOAT) { /* Abs, Neg on integers */
        for (int64_t i = 0; i < total; i++) {
            int64_t v = wf_get_i(in[0], i);
            wf_set_i(out[0], i, n->p.kind == U_NEG ? -v : v < 0 ? -v : v);
        }
        return;
    }
    const float *x = in[0]->data;
    float *y = out[0]->data;
    float a = n->p.alpha, b = n->p.beta, lo, hi;
    clip_bounds(n, in, &lo, &hi);
    for (int64_t i = 0; i < total; i++) {
        float v = x[i], r;
        switch (n->p.kind) {
        case U_ERF:
            r = erff(v);
            break;
        case U_SQRT:
            r = sqrtf(v);
            break;
        case U_EXP:
            r = expf(v);
            break;
        case U_LOG:
            r = logf(v);
            break;
        case U_ABS:
            r = fabsf(v);
            break;
        case U_NEG:
            r = -v;
            break;
        case U_RECIP:
            r = 1.0f / v;
            break;
        case U_CLIP:
            r = v < lo ? lo : v > hi ? hi : v;
            break;
        case U_HSIG:
            r = fmaxf(0.0f, fminf(1.0f, a * v + b));
            break;
        case U_HSWISH:
            r = v * fmaxf(0.0f, fminf(1.0f, v / 6.0f + 0.5f));
            break;
        case U_SOFTPLUS:
            r = softplus(v);
            break;
        case U_ELU:
            r = v > 0 ? v : a * (expf(v) - 1.0f);
            break;
        default: /* Selu */
            r = v > 0 ? b * v : b * (a * expf(v) - a);
            break;
        }
        y[i] = r;
    }
}

static void unary_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0] || in[0]->dtype != WF_DTYPE_FLOAT)
        return;
    int64_t total = wf_numel(in[0]);
    const float *x = in[0]->data, *y = out[0]->data, *g = gout[0];
    float *gi = gin[0];
    float a = n->p.alpha, b = n->p.beta, lo, hi;
    clip_bounds(n, in, &lo, &hi);
    const float two_rsqrt_pi = 1.12837916709551257390f;
    for (int64_t i = 0; i < total; i++) {
        float v = x[i], d;
        switch (n->p.kind) {
        case U_ERF:
            d = two_rsqrt_pi * expf(-v * v);
            break;
        case U_SQRT:
            d = 0.5f / y[i];
            break;
        case U_EXP:
            d = y[i];
            break;
        case U_LOG:
            d = 1.0f / v;
            break;
        case U_ABS:
            d = v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f;
            break;
        case U_NEG:
            d = -1.0f;
            break;
        case U_RECIP:
            d = -1.0f / (v * v);
            break;
        case U_CLIP: /* torch.clamp: gradient 1 on the closed interval */
            d = v >= lo && v <= hi ? 1.0f : 0.0f;
            break;
        case U_HSIG: {
            float t = a * v + b;
            d = t > 0 && t < 1 ? a : 0.0f;
            break;
        }
        case U_HSWISH: /* torch: 0 below -3, 1 above 3 (inclusive), x/3 + 1/2 between */
            d = v < -3.0f ? 0.0f : v <= 3.0f ? v / 3.0f + 0.5f : 1.0f;
            break;
        case U_SOFTPLUS:
            d = 1.0f / (1.0f + expf(-v));
            break;
        case U_ELU:
            d = v > 0 ? 1.0f : a * expf(v);
            break;
        default:
            d = v > 0 ? b : b * a * expf(v);
            break;
        }
        gi[i] += g[i] * d;
    }
}

static int64_t unary_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

#define UNARY(var, name)                                                                           \
    const wf_opdef var = {name, unary_check, unary_shape, unary_fwd, unary_bwd, 0, unary_flops}
UNARY(wf_op_erf, "Erf");
UNARY(wf_op_sqrt, "Sqrt");
UNARY(wf_op_exp, "Exp");
UNARY(wf_op_log, "Log");
UNARY(wf_op_abs, "Abs");
UNARY(wf_op_neg, "Neg");
UNARY(wf_op_reciprocal, "Reciprocal");
UNARY(wf_op_clip, "Clip");
UNARY(wf_op_hard_sigmoid, "HardSigmoid");
UNARY(wf_op_hard_swish, "HardSwish");
UNARY(wf_op_softplus, "Softplus");
UNARY(wf_op_elu, "Elu");
UNARY(wf_op_selu, "Selu");

/* ---- Pow, PRelu, Min, Max: broadcasting over up to 3 operands ---- */
enum { B_POW, B_PRELU, B_MIN, B_MAX };

static wf_status nary_check(wf_node *n, wf_value *vals, wf_error *err) {
    const char *nm = n->op->name;
    int k = !strcmp(nm, "Pow")     ? B_POW
            : !strcmp(nm, "PRelu") ? B_PRELU
            : !strcmp(nm, "Min")   ? B_MIN
                                   : B_MAX;
    n->p.kind = k;
    int lo = k == B_MIN || k == B_MAX ? 1 : 2, hi = k == B_MIN || k == B_MAX ? 3 : 2;
    if (n->n_in < lo || n->n_in > hi || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs %d to %d inputs and 1 output", lo, hi);
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "input %d is empty", i);
    unsigned mask = WF_DT_FLOATONLY;
    if (k == B_MIN || k == B_MAX)
        mask |= WF_DT_BIT(WF_DTYPE_INT64) | WF_DT_BIT(WF_DTYPE_INT32);
    wf_status s = wf_check_dtype(n, vals, 0, mask, err);
    if (s)
        return s;
    if (k == B_POW) {
        s = wf_check_dtype(n, vals, 1, WF_DT_NUMERIC, err);
        if (s)
            return s;
    } else {
        for (int i = 1; i < n->n_in; i++)
            if (vals[n->in[i]].dtype != vals[n->in[0]].dtype)
                return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "inputs differ in dtype");
    }
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

/* PRelu before opset 7: a 1-D slope of C values applies per channel (axis 1), not numpy-style
 * to the last axis. Returns the operand list with the slope viewed as (C, 1, ..., 1). */
static void nary_operands(const wf_node *n, wf_tensor *const *in, wf_tensor *slope,
                          const wf_tensor **ops) {
    for (int k = 0; k < 3; k++)
        ops[k] = k < n->n_in ? in[k] : in[0];
    if (n->p.kind == B_PRELU && n->opset < 7 && in[1]->rank == 1 && in[0]->rank >= 2 &&
        in[1]->dims[0] == in[0]->dims[1] && in[1]->dims[0] != 1) {
        *slope = *in[1];
        slope->rank = in[0]->rank - 1;
        for (int i = 1; i < slope->rank; i++)
            slope->dims[i] = 1;
        ops[1] = slope;
    }
}

static wf_status nary_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    (void)scratch;
    wf_tensor acc = *in[0], slv;
    const wf_tensor *ops[3];
    nary_operands(n, in, &slv, ops);
    for (int i = 1; i < n->n_in; i++) {
        wf_tensor t = {0};
        wf_status s = wf_broadcast_shape(n, &acc, ops[i], &t, err);
        if (s)
            return s;
        acc = t;
    }
    out[0]->rank = acc.rank;
    memcpy(out[0]->dims, acc.dims, sizeof acc.dims);
    if (n->p.kind == B_PRELU &&
        (out[0]->rank != in[0]->rank ||
         memcmp(out[0]->dims, in[0]->dims, sizeof in[0]->dims[0] * (size_t)in[0]->rank)))
        return wf_node_error(err, WF_ERR_SHAPE, n, "slope must broadcast to X's shape");
    return WF_OK;
}

static void nary_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_bc b;
    wf_tensor slv;
    const wf_tensor *ops[3];
    nary_operands(n, in, &slv, ops);
    wf_bc_init(&b, out[0], ops, n->n_in);
    int64_t total = wf_numel(out[0]);
    if (out[0]->dtype != WF_DTYPE_FLOAT) { /* Min, Max on integers */
        for (int64_t e = 0; e < total; e++) {
            int64_t r = wf_get_i(in[0], b.off[0]);
            for (int k = 1; k < n->n_in; k++) {
                int64_t v = wf_get_i(in[k], b.off[k]);
                r = n->p.kind == B_MIN ? (v < r ? v : r) : (v > r ? v : r);
            }
            wf_set_i(out[0], e, r);
            wf_bc_next(&b);
        }
        return;
    }
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t e = 0; e < total; e++) {
        float v = x[b.off[0]], r;
        switch (n->p.kind) {
        case B_POW:
            r = powf(v, (float)wf_get_d(in[1], b.off[1]));
            break;
        case B_PRELU: {
            float sl = ((const float *)in[1]->data)[b.off[1]];
            r = v < 0 ? sl * v : v;
            break;
        }
        default:
            r = v;
            for (int k = 1; k < n->n_in; k++) {
                float w = ((const float *)in[k]->data)[b.off[k]];
                r = n->p.kind == B_MIN ? fminf(r, w) : fmaxf(r, w);
            }
            break;
        }
        y[e] = r;
        wf_bc_next(&b);
    }
}

static void nary_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (out[0]->dtype != WF_DTYPE_FLOAT)
        return;
    wf_bc b;
    wf_tensor slv;
    const wf_tensor *ops[3];
    nary_operands(n, in, &slv, ops);
    wf_bc_init(&b, out[0], ops, n->n_in);
    int64_t total = wf_numel(out[0]);
    const float *x = in[0]->data, *y = out[0]->data, *g = gout[0];
    for (int64_t e = 0; e < total; e++) {
        float v = x[b.off[0]];
        switch (n->p.kind) {
        case B_POW: {
            float p = (float)wf_get_d(in[1], b.off[1]);
            if (gin[0])
                gin[0][b.off[0]] += g[e] * p * powf(v, p - 1.0f);
            if (gin[1] && in[1]->dtype == WF_DTYPE_FLOAT && v > 0)
                gin[1][b.off[1]] += g[e] * y[e] * logf(v);
            break;
        }
        case B_PRELU: {
            float sl = ((const float *)in[1]->data)[b.off[1]];
            if (gin[0])
                gin[0][b.off[0]] += g[e] * (v < 0 ? sl : 1.0f);
            if (gin[1] && v < 0)
                gin[1][b.off[1]] += g[e] * v;
            break;
        }
        default: {
            /* the gradient goes to the first operand holding the result */
            for (int k = 0; k < n->n_in; k++) {
                float w = ((const float *)in[k]->data)[b.off[k]];
                if (w == y[e]) {
                    if (gin[k])
                        gin[k][b.off[k]] += g[e];
                    break;
                }
            }
            break;
        }
        }
        wf_bc_next(&b);
    }
}

const wf_opdef wf_op_pow = {"Pow", nary_check, nary_shape, nary_fwd, nary_bwd, 0, unary_flops};
const wf_opdef wf_op_prelu = {"PRelu", nary_check, nary_shape, nary_fwd, nary_bwd, 0, unary_flops};
const wf_opdef wf_op_min = {"Min", nary_check, nary_shape, nary_fwd, nary_bwd, 0, unary_flops};
const wf_opdef wf_op_max = {"Max", nary_check, nary_shape, nary_fwd, nary_bwd, 0, unary_flops};
