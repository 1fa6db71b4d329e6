/*
 * The com.microsoft quantized ops ONNX Runtime's quantizer emits (QOperator format): QGemm,
 * QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool,
 * QLinearAveragePool, QLinearConcat; uint8 and int8 tensors, per-tensor scales (QGemm: per
 * tensor or per column of B). Only these ops of the domain load (wf_op_find_ms).
 *
 * The arithmetic is ONNX Runtime's CPU kernels' (onnxruntime/contrib_ops/cpu/quantization and
 * the MLAS routines they call on x86-64 with AVX2/FMA), reproduced operation by operation in
 * float32 so the bytes agree (tests/test_engine_int8ms.c against onnxruntime-node 1.30.0):
 * - QLinearAdd (MLAS AVX2): ra = sa / sc, rb = sb / sc, fixed = zc - (ra za + rb zb) (products
 *   rounded, then the sum), c = fma(a, ra, fma(b, rb, fixed)); a scalar operand is folded into
 *   the fixed part first (ONNX Runtime swaps the operands when A is the scalar).
 * - QLinearMul (MLAS SSE2): c = float((a - za)(b - zb)) * (sa sb / sc) + zc, no fma.
 * - Rounding as cvtps2dq (half to even; out of range and NaN give INT32_MIN), then the pack
 *   instructions' saturation to int16 and to the 8-bit type.
 * - QLinearSigmoid, QLinearLeakyRelu, QLinearConcat: a 256-entry table over every byte value:
 *   v = sx * (x - zx), f(v) (the logistic as MLAS's FMA3 kernel: Eigen's rational polynomial
 *   on x clamped to [-18, 18]; LeakyRelu v >= 0 ? v : alpha v; identity), then QuantizeLinear
 *   with (sy, zy). A Concat input with the output's scale and zero point is copied.
 * - QLinearGlobalAveragePool (and QLinearAveragePool whose kernel covers the whole unpadded
 *   image, as ONNX Runtime routes it): acc = sum x - zx n (int32), y = rint(float(acc) * (sx /
 *   (sy * n))) clamped, + zy.
 * - QLinearAveragePool: dequantize, sum in float in window order, divide by the count (the kernel
 *   size with count_include_pad), y = saturate(nearbyint(v / sy + zy)).
 * - QGemm: int32 acc = C + sum (a - za)(b - zb[n]) (exact), scale[n] = alpha sa sb[n] (/ sy);
 *   quantized: rint(clamp(float(acc) * scale)) + zy; float output: float(acc) * scale.
 *
 * Backward is the straight-through surrogate (as ops_quant.c): each op is differentiated as its
 * float equivalent on the dequantized values, gradients carried in the integer tensors' own
 * units (d loss / d q), zero where the output saturated (q at the type's limit).
 * Non-goals: channels_last pools, QGemm with a per-row or non-constant layout beyond 2-D, other
 * com.microsoft ops (the loader names them).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/bcast.h"
#include "model/ops/ops.h"
#include "model/kernels/qelem.h"

/* ---- helpers ---- */

static const wf_tensor *opt(wf_tensor *const *in, const wf_node *n, int i) {
    return i < n->n_in ? in[i] : NULL;
}

static int32_t q8(const void *p, wf_dtype d, size_t i) {
    return d == WF_DTYPE_INT8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

static int32_t zp_of(const wf_tensor *z, wf_dtype d) {
    return z && z->data ? q8(z->data, d, 0) : 0;
}

static int32_t lo_of(wf_dtype d) {
    return d == WF_DTYPE_INT8 ? -128 : 0;
}

static int32_t hi_of(wf_dtype d) {
    return d == WF_DTYPE_INT8 ? 127 : 255;
}

static void put8(void *p, wf_dtype d, size_t i, int32_t v) {
    v = v < lo_of(d) ? lo_of(d) : v > hi_of(d) ? hi_of(d) : v;
    if (d == WF_DTYPE_INT8)
        ((int8_t *)p)[i] = (int8_t)v;
    else
        ((uint8_t *)p)[i] = (uint8_t)v;
}

/* cvtps2dq: round half to even under the default mode; NaN and out of range give INT32_MIN */
static int32_t cvtps(float f) {
    if (!(f >= -2147483648.0f && f < 2147483648.0f))
        return INT32_MIN;
    return (int32_t)rintf(f);
}

/* packssdw then packsswb/packuswb: int32 -> int16 -> 8-bit, saturating each time */
static void pack_store(void *p, wf_dtype d, size_t i, int32_t v) {
    v = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
    put8(p, d, i, v);
}

/* 1 where q is strictly inside the type's range (the STE mask of a quantized output) */
static int inside(const void *y, wf_dtype d, size_t i) {
    int32_t v = q8(y, d, i);
    return v > lo_of(d) && v < hi_of(d);
}

static float scal(const wf_tensor *t) {
    return ((const float *)t->data)[0];
}

/* Scale and zero-point inputs at idx (scale, zp) must hold one value (ONNX Runtime's rule). */
static wf_status need_scalar(const wf_node *n, wf_tensor *const *in, int idx, const char *what,
                             wf_error *err) {
    const wf_tensor *s = opt(in, n, idx), *z = opt(in, n, idx + 1);
    if (!s || wf_numel(s) != 1 || (z && wf_numel(z) != 1))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "%s must be quantized per tensor (one scale and zero point)", what);
    return WF_OK;
}

/* q (of dtype d, at idx) with scale at idx + 1 and zero point at idx + 2 */
static wf_status check_q(wf_node *n, wf_value *vals, int idx, int zp_required, wf_error *err) {
    if (idx + 1 >= n->n_in || n->in[idx] < 0 || n->in[idx + 1] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "input %d or its scale is missing", idx);
    if (zp_required && (idx + 2 >= n->n_in || n->in[idx + 2] < 0))
        return wf_node_error(err, WF_ERR_PARSE, n, "the zero point of input %d is missing", idx);
    wf_status s = wf_check_dtype(n, vals, idx, WF_DT_Q8, err);
    if (!s)
        s = wf_check_dtype(n, vals, idx + 1, WF_DT_FLOATONLY, err);
    if (!s && idx + 2 < n->n_in && n->in[idx + 2] >= 0 &&
        vals[n->in[idx + 2]].dtype != vals[n->in[idx]].dtype)
        s = wf_node_error(err, WF_ERR_PARSE, n, "the zero point of input %d differs in dtype", idx);
    return s;
}

/* y_scale at ys and y_zero_point at ys + 1 of the same dtype as input 0; sets the output */
static wf_status check_y(wf_node *n, wf_value *vals, int ys, wf_dtype d, wf_error *err) {
    if (ys >= n->n_in || n->in[ys] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "the output scale is missing");
    wf_status s = wf_check_dtype(n, vals, ys, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    if (ys + 1 < n->n_in && n->in[ys + 1] >= 0 && vals[n->in[ys + 1]].dtype != d)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "the output zero point is %s, the input %s (one type for both)",
                             wf_dtype_name(vals[n->in[ys + 1]].dtype), wf_dtype_name(d));
    vals[n->out[0]].dtype = d;
    return WF_OK;
}

/* ---- QLinearAdd / QLinearMul ---- */

static wf_status qbin_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 7 || n->n_in > 8 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 7 or 8 inputs and 1 output");
    wf_status s = check_q(n, vals, 0, 0, err);
    if (!s)
        s = check_q(n, vals, 3, 0, err);
    if (!s && vals[n->in[0]].dtype != vals[n->in[3]].dtype)
        s = wf_node_error(err, WF_ERR_PARSE, n, "A and B differ in dtype");
    if (!s)
        s = check_y(n, vals, 6, vals[n->in[0]].dtype, err);
    return s;
}

static wf_status qbin_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    *scratch = 0;
    wf_status s = need_scalar(n, in, 1, "A", err);
    if (!s)
        s = need_scalar(n, in, 4, "B", err);
    if (!s)
        s = need_scalar(n, in, 6, "C", err);
    if (!s)
        s = wf_broadcast_shape(n, in[0], in[3], out[0], err);
    return s ? s : wf_check_numel(n, out[0], err);
}

/* How ONNX Runtime's broadcaster hands the elements to the kernel: 1 A is a scalar within each
 * span, 2 B is, 0 both vary (the innermost output axis longer than 1 decides). */
static int span_kind(const wf_tensor *a, const wf_tensor *b, const wf_tensor *y) {
    if (wf_numel(a) == 1)
        return 1;
    if (wf_numel(b) == 1)
        return 2;
    for (int d = y->rank - 1; d >= 0; d--) {
        if (y->dims[d] == 1)
            continue;
        int ia = d - (y->rank - a->rank), ib = d - (y->rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        return da == 1 ? 1 : db == 1 ? 2 : 0;
    }
    return 0;
}

/* QLinearAdd over rows of n codes (stride st): y = saturate(cvtps(fma(x, rx, tj))), the packs'
 * saturation folded in (wf_qadd_elem). */
WF_OPS_CLONES static void qadd_rows(void *y, const void *x, wf_dtype d, const float *restrict tj,
                                    float rx, int64_t n, int64_t rows, int64_t st) {
    const float lo = (float)lo_of(d), hi = (float)hi_of(d);
    for (int64_t i = 0; i < rows; i++) {
        if (d == WF_DTYPE_INT8) {
            const int8_t *restrict a = (const int8_t *)x + i * st;
            int8_t *restrict o = (int8_t *)y + i * st;
            for (int64_t j = 0; j < n; j++)
                o[j] = (int8_t)(int32_t)wf_qadd_elem((float)a[j], rx, tj[j], lo, hi);
        } else {
            const uint8_t *restrict a = (const uint8_t *)x + i * st;
            uint8_t *restrict o = (uint8_t *)y + i * st;
            for (int64_t j = 0; j < n; j++)
                o[j] = (uint8_t)(int32_t)wf_qadd_elem((float)a[j], rx, tj[j], lo, hi);
        }
    }
}

int wf_qadd_terms(const wf_node *n, wf_tensor *const *in, const wf_tensor *y, const wf_tensor **xo,
                  const wf_tensor **to, float *rxo, float inner[256]) {
    wf_dtype d = in[0]->dtype;
    float sa = scal(in[1]), sb = scal(in[4]), sc = scal(in[6]);
    int32_t za = zp_of(opt(in, n, 2), d), zb = zp_of(opt(in, n, 5), d),
            zc = zp_of(opt(in, n, 7), d);
    float ra = sa / sc, rb = sb / sc;
    int kind = span_kind(in[0], in[3], y);
    /* the fixed part, terms in ONNX Runtime's operand order (B first when A is the scalar) */
    float pa = ra * (float)za, pb = rb * (float)zb;
    float fixed = kind == 1 ? (float)zc - (pb + pa) : (float)zc - (pa + pb);
    /* c = fma(a, ra, fma(b, rb, fixed)), or with a and b swapped when A is the scalar: the inner
     * fma takes one of 256 codes, so it is tabled once per call (the same fmaf values) */
    const wf_tensor *x = kind == 1 ? in[3] : in[0], *t = kind == 1 ? in[0] : in[3];
    float rt = kind == 1 ? ra : rb;
    *rxo = kind == 1 ? rb : ra;
    *xo = x;
    *to = t;
    int64_t total = wf_numel(y), N = y->rank ? y->dims[y->rank - 1] : 1;
    int64_t nt = wf_numel(t);
    int row =
        wf_numel(x) == total && (nt == 1 || (t->rank >= 1 && t->dims[t->rank - 1] == N && nt == N));
    /* the codes the terms need: t's own when it is a scalar or a row of fewer than 256 (a
     * bias: one fmaf per column, not 256 per call), else all 256 */
    unsigned char need[256];
    memset(need, nt < 256 && row ? 0 : 1, sizeof need);
    if (nt < 256 && row)
        for (int64_t j = 0; j < nt; j++)
            need[((const uint8_t *)t->data)[j]] = 1;
    for (int c = 0; c < 256; c++) {
        int32_t v = d == WF_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)c : c;
        inner[c] = need[c] ? fmaf((float)v, rt, fixed) : 0.0f;
    }
    return row;
}

static void qadd_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_dtype d = in[0]->dtype;
    const wf_tensor *x, *t;
    float rx, inner[256];
    int row = wf_qadd_terms(n, in, out[0], &x, &t, &rx, inner);
    int64_t total = wf_numel(out[0]), N = out[0]->rank ? out[0]->dims[out[0]->rank - 1] : 1;
    int64_t nt = wf_numel(t);
    if (row) { /* t: a scalar or one row (a bias) */
        /* per block of columns, the inner terms in a row (contiguous for the vectoriser) */
        const uint8_t *tb = t->data;
        float tj[256];
        size_t es = wf_dtype_size(d);
        if (N < 64 && total % N == 0) {
            /* short rows (a 32-wide layer, the 1-wide score): rows side by side as one row of
             * L = N * (256 / N) columns, the terms repeated, so each pass is long enough to
             * vectorise; the same values per element */
            int64_t L = N * (256 / N), rows = total / L, rest = total - rows * L;
            for (int64_t j = 0; j < L; j++)
                tj[j] = inner[tb[nt == 1 ? 0 : j % N]];
            if (rows)
                qadd_rows(out[0]->data, x->data, d, tj, rx, L, rows, L);
            if (rest)
                qadd_rows((char *)out[0]->data + (size_t)(rows * L) * es,
                          (const char *)x->data + (size_t)(rows * L) * es, d, tj, rx, rest, 1,
                          rest);
            return;
        }
        for (int64_t j0 = 0; j0 < N; j0 += 256) {
            int64_t nb = N - j0 < 256 ? N - j0 : 256;
            for (int64_t j = 0; j < nb; j++)
                tj[j] = inner[tb[nt == 1 ? 0 : j0 + j]];
            qadd_rows((char *)out[0]->data + (size_t)j0 * es,
                      (const char *)x->data + (size_t)j0 * es, d, tj, rx, nb, total / N, N);
        }
        return;
    }
    const wf_tensor *ops[2] = {x, t};
    wf_bc bc;
    wf_bc_init(&bc, out[0], ops, 2);
    for (int64_t i = 0; i < total; i++, wf_bc_next(&bc)) {
        float a = (float)q8(x->data, d, (size_t)bc.off[0]);
        float v = fmaf(a, rx, inner[((const uint8_t *)t->data)[bc.off[1]]]);
        pack_store(out[0]->data, d, (size_t)i, cvtps(v));
    }
}

static void qmul_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_dtype d = in[0]->dtype;
    float sa = scal(in[1]), sb = scal(in[4]), sc = scal(in[6]);
    int32_t za = zp_of(opt(in, n, 2), d), zb = zp_of(opt(in, n, 5), d),
            zc = zp_of(opt(in, n, 7), d);
    float ratio = sa * sb / sc, fz = (float)zc;
    const wf_tensor *ops[2] = {in[0], in[3]};
    wf_bc bc;
    wf_bc_init(&bc, out[0], ops, 2);
    int64_t total = wf_numel(out[0]);
    for (int64_t i = 0; i < total; i++, wf_bc_next(&bc)) {
        int32_t p = (q8(in[0]->data, d, (size_t)bc.off[0]) - za) *
                    (q8(in[3]->data, d, (size_t)bc.off[1]) - zb);
        pack_store(out[0]->data, d, (size_t)i, cvtps((float)p * ratio + fz));
    }
}

/* d c / d a = sa / sc (Add) or sa sb (b - zb) / sc (Mul), and symmetrically for b; summed over
 * broadcast axes; zero where c saturated. */
/* qbin_bwd's loop for an Add whose A covers the output and whose B takes no gradient (a bias):
 * ga[i] += (g[i] sa) / sc where y[i] is inside its range, the same operations per element. */
WF_OPS_CLONES static void qadd_bwd_a(float *restrict ga, const float *restrict g, const void *y,
                                     wf_dtype d, float sa, float sc, int64_t n) {
    int32_t lo = lo_of(d), hi = hi_of(d);
    if (d == WF_DTYPE_INT8) {
        const int8_t *restrict c = y;
        for (int64_t i = 0; i < n; i++)
            ga[i] = c[i] > lo && c[i] < hi ? ga[i] + g[i] * sa / sc : ga[i];
    } else {
        const uint8_t *restrict c = y;
        for (int64_t i = 0; i < n; i++)
            ga[i] = c[i] > lo && c[i] < hi ? ga[i] + g[i] * sa / sc : ga[i];
    }
}

static void qbin_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0] && !gin[3])
        return;
    int mul = n->op->name[7] == 'M';
    wf_dtype d = in[0]->dtype;
    float sa = scal(in[1]), sb = scal(in[4]), sc = scal(in[6]);
    int32_t za = zp_of(opt(in, n, 2), d), zb = zp_of(opt(in, n, 5), d);
    if (!mul && gin[0] && !gin[3] && wf_numel(in[0]) == wf_numel(out[0])) {
        qadd_bwd_a(gin[0], gout[0], out[0]->data, d, sa, sc, wf_numel(out[0]));
        return;
    }
    const wf_tensor *ops[2] = {in[0], in[3]};
    wf_bc bc;
    wf_bc_init(&bc, out[0], ops, 2);
    int64_t total = wf_numel(out[0]);
    for (int64_t i = 0; i < total; i++, wf_bc_next(&bc)) {
        if (!inside(out[0]->data, d, (size_t)i))
            continue;
        float g = gout[0][i];
        float av = sa * (float)(q8(in[0]->data, d, (size_t)bc.off[0]) - za);
        float bv = sb * (float)(q8(in[3]->data, d, (size_t)bc.off[1]) - zb);
        if (gin[0])
            gin[0][bc.off[0]] += g * (mul ? sa * bv : sa) / sc;
        if (gin[3])
            gin[3][bc.off[1]] += g * (mul ? sb * av : sb) / sc;
    }
}

static int64_t numel_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)in;
    return wf_numel(out[0]);
}

const wf_opdef wf_op_qlinear_add = {"QLinearAdd", qbin_check, qbin_shape, qadd_fwd,
                                    qbin_bwd,     0,          numel_flops};
const wf_opdef wf_op_qlinear_mul = {"QLinearMul", qbin_check, qbin_shape, qmul_fwd,
                                    qbin_bwd,     0,          numel_flops};

/* ---- lookup tables: QLinearSigmoid, QLinearLeakyRelu (and QLinearConcat) ---- */

/* MLAS's logistic (FMA3 kernel): Eigen's rational polynomial, fused multiply-adds. */
static float logistic_mlas(float x) {
    float v = x < -18.0f ? -18.0f : x; /* vmaxps(lower, x): x when NaN is not involved */
    v = v > 18.0f ? 18.0f : v;
    float x2 = v * v;
    float p = fmaf(x2, 4.37031012579801e-11f, 1.15627324459942e-07f);
    p = fmaf(x2, p, 6.08574864600143e-05f);
    p = fmaf(x2, p, 8.51377133304701e-03f);
    p = fmaf(x2, p, 2.48287947061529e-01f);
    float q = fmaf(x2, 6.10247389755681e-13f, 5.76102136993427e-09f);
    q = fmaf(x2, q, 6.29106785017040e-06f);
    q = fmaf(x2, q, 1.70198817374094e-03f);
    q = fmaf(x2, q, 1.16817656904453e-01f);
    q = fmaf(x2, q, 9.93151921023180e-01f);
    p = v * p;
    float r = p / q + 0.5f;
    return r > 0.0f ? r : 0.0f;
}

enum { TAB_SIGMOID = 0, TAB_LEAKY = 1, TAB_IDENTITY = 2 };

/* table[byte] = QuantizeLinear(f(sx * (x - zx)), sy, zy) for each of the 256 byte values x */
static void build_table(uint8_t *table, int fn, float alpha, wf_dtype d, float sx, int32_t zx,
                        float sy, const void *zy) {
    float v[256];
    for (int i = 0; i < 256; i++) {
        int32_t x = d == WF_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)i : i;
        float f = sx * (float)(x - zx);
        v[i] = fn == TAB_SIGMOID                 ? logistic_mlas(f)
               : fn == TAB_LEAKY && !(f >= 0.0f) ? alpha * f
                                                 : f;
    }
    wf_k_qparam q = {&sy, zy, d == WF_DTYPE_INT8 ? WF_K_QTYPE_S8 : WF_K_QTYPE_U8, 0};
    wf_k_quantize(table, v, &q, 1, 1, 256);
}

static wf_status qlut_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 4 || n->n_in > 5 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "needs inputs X, X_scale, X_zero_point, "
                             "Y_scale (and Y_zero_point)");
    n->p.alpha = wf_attr_float(n, "alpha", 0.01f);
    wf_status s = check_q(n, vals, 0, 0, err);
    return s ? s : check_y(n, vals, 3, vals[n->in[0]].dtype, err);
}

static wf_status qlut_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    *scratch = 256;
    wf_status s = need_scalar(n, in, 1, "X", err);
    if (!s)
        s = need_scalar(n, in, 3, "Y", err);
    if (s)
        return s;
    *out[0] = *in[0];
    out[0]->data = NULL;
    return WF_OK;
}

static void qlut_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    uint8_t *table = s;
    wf_dtype d = in[0]->dtype;
    const wf_tensor *yz = opt(in, n, 4);
    build_table(table, n->op->name[7] == 'S' ? TAB_SIGMOID : TAB_LEAKY, n->p.alpha, d, scal(in[1]),
                zp_of(opt(in, n, 2), d), scal(in[3]), yz ? yz->data : NULL);
    const uint8_t *x = in[0]->data;
    uint8_t *y = out[0]->data;
    int64_t total = wf_numel(in[0]);
    for (int64_t i = 0; i < total; i++)
        y[i] = table[x[i]];
}

/* d y / d x = sx / sy f'(v), v = sx (x - zx): the logistic's s (1 - s), LeakyRelu 1 or alpha */
static void qlut_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    wf_dtype d = in[0]->dtype;
    float sx = scal(in[1]), sy = scal(in[3]);
    int32_t zx = zp_of(opt(in, n, 2), d);
    int sig = n->op->name[7] == 'S';
    int64_t total = wf_numel(in[0]);
    for (int64_t i = 0; i < total; i++) {
        if (!inside(out[0]->data, d, (size_t)i))
            continue;
        double v = (double)sx * (double)(q8(in[0]->data, d, (size_t)i) - zx), fp;
        if (sig) {
            double e = 1.0 / (1.0 + exp(-v));
            fp = e * (1.0 - e);
        } else {
            fp = v >= 0.0 ? 1.0 : (double)n->p.alpha;
        }
        gin[0][i] += (float)((double)gout[0][i] * (double)sx / (double)sy * fp);
    }
}

const wf_opdef wf_op_qlinear_sigmoid = {"QLinearSigmoid", qlut_check, qlut_shape, qlut_fwd,
                                        qlut_bwd,         0,          numel_flops};
const wf_opdef wf_op_qlinear_leaky_relu = {"QLinearLeakyRelu", qlut_check, qlut_shape, qlut_fwd,
                                           qlut_bwd,           0,          numel_flops};

/* ---- QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input ---- */

static wf_status qcat_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 5 || (n->n_in - 2) % 3 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "needs Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per "
                             "input");
    n->p.axis = wf_attr_int(n, "axis", 0);
    wf_dtype d = vals[n->in[1]].dtype;
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_Q8, err);
    for (int i = 2; i < n->n_in && !s; i += 3) {
        s = check_q(n, vals, i, 1, err);
        if (!s && vals[n->in[i]].dtype != d)
            s = wf_node_error(err, WF_ERR_PARSE, n, "input %d is %s, the output %s", i,
                              wf_dtype_name(vals[n->in[i]].dtype), wf_dtype_name(d));
    }
    if (!s)
        vals[n->out[0]].dtype = d;
    return s;
}

static wf_status qcat_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    *scratch = 256;
    wf_status s = need_scalar(n, in, 0, "Y", err);
    const wf_tensor *x0 = in[2];
    int64_t ax = wf_norm_axis(n->p.axis, x0->rank);
    if (!s && ax < 0)
        s = wf_node_error(err, WF_ERR_SHAPE, n, "axis %lld is out of range for rank %d",
                          (long long)n->p.axis, x0->rank);
    if (s)
        return s;
    *out[0] = *x0;
    out[0]->data = NULL;
    out[0]->dims[ax] = 0;
    for (int i = 2; i < n->n_in; i += 3) {
        s = need_scalar(n, in, i + 1, "every input", err);
        if (s)
            return s;
        const wf_tensor *x = in[i];
        if (x->rank != x0->rank)
            return wf_node_error(err, WF_ERR_SHAPE, n, "inputs differ in rank");
        for (int k = 0; k < x->rank; k++)
            if (k != ax && x->dims[k] != x0->dims[k])
                return wf_node_error(err, WF_ERR_SHAPE, n, "input %d differs in dim %d", i, k);
        out[0]->dims[ax] += x->dims[ax];
    }
    return wf_check_numel(n, out[0], err);
}

static void cat_geom(const wf_node *n, const wf_tensor *y, int64_t *outer, int64_t *inner) {
    int64_t ax = wf_norm_axis(n->p.axis, y->rank);
    *outer = 1;
    *inner = 1;
    for (int k = 0; k < y->rank; k++) {
        if (k < ax)
            *outer *= y->dims[k];
        else if (k > ax)
            *inner *= y->dims[k];
    }
}

static int same_qparams(const wf_tensor *sx, const wf_tensor *zx, const wf_tensor *sy,
                        const wf_tensor *zy, wf_dtype d) {
    return scal(sx) == scal(sy) && zp_of(zx, d) == zp_of(zy, d);
}

static void qcat_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    uint8_t *table = s;
    wf_dtype d = out[0]->dtype;
    int64_t outer, inner, off = 0, ylen = out[0]->dims[wf_norm_axis(n->p.axis, out[0]->rank)];
    cat_geom(n, out[0], &outer, &inner);
    uint8_t *y = out[0]->data;
    for (int i = 2; i < n->n_in; i += 3) {
        const wf_tensor *x = in[i];
        int copy = same_qparams(in[i + 1], in[i + 2], in[0], in[1], d);
        if (!copy)
            build_table(table, TAB_IDENTITY, 0.0f, d, scal(in[i + 1]), zp_of(in[i + 2], d),
                        scal(in[0]), in[1]->data);
        int64_t len = x->dims[wf_norm_axis(n->p.axis, x->rank)] * inner;
        const uint8_t *xs = x->data;
        for (int64_t o = 0; o < outer; o++) {
            uint8_t *dst = y + (o * ylen * inner + off);
            const uint8_t *src = xs + o * len;
            for (int64_t k = 0; k < len; k++)
                dst[k] = copy ? src[k] : table[src[k]];
        }
        off += len;
    }
}

static void qcat_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)s;
    wf_dtype d = out[0]->dtype;
    int64_t outer, inner, off = 0, ylen = out[0]->dims[wf_norm_axis(n->p.axis, out[0]->rank)];
    cat_geom(n, out[0], &outer, &inner);
    float sy = scal(in[0]);
    for (int i = 2; i < n->n_in; i += 3) {
        const wf_tensor *x = in[i];
        int64_t len = x->dims[wf_norm_axis(n->p.axis, x->rank)] * inner;
        if (gin[i]) {
            float f = scal(in[i + 1]) / sy;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < len; k++) {
                    size_t e = (size_t)(o * ylen * inner + off + k);
                    if (inside(out[0]->data, d, e))
                        gin[i][o * len + k] += gout[0][e] * f;
                }
        }
        off += len;
    }
}

const wf_opdef wf_op_qlinear_concat = {"QLinearConcat", qcat_check, qcat_shape, qcat_fwd,
                                       qcat_bwd,        0,          numel_flops};

/* ---- QLinearGlobalAveragePool / QLinearAveragePool ---- */

static wf_status qpool_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 4 || n->n_in > 5 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "needs inputs X, x_scale, x_zero_point, "
                             "y_scale (and y_zero_point)");
    if (wf_attr_int(n, "channels_last", 0))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "channels_last=1 is not supported (NCHW only)");
    wf_status s = check_q(n, vals, 0, 0, err);
    if (!s)
        s = check_y(n, vals, 3, vals[n->in[0]].dtype, err);
    if (!s && n->op->name[7] == 'A') {
        s = wf_window_attrs(n, err);
        if (!s && !n->p.nsp)
            s = wf_node_error(err, WF_ERR_PARSE, n, "attribute kernel_shape is required");
        if (!s && (n->p.dil[0] != 1 || n->p.dil[1] != 1))
            s = wf_node_error(err, WF_ERR_UNSUPPORTED, n, "dilations are not supported");
    }
    return s;
}

/* pooling geometry of QLinearAveragePool (output sizes as AveragePool) */
static int qpool_geom(const wf_node *n, const wf_tensor *x, wf_k_pool_geom *g) {
    if (x->rank - 2 != n->p.nsp)
        return -1;
    memset(g, 0, sizeof *g);
    g->n = (int)x->dims[0];
    g->c = (int)x->dims[1];
    g->ndim = n->p.nsp;
    for (int i = 0; i < g->ndim; i++) {
        if (n->p.auto_pad)
            return -1;
        g->in[i] = (int)x->dims[2 + i];
        g->k[i] = (int)n->p.kernel[i];
        g->pad_begin[i] = (int)n->p.pads[i];
        g->pad_end[i] = (int)n->p.pads[2 + i];
        g->stride[i] = (int)n->p.strides[i];
        g->dilation[i] = 1;
    }
    g->ceil_mode = n->p.ceil_mode;
    g->count_include_pad = n->p.count_include_pad;
    return wf_k_pool_geom_finish(g);
}

/* ONNX Runtime routes a kernel covering the whole unpadded image to the global pool */
static int qpool_is_global(const wf_node *n, const wf_tensor *x) {
    if (n->op->name[7] == 'G')
        return 1;
    for (int i = 0; i < n->p.nsp; i++)
        if (n->p.kernel[i] != x->dims[2 + i] || n->p.pads[i] || n->p.pads[2 + i])
            return 0;
    return 1;
}

static wf_status qpool_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    *scratch = 0;
    wf_status s = need_scalar(n, in, 1, "X", err);
    if (!s)
        s = need_scalar(n, in, 3, "Y", err);
    if (s)
        return s;
    if (in[0]->rank < 3)
        return wf_node_error(err, WF_ERR_SHAPE, n, "input must be (N, C, spatial...), rank %d",
                             in[0]->rank);
    for (int i = 0; i < in[0]->rank; i++)
        if (in[0]->dims[i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_SHAPE, n, "dimension too large");
    *out[0] = *in[0];
    out[0]->data = NULL;
    if (n->op->name[7] == 'G') {
        for (int i = 2; i < in[0]->rank; i++)
            out[0]->dims[i] = 1;
    } else {
        wf_k_pool_geom g;
        if (qpool_geom(n, in[0], &g))
            return wf_node_error(err, WF_ERR_SHAPE, n,
                                 "the window does not fit the input (rank %d, kernel of %d "
                                 "dims; auto_pad is not supported)",
                                 in[0]->rank, n->p.nsp);
        for (int i = 0; i < g.ndim; i++)
            out[0]->dims[2 + i] = g.out[i];
    }
    return wf_check_numel(n, out[0], err);
}

static void gap_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    wf_dtype d = in[0]->dtype;
    size_t planes = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
    size_t img = (size_t)(wf_numel(in[0]) / (int64_t)(planes ? planes : 1));
    int32_t zx = zp_of(opt(in, n, 2), d), zy = zp_of(opt(in, n, 4), d);
    float scale = scal(in[1]) / (scal(in[3]) * (float)(int)img);
    float vmin = (float)(lo_of(d) - zy), vmax = (float)(hi_of(d) - zy);
    for (size_t p = 0; p < planes; p++) {
        int32_t acc = -zx * (int32_t)img;
        for (size_t k = 0; k < img; k++)
            acc += q8(in[0]->data, d, p * img + k);
        float v = (float)acc * scale;
        v = v > vmin ? v : vmin;
        v = v < vmax ? v : vmax;
        put8(out[0]->data, d, p, cvtps(v) + zy);
    }
}

/* window [start, end) of output position o along one axis, clipped to the image */
static void win(const wf_k_pool_geom *g, int ax, int o, int *s, int *e) {
    int st = o * g->stride[ax] - g->pad_begin[ax];
    int en = st + g->k[ax] < g->in[ax] ? st + g->k[ax] : g->in[ax];
    *s = st > 0 ? st : 0;
    *e = en;
}

static void qpool_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    if (qpool_is_global(n, in[0])) {
        gap_fwd(n, in, out);
        return;
    }
    wf_dtype d = in[0]->dtype;
    wf_k_pool_geom g;
    qpool_geom(n, in[0], &g);
    float sx = scal(in[1]), sy = scal(in[3]);
    int32_t zx = zp_of(opt(in, n, 2), d), zy = zp_of(opt(in, n, 4), d);
    int W = g.ndim == 2 ? g.in[1] : 1, OW = g.ndim == 2 ? g.out[1] : 1;
    int ksize = g.k[0] * (g.ndim == 2 ? g.k[1] : 1);
    size_t img = (size_t)g.in[0] * (size_t)W, oimg = (size_t)g.out[0] * (size_t)OW;
    for (size_t p = 0; p < (size_t)g.n * (size_t)g.c; p++)
        for (int oh = 0; oh < g.out[0]; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int hs, he, ws = 0, we = 1;
                win(&g, 0, oh, &hs, &he);
                if (g.ndim == 2)
                    win(&g, 1, ow, &ws, &we);
                float acc = 0.0f;
                for (int h = hs; h < he; h++)
                    for (int w = ws; w < we; w++)
                        acc += sx * (float)(q8(in[0]->data, d, p * img + (size_t)(h * W + w)) - zx);
                int cnt = g.count_include_pad ? ksize : (he - hs) * (we - ws);
                acc /= (float)cnt;
                int32_t v = (int32_t)nearbyintf(acc / sy + (float)zy);
                put8(out[0]->data, d, p * oimg + (size_t)(oh * OW + ow), v);
            }
}

/* d y / d x = sx / (sy count) for each x of a window (the global pool: count = the image) */
static void qpool_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    if (!gin[0])
        return;
    wf_dtype d = in[0]->dtype;
    float f = scal(in[1]) / scal(in[3]);
    size_t planes = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
    if (n->op->name[7] == 'G') {
        size_t img = (size_t)(wf_numel(in[0]) / (int64_t)(planes ? planes : 1));
        for (size_t p = 0; p < planes; p++)
            if (inside(out[0]->data, d, p))
                for (size_t k = 0; k < img; k++)
                    gin[0][p * img + k] += gout[0][p] * f / (float)img;
        return;
    }
    wf_k_pool_geom g;
    qpool_geom(n, in[0], &g);
    int W = g.ndim == 2 ? g.in[1] : 1, OW = g.ndim == 2 ? g.out[1] : 1;
    int ksize = g.k[0] * (g.ndim == 2 ? g.k[1] : 1);
    size_t img = (size_t)g.in[0] * (size_t)W, oimg = (size_t)g.out[0] * (size_t)OW;
    int global = qpool_is_global(n, in[0]);
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < g.out[0]; oh++)
            for (int ow = 0; ow < OW; ow++) {
                size_t o = p * oimg + (size_t)(oh * OW + ow);
                if (!inside(out[0]->data, d, o))
                    continue;
                int hs, he, ws = 0, we = 1;
                win(&g, 0, oh, &hs, &he);
                if (g.ndim == 2)
                    win(&g, 1, ow, &ws, &we);
                int cnt = g.count_include_pad && !global ? ksize : (he - hs) * (we - ws);
                float gv = gout[0][o] * f / (float)cnt;
                for (int h = hs; h < he; h++)
                    for (int w = ws; w < we; w++)
                        gin[0][p * img + (size_t)(h * W + w)] += gv;
            }
}

static int64_t qpool_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

const wf_opdef wf_op_qlinear_gavgpool = {
    "QLinearGlobalAveragePool", qpool_check, qpool_shape, qpool_fwd, qpool_bwd, 0, qpool_flops};
const wf_opdef wf_op_qlinear_avgpool = {
    "QLinearAveragePool", qpool_check, qpool_shape, qpool_fwd, qpool_bwd, 0, qpool_flops};

/* ---- QGemm: A, a_scale, a_zp, B, b_scale, b_zp, C (int32), y_scale, y_zp ---- */

static wf_status qgemm_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 6 || n->n_in > 9 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n,
                             "needs A, a_scale, a_zero_point, B, b_scale, b_zero_point (C, "
                             "y_scale, y_zero_point) and one output");
    n->p.alpha = wf_attr_float(n, "alpha", 1.0f);
    n->p.trans_a = (int)wf_attr_int(n, "transA", 0);
    n->p.trans_b = (int)wf_attr_int(n, "transB", 0);
    wf_status s = check_q(n, vals, 0, 1, err);
    if (!s)
        s = check_q(n, vals, 3, 1, err);
    if (!s)
        s = wf_check_dtype(n, vals, 6, WF_DT_BIT(WF_DTYPE_INT32), err);
    if (s)
        return s;
    wf_dtype da = vals[n->in[0]].dtype;
    if (n->n_in > 7 && n->in[7] >= 0)
        return check_y(n, vals, 7, da, err);
    if (n->n_in > 8 && n->in[8] >= 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "y_zero_point without y_scale");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static size_t qgemm_fwd_floats(int64_t M, int64_t K, int64_t N);

static int quantized_out(const wf_node *n, wf_tensor *const *in) {
    return opt(in, n, 7) != NULL;
}

static void qgemm_dims(const wf_node *n, wf_tensor *const *in, int64_t *M, int64_t *K, int64_t *N) {
    *M = in[0]->dims[n->p.trans_a ? 1 : 0];
    *K = in[0]->dims[n->p.trans_a ? 0 : 1];
    *N = in[3]->dims[n->p.trans_b ? 0 : 1];
}

static wf_status qgemm_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    if (in[0]->rank != 2 || in[3]->rank != 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "A and B must be matrices (ranks %d, %d)",
                             in[0]->rank, in[3]->rank);
    int64_t M, K, N;
    qgemm_dims(n, in, &M, &K, &N);
    if (in[3]->dims[n->p.trans_b ? 1 : 0] != K)
        return wf_node_error(err, WF_ERR_SHAPE, n, "A has K = %lld, B %lld", (long long)K,
                             (long long)in[3]->dims[n->p.trans_b ? 1 : 0]);
    wf_status s = need_scalar(n, in, 1, "A", err);
    if (!s && quantized_out(n, in))
        s = need_scalar(n, in, 7, "Y", err);
    if (s)
        return s;
    if ((wf_numel(in[4]) != 1 && wf_numel(in[4]) != N) || wf_numel(in[5]) != wf_numel(in[4]))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "b_scale and b_zero_point must hold 1 or N = %lld values each",
                             (long long)N);
    const wf_tensor *c = opt(in, n, 6);
    if (c) {
        int64_t cn = wf_numel(c);
        int ok = cn == 1 || (c->rank == 1 && cn == N) ||
                 (c->rank == 2 && ((c->dims[0] == 1 && c->dims[1] == N) ||
                                   (c->dims[0] == M && (c->dims[1] == 1 || c->dims[1] == N))));
        if (!ok)
            return wf_node_error(err, WF_ERR_SHAPE, n, "C does not broadcast to (%lld, %lld)",
                                 (long long)M, (long long)N);
    }
    out[0]->rank = 2;
    out[0]->dims[0] = M;
    out[0]->dims[1] = N;
    /* forward: the exact integer GEMM's scratch and the (M, N) accumulator; backward: scaled B
     * (K, N) and the output gradient (M, N) */
    size_t fwd = qgemm_fwd_floats(M, K, N) * sizeof(float) + (size_t)(M * N) * sizeof(int32_t);
    size_t bwd = (size_t)(K * N + M * N) * sizeof(float);
    *scratch = fwd > bwd ? fwd : bwd;
    return wf_check_numel(n, out[0], err);
}

static int32_t bias_at(const wf_tensor *c, int64_t m, int64_t j, int64_t N) {
    if (!c)
        return 0;
    const int32_t *v = c->data;
    int64_t cn = wf_numel(c);
    if (cn == 1)
        return v[0];
    if (c->rank == 1 || c->dims[0] == 1)
        return v[j];
    if (c->dims[1] == 1)
        return v[m];
    return v[m * N + j];
}

/* (x - zp) of a u8 or s8 tensor into floats (exact); returns max |x - zp| */
static int32_t to_float(float *dst, const void *src, wf_dtype d, int32_t zp, size_t count) {
    return wf_codes_to_float(dst, src, d, zp, count);
}

/* acc (M, N) = (A - za) @ op(B - zb), exact: when K max|a| max|b| < 2^24 every partial sum is an
 * integer float32 holds, so sgemm on the converted values is exact in any order (as
 * wf_k_qgemm_s32); else int32 loops. fs: M K + K N + M N floats. */
static void qgemm_acc(const wf_node *n, wf_tensor *const *in, int64_t M, int64_t K, int64_t N,
                      float *fs, int32_t *acc) {
    wf_dtype da = in[0]->dtype, db = in[3]->dtype;
    int32_t za = zp_of(in[2], da);
    int percol = wf_numel(in[5]) > 1, tb = n->p.trans_b;
    float *fa = fs, *fb = fa + M * K, *fc = fb + K * N;
    int32_t amax = to_float(fa, in[0]->data, da, za, (size_t)(M * K));
    /* fb is (K, N) whichever way B is stored: the direct kernel's layout */
    int32_t bmax = wf_codes_kn(fb, in[3]->data, db, in[5]->data, percol, tb, K, N);
    if ((double)K * (double)amax * (double)bmax < 16777216.0) {
        /* integer sums below 2^24: any order, any kernel, the same sums */
        if (n->p.trans_a || !wf_k_gemm_direct(fc, fa, fb, 0, NULL, (int)M, (int)N, (int)K, 0, NULL))
            wf_k_gemm(fc, fa, fb, (int)M, (int)N, (int)K, n->p.trans_a, 0, 1.0f, 0.0f);
        for (int64_t i = 0; i < M * N; i++)
            acc[i] = (int32_t)fc[i];
        return;
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < N; j++) {
            int32_t sum = 0;
            for (int64_t k = 0; k < K; k++)
                sum += (int32_t)fa[n->p.trans_a ? k * M + m : m * K + k] * (int32_t)fb[k * N + j];
            acc[m * N + j] = sum;
        }
}

static size_t qgemm_fwd_floats(int64_t M, int64_t K, int64_t N) {
    return (size_t)(M * K + K * N + M * N + 2 * N);
}

/* y (M, N) of QGemm from its int32 sums v = acc + C (the bias added): scale[j] = alpha sa sb[j]
 * (/ sy); quantized: rint(clamp(float(v) * scale)) + zy; float output: float(v) * scale. in: the
 * node's inputs (only scales and zero points are read); y of type dy; scj: N floats. */
void wf_qgemm_requant(const wf_node *n, wf_tensor *const *in, const int32_t *v, int64_t M,
                      int64_t N, void *y, wf_dtype dy, float *scj) {
    int percol = wf_numel(in[4]) > 1;
    const float *bs = in[4]->data;
    int q = quantized_out(n, in);
    int32_t zy = q ? zp_of(opt(in, n, 8), dy) : 0;
    for (int64_t j = 0; j < N; j++) {
        float sc = n->p.alpha * scal(in[1]) * bs[percol ? j : 0];
        scj[j] = q ? sc / scal(in[7]) : sc;
    }
    if (q) {
        wf_requant_rows(y, dy, v, scj, zy, M, N);
        return;
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < N; j++)
            ((float *)y)[m * N + j] = (float)v[m * N + j] * scj[j];
}

/* acc (M, N) += C, then the output (quantized or float) from it. scj, bj: N each of scratch. */
static void qgemm_finish(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                         int32_t *acc, float *scj, int32_t *bj, int64_t M, int64_t N) {
    const wf_tensor *c = opt(in, n, 6);
    int rowb = !c || wf_numel(c) == 1 || c->rank == 1 || c->dims[0] == 1; /* bias per column */
    for (int64_t j = 0; j < N; j++)
        bj[j] = rowb ? bias_at(c, 0, j, N) : 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < N; j++)
            acc[m * N + j] += rowb ? bj[j] : bias_at(c, m, j, N);
    wf_qgemm_requant(n, in, acc, M, N, out[0]->data, out[0]->dtype, scj);
}

/* The exact sums (through B packed by wf_pack_codes when packed is not NULL, A is not
 * transposed and the sums stay below 2^24, else qgemm_acc), then C and the output. */
static void qgemm_run(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s,
                      const float *packed) {
    int64_t M, K, N;
    qgemm_dims(n, in, &M, &K, &N);
    float *fs = s, *scj = fs + (M * K + K * N + M * N);
    int32_t *bj = (int32_t *)(void *)(scj + N), *acc = bj + N;
    if (!packed || n->p.trans_a ||
        !wf_packed_codes_acc(acc, in[0]->data, in[0]->dtype, zp_of(in[2], in[0]->dtype), packed, M,
                             N, K, fs, fs + M * K + K * N))
        qgemm_acc(n, in, M, K, N, fs, acc);
    qgemm_finish(n, in, out, acc, scj, bj, M, N);
}

static void qgemm_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    qgemm_run(n, in, out, s, NULL);
}

static float *qgemm_pack(const wf_node *n, wf_tensor *const *in) {
    if (n->p.trans_a)
        return NULL;
    return wf_pack_codes(in[3], in[5], n->p.trans_b);
}

static int qgemm_fwd_packed(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            const float *packed, int relu, void *s) {
    (void)relu;
    qgemm_run(n, in, out, s, packed);
    return 1;
}

const wf_op_packing wf_pack_qgemm = {qgemm_pack, qgemm_fwd_packed};

/* d y[m, j] / d a[m, k] = alpha sa sb[j] (b[k, j] - zb[j]) (/ sy), zero where y saturated */
static void qgemm_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    if (!gin[0])
        return;
    int64_t M, K, N;
    qgemm_dims(n, in, &M, &K, &N);
    wf_dtype db = in[3]->dtype;
    int percol = wf_numel(in[4]) > 1, q = quantized_out(n, in);
    const float *bs = in[4]->data;
    float *bf = s, *gy = bf + K * N; /* (K, N) scaled B, (M, N) masked output gradient */
    float *scj = gy;                 /* the column scales first (N <= M N) */
    if (M == 0)
        return;
    for (int64_t j = 0; j < N; j++) {
        float sc = n->p.alpha * scal(in[1]) * bs[percol ? j : 0];
        scj[j] = q ? sc / scal(in[7]) : sc;
    }
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) {
            size_t ib = (size_t)(n->p.trans_b ? j * K + k : k * N + j);
            int32_t zb = q8(in[5]->data, db, percol ? (size_t)j : 0);
            bf[k * N + j] = (float)(q8(in[3]->data, db, ib) - zb) * scj[j];
        }
    for (int64_t i = 0; i < M * N; i++)
        gy[i] = !q || inside(out[0]->data, out[0]->dtype, (size_t)i) ? gout[0][i] : 0.0f;
    wf_k_gemm_backward_a(gin[0], gy, bf, (int)M, (int)N, (int)K, n->p.trans_a, 0, 1.0f);
}

static int64_t qgemm_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    int64_t M, K, N;
    (void)out;
    qgemm_dims(n, in, &M, &K, &N);
    return 2 * M * K * N;
}

const wf_opdef wf_op_qgemm = {"QGemm",   qgemm_check, qgemm_shape, qgemm_fwd,
                              qgemm_bwd, 0,           qgemm_flops};

/* ---- the com.microsoft table ---- */

static const wf_opdef *const table_ms[] = {
    &wf_op_qgemm,           &wf_op_qlinear_add,        &wf_op_qlinear_mul,
    &wf_op_qlinear_sigmoid, &wf_op_qlinear_leaky_relu, &wf_op_qlinear_gavgpool,
    &wf_op_qlinear_avgpool, &wf_op_qlinear_concat,
};

const wf_opdef *wf_op_find_ms(const char *op_type) {
    for (size_t i = 0; i < sizeof table_ms / sizeof table_ms[0]; i++)
        if (!strcmp(table_ms[i]->name, op_type))
            return table_ms[i];
    return NULL;
}
