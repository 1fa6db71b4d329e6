/*
 * The fused tail of a QOperator layer: what ONNX Runtime's quantizer writes after a
 * QLinearMatMul - its bias as a QLinearAdd, and a DequantizeLinear -> QuantizeLinear pair where
 * the next layer's input type or scale differs - evaluated in one pass from the matmul's exact
 * int32 sums (held as floats) to the last node's codes:
 *     sums -> requantize (QLinearMatMul) -> + bias (QLinearAdd) -> code map (DQ -> Q) -> codes.
 * The per-element arithmetic is the ops' own: the requantization's and QLinearAdd's elements
 * come from qelem.h, the bias terms from wf_qadd_terms (as qadd_fwd computes them), and the code
 * map is made by running the DequantizeLinear's and QuantizeLinear's own forwards over the 256
 * codes. The intermediate values (the matmul's codes, the sum's codes, the dequantized sum) are
 * not written: only forward runs that no backward follows take the tail (engine.c), since the
 * straight-through backward reads them.
 * The nodes are consecutive in the graph's order, each intermediate value is read by the next
 * node only and is no graph output, and every input but the chain's is a constant.
 * Non-goals: QGemm heads (QGemm models already run within 1.2-1.3x of their QDQ twins: their
 * bias is inside the op), QLinearMul, per-axis DequantizeLinear/QuantizeLinear, a tail that
 * ends in a float (the last layer's DequantizeLinear: 1 value a row).
 */
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"
#include "model/kernels/qelem.h"

struct wf_qtail {
    int last;          /* the last node covered (the head is the QLinearMatMul it is made for) */
    int out_value;     /* the value the tail writes */
    int64_t N;         /* columns of the matmul's output */
    int64_t L;         /* row length of the loop: N, or N (64 / N) short rows side by side */
    float *m;          /* (L) requantization multipliers, per column, repeated */
    int32_t zy;        /* the matmul output's zero point */
    float vmin, vmax;  /* its range less the zero point (wf_requant_elem) */
    float lo, hi;      /* its range */
    int add;           /* a QLinearAdd follows */
    float rx;          /* its factor on the matmul's code */
    float *tj;         /* (L) its terms per column (the bias with the fixed part) */
    int map;           /* a DequantizeLinear -> QuantizeLinear pair follows: code[256] */
    uint8_t code[256]; /* output byte for each input byte */
};

int wf_qtail_last(const wf_qtail *t) {
    return t->last;
}

int wf_qtail_value(const wf_qtail *t) {
    return t->out_value;
}

void wf_qtail_free(wf_qtail *t) {
    if (!t)
        return;
    free(t->m);
    free(t->tj);
    free(t);
}

/* Input k of n as a constant tensor, NULL when absent or not a constant; *ok = 0 when present
 * and not constant. */
static wf_tensor *cst(const wf_model *m, const wf_node *n, int k, int *ok) {
    if (k >= n->n_in || n->in[k] < 0)
        return NULL;
    if (m->vals[n->in[k]].kind != WF_VAL_CONST) {
        *ok = 0;
        return NULL;
    }
    return (wf_tensor *)&m->vals[n->in[k]].c;
}

/* The node that alone reads value v (not a graph output), if it is node j + 1; else -1. */
static int only_reader_next(const wf_model *m, int v, int j) {
    if (v < 0 || j + 1 >= m->n_nodes)
        return -1;
    for (int o = 0; o < m->n_outputs; o++)
        if (m->outputs[o] == v)
            return -1;
    for (int r = 0; r < m->n_nodes; r++)
        for (int k = 0; k < m->nodes[r].n_in; k++)
            if (m->nodes[r].in[k] == v && (r != j + 1 || k != 0))
                return -1;
    const wf_node *n = &m->nodes[j + 1];
    return n->n_in > 0 && n->in[0] == v && n->n_out == 1 && n->out[0] >= 0 ? j + 1 : -1;
}

/* The node's inputs as a forward reads them: in[0] = x (the chain's value), the rest its
 * constants; 0 when an input beyond the first is not a constant. */
static int gather_consts(const wf_model *m, const wf_node *n, wf_tensor *x, wf_tensor **in,
                         int cap) {
    int ok = n->n_in <= cap;
    for (int k = 0; k < cap; k++)
        in[k] = NULL;
    in[0] = x;
    for (int k = 1; k < n->n_in && ok; k++)
        in[k] = cst(m, n, k, &ok);
    return ok;
}

static int is8(wf_dtype d) {
    return d == WF_DTYPE_INT8 || d == WF_DTYPE_UINT8;
}

/* A DequantizeLinear (per tensor) at node j and a QuantizeLinear (per tensor) at j + 1 over
 * 8-bit codes of type d: code[] from their own forwards over the 256 codes. */
static int code_map(const wf_model *m, int j, wf_dtype d, uint8_t code[256]) {
    const wf_node *dq = &m->nodes[j], *q = &m->nodes[j + 1];
    if (dq->op != &wf_op_dequantize || q->op != &wf_op_quantize ||
        only_reader_next(m, dq->out[0], j) != j + 1 || !is8(m->vals[q->out[0]].dtype))
        return 0;
    uint8_t codes[256];
    float f[256];
    for (int c = 0; c < 256; c++)
        codes[c] = (uint8_t)c;
    wf_tensor x = {.dtype = d, .rank = 2, .dims = {1, 256}, .data = codes};
    wf_tensor fy = {.dtype = WF_DTYPE_FLOAT, .rank = 2, .dims = {1, 256}, .data = f};
    wf_tensor y = {.dtype = m->vals[q->out[0]].dtype, .rank = 2, .dims = {1, 256}, .data = code};
    wf_tensor *in[3], *out[1];
    for (int s = 0; s < 2; s++) {
        const wf_node *n = s ? q : dq;
        if (!gather_consts(m, n, s ? &fy : &x, in, 3))
            return 0;
        for (int k = 1; k < 3; k++)
            if (in[k] && wf_numel(in[k]) != 1)
                return 0; /* per axis */
        if (!in[1])
            return 0;
        out[0] = s ? &y : &fy;
        size_t scratch = 0;
        wf_tensor shaped = *out[0];
        wf_tensor *sout[1] = {&shaped};
        if (n->op->shape(n, in, sout, &scratch, NULL) || scratch > sizeof f)
            return 0;
        uint8_t mask[sizeof f]; /* the ops' scratch (an STE mask), unused forward */
        n->op->forward(n, in, out, mask);
    }
    return 1;
}

wf_qtail *wf_qtail_new(const wf_model *m, int j) {
    const wf_node *h = &m->nodes[j];
    if (h->op != &wf_op_qlinear_matmul || h->n_out != 1 || h->out[0] < 0)
        return NULL;
    int ok = 1;
    const wf_tensor *sa = cst(m, h, 1, &ok), *sb = cst(m, h, 4, &ok), *sy = cst(m, h, 6, &ok),
                    *zy = cst(m, h, 7, &ok);
    (void)cst(m, h, 2, &ok); /* A's zero point, read by the sums */
    wf_dtype dmm = m->vals[h->out[0]].dtype;
    if (!ok || !sa || !sb || !sy || h->in[3] < 0 || m->vals[h->in[3]].kind != WF_VAL_CONST ||
        m->vals[h->in[3]].c.rank != 2 || !is8(dmm) || wf_numel(sa) != 1 || wf_numel(sy) != 1 ||
        (zy && wf_numel(zy) != 1))
        return NULL;
    int64_t N = m->vals[h->in[3]].c.dims[1];
    if (wf_numel(sb) != 1 && wf_numel(sb) != N)
        return NULL;
    wf_qtail *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->last = j;
    t->out_value = h->out[0];
    t->N = N;
    t->L = N < 64 ? N * (64 / N) : N;
    t->lo = dmm == WF_DTYPE_INT8 ? -128.0f : 0.0f;
    t->hi = dmm == WF_DTYPE_INT8 ? 127.0f : 255.0f;
    t->m = malloc(sizeof(float) * (size_t)t->L);
    float *mj = malloc(sizeof(float) * (size_t)N);
    if (!t->m || !mj) {
        free(mj);
        wf_qtail_free(t);
        return NULL;
    }
    /* the multipliers as wf_qmm_requant makes them (it reads only the scales and zero points) */
    wf_tensor *qin[8];
    wf_tensor a = {.dtype = m->vals[h->in[0]].dtype, .rank = 2, .dims = {1, 1}};
    gather_consts(m, h, &a, qin, 8);
    int32_t zyv = 0;
    if (qin[7])
        zyv = dmm == WF_DTYPE_INT8 ? ((const int8_t *)qin[7]->data)[0]
                                   : ((const uint8_t *)qin[7]->data)[0];
    wf_qmm_multipliers(qin, N, mj);
    t->zy = zyv;
    t->vmin = t->lo - (float)zyv;
    t->vmax = t->hi - (float)zyv;
    for (int64_t k = 0; k < t->L; k++)
        t->m[k] = mj[k % N];
    free(mj);

    /* + a constant scalar or row: QLinearAdd with the matmul's codes as A */
    int v = h->out[0], r = only_reader_next(m, v, j);
    if (r >= 0 && m->nodes[r].op == &wf_op_qlinear_add && N >= 2) {
        /* (N >= 2: a run's A then always has more than one value, so ONNX Runtime's operand
         * order, hence wf_qadd_terms' answer, is the same for every batch; two rows here) */
        const wf_node *n = &m->nodes[r];
        wf_tensor *in[8];
        wf_tensor x = {.dtype = dmm, .rank = 2, .dims = {2, N}};
        wf_tensor y = x;
        const wf_tensor *xo, *to;
        float inner[256];
        if (gather_consts(m, n, &x, in, 8) && in[3] && in[1] && in[4] && in[6] &&
            m->vals[n->out[0]].dtype == dmm && wf_numel(in[3]) <= N &&
            wf_qadd_terms(n, in, &y, &xo, &to, &t->rx, inner) && xo == &x &&
            (t->tj = malloc(sizeof(float) * (size_t)t->L))) {
            const uint8_t *tb = to->data;
            for (int64_t k = 0; k < t->L; k++)
                t->tj[k] = inner[tb[wf_numel(to) == 1 ? 0 : k % N]];
            t->add = 1;
            t->last = r;
            t->out_value = n->out[0];
        }
    }
    /* then DequantizeLinear -> QuantizeLinear: a map of codes */
    r = only_reader_next(m, t->out_value, t->last);
    if (r >= 0 && r + 1 < m->n_nodes && code_map(m, r, dmm, t->code)) {
        t->map = 1;
        t->last = r + 1;
        t->out_value = m->nodes[r + 1].out[0];
    }
    if (!t->add && !t->map) { /* the matmul alone: nothing to fuse */
        wf_qtail_free(t);
        return NULL;
    }
    return t;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define WF_QT_AVX512 1
#include <immintrin.h>
#define WF_QT_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

static int have_avx512(void) {
    static int avail = -1;
    if (avail < 0)
        avail = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vbmi");
    return avail;
}

/* tail_block's 64 values (columns c0 .. c0 + 63 of the loop's row) in AVX-512, operation for
 * operation the same float32 arithmetic: the requantization as wf_requant_elem (multiply, maxps,
 * minps, round with the current mode as rintf, + zy exact in float), QLinearAdd as wf_qadd_elem
 * (one fma); then the code map as two 128-entry byte lookups (vpermi2b) picked by the index's
 * high bit. */
WF_QT_TARGET static void block64_avx512(const wf_qtail *t, const float *s, int64_t c0,
                                        uint8_t *out) {
    const __m512 vmin = _mm512_set1_ps(t->vmin), vmax = _mm512_set1_ps(t->vmax),
                 zy = _mm512_set1_ps((float)t->zy), lo = _mm512_set1_ps(t->lo),
                 hi = _mm512_set1_ps(t->hi), wrap = _mm512_set1_ps(2147483648.0f),
                 rx = _mm512_set1_ps(t->rx);
    __m128i bytes[4];
    for (int q = 0; q < 4; q++) {
        __m512 f = _mm512_mul_ps(_mm512_loadu_ps(s + 16 * q), _mm512_loadu_ps(t->m + c0 + 16 * q));
        f = _mm512_max_ps(f, vmin); /* maxps(f, vmin): vmin where f is NaN */
        f = _mm512_min_ps(f, vmax);
        __m512 r = _mm512_add_ps(_mm512_roundscale_ps(f, _MM_FROUND_CUR_DIRECTION), zy);
        if (t->add) {
            __m512 v = _mm512_fmadd_ps(r, rx, _mm512_loadu_ps(t->tj + c0 + 16 * q));
            __m512 c = _mm512_roundscale_ps(v, _MM_FROUND_CUR_DIRECTION);
            c = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_GT_OQ), lo, c);
            c = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GE_OQ), c, hi);
            r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, wrap, _CMP_GE_OQ), c, lo);
        }
        bytes[q] = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r));
    }
    __m512i b = _mm512_inserti32x4(_mm512_castsi128_si512(bytes[0]), bytes[1], 1);
    b = _mm512_inserti32x4(b, bytes[2], 2);
    b = _mm512_inserti32x4(b, bytes[3], 3);
    if (t->map) {
        const uint8_t *code = t->code;
        __m512i t0 = _mm512_loadu_si512(code), t1 = _mm512_loadu_si512(code + 64);
        __m512i t2 = _mm512_loadu_si512(code + 128), t3 = _mm512_loadu_si512(code + 192);
        __m512i l = _mm512_permutex2var_epi8(t0, b, t1), h = _mm512_permutex2var_epi8(t2, b, t3);
        b = _mm512_mask_blend_epi8(_mm512_movepi8_mask(b), l, h);
    }
    _mm512_storeu_si512(out, b);
}
#endif

/* One block of nb <= 64 values starting at column c0 of the loop's row into b (bytes). */
WF_OPS_CLONES static void tail_block(const wf_qtail *t, const float *restrict s, int64_t c0, int nb,
                                     uint8_t *restrict b) {
    const float *m = t->m + c0;
    if (t->add) {
        const float *tj = t->tj + c0;
        for (int k = 0; k < nb; k++) {
            int32_t r = wf_requant_elem(s[k], m[k], t->vmin, t->vmax, t->zy);
            b[k] = (uint8_t)(int32_t)wf_qadd_elem((float)r, t->rx, tj[k], t->lo, t->hi);
        }
    } else {
        for (int k = 0; k < nb; k++)
            b[k] = (uint8_t)wf_requant_elem(s[k], m[k], t->vmin, t->vmax, t->zy);
    }
}

void wf_qtail_run(const wf_qtail *t, const float *sums, int64_t total, void *y) {
    uint8_t b[64], *out = y;
#ifdef WF_QT_AVX512
    int wide = have_avx512();
#endif
    for (int64_t o0 = 0; o0 < total; o0 += t->L) {
        int64_t end = o0 + t->L < total ? o0 + t->L : total;
        for (int64_t o = o0; o < end; o += 64) {
            int nb = end - o < 64 ? (int)(end - o) : 64;
#ifdef WF_QT_AVX512
            if (wide && nb == 64) {
                block64_avx512(t, sums + o, o - o0, out + o);
                continue;
            }
#endif
            tail_block(t, sums + o, o - o0, nb, b);
            if (t->map)
                for (int k = 0; k < nb; k++)
                    b[k] = t->code[b[k]];
            memcpy(out + o, b, (size_t)nb);
        }
    }
}

int wf_qtail_forward(const wf_qtail *t, wf_tensor *const *in, const float *packed, void *y,
                     void *s) {
    int64_t batch, M, N, K;
    int bb;
    if (wf_matmul_geom(in[0], in[3], &batch, &M, &N, &K, &bb) || bb)
        return 0;
    for (int64_t q = 0; q < batch; q++) {
        const float *sums = wf_qmm_float_sums(in, packed, q, s);
        if (!sums)
            return 0; /* the engine then runs the nodes one by one, which write every value */
        wf_qtail_run(t, sums, M * N, (char *)y + (size_t)(q * M * N));
    }
    return 1;
}
