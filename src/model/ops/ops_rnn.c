/*
 * GRU and LSTM as ONNX specifies them: directions forward, reverse and bidirectional;
 * linear_before_reset (GRU); bias and initial states optional; default activations only
 * (Sigmoid, Tanh, Tanh); optional outputs Y, Y_h (and Y_c); layout 0 (seq-major) and 1
 * (batch-major, opset 14). Not supported (rejected at load with the node named): non-default
 * activations, clip, input_forget, LSTM peepholes, sequence_lens other than the full length.
 *
 * Backward is back-propagation through time with respect to X and the initial states (weights
 * take no gradient: Integrated Gradients needs d/dx only). Forward keeps nothing between
 * nodes (the scratch block is shared), so backward recomputes the forward pass into its
 * scratch, storing the gates per step, then walks the steps in reverse.
 *
 * The engine runs the structure-of-arrays kernels of kernels/kernels_rnn.c (blocks of batch
 * rows, float products, polynomial sigmoid/tanh); the per-row references below (double dot
 * products, libm) are what tests/test_kernels_rnn.c checks them against. Batch rows are
 * independent in both. Gate order: GRU z, r, h; LSTM i, o, f, c (as ONNX).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/kernels/kernels_rnn.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

typedef struct rnn_geom {
    int lstm, D, layout, lbr;
    int64_t T, B, I, H, G; /* G gates: 3 (GRU) or 4 (LSTM) */
} rnn_geom;

static wf_status rnn_check(wf_node *n, wf_value *vals, wf_error *err) {
    int lstm = !strcmp(n->op->name, "LSTM");
    if (n->n_in < 3 || n->in[0] < 0 || n->in[1] < 0 || n->in[2] < 0 || n->n_out < 1 ||
        n->n_out > (lstm ? 3 : 2))
        return wf_node_error(err, WF_ERR_PARSE, n, "needs X, W, R and 1 to %d outputs",
                             lstm ? 3 : 2);
    if (n->n_in > (lstm ? 8 : 6))
        return wf_node_error(err, WF_ERR_PARSE, n, "too many inputs");
    for (int i = 0; i < n->n_in; i++) {
        wf_status s =
            wf_check_dtype(n, vals, i, i == 4 ? WF_DT_BIT(WF_DTYPE_INT32) : WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    int any = 0;
    for (int k = 0; k < n->n_out; k++)
        any |= n->out[k] >= 0;
    if (!any)
        return wf_node_error(err, WF_ERR_PARSE, n, "no output is named");
    if (lstm && n->n_in > 7 && n->in[7] >= 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "peephole weights P are not supported");
    /* activations: only the defaults (written out by some exporters) */
    const wf_attr *a = wf_attr_find(n, "activations");
    const char *dirs = wf_attr_str(n, "direction", "forward");
    if (a) {
        const char *one = lstm ? "Sigmoid,Tanh,Tanh" : "Sigmoid,Tanh";
        char want[64];
        snprintf(want, sizeof want, "%s%s%s", one, strcmp(dirs, "bidirectional") ? "" : ",",
                 strcmp(dirs, "bidirectional") ? "" : one);
        if (a->type != WF_ATTR_STRINGS || !a->s || strcmp(a->s, want))
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "activations '%s' are not supported (only the default %s)",
                                 a->s ? a->s : "?", want);
    }
    if (wf_attr_find(n, "activation_alpha") || wf_attr_find(n, "activation_beta"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "activation_alpha/activation_beta are not supported");
    if (wf_attr_find(n, "clip"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "the 'clip' attribute is not supported");
    if (lstm && wf_attr_int(n, "input_forget", 0))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "input_forget = 1 is not supported");
    const char *dir = wf_attr_str(n, "direction", "forward");
    if (!strcmp(dir, "forward"))
        n->p.kind = 0;
    else if (!strcmp(dir, "reverse"))
        n->p.kind = 1;
    else if (!strcmp(dir, "bidirectional"))
        n->p.kind = 2;
    else
        return wf_node_error(err, WF_ERR_PARSE, n, "unknown direction '%s'", dir);
    n->p.group = wf_attr_int(n, "hidden_size", 0);
    n->p.axis = wf_attr_int(n, "layout", 0);
    n->p.trans_a = (int)wf_attr_int(n, "linear_before_reset", 0);
    if (n->p.axis != 0 && n->p.axis != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "layout must be 0 or 1");
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
            vals[n->out[k]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static void rnn_geom_of(const wf_node *n, wf_tensor *const *in, rnn_geom *g) {
    g->lstm = !strcmp(n->op->name, "LSTM");
    g->G = g->lstm ? 4 : 3;
    g->D = n->p.kind == 2 ? 2 : 1;
    g->layout = (int)n->p.axis;
    g->lbr = n->p.trans_a;
    const wf_tensor *x = in[0];
    g->T = g->layout ? x->dims[1] : x->dims[0];
    g->B = g->layout ? x->dims[0] : x->dims[1];
    g->I = x->dims[2];
    g->H = in[2]->dims[2];
}

/* Scratch bytes: the fast kernels' workspaces (the backward's holds a block's stored steps) or
 * the per-row reference's, whichever is larger. */
static size_t rnn_scratch(const rnn_geom *g) {
    int64_t GH = g->G * g->H;
    int64_t naive = (g->lstm ? 7 : 5) * g->T * g->H + 12 * GH + 8 * g->H;
    int64_t fwd = (int64_t)wf_k_rnn_ws_floats(g->lstm, g->I, g->H);
    int64_t bwd = (int64_t)wf_k_rnn_bwd_ws_floats(g->lstm, g->T, g->I, g->H);
    int64_t most = naive > fwd ? naive : fwd;
    return (size_t)(most > bwd ? most : bwd) * sizeof(float);
}

static wf_status rnn_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    if (in[0]->rank != 3)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must be 3-D");
    rnn_geom g;
    rnn_geom_of(n, in, &g);
    const wf_tensor *W = in[1], *R = in[2];
    if (W->rank != 3 || R->rank != 3 || W->dims[0] != g.D || R->dims[0] != g.D ||
        W->dims[1] != g.G * g.H || R->dims[1] != g.G * g.H || W->dims[2] != g.I ||
        R->dims[2] != g.H)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "W must be [%d, %lld, %lld] and R [%d, %lld, %lld] for X of %lld "
                             "features and hidden size %lld",
                             g.D, (long long)(g.G * g.H), (long long)g.I, g.D,
                             (long long)(g.G * g.H), (long long)g.H, (long long)g.I,
                             (long long)g.H);
    if (n->p.group && n->p.group != g.H)
        return wf_node_error(err, WF_ERR_SHAPE, n, "hidden_size %lld but R holds %lld",
                             (long long)n->p.group, (long long)g.H);
    if (n->n_in > 3 && in[3] &&
        (in[3]->rank != 2 || in[3]->dims[0] != g.D || in[3]->dims[1] != 2 * g.G * g.H))
        return wf_node_error(err, WF_ERR_SHAPE, n, "B must be [%d, %lld]", g.D,
                             (long long)(2 * g.G * g.H));
    if (n->n_in > 4 && in[4]) {
        if (!in[4]->data)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "sequence_lens must be known at plan time");
        if (wf_numel(in[4]) != g.B)
            return wf_node_error(err, WF_ERR_SHAPE, n, "sequence_lens must hold %lld values",
                                 (long long)g.B);
        for (int64_t b = 0; b < g.B; b++)
            if (((const int32_t *)in[4]->data)[b] != g.T)
                return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                     "sequence_lens shorter than the sequence (%d < %lld) are "
                                     "not supported",
                                     ((const int32_t *)in[4]->data)[b], (long long)g.T);
    }
    for (int i = 5; i < n->n_in && i < 7; i++) {
        const wf_tensor *h = in[i];
        if (!h)
            continue;
        int64_t want0 = g.layout ? g.B : g.D, want1 = g.layout ? g.D : g.B;
        if (h->rank != 3 || h->dims[0] != want0 || h->dims[1] != want1 || h->dims[2] != g.H)
            return wf_node_error(err, WF_ERR_SHAPE, n,
                                 "initial state (input %d) must be [%lld, %lld, %lld]", i,
                                 (long long)want0, (long long)want1, (long long)g.H);
    }
    if (out[0]) {
        out[0]->rank = 4;
        int64_t d4[4] = {g.T, g.D, g.B, g.H}, d4b[4] = {g.B, g.T, g.D, g.H};
        memcpy(out[0]->dims, g.layout ? d4b : d4, sizeof d4);
    }
    for (int k = 1; k < n->n_out; k++)
        if (out[k]) {
            out[k]->rank = 3;
            out[k]->dims[0] = g.layout ? g.B : g.D;
            out[k]->dims[1] = g.layout ? g.D : g.B;
            out[k]->dims[2] = g.H;
        }
    *scratch = rnn_scratch(&g);
    return WF_OK;
}

/* offsets: X row (t, b); Y (t, d, b); state (d, b) */
static int64_t x_off(const rnn_geom *g, int64_t t, int64_t b) {
    return (g->layout ? b * g->T + t : t * g->B + b) * g->I;
}
static int64_t y_off(const rnn_geom *g, int64_t t, int d, int64_t b) {
    return (g->layout ? (b * g->T + t) * g->D + d : (t * g->D + d) * g->B + b) * g->H;
}
static int64_t s_off(const rnn_geom *g, int d, int64_t b) {
    return (g->layout ? b * g->D + d : d * g->B + b) * g->H;
}

static float sigm(float x) {
    return 1.0f / (1.0f + expf(-x));
}

/* out[j] = bias[j] + sum_k M[j, k] v[k], j < rows; M: (rows, K) */
static void matvec(float *out, const float *M, const float *v, const float *bias, int64_t rows,
                   int64_t K) {
    for (int64_t j = 0; j < rows; j++) {
        double acc = bias ? bias[j] : 0.0;
        const float *m = M + j * K;
        for (int64_t k = 0; k < K; k++)
            acc += (double)m[k] * v[k];
        out[j] = (float)acc;
    }
}

/* out[k] += sum_j d[j] M[j, k], k < K; M: (rows, K) (the transpose product of matvec) */
static void matvec_t_add(float *out, const float *M, const float *d, int64_t rows, int64_t K) {
    for (int64_t k = 0; k < K; k++) {
        double acc = 0;
        for (int64_t j = 0; j < rows; j++)
            acc += (double)d[j] * M[j * K + k];
        out[k] += (float)acc;
    }
}

typedef struct rnn_io {
    const float *X, *W, *R, *Bias, *h0, *c0; /* this direction's W, R, Bias; X whole */
    float *Y, *Yh, *Yc;                      /* whole outputs (NULL when absent) */
} rnn_io;

/* Forward of one (row b, direction d). store (when not NULL) receives per processing step s:
 * GRU [Hprev, z, r, ht, hn], LSTM [Hprev, Cprev, i, o, f, ct, C], each (H). tmp: scratch of
 * 2 G H + 10 H floats. g->lbr: bit 0 linear_before_reset, bit 1 reverse (D == 1). */
static void rnn_row_forward(const rnn_geom *g, int d, int64_t b, const rnn_io *io, float *store,
                            float *tmp) {
    int64_t T = g->T, H = g->H, GH = g->G * H;
    int rev = (g->D == 2 && d == 1) || (g->D == 1 && (g->lbr & 2));
    int nst = g->lstm ? 7 : 5;
    float *xw = tmp, *hr = xw + GH, *h = hr + GH, *c = h + H, *rh = c + H, *loc = rh + H;
    const float *Wb = io->Bias, *Rb = io->Bias ? io->Bias + GH : NULL;
    for (int64_t k = 0; k < H; k++) {
        h[k] = io->h0 ? io->h0[s_off(g, d, b) + k] : 0.0f;
        c[k] = io->c0 ? io->c0[s_off(g, d, b) + k] : 0.0f;
    }
    for (int64_t s = 0; s < T; s++) {
        int64_t t = rev ? T - 1 - s : s;
        float *st = store ? store + s * nst * H : loc;
        matvec(xw, io->W, io->X + x_off(g, t, b), Wb, GH, g->I);
        if (!g->lstm) {
            int lbr = g->lbr & 1;
            float *hp = st, *z = hp + H, *r = z + H, *ht = r + H, *hn = ht + H;
            memcpy(hp, h, (size_t)H * sizeof *h);
            matvec(hr, io->R, h, Rb, lbr ? GH : 2 * H, H); /* z, r (and h when lbr) */
            for (int64_t j = 0; j < H; j++) {
                z[j] = sigm(xw[j] + hr[j]);
                r[j] = sigm(xw[H + j] + hr[H + j]);
            }
            if (lbr) {
                for (int64_t j = 0; j < H; j++) {
                    hn[j] = hr[2 * H + j];
                    ht[j] = tanhf(xw[2 * H + j] + r[j] * hn[j]);
                }
            } else {
                for (int64_t k = 0; k < H; k++)
                    rh[k] = r[k] * h[k];
                matvec(hn, io->R + 2 * H * H, rh, Rb ? Rb + 2 * H : NULL, H, H);
                for (int64_t j = 0; j < H; j++)
                    ht[j] = tanhf(xw[2 * H + j] + hn[j]);
            }
            for (int64_t j = 0; j < H; j++)
                h[j] = (1.0f - z[j]) * ht[j] + z[j] * h[j];
        } else {
            matvec(hr, io->R, h, Rb, GH, H);
            float *hp = st, *cp = hp + H, *ig = cp + H, *og = ig + H, *fg = og + H, *ct = fg + H,
                  *cn = ct + H;
            memcpy(hp, h, (size_t)H * sizeof *h);
            memcpy(cp, c, (size_t)H * sizeof *c);
            for (int64_t j = 0; j < H; j++) {
                ig[j] = sigm(xw[j] + hr[j]);
                og[j] = sigm(xw[H + j] + hr[H + j]);
                fg[j] = sigm(xw[2 * H + j] + hr[2 * H + j]);
                ct[j] = tanhf(xw[3 * H + j] + hr[3 * H + j]);
                cn[j] = fg[j] * cp[j] + ig[j] * ct[j];
                c[j] = cn[j];
                h[j] = og[j] * tanhf(cn[j]);
            }
        }
        if (io->Y)
            memcpy(io->Y + y_off(g, t, d, b), h, (size_t)H * sizeof *h);
    }
    if (io->Yh)
        memcpy(io->Yh + s_off(g, d, b), h, (size_t)H * sizeof *h);
    if (io->Yc)
        memcpy(io->Yc + s_off(g, d, b), c, (size_t)H * sizeof *c);
}

/* direction flags folded into g->lbr: bit 0 linear_before_reset, bit 1 reverse (D == 1) */
static void rnn_setup(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, rnn_geom *g,
                      rnn_io *io, int d) {
    rnn_geom_of(n, in, g);
    g->lbr = (n->p.trans_a ? 1 : 0) | (n->p.kind == 1 ? 2 : 0);
    int64_t GH = g->G * g->H;
    memset(io, 0, sizeof *io);
    io->X = in[0]->data;
    io->W = (const float *)in[1]->data + d * GH * g->I;
    io->R = (const float *)in[2]->data + d * GH * g->H;
    io->Bias = n->n_in > 3 && in[3] ? (const float *)in[3]->data + d * 2 * GH : NULL;
    io->h0 = n->n_in > 5 && in[5] ? in[5]->data : NULL;
    io->c0 = g->lstm && n->n_in > 6 && in[6] ? in[6]->data : NULL;
    io->Y = out[0] ? out[0]->data : NULL;
    io->Yh = n->n_out > 1 && out[1] ? out[1]->data : NULL;
    io->Yc = n->n_out > 2 && out[2] ? out[2]->data : NULL;
}

/* The per-row reference forward (dot products in double): the naive kernel the batched one is
 * checked against (tests/test_engine_ops10.c). */
void wf_rnn_forward_naive(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    rnn_geom g;
    rnn_io io;
    rnn_setup(n, in, out, &g, &io, 0);
    for (int d = 0; d < g.D; d++) {
        rnn_setup(n, in, out, &g, &io, d);
        for (int64_t b = 0; b < g.B; b++)
            rnn_row_forward(&g, d, b, &io, NULL, s);
    }
}

/* BPTT for one (row, direction); store holds the forward steps. */
static void rnn_row_backward(const rnn_geom *g, int d, int64_t b, const rnn_io *io,
                             const float *store, float *tmp, float *const *gin, float *const *gout,
                             int n_out) {
    int64_t T = g->T, H = g->H, GH = g->G * H;
    float *dh = tmp, *dc = dh + H, *dhp = dc + H, *da = dhp + H, *drh = da + GH;
    memset(dh, 0, (size_t)(2 * H) * sizeof *dh);
    if (n_out > 1 && gout[1])
        for (int64_t k = 0; k < H; k++)
            dh[k] = gout[1][s_off(g, d, b) + k];
    if (n_out > 2 && gout[2])
        for (int64_t k = 0; k < H; k++)
            dc[k] = gout[2][s_off(g, d, b) + k];
    int rev = (g->D == 2 && d == 1) || (g->D == 1 && (g->lbr & 2));
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = rev ? T - 1 - s : s;
        if (gout[0])
            for (int64_t k = 0; k < H; k++)
                dh[k] += gout[0][y_off(g, t, d, b) + k];
        if (!g->lstm) {
            const float *st = store + s * 5 * H;
            const float *hp = st, *z = hp + H, *r = z + H, *ht = r + H, *hn = ht + H;
            float *daz = da, *dar = da + H, *dah = da + 2 * H;
            for (int64_t j = 0; j < H; j++) {
                float dz = dh[j] * (hp[j] - ht[j]);
                dhp[j] = dh[j] * z[j];
                dah[j] = dh[j] * (1.0f - z[j]) * (1.0f - ht[j] * ht[j]);
                daz[j] = dz * z[j] * (1.0f - z[j]);
            }
            if (g->lbr & 1) {
                for (int64_t j = 0; j < H; j++) {
                    float dr = dah[j] * hn[j];
                    drh[j] = dah[j] * r[j]; /* d hn */
                    dar[j] = dr * r[j] * (1.0f - r[j]);
                }
                matvec_t_add(dhp, io->R + 2 * H * H, drh, H, H);
            } else {
                memset(drh, 0, (size_t)H * sizeof *drh);
                matvec_t_add(drh, io->R + 2 * H * H, dah, H, H); /* d (r * hp) */
                for (int64_t k = 0; k < H; k++) {
                    float dr = drh[k] * hp[k];
                    dhp[k] += drh[k] * r[k];
                    dar[k] = dr * r[k] * (1.0f - r[k]);
                }
            }
            matvec_t_add(dhp, io->R, da, 2 * H, H); /* z and r rows */
            if (gin[0])
                matvec_t_add(gin[0] + x_off(g, t, b), io->W, da, GH, g->I);
            memcpy(dh, dhp, (size_t)H * sizeof *dh);
        } else {
            const float *st = store + s * 7 * H;
            const float *cp = st + H, *ig = cp + H, *og = ig + H, *fg = og + H, *ct = fg + H,
                        *cn = ct + H;
            float *dai = da, *dao = da + H, *daf = da + 2 * H, *dac = da + 3 * H;
            for (int64_t j = 0; j < H; j++) {
                float tc = tanhf(cn[j]);
                float dog = dh[j] * tc;
                float dcj = dc[j] + dh[j] * og[j] * (1.0f - tc * tc);
                dai[j] = dcj * ct[j] * ig[j] * (1.0f - ig[j]);
                daf[j] = dcj * cp[j] * fg[j] * (1.0f - fg[j]);
                dac[j] = dcj * ig[j] * (1.0f - ct[j] * ct[j]);
                dao[j] = dog * og[j] * (1.0f - og[j]);
                dc[j] = dcj * fg[j];
                dhp[j] = 0.0f;
            }
            matvec_t_add(dhp, io->R, da, GH, H);
            if (gin[0])
                matvec_t_add(gin[0] + x_off(g, t, b), io->W, da, GH, g->I);
            memcpy(dh, dhp, (size_t)H * sizeof *dh);
        }
    }
    if (gin[5])
        for (int64_t k = 0; k < H; k++)
            gin[5][s_off(g, d, b) + k] += dh[k];
    if (g->lstm && gin[6])
        for (int64_t k = 0; k < H; k++)
            gin[6][s_off(g, d, b) + k] += dc[k];
}

/* The per-row reference backward (recomputes each row's forward, then BPTT). */
void wf_rnn_backward_naive(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           float *const *gin, float *const *gout, void *s) {
    float *gi[8] = {0};
    for (int i = 0; i < n->n_in && i < 8; i++)
        gi[i] = (i == 0 || i == 5 || i == 6) ? gin[i] : NULL;
    rnn_geom g;
    rnn_io io;
    rnn_setup(n, in, out, &g, &io, 0);
    float *store = s, *tmp = store + (g.lstm ? 7 : 5) * g.T * g.H;
    for (int d = 0; d < g.D; d++) {
        rnn_setup(n, in, out, &g, &io, d);
        /* recompute without touching the outputs */
        rnn_io rec = io;
        rec.Y = rec.Yh = rec.Yc = NULL;
        for (int64_t b = 0; b < g.B; b++) {
            rnn_row_forward(&g, d, b, &rec, store, tmp);
            rnn_row_backward(&g, d, b, &io, store, tmp, gi, gout, n->n_out);
        }
    }
}

/* ---- fast path: the structure-of-arrays kernels (kernels/kernels_rnn.c), one direction at a
 * time ---- */

static void rnn_kernel_args(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, int d,
                            wf_k_rnn *k, rnn_io *io) {
    rnn_geom g;
    rnn_setup(n, in, out, &g, io, d);
    int64_t T = g.T, B = g.B, I = g.I, H = g.H, D = g.D;
    *k = (wf_k_rnn){.lstm = g.lstm,
                    .lbr = g.lbr & 1,
                    .reverse = (g.D == 2 && d == 1) || (g.D == 1 && (g.lbr & 2)),
                    .T = T,
                    .B = B,
                    .I = I,
                    .H = H,
                    .X = io->X,
                    .x_t = g.layout ? I : B * I,
                    .x_b = g.layout ? T * I : I,
                    .W = io->W,
                    .R = io->R,
                    .Wb = io->Bias,
                    .Rb = io->Bias ? io->Bias + g.G * H : NULL,
                    .h0 = io->h0 ? io->h0 + s_off(&g, d, 0) : NULL,
                    .c0 = io->c0 ? io->c0 + s_off(&g, d, 0) : NULL,
                    .s_b = g.layout ? D * H : H,
                    .Y = io->Y ? io->Y + y_off(&g, 0, d, 0) : NULL,
                    .y_t = g.layout ? D * H : D * B * H,
                    .y_b = g.layout ? T * D * H : H,
                    .Yh = io->Yh ? io->Yh + s_off(&g, d, 0) : NULL,
                    .Yc = io->Yc ? io->Yc + s_off(&g, d, 0) : NULL};
}

static void rnn_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    for (int d = 0; d < (n->p.kind == 2 ? 2 : 1); d++) {
        wf_k_rnn k;
        rnn_io io;
        rnn_kernel_args(n, in, out, d, &k, &io);
        wf_k_rnn_forward(&k, s);
    }
}

/* BPTT w.r.t. X and the initial states (the kernel recomputes the forward per block of rows). */
static void rnn_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                    float *const *gin, float *const *gout, void *s) {
    for (int d = 0; d < (n->p.kind == 2 ? 2 : 1); d++) {
        wf_k_rnn k;
        rnn_io io;
        rnn_kernel_args(n, in, out, d, &k, &io);
        rnn_geom g;
        rnn_geom_of(n, in, &g);
        int64_t so = s_off(&g, d, 0), yo = y_off(&g, 0, d, 0);
        wf_k_rnn_grad gr = {.dY = gout[0] ? gout[0] + yo : NULL,
                            .dYh = n->n_out > 1 && gout[1] ? gout[1] + so : NULL,
                            .dYc = n->n_out > 2 && gout[2] ? gout[2] + so : NULL,
                            .dX = gin[0],
                            .dh0 = n->n_in > 5 && in[5] && gin[5] ? gin[5] + so : NULL,
                            .dc0 = g.lstm && n->n_in > 6 && in[6] && gin[6] ? gin[6] + so : NULL};
        wf_k_rnn_backward(&k, &gr, s);
    }
}

static int64_t rnn_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)out;
    rnn_geom g;
    rnn_geom_of(n, in, &g);
    return 2 * g.D * g.T * g.B * g.G * g.H * (g.I + g.H);
}

const wf_opdef wf_op_gru = {"GRU", rnn_check, rnn_shape, rnn_fwd, rnn_bwd, 0, rnn_flops};
const wf_opdef wf_op_lstm = {"LSTM", rnn_check, rnn_shape, rnn_fwd, rnn_bwd, 0, rnn_flops};
