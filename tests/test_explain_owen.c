/*
 * Owen values (src/explain/owen.c) against references computed independently:
 *   - random games on small hierarchies (binary, general, flat, with single-child chains):
 *     brute force here, averaging marginal contributions over every player order that keeps
 *     each node's players together (all M! orders enumerated and filtered), within 1e-9;
 *   - a flat hierarchy: the Shapley values over all M! orders, and wf_shapley_exact;
 *   - a small MLP with a weighted background: the Owen values over scipy's complete-linkage
 *     dendrogram and the Shapley values, enumerated in float64 by numpy
 *     (tests/data/explain_dep/gen_explain_dep.py), through the KernelSHAP coalition evaluator
 *     (plain and affine paths), within 1e-6 (the model runs in float32 here);
 *   - malformed hierarchies and the cost cap.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/checks_impl.h"
#include "testutil.h"

#include "test_explain_json.h"

/* ---- games from a table ---- */

typedef struct table_game {
    const double *v; /* (2^M) */
    int64_t calls;
} table_game;

static wf_status table_fn(void *user, const uint64_t *masks, int64_t n, double *v, wf_error *err) {
    (void)err;
    table_game *g = user;
    g->calls++;
    for (int64_t k = 0; k < n; k++)
        v[k] = g->v[masks[k]];
    return WF_OK;
}

static uint64_t lcg = 777;
static double urand(void) { /* test data only */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

/* ---- brute force over orders ---- */

static int next_perm(int *p, int n) {
    int i = n - 2;
    while (i >= 0 && p[i] > p[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (p[j] < p[i])
        j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

/* players under each node, computed here from the children lists */
static void node_leaves(const wf_hierarchy *h, uint64_t *lv) {
    for (int i = 0; i < h->M; i++)
        lv[i] = 1ull << i;
    for (int k = 0; k < h->n_internal; k++) {
        lv[h->M + k] = 0;
        for (int j = h->start[k]; j < h->start[k + 1]; j++)
            lv[h->M + k] |= lv[h->child[j]];
    }
}

/* phi: mean marginal contribution over admissible orders (h NULL: every order) */
static void brute_owen(const wf_hierarchy *h, int M, const double *v, double *phi) {
    int perm[10], pos[10];
    uint64_t lv[32];
    ck_assert(M <= 10);
    if (h)
        node_leaves(h, lv);
    for (int i = 0; i < M; i++) {
        perm[i] = i;
        phi[i] = 0;
    }
    double count = 0;
    do {
        for (int i = 0; i < M; i++)
            pos[perm[i]] = i;
        int ok = 1;
        for (int k = 0; h && ok && k < h->n_internal; k++) {
            int lo = M, hi = -1, cnt = 0;
            for (int i = 0; i < M; i++)
                if (lv[M + k] >> i & 1) {
                    lo = pos[i] < lo ? pos[i] : lo;
                    hi = pos[i] > hi ? pos[i] : hi;
                    cnt++;
                }
            ok = hi - lo + 1 == cnt;
        }
        if (!ok)
            continue;
        uint64_t S = 0;
        for (int i = 0; i < M; i++) {
            uint64_t S2 = S | 1ull << perm[i];
            phi[perm[i]] += v[S2] - v[S];
            S = S2;
        }
        count++;
    } while (next_perm(perm, M));
    for (int i = 0; i < M; i++)
        phi[i] /= count;
}

static void random_table(double *v, int M) {
    for (uint64_t S = 0; S < 1ull << M; S++)
        v[S] = urand() * 4 - 2;
}

/* a hierarchy from explicit children lists: nchild[k], kids flattened */
static void make_tree(wf_hierarchy *h, int M, int n_internal, const int *nchild, const int *kids) {
    h->M = M;
    h->n_internal = n_internal;
    h->start = malloc(sizeof(int) * (size_t)(n_internal + 1));
    int tot = 0;
    for (int k = 0; k < n_internal; k++)
        tot += nchild[k];
    h->child = malloc(sizeof(int) * (size_t)tot);
    int o = 0;
    for (int k = 0; k < n_internal; k++) {
        h->start[k] = o;
        for (int j = 0; j < nchild[k]; j++, o++)
            h->child[o] = kids[o];
    }
    h->start[n_internal] = o;
}

static void check_game(const wf_hierarchy *h, const char *what) {
    int M = h->M;
    double v[1 << 10], phi[10], ref[10];
    random_table(v, M);
    table_game g = {v, 0};
    wf_error err = {0};
    int64_t nc = 0;
    ck_assert_msg(wf_owen_values(h, table_fn, &g, phi, &nc, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(g.calls, 1); /* every coalition in one call */
    ck_assert(nc > 0 && nc <= (1 << M));
    brute_owen(h, M, v, ref);
    tu_check_close_d(what, phi, ref, (size_t)M, 0, 1e-9);
    double s = 0;
    for (int i = 0; i < M; i++)
        s += phi[i];
    ck_assert_msg(fabs(s - (v[(1 << M) - 1] - v[0])) < 1e-12, "%s: efficiency", what);
}

START_TEST(test_owen_binary_random) {
    /* random dendrograms: join two random active clusters until one is left */
    for (int M = 2; M <= 8; M++) {
        for (int rep = 0; rep < 3; rep++) {
            wf_dep_merge mg[16];
            int active[16], na = M;
            for (int i = 0; i < M; i++)
                active[i] = i;
            for (int k = 0; k < M - 1; k++) {
                int a = (int)(urand() * na), b = (int)(urand() * (na - 1));
                if (b >= a)
                    b++;
                mg[k].a = active[a];
                mg[k].b = active[b];
                mg[k].height = k;
                mg[k].size = 0;
                int lo = a < b ? a : b, hi = a ^ b ^ lo;
                active[lo] = M + k;
                active[hi] = active[--na];
            }
            wf_hierarchy h;
            wf_error err = {0};
            ck_assert_msg(wf_hierarchy_from_merges(M, mg, &h, &err) == WF_OK, "%s", err.msg);
            char what[64];
            snprintf(what, sizeof what, "binary M=%d rep %d", M, rep);
            check_game(&h, what);
            wf_hierarchy_deinit(&h);
        }
    }
}
END_TEST

START_TEST(test_owen_general_trees) {
    /* M = 7: root {A, 3, B}, A = {0, 1, 2}, C = {4, 5}, B = {C, 6}; internal ids 7 A, 8 C, 9 B,
     * 10 root */
    {
        int nchild[] = {3, 2, 2, 3};
        int kids[] = {0, 1, 2, 4, 5, 8, 6, 7, 3, 9};
        wf_hierarchy h;
        make_tree(&h, 7, 4, nchild, kids);
        check_game(&h, "general M=7");
        wf_hierarchy_deinit(&h);
    }
    /* single-child chains: node 5 = {0}, node 6 = {5, 1}, node 7 = {6}, root 8 = {7, 2, 3, 4} */
    {
        int nchild[] = {1, 2, 1, 4};
        int kids[] = {0, 5, 1, 6, 7, 2, 3, 4};
        wf_hierarchy h;
        make_tree(&h, 5, 4, nchild, kids);
        check_game(&h, "chains M=5");
        wf_hierarchy_deinit(&h);
    }
    /* two levels, groups of sizes 3, 3, 2 (the classic Owen value) */
    {
        int nchild[] = {3, 3, 2, 3};
        int kids[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        wf_hierarchy h;
        make_tree(&h, 8, 4, nchild, kids);
        check_game(&h, "two levels M=8");
        wf_hierarchy_deinit(&h);
    }
}
END_TEST

START_TEST(test_owen_from_groups) {
    /* groups {0, 1, 5}, {2}, {3, 4, 6}: root {G0, 2, G2} with G0 = {0, 1, 5}, G2 = {3, 4, 6} */
    wf_dependence d;
    memset(&d, 0, sizeof d);
    int group_of[] = {0, 0, 1, 2, 2, 0, 2};
    d.C = 7;
    d.n_groups = 3;
    d.group_of = group_of;
    wf_hierarchy h;
    wf_error err = {0};
    ck_assert_msg(wf_hierarchy_from_groups(&d, &h, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(h.n_internal, 3);
    ck_assert_int_eq(h.start[3] - h.start[2], 3); /* the root's children */
    ck_assert_int_eq(h.child[h.start[2] + 1], 2); /* the group of one channel is the channel */
    check_game(&h, "two levels from groups M=7");
    wf_hierarchy_deinit(&h);
    /* every channel its own group: flat */
    int alone[] = {0, 1, 2, 3};
    d.C = 4;
    d.n_groups = 4;
    d.group_of = alone;
    ck_assert(wf_hierarchy_from_groups(&d, &h, &err) == WF_OK);
    ck_assert_int_eq(h.n_internal, 1);
    check_game(&h, "groups of one M=4");
    wf_hierarchy_deinit(&h);
}
END_TEST

START_TEST(test_owen_flat_is_shapley) {
    for (int M = 1; M <= 8; M++) {
        wf_hierarchy h;
        wf_error err = {0};
        ck_assert(wf_hierarchy_flat(M, &h, &err) == WF_OK);
        double v[1 << 8], phi[8], ref[8], ex[8];
        random_table(v, M);
        table_game g = {v, 0};
        ck_assert(wf_owen_values(&h, table_fn, &g, phi, NULL, &err) == WF_OK);
        brute_owen(NULL, M, v, ref); /* every order: Shapley */
        wf_shapley_exact(ex, v, M);
        char what[64];
        snprintf(what, sizeof what, "flat M=%d vs all orders", M);
        tu_check_close_d(what, phi, ref, (size_t)M, 0, 1e-9);
        snprintf(what, sizeof what, "flat M=%d vs wf_shapley_exact", M);
        tu_check_close_d(what, phi, ex, (size_t)M, 0, 1e-9);
        wf_hierarchy_deinit(&h);
    }
}
END_TEST

START_TEST(test_owen_errors) {
    wf_error err = {0};
    double v[1 << 6], phi[40];
    random_table(v, 6);
    table_game g = {v, 0};
    /* player 1 under two nodes */
    {
        int nchild[] = {2, 3};
        int kids[] = {0, 1, 4, 1, 2};
        wf_hierarchy h;
        make_tree(&h, 4, 2, nchild, kids);
        ck_assert(wf_owen_values(&h, table_fn, &g, phi, NULL, &err) == WF_ERR_INVALID);
        ck_assert_msg(strstr(err.msg, "parents") != NULL, "%s", err.msg);
        wf_hierarchy_deinit(&h);
    }
    /* a child that is not an earlier node (cycle) */
    {
        int nchild[] = {2, 2};
        int kids[] = {0, 4, 1, 3};
        wf_hierarchy h;
        make_tree(&h, 3, 2, nchild, kids);
        ck_assert(wf_owen_values(&h, table_fn, &g, phi, NULL, &err) == WF_ERR_INVALID);
        wf_hierarchy_deinit(&h);
    }
    /* a player left out */
    {
        int nchild[] = {2};
        int kids[] = {0, 1};
        wf_hierarchy h;
        make_tree(&h, 3, 1, nchild, kids);
        ck_assert(wf_owen_values(&h, table_fn, &g, phi, NULL, &err) == WF_ERR_INVALID);
        wf_hierarchy_deinit(&h);
    }
    /* the cost cap: a flat hierarchy of 30 players is refused before any evaluation */
    {
        wf_hierarchy h;
        ck_assert(wf_hierarchy_flat(30, &h, &err) == WF_OK);
        g.calls = 0;
        ck_assert(wf_owen_values(&h, table_fn, &g, phi, NULL, &err) == WF_ERR_UNSUPPORTED);
        ck_assert_int_eq(g.calls, 0);
        ck_assert_msg(strstr(err.msg, "30 players") != NULL, "%s", err.msg);
        wf_hierarchy_deinit(&h);
    }
}
END_TEST

/* ---- the numpy-referenced MLP ---- */

#define OC 5
#define OT 3
#define OH 4
#define OCT (OC * OT)

typedef struct omodel {
    float A[OH * OCT], a0[OH];
    double v[OH], v0;
} omodel;

static double o_from_h(const omodel *m, const double *h) {
    double s = m->v0;
    for (int j = 0; j < OH; j++)
        s += m->v[j] * tanh(h[j]);
    return 1.0 / (1.0 + exp(-s));
}

static wf_status o_ctx_new(void *user, int64_t max_batch, void **ctx, wf_error *err) {
    (void)max_batch;
    (void)err;
    *ctx = user;
    return WF_OK;
}

static void o_ctx_free(void *ctx) {
    (void)ctx;
}

static wf_status o_predict(void *ctx, const float *x, int64_t n, float *y, wf_error *err) {
    (void)err;
    const omodel *m = ctx;
    for (int64_t i = 0; i < n; i++) {
        double h[OH];
        for (int j = 0; j < OH; j++) {
            double s = m->a0[j];
            for (int k = 0; k < OCT; k++)
                s += (double)m->A[j * OCT + k] * x[i * OCT + k];
            h[j] = s;
        }
        y[i] = (float)o_from_h(m, h);
    }
    return WF_OK;
}

static wf_status o_predict_hidden(void *ctx, const float *h, int64_t n, float *y, wf_error *err) {
    (void)err;
    const omodel *m = ctx;
    for (int64_t i = 0; i < n; i++) {
        double hd[OH];
        for (int j = 0; j < OH; j++)
            hd[j] = h[i * OH + j];
        y[i] = (float)o_from_h(m, hd);
    }
    return WF_OK;
}

START_TEST(test_owen_model_numpy) {
    tj *root = tj_load(tu_data("explain_dep/explain_dep_ref.json"));
    tj *o = tj_get(root, "owen");
    ck_assert(tj_at(tj_get(o, "Z"), 0) != NULL);
    ck_assert(o != NULL);
    ck_assert_int_eq((int)tj_num(tj_get(o, "C")), OC);
    omodel m;
    double buf[256];
    ck_assert_int_eq(tj_flat(tj_get(o, "A"), buf, 256), OH * OCT);
    for (int i = 0; i < OH * OCT; i++)
        m.A[i] = (float)buf[i];
    tj_flat(tj_get(o, "a0"), buf, 256);
    for (int i = 0; i < OH; i++)
        m.a0[i] = (float)buf[i];
    tj_flat(tj_get(o, "v"), m.v, OH);
    m.v0 = tj_num(tj_get(o, "v0"));
    wf_background bg;
    memset(&bg, 0, sizeof bg);
    bg.C = OC;
    bg.T = OT;
    bg.n = tj_get(o, "bw")->n;
    bg.x = malloc(sizeof(float) * (size_t)bg.n * OCT);
    bg.weight = malloc(sizeof(double) * (size_t)bg.n);
    ck_assert_int_eq(tj_flat(tj_get(o, "bg"), buf, 256), (int)bg.n * OCT);
    for (int i = 0; i < bg.n * OCT; i++)
        bg.x[i] = (float)buf[i];
    tj_flat(tj_get(o, "bw"), bg.weight, (int)bg.n);
    float x[OCT];
    tj_flat(tj_get(o, "x"), buf, 256);
    for (int i = 0; i < OCT; i++)
        x[i] = (float)buf[i];
    double Z[4 * 4], ref_owen[OC], ref_shap[OC];
    ck_assert_int_eq(tj_flat(tj_get(o, "Z"), Z, 16), 16);
    tj_flat(tj_get(o, "owen"), ref_owen, OC);
    tj_flat(tj_get(o, "shapley"), ref_shap, OC);
    wf_dep_merge mg[OC - 1];
    for (int k = 0; k < OC - 1; k++) {
        mg[k].a = (int)Z[k * 4];
        mg[k].b = (int)Z[k * 4 + 1];
        mg[k].height = Z[k * 4 + 2];
        mg[k].size = (int)Z[k * 4 + 3];
    }
    wf_predictor p;
    memset(&p, 0, sizeof p);
    p.C = OC;
    p.T = OT;
    p.user = &m;
    p.ctx_new = o_ctx_new;
    p.ctx_free = o_ctx_free;
    p.predict = o_predict;
    p.hidden = OH;
    p.affine_a = m.A;
    p.affine_a0 = m.a0;
    p.predict_hidden = o_predict_hidden;
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_players pl;
    wf_error err = {0};
    ck_assert(wf_players_build(&s, OC, OT, NULL, &pl, &err) == WF_OK);
    wf_hierarchy hb, hf;
    ck_assert(wf_hierarchy_from_merges(OC, mg, &hb, &err) == WF_OK);
    ck_assert(wf_hierarchy_flat(OC, &hf, &err) == WF_OK);
    for (int affine = 0; affine <= 2; affine += 2) {
        wf_coal_eval ev;
        ck_assert_msg(wf_coal_eval_init(&ev, &p, &bg, &pl, WF_LINK_IDENTITY, affine, 64, &err) ==
                          WF_OK,
                      "%s", err.msg);
        ck_assert_int_eq(ev.affine, affine ? 1 : 0);
        ck_assert(wf_coal_eval_window(&ev, x, &err) == WF_OK);
        wf_kshap_result r;
        ck_assert_msg(wf_owen_window(&ev, &hb, &r, &err) == WF_OK, "%s", err.msg);
        tu_check_close_d(affine ? "owen (affine path) vs numpy" : "owen vs numpy", r.values,
                         ref_owen, OC, 0, 1e-6);
        ck_assert(fabs(r.base_value - tj_num(tj_get(o, "base"))) < 1e-6);
        ck_assert(fabs(r.f_x - tj_num(tj_get(o, "fx"))) < 1e-6);
        ck_assert(fabs(r.efficiency_gap) < 1e-12);
        ck_assert_int_eq(r.exact, 1);
        ck_assert_str_eq(r.players[2], "c2");
        wf_kshap_result_free(&r);
        ck_assert_msg(wf_owen_window(&ev, &hf, &r, &err) == WF_OK, "%s", err.msg);
        tu_check_close_d("flat hierarchy vs numpy Shapley", r.values, ref_shap, OC, 0, 1e-6);
        wf_kshap_result_free(&r);
        wf_coal_eval_free(&ev);
    }
    /* through wf_explain_run with settings.hierarchy (groups "hierarchy") */
    {
        wf_windows ws;
        ck_assert(wf_windows_init(&ws, OC, OT, NULL, NULL, &err) == WF_OK);
        wf_window w;
        memset(&w, 0, sizeof w);
        w.index = -1;
        snprintf(w.turbine_id, sizeof w.turbine_id, "T1");
        w.values = x;
        ck_assert(wf_windows_push(&ws, &w, &err) == WF_OK);
        wf_explain_settings s2;
        wf_explain_settings_default(&s2);
        s2.do_ig = 0;
        s2.threads = 1;
        s2.hierarchy = &hb;
        wf_explanation e;
        ck_assert_msg(wf_explain_run(&s2, &p, &bg, &ws, NULL, 1, &e, &err) == WF_OK, "%s", err.msg);
        ck_assert_msg(e.status == WF_OK, "%s", e.error);
        tu_check_close_d("wf_explain_run with a hierarchy vs numpy Owen", e.kshap.values, ref_owen,
                         OC, 0, 1e-6);
        ck_assert_int_eq(e.kshap.exact, 1);
        char text[8192];
        wf_explain_describe(&s2, &bg, text, sizeof text);
        ck_assert_msg(strstr(text, "exact Owen values") != NULL, "%s", text);
        wf_why why;
        ck_assert(wf_explanation_why(&e, &s2, OC, OT, NULL, &why, &err) == WF_OK);
        ck_assert_int_eq(why.agreement.n, 0); /* no IG */
        ck_assert(why.n_drivers >= 1);
        ck_assert(why.drivers[0].kernelshap == e.kshap.values[why.drivers[0].index]);
        wf_explanation_deinit(&e);
        /* a hierarchy over the wrong number of players */
        wf_hierarchy h4;
        ck_assert(wf_hierarchy_flat(4, &h4, &err) == WF_OK);
        s2.hierarchy = &h4;
        ck_assert(wf_explain_run(&s2, &p, &bg, &ws, NULL, 1, &e, &err) == WF_ERR_CONFIG);
        ck_assert_msg(strstr(err.msg, "hierarchy has 4 players") != NULL, "%s", err.msg);
        wf_hierarchy_deinit(&h4);
        wf_windows_free(&ws);
    }
    /* the two differ on this model: the hierarchy matters */
    double dmax = 0;
    for (int c = 0; c < OC; c++)
        dmax = fmax(dmax, fabs(ref_owen[c] - ref_shap[c]));
    ck_assert(dmax > 1e-3);
    wf_hierarchy_deinit(&hb);
    wf_hierarchy_deinit(&hf);
    wf_players_free(&pl);
    wf_background_deinit(&bg);
    tj_free(root);
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain_owen");
    TCase *tc = tcase_create("owen");
    tcase_add_test(tc, test_owen_binary_random);
    tcase_add_test(tc, test_owen_general_trees);
    tcase_add_test(tc, test_owen_from_groups);
    tcase_add_test(tc, test_owen_flat_is_shapley);
    tcase_add_test(tc, test_owen_errors);
    tcase_add_test(tc, test_owen_model_numpy);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
