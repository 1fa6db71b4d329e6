/*
 * Pooling kernels (ONNX MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool), forward and
 * backward w.r.t. the input. 1-D pooling runs as 2-D with H = 1. Windows are small (the models
 * we serve pool over a few time steps), so direct loops are the implementation and the reference.
 */
#include <float.h>
#include <math.h>

#include "model/kernels/kernels.h"

typedef struct pool2 {
    int H, W, kH, kW, pT, pL, pB, pR, sH, sW, dH, dW, OH, OW;
} pool2;

static void to2d(pool2 *q, const wf_k_pool_geom *g) {
    int a = g->ndim == 1 ? 0 : 1; /* index of the W axis */
    if (g->ndim == 1) {
        q->H = 1;
        q->kH = 1;
        q->pT = 0;
        q->pB = 0;
        q->sH = 1;
        q->dH = 1;
        q->OH = 1;
    } else {
        q->H = g->in[0];
        q->kH = g->k[0];
        q->pT = g->pad_begin[0];
        q->pB = g->pad_end[0];
        q->sH = g->stride[0];
        q->dH = g->dilation[0];
        q->OH = g->out[0];
    }
    q->W = g->in[a];
    q->kW = g->k[a];
    q->pL = g->pad_begin[a];
    q->pR = g->pad_end[a];
    q->sW = g->stride[a];
    q->dW = g->dilation[a];
    q->OW = g->out[a];
}

int wf_k_pool_geom_finish(wf_k_pool_geom *g) {
    if (g->ndim < 1 || g->ndim > WF_K_MAX_SPATIAL || g->n < 0 || g->c < 0) {
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
        long long out =
            g->ceil_mode ? (num + g->stride[d] - 1) / g->stride[d] + 1 : num / g->stride[d] + 1;
        /* A last window starting inside the end padding reads no input: drop it. */
        if (g->ceil_mode && (out - 1) * g->stride[d] >= (long long)g->in[d] + g->pad_begin[d]) {
            out--;
        }
        if (out < 1 || out > 0x7fffffff) {
            return -1;
        }
        g->out[d] = (int)out;
    }
    for (int d = g->ndim; d < WF_K_MAX_SPATIAL; d++) {
        g->out[d] = 1;
    }
    return 0;
}

/* 1-D MaxPool (H == 1). Windows lying inside the input, the common case, take a branch-free
 * path (select instead of a data-dependent branch, which random data mispredicts half the
 * time); windows touching the padding take the general one. Same results, ties included. */
/* The common 1-D case of CNNs (kernel 2, stride 2, no padding or dilation, even width, no
 * argmax wanted): every output is the larger of two neighbours, over all planes at once, in a
 * loop the compiler vectorizes. Same result as the general loop, NaNs included: the first
 * element is kept unless the second is strictly greater. */
static void maxpool1d_k2s2(float *restrict out, const float *restrict in, size_t n_out) {
    for (size_t i = 0; i < n_out; i++) {
        float a = in[2 * i], b = in[2 * i + 1];
        out[i] = b > a ? b : a;
    }
}

/* The same with the argmax the backward needs: index 2 * ow, or 2 * ow + 1 when the second is
 * strictly greater (the general loop's tie and NaN rule), plane by plane. */
static void maxpool1d_k2s2_arg(float *restrict out, int32_t *restrict argmax,
                               const float *restrict in, size_t planes, int OW) {
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * 2 * (size_t)OW;
        float *y = out + p * (size_t)OW;
        int32_t *am = argmax + p * (size_t)OW;
        for (int i = 0; i < OW; i++) {
            float a = x[2 * i], b = x[2 * i + 1];
            int gt = b > a;
            y[i] = gt ? b : a;
            am[i] = 2 * i + gt;
        }
    }
}

static void maxpool1d(float *out, int32_t *argmax, const float *in, const pool2 *q, size_t planes) {
    if (q->kW == 2 && q->sW == 2 && q->dW == 1 && q->pL == 0 && q->W % 2 == 0 &&
        q->OW == q->W / 2) {
        if (argmax == NULL) {
            maxpool1d_k2s2(out, in, planes * (size_t)q->OW);
        } else {
            maxpool1d_k2s2_arg(out, argmax, in, planes, q->OW);
        }
        return;
    }
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * (size_t)q->W;
        float *y = out + p * (size_t)q->OW;
        int32_t *am = argmax != NULL ? argmax + p * (size_t)q->OW : NULL;
        for (int ow = 0; ow < q->OW; ow++) {
            int w0 = ow * q->sW - q->pL;
            int wl = w0 + (q->kW - 1) * q->dW;
            float best;
            int32_t idx;
            if (w0 >= 0 && wl < q->W) {
                best = x[w0];
                idx = w0;
                for (int kw = 1; kw < q->kW; kw++) {
                    int iw = w0 + kw * q->dW;
                    float v = x[iw];
                    int gt = v > best;
                    best = gt ? v : best;
                    idx = gt ? iw : idx;
                }
            } else {
                best = -FLT_MAX;
                idx = -1;
                for (int kw = 0; kw < q->kW; kw++) {
                    int iw = w0 + kw * q->dW;
                    if (iw >= 0 && iw < q->W && (idx < 0 || x[iw] > best)) {
                        best = x[iw];
                        idx = iw;
                    }
                }
            }
            y[ow] = best;
            if (am != NULL) {
                am[ow] = idx;
            }
        }
    }
}

void wf_k_maxpool_forward(float *out, int32_t *argmax, const float *in, const wf_k_pool_geom *g) {
    pool2 q;
    to2d(&q, g);
    if (q.H == 1 && q.kH == 1 && q.pT == 0 && q.OH == 1) {
        maxpool1d(out, argmax, in, &q, (size_t)g->n * (size_t)g->c);
        return;
    }
    size_t planes = (size_t)g->n * (size_t)g->c;
    size_t ip = (size_t)q.H * (size_t)q.W;
    size_t op = (size_t)q.OH * (size_t)q.OW;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * ip;
        for (int oh = 0; oh < q.OH; oh++) {
            for (int ow = 0; ow < q.OW; ow++) {
                float best = -FLT_MAX;
                int32_t idx = -1;
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
                        int32_t i = ih * q.W + iw;
                        /* Strict '>': the first maximum in scan order wins ties. */
                        if (idx < 0 || x[i] > best) {
                            best = x[i];
                            idx = i;
                        }
                    }
                }
                size_t o = p * op + (size_t)oh * (size_t)q.OW + (size_t)ow;
                out[o] = best;
                if (argmax != NULL) {
                    argmax[o] = idx;
                }
            }
        }
    }
}

void wf_k_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                           const wf_k_pool_geom *g) {
    pool2 q;
    to2d(&q, g);
    size_t planes = (size_t)g->n * (size_t)g->c;
    size_t ip = (size_t)q.H * (size_t)q.W;
    size_t op = (size_t)q.OH * (size_t)q.OW;
    for (size_t p = 0; p < planes; p++) {
        for (size_t o = 0; o < op; o++) {
            int32_t i = argmax[p * op + o];
            if (i >= 0) {
                din[p * ip + (size_t)i] += dout[p * op + o];
            }
        }
    }
}

/* Divisor of an average window starting at (h0, w0) in input coordinates (may be negative). */
static int avg_count(const pool2 *q, int h0, int w0, int include_pad) {
    int ch = 0;
    int cw = 0;
    for (int kh = 0; kh < q->kH; kh++) {
        int ih = h0 + kh * q->dH;
        if (include_pad ? (ih >= -q->pT && ih < q->H + q->pB) : (ih >= 0 && ih < q->H)) {
            ch++;
        }
    }
    for (int kw = 0; kw < q->kW; kw++) {
        int iw = w0 + kw * q->dW;
        if (include_pad ? (iw >= -q->pL && iw < q->W + q->pR) : (iw >= 0 && iw < q->W)) {
            cw++;
        }
    }
    return ch * cw;
}

void wf_k_avgpool_forward(float *out, const float *in, const wf_k_pool_geom *g) {
    pool2 q;
    to2d(&q, g);
    size_t planes = (size_t)g->n * (size_t)g->c;
    size_t ip = (size_t)q.H * (size_t)q.W;
    size_t op = (size_t)q.OH * (size_t)q.OW;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * ip;
        for (int oh = 0; oh < q.OH; oh++) {
            for (int ow = 0; ow < q.OW; ow++) {
                int h0 = oh * q.sH - q.pT;
                int w0 = ow * q.sW - q.pL;
                double acc = 0.0;
                for (int kh = 0; kh < q.kH; kh++) {
                    int ih = h0 + kh * q.dH;
                    if (ih < 0 || ih >= q.H) {
                        continue;
                    }
                    for (int kw = 0; kw < q.kW; kw++) {
                        int iw = w0 + kw * q.dW;
                        if (iw >= 0 && iw < q.W) {
                            acc += (double)x[ih * q.W + iw];
                        }
                    }
                }
                int cnt = avg_count(&q, h0, w0, g->count_include_pad);
                out[p * op + (size_t)oh * (size_t)q.OW + (size_t)ow] =
                    cnt > 0 ? (float)(acc / cnt) : NAN;
            }
        }
    }
}

void wf_k_avgpool_backward(float *din, const float *dout, const wf_k_pool_geom *g) {
    pool2 q;
    to2d(&q, g);
    size_t planes = (size_t)g->n * (size_t)g->c;
    size_t ip = (size_t)q.H * (size_t)q.W;
    size_t op = (size_t)q.OH * (size_t)q.OW;
    for (size_t p = 0; p < planes; p++) {
        float *dx = din + p * ip;
        for (int oh = 0; oh < q.OH; oh++) {
            for (int ow = 0; ow < q.OW; ow++) {
                int h0 = oh * q.sH - q.pT;
                int w0 = ow * q.sW - q.pL;
                int cnt = avg_count(&q, h0, w0, g->count_include_pad);
                if (cnt == 0) {
                    continue;
                }
                float d =
                    (float)((double)dout[p * op + (size_t)oh * (size_t)q.OW + (size_t)ow] / cnt);
                for (int kh = 0; kh < q.kH; kh++) {
                    int ih = h0 + kh * q.dH;
                    if (ih < 0 || ih >= q.H) {
                        continue;
                    }
                    for (int kw = 0; kw < q.kW; kw++) {
                        int iw = w0 + kw * q.dW;
                        if (iw >= 0 && iw < q.W) {
                            dx[ih * q.W + iw] += d;
                        }
                    }
                }
            }
        }
    }
}

/* Eight planes at a time: each plane's sum runs in the same order as the reference (so the same
 * bits), but eight independent chains hide the latency of the double additions, which a plane
 * of a few elements (cnn1d: 18) otherwise waits on. */
void wf_k_global_avgpool_forward(float *out, const float *in, size_t nc, size_t s) {
    if (s == 0) {
        for (size_t p = 0; p < nc; p++) {
            out[p] = NAN;
        }
        return;
    }
    size_t p = 0;
    for (; p + 8 <= nc; p += 8) {
        const float *x = in + p * s;
        double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        for (size_t i = 0; i < s; i++) {
            for (int k = 0; k < 8; k++) {
                acc[k] += (double)x[(size_t)k * s + i];
            }
        }
        for (int k = 0; k < 8; k++) {
            out[p + (size_t)k] = (float)(acc[k] / (double)s);
        }
    }
    for (; p < nc; p++) {
        const float *x = in + p * s;
        double acc = 0.0;
        for (size_t i = 0; i < s; i++) {
            acc += (double)x[i];
        }
        out[p] = (float)(acc / (double)s);
    }
}

void wf_k_global_avgpool_forward_naive(float *out, const float *in, size_t nc, size_t s) {
    for (size_t p = 0; p < nc; p++) {
        const float *x = in + p * s;
        double acc = 0.0;
        for (size_t i = 0; i < s; i++) {
            acc += (double)x[i];
        }
        out[p] = s > 0 ? (float)(acc / (double)s) : NAN;
    }
}

void wf_k_global_avgpool_backward(float *din, const float *dout, size_t nc, size_t s) {
    for (size_t p = 0; p < nc; p++) {
        float d = (float)((double)dout[p] / (double)s);
        float *dx = din + p * s;
        for (size_t i = 0; i < s; i++) {
            dx[i] += d;
        }
    }
}

void wf_k_global_maxpool_forward(float *out, int32_t *argmax, const float *in, size_t nc,
                                 size_t s) {
    for (size_t p = 0; p < nc; p++) {
        const float *x = in + p * s;
        float best = -FLT_MAX;
        int32_t idx = -1;
        for (size_t i = 0; i < s; i++) {
            if (idx < 0 || x[i] > best) {
                best = x[i];
                idx = (int32_t)i;
            }
        }
        out[p] = best;
        if (argmax != NULL) {
            argmax[p] = idx;
        }
    }
}

void wf_k_global_maxpool_backward(float *din, const float *dout, const int32_t *argmax, size_t nc,
                                  size_t s) {
    for (size_t p = 0; p < nc; p++) {
        if (argmax[p] >= 0) {
            din[p * s + (size_t)argmax[p]] += dout[p];
        }
    }
}
