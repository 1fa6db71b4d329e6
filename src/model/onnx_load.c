/*
 * ONNX loading: protobuf bytes -> wf_model (the only protobuf-c user in whyflag).
 *
 * What is accepted: one graph of ai.onnx ops (opset 6..25) from the table in ops/optable.c over
 * float32/uint8/int8/int32/int64 tensors, initializers stored inline (raw_data or typed fields),
 * Constant nodes. Everything else (other domains, control flow, local functions, sparse or
 * external tensors, other dtypes) is rejected here with a message naming the tensor or node,
 * so that an engine never meets an op it cannot run. Non-goals: ONNX shape inference over
 * value_info (shapes are planned by the engine from real input shapes), graph optimizations.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/strmap.h"
#include "model/model_impl.h"
#include "model/onnx_tensor.h"
#include "onnx.pb-c.h"

#define WF_OPSET_MIN 6
#define WF_OPSET_MAX 25

/* ---- value names -> value index while loading: the core's one hash map (core/strmap) ---- */
typedef struct name_map {
    wf_strmap s;
    int failed; /* an insertion ran out of memory: the load fails with WF_ERR_NOMEM */
} name_map;

static int map_init(name_map *m, size_t n) {
    (void)n;
    wf_strmap_init(&m->s);
    m->failed = 0;
    return 1;
}

static void map_free(name_map *m) {
    wf_strmap_free(&m->s);
}

static int map_get(const name_map *m, const char *k) {
    return (int)wf_strmap_get(&m->s, k, strlen(k));
}

static void map_put(name_map *m, const char *k, int v) {
    if (wf_strmap_put(&m->s, k, strlen(k), v, NULL))
        m->failed = 1;
}

/* ---- tensors ---- */

static int dtype_supported(int t) {
    return wf_dtype_size((wf_dtype)t) != 0;
}

#define SUPPORTED_DTYPES "float32, uint8, int8, int32, int64, bool"

/* Decode a TensorProto into t (dtype, dims) and, when dst is not NULL, its data into dst.
 * Returns the byte size in *bytes. `what` names the tensor in messages. */
static wf_status tensor_decode(const Onnx__TensorProto *tp, const char *what, wf_tensor *t,
                               void *dst, size_t *bytes, wf_error *err) {
    memset(t, 0, sizeof *t);
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s stores its data in an external file (data_location EXTERNAL); "
                            "whyflag needs every tensor inside the .onnx file",
                            what);
    if (tp->n_external_data > 0)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s refers to external data ('%s'); whyflag needs every tensor inside "
                            "the .onnx file",
                            what, tp->external_data[0]->value ? tp->external_data[0]->value : "?");
    int dt = tp->has_data_type ? tp->data_type : 0;
    if (!dtype_supported(dt))
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s has dtype %s (%d); supported dtypes: " SUPPORTED_DTYPES, what,
                            wf_dtype_name(dt), dt);
    if (tp->n_dims > WF_MAX_RANK)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s has rank %zu; at most %d is supported",
                            what, tp->n_dims, WF_MAX_RANK);
    t->dtype = (wf_dtype)dt;
    t->rank = (int)tp->n_dims;
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        int64_t d = tp->dims[i];
        if (d < 0 || d > WF_MAX_NUMEL)
            return wf_error_set(err, WF_ERR_PARSE, "%s has an absurd dimension %lld at axis %zu",
                                what, (long long)d, i);
        t->dims[i] = d;
        numel *= d;
        if (numel > WF_MAX_NUMEL)
            return wf_error_set(err, WF_ERR_PARSE,
                                "%s has more than 2^31 elements (dims overflow at axis %zu)", what,
                                i);
    }
    size_t es = wf_dtype_size(t->dtype);
    size_t nb = (size_t)numel * es;
    *bytes = nb;
    size_t have;
    const char *field;
    if (tp->has_raw_data) {
        field = "raw_data";
        have = tp->raw_data.len;
        if (have != nb)
            return wf_error_set(err, WF_ERR_PARSE,
                                "%s: raw_data holds %zu bytes but dims give %lld elements of %zu "
                                "bytes (%zu)",
                                what, have, (long long)numel, es, nb);
        if (dst && nb)
            memcpy(dst, tp->raw_data.data, nb); /* little-endian host assumed (x86-64, arm64) */
        return WF_OK;
    }
    switch (t->dtype) {
    case WF_DTYPE_FLOAT:
        field = "float_data";
        have = tp->n_float_data;
        break;
    case WF_DTYPE_INT64:
        field = "int64_data";
        have = tp->n_int64_data;
        break;
    default:
        field = "int32_data";
        have = tp->n_int32_data;
        break;
    }
    if (have != (size_t)numel)
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: %s holds %zu values but dims give %lld elements", what, field,
                            have, (long long)numel);
    if (!dst)
        return WF_OK;
    for (int64_t i = 0; i < numel; i++) {
        switch (t->dtype) {
        case WF_DTYPE_FLOAT:
            ((float *)dst)[i] = tp->float_data[i];
            break;
        case WF_DTYPE_INT64:
            ((int64_t *)dst)[i] = tp->int64_data[i];
            break;
        case WF_DTYPE_INT32:
            ((int32_t *)dst)[i] = tp->int32_data[i];
            break;
        case WF_DTYPE_INT8:
            ((int8_t *)dst)[i] = (int8_t)tp->int32_data[i];
            break;
        case WF_DTYPE_UINT8:
        case WF_DTYPE_BOOL:
            ((uint8_t *)dst)[i] = (uint8_t)tp->int32_data[i];
            break;
        default:
            break;
        }
    }
    return WF_OK;
}

wf_status wf_onnx_read_tensor(const void *data, size_t len, wf_tensor *t, char *name,
                              size_t name_size, wf_error *err) {
    memset(t, 0, sizeof *t);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, data);
    if (!tp)
        return wf_error_set(err, WF_ERR_PARSE, "not a valid TensorProto (protobuf parse failed)");
    if (name && name_size) {
        snprintf(name, name_size, "%s", tp->name ? tp->name : "");
    }
    size_t bytes = 0;
    wf_tensor shape;
    wf_status s = tensor_decode(tp, "tensor", &shape, NULL, &bytes, err);
    if (s == WF_OK) {
        void *buf = malloc(bytes ? bytes : 1);
        if (!buf)
            s = wf_error_set(err, WF_ERR_NOMEM, "out of memory reading a tensor");
        else {
            s = tensor_decode(tp, "tensor", t, buf, &bytes, err);
            t->data = buf;
            if (s != WF_OK) {
                free(buf);
                t->data = NULL;
            }
        }
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return s;
}

/* ---- model ---- */

void wf_model_free(wf_model *m) {
    if (!m)
        return;
    for (int i = 0; i < m->cap_vals; i++)
        free(m->vals[i].name);
    free(m->vals);
    for (int i = 0; i < m->n_nodes; i++) {
        wf_node *n = &m->nodes[i];
        free(n->name);
        free(n->in);
        free(n->out);
        for (int a = 0; a < n->n_attr; a++) {
            free(n->attr[a].name);
            free(n->attr[a].s);
            free(n->attr[a].ints);
            free(n->attr[a].floats);
            for (int k = 0; k < n->attr[a].n_strs; k++)
                free(n->attr[a].strs[k]);
            free(n->attr[a].strs);
            free(n->attr[a].dbl);
        }
        free(n->attr);
        free(n->aux);
    }
    free(m->nodes);
    free(m->inputs);
    free(m->outputs);
    for (int i = 0; i < m->n_meta; i++) {
        free(m->meta_keys[i]);
        free(m->meta_vals[i]);
    }
    free(m->meta_keys);
    free(m->meta_vals);
    for (int i = 0; i < m->n_channels; i++)
        free(m->channels[i]);
    free(m->channels);
    free(m->producer);
    free(m->weights);
    free(m->name);
    free(m);
}

static char *xstrdup(const char *s) {
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

/* The tensor a Constant node holds, or an error naming the node. Returns the TensorProto to
 * decode (value) or fills `scalar` for value_float(s)/value_int(s). */
typedef struct const_src {
    const Onnx__TensorProto *tp;
    wf_tensor small; /* value_float/value_floats/value_int/value_ints */
    const void *small_data;
} const_src;

static wf_status constant_source(const Onnx__NodeProto *np, const char *label, const_src *cs,
                                 wf_error *err) {
    memset(cs, 0, sizeof *cs);
    if (np->n_attribute != 1)
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: Constant needs exactly one value attribute, found %zu", label,
                            np->n_attribute);
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = a->name ? a->name : "";
    if (!strcmp(an, "value")) {
        if (!a->t)
            return wf_error_set(err, WF_ERR_PARSE, "%s: Constant 'value' holds no tensor", label);
        cs->tp = a->t;
        return WF_OK;
    }
    if (!strcmp(an, "value_float")) {
        cs->small.dtype = WF_DTYPE_FLOAT;
        cs->small.rank = 0;
        cs->small_data = &a->f;
    } else if (!strcmp(an, "value_floats")) {
        cs->small.dtype = WF_DTYPE_FLOAT;
        cs->small.rank = 1;
        cs->small.dims[0] = (int64_t)a->n_floats;
        cs->small_data = a->floats;
    } else if (!strcmp(an, "value_int")) {
        cs->small.dtype = WF_DTYPE_INT64;
        cs->small.rank = 0;
        cs->small_data = &a->i;
    } else if (!strcmp(an, "value_ints")) {
        cs->small.dtype = WF_DTYPE_INT64;
        cs->small.rank = 1;
        cs->small.dims[0] = (int64_t)a->n_ints;
        cs->small_data = a->ints;
    } else {
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "%s: Constant attribute '%s' is not supported (supported: value, "
                            "value_float, value_floats, value_int, value_ints)",
                            label, an);
    }
    return WF_OK;
}

static void label_of(const Onnx__NodeProto *np, size_t idx, char *buf, size_t size) {
    snprintf(buf, size, "node '%s' (#%zu, %s)", np->name && *np->name ? np->name : "", idx,
             np->op_type ? np->op_type : "?");
}

/* Attribute lists of tree ensembles hold one entry per tree node: allow a few million. */
#define WF_ATTR_MAX_LEN (1 << 24)

/* STRINGS attributes and float/double TENSOR attributes (the ai.onnx.ml ops' nodes_modes,
 * classlabels_strings, *_as_tensor); other tensor attributes are kept unread as before. */
static wf_status convert_ml_attr(const Onnx__AttributeProto *a, const char *label, wf_attr *d,
                                 wf_error *err) {
    if (a->n_strings) {
        if (a->n_strings > WF_ATTR_MAX_LEN)
            return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: attribute '%s' has %zu strings",
                                label, d->name, a->n_strings);
        d->strs = calloc(a->n_strings, sizeof *d->strs);
        if (!d->strs)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        d->n_strs = (int)a->n_strings;
        for (size_t k = 0; k < a->n_strings; k++) {
            d->strs[k] = malloc(a->strings[k].len + 1);
            if (!d->strs[k])
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            if (a->strings[k].len)
                memcpy(d->strs[k], a->strings[k].data, a->strings[k].len);
            d->strs[k][a->strings[k].len] = 0;
        }
    }
    const Onnx__TensorProto *tp = a->t;
    if (!tp || !tp->has_data_type || (tp->data_type != 1 && tp->data_type != 11))
        return WF_OK;
    size_t es = tp->data_type == 1 ? 4 : 8;
    size_t n = tp->has_raw_data ? tp->raw_data.len / es
                                : (tp->data_type == 1 ? tp->n_float_data : tp->n_double_data);
    if (tp->has_raw_data && tp->raw_data.len % es)
        return wf_error_set(err, WF_ERR_PARSE, "%s: tensor attribute '%s' has %zu raw bytes", label,
                            d->name, tp->raw_data.len);
    if (n > WF_ATTR_MAX_LEN)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: tensor attribute '%s' has %zu values",
                            label, d->name, n);
    d->dbl = malloc((n + 1) * sizeof *d->dbl);
    if (!d->dbl)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    d->n_dbl = (int)n;
    for (size_t k = 0; k < n; k++) {
        if (tp->has_raw_data && es == 4) {
            float f;
            memcpy(&f, tp->raw_data.data + k * 4, 4);
            d->dbl[k] = f;
        } else if (tp->has_raw_data) {
            memcpy(&d->dbl[k], tp->raw_data.data + k * 8, 8);
        } else {
            d->dbl[k] = es == 4 ? tp->float_data[k] : tp->double_data[k];
        }
    }
    return WF_OK;
}

static wf_status convert_attrs(const Onnx__NodeProto *np, const char *label, wf_node *n,
                               wf_error *err) {
    n->n_attr = (int)np->n_attribute;
    if (!n->n_attr)
        return WF_OK;
    n->attr = calloc(np->n_attribute, sizeof *n->attr);
    if (!n->attr)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        wf_attr *d = &n->attr[i];
        d->name = xstrdup(a->name);
        if (!d->name)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        if (a->has_g || a->n_graphs)
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "%s: attribute '%s' holds a subgraph; control flow (If, Loop, "
                                "Scan) is not supported",
                                label, d->name);
        if (a->ref_attr_name && *a->ref_attr_name)
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "%s: attribute '%s' refers to a function attribute; local "
                                "functions are not supported",
                                label, d->name);
        int type = a->has_type ? (int)a->type : 0;
        if (!type) { /* very old files: infer from the fields present */
            if (a->n_ints)
                type = WF_ATTR_INTS;
            else if (a->n_floats)
                type = WF_ATTR_FLOATS;
            else if (a->has_s)
                type = WF_ATTR_STRING;
            else if (a->t)
                type = WF_ATTR_TENSOR;
            else if (a->has_f)
                type = WF_ATTR_FLOAT;
            else
                type = WF_ATTR_INT;
        }
        d->type = (wf_attr_type)type;
        d->f = a->f;
        d->i = a->i;
        if (a->has_s) {
            d->s = malloc(a->s.len + 1);
            if (!d->s)
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            if (a->s.len)
                memcpy(d->s, a->s.data, a->s.len);
            d->s[a->s.len] = 0;
        }
        if (type == WF_ATTR_INTS && a->n_ints) {
            if (a->n_ints > WF_ATTR_MAX_LEN)
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: attribute '%s' has %zu ints (at most %d supported)", label,
                                    d->name, a->n_ints, WF_ATTR_MAX_LEN);
            d->ints = malloc(a->n_ints * sizeof *d->ints);
            if (!d->ints)
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            memcpy(d->ints, a->ints, a->n_ints * sizeof *d->ints);
            d->n = (int)a->n_ints;
        }
        if (type == WF_ATTR_FLOATS && a->n_floats) {
            if (a->n_floats > WF_ATTR_MAX_LEN)
                return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                    "%s: attribute '%s' has %zu floats (at most %d supported)",
                                    label, d->name, a->n_floats, WF_ATTR_MAX_LEN);
            d->floats = malloc(a->n_floats * sizeof *d->floats);
            if (!d->floats)
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            memcpy(d->floats, a->floats, a->n_floats * sizeof *d->floats);
            d->n = (int)a->n_floats;
        }
        if (type == WF_ATTR_STRINGS || type == WF_ATTR_TENSOR) {
            wf_status st = convert_ml_attr(a, label, d, err);
            if (st)
                return st;
        }
        if (type == 8 && a->n_strings) { /* STRINGS (RNN activations): kept joined by ',' */
            size_t tot = 1;
            for (size_t k = 0; k < a->n_strings; k++)
                tot += a->strings[k].len + 1;
            if (tot > 4096) /* long lists (tree node modes) are read from strs only */
                goto strings_done;
            free(d->s);
            d->s = malloc(tot);
            if (!d->s)
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            size_t o = 0;
            for (size_t k = 0; k < a->n_strings; k++) {
                if (k)
                    d->s[o++] = ',';
                if (a->strings[k].len)
                    memcpy(d->s + o, a->strings[k].data, a->strings[k].len);
                o += a->strings[k].len;
            }
            d->s[o] = 0;
            d->n = (int)a->n_strings;
        }
    strings_done:
        if (type == WF_ATTR_TENSOR && a->t) {
            /* one-element tensors (ConstantOfShape's value): kept as tdtype and tval */
            wf_tensor tt;
            size_t nb = 0;
            unsigned char buf[8] = {0};
            wf_status ts = tensor_decode(a->t, label, &tt, NULL, &nb, err);
            if (ts)
                return ts;
            if (nb <= sizeof buf && wf_numel(&tt) == 1) {
                tensor_decode(a->t, label, &tt, buf, &nb, err);
                d->tdtype = tt.dtype;
                d->has_tval = 1;
                if (tt.dtype == WF_DTYPE_FLOAT) {
                    float f;
                    memcpy(&f, buf, 4);
                    d->tval = f;
                } else if (tt.dtype == WF_DTYPE_INT64) {
                    int64_t q;
                    memcpy(&q, buf, 8);
                    d->tval = (double)q;
                } else if (tt.dtype == WF_DTYPE_INT32) {
                    int32_t q;
                    memcpy(&q, buf, 4);
                    d->tval = q;
                } else if (tt.dtype == WF_DTYPE_INT8) {
                    d->tval = (int8_t)buf[0];
                } else {
                    d->tval = buf[0];
                }
            }
        }
        if (type != WF_ATTR_FLOAT && type != WF_ATTR_INT && type != WF_ATTR_STRING &&
            type != WF_ATTR_INTS && type != WF_ATTR_FLOATS && type != WF_ATTR_TENSOR &&
            type != WF_ATTR_STRINGS)
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "%s: attribute '%s' has type %d, which no supported op uses", label,
                                d->name, type);
    }
    return WF_OK;
}

/* Declared tensor type of a graph input/output. */
static wf_status read_value_info(const Onnx__ValueInfoProto *vi, const char *role, wf_value *v,
                                 wf_error *err) {
    const char *nm = vi->name ? vi->name : "";
    v->decl_rank = -1;
    if (!vi->type)
        return WF_OK; /* untyped: the engine learns it at run time */
    /* ZipMap's output (a sequence of maps): the engine keeps the probability tensor behind it. */
    if (!strcmp(role, "output") && (vi->type->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE ||
                                    vi->type->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE))
        return WF_OK;
    if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        const char *k = vi->type->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE ? "sequence"
                        : vi->type->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE    ? "map"
                        : vi->type->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
                            ? "sparse tensor"
                        : vi->type->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? "optional"
                                                                                        : "unknown";
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "graph %s '%s' is a %s; only dense tensors are supported", role, nm, k);
    }
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    /* a classifier's string label output: computed as the class index (ops/ops_ml.c) */
    int string_label = !strcmp(role, "output") && tt && tt->has_elem_type && tt->elem_type == 8;
    if (tt && tt->has_elem_type && !string_label) {
        if (!dtype_supported(tt->elem_type))
            return wf_error_set(
                err, WF_ERR_UNSUPPORTED,
                "graph %s '%s' has dtype %s (%d); supported dtypes: " SUPPORTED_DTYPES, role, nm,
                wf_dtype_name(tt->elem_type), tt->elem_type);
        v->dtype = (wf_dtype)tt->elem_type;
    }
    if (tt && tt->shape) {
        if (tt->shape->n_dim > WF_MAX_RANK)
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "graph %s '%s' has rank %zu; at most %d is supported", role, nm,
                                tt->shape->n_dim, WF_MAX_RANK);
        v->decl_rank = (int)tt->shape->n_dim;
        for (size_t i = 0; i < tt->shape->n_dim; i++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
            if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
                if (d->dim_value < 0 || d->dim_value > WF_MAX_NUMEL)
                    return wf_error_set(err, WF_ERR_PARSE,
                                        "graph %s '%s' has an absurd dimension %lld at axis %zu",
                                        role, nm, (long long)d->dim_value, i);
                v->decl_dims[i] = d->dim_value;
            } else {
                v->decl_dims[i] = -1;
            }
        }
    }
    return WF_OK;
}

/* Kahn's algorithm over nodes; on a cycle, names a node that lies on it. order receives node
 * indices (file order) in topological order. */
static wf_status topo_sort(wf_model *m, wf_node *nodes, int n_nodes, int *order, wf_error *err) {
    int *indeg = calloc((size_t)n_nodes + 1, sizeof *indeg);
    int *queue = malloc(((size_t)n_nodes + 1) * sizeof *queue);
    /* consumers as CSR: for each value, the nodes reading it */
    int *cnt = calloc((size_t)m->n_vals + 1, sizeof *cnt);
    wf_status s = WF_OK;
    if (!indeg || !queue || !cnt) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t total = 0;
    for (int i = 0; i < n_nodes; i++)
        for (int k = 0; k < nodes[i].n_in; k++) {
            int v = nodes[i].in[k];
            if (v >= 0 && m->vals[v].kind == WF_VAL_NODE) {
                indeg[i]++;
                cnt[v]++;
                total++;
            }
        }
    int *start = calloc((size_t)m->n_vals + 1, sizeof *start);
    int *adj = malloc((total + 1) * sizeof *adj);
    if (!start || !adj) {
        free(start);
        free(adj);
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int v = 0; v < m->n_vals; v++)
        start[v + 1] = start[v] + cnt[v];
    memset(cnt, 0, (size_t)m->n_vals * sizeof *cnt);
    for (int i = 0; i < n_nodes; i++)
        for (int k = 0; k < nodes[i].n_in; k++) {
            int v = nodes[i].in[k];
            if (v >= 0 && m->vals[v].kind == WF_VAL_NODE)
                adj[start[v] + cnt[v]++] = i;
        }
    int head = 0, tail = 0;
    for (int i = 0; i < n_nodes; i++)
        if (!indeg[i])
            queue[tail++] = i;
    int done_n = 0;
    while (head < tail) {
        int i = queue[head++];
        order[done_n++] = i;
        for (int k = 0; k < nodes[i].n_out; k++) {
            int v = nodes[i].out[k];
            if (v < 0)
                continue;
            for (int e = start[v]; e < start[v + 1]; e++)
                if (--indeg[adj[e]] == 0)
                    queue[tail++] = adj[e];
        }
    }
    if (done_n < n_nodes) {
        /* Walk upstream from a stuck node through stuck producers: after n steps we are on the
         * cycle. */
        int cur = -1;
        for (int i = 0; i < n_nodes; i++)
            if (indeg[i]) {
                cur = i;
                break;
            }
        for (int step = 0; step < n_nodes && cur >= 0; step++) {
            int next = -1;
            for (int k = 0; k < nodes[cur].n_in && next < 0; k++) {
                int v = nodes[cur].in[k];
                if (v >= 0 && m->vals[v].kind == WF_VAL_NODE) {
                    int p = m->vals[v].producer; /* file index before renumbering */
                    if (indeg[p])
                        next = p;
                }
            }
            if (next < 0)
                break;
            cur = next;
        }
        char lb[300];
        s = wf_error_set(err, WF_ERR_PARSE,
                         "the graph has a cycle through %s (%d of %d nodes cannot be ordered)",
                         wf_node_label(&nodes[cur], lb, sizeof lb), n_nodes - done_n, n_nodes);
    }
    free(start);
    free(adj);
done:
    free(indeg);
    free(queue);
    free(cnt);
    return s;
}

static void parse_channels(wf_model *m, const char *s) {
    /* "a,b,c" or ["a","b","c"] */
    int n = 0;
    char **names = NULL;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '[' || *p == '"' || *p == '\'' || *p == ',' || *p == '\n' ||
               *p == '\t')
            p++;
        if (!*p || *p == ']')
            break;
        const char *q = p;
        while (*q && *q != ',' && *q != '"' && *q != '\'' && *q != ']')
            q++;
        const char *e = q;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        char **nn = realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!nn)
            break;
        names = nn;
        names[n] = malloc((size_t)(e - p) + 1);
        if (!names[n])
            break;
        memcpy(names[n], p, (size_t)(e - p));
        names[n][e - p] = 0;
        n++;
        p = q;
    }
    m->channels = names;
    m->n_channels = n;
}

/* Appends "; unsupported in this file: A (3 nodes, first 'x' #4), B (...)" to err->msg. */
static void append_unsupported(const Onnx__GraphProto *g, wf_error *err) {
    if (!err)
        return;
    size_t l = strlen(err->msg);
    int listed = 0;
    l += (size_t)snprintf(err->msg + l, sizeof err->msg - l, "; unsupported in this file:");
    for (size_t i = 0; i < g->n_node && l < sizeof err->msg; i++) {
        const Onnx__NodeProto *np = g->node[i];
        const char *dom = np->domain ? np->domain : "", *op = np->op_type ? np->op_type : "";
        int ok =
            ((!*dom || !strcmp(dom, "ai.onnx")) && (!strcmp(op, "Constant") || wf_op_find(op))) ||
            (!strcmp(dom, "com.microsoft") && wf_op_find_ms(op));
        int seen = 0, count = 0;
        for (size_t j = 0; !ok && j < g->n_node; j++) {
            const Onnx__NodeProto *q = g->node[j];
            int same = !strcmp(q->op_type ? q->op_type : "", op) &&
                       !strcmp(q->domain ? q->domain : "", dom);
            if (same && j < i)
                seen = 1;
            count += same;
        }
        if (ok || seen)
            continue;
        l += (size_t)snprintf(err->msg + l, sizeof err->msg - l,
                              "%s %s%s%s (%d node%s, first '%s' #%zu)", listed++ ? "," : "", dom,
                              *dom ? "::" : "", op, count, count == 1 ? "" : "s",
                              np->name ? np->name : "", i);
    }
}

static wf_status load_proto(wf_model *m, const Onnx__ModelProto *mp, wf_error *err) {
    const Onnx__GraphProto *g = mp->graph;
    if (!g)
        return wf_error_set(err, WF_ERR_PARSE,
                            "no graph in the file: not an ONNX model (or a truncated one)");
    m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    m->producer = xstrdup(mp->producer_name);
    if (!m->producer)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (mp->n_functions)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "the model defines %zu local function(s); local functions are not "
                            "supported",
                            mp->n_functions);
    m->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        const char *d = o->domain ? o->domain : "";
        if (!*d || !strcmp(d, "ai.onnx"))
            m->opset = (int)(o->has_version ? o->version : 0);
    }
    if (m->opset < 0) {
        if (mp->n_opset_import)
            return wf_error_set(err, WF_ERR_UNSUPPORTED,
                                "no ai.onnx opset import (the model imports only domain '%s'); "
                                "supported: ai.onnx opset %d..%d",
                                mp->opset_import[0]->domain ? mp->opset_import[0]->domain : "",
                                WF_OPSET_MIN, WF_OPSET_MAX);
        return wf_error_set(err, WF_ERR_PARSE, "the model has no opset_import");
    }
    if (m->opset < WF_OPSET_MIN || m->opset > WF_OPSET_MAX)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "ai.onnx opset %d is not supported (supported: %d..%d)", m->opset,
                            WF_OPSET_MIN, WF_OPSET_MAX);
    if (g->n_sparse_initializer)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "the graph has %zu sparse initializer(s); sparse tensors are not "
                            "supported",
                            g->n_sparse_initializer);
    /* metadata */
    if (mp->n_metadata_props) {
        m->meta_keys = calloc(mp->n_metadata_props, sizeof *m->meta_keys);
        m->meta_vals = calloc(mp->n_metadata_props, sizeof *m->meta_vals);
        if (!m->meta_keys || !m->meta_vals)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < mp->n_metadata_props; i++) {
            m->meta_keys[i] = xstrdup(mp->metadata_props[i]->key);
            m->meta_vals[i] = xstrdup(mp->metadata_props[i]->value);
            m->n_meta++;
            if (!m->meta_keys[i] || !m->meta_vals[i])
                return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        const char *ch = wf_model_metadata(m, "channels");
        if (ch)
            parse_channels(m, ch);
    }

    /* Count values: initializers + graph inputs + node outputs (upper bound). */
    size_t n_nodes = g->n_node;
    size_t maxv = g->n_initializer + g->n_input;
    for (size_t i = 0; i < n_nodes; i++)
        maxv += g->node[i]->n_output;
    if (maxv > 1000000 || n_nodes > 1000000)
        return wf_error_set(err, WF_ERR_UNSUPPORTED, "the graph is too large (%zu nodes)", n_nodes);
    m->vals = calloc(maxv + 1, sizeof *m->vals);
    m->cap_vals = m->vals ? (int)maxv + 1 : 0;
    m->nodes = calloc(n_nodes + 1, sizeof *m->nodes);
    wf_node *fnodes = calloc(n_nodes + 1, sizeof *fnodes); /* file order */
    int *order = malloc((n_nodes + 1) * sizeof *order);
    const_src *csrc = calloc(n_nodes + 1, sizeof *csrc);
    name_map map = {0};
    wf_status s = WF_OK;
    if (!m->vals || !m->nodes || !fnodes || !order || !csrc || !map_init(&map, maxv)) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }

    /* Pass 1: sizes of initializers and Constant node tensors; one weight block. */
    size_t wbytes = 0;
    for (size_t i = 0; i < g->n_initializer; i++) {
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'",
                 g->initializer[i]->name ? g->initializer[i]->name : "");
        wf_tensor t;
        size_t nb = 0;
        s = tensor_decode(g->initializer[i], what, &t, NULL, &nb, err);
        if (s)
            goto fail;
        wbytes += align64(nb);
    }
    for (size_t i = 0; i < n_nodes; i++) {
        const Onnx__NodeProto *np = g->node[i];
        if (!np->op_type || strcmp(np->op_type, "Constant") ||
            (np->domain && *np->domain && strcmp(np->domain, "ai.onnx")))
            continue;
        char lb[300];
        label_of(np, i, lb, sizeof lb);
        s = constant_source(np, lb, &csrc[i], err);
        if (s)
            goto fail;
        if (csrc[i].tp) {
            wf_tensor t;
            size_t nb = 0;
            s = tensor_decode(csrc[i].tp, lb, &t, NULL, &nb, err);
            if (s)
                goto fail;
            wbytes += align64(nb);
        } else {
            wbytes += align64((size_t)wf_numel(&csrc[i].small) * 8);
        }
    }
    m->weights = calloc(1, wbytes ? wbytes : 1);
    if (!m->weights) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory for %zu bytes of weights", wbytes);
        goto fail;
    }
    m->weights_size = wbytes;
    char *wp = m->weights;

    /* Initializers become constant values. */
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *tp = g->initializer[i];
        wf_value *v = &m->vals[m->n_vals];
        v->name = xstrdup(tp->name);
        if (!v->name) {
            s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (!*v->name) {
            s = wf_error_set(err, WF_ERR_PARSE, "initializer #%zu has no name", i);
            goto fail;
        }
        if (map_get(&map, v->name) >= 0) {
            s = wf_error_set(err, WF_ERR_PARSE, "initializer '%s' is defined twice", v->name);
            goto fail;
        }
        size_t nb = 0;
        s = tensor_decode(tp, v->name, &v->c, wp, &nb, err);
        if (s)
            goto fail;
        v->c.data = wp;
        wp += align64(nb);
        v->dtype = v->c.dtype;
        v->kind = WF_VAL_CONST;
        v->producer = -1;
        v->input_index = -1;
        map_put(&map, v->name, m->n_vals++);
    }
    /* Graph inputs that are not initializers. */
    m->inputs = calloc(g->n_input + 1, sizeof *m->inputs);
    if (!m->inputs) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < g->n_input; i++) {
        const char *nm = g->input[i]->name ? g->input[i]->name : "";
        int prev = map_get(&map, nm);
        if (prev >= 0 && m->vals[prev].kind == WF_VAL_CONST)
            continue; /* IR < 4: initializers are listed as inputs too */
        if (prev >= 0) {
            s = wf_error_set(err, WF_ERR_PARSE, "graph input '%s' is listed twice", nm);
            goto fail;
        }
        wf_value *v = &m->vals[m->n_vals];
        v->name = xstrdup(nm);
        if (!v->name) {
            s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        s = read_value_info(g->input[i], "input", v, err);
        if (s)
            goto fail;
        if (!v->dtype) {
            s = wf_error_set(err, WF_ERR_UNSUPPORTED, "graph input '%s' declares no dtype", nm);
            goto fail;
        }
        v->kind = WF_VAL_INPUT;
        v->producer = -1;
        v->input_index = m->n_inputs;
        m->inputs[m->n_inputs++] = m->n_vals;
        map_put(&map, v->name, m->n_vals++);
    }

    /* Nodes: op lookup, attributes, outputs. Constant nodes become constant values. */
    int n_real = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        const Onnx__NodeProto *np = g->node[i];
        char lb[300];
        label_of(np, i, lb, sizeof lb);
        const char *dom = np->domain ? np->domain : "";
        int ml = !strcmp(dom, "ai.onnx.ml");
        int ms = !strcmp(dom, "com.microsoft");
        if (ms && !wf_op_find_ms(np->op_type ? np->op_type : "")) {
            s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                             "%s: op '%s' of domain 'com.microsoft' is not supported (of that "
                             "domain only the quantized ops " WF_OPS_MS_LIST ")",
                             lb, np->op_type ? np->op_type : "");
            append_unsupported(g, err);
            goto fail;
        }
        if (*dom && strcmp(dom, "ai.onnx") && !ml && !ms) {
            s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                             "%s: domain '%s' is not supported (only ai.onnx, ai.onnx.ml and the "
                             "com.microsoft quantized ops)",
                             lb, dom);
            append_unsupported(g, err);
            goto fail;
        }
        const char *op = np->op_type ? np->op_type : "";
        if (!strcmp(op, "Constant")) {
            if (np->n_output != 1 || !np->output[0] || !*np->output[0]) {
                s = wf_error_set(err, WF_ERR_PARSE, "%s: Constant needs one output", lb);
                goto fail;
            }
            wf_value *v = &m->vals[m->n_vals];
            v->name = xstrdup(np->output[0]);
            if (!v->name) {
                s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                goto fail;
            }
            if (map_get(&map, v->name) >= 0) {
                s = wf_error_set(err, WF_ERR_PARSE, "%s: output '%s' is produced twice", lb,
                                 v->name);
                goto fail;
            }
            size_t nb = 0;
            if (csrc[i].tp) {
                s = tensor_decode(csrc[i].tp, lb, &v->c, wp, &nb, err);
                if (s)
                    goto fail;
            } else {
                v->c = csrc[i].small;
                nb = (size_t)wf_numel(&v->c) * wf_dtype_size(v->c.dtype);
                if (nb)
                    memcpy(wp, csrc[i].small_data, nb);
            }
            v->c.data = wp;
            wp += align64(nb);
            v->dtype = v->c.dtype;
            v->kind = WF_VAL_CONST;
            v->producer = -1;
            v->input_index = -1;
            map_put(&map, v->name, m->n_vals++);
            continue;
        }
        const wf_opdef *def = ml ? wf_op_find_ml(op) : ms ? wf_op_find_ms(op) : wf_op_find(op);
        if (!def && ml) {
            s = wf_error_set(err, WF_ERR_UNSUPPORTED,
                             "%s: ai.onnx.ml op '%s' is not supported (supported: %s)", lb, op,
                             wf_op_ml_supported_list());
            goto fail;
        }
        if (!def) {
            /* every unsupported op first (the list of supported ones is long) */
            s = wf_error_set(err, WF_ERR_UNSUPPORTED, "%s: op '%s' is not supported", lb, op);
            append_unsupported(g, err);
            size_t l = strlen(err->msg);
            snprintf(err->msg + l, sizeof err->msg - l, " (supported ops: %s)",
                     wf_op_supported_list());
            goto fail;
        }
        wf_node *n = &fnodes[n_real];
        n->onnx_index = (int)i;
        n->op = def;
        n->opset = m->opset;
        n->name = xstrdup(np->name);
        n->n_in = (int)np->n_input;
        n->n_out = (int)np->n_output;
        n->in = malloc((np->n_input + 1) * sizeof *n->in);
        n->out = malloc((np->n_output + 1) * sizeof *n->out);
        n_real++;
        if (!n->name || !n->in || !n->out) {
            s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        s = convert_attrs(np, lb, n, err);
        if (s)
            goto fail;
        for (size_t k = 0; k < np->n_output; k++) {
            const char *on = np->output[k] ? np->output[k] : "";
            if (!*on) {
                n->out[k] = -1;
                continue;
            }
            if (map_get(&map, on) >= 0) {
                s = wf_error_set(err, WF_ERR_PARSE, "%s: output '%s' is produced twice", lb, on);
                goto fail;
            }
            wf_value *v = &m->vals[m->n_vals];
            v->name = xstrdup(on);
            if (!v->name) {
                s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                goto fail;
            }
            v->kind = WF_VAL_NODE;
            v->producer = n_real - 1;
            v->input_index = -1;
            v->decl_rank = -1;
            n->out[k] = m->n_vals;
            map_put(&map, v->name, m->n_vals++);
        }
    }
    /* Resolve node inputs now that every producer is known. */
    for (int j = 0; j < n_real; j++) {
        wf_node *n = &fnodes[j];
        const Onnx__NodeProto *np = g->node[n->onnx_index];
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = np->input[k] ? np->input[k] : "";
            if (!*in) {
                n->in[k] = -1;
                continue;
            }
            int v = map_get(&map, in);
            if (v < 0) {
                char lb[300];
                s = wf_error_set(err, WF_ERR_PARSE,
                                 "%s: input '%s' is not produced by any node, initializer or "
                                 "graph input",
                                 wf_node_label(n, lb, sizeof lb), in);
                goto fail;
            }
            n->in[k] = v;
        }
    }
    s = topo_sort(m, fnodes, n_real, order, err);
    if (s)
        goto fail;
    /* Renumber: nodes in topological order; fix producers. */
    for (int j = 0; j < n_real; j++) {
        m->nodes[j] = fnodes[order[j]];
        for (int k = 0; k < m->nodes[j].n_out; k++)
            if (m->nodes[j].out[k] >= 0)
                m->vals[m->nodes[j].out[k]].producer = j;
    }
    m->n_nodes = n_real;
    free(fnodes);
    fnodes = NULL;
    /* Load-time checks in order: dtypes flow from inputs to outputs. */
    for (int j = 0; j < m->n_nodes; j++) {
        wf_node *n = &m->nodes[j];
        /* GRU and LSTM may leave Y unnamed (only Y_h or Y_c wanted) */
        int opt_out = !strcmp(n->op->name, "GRU") || !strcmp(n->op->name, "LSTM");
        if (n->n_out < 1 || (n->out[0] < 0 && !opt_out)) {
            char lb[300];
            s = wf_error_set(err, WF_ERR_PARSE, "%s: the first output has no name",
                             wf_node_label(n, lb, sizeof lb));
            goto fail;
        }
        s = n->op->check(n, m->vals, err);
        if (s)
            goto fail;
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v >= 0 && !dtype_supported(m->vals[v].dtype)) {
                char lb[300];
                s = wf_error_set(
                    err, WF_ERR_UNSUPPORTED,
                    "%s: output '%s' would have dtype %s; supported dtypes: " SUPPORTED_DTYPES,
                    wf_node_label(n, lb, sizeof lb), m->vals[v].name,
                    wf_dtype_name(m->vals[v].dtype));
                goto fail;
            }
        }
        if (!strncmp(n->op->name, "Quantize", 8) || !strncmp(n->op->name, "Dequantize", 10) ||
            !strncmp(n->op->name, "QLinear", 7) || !strcmp(n->op->name, "DynamicQuantizeLinear") ||
            !strcmp(n->op->name, "QGemm") || strstr(n->op->name, "Integer"))
            m->quantized = 1;
    }
    /* Graph outputs. */
    m->outputs = calloc(g->n_output + 1, sizeof *m->outputs);
    if (!m->outputs) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!g->n_output) {
        s = wf_error_set(err, WF_ERR_PARSE, "the graph declares no output");
        goto fail;
    }
    for (size_t i = 0; i < g->n_output; i++) {
        const char *nm = g->output[i]->name ? g->output[i]->name : "";
        int v = map_get(&map, nm);
        if (v < 0) {
            s = wf_error_set(err, WF_ERR_PARSE,
                             "graph output '%s' is not produced by any node, initializer or "
                             "input",
                             nm);
            goto fail;
        }
        wf_value tmp = {0};
        s = read_value_info(g->output[i], "output", &tmp, err);
        if (s)
            goto fail;
        if (tmp.dtype && m->vals[v].dtype && tmp.dtype != m->vals[v].dtype) {
            s = wf_error_set(err, WF_ERR_PARSE,
                             "graph output '%s' is declared %s but computed as %s", nm,
                             wf_dtype_name(tmp.dtype), wf_dtype_name(m->vals[v].dtype));
            goto fail;
        }
        m->vals[v].decl_rank = tmp.decl_rank;
        memcpy(m->vals[v].decl_dims, tmp.decl_dims, sizeof tmp.decl_dims);
        m->outputs[m->n_outputs++] = v;
    }
    if (map.failed)
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory (value names)");
fail:
    if (fnodes) {
        /* nodes not yet moved into m->nodes: free them here (m->n_nodes is still 0) */
        for (size_t j = 0; j < n_nodes; j++) {
            wf_node *n = &fnodes[j];
            free(n->name);
            free(n->in);
            free(n->out);
            for (int a = 0; a < n->n_attr; a++) {
                free(n->attr[a].name);
                free(n->attr[a].s);
                free(n->attr[a].ints);
                free(n->attr[a].floats);
                for (int k = 0; k < n->attr[a].n_strs; k++)
                    free(n->attr[a].strs[k]);
                free(n->attr[a].strs);
                free(n->attr[a].dbl);
            }
            free(n->attr);
            free(n->aux);
        }
        free(fnodes);
    }
    free(order);
    free(csrc);
    map_free(&map);
    return s;
}

wf_status wf_model_load_mem(const void *data, size_t len, const char *name, wf_model **out,
                            wf_error *err) {
    *out = NULL;
    if (!name)
        name = "model";
    if (!data || len == 0)
        return wf_error_set(err, WF_ERR_PARSE, "%s: empty file, not an ONNX model", name);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp)
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: not a valid ONNX model (protobuf parse failed: the file is "
                            "truncated or not ONNX)",
                            name);
    wf_model *m = calloc(1, sizeof *m);
    wf_status s;
    if (!m) {
        s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    } else {
        m->name = xstrdup(name);
        s = m->name ? load_proto(m, mp, err) : wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (s) {
        wf_error_prefix(err, "%s: ", name);
        wf_model_free(m);
        return s;
    }
    *out = m;
    return WF_OK;
}

wf_status wf_model_load(const char *path, wf_model **out, wf_error *err) {
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    wf_status s = wf_file_read_all(path, &data, &len, err);
    if (s)
        return s;
    s = wf_model_load_mem(data, len, path, out, err);
    free(data);
    return s;
}
