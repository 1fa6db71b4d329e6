/*
 * Internals of src/model shared by the loader, the engine, the op families in ops/ and the
 * predictor. Nothing here crosses into include/: protobuf-c stays inside onnx_load.c.
 *
 * A model is a list of values (graph inputs, constants, node outputs) and a list of nodes in
 * topological order. Constants (initializers and Constant nodes) live in one weight block.
 */
#ifndef WF_MODEL_IMPL_H
#define WF_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/status.h"

/* Largest element count of any tensor (2^31): beyond it a dimension is called absurd. */
#define WF_MAX_NUMEL ((int64_t)1 << 31)

typedef enum wf_val_kind {
    WF_VAL_INPUT = 0, /* graph input, fed by the caller */
    WF_VAL_CONST = 1, /* initializer or Constant node output: data in the weight block */
    WF_VAL_NODE = 2   /* computed by a node */
} wf_val_kind;

typedef struct wf_value {
    char *name;
    wf_dtype dtype;
    wf_val_kind kind;
    int producer;                   /* node position (topological) for WF_VAL_NODE, else -1 */
    int input_index;                /* position among graph inputs for WF_VAL_INPUT, else -1 */
    wf_tensor c;                    /* WF_VAL_CONST: shape and data (owned by the model) */
    int decl_rank;                  /* WF_VAL_INPUT/outputs: declared rank (-1 unknown) */
    int64_t decl_dims[WF_MAX_RANK]; /* -1 where symbolic */
} wf_value;

typedef enum wf_attr_type {
    WF_ATTR_FLOAT = 1,
    WF_ATTR_INT = 2,
    WF_ATTR_STRING = 3,
    WF_ATTR_TENSOR = 4,
    WF_ATTR_FLOATS = 6,
    WF_ATTR_INTS = 7,
    WF_ATTR_STRINGS = 8 /* in strs (n_strs) and, joined by ',', in s (n strings) */
} wf_attr_type;

typedef struct wf_attr {
    char *name;
    wf_attr_type type;
    float f;
    int64_t i;
    char *s;
    int n;         /* number of ints or floats */
    int64_t *ints; /* (n) */
    float *floats; /* (n) */
    int n_strs;    /* STRINGS attributes (ai.onnx.ml: nodes_modes, classlabels_strings) */
    char **strs;   /* (n_strs) */
    int n_dbl;     /* TENSOR attributes of dtype float or double, decoded to double */
    double *dbl;   /* (n_dbl) */
    int has_tval;  /* WF_ATTR_TENSOR holding one element: its dtype and value */
    wf_dtype tdtype;
    double tval;
} wf_attr;

/* Parsed attributes: one struct for every op (each op uses the fields it needs). */
typedef struct wf_params {
    int64_t axis;
    int n_axes;
    int64_t axes[WF_MAX_RANK];
    int has_axes;
    float alpha, beta, eps;
    int trans_a, trans_b;
    int nsp;                                        /* spatial dims of Conv/Pool (1 or 2) */
    int64_t kernel[2], strides[2], dil[2], pads[4]; /* pads: begin[nsp], end[nsp] */
    int64_t group;
    int auto_pad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
    int ceil_mode, count_include_pad;
    int n_perm;
    int64_t perm[WF_MAX_RANK];
    int keepdims, noop_empty_axes, allowzero;
    int pad_mode; /* 0 constant, 1 reflect, 2 edge */
    int n_pads;
    int64_t pads_attr[2 * WF_MAX_RANK];
    float pad_value;
    int kind; /* op variant inside one family (ops_math.c, ops_reduce.c) */
} wf_params;

struct wf_node;
struct wf_opdef;

typedef struct wf_node {
    char *name;     /* may be "" */
    int onnx_index; /* position in the file's node list (for messages) */
    const struct wf_opdef *op;
    int opset;
    int n_in, n_out;
    int *in; /* value index, -1 for an omitted optional input */
    int *out;
    int n_attr;
    wf_attr *attr;
    wf_params p;
    void *aux; /* parsed state of an ai.onnx.ml op (one malloc'd block), free()d with the model */
} wf_node;

/* Shape rule: given inputs (shape; data only for constant or caller-fed inputs), set the output
 * ranks/dims, and the scratch bytes forward/backward need. */
typedef wf_status (*wf_op_shape_fn)(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                    size_t *scratch, wf_error *err);
typedef void (*wf_op_forward_fn)(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                 void *scratch);
/* Backward adds d(loss)/d(in[i]) into gin[i] (NULL where not needed) from gout[j]. For integer
 * (quantized) tensors gradients are in the tensor's own units (d loss / d q). */
typedef void (*wf_op_backward_fn)(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                  float *const *gin, float *const *gout, void *scratch);
/* Load-time check: parse attributes into n->p, check input dtypes (vals[n->in[i]].dtype), set
 * the output dtypes. Errors name the node. */
typedef wf_status (*wf_op_check_fn)(wf_node *n, wf_value *vals, wf_error *err);

typedef struct wf_opdef {
    const char *name;
    wf_op_check_fn check;
    wf_op_shape_fn shape;
    wf_op_forward_fn forward;
    wf_op_backward_fn backward; /* NULL: not differentiable */
    int alias;                  /* 1: output 0 shares input 0's data (reshape-like) */
    int64_t (*flops)(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out);
} wf_opdef;

struct wf_model {
    char *name;
    int n_vals, cap_vals; /* cap_vals: allocated entries (names freed over all of them) */
    wf_value *vals;
    int n_nodes;
    wf_node *nodes; /* topological order */
    int n_inputs, n_outputs;
    int *inputs;  /* value indices of graph inputs */
    int *outputs; /* value indices of graph outputs */
    int n_meta;
    char **meta_keys, **meta_vals;
    int n_channels;
    char **channels; /* from metadata "channels" (parsed), owned */
    int opset;       /* ai.onnx opset version */
    int64_t ir_version;
    char *producer;
    int quantized;
    void *weights; /* the weight block */
    size_t weights_size;
};

/* ---- op table (ops/optable.c) ---- */
const wf_opdef *wf_op_find(const char *op_type);
/* Comma-separated list of supported op names, static. */
const char *wf_op_supported_list(void);

/* Index of the graph output a score is read from (trees.c): output 0 when it is float, else the
 * first float output (a classifier's probabilities after its label); -1 when none is float. */
int wf_model_score_head(const wf_model *m);

/* com.microsoft quantized ops (ops/ops_qlinear_ms.c): NULL when op_type is not one of them. */
const wf_opdef *wf_op_find_ms(const char *op_type);
#define WF_OPS_MS_LIST                                                                             \
    "QGemm, QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool, "  \
    "QLinearAveragePool, QLinearConcat"

/* ai.onnx.ml ops (ops/ops_ml.c): NULL when op_type is not one of them. */
const wf_opdef *wf_op_find_ml(const char *op_type);
const char *wf_op_ml_supported_list(void);

/* ---- attribute access (ops/attrs.c) ---- */
const wf_attr *wf_attr_find(const wf_node *n, const char *name);
int64_t wf_attr_int(const wf_node *n, const char *name, int64_t def);
float wf_attr_float(const wf_node *n, const char *name, float def);
const char *wf_attr_str(const wf_node *n, const char *name, const char *def);
/* Copies up to max ints; returns the count, or -1 when absent. */
int wf_attr_ints(const wf_node *n, const char *name, int64_t *out, int max);

/* "node 'name' (#3, Conv)" into buf. */
const char *wf_node_label(const wf_node *n, char *buf, size_t size);
/* Error helper: sets err with the node label as prefix. */
wf_status wf_node_error(wf_error *err, wf_status s, const wf_node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Input dtype check helper: input i (if present) must be one of the listed dtypes (mask of
 * 1 << dtype). what names the op's role ("X"). */
wf_status wf_check_dtype(const wf_node *n, const wf_value *vals, int i, unsigned mask,
                         wf_error *err);
#define WF_DT_BIT(d) (1u << (d))
#define WF_DT_FLOATONLY WF_DT_BIT(WF_DTYPE_FLOAT)
#define WF_DT_Q8 (WF_DT_BIT(WF_DTYPE_INT8) | WF_DT_BIT(WF_DTYPE_UINT8))
#define WF_DT_NUMERIC                                                                              \
    (WF_DT_FLOATONLY | WF_DT_Q8 | WF_DT_BIT(WF_DTYPE_INT32) | WF_DT_BIT(WF_DTYPE_INT64))

/* Normalize an axis against rank (negative counts from the end); -1 on out of range. */
int64_t wf_norm_axis(int64_t axis, int rank);

/* Shapes helpers */
static inline int64_t wf_numel(const wf_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}
/* numpy broadcast of a and b into out dims; WF_ERR_SHAPE naming the node on mismatch. */
wf_status wf_broadcast_shape(const wf_node *n, const wf_tensor *a, const wf_tensor *b,
                             wf_tensor *out, wf_error *err);
/* Checks every dim >= 0 and the element count <= WF_MAX_NUMEL. */
wf_status wf_check_numel(const wf_node *n, const wf_tensor *t, wf_error *err);

/* Read an int64 shape-like tensor (Reshape shape, axes, pads): its data must be available at
 * plan time (constant or caller-fed). */
wf_status wf_read_i64(const wf_node *n, const wf_tensor *t, const char *what, int64_t *out, int max,
                      int *count, wf_error *err);

/* ---- engine internals used by the predictor and describe ---- */
/* Engine flag: plan shapes only (never run); used for FLOP counts. */
#define WF_ENGINE_SHAPES_ONLY 0x100
/* FLOPs of one run at the planned shapes (-1 before a plan). */
int64_t wf_engine_flops(wf_engine *e);
/* FLOPs executed so far by all engines of the process (each run adds its nodes' counts at the
 * plan; a backward adds each differentiated node's forward count). For benchmarks. */
int64_t wf_engine_flops_executed(void);
/* Plan for inputs (data may be NULL), store h (the data of value v, a node output, with the
 * planned shape, in v's own type: float, or the uint8/int8 output of a quantized first layer)
 * and run only the nodes after v's producer. The nodes before must not feed any later node
 * except through v (the predictor checks this). */
wf_status wf_engine_run_from(wf_engine *e, const wf_tensor *inputs, int v, const void *h,
                             wf_error *err);
/* Vector-Jacobian product between two values after a run (engine with WF_ENGINE_GRAD): dto =
 * (d from / d to)^T dfrom, running backward only the nodes from from's producer down to the node
 * after to's producer (to: a graph input, producer -1, or an earlier node output). The gradient
 * at to is the same floats wf_engine_backward accumulates there when from carries dfrom and
 * nothing else feeds to. dfrom, dto: the planned shapes of from and to. */
wf_status wf_engine_backward_span(wf_engine *e, int from, const float *dfrom, int to, float *dto,
                                  wf_error *err);
/* wf_engine_run_from in two steps, for a caller that computes v's data in place: *buf, the
 * buffer of v (its planned shape, valid until the next plan), after planning and binding for
 * inputs (an error when v is not a float node output), then the run of the nodes after v's
 * producer over what the caller wrote there. */
wf_status wf_engine_from_buffer(wf_engine *e, const wf_tensor *inputs, int v, float **buf,
                                wf_error *err);
void wf_engine_run_after(wf_engine *e, int v); /* also the second half of wf_engine_run_from */
/* 1 if node j (topological) is folded at plan time (shape arithmetic), so runs skip it. */
/* Forward-only mode (on != 0): runs may take fused QOperator tails (ops_qtail.c), which do
 * not write the values between a QLinearMatMul and the tail's last node; a backward after
 * such a run is refused. Off by default; engines without WF_ENGINE_GRAD always take them. */
void wf_engine_forward_only(wf_engine *e, int on);
/* Whether the last run took a fused tail (its skipped values are stale). */
int wf_engine_ran_tails(const wf_engine *e);
/* Whether node `node` heads a fused tail runs take now. */
int wf_engine_has_tail(const wf_engine *e, int node);
/* The run from the sums of the tail's head: the tail from the head's exact sums (floats, as
 * many as the head's output, |sum| <= 2^24) into its last value, then the nodes after it. */
wf_status wf_engine_tail_from(wf_engine *e, const wf_tensor *inputs, int node, const float *sums,
                              wf_error *err);
int wf_engine_node_folded(const wf_engine *e, int node);
/* The runtime tensor of value v after a run. */
const wf_tensor *wf_engine_value(const wf_engine *e, int v);

/* The first node whose outputs depend on the whole batch (DynamicQuantizeLinear: one scale for
 * the tensor), or NULL: such a model is evaluated one window at a time (ops_qinteger.c). */
const wf_node *wf_model_batch_dependent(const wf_model *m);
#define WF_BATCH_DEPENDENT_NOTE                                                                    \
    "dynamic quantization (DynamicQuantizeLinear) computes its scale from the whole batch, so "    \
    "whyflag scores and explains one window at a time, as the device did"

/* ---- predictor (predictor.c) ---- */
/* How a model predictor scores a batch: 0 the file's batch axis is free; 1 the file declares
 * batch 1 and the graph was checked to score a batch row by row (rebound); 2 it declares batch
 * 1 and cannot (one window per engine call); -1 not a model predictor. */
int wf_predictor_batch_mode(const wf_predictor *p);

/* ---- h -> Relu -> QuantizeLinear -> DequantizeLinear (relu_qdq.c) ---- */
struct wf_k_qparam;
/* 1 when float value v is read only by a Relu, read only by a per-tensor QuantizeLinear (int8 or
 * uint8, initializer parameters), read only by a DequantizeLinear likewise, none of them a graph
 * output: *q, *dq their parameters (pointing into the model), *out_value the DequantizeLinear's
 * output. Else 0. */
int wf_relu_qdq_after(const wf_model *m, int v, struct wf_k_qparam *q, struct wf_k_qparam *dq,
                      int *out_value);

/* ---- affine first layer (affine.c) ---- */
/* If the graph starts with an affine map of its (single, float) input, i.e. elementwise Sub/Div/
 * Mul/Add by constants, an optional ReduceMean and Flatten/Reshape, then Gemm, MatMul or a 1-D
 * Conv with constant (or plan-time folded) weights, whose intermediate values feed nothing else:
 * set *A (hidden, C*T) over window cells (channel-major, whatever the model layout), *a0
 * (hidden), both malloc'd, *hidden and *hidden_value (the value holding the pre-activation) and
 * return 1. Else 0 and nothing allocated. Computed in double.
 * *input_value: -1 when A maps the window's cells x; else the value (a DequantizeLinear output,
 * same cells as the input in the model's layout) u = g(x), computed cell by cell from x by the
 * prefix (normalization, QuantizeLinear, DequantizeLinear), that A maps: h = A u + a0. QOperator
 * models: *input_value is the QuantizeLinear's 8-bit output x_q, u = x_q - za, and *hidden_value
 * the output of the QGemm/QLinearMatMul whose int32 sums h are (see wf_affine_qop). */
int wf_affine_first_layer(const wf_model *m, wf_layout layout, int C, int T, float **A, float **a0,
                          int64_t *hidden, int *hidden_value, int *input_value);

/* ---- the QOperator first layer (affine_qop.c) ---- */
/* Node n (QGemm or QLinearMatMul) reading the quantized cells v (R of them, per row): its int32
 * sums before requantization as acc = A u + a0 with u = x_q - za, A (H, R) and a0 (H) in double
 * (filled when non-NULL). 1 when n qualifies (constant weights and quantization parameters, a
 * per-column bias, partial sums exact in float32), else 0. */
int wf_affine_qop(const wf_model *m, const wf_node *n, int v, int64_t R, double *A, double *a0,
                  int64_t *H);
/* The QGemm/QLinearMatMul producing hidden_value (its za: u = x_q - za), or NULL. */
const wf_node *wf_affine_qop_node(const wf_model *m, int hidden_value, int32_t *za);
/* y (M, N): n's output from its int32 sums acc (M, N) (the bias included), by the op's own
 * requantization (wf_qgemm_requant, wf_qmm_requant); scj: N floats of scratch. */
void wf_affine_qop_requant(const wf_model *m, const wf_node *n, const int32_t *acc, int64_t M,
                           int64_t N, void *y, float *scj);
/* The straight-through backward of n as its own backward (ops_qlinear_ms.c qgemm_bwd, ops_quant.c
 * qmm_bwd) computes it, factored through the int32 sums: the gradient on the input codes is
 * A^T dh with dh[j] = gs[j] dy[j] where the output code y[j] is strictly inside its type's
 * range (*masked = 1; 0 for a float QGemm output, never masked) and 0 elsewhere, dy the
 * gradient on the output. gs: (N). 0 when n is not a QGemm or QLinearMatMul of that form. */
int wf_affine_qop_grad_scale(const wf_model *m, const wf_node *n, int64_t N, float *gs,
                             int *masked);

#endif
