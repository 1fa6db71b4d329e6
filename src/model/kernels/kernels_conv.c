/*
 * Convolution (ONNX Conv) for 1-D and 2-D spatial inputs: forward as im2col + sgemm over a whole
 * batch of windows, backward w.r.t. the input as sgemm + col2im, and direct-loop references.
 * A 1-D convolution with 16k output channels per group (16k input channels for the backward)
 * takes the direct AVX-512 kernel instead where the processor has it (kernels_direct.c);
 * the _gemm entry points always take im2col + sgemm.
 *
 * A 1-D convolution is run as a 2-D one with H = 1 (kernel 1, no padding, stride 1 on that axis),
 * so there is one code path. The im2col buffer of one group holds every window side by side:
 *   col: (Kc, n * OS) with Kc = cin/group * kH * kW, OS = OH * OW,
 *        col[(ci, kh, kw), b * OS + oh * OW + ow] = in[b, ci, oh*sH - pT + kh*dH, ow*sW - pL +
 * kw*dW] so one GEMM per group, W_g (cout/group, Kc) @ col (Kc, n * OS), covers the batch. Its
 * result (cout, n * OS) is then scattered to (n, cout, OS) with the bias. For n == 1 the GEMM
 * writes straight into the output.
 */
#include <string.h>

#include "model/kernels/kernels.h"

/* The geometry as 2-D, all sizes as size_t where they index memory. */
typedef struct geom2 {
    int n, cin, cout, group;
    int H, W, kH, kW, pT, pL, sH, sW, dH, dW, OH, OW;
} geom2;

static void to2d(geom2 *q, const wf_k_conv_geom *g) {
    q->n = g->n;
    q->cin = g->cin;
    q->cout = g->cout;
    q->group = g->group;
    if (g->ndim == 1) {
        q->H = 1;
        q->kH = 1;
        q->pT = 0;
        q->sH = 1;
        q->dH = 1;
        q->OH = 1;
        q->W = g->in[0];
        q->kW = g->k[0];
        q->pL = g->pad_begin[0];
        q->sW = g->stride[0];
        q->dW = g->dilation[0];
        q->OW = g->out[0];
    } else {
        q->H = g->in[0];
        q->kH = g->k[0];
        q->pT = g->pad_begin[0];
        q->sH = g->stride[0];
        q->dH = g->dilation[0];
        q->OH = g->out[0];
        q->W = g->in[1];
        q->kW = g->k[1];
        q->pL = g->pad_begin[1];
        q->sW = g->stride[1];
        q->dW = g->dilation[1];
        q->OW = g->out[1];
    }
}

int wf_k_conv_geom_finish(wf_k_conv_geom *g) {
    if (g->ndim < 1 || g->ndim > WF_K_MAX_SPATIAL || g->n < 0 || g->cin < 1 || g->cout < 1 ||
        g->group < 1 || g->cin % g->group != 0 || g->cout % g->group != 0) {
        return -1;
    }
    for (int d = 0; d < g->ndim; d++) {
        if (g->in[d] < 1 || g->k[d] < 1 || g->stride[d] < 1 || g->dilation[d] < 1 ||
            g->pad_begin[d] < 0 || g->pad_end[d] < 0) {
            return -1;
        }
        long long span = (long long)g->dilation[d] * (g->k[d] - 1) + 1;
        long long num = (long long)g->in[d] + g->pad_begin[d] + g->pad_end[d] - span;
        if (num < 0) {
            return -1;
        }
        g->out[d] = (int)(num / g->stride[d] + 1);
    }
    for (int d = g->ndim; d < WF_K_MAX_SPATIAL; d++) {
        g->out[d] = 1;
    }
    return 0;
}

static size_t col_rows(const geom2 *q) {
    return (size_t)(q->cin / q->group) * (size_t)q->kH * (size_t)q->kW;
}

size_t wf_k_conv_forward_scratch_size(const wf_k_conv_geom *g) {
    geom2 q;
    to2d(&q, g);
    size_t nos = (size_t)q.n * (size_t)q.OH * (size_t)q.OW;
    size_t gemm = col_rows(&q) * nos + (size_t)q.cout * nos;
    size_t direct = g->ndim == 1 ? wf_k_conv1d_direct_scratch_size(g) : 0;
    return gemm > direct ? gemm : direct;
}

size_t wf_k_conv_backward_scratch_size(const wf_k_conv_geom *g) {
    return wf_k_conv_forward_scratch_size(g);
}

/* First and one-past-last output index o in [0, O) with 0 <= o*s + off < L (off = k*d - pad). */
static void valid_range(int *lo, int *hi, int O, int s, int off, int L) {
    /* o*s + off >= 0  <=>  o >= ceil(-off / s) */
    int a = -off;
    int l = a <= 0 ? 0 : (a + s - 1) / s;
    /* o*s + off < L  <=>  o < ceil((L - off) / s) */
    int b = L - off;
    int h = b <= 0 ? 0 : (b + s - 1) / s;
    if (h > O) {
        h = O;
    }
    if (l > h) {
        l = h;
    }
    *lo = l;
    *hi = h;
}

/* col (Kc, n * OS) for group gi. in: (n, cin, H, W). */
static void im2col(float *col, const float *in, const geom2 *q, int gi) {
    int cin_g = q->cin / q->group;
    size_t OS = (size_t)q->OH * (size_t)q->OW;
    size_t nos = (size_t)q->n * OS;
    size_t plane = (size_t)q->H * (size_t)q->W;
    for (int ci = 0; ci < cin_g; ci++) {
        for (int kh = 0; kh < q->kH; kh++) {
            int oh_lo, oh_hi;
            valid_range(&oh_lo, &oh_hi, q->OH, q->sH, kh * q->dH - q->pT, q->H);
            for (int kw = 0; kw < q->kW; kw++) {
                int ow_lo, ow_hi;
                int offw = kw * q->dW - q->pL;
                valid_range(&ow_lo, &ow_hi, q->OW, q->sW, offw, q->W);
                size_t r = ((size_t)ci * (size_t)q->kH + (size_t)kh) * (size_t)q->kW + (size_t)kw;
                float *row = col + r * nos;
                for (int b = 0; b < q->n; b++) {
                    const float *src =
                        in + ((size_t)b * (size_t)q->cin + (size_t)(gi * cin_g + ci)) * plane;
                    float *dst = row + (size_t)b * OS;
                    for (int oh = 0; oh < q->OH; oh++) {
                        float *d = dst + (size_t)oh * (size_t)q->OW;
                        if (oh < oh_lo || oh >= oh_hi) {
                            memset(d, 0, (size_t)q->OW * sizeof(float));
                            continue;
                        }
                        int ih = oh * q->sH + kh * q->dH - q->pT;
                        const float *s = src + (size_t)ih * (size_t)q->W;
                        for (int ow = 0; ow < ow_lo; ow++) {
                            d[ow] = 0.0f;
                        }
                        if (q->sW == 1) {
                            if (ow_hi > ow_lo) {
                                memcpy(d + ow_lo, s + ow_lo + offw,
                                       (size_t)(ow_hi - ow_lo) * sizeof(float));
                            }
                        } else {
                            for (int ow = ow_lo; ow < ow_hi; ow++) {
                                d[ow] = s[ow * q->sW + offw];
                            }
                        }
                        for (int ow = ow_hi; ow < q->OW; ow++) {
                            d[ow] = 0.0f;
                        }
                    }
                }
            }
        }
    }
}

/* n floats (n >= 8) in chunks of 8 of constant size, the last one overlapping: inline moves
 * instead of a library call per short row (cnn1d rows are 18 or 36 floats). */
static void copy_rows8(float *restrict d, const float *restrict s, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        memcpy(d + j, s + j, 8 * sizeof(float));
    }
    if (j < n) {
        memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
    }
}

#define WF_IM2COL_LINE 1024

/* im2col of a 1-D convolution with stride 1 (H == 1) and rows of at least 8 outputs: each input
 * row is copied once into a zero-padded line, and every kernel tap's segment is one copy from
 * it. Fills col exactly as im2col (the same values at the same places). */
static int im2col_1d(float *col, const float *in, const geom2 *q, int gi) {
    size_t OW = (size_t)q->OW;
    size_t Lp = OW + (size_t)(q->kW - 1) * (size_t)q->dW; /* line[j] = x[j - pL] or 0 */
    if (q->H != 1 || q->kH != 1 || q->OH != 1 || q->sW != 1 || OW < 8 || Lp > WF_IM2COL_LINE) {
        return 0;
    }
    float line[WF_IM2COL_LINE];
    int cin_g = q->cin / q->group;
    size_t nos = (size_t)q->n * OW;
    for (int b = 0; b < q->n; b++) {
        for (int ci = 0; ci < cin_g; ci++) {
            const float *x =
                in + ((size_t)b * (size_t)q->cin + (size_t)(gi * cin_g + ci)) * (size_t)q->W;
            for (size_t j = 0; j < Lp; j++) {
                long long t = (long long)j - q->pL;
                line[j] = t >= 0 && t < q->W ? x[t] : 0.0f;
            }
            for (int kw = 0; kw < q->kW; kw++) {
                size_t r = (size_t)ci * (size_t)q->kW + (size_t)kw;
                copy_rows8(col + r * nos + (size_t)b * OW, line + (size_t)kw * (size_t)q->dW, OW);
            }
        }
    }
    return 1;
}

/* din (n, cin, H, W) += col2im(dcol (Kc, n * OS)) for group gi. */
static void col2im_add(float *din, const float *dcol, const geom2 *q, int gi) {
    int cin_g = q->cin / q->group;
    size_t OS = (size_t)q->OH * (size_t)q->OW;
    size_t nos = (size_t)q->n * OS;
    size_t plane = (size_t)q->H * (size_t)q->W;
    for (int ci = 0; ci < cin_g; ci++) {
        for (int kh = 0; kh < q->kH; kh++) {
            int oh_lo, oh_hi;
            valid_range(&oh_lo, &oh_hi, q->OH, q->sH, kh * q->dH - q->pT, q->H);
            for (int kw = 0; kw < q->kW; kw++) {
                int ow_lo, ow_hi;
                int offw = kw * q->dW - q->pL;
                valid_range(&ow_lo, &ow_hi, q->OW, q->sW, offw, q->W);
                size_t r = ((size_t)ci * (size_t)q->kH + (size_t)kh) * (size_t)q->kW + (size_t)kw;
                const float *row = dcol + r * nos;
                for (int b = 0; b < q->n; b++) {
                    float *dst =
                        din + ((size_t)b * (size_t)q->cin + (size_t)(gi * cin_g + ci)) * plane;
                    const float *src = row + (size_t)b * OS;
                    for (int oh = oh_lo; oh < oh_hi; oh++) {
                        int ih = oh * q->sH + kh * q->dH - q->pT;
                        float *d = dst + (size_t)ih * (size_t)q->W;
                        const float *s = src + (size_t)oh * (size_t)q->OW;
                        for (int ow = ow_lo; ow < ow_hi; ow++) {
                            d[ow * q->sW + offw] += s[ow];
                        }
                    }
                }
            }
        }
    }
}

/* out = max(v, 0) with the expression of wf_k_relu_forward (NaN gives 0), blocks of 8. */
static void relu_inplace8(float *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) {
            p[i + k] = p[i + k] > 0.0f ? p[i + k] : 0.0f;
        }
    }
    for (; i < n; i++) {
        p[i] = p[i] > 0.0f ? p[i] : 0.0f;
    }
}

/* o = s + bv over n, then max(., 0) when relu: one pass while the GEMM result is read anyway. */
static void bias_copy(float *restrict o, const float *restrict s, float bv, size_t n, int relu) {
    if (relu) {
        for (size_t i = 0; i < n; i++) {
            float v = s[i] + bv;
            o[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            o[i] = s[i] + bv;
        }
    }
}

static void conv_forward(float *out, const float *in, const float *weight, const float *bias,
                         const wf_k_conv_geom *g, float *scratch, int relu, int direct) {
    if (direct && wf_k_conv1d_direct(out, in, weight, bias, g, scratch, relu))
        return;
    geom2 q;
    to2d(&q, g);
    if (q.n == 0) {
        return;
    }
    size_t Kc = col_rows(&q);
    size_t OS = (size_t)q.OH * (size_t)q.OW;
    size_t nos = (size_t)q.n * OS;
    int cout_g = q.cout / q.group;
    float *col = scratch;
    float *res = scratch + Kc * nos; /* (cout, n * OS) */
    /* For one window the GEMM result already has the output layout (cout, OS). */
    float *dst = q.n == 1 ? out : res;
    for (int gi = 0; gi < q.group; gi++) {
        if (!im2col_1d(col, in, &q, gi)) {
            im2col(col, in, &q, gi);
        }
        float *c = dst + (size_t)gi * (size_t)cout_g * nos;
        float beta = 0.0f;
        if (q.n == 1 && bias != NULL) {
            for (int co = 0; co < cout_g; co++) {
                float bv = bias[gi * cout_g + co];
                float *o = c + (size_t)co * OS;
                for (size_t s = 0; s < OS; s++) {
                    o[s] = bv;
                }
            }
            beta = 1.0f;
        }
        /* (cout_g, nos) = W_g (cout_g, Kc) @ col (Kc, nos) */
        wf_k_gemm(c, weight + (size_t)gi * (size_t)cout_g * Kc, col, cout_g, (int)nos, (int)Kc, 0,
                  0, 1.0f, beta);
    }
    if (q.n == 1) {
        if (relu) {
            relu_inplace8(out, (size_t)q.cout * OS);
        }
        return;
    }
    for (int b = 0; b < q.n; b++) {
        for (int co = 0; co < q.cout; co++) {
            const float *s = res + (size_t)co * nos + (size_t)b * OS;
            float *o = out + ((size_t)b * (size_t)q.cout + (size_t)co) * OS;
            bias_copy(o, s, bias != NULL ? bias[co] : 0.0f, OS, relu);
        }
    }
}

void wf_k_conv_forward(float *out, const float *in, const float *weight, const float *bias,
                       const wf_k_conv_geom *g, float *scratch) {
    conv_forward(out, in, weight, bias, g, scratch, 0, 1);
}

void wf_k_conv_forward_gemm(float *out, const float *in, const float *weight, const float *bias,
                            const wf_k_conv_geom *g, float *scratch) {
    conv_forward(out, in, weight, bias, g, scratch, 0, 0);
}

void wf_k_conv_relu_forward(float *out, const float *in, const float *weight, const float *bias,
                            const wf_k_conv_geom *g, float *scratch) {
    conv_forward(out, in, weight, bias, g, scratch, 1, 1);
}

static void conv_backward_input(float *din, const float *dout, const float *weight,
                                const wf_k_conv_geom *g, float *scratch, int direct) {
    if (direct && wf_k_conv1d_direct_backward_input(din, dout, weight, g, scratch))
        return;
    geom2 q;
    to2d(&q, g);
    if (q.n == 0) {
        return;
    }
    size_t Kc = col_rows(&q);
    size_t OS = (size_t)q.OH * (size_t)q.OW;
    size_t nos = (size_t)q.n * OS;
    int cout_g = q.cout / q.group;
    float *dcol = scratch;
    const float *dres = dout; /* (cout, n * OS) */
    if (q.n > 1) {
        float *gather = scratch + Kc * nos;
        for (int b = 0; b < q.n; b++) {
            for (int co = 0; co < q.cout; co++) {
                memcpy(gather + (size_t)co * nos + (size_t)b * OS,
                       dout + ((size_t)b * (size_t)q.cout + (size_t)co) * OS, OS * sizeof(float));
            }
        }
        dres = gather;
    }
    for (int gi = 0; gi < q.group; gi++) {
        /* dcol (Kc, nos) = W_g^T (Kc, cout_g) @ dout_g (cout_g, nos) */
        wf_k_gemm(dcol, weight + (size_t)gi * (size_t)cout_g * Kc,
                  dres + (size_t)gi * (size_t)cout_g * nos, (int)Kc, (int)nos, cout_g, 1, 0, 1.0f,
                  0.0f);
        col2im_add(din, dcol, &q, gi);
    }
}

void wf_k_conv_backward_input(float *din, const float *dout, const float *weight,
                              const wf_k_conv_geom *g, float *scratch) {
    conv_backward_input(din, dout, weight, g, scratch, 1);
}

void wf_k_conv_backward_input_gemm(float *din, const float *dout, const float *weight,
                                   const wf_k_conv_geom *g, float *scratch) {
    conv_backward_input(din, dout, weight, g, scratch, 0);
}

void wf_k_conv_forward_naive(float *out, const float *in, const float *weight, const float *bias,
                             const wf_k_conv_geom *g) {
    geom2 q;
    to2d(&q, g);
    int cin_g = q.cin / q.group;
    int cout_g = q.cout / q.group;
    for (int b = 0; b < q.n; b++) {
        for (int co = 0; co < q.cout; co++) {
            int gi = co / cout_g;
            for (int oh = 0; oh < q.OH; oh++) {
                for (int ow = 0; ow < q.OW; ow++) {
                    double acc = bias != NULL ? (double)bias[co] : 0.0;
                    for (int ci = 0; ci < cin_g; ci++) {
                        int c = gi * cin_g + ci;
                        for (int kh = 0; kh < q.kH; kh++) {
                            int ih = oh * q.sH - q.pT + kh * q.dH;
                            if (ih < 0 || ih >= q.H) {
                                continue;
                            }
                            for (int kw = 0; kw < q.kW; kw++) {
                                int iw = ow * q.sW - q.pL + kw * q.dW;
                                if (iw < 0 || iw >= q.W) {
                                    continue;
                                }
                                float x =
                                    in[(((size_t)b * (size_t)q.cin + (size_t)c) * (size_t)q.H +
                                        (size_t)ih) *
                                           (size_t)q.W +
                                       (size_t)iw];
                                float w = weight[(((size_t)co * (size_t)cin_g + (size_t)ci) *
                                                      (size_t)q.kH +
                                                  (size_t)kh) *
                                                     (size_t)q.kW +
                                                 (size_t)kw];
                                acc += (double)x * (double)w;
                            }
                        }
                    }
                    out[(((size_t)b * (size_t)q.cout + (size_t)co) * (size_t)q.OH + (size_t)oh) *
                            (size_t)q.OW +
                        (size_t)ow] = (float)acc;
                }
            }
        }
    }
}

void wf_k_conv_backward_input_naive(float *din, const float *dout, const float *weight,
                                    const wf_k_conv_geom *g) {
    geom2 q;
    to2d(&q, g);
    int cin_g = q.cin / q.group;
    int cout_g = q.cout / q.group;
    for (int b = 0; b < q.n; b++) {
        for (int co = 0; co < q.cout; co++) {
            int gi = co / cout_g;
            for (int oh = 0; oh < q.OH; oh++) {
                for (int ow = 0; ow < q.OW; ow++) {
                    float d = dout[(((size_t)b * (size_t)q.cout + (size_t)co) * (size_t)q.OH +
                                    (size_t)oh) *
                                       (size_t)q.OW +
                                   (size_t)ow];
                    for (int ci = 0; ci < cin_g; ci++) {
                        int c = gi * cin_g + ci;
                        for (int kh = 0; kh < q.kH; kh++) {
                            int ih = oh * q.sH - q.pT + kh * q.dH;
                            if (ih < 0 || ih >= q.H) {
                                continue;
                            }
                            for (int kw = 0; kw < q.kW; kw++) {
                                int iw = ow * q.sW - q.pL + kw * q.dW;
                                if (iw < 0 || iw >= q.W) {
                                    continue;
                                }
                                float w = weight[(((size_t)co * (size_t)cin_g + (size_t)ci) *
                                                      (size_t)q.kH +
                                                  (size_t)kh) *
                                                     (size_t)q.kW +
                                                 (size_t)kw];
                                din[(((size_t)b * (size_t)q.cin + (size_t)c) * (size_t)q.H +
                                     (size_t)ih) *
                                        (size_t)q.W +
                                    (size_t)iw] += d * w;
                            }
                        }
                    }
                }
            }
        }
    }
}
