/*
 * Quantized ops exactly as the ONNX specification (round half to even, saturation):
 * QuantizeLinear, DequantizeLinear (int8/uint8; int32 for biases), per tensor or per axis,
 * QLinearMatMul and QLinearConv (per-tensor activations, per-tensor or per-channel weights).
 *
 * Backward is a surrogate, the straight-through estimator (STE): gradients of integer tensors are
 * carried in the tensor's own units (d loss / d q). DequantizeLinear: dq = dy * scale.
 * QuantizeLinear: dx = dq / scale where x / scale + zp stays inside the type's range, 0 where it
 * saturated. QLinear*: through their dequantized float equivalent (the output's saturation mask
 * read from the quantized output: q at the type's limit counts as saturated).
 * Non-goals: blocked quantization, int4/int16/float8 types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"
#include "model/kernels/qelem.h"

static wf_k_qtype qtype_of(wf_dtype d) {
    return d == WF_DTYPE_INT8    ? WF_K_QTYPE_S8
           : d == WF_DTYPE_UINT8 ? WF_K_QTYPE_U8
                                 : WF_K_QTYPE_S32;
}

/* Scale (and zero point) of a per-tensor or per-axis quantization over x with `axis`.
 * Fills the kernel qparam and the (outer, axis_len, inner) view of x. */
static wf_status qparams(const wf_node *n, const wf_tensor *x, const wf_tensor *scale,
                         const wf_tensor *zp, wf_dtype qdt, int64_t axis, wf_k_qparam *q,
                         size_t *outer, size_t *alen, size_t *inner, wf_error *err) {
    memset(q, 0, sizeof *q);
    q->scale = scale->data;
    q->zp = zp ? zp->data : NULL;
    q->type = qtype_of(qdt);
    int64_t ns = wf_numel(scale);
    if (zp && wf_numel(zp) != ns)
        return wf_node_error(err, WF_ERR_SHAPE, n, "zero point has %lld values, scale %lld",
                             (long long)wf_numel(zp), (long long)ns);
    int64_t total = wf_numel(x);
    if (scale->rank > 1)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "blocked quantization (scale of rank %d) is not supported",
                             scale->rank);
    if (scale->rank == 0 || (ns == 1 && x->rank == 0)) {
        *outer = 1;
        *alen = 1;
        *inner = (size_t)total;
        return WF_OK;
    }
    int64_t ax = wf_norm_axis(axis, x->rank);
    if (ax < 0 || x->dims[ax] != ns) {
        if (ns == 1) {
            *outer = 1;
            *alen = 1;
            *inner = (size_t)total;
            return WF_OK;
        }
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "per-axis scale has %lld values but axis %lld of the input has "
                             "%lld",
                             (long long)ns, (long long)axis,
                             ax < 0 ? -1LL : (long long)x->dims[ax]);
    }
    q->per_axis = 1;
    size_t o = 1, in = 1;
    for (int i = 0; i < x->rank; i++) {
        if (i < ax)
            o *= (size_t)x->dims[i];
        else if (i > ax)
            in *= (size_t)x->dims[i];
    }
    *outer = o;
    *alen = (size_t)ns;
    *inner = in;
    return WF_OK;
}

static wf_status q_common_attrs(wf_node *n, wf_error *err) {
    n->p.axis = wf_attr_int(n, "axis", 1);
    if (wf_attr_int(n, "block_size", 0) != 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "blocked quantization (block_size=%lld) is not supported",
                             (long long)wf_attr_int(n, "block_size", 0));
    return WF_OK;
}

/* ---- QuantizeLinear ---- */
static wf_status quant_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs x, y_scale (and y_zero_point)");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 2, WF_DT_Q8, err);
    if (!s)
        s = q_common_attrs(n, err);
    if (s)
        return s;
    wf_dtype out = WF_DTYPE_UINT8;
    if (n->n_in >= 3 && n->in[2] >= 0)
        out = vals[n->in[2]].dtype;
    int64_t od = wf_attr_int(n, "output_dtype", 0);
    if (od) {
        if (od != WF_DTYPE_INT8 && od != WF_DTYPE_UINT8)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "output_dtype %s is not supported (int8, uint8)",
                                 wf_dtype_name((int)od));
        if (n->n_in >= 3 && n->in[2] >= 0 && (wf_dtype)od != out)
            return wf_node_error(err, WF_ERR_PARSE, n,
                                 "output_dtype disagrees with the zero point's dtype");
        out = (wf_dtype)od;
    }
    vals[n->out[0]].dtype = out;
    return WF_OK;
}

static const wf_tensor *opt(wf_tensor *const *in, const wf_node *n, int i) {
    return i < n->n_in ? in[i] : NULL;
}

static wf_status qdq_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    wf_k_qparam q;
    size_t a = 0, b = 0, c = 0;
    wf_dtype qdt = n->op->name[0] == 'Q' ? out[0]->dtype : in[0]->dtype;
    wf_status s = qparams(n, in[0], in[1], opt(in, n, 2), qdt, n->p.axis, &q, &a, &b, &c, err);
    if (s)
        return s;
    if (n->op->name[0] == 'D' && in[0]->dtype == WF_DTYPE_INT32 && opt(in, n, 2) &&
        opt(in, n, 2)->data) {
        const int32_t *z = opt(in, n, 2)->data;
        for (int64_t i = 0; i < wf_numel(opt(in, n, 2)); i++)
            if (z[i])
                return wf_node_error(err, WF_ERR_INVALID, n,
                                     "int32 DequantizeLinear needs a zero point of 0");
    }
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    *scratch = (size_t)wf_numel(in[0]); /* STE mask */
    return WF_OK;
}

static void quant_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_qparam q;
    size_t a = 0, b = 0, c = 0;
    qparams(n, in[0], in[1], opt(in, n, 2), out[0]->dtype, n->p.axis, &q, &a, &b, &c, NULL);
    wf_k_quantize(out[0]->data, in[0]->data, &q, a, b, c);
}

static void quant_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    if (!gin[0])
        return;
    wf_k_qparam q;
    size_t a = 0, b = 0, c = 0;
    qparams(n, in[0], in[1], opt(in, n, 2), out[0]->dtype, n->p.axis, &q, &a, &b, &c, NULL);
    uint8_t *mask = s;
    wf_k_qdq_mask_fast(mask, in[0]->data, &q, a, b, c);
    const float *sc = in[1]->data;
    for (size_t o = 0; o < a; o++)
        for (size_t k = 0; k < b; k++) {
            float inv = 1.0f / sc[q.per_axis ? k : 0];
            size_t base = (o * b + k) * c;
            for (size_t i = 0; i < c; i++)
                if (mask[base + i])
                    gin[0][base + i] += gout[0][base + i] * inv;
        }
}

static int64_t qdq_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

const wf_opdef wf_op_quantize = {"QuantizeLinear", quant_check, qdq_shape, quant_fwd,
                                 quant_bwd,        0,           qdq_flops};

/* ---- DequantizeLinear ---- */
static wf_status dequant_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs x, x_scale (and x_zero_point)");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_Q8 | WF_DT_BIT(WF_DTYPE_INT32), err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_FLOATONLY, err);
    if (!s && n->n_in >= 3 && n->in[2] >= 0 && vals[n->in[2]].dtype != vals[n->in[0]].dtype)
        s = wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                          "x_zero_point (%s) and x (%s) differ in dtype",
                          wf_dtype_name(vals[n->in[2]].dtype), wf_dtype_name(vals[n->in[0]].dtype));
    if (!s)
        s = q_common_attrs(n, err);
    if (s)
        return s;
    if (wf_attr_int(n, "output_dtype", 0) > 1)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "output_dtype %s is not supported",
                             wf_dtype_name((int)wf_attr_int(n, "output_dtype", 0)));
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static void dequant_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_qparam q;
    size_t a = 0, b = 0, c = 0;
    qparams(n, in[0], in[1], opt(in, n, 2), in[0]->dtype, n->p.axis, &q, &a, &b, &c, NULL);
    wf_k_dequantize(out[0]->data, in[0]->data, &q, a, b, c);
}

static void dequant_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                        float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    wf_k_qparam q;
    size_t a = 0, b = 0, c = 0;
    qparams(n, in[0], in[1], opt(in, n, 2), in[0]->dtype, n->p.axis, &q, &a, &b, &c, NULL);
    const float *sc = in[1]->data;
    for (size_t o = 0; o < a; o++)
        for (size_t k = 0; k < b; k++) {
            float f = sc[q.per_axis ? k : 0];
            size_t base = (o * b + k) * c;
            for (size_t i = 0; i < c; i++)
                gin[0][base + i] += gout[0][base + i] * f;
        }
}

const wf_opdef wf_op_dequantize = {
    "DequantizeLinear", dequant_check, qdq_shape, dequant_fwd, dequant_bwd, 0, qdq_flops};

/* ---- shared by QLinearMatMul / QLinearConv ---- */

static wf_status qlinear_check_types(wf_node *n, wf_value *vals, int x, int w, int ys,
                                     wf_error *err) {
    /* x, x_scale, x_zero_point at x..x+2; the same for w; y_scale, y_zero_point at ys, ys+1 */
    int idx[2] = {x, w};
    for (int j = 0; j < 2; j++) {
        int i = idx[j];
        if (i + 1 >= n->n_in || n->in[i] < 0 || n->in[i + 1] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "input %d or its scale is missing", i);
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_Q8, err);
        if (!s)
            s = wf_check_dtype(n, vals, i + 1, WF_DT_FLOATONLY, err);
        if (!s)
            s = wf_check_dtype(n, vals, i + 2, WF_DT_Q8, err);
        if (s)
            return s;
        if (i + 2 < n->n_in && n->in[i + 2] >= 0 &&
            vals[n->in[i + 2]].dtype != vals[n->in[i]].dtype)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "zero point of input %d differs in dtype from the input", i);
    }
    if (ys >= n->n_in || n->in[ys] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "y_scale is missing");
    wf_status s = wf_check_dtype(n, vals, ys, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, ys + 1, WF_DT_Q8, err);
    if (s)
        return s;
    vals[n->out[0]].dtype =
        ys + 1 < n->n_in && n->in[ys + 1] >= 0 ? vals[n->in[ys + 1]].dtype : WF_DTYPE_UINT8;
    return WF_OK;
}

static void qp_simple(wf_k_qparam *q, const wf_tensor *scale, const wf_tensor *zp, wf_dtype dt) {
    q->scale = scale->data;
    q->zp = zp ? zp->data : NULL;
    q->type = qtype_of(dt);
    q->per_axis = wf_numel(scale) > 1;
}

static float dq_one(const void *x, wf_dtype dt, size_t i, const void *zp, size_t zi, float sc) {
    int32_t v = dt == WF_DTYPE_INT8 ? ((const int8_t *)x)[i] : ((const uint8_t *)x)[i];
    int32_t z = 0;
    if (zp)
        z = dt == WF_DTYPE_INT8 ? ((const int8_t *)zp)[zi] : ((const uint8_t *)zp)[zi];
    return (float)(v - z) * sc;
}

/* Mask of the quantized output: 1 where q is strictly inside the type's range. */
static int q_inside(const void *y, wf_dtype dt, size_t i) {
    if (dt == WF_DTYPE_INT8) {
        int8_t v = ((const int8_t *)y)[i];
        return v > -128 && v < 127;
    }
    uint8_t v = ((const uint8_t *)y)[i];
    return v > 0 && v < 255;
}

/* ---- QLinearMatMul ---- */
static wf_status qmm_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 8 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 8 inputs and 1 output");
    return qlinear_check_types(n, vals, 0, 3, 6, err);
}

/* A: (batch, M, K) or (M, K); B: (K, N) shared or (batch, K, N) (ops.h). */
int wf_matmul_geom(const wf_tensor *a, const wf_tensor *b, int64_t *batch, int64_t *M, int64_t *N,
                   int64_t *K, int *b_batched) {
    if (a->rank < 2 || b->rank < 2)
        return -1;
    *M = a->dims[a->rank - 2];
    *K = a->dims[a->rank - 1];
    *N = b->dims[b->rank - 1];
    if (b->dims[b->rank - 2] != *K)
        return -1;
    *batch = 1;
    for (int i = 0; i < a->rank - 2; i++)
        *batch *= a->dims[i];
    *b_batched = b->rank > 2;
    if (*b_batched) {
        if (b->rank != a->rank)
            return -1;
        for (int i = 0; i < a->rank - 2; i++)
            if (b->dims[i] != a->dims[i])
                return -1;
    }
    return 0;
}

static wf_status qmm_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    int64_t batch, M, N, K;
    int bb;
    if (wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "A (.., M, K) and B (K, N) or (.., K, N) with equal batch dims "
                             "expected");
    if (wf_numel(in[1]) != 1 || (in[7] && wf_numel(in[7]) != 1) || wf_numel(in[6]) != 1 ||
        (in[2] && wf_numel(in[2]) != 1))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "a and y must be quantized per tensor");
    if (wf_numel(in[4]) != 1 && wf_numel(in[4]) != N)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "b must be quantized per tensor or per column");
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    out[0]->dims[out[0]->rank - 1] = N;
    /* forward: the exact integer GEMM's scratch, the (M, N) accumulator and N multipliers;
     * backward: dequantized B (K, N) and the float output gradient (M, N) */
    size_t fwd = wf_k_qgemm_scratch_size((int)M, (int)N, (int)K) * sizeof(float) +
                 (size_t)(M * N) * sizeof(int32_t) + (size_t)N * sizeof(float);
    size_t bwd = (size_t)(K * N + M * N) * sizeof(float);
    *scratch = fwd > bwd ? fwd : bwd;
    return wf_check_numel(n, out[0], err);
}

/* y (M, N) = ONNX Runtime's requantization of the int32 sums a with multipliers mj[j]
 * (wf_requant_elem), as 8-bit codes of type dy. Short rows (a 32-wide layer, the 1-wide score)
 * run side by side as rows of L = N (64 / N) values with the multipliers repeated, so the loop is
 * long enough to vectorise; the same arithmetic per element. */
WF_OPS_CLONES void wf_requant_rows(void *y, wf_dtype dy, const int32_t *restrict a,
                                   const float *restrict mj, int32_t zy, int64_t M, int64_t N) {
    int lo = dy == WF_DTYPE_INT8 ? -128 : 0, hi = dy == WF_DTYPE_INT8 ? 127 : 255;
    float vmin = (float)(lo - zy), vmax = (float)(hi - zy);
    float mrep[64];
    const float *mr = mj;
    int64_t rl = N, total = M * N;
    if (N < 64) {
        rl = N * (64 / N);
        for (int64_t j = 0; j < rl; j++)
            mrep[j] = mj[j % N];
        mr = mrep;
    }
    for (int64_t o = 0; o < total; o += rl) {
        int64_t n = total - o < rl ? total - o : rl;
        const int32_t *restrict v = a + o;
        if (dy == WF_DTYPE_INT8) {
            int8_t *restrict out = (int8_t *)y + o;
            for (int64_t j = 0; j < n; j++)
                out[j] = (int8_t)wf_requant_elem((float)v[j], mr[j], vmin, vmax, zy);
        } else {
            uint8_t *restrict out = (uint8_t *)y + o;
            for (int64_t j = 0; j < n; j++)
                out[j] = (uint8_t)wf_requant_elem((float)v[j], mr[j], vmin, vmax, zy);
        }
    }
}

void wf_qmm_multipliers(wf_tensor *const *in, int64_t N, float *mj) {
    int percol = wf_numel(in[4]) > 1;
    const float *bs = in[4]->data;
    float sa = ((const float *)in[1]->data)[0], sy = ((const float *)in[6]->data)[0];
    for (int64_t j = 0; j < N; j++) {
        float p = sa * bs[percol ? j : 0];
        mj[j] = p / sy;
    }
}

void wf_qmm_requant(wf_tensor *const *in, const int32_t *acc, int64_t M, int64_t N, void *y,
                    wf_dtype dy, float *mj) {
    int32_t zy = 0;
    if (in[7])
        zy = dy == WF_DTYPE_INT8 ? ((const int8_t *)in[7]->data)[0]
                                 : ((const uint8_t *)in[7]->data)[0];
    wf_qmm_multipliers(in, N, mj);
    wf_requant_rows(y, dy, acc, mj, zy, M, N);
}

WF_OPS_CLONES int32_t wf_codes_to_float(float *restrict dst, const void *src, wf_dtype d,
                                        int32_t zp, size_t n) {
    int32_t mx = 0;
    if (d == WF_DTYPE_INT8) {
        const int8_t *restrict x = src;
        for (size_t i = 0; i < n; i++) {
            int32_t v = (int32_t)x[i] - zp, a = v < 0 ? -v : v;
            dst[i] = (float)v;
            mx = a > mx ? a : mx;
        }
    } else {
        const uint8_t *restrict x = src;
        for (size_t i = 0; i < n; i++) {
            int32_t v = (int32_t)x[i] - zp, a = v < 0 ? -v : v;
            dst[i] = (float)v;
            mx = a > mx ? a : mx;
        }
    }
    return mx;
}

/* Code i of a u8 or s8 buffer. */
static int32_t code_at(const void *p, wf_dtype d, size_t i) {
    return d == WF_DTYPE_INT8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

int32_t wf_codes_kn(float *restrict fb, const void *b, wf_dtype db, const void *zp, int zcol,
                    int tb, int64_t K, int64_t N) {
    if (!tb && !zcol)
        return wf_codes_to_float(fb, b, db, zp ? code_at(zp, db, 0) : 0, (size_t)(K * N));
    int32_t mx = 0;
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) {
            int32_t v = code_at(b, db, (size_t)(tb ? j * K + k : k * N + j)) -
                        (zp ? code_at(zp, db, zcol ? (size_t)j : 0) : 0);
            fb[k * N + j] = (float)v;
            mx = v > mx ? v : -v > mx ? -v : mx;
        }
    return mx;
}

/* fc (M, N) = (A - za) @ (B - zb) as floats when every sum stays below 2^24 (then exact: any
 * order, any kernel, the same sums), returning 1; 0 otherwise (fa, fb converted, fc untouched).
 * fs: fa (M K), fb (K N), fc (M N) floats in that order. */
static int qmm_float_sums(const void *a, wf_dtype da, const wf_tensor *azp, const void *b,
                          wf_dtype db, const wf_tensor *bzp, int64_t M, int64_t N, int64_t K,
                          float *fs) {
    float *fa = fs, *fb = fa + M * K, *fc = fb + K * N;
    int32_t za = azp ? code_at(azp->data, da, 0) : 0;
    int32_t amax = wf_codes_to_float(fa, a, da, za, (size_t)(M * K));
    int32_t bmax =
        wf_codes_kn(fb, b, db, bzp ? bzp->data : NULL, bzp && wf_numel(bzp) > 1, 0, K, N);
    if ((double)K * (double)amax * (double)bmax >= 16777216.0)
        return 0;
    if (!wf_k_gemm_direct(fc, fa, fb, 0, NULL, (int)M, (int)N, (int)K, 0, NULL))
        wf_k_gemm(fc, fa, fb, (int)M, (int)N, (int)K, 0, 0, 1.0f, 0.0f);
    return 1;
}

/* acc (M, N) = (a - za) @ (b - zb), exact: wf_k_qgemm_s32's method (sgemm on the converted codes
 * when K max|a| max|b| < 2^24, so every partial sum is an integer float32 holds and any order
 * gives the same sums: qmm_float_sums); otherwise wf_k_qgemm_s32 itself (its int32 loop).
 * fs: wf_k_qgemm_scratch_size floats. */
static void qmm_acc(int32_t *restrict acc, const void *a, wf_dtype da, const wf_tensor *azp,
                    const void *b, wf_dtype db, const wf_tensor *bzp, int64_t M, int64_t N,
                    int64_t K, float *fs) {
    if (qmm_float_sums(a, da, azp, b, db, bzp, M, N, K, fs)) {
        const float *fc = fs + M * K + K * N;
        for (int64_t i = 0; i < M * N; i++)
            acc[i] = (int32_t)fc[i];
        return;
    }
    wf_k_qgemm_s32(acc, a, qtype_of(da), azp ? azp->data : NULL, b, qtype_of(db),
                   bzp ? bzp->data : NULL, bzp && wf_numel(bzp) > 1, (int)M, (int)N, (int)K, 0, fs);
}

const float *wf_qmm_float_sums(wf_tensor *const *in, const float *packed, int64_t q, void *s) {
    int64_t batch, M, N, K;
    int bb;
    if (wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb) || bb || q >= batch)
        return NULL;
    wf_dtype da = in[0]->dtype;
    const char *a = (const char *)in[0]->data + (size_t)(q * M * K) * wf_dtype_size(da);
    float *fs = s, *fc = fs + M * K + K * N;
    int32_t za = in[2] ? code_at(in[2]->data, da, 0) : 0;
    if (packed)
        return wf_packed_codes_sums(fc, a, da, za, packed, M, N, K, fs) ? fc : NULL;
    return qmm_float_sums(a, da, in[2], in[3]->data, in[3]->dtype, in[5], M, N, K, fs) ? fc : NULL;
}

/* The exact int32 products (qmm_acc: sgemm on small integers, else an int32 loop), then
 * wf_qmm_requant. Same bytes as the reference kernel wf_k_qlinear_matmul (the
 * accumulator is exact either way), at sgemm speed. */
/* Each slice's exact sums (through B packed by wf_pack_codes when packed is not NULL and the
 * sums stay below 2^24, else qmm_acc), then wf_qmm_requant. packed only with B shared. */
static void qmm_run(wf_tensor *const *in, wf_tensor *const *out, void *s, const float *packed) {
    int64_t batch, M, N, K;
    int bb;
    wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb);
    wf_dtype da = in[0]->dtype, db = in[3]->dtype, dy = out[0]->dtype;
    size_t ea = wf_dtype_size(da), eb = wf_dtype_size(db);
    float *fs = s;
    int32_t *acc = (int32_t *)(void *)(fs + wf_k_qgemm_scratch_size((int)M, (int)N, (int)K));
    float *mj = (float *)(void *)(acc + M * N);
    int32_t za = in[2] ? code_at(in[2]->data, da, 0) : 0;
    for (int64_t q = 0; q < batch; q++) {
        const char *a = (const char *)in[0]->data + q * M * K * ea;
        if (!packed ||
            !wf_packed_codes_acc(acc, a, da, za, packed, M, N, K, fs, fs + M * K + K * N))
            qmm_acc(acc, a, da, in[2], (const char *)in[3]->data + (bb ? q * K * N * eb : 0), db,
                    in[5], M, N, K, fs);
        wf_qmm_requant(in, acc, M, N, (char *)out[0]->data + (size_t)(q * M * N), dy, mj);
    }
}

static void qmm_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    qmm_run(in, out, s, NULL);
}

static void qmm_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    (void)n;
    if (!gin[0])
        return;
    int64_t batch, M, N, K;
    int bb;
    wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb);
    float *bf = s, *gy = bf + K * N;
    const float *bs = in[4]->data;
    float as = ((const float *)in[1]->data)[0], ys = ((const float *)in[6]->data)[0];
    const void *bzp = in[5] ? in[5]->data : NULL;
    for (int64_t q = 0; q < batch; q++) {
        if (q == 0 || bb) {
            size_t eb = wf_dtype_size(in[3]->dtype);
            const char *B = (const char *)in[3]->data + (bb ? q * K * N * eb : 0);
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < N; j++) {
                    size_t c = wf_numel(in[4]) > 1 ? (size_t)j : 0;
                    bf[k * N + j] = dq_one(B, in[3]->dtype, (size_t)(k * N + j), bzp, c, bs[c]);
                }
        }
        for (int64_t i = 0; i < M * N; i++) {
            size_t e = (size_t)(q * M * N + i);
            gy[i] = q_inside(out[0]->data, out[0]->dtype, e) ? gout[0][e] / ys : 0.0f;
        }
        /* d a_real = gy @ B^T, then into q units of a: * a_scale */
        wf_k_gemm_backward_a(gin[0] + q * M * K, gy, bf, (int)M, (int)N, (int)K, 0, 0, as);
    }
}

static int64_t qmm_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    int64_t batch, M, N, K;
    int bb;
    if (wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb))
        return 0;
    return 2 * batch * M * N * K;
}

/* Packed B of QGemm and QLinearMatMul: packed[0] = max |b - zb|, then b - zb as floats (K, N)
 * (exact: codes), the direct kernel's layout. b: B's codes stored (N, K) when tb, else (K, N);
 * zb per column when zcol. NULL where the direct kernel does not take (M, N, K). */
float *wf_pack_codes(const wf_tensor *b, const wf_tensor *bzp, int tb) {
    if (b->rank != 2 || (b->dtype != WF_DTYPE_INT8 && b->dtype != WF_DTYPE_UINT8))
        return NULL;
    int64_t K = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
    if (K > INT32_MAX || N > INT32_MAX || !wf_k_gemm_direct_applies(1, (int)N, (int)K))
        return NULL;
    int zcol = bzp && wf_numel(bzp) > 1;
    if (zcol && wf_numel(bzp) != N)
        return NULL;
    float *p = malloc((size_t)(1 + K * N) * sizeof(float));
    if (p)
        p[0] = (float)wf_codes_kn(p + 1, b->data, b->dtype, bzp ? bzp->data : NULL, zcol, tb, K, N);
    return p;
}

/* acc (M, N) = (A - za) @ (B - zb) through the direct kernel from packed B (wf_pack_codes) when
 * the sums stay below 2^24 (then exact, as qgemm_acc's); returns 0 otherwise (acc untouched).
 * fa, fc: M K and M N floats of scratch. */
int wf_packed_codes_sums(float *fc, const void *a, wf_dtype da, int32_t za, const float *packed,
                         int64_t M, int64_t N, int64_t K, float *fa) {
    int32_t amax = wf_codes_to_float(fa, a, da, za, (size_t)(M * K));
    return (double)K * (double)amax * (double)packed[0] < 16777216.0 &&
           wf_k_gemm_direct(fc, fa, packed + 1, 0, NULL, (int)M, (int)N, (int)K, 0, NULL);
}

int wf_packed_codes_acc(int32_t *acc, const void *a, wf_dtype da, int32_t za, const float *packed,
                        int64_t M, int64_t N, int64_t K, float *fa, float *fc) {
    if (!wf_packed_codes_sums(fc, a, da, za, packed, M, N, K, fa))
        return 0;
    for (int64_t i = 0; i < M * N; i++)
        acc[i] = (int32_t)fc[i];
    return 1;
}

static float *qmm_pack(const wf_node *n, wf_tensor *const *in) {
    (void)n;
    return in[3]->rank == 2 ? wf_pack_codes(in[3], in[5], 0) : NULL;
}

/* qmm_fwd with B packed once (wf_pack_codes); the same bytes. */
static int qmm_fwd_packed(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          const float *packed, int relu, void *s) {
    (void)n, (void)relu;
    if (in[3]->rank != 2)
        return 0; /* B per slice: never packed (qmm_pack) */
    qmm_run(in, out, s, packed);
    return 1;
}

const wf_op_packing wf_pack_qlinear_matmul = {qmm_pack, qmm_fwd_packed};

const wf_opdef wf_op_qlinear_matmul = {"QLinearMatMul", qmm_check, qmm_shape, qmm_fwd,
                                       qmm_bwd,         0,         qmm_flops};

/* ---- QLinearConv ---- */
static wf_status qconv_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 8 || n->n_in > 9 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 8 or 9 inputs and 1 output");
    wf_status s = qlinear_check_types(n, vals, 0, 3, 6, err);
    if (!s)
        s = wf_check_dtype(n, vals, 8, WF_DT_BIT(WF_DTYPE_INT32), err);
    if (s)
        return s;
    return wf_window_attrs(n, err);
}

static wf_status qconv_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    for (int i = 0; i < in[0]->rank; i++)
        if (in[0]->dims[i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_SHAPE, n, "dimension too large");
    wf_k_conv_geom g;
    if (wf_conv_geom(n, in[0], in[3], &g))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "x (N, C, *in) and w (M, C/group, *k) do not fit together");
    if (wf_numel(in[1]) != 1 || wf_numel(in[6]) != 1 || (in[2] && wf_numel(in[2]) != 1) ||
        (in[7] && wf_numel(in[7]) != 1))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "x and y must be quantized per tensor");
    if (wf_numel(in[4]) != 1 && wf_numel(in[4]) != g.cout)
        return wf_node_error(err, WF_ERR_SHAPE, n, "w_scale has %lld values for %d channels",
                             (long long)wf_numel(in[4]), g.cout);
    if (n->n_in > 8 && in[8] && wf_numel(in[8]) != g.cout)
        return wf_node_error(err, WF_ERR_SHAPE, n, "B has %lld values for %d channels",
                             (long long)wf_numel(in[8]), g.cout);
    out[0]->rank = in[0]->rank;
    out[0]->dims[0] = g.n;
    out[0]->dims[1] = g.cout;
    for (int i = 0; i < g.ndim; i++)
        out[0]->dims[2 + i] = g.out[i];
    /* backward: dequantized w, float output gradient, conv backward scratch */
    *scratch =
        ((size_t)wf_numel(in[3]) + (size_t)wf_numel(out[0]) + wf_k_conv_backward_scratch_size(&g)) *
        sizeof(float);
    return wf_check_numel(n, out[0], err);
}

static void qconv_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[3], &g);
    wf_k_qparam xq, wq, yq;
    qp_simple(&xq, in[1], in[2], in[0]->dtype);
    qp_simple(&wq, in[4], in[5], in[3]->dtype);
    qp_simple(&yq, in[6], in[7], out[0]->dtype);
    const int32_t *bias = n->n_in > 8 && in[8] ? in[8]->data : NULL;
    wf_k_qlinear_conv(out[0]->data, in[0]->data, in[3]->data, bias, &xq, &wq, &yq, &g);
}

static void qconv_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    if (!gin[0])
        return;
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[3], &g);
    size_t nw = (size_t)wf_numel(in[3]), no = (size_t)wf_numel(out[0]);
    float *wf = s, *gy = wf + nw, *cs = gy + no;
    const float *ws = in[4]->data;
    size_t per = nw / (size_t)g.cout;
    const void *wzp = in[5] ? in[5]->data : NULL;
    int per_ch = wf_numel(in[4]) > 1, zp_ch = in[5] && wf_numel(in[5]) > 1;
    for (size_t i = 0; i < nw; i++) {
        size_t co = i / per;
        wf[i] = dq_one(in[3]->data, in[3]->dtype, i, wzp, zp_ch ? co : 0, ws[per_ch ? co : 0]);
    }
    float ys = ((const float *)in[6]->data)[0], xs = ((const float *)in[1]->data)[0];
    for (size_t i = 0; i < no; i++)
        gy[i] = q_inside(out[0]->data, out[0]->dtype, i) ? gout[0][i] / ys * xs : 0.0f;
    wf_k_conv_backward_input(gin[0], gy, wf, &g, cs);
}

static int64_t qconv_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    int64_t kk = 1;
    for (int i = 1; i < in[3]->rank; i++)
        kk *= in[3]->dims[i];
    return 2 * wf_numel(out[0]) * kk;
}

const wf_opdef wf_op_qlinear_conv = {"QLinearConv", qconv_check, qconv_shape, qconv_fwd,
                                     qconv_bwd,     0,           qconv_flops};
