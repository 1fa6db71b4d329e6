/*
 * Reading a serialized ONNX TensorProto (the input_N.pb / output_N.pb files of ONNX's backend
 * node tests) without exposing protobuf-c: used by tests and tools.
 */
#ifndef WF_MODEL_ONNX_TENSOR_H
#define WF_MODEL_ONNX_TENSOR_H

#include <stddef.h>

#include "whyflag/engine.h"
#include "whyflag/status.h"

/* Parse len bytes into t (dtype, rank, dims) with t->data malloc'd (caller frees). The tensor's
 * name is copied into name (may be NULL). Unsupported dtypes give WF_ERR_UNSUPPORTED naming the
 * dtype. */
wf_status wf_onnx_read_tensor(const void *data, size_t len, wf_tensor *t, char *name,
                              size_t name_size, wf_error *err);

#endif
