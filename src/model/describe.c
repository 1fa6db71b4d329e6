/*
 * wf_model_describe: what `whyflag inspect` prints. Inputs, outputs, shapes, op counts, FLOPs per
 * evaluation (one batch row, planned through the engine), metadata, quantized or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jw.h"
#include "model/model_impl.h"
#include "whyflag/trees.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#include <stdarg.h>
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
}

static void shape_str(const wf_value *v, char *buf, size_t size) {
    int r = v->kind == WF_VAL_CONST ? v->c.rank : v->decl_rank;
    const int64_t *d = v->kind == WF_VAL_CONST ? v->c.dims : v->decl_dims;
    if (r < 0) {
        snprintf(buf, size, "?");
        return;
    }
    size_t len = 0;
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < r && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", d[i] < 0 ? "N" : "");
    if (len < size) {
        /* second pass for the numbers (keeps the code short) */
        len = 0;
        len += (size_t)snprintf(buf, size, "[");
        for (int i = 0; i < r && len < size; i++) {
            if (d[i] < 0)
                len += (size_t)snprintf(buf + len, size - len, "%sN", i ? ", " : "");
            else
                len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "",
                                        (long long)d[i]);
        }
        if (len < size)
            snprintf(buf + len, size - len, "]");
    }
}

/* FLOPs for one batch row: plan the engine at batch 1 with declared input shapes. */
static int64_t flops_per_row(const wf_model *m) {
    wf_engine *e = NULL;
    wf_error err;
    if (wf_engine_new(m, 1, WF_ENGINE_SHAPES_ONLY, &e, &err))
        return -1;
    int64_t f = wf_engine_flops(e);
    wf_engine_free(e);
    return f;
}

wf_status wf_model_describe(const wf_model *m, int json, char **out, wf_error *err) {
    *out = NULL;
    /* op counts */
    const char *ops[64];
    int counts[64], nops = 0;
    for (int j = 0; j < m->n_nodes; j++) {
        const char *name = m->nodes[j].op->name;
        int k = 0;
        while (k < nops && strcmp(ops[k], name))
            k++;
        if (k == nops && nops < 64) {
            ops[nops] = name;
            counts[nops++] = 0;
        }
        if (k < nops)
            counts[k]++;
    }
    int64_t flops = flops_per_row(m);
    int64_t nparams = 0;
    for (int v = 0; v < m->n_vals; v++)
        if (m->vals[v].kind == WF_VAL_CONST)
            nparams += wf_numel(&m->vals[v].c);
    char shp[256];
    if (json) {
        wf_jw w;
        wf_jw_init(&w, 1);
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "model", m->name);
        wf_jw_kint(&w, "ir_version", m->ir_version);
        wf_jw_kint(&w, "opset", m->opset);
        wf_jw_kstr(&w, "producer", m->producer);
        wf_jw_kbool(&w, "quantized", m->quantized);
        if (wf_model_batch_dependent(m))
            wf_jw_kstr(&w, "batch", WF_BATCH_DEPENDENT_NOTE);
        wf_jw_key(&w, "inputs");
        wf_jw_arr_begin(&w);
        for (int i = 0; i < m->n_inputs; i++) {
            const wf_value *v = &m->vals[m->inputs[i]];
            wf_jw_obj_begin(&w);
            wf_jw_kstr(&w, "name", v->name);
            wf_jw_kstr(&w, "dtype", wf_dtype_name(v->dtype));
            shape_str(v, shp, sizeof shp);
            wf_jw_kstr(&w, "shape", shp);
            wf_jw_obj_end(&w);
        }
        wf_jw_arr_end(&w);
        wf_jw_key(&w, "outputs");
        wf_jw_arr_begin(&w);
        for (int i = 0; i < m->n_outputs; i++) {
            const wf_value *v = &m->vals[m->outputs[i]];
            wf_jw_obj_begin(&w);
            wf_jw_kstr(&w, "name", v->name);
            wf_jw_kstr(&w, "dtype", wf_dtype_name(v->dtype));
            shape_str(v, shp, sizeof shp);
            wf_jw_kstr(&w, "shape", shp);
            wf_jw_obj_end(&w);
        }
        wf_jw_arr_end(&w);
        wf_jw_kint(&w, "nodes", m->n_nodes);
        wf_jw_key(&w, "op_counts");
        wf_jw_obj_begin(&w);
        for (int k = 0; k < nops; k++)
            wf_jw_kint(&w, ops[k], counts[k]);
        wf_jw_obj_end(&w);
        wf_jw_kint(&w, "parameters", nparams);
        wf_jw_key(&w, "flops_per_evaluation");
        if (flops >= 0)
            wf_jw_int(&w, flops);
        else
            wf_jw_null(&w);
        wf_jw_key(&w, "metadata");
        wf_jw_obj_begin(&w);
        for (int i = 0; i < m->n_meta; i++)
            wf_jw_kstr(&w, m->meta_keys[i], m->meta_vals[i]);
        wf_jw_obj_end(&w);
        wf_jw_obj_end(&w);
        wf_jw_finish(&w);
        if (w.failed) {
            wf_jw_free(&w);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        *out = w.buf; /* ownership passes to the caller */
        return WF_OK;
    }
    sbuf b = {0};
    sb_printf(&b, "model:      %s\n", m->name);
    sb_printf(&b, "producer:   %s, IR version %lld, ai.onnx opset %d\n", m->producer,
              (long long)m->ir_version, m->opset);
    sb_printf(&b, "quantized:  %s\n", m->quantized ? "yes (QDQ / QLinear ops, run as int8)" : "no");
    if (wf_model_batch_dependent(m))
        sb_printf(&b, "batch:      %s\n", WF_BATCH_DEPENDENT_NOTE);
    for (int i = 0; i < m->n_inputs; i++) {
        const wf_value *v = &m->vals[m->inputs[i]];
        shape_str(v, shp, sizeof shp);
        sb_printf(&b, "input:      %s %s %s\n", v->name, wf_dtype_name(v->dtype), shp);
    }
    for (int i = 0; i < m->n_outputs; i++) {
        const wf_value *v = &m->vals[m->outputs[i]];
        shape_str(v, shp, sizeof shp);
        sb_printf(&b, "output:     %s %s %s\n", v->name, wf_dtype_name(v->dtype), shp);
    }
    sb_printf(&b, "nodes:      %d (", m->n_nodes);
    for (int k = 0; k < nops; k++)
        sb_printf(&b, "%s%s x%d", k ? ", " : "", ops[k], counts[k]);
    sb_printf(&b, ")\n");
    sb_printf(&b, "parameters: %lld\n", (long long)nparams);
    if (flops >= 0)
        sb_printf(&b, "FLOPs per evaluation: %lld\n", (long long)flops);
    else
        sb_printf(&b, "FLOPs per evaluation: unknown (input shapes are not fully declared)\n");
    for (int i = 0; i < m->n_meta; i++)
        sb_printf(&b, "metadata:   %s = %s\n", m->meta_keys[i], m->meta_vals[i]);
    if (b.failed) {
        free(b.p);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    *out = b.p;
    return WF_OK;
}

void wf_model_card_build(const wf_model *m, wf_model_card *c) {
    memset(c, 0, sizeof *c);
    const char *base = strrchr(m->name, '/');
    snprintf(c->name, sizeof c->name, "%s", base ? base + 1 : m->name);
    snprintf(c->producer, sizeof c->producer, "%s", m->producer ? m->producer : "");
    c->ir_version = m->ir_version;
    c->opset = m->opset;
    c->quantized = m->quantized;
    c->differentiable = wf_model_differentiable(m, NULL, 0);
    if (wf_model_batch_dependent(m))
        snprintf(c->batch_note, sizeof c->batch_note, "%s", WF_BATCH_DEPENDENT_NOTE);
    char shp[128];
    for (int i = 0; i < m->n_inputs && c->n_inputs < 4; i++) {
        const wf_value *v = &m->vals[m->inputs[i]];
        shape_str(v, shp, sizeof shp);
        snprintf(c->inputs[c->n_inputs++], sizeof c->inputs[0], "%.60s %s %.80s", v->name,
                 wf_dtype_name(v->dtype), shp);
    }
    for (int i = 0; i < m->n_outputs && c->n_outputs < 4; i++) {
        const wf_value *v = &m->vals[m->outputs[i]];
        shape_str(v, shp, sizeof shp);
        snprintf(c->outputs[c->n_outputs++], sizeof c->outputs[0], "%.60s %s %.80s", v->name,
                 wf_dtype_name(v->dtype), shp);
    }
    c->n_nodes = m->n_nodes;
    for (int j = 0; j < m->n_nodes; j++) {
        const char *name = m->nodes[j].op->name;
        int k = 0;
        while (k < c->n_ops && strcmp(c->op_name[k], name))
            k++;
        if (k == c->n_ops && c->n_ops < WF_CARD_MAX)
            snprintf(c->op_name[c->n_ops++], sizeof c->op_name[0], "%s", name);
        if (k < c->n_ops)
            c->op_count[k]++;
    }
    for (int v = 0; v < m->n_vals; v++) {
        const wf_value *x = &m->vals[v];
        if (x->kind != WF_VAL_CONST)
            continue;
        int64_t n = wf_numel(&x->c);
        c->parameters += n;
        if (x->c.dtype == WF_DTYPE_FLOAT && x->c.data) {
            const float *f = x->c.data;
            for (int64_t i = 0; i < n; i++)
                c->zero_parameters += f[i] == 0.0f;
        } else if ((x->c.dtype == WF_DTYPE_INT8 || x->c.dtype == WF_DTYPE_UINT8) && x->c.data) {
            /* a quantized weight is zero at its zero point; counted as stored (0) here */
            const unsigned char *b = x->c.data;
            for (int64_t i = 0; i < n; i++)
                c->zero_parameters += b[i] == 0;
        }
    }
    c->flops = flops_per_row(m);
    for (int i = 0; i < m->n_meta && c->n_meta < WF_CARD_MAX; i++) {
        snprintf(c->meta_key[c->n_meta], sizeof c->meta_key[0], "%s", m->meta_keys[i]);
        snprintf(c->meta_value[c->n_meta], sizeof c->meta_value[0], "%s", m->meta_vals[i]);
        c->n_meta++;
    }
}
