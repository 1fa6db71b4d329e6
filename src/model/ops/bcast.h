/*
 * numpy broadcasting over up to three operands, for the op families that need more than
 * ops_elementwise.c's two-operand fast path: an odometer over the output that keeps each
 * operand's element offset (stride 0 along broadcast axes). Also plain element access as double
 * for dtype-generic ops (Cast, Range, ConstantOfShape).
 */
#ifndef WF_MODEL_OPS_BCAST_H
#define WF_MODEL_OPS_BCAST_H

#include <stdint.h>
#include <string.h>

#include "model/model_impl.h"

typedef struct wf_bc {
    int r, n;
    int64_t dims[WF_MAX_RANK];
    int64_t st[3][WF_MAX_RANK];
    int64_t idx[WF_MAX_RANK];
    int64_t off[3];
} wf_bc;

/* out: the broadcast output; ins[k] (k < n <= 3) its operands. */
static inline void wf_bc_init(wf_bc *b, const wf_tensor *out, const wf_tensor *const *ins, int n) {
    memset(b, 0, sizeof *b);
    b->r = out->rank;
    b->n = n;
    for (int i = 0; i < b->r; i++)
        b->dims[i] = out->dims[i];
    for (int k = 0; k < n; k++) {
        int64_t acc = 1;
        for (int i = b->r - 1; i >= 0; i--) {
            int it = i - (b->r - ins[k]->rank);
            int64_t d = it >= 0 ? ins[k]->dims[it] : 1;
            b->st[k][i] = d == 1 ? 0 : acc;
            acc *= d;
        }
    }
}

/* Advance to the next output element. */
static inline void wf_bc_next(wf_bc *b) {
    for (int d = b->r - 1; d >= 0; d--) {
        b->idx[d]++;
        for (int k = 0; k < b->n; k++)
            b->off[k] += b->st[k][d];
        if (b->idx[d] < b->dims[d])
            return;
        for (int k = 0; k < b->n; k++)
            b->off[k] -= b->st[k][d] * b->dims[d];
        b->idx[d] = 0;
    }
}

/* Element i of t as double / int64, and stores (any supported dtype). */
static inline double wf_get_d(const wf_tensor *t, int64_t i) {
    switch (t->dtype) {
    case WF_DTYPE_FLOAT:
        return ((const float *)t->data)[i];
    case WF_DTYPE_INT64:
        return (double)((const int64_t *)t->data)[i];
    case WF_DTYPE_INT32:
        return ((const int32_t *)t->data)[i];
    case WF_DTYPE_INT8:
        return ((const int8_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

static inline int64_t wf_get_i(const wf_tensor *t, int64_t i) {
    switch (t->dtype) {
    case WF_DTYPE_FLOAT:
        return (int64_t)((const float *)t->data)[i];
    case WF_DTYPE_INT64:
        return ((const int64_t *)t->data)[i];
    case WF_DTYPE_INT32:
        return ((const int32_t *)t->data)[i];
    case WF_DTYPE_INT8:
        return ((const int8_t *)t->data)[i];
    default:
        return ((const uint8_t *)t->data)[i];
    }
}

static inline void wf_set_d(wf_tensor *t, int64_t i, double v) {
    switch (t->dtype) {
    case WF_DTYPE_FLOAT:
        ((float *)t->data)[i] = (float)v;
        break;
    case WF_DTYPE_INT64:
        ((int64_t *)t->data)[i] = (int64_t)v;
        break;
    case WF_DTYPE_INT32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case WF_DTYPE_INT8:
        ((int8_t *)t->data)[i] = (int8_t)v;
        break;
    case WF_DTYPE_BOOL:
        ((uint8_t *)t->data)[i] = v != 0.0;
        break;
    default:
        ((uint8_t *)t->data)[i] = (uint8_t)v;
        break;
    }
}

static inline void wf_set_i(wf_tensor *t, int64_t i, int64_t v) {
    switch (t->dtype) {
    case WF_DTYPE_FLOAT:
        ((float *)t->data)[i] = (float)v;
        break;
    case WF_DTYPE_INT64:
        ((int64_t *)t->data)[i] = v;
        break;
    case WF_DTYPE_INT32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case WF_DTYPE_INT8:
        ((int8_t *)t->data)[i] = (int8_t)v;
        break;
    case WF_DTYPE_BOOL:
        ((uint8_t *)t->data)[i] = v != 0;
        break;
    default:
        ((uint8_t *)t->data)[i] = (uint8_t)v;
        break;
    }
}

#define WF_DT_ANY (WF_DT_NUMERIC | WF_DT_BIT(WF_DTYPE_BOOL))

#endif
