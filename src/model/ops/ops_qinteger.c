/*
 * Dynamic quantization, as ONNX Runtime's quantizer emits it for RNNs and transformers:
 * DynamicQuantizeLinear (float -> uint8 with a scale and zero point computed from the tensor
 * itself), MatMulInteger and ConvInteger (uint8/int8 inputs, int32 output, exact).
 *
 * DynamicQuantizeLinear follows the ONNX specification and ONNX Runtime's kernel in float32:
 * x_min = min(0, min x), x_max = max(0, max x), scale = (x_max - x_min) / 255 (1 when the range
 * is empty, as ONNX Runtime), zp = saturate(round_half_to_even(0 - x_min / scale)), y =
 * saturate(round_half_to_even(x / scale) + zp) (wf_k_quantize). The scale is one value for the
 * whole tensor, so a window's score depends on the other windows of the batch: the predictor
 * evaluates such a model one window at a time (as the deployed device scores it) and the model
 * card says so (wf_model_batch_dependent).
 *
 * Backward is the straight-through surrogate (as ops_quant.c), gradients of integer tensors in
 * their own units: DynamicQuantizeLinear dx = dy / scale (the scale and zero point taken as
 * constants; the range covers the tensor, so nothing saturates), MatMulInteger dA = dY (B -
 * b_zp)^T (and dB = (A - a_zp)^T dY when B is data), ConvInteger dx = the transposed
 * convolution of dY with (w - w_zp); Cast of the int32 result passes the gradient on
 * (ops_fold.c). The float surrogate of DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul
 * (x_scale w_scale) is x @ dequantized W. Non-goals: int4/int16 types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

static wf_k_qtype qt(wf_dtype d) {
    return d == WF_DTYPE_INT8 ? WF_K_QTYPE_S8 : WF_K_QTYPE_U8;
}

static int32_t q8_at(const void *p, wf_dtype d, size_t i) {
    return d == WF_DTYPE_INT8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

/* ---- DynamicQuantizeLinear ---- */
static wf_status dql_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 3)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs input x and outputs y, y_scale, y_zp");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    if (n->out[0] >= 0)
        vals[n->out[0]].dtype = WF_DTYPE_UINT8;
    if (n->out[1] >= 0)
        vals[n->out[1]].dtype = WF_DTYPE_FLOAT;
    if (n->out[2] >= 0)
        vals[n->out[2]].dtype = WF_DTYPE_UINT8;
    return WF_OK;
}

static wf_status dql_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    *scratch = 0;
    if (out[0]) {
        out[0]->rank = in[0]->rank;
        memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    }
    for (int k = 1; k < 3; k++)
        if (out[k])
            out[k]->rank = 0;
    return out[0] ? wf_check_numel(n, out[0], err) : WF_OK;
}

/* scale and zero point of x (count values), as ONNX Runtime computes them */
static void dynamic_qparams(const float *x, size_t count, float *scale, uint8_t *zp) {
    float mn = 0.0f, mx = 0.0f;
    for (size_t i = 0; i < count; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    float s = mx == mn ? 1.0f : (mx - mn) / 255.0f;
    float z = 0.0f - mn / s;
    z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
    *scale = s;
    *zp = (uint8_t)rintf(z);
}

static void dql_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    size_t count = (size_t)wf_numel(in[0]);
    float scale;
    uint8_t zp;
    dynamic_qparams(in[0]->data, count, &scale, &zp);
    if (out[1])
        *(float *)out[1]->data = scale;
    if (out[2])
        *(uint8_t *)out[2]->data = zp;
    if (out[0]) {
        wf_k_qparam q = {&scale, &zp, WF_K_QTYPE_U8, 0};
        wf_k_quantize(out[0]->data, in[0]->data, &q, 1, 1, count);
    }
}

static void dql_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)out;
    (void)s;
    if (!gin[0] || !gout[0])
        return;
    size_t count = (size_t)wf_numel(in[0]);
    float scale;
    uint8_t zp;
    dynamic_qparams(in[0]->data, count, &scale, &zp);
    for (size_t i = 0; i < count; i++)
        gin[0][i] += gout[0][i] / scale;
}

const wf_opdef wf_op_dynamic_quantize = {
    "DynamicQuantizeLinear", dql_check, dql_shape, dql_fwd, dql_bwd, 0, NULL};

/* ---- MatMulInteger ---- */
static wf_status int_check(wf_node *n, wf_value *vals, int conv, wf_error *err) {
    if (n->n_in < 2 || n->n_in > 4 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "needs inputs A, B (and zero points) and one output");
    wf_status s = WF_OK;
    for (int i = 0; i < n->n_in && !s; i++)
        s = wf_check_dtype(n, vals, i, WF_DT_Q8, err);
    if (s)
        return s;
    for (int i = 2; i < n->n_in; i++)
        if (n->in[i] >= 0 && vals[n->in[i]].dtype != vals[n->in[i - 2]].dtype)
            return wf_node_error(err, WF_ERR_PARSE, n, "zero point %d is %s but its tensor is %s",
                                 i - 2, wf_dtype_name(vals[n->in[i]].dtype),
                                 wf_dtype_name(vals[n->in[i - 2]].dtype));
    vals[n->out[0]].dtype = WF_DTYPE_INT32;
    return conv ? wf_window_attrs(n, err) : WF_OK;
}

static wf_status mmi_check(wf_node *n, wf_value *vals, wf_error *err) {
    return int_check(n, vals, 0, err);
}

static const wf_tensor *opt(wf_tensor *const *in, const wf_node *n, int i) {
    return i < n->n_in ? in[i] : NULL;
}

/* A: (.., M, K); B: (K, N) shared or (.., K, N) with the same leading dims (wf_matmul_geom), and
 * K < 66051 so that the int32 sums of u8/s8 products cannot overflow. */
static int mmi_geom(const wf_tensor *a, const wf_tensor *b, int64_t *batch, int64_t *M, int64_t *N,
                    int64_t *K, int *bb) {
    return wf_matmul_geom(a, b, batch, M, N, K, bb) || *K >= 66051 ? -1 : 0;
}

static wf_status mmi_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    *scratch = 0;
    int64_t batch, M, N, K;
    int bb;
    if (mmi_geom(in[0], in[1], &batch, &M, &N, &K, &bb))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "A (.., M, K) and B (K, N) or (.., K, N) with equal leading dims "
                             "expected (K < 66051)");
    const wf_tensor *az = opt(in, n, 2), *bz = opt(in, n, 3);
    if (az && wf_numel(az) != 1) /* per-row is valid ONNX; ONNX Runtime refuses it too */
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "a_zero_point has %lld values; one value (per tensor) is supported",
                             (long long)wf_numel(az));
    if (bz && wf_numel(bz) != 1 && wf_numel(bz) != N)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "b_zero_point has %lld values, B has %lld columns",
                             (long long)wf_numel(bz), (long long)N);
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    out[0]->dims[out[0]->rank - 1] = N;
    return wf_check_numel(n, out[0], err);
}

static void mmi_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int64_t batch, M, N, K;
    int bb;
    mmi_geom(in[0], in[1], &batch, &M, &N, &K, &bb);
    const wf_tensor *az = opt(in, n, 2), *bz = opt(in, n, 3);
    size_t ea = wf_dtype_size(in[0]->dtype), eb = wf_dtype_size(in[1]->dtype);
    for (int64_t q = 0; q < batch; q++)
        wf_k_matmul_integer((int32_t *)out[0]->data + q * M * N,
                            (const char *)in[0]->data + q * M * K * ea, qt(in[0]->dtype),
                            az ? az->data : NULL, 0,
                            (const char *)in[1]->data + (bb ? q * K * N * eb : 0), qt(in[1]->dtype),
                            bz ? bz->data : NULL, bz && wf_numel(bz) > 1, (int)M, (int)N, (int)K);
}

static int64_t mmi_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    int64_t batch, M, N, K;
    int bb;
    return mmi_geom(in[0], in[1], &batch, &M, &N, &K, &bb) ? 0 : 2 * batch * M * N * K;
}

/* dA[m, k] += sum_j dY[m, j] (B[k, j] - zb[j]); dB[k, j] += sum_m (A[m, k] - za) dY[m, j] */
static void mmi_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    (void)out;
    (void)s;
    if (!gin[0] && !gin[1])
        return;
    int64_t batch, M, N, K;
    int bb;
    mmi_geom(in[0], in[1], &batch, &M, &N, &K, &bb);
    const wf_tensor *az = opt(in, n, 2), *bz = opt(in, n, 3);
    wf_dtype da = in[0]->dtype, db = in[1]->dtype;
    int32_t za = az ? q8_at(az->data, da, 0) : 0;
    int bcol = bz && wf_numel(bz) > 1;
    for (int64_t q = 0; q < batch; q++) {
        size_t ao = (size_t)(q * M * K), bo = (size_t)(bb ? q * K * N : 0),
               yo = (size_t)(q * M * N);
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++) {
                float acc = 0.0f;
                int32_t av = q8_at(in[0]->data, da, ao + (size_t)(m * K + k)) - za;
                for (int64_t j = 0; j < N; j++) {
                    float g = gout[0][yo + (size_t)(m * N + j)];
                    int32_t zb = bz ? q8_at(bz->data, db, bcol ? (size_t)j : 0) : 0;
                    int32_t bv = q8_at(in[1]->data, db, bo + (size_t)(k * N + j)) - zb;
                    acc += g * (float)bv;
                    if (gin[1])
                        gin[1][bo + (size_t)(k * N + j)] += g * (float)av;
                }
                if (gin[0])
                    gin[0][ao + (size_t)(m * K + k)] += acc;
            }
    }
}

const wf_opdef wf_op_matmul_integer = {"MatMulInteger", mmi_check, mmi_shape, mmi_fwd,
                                       mmi_bwd,         0,         mmi_flops};

/* ---- ConvInteger ---- */
static wf_status ci_check(wf_node *n, wf_value *vals, wf_error *err) {
    return int_check(n, vals, 1, err);
}

static wf_status ci_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err) {
    *scratch = 0;
    for (int i = 0; i < in[0]->rank; i++)
        if (in[0]->dims[i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_SHAPE, n, "dimension too large");
    wf_k_conv_geom g;
    if (wf_conv_geom(n, in[0], in[1], &g))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "x (N, C, *in) and w (M, C/group, *k) do not fit together");
    const wf_tensor *xz = opt(in, n, 2), *wz = opt(in, n, 3);
    if (xz && wf_numel(xz) != 1)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "x_zero_point must be one value");
    if (wz && wf_numel(wz) != 1 && wf_numel(wz) != g.cout)
        return wf_node_error(err, WF_ERR_SHAPE, n, "w_zero_point has %lld values for %d channels",
                             (long long)wf_numel(wz), g.cout);
    out[0]->rank = in[0]->rank;
    out[0]->dims[0] = g.n;
    out[0]->dims[1] = g.cout;
    for (int i = 0; i < g.ndim; i++)
        out[0]->dims[2 + i] = g.out[i];
    /* backward: (w - w_zp) in float and the transposed convolution's scratch */
    *scratch = ((size_t)wf_numel(in[1]) + wf_k_conv_backward_scratch_size(&g)) * sizeof(float);
    return wf_check_numel(n, out[0], err);
}

/* y (n, cout, *out) int32 = sum over (ci, k) of (x - x_zp) (w - w_zp); padded cells read x_zp
 * (they add nothing), as ONNX Runtime pads with the zero point. Exact in int32. A direct loop:
 * deployed ConvInteger layers are small, and int32 sums need no blocking for exactness. */
static void ci_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[1], &g);
    const wf_tensor *xz = opt(in, n, 2), *wz = opt(in, n, 3);
    wf_dtype xd = in[0]->dtype, wd = in[1]->dtype;
    int32_t xzp = xz ? q8_at(xz->data, xd, 0) : 0;
    int cinpg = g.cin / g.group, coutpg = g.cout / g.group;
    int in1 = g.ndim == 2 ? g.in[1] : 1, out1 = g.ndim == 2 ? g.out[1] : 1;
    int k1 = g.ndim == 2 ? g.k[1] : 1;
    int s1 = g.ndim == 2 ? g.stride[1] : 1, d1 = g.ndim == 2 ? g.dilation[1] : 1;
    int p1 = g.ndim == 2 ? g.pad_begin[1] : 0;
    size_t isz = (size_t)g.in[0] * in1, osz = (size_t)g.out[0] * out1, ksz = (size_t)g.k[0] * k1;
    int32_t *y = out[0]->data;
    for (int b = 0; b < g.n; b++)
        for (int co = 0; co < g.cout; co++) {
            int32_t wzp = wz ? q8_at(wz->data, wd, wf_numel(wz) > 1 ? (size_t)co : 0) : 0;
            int grp = co / coutpg;
            for (int o0 = 0; o0 < g.out[0]; o0++)
                for (int o1 = 0; o1 < out1; o1++) {
                    int32_t acc = 0;
                    for (int cg = 0; cg < cinpg; cg++) {
                        int ci = grp * cinpg + cg;
                        size_t xo = ((size_t)b * g.cin + ci) * isz;
                        size_t wo = ((size_t)co * cinpg + cg) * ksz;
                        for (int a = 0; a < g.k[0]; a++) {
                            int i0 = o0 * g.stride[0] - g.pad_begin[0] + a * g.dilation[0];
                            if (i0 < 0 || i0 >= g.in[0])
                                continue;
                            for (int c = 0; c < k1; c++) {
                                int i1 = o1 * s1 - p1 + c * d1;
                                if (i1 < 0 || i1 >= in1)
                                    continue;
                                int32_t xv = q8_at(in[0]->data, xd, xo + (size_t)i0 * in1 + i1);
                                int32_t wv = q8_at(in[1]->data, wd, wo + (size_t)a * k1 + c);
                                acc += (xv - xzp) * (wv - wzp);
                            }
                        }
                    }
                    y[((size_t)b * g.cout + co) * osz + (size_t)o0 * out1 + o1] = acc;
                }
        }
}

static int64_t ci_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)in;
    return 2 * wf_numel(out[0]) * wf_numel(in[1]) / (in[1]->dims[0] ? in[1]->dims[0] : 1);
}

/* dx += conv^T(dY, w - w_zp): padded cells read x_zp, so they carry no gradient */
static void ci_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, float *const *gin,
                   float *const *gout, void *s) {
    (void)out;
    if (!gin[0])
        return;
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[1], &g);
    const wf_tensor *wz = opt(in, n, 3);
    size_t nw = (size_t)wf_numel(in[1]), per = nw / (size_t)(g.cout ? g.cout : 1);
    float *wf = s;
    for (size_t i = 0; i < nw; i++) {
        int32_t z = wz ? q8_at(wz->data, in[1]->dtype, wf_numel(wz) > 1 ? i / per : 0) : 0;
        wf[i] = (float)(q8_at(in[1]->data, in[1]->dtype, i) - z);
    }
    wf_k_conv_backward_input(gin[0], gout[0], wf, &g, wf + nw);
}

const wf_opdef wf_op_conv_integer = {"ConvInteger", ci_check, ci_shape, ci_fwd,
                                     ci_bwd,        0,        ci_flops};

const wf_node *wf_model_batch_dependent(const wf_model *m) {
    for (int j = 0; j < m->n_nodes; j++)
        if (m->nodes[j].op == &wf_op_dynamic_quantize)
            return &m->nodes[j];
    return NULL;
}
