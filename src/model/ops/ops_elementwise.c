/*
 * Elementwise ops: Add, Sub, Mul, Div with numpy broadcasting (float32 and the integer dtypes,
 * integer Div truncating toward zero as ONNX), Relu, LeakyRelu, Sigmoid, Tanh, Identity and
 * Dropout (inference: identity). Shape rule, forward and backward side by side.
 */
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

/* ---- broadcasting iteration ---- */

/* Output dims and the element strides of a and b over them (0 along broadcast axes). */
typedef struct bcast {
    int r;
    int64_t dims[WF_MAX_RANK];
    int64_t sa[WF_MAX_RANK], sb[WF_MAX_RANK];
} bcast;

static void strides_into(int64_t *s, const wf_tensor *t, const int64_t *dims, int r) {
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        int it = i - (r - t->rank);
        int64_t d = it >= 0 ? t->dims[it] : 1;
        (void)dims;
        s[i] = d == 1 ? 0 : acc; /* broadcast (or size-1) axes do not move */
        acc *= d;
    }
}

static void bcast_setup(bcast *bc, const wf_tensor *a, const wf_tensor *b, const wf_tensor *o) {
    bc->r = o->rank > 0 ? o->rank : 1;
    for (int i = 0; i < bc->r; i++)
        bc->dims[i] = o->rank > 0 ? o->dims[i] : 1;
    strides_into(bc->sa, a, bc->dims, bc->r);
    strides_into(bc->sb, b, bc->dims, bc->r);
}

/* Advance the odometer over axes 0..r-2. */
static inline void bc_next(const bcast *bc, int64_t *idx, int64_t *oa, int64_t *ob) {
    for (int d = bc->r - 2; d >= 0; d--) {
        idx[d]++;
        *oa += bc->sa[d];
        *ob += bc->sb[d];
        if (idx[d] < bc->dims[d])
            return;
        *oa -= bc->sa[d] * bc->dims[d];
        *ob -= bc->sb[d] * bc->dims[d];
        idx[d] = 0;
    }
}

enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV };

static int bin_kind(const wf_node *n) {
    const char *s = n->op->name;
    return s[0] == 'A' ? BIN_ADD : s[0] == 'S' ? BIN_SUB : s[0] == 'M' ? BIN_MUL : BIN_DIV;
}

static wf_status binary_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 2 inputs and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_NUMERIC, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_NUMERIC, err);
    if (s)
        return s;
    if (vals[n->in[0]].dtype != vals[n->in[1]].dtype)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "inputs differ in dtype (%s vs %s)",
                             wf_dtype_name(vals[n->in[0]].dtype),
                             wf_dtype_name(vals[n->in[1]].dtype));
    if (n->opset < 7 && wf_attr_find(n, "broadcast") && wf_attr_int(n, "broadcast", 0) &&
        wf_attr_find(n, "axis"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "legacy broadcast with an 'axis' attribute is not supported");
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status binary_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    return wf_broadcast_shape(n, in[0], in[1], out[0], err);
}

/* The innermost axis is specialized on its strides (contiguous, or one side broadcast) so that
 * the compiler can vectorize it; the outer axes walk an odometer. */
#define BIN_LOOP(T, EXPR)                                                                          \
    do {                                                                                           \
        const T *A = a->data;                                                                      \
        const T *B = b->data;                                                                      \
        T *O = o->data;                                                                            \
        for (int64_t q = 0; q < outer; q++) {                                                      \
            T *oo = O + q * inner;                                                                 \
            const T *pa = A + oa, *pb = B + ob;                                                    \
            if (ia == 1 && ib == 1) {                                                              \
                for (int64_t k = 0; k < inner; k++) {                                              \
                    T x = pa[k], y = pb[k];                                                        \
                    oo[k] = (T)(EXPR);                                                             \
                }                                                                                  \
            } else if (ia == 1 && ib == 0) {                                                       \
                T y = pb[0];                                                                       \
                for (int64_t k = 0; k < inner; k++) {                                              \
                    T x = pa[k];                                                                   \
                    oo[k] = (T)(EXPR);                                                             \
                }                                                                                  \
            } else if (ia == 0 && ib == 1) {                                                       \
                T x = pa[0];                                                                       \
                for (int64_t k = 0; k < inner; k++) {                                              \
                    T y = pb[k];                                                                   \
                    oo[k] = (T)(EXPR);                                                             \
                }                                                                                  \
            } else {                                                                               \
                for (int64_t k = 0; k < inner; k++) {                                              \
                    T x = pa[k * ia], y = pb[k * ib];                                              \
                    oo[k] = (T)(EXPR);                                                             \
                }                                                                                  \
            }                                                                                      \
            bc_next(&bc, idx, &oa, &ob);                                                           \
        }                                                                                          \
    } while (0)

#define BIN_INT(T)                                                                                 \
    do {                                                                                           \
        switch (kind) {                                                                            \
        case BIN_ADD:                                                                              \
            BIN_LOOP(T, (int64_t)x + (int64_t)y);                                                  \
            break;                                                                                 \
        case BIN_SUB:                                                                              \
            BIN_LOOP(T, (int64_t)x - (int64_t)y);                                                  \
            break;                                                                                 \
        case BIN_MUL:                                                                              \
            BIN_LOOP(T, (int64_t)((uint64_t)(int64_t)x * (uint64_t)(int64_t)y));                   \
            break;                                                                                 \
        default:                                                                                   \
            BIN_LOOP(T, y == 0 ? 0 : (int64_t)x / (int64_t)y);                                     \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

/* One float row of a binary op whose sides are contiguous (s = 1) or one broadcast value
 * (s = 0): blocks of 8 with a fixed trip count, which GCC's -O2 cost model vectorises (the
 * generic loops above it leaves scalar), and an AVX2 clone where the processor has it. The
 * same IEEE operation per element as BIN_LOOP. */
#define BIN_ROW8(EXPR)                                                                             \
    do {                                                                                           \
        int64_t k = 0;                                                                             \
        for (; k + 8 <= n; k += 8)                                                                 \
            for (int l = 0; l < 8; l++) {                                                          \
                float x = sa ? pa[k + l] : pa[0], y = sb ? pb[k + l] : pb[0];                      \
                o[k + l] = EXPR;                                                                   \
            }                                                                                      \
        for (; k < n; k++) {                                                                       \
            float x = sa ? pa[k] : pa[0], y = sb ? pb[k] : pb[0];                                  \
            o[k] = EXPR;                                                                           \
        }                                                                                          \
    } while (0)

#define BIN_ROW_KIND(SA, SB)                                                                       \
    do {                                                                                           \
        const int sa = SA, sb = SB;                                                                \
        switch (kind) {                                                                            \
        case BIN_ADD:                                                                              \
            BIN_ROW8(x + y);                                                                       \
            break;                                                                                 \
        case BIN_SUB:                                                                              \
            BIN_ROW8(x - y);                                                                       \
            break;                                                                                 \
        case BIN_MUL:                                                                              \
            BIN_ROW8(x *y);                                                                        \
            break;                                                                                 \
        default:                                                                                   \
            BIN_ROW8(x / y);                                                                       \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

WF_CLONES("avx2")
static void bin_row_f32(float *restrict o, const float *restrict pa, const float *restrict pb,
                        int64_t n, int64_t ia, int64_t ib, int kind) {
    if (ia == 1 && ib == 1)
        BIN_ROW_KIND(1, 1);
    else if (ia == 1)
        BIN_ROW_KIND(1, 0);
    else if (ib == 1)
        BIN_ROW_KIND(0, 1);
    else
        BIN_ROW_KIND(0, 0);
}

static void binary_forward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           void *scratch) {
    (void)scratch;
    const wf_tensor *a = in[0], *b = in[1];
    wf_tensor *o = out[0];
    int64_t total = wf_numel(o);
    if (!total)
        return;
    bcast bc;
    bcast_setup(&bc, a, b, o);
    int64_t inner = bc.dims[bc.r - 1], outer = total / inner;
    int64_t ia = bc.sa[bc.r - 1], ib = bc.sb[bc.r - 1];
    int64_t idx[WF_MAX_RANK] = {0}, oa = 0, ob = 0;
    int kind = bin_kind(n);
    if (o->dtype == WF_DTYPE_FLOAT && (ia == 0 || ia == 1) && (ib == 0 || ib == 1)) {
        const float *A = a->data, *B = b->data;
        float *O = o->data;
        for (int64_t q = 0; q < outer; q++) {
            bin_row_f32(O + q * inner, A + oa, B + ob, inner, ia, ib, kind);
            bc_next(&bc, idx, &oa, &ob);
        }
        return;
    }
    switch (o->dtype) {
    case WF_DTYPE_FLOAT:
        switch (kind) {
        case BIN_ADD:
            BIN_LOOP(float, x + y);
            break;
        case BIN_SUB:
            BIN_LOOP(float, x - y);
            break;
        case BIN_MUL:
            BIN_LOOP(float, x *y);
            break;
        default:
            BIN_LOOP(float, x / y);
            break;
        }
        break;
    case WF_DTYPE_INT8:
        BIN_INT(int8_t);
        break;
    case WF_DTYPE_UINT8:
        BIN_INT(uint8_t);
        break;
    case WF_DTYPE_INT32:
        BIN_INT(int32_t);
        break;
    case WF_DTYPE_INT64:
        BIN_INT(int64_t);
        break;
    default:
        break;
    }
}

static void binary_backward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            float *const *gin, float *const *gout, void *scratch) {
    (void)scratch;
    const wf_tensor *a = in[0], *b = in[1], *o = out[0];
    if (o->dtype != WF_DTYPE_FLOAT)
        return;
    int64_t total = wf_numel(o);
    if (!total)
        return;
    bcast bc;
    bcast_setup(&bc, a, b, o);
    int64_t inner = bc.dims[bc.r - 1], outer = total / inner;
    int64_t ia = bc.sa[bc.r - 1], ib = bc.sb[bc.r - 1];
    int64_t idx[WF_MAX_RANK] = {0}, oa = 0, ob = 0;
    const float *A = a->data, *B = b->data, *G = gout[0];
    float *ga = gin[0], *gb = gin[1];
    int kind = bin_kind(n);
    /* The usual case in a model's first nodes (x - mean) / std: b a constant along the inner
     * axis and no gradient wanted for it. Same operations per element, in loops that vectorise. */
    int fast = ga && !gb && ia == 1 && ib == 0;
    for (int64_t q = 0; q < outer; q++) {
        const float *g = G + q * inner;
        if (fast) {
            float *d = ga + oa, y = B[ob];
            if (kind == BIN_ADD || kind == BIN_SUB)
                for (int64_t k = 0; k < inner; k++)
                    d[k] += g[k];
            else if (kind == BIN_MUL)
                for (int64_t k = 0; k < inner; k++)
                    d[k] += g[k] * y;
            else
                for (int64_t k = 0; k < inner; k++)
                    d[k] += g[k] / y;
            bc_next(&bc, idx, &oa, &ob);
            continue;
        }
        for (int64_t k = 0; k < inner; k++) {
            float x = A[oa + k * ia], y = B[ob + k * ib], gg = g[k];
            switch (kind) {
            case BIN_ADD:
                if (ga)
                    ga[oa + k * ia] += gg;
                if (gb)
                    gb[ob + k * ib] += gg;
                break;
            case BIN_SUB:
                if (ga)
                    ga[oa + k * ia] += gg;
                if (gb)
                    gb[ob + k * ib] -= gg;
                break;
            case BIN_MUL:
                if (ga)
                    ga[oa + k * ia] += gg * y;
                if (gb)
                    gb[ob + k * ib] += gg * x;
                break;
            default:
                if (ga)
                    ga[oa + k * ia] += gg / y;
                if (gb)
                    gb[ob + k * ib] -= gg * x / (y * y);
                break;
            }
        }
        bc_next(&bc, idx, &oa, &ob);
    }
}

static int64_t elementwise_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)in;
    return wf_numel(out[0]);
}

const wf_opdef wf_op_add = {"Add", binary_check,     binary_shape, binary_forward, binary_backward,
                            0,     elementwise_flops};
const wf_opdef wf_op_sub = {"Sub", binary_check,     binary_shape, binary_forward, binary_backward,
                            0,     elementwise_flops};
const wf_opdef wf_op_mul = {"Mul", binary_check,     binary_shape, binary_forward, binary_backward,
                            0,     elementwise_flops};
const wf_opdef wf_op_div = {"Div", binary_check,     binary_shape, binary_forward, binary_backward,
                            0,     elementwise_flops};

/* ---- unary float activations ---- */

static wf_status unary_float_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    n->p.alpha = wf_attr_float(n, "alpha", 0.01f);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status same_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    (void)n;
    (void)scratch;
    (void)err;
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

static void relu_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_k_relu_forward(out[0]->data, in[0]->data, (size_t)wf_numel(in[0]));
}
static void relu_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    (void)out;
    if (gin[0])
        wf_k_relu_backward(gin[0], gout[0], in[0]->data, (size_t)wf_numel(in[0]));
}
static void leaky_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_leaky_relu_forward(out[0]->data, in[0]->data, n->p.alpha, (size_t)wf_numel(in[0]));
}
static void leaky_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (gin[0])
        wf_k_leaky_relu_backward(gin[0], gout[0], in[0]->data, n->p.alpha, (size_t)wf_numel(in[0]));
}
static void sigmoid_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_k_sigmoid_forward(out[0]->data, in[0]->data, (size_t)wf_numel(in[0]));
}
static void sigmoid_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                        float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    if (gin[0])
        wf_k_sigmoid_backward(gin[0], gout[0], out[0]->data, (size_t)wf_numel(in[0]));
}
static void tanh_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    wf_k_tanh_forward(out[0]->data, in[0]->data, (size_t)wf_numel(in[0]));
}
static void tanh_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    if (gin[0])
        wf_k_tanh_backward(gin[0], gout[0], out[0]->data, (size_t)wf_numel(in[0]));
}

const wf_opdef wf_op_relu = {"Relu", unary_float_check, same_shape, relu_fwd, relu_bwd,
                             0,      elementwise_flops};
const wf_opdef wf_op_leaky_relu = {"LeakyRelu", unary_float_check, same_shape, leaky_fwd, leaky_bwd,
                                   0,           elementwise_flops};
const wf_opdef wf_op_sigmoid = {"Sigmoid", unary_float_check, same_shape, sigmoid_fwd, sigmoid_bwd,
                                0,         elementwise_flops};
const wf_opdef wf_op_tanh = {"Tanh", unary_float_check, same_shape, tanh_fwd, tanh_bwd,
                             0,      elementwise_flops};

/* ---- Identity, Dropout: output 0 aliases input 0 ---- */

static wf_status identity_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs an input and an output");
    if (!strcmp(n->op->name, "Dropout")) {
        if (n->n_out > 1 && n->out[1] >= 0)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "the mask output (bool) is not supported; inference Dropout "
                                 "is an identity");
        if (wf_attr_int(n, "is_test", 1) == 0 && n->opset < 7)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "training-mode Dropout (is_test=0) is not supported");
        if (n->n_in > 2 && n->in[2] >= 0) {
            const wf_value *tm = &vals[n->in[2]];
            if (tm->kind != WF_VAL_CONST || !tm->c.data || ((const uint8_t *)tm->c.data)[0])
                return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                     "training_mode must be a constant false");
        }
    } else if (n->n_out != 1) {
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 output");
    }
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static void nop_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)in;
    (void)out;
    (void)s;
}

/* Aliased output: the gradient buffer is shared too, so there is nothing to add. */
void wf_nop_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, float *const *gin,
                float *const *gout, void *s) {
    (void)n;
    (void)in;
    (void)out;
    (void)gin;
    (void)gout;
    (void)s;
}

const wf_opdef wf_op_identity = {"Identity", identity_check, same_shape, nop_fwd, wf_nop_bwd, 1,
                                 NULL};
const wf_opdef wf_op_dropout = {"Dropout", identity_check, same_shape, nop_fwd, wf_nop_bwd, 1,
                                NULL};
