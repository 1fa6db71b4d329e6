/*
 * Coalition values for KernelSHAP: v(S) = link(sum_b w_b f(x_S, b_notS)) (or, for
 * WF_LINK_LOGIT_OUTPUT, sum_b w_b logit f(x_S, b_notS)), evaluated in large batches: the masked
 * inputs of many coalitions x background rows are built into one buffer and the predictor is
 * called once per buffer.
 *
 * Affine shortcut: when the model starts with h = A x + a0, the pre-activation of a masked input
 * is h(S, b) = a0 + A b + sum_{p in S} D[b][p] with D[b][p] = A[:, cells p] (x - b)[cells p]. The
 * partials are computed once per window (in double); a coalition then costs min(|S|, M - |S|)
 * vector additions per background row instead of a full first layer, and predict_hidden runs the
 * rest of the graph. Equal to the plain path up to float rounding of the first layer.
 *
 * Quantized models (QDQ): the affine map starts after the input's QuantizeLinear ->
 * DequantizeLinear (the predictor's affine_input gives u = g(x) cell by cell, as the deployed
 * graph computes it). Masking commutes with a per-cell map, so x and the background are
 * quantized once and the partials are formed on u: D[b][p] = A[:, cells p] (g(x) - g(b)).
 * The hidden pre-activation then differs from the engine's only by float rounding of the first
 * layer, which the hidden layer's own QuantizeLinear may turn into one quantization step of a
 * hidden unit on rare rows; explain.arithmetic "exact" (affine = 0) runs every row through the
 * deployed graph instead.
 *
 * QOperator models (QGemm or QLinearMatMul after the input's QuantizeLinear, model/affine_qop.c):
 * A, u and a0 are integers and every partial sum stays below 2^24, so the float sums below are
 * the op's int32 accumulators exactly and the shortcut's values equal the "exact" ones bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "explain/explain_impl.h"

#define WF_AFFINE_MAX_BYTES (64.0 * 1024 * 1024)

static void daxpy_f(double *restrict y, const float *restrict x, double a, size_t n);

double wf_link_apply(wf_link link, double v) {
    if (link == WF_LINK_IDENTITY)
        return v;
    return log(v) - log1p(-v); /* logit; +-inf at 0 and 1 */
}

void wf_coal_eval_free(wf_coal_eval *ev) {
    if (!ev)
        return;
    if (ev->ctx)
        ev->p->ctx_free(ev->ctx);
    free(ev->gram);
    free(ev->xbuf);
    free(ev->ybuf);
    free(ev->hbuf);
    free(ev->cellmask);
    free(ev->hb);
    free(ev->hx);
    free(ev->D);
    free(ev->act);
    free(ev->rows);
    free(ev->coef);
    free(ev->AT);
    free(ev->diff);
    free(ev->ub);
    free(ev->ux);
    free(ev->dxd);
    free(ev->Pb);
    free(ev->hbf);
    free(ev->hxf);
    memset(ev, 0, sizeof *ev);
}

wf_status wf_coal_eval_init(wf_coal_eval *ev, const wf_predictor *p, const wf_background *bg,
                            const wf_players *pl, wf_link link, int affine, int64_t max_batch,
                            wf_error *err) {
    memset(ev, 0, sizeof *ev);
    ev->p = p;
    ev->bg = bg;
    ev->pl = pl;
    ev->link = link;
    ev->affine = affine && p->hidden > 0 && p->affine_a && p->affine_a0 && p->predict_hidden;
    /* The partials (n_bg x M x hidden floats) must fit a modest memory budget. Whether the
     * shortcut pays is decided per call from the coalitions (see wf_coal_eval_values). */
    ev->auto_path = affine == 1;
    if (ev->affine && affine != 2) {
        double partials = pl->start[pl->M] == pl->M
                              ? (double)p->C * p->T * (double)p->hidden * sizeof(float)
                              : (double)bg->n * pl->M * (double)p->hidden * sizeof(float);
        if (partials > WF_AFFINE_MAX_BYTES)
            ev->affine = 0;
    }
    if (max_batch < bg->n)
        max_batch = bg->n;
    ev->max_batch = max_batch;
    size_t CT = (size_t)p->C * (size_t)p->T;
    size_t H = (size_t)p->hidden;
    wf_status st = p->ctx_new(p->user, max_batch, &ev->ctx, err);
    if (st) {
        ev->ctx = NULL;
        return st;
    }
    ev->ybuf = malloc(sizeof(float) * (size_t)max_batch);
    ev->cellmask = malloc(CT);
    int bad = !ev->ybuf || !ev->cellmask;
    if (ev->affine) {
        ev->hbuf = malloc(sizeof(float) * (size_t)max_batch * H);
        ev->hb = malloc(sizeof(double) * (size_t)bg->n * H);
        ev->hx = malloc(sizeof(double) * H);
        ev->single = pl->start[pl->M] == pl->M; /* every player holds one cell */
        ev->AT = malloc(sizeof(float) * CT * H);
        if (ev->single) {
            ev->diff = malloc(sizeof(float) * (size_t)bg->n * CT);
        } else {
            ev->D = malloc(sizeof(float) * (size_t)bg->n * (size_t)pl->M * H);
            ev->dxd = malloc(sizeof(double) * (CT + H));
        }
        ev->act = malloc(sizeof(int) * (size_t)pl->M);
        ev->rows = malloc(sizeof(float *) * (size_t)pl->M);
        ev->coef = malloc(sizeof(float) * (size_t)pl->M);
        ev->hbf = malloc(sizeof(float) * (size_t)bg->n * H);
        ev->hxf = malloc(sizeof(float) * H);
        bad = bad || !ev->hbf || !ev->hxf;
        if (!ev->single &&
            (double)bg->n * pl->M * (double)H * sizeof(double) <= WF_AFFINE_MAX_BYTES) {
            ev->Pb = malloc(sizeof(double) * (size_t)bg->n * (size_t)pl->M * H);
            bad = bad || !ev->Pb;
        }
        if (p->affine_input) {
            ev->ub = malloc(sizeof(float) * (size_t)bg->n * CT);
            ev->ux = malloc(sizeof(float) * CT);
            bad = bad || !ev->ub || !ev->ux;
        }
        bad = bad || !ev->hbuf || !ev->hb || !ev->hx || !ev->act || !ev->rows || !ev->coef ||
              !ev->AT || (ev->single ? !ev->diff : !ev->D || !ev->dxd);
    }
    if (!ev->affine || ev->auto_path) {
        ev->xbuf = malloc(sizeof(float) * (size_t)max_batch * CT);
        bad = bad || !ev->xbuf;
    }
    if (bad) {
        wf_coal_eval_free(ev);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for KernelSHAP batches (%lld rows)",
                            (long long)max_batch);
    }
    if (ev->affine) {
        /* cost of the plain first layer per row: its nonzero weights (a Conv's map is banded) */
        const float *A0 = p->affine_a;
        for (size_t i = 0; i < H * CT; i++)
            ev->first_layer_nnz += A0[i] != 0;
        /* AT (CT, H): column c of A contiguous */
        for (size_t j = 0; j < H; j++)
            for (size_t i = 0; i < CT; i++)
                ev->AT[i * H + j] = A0[j * CT + i];
        /* a quantized input: the background through the deployed prefix, once */
        if (ev->ub) {
            st = p->affine_input(ev->ctx, bg->x, bg->n, ev->ub, err);
            if (st) {
                wf_coal_eval_free(ev);
                return st;
            }
        }
        const float *bgx = ev->ub ? ev->ub : bg->x;
        /* hb[b] = a0 + A b: (n_bg, hidden), in double */
        const float *A = p->affine_a;
        for (int64_t b = 0; b < bg->n; b++) {
            const float *xb = bgx + (size_t)b * CT;
            for (size_t j = 0; j < H; j++) {
                const float *row = A + j * CT;
                double s = p->affine_a0[j];
                for (size_t i = 0; i < CT; i++)
                    s += (double)row[i] * xb[i];
                ev->hb[(size_t)b * H + j] = s;
                ev->hbf[(size_t)b * H + j] = (float)s;
            }
        }
        /* Pb[q][b][j] = sum_{i in cells q} A[j][i] b[i]: the background's share of the partials,
         * the same for every window */
        if (ev->Pb)
            for (int64_t b = 0; b < bg->n; b++)
                for (int q = 0; q < pl->M; q++) {
                    double *pb = ev->Pb + ((size_t)q * (size_t)bg->n + (size_t)b) * H;
                    for (size_t j = 0; j < H; j++)
                        pb[j] = 0.0;
                    for (int64_t k = pl->start[q]; k < pl->start[q + 1]; k++) {
                        int64_t i = pl->cells[k];
                        daxpy_f(pb, ev->AT + (size_t)i * H, (double)bgx[(size_t)b * CT + i], H);
                    }
                }
    }
    return WF_OK;
}

/* y (double) += (double)x * a over n, blocks of 8 (vectorised at -O2, as axpy below). */
static void daxpy_f(double *restrict y, const float *restrict x, double a, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            y[i + k] += (double)x[i + k] * a;
    for (; i < n; i++)
        y[i] += (double)x[i] * a;
}

wf_status wf_coal_eval_window(wf_coal_eval *ev, const float *x, wf_error *err) {
    ev->x = x;
    if (!ev->affine)
        return WF_OK;
    const wf_predictor *p = ev->p;
    const wf_players *pl = ev->pl;
    size_t CT = (size_t)p->C * (size_t)p->T, H = (size_t)p->hidden;
    const float *A = p->affine_a;
    const float *bgx = ev->bg->x;
    if (ev->ux) { /* the partials are formed on the quantized cells u = g(x), g(b) */
        wf_status st = p->affine_input(ev->ctx, x, 1, ev->ux, err);
        if (st)
            return st;
        x = ev->ux;
        bgx = ev->ub;
    }
    for (size_t j = 0; j < H; j++) {
        const float *row = A + j * CT;
        double s = p->affine_a0[j];
        for (size_t i = 0; i < CT; i++)
            s += (double)row[i] * x[i];
        ev->hx[j] = s;
        ev->hxf[j] = (float)s;
    }
    if (ev->single) { /* diff[b][c] = x[c] - b[c]; partials come from AT on the fly */
        for (int64_t b = 0; b < ev->bg->n; b++)
            for (size_t i = 0; i < CT; i++)
                ev->diff[(size_t)b * CT + i] = x[i] - bgx[(size_t)b * CT + i];
        return WF_OK;
    }
    /* D[q][b][j] = sum_{i in cells q} A[j][i] (x[i] - b[i]), in double, the cells in the
     * players' order: all j at once from AT's contiguous rows (the same sums, term by term, as
     * a loop over j outside; the inner loop vectorises) */
    double *dx = ev->dxd, *acc = ev->dxd + CT;
    if (ev->Pb) {
        /* D[q][b] = A_q x_q - Pb[q][b]: x's share once per player (in double, as the sums
         * below; the difference of the two double sums rounds to the same float as the sum of
         * the differences but on rare last-bit ties) */
        size_t BH = (size_t)ev->bg->n * H;
        for (int q = 0; q < pl->M; q++) {
            for (size_t j = 0; j < H; j++)
                acc[j] = 0.0;
            for (int64_t k = pl->start[q]; k < pl->start[q + 1]; k++) {
                int64_t i = pl->cells[k];
                daxpy_f(acc, ev->AT + (size_t)i * H, (double)x[i], H);
            }
            const double *pb = ev->Pb + (size_t)q * BH;
            float *d = ev->D + (size_t)q * BH;
            for (int64_t b = 0; b < ev->bg->n; b++)
                for (size_t j = 0; j < H; j++)
                    d[(size_t)b * H + j] = (float)(acc[j] - pb[(size_t)b * H + j]);
        }
        return WF_OK;
    }
    for (int64_t b = 0; b < ev->bg->n; b++) {
        const float *xb = bgx + (size_t)b * CT;
        for (size_t i = 0; i < CT; i++)
            dx[i] = (double)x[i] - (double)xb[i];
        for (int q = 0; q < pl->M; q++) {
            float *d = ev->D + ((size_t)q * (size_t)ev->bg->n + (size_t)b) * H;
            for (size_t j = 0; j < H; j++)
                acc[j] = 0.0;
            for (int64_t k = pl->start[q]; k < pl->start[q + 1]; k++) {
                int64_t i = pl->cells[k];
                daxpy_f(acc, ev->AT + (size_t)i * H, dx[i], H);
            }
            for (size_t j = 0; j < H; j++)
                d[j] = (float)acc[j];
        }
    }
    return WF_OK;
}

/* y = s + sum_{k < na} a[k] x[k] over n floats, each element's terms added in k order (the same
 * sums as a copy then one axpy per k), in blocks of 32 lanes held in registers across the k
 * loop: each partial is read once and y written once, instead of na passes over y. Eight-lane
 * vectors written out (core/clones.h: left to itself GCC interleaves the k loop with scalar
 * code); an AVX2 clone where the processor has it (the same float operations). */
WF_CLONES("avx2")
static void sum_rows(float *restrict y, const float *restrict s, const float *const *x,
                     const float *a, int na, size_t n) {
    size_t i = 0;
#ifdef WF_HAVE_V8
    for (; i + 32 <= n; i += 32) {
        const wf_v8 *sv = (const wf_v8 *)(const void *)(s + i);
        wf_v8 c0 = sv[0], c1 = sv[1], c2 = sv[2], c3 = sv[3];
        for (int k = 0; k < na; k++) {
            const wf_v8 *xv = (const wf_v8 *)(const void *)(x[k] + i);
            float ak = a[k];
            wf_v8 w = {ak, ak, ak, ak, ak, ak, ak, ak};
            c0 += w * xv[0];
            c1 += w * xv[1];
            c2 += w * xv[2];
            c3 += w * xv[3];
        }
        wf_v8 *yv = (wf_v8 *)(void *)(y + i);
        yv[0] = c0;
        yv[1] = c1;
        yv[2] = c2;
        yv[3] = c3;
    }
#endif
    for (; i < n; i++) {
        float v = s[i];
        for (int k = 0; k < na; k++)
            v += a[k] * x[k][i];
        y[i] = v;
    }
}

/* Rows of coalition mask m for every background row into ev->xbuf (plain path) or ev->hbuf
 * (affine path), starting at row r0. */
static void build_rows(wf_coal_eval *ev, const uint8_t *m, int64_t r0, int affine) {
    const wf_players *pl = ev->pl;
    const wf_background *bg = ev->bg;
    size_t CT = (size_t)pl->C * (size_t)pl->T;
    if (!affine) {
        uint8_t *cm = ev->cellmask;
        memset(cm, 0, CT);
        for (int q = 0; q < pl->M; q++)
            if (m[q])
                for (int64_t k = pl->start[q]; k < pl->start[q + 1]; k++)
                    cm[pl->cells[k]] = 1;
        const float *x = ev->x;
        for (int64_t b = 0; b < bg->n; b++) {
            float *dst = ev->xbuf + (size_t)(r0 + b) * CT;
            const float *xb = bg->x + (size_t)b * CT;
            for (size_t i = 0; i < CT; i++)
                dst[i] = cm[i] ? x[i] : xb[i];
        }
        return;
    }
    size_t H = (size_t)ev->p->hidden;
    int on = 0;
    for (int q = 0; q < pl->M; q++)
        on += m[q] != 0;
    int from_x = 2 * on > pl->M; /* start from x and subtract the players that are off */
    int na = 0;                  /* the players whose partials are added (or subtracted) */
    for (int q = 0; q < pl->M; q++)
        if ((m[q] != 0) != from_x)
            ev->act[na++] = q;
    /* Partials in float (the first layer's own precision), summed in float: a coalition adds
     * at most M/2 of them; the start value a0 + A b (or a0 + A x) was computed in double. */
    float *dst0 = ev->hbuf + (size_t)r0 * H; /* (n_bg, H) rows of this coalition */
    size_t BH = (size_t)bg->n * H;
    float sg = from_x ? -1.0f : 1.0f;
    const float **rows = ev->rows;
    float *coef = ev->coef;
    if (!ev->single) {
        /* the start rows plus the active players' partials, each player's block (n_bg, H)
         * read once */
        for (int k = 0; k < na; k++) {
            rows[k] = ev->D + (size_t)ev->act[k] * BH;
            coef[k] = sg;
        }
        if (!from_x) {
            sum_rows(dst0, ev->hbf, rows, coef, na, BH);
            return;
        }
        for (int64_t b = 0; b < bg->n; b++) {
            sum_rows(dst0 + (size_t)b * H, ev->hxf, rows, coef, na, H);
            for (int k = 0; k < na; k++)
                rows[k] += H;
        }
        return;
    }
    /* one cell per player: the partial is A[:, c] (x_c - b_c), formed on the fly from the
     * transposed first layer (CT x H, small enough to stay in cache) */
    for (int k = 0; k < na; k++)
        rows[k] = ev->AT + (size_t)pl->cells[pl->start[ev->act[k]]] * H;
    for (int64_t b = 0; b < bg->n; b++) {
        const float *db = ev->diff + (size_t)b * CT;
        for (int k = 0; k < na; k++)
            coef[k] = sg * db[pl->cells[pl->start[ev->act[k]]]];
        sum_rows(dst0 + (size_t)b * H, from_x ? ev->hxf : ev->hbf + (size_t)b * H, rows, coef, na,
                 H);
    }
}

wf_status wf_coal_eval_values(wf_coal_eval *ev, const uint8_t *masks, int64_t n, double *v,
                              wf_error *err) {
    const wf_background *bg = ev->bg;
    int M = ev->pl->M;
    int64_t per = ev->max_batch / bg->n; /* coalitions per predict call */
    /* Path for this call. The shortcut costs about min(|S|, M - |S|) hidden-wide additions per
     * row; the plain first layer one multiply-add per nonzero weight in an sgemm, taken as
     * about 4 times faster per operation. */
    int affine = ev->affine;
    if (affine && ev->auto_path && n > 0) {
        double on = 0;
        for (int64_t k = 0; k < n; k++) {
            int c = 0;
            for (int q = 0; q < M; q++)
                c += masks[(size_t)k * (size_t)M + (size_t)q] != 0;
            on += c < M - c ? c : M - c;
        }
        affine = 4.0 * on / (double)n * (double)ev->p->hidden < (double)ev->first_layer_nnz;
    }
    for (int64_t k0 = 0; k0 < n; k0 += per) {
        int64_t kn = n - k0 < per ? n - k0 : per;
        for (int64_t k = 0; k < kn; k++)
            build_rows(ev, masks + (size_t)(k0 + k) * (size_t)M, k * bg->n, affine);
        int64_t rows = kn * bg->n;
        wf_status st = affine ? ev->p->predict_hidden(ev->ctx, ev->hbuf, rows, ev->ybuf, err)
                              : ev->p->predict(ev->ctx, ev->xbuf, rows, ev->ybuf, err);
        if (st)
            return st;
        ev->evaluations += rows;
        for (int64_t k = 0; k < kn; k++) {
            const float *y = ev->ybuf + (size_t)(k * bg->n);
            double s = 0;
            if (ev->link == WF_LINK_LOGIT_OUTPUT) {
                for (int64_t b = 0; b < bg->n; b++)
                    s += bg->weight[b] * wf_link_apply(WF_LINK_LOGIT, (double)y[b]);
            } else {
                for (int64_t b = 0; b < bg->n; b++)
                    s += bg->weight[b] * (double)y[b];
                s = wf_link_apply(ev->link, s);
            }
            if (!isfinite(s))
                return wf_error_set(err, WF_ERR_NUMERIC,
                                    "coalition value is not finite (%g): the model returned a "
                                    "non-finite score%s",
                                    s,
                                    ev->link != WF_LINK_IDENTITY
                                        ? " or a probability of exactly 0 or 1 under the logit link"
                                        : "");
            v[k0 + k] = s;
        }
    }
    return WF_OK;
}
