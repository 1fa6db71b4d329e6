/*
 * whyflag: the predictor interface, the only way the explain stage sees a model.
 *
 * A predictor maps a batch of windows x (n, C, T) (channel-major, the window layout, whatever the
 * model's own input layout is) to one score per window y (n). It may also give the gradient of the
 * score with respect to every cell, and, where the graph starts with an affine map, that map, so
 * that KernelSHAP can compute a coalition's first-layer pre-activation as a sum of per-player
 * partial products.
 *
 * Threads: `user` is shared and read-only. Each thread creates its own evaluation context with
 * ctx_new and uses it alone. src/model provides a predictor for an ONNX model
 * (wf_model_predictor); tests provide analytic ones.
 */
#ifndef WHYFLAG_PREDICTOR_H
#define WHYFLAG_PREDICTOR_H

#include <stdint.h>

#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_predictor {
    int C, T;   /* window shape */
    void *user; /* shared read-only state (the model) */

    /* Make a per-thread context able to evaluate batches of up to max_batch windows. */
    wf_status (*ctx_new)(void *user, int64_t max_batch, void **ctx, wf_error *err);
    void (*ctx_free)(void *ctx);

    /* y[i] = f(x[i]) for i < n <= max_batch. x: (n, C, T); y: (n). */
    wf_status (*predict)(void *ctx, const float *x, int64_t n, float *y, wf_error *err);

    /* y as above and dx = d f / d x: (n, C, T). NULL when the model is not differentiable. For a
     * quantized model this is the straight-through surrogate's gradient while y is the real
     * quantized output; `surrogate` then names the surrogate (NULL for float models). */
    wf_status (*grad)(void *ctx, const float *x, int64_t n, float *y, float *dx, wf_error *err);
    const char *surrogate;

    /* Optional affine first layer (all zero/NULL when the graph does not start with one):
     * h = A x + a0, with A: (hidden, C*T) over window cells (input normalization folded in),
     * a0: (hidden); predict_hidden maps pre-activations h: (n, hidden) to y: (n) with the rest of
     * the graph. Results must equal predict() up to float rounding of the affine map. A
     * QOperator first layer (QGemm, QLinearMatMul: src/model/affine_qop.c) is an integer map:
     * h holds its int32 sums, exact in float, and predict_hidden requantizes them as the op
     * does, so results equal predict() exactly. */
    int64_t hidden;
    const float *affine_a;  /* (hidden, C*T) */
    const float *affine_a0; /* (hidden) */
    wf_status (*predict_hidden)(void *ctx, const float *h, int64_t n, float *y, wf_error *err);
    /* NULL: A maps the window's cells x. Else A maps u = g(x): (n, C*T) window layout, where
     * each cell of u depends on the same cell of x only (a quantized model's input
     * normalization, QuantizeLinear and DequantizeLinear, as the deployed graph computes them),
     * so that masking cells commutes with g; h = A u + a0. */
    wf_status (*affine_input)(void *ctx, const float *x, int64_t n, float *u, wf_error *err);
    /* Optional (an affine first layer and grad): grad() cut at the first layer's pre-activation
     * h, for sums of gradients (Integrated Gradients). y as grad() for all n rows; rows
     * [0, n_grad) get a gradient: where hrow[i] = 1, dh (n, hidden) row i holds d f / d h and
     * row i's gradient is dx_i = J .* (A^T dh_i) with J the fixed per-cell derivative of
     * u = g(x) when no cell of g's QuantizeLinear saturates (J = 1 when A maps x); where
     * hrow[i] = 0 (a cell saturates on a row of its chunk), dx (n, C*T) row i holds the full
     * gradient as grad() gives it. hidden_to_input(dh, dx) gives J .* (A^T dh) in double
     * (dh: (hidden), dx: (C*T)) once grad_hidden set some hrow on that ctx. Sums over rows
     * taken on dh first equal the sums of grad()'s rows up to float rounding. */
    wf_status (*grad_hidden)(void *ctx, const float *x, int64_t n, int64_t n_grad, float *y,
                             float *dh, float *dx, uint8_t *hrow, wf_error *err);
    wf_status (*hidden_to_input)(void *ctx, const double *dh, double *dx, wf_error *err);
    /* Optional (grad_hidden where A maps the cells x themselves: affine_input NULL, a float
     * first layer): y (n) and dh = d f / d h (n, hidden) for pre-activations h: (n, hidden) given
     * directly, the rest of the graph run forward from h and backward to it. The first layer is
     * affine in x, so on a straight path x(a) = xb + a (x - xb) its pre-activation is
     * h(a) = h(xb) + a (h(x) - h(xb)): Integrated Gradients forms its rows from two first-layer
     * evaluations instead of one per node. Equal to grad_hidden on the rows x(a) up to float
     * rounding of the first layer. */
    wf_status (*grad_from_hidden)(void *ctx, const float *h, int64_t n, float *y, float *dh,
                                  wf_error *err);

    /* What the score is (set by the model's predictors; "" / -1 when unknown): the graph output,
     * its column for an [N, K] head, and what the graph says it is: "probability" (a Sigmoid or
     * Softmax produces it), "logit" (a Sigmoid or Softmax reads it to make another output), or
     * "unknown". */
    char output_name[128];
    int output_column;
    const char *output_kind;

    /* Frees `user` if the predictor owns it (NULL otherwise). */
    void (*user_free)(void *user);
} wf_predictor;

/* Release whatever the predictor owns (calls user_free). Accepts a zeroed predictor. */
void wf_predictor_deinit(wf_predictor *p);

#ifdef __cplusplus
}
#endif
#endif
