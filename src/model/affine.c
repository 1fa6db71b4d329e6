/*
 * The affine first layer of a window model, for the KernelSHAP shortcut: when the graph starts
 * with elementwise Sub/Div/Mul/Add by constants (input normalization), optionally ReduceMean,
 * Flatten or Reshape, and then Gemm, MatMul or a 1-D Conv with constant weights, the first
 * layer's pre-activation is h = A x + a0 over the window's cells. A and a0 are computed in double
 * by pushing the map through the prefix: first as a per-cell scale and offset (diagonal), after
 * a ReduceMean as a dense matrix over the input cells.
 *
 * Through the input quantization of a QDQ model: a QuantizeLinear -> DequantizeLinear pair met
 * while the map is still per cell (before any ReduceMean) is not affine, but it maps each cell
 * on its own (scale and zero point per tensor or per non-batch axis). The map then restarts at
 * the DequantizeLinear's output u: h = A u + a0, and u = g(x) cell by cell, g being the prefix
 * as the engine runs it (the predictor's affine_input). Masking cells commutes with g, so the
 * caller quantizes the window and the background once. Weights that are constant-folded at plan
 * time (the int8 weights' DequantizeLinear) are read from a shapes-only plan, so A holds exactly
 * the dequantized floats the engine multiplies with.
 *
 * QOperator models (the quantized cells feed a QGemm or QLinearMatMul directly): the map restarts
 * at the QuantizeLinear's output and covers the op's int32 sums before their requantization, an
 * integer map (affine_qop.c); hidden_value is then the op's output and the predictor requantizes.
 */
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

typedef struct amap {
    int64_t ct; /* input cells */
    int xr;     /* current shape (batch axis 0 of size 1) */
    int64_t xd[WF_MAX_RANK];
    int64_t R;       /* current cells */
    int dense;       /* 0: z = al .* x + be; 1: z = M x + m0 */
    double *al, *be; /* (ct) */
    double *M, *m0;  /* (R, ct), (R) */
} amap;

static int64_t cells(const amap *s) {
    int64_t r = 1;
    for (int i = 1; i < s->xr; i++)
        r *= s->xd[i];
    return r;
}

/* dst (ct) += w * row r of the map; returns w * offset of row r. */
static double add_row(const amap *s, double *dst, int64_t r, double w) {
    if (!s->dense) {
        dst[r] += w * s->al[r];
        return w * s->be[r];
    }
    const double *row = s->M + r * s->ct;
    for (int64_t c = 0; c < s->ct; c++)
        dst[c] += w * row[c];
    return w * s->m0[r];
}

/* Constants, and values folded at plan time (the DequantizeLinear of int8 weights): the engine
 * is planned once, shapes only, on the first request and owns the folded data. */
typedef struct cvals {
    const wf_model *m;
    wf_engine *e;
    int tried;
} cvals;

static const wf_tensor *const_value(cvals *cv, int v) {
    if (v < 0)
        return NULL;
    const wf_value *val = &cv->m->vals[v];
    if (val->kind == WF_VAL_CONST)
        return &val->c;
    if (val->producer < 0)
        return NULL;
    if (!cv->tried) {
        wf_error err;
        cv->tried = 1;
        if (wf_engine_new(cv->m, 1, WF_ENGINE_SHAPES_ONLY, &cv->e, &err))
            cv->e = NULL;
        if (cv->e && wf_engine_flops(cv->e) < 0) { /* not planned */
            wf_engine_free(cv->e);
            cv->e = NULL;
        }
    }
    if (!cv->e || !wf_engine_node_folded(cv->e, val->producer))
        return NULL;
    const wf_tensor *t = wf_engine_value(cv->e, v);
    return t->data ? t : NULL;
}

/* Shape and Size read only the shape (folded at plan time): they do not consume the data. */
static int shape_reader(const wf_node *n) {
    return !strcmp(n->op->name, "Shape") || !strcmp(n->op->name, "Size");
}

static int n_consumers(const wf_model *m, int v) {
    int c = 0;
    for (int j = 0; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            c += m->nodes[j].in[k] == v && !shape_reader(&m->nodes[j]);
    for (int i = 0; i < m->n_outputs; i++)
        c += m->outputs[i] == v;
    return c;
}

static const wf_node *sole_consumer(const wf_model *m, int v) {
    if (n_consumers(m, v) != 1)
        return NULL;
    for (int j = 0; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            if (m->nodes[j].in[k] == v && !shape_reader(&m->nodes[j]))
                return &m->nodes[j];
    return NULL;
}

/* A Reshape whose target shape is computed (torch's x.view(x.size(0), -1)): planned at batch 2
 * (the model's batch axis must be free), it keeps rows when its output is [2, cells]. */
static int reshape_keeps_rows(const wf_model *m, const wf_node *n, int64_t cells_now) {
    const wf_value *x = &m->vals[m->inputs[0]];
    if (x->decl_rank < 1 || x->decl_dims[0] >= 0)
        return 0;
    wf_engine *e = NULL;
    wf_error err;
    if (wf_engine_new(m, 2, WF_ENGINE_SHAPES_ONLY, &e, &err))
        return 0;
    int ok = 0;
    if (wf_engine_flops(e) >= 0) { /* planned */
        const wf_tensor *t = wf_engine_value(e, n->out[0]);
        ok = t->rank == 2 && t->dims[0] == 2 && t->dims[1] == cells_now;
    }
    wf_engine_free(e);
    return ok;
}

/* Constant c broadcast to the current shape at flat index e (batch axis excluded from e). */
static double bcast_at(const wf_tensor *c, const amap *s, int64_t e) {
    int64_t off = 0, st = 1;
    for (int i = s->xr - 1; i >= 1; i--) {
        int64_t idx = e % s->xd[i];
        e /= s->xd[i];
        int ic = i - (s->xr - c->rank);
        if (ic >= 0) {
            if (c->dims[ic] != 1)
                off += idx * st;
            st *= c->dims[ic];
        }
    }
    return ((const float *)c->data)[off];
}

static int const_fits(const wf_tensor *c, const amap *s) {
    if (c->dtype != WF_DTYPE_FLOAT || c->rank > s->xr)
        return 0;
    for (int i = 0; i < c->rank; i++) {
        int ix = i + (s->xr - c->rank);
        if (c->dims[i] != 1 && (ix == 0 || c->dims[i] != s->xd[ix]))
            return 0;
    }
    return 1;
}

static int elementwise(amap *s, const wf_model *m, const wf_node *n, int v) {
    const char *op = n->op->name;
    int xi = n->in[0] == v ? 0 : 1;
    const wf_value *cv = &m->vals[n->in[1 - xi]];
    if (s->dense || cv->kind != WF_VAL_CONST || !const_fits(&cv->c, s))
        return 0;
    if (op[0] == 'D' && xi != 0)
        return 0;
    for (int64_t e = 0; e < s->ct; e++) {
        double c = bcast_at(&cv->c, s, e);
        if (op[0] == 'A') {
            s->be[e] += c;
        } else if (op[0] == 'S' && xi == 0) {
            s->be[e] -= c;
        } else if (op[0] == 'S') {
            s->al[e] = -s->al[e];
            s->be[e] = c - s->be[e];
        } else if (op[0] == 'M') {
            s->al[e] *= c;
            s->be[e] *= c;
        } else {
            s->al[e] /= c;
            s->be[e] /= c;
        }
    }
    return 1;
}

static int reduce_mean(amap *s, const wf_model *m, const wf_node *n) {
    int64_t axes[WF_MAX_RANK];
    int k = n->p.n_axes;
    memcpy(axes, n->p.axes, sizeof axes);
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const wf_value *av = &m->vals[n->in[1]];
        if (av->kind != WF_VAL_CONST || av->c.dtype != WF_DTYPE_INT64 || wf_numel(&av->c) > 8)
            return 0;
        k = (int)wf_numel(&av->c);
        memcpy(axes, av->c.data, (size_t)k * sizeof *axes);
    }
    if (s->dense || k == 0)
        return 0;
    int red[WF_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        int64_t a = wf_norm_axis(axes[i], s->xr);
        if (a <= 0)
            return 0; /* the batch axis must stay */
        red[a] = 1;
    }
    int64_t od[WF_MAX_RANK], ostr[WF_MAX_RANK], cnt = 1, acc = 1;
    int orank = 0;
    for (int i = s->xr - 1; i >= 1; i--) {
        ostr[i] = red[i] ? 0 : acc;
        if (red[i])
            cnt *= s->xd[i];
        else
            acc *= s->xd[i];
    }
    int64_t R2 = acc;
    if (R2 * s->ct > ((int64_t)1 << 24))
        return 0;
    for (int i = 0; i < s->xr; i++)
        if (i == 0 || !red[i] || n->p.keepdims)
            od[orank++] = red[i] ? 1 : s->xd[i];
    s->M = calloc((size_t)(R2 * s->ct), sizeof *s->M);
    s->m0 = calloc((size_t)R2, sizeof *s->m0);
    if (!s->M || !s->m0)
        return 0;
    for (int64_t e = 0; e < s->ct; e++) {
        int64_t rem = e, o = 0;
        for (int i = s->xr - 1; i >= 1; i--) {
            o += (rem % s->xd[i]) * ostr[i];
            rem /= s->xd[i];
        }
        s->M[o * s->ct + e] += s->al[e] / (double)cnt;
        s->m0[o] += s->be[e] / (double)cnt;
    }
    s->dense = 1;
    s->xr = orank;
    memcpy(s->xd, od, sizeof od);
    s->R = R2;
    return 1;
}

/* Final Gemm/MatMul: A (H, ct), a0 (H). */
static int linear(amap *s, cvals *cv, const wf_node *n, int v, double *A, double *a0, int64_t *H) {
    int gemm = !strcmp(n->op->name, "Gemm");
    if (s->xr != 2 || n->in[0] != v || (gemm && n->p.trans_a))
        return 0;
    const wf_tensor *bc = const_value(cv, n->in[1]);
    if (!bc || bc->rank != 2 || bc->dtype != WF_DTYPE_FLOAT)
        return 0;
    int tb = gemm && n->p.trans_b;
    int64_t K = tb ? bc->dims[1] : bc->dims[0], h = tb ? bc->dims[0] : bc->dims[1];
    if (K != s->R || !A)
        return K == s->R ? (int)(*H = h, 1) : 0;
    const wf_tensor *cc = NULL;
    if (gemm && n->n_in >= 3 && n->in[2] >= 0) {
        cc = const_value(cv, n->in[2]);
        if (!cc || cc->dtype != WF_DTYPE_FLOAT || (wf_numel(cc) != h && wf_numel(cc) != 1))
            return 0;
    }
    double ga = gemm ? n->p.alpha : 1.0, gb = gemm ? n->p.beta : 0.0;
    const float *B = bc->data;
    for (int64_t j = 0; j < h; j++) {
        double off = cc ? gb * ((const float *)cc->data)[wf_numel(cc) == 1 ? 0 : j] : 0.0;
        for (int64_t r = 0; r < K; r++)
            off += add_row(s, A + j * s->ct, r, ga * (tb ? B[j * K + r] : B[r * h + j]));
        a0[j] = off;
    }
    return 1;
}

/* Final 1-D Conv: A (Cout * Lout, ct), a0. */
static int conv(amap *s, cvals *cv, const wf_node *n, int v, double *A, double *a0, int64_t *H) {
    if (s->xr != 3 || n->in[0] != v)
        return 0;
    const wf_tensor *wc = const_value(cv, n->in[1]);
    if (!wc || wc->rank != 3 || wc->dtype != WF_DTYPE_FLOAT)
        return 0;
    const wf_tensor *bias = NULL;
    if (n->n_in >= 3 && n->in[2] >= 0) {
        bias = const_value(cv, n->in[2]);
        if (!bias || bias->dtype != WF_DTYPE_FLOAT)
            return 0;
    }
    wf_tensor x = {WF_DTYPE_FLOAT, 3, {1, s->xd[1], s->xd[2]}, NULL};
    wf_k_conv_geom g;
    if (wf_conv_geom(n, &x, wc, &g))
        return 0;
    int64_t L = g.in[0], Lo = g.out[0];
    *H = (int64_t)g.cout * Lo;
    if (!A)
        return 1;
    const float *w = wc->data;
    int cinpg = g.cin / g.group, coutpg = g.cout / g.group;
    for (int co = 0; co < g.cout; co++)
        for (int64_t l = 0; l < Lo; l++) {
            int64_t j = co * Lo + l;
            double off = bias ? ((const float *)bias->data)[co] : 0.0;
            for (int cg = 0; cg < cinpg; cg++) {
                int ci = (co / coutpg) * cinpg + cg;
                for (int k = 0; k < g.k[0]; k++) {
                    int64_t t = l * g.stride[0] - g.pad_begin[0] + (int64_t)k * g.dilation[0];
                    if (t < 0 || t >= L)
                        continue;
                    off += add_row(s, A + j * s->ct, ci * L + t,
                                   w[((size_t)co * cinpg + cg) * g.k[0] + k]);
                }
            }
            a0[j] = off;
        }
    return 1;
}

/* A QuantizeLinear or DequantizeLinear maps each cell on its own when its scale and zero point
 * are known at plan time and do not run along the batch axis. */
static int per_cell(const amap *s, cvals *cv, const wf_node *q) {
    const wf_tensor *sc = const_value(cv, q->in[1]);
    if (!sc)
        return 0;
    if (q->n_in >= 3 && q->in[2] >= 0 && !const_value(cv, q->in[2]))
        return 0;
    return wf_numel(sc) <= 1 || wf_norm_axis(q->p.axis, s->xr) > 0;
}

/* A QuantizeLinear -> DequantizeLinear pair on the per-cell map, each quantizing cell by cell.
 * Returns the DequantizeLinear, the map restarted (identity) at its output; else NULL. */
static const wf_node *through_qdq(amap *s, cvals *cv, const wf_node *q, int v) {
    if (s->dense || q->in[0] != v)
        return NULL;
    const wf_node *dq = sole_consumer(cv->m, q->out[0]);
    if (!dq || strcmp(dq->op->name, "DequantizeLinear") || dq->in[0] != q->out[0])
        return NULL;
    if (!per_cell(s, cv, q) || !per_cell(s, cv, dq))
        return NULL;
    for (int64_t e = 0; e < s->ct; e++) {
        s->al[e] = 1.0;
        s->be[e] = 0.0;
    }
    return dq;
}

int wf_affine_first_layer(const wf_model *m, wf_layout layout, int C, int T, float **Aout,
                          float **a0out, int64_t *hidden, int *hidden_value, int *input_value) {
    *Aout = *a0out = NULL;
    *hidden = 0;
    *hidden_value = -1;
    *input_value = -1;
    cvals cv = {m, NULL, 0};
    amap s;
    memset(&s, 0, sizeof s);
    s.ct = (int64_t)C * T;
    if (layout == WF_LAYOUT_FLAT) {
        s.xr = 2;
        s.xd[0] = 1;
        s.xd[1] = s.ct;
    } else {
        s.xr = 3;
        s.xd[0] = 1;
        s.xd[1] = layout == WF_LAYOUT_NCT ? C : T;
        s.xd[2] = layout == WF_LAYOUT_NCT ? T : C;
    }
    s.R = s.ct;
    s.al = malloc((size_t)s.ct * sizeof *s.al);
    s.be = calloc((size_t)s.ct, sizeof *s.be);
    double *A = NULL, *a0 = NULL;
    int found = 0;
    if (!s.al || !s.be)
        goto done;
    for (int64_t e = 0; e < s.ct; e++)
        s.al[e] = 1.0;
    int v = m->inputs[0];
    for (int guard = 0; guard < 64 && !found; guard++) {
        const wf_node *n = sole_consumer(m, v);
        if (!n)
            break;
        const char *op = n->op->name;
        int ok = 0;
        if (!strcmp(op, "Sub") || !strcmp(op, "Div") || !strcmp(op, "Mul") || !strcmp(op, "Add")) {
            ok = elementwise(&s, m, n, v);
        } else if (!strcmp(op, "ReduceMean")) {
            ok = reduce_mean(&s, m, n);
        } else if (!strcmp(op, "QuantizeLinear")) {
            const wf_node *dq = through_qdq(&s, &cv, n, v);
            ok = dq != NULL;
            if (ok) {
                n = dq;
                *input_value = dq->out[0];
            }
            /* QOperator: the quantized cells feed a QGemm or QLinearMatMul (affine_qop.c); A
             * maps u = x_q - za, cell by cell from the QuantizeLinear's output */
            const wf_node *qop = ok ? NULL : sole_consumer(m, n->out[0]);
            int64_t H = 0;
            if (qop && !s.dense && n->in[0] == v && s.xr == 2 && s.R == s.ct &&
                per_cell(&s, &cv, n) && wf_affine_qop(m, qop, n->out[0], s.R, NULL, NULL, &H)) {
                A = calloc((size_t)(H * s.ct), sizeof *A);
                a0 = calloc((size_t)H, sizeof *a0);
                if (!A || !a0 || !wf_affine_qop(m, qop, n->out[0], s.R, A, a0, &H))
                    break;
                *hidden = H;
                *hidden_value = qop->out[0];
                *input_value = n->out[0];
                found = 1;
                break;
            }
        } else if (!strcmp(op, "Flatten") || !strcmp(op, "Reshape")) {
            ok = 1;
            if (!strcmp(op, "Flatten") && n->p.axis != 1)
                ok = 0;
            if (!strcmp(op, "Reshape")) {
                const wf_value *sv = &m->vals[n->in[1]];
                const int64_t *sh = sv->c.data;
                ok = sv->kind == WF_VAL_CONST && wf_numel(&sv->c) == 2 &&
                     (((sh[0] == -1 || sh[0] == 0) && sh[1] == cells(&s)) ||
                      (sh[0] == 0 && sh[1] == -1));
                if (sv->kind != WF_VAL_CONST)
                    ok = reshape_keeps_rows(m, n, cells(&s));
            }
            if (ok) {
                s.R = cells(&s);
                s.xr = 2;
                s.xd[1] = s.R;
            }
        } else if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul") || !strcmp(op, "Conv")) {
            int is_conv = !strcmp(op, "Conv");
            int64_t H = 0;
            /* first pass: size; second: fill */
            if (!(is_conv ? conv(&s, &cv, n, v, NULL, NULL, &H)
                          : linear(&s, &cv, n, v, NULL, NULL, &H)))
                break;
            A = calloc((size_t)(H * s.ct), sizeof *A);
            a0 = calloc((size_t)H, sizeof *a0);
            if (!A || !a0 || H * s.ct > ((int64_t)1 << 26))
                break;
            if (!(is_conv ? conv(&s, &cv, n, v, A, a0, &H) : linear(&s, &cv, n, v, A, a0, &H)))
                break;
            *hidden = H;
            *hidden_value = n->out[0];
            found = 1;
            break;
        }
        if (!ok)
            break;
        v = n->out[0];
    }
    if (found) {
        float *Af = malloc((size_t)(*hidden * s.ct) * sizeof *Af);
        float *a0f = malloc((size_t)*hidden * sizeof *a0f);
        if (!Af || !a0f) {
            free(Af);
            free(a0f);
            found = 0;
            *hidden = 0;
            *hidden_value = -1;
            *input_value = -1;
            goto done;
        }
        for (int64_t j = 0; j < *hidden; j++) {
            a0f[j] = (float)a0[j];
            for (int64_t e = 0; e < s.ct; e++) {
                int64_t wc = e; /* model cell e -> window cell (c, t) */
                if (layout == WF_LAYOUT_NTC)
                    wc = (e % C) * T + e / C;
                Af[j * s.ct + wc] = (float)A[j * s.ct + e];
            }
        }
        *Aout = Af;
        *a0out = a0f;
    }
done:
    if (!found)
        *input_value = -1;
    wf_engine_free(cv.e);
    free(s.al);
    free(s.be);
    free(s.M);
    free(s.m0);
    free(A);
    free(a0);
    return found;
}
