/*
 * Comparisons and selection that torch emits around masks, splits and repeats: Less, Greater,
 * LessOrEqual, GreaterOrEqual (bool outputs, numpy broadcasting), Not, And, Or, ArgMax, ArgMin
 * (int64 outputs, no gradient), Split (opset 13 split input, opset 18 num_outputs) and Tile,
 * both with a backward pass. The loops are the naive reference kernels.
 */
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/bcast.h"
#include "model/ops/ops.h"

/* ---- Less, Greater, LessOrEqual, GreaterOrEqual, And, Or ---- */
enum { C_LT, C_GT, C_LE, C_GE, C_AND, C_OR };

static wf_status cmp_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 2 inputs and 1 output");
    const char *nm = n->op->name;
    n->p.kind = !strcmp(nm, "Less")             ? C_LT
                : !strcmp(nm, "Greater")        ? C_GT
                : !strcmp(nm, "LessOrEqual")    ? C_LE
                : !strcmp(nm, "GreaterOrEqual") ? C_GE
                : !strcmp(nm, "And")            ? C_AND
                                                : C_OR;
    unsigned mask = n->p.kind >= C_AND ? WF_DT_BIT(WF_DTYPE_BOOL) : WF_DT_NUMERIC;
    for (int i = 0; i < 2; i++) {
        wf_status s = wf_check_dtype(n, vals, i, mask, err);
        if (s)
            return s;
    }
    if (vals[n->in[0]].dtype != vals[n->in[1]].dtype)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "inputs differ in dtype");
    vals[n->out[0]].dtype = WF_DTYPE_BOOL;
    return WF_OK;
}

static wf_status cmp_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    return wf_broadcast_shape(n, in[0], in[1], out[0], err);
}

static void cmp_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_bc b;
    const wf_tensor *ops[2] = {in[0], in[1]};
    wf_bc_init(&b, out[0], ops, 2);
    int64_t total = wf_numel(out[0]);
    uint8_t *y = out[0]->data;
    int fl = in[0]->dtype == WF_DTYPE_FLOAT;
    for (int64_t e = 0; e < total; e++) {
        int r;
        if (fl) {
            double a = wf_get_d(in[0], b.off[0]), c = wf_get_d(in[1], b.off[1]);
            r = n->p.kind == C_LT   ? a < c
                : n->p.kind == C_GT ? a > c
                : n->p.kind == C_LE ? a <= c
                                    : a >= c;
        } else {
            int64_t a = wf_get_i(in[0], b.off[0]), c = wf_get_i(in[1], b.off[1]);
            switch (n->p.kind) {
            case C_LT:
                r = a < c;
                break;
            case C_GT:
                r = a > c;
                break;
            case C_LE:
                r = a <= c;
                break;
            case C_GE:
                r = a >= c;
                break;
            case C_AND:
                r = a && c;
                break;
            default:
                r = a || c;
                break;
            }
        }
        y[e] = (uint8_t)r;
        wf_bc_next(&b);
    }
}

const wf_opdef wf_op_less = {"Less", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};
const wf_opdef wf_op_greater = {"Greater", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};
const wf_opdef wf_op_less_equal = {"LessOrEqual", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};
const wf_opdef wf_op_greater_equal = {
    "GreaterOrEqual", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};
const wf_opdef wf_op_and = {"And", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};
const wf_opdef wf_op_or = {"Or", cmp_check, cmp_shape, cmp_fwd, NULL, 0, NULL};

/* ---- Not ---- */
static wf_status not_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_BIT(WF_DTYPE_BOOL), err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_BOOL;
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

static void not_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    int64_t total = wf_numel(in[0]);
    const uint8_t *x = in[0]->data;
    uint8_t *y = out[0]->data;
    for (int64_t i = 0; i < total; i++)
        y[i] = !x[i];
}

const wf_opdef wf_op_not = {"Not", not_check, same_dims, not_fwd, NULL, 0, NULL};

/* ---- ArgMax, ArgMin ---- */
static wf_status arg_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_NUMERIC, err);
    if (s)
        return s;
    n->p.kind = !strcmp(n->op->name, "ArgMin");
    n->p.axis = wf_attr_int(n, "axis", 0);
    n->p.keepdims = (int)wf_attr_int(n, "keepdims", 1);
    n->p.allowzero = (int)wf_attr_int(n, "select_last_index", 0);
    vals[n->out[0]].dtype = WF_DTYPE_INT64;
    return WF_OK;
}

static int arg_geom(const wf_node *n, const wf_tensor *x, int64_t *outer, int64_t *len,
                    int64_t *inner) {
    int64_t ax = wf_norm_axis(n->p.axis, x->rank);
    if (ax < 0 || x->rank == 0)
        return -1;
    *outer = *inner = 1;
    for (int i = 0; i < x->rank; i++)
        if (i < ax)
            *outer *= x->dims[i];
        else if (i > ax)
            *inner *= x->dims[i];
    *len = x->dims[ax];
    return (int)ax;
}

static wf_status arg_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t a, l, c;
    int ax = arg_geom(n, in[0], &a, &l, &c);
    if (ax < 0 || l == 0)
        return wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld does not fit rank %d (or is empty)",
                             (long long)n->p.axis, in[0]->rank);
    int o = 0;
    for (int i = 0; i < in[0]->rank; i++)
        if (i != ax)
            out[0]->dims[o++] = in[0]->dims[i];
        else if (n->p.keepdims)
            out[0]->dims[o++] = 1;
    out[0]->rank = o;
    return WF_OK;
}

static void arg_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t A = 0, L = 0, I = 0;
    arg_geom(n, in[0], &A, &L, &I);
    int64_t *y = out[0]->data;
    for (int64_t a = 0; a < A; a++)
        for (int64_t c = 0; c < I; c++) {
            int64_t best = 0;
            double bv = wf_get_d(in[0], a * L * I + c);
            for (int64_t l = 1; l < L; l++) {
                double v = wf_get_d(in[0], (a * L + l) * I + c);
                int better = n->p.kind ? v < bv : v > bv;
                if (better || (n->p.allowzero && v == bv)) {
                    best = l;
                    bv = v;
                }
            }
            y[a * I + c] = best;
        }
}

const wf_opdef wf_op_argmax = {"ArgMax", arg_check, arg_shape, arg_fwd, NULL, 0, NULL};
const wf_opdef wf_op_argmin = {"ArgMin", arg_check, arg_shape, arg_fwd, NULL, 0, NULL};

/* ---- Split ---- */
static wf_status split_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->n_in > 2 || n->in[0] < 0 || n->n_out < 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs an input and outputs");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    n->p.axis = wf_attr_int(n, "axis", 0);
    int k = wf_attr_ints(n, "split", n->p.pads_attr, 2 * WF_MAX_RANK);
    if (k > 2 * WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "more than %d parts", 2 * WF_MAX_RANK);
    n->p.n_pads = k;
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] >= 0)
            vals[n->out[i]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

/* Sizes of the parts along the axis into part[n_out]; -1 on a mismatch. */
static int split_parts(const wf_node *n, wf_tensor *const *in, int64_t *part, int64_t *axlen,
                       wf_error *err) {
    int64_t ax = wf_norm_axis(n->p.axis, in[0]->rank);
    if (ax < 0)
        return -1;
    int64_t d = in[0]->dims[ax], sum = 0;
    *axlen = ax;
    int k = -1;
    int64_t sp[2 * WF_MAX_RANK];
    if (n->n_in > 1 && in[1]) {
        if (wf_read_i64(n, in[1], "the split input", sp, 2 * WF_MAX_RANK, &k, err))
            return -2;
    } else if (n->p.n_pads >= 0) {
        k = n->p.n_pads;
        memcpy(sp, n->p.pads_attr, sizeof sp);
    }
    if (k >= 0 && k != n->n_out)
        return -1;
    for (int i = 0; i < n->n_out; i++) {
        if (k >= 0)
            part[i] = sp[i];
        else /* equal parts, the last one smaller (opset 18 num_outputs) */
            part[i] = (d + n->n_out - 1) / n->n_out;
        if (k < 0 && i == n->n_out - 1)
            part[i] = d - sum;
        if (part[i] < 0)
            return -1;
        sum += part[i];
    }
    return sum == d ? 0 : -1;
}

static wf_status split_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t part[2 * WF_MAX_RANK], ax;
    if (n->n_out > 2 * WF_MAX_RANK)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "more than %d outputs", 2 * WF_MAX_RANK);
    int rc = split_parts(n, in, part, &ax, err);
    if (rc == -2)
        return err ? err->status : WF_ERR_SHAPE;
    if (rc)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "the parts do not add up to the axis length (or bad axis %lld)",
                             (long long)n->p.axis);
    for (int i = 0; i < n->n_out; i++)
        if (out[i]) {
            out[i]->rank = in[0]->rank;
            memcpy(out[i]->dims, in[0]->dims, sizeof in[0]->dims);
            out[i]->dims[ax] = part[i];
        }
    return WF_OK;
}

static void split_geom(const wf_tensor *x, int64_t ax, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < x->rank; i++)
        if (i < ax)
            *outer *= x->dims[i];
        else if (i > ax)
            *inner *= x->dims[i];
}

static void split_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t part[2 * WF_MAX_RANK], ax, outer, inner;
    split_parts(n, in, part, &ax, NULL);
    split_geom(in[0], ax, &outer, &inner);
    size_t es = wf_dtype_size(in[0]->dtype);
    int64_t d = in[0]->dims[ax], off = 0;
    for (int i = 0; i < n->n_out; i++) {
        if (out[i])
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)out[i]->data + (size_t)(o * part[i] * inner) * es,
                       (const char *)in[0]->data + (size_t)((o * d + off) * inner) * es,
                       (size_t)(part[i] * inner) * es);
        off += part[i];
    }
}

static void split_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    int64_t part[2 * WF_MAX_RANK], ax, outer, inner;
    split_parts(n, in, part, &ax, NULL);
    split_geom(in[0], ax, &outer, &inner);
    int64_t d = in[0]->dims[ax], off = 0;
    for (int i = 0; i < n->n_out; i++) {
        if (gout[i])
            for (int64_t o = 0; o < outer; o++) {
                float *gi = gin[0] + (o * d + off) * inner;
                const float *go = gout[i] + o * part[i] * inner;
                for (int64_t j = 0; j < part[i] * inner; j++)
                    gi[j] += go[j];
            }
        off += part[i];
    }
}

const wf_opdef wf_op_split = {"Split", split_check, split_shape, split_fwd, split_bwd, 0, NULL};

/* ---- Tile ---- */
static wf_status tile_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs input, repeats and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_ANY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    vals[n->out[0]].dtype = vals[n->in[0]].dtype;
    return WF_OK;
}

static wf_status tile_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    (void)scratch;
    int64_t rep[WF_MAX_RANK];
    int k;
    wf_status s = wf_read_i64(n, in[1], "the repeats input", rep, WF_MAX_RANK, &k, err);
    if (s)
        return s;
    if (k != in[0]->rank)
        return wf_node_error(err, WF_ERR_SHAPE, n, "repeats has %d values for rank %d", k,
                             in[0]->rank);
    out[0]->rank = k;
    for (int i = 0; i < k; i++) {
        if (rep[i] < 0)
            return wf_node_error(err, WF_ERR_SHAPE, n, "negative repeat");
        out[0]->dims[i] = in[0]->dims[i] * rep[i];
    }
    return wf_check_numel(n, out[0], err);
}

/* Odometer over the output; src: the input offset (each index modulo the input dim). */
#define TILE_LOOP(BODY)                                                                            \
    do {                                                                                           \
        int r = in[0]->rank;                                                                       \
        int64_t ist[WF_MAX_RANK], acc = 1, idx[WF_MAX_RANK] = {0}, sidx[WF_MAX_RANK] = {0},        \
                                  src = 0, total = wf_numel(out[0]);                               \
        for (int d = r - 1; d >= 0; d--) {                                                         \
            ist[d] = acc;                                                                          \
            acc *= in[0]->dims[d];                                                                 \
        }                                                                                          \
        for (int64_t e = 0; e < total; e++) {                                                      \
            BODY;                                                                                  \
            for (int d = r - 1; d >= 0; d--) {                                                     \
                idx[d]++;                                                                          \
                sidx[d]++;                                                                         \
                src += ist[d];                                                                     \
                if (sidx[d] == in[0]->dims[d]) {                                                   \
                    sidx[d] = 0;                                                                   \
                    src -= ist[d] * in[0]->dims[d];                                                \
                }                                                                                  \
                if (idx[d] < out[0]->dims[d])                                                      \
                    break;                                                                         \
                idx[d] = 0;                                                                        \
                src -= ist[d] * sidx[d];                                                           \
                sidx[d] = 0;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void tile_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    size_t es = wf_dtype_size(in[0]->dtype);
    const char *x = in[0]->data;
    char *y = out[0]->data;
    TILE_LOOP(memcpy(y + (size_t)e * es, x + (size_t)src * es, es));
}

static void tile_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    if (!gin[0])
        return;
    float *gi = gin[0];
    const float *go = gout[0];
    TILE_LOOP(gi[src] += go[e]);
}

const wf_opdef wf_op_tile = {"Tile", tile_check, tile_shape, tile_fwd, tile_bwd, 0, NULL};
