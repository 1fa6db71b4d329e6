/*
 * Gemm and MatMul (float32) through the GEMM kernel (OpenBLAS sgemm; naive reference in the
 * kernels); a Gemm with few output columns and a bias row through the direct AVX-512 kernel
 * (kernels_direct.c) where it applies. MatMul follows numpy: 1-D operands are promoted and the
 * promoted axis removed again, batch axes broadcast.
 */
#include <stdlib.h>
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"
#include "model/ops/ops.h"

/* ---- Gemm ---- */
static wf_status gemm_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs A, B (and optional C)");
    for (int i = 0; i < n->n_in && i < 3; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    n->p.alpha = wf_attr_float(n, "alpha", 1.0f);
    n->p.beta = wf_attr_float(n, "beta", 1.0f);
    n->p.trans_a = (int)wf_attr_int(n, "transA", 0);
    n->p.trans_b = (int)wf_attr_int(n, "transB", 0);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static void gemm_dims(const wf_node *n, wf_tensor *const *in, int64_t *M, int64_t *N, int64_t *K) {
    *M = n->p.trans_a ? in[0]->dims[1] : in[0]->dims[0];
    *K = n->p.trans_a ? in[0]->dims[0] : in[0]->dims[1];
    *N = n->p.trans_b ? in[1]->dims[0] : in[1]->dims[1];
}

static wf_status gemm_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    if (in[0]->rank != 2 || in[1]->rank != 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "A and B must be 2-D (got rank %d and %d)",
                             in[0]->rank, in[1]->rank);
    int64_t M, N, K;
    gemm_dims(n, in, &M, &N, &K);
    int64_t kb = n->p.trans_b ? in[1]->dims[1] : in[1]->dims[0];
    if (kb != K)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "inner dimensions differ: A gives K=%lld, B gives %lld", (long long)K,
                             (long long)kb);
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return wf_node_error(err, WF_ERR_SHAPE, n, "matrix too large");
    if (n->n_in >= 3 && in[2]) {
        const wf_tensor *c = in[2];
        if (c->rank > 2 ||
            (c->rank >= 1 && c->dims[c->rank - 1] != 1 && c->dims[c->rank - 1] != N) ||
            (c->rank == 2 && c->dims[0] != 1 && c->dims[0] != M))
            return wf_node_error(err, WF_ERR_SHAPE, n, "C does not broadcast to (%lld, %lld)",
                                 (long long)M, (long long)N);
    }
    out[0]->rank = 2;
    out[0]->dims[0] = M;
    out[0]->dims[1] = N;
    /* the direct kernel's packed B^T */
    *scratch = n->p.trans_b && wf_k_gemm_direct_applies((int)M, (int)N, (int)K)
                   ? (size_t)K * (size_t)N * sizeof(float)
                   : 0;
    return wf_check_numel(n, out[0], err);
}

/* Strides of C over (M, N) after broadcasting. */
static void c_strides(const wf_tensor *c, int64_t *sm, int64_t *sn) {
    *sm = 0;
    *sn = 0;
    if (c->rank >= 1 && c->dims[c->rank - 1] != 1)
        *sn = 1;
    if (c->rank == 2 && c->dims[0] != 1)
        *sm = c->dims[1];
}

/* The bias row of C when C is one (broadcast over the rows, beta 1; with one column N, a single
 * value is that row), else NULL. */
static const float *bias_row(const wf_node *n, wf_tensor *const *in, int64_t N) {
    if (n->n_in < 3 || !in[2] || n->p.beta != 1.0f)
        return NULL;
    int64_t sm, sn;
    c_strides(in[2], &sm, &sn);
    return sm == 0 && (sn == 1 || (N == 1 && wf_numel(in[2]) == 1)) ? in[2]->data : NULL;
}

/* y = A op(B) (+ C) by the direct kernel (bias and ReLU in registers) when it applies: A not
 * transposed, alpha 1, C absent or a bias row. b is B's data as stored (tb: B^T, packed into s)
 * or already packed (K, N) (tb 0). Returns 1 when it wrote y. */
static int gemm_direct(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       const float *b, int tb, int relu, void *s) {
    int64_t M, N, K;
    gemm_dims(n, in, &M, &N, &K);
    int has_c = n->n_in >= 3 && in[2] && n->p.beta != 0.0f;
    const float *bias = bias_row(n, in, N);
    if (n->p.trans_a || n->p.alpha != 1.0f || (has_c && !bias))
        return 0;
    return wf_k_gemm_direct(out[0]->data, in[0]->data, b, tb, bias, (int)M, (int)N, (int)K, relu,
                            s);
}

/* B^T (K, N) of a Gemm with a constant B used transposed, for the direct kernel; NULL where
 * that kernel does not take the node (B not transposed needs no packing). */
static float *gemm_pack(const wf_node *n, wf_tensor *const *in) {
    const wf_tensor *b = in[1];
    if (!n->p.trans_b || n->p.trans_a || n->p.alpha != 1.0f || b->dtype != WF_DTYPE_FLOAT ||
        b->rank != 2 || b->dims[0] > INT32_MAX || b->dims[1] > INT32_MAX ||
        !wf_k_gemm_direct_applies(1, (int)b->dims[0], (int)b->dims[1]))
        return NULL;
    int64_t N = b->dims[0], K = b->dims[1];
    float *bt = malloc((size_t)(N * K) * sizeof(float));
    if (bt)
        wf_k_transpose(bt, b->data, N, K);
    return bt;
}

static int gemm_fwd_packed(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           const float *bt, int relu, void *s) {
    (void)s;
    return n->p.trans_b && gemm_direct(n, in, out, bt, 0, relu, NULL);
}

static void gemm_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    if (gemm_direct(n, in, out, in[1]->data, n->p.trans_b, 0, s))
        return;
    int64_t M, N, K;
    gemm_dims(n, in, &M, &N, &K);
    float *y = out[0]->data;
    float beta = 0.0f;
    if (n->n_in >= 3 && in[2] && n->p.beta != 0.0f) {
        int64_t sm, sn;
        c_strides(in[2], &sm, &sn);
        const float *c = in[2]->data;
        float b = n->p.beta;
        if (sn == 1 && b == 1.0f) /* a bias row (or rows): 1 * c is c, copied */
            for (int64_t i = 0; i < M; i++)
                memcpy(y + i * N, c + i * sm, (size_t)N * sizeof *y);
        else
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++)
                    y[i * N + j] = n->p.beta * c[i * sm + j * sn];
        beta = 1.0f;
    }
    wf_k_gemm(y, in[0]->data, in[1]->data, (int)M, (int)N, (int)K, n->p.trans_a, n->p.trans_b,
              n->p.alpha, beta);
}

/* Gemm with the Relu that alone reads its output fused in (engine.c): ReLU in place on the
 * product while it is in cache, the same values as the Relu node computes. */
void wf_op_gemm_relu_forward(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                             void *s) {
    if (gemm_direct(n, in, out, in[1]->data, n->p.trans_b, 1, s))
        return;
    gemm_fwd(n, in, out, s);
    float *y = out[0]->data;
    wf_k_relu_forward(y, y, (size_t)wf_numel(out[0]));
}

static void gemm_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                     float *const *gin, float *const *gout, void *s) {
    (void)s;
    (void)out;
    int64_t M, N, K;
    gemm_dims(n, in, &M, &N, &K);
    if (gin[0])
        wf_k_gemm_backward_a(gin[0], gout[0], in[1]->data, (int)M, (int)N, (int)K, n->p.trans_a,
                             n->p.trans_b, n->p.alpha);
    if (gin[1])
        wf_k_gemm_backward_b(gin[1], gout[0], in[0]->data, (int)M, (int)N, (int)K, n->p.trans_a,
                             n->p.trans_b, n->p.alpha);
    if (n->n_in >= 3 && gin[2]) {
        int64_t sm, sn;
        c_strides(in[2], &sm, &sn);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                gin[2][i * sm + j * sn] += n->p.beta * gout[0][i * N + j];
    }
}

static int64_t gemm_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    int64_t M, N, K;
    gemm_dims(n, in, &M, &N, &K);
    (void)out;
    return 2 * M * N * K + (n->n_in >= 3 && in[2] ? M * N : 0);
}

const wf_opdef wf_op_gemm = {"Gemm", gemm_check, gemm_shape, gemm_fwd, gemm_bwd, 0, gemm_flops};
const wf_op_packing wf_pack_gemm = {gemm_pack, gemm_fwd_packed};

/* ---- MatMul ---- */
static wf_status matmul_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs 2 inputs and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_FLOATONLY, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

/* The matmul as a batch of (M, K) @ (K, N) products with broadcast batch strides. */
typedef struct mm_geom {
    int64_t M, N, K, batch;
    int br; /* batch rank */
    int64_t bdims[WF_MAX_RANK], sa[WF_MAX_RANK], sb[WF_MAX_RANK];
} mm_geom;

static int mm_setup(const wf_tensor *a, const wf_tensor *b, mm_geom *g, int64_t *odims,
                    int *orank) {
    int ra = a->rank, rb = b->rank;
    if (ra < 1 || rb < 1)
        return -1;
    g->M = ra >= 2 ? a->dims[ra - 2] : 1;
    g->K = a->dims[ra - 1];
    int64_t kb = rb >= 2 ? b->dims[rb - 2] : b->dims[0];
    g->N = rb >= 2 ? b->dims[rb - 1] : 1;
    if (kb != g->K)
        return -2;
    int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    g->br = bra > brb ? bra : brb;
    int64_t acc_a = g->M * g->K, acc_b = g->K * g->N;
    g->batch = 1;
    for (int i = g->br - 1; i >= 0; i--) {
        int ia = i - (g->br - bra), ib = i - (g->br - brb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return -3;
        g->bdims[i] = da == 1 ? db : da;
        g->sa[i] = da == 1 ? 0 : acc_a;
        g->sb[i] = db == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= db;
        g->batch *= g->bdims[i];
    }
    if (odims) {
        int r = 0;
        for (int i = 0; i < g->br; i++)
            odims[r++] = g->bdims[i];
        if (ra >= 2)
            odims[r++] = g->M;
        if (rb >= 2)
            odims[r++] = g->N;
        *orank = r;
    }
    return 0;
}

static wf_status matmul_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    (void)scratch;
    mm_geom g;
    int rc = mm_setup(in[0], in[1], &g, out[0]->dims, &out[0]->rank);
    if (rc == -1)
        return wf_node_error(err, WF_ERR_SHAPE, n, "scalar operands are not allowed");
    if (rc == -2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "inner dimensions differ");
    if (rc == -3)
        return wf_node_error(err, WF_ERR_SHAPE, n, "batch dimensions cannot broadcast");
    if (g.M > INT32_MAX || g.N > INT32_MAX || g.K > INT32_MAX)
        return wf_node_error(err, WF_ERR_SHAPE, n, "matrix too large");
    return wf_check_numel(n, out[0], err);
}

/* Offsets of batch element q into A and B. */
static void mm_offsets(const mm_geom *g, int64_t q, int64_t *oa, int64_t *ob) {
    *oa = 0;
    *ob = 0;
    for (int i = g->br - 1; i >= 0; i--) {
        int64_t k = q % g->bdims[i];
        q /= g->bdims[i];
        *oa += k * g->sa[i];
        *ob += k * g->sb[i];
    }
}

static void matmul_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    mm_geom g;
    mm_setup(in[0], in[1], &g, NULL, NULL);
    const float *A = in[0]->data, *B = in[1]->data;
    float *Y = out[0]->data;
    /* B shared by every batch element and A contiguous: one product of (batch*M, K). */
    int b_shared = 1, a_full = 1;
    for (int i = 0; i < g.br; i++) {
        b_shared &= g.sb[i] == 0;
        a_full &= g.sa[i] != 0 || g.bdims[i] == 1;
    }
    if (b_shared && a_full) {
        wf_k_gemm(Y, A, B, (int)(g.batch * g.M), (int)g.N, (int)g.K, 0, 0, 1.0f, 0.0f);
        return;
    }
    for (int64_t q = 0; q < g.batch; q++) {
        int64_t oa, ob;
        mm_offsets(&g, q, &oa, &ob);
        wf_k_gemm(Y + q * g.M * g.N, A + oa, B + ob, (int)g.M, (int)g.N, (int)g.K, 0, 0, 1.0f,
                  0.0f);
    }
}

static void matmul_bwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                       float *const *gin, float *const *gout, void *s) {
    (void)n;
    (void)s;
    (void)out;
    mm_geom g;
    mm_setup(in[0], in[1], &g, NULL, NULL);
    const float *A = in[0]->data, *B = in[1]->data;
    for (int64_t q = 0; q < g.batch; q++) {
        int64_t oa, ob;
        mm_offsets(&g, q, &oa, &ob);
        const float *gy = gout[0] + q * g.M * g.N;
        if (gin[0])
            wf_k_gemm_backward_a(gin[0] + oa, gy, B + ob, (int)g.M, (int)g.N, (int)g.K, 0, 0, 1.0f);
        if (gin[1])
            wf_k_gemm_backward_b(gin[1] + ob, gy, A + oa, (int)g.M, (int)g.N, (int)g.K, 0, 0, 1.0f);
    }
}

static int64_t matmul_flops(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out) {
    (void)n;
    (void)out;
    mm_geom g;
    if (mm_setup(in[0], in[1], &g, NULL, NULL))
        return 0;
    return 2 * g.batch * g.M * g.N * g.K;
}

const wf_opdef wf_op_matmul = {"MatMul", matmul_check, matmul_shape, matmul_fwd, matmul_bwd,
                               0,        matmul_flops};
