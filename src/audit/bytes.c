/*
 * The little-endian byte records of the audit's files (shard.bin and the drift accumulators it
 * carries): a growing writer and a bounds-checked reader (see audit_impl.h: wf_bw, wf_br).
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"

void wf_bw_put(wf_bw *b, const void *x, size_t n) {
    if (b->failed)
        return;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 1 << 16;
        while (nc < b->n + n)
            nc *= 2;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}

void wf_bw_u64(wf_bw *b, uint64_t v) {
    unsigned char c[8];
    for (int i = 0; i < 8; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    wf_bw_put(b, c, 8);
}

int wf_br_get(wf_br *b, void *x, size_t n) {
    if (b->bad || n > b->n - b->at) {
        b->bad = 1;
        memset(x, 0, n);
        return -1;
    }
    memcpy(x, b->p + b->at, n);
    b->at += n;
    return 0;
}

uint64_t wf_br_u64(wf_br *b) {
    unsigned char c[8];
    if (wf_br_get(b, c, 8))
        return 0;
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | c[i];
    return u;
}
