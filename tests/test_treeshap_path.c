/*
 * Path-dependent TreeSHAP (include/whyflag/treeshap_path.h):
 *  - per-feature values and expected value against shap's own C implementation
 *    (tree_path_dependent, covers counted by shap's dense_tree_update_weights; see
 *    tests/data/trees/gen_shap_path.py) on the sklearn/xgboost models of tests/data/trees, with
 *    covers from the 50 background windows (most leaves unreached: the pseudo-cover rule) and
 *    from the training windows (every leaf reached: shap's own semantics);
 *  - Algorithm 2 against the naive reference (the cover-weighted conditional expectation
 *    E[f(x) | x_S] evaluated for all 2^M coalitions, then the Shapley sum) on a hand-built
 *    ensemble with a feature split twice on a path, two features in one player, a feature of no
 *    player, NaN routing, a single-leaf tree and unreached leaves; and on the real models with 8
 *    channel players;
 *  - the covers: additive, counted as the model routes rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "test_explain_json.h"
#include "whyflag/model.h"
#include "whyflag/trees.h"
#include "whyflag/treeshap_path.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NBG 50

static tj *REFS;
static float *SHAPX, *TRAIN, BG[NBG * CT];
static int N_SHAP, N_TRAIN;

static void setup(void) {
    if (REFS)
        return;
    REFS = tj_load(tu_data("trees/shap_path_refs.json"));
    ck_assert(REFS);
    tj *w = tj_load(tu_data("data/windows.json"));
    tj *wins = tj_get(w, "windows");
    tj *sw = tj_get(REFS, "shap_windows");
    N_SHAP = sw->n;
    N_TRAIN = wins->n;
    SHAPX = malloc(sizeof(float) * (size_t)N_SHAP * CT);
    TRAIN = malloc(sizeof(float) * (size_t)N_TRAIN * CT);
    double tmp[CT];
    for (int i = 0; i < N_TRAIN; i++) {
        ck_assert_int_eq(tj_flat(tj_get(tj_at(wins, i), "values"), tmp, CT), CT);
        for (int j = 0; j < CT; j++)
            TRAIN[(size_t)i * CT + j] = (float)tmp[j];
    }
    for (int i = 0; i < N_SHAP; i++)
        memcpy(SHAPX + (size_t)i * CT, TRAIN + (size_t)tj_num(tj_at(sw, i)) * CT,
               sizeof(float) * CT);
    tj_free(w);
    tj *b = tj_load(tu_data("explain/background.json"));
    double *bt = malloc(sizeof(double) * NBG * CT);
    ck_assert_int_eq(tj_flat(tj_get(b, "values"), bt, NBG * CT), NBG * CT);
    for (int i = 0; i < NBG * CT; i++)
        BG[i] = (float)bt[i];
    free(bt);
    tj_free(b);
}

static wf_model *load(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "trees/%s.onnx", name);
    wf_model *m = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s", err.msg);
    return m;
}

/* One player per tree feature (cells, or channels behind ReduceMean) against shap. */
static void vs_shap(const char *name, int per_channel, const char *cset) {
    setup();
    wf_model *m = load(name);
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    tj *ref = tj_get(tj_get(tj_get(REFS, "models"), name), cset);
    ck_assert(ref);
    int M = per_channel ? NC : CT;
    int64_t start[CT + 1], cells[CT];
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    for (int p = 0; p <= M; p++)
        start[p] = per_channel ? (int64_t)p * NT : p;
    int train = !strcmp(cset, "training");
    wf_treeshap_path *ts = NULL;
    ck_assert_msg(wf_treeshap_path_new(tm, train ? TRAIN : BG, NULL, train ? N_TRAIN : NBG, M,
                                       start, cells, &ts, &err) == WF_OK,
                  "%s", err.msg);
    int64_t unc, leaves;
    wf_treeshap_path_coverage(ts, &unc, &leaves);
    ck_assert_int_eq(unc, (int64_t)tj_num(tj_get(ref, "uncovered_leaves")));
    ck_assert_int_eq(leaves, (int64_t)tj_num(tj_get(ref, "leaves")));
    double phi[CT], want[CT], fx, base, worst = 0, worst_b = 0;
    for (int i = 0; i < N_SHAP; i++) {
        char what[128];
        ck_assert(wf_treeshap_path_explain(ts, SHAPX + (size_t)i * CT, phi, &fx, &base, &err) ==
                  WF_OK);
        ck_assert_int_eq(tj_flat(tj_at(tj_get(ref, "phi"), i), want, M), M);
        snprintf(what, sizeof what, "%s (%s covers) window %d vs shap path-dependent", name, cset,
                 i);
        double e = tu_check_close_d(what, phi, want, M, 0, 1e-6);
        worst = e > worst ? e : worst;
        double eb = fabs(base - tj_num(tj_at(tj_get(ref, "expected_value"), i)));
        ck_assert_msg(eb <= 1e-6, "%s: expected value off by %.3g", what, eb);
        worst_b = eb > worst_b ? eb : worst_b;
        double sum = 0;
        for (int p = 0; p < M; p++)
            sum += phi[p];
        ck_assert_msg(fabs(sum - (fx - base)) <= 1e-9, "%s: efficiency gap %.3g", what,
                      sum - (fx - base));
    }
    fprintf(stderr,
            "%s, %s covers (%lld of %lld leaves unreached): %d players, max |whyflag - shap| "
            "%.3g, expected value %.3g\n",
            name, cset, (long long)unc, (long long)leaves, M, worst, worst_b);
    wf_treeshap_path_free(ts);
    wf_tree_model_free(tm);
    wf_model_free(m);
}

START_TEST(test_vs_shap) {
    const char *sets[] = {"background", "training"};
    for (int k = 0; k < 2; k++) {
        vs_shap("gbc_flat", 0, sets[k]);
        vs_shap("rf_nct", 0, sets[k]);
        vs_shap("gbr_scaled", 0, sets[k]);
        vs_shap("xgb_flat", 0, sets[k]);
        vs_shap("gbc_deep", 0, sets[k]);
        vs_shap("gbc_chmean", 1, sets[k]);
    }
}
END_TEST

/* Algorithm 2 with 8 channel players against the naive enumeration on the real models. */
static void vs_naive_channels(const char *name, int train) {
    setup();
    wf_model *m = load(name);
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    const wf_tree_ensemble *te = wf_tree_model_ensemble(tm);
    int n = train ? N_TRAIN : NBG;
    float *rows = malloc(sizeof(float) * (size_t)n * (size_t)te->n_features);
    float *row = malloc(sizeof(float) * (size_t)te->n_features);
    double *cover = malloc(sizeof(double) * (size_t)te->n_nodes);
    int32_t *fp = malloc(sizeof(int32_t) * (size_t)te->n_features);
    ck_assert(wf_tree_model_rows(tm, train ? TRAIN : BG, n, rows, &err) == WF_OK);
    ck_assert(wf_tree_covers(te, rows, NULL, n, cover, NULL, &err) == WF_OK);
    for (int f = 0; f < te->n_features; f++) {
        const int32_t *fc;
        ck_assert(wf_tree_model_feature_cells(tm, f, &fc) > 0);
        fp[f] = fc[0] / NT;
    }
    int64_t start[NC + 1], cells[CT];
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    for (int p = 0; p <= NC; p++)
        start[p] = (int64_t)p * NT;
    wf_treeshap_path *ts = NULL;
    ck_assert(wf_treeshap_path_new(tm, train ? TRAIN : BG, NULL, n, NC, start, cells, &ts, &err) ==
              WF_OK);
    double phi[NC], want[NC], fx, base, fx2, base2, worst = 0;
    for (int i = 0; i < N_SHAP; i++) {
        char what[128];
        ck_assert(wf_treeshap_path_explain(ts, SHAPX + (size_t)i * CT, phi, &fx, &base, &err) ==
                  WF_OK);
        ck_assert(wf_tree_model_rows(tm, SHAPX + (size_t)i * CT, 1, row, &err) == WF_OK);
        ck_assert(wf_treeshap_path_naive(te, cover, row, fp, NC, want, &fx2, &base2, &err) ==
                  WF_OK);
        snprintf(what, sizeof what, "%s channels (%s covers) window %d vs naive", name,
                 train ? "training" : "background", i);
        double e = tu_check_close_d(what, phi, want, NC, 0, 1e-9);
        worst = e > worst ? e : worst;
        ck_assert(fabs(fx - fx2) <= 1e-12 && fabs(base - base2) <= 1e-9);
    }
    fprintf(stderr, "%s, 8 channel players, %s covers: max |Algorithm 2 - naive| %.3g\n", name,
            train ? "training" : "background", worst);
    wf_treeshap_path_free(ts);
    free(rows);
    free(row);
    free(cover);
    free(fp);
    wf_tree_model_free(tm);
    wf_model_free(m);
}

START_TEST(test_channels_vs_naive) {
    for (int train = 0; train < 2; train++) {
        vs_naive_channels("gbc_flat", train);
        vs_naive_channels("xgb_flat", train);
        vs_naive_channels("gbc_deep", train);
        vs_naive_channels("rf_nct", train);
    }
}
END_TEST

/* A hand-built ensemble over 5 features:
 *  tree A: n0 f0<=0.5 ? n1 : n2;  n1 f1<=0.3 ? L3(1.0) : n4;  n4 f0<=0.2 ? L5(-2) : L6(0.5);
 *          n2 f3<0.7 ? L7(3) : n8;  n8 f4<=0 ? L9(-1) : L10(2)
 *  tree B: n11 f2<=0.4 (NaN true) ? n12 : n15;  n12 f1>0.6 ? L13(0.7) : L14(-0.3);
 *          n15 f3<=0.1 ? L16(4) : L17(-0.5)
 *  tree C: L18(0.25), a single leaf. base 0.1. */
#define TN 19
static const int32_t T_ROOTS[3] = {0, 11, 18};
static const int32_t T_FEAT[TN] = {0, 1, 3, 0, 0, 0, 0, 0, 4, 0, 0, 2, 1, 0, 0, 3, 0, 0, 0};
static const int32_t T_CT[TN] = {1,  3,  7,  -1, 5,  -1, -1, -1, 9, -1,
                                 -1, 12, 13, -1, -1, 16, -1, -1, -1};
static const int32_t T_CF[TN] = {2,  4,  8,  -1, 6,  -1, -1, -1, 10, -1,
                                 -1, 15, 14, -1, -1, 17, -1, -1, -1};
static const uint8_t T_MODE[TN] = {
    WF_TREE_LEQ,  WF_TREE_LEQ, WF_TREE_LT,   WF_TREE_LEAF, WF_TREE_LEQ, WF_TREE_LEAF, WF_TREE_LEAF,
    WF_TREE_LEAF, WF_TREE_LEQ, WF_TREE_LEAF, WF_TREE_LEAF, WF_TREE_LEQ, WF_TREE_GT,   WF_TREE_LEAF,
    WF_TREE_LEAF, WF_TREE_LEQ, WF_TREE_LEAF, WF_TREE_LEAF, WF_TREE_LEAF};
static const uint8_t T_MISS[TN] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
static const float T_THR[TN] = {0.5f, 0.3f, 0.7f, 0, 0.2f, 0,    0, 0, 0, 0,
                                0,    0.4f, 0.6f, 0, 0,    0.1f, 0, 0, 0};
static const double T_VAL[TN] = {0, 0, 0,   1.0,  0, -2, 0.5, 3,    0,   -1,
                                 2, 0, 0.7, -0.3, 0, 0,  4,   -0.5, 0.25};

START_TEST(test_tiny_vs_naive) {
    wf_tree_ensemble te = {5,    3,      TN,     T_ROOTS, T_FEAT, T_CT,
                           T_CF, T_MODE, T_MISS, T_THR,   T_VAL,  0.1};
    /* cover rows: leaves 5, 10 and 16 are reached by none of them */
    const float rows[] = {0.1f, 0.1f, NAN,  0.5f, 1.0f,  /* L3, L14 (NaN goes true) */
                          0.4f, 0.9f, 0.3f, 0.9f, 1.0f,  /* L6, L13 */
                          0.8f, 0.5f, 0.9f, 0.2f, -1.f,  /* L7, L17 */
                          0.9f, 0.2f, 0.1f, 0.8f, -2.f,  /* L9, L14 */
                          0.6f, 0.7f, 0.5f, 0.5f, -1.f,  /* L7, L17 */
                          0.3f, 0.4f, NAN,  0.9f, 0.0f,  /* L6, L14 */
                          0.2f, 0.2f, 0.6f, 0.4f, 0.0f}; /* L3, L17 */
    double cover[TN], w[7] = {1, 2, 0.5, 1, 1, 3, 0.25};
    int64_t unc = 0;
    wf_error err = {0};
    ck_assert(wf_tree_covers(&te, rows, NULL, 7, cover, &unc, &err) == WF_OK);
    ck_assert_int_eq(unc, 3);
    ck_assert(cover[5] == 1e-6 && cover[10] == 1e-6 && cover[16] == 1e-6);
    ck_assert(fabs(cover[0] - (7 + 2e-6)) < 1e-14 && fabs(cover[11] - (7 + 1e-6)) < 1e-14);
    ck_assert(cover[18] == 7 && cover[2] == 3 + 1e-6 && cover[15] == 3 + 1e-6);
    ck_assert(cover[4] == 2 + 1e-6 && cover[3] == 2 && cover[13] == 1);
    /* weighted: the pseudo-cover scales with the mean weight */
    ck_assert(wf_tree_covers(&te, rows, w, 7, cover, &unc, &err) == WF_OK);
    ck_assert(fabs(cover[5] - 1e-6 * 8.75 / 7) < 1e-18 && fabs(cover[18] - 8.75) < 1e-15);
    /* players: f0 -> 0, f1 and f2 -> 1 (grouped), f3 -> 2, f4 -> none; and one per feature */
    const int32_t grouped[5] = {0, 1, 1, 2, -1}, single[5] = {0, 1, 2, 3, 4};
    const float xs[][5] = {{0.15f, 0.9f, NAN, 0.05f, 1.0f},
                           {0.45f, 0.25f, 0.5f, 0.8f, -1.0f},
                           {0.7f, 0.65f, 0.1f, 0.75f, 0.5f},
                           {0.1f, 0.1f, NAN, 0.5f, 1.0f}};
    double worst = 0;
    for (int cw = 0; cw < 2; cw++) {
        ck_assert(wf_tree_covers(&te, rows, cw ? w : NULL, 7, cover, NULL, &err) == WF_OK);
        for (int g = 0; g < 2; g++) {
            const int32_t *fp = g ? single : grouped;
            int M = g ? 5 : 3;
            for (int i = 0; i < 4; i++) {
                double phi[5], want[5], fx, base, fx2, base2, sum = 0;
                ck_assert(wf_treeshap_path_rows(&te, cover, xs[i], fp, M, phi, &fx, &base, &err) ==
                          WF_OK);
                ck_assert(wf_treeshap_path_naive(&te, cover, xs[i], fp, M, want, &fx2, &base2,
                                                 &err) == WF_OK);
                char what[96];
                snprintf(what, sizeof what, "tiny ensemble x%d, %s players, %s covers", i,
                         g ? "single" : "grouped", cw ? "weighted" : "counted");
                double e = tu_check_close_d(what, phi, want, (size_t)M, 0, 1e-12);
                worst = e > worst ? e : worst;
                ck_assert(fx == fx2 && fabs(base - base2) <= 1e-12);
                for (int p = 0; p < M; p++)
                    sum += phi[p];
                ck_assert(fabs(sum - (fx - base)) <= 1e-12);
            }
        }
    }
    fprintf(stderr, "tiny ensemble: max |Algorithm 2 - naive| %.3g\n", worst);
    /* a zero cover is refused, not divided by */
    cover[7] = 0;
    double phi[5], fx, base;
    ck_assert_int_eq(wf_treeshap_path_rows(&te, cover, xs[0], single, 5, phi, &fx, &base, &err),
                     WF_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "node 7"), "%s", err.msg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("treeshap_path");
    TCase *tc = tcase_create("path_dependent");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tiny_vs_naive);
    tcase_add_test(tc, test_channels_vs_naive);
    tcase_add_test(tc, test_vs_shap);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
