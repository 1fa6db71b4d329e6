/*
 * GRU and LSTM forward kernels for inference (one direction), structure-of-arrays over the batch:
 * the rows are processed in blocks of WF_K_RNN_BLOCK lanes (the rest of the batch in blocks of
 * 8), each lane one batch row, so that every gate loop runs over a fixed number of contiguous
 * lanes and the compiler vectorises it. Rows are
 * independent: a row's bits do not depend on the batch size, on the block it falls in or on the
 * other rows (no reduction runs across lanes), so any chunking of a batch over threads gives the
 * same result. The per-row reference (double dot products, libm expf/tanhf) is
 * wf_rnn_forward_naive in ops/ops_rnn.c; tests/test_kernels_rnn.c compares the two.
 *
 * Gate order as ONNX: GRU z, r, h; LSTM i, o, f, c. Default activations only (Sigmoid, Tanh,
 * Tanh). Products accumulate in float (bias + W x + R h), as ONNX Runtime's MLAS does.
 * Sigmoid and tanh go through a polynomial exp, not libm (measured against libm in double over
 * [-40, 40]: exp relative error 1.0e-7, sigmoid and tanh absolute error 8.9e-8; checked in
 * tests/test_kernels_rnn.c).
 */
#ifndef WF_MODEL_KERNELS_RNN_H
#define WF_MODEL_KERNELS_RNN_H

#include <stddef.h>
#include <stdint.h>

/* Lanes per full block. */
#define WF_K_RNN_BLOCK 64

typedef struct wf_k_rnn {
    int lstm;    /* 0: GRU (3 gates), 1: LSTM (4 gates) */
    int lbr;     /* GRU linear_before_reset */
    int reverse; /* steps from T - 1 down to 0 */
    int64_t T, B, I, H;
    const float *X; /* row (t, b) of I floats at X + t x_t + b x_b */
    int64_t x_t, x_b;
    const float *W, *R;   /* (G H, I), (G H, H) */
    const float *Wb, *Rb; /* (G H) each, or NULL */
    const float *h0, *c0; /* initial state of row b at + b s_b (H floats), or NULL (zeros) */
    int64_t s_b;
    float *Y; /* h after step t, row b at Y + t y_t + b y_b (H floats), or NULL */
    int64_t y_t, y_b;
    float *Yh, *Yc; /* final h and c of row b at + b s_b, or NULL */
} wf_k_rnn;

/* Workspace of wf_k_rnn_forward, in floats. */
size_t wf_k_rnn_ws_floats(int lstm, int64_t I, int64_t H);

/* One direction over every row; ws: wf_k_rnn_ws_floats floats. */
void wf_k_rnn_forward(const wf_k_rnn *p, float *ws);

/* Gradients for wf_k_rnn_backward, laid out as the forward's tensors (same strides): dY, dYh, dYc
 * the incoming gradients of Y, Y_h, Y_c (each may be NULL); dX, dh0, dc0 receive (+=) the
 * gradients of X and the initial states (each may be NULL). */
typedef struct wf_k_rnn_grad {
    const float *dY, *dYh, *dYc;
    float *dX, *dh0, *dc0;
} wf_k_rnn_grad;

/* Workspace of wf_k_rnn_backward, in floats. */
size_t wf_k_rnn_bwd_ws_floats(int lstm, int64_t T, int64_t I, int64_t H);

/* Back-propagation through time of one direction over every row: recomputes the forward of each
 * block of rows (storing its gates), then walks the steps in reverse. p->Y, p->Yh, p->Yc are not
 * written. Products in float; the per-row reference is wf_rnn_backward_naive (ops/ops_rnn.c). */
void wf_k_rnn_backward(const wf_k_rnn *p, const wf_k_rnn_grad *g, float *ws);

/* Elementwise, y may equal x (n values). The RNN kernels' activations, exposed for the tests. */
void wf_k_expf_vec(float *y, const float *x, size_t n);    /* x clamped to [-87, 87] */
void wf_k_sigmoid_vec(float *y, const float *x, size_t n); /* 1 / (1 + exp(-x)) */
void wf_k_tanh_vec(float *y, const float *x, size_t n);

#endif
