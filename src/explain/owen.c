/*
 * Exact Owen values over a hierarchy of players (the coalition structure of shap's
 * PartitionExplainer), and hierarchies: flat, from a dendrogram.
 *
 * Definition. Over a tree whose leaves are the players, an order of the players is admissible
 * when the players of every node come consecutively. Choosing, at every internal node, an order
 * of its children uniformly at random gives the uniform distribution over admissible orders; the
 * Owen value of player i is its expected marginal contribution v(P u {i}) - v(P), P the players
 * before i. A flat tree (one root over every player) admits all orders: Shapley values. A binary
 * tree admits 2^(M-1) orders: the values PartitionExplainer converges to.
 *
 * Computation (the recursive form of the same expectation). Walking from the root to leaf i, at
 * a node with k children, the child holding i is preceded by a set Q of its k - 1 siblings with
 * probability |Q|! (k - 1 - |Q|)! / k!, and those siblings' players are all before i. So
 *   phi_i = sum over the paths of choices (Q_1, Q_2, ...) of prod_l w(Q_l)
 *           * (v(ctx u {i}) - v(ctx)),  ctx = union of the players of every Q_l.
 * A first pass collects the distinct coalitions ctx and ctx u {i}, one call of the value
 * function evaluates them, a second pass sums. Non-goals: sampling (this is exact; its cost is
 * the product over the path of 2^(k-1), checked against a cap before anything is evaluated).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/checks_impl.h"

#define OWEN_MAX_VISITS ((double)((int64_t)1 << 27))
#define OWEN_MAX_CHILDREN 30

void wf_hierarchy_deinit(wf_hierarchy *h) {
    if (!h)
        return;
    free(h->start);
    free(h->child);
    memset(h, 0, sizeof *h);
}

static wf_status hier_alloc(wf_hierarchy *h, int M, int n_internal, int n_child, wf_error *err) {
    memset(h, 0, sizeof *h);
    h->M = M;
    h->n_internal = n_internal;
    h->start = malloc(sizeof(int) * (size_t)(n_internal + 1));
    h->child = malloc(sizeof(int) * (size_t)(n_child > 0 ? n_child : 1));
    if (!h->start || !h->child) {
        wf_hierarchy_deinit(h);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for a hierarchy of %d players", M);
    }
    return WF_OK;
}

wf_status wf_hierarchy_flat(int M, wf_hierarchy *h, wf_error *err) {
    if (M < 1)
        return wf_error_set(err, WF_ERR_INVALID, "hierarchy: found %d players, expected >= 1", M);
    wf_status st = hier_alloc(h, M, 1, M, err);
    if (st)
        return st;
    h->start[0] = 0;
    h->start[1] = M;
    for (int i = 0; i < M; i++)
        h->child[i] = i;
    return WF_OK;
}

wf_status wf_hierarchy_from_merges(int C, const wf_dep_merge *merges, wf_hierarchy *h,
                                   wf_error *err) {
    if (C < 1)
        return wf_error_set(err, WF_ERR_INVALID, "hierarchy: found %d channels, expected >= 1", C);
    if (C == 1) /* one player: a root over it */
        return wf_hierarchy_flat(1, h, err);
    wf_status st = hier_alloc(h, C, C - 1, 2 * (C - 1), err);
    if (st)
        return st;
    for (int k = 0; k < C - 1; k++) {
        h->start[k] = 2 * k;
        h->child[2 * k] = merges[k].a;
        h->child[2 * k + 1] = merges[k].b;
    }
    h->start[C - 1] = 2 * (C - 1);
    st = wf_hierarchy_check(h, err);
    if (st)
        wf_hierarchy_deinit(h);
    return st;
}

wf_status wf_hierarchy_from_groups(const wf_dependence *d, wf_hierarchy *h, wf_error *err) {
    int C = d->C, G = d->n_groups;
    int multi = 0; /* groups of two or more channels get an internal node */
    for (int g = 0; g < G; g++) {
        int n = 0;
        for (int c = 0; c < C; c++)
            n += d->group_of[c] == g;
        multi += n > 1;
    }
    wf_status st = hier_alloc(h, C, multi + 1, C + G, err);
    if (st)
        return st;
    int *node = malloc(sizeof(int) * (size_t)(G > 0 ? G : 1)); /* node id of each group */
    if (!node) {
        wf_hierarchy_deinit(h);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    int k = 0, o = 0;
    for (int g = 0; g < G; g++) {
        int n = 0, first = -1;
        for (int c = 0; c < C; c++)
            if (d->group_of[c] == g) {
                n++;
                first = first < 0 ? c : first;
            }
        if (n == 1) {
            node[g] = first;
            continue;
        }
        h->start[k] = o;
        for (int c = 0; c < C; c++)
            if (d->group_of[c] == g)
                h->child[o++] = c;
        node[g] = C + k++;
    }
    h->start[k] = o; /* the root */
    for (int g = 0; g < G; g++)
        h->child[o++] = node[g];
    h->start[k + 1] = o;
    free(node);
    st = wf_hierarchy_check(h, err);
    if (st)
        wf_hierarchy_deinit(h);
    return st;
}

wf_status wf_hierarchy_check(const wf_hierarchy *h, wf_error *err) {
    int M = h->M, N = h->M + h->n_internal;
    if (M < 1 || M > 63 || h->n_internal < 1)
        return wf_error_set(err, WF_ERR_INVALID,
                            "hierarchy: %d players and %d internal nodes (expected 1..63 players "
                            "and at least a root)",
                            M, h->n_internal);
    int *parents = calloc((size_t)N, sizeof(int));
    if (!parents)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    wf_status st = WF_OK;
    for (int k = 0; k < h->n_internal && !st; k++) {
        int nc = h->start[k + 1] - h->start[k];
        if (nc < 1 || nc > OWEN_MAX_CHILDREN)
            st = wf_error_set(err, WF_ERR_INVALID,
                              "hierarchy: node %d has %d children (expected 1..%d)", M + k, nc,
                              OWEN_MAX_CHILDREN);
        for (int j = h->start[k]; j < h->start[k + 1] && !st; j++) {
            int c = h->child[j];
            /* children come before their parent, so the tree has no cycle */
            if (c < 0 || c >= M + k)
                st = wf_error_set(err, WF_ERR_INVALID,
                                  "hierarchy: node %d has child %d (expected 0..%d)", M + k, c,
                                  M + k - 1);
            else
                parents[c]++;
        }
    }
    for (int c = 0; c < N - 1 && !st; c++)
        if (parents[c] != 1)
            st = wf_error_set(err, WF_ERR_INVALID,
                              "hierarchy: node %d has %d parents (expected exactly 1)", c,
                              parents[c]);
    if (!st && parents[N - 1] != 0)
        st = wf_error_set(err, WF_ERR_INVALID, "hierarchy: the root (node %d) has a parent", N - 1);
    free(parents);
    return st;
}

/* ---- a set of distinct masks: open addressing, index of insertion ---- */

typedef struct mtab {
    int64_t n, cap;  /* cap a power of two */
    uint64_t *key;   /* (cap) mask + 1 (0 = empty) */
    int64_t *idx;    /* (cap) */
    uint64_t *masks; /* (n) in insertion order */
    int64_t mcap;
} mtab;

static void mtab_free(mtab *t) {
    free(t->key);
    free(t->idx);
    free(t->masks);
}

static uint64_t hash64(uint64_t x) { /* splitmix64 finalizer */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int mtab_grow(mtab *t) {
    int64_t nc = t->cap ? 2 * t->cap : 1024;
    uint64_t *k = calloc((size_t)nc, sizeof *k);
    int64_t *ix = malloc(sizeof *ix * (size_t)nc);
    if (!k || !ix) {
        free(k);
        free(ix);
        return -1;
    }
    for (int64_t i = 0; i < t->cap; i++) {
        if (!t->key[i])
            continue;
        uint64_t p = hash64(t->key[i]) & (uint64_t)(nc - 1);
        while (k[p])
            p = (p + 1) & (uint64_t)(nc - 1);
        k[p] = t->key[i];
        ix[p] = t->idx[i];
    }
    free(t->key);
    free(t->idx);
    t->key = k;
    t->idx = ix;
    t->cap = nc;
    return 0;
}

/* index of mask m, inserting it if add; -1 when absent (or out of memory) */
static int64_t mtab_get(mtab *t, uint64_t m, int add) {
    if (add && 2 * (t->n + 1) > t->cap && mtab_grow(t))
        return -1;
    if (!t->cap)
        return -1;
    uint64_t key = m + 1, p = hash64(key) & (uint64_t)(t->cap - 1);
    while (t->key[p]) {
        if (t->key[p] == key)
            return t->idx[p];
        p = (p + 1) & (uint64_t)(t->cap - 1);
    }
    if (!add)
        return -1;
    if (t->n == t->mcap) {
        int64_t nm = t->mcap ? 2 * t->mcap : 1024;
        uint64_t *mm = realloc(t->masks, sizeof *mm * (size_t)nm);
        if (!mm)
            return -1;
        t->masks = mm;
        t->mcap = nm;
    }
    t->key[p] = key;
    t->idx[p] = t->n;
    t->masks[t->n] = m;
    return t->n++;
}

/* ---- the recursion ---- */

typedef struct owen_walk {
    const wf_hierarchy *h;
    const uint64_t *leaves; /* (M + n_internal) players under each node */
    mtab *tab;
    const double *v; /* NULL in the collecting pass */
    double *phi;
    int failed;
} owen_walk;

static void walk(owen_walk *w, int node, uint64_t ctx, double weight) {
    const wf_hierarchy *h = w->h;
    if (w->failed)
        return;
    if (node < h->M) {
        uint64_t with = ctx | (uint64_t)1 << node;
        int64_t a = mtab_get(w->tab, ctx, !w->v), b = mtab_get(w->tab, with, !w->v);
        if (a < 0 || b < 0) {
            w->failed = 1;
            return;
        }
        if (w->v)
            w->phi[node] += weight * (w->v[b] - w->v[a]);
        return;
    }
    int k0 = h->start[node - h->M], k = h->start[node - h->M + 1] - k0;
    const int *ch = h->child + k0;
    /* wq[q] = q! (k-1-q)! / k! = 1 / (k C(k-1, q)) */
    double wq[OWEN_MAX_CHILDREN];
    double c = 1;
    for (int q = 0; q < k; q++) {
        wq[q] = 1.0 / ((double)k * c);
        c = c * (double)(k - 1 - q) / (double)(q + 1);
    }
    for (int j = 0; j < k; j++) {
        /* subsets Q of the other k - 1 children: bit r of s is child r, or r + 1 past j */
        for (uint64_t s = 0; s < (uint64_t)1 << (k - 1); s++) {
            uint64_t add = 0;
            for (int r = 0; r < k - 1; r++)
                if (s >> r & 1)
                    add |= w->leaves[ch[r < j ? r : r + 1]];
            walk(w, ch[j], ctx | add, weight * wq[__builtin_popcountll(s)]);
        }
    }
}

/* leaf visits the walk makes under node (in double: compared with a cap) */
static double visits(const wf_hierarchy *h, int node) {
    if (node < h->M)
        return 1;
    int k0 = h->start[node - h->M], k = h->start[node - h->M + 1] - k0;
    double s = 0;
    for (int j = 0; j < k; j++)
        s += visits(h, h->child[k0 + j]);
    return s * ldexp(1.0, k - 1);
}

wf_status wf_owen_values(const wf_hierarchy *h, wf_value_fn fn, void *user, double *phi,
                         int64_t *n_coalitions, wf_error *err) {
    wf_status st = wf_hierarchy_check(h, err);
    if (st)
        return st;
    int M = h->M, N = h->M + h->n_internal;
    double nv = visits(h, N - 1);
    if (nv > OWEN_MAX_VISITS)
        return wf_error_set(err, WF_ERR_UNSUPPORTED,
                            "Owen values: the hierarchy over %d players needs %.3g marginal "
                            "contributions (at most %.3g; a node with many children costs 2^k)",
                            M, nv, OWEN_MAX_VISITS);
    uint64_t *leaves = calloc((size_t)N, sizeof *leaves);
    double *v = NULL;
    mtab tab;
    memset(&tab, 0, sizeof tab);
    if (!leaves) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < M; i++)
        leaves[i] = (uint64_t)1 << i;
    for (int k = 0; k < h->n_internal; k++) /* children precede parents (checked) */
        for (int j = h->start[k]; j < h->start[k + 1]; j++)
            leaves[M + k] |= leaves[h->child[j]];
    if (leaves[N - 1] != (M == 64 ? ~0ull : ((uint64_t)1 << M) - 1)) {
        st = wf_error_set(err, WF_ERR_INVALID, "hierarchy: the root does not hold every player");
        goto done;
    }
    owen_walk w = {h, leaves, &tab, NULL, phi, 0};
    for (int i = 0; i < M; i++)
        phi[i] = 0;
    walk(&w, N - 1, 0, 1.0);
    if (w.failed || tab.n > WF_OWEN_MAX_COALITIONS) {
        st = w.failed ? wf_error_set(err, WF_ERR_NOMEM, "out of memory collecting coalitions")
                      : wf_error_set(err, WF_ERR_UNSUPPORTED,
                                     "Owen values: %lld coalitions needed (at most %lld)",
                                     (long long)tab.n, (long long)WF_OWEN_MAX_COALITIONS);
        goto done;
    }
    v = malloc(sizeof(double) * (size_t)tab.n);
    if (!v) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory for %lld coalition values",
                          (long long)tab.n);
        goto done;
    }
    st = fn(user, tab.masks, tab.n, v, err);
    if (st)
        goto done;
    w.v = v;
    walk(&w, N - 1, 0, 1.0);
    if (n_coalitions)
        *n_coalitions = tab.n;
done:
    free(leaves);
    free(v);
    mtab_free(&tab);
    return st;
}

/* ---- on a window, through the KernelSHAP coalition evaluator ---- */

typedef struct ev_user {
    wf_coal_eval *ev;
} ev_user;

static wf_status ev_values(void *user, const uint64_t *masks, int64_t n, double *v, wf_error *err) {
    wf_coal_eval *ev = ((ev_user *)user)->ev;
    int M = ev->pl->M;
    int64_t chunk = 4096;
    uint8_t *z = malloc((size_t)chunk * (size_t)M);
    if (!z)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    wf_status st = WF_OK;
    for (int64_t k0 = 0; k0 < n && !st; k0 += chunk) {
        int64_t kn = n - k0 < chunk ? n - k0 : chunk;
        for (int64_t k = 0; k < kn; k++)
            for (int p = 0; p < M; p++)
                z[k * M + p] = (uint8_t)(masks[k0 + k] >> p & 1);
        st = wf_coal_eval_values(ev, z, kn, v + k0, err);
    }
    free(z);
    return st;
}

wf_status wf_owen_window(wf_coal_eval *ev, const wf_hierarchy *h, wf_kshap_result *out,
                         wf_error *err) {
    const wf_players *pl = ev->pl;
    memset(out, 0, sizeof *out);
    if (h->M != pl->M)
        return wf_error_set(err, WF_ERR_INVALID,
                            "Owen values: the hierarchy has %d players, the explanation %d", h->M,
                            pl->M);
    out->M = pl->M;
    out->link = ev->link;
    out->players = calloc((size_t)pl->M, sizeof(char *));
    out->values = calloc((size_t)pl->M, sizeof(double));
    out->std_err = calloc((size_t)pl->M, sizeof(double));
    int bad = !out->players || !out->values || !out->std_err;
    for (int p = 0; !bad && p < pl->M; p++) {
        size_t n = strlen(pl->names[p]) + 1;
        out->players[p] = malloc(n);
        if (!out->players[p])
            bad = 1;
        else
            memcpy(out->players[p], pl->names[p], n);
    }
    if (bad) {
        wf_kshap_result_free(out);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %d players", pl->M);
    }
    /* v(none) and v(all) for the base value and f(x) */
    uint64_t ends[2] = {0, pl->M == 64 ? ~0ull : ((uint64_t)1 << pl->M) - 1};
    double vend[2];
    ev_user u = {ev};
    wf_status st = ev_values(&u, ends, 2, vend, err);
    int64_t nc = 0;
    if (!st)
        st = wf_owen_values(h, ev_values, &u, out->values, &nc, err);
    if (st) {
        wf_kshap_result_free(out);
        return st;
    }
    out->base_value = vend[0];
    out->f_x = vend[1];
    out->samples = nc;
    out->exact = 1;
    out->converged = 1;
    double s = 0;
    for (int p = 0; p < pl->M; p++)
        s += out->values[p];
    out->efficiency_gap = s - (out->f_x - out->base_value);
    return WF_OK;
}
