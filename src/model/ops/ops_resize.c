/*
 * Resize (and Upsample, opset < 10) over the spatial axes of [N, C, W] or [N, C, H, W]: the
 * decoders of convolutional autoencoders (torch nn.Upsample). Modes nearest (nearest_mode
 * round_prefer_floor, round_prefer_ceil, floor, ceil) and linear; coordinate transformations
 * half_pixel, pytorch_half_pixel, align_corners, asymmetric. Scales or sizes known at plan time;
 * N and C are not resized. Rejected at load or plan, naming the node: cubic, tf_crop_and_resize,
 * antialias, exclude_outside, the axes attribute, keep_aspect_ratio_policy other than stretch.
 *
 * Each output coordinate maps to two input positions with weights (nearest: one with weight 1),
 * per axis; the output is the separable weighted sum, the backward scatters the same weights.
 */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"

enum { CT_HALF, CT_PYTORCH_HALF, CT_ALIGN, CT_ASYM };
enum { NM_RPF, NM_RPC, NM_FLOOR, NM_CEIL };

static int pick(const char *v, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

static wf_status resize_check(wf_node *n, wf_value *vals, wf_error *err) {
    int up = !strcmp(n->op->name, "Upsample");
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != 1 || n->out[0] < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs X and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    const char *mode = wf_attr_str(n, "mode", "nearest");
    static const char *const modes[] = {"nearest", "linear", "bilinear"};
    int m = pick(mode, modes, 3);
    if (m < 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "mode '%s' is not supported (nearest, linear)", mode);
    n->p.kind = m > 0;
    static const char *const cts[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                      "asymmetric"};
    const char *ct = wf_attr_str(n, "coordinate_transformation_mode",
                                 up || n->opset < 11 ? "asymmetric" : "half_pixel");
    int c = pick(ct, cts, 4);
    if (c < 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "coordinate_transformation_mode '%s' is not supported (half_pixel, "
                             "pytorch_half_pixel, align_corners, asymmetric)",
                             ct);
    n->p.trans_a = c;
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const char *nm = wf_attr_str(n, "nearest_mode", "round_prefer_floor");
    int k = pick(nm, nms, 4);
    if (k < 0)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "nearest_mode '%s' is not supported", nm);
    n->p.trans_b = up || n->opset < 11 ? NM_FLOOR : k;
    if (wf_attr_int(n, "exclude_outside", 0) || wf_attr_int(n, "antialias", 0) ||
        wf_attr_find(n, "axes"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "exclude_outside, antialias and axes are not supported");
    if (strcmp(wf_attr_str(n, "keep_aspect_ratio_policy", "stretch"), "stretch"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "keep_aspect_ratio_policy other than stretch is not supported");
    for (int i = 1; i < n->n_in; i++) {
        s = wf_check_dtype(n, vals, i, i == 3 ? WF_DT_BIT(WF_DTYPE_INT64) : WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

/* Scale per axis (scales input or attribute) and output dims; 0 or an error. */
static wf_status resize_dims(const wf_node *n, wf_tensor *const *in, double *scale, int64_t *odims,
                             wf_error *err) {
    const wf_tensor *x = in[0];
    int r = x->rank;
    if (r != 3 && r != 4)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "X must be [N, C, W] or [N, C, H, W]");
    int up = !strcmp(n->op->name, "Upsample");
    const wf_tensor *sc = NULL, *sz = NULL;
    if (up || n->opset < 11)
        sc = n->n_in > 1 ? in[1] : NULL;
    else {
        sc = n->n_in > 2 && in[2] && wf_numel(in[2]) > 0 ? in[2] : NULL;
        sz = n->n_in > 3 && in[3] && wf_numel(in[3]) > 0 ? in[3] : NULL;
    }
    if (n->n_in > 1 && !up && n->opset >= 11 && in[1] && wf_numel(in[1]) > 0 &&
        !strcmp(wf_attr_str(n, "coordinate_transformation_mode", ""), "tf_crop_and_resize"))
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n, "tf_crop_and_resize is not supported");
    const wf_attr *sa = wf_attr_find(n, "scales");
    for (int i = 0; i < r; i++) {
        scale[i] = 1.0;
        odims[i] = x->dims[i];
    }
    if (sz) {
        if (!sz->data || wf_numel(sz) != r)
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "sizes must hold %d values known at plan time", r);
        for (int i = 0; i < r; i++) {
            odims[i] = ((const int64_t *)sz->data)[i];
            scale[i] = x->dims[i] ? (double)odims[i] / (double)x->dims[i] : 1.0;
        }
    } else if (sc || (sa && sa->floats)) {
        if (sc && (!sc->data || wf_numel(sc) != r))
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "scales must hold %d values known at plan time", r);
        if (!sc && sa->n != r)
            return wf_node_error(err, WF_ERR_SHAPE, n, "scales must hold %d values", r);
        for (int i = 0; i < r; i++) {
            scale[i] = sc ? ((const float *)sc->data)[i] : sa->floats[i];
            if (!(scale[i] > 0))
                return wf_node_error(err, WF_ERR_SHAPE, n, "scale %g is not positive", scale[i]);
            /* in float, as ONNX Runtime: 5 * 2.6f is 13, not 12.99999952 */
            odims[i] = (int64_t)floorf((float)x->dims[i] * (float)scale[i]);
        }
    } else {
        return wf_node_error(err, WF_ERR_PARSE, n, "neither scales nor sizes given");
    }
    if (odims[0] != x->dims[0] || odims[1] != x->dims[1])
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "resizing the batch or channel axis is not supported");
    return WF_OK;
}

static wf_status resize_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    double scale[WF_MAX_RANK];
    wf_status s = resize_dims(n, in, scale, out[0]->dims, err);
    if (s)
        return s;
    out[0]->rank = in[0]->rank;
    /* per-axis tables of rz_setup: H entries (1 for 1-D) and W entries */
    int64_t tab = (in[0]->rank == 4 ? out[0]->dims[2] : 1) + out[0]->dims[in[0]->rank - 1];
    *scratch = (size_t)tab * (2 * sizeof(int64_t) + 2 * sizeof(float));
    return wf_check_numel(n, out[0], err);
}

/* Input positions i0, i1 and weights w0, w1 of output coordinate o on one axis. */
static void axis_map(const wf_node *n, int64_t o, int64_t in_len, int64_t out_len, double scale,
                     int64_t *i0, int64_t *i1, float *w0, float *w1) {
    double x;
    switch (n->p.trans_a) {
    case CT_HALF:
        x = ((double)o + 0.5) / scale - 0.5;
        break;
    case CT_PYTORCH_HALF:
        x = out_len > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;
        break;
    case CT_ALIGN:
        x = out_len > 1 ? (double)o * (double)(in_len - 1) / (double)(out_len - 1) : 0.0;
        break;
    default:
        x = (double)o / scale;
        break;
    }
    if (!n->p.kind) { /* nearest */
        double f = floor(x), fr = x - f;
        int64_t k;
        switch (n->p.trans_b) {
        case NM_RPF:
            k = (int64_t)(fr <= 0.5 ? f : f + 1);
            break;
        case NM_RPC:
            k = (int64_t)(fr < 0.5 ? f : f + 1);
            break;
        case NM_FLOOR:
            k = (int64_t)f;
            break;
        default:
            k = (int64_t)ceil(x);
            break;
        }
        k = k < 0 ? 0 : k >= in_len ? in_len - 1 : k;
        *i0 = *i1 = k;
        *w0 = 1.0f;
        *w1 = 0.0f;
        return;
    }
    if (x < 0)
        x = 0;
    if (x > (double)(in_len - 1))
        x = (double)(in_len - 1);
    int64_t k = (int64_t)floor(x);
    *i0 = k;
    *i1 = k + 1 < in_len ? k + 1 : k;
    *w1 = (float)(x - (double)k);
    *w0 = 1.0f - *w1;
}

typedef struct rz_tab {
    int64_t ih, iw, oh, ow;
    int64_t *y0, *y1, *x0, *x1;
    float *wy0, *wy1, *wx0, *wx1;
} rz_tab;

static void rz_setup(const wf_node *n, wf_tensor *const *in, const wf_tensor *out, void *s,
                     rz_tab *t) {
    double scale[WF_MAX_RANK];
    int64_t od[WF_MAX_RANK];
    resize_dims(n, in, scale, od, NULL);
    int two = in[0]->rank == 4;
    t->ih = two ? in[0]->dims[2] : 1;
    t->iw = in[0]->dims[in[0]->rank - 1];
    t->oh = two ? out->dims[2] : 1;
    t->ow = out->dims[out->rank - 1];
    int64_t *ip = s;
    t->y0 = ip;
    t->y1 = t->y0 + t->oh;
    t->x0 = t->y1 + t->oh;
    t->x1 = t->x0 + t->ow;
    float *fp = (float *)(t->x1 + t->ow);
    t->wy0 = fp;
    t->wy1 = t->wy0 + t->oh;
    t->wx0 = t->wy1 + t->oh;
    t->wx1 = t->wx0 + t->ow;
    for (int64_t o = 0; o < t->oh; o++) {
        if (two)
            axis_map(n, o, t->ih, t->oh, scale[2], &t->y0[o], &t->y1[o], &t->wy0[o], &t->wy1[o]);
        else {
            t->y0[o] = t->y1[o] = 0;
            t->wy0[o] = 1.0f;
            t->wy1[o] = 0.0f;
        }
    }
    for (int64_t o = 0; o < t->ow; o++)
        axis_map(n, o, t->iw, t->ow, scale[in[0]->rank - 1], &t->x0[o], &t->x1[o], &t->wx0[o],
                 &t->wx1[o]);
}

static void resize_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    rz_tab t;
    rz_setup(n, in, out[0], s, &t);
    int64_t planes = in[0]->dims[0] * in[0]->dims[1];
    for (int64_t p = 0; p < planes; p++) {
        const float *x = (const float *)in[0]->data + p * t.ih * t.iw;
        float *y = (float *)out[0]->data + p * t.oh * t.ow;
        for (int64_t oy = 0; oy < t.oh; oy++) {
            const float *r0 = x + t.y0[oy] * t.iw, *r1 = x + t.y1[oy] * t.iw;
            for (int64_t ox = 0; ox < t.ow; ox++) {
                float a = t.wx0[ox] * r0[t.x0[ox]] + t.wx1[ox] * r0[t.x1[ox]];
                float b = t.wx0[ox] * r1[t.x0[ox]] + t.wx1[ox] * r1[t.x1[ox]];
                y[oy * t.ow + ox] = t.wy0[oy] * a + t.wy1[oy] * b;
            }
        }
    }
}

static void resize_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    if (!gin[0])
        return;
    rz_tab t;
    rz_setup(n, in, out[0], s, &t);
    int64_t planes = in[0]->dims[0] * in[0]->dims[1];
    for (int64_t p = 0; p < planes; p++) {
        float *gx = gin[0] + p * t.ih * t.iw;
        const float *g = gout[0] + p * t.oh * t.ow;
        for (int64_t oy = 0; oy < t.oh; oy++) {
            float *r0 = gx + t.y0[oy] * t.iw, *r1 = gx + t.y1[oy] * t.iw;
            for (int64_t ox = 0; ox < t.ow; ox++) {
                float gv = g[oy * t.ow + ox], ga = gv * t.wy0[oy], gb = gv * t.wy1[oy];
                r0[t.x0[ox]] += ga * t.wx0[ox];
                r0[t.x1[ox]] += ga * t.wx1[ox];
                r1[t.x0[ox]] += gb * t.wx0[ox];
                r1[t.x1[ox]] += gb * t.wx1[ox];
            }
        }
    }
}

const wf_opdef wf_op_resize = {"Resize", resize_check, resize_shape, resize_fwd, resize_bwd,
                               0,        NULL};
const wf_opdef wf_op_upsample = {"Upsample", resize_check, resize_shape, resize_fwd, resize_bwd,
                                 0,          NULL};
