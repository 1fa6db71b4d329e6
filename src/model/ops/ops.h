/*
 * The op definitions of src/model/ops/, one family per file (shape rule, forward, backward side
 * by side), gathered into the table in optable.c.
 */
#ifndef WF_MODEL_OPS_H
#define WF_MODEL_OPS_H

#include "core/clones.h"
#include "model/model_impl.h"

extern const wf_opdef wf_op_add, wf_op_sub, wf_op_mul, wf_op_div;
extern const wf_opdef wf_op_relu, wf_op_leaky_relu, wf_op_sigmoid, wf_op_tanh;
extern const wf_opdef wf_op_identity, wf_op_dropout;
extern const wf_opdef wf_op_flatten, wf_op_reshape, wf_op_squeeze, wf_op_unsqueeze;
extern const wf_opdef wf_op_transpose, wf_op_concat, wf_op_pad;
extern const wf_opdef wf_op_gemm, wf_op_matmul;
extern const wf_opdef wf_op_softmax, wf_op_reduce_mean;
extern const wf_opdef wf_op_conv, wf_op_maxpool, wf_op_avgpool, wf_op_gavgpool, wf_op_gmaxpool;
extern const wf_opdef wf_op_batchnorm;
/* Conv and Gemm with the Relu that alone reads their output fused in (engine.c decides; the
 * Relu node is then skipped and its output aliases theirs). */
void wf_op_conv_relu_forward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             void *s);
/* Packed path (issue 12) of an op whose second and later inputs are weights: when every input
 * but the first is constant (an initializer or a value folded once per engine), the engine
 * calls pack once, with the node's inputs bound, and keeps what it returns (malloc'd floats in
 * the op's own layout; NULL: no packed path for this node); forward then runs the node from it
 * and returns 1, or returns 0 and the node runs its usual way. relu: the node's fused Relu. */
typedef struct wf_op_packing {
    float *(*pack)(const wf_node *n, wf_tensor *const *in);
    int (*forward)(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                   const float *packed, int relu, void *scratch);
} wf_op_packing;
/* The packed path of op, or NULL (Gemm, QGemm and QLinearMatMul have one). */
const wf_op_packing *wf_op_packing_of(const wf_opdef *op);
extern const wf_op_packing wf_pack_gemm, wf_pack_qgemm, wf_pack_qlinear_matmul;
extern const wf_opdef wf_op_qgemm;
/* Shared by the packed QGemm and QLinearMatMul (ops_qlinear_ms.c): B's codes minus their zero
 * point as floats (K, N) after packed[0] = max |b - zb|; and the exact int32 sums from them by
 * the direct kernel, 0 when the sums could reach 2^24 or the kernel does not apply. */
float *wf_pack_codes(const wf_tensor *b, const wf_tensor *bzp, int tb);
int wf_packed_codes_sums(float *fc, const void *a, wf_dtype da, int32_t za, const float *packed,
                         int64_t M, int64_t N, int64_t K, float *fa);
int wf_packed_codes_acc(int32_t *acc, const void *a, wf_dtype da, int32_t za, const float *packed,
                        int64_t M, int64_t N, int64_t K, float *fa, float *fc);

/* ONNX Runtime's requantization (qelem.h wf_requant_elem) of M rows of N int32 sums a with
 * multipliers mj[j] into codes of type dy with zero point zy (QGemm, QLinearMatMul). */
void wf_requant_rows(void *y, wf_dtype dy, const int32_t *a, const float *mj, int32_t zy, int64_t M,
                     int64_t N);
/* Slice q of a QLinearMatMul with B shared: its exact sums (A - za) @ (B - zb) as floats in the
 * op's scratch s, through B packed by wf_pack_codes when packed is not NULL; NULL when a sum
 * could reach 2^24 (float would round it). ops_quant.c */
const float *wf_qmm_float_sums(wf_tensor *const *in, const float *packed, int64_t q, void *s);
/* QLinearMatMul's requantization multipliers mj[j] = a_scale b_scale[j] / y_scale (float32) from
 * its inputs (only the scales are read). ops_quant.c */
void wf_qmm_multipliers(wf_tensor *const *in, int64_t N, float *mj);
/* QLinearAdd's operands in ONNX Runtime's order (ops_qlinear_ms.c): *x the one multiplied by
 * *rx, *t the one whose term is tabled, inner[c] = that term with the fixed part for t's code c
 * (only for t's own codes when t is a scalar or a row shorter than 256); returns 1 when t is a
 * scalar or a row of y's last axis and x covers y. y: the output's shape. */
int wf_qadd_terms(const wf_node *n, wf_tensor *const *in, const wf_tensor *y, const wf_tensor **x,
                  const wf_tensor **t, float *rx, float inner[256]);

/* ---- the fused QOperator tail (ops_qtail.c) ----
 * QLinearMatMul -> QLinearAdd (a constant bias) -> DequantizeLinear -> QuantizeLinear (each
 * part after the matmul optional, at least one), consecutive nodes, as one pass from the
 * matmul's exact sums to the last node's codes; the intermediate values are not written. */
typedef struct wf_qtail wf_qtail;
/* The tail headed by node j of m, or NULL when node j heads none (or out of memory). */
wf_qtail *wf_qtail_new(const wf_model *m, int j);
void wf_qtail_free(wf_qtail *t);
int wf_qtail_last(const wf_qtail *t);  /* the last node it covers */
int wf_qtail_value(const wf_qtail *t); /* the value it writes (that node's output) */
/* y (the tail's value, n codes) from the matmul's n sums (rows of N) as floats, exact integers
 * of magnitude at most 2^24 */
void wf_qtail_run(const wf_qtail *t, const float *sums, int64_t n, void *y);
/* The head's forward through its tail into y: the sums from B packed by wf_pack_codes (or
 * from B's codes when packed is NULL), in the head's scratch; 0 when a sum could reach 2^24. */
int wf_qtail_forward(const wf_qtail *t, wf_tensor *const *in, const float *packed, void *y,
                     void *scratch);

void wf_op_gemm_relu_forward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             void *s);
/* ops_fold.c, ops_math.c, ops_norm.c, ops_rnn.c, ops_convt.c */
extern const wf_opdef wf_op_shape, wf_op_size, wf_op_gather, wf_op_slice, wf_op_constant_of_shape;
extern const wf_opdef wf_op_cast, wf_op_range, wf_op_expand, wf_op_equal, wf_op_where;
extern const wf_opdef wf_op_erf, wf_op_sqrt, wf_op_exp, wf_op_log, wf_op_abs, wf_op_neg;
extern const wf_opdef wf_op_reciprocal, wf_op_clip, wf_op_hard_sigmoid, wf_op_hard_swish;
extern const wf_opdef wf_op_softplus, wf_op_elu, wf_op_selu, wf_op_pow, wf_op_prelu;
extern const wf_opdef wf_op_min, wf_op_max;
extern const wf_opdef wf_op_reduce_max, wf_op_reduce_min, wf_op_reduce_sum;
extern const wf_opdef wf_op_reduce_sum_square, wf_op_reduce_l2;
extern const wf_opdef wf_op_layer_norm, wf_op_instance_norm, wf_op_log_softmax;
extern const wf_opdef wf_op_gru, wf_op_lstm, wf_op_conv_transpose;
extern const wf_opdef wf_op_less, wf_op_greater, wf_op_less_equal, wf_op_greater_equal;
extern const wf_opdef wf_op_and, wf_op_or, wf_op_not, wf_op_argmax, wf_op_argmin;
extern const wf_opdef wf_op_split, wf_op_tile, wf_op_resize, wf_op_upsample;
extern const wf_opdef wf_op_quantize, wf_op_dequantize, wf_op_qlinear_matmul, wf_op_qlinear_conv;
extern const wf_opdef wf_op_qlinear_add;
/* ops_qinteger.c: dynamic quantization */
extern const wf_opdef wf_op_dynamic_quantize, wf_op_matmul_integer, wf_op_conv_integer;

/* The ops added for issue 10 (optable10.c): lookup, and their names for messages. */
const wf_opdef *wf_op_find10(const char *op_type);
#define WF_OPS10_LIST                                                                              \
    "Shape, Size, Gather, Slice, ConstantOfShape, Cast, Range, Expand, Equal, Where, Erf, Sqrt, "  \
    "Exp, Log, Abs, Neg, Reciprocal, Clip, HardSigmoid, HardSwish, Softplus, Elu, Selu, Pow, "     \
    "PRelu, Min, Max, ReduceMax, ReduceMin, ReduceSum, ReduceSumSquare, ReduceL2, "                \
    "LayerNormalization, InstanceNormalization, LogSoftmax, GRU, LSTM, ConvTranspose, Less, "      \
    "Greater, LessOrEqual, GreaterOrEqual, Not, And, Or, ArgMax, ArgMin, Split, Tile, Resize, "    \
    "Upsample"

/* GRU/LSTM per-row reference kernels (ops_rnn.c), for the test against the batched path. */
void wf_rnn_forward_naive(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s);
void wf_rnn_backward_naive(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           float *const *gin, float *const *gout, void *s);

/* Backward of an op whose output aliases its input (data and gradient): nothing to do. */
void wf_nop_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, float *const *gin,
                float *const *gout, void *s);

/* Conv/pool attributes into n->p (ops_conv.c). */
wf_status wf_window_attrs(wf_node *n, wf_error *err);
struct wf_k_conv_geom;
/* Conv geometry for x: (N, C, *in) and w: (M, C/group, *k); 0, or < 0 when it does not fit. */
int wf_conv_geom(const wf_node *n, const wf_tensor *x, const wf_tensor *w,
                 struct wf_k_conv_geom *g);

/* Softmax and LogSoftmax (ops_misc.c): one float input and output, n->p.axis from "axis" (default
 * -1 from opset 13, else 1); the geometry (outer, len, inner) around the axis (before opset 13 the
 * input coerced to 2-D there: len takes every axis from it on), -1 when the axis is out of range;
 * the shape check that says so (the output has the input's shape). */
wf_status wf_softmax_check(wf_node *n, wf_value *vals, wf_error *err);
int wf_softmax_geom(const wf_node *n, const wf_tensor *t, size_t *outer, size_t *len,
                    size_t *inner);
wf_status wf_softmax_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err);

/* MatMul geometry of A: (.., M, K) and B: (K, N) shared or (.., K, N) with A's leading dims; 0, or
 * -1 when they do not fit (ops_quant.c; QLinearMatMul and MatMulInteger). */
int wf_matmul_geom(const wf_tensor *a, const wf_tensor *b, int64_t *batch, int64_t *M, int64_t *N,
                   int64_t *K, int *b_batched);

/* Element loops of the quantized ops (QLinearAdd, the QLinearMatMul and QGemm requantization,
 * the codes' conversion to float) are compiled twice where GCC supports target_clones on x86-64
 * Linux: for the baseline and for x86-64-v3 (AVX2 and FMA: fmaf() is one instruction there
 * instead of a libm call, rint/rintf one rounding instruction, and the loops vectorise). fmaf is
 * correctly rounded either way, rint rounds half to even in both, no lane depends on another and
 * nothing else is contracted (ISO C mode), so both clones write the same bytes.
 * -DWF_OPS_NO_CLONES builds the baseline only (to test it on a machine that has x86-64-v3). */
#ifdef WF_OPS_NO_CLONES
#define WF_OPS_CLONES
#else
#define WF_OPS_CLONES WF_CLONES2("arch=x86-64-v4", "arch=x86-64-v3")
#endif

/* dst = x - zp over n int8/uint8 codes, as floats (exact); returns max |x - zp| (ops_quant.c). */
int32_t wf_codes_to_float(float *restrict dst, const void *src, wf_dtype d, int32_t zp, size_t n);
/* fb (K, N) = b - zb as floats (exact) whichever way b is stored (tb: (N, K)), zb one value or,
 * when zcol, one per column (NULL: 0); b and zp of type db. Returns max |b - zb|. The B side of
 * QGemm's and QLinearMatMul's exact sums and of their packed B (ops_quant.c). */
int32_t wf_codes_kn(float *restrict fb, const void *b, wf_dtype db, const void *zp, int zcol,
                    int tb, int64_t K, int64_t N);

/* The requantization of QLinearMatMul (one (M, N) slice, ops_quant.c) and of QGemm (v: its int32
 * sums with the bias C added, ops_qlinear_ms.c) from their exact int32 accumulators, as their
 * forward runs it; mj, scj: N floats of scratch; in: the node's inputs (scales and zero points
 * are read, not A or B). The first-layer shortcut (affine_qop.c) requantizes summed partials
 * with them. */
void wf_qmm_requant(wf_tensor *const *in, const int32_t *acc, int64_t M, int64_t N, void *y,
                    wf_dtype dy, float *mj);
void wf_qgemm_requant(const wf_node *n, wf_tensor *const *in, const int32_t *v, int64_t M,
                      int64_t N, void *y, wf_dtype dy, float *scj);

/* The Reduce* ops' axes (red[i] = 1 for a reduced input axis; the axes attribute or input, no
 * axes meaning all unless noop_with_empty_axes) and output shape (keepdims), with a double
 * accumulator per output value as scratch (common.c). */
wf_status wf_reduce_axes(const wf_node *n, wf_tensor *const *in, int *red, wf_error *err);
wf_status wf_reduce_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err);

#endif
