/*
 * Conv (1-D and 2-D, pads, auto_pad, strides, dilations, group), MaxPool and AveragePool (1-D
 * and 2-D), GlobalAveragePool, GlobalMaxPool, BatchNormalization (inference). The geometry is
 * resolved here (auto_pad -> explicit pads) and handed to the kernels.
 */
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

/* Attributes shared by Conv and the pools. */
wf_status wf_window_attrs(wf_node *n, wf_error *err) {
    wf_params *p = &n->p;
    int64_t tmp[8];
    int k = wf_attr_ints(n, "kernel_shape", tmp, 8);
    if (k > 2)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "%d spatial dims; only 1-D and 2-D are supported", k);
    p->nsp = k > 0 ? k : 0;
    for (int i = 0; i < 2; i++) {
        p->kernel[i] = i < k ? tmp[i] : 0;
        p->strides[i] = 1;
        p->dil[i] = 1;
    }
    p->pads[0] = p->pads[1] = p->pads[2] = p->pads[3] = 0;
    int ks = wf_attr_ints(n, "strides", tmp, 8);
    for (int i = 0; i < ks && i < 2; i++)
        p->strides[i] = tmp[i];
    int kd = wf_attr_ints(n, "dilations", tmp, 8);
    for (int i = 0; i < kd && i < 2; i++)
        p->dil[i] = tmp[i];
    int kp = wf_attr_ints(n, "pads", tmp, 8);
    if (kp > 4 || (ks > 2) || (kd > 2))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "more than 2 spatial dims; only 1-D and 2-D are supported");
    if (kp > 0) {
        int sp = kp / 2;
        for (int i = 0; i < sp; i++) {
            p->pads[i] = tmp[i];
            p->pads[2 + i] = tmp[sp + i];
        }
    }
    for (int i = 0; i < 2; i++)
        if (p->strides[i] < 1 || p->dil[i] < 1 || p->kernel[i] < 0 || p->pads[i] < 0 ||
            p->pads[2 + i] < 0 || p->strides[i] > INT32_MAX || p->dil[i] > INT32_MAX ||
            p->kernel[i] > INT32_MAX || p->pads[i] > INT32_MAX || p->pads[2 + i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_INVALID, n,
                                 "strides/dilations must be >= 1, kernel and pads >= 0");
    const char *ap = wf_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET"))
        p->auto_pad = 0;
    else if (!strcmp(ap, "SAME_UPPER"))
        p->auto_pad = 1;
    else if (!strcmp(ap, "SAME_LOWER"))
        p->auto_pad = 2;
    else if (!strcmp(ap, "VALID"))
        p->auto_pad = 3;
    else
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "auto_pad '%s' is not supported", ap);
    p->group = wf_attr_int(n, "group", 1);
    p->ceil_mode = (int)wf_attr_int(n, "ceil_mode", 0);
    p->count_include_pad = (int)wf_attr_int(n, "count_include_pad", 0);
    return WF_OK;
}

/* Resolve pads for one spatial axis under auto_pad. */
static void resolve_pad(const wf_params *p, int i, int64_t in, int64_t k, int64_t *b, int64_t *e) {
    *b = p->pads[i];
    *e = p->pads[2 + i];
    if (p->auto_pad == 3) {
        *b = *e = 0;
    } else if (p->auto_pad == 1 || p->auto_pad == 2) {
        int64_t out = (in + p->strides[i] - 1) / p->strides[i];
        int64_t total = (out - 1) * p->strides[i] + (k - 1) * p->dil[i] + 1 - in;
        if (total < 0)
            total = 0;
        *b = p->auto_pad == 1 ? total / 2 : total - total / 2;
        *e = total - *b;
    }
}

/* ---- Conv ---- */
static wf_status conv_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs X, W (and optional B)");
    for (int i = 0; i < 3; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return wf_window_attrs(n, err);
}

int wf_conv_geom(const wf_node *n, const wf_tensor *x, const wf_tensor *w, wf_k_conv_geom *g) {
    int nsp = x->rank - 2;
    if (nsp < 1 || nsp > 2 || w->rank != x->rank)
        return -1;
    if (n->p.nsp && n->p.nsp != nsp)
        return -1;
    memset(g, 0, sizeof *g);
    g->n = (int)x->dims[0];
    g->cin = (int)x->dims[1];
    g->cout = (int)w->dims[0];
    g->group = (int)n->p.group;
    g->ndim = nsp;
    if (g->group < 1 || g->cin % g->group || g->cout % g->group ||
        w->dims[1] * g->group != x->dims[1])
        return -2;
    for (int i = 0; i < nsp; i++) {
        int64_t k = w->dims[2 + i];
        if (n->p.nsp && n->p.kernel[i] != k)
            return -3;
        int64_t b, e;
        resolve_pad(&n->p, i, x->dims[2 + i], k, &b, &e);
        g->in[i] = (int)x->dims[2 + i];
        g->k[i] = (int)k;
        g->pad_begin[i] = (int)b;
        g->pad_end[i] = (int)e;
        g->stride[i] = (int)n->p.strides[i];
        g->dilation[i] = (int)n->p.dil[i];
    }
    return wf_k_conv_geom_finish(g) ? -4 : 0;
}

static wf_status conv_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    for (int i = 0; i < in[0]->rank; i++)
        if (in[0]->dims[i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_SHAPE, n, "dimension too large");
    wf_k_conv_geom g;
    int rc = wf_conv_geom(n, in[0], in[1], &g);
    if (rc == -1)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "X must be (N, C, L) or (N, C, H, W) with W of the same rank "
                             "(got ranks %d and %d)",
                             in[0]->rank, in[1]->rank);
    if (rc == -2)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "channels do not fit the group: X has %lld, W (%lld, %lld), "
                             "group %lld",
                             (long long)in[0]->dims[1], (long long)in[1]->dims[0],
                             (long long)in[1]->dims[1], (long long)n->p.group);
    if (rc == -3)
        return wf_node_error(err, WF_ERR_SHAPE, n, "kernel_shape disagrees with W");
    if (rc == -4)
        return wf_node_error(err, WF_ERR_SHAPE, n, "the kernel does not fit the padded input");
    if (n->n_in >= 3 && in[2] && wf_numel(in[2]) != g.cout)
        return wf_node_error(err, WF_ERR_SHAPE, n, "B has %lld values for %d output channels",
                             (long long)wf_numel(in[2]), g.cout);
    out[0]->rank = in[0]->rank;
    out[0]->dims[0] = g.n;
    out[0]->dims[1] = g.cout;
    for (int i = 0; i < g.ndim; i++)
        out[0]->dims[2 + i] = g.out[i];
    size_t a = wf_k_conv_forward_scratch_size(&g), b = wf_k_conv_backward_scratch_size(&g);
    *scratch = (a > b ? a : b) * sizeof(float);
    return wf_check_numel(n, out[0], err);
}

static void conv_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[1], &g);
    const float *bias = n->n_in >= 3 && in[2] ? in[2]->data : NULL;
    wf_k_conv_forward(out[0]->data, in[0]->data, in[1]->data, bias, &g, s);
}

/* Conv with the Relu that alone reads its output fused in (the engine decides, engine.c). */
void wf_op_conv_relu_forward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             void *s) {
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[1], &g);
    const float *bias = n->n_in >= 3 && in[2] ? in[2]->data : NULL;
    wf_k_conv_relu_forward(out[0]->data, in[0]->data, in[1]->data, bias, &g, s);
}

static void conv_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)out;
    if (!gin[0])
        return; /* weight gradients are never needed */
    wf_k_conv_geom g;
    wf_conv_geom(n, in[0], in[1], &g);
    wf_k_conv_backward_input(gin[0], gout[0], in[1]->data, &g, s);
}

static int64_t conv_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    int64_t kk = 1;
    for (int i = 1; i < in[1]->rank; i++)
        kk *= in[1]->dims[i];
    return 2 * wf_numel(out[0]) * kk + (n->n_in >= 3 && in[2] ? wf_numel(out[0]) : 0);
}

const wf_opdef wf_op_conv = {"Conv", conv_check, conv_shape, conv_fwd, conv_bwd, 0, conv_flops};

/* ---- MaxPool / AveragePool ---- */
static wf_status pool_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out < 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    if (n->n_out > 1 && n->out[1] >= 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "the Indices output of MaxPool is not supported");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    s = wf_window_attrs(n, err);
    if (s)
        return s;
    if (!n->p.nsp)
        return wf_node_error(err, WF_ERR_PARSE, n, "attribute kernel_shape is required");
    if (wf_attr_int(n, "storage_order", 0) != 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "storage_order=1 is not supported");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static int pool_geom(const wf_node *n, const wf_tensor *x, wf_k_pool_geom *g) {
    int nsp = x->rank - 2;
    if (nsp != n->p.nsp)
        return -1;
    memset(g, 0, sizeof *g);
    g->n = (int)x->dims[0];
    g->c = (int)x->dims[1];
    g->ndim = nsp;
    for (int i = 0; i < nsp; i++) {
        int64_t b, e;
        resolve_pad(&n->p, i, x->dims[2 + i], n->p.kernel[i], &b, &e);
        g->in[i] = (int)x->dims[2 + i];
        g->k[i] = (int)n->p.kernel[i];
        g->pad_begin[i] = (int)b;
        g->pad_end[i] = (int)e;
        g->stride[i] = (int)n->p.strides[i];
        g->dilation[i] = (int)n->p.dil[i];
    }
    g->ceil_mode = n->p.ceil_mode;
    g->count_include_pad = n->p.count_include_pad;
    return wf_k_pool_geom_finish(g) ? -2 : 0;
}

static wf_status pool_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    for (int i = 0; i < in[0]->rank; i++)
        if (in[0]->dims[i] > INT32_MAX)
            return wf_node_error(err, WF_ERR_SHAPE, n, "dimension too large");
    wf_k_pool_geom g;
    int rc = pool_geom(n, in[0], &g);
    if (rc == -1)
        return wf_node_error(err, WF_ERR_SHAPE, n, "input rank %d does not fit kernel_shape (%d)",
                             in[0]->rank, n->p.nsp);
    if (rc)
        return wf_node_error(err, WF_ERR_SHAPE, n, "the window does not fit the padded input");
    out[0]->rank = in[0]->rank;
    out[0]->dims[0] = g.n;
    out[0]->dims[1] = g.c;
    for (int i = 0; i < g.ndim; i++)
        out[0]->dims[2 + i] = g.out[i];
    /* MaxPool backward recomputes the argmax: (out) floats + (out) int32 */
    *scratch = (size_t)wf_numel(out[0]) * (sizeof(float) + sizeof(int32_t));
    return wf_check_numel(n, out[0], err);
}

static int is_max(const wf_node *n) {
    return n->op->name[0] == 'M';
}

static void pool_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    wf_k_pool_geom g;
    pool_geom(n, in[0], &g);
    if (is_max(n))
        wf_k_maxpool_forward(out[0]->data, NULL, in[0]->data, &g);
    else
        wf_k_avgpool_forward(out[0]->data, in[0]->data, &g);
}

static void pool_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    if (!gin[0])
        return;
    wf_k_pool_geom g;
    pool_geom(n, in[0], &g);
    if (is_max(n)) {
        size_t no = (size_t)wf_numel(out[0]);
        float *tmp = s;
        int32_t *arg = (int32_t *)(void *)(tmp + no);
        wf_k_maxpool_forward(tmp, arg, in[0]->data, &g);
        wf_k_maxpool_backward(gin[0], gout[0], arg, &g);
    } else {
        wf_k_avgpool_backward(gin[0], gout[0], &g);
    }
}

static int64_t pool_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)in;
    int64_t kk = 1;
    for (int i = 0; i < n->p.nsp; i++)
        kk *= n->p.kernel[i];
    return wf_numel(out[0]) * kk;
}

const wf_opdef wf_op_maxpool = {"MaxPool", pool_check, pool_shape, pool_fwd,
                                pool_bwd,  0,          pool_flops};
const wf_opdef wf_op_avgpool = {"AveragePool", pool_check, pool_shape, pool_fwd,
                                pool_bwd,      0,          pool_flops};

/* ---- GlobalAveragePool / GlobalMaxPool ---- */
static wf_status gpool_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 1 || n->in[0] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 1 input and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status gpool_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             size_t *scratch, wf_error *err) {
    if (in[0]->rank < 3)
        return wf_node_error(err, WF_ERR_SHAPE, n, "input must be (N, C, spatial...), rank %d",
                             in[0]->rank);
    *out[0] = *in[0];
    out[0]->data = NULL;
    for (int i = 2; i < in[0]->rank; i++)
        out[0]->dims[i] = 1;
    *scratch = (size_t)wf_numel(out[0]) * (sizeof(float) + sizeof(int32_t));
    return WF_OK;
}

static void gpool_geom(const wf_tensor *x, size_t *nc, size_t *s) {
    *nc = (size_t)(x->dims[0] * x->dims[1]);
    *s = 1;
    for (int i = 2; i < x->rank; i++)
        *s *= (size_t)x->dims[i];
}

static void gpool_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *sc) {
    (void)sc;
    size_t nc, s;
    gpool_geom(in[0], &nc, &s);
    if (n->op->name[6] == 'M')
        wf_k_global_maxpool_forward(out[0]->data, NULL, in[0]->data, nc, s);
    else
        wf_k_global_avgpool_forward(out[0]->data, in[0]->data, nc, s);
}

static void gpool_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                      float *const *gin, float *const *gout, void *sc) {
    (void)out;
    if (!gin[0])
        return;
    size_t nc, s;
    gpool_geom(in[0], &nc, &s);
    if (n->op->name[6] == 'M') {
        float *tmp = sc;
        int32_t *arg = (int32_t *)(void *)(tmp + nc);
        wf_k_global_maxpool_forward(tmp, arg, in[0]->data, nc, s);
        wf_k_global_maxpool_backward(gin[0], gout[0], arg, nc, s);
    } else {
        wf_k_global_avgpool_backward(gin[0], gout[0], nc, s);
    }
}

static int64_t gpool_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return wf_numel(in[0]);
}

const wf_opdef wf_op_gavgpool = {"GlobalAveragePool", gpool_check, gpool_shape, gpool_fwd,
                                 gpool_bwd,           0,           gpool_flops};
const wf_opdef wf_op_gmaxpool = {"GlobalMaxPool", gpool_check, gpool_shape, gpool_fwd,
                                 gpool_bwd,       0,           gpool_flops};

/* ---- BatchNormalization (inference) ---- */
static wf_status bn_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 5 || n->n_out < 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs X, scale, B, mean, var");
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "training-mode BatchNormalization (running mean/var outputs) is "
                                 "not supported; export the model in eval mode");
    if (wf_attr_int(n, "training_mode", 0))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "training-mode BatchNormalization (training_mode=1) is not "
                             "supported; export the model in eval mode");
    if (n->opset < 7 && wf_attr_find(n, "is_test") && !wf_attr_int(n, "is_test", 0))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "training-mode BatchNormalization (is_test=0) is not supported");
    if (n->opset < 9 && !wf_attr_int(n, "spatial", 1))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "spatial=0 is not supported");
    for (int i = 0; i < 5; i++) {
        if (n->in[i] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "input %d is missing", i);
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    n->p.eps = wf_attr_float(n, "epsilon", 1e-5f);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status bn_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err) {
    (void)scratch;
    if (in[0]->rank < 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must have rank >= 2");
    for (int i = 1; i < 5; i++)
        if (wf_numel(in[i]) != in[0]->dims[1])
            return wf_node_error(err, WF_ERR_SHAPE, n, "input %d has %lld values for %lld channels",
                                 i, (long long)wf_numel(in[i]), (long long)in[0]->dims[1]);
    *out[0] = *in[0];
    out[0]->data = NULL;
    return WF_OK;
}

static void bn_geom(const wf_tensor *x, size_t *nn, size_t *c, size_t *s) {
    *nn = (size_t)x->dims[0];
    *c = (size_t)x->dims[1];
    *s = 1;
    for (int i = 2; i < x->rank; i++)
        *s *= (size_t)x->dims[i];
}

static void bn_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *sc) {
    (void)sc;
    size_t nn, c, s;
    bn_geom(in[0], &nn, &c, &s);
    wf_k_batchnorm_forward(out[0]->data, in[0]->data, in[1]->data, in[2]->data, in[3]->data,
                           in[4]->data, n->p.eps, nn, c, s);
}

static void bn_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, float *const *gin,
                   float *const *gout, void *sc) {
    (void)sc;
    (void)out;
    if (!gin[0])
        return;
    size_t nn, c, s;
    bn_geom(in[0], &nn, &c, &s);
    wf_k_batchnorm_backward(gin[0], gout[0], in[1]->data, in[4]->data, n->p.eps, nn, c, s);
}

static int64_t bn_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    return 2 * wf_numel(in[0]);
}

const wf_opdef wf_op_batchnorm = {
    "BatchNormalization", bn_check, bn_shape, bn_fwd, bn_bwd, 0, bn_flops};
