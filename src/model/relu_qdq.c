/*
 * The hidden layer of a QDQ network after its first layer, h -> Relu -> QuantizeLinear ->
 * DequantizeLinear, found once so that the predictor's predict_hidden (KernelSHAP's coalition
 * rows) can compute DequantizeLinear(QuantizeLinear(Relu(h))) in one pass
 * (wf_k_relu_qdq, the same operations as the three kernels in turn) and run the graph from the
 * DequantizeLinear's output. Per-tensor parameters that are initializers only; anything else is
 * left to the engine.
 */
#include <string.h>

#include "model/kernels/kernels.h"
#include "model/model_impl.h"

/* The one node reading v (any input slot), or NULL when v has another reader or is a graph
 * output. */
static const wf_node *only_reader(const wf_model *m, int v) {
    const wf_node *r = NULL;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v)
            return NULL;
    for (int j = 0; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            if (m->nodes[j].in[k] == v) {
                if (r && r != &m->nodes[j])
                    return NULL;
                r = &m->nodes[j];
            }
    return r;
}

/* A per-tensor initializer of dtype dt, or NULL. */
static const wf_value *scalar_const(const wf_model *m, int v, wf_dtype dt) {
    if (v < 0 || v >= m->n_vals)
        return NULL;
    const wf_value *c = &m->vals[v];
    return c->kind == WF_VAL_CONST && c->dtype == dt && c->c.data && wf_numel(&c->c) == 1 ? c
                                                                                          : NULL;
}

/* Quantize/Dequantize parameters (x_scale, x_zero_point) of node n into *q for an 8-bit type. */
static int qparam_of(const wf_model *m, const wf_node *n, wf_dtype qdt, wf_k_qparam *q) {
    memset(q, 0, sizeof *q);
    if (n->n_in < 2)
        return 0;
    const wf_value *sc = scalar_const(m, n->in[1], WF_DTYPE_FLOAT);
    if (!sc)
        return 0;
    q->scale = sc->c.data;
    q->type = qdt == WF_DTYPE_INT8 ? WF_K_QTYPE_S8 : WF_K_QTYPE_U8;
    if (n->n_in >= 3 && n->in[2] >= 0) {
        const wf_value *zp = scalar_const(m, n->in[2], qdt);
        if (!zp)
            return 0;
        q->zp = zp->c.data;
    }
    return 1;
}

int wf_relu_qdq_after(const wf_model *m, int v, wf_k_qparam *q, wf_k_qparam *dq, int *out_value) {
    *out_value = -1;
    if (v < 0 || m->vals[v].dtype != WF_DTYPE_FLOAT)
        return 0;
    const wf_node *relu = only_reader(m, v);
    if (!relu || strcmp(relu->op->name, "Relu") || relu->n_in != 1 || relu->n_out != 1)
        return 0;
    const wf_node *qn = only_reader(m, relu->out[0]);
    if (!qn || strcmp(qn->op->name, "QuantizeLinear") || qn->in[0] != relu->out[0] ||
        qn->n_out != 1)
        return 0;
    wf_dtype qdt = m->vals[qn->out[0]].dtype;
    if (qdt != WF_DTYPE_INT8 && qdt != WF_DTYPE_UINT8)
        return 0;
    /* opset 21's output_dtype and saturate, blocked quantization: not this simple form */
    if (wf_attr_find(qn, "block_size") || wf_attr_find(qn, "saturate"))
        return 0;
    const wf_node *dn = only_reader(m, qn->out[0]);
    if (!dn || strcmp(dn->op->name, "DequantizeLinear") || dn->in[0] != qn->out[0] ||
        dn->n_out != 1 || m->vals[dn->out[0]].dtype != WF_DTYPE_FLOAT ||
        wf_attr_find(dn, "block_size"))
        return 0;
    if (!qparam_of(m, qn, qdt, q) || !qparam_of(m, dn, qdt, dq))
        return 0;
    *out_value = dn->out[0];
    return 1;
}
