/*
 * whyflag: ONNX models and the inference engine (forward and backward).
 *
 * wf_model_load reads an ONNX file (protobuf-c, our own subset of onnx.proto), checks every node
 * against the supported ops and dtypes and rejects anything else at load with a message naming
 * the node, its op type and what is supported. A loaded model is immutable and may be shared by
 * threads; evaluation state lives in per-thread engines (see engine.h) or predictor contexts.
 *
 * Ownership: wf_model_load* -> wf_model_free.
 */
#ifndef WHYFLAG_MODEL_H
#define WHYFLAG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/predictor.h"
#include "whyflag/windows.h"
#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_model wf_model;

typedef enum wf_layout {
    WF_LAYOUT_AUTO = 0, /* from the input shape; an error asks for --layout when ambiguous */
    WF_LAYOUT_NCT = 1,  /* [N, C, T] */
    WF_LAYOUT_NTC = 2,  /* [N, T, C] */
    WF_LAYOUT_FLAT = 3  /* [N, C*T], channel-major */
} wf_layout;

wf_status wf_model_load(const char *path, wf_model **out, wf_error *err);
/* name is used in messages (usually the file name). */
wf_status wf_model_load_mem(const void *data, size_t len, const char *name, wf_model **out,
                            wf_error *err);
void wf_model_free(wf_model *m);

/* Value of a metadata_props key, or NULL. Owned by the model. */
const char *wf_model_metadata(const wf_model *m, const char *key);
/* 1 if the graph holds QuantizeLinear/DequantizeLinear/QLinear* nodes. */
int wf_model_is_quantized(const wf_model *m);

/* Channel names from the model metadata (our fixtures: "channels"), or n = 0 when absent.
 * names[i] is owned by the model. */
int wf_model_channels(const wf_model *m, const char *const **names);

/* The window length T the model was trained on, from its metadata ("T", "window_length" or
 * "timesteps"), or 0 when it does not say. */
int wf_model_window_length(const wf_model *m);

/* The windows' channels must be the model's metadata channels, in order, where the model names
 * them; errors name the windows file (wpath) and the model (mpath). */
wf_status wf_model_check_windows(const wf_model *m, const wf_windows *ws, const char *mpath,
                                 const char *wpath, wf_error *err);

/* A predictor over windows (n, C, T) for model m, which must outlive it. layout AUTO reads the
 * layout from the input shape and fails with a message asking for --layout when it is ambiguous.
 * The score is the model's first output, which must hold one value per window.
 * Process-wide side effect: the first call sets OpenBLAS to one thread for the whole process
 * (OpenBLAS's thread count is a global of that library, not ours). whyflag parallelizes across
 * windows itself, and OpenBLAS threads would only compete with those; a program embedding
 * whyflag that uses OpenBLAS elsewhere keeps that setting. */
wf_status wf_model_predictor(const wf_model *m, int C, int T, wf_layout layout, wf_predictor *out,
                             wf_error *err);

/* As wf_model_predictor, with the score read from graph output `output` (0-based, in graph
 * order; see wf_model_output_index) and, when that output holds K > 1 values per window (an
 * [N, K] class-probability head), from column `column` (0..K-1). column -1 requires one value
 * per window. Gradients are those of that column. For `--output NAME[:COLUMN]`. */
wf_status wf_model_predictor_output(const wf_model *m, int C, int T, wf_layout layout, int output,
                                    int column, wf_predictor *out, wf_error *err);
/* What graph output `output` is, as the graph shows it: "probability" (made by a Sigmoid or
 * Softmax, or a tree classifier's probabilities), "logit" (read by a Sigmoid or Softmax), or
 * "unknown". */
const char *wf_model_output_kind(const wf_model *m, int output);
/* Index of the graph output named name, or -1. */
int wf_model_output_index(const wf_model *m, const char *name);
/* The predictor for a user's output choice: spec NULL or "" = the default score
 * (wf_model_predictor), "NAME" or "NAME:COLUMN" = that graph output (and column). An unknown
 * name is an error listing the model's outputs with their shapes. `what` names where the spec
 * came from in messages (e.g. "--output", "config.json: model_output"). */
wf_status wf_model_predictor_spec(const wf_model *m, int C, int T, wf_layout layout,
                                  const char *spec, const char *what, wf_predictor *out,
                                  wf_error *err);

/* Every op of an ONNX file that whyflag cannot run (unknown op type, or a domain other than
 * ai.onnx), grouped by (domain, op): how many nodes and the first one. For `whyflag inspect`,
 * which lists them all at once where wf_model_load stops at the first. */
typedef struct wf_op_issue {
    char op[64], domain[64];
    int count;            /* nodes with this op */
    int first_node;       /* position of the first in the file's node list */
    char first_name[128]; /* its name ("" when unnamed) */
} wf_op_issue;

typedef struct wf_op_scan {
    int n;              /* distinct unsupported (domain, op) pairs; 0: every op is supported */
    wf_op_issue *items; /* (n), in order of first appearance */
    int n_nodes;        /* nodes in the graph */
} wf_op_scan;

/* Ownership: wf_model_scan_ops* -> wf_op_scan_free (accepts a zeroed scan). */
wf_status wf_model_scan_ops(const char *path, wf_op_scan *out, wf_error *err);
wf_status wf_model_scan_ops_mem(const void *data, size_t len, wf_op_scan *out, wf_error *err);
void wf_op_scan_free(wf_op_scan *s);
/* "ConvTranspose (2 nodes, first '/d/ConvTranspose' #2), com.microsoft::FusedGemm (...)" into
 * buf (truncated to size); returns the length it needed. */
size_t wf_op_scan_format(const wf_op_scan *s, char *buf, size_t size);

/* A model card: what an auditor needs to know about the model, from the ONNX file itself. */
#define WF_CARD_MAX 32
typedef struct wf_model_card {
    char name[256];     /* file name */
    char producer[128]; /* e.g. "pytorch 1.13.1" */
    int64_t ir_version;
    int opset;
    int quantized;      /* QDQ / QLinear ops: run as int8 */
    int differentiable; /* 0: trees or another piecewise-constant graph */
    int n_inputs, n_outputs;
    char inputs[4][160]; /* "x float32 [N, 8, 36]" */
    char outputs[4][160];
    int n_nodes;
    int n_ops; /* distinct op types (at most WF_CARD_MAX listed) */
    char op_name[WF_CARD_MAX][48];
    int op_count[WF_CARD_MAX];
    int64_t parameters;      /* elements of every constant tensor */
    int64_t zero_parameters; /* of them exactly zero (pruning) */
    int64_t flops;           /* per evaluation, -1 when unknown */
    int n_meta;              /* metadata_props, at most WF_CARD_MAX */
    char meta_key[WF_CARD_MAX][64];
    char meta_value[WF_CARD_MAX][256];
    char batch_note[192]; /* "" or why windows are scored one at a time (dynamic quantization) */
} wf_model_card;
void wf_model_card_build(const wf_model *m, wf_model_card *card);

/* Human-readable summary for `whyflag inspect` (text or JSON), malloc'd into *out. */
wf_status wf_model_describe(const wf_model *m, int json, char **out, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif
