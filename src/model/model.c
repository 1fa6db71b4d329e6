/*
 * Model accessors (metadata, channels, inputs and outputs) and dtype helpers: what callers ask
 * of a loaded model. Loading itself is onnx_load.c.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"

const char *wf_dtype_name(int t) {
    static const char *const names[] = {
        "undefined",      "float32",  "uint8",        "int8",           "uint16",
        "int16",          "int32",    "int64",        "string",         "bool",
        "float16",        "float64",  "uint32",       "uint64",         "complex64",
        "complex128",     "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
        "float8e5m2fnuz", "uint4",    "int4",         "float4e2m1",     "float8e8m0",
        "uint2",          "int2"};
    if (t < 0 || t >= (int)(sizeof names / sizeof names[0]))
        return "unknown dtype";
    return names[t];
}

size_t wf_dtype_size(wf_dtype dt) {
    switch (dt) {
    case WF_DTYPE_FLOAT:
    case WF_DTYPE_INT32:
        return 4;
    case WF_DTYPE_UINT8:
    case WF_DTYPE_INT8:
    case WF_DTYPE_BOOL:
        return 1;
    case WF_DTYPE_INT64:
        return 8;
    default:
        return 0;
    }
}

int64_t wf_tensor_numel(const wf_tensor *t) {
    return wf_numel(t);
}

const char *wf_model_metadata(const wf_model *m, const char *key) {
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta_keys[i], key))
            return m->meta_vals[i];
    return NULL;
}

int wf_model_is_quantized(const wf_model *m) {
    return m->quantized;
}

int wf_model_channels(const wf_model *m, const char *const **names) {
    *names = (const char *const *)m->channels;
    return m->n_channels;
}

int wf_model_n_inputs(const wf_model *m) {
    return m->n_inputs;
}
int wf_model_n_outputs(const wf_model *m) {
    return m->n_outputs;
}
const char *wf_model_input_name(const wf_model *m, int i) {
    return i >= 0 && i < m->n_inputs ? m->vals[m->inputs[i]].name : NULL;
}
const char *wf_model_output_name(const wf_model *m, int i) {
    return i >= 0 && i < m->n_outputs ? m->vals[m->outputs[i]].name : NULL;
}

static void info_of(const wf_value *v, wf_dtype *dtype, int *rank, int64_t *dims) {
    if (dtype)
        *dtype = v->dtype;
    if (v->kind == WF_VAL_CONST) {
        if (rank)
            *rank = v->c.rank;
        if (dims)
            memcpy(dims, v->c.dims, sizeof v->c.dims);
        return;
    }
    if (rank)
        *rank = v->decl_rank;
    if (dims)
        memcpy(dims, v->decl_dims, sizeof v->decl_dims);
}

void wf_model_input_info(const wf_model *m, int i, wf_dtype *dtype, int *rank, int64_t *dims) {
    info_of(&m->vals[m->inputs[i]], dtype, rank, dims);
}

void wf_model_output_info(const wf_model *m, int i, wf_dtype *dtype, int *rank, int64_t *dims) {
    info_of(&m->vals[m->outputs[i]], dtype, rank, dims);
}

wf_status wf_model_check_windows(const wf_model *m, const wf_windows *ws, const char *mpath,
                                 const char *wpath, wf_error *err) {
    const char *const *names;
    int n = wf_model_channels(m, &names);
    if (n == 0)
        return WF_OK;
    if (n != ws->C)
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s has %d channels but the model %s was trained on %d (metadata "
                            "'channels')",
                            wpath, ws->C, mpath, n);
    for (int c = 0; c < n; c++)
        if (!ws->channels || !ws->channels[c] || strcmp(ws->channels[c], names[c]))
            return wf_error_set(err, WF_ERR_DATA,
                                "channel %d of %s is '%s' but the model %s expects '%s' there "
                                "(metadata 'channels': the order must match)",
                                c, wpath, ws->channels && ws->channels[c] ? ws->channels[c] : "",
                                mpath, names[c]);
    return WF_OK;
}

int wf_model_window_length(const wf_model *m) {
    static const char *const keys[] = {"T", "window_length", "timesteps"};
    for (int k = 0; k < 3; k++) {
        const char *v = wf_model_metadata(m, keys[k]);
        char *end;
        long t = v ? strtol(v, &end, 10) : 0;
        if (v && !*end && t > 0 && t < 1000000)
            return (int)t;
    }
    return 0;
}

int wf_model_output_index(const wf_model *m, const char *name) {
    for (int i = 0; i < m->n_outputs; i++)
        if (!strcmp(m->vals[m->outputs[i]].name, name))
            return i;
    return -1;
}
