/*
 * whyflag: the generic inference engine over a loaded ONNX model (forward and backward).
 *
 * An engine is per-thread evaluation state for one model: the plan (topological order, tensor
 * shapes, one activation block, one gradient block, one scratch block) for the input shapes of
 * the last run. A run with new input shapes replans; blocks only grow, and kernels never
 * allocate. The model must outlive its engines; a model may be shared by many engines.
 *
 * dtypes use the ONNX TensorProto codes. Supported: float32, uint8, int8, int32, int64, bool.
 *
 * Ownership: wf_engine_new -> wf_engine_free. Output tensors are owned by the engine and valid
 * until the next run or wf_engine_free. Input data is borrowed during the run and, for
 * wf_engine_backward, until the backward call returns (the engine keeps pointers to it).
 */
#ifndef WHYFLAG_ENGINE_H
#define WHYFLAG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/model.h"
#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_MAX_RANK 8

typedef enum wf_dtype {
    WF_DTYPE_UNDEFINED = 0,
    WF_DTYPE_FLOAT = 1,
    WF_DTYPE_UINT8 = 2,
    WF_DTYPE_INT8 = 3,
    WF_DTYPE_INT32 = 6,
    WF_DTYPE_INT64 = 7,
    WF_DTYPE_BOOL = 9 /* one byte, 0 or 1 (Equal, Where conditions) */
} wf_dtype;

/* A dense row-major tensor. rank 0 is a scalar (one element). */
typedef struct wf_tensor {
    wf_dtype dtype;
    int rank;
    int64_t dims[WF_MAX_RANK];
    void *data;
} wf_tensor;

/* Name of an ONNX dtype code ("float32", "int4", "float16", ...); never NULL. */
const char *wf_dtype_name(int onnx_dtype);
/* Bytes per element of a supported dtype (0 for unsupported ones). */
size_t wf_dtype_size(wf_dtype dt);
/* Number of elements (product of dims; 1 for rank 0). */
int64_t wf_tensor_numel(const wf_tensor *t);

/* Graph inputs (initializers excluded) and outputs, in graph order. dims[i] == -1 where the
 * model leaves a dimension symbolic (dynamic batch). Strings are owned by the model. */
int wf_model_n_inputs(const wf_model *m);
int wf_model_n_outputs(const wf_model *m);
const char *wf_model_input_name(const wf_model *m, int i);
const char *wf_model_output_name(const wf_model *m, int i);
/* Declared dtype, rank and dims (dims: WF_MAX_RANK entries) of input/output i. rank -1 when the
 * model declares no shape. */
void wf_model_input_info(const wf_model *m, int i, wf_dtype *dtype, int *rank, int64_t *dims);
void wf_model_output_info(const wf_model *m, int i, wf_dtype *dtype, int *rank, int64_t *dims);

typedef struct wf_engine wf_engine;

enum {
    WF_ENGINE_GRAD = 1, /* keep a gradient block so that wf_engine_backward can run */
    /* Inputs whose file declares batch 1 (axis 0) accept any batch: the graph is replanned for
     * it. Whether rows stay independent is the caller's check (wf_model_predictor verifies it
     * and otherwise evaluates one window per call). */
    WF_ENGINE_FREE_BATCH = 2
};

/* A per-thread engine; max_batch (>= 1) sizes the first plan when the model's input shapes are
 * known but for a symbolic batch dimension (nothing is planned otherwise until the first run). */
wf_status wf_engine_new(const wf_model *m, int64_t max_batch, int flags, wf_engine **out,
                        wf_error *err);
void wf_engine_free(wf_engine *e);

/* Run the graph on n_inputs tensors given in graph-input order (n_inputs must equal
 * wf_model_n_inputs). Replans when input shapes differ from the last run. */
wf_status wf_engine_run(wf_engine *e, const wf_tensor *inputs, int n_inputs, wf_error *err);

/* Output i of the last run (NULL before the first run or when i is out of range). */
const wf_tensor *wf_engine_output(const wf_engine *e, int i);

/* Vector-Jacobian product after a run (engine created with WF_ENGINE_GRAD): dy has the shape
 * of output `out_index` (float), dx receives the gradient with respect to float input
 * `in_index` (its shape). Quantize/Dequantize use the straight-through estimator; see
 * WF_ENGINE_SURROGATE_STE. */
wf_status wf_engine_backward(wf_engine *e, int out_index, const float *dy, int in_index, float *dx,
                             wf_error *err);

#define WF_ENGINE_SURROGATE_STE                                                                    \
    "straight-through estimator through QuantizeLinear/DequantizeLinear (gradient 1 inside the "   \
    "representable range, 0 where saturated; QLinear* ops through their dequantized float "        \
    "equivalent)"

#ifdef __cplusplus
}
#endif
#endif
