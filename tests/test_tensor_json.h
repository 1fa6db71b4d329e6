/*
 * A tensor from the reference JSON {"dtype", "dims", "data"} that the int8 suites read
 * (tests/data/int8ops, tests/data/int8ms: ONNX Runtime's inputs and outputs).
 */
#ifndef WF_TEST_TENSOR_JSON_H
#define WF_TEST_TENSOR_JSON_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test_explain_json.h"
#include "whyflag/engine.h"

static wf_dtype dtype_of(const char *s) {
    return !strcmp(s, "float32") ? WF_DTYPE_FLOAT
           : !strcmp(s, "uint8") ? WF_DTYPE_UINT8
           : !strcmp(s, "int8")  ? WF_DTYPE_INT8
           : !strcmp(s, "int32") ? WF_DTYPE_INT32
                                 : WF_DTYPE_UNDEFINED;
}

/* a tensor from {dtype, dims, data}; data malloc'd */
static void tensor_of(tj *j, wf_tensor *t) {
    memset(t, 0, sizeof *t);
    t->dtype = dtype_of(tj_get(j, "dtype")->str);
    ck_assert(t->dtype != WF_DTYPE_UNDEFINED);
    tj *d = tj_get(j, "dims");
    t->rank = d->n;
    for (int i = 0; i < d->n; i++)
        t->dims[i] = (int64_t)tj_num(tj_at(d, i));
    int64_t n = wf_tensor_numel(t);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    ck_assert_int_eq(tj_flat(tj_get(j, "data"), v, (int)n), n);
    t->data = malloc(wf_dtype_size(t->dtype) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        if (t->dtype == WF_DTYPE_FLOAT)
            ((float *)t->data)[i] = (float)v[i];
        else if (t->dtype == WF_DTYPE_UINT8)
            ((uint8_t *)t->data)[i] = (uint8_t)v[i];
        else if (t->dtype == WF_DTYPE_INT8)
            ((int8_t *)t->data)[i] = (int8_t)v[i];
        else
            ((int32_t *)t->data)[i] = (int32_t)v[i];
    }
    free(v);
}

#endif
