/*
 * The first-layer shortcut for QOperator models: the input's QuantizeLinear feeds a QGemm
 * (com.microsoft) or a QLinearMatMul with constant weights. Before its requantization such a
 * layer computes int32 sums
 *     acc[j] = a0[j] + sum_i A[j][i] u[i],  u[i] = x_q[i] - za,  A[j][i] = B[i][j] - zb[j],
 * a0[j] = the QGemm's bias C[j] (0 for QLinearMatMul): an integer affine map of the quantized
 * cells. A coalition row's cells are each the window's or a background row's, so its sums are
 * the sums of per-player integer partials: exact in any order while every partial sum stays
 * below 2^24 in magnitude, where float32 holds integers exactly. wf_affine_qop admits a layer
 * only when |a0[j]| + sum_i |A[j][i]| (hi - lo) < 2^24 for every unit j (hi - lo: the input
 * type's range, which bounds |u| and every difference of two cells), so the coalition code's
 * float sums equal the engine's int32 accumulators bit for bit. wf_affine_qop_requant then
 * applies the op's own requantization (the same function its forward calls) and the predictor
 * runs the rest of the graph from the op's output as deployed: the shortcut's scores are the
 * deployed graph's scores, not an approximation of them.
 * Non-goals: QLinearConv, per-row QGemm biases, a transposed A, MatMulInteger (its dynamic
 * quantization makes the batch one window anyway).
 */
#include <math.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"

#define QOP_MAX_IN 9

/* Input k of n when it is a constant, else NULL (absent inputs too). */
static const wf_tensor *cst(const wf_model *m, const wf_node *n, int k) {
    if (k >= n->n_in || n->in[k] < 0 || m->vals[n->in[k]].kind != WF_VAL_CONST)
        return NULL;
    return &m->vals[n->in[k]].c;
}

static int32_t q8at(const wf_tensor *t, int64_t i) {
    return t->dtype == WF_DTYPE_INT8 ? (int32_t)((const int8_t *)t->data)[i]
                                     : (int32_t)((const uint8_t *)t->data)[i];
}

static int is_q8(const wf_tensor *t) {
    return t->dtype == WF_DTYPE_INT8 || t->dtype == WF_DTYPE_UINT8;
}

static int is_qgemm(const wf_node *n) {
    return !strcmp(n->op->name, "QGemm");
}

static int is_qmm(const wf_node *n) {
    return !strcmp(n->op->name, "QLinearMatMul");
}

int wf_affine_qop(const wf_model *m, const wf_node *n, int v, int64_t R, double *A, double *a0,
                  int64_t *H) {
    int qg = is_qgemm(n);
    if ((!qg && !is_qmm(n)) || n->in[0] != v || (qg && n->p.trans_a) || n->n_in > QOP_MAX_IN)
        return 0;
    /* every input but the activation is a constant (or absent): the requantization reads them
     * from the model, and the weights are known now */
    for (int k = 1; k < n->n_in; k++)
        if (n->in[k] >= 0 && !cst(m, n, k))
            return 0;
    const wf_tensor *B = cst(m, n, 3), *sb = cst(m, n, 4), *zb = cst(m, n, 5);
    const wf_tensor *za = cst(m, n, 2), *sa = cst(m, n, 1), *bias = qg ? cst(m, n, 6) : NULL;
    wf_dtype dx = m->vals[v].dtype;
    if (!B || !sa || !sb || B->rank != 2 || !is_q8(B) || wf_numel(sa) != 1 ||
        (dx != WF_DTYPE_INT8 && dx != WF_DTYPE_UINT8) || (za && (!is_q8(za) || wf_numel(za) != 1)))
        return 0;
    int tb = qg && n->p.trans_b;
    int64_t K = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (K != R || (zb && wf_numel(zb) != 1 && wf_numel(zb) != N) || (zb && !is_q8(zb)))
        return 0;
    if (qg && !zb)
        return 0;
    if (bias) {
        int64_t cn = wf_numel(bias);
        int percol = cn == 1 || (bias->rank == 1 && cn == N) ||
                     (bias->rank == 2 && bias->dims[0] == 1 && bias->dims[1] == N);
        if (bias->dtype != WF_DTYPE_INT32 || !percol) /* a bias per row needs the batch */
            return 0;
    }
    /* QLinearMatMul: y_scale (and y_zero_point) per tensor, as its forward reads them */
    if (is_qmm(n) && (!cst(m, n, 6) || wf_numel(cst(m, n, 6)) != 1))
        return 0;
    *H = N;
    const double range = 255.0; /* hi - lo of either 8-bit type */
    for (int64_t j = 0; j < N; j++) {
        int32_t z = zb ? q8at(zb, wf_numel(zb) == 1 ? 0 : j) : 0;
        double b = 0.0, bound;
        if (bias)
            b = (double)((const int32_t *)bias->data)[wf_numel(bias) == 1 ? 0 : j];
        bound = fabs(b);
        for (int64_t i = 0; i < K; i++) {
            int32_t w = q8at(B, tb ? j * K + i : i * N + j) - z;
            bound += fabs((double)w) * range;
            if (A)
                A[j * K + i] = (double)w;
        }
        if (bound >= 16777216.0) /* 2^24: beyond it float sums of partials may round */
            return 0;
        if (a0)
            a0[j] = b;
    }
    return 1;
}

const wf_node *wf_affine_qop_node(const wf_model *m, int hidden_value, int32_t *za) {
    *za = 0;
    if (hidden_value < 0 || m->vals[hidden_value].producer < 0)
        return NULL;
    const wf_node *n = &m->nodes[m->vals[hidden_value].producer];
    if (!is_qgemm(n) && !is_qmm(n))
        return NULL;
    const wf_tensor *z = cst(m, n, 2);
    if (z)
        *za = q8at(z, 0);
    return n;
}

void wf_affine_qop_requant(const wf_model *m, const wf_node *n, const int32_t *acc, int64_t M,
                           int64_t N, void *y, float *scj) {
    /* the node's inputs as its forward sees them: A is not read (a placeholder of its shape),
     * the constants are the model's */
    wf_tensor a, *in[QOP_MAX_IN] = {0};
    memset(&a, 0, sizeof a);
    a.dtype = m->vals[n->in[0]].dtype;
    a.rank = 2;
    a.dims[0] = M;
    in[0] = &a;
    for (int k = 1; k < n->n_in && k < QOP_MAX_IN; k++)
        in[k] = (wf_tensor *)cst(m, n, k);
    wf_dtype dy = m->vals[n->out[0]].dtype;
    if (is_qgemm(n))
        wf_qgemm_requant(n, in, acc, M, N, y, dy, scj);
    else
        wf_qmm_requant(in, acc, M, N, y, dy, scj);
}

int wf_affine_qop_grad_scale(const wf_model *m, const wf_node *n, int64_t N, float *gs,
                             int *masked) {
    const wf_tensor *sa = cst(m, n, 1), *sb = cst(m, n, 4);
    if ((!is_qgemm(n) && !is_qmm(n)) || !sa || !sb || wf_numel(sa) != 1 ||
        (wf_numel(sb) != 1 && wf_numel(sb) != N) || sa->dtype != WF_DTYPE_FLOAT ||
        sb->dtype != WF_DTYPE_FLOAT)
        return 0;
    const float *bs = sb->data;
    float as = ((const float *)sa->data)[0];
    const wf_tensor *sy = cst(m, n, is_qgemm(n) ? 7 : 6);
    *masked = sy != NULL;
    if (is_qmm(n) && !sy)
        return 0;
    if (sy && (wf_numel(sy) != 1 || sy->dtype != WF_DTYPE_FLOAT))
        return 0;
    float ys = sy ? ((const float *)sy->data)[0] : 1.0f;
    for (int64_t j = 0; j < N; j++) {
        float b = bs[wf_numel(sb) > 1 ? j : 0];
        if (is_qgemm(n)) { /* qgemm_bwd: alpha sa sb[j] (/ sy) */
            float sc = n->p.alpha * as * b;
            gs[j] = sy ? sc / ys : sc;
        } else { /* qmm_bwd: (dy / sy) (B - zb) sb[j], times sa */
            gs[j] = (float)((double)as * (double)b / (double)ys);
        }
    }
    return 1;
}
