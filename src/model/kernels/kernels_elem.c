/*
 * Per-element and per-axis kernels: BatchNormalization (inference), Softmax, Sigmoid, Tanh, Relu,
 * LeakyRelu, ReduceMean and Pad, forward and backward w.r.t. the data input.
 *
 * Transcendentals are evaluated in double and rounded once to float, so results are within one
 * float ulp of the exact value (ONNX Runtime's vectorized approximations are within a few ulps).
 */
#include <math.h>

#include "core/clones.h"
#include "model/kernels/kernels.h"

/* ---------------------------------------------------------------------------------------------
 * BatchNormalization
 * ------------------------------------------------------------------------------------------- */

void wf_k_batchnorm_forward(float *out, const float *in, const float *scale, const float *bias,
                            const float *mean, const float *var, float eps, size_t n, size_t c,
                            size_t s) {
    for (size_t ch = 0; ch < c; ch++) {
        double a = (double)scale[ch] / sqrt((double)var[ch] + (double)eps);
        double b = (double)bias[ch] - (double)mean[ch] * a;
        for (size_t i = 0; i < n; i++) {
            const float *x = in + (i * c + ch) * s;
            float *y = out + (i * c + ch) * s;
            for (size_t k = 0; k < s; k++) {
                y[k] = (float)((double)x[k] * a + b);
            }
        }
    }
}

void wf_k_batchnorm_backward(float *din, const float *dout, const float *scale, const float *var,
                             float eps, size_t n, size_t c, size_t s) {
    for (size_t ch = 0; ch < c; ch++) {
        double a = (double)scale[ch] / sqrt((double)var[ch] + (double)eps);
        for (size_t i = 0; i < n; i++) {
            const float *dy = dout + (i * c + ch) * s;
            float *dx = din + (i * c + ch) * s;
            for (size_t k = 0; k < s; k++) {
                dx[k] += (float)((double)dy[k] * a);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Softmax along the middle axis of (outer, len, inner)
 * ------------------------------------------------------------------------------------------- */

void wf_k_softmax_forward(float *out, const float *in, size_t outer, size_t len, size_t inner) {
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < inner; i++) {
            const float *x = in + o * len * inner + i;
            float *y = out + o * len * inner + i;
            float mx = -INFINITY;
            for (size_t j = 0; j < len; j++) {
                if (x[j * inner] > mx) {
                    mx = x[j * inner];
                }
            }
            double sum = 0.0;
            for (size_t j = 0; j < len; j++) {
                sum += exp((double)x[j * inner] - (double)mx);
            }
            for (size_t j = 0; j < len; j++) {
                y[j * inner] = (float)(exp((double)x[j * inner] - (double)mx) / sum);
            }
        }
    }
}

void wf_k_softmax_backward(float *din, const float *dout, const float *y, size_t outer, size_t len,
                           size_t inner) {
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < inner; i++) {
            size_t base = o * len * inner + i;
            double dot = 0.0;
            for (size_t j = 0; j < len; j++) {
                dot += (double)dout[base + j * inner] * (double)y[base + j * inner];
            }
            for (size_t j = 0; j < len; j++) {
                size_t e = base + j * inner;
                din[e] += (float)((double)y[e] * ((double)dout[e] - dot));
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Elementwise activations
 * ------------------------------------------------------------------------------------------- */

void wf_k_sigmoid_forward(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = (double)in[i];
        /* exp of a non-positive argument only: no overflow for large |x|. */
        if (x >= 0.0) {
            out[i] = (float)(1.0 / (1.0 + exp(-x)));
        } else {
            double e = exp(x);
            out[i] = (float)(e / (1.0 + e));
        }
    }
}

void wf_k_sigmoid_backward(float *din, const float *dout, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double s = (double)y[i];
        din[i] += (float)((double)dout[i] * s * (1.0 - s));
    }
}

void wf_k_tanh_forward(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[i] = (float)tanh((double)in[i]);
    }
}

void wf_k_tanh_backward(float *din, const float *dout, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double t = (double)y[i];
        din[i] += (float)((double)dout[i] * (1.0 - t * t));
    }
}

/* The in-place and the separate-buffer cases are split, and the loops blocked by 8, so that
 * GCC vectorizes them at -O2: its "very cheap" cost model adds neither runtime alias checks nor
 * scalar epilogues, so it needs non-aliasing pointers and a fixed inner trip count. */
#define WF_K_BLOCK 8

/* AVX2 clones of the ReLU loops (core/clones.h: the same select per element, 8 lanes) */
WF_CLONES("avx2")
static void relu_inplace(float *p, size_t n) {
    size_t i = 0;
    for (; i + WF_K_BLOCK <= n; i += WF_K_BLOCK) {
        for (int k = 0; k < WF_K_BLOCK; k++) {
            p[i + k] = p[i + k] > 0.0f ? p[i + k] : 0.0f;
        }
    }
    for (; i < n; i++) {
        p[i] = p[i] > 0.0f ? p[i] : 0.0f;
    }
}

WF_CLONES("avx2")
static void relu_copy(float *restrict out, const float *restrict in, size_t n) {
    size_t i = 0;
    for (; i + WF_K_BLOCK <= n; i += WF_K_BLOCK) {
        for (int k = 0; k < WF_K_BLOCK; k++) {
            out[i + k] = in[i + k] > 0.0f ? in[i + k] : 0.0f;
        }
    }
    for (; i < n; i++) {
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    }
}

void wf_k_relu_forward(float *out, const float *in, size_t n) {
    if (out == in) {
        relu_inplace(out, n);
    } else {
        relu_copy(out, in, n);
    }
}

/* A select instead of a branch (random signs mispredict half the time), blocks of 8 so that
 * it vectorises: din keeps its bits where x <= 0 (no + 0.0f, which would turn -0 into +0). */
WF_CLONES("avx2")
void wf_k_relu_backward(float *restrict din, const float *restrict dout, const float *restrict x,
                        size_t n) {
    size_t i = 0;
    for (; i + WF_K_BLOCK <= n; i += WF_K_BLOCK) {
        for (int k = 0; k < WF_K_BLOCK; k++) {
            float d = din[i + k];
            din[i + k] = x[i + k] > 0.0f ? d + dout[i + k] : d;
        }
    }
    for (; i < n; i++) {
        if (x[i] > 0.0f) {
            din[i] += dout[i];
        }
    }
}

void wf_k_relu_backward_naive(float *din, const float *dout, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (x[i] > 0.0f) {
            din[i] += dout[i];
        }
    }
}

static void leaky_inplace(float *p, float alpha, size_t n) {
    size_t i = 0;
    for (; i + WF_K_BLOCK <= n; i += WF_K_BLOCK) {
        for (int k = 0; k < WF_K_BLOCK; k++) {
            p[i + k] = p[i + k] >= 0.0f ? p[i + k] : alpha * p[i + k];
        }
    }
    for (; i < n; i++) {
        p[i] = p[i] >= 0.0f ? p[i] : alpha * p[i];
    }
}

static void leaky_copy(float *restrict out, const float *restrict in, float alpha, size_t n) {
    size_t i = 0;
    for (; i + WF_K_BLOCK <= n; i += WF_K_BLOCK) {
        for (int k = 0; k < WF_K_BLOCK; k++) {
            out[i + k] = in[i + k] >= 0.0f ? in[i + k] : alpha * in[i + k];
        }
    }
    for (; i < n; i++) {
        out[i] = in[i] >= 0.0f ? in[i] : alpha * in[i];
    }
}

void wf_k_leaky_relu_forward(float *out, const float *in, float alpha, size_t n) {
    if (out == in) {
        leaky_inplace(out, alpha, n);
    } else {
        leaky_copy(out, in, alpha, n);
    }
}

void wf_k_leaky_relu_backward(float *din, const float *dout, const float *x, float alpha,
                              size_t n) {
    for (size_t i = 0; i < n; i++) {
        din[i] += x[i] >= 0.0f ? dout[i] : alpha * dout[i];
    }
}

/* ---------------------------------------------------------------------------------------------
 * ReduceMean over the middle axis of (outer, reduce, inner)
 * ------------------------------------------------------------------------------------------- */

void wf_k_reduce_mean_forward(float *out, const float *in, size_t outer, size_t reduce,
                              size_t inner) {
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < inner; i++) {
            const float *x = in + o * reduce * inner + i;
            double acc = 0.0;
            for (size_t r = 0; r < reduce; r++) {
                acc += (double)x[r * inner];
            }
            out[o * inner + i] = reduce > 0 ? (float)(acc / (double)reduce) : NAN;
        }
    }
}

void wf_k_reduce_mean_backward(float *din, const float *dout, size_t outer, size_t reduce,
                               size_t inner) {
    if (reduce == 0) {
        return;
    }
    for (size_t o = 0; o < outer; o++) {
        for (size_t r = 0; r < reduce; r++) {
            float *dx = din + (o * reduce + r) * inner;
            const float *dy = dout + o * inner;
            for (size_t i = 0; i < inner; i++) {
                dx[i] += (float)((double)dy[i] / (double)reduce);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Pad
 * ------------------------------------------------------------------------------------------- */

/* Input coordinate read by output coordinate o on an axis of n input cells with `begin` cells of
 * padding before it, or -1 for a constant cell. */
static long long pad_src(long long o, long long begin, long long n, wf_k_pad_mode mode) {
    long long i = o - begin;
    if (i >= 0 && i < n) {
        return i;
    }
    switch (mode) {
    case WF_K_PAD_EDGE:
        return i < 0 ? 0 : n - 1;
    case WF_K_PAD_REFLECT: {
        if (n == 1) {
            return 0;
        }
        /* Reflection is periodic with period 2(n - 1): 0 1 .. n-1 n-2 .. 1 0 1 .. */
        long long period = 2 * (n - 1);
        long long m = i % period;
        if (m < 0) {
            m += period;
        }
        return m < n ? m : period - m;
    }
    case WF_K_PAD_CONSTANT:
    default:
        return -1;
    }
}

int wf_k_pad_shape(int *out_shape, const int *in_shape, const int *pads, int ndim,
                   wf_k_pad_mode mode) {
    if (ndim < 0 || ndim > WF_K_PAD_MAX_DIMS) {
        return -1;
    }
    for (int d = 0; d < ndim; d++) {
        long long o = (long long)in_shape[d] + pads[d] + pads[ndim + d];
        if (in_shape[d] < 0 || o < 0 || o > 0x7fffffff) {
            return -1;
        }
        if (mode != WF_K_PAD_CONSTANT && in_shape[d] == 0 && o > 0) {
            return -1;
        }
        out_shape[d] = (int)o;
    }
    return 0;
}

/* Walks every output cell in row-major order with the input cell it reads (none for a constant
 * cell). Forward (backward == 0): a = out, b = in, a[o] = b[src] or value.
 * Backward: a = din, b = dout, a[src] += b[o]. */
static void pad_walk(float *a, const float *b, const int *in_shape, const int *pads, int ndim,
                     wf_k_pad_mode mode, float value, int backward) {
    int out_shape[WF_K_PAD_MAX_DIMS];
    if (wf_k_pad_shape(out_shape, in_shape, pads, ndim, mode) != 0) {
        return;
    }
    size_t total = 1;
    long long in_stride[WF_K_PAD_MAX_DIMS];
    long long st = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = st;
        st *= in_shape[d];
        total *= (size_t)out_shape[d];
    }
    if (total == 0) {
        return;
    }
    int coord[WF_K_PAD_MAX_DIMS] = {0};
    int last = ndim - 1;
    for (size_t o = 0; o < total;) {
        /* Source offset from all axes but the last, or -1 when one of them reads a constant. */
        long long base = 0;
        for (int d = 0; d < last; d++) {
            long long s = pad_src(coord[d], pads[d], in_shape[d], mode);
            if (s < 0) {
                base = -1;
                break;
            }
            base += s * in_stride[d];
        }
        int len = ndim > 0 ? out_shape[last] : 1;
        for (int j = 0; j < len; j++, o++) {
            long long s = -1;
            if (base >= 0) {
                s = ndim > 0 ? pad_src(j, pads[last], in_shape[last], mode) : 0;
                if (s >= 0) {
                    s += base;
                }
            }
            if (!backward) {
                a[o] = s >= 0 ? b[s] : value;
            } else if (s >= 0) {
                a[s] += b[o];
            }
        }
        /* Advance the odometer over all axes but the last. */
        for (int d = last - 1; d >= 0; d--) {
            if (++coord[d] < out_shape[d]) {
                break;
            }
            coord[d] = 0;
        }
    }
}

void wf_k_pad_forward(float *out, const float *in, const int *in_shape, const int *pads, int ndim,
                      wf_k_pad_mode mode, float value) {
    pad_walk(out, in, in_shape, pads, ndim, mode, value, 0);
}

void wf_k_pad_backward(float *din, const float *dout, const int *in_shape, const int *pads,
                       int ndim, wf_k_pad_mode mode) {
    pad_walk(din, dout, in_shape, pads, ndim, mode, 0.0f, 1);
}
