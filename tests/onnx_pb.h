/*
 * A tiny protobuf writer for ONNX models built inside tests (field numbers of onnx.proto), so that
 * each test model states exactly what it holds. Header-only, for tests.
 */
#ifndef WF_TESTS_ONNX_PB_H
#define WF_TESTS_ONNX_PB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb {
    uint8_t *p;
    size_t len, cap;
} pb;

static inline void put(pb *b, const void *d, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static inline void varint(pb *b, uint64_t v) {
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        put(b, &c, 1);
    } while (v);
}
static inline void f_varint(pb *b, int field, int64_t v) {
    varint(b, (uint64_t)field << 3);
    varint(b, (uint64_t)v);
}
static inline void f_bytes(pb *b, int field, const void *d, size_t n) {
    varint(b, ((uint64_t)field << 3) | 2);
    varint(b, n);
    put(b, d, n);
}
static inline void f_str(pb *b, int field, const char *s) {
    f_bytes(b, field, s, strlen(s));
}
static inline void f_msg(pb *b, int field, pb *m) {
    f_bytes(b, field, m->p, m->len);
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* ValueInfoProto: name, tensor type elem_type with dims (dims[i] < 0 -> dim_param "N"). */
static inline void value_info(pb *g, int field, const char *name, int elem, int rank,
                              const int64_t *dims) {
    pb shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int i = 0; i < rank; i++) {
        pb d = {0};
        if (dims[i] < 0)
            f_str(&d, 2, "N");
        else
            f_varint(&d, 1, dims[i]);
        f_msg(&shape, 1, &d);
    }
    f_varint(&tt, 1, elem);
    f_msg(&tt, 2, &shape);
    f_msg(&type, 1, &tt);
    f_str(&vi, 1, name);
    f_msg(&vi, 2, &type);
    f_msg(g, field, &vi);
}

static inline void node(pb *g, const char *op, const char *in, const char *out,
                        const char *domain) {
    pb n = {0};
    if (in)
        f_str(&n, 1, in);
    f_str(&n, 2, out);
    f_str(&n, 3, op);
    f_str(&n, 4, op);
    if (domain)
        f_str(&n, 7, domain);
    f_msg(g, 1, &n);
}

static inline void model_wrap(pb *out, pb *graph, int opset) {
    pb os = {0};
    f_varint(out, 1, 8);
    f_str(&os, 1, "");
    f_varint(&os, 2, opset);
    f_msg(out, 8, &os);
    f_msg(out, 7, graph);
}

/* A graph x[N,4] -> op -> y. */
static inline void simple(pb *m, const char *op, int elem, const char *domain) {
    pb g = {0};
    int64_t d[2] = {-1, 4};
    node(&g, op, "x", "y", domain);
    f_str(&g, 2, "g");
    value_info(&g, 11, "x", elem, 2, d);
    value_info(&g, 12, "y", elem, 2, d);
    model_wrap(m, &g, 13);
}

/* TensorProto float initializer (raw_data) named name with dims. */
static inline void pb_init_f32(pb *g, const char *name, int rank, const int64_t *dims,
                               const float *v) {
    pb t = {0};
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        f_varint(&t, 1, dims[i]);
        n *= dims[i];
    }
    f_varint(&t, 2, 1);
    f_str(&t, 8, name);
    f_bytes(&t, 9, v, (size_t)n * sizeof(float));
    f_msg(g, 5, &t);
}

/* TensorProto of a 1-byte or int64 dtype from raw bytes. */
static inline void pb_init_raw(pb *g, const char *name, int dtype, int rank, const int64_t *dims,
                               const void *raw, size_t bytes) {
    pb t = {0};
    for (int i = 0; i < rank; i++)
        f_varint(&t, 1, dims[i]);
    f_varint(&t, 2, dtype);
    f_str(&t, 8, name);
    f_bytes(&t, 9, raw, bytes);
    f_msg(g, 5, &t);
}

/* NodeProto with up to 3 inputs ("" for omitted) and one output, optional int attribute. */
static inline void pb_node3(pb *g, const char *op, const char *i0, const char *i1, const char *i2,
                            const char *out, const char *attr, int64_t attr_val) {
    pb n = {0};
    const char *ins[3] = {i0, i1, i2};
    for (int k = 0; k < 3; k++)
        if (ins[k])
            f_str(&n, 1, ins[k]);
    f_str(&n, 2, out);
    f_str(&n, 4, op);
    if (attr) {
        pb a = {0};
        f_str(&a, 1, attr);
        f_varint(&a, 3, attr_val);
        f_varint(&a, 20, 2);
        f_msg(&n, 5, &a);
    }
    f_msg(g, 1, &n);
}

#endif
