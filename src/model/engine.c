/*
 * The engine: plan (shapes, one activation block, one gradient block, one scratch block) for the
 * input shapes of a run, forward in topological order, backward (vector-Jacobian product) in
 * reverse. Shape arithmetic is folded at plan time: a node whose output depends on the input
 * shapes only (Shape, Size, and every node all of whose inputs are constants or such values)
 * is evaluated once while planning, for the planned batch, and skipped by runs and backward;
 * a shape that depends on data is an error naming the node that needs it. Values that only reshape
 * (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout) alias their input's data and gradient.
 * Blocks grow only when a plan needs more; kernels never allocate. Non-goals: buffer reuse by
 * liveness (the predictor bounds memory by chunking the batch instead), multi-threading inside one
 * engine.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"

/* FLOPs executed by every engine of the process (forward, forward from a hidden value, backward),
 * for benchmarks: one relaxed atomic add per run, from each node's FLOP count at the plan. */
static _Atomic int64_t wf_flops_done;

int64_t wf_engine_flops_executed(void) {
    return atomic_load_explicit(&wf_flops_done, memory_order_relaxed);
}

struct wf_engine {
    const wf_model *m;
    int flags;
    wf_tensor *t;        /* (n_vals) runtime tensors */
    float **g;           /* (n_vals) gradient buffers, NULL where none */
    size_t *off;         /* (n_vals) byte offset into the activation block, or SIZE_MAX */
    size_t *goff;        /* (n_vals) float offset into the gradient block, or SIZE_MAX */
    unsigned char *diff; /* (n_vals) 1 if the value depends on a float graph input */
    char *act;
    size_t act_cap, act_used;
    float *grad;
    size_t grad_cap, grad_used; /* floats */
    void *scratch;
    size_t scratch_cap;
    int planned;
    wf_tensor *last; /* (n_inputs) shapes of the planned inputs */
    int maxio;
    wf_tensor **pin, **pout; /* (maxio) */
    float **gin, **gout;
    /* Shape folding: a node is static when it is Shape/Size (its output depends on the input
     * shape only) or every input it reads is constant or static. Static nodes are evaluated
     * once per plan (shapes are known then), their outputs held in sdata; runs and backward
     * skip them, so the compute graph the engine runs holds no shape arithmetic. */
    unsigned char *stat_node; /* (n_nodes) */
    unsigned char *stat_val;  /* (n_vals) */
    void **sdata;             /* (n_vals) plan-time buffers of static node outputs */
    /* Static nodes all of whose inputs are constants or outputs of such nodes (the
     * DequantizeLinear of int8 weights): their values do not depend on the input shapes, so
     * they are folded once per engine and kept across replans (a batch-size change no longer
     * dequantizes the weights again). */
    unsigned char *const_node; /* (n_nodes) */
    unsigned char *kept;       /* (n_nodes) 1 once a const node's outputs are folded */
    int64_t *nfl;              /* (n_nodes) FLOPs of each node at the plan, 0 when folded */
    /* Conv/Gemm -> Relu fusion: fuse[c] = r + 1 for a Conv or Gemm c whose output only Relu r
     * reads; fuse[r] = -(c + 1) for that Relu, whose output then aliases c's (the Relu's
     * backward reads max(x, 0) instead of x: the same mask x > 0). */
    int *fuse; /* (n_nodes) */
    /* The packed operand of nodes whose op has a packed path (wf_op_packing) and whose inputs
     * but the first are constants or kept folded values, so their data stay put for the
     * engine's life: packed once, on the first plan, instead of on every run (Gemm: B^T for
     * the direct kernel, where an IG batch of 52 rows spent longer packing the 64 x 32 weights
     * than multiplying; QGemm and QLinearMatMul: B's codes as floats). NULL elsewhere. */
    float **packb; /* (n_nodes) */
    /* Fused QOperator tails (ops_qtail.c): tail[j] for a QLinearMatMul j whose bias QLinearAdd
     * and DequantizeLinear -> QuantizeLinear pair run in one pass from its sums, skipping their
     * intermediate values. Runs take them only when no backward can follow: an engine without
     * WF_ENGINE_GRAD, or one set forward-only (wf_engine_forward_only); partial marks a run that
     * did, so a backward after it is refused instead of reading stale values. Made on the first
     * plan (they read only constants). */
    wf_qtail **tail; /* (n_nodes) */
    int tails_made, fwd_only, partial;
};

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

/* Free the folded values; those of const nodes only when `all` (the engine is freed). */
static void free_static(wf_engine *e, int all) {
    if (!e->sdata)
        return;
    for (int j = 0; j < e->m->n_nodes; j++) {
        const wf_node *n = &e->m->nodes[j];
        if (!all && e->const_node && e->kept && e->kept[j])
            continue;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) {
                free(e->sdata[n->out[k]]);
                e->sdata[n->out[k]] = NULL;
            }
        if (e->kept)
            e->kept[j] = 0;
    }
}

void wf_engine_free(wf_engine *e) {
    if (!e)
        return;
    free(e->t);
    free(e->g);
    free(e->off);
    free(e->goff);
    free(e->diff);
    free(e->act);
    free(e->grad);
    free(e->scratch);
    free(e->last);
    free(e->pin);
    free(e->pout);
    free(e->gin);
    free(e->gout);
    free_static(e, 1);
    free(e->const_node);
    free(e->kept);
    free(e->nfl);
    free(e->fuse);
    if (e->packb)
        for (int j = 0; j < e->m->n_nodes; j++)
            free(e->packb[j]);
    free(e->packb);
    if (e->tail)
        for (int j = 0; j < e->m->n_nodes; j++)
            wf_qtail_free(e->tail[j]);
    free(e->tail);
    free(e->stat_node);
    free(e->stat_val);
    free(e->sdata);
    free(e);
}

static int same_shape(const wf_tensor *a, const wf_tensor *b) {
    if (a->rank != b->rank || a->dtype != b->dtype)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

static void gather(wf_engine *e, const wf_node *n) {
    for (int i = 0; i < n->n_in; i++)
        e->pin[i] = n->in[i] >= 0 ? &e->t[n->in[i]] : NULL;
    for (int i = 0; i < n->n_out; i++)
        e->pout[i] = n->out[i] >= 0 ? &e->t[n->out[i]] : NULL;
}

static wf_status check_input(const wf_model *m, int i, const wf_tensor *x, int flags,
                             wf_error *err) {
    const wf_value *v = &m->vals[m->inputs[i]];
    if (x->dtype != v->dtype)
        return wf_error_set(err, WF_ERR_SHAPE, "input '%s' is %s but the model expects %s", v->name,
                            wf_dtype_name(x->dtype), wf_dtype_name(v->dtype));
    if (x->rank < 0 || x->rank > WF_MAX_RANK)
        return wf_error_set(err, WF_ERR_SHAPE, "input '%s' has rank %d", v->name, x->rank);
    if (v->decl_rank >= 0) {
        if (x->rank != v->decl_rank)
            return wf_error_set(err, WF_ERR_SHAPE,
                                "input '%s' has rank %d but the model expects rank %d", v->name,
                                x->rank, v->decl_rank);
        for (int d = 0; d < x->rank; d++)
            if (v->decl_dims[d] >= 0 && v->decl_dims[d] != x->dims[d] &&
                !(d == 0 && v->decl_dims[0] == 1 && (flags & WF_ENGINE_FREE_BATCH)))
                return wf_error_set(err, WF_ERR_SHAPE,
                                    "input '%s' has %lld at axis %d but the model expects %lld",
                                    v->name, (long long)x->dims[d], d, (long long)v->decl_dims[d]);
    }
    int64_t p = 1;
    for (int d = 0; d < x->rank; d++) {
        if (x->dims[d] < 0 || x->dims[d] > WF_MAX_NUMEL)
            return wf_error_set(err, WF_ERR_SHAPE, "input '%s' has an absurd dimension %lld",
                                v->name, (long long)x->dims[d]);
        p *= x->dims[d];
        if (p > WF_MAX_NUMEL)
            return wf_error_set(err, WF_ERR_SHAPE, "input '%s' has more than 2^31 elements",
                                v->name);
    }
    return WF_OK;
}

/* Point node outputs into the blocks and aliases at their sources; inputs at the caller's data. */
static void bind(wf_engine *e, const wf_tensor *inputs) {
    const wf_model *m = e->m;
    e->partial = 0;
    for (int i = 0; i < m->n_inputs; i++) {
        int v = m->inputs[i];
        e->t[v].data = inputs ? inputs[i].data : NULL;
        e->g[v] = e->goff[v] != SIZE_MAX ? e->grad + e->goff[v] : NULL;
    }
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        if (e->stat_node[j])
            continue; /* folded at plan time: data stays where the plan put it */
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            if (n->op->alias && k == 0) {
                e->t[v].data = e->t[n->in[0]].data;
                e->g[v] = e->g[n->in[0]];
            } else {
                e->t[v].data = e->act + e->off[v];
                e->g[v] = e->goff[v] != SIZE_MAX ? e->grad + e->goff[v] : NULL;
                if (e->fuse[j] < 0 && k == 0) /* a fused Relu: its producer wrote max(x, 0) */
                    e->t[v].data = e->t[n->in[0]].data;
            }
        }
    }
}

/* Evaluate a static node at plan time (its inputs are constants or folded values). */
static wf_status fold_node(wf_engine *e, const wf_node *n, size_t scratch, wf_error *err) {
    for (int k = 0; k < n->n_out; k++) {
        int v = n->out[k];
        if (v < 0)
            continue;
        wf_status st = wf_check_numel(n, &e->t[v], err);
        if (st)
            return st;
        if (n->op->alias && k == 0) {
            e->t[v].data = e->t[n->in[0]].data;
            continue;
        }
        size_t bytes = (size_t)wf_numel(&e->t[v]) * wf_dtype_size(e->t[v].dtype);
        e->sdata[v] = malloc(bytes ? bytes : 1);
        if (!e->sdata[v])
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory folding a shape subgraph");
        e->t[v].data = e->sdata[v];
    }
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !e->t[n->in[i]].data && wf_numel(&e->t[n->in[i]]) > 0 &&
            strcmp(n->op->name, "Shape") && strcmp(n->op->name, "Size"))
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "cannot fold: input %d ('%s') has no value at plan time", i,
                                 e->m->vals[n->in[i]].name);
    void *tmp = NULL;
    if (scratch) {
        tmp = malloc(scratch);
        if (!tmp)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory folding a shape subgraph");
    }
    n->op->forward(n, e->pin, e->pout, tmp);
    free(tmp);
    return WF_OK;
}

/* Conv/Gemm -> Relu pairs (see fuse): the Relu's input is the producer's first output, read by
 * no other node and not a graph output; neither node is folded. */
static void find_fusions(wf_engine *e) {
    const wf_model *m = e->m;
    for (int r = 0; r < m->n_nodes; r++) {
        const wf_node *n = &m->nodes[r];
        if (n->op != &wf_op_relu || e->stat_node[r] || n->n_in < 1 || n->in[0] < 0 ||
            n->n_out < 1 || n->out[0] < 0)
            continue;
        int u = n->in[0], c = m->vals[u].producer;
        if (c < 0 || c >= r || e->stat_node[c] || e->fuse[c] ||
            (m->nodes[c].op != &wf_op_conv && m->nodes[c].op != &wf_op_gemm) ||
            m->nodes[c].out[0] != u || m->vals[u].dtype != WF_DTYPE_FLOAT)
            continue;
        int readers = 0;
        for (int j = 0; j < m->n_nodes; j++)
            for (int k = 0; k < m->nodes[j].n_in; k++)
                readers += m->nodes[j].in[k] == u;
        for (int o = 0; o < m->n_outputs; o++)
            readers += m->outputs[o] == u ? 2 : 0;
        if (readers != 1)
            continue;
        e->fuse[c] = r + 1;
        e->fuse[r] = -(c + 1);
    }
}

/* Whether value v holds the same data for the engine's life: an initializer, or the output of
 * a constant node already folded and kept. */
static int fixed_value(const wf_engine *e, int v) {
    const wf_model *m = e->m;
    if (v < 0)
        return 1; /* an absent optional input */
    int p = m->vals[v].producer;
    return e->t[v].data &&
           (m->vals[v].kind == WF_VAL_CONST || (p >= 0 && e->const_node[p] && e->kept[p]));
}

/* The packed operands of the nodes whose op has a packed path (wf_op_packing_of) and whose
 * inputs but the first are fixed (see packb), packed where not yet; a NULL from the op (or a
 * failed allocation) leaves the node on its usual path. */
static void pack_constant_operands(wf_engine *e) {
    const wf_model *m = e->m;
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        const wf_op_packing *pk = wf_op_packing_of(n->op);
        if (e->packb[j] || !pk || e->stat_node[j])
            continue;
        int fixed = 1;
        for (int i = 1; i < n->n_in && fixed; i++)
            fixed = fixed_value(e, n->in[i]);
        if (!fixed)
            continue;
        gather(e, n);
        e->packb[j] = pk->pack(n, e->pin);
    }
}

static wf_status plan(wf_engine *e, const wf_tensor *inputs, wf_error *err) {
    const wf_model *m = e->m;
    e->planned = 0;
    free_static(e, 0);
    for (int i = 0; i < m->n_inputs; i++) {
        wf_tensor *t = &e->t[m->inputs[i]];
        *t = inputs[i];
    }
    size_t scratch = 0, act = 0, grad = 0;
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        e->nfl[j] = 0;
        gather(e, n);
        for (int k = 0; k < n->n_out; k++)
            if (e->pout[k]) {
                memset(e->pout[k], 0, sizeof *e->pout[k]);
                e->pout[k]->dtype = m->vals[n->out[k]].dtype;
            }
        size_t s = 0;
        wf_status st = n->op->shape(n, e->pin, e->pout, &s, err);
        if (st)
            return st;
        if (e->stat_node[j] && e->kept[j]) { /* folded by an earlier plan: same values */
            for (int k = 0; k < n->n_out; k++) {
                int v = n->out[k];
                if (v >= 0)
                    e->t[v].data = n->op->alias && k == 0 ? e->t[n->in[0]].data : e->sdata[v];
            }
            continue;
        }
        if (e->stat_node[j]) {
            st = fold_node(e, n, s, err);
            if (st)
                return st;
            e->kept[j] = e->const_node[j];
            continue;
        }
        if (s > scratch)
            scratch = s;
        e->nfl[j] = n->op->flops ? n->op->flops(n, e->pin, e->pout) : 0;
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            st = wf_check_numel(n, &e->t[v], err);
            if (st)
                return st;
            /* aliases take their source's data once bound; data of constants or inputs are
             * visible to later shape rules through the alias */
            if (n->op->alias && k == 0) {
                e->t[v].data = e->t[n->in[0]].data;
                e->off[v] = SIZE_MAX;
                e->goff[v] = SIZE_MAX;
                continue;
            }
            size_t bytes = (size_t)wf_numel(&e->t[v]) * wf_dtype_size(e->t[v].dtype);
            e->off[v] = act;
            act += align64(bytes);
            e->t[v].data = NULL;
            e->goff[v] = SIZE_MAX;
            if ((e->flags & WF_ENGINE_GRAD) && e->diff[v]) {
                e->goff[v] = grad;
                grad += align64((size_t)wf_numel(&e->t[v]) * sizeof(float)) / sizeof(float);
            }
        }
    }
    for (int i = 0; i < m->n_inputs; i++) {
        int v = m->inputs[i];
        e->goff[v] = SIZE_MAX;
        if ((e->flags & WF_ENGINE_GRAD) && e->diff[v]) {
            e->goff[v] = grad;
            grad += align64((size_t)wf_numel(&e->t[v]) * sizeof(float)) / sizeof(float);
        }
    }
    if (e->flags & WF_ENGINE_SHAPES_ONLY) {
        e->planned = 1;
        return WF_OK; /* shapes and FLOPs only: nothing is allocated */
    }
    if (act > e->act_cap) {
        free(e->act);
        e->act = aligned_alloc(64, act);
        e->act_cap = e->act ? act : 0;
        if (!e->act)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %zu bytes of activations",
                                act);
    }
    if (grad > e->grad_cap) {
        free(e->grad);
        e->grad = aligned_alloc(64, grad * sizeof(float));
        e->grad_cap = e->grad ? grad : 0;
        if (!e->grad)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory for gradients");
    }
    scratch = align64(scratch);
    if (scratch > e->scratch_cap) {
        free(e->scratch);
        e->scratch = aligned_alloc(64, scratch);
        e->scratch_cap = e->scratch ? scratch : 0;
        if (!e->scratch)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %zu bytes of scratch",
                                scratch);
    }
    e->act_used = act;
    e->grad_used = grad;
    for (int i = 0; i < m->n_inputs; i++) {
        e->last[i] = inputs[i];
        e->last[i].data = NULL;
    }
    pack_constant_operands(e);
    if (!e->tails_made) {
        for (int j = 0; j < m->n_nodes; j++)
            if (!e->stat_node[j])
                e->tail[j] = wf_qtail_new(m, j); /* NULL: none (or no memory: unfused) */
        e->tails_made = 1;
    }
    e->planned = 1;
    return WF_OK;
}

wf_status wf_engine_new(const wf_model *m, int64_t max_batch, int flags, wf_engine **out,
                        wf_error *err) {
    *out = NULL;
    wf_engine *e = calloc(1, sizeof *e);
    if (!e)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    e->m = m;
    e->flags = flags;
    size_t nv = (size_t)m->n_vals + 1;
    e->t = calloc(nv, sizeof *e->t);
    e->g = calloc(nv, sizeof *e->g);
    e->off = calloc(nv, sizeof *e->off);
    e->goff = calloc(nv, sizeof *e->goff);
    e->diff = calloc(nv, 1);
    e->last = calloc((size_t)m->n_inputs + 1, sizeof *e->last);
    e->stat_node = calloc((size_t)m->n_nodes + 1, 1);
    e->stat_val = calloc(nv, 1);
    e->sdata = calloc(nv, sizeof *e->sdata);
    e->const_node = calloc((size_t)m->n_nodes + 1, 1);
    e->kept = calloc((size_t)m->n_nodes + 1, 1);
    e->nfl = calloc((size_t)m->n_nodes + 1, sizeof *e->nfl);
    e->fuse = calloc((size_t)m->n_nodes + 1, sizeof *e->fuse);
    e->packb = calloc((size_t)m->n_nodes + 1, sizeof *e->packb);
    e->tail = calloc((size_t)m->n_nodes + 1, sizeof *e->tail);
    int maxio = 1;
    for (int j = 0; j < m->n_nodes; j++) {
        if (m->nodes[j].n_in > maxio)
            maxio = m->nodes[j].n_in;
        if (m->nodes[j].n_out > maxio)
            maxio = m->nodes[j].n_out;
    }
    e->maxio = maxio;
    e->pin = calloc((size_t)maxio, sizeof *e->pin);
    e->pout = calloc((size_t)maxio, sizeof *e->pout);
    e->gin = calloc((size_t)maxio, sizeof *e->gin);
    e->gout = calloc((size_t)maxio, sizeof *e->gout);
    if (!e->t || !e->g || !e->off || !e->goff || !e->diff || !e->last || !e->pin || !e->pout ||
        !e->gin || !e->gout || !e->stat_node || !e->stat_val || !e->sdata || !e->const_node ||
        !e->kept || !e->nfl || !e->fuse || !e->packb || !e->tail) {
        wf_engine_free(e);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int v = 0; v < m->n_vals; v++) {
        e->off[v] = e->goff[v] = SIZE_MAX;
        if (m->vals[v].kind == WF_VAL_CONST)
            e->t[v] = m->vals[v].c;
    }
    /* Static (foldable) nodes: Shape/Size, or all inputs constant or static. Const nodes: no
     * Shape/Size anywhere upstream, only constants (e->diff serves as the scratch mark of
     * their outputs here and is reset below). */
    for (int v = 0; v < m->n_vals; v++) {
        e->stat_val[v] = m->vals[v].kind == WF_VAL_CONST;
        e->diff[v] = e->stat_val[v];
    }
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        int st = !strcmp(n->op->name, "Shape") || !strcmp(n->op->name, "Size");
        int cn = !st;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && !e->diff[n->in[k]])
                cn = 0;
        e->const_node[j] = (unsigned char)cn;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                e->diff[n->out[k]] = (unsigned char)cn;
        if (!st) {
            st = 1;
            for (int k = 0; k < n->n_in; k++)
                if (n->in[k] >= 0 && !e->stat_val[n->in[k]])
                    st = 0;
        }
        e->stat_node[j] = (unsigned char)st;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                e->stat_val[n->out[k]] = (unsigned char)st;
    }
    memset(e->diff, 0, nv);
    find_fusions(e);
    /* Differentiable values: reachable from a float graph input through float, 8-bit or int32
     * (straight-through: MatMulInteger/ConvInteger accumulators) tensors. */
    for (int i = 0; i < m->n_inputs; i++)
        if (m->vals[m->inputs[i]].dtype == WF_DTYPE_FLOAT)
            e->diff[m->inputs[i]] = 1;
    for (int j = 0; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        int any = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && e->diff[n->in[k]])
                any = 1;
        if (!any || !n->op->backward || e->stat_node[j])
            continue;
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v >= 0 &&
                (m->vals[v].dtype == WF_DTYPE_FLOAT || m->vals[v].dtype == WF_DTYPE_INT8 ||
                 m->vals[v].dtype == WF_DTYPE_UINT8 || m->vals[v].dtype == WF_DTYPE_INT32))
                e->diff[v] = 1;
        }
    }
    /* A first plan for max_batch when the inputs' shapes are known but for the batch axis. */
    if (max_batch >= 1 && m->n_inputs > 0) {
        wf_tensor *tin = calloc((size_t)m->n_inputs, sizeof *tin);
        int ok = tin != NULL;
        for (int i = 0; ok && i < m->n_inputs; i++) {
            const wf_value *v = &m->vals[m->inputs[i]];
            if (v->decl_rank < 0) {
                ok = 0;
                break;
            }
            tin[i].dtype = v->dtype;
            tin[i].rank = v->decl_rank;
            for (int d = 0; d < v->decl_rank; d++) {
                int64_t dd = v->decl_dims[d];
                if (dd < 0 && d == 0)
                    dd = max_batch;
                else if (dd < 0)
                    ok = 0;
                tin[i].dims[d] = dd;
            }
        }
        if (ok) {
            wf_error tmp;
            if (plan(e, tin, &tmp) == WF_ERR_NOMEM) {
                free(tin);
                wf_engine_free(e);
                return wf_error_set(err, WF_ERR_NOMEM, "%s", tmp.msg);
            }
        }
        free(tin);
    }
    *out = e;
    return WF_OK;
}

/* Node j's backward when it has a gradient to pass on (an output gradient and an input that takes
 * one); returns the FLOPs credited (a data gradient costs about the node's forward), 0 if none. */
static int64_t backward_node(wf_engine *e, int j) {
    const wf_node *n = &e->m->nodes[j];
    if (!n->op->backward || e->stat_node[j])
        return 0;
    int any_out = 0, any_in = 0;
    for (int k = 0; k < n->n_out; k++) {
        e->gout[k] = n->out[k] >= 0 ? e->g[n->out[k]] : NULL;
        any_out |= e->gout[k] != NULL;
    }
    for (int k = 0; k < n->n_in; k++) {
        e->gin[k] = n->in[k] >= 0 ? e->g[n->in[k]] : NULL;
        any_in |= e->gin[k] != NULL;
    }
    if (!any_out || !any_in)
        return 0;
    gather(e, n);
    n->op->backward(n, e->pin, e->pout, e->gin, e->gout, e->scratch);
    return e->nfl[j];
}

/* Forward of node j (gathered): its packed path where it has one, fused with its Relu where
 * find_fusions paired them. */
static void run_node(wf_engine *e, int j, const wf_node *n) {
    if (e->packb[j] && wf_op_packing_of(n->op)->forward(n, e->pin, e->pout, e->packb[j],
                                                        e->fuse[j] > 0, e->scratch))
        return;
    if (e->fuse[j] > 0 && n->op == &wf_op_conv)
        wf_op_conv_relu_forward(n, e->pin, e->pout, e->scratch);
    else if (e->fuse[j] > 0)
        wf_op_gemm_relu_forward(n, e->pin, e->pout, e->scratch);
    else
        n->op->forward(n, e->pin, e->pout, e->scratch);
}

/* Whether runs may take fused tails now: no backward can follow (see tail). */
static int tails_on(const wf_engine *e) {
    return !(e->flags & WF_ENGINE_GRAD) || e->fwd_only;
}

/* Run the nodes after node p (p = -1: all of them), skipping the constant-folded ones; a Relu
 * fused with a producer that runs here is done by it, one whose producer is at or before p (it
 * did not run now) runs by itself; a fused tail's head runs its tail and the nodes it covers are
 * skipped. Adds their FLOPs to the process-wide count. */
static void run_nodes_after(wf_engine *e, int p) {
    const wf_model *m = e->m;
    int64_t fl = 0;
    int tails = tails_on(e);
    for (int j = p + 1; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        if (e->stat_node[j])
            continue;
        fl += e->nfl[j];
        if (e->fuse[j] < 0 && -e->fuse[j] - 1 > p)
            continue; /* done by its producer */
        gather(e, n);
        if (tails && e->tail[j] &&
            wf_qtail_forward(e->tail[j], e->pin, e->packb[j], e->t[wf_qtail_value(e->tail[j])].data,
                             e->scratch)) {
            int last = wf_qtail_last(e->tail[j]);
            while (j < last)
                fl += e->nfl[++j];
            e->partial = 1;
            continue;
        }
        if (e->fuse[j] < 0) /* its producer did not run now: the Relu by itself */
            n->op->forward(n, e->pin, e->pout, e->scratch);
        else
            run_node(e, j, n);
    }
    atomic_fetch_add_explicit(&wf_flops_done, fl, memory_order_relaxed);
}

wf_status wf_engine_run(wf_engine *e, const wf_tensor *inputs, int n_inputs, wf_error *err) {
    const wf_model *m = e->m;
    if (n_inputs != m->n_inputs)
        return wf_error_set(err, WF_ERR_INVALID, "%s: the model has %d input(s), %d given", m->name,
                            m->n_inputs, n_inputs);
    if (e->flags & WF_ENGINE_SHAPES_ONLY)
        return wf_error_set(err, WF_ERR_INVALID, "a shapes-only engine cannot run");
    int replan = !e->planned;
    for (int i = 0; i < n_inputs; i++) {
        wf_status s = check_input(m, i, &inputs[i], e->flags, err);
        if (s) {
            wf_error_prefix(err, "%s: ", m->name);
            return s;
        }
        if (!same_shape(&inputs[i], &e->last[i]))
            replan = 1;
        if (!inputs[i].data && wf_numel(&inputs[i]) > 0)
            return wf_error_set(err, WF_ERR_INVALID, "%s: input '%s' has no data", m->name,
                                m->vals[m->inputs[i]].name);
    }
    /* Shape rules may read caller-fed int64 inputs (Reshape shape as a graph input): replan
     * whenever such inputs exist. */
    for (int i = 0; i < n_inputs && !replan; i++)
        if (inputs[i].dtype == WF_DTYPE_INT64 || inputs[i].dtype == WF_DTYPE_INT32)
            replan = 1;
    if (replan) {
        wf_status s = plan(e, inputs, err);
        if (s) {
            wf_error_prefix(err, "%s: ", m->name);
            return s;
        }
    }
    bind(e, inputs);
    run_nodes_after(e, -1);
    return WF_OK;
}

const wf_tensor *wf_engine_output(const wf_engine *e, int i) {
    if (!e->planned || i < 0 || i >= e->m->n_outputs)
        return NULL;
    return &e->t[e->m->outputs[i]];
}

static wf_status partial_error(const wf_engine *e, wf_error *err) {
    return wf_error_set(err, WF_ERR_INVALID,
                        "%s: backward after a forward-only run (fused QOperator tails skipped "
                        "values the backward reads); run again with forward-only off",
                        e->m->name);
}

wf_status wf_engine_backward(wf_engine *e, int out_index, const float *dy, int in_index, float *dx,
                             wf_error *err) {
    const wf_model *m = e->m;
    if (!(e->flags & WF_ENGINE_GRAD))
        return wf_error_set(err, WF_ERR_INVALID, "engine created without WF_ENGINE_GRAD");
    if (!e->planned)
        return wf_error_set(err, WF_ERR_INVALID, "backward before a forward run");
    if (e->partial)
        return partial_error(e, err);
    if (out_index < 0 || out_index >= m->n_outputs || in_index < 0 || in_index >= m->n_inputs)
        return wf_error_set(err, WF_ERR_INVALID, "output %d / input %d out of range", out_index,
                            in_index);
    int vo = m->outputs[out_index], vi = m->inputs[in_index];
    if (m->vals[vo].dtype != WF_DTYPE_FLOAT || m->vals[vi].dtype != WF_DTYPE_FLOAT)
        return wf_error_set(err, WF_ERR_INVALID,
                            "%s: gradients need a float output and a float input", m->name);
    size_t nx = (size_t)wf_numel(&e->t[vi]);
    if (!e->g[vo] || !e->g[vi]) { /* the output does not depend on the input */
        memset(dx, 0, nx * sizeof *dx);
        return WF_OK;
    }
    memset(e->grad, 0, e->grad_used * sizeof(float));
    size_t ny = (size_t)wf_numel(&e->t[vo]);
    for (size_t i = 0; i < ny; i++)
        e->g[vo][i] += dy[i];
    int64_t fl = 0;
    for (int j = m->n_nodes - 1; j >= 0; j--)
        fl += backward_node(e, j);
    atomic_fetch_add_explicit(&wf_flops_done, fl, memory_order_relaxed);
    memcpy(dx, e->g[vi], nx * sizeof *dx);
    return WF_OK;
}

wf_status wf_engine_backward_span(wf_engine *e, int from, const float *dfrom, int to, float *dto,
                                  wf_error *err) {
    const wf_model *m = e->m;
    if (!(e->flags & WF_ENGINE_GRAD) || !e->planned)
        return wf_error_set(err, WF_ERR_INVALID, "backward span before a forward run");
    if (e->partial)
        return partial_error(e, err);
    if (from < 0 || from >= m->n_vals || to < 0 || to >= m->n_vals || !e->g[from] || !e->g[to] ||
        m->vals[from].producer < 0 || m->vals[to].producer >= m->vals[from].producer)
        return wf_error_set(err, WF_ERR_INVALID, "%s: no gradient span from value %d to %d",
                            m->name, from, to);
    /* zero only the gradients the span touches: the inputs and outputs of its nodes */
    int lo = m->vals[to].producer, hi = m->vals[from].producer;
    memset(e->g[to], 0, (size_t)wf_numel(&e->t[to]) * sizeof(float));
    for (int j = hi; j > lo; j--) {
        const wf_node *n = &m->nodes[j];
        for (int k = 0; k < n->n_in + n->n_out; k++) {
            int v = k < n->n_in ? n->in[k] : n->out[k - n->n_in];
            if (v >= 0 && e->g[v])
                memset(e->g[v], 0, (size_t)wf_numel(&e->t[v]) * sizeof(float));
        }
    }
    size_t nf = (size_t)wf_numel(&e->t[from]);
    for (size_t i = 0; i < nf; i++)
        e->g[from][i] += dfrom[i];
    /* the nodes after from's producer only add zeros into g[from]; those up to to's producer do
     * not reach it */
    int64_t fl = 0;
    for (int j = hi; j > lo; j--)
        fl += backward_node(e, j);
    atomic_fetch_add_explicit(&wf_flops_done, fl, memory_order_relaxed);
    memcpy(dto, e->g[to], (size_t)wf_numel(&e->t[to]) * sizeof *dto);
    return WF_OK;
}

int64_t wf_engine_flops(wf_engine *e) {
    if (!e->planned)
        return -1;
    int64_t total = 0;
    for (int j = 0; j < e->m->n_nodes; j++) {
        const wf_node *n = &e->m->nodes[j];
        if (!n->op->flops || e->stat_node[j])
            continue;
        gather(e, n);
        total += n->op->flops(n, e->pin, e->pout);
    }
    return total;
}

int wf_engine_node_folded(const wf_engine *e, int node) {
    return node >= 0 && node < e->m->n_nodes && e->stat_node[node];
}

const wf_tensor *wf_engine_value(const wf_engine *e, int v) {
    return &e->t[v];
}

/* The plan for these input shapes (planned again when they changed) and the value blocks bound,
 * the inputs' data not: for the runs that start inside the graph. */
static wf_status plan_bound(wf_engine *e, const wf_tensor *inputs, wf_error *err) {
    int replan = !e->planned;
    for (int i = 0; i < e->m->n_inputs; i++)
        if (!same_shape(&inputs[i], &e->last[i]))
            replan = 1;
    if (replan) {
        wf_status s = plan(e, inputs, err);
        if (s)
            return s;
    }
    bind(e, NULL);
    return WF_OK;
}

wf_status wf_engine_from_buffer(wf_engine *e, const wf_tensor *inputs, int v, float **buf,
                                wf_error *err) {
    const wf_model *m = e->m;
    *buf = NULL;
    wf_status s = plan_bound(e, inputs, err);
    if (s)
        return s;
    if (m->vals[v].producer < 0 || m->vals[v].dtype != WF_DTYPE_FLOAT)
        return wf_error_set(err, WF_ERR_INVALID, "value %d is not a float node output", v);
    *buf = e->t[v].data;
    return WF_OK;
}

void wf_engine_run_after(wf_engine *e, int v) {
    run_nodes_after(e, e->m->vals[v].producer);
}

wf_status wf_engine_run_from(wf_engine *e, const wf_tensor *inputs, int v, const void *h,
                             wf_error *err) {
    const wf_model *m = e->m;
    wf_status s = plan_bound(e, inputs, err);
    if (s)
        return s;
    int p = m->vals[v].producer;
    if (p < 0)
        return wf_error_set(err, WF_ERR_INVALID, "value %d is not a node output", v);
    /* The nodes after p read v from the caller's h (no copy; they only read their inputs), and
     * the reshaping aliases of v follow it. The next bind points v back into the block. */
    e->t[v].data = (void *)(uintptr_t)h;
    for (int j = p + 1; j < m->n_nodes; j++) {
        const wf_node *n = &m->nodes[j];
        if (e->stat_node[j] || n->n_in < 1 || n->n_out < 1 || n->out[0] < 0 || n->in[0] < 0)
            continue;
        /* a Relu fused with a producer that does not run now runs by itself, into its own
         * block (h is the caller's, read-only) */
        if (e->fuse[j] < 0 && -e->fuse[j] - 1 <= p)
            e->t[n->out[0]].data = e->act + e->off[n->out[0]];
        else if (n->op->alias || e->fuse[j] < 0)
            e->t[n->out[0]].data = e->t[n->in[0]].data;
    }
    wf_engine_run_after(e, v);
    return WF_OK;
}

void wf_engine_forward_only(wf_engine *e, int on) {
    e->fwd_only = on != 0;
}

int wf_engine_ran_tails(const wf_engine *e) {
    return e->partial;
}

int wf_engine_has_tail(const wf_engine *e, int node) {
    return node >= 0 && node < e->m->n_nodes && e->tail[node] && tails_on(e);
}

wf_status wf_engine_tail_from(wf_engine *e, const wf_tensor *inputs, int node, const float *sums,
                              wf_error *err) {
    wf_status s = plan_bound(e, inputs, err);
    if (s)
        return s;
    if (!wf_engine_has_tail(e, node))
        return wf_error_set(err, WF_ERR_INVALID, "%s: node %d heads no fused tail in this mode",
                            e->m->name, node);
    const wf_qtail *t = e->tail[node];
    wf_qtail_run(t, sums, wf_numel(&e->t[e->m->nodes[node].out[0]]), e->t[wf_qtail_value(t)].data);
    e->partial = 1;
    int64_t fl = 0; /* the work of the nodes the tail stands for (the head's sums are the
                     * caller's) */
    for (int j = node + 1; j <= wf_qtail_last(t); j++)
        fl += e->nfl[j];
    atomic_fetch_add_explicit(&wf_flops_done, fl, memory_order_relaxed);
    run_nodes_after(e, wf_qtail_last(t));
    return WF_OK;
}
