/*
 * The one hash map of whyflag: byte-string keys (copied into the map) to int64 values, open
 * addressing with linear probing on FNV-1a, grown at half load. Used for turbine tables (data,
 * audit); values are usually indices into the caller's own array.
 */
#ifndef WF_CORE_STRMAP_H
#define WF_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/status.h"

typedef struct wf_strmap {
    int64_t n, cap; /* entries, slots (a power of two, or 0 before the first put) */
    int64_t *slot;  /* (cap) entry index, -1 empty */
    int64_t *off;   /* (n) key offset into pool */
    int64_t *val;   /* (n) */
    uint32_t *len;  /* (n) key length */
    char *pool;     /* keys, each NUL-terminated */
    int64_t pool_n, pool_cap, ent_cap;
} wf_strmap;

/* FNV-1a 64 of n bytes. */
uint64_t wf_hash_bytes(const void *s, size_t n);

void wf_strmap_init(wf_strmap *m);
void wf_strmap_free(wf_strmap *m);
/* The value of key (n bytes), or -1 when absent. */
int64_t wf_strmap_get(const wf_strmap *m, const char *key, size_t n);
/* Insert or overwrite. */
wf_status wf_strmap_put(wf_strmap *m, const char *key, size_t n, int64_t value, wf_error *err);
/* Key of entry i (in insertion order), NUL-terminated. */
const char *wf_strmap_key(const wf_strmap *m, int64_t i);

#endif
