/*
 * wf_model_predictor: the model seen as a predictor over windows (n, C, T) channel-major.
 *
 * Adapts windows to the model's input layout ([N,C,T], [N,T,C] or [N,C*T]), evaluates in chunks
 * (bounded memory and cache-sized GEMMs), takes the first output as the score, and runs the
 * backward pass for gradients. Where the graph starts with an affine map (affine.c), it exposes
 * A (hidden, C*T) and a0 (hidden) and predict_hidden, which runs the rest of the graph from the
 * pre-activation.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "whyflag/trees.h"

#define CHUNK 256

typedef struct mp_user {
    const wf_model *m;
    int C, T;
    wf_layout layout; /* resolved: NCT, NTC or FLAT */
    int hidden_value; /* value index of the first layer's output, -1 without affine map */
    int64_t hidden;
    float *A, *a0;
    int input_value; /* the value A maps (a DequantizeLinear output), -1: the input itself */
    /* QOperator first layer (affine_qop.c): h holds its int32 sums, requantized here by the op's
     * own code; input_value is then its 8-bit input x_q and A maps u = x_q - qop_za */
    const wf_node *qop;
    int32_t qop_za;
    /* grad_hidden through a QOperator first layer: dh = qop_gs .* dy where the output code is
     * inside its range (qop_masked), from the gradient dy on the op's output */
    float *qop_gs;
    int qop_masked;
    /* The file declares batch 1: MP_REBOUND when the graph was checked to score a batch row by
     * row (engines get WF_ENGINE_FREE_BATCH), MP_ONE_BY_ONE when it cannot (one window per
     * engine call). MP_NATIVE: the batch axis is free in the file. */
    enum { MP_NATIVE, MP_REBOUND, MP_ONE_BY_ONE } batch_mode;
    /* grad_hidden: the QuantizeLinear nodes between the input and input_value (their input z
     * and int8/uint8 output q value indices, the type's limits), at most 4 */
    int n_cut_q;
    int cut_z[4], cut_q[4], cut_lo[4], cut_hi[4];
    /* predict_hidden: h -> Relu -> QuantizeLinear -> DequantizeLinear in one pass
     * (wf_k_relu_qdq), the graph then run from fuse_value; -1 when the pattern is absent */
    int fuse_value;
    wf_k_qparam fuse_q, fuse_dq;
    int out_index; /* the output holding the score */
    int column;    /* its column when it holds K > 1 values per window, else 0 */
    int64_t per;   /* K: values per window in that output */
} mp_user;

typedef struct mp_ctx {
    mp_user *u;
    wf_engine *e;
    int64_t max_batch, chunk;
    float *xbuf;  /* (chunk, C*T) model layout, NTC only */
    float *dybuf; /* (chunk, K) */
    float *dxbuf; /* (chunk, C*T) */
    /* grad_hidden: the straight-through derivative of u = g(x) per cell with every
     * QuantizeLinear inside its range, (C*T) window layout, taken from the engine's backward the
     * first time a chunk qualifies (have_slope); ones: (chunk, C*T) seed for that backward */
    float *slope, *ones;
    int have_slope;
    int32_t *qacc; /* (chunk, hidden) QOperator sums */
    void *qy;      /* (chunk, hidden) their requantized values, the op's output type */
    float *qscj;   /* (hidden) requantization scratch */
} mp_ctx;

static void user_free(void *p) {
    mp_user *u = p;
    if (!u)
        return;
    free(u->A);
    free(u->a0);
    free(u->qop_gs);
    free(u);
}

void wf_predictor_deinit(wf_predictor *p) {
    if (p && p->user_free && p->user)
        p->user_free(p->user);
    if (p)
        memset(p, 0, sizeof *p);
}

static void ctx_free(void *c) {
    mp_ctx *x = c;
    if (!x)
        return;
    wf_engine_free(x->e);
    free(x->xbuf);
    free(x->dybuf);
    free(x->dxbuf);
    free(x->slope);
    free(x->ones);
    free(x->qacc);
    free(x->qy);
    free(x->qscj);
    free(x);
}

static void input_tensor(const mp_user *u, int64_t n, const float *data, wf_tensor *t) {
    memset(t, 0, sizeof *t);
    t->dtype = WF_DTYPE_FLOAT;
    t->data = (void *)data;
    t->dims[0] = n;
    if (u->layout == WF_LAYOUT_FLAT) {
        t->rank = 2;
        t->dims[1] = (int64_t)u->C * u->T;
    } else {
        t->rank = 3;
        t->dims[1] = u->layout == WF_LAYOUT_NCT ? u->C : u->T;
        t->dims[2] = u->layout == WF_LAYOUT_NCT ? u->T : u->C;
    }
}

static wf_status ctx_new(void *user, int64_t max_batch, void **out, wf_error *err) {
    mp_user *u = user;
    *out = NULL;
    if (max_batch < 1)
        max_batch = 1;
    mp_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    c->u = u;
    c->max_batch = max_batch;
    c->chunk = max_batch < CHUNK ? max_batch : CHUNK;
    if (u->batch_mode == MP_ONE_BY_ONE)
        c->chunk = 1;
    size_t ct = (size_t)u->C * (size_t)u->T;
    c->xbuf = malloc((size_t)c->chunk * ct * sizeof(float));
    c->dxbuf = malloc((size_t)c->chunk * ct * sizeof(float));
    c->dybuf = malloc((size_t)(c->chunk * u->per) * sizeof(float));
    /* slope and ones are made on grad_hidden's first use: most contexts never need them */
    wf_status s = WF_OK;
    if (u->qop) {
        size_t nh = (size_t)c->chunk * (size_t)u->hidden;
        c->qacc = malloc(nh * sizeof(int32_t));
        c->qy = malloc(nh * sizeof(float));
        c->qscj = malloc((size_t)u->hidden * sizeof(float));
    }
    if (!c->xbuf || !c->dxbuf || !c->dybuf || (u->qop && (!c->qacc || !c->qy || !c->qscj)))
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (!s)
        s = wf_engine_new(u->m, c->chunk,
                          WF_ENGINE_GRAD | (u->batch_mode == MP_REBOUND ? WF_ENGINE_FREE_BATCH : 0),
                          &c->e, err);
    if (s) {
        ctx_free(c);
        return s;
    }
    *out = c;
    return WF_OK;
}

/* Window layout (n, C, T) -> model layout (n, T, C). */
static void to_ntc(float *dst, const float *src, int64_t n, int C, int T) {
    for (int64_t i = 0; i < n; i++)
        for (int ch = 0; ch < C; ch++)
            for (int t = 0; t < T; t++)
                dst[(i * T + t) * C + ch] = src[(i * C + ch) * T + t];
}

static void from_ntc(float *dst, const float *src, int64_t n, int C, int T) {
    for (int64_t i = 0; i < n; i++)
        for (int ch = 0; ch < C; ch++)
            for (int t = 0; t < T; t++)
                dst[(i * C + ch) * T + t] = src[(i * T + t) * C + ch];
}

/* y[i] = the score column of window i in output o: (n, K). */
static wf_status take_scores(const mp_user *u, const wf_tensor *o, int64_t n, float *y,
                             wf_error *err) {
    if (o->dtype != WF_DTYPE_FLOAT || wf_numel(o) != n * u->per)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: output '%s' must hold %lld float(s) per window (%lld for %lld "
                            "windows)",
                            u->m->name, u->m->vals[u->m->outputs[u->out_index]].name,
                            (long long)u->per, (long long)wf_numel(o), (long long)n);
    const float *d = o->data;
    for (int64_t i = 0; i < n; i++)
        y[i] = d[i * u->per + u->column];
    return WF_OK;
}

static wf_status run_chunk(mp_ctx *c, const float *x, int64_t n, float *y, wf_error *err) {
    mp_user *u = c->u;
    const float *xin = x;
    if (u->layout == WF_LAYOUT_NTC) {
        to_ntc(c->xbuf, x, n, u->C, u->T);
        xin = c->xbuf;
    }
    wf_tensor t;
    input_tensor(u, n, xin, &t);
    wf_status s = wf_engine_run(c->e, &t, 1, err);
    if (s)
        return s;
    return take_scores(u, wf_engine_output(c->e, u->out_index), n, y, err);
}

static wf_status too_many(const mp_ctx *c, int64_t n, wf_error *err) {
    return wf_error_set(err, WF_ERR_INVALID, "batch of %lld > max_batch %lld", (long long)n,
                        (long long)c->max_batch);
}

/* dybuf = the seed of a backward from the scores of k windows: 1 at each window's score (the
 * windows are independent, so d(sum y)/dx is each window's dy/dx), 0 elsewhere */
static void seed_scores(mp_ctx *c, int64_t k) {
    const mp_user *u = c->u;
    memset(c->dybuf, 0, (size_t)(k * u->per) * sizeof *c->dybuf);
    for (int64_t j = 0; j < k; j++)
        c->dybuf[j * u->per + u->column] = 1.0f;
}

static wf_status predict_run(void *ctx, const float *x, int64_t n, float *y, wf_error *err) {
    mp_ctx *c = ctx;
    size_t ct = (size_t)c->u->C * (size_t)c->u->T;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_status s = run_chunk(c, x + (size_t)i * ct, k, y + i, err);
        if (s)
            return s;
    }
    return WF_OK;
}

static wf_status grad(void *ctx, const float *x, int64_t n, float *y, float *dx, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    size_t ct = (size_t)u->C * (size_t)u->T;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_status s = run_chunk(c, x + (size_t)i * ct, k, y + i, err);
        if (s)
            return s;
        seed_scores(c, k);
        float *dst = u->layout == WF_LAYOUT_NTC ? c->dxbuf : dx + (size_t)i * ct;
        s = wf_engine_backward(c->e, u->out_index, c->dybuf, 0, dst, err);
        if (s)
            return s;
        if (u->layout == WF_LAYOUT_NTC)
            from_ntc(dx + (size_t)i * ct, c->dxbuf, k, u->C, u->T);
    }
    return WF_OK;
}

static wf_status predict_hidden_run(void *ctx, const float *h, int64_t n, float *y, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_tensor t;
        input_tensor(u, k, NULL, &t);
        const float *hi = h + (size_t)i * (size_t)u->hidden;
        wf_status s;
        int qn = u->qop ? (int)(u->qop - u->m->nodes) : -1;
        if (u->qop && wf_engine_has_tail(c->e, qn)) {
            /* exact integer sums (affine_qop.c) through the op's fused tail (ops_qtail.c) */
            s = wf_engine_tail_from(c->e, &t, qn, hi, err);
        } else if (u->qop) { /* exact integer sums -> the op's requantized output */
            size_t nh = (size_t)k * (size_t)u->hidden;
            for (size_t e = 0; e < nh; e++)
                c->qacc[e] = (int32_t)hi[e];
            wf_affine_qop_requant(u->m, u->qop, c->qacc, k, u->hidden, c->qy, c->qscj);
            s = wf_engine_run_from(c->e, &t, u->hidden_value, c->qy, err);
        } else if (u->fuse_value >= 0) {
            /* Relu, Q, DQ in one pass into the engine's buffer of the DequantizeLinear's
             * output, then the graph after it */
            float *fb = NULL;
            s = wf_engine_from_buffer(c->e, &t, u->fuse_value, &fb, err);
            if (s)
                return s;
            wf_k_relu_qdq(fb, hi, &u->fuse_q, &u->fuse_dq, (size_t)k * (size_t)u->hidden);
            wf_engine_run_after(c->e, u->fuse_value);
        } else {
            s = wf_engine_run_from(c->e, &t, u->hidden_value, hi, err);
        }
        if (s)
            return s;
        s = take_scores(u, wf_engine_output(c->e, u->out_index), k, y + i, err);
        if (s)
            return s;
    }
    return WF_OK;
}

/* predict and predict_hidden read only the scores, so their runs are forward-only: the engine
 * may take fused QOperator tails (engine.c), which skip values only a backward reads. The mode
 * is on for these runs alone. */
typedef wf_status (*mp_run)(void *ctx, const float *x, int64_t n, float *y, wf_error *err);

static wf_status forward_only(mp_run run, void *ctx, const float *x, int64_t n, float *y,
                              wf_error *err) {
    mp_ctx *c = ctx;
    wf_engine_forward_only(c->e, 1);
    wf_status s = run(ctx, x, n, y, err);
    wf_engine_forward_only(c->e, 0);
    return s;
}

static wf_status predict(void *ctx, const float *x, int64_t n, float *y, wf_error *err) {
    return forward_only(predict_run, ctx, x, n, y, err);
}

static wf_status predict_hidden(void *ctx, const float *h, int64_t n, float *y, wf_error *err) {
    return forward_only(predict_hidden_run, ctx, h, n, y, err);
}

/* Blocks of 32 with a fixed trip count (GCC's -O2 cost model vectorises only those). */
static int any_nan(const float *restrict z, size_t n) {
    int bad = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        int b = 0;
        for (int k = 0; k < 32; k++)
            b |= z[i + k] != z[i + k];
        bad |= b;
    }
    for (; i < n; i++)
        bad |= z[i] != z[i];
    return bad;
}

static int any_at(const int8_t *restrict q, size_t n, int8_t lo, int8_t hi) {
    int bad = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        int b = 0;
        for (int k = 0; k < 32; k++)
            b |= (q[i + k] == lo) | (q[i + k] == hi);
        bad |= b;
    }
    for (; i < n; i++)
        bad |= (q[i] == lo) | (q[i] == hi);
    return bad;
}

/* 1 when every row of the last forward run in [0, n) has each cell of every QuantizeLinear of
 * the prefix strictly inside the type's range (q != lo, hi) and a non-NaN input: the
 * straight-through mask of those rows is then 1 everywhere (saturation clamps q to a limit; a
 * NaN input gives mask 0 with q = zp), so their derivative of u = g(x) is one fixed vector. */
static int prefix_inside(const mp_ctx *c, int64_t n) {
    const mp_user *u = c->u;
    size_t cells = (size_t)n * (size_t)u->C * (size_t)u->T;
    for (int k = 0; k < u->n_cut_q; k++) {
        const wf_tensor *zt = wf_engine_value(c->e, u->cut_z[k]);
        const wf_tensor *qt = wf_engine_value(c->e, u->cut_q[k]);
        if (zt->dtype != WF_DTYPE_FLOAT || (size_t)wf_numel(zt) < cells ||
            (size_t)wf_numel(qt) < cells)
            return 0;
        if (any_nan(zt->data, cells))
            return 0;
        if (qt->dtype == WF_DTYPE_INT8) {
            const int8_t *q = qt->data;
            if (any_at(q, cells, (int8_t)u->cut_lo[k], (int8_t)u->cut_hi[k]))
                return 0;
        } else if (qt->dtype == WF_DTYPE_UINT8) {
            /* the same bytes read as int8: the limits 0 and 255 are 0 and -1 */
            const int8_t *q = qt->data;
            if (any_at(q, cells, 0, -1))
                return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* dh (n, hidden) on a QOperator first layer's output codes y -> on its int32 sums: times qop_gs
 * where y is strictly inside its type's range (the op's straight-through mask), else 0. */
static void qop_to_sums(const mp_user *u, const wf_tensor *y, float *dh, int64_t n) {
    size_t H = (size_t)u->hidden;
    for (size_t r = 0; r < (size_t)n; r++)
        for (size_t j = 0; j < H; j++) {
            size_t e = r * H + j;
            int in = 1;
            if (u->qop_masked && y->dtype == WF_DTYPE_INT8) {
                int8_t v = ((const int8_t *)y->data)[e];
                in = v > -128 && v < 127;
            } else if (u->qop_masked) {
                uint8_t v = ((const uint8_t *)y->data)[e];
                in = v > 0 && v < 255;
            }
            dh[e] = in ? dh[e] * u->qop_gs[j] : 0.0f;
        }
}

/* grad() cut at the first layer's pre-activation h, chunk by chunk: where prefix_inside holds
 * for the rows [0, n_grad) of the chunk (always for a float prefix), the engine's backward
 * stops at h and dh gets d f / d h (hrow 1); else the full backward fills dx (hrow 0). Rows at
 * and after n_grad only need y (their gradient is neither checked nor written). */
static wf_status grad_hidden(void *ctx, const float *x, int64_t n, int64_t n_grad, float *y,
                             float *dh, float *dx, uint8_t *hrow, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    size_t ct = (size_t)u->C * (size_t)u->T, H = (size_t)u->hidden;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        int64_t kg = n_grad - i < 0 ? 0 : n_grad - i < k ? n_grad - i : k;
        wf_status s = run_chunk(c, x + (size_t)i * ct, k, y + i, err);
        if (s)
            return s;
        if (kg == 0)
            continue;
        seed_scores(c, k);
        int cut = u->input_value < 0 || prefix_inside(c, kg);
        if (cut && u->input_value >= 0 && !c->have_slope) {
            /* d x / d u with seed 1 on every cell: the fixed derivative, row 0 */
            if (!c->ones) {
                c->slope = malloc(ct * sizeof(float));
                c->ones = malloc((size_t)c->chunk * ct * sizeof(float));
                if (!c->slope || !c->ones)
                    return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                for (size_t q = 0; q < (size_t)c->chunk * ct; q++)
                    c->ones[q] = 1.0f;
            }
            s = wf_engine_backward_span(c->e, u->input_value, c->ones, u->m->inputs[0], c->dxbuf,
                                        err);
            if (s)
                return s;
            if (u->layout == WF_LAYOUT_NTC)
                from_ntc(c->slope, c->dxbuf, 1, u->C, u->T);
            else
                memcpy(c->slope, c->dxbuf, ct * sizeof *c->slope);
            c->have_slope = 1;
        }
        if (cut) {
            const wf_tensor *ht = wf_engine_value(c->e, u->hidden_value);
            if ((size_t)wf_numel(ht) != (size_t)k * H)
                return wf_error_set(err, WF_ERR_SHAPE, "%s: value '%s' does not hold %lld x %lld",
                                    u->m->name, u->m->vals[u->hidden_value].name, (long long)k,
                                    (long long)H);
            s = wf_engine_backward_span(c->e, u->m->outputs[u->out_index], c->dybuf,
                                        u->hidden_value, dh + (size_t)i * H, err);
            if (!s && u->qop) /* from the op's output to its int32 sums, as its backward */
                qop_to_sums(u, ht, dh + (size_t)i * H, kg);
        } else {
            float *dst = u->layout == WF_LAYOUT_NTC ? c->dxbuf : dx + (size_t)i * ct;
            s = wf_engine_backward(c->e, u->out_index, c->dybuf, 0, dst, err);
            if (!s && u->layout == WF_LAYOUT_NTC)
                from_ntc(dx + (size_t)i * ct, c->dxbuf, k, u->C, u->T);
        }
        if (s)
            return s;
        memset(hrow + i, cut, (size_t)kg);
    }
    return WF_OK;
}

/* y and d f / d h from pre-activations h: the graph from the hidden value forward, the backward
 * span back to it, chunk by chunk (A maps x: no prefix to check, every row takes the cut). */
static wf_status grad_from_hidden(void *ctx, const float *h, int64_t n, float *y, float *dh,
                                  wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    size_t H = (size_t)u->hidden;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_tensor t;
        input_tensor(u, k, NULL, &t);
        wf_status s = wf_engine_run_from(c->e, &t, u->hidden_value, h + (size_t)i * H, err);
        if (!s)
            s = take_scores(u, wf_engine_output(c->e, u->out_index), k, y + i, err);
        if (s)
            return s;
        seed_scores(c, k);
        s = wf_engine_backward_span(c->e, u->m->outputs[u->out_index], c->dybuf, u->hidden_value,
                                    dh + (size_t)i * H, err);
        if (s)
            return s;
    }
    return WF_OK;
}

/* dx = J .* (A^T dh) in double: J the fixed derivative of u = g(x) (1 when A maps x). */
static wf_status hidden_to_input(void *ctx, const double *dh, double *dx, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    size_t ct = (size_t)u->C * (size_t)u->T, H = (size_t)u->hidden;
    if (u->input_value >= 0 && !c->have_slope)
        return wf_error_set(err, WF_ERR_INVALID, "hidden_to_input before grad_hidden");
    for (size_t e = 0; e < ct; e++)
        dx[e] = 0.0;
    for (size_t j = 0; j < H; j++) {
        const float *row = u->A + j * ct;
        double d = dh[j];
        /* a unit no gradient reached (a ReLU off along the whole path) adds +-0 to sums that
         * start at +0 and never become -0 (x + -x is +0), so skipping it changes no bit */
        if (d == 0.0)
            continue;
        size_t e = 0;
        for (; e + 8 <= ct; e += 8) /* blocks of 8: vectorised at -O2 */
            for (int k = 0; k < 8; k++)
                dx[e + k] += (double)row[e + k] * d;
        for (; e < ct; e++)
            dx[e] += (double)row[e] * d;
    }
    if (u->input_value >= 0)
        for (size_t e = 0; e < ct; e++)
            dx[e] *= (double)c->slope[e];
    return WF_OK;
}

/* The prefix's QuantizeLinear nodes for grad_hidden, walking the chain of sole consumers from
 * the input to input_value (as affine.c found it). 0 when the chain is not that simple or has
 * more than 4 of them: grad_hidden is then not offered. */
static int cut_prefix(mp_user *u) {
    const wf_model *m = u->m;
    int v = m->inputs[0];
    u->n_cut_q = 0;
    /* a float first layer (Gemm, MatMul, Conv) reading float u: a QOperator first layer's
     * output holds integers, whose straight-through gradient is in its own units */
    const char *op = m->nodes[m->vals[u->hidden_value].producer].op->name;
    if (u->qop) {
        /* a QOperator first layer: its backward factored through the int32 sums (qop_gs); the
         * codes it reads are the last QuantizeLinear's output, reached by the walk below */
        u->qop_gs = malloc(sizeof(float) * (size_t)u->hidden);
        if (!u->qop_gs || u->input_value < 0 ||
            !wf_affine_qop_grad_scale(m, u->qop, u->hidden, u->qop_gs, &u->qop_masked))
            return 0;
    } else if (m->vals[u->hidden_value].dtype != WF_DTYPE_FLOAT ||
               (u->input_value >= 0 && m->vals[u->input_value].dtype != WF_DTYPE_FLOAT) ||
               (strcmp(op, "Gemm") && strcmp(op, "MatMul") && strcmp(op, "Conv"))) {
        return 0;
    }
    if (u->input_value < 0)
        return 1;
    for (int guard = 0; guard < 64; guard++) {
        if (v == u->input_value)
            return 1;
        const wf_node *n = NULL;
        int uses = 0;
        for (int j = 0; j < m->n_nodes; j++)
            for (int k = 0; k < m->nodes[j].n_in; k++)
                if (m->nodes[j].in[k] == v) {
                    uses++;
                    n = &m->nodes[j];
                }
        if (uses != 1 || n->n_out < 1)
            return 0;
        if (!strcmp(n->op->name, "QuantizeLinear")) {
            if (u->n_cut_q == 4 || n->in[0] != v)
                return 0;
            wf_dtype qd = m->vals[n->out[0]].dtype;
            if (qd != WF_DTYPE_INT8 && qd != WF_DTYPE_UINT8)
                return 0;
            int k = u->n_cut_q++;
            u->cut_z[k] = v;
            u->cut_q[k] = n->out[0];
            u->cut_lo[k] = qd == WF_DTYPE_INT8 ? -128 : 0;
            u->cut_hi[k] = qd == WF_DTYPE_INT8 ? 127 : 255;
        }
        v = n->out[0];
    }
    return 0;
}

/* u = g(x): the deployed graph's per-cell prefix up to the DequantizeLinear that the affine
 * map reads (value input_value, model layout), returned in window layout (n, C*T). QOperator:
 * up to the QuantizeLinear, u = x_q - za. */
static wf_status affine_input(void *ctx, const float *x, int64_t n, float *uo, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    size_t ct = (size_t)u->C * (size_t)u->T;
    if (n > c->max_batch)
        return too_many(c, n, err);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        const float *xin = x + (size_t)i * ct;
        if (u->layout == WF_LAYOUT_NTC) {
            to_ntc(c->xbuf, xin, k, u->C, u->T);
            xin = c->xbuf;
        }
        wf_tensor t;
        input_tensor(u, k, xin, &t);
        wf_status s = wf_engine_run(c->e, &t, 1, err);
        if (s)
            return s;
        const wf_tensor *v = wf_engine_value(c->e, u->input_value);
        wf_dtype want = u->qop ? v->dtype : WF_DTYPE_FLOAT;
        if ((u->qop && v->dtype != WF_DTYPE_INT8 && v->dtype != WF_DTYPE_UINT8) ||
            v->dtype != want || wf_numel(v) != k * (int64_t)ct)
            return wf_error_set(err, WF_ERR_SHAPE, "%s: value '%s' does not hold %lld cells",
                                u->m->name, u->m->vals[u->input_value].name, (long long)(k * ct));
        const float *vf = v->data;
        if (u->qop) { /* u = x_q - za, exact in float */
            float *q = u->layout == WF_LAYOUT_NTC ? c->dxbuf : uo + (size_t)i * ct;
            for (size_t e = 0; e < (size_t)k * ct; e++)
                q[e] =
                    (float)((v->dtype == WF_DTYPE_INT8 ? (int32_t)((const int8_t *)v->data)[e]
                                                       : (int32_t)((const uint8_t *)v->data)[e]) -
                            u->qop_za);
            vf = q;
        }
        if (u->layout == WF_LAYOUT_NTC)
            from_ntc(uo + (size_t)i * ct, vf, k, u->C, u->T);
        else if (vf != uo + (size_t)i * ct)
            memcpy(uo + (size_t)i * ct, vf, (size_t)k * ct * sizeof(float));
    }
    return WF_OK;
}

/* Predictors are evaluated from several threads at once (windows in parallel, one context per
 * thread) with batches of at most CHUNK rows: OpenBLAS's own threads would only compete with
 * ours (measured: 2x the system time on 2 cores). whyflag runs OpenBLAS single-threaded. */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single_thread(void) {
    wf_k_blas_set_threads(1);
}

/* A file that declares batch 1: can the graph score a batch of windows row by row? Plans a
 * batch of 3 pseudo-random windows with the batch axis freed and compares each row with the
 * window scored alone (relative 1e-5: BLAS may round a batched product differently). Any plan
 * or shape error, or a row that differs, means no. */
static int batch_rebinds(const mp_user *u) {
    enum { NB = 3 };
    size_t ct = (size_t)u->C * (size_t)u->T;
    float *x = malloc(NB * ct * sizeof *x), *xm = malloc(NB * ct * sizeof *xm);
    float yb[NB], y1[NB];
    wf_engine *eb = NULL, *e1 = NULL;
    wf_error err;
    int ok = x && xm && !wf_engine_new(u->m, NB, WF_ENGINE_FREE_BATCH, &eb, &err) &&
             !wf_engine_new(u->m, 1, 0, &e1, &err);
    uint64_t r = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; ok && i < NB * ct; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
    if (ok && u->layout == WF_LAYOUT_NTC)
        to_ntc(xm, x, NB, u->C, u->T);
    else if (ok)
        memcpy(xm, x, NB * ct * sizeof *x);
    if (ok) {
        wf_tensor t;
        input_tensor(u, NB, xm, &t);
        const wf_tensor *o;
        ok = !wf_engine_run(eb, &t, 1, &err) && (o = wf_engine_output(eb, u->out_index)) &&
             o->rank >= 1 && o->dims[0] == NB && !take_scores(u, o, NB, yb, &err);
    }
    for (int i = 0; ok && i < NB; i++) {
        wf_tensor t;
        input_tensor(u, 1, xm + (size_t)i * ct, &t);
        ok = !wf_engine_run(e1, &t, 1, &err) &&
             !take_scores(u, wf_engine_output(e1, u->out_index), 1, &y1[i], &err) &&
             fabsf(y1[i] - yb[i]) <= 1e-5f * (1.0f + fabsf(y1[i]));
    }
    wf_engine_free(eb);
    wf_engine_free(e1);
    free(x);
    free(xm);
    return ok;
}

int wf_predictor_batch_mode(const wf_predictor *p) {
    return p->user_free == user_free && p->user ? (int)((const mp_user *)p->user)->batch_mode : -1;
}

wf_status wf_model_predictor(const wf_model *m, int C, int T, wf_layout layout, wf_predictor *out,
                             wf_error *err) {
    /* The default score: the first float output (a tree classifier's label output is int64),
     * one value per window, or the positive class (column 1) of a two-class output. */
    int head = wf_model_score_head(m);
    if (head < 0)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: no output is float32", m->name);
    return wf_model_predictor_output(m, C, T, layout, head, -2, out, err);
}

wf_status wf_model_predictor_output(const wf_model *m, int C, int T, wf_layout layout, int output,
                                    int column, wf_predictor *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    if (output < 0 || output >= m->n_outputs)
        return wf_error_set(err, WF_ERR_INVALID, "%s: output %d out of range (the model has %d)",
                            m->name, output, m->n_outputs);
    pthread_once(&blas_once, blas_single_thread);
    if (m->n_inputs != 1)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s: a predictor needs a model with one input, this one has %d",
                            m->name, m->n_inputs);
    if (C < 1 || T < 1)
        return wf_error_set(err, WF_ERR_INVALID, "windows must have C, T >= 1");
    const wf_value *x = &m->vals[m->inputs[0]];
    if (x->dtype != WF_DTYPE_FLOAT)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: input '%s' is %s, not float32", m->name,
                            x->name, wf_dtype_name(x->dtype));
    if (m->vals[m->outputs[output]].dtype != WF_DTYPE_FLOAT)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: output '%s' is not float32", m->name,
                            m->vals[m->outputs[output]].name);
    int r = x->decl_rank;
    const int64_t *d = x->decl_dims;
    wf_layout got = layout;
    if (r == 2) {
        if (layout != WF_LAYOUT_AUTO && layout != WF_LAYOUT_FLAT)
            return wf_error_set(err, WF_ERR_SHAPE,
                                "%s: input '%s' is 2-D [N, C*T]: --layout NCT/NTC does not "
                                "apply",
                                m->name, x->name);
        if (d[1] >= 0 && d[1] != (int64_t)C * T)
            return wf_error_set(err, WF_ERR_SHAPE,
                                "%s: input '%s' takes %lld values per window, windows have "
                                "%d x %d = %d",
                                m->name, x->name, (long long)d[1], C, T, C * T);
        got = WF_LAYOUT_FLAT;
    } else if (r == 3) {
        int nct = (d[1] < 0 || d[1] == C) && (d[2] < 0 || d[2] == T);
        int ntc = (d[1] < 0 || d[1] == T) && (d[2] < 0 || d[2] == C);
        if (layout == WF_LAYOUT_FLAT)
            return wf_error_set(err, WF_ERR_SHAPE, "%s: input '%s' is 3-D, not flat", m->name,
                                x->name);
        if (layout == WF_LAYOUT_AUTO) {
            if (nct && ntc)
                return wf_error_set(err, WF_ERR_SHAPE,
                                    "%s: input '%s' shape [N, %lld, %lld] is ambiguous for "
                                    "windows of C=%d channels x T=%d steps: pass --layout NCT "
                                    "or --layout NTC",
                                    m->name, x->name, (long long)d[1], (long long)d[2], C, T);
            if (!nct && !ntc)
                return wf_error_set(err, WF_ERR_SHAPE,
                                    "%s: input '%s' shape [N, %lld, %lld] fits neither [N, C=%d, "
                                    "T=%d] nor [N, T, C]",
                                    m->name, x->name, (long long)d[1], (long long)d[2], C, T);
            got = nct ? WF_LAYOUT_NCT : WF_LAYOUT_NTC;
        } else if ((layout == WF_LAYOUT_NCT && !nct) || (layout == WF_LAYOUT_NTC && !ntc)) {
            return wf_error_set(err, WF_ERR_SHAPE,
                                "%s: input '%s' shape [N, %lld, %lld] does not fit --layout %s "
                                "for C=%d, T=%d",
                                m->name, x->name, (long long)d[1], (long long)d[2],
                                layout == WF_LAYOUT_NCT ? "NCT" : "NTC", C, T);
        }
    } else {
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: input '%s' has rank %d; a window model takes [N, C, T], "
                            "[N, T, C] or [N, C*T]",
                            m->name, x->name, r);
    }
    mp_user *u = calloc(1, sizeof *u);
    if (!u)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    u->m = m;
    u->C = C;
    u->T = T;
    u->layout = got;
    u->hidden_value = -1;
    u->input_value = -1;
    u->fuse_value = -1;
    u->out_index = output;
    /* Check that the whole graph plans for these windows before handing out the predictor. */
    wf_engine *e = NULL;
    wf_tensor t;
    input_tensor(u, 1, NULL, &t);
    wf_status s = wf_engine_new(m, 1, 0, &e, err);
    if (!s) {
        float *zero = calloc((size_t)C * (size_t)T, sizeof *zero);
        t.data = zero;
        s = zero ? wf_engine_run(e, &t, 1, err) : wf_error_set(err, WF_ERR_NOMEM, "oom");
        int64_t per = s ? 0 : wf_numel(wf_engine_output(e, output));
        /* Default column: a tree classifier's two-class probability scores its positive class
         * (column 1), as shap and sklearn read it; any other output of 2+ values per window
         * needs an explicit column (--output NAME:COLUMN). */
        if (!s && column == -2)
            column = per == 2 && !wf_model_differentiable(m, NULL, 0) ? 1 : -1;
        if (!s && column < 0 && per != 1)
            s = wf_error_set(err, WF_ERR_SHAPE,
                             "%s: output '%s' holds %lld values per window; a score needs "
                             "exactly one, or pick a column of it (e.g. --output %s:1, config "
                             "key model_output)",
                             m->name, m->vals[m->outputs[output]].name, (long long)per,
                             m->vals[m->outputs[output]].name);
        else if (!s && column >= per)
            s = wf_error_set(err, WF_ERR_SHAPE,
                             "%s: output '%s' holds %lld values per window; column %d does not "
                             "exist",
                             m->name, m->vals[m->outputs[output]].name, (long long)per, column);
        u->per = per;
        u->column = column < 0 ? 0 : column;
        free(zero);
        wf_engine_free(e);
    }
    if (s) {
        user_free(u);
        return s;
    }
    if (d[0] == 1)
        u->batch_mode = batch_rebinds(u) ? MP_REBOUND : MP_ONE_BY_ONE;
    if (wf_model_batch_dependent(m)) /* WF_BATCH_DEPENDENT_NOTE */
        u->batch_mode = MP_ONE_BY_ONE;
    wf_affine_first_layer(m, u->layout, C, T, &u->A, &u->a0, &u->hidden, &u->hidden_value,
                          &u->input_value);
    u->qop = wf_affine_qop_node(m, u->hidden_value, &u->qop_za);
    out->C = C;
    out->T = T;
    out->user = u;
    out->ctx_new = ctx_new;
    out->ctx_free = ctx_free;
    out->predict = predict;
    out->grad = wf_model_differentiable(m, NULL, 0) ? grad : NULL;
    snprintf(out->output_name, sizeof out->output_name, "%s", m->vals[m->outputs[output]].name);
    out->output_column = u->column;
    out->output_kind = wf_model_output_kind(m, output);
    out->surrogate = m->quantized ? WF_ENGINE_SURROGATE_STE : NULL;
    out->hidden = u->hidden;
    out->affine_a = u->A;
    out->affine_a0 = u->a0;
    out->predict_hidden = u->hidden ? predict_hidden : NULL;
    out->affine_input = u->hidden && u->input_value >= 0 ? affine_input : NULL;
    if (u->hidden && u->hidden_value >= 0 && !u->qop)
        wf_relu_qdq_after(m, u->hidden_value, &u->fuse_q, &u->fuse_dq, &u->fuse_value);
    if (out->grad && u->hidden && u->hidden_value >= 0 && cut_prefix(u)) {
        out->grad_hidden = grad_hidden;
        out->hidden_to_input = hidden_to_input;
        if (u->input_value < 0)
            out->grad_from_hidden = grad_from_hidden;
    }
    out->user_free = user_free;
    return WF_OK;
}

wf_status wf_model_predictor_spec(const wf_model *m, int C, int T, wf_layout layout,
                                  const char *spec, const char *what, wf_predictor *out,
                                  wf_error *err) {
    if (!spec || !*spec)
        return wf_model_predictor(m, C, T, layout, out, err);
    char name[160];
    int column = -1;
    snprintf(name, sizeof name, "%s", spec);
    char *colon = strrchr(name, ':');
    if (colon) {
        char *end;
        long c = strtol(colon + 1, &end, 10);
        if (colon[1] && !*end && c >= 0 && c < 1000000) {
            column = (int)c;
            *colon = '\0';
        }
    }
    int o = wf_model_output_index(m, name);
    if (o < 0) {
        char list[1024];
        size_t n = 0;
        list[0] = '\0';
        for (int i = 0; i < m->n_outputs && n + 1 < sizeof list; i++) {
            const wf_value *v = &m->vals[m->outputs[i]];
            int w = snprintf(list + n, sizeof list - n, "%s'%s' [", i ? ", " : "", v->name);
            n += w > 0 ? (size_t)w : 0;
            for (int d = 0; d < v->decl_rank && n + 1 < sizeof list; d++) {
                if (v->decl_dims[d] < 0)
                    w = snprintf(list + n, sizeof list - n, "%sN", d ? "," : "");
                else
                    w = snprintf(list + n, sizeof list - n, "%s%lld", d ? "," : "",
                                 (long long)v->decl_dims[d]);
                n += w > 0 ? (size_t)w : 0;
            }
            if (n + 1 < sizeof list)
                n += (size_t)snprintf(list + n, sizeof list - n, "]");
        }
        return wf_error_set(
            err, WF_ERR_CONFIG,
            "%s: the model %s has no output '%s' (its outputs: %s; expected NAME or "
            "NAME:COLUMN)",
            what ? what : "output", m->name, name, list);
    }
    return wf_model_predictor_output(m, C, T, layout, o, column, out, err);
}

const char *wf_model_output_kind(const wf_model *m, int output) {
    if (output < 0 || output >= m->n_outputs)
        return "unknown";
    int v = m->outputs[output];
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        const char *op = n->op->name;
        int squash = !strcmp(op, "Sigmoid") || !strcmp(op, "Softmax");
        for (int k = 0; squash && k < n->n_out; k++)
            if (n->out[k] == v)
                return "probability";
        for (int k = 0; squash && k < n->n_in; k++)
            if (n->in[k] == v)
                return "logit";
    }
    /* a tree classifier's probabilities (post_transform LOGISTIC / SOFTMAX, ZipMap) */
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        if (!strcmp(n->op->name, "TreeEnsembleClassifier") || !strcmp(n->op->name, "ZipMap"))
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] == v)
                    return "probability";
    }
    return "unknown";
}
