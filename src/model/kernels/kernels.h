/*
 * whyflag: numeric kernels of the inference engine (forward and backward).
 *
 * Plain functions over float arrays in the style of llm.c: outputs first, then inputs, then sizes.
 * Every buffer's shape is given in the comment as (dim, dim, ...), row-major, contiguous.
 *
 * Contract shared by every kernel in this file:
 *  - No allocation. Kernels that need temporary memory take a `scratch` buffer whose size (in
 *    floats, or in bytes where stated) is returned by the matching `_scratch_size` function.
 *  - No threading, no global state, deterministic: the same inputs give the same bits. The caller
 *    parallelizes across windows (each thread with its own scratch). One exception: wf_k_gemm
 *    calls OpenBLAS, whose thread count the caller sets (see wf_k_gemm).
 *  - Backward kernels compute the gradient with respect to the DATA input only (weights never need
 *    gradients for Integrated Gradients) and ACCUMULATE into it (`din += ...`): the caller zeroes
 *    gradient buffers first. Backward kernels never modify dout.
 *  - Reductions (sums, dot products) accumulate in double unless stated otherwise; the fast GEMM
 *    path (OpenBLAS sgemm) accumulates in float, exactly like ONNX Runtime's MLAS.
 *  - Kernels do not validate their inputs (the engine checks shapes at load with proper error
 *    messages); the `_geom_finish` helpers return -1 for geometries that make no sense.
 *  - Output buffers never alias input buffers unless a function says so (the elementwise
 *    activations allow out == in).
 *
 * Naive references (`_naive`) sit beside every optimized kernel; tests/test_kernels*.c checks
 * that they agree and checks every backward against central finite differences in double.
 *
 * Non-goals: training (no weight gradients), float16/bfloat16, int4/float8 quantization, more
 * than 2 spatial axes for Conv and pooling.
 */
#ifndef WF_MODEL_KERNELS_H
#define WF_MODEL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ================================================================================================
 * GEMM
 * ============================================================================================== */

/* C = alpha * op(A) @ op(B) + beta * C, row-major, contiguous.
 *   C: (M, N)
 *   A: (M, K), or (K, M) when transA (op(A) = A^T)
 *   B: (K, N), or (N, K) when transB
 * beta == 0 means C is write-only (NaN/garbage in C is not propagated), as in BLAS.
 * Fast path: cblas_sgemm (OpenBLAS; float accumulation, blocked order). OpenBLAS may use several
 * threads for large products: a caller that parallelizes across windows itself should call
 * wf_k_blas_set_threads(1) once. M, N or K may be 0 (K == 0 gives C = beta * C). */
void wf_k_gemm(float *C, const float *A, const float *B, int M, int N, int K, int transA,
               int transB, float alpha, float beta);

/* As wf_k_gemm with explicit leading dimensions (row strides, in elements) so that sub-matrices
 * can be used in place: lda >= (transA ? M : K), ldb >= (transB ? K : N), ldc >= N. */
void wf_k_gemm_ld(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                  int K, int transA, int transB, float alpha, float beta);

/* D (cols, rows) = S (rows, cols)^T: the layout change of weight packing (D and S apart). */
void wf_k_transpose(float *restrict D, const float *restrict S, int64_t rows, int64_t cols);

/* Reference: triple loop, each C element accumulated in double, then
 * C = (float)(alpha * sum + beta * C) (beta == 0: C ignored). Same shapes as wf_k_gemm. */
void wf_k_gemm_naive(float *C, const float *A, const float *B, int M, int N, int K, int transA,
                     int transB, float alpha, float beta);

/* Backward of C = alpha * op(A) @ op(B) w.r.t. A (the data input; B holds weights):
 *   dA += alpha * dC @ op(B)^T        (transA == 0; dA: (M, K))
 *   dA += alpha * (dC @ op(B)^T)^T    (transA == 1; dA: (K, M))
 *   dC: (M, N); B as in wf_k_gemm. Uses wf_k_gemm with beta = 1. */
void wf_k_gemm_backward_a(float *dA, const float *dC, const float *B, int M, int N, int K,
                          int transA, int transB, float alpha);

/* Backward w.r.t. B, for MatMul nodes whose second input is data (e.g. x @ W with x second):
 *   dB += alpha * op(A)^T @ dC  (transB == 0; dB: (K, N)), transposed when transB == 1. */
void wf_k_gemm_backward_b(float *dB, const float *dC, const float *A, int M, int N, int K,
                          int transA, int transB, float alpha);

/* Set the number of OpenBLAS threads (process-wide setting of the BLAS library, not ours). */
void wf_k_blas_set_threads(int n);
int wf_k_blas_get_threads(void);

/* ================================================================================================
 * Convolution (ONNX Conv), 1-D and 2-D spatial
 * ============================================================================================== */

#define WF_K_MAX_SPATIAL 2

/* Geometry of a convolution. The caller fills every field except out[], then calls
 * wf_k_conv_geom_finish. For ndim == 1 only index 0 of the spatial arrays is read.
 * Layouts:
 *   in:     (n, cin, *in)            e.g. (n, cin, T) or (n, cin, H, W)
 *   weight: (cout, cin/group, *k)
 *   bias:   (cout) or NULL
 *   out:    (n, cout, *out)
 * Padding is explicit (the engine resolves auto_pad SAME_UPPER/SAME_LOWER/VALID into
 * pad_begin/pad_end). Padded positions read as 0. */
typedef struct wf_k_conv_geom {
    int n;     /* batch (windows); the im2col scratch grows linearly with n */
    int cin;   /* input channels, divisible by group */
    int cout;  /* output channels, divisible by group */
    int group; /* >= 1 */
    int ndim;  /* number of spatial axes: 1 or 2 */
    int in[WF_K_MAX_SPATIAL];
    int k[WF_K_MAX_SPATIAL];
    int pad_begin[WF_K_MAX_SPATIAL];
    int pad_end[WF_K_MAX_SPATIAL];
    int stride[WF_K_MAX_SPATIAL];   /* >= 1 */
    int dilation[WF_K_MAX_SPATIAL]; /* >= 1 */
    int out[WF_K_MAX_SPATIAL];      /* set by wf_k_conv_geom_finish */
} wf_k_conv_geom;

/* out[i] = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1.
 * Returns 0, or -1 if a field is out of range or an output size would be < 1. */
int wf_k_conv_geom_finish(wf_k_conv_geom *g);

/* Floats of scratch needed by wf_k_conv_forward for geometry g (im2col buffer of one group plus
 * the GEMM output of all n windows). Linear in g->n: process big batches in chunks. */
size_t wf_k_conv_forward_scratch_size(const wf_k_conv_geom *g);

/* Fast path: im2col over all n windows, one sgemm per group, scatter + bias. */
void wf_k_conv_forward(float *out, const float *in, const float *weight, const float *bias,
                       const wf_k_conv_geom *g, float *scratch);
/* Conv followed by Relu (the engine fuses a Conv whose only reader is a Relu): the same values
 * as wf_k_conv_forward then wf_k_relu_forward, bit for bit, with the ReLU applied in the scatter
 * pass instead of another pass over memory. Reference: the naive conv, then the naive ReLU. */
void wf_k_conv_relu_forward(float *out, const float *in, const float *weight, const float *bias,
                            const wf_k_conv_geom *g, float *scratch);

/* The same by im2col + sgemm always (never the direct kernel): the path of processors without
 * AVX-512 and of other geometries, tested on its own. */
void wf_k_conv_forward_gemm(float *out, const float *in, const float *weight, const float *bias,
                            const wf_k_conv_geom *g, float *scratch);

/* Direct 1-D convolution (kernels_direct.c): AVX-512 register tiles, no im2col. Applies
 * when ndim == 1, cout/group is a multiple of 16, one group's padded input fits 8,192 floats and
 * the processor has AVX-512F. Returns 1 when it wrote out (bias, then max(., 0) when relu), 0
 * when it does not apply (out untouched). scratch: wf_k_conv1d_direct_scratch_size floats
 * (wf_k_conv_forward_scratch_size covers it). */
size_t wf_k_conv1d_direct_scratch_size(const wf_k_conv_geom *g);
int wf_k_conv1d_direct_applies(const wf_k_conv_geom *g);
int wf_k_conv1d_direct(float *out, const float *in, const float *weight, const float *bias,
                       const wf_k_conv_geom *g, float *scratch, int relu);
/* din += the input gradient by the same kernel over flipped, transposed weights: stride 1,
 * cin/group a multiple of 16, padding at most (k - 1) * dilation on each side. Returns 1 when it
 * did, 0 when it does not apply (din untouched). */
int wf_k_conv1d_direct_backward_applies(const wf_k_conv_geom *g);
int wf_k_conv1d_direct_backward_input(float *din, const float *dout, const float *weight,
                                      const wf_k_conv_geom *g, float *scratch);

/* GEMM with few output columns by the same register tiles (kernels_direct.c):
 *   y (M, N) = x (M, K) @ op(w) + bias, then max(., 0) when relu,
 * op(w) = w (K, N), or w^T for w (N, K) when trans_b; bias (N) or NULL. Applies when N is a
 * multiple of 16 up to 256, K is at most 1,024 and the processor has AVX-512F; returns 1 when it
 * wrote y, 0 when it does not apply. scratch: K * N floats when trans_b (the packed w^T), else
 * unused. Each row's values depend on that row only (acc = bias, then fma over k in order). */
int wf_k_gemm_direct_applies(int M, int N, int K);
/* Fewer than 16 columns with trans_b (w stored (N, K), a score layer: 32 -> 1; one column
 * either way, (K, 1) being (1, K)) take a dot
 * product per output instead (16 lanes over K, reduced, then the bias; scratch unused); this
 * says whether it applies (K at most 1,024, AVX-512F). */
int wf_k_gemm_dot_applies(int M, int N, int K);
int wf_k_gemm_direct(float *y, const float *x, const float *w, int trans_b, const float *bias,
                     int M, int N, int K, int relu, float *scratch);

/* Reference: direct loops, double accumulation. */
void wf_k_conv_forward_naive(float *out, const float *in, const float *weight, const float *bias,
                             const wf_k_conv_geom *g);

/* Floats of scratch needed by wf_k_conv_backward_input. */
size_t wf_k_conv_backward_scratch_size(const wf_k_conv_geom *g);

/* din += dConv/din^T dout: gather dout, one sgemm per group (W^T @ dout), col2im accumulate.
 *   din: (n, cin, *in), dout: (n, cout, *out), weight as in the forward. */
void wf_k_conv_backward_input(float *din, const float *dout, const float *weight,
                              const wf_k_conv_geom *g, float *scratch);
/* The same by sgemm + col2im always. */
void wf_k_conv_backward_input_gemm(float *din, const float *dout, const float *weight,
                                   const wf_k_conv_geom *g, float *scratch);

/* Reference: direct loops (scatter of every dout element through the kernel). */
void wf_k_conv_backward_input_naive(float *din, const float *dout, const float *weight,
                                    const wf_k_conv_geom *g);

/* ================================================================================================
 * Pooling (ONNX MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool), 1-D and 2-D
 * ============================================================================================== */

/* Geometry of a pooling. Fill every field except out[], then call wf_k_pool_geom_finish.
 *   in:  (n, c, *in)
 *   out: (n, c, *out)
 * For ndim == 1 only index 0 of the spatial arrays is read. */
typedef struct wf_k_pool_geom {
    int n, c;
    int ndim; /* 1 or 2 */
    int in[WF_K_MAX_SPATIAL];
    int k[WF_K_MAX_SPATIAL];
    int pad_begin[WF_K_MAX_SPATIAL];
    int pad_end[WF_K_MAX_SPATIAL];
    int stride[WF_K_MAX_SPATIAL];
    int dilation[WF_K_MAX_SPATIAL]; /* 1 unless set (MaxPool; AveragePool since opset 19) */
    int ceil_mode;                  /* 0: floor, 1: ceil in the output-size formula */
    int count_include_pad;          /* AveragePool only */
    int out[WF_K_MAX_SPATIAL];      /* set by wf_k_pool_geom_finish */
} wf_k_pool_geom;

/* out = (in + pad_begin + pad_end - dilation*(k-1) - 1) / stride + 1, rounded down, or up with
 * ceil_mode; with ceil_mode a last window that would start inside the end padding is dropped
 * (ONNX opset 19+ text, ONNX Runtime, PyTorch). Returns 0, or -1 if the geometry is invalid. */
int wf_k_pool_geom_finish(wf_k_pool_geom *g);

/* MaxPool. Padded positions are ignored (never selected). argmax (may be NULL): (n, c, *out),
 * the flat index inside the (n, c) input plane (h * W + w) of the FIRST maximum in scan order
 * (row-major over the window, as ONNX Runtime), or -1 when a window holds no input element
 * (then out = -FLT_MAX, the lowest float, as ONNX Runtime). */
void wf_k_maxpool_forward(float *out, int32_t *argmax, const float *in, const wf_k_pool_geom *g);
/* din[argmax] += dout. din: (n, c, *in); dout and argmax: (n, c, *out). */
void wf_k_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                           const wf_k_pool_geom *g);

/* AveragePool (double accumulation). Divisor: count_include_pad ? the number of window positions
 * inside the padded extent [-pad_begin, in + pad_end) : the number of real input elements. */
void wf_k_avgpool_forward(float *out, const float *in, const wf_k_pool_geom *g);
/* din += dout / divisor over each window's real input elements. */
void wf_k_avgpool_backward(float *din, const float *dout, const wf_k_pool_geom *g);

/* Global pools over the spatial extent s (product of spatial sizes) of nc = n * c planes.
 *   in: (nc, s), out: (nc), argmax: (nc) or NULL (first maximum). */
void wf_k_global_avgpool_forward(float *out, const float *in, size_t nc, size_t s);
/* Reference: one plane at a time (the fast one sums eight planes side by side, same bits). */
void wf_k_global_avgpool_forward_naive(float *out, const float *in, size_t nc, size_t s);
void wf_k_global_avgpool_backward(float *din, const float *dout, size_t nc, size_t s);
void wf_k_global_maxpool_forward(float *out, int32_t *argmax, const float *in, size_t nc, size_t s);
void wf_k_global_maxpool_backward(float *din, const float *dout, const int32_t *argmax, size_t nc,
                                  size_t s);

/* ================================================================================================
 * BatchNormalization (inference mode)
 * ============================================================================================== */

/* y = scale * (x - mean) / sqrt(var + eps) + bias, per channel.
 *   out, in: (n, c, s) with s = product of spatial sizes (1 for (n, c) inputs)
 *   scale, bias, mean, var: (c)
 * Computed as y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a in double. */
void wf_k_batchnorm_forward(float *out, const float *in, const float *scale, const float *bias,
                            const float *mean, const float *var, float eps, size_t n, size_t c,
                            size_t s);
/* din += dout * scale / sqrt(var + eps). */
void wf_k_batchnorm_backward(float *din, const float *dout, const float *scale, const float *var,
                             float eps, size_t n, size_t c, size_t s);

/* ================================================================================================
 * Softmax and elementwise activations
 * ============================================================================================== */

/* Softmax along one axis of a tensor viewed as (outer, len, inner): every (o, :, i) fiber sums to
 * 1. Max-subtracted, sums in double. out may not alias in. */
void wf_k_softmax_forward(float *out, const float *in, size_t outer, size_t len, size_t inner);
/* din += y * (dout - sum_j(dout_j * y_j)) along the axis; y = the forward output. */
void wf_k_softmax_backward(float *din, const float *dout, const float *y, size_t outer, size_t len,
                           size_t inner);

/* Elementwise over n values; out may equal in. Backward kernels take what they need:
 * sigmoid/tanh the forward OUTPUT y, relu/leaky_relu the forward INPUT x.
 *   sigmoid: y = 1 / (1 + exp(-x)) (stable for large |x|); dx += dy * y * (1 - y)
 *   tanh:    y = tanh(x);                                   dx += dy * (1 - y^2)
 *   relu:    y = max(x, 0);                                 dx += dy * (x > 0)
 *   leaky:   y = x >= 0 ? x : alpha * x;                    dx += dy * (x >= 0 ? 1 : alpha)
 * (The derivative at exactly 0 is taken from the right for leaky_relu, 0 for relu, as PyTorch.) */
void wf_k_sigmoid_forward(float *out, const float *in, size_t n);
void wf_k_sigmoid_backward(float *din, const float *dout, const float *y, size_t n);
void wf_k_tanh_forward(float *out, const float *in, size_t n);
void wf_k_tanh_backward(float *din, const float *dout, const float *y, size_t n);
void wf_k_relu_forward(float *out, const float *in, size_t n);
void wf_k_relu_backward(float *din, const float *dout, const float *x, size_t n);
/* Reference of wf_k_relu_backward (a branch per element; the fast one selects, same bits). */
void wf_k_relu_backward_naive(float *din, const float *dout, const float *x, size_t n);
void wf_k_leaky_relu_forward(float *out, const float *in, float alpha, size_t n);
void wf_k_leaky_relu_backward(float *din, const float *dout, const float *x, float alpha, size_t n);

/* ================================================================================================
 * ReduceMean
 * ============================================================================================== */

/* Mean over the middle axis of a tensor viewed as (outer, reduce, inner) -> (outer, inner).
 * Several adjacent axes reduce as one (their product); non-adjacent axes reduce one call at a
 * time (mean of means, exact in real arithmetic). Sums in double. reduce == 0 gives NaN (ONNX). */
void wf_k_reduce_mean_forward(float *out, const float *in, size_t outer, size_t reduce,
                              size_t inner);
/* din[o, r, i] += dout[o, i] / reduce. */
void wf_k_reduce_mean_backward(float *din, const float *dout, size_t outer, size_t reduce,
                               size_t inner);

/* ================================================================================================
 * Pad (ONNX Pad, data input only)
 * ============================================================================================== */

#define WF_K_PAD_MAX_DIMS 8

typedef enum wf_k_pad_mode {
    WF_K_PAD_CONSTANT = 0, /* padded cells = value */
    WF_K_PAD_REFLECT = 1,  /* mirror without repeating the edge: [a b c] -> b | a b c | b */
    WF_K_PAD_EDGE = 2      /* repeat the edge: a | a b c | c */
} wf_k_pad_mode;

/* Output shape: out_shape[d] = in_shape[d] + pads[d] + pads[ndim + d] (ONNX order: all begins,
 * then all ends). Negative pads crop. Returns 0, or -1 if ndim > WF_K_PAD_MAX_DIMS, an output
 * size is < 0, or REFLECT/EDGE is asked on an empty axis that must be padded. REFLECT with pads
 * >= the axis size keeps reflecting (numpy semantics); an axis of size 1 reflects as EDGE. */
int wf_k_pad_shape(int *out_shape, const int *in_shape, const int *pads, int ndim,
                   wf_k_pad_mode mode);
/* out: (out_shape), in: (in_shape), both ndim-D. */
void wf_k_pad_forward(float *out, const float *in, const int *in_shape, const int *pads, int ndim,
                      wf_k_pad_mode mode, float value);
/* din += the sum of dout over every output cell that reads din (constant cells read nothing). */
void wf_k_pad_backward(float *din, const float *dout, const int *in_shape, const int *pads,
                       int ndim, wf_k_pad_mode mode);

/* ================================================================================================
 * Quantization (ONNX QuantizeLinear, DequantizeLinear, QLinearMatMul, QLinearConv,
 * MatMulInteger), exactly as the ONNX specification and reference implementation compute it
 * ============================================================================================== */

typedef enum wf_k_qtype {
    WF_K_QTYPE_U8 = 0, /* uint8_t, range [0, 255] */
    WF_K_QTYPE_S8 = 1, /* int8_t, range [-128, 127] */
    WF_K_QTYPE_S32 = 2 /* int32_t: DequantizeLinear of biases only */
} wf_k_qtype;

/* Per-tensor or per-axis quantization parameters of one tensor. Per-axis tensors are viewed as
 * (outer, axis_len, inner) and element e uses index (e / inner) % axis_len of scale and zp. */
typedef struct wf_k_qparam {
    const float *scale; /* (1) per tensor, or (axis_len) per axis */
    const void *zp;     /* same count, element type `type`; NULL means zero point 0 */
    wf_k_qtype type;
    int per_axis; /* 0: scale[0], zp[0]; 1: per axis as stated by each function */
} wf_k_qparam;

/* The zero point for axis index a (index 0 per tensor; 0 without a zero point). */
static inline int32_t wf_k_qparam_zp(const wf_k_qparam *q, size_t a) {
    if (!q->zp)
        return 0;
    size_t k = q->per_axis ? a : 0;
    if (q->type == WF_K_QTYPE_S8)
        return ((const int8_t *)q->zp)[k];
    if (q->type == WF_K_QTYPE_S32)
        return ((const int32_t *)q->zp)[k];
    return ((const uint8_t *)q->zp)[k];
}

/* QuantizeLinear: y = saturate(round_half_to_even(x / scale) + zp), x / scale computed in float32
 * (as ONNX and ONNX Runtime), rounding with rintf under the default rounding mode. NaN maps to
 * zp. y: (outer, axis_len, inner) of q->type (U8 or S8); x: same shape. q->per_axis == 0 reads
 * scale[0]/zp[0] for all elements (pass outer = 1, axis_len = 1, inner = count). */
void wf_k_quantize(void *y, const float *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                   size_t inner);

/* DequantizeLinear: y = (float)(x - zp) * scale (integer subtraction, exact, then one float
 * multiply; x of q->type: U8, S8 or S32). Shapes as wf_k_quantize. */
void wf_k_dequantize(float *y, const void *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                     size_t inner);

/* The scalar references of wf_k_quantize and wf_k_dequantize (per element: rintf, a type switch
 * per read and write). The two above are loops the compiler vectorises, bit-identical to these
 * on every input (kernels_quant_fast.c says why; tests/test_kernels_quant_fast.c checks ties,
 * saturation, NaN, infinities and large values). */
void wf_k_quantize_ref(void *y, const float *x, const wf_k_qparam *q, size_t outer, size_t axis_len,
                       size_t inner);
void wf_k_dequantize_ref(float *y, const void *x, const wf_k_qparam *q, size_t outer,
                         size_t axis_len, size_t inner);

/* A QuantizeLinear -> DequantizeLinear pair in float (what the QDQ graph computes):
 *   y = (float)(saturate(rint(x / scale) + zp) - zp) * scale
 * and, when mask != NULL, the straight-through-estimator mask: mask[e] = 1 where
 * rint(x / scale) + zp lies inside the type's range (the gradient passes), 0 where it saturated
 * (or x is NaN). y, x, mask: (outer, axis_len, inner). q->type is U8 or S8. */
void wf_k_qdq_forward(float *y, uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                      size_t axis_len, size_t inner);
/* Only the STE mask (as wf_k_qdq_forward), for a graph that keeps the integer tensor. */
void wf_k_qdq_mask(uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                   size_t axis_len, size_t inner);
/* wf_k_qdq_mask as a loop a compiler vectorises (kernels_quant_fast.c), byte-identical to it
 * (test_kernels_quant_fast.c); int8 and uint8 (other types: the scalar one). */
void wf_k_qdq_mask_fast(uint8_t *mask, const float *x, const wf_k_qparam *q, size_t outer,
                        size_t axis_len, size_t inner);
/* y = DequantizeLinear(QuantizeLinear(Relu(x))) per tensor in one pass (q, dq: the two nodes'
 * parameters, S8 or U8): the floats of wf_k_relu_forward, wf_k_quantize, wf_k_dequantize in
 * turn. y, x: (n). */
void wf_k_relu_qdq(float *y, const float *x, const wf_k_qparam *q, const wf_k_qparam *dq, size_t n);
/* Straight-through backward: din[e] += mask[e] ? dout[e] : 0. */
void wf_k_ste_backward(float *din, const float *dout, const uint8_t *mask, size_t n);

/* MatMulInteger: y = (a - a_zp) @ (b - b_zp) in int32, exact (no overflow for K < 66051).
 *   y: (M, N) int32; a: (M, K) of a_type; b: (K, N) of b_type;
 *   a_zp: per tensor (1) or per row (M) when a_zp_per_row; b_zp: per tensor or per column (N).
 *   A NULL zero point is 0. */
void wf_k_matmul_integer(int32_t *y, const void *a, wf_k_qtype a_type, const void *a_zp,
                         int a_zp_per_row, const void *b, wf_k_qtype b_type, const void *b_zp,
                         int b_zp_per_col, int M, int N, int K);

/* Integer GEMM of the QDQ path (what ONNX Runtime's int8 kernels compute: uint8/int8 x int8,
 * int32 accumulation), exact:
 *   acc (M, N) int32 = (a - a_zp) @ op(b - b_zp)
 *   a: (M, K) of a_type, a_zp per tensor;
 *   b: (K, N), or (N, K) when transB (weights as stored by Gemm transB=1), of b_type;
 *   b_zp: per tensor (1) or per output column (N) when b_zp_per_col; NULL zero points are 0.
 * When K * max|a - a_zp| * max|b - b_zp| < 2^24 (uint8 x int8 up to K = 514) every partial sum
 * is an integer below 2^24, which float32 holds exactly in any summation order, so the product
 * runs through sgemm on the converted values; otherwise an int32 loop. Both are exact.
 * scratch: wf_k_qgemm_scratch_size(M, N, K) floats. */
size_t wf_k_qgemm_scratch_size(int M, int N, int K);
void wf_k_qgemm_s32(int32_t *acc, const void *a, wf_k_qtype a_type, const void *a_zp, const void *b,
                    wf_k_qtype b_type, const void *b_zp, int b_zp_per_col, int M, int N, int K,
                    int transB, float *scratch);

/* Dequantizes an int32 accumulator with a float bias, the float output of a QDQ Gemm:
 *   y[i, j] = (float)acc[i, j] * (a_scale * b_scale[j]) + bias[j]
 *   y, acc: (M, N); b_scale: (N) when b_per_col, else (1); bias: (N) or NULL.
 * The product a_scale * b_scale is formed in float32 first. */
void wf_k_qgemm_dequant(float *y, const int32_t *acc, float a_scale, const float *b_scale,
                        int b_per_col, const float *bias, int M, int N);

/* QLinearMatMul as ONNX Runtime computes it (MlasRequantizeOutput):
 *   acc = (a - a_zp) @ (b - b_zp) in int32 (exact)
 *   y = round_half_to_even(clamp(float(acc) * (a_scale * b_scale / y_scale), lo - y_zp,
 *       hi - y_zp)) + y_zp, the product in float32 (ONNX's numpy reference adds y_zp before
 *       rounding, in double: the two differ on ties)
 * with the multiplier formed in float32 in that order (see kernels_quant.c for the exact order).
 *   y: (M, N) of yq->type; a: (M, K); b: (K, N)
 *   aq: per tensor, or per row (M values) when aq->per_axis
 *   bq: per tensor, or per column (N values) when bq->per_axis
 *   yq: per tensor. */
void wf_k_qlinear_matmul(void *y, const void *a, const void *b, const wf_k_qparam *aq,
                         const wf_k_qparam *bq, const wf_k_qparam *yq, int M, int N, int K);

/* QLinearConv: padded x cells hold x_zp (contribute 0),
 *   acc[co] = sum (x - x_zp) * (w - w_zp[co]) + bias[co]   (int32, exact)
 *   y = the requantization of acc with x_scale * w_scale[co] / y_scale as QLinearMatMul's
 *       (ONNX Runtime's order: round, then add y_zp)
 *   y: (n, cout, *out) of yq->type; x: (n, cin, *in) of xq->type; w: (cout, cin/group, *k) of
 *   wq->type; bias: (cout) int32 or NULL (already quantized with scale x_scale * w_scale).
 *   xq, yq: per tensor; wq: per tensor or per output channel (cout values) when wq->per_axis.
 * Direct loops (quantized conv is not on a hot path). */
void wf_k_qlinear_conv(void *y, const void *x, const void *w, const int32_t *bias,
                       const wf_k_qparam *xq, const wf_k_qparam *wq, const wf_k_qparam *yq,
                       const wf_k_conv_geom *g);

#endif
