/*
 * String -> int64 hash map (see strmap.h).
 */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t wf_hash_bytes(const void *s, size_t n) {
    const unsigned char *p = s;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

void wf_strmap_init(wf_strmap *m) {
    memset(m, 0, sizeof *m);
}

void wf_strmap_free(wf_strmap *m) {
    if (!m)
        return;
    free(m->slot);
    free(m->off);
    free(m->val);
    free(m->len);
    free(m->pool);
    memset(m, 0, sizeof *m);
}

static int64_t find_slot(const wf_strmap *m, const char *key, size_t n) {
    uint64_t mask = (uint64_t)m->cap - 1;
    uint64_t h = wf_hash_bytes(key, n) & mask;
    while (m->slot[h] >= 0) {
        int64_t e = m->slot[h];
        if (m->len[e] == n && !memcmp(m->pool + m->off[e], key, n))
            return (int64_t)h;
        h = (h + 1) & mask;
    }
    return (int64_t)h;
}

int64_t wf_strmap_get(const wf_strmap *m, const char *key, size_t n) {
    if (m->cap == 0)
        return -1;
    int64_t s = find_slot(m, key, n);
    return m->slot[s] >= 0 ? m->val[m->slot[s]] : -1;
}

static wf_status rehash(wf_strmap *m, int64_t cap, wf_error *err) {
    int64_t *ns = malloc(sizeof *ns * (size_t)cap);
    if (!ns)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (hash table of %lld entries)",
                            (long long)m->n);
    for (int64_t i = 0; i < cap; i++)
        ns[i] = -1;
    for (int64_t e = 0; e < m->n; e++) {
        uint64_t h = wf_hash_bytes(m->pool + m->off[e], m->len[e]) & (uint64_t)(cap - 1);
        while (ns[h] >= 0)
            h = (h + 1) & (uint64_t)(cap - 1);
        ns[h] = e;
    }
    free(m->slot);
    m->slot = ns;
    m->cap = cap;
    return WF_OK;
}

static wf_status grow(void **p, int64_t need, size_t elem, wf_error *err) {
    void *q = realloc(*p, (size_t)need * elem);
    if (!q)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (hash table)");
    *p = q;
    return WF_OK;
}

wf_status wf_strmap_put(wf_strmap *m, const char *key, size_t n, int64_t value, wf_error *err) {
    wf_status st;
    if ((m->n + 1) * 2 > m->cap && (st = rehash(m, m->cap ? m->cap * 2 : 64, err)) != WF_OK)
        return st;
    int64_t s = find_slot(m, key, n);
    if (m->slot[s] >= 0) {
        m->val[m->slot[s]] = value;
        return WF_OK;
    }
    if (m->n == m->ent_cap) {
        int64_t nc = m->ent_cap ? m->ent_cap * 2 : 64;
        if ((st = grow((void **)&m->off, nc, sizeof *m->off, err)) ||
            (st = grow((void **)&m->val, nc, sizeof *m->val, err)) ||
            (st = grow((void **)&m->len, nc, sizeof *m->len, err)))
            return st;
        m->ent_cap = nc;
    }
    if (m->pool_n + (int64_t)n + 1 > m->pool_cap) {
        int64_t nc = m->pool_cap ? m->pool_cap * 2 : 1024;
        while (nc < m->pool_n + (int64_t)n + 1)
            nc *= 2;
        if ((st = grow((void **)&m->pool, nc, 1, err)))
            return st;
        m->pool_cap = nc;
    }
    memcpy(m->pool + m->pool_n, key, n);
    m->pool[m->pool_n + (int64_t)n] = '\0';
    m->off[m->n] = m->pool_n;
    m->len[m->n] = (uint32_t)n;
    m->val[m->n] = value;
    m->pool_n += (int64_t)n + 1;
    m->slot[s] = m->n++;
    return WF_OK;
}

const char *wf_strmap_key(const wf_strmap *m, int64_t i) {
    return m->pool + m->off[i];
}
