/*
 * wf_model_predictor: the model seen as a predictor over windows (n, C, T) channel-major.
 *
 * Adapts windows to the model's input layout ([N,C,T], [N,T,C] or [N,C*T]), evaluates in chunks
 * (bounded memory and cache-sized GEMMs), takes the first output as the score, and runs the
 * backward pass for gradients. Where the graph starts with an affine map (elementwise Sub/Div/
 * Mul/Add by constants, an optional Flatten/Reshape, then Gemm or MatMul with constant weights),
 * it exposes that map with the normalization folded in, A (hidden, C*T) and a0 (hidden), computed
 * in double, and predict_hidden which runs the rest of the graph from the pre-activation.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"

#define CHUNK 1024

typedef struct mp_user {
    const wf_model *m;
    int C, T;
    wf_layout layout; /* resolved: NCT, NTC or FLAT */
    int hidden_value; /* value index of the first layer's output, -1 without affine map */
    int64_t hidden;
    float *A, *a0;
} mp_user;

typedef struct mp_ctx {
    mp_user *u;
    wf_engine *e;
    int64_t max_batch, chunk;
    float *xbuf;  /* (chunk, C*T) model layout, NTC only */
    float *dybuf; /* (chunk) */
    float *dxbuf; /* (chunk, C*T) */
} mp_ctx;

static void user_free(void *p) {
    mp_user *u = p;
    if (!u)
        return;
    free(u->A);
    free(u->a0);
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
    size_t ct = (size_t)u->C * (size_t)u->T;
    c->xbuf = malloc((size_t)c->chunk * ct * sizeof(float));
    c->dxbuf = malloc((size_t)c->chunk * ct * sizeof(float));
    c->dybuf = malloc((size_t)c->chunk * sizeof(float));
    wf_status s = WF_OK;
    if (!c->xbuf || !c->dxbuf || !c->dybuf)
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (!s)
        s = wf_engine_new(u->m, c->chunk, WF_ENGINE_GRAD, &c->e, err);
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
    const wf_tensor *o = wf_engine_output(c->e, 0);
    if (o->dtype != WF_DTYPE_FLOAT || wf_numel(o) != n)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: the first output must hold one float per window (%lld for %lld "
                            "windows)",
                            u->m->name, (long long)wf_numel(o), (long long)n);
    memcpy(y, o->data, (size_t)n * sizeof *y);
    return WF_OK;
}

static wf_status predict(void *ctx, const float *x, int64_t n, float *y, wf_error *err) {
    mp_ctx *c = ctx;
    size_t ct = (size_t)c->u->C * (size_t)c->u->T;
    if (n > c->max_batch)
        return wf_error_set(err, WF_ERR_INVALID, "batch of %lld > max_batch %lld", (long long)n,
                            (long long)c->max_batch);
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
        return wf_error_set(err, WF_ERR_INVALID, "batch of %lld > max_batch %lld", (long long)n,
                            (long long)c->max_batch);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_status s = run_chunk(c, x + (size_t)i * ct, k, y + i, err);
        if (s)
            return s;
        for (int64_t j = 0; j < k; j++)
            c->dybuf[j] = 1.0f; /* windows are independent: d(sum y)/dx = per-window dy/dx */
        float *dst = u->layout == WF_LAYOUT_NTC ? c->dxbuf : dx + (size_t)i * ct;
        s = wf_engine_backward(c->e, 0, c->dybuf, 0, dst, err);
        if (s)
            return s;
        if (u->layout == WF_LAYOUT_NTC)
            from_ntc(dx + (size_t)i * ct, c->dxbuf, k, u->C, u->T);
    }
    return WF_OK;
}

static wf_status predict_hidden(void *ctx, const float *h, int64_t n, float *y, wf_error *err) {
    mp_ctx *c = ctx;
    mp_user *u = c->u;
    if (n > c->max_batch)
        return wf_error_set(err, WF_ERR_INVALID, "batch of %lld > max_batch %lld", (long long)n,
                            (long long)c->max_batch);
    for (int64_t i = 0; i < n; i += c->chunk) {
        int64_t k = n - i < c->chunk ? n - i : c->chunk;
        wf_tensor t;
        input_tensor(u, k, NULL, &t);
        wf_status s =
            wf_engine_run_from(c->e, &t, u->hidden_value, h + (size_t)i * (size_t)u->hidden, err);
        if (s)
            return s;
        const wf_tensor *o = wf_engine_output(c->e, 0);
        if (wf_numel(o) != k)
            return wf_error_set(err, WF_ERR_SHAPE,
                                "the first output must hold one value per "
                                "window");
        memcpy(y + i, o->data, (size_t)k * sizeof *y);
    }
    return WF_OK;
}

/* ---- affine first layer ---- */

static int n_consumers(const wf_model *m, int v) {
    int c = 0;
    for (int j = 0; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            c += m->nodes[j].in[k] == v;
    for (int i = 0; i < m->n_outputs; i++)
        c += m->outputs[i] == v;
    return c;
}

/* The single node consuming v (or NULL). */
static const wf_node *consumer(const wf_model *m, int v) {
    if (n_consumers(m, v) != 1)
        return NULL;
    for (int j = 0; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            if (m->nodes[j].in[k] == v)
                return &m->nodes[j];
    return NULL;
}

/* Value of a constant c broadcast to a cell of a tensor with dims xd (rank xr) at flat index e. */
static double bcast_at(const wf_tensor *c, const int64_t *xd, int xr, int64_t e) {
    int64_t off = 0, st = 1;
    for (int i = xr - 1; i >= 0; i--) {
        int64_t idx = e % xd[i];
        e /= xd[i];
        int ic = i - (xr - c->rank);
        if (ic >= 0) {
            if (c->dims[ic] != 1)
                off += idx * st;
            st *= c->dims[ic];
        }
    }
    return ((const float *)c->data)[off];
}

static int const_fits(const wf_tensor *c, const int64_t *xd, int xr) {
    if (c->dtype != WF_DTYPE_FLOAT || c->rank > xr)
        return 0;
    for (int i = 0; i < c->rank; i++) {
        int ix = i + (xr - c->rank);
        if (c->dims[i] != 1 && (ix == 0 || c->dims[i] != xd[ix]))
            return 0;
    }
    return 1;
}

/* Try to find the affine prefix; fills u->A, u->a0, u->hidden, u->hidden_value. 0 if none. */
static int find_affine(mp_user *u) {
    const wf_model *m = u->m;
    int64_t ct = (int64_t)u->C * u->T;
    int64_t xd[3];
    int xr;
    if (u->layout == WF_LAYOUT_FLAT) {
        xr = 2;
        xd[0] = 1;
        xd[1] = ct;
    } else {
        xr = 3;
        xd[0] = 1;
        xd[1] = u->layout == WF_LAYOUT_NCT ? u->C : u->T;
        xd[2] = u->layout == WF_LAYOUT_NCT ? u->T : u->C;
    }
    double *al = malloc((size_t)ct * sizeof *al), *be = malloc((size_t)ct * sizeof *be);
    if (!al || !be) {
        free(al);
        free(be);
        return 0;
    }
    for (int64_t e = 0; e < ct; e++) {
        al[e] = 1.0;
        be[e] = 0.0;
    }
    int v = m->inputs[0];
    int found = 0;
    for (int guard = 0; guard < 64; guard++) {
        const wf_node *n = consumer(m, v);
        if (!n)
            break;
        const char *op = n->op->name;
        if (!strcmp(op, "Sub") || !strcmp(op, "Div") || !strcmp(op, "Mul") || !strcmp(op, "Add")) {
            int xi = n->in[0] == v ? 0 : 1;
            const wf_value *cv = &m->vals[n->in[1 - xi]];
            if (cv->kind != WF_VAL_CONST || !const_fits(&cv->c, xd, xr))
                break;
            if ((!strcmp(op, "Div") && xi != 0))
                break;
            for (int64_t e = 0; e < ct; e++) {
                double c = bcast_at(&cv->c, xd, xr, e);
                if (op[0] == 'A')
                    be[e] += c;
                else if (op[0] == 'S' && xi == 0)
                    be[e] -= c;
                else if (op[0] == 'S') {
                    al[e] = -al[e];
                    be[e] = c - be[e];
                } else if (op[0] == 'M') {
                    al[e] *= c;
                    be[e] *= c;
                } else {
                    al[e] /= c;
                    be[e] /= c;
                }
            }
            v = n->out[0];
            continue;
        }
        if (!strcmp(op, "Flatten") || !strcmp(op, "Reshape")) {
            /* must keep the batch axis and flatten the rest: checked by the Gemm shape below */
            if (!strcmp(op, "Flatten") && n->p.axis != 1)
                break;
            if (!strcmp(op, "Reshape")) {
                const wf_value *sv = &m->vals[n->in[1]];
                if (sv->kind != WF_VAL_CONST || wf_numel(&sv->c) != 2)
                    break;
                const int64_t *sh = sv->c.data;
                if (!((sh[0] == -1 || sh[0] == 0) && (sh[1] == ct)) &&
                    !((sh[0] == 0) && sh[1] == -1))
                    break;
            }
            v = n->out[0];
            xr = 2;
            xd[1] = ct;
            continue;
        }
        if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul")) {
            if (xr != 2 || n->in[0] != v || n->p.trans_a)
                break;
            const wf_value *bv = &m->vals[n->in[1]];
            if (bv->kind != WF_VAL_CONST || bv->c.rank != 2)
                break;
            int tb = !strcmp(op, "Gemm") && n->p.trans_b;
            int64_t K = tb ? bv->c.dims[1] : bv->c.dims[0], H = tb ? bv->c.dims[0] : bv->c.dims[1];
            if (K != ct)
                break;
            const wf_tensor *cc = NULL;
            if (!strcmp(op, "Gemm") && n->n_in >= 3 && n->in[2] >= 0) {
                if (m->vals[n->in[2]].kind != WF_VAL_CONST)
                    break;
                cc = &m->vals[n->in[2]].c;
                if (wf_numel(cc) != H && wf_numel(cc) != 1)
                    break;
            }
            double ga = !strcmp(op, "Gemm") ? n->p.alpha : 1.0,
                   gb = !strcmp(op, "Gemm") ? n->p.beta : 0.0;
            u->A = malloc((size_t)(H * ct) * sizeof *u->A);
            u->a0 = malloc((size_t)H * sizeof *u->a0);
            if (!u->A || !u->a0)
                break;
            const float *B = bv->c.data;
            for (int64_t h = 0; h < H; h++) {
                double acc = cc ? gb * ((const float *)cc->data)[wf_numel(cc) == 1 ? 0 : h] : 0.0;
                for (int64_t e = 0; e < ct; e++) {
                    double w = tb ? B[h * K + e] : B[e * H + h];
                    acc += ga * w * be[e];
                    /* model cell e -> window cell (c, t) */
                    int64_t wc = e;
                    if (u->layout == WF_LAYOUT_NTC) {
                        int64_t t = e / u->C, ch = e % u->C;
                        wc = ch * u->T + t;
                    }
                    u->A[h * ct + wc] = (float)(ga * w * al[e]);
                }
                u->a0[h] = (float)acc;
            }
            u->hidden = H;
            u->hidden_value = n->out[0];
            found = 1;
            break;
        }
        break;
    }
    free(al);
    free(be);
    if (!found) {
        free(u->A);
        free(u->a0);
        u->A = u->a0 = NULL;
        u->hidden = 0;
        u->hidden_value = -1;
    }
    return found;
}

wf_status wf_model_predictor(const wf_model *m, int C, int T, wf_layout layout, wf_predictor *out,
                             wf_error *err) {
    memset(out, 0, sizeof *out);
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
    if (m->vals[m->outputs[0]].dtype != WF_DTYPE_FLOAT)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: output '%s' is not float32", m->name,
                            m->vals[m->outputs[0]].name);
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
    /* Check that the whole graph plans for these windows before handing out the predictor. */
    wf_engine *e = NULL;
    wf_tensor t;
    input_tensor(u, 1, NULL, &t);
    wf_status s = wf_engine_new(m, 1, 0, &e, err);
    if (!s) {
        float *zero = calloc((size_t)C * (size_t)T, sizeof *zero);
        t.data = zero;
        s = zero ? wf_engine_run(e, &t, 1, err) : wf_error_set(err, WF_ERR_NOMEM, "oom");
        if (!s && wf_numel(wf_engine_output(e, 0)) != 1)
            s = wf_error_set(err, WF_ERR_SHAPE,
                             "%s: the first output '%s' holds %lld values per window; a score "
                             "needs exactly one",
                             m->name, m->vals[m->outputs[0]].name,
                             (long long)wf_numel(wf_engine_output(e, 0)));
        free(zero);
        wf_engine_free(e);
    }
    if (s) {
        user_free(u);
        return s;
    }
    find_affine(u);
    out->C = C;
    out->T = T;
    out->user = u;
    out->ctx_new = ctx_new;
    out->ctx_free = ctx_free;
    out->predict = predict;
    out->grad = grad;
    out->surrogate = m->quantized ? WF_ENGINE_SURROGATE_STE : NULL;
    out->hidden = u->hidden;
    out->affine_a = u->A;
    out->affine_a0 = u->a0;
    out->predict_hidden = u->hidden ? predict_hidden : NULL;
    out->user_free = user_free;
    return WF_OK;
}
