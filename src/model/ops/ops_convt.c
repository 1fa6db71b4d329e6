/*
 * ConvTranspose, 1-D and 2-D (the decoder of convolutional autoencoders): strides, dilations,
 * pads, group, output_padding; auto_pad NOTSET or VALID. Not supported (rejected at load):
 * output_shape, auto_pad SAME_*. 1-D runs as 2-D with a height of 1.
 *
 * Forward scatters every input element through the kernel into a double accumulator per batch
 * row (scratch), which is the naive reference; backward with respect to X gathers the same
 * positions from dY. Weights take no gradient.
 *   X: (N, C, [H,] W)   Wt: (C, M/group, [kH,] kW)   B: (M)   Y: (N, M, [oH,] oW)
 *   o = i * stride + k * dilation - pad_begin
 */
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"

static wf_status convt_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 2 || n->n_in > 3 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs X, W (and B) and 1 output");
    for (int i = 0; i < n->n_in; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    wf_status s = wf_window_attrs(n, err);
    if (s)
        return s;
    if (n->p.auto_pad == 1 || n->p.auto_pad == 2)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "auto_pad SAME_* is not supported");
    if (wf_attr_find(n, "output_shape"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "the output_shape attribute is not supported (use pads and "
                             "output_padding)");
    int64_t op[4] = {0, 0, 0, 0};
    int k = wf_attr_ints(n, "output_padding", op, 4);
    if (k > 2)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "only 1-D and 2-D are supported");
    n->p.pads_attr[0] = k > 0 ? op[0] : 0;
    n->p.pads_attr[1] = k > 1 ? op[1] : 0;
    n->p.n_pads = k > 0 ? k : 0;
    if (n->p.group < 1)
        return wf_node_error(err, WF_ERR_INVALID, n, "group must be >= 1");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

typedef struct ct_geom {
    int64_t N, C, M, G, Cg, Mg;
    int64_t ih, iw, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
} ct_geom;

/* 0, or -1 when shapes do not fit. Works for rank 3 (1-D) and rank 4 (2-D). */
static int ct_setup(const wf_node *n, const wf_tensor *x, const wf_tensor *w, ct_geom *g) {
    int r = x->rank;
    if ((r != 3 && r != 4) || w->rank != r)
        return -1;
    int two = r == 4;
    const wf_params *p = &n->p;
    if (p->nsp && p->nsp != r - 2)
        return -1;
    g->N = x->dims[0];
    g->C = x->dims[1];
    g->G = p->group;
    if (w->dims[0] != g->C || g->C % g->G)
        return -1;
    g->Cg = g->C / g->G;
    g->Mg = w->dims[1];
    g->M = g->Mg * g->G;
    g->ih = two ? x->dims[2] : 1;
    g->iw = x->dims[r - 1];
    g->kh = two ? w->dims[2] : 1;
    g->kw = w->dims[r - 1];
    if (p->nsp && (p->kernel[0] != (two ? g->kh : g->kw) || (two && p->kernel[1] != g->kw)))
        return -1;
    /* attribute index of each axis: 2-D (h, w) = (0, 1); 1-D w = 0 */
    int aw = two ? 1 : 0;
    g->sh = two ? p->strides[0] : 1;
    g->sw = p->strides[aw];
    g->dh = two ? p->dil[0] : 1;
    g->dw = p->dil[aw];
    int valid = p->auto_pad == 3;
    int64_t phb = two && !valid ? p->pads[0] : 0, phe = two && !valid ? p->pads[2] : 0;
    int64_t pwb = valid ? 0 : p->pads[aw], pwe = valid ? 0 : p->pads[2 + aw];
    g->ph = phb;
    g->pw = pwb;
    int64_t oph = two ? p->pads_attr[0] : 0, opw = p->pads_attr[aw];
    g->oh = g->sh * (g->ih - 1) + oph + (g->kh - 1) * g->dh + 1 - phb - phe;
    g->ow = g->sw * (g->iw - 1) + opw + (g->kw - 1) * g->dw + 1 - pwb - pwe;
    if (g->oh < 1 || g->ow < 1)
        return -1;
    return 0;
}

static wf_status convt_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    ct_geom g;
    if (ct_setup(n, in[0], in[1], &g))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "X (rank %d) and W (rank %d) do not fit a 1-D or 2-D ConvTranspose "
                             "with these attributes",
                             in[0]->rank, in[1]->rank);
    if (n->n_in > 2 && in[2] && wf_numel(in[2]) != g.M)
        return wf_node_error(err, WF_ERR_SHAPE, n, "B holds %lld values for %lld outputs",
                             (long long)wf_numel(in[2]), (long long)g.M);
    int r = in[0]->rank;
    out[0]->rank = r;
    out[0]->dims[0] = g.N;
    out[0]->dims[1] = g.M;
    if (r == 4)
        out[0]->dims[2] = g.oh;
    out[0]->dims[r - 1] = g.ow;
    *scratch = (size_t)(g.M * g.oh * g.ow) * sizeof(double);
    return wf_check_numel(n, out[0], err);
}

static void convt_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    ct_geom g;
    ct_setup(n, in[0], in[1], &g);
    const float *X = in[0]->data, *W = in[1]->data;
    const float *B = n->n_in > 2 && in[2] ? in[2]->data : NULL;
    float *Y = out[0]->data;
    double *acc = s;
    int64_t osz = g.oh * g.ow, isz = g.ih * g.iw, ksz = g.kh * g.kw;
    for (int64_t b = 0; b < g.N; b++) {
        for (int64_t m = 0; m < g.M; m++)
            for (int64_t o = 0; o < osz; o++)
                acc[m * osz + o] = B ? B[m] : 0.0;
        for (int64_t c = 0; c < g.C; c++) {
            int64_t grp = c / g.Cg;
            const float *xc = X + (b * g.C + c) * isz;
            for (int64_t mm = 0; mm < g.Mg; mm++) {
                const float *wk = W + (c * g.Mg + mm) * ksz;
                double *ac = acc + (grp * g.Mg + mm) * osz;
                for (int64_t i = 0; i < g.ih; i++)
                    for (int64_t j = 0; j < g.iw; j++) {
                        double xv = xc[i * g.iw + j];
                        for (int64_t ki = 0; ki < g.kh; ki++) {
                            int64_t oi = i * g.sh + ki * g.dh - g.ph;
                            if (oi < 0 || oi >= g.oh)
                                continue;
                            for (int64_t kj = 0; kj < g.kw; kj++) {
                                int64_t oj = j * g.sw + kj * g.dw - g.pw;
                                if (oj >= 0 && oj < g.ow)
                                    ac[oi * g.ow + oj] += xv * wk[ki * g.kw + kj];
                            }
                        }
                    }
            }
        }
        for (int64_t e = 0; e < g.M * osz; e++)
            Y[b * g.M * osz + e] = (float)acc[e];
    }
}

static void convt_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    if (!gin[0])
        return;
    ct_geom g;
    ct_setup(n, in[0], in[1], &g);
    const float *W = in[1]->data, *dY = gout[0];
    int64_t osz = g.oh * g.ow, isz = g.ih * g.iw, ksz = g.kh * g.kw;
    for (int64_t b = 0; b < g.N; b++)
        for (int64_t c = 0; c < g.C; c++) {
            int64_t grp = c / g.Cg;
            float *dx = gin[0] + (b * g.C + c) * isz;
            for (int64_t i = 0; i < g.ih; i++)
                for (int64_t j = 0; j < g.iw; j++) {
                    double a = 0;
                    for (int64_t mm = 0; mm < g.Mg; mm++) {
                        const float *wk = W + (c * g.Mg + mm) * ksz;
                        const float *dy = dY + (b * g.M + grp * g.Mg + mm) * osz;
                        for (int64_t ki = 0; ki < g.kh; ki++) {
                            int64_t oi = i * g.sh + ki * g.dh - g.ph;
                            if (oi < 0 || oi >= g.oh)
                                continue;
                            for (int64_t kj = 0; kj < g.kw; kj++) {
                                int64_t oj = j * g.sw + kj * g.dw - g.pw;
                                if (oj >= 0 && oj < g.ow)
                                    a += (double)dy[oi * g.ow + oj] * wk[ki * g.kw + kj];
                            }
                        }
                    }
                    dx[i * g.iw + j] += (float)a;
                }
        }
}

static int64_t convt_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)out;
    ct_geom g;
    if (ct_setup(n, in[0], in[1], &g))
        return 0;
    return 2 * g.N * g.C * g.ih * g.iw * g.Mg * g.kh * g.kw;
}

const wf_opdef wf_op_conv_transpose = {"ConvTranspose", convt_check, convt_shape, convt_fwd,
                                       convt_bwd,       0,           convt_flops};
