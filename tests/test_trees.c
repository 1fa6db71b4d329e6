/*
 * Tree ensembles (ai.onnx.ml TreeEnsembleClassifier/Regressor, ZipMap, Scaler) and TreeSHAP,
 * against the references in tests/data/trees (see gen_trees.py and ort_trees.js there):
 *  - every output of sklearn GBC/RF/GBR and xgboost models converted to ONNX, of synthetic
 *    ensembles that use every node mode, NaN routing, SUM/AVERAGE/MIN/MAX, NONE/LOGISTIC/
 *    SOFTMAX/SOFTMAX_ZERO/PROBIT, 3 classes and tensor attributes, and of the ai.onnx.ml
 *    helpers (Imputer, Binarizer, Normalizer, ArrayFeatureExtractor, FeatureVectorizer,
 *    LinearRegressor, LinearClassifier), against ONNX Runtime 1.30.0;
 *  - per-feature values against shap's own C implementation (interventional, raw and
 *    probability output);
 *  - interventional TreeSHAP of the margin against exact Shapley values by enumeration in
 *    float64 (python, independent of whyflag): 8 channel groups (all 256 coalitions) and 288
 *    single cells, with the 50-window KernelSHAP background;
 *  - players of mixed shapes against an enumeration of coalitions written here on the engine's
 *    forward pass (a regressor: the score is the margin);
 *  - the differentiability query, the unsupported cases and broken ensembles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "testutil.h"
#include "test_explain_json.h"
#include "whyflag/explain.h"
#include "whyflag/windows.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"
#include "whyflag/trees.h"
#include "whyflag/treeshap.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NBG 50

static tj *ORT, *REFS, *SHAP;
static float *ROWS; /* (n_rows, C, T): the eval windows then the background */
static int N_ROWS, N_EVAL;
static float *SHAPX; /* (n_shap, C, T) */
static int N_SHAP;
static float BG[NBG * CT];

/* Numbers of v (nested arrays) into out, null as NaN; returns the count. */
static int flat_nan(const tj *v, double *out, int max) {
    if (!v)
        return 0;
    if (v->kind == TJ_NULL) {
        if (max > 0)
            out[0] = NAN;
        return 1;
    }
    if (v->kind == TJ_NUM) {
        if (max > 0)
            out[0] = v->num;
        return 1;
    }
    int k = 0;
    if (v->kind == TJ_ARR)
        for (int i = 0; i < v->n; i++)
            k += flat_nan(v->kids[i], out + k, max - k);
    return k;
}

static void setup(void) {
    if (ORT)
        return;
    ORT = tj_load(tu_data("trees/ort_outputs.json"));
    REFS = tj_load(tu_data("trees/shap_refs.json"));
    SHAP = tj_load(tu_data("trees/shap_cext_refs.json"));
    ck_assert(ORT && REFS && SHAP);
    tj *w = tj_load(tu_data("data/windows.json"));
    tj *wins = tj_get(w, "windows");
    tj *ev = tj_get(REFS, "eval_windows");
    tj *sw = tj_get(REFS, "shap_windows");
    N_EVAL = ev->n;
    N_ROWS = N_EVAL + NBG;
    N_SHAP = sw->n;
    ROWS = malloc(sizeof(float) * (size_t)N_ROWS * CT);
    SHAPX = malloc(sizeof(float) * (size_t)N_SHAP * CT);
    double tmp[CT];
    for (int i = 0; i < N_EVAL; i++) {
        ck_assert_int_eq(tj_flat(tj_get(tj_at(wins, (int)tj_num(tj_at(ev, i))), "values"), tmp, CT),
                         CT);
        for (int j = 0; j < CT; j++)
            ROWS[(size_t)i * CT + j] = (float)tmp[j];
    }
    for (int i = 0; i < N_SHAP; i++) {
        ck_assert_int_eq(tj_flat(tj_get(tj_at(wins, (int)tj_num(tj_at(sw, i))), "values"), tmp, CT),
                         CT);
        for (int j = 0; j < CT; j++)
            SHAPX[(size_t)i * CT + j] = (float)tmp[j];
    }
    tj_free(w);
    tj *b = tj_load(tu_data("explain/background.json"));
    double *bt = malloc(sizeof(double) * NBG * CT);
    ck_assert_int_eq(tj_flat(tj_get(b, "values"), bt, NBG * CT), NBG * CT);
    for (int i = 0; i < NBG * CT; i++) {
        BG[i] = (float)bt[i];
        ROWS[(size_t)N_EVAL * CT + i] = (float)bt[i];
    }
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

/* ORT's output `out` of model `name` as doubles (malloc'd), count in *n. */
static double *ort_out(const char *name, const char *out, int *n) {
    tj *o = tj_get(tj_get(tj_get(ORT, "models"), name), out);
    ck_assert_msg(o != NULL, "no ORT output %s of %s", out, name);
    tj *d = tj_get(o, "data");
    double *v = malloc(sizeof(double) * ((size_t)d->n + 1));
    *n = flat_nan(d, v, d->n);
    return v;
}

/* Compare engine output i (float or int64) with ORT's, NaN equal to NaN. */
static void check_output(const char *name, const wf_tensor *t, const char *out, double atol) {
    int n = 0;
    double *want = ort_out(name, out, &n);
    ck_assert_int_eq(wf_tensor_numel(t), n);
    double worst = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        double g = t->dtype == WF_DTYPE_INT64 ? (double)((const int64_t *)t->data)[i]
                                              : (double)((const float *)t->data)[i];
        double e = isnan(want[i]) && isnan(g) ? 0 : fabs(g - want[i]);
        if (isnan(e) || e > atol) {
            if (bad++ < 5)
                fprintf(stderr, "  %s %s[%d]: whyflag %.9g, ORT %.9g\n", name, out, i, g, want[i]);
        }
        if (!isnan(e) && e > worst)
            worst = e;
    }
    fprintf(stderr, "%s %s: %d values, max |whyflag - ORT| = %.3g\n", name, out, n, worst);
    ck_assert_msg(!bad, "%s %s: %d mismatches", name, out, bad);
    free(want);
}

static void run_engine(wf_model *m, const float *x, int64_t n, int rank3, wf_engine **e) {
    wf_error err = {0};
    ck_assert_msg(wf_engine_new(m, n, 0, e, &err) == WF_OK, "%s", err.msg);
    wf_tensor t = {0};
    t.dtype = WF_DTYPE_FLOAT;
    t.data = (void *)x;
    t.dims[0] = n;
    if (rank3) {
        t.rank = 3;
        t.dims[1] = NC;
        t.dims[2] = NT;
    } else {
        t.rank = 2;
        t.dims[1] = CT;
    }
    ck_assert_msg(wf_engine_run(*e, &t, 1, &err) == WF_OK, "%s", err.msg);
}

/* name, ORT reference for the probabilities (the no-ZipMap twin), input rank 3 */
static const struct {
    const char *name, *prob_ref;
    int rank3, classifier;
} WINDOW_MODELS[] = {
    {"gbc_flat", "gbc_flat_nozipmap", 0, 1},
    {"gbc_flat_nozipmap", "gbc_flat_nozipmap", 0, 1},
    {"rf_nct", "rf_nct_nozipmap", 1, 1},
    {"rf_nct_nozipmap", "rf_nct_nozipmap", 1, 1},
    {"xgb_flat", "xgb_flat", 0, 1},
    {"gbc_chmean", "gbc_chmean_nozipmap", 1, 1},
    {"gbc_chmean_nozipmap", "gbc_chmean_nozipmap", 1, 1},
    {"gbr_scaled", "gbr_scaled", 0, 0},
    {"gbc_deep", "gbc_deep", 0, 1},
    {"gbc_afe", "gbc_afe", 0, 1},
};

START_TEST(test_window_models_vs_ort) {
    setup();
    for (size_t k = 0; k < sizeof WINDOW_MODELS / sizeof WINDOW_MODELS[0]; k++) {
        wf_model *m = load(WINDOW_MODELS[k].name);
        wf_engine *e = NULL;
        run_engine(m, ROWS, N_ROWS, WINDOW_MODELS[k].rank3, &e);
        if (WINDOW_MODELS[k].classifier) {
            check_output(WINDOW_MODELS[k].name, wf_engine_output(e, 0), "output_label", 0);
            check_output(WINDOW_MODELS[k].prob_ref, wf_engine_output(e, 1), "output_probability",
                         1e-6);
        } else {
            check_output(WINDOW_MODELS[k].name, wf_engine_output(e, 0), "variable", 1e-6);
        }
        wf_engine_free(e);
        /* the predictor's score: the positive-class probability, or the regressor's value */
        wf_predictor p;
        wf_error err = {0};
        ck_assert_msg(wf_model_predictor(m, NC, NT, WF_LAYOUT_AUTO, &p, &err) == WF_OK, "%s",
                      err.msg);
        ck_assert_msg(p.grad == NULL, "%s: a tree model must have no gradient",
                      WINDOW_MODELS[k].name);
        void *ctx = NULL;
        ck_assert(p.ctx_new(p.user, N_ROWS, &ctx, &err) == WF_OK);
        float *y = malloc(sizeof(float) * (size_t)N_ROWS);
        ck_assert_msg(p.predict(ctx, ROWS, N_ROWS, y, &err) == WF_OK, "%s", err.msg);
        int n = 0;
        double *want = ort_out(WINDOW_MODELS[k].prob_ref,
                               WINDOW_MODELS[k].classifier ? "output_probability" : "variable", &n);
        int w = WINDOW_MODELS[k].classifier ? 2 : 1;
        ck_assert_int_eq(n, N_ROWS * w);
        double worst = 0;
        for (int i = 0; i < N_ROWS; i++) {
            double d = fabs(y[i] - want[i * w + (w - 1)]);
            worst = d > worst ? d : worst;
        }
        fprintf(stderr, "%s predictor score: max |whyflag - ORT| = %.3g\n", WINDOW_MODELS[k].name,
                worst);
        ck_assert(worst <= 1e-6);
        free(want);
        free(y);
        p.ctx_free(ctx);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

START_TEST(test_synthetic_vs_ort) {
    setup();
    tj *in = tj_load(tu_data("trees/inputs.json"));
    tj *rows = tj_get(in, "synthetic");
    tj *names = tj_get(in, "synthetic_models");
    int nr = rows->n, F = tj_at(rows, 0)->n;
    double *xd = malloc(sizeof(double) * (size_t)nr * F);
    ck_assert_int_eq(flat_nan(rows, xd, nr * F), nr * F);
    float *x = malloc(sizeof(float) * (size_t)nr * F);
    int nan_rows = 0;
    for (int i = 0; i < nr * F; i++) {
        x[i] = (float)xd[i];
        nan_rows += isnan(xd[i]);
    }
    ck_assert_int_ge(nan_rows, 3);
    /* the rows without NaN, for ops that ORT refuses NaN for (Binarizer) */
    float *xc = malloc(sizeof(float) * (size_t)nr * F);
    int nc = 0;
    for (int i = 0; i < nr; i++) {
        int ok = 1;
        for (int j = 0; j < F; j++)
            ok &= !isnan(x[i * F + j]);
        if (ok)
            memcpy(xc + (size_t)nc++ * F, x + (size_t)i * F, sizeof(float) * F);
    }
    for (int k = 0; k < names->n; k++) {
        const char *name = tj_at(names, k)->str;
        wf_model *m = load(name);
        wf_engine *e = NULL;
        wf_error err = {0};
        int dropped = tj_get(tj_get(tj_get(ORT, "models"), name), "nan_rows_dropped") != NULL;
        /* trees: float sums in ORT's order (bit for bit); linear ops: double dot products
         * against ORT's float sgemm */
        double tol = !strncmp(name, "help_lin", 8) ? 1e-5 : 1e-6;
        ck_assert_msg(wf_engine_new(m, nr, 0, &e, &err) == WF_OK, "%s", err.msg);
        wf_tensor t = {WF_DTYPE_FLOAT, 2, {dropped ? nc : nr, F}, dropped ? xc : x};
        ck_assert_msg(wf_engine_run(e, &t, 1, &err) == WF_OK, "%s: %s", name, err.msg);
        tj *labels = tj_get(tj_get(tj_get(tj_get(ORT, "models"), name), "output_label"), "data");
        if (labels && labels->n && tj_at(labels, 0)->kind == TJ_STR) {
            /* string labels: whyflag's label is the index into classlabels_strings */
            tj *names_s = tj_get(in, "string_labels");
            const wf_tensor *lt = wf_engine_output(e, 0);
            ck_assert_int_eq(wf_tensor_numel(lt), labels->n);
            for (int i = 0; i < labels->n; i++) {
                int64_t ix = ((const int64_t *)lt->data)[i];
                ck_assert(ix >= 0 && ix < names_s->n);
                ck_assert_str_eq(tj_at(names_s, (int)ix)->str, tj_at(labels, i)->str);
            }
            fprintf(stderr, "%s output_label: %d string labels equal\n", name, labels->n);
            check_output(name, wf_engine_output(e, 1), "output_probability", tol);
        } else if (!strcmp(wf_model_output_name(m, 0), "output_label")) {
            check_output(name, wf_engine_output(e, 0), "output_label", 0);
            check_output(name, wf_engine_output(e, 1), "output_probability", tol);
        } else {
            check_output(name, wf_engine_output(e, 0), "variable", tol);
        }
        wf_engine_free(e);
        wf_model_free(m);
    }
    free(x);
    free(xc);
    free(xd);
    tj_free(in);
}
END_TEST

START_TEST(test_differentiable) {
    setup();
    wf_model *m = load("gbc_flat");
    char reason[512];
    ck_assert_int_eq(wf_model_differentiable(m, reason, sizeof reason), 0);
    ck_assert_msg(strstr(reason, "TreeEnsembleClassifier") && strstr(reason, "no gradient"), "%s",
                  reason);
    wf_model_free(m);
    m = load("gbr_scaled");
    ck_assert_int_eq(wf_model_differentiable(m, reason, sizeof reason), 0);
    ck_assert_msg(strstr(reason, "TreeEnsembleRegressor"), "%s", reason);
    wf_model_free(m);
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data("aurora/mlp.onnx"), &m, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(wf_model_differentiable(m, reason, sizeof reason), 1);
    ck_assert_str_eq(reason, "");
    wf_model_free(m);
}
END_TEST

/* Channel players in CSR form. */
static void channel_players(int64_t *start, int64_t *cells) {
    for (int c = 0; c <= NC; c++)
        start[c] = (int64_t)c * NT;
    for (int i = 0; i < CT; i++)
        cells[i] = i;
}

static void treeshap_vs_refs(const char *name, const char *ref_name, int cells_too) {
    wf_model *m = load(name);
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK, "%s: %s", name,
                  err.msg);
    tj *ref = tj_get(tj_get(REFS, "models"), ref_name);
    ck_assert(ref);
    int64_t start[CT + 1], cells[CT];
    channel_players(start, cells);
    wf_treeshap *ts = NULL;
    ck_assert_msg(wf_treeshap_new(tm, BG, NULL, NBG, NC, start, cells, &ts, &err) == WF_OK, "%s",
                  err.msg);
    double phi[CT], want[CT], fx, base;
    double worst = 0;
    for (int i = 0; i < N_SHAP; i++) {
        ck_assert_msg(wf_treeshap_explain(ts, SHAPX + (size_t)i * CT, phi, &fx, &base, &err) ==
                          WF_OK,
                      "%s", err.msg);
        ck_assert_int_eq(tj_flat(tj_at(tj_get(ref, "channel_phi"), i), want, NC), NC);
        char what[128];
        snprintf(what, sizeof what, "%s window %d channel TreeSHAP vs enumeration", name, i);
        double e = tu_check_close_d(what, phi, want, NC, 0, 1e-6);
        worst = e > worst ? e : worst;
        double wfx = tj_num(tj_at(tj_get(ref, "channel_fx"), i));
        double wb = tj_num(tj_at(tj_get(ref, "channel_base"), i));
        ck_assert_msg(fabs(fx - wfx) <= 1e-6 && fabs(base - wb) <= 1e-6,
                      "%s: f(x) %.9g vs %.9g, base %.9g vs %.9g", name, fx, wfx, base, wb);
        double sum = 0;
        for (int p = 0; p < NC; p++)
            sum += phi[p];
        ck_assert_msg(fabs(sum - (fx - base)) <= 1e-9, "efficiency gap %.3g", sum - (fx - base));
    }
    fprintf(stderr, "%s: channel TreeSHAP max |whyflag - enumeration| = %.3g (%s)\n", name, worst,
            wf_tree_model_margin_name(tm));
    wf_treeshap_free(ts);
    if (cells_too) {
        for (int c = 0; c <= CT; c++)
            start[c] = c;
        ck_assert_msg(wf_treeshap_new(tm, BG, NULL, NBG, CT, start, cells, &ts, &err) == WF_OK,
                      "%s", err.msg);
        worst = 0;
        for (int i = 0; i < N_SHAP; i++) {
            ck_assert(wf_treeshap_explain(ts, SHAPX + (size_t)i * CT, phi, &fx, &base, &err) ==
                      WF_OK);
            ck_assert_int_eq(tj_flat(tj_at(tj_get(ref, "cell_phi"), i), want, CT), CT);
            char what[128];
            snprintf(what, sizeof what, "%s window %d cell TreeSHAP vs enumeration", name, i);
            double e = tu_check_close_d(what, phi, want, CT, 0, 1e-6);
            worst = e > worst ? e : worst;
        }
        fprintf(stderr, "%s: cell TreeSHAP max |whyflag - enumeration| = %.3g\n", name, worst);
        wf_treeshap_free(ts);
    }
    wf_tree_model_free(tm);
    wf_model_free(m);
}

START_TEST(test_treeshap_gbc) {
    setup();
    treeshap_vs_refs("gbc_flat", "gbc_flat", 1);
    treeshap_vs_refs("gbc_flat_nozipmap", "gbc_flat", 1);
}
END_TEST

START_TEST(test_treeshap_rf) {
    setup();
    treeshap_vs_refs("rf_nct", "rf_nct", 1);
    /* [N, T, C] input, Transpose + Flatten in the graph: the same values */
    treeshap_vs_refs("rf_ntc", "rf_nct", 1);
}
END_TEST

START_TEST(test_treeshap_gbr_scaled) {
    setup();
    treeshap_vs_refs("gbr_scaled", "gbr_scaled", 1);
}
END_TEST

START_TEST(test_treeshap_xgb) {
    setup();
    treeshap_vs_refs("xgb_flat", "xgb_flat", 1);
}
END_TEST

START_TEST(test_treeshap_deep) {
    setup();
    treeshap_vs_refs("gbc_deep", "gbc_deep", 0);
}
END_TEST

/* ArrayFeatureExtractor picks 24 cells: each tree feature maps to one cell, the other cells get
 * exactly 0 */
START_TEST(test_treeshap_afe) {
    setup();
    treeshap_vs_refs("gbc_afe", "gbc_afe", 1);
}
END_TEST

/* Per-feature values (players = tree features: cells, or channels behind ReduceMean) against
 * shap's own C implementation, margin and probability scale. */
static void vs_shap(const char *name, int per_channel) {
    wf_model *m = load(name);
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    tj *ref = tj_get(tj_get(SHAP, "models"), name);
    ck_assert(ref);
    int M = per_channel ? NC : CT;
    int64_t start[CT + 1], cells[CT];
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    for (int p = 0; p <= M; p++)
        start[p] = per_channel ? (int64_t)p * NT : p;
    wf_treeshap *ts = NULL;
    ck_assert_msg(wf_treeshap_new(tm, BG, NULL, NBG, M, start, cells, &ts, &err) == WF_OK, "%s",
                  err.msg);
    double phi[CT], want[CT], fx, base, worst = 0, worst_p = 0;
    for (int i = 0; i < N_SHAP; i++) {
        char what[128];
        ck_assert(wf_treeshap_explain(ts, SHAPX + (size_t)i * CT, phi, &fx, &base, &err) == WF_OK);
        ck_assert_int_eq(tj_flat(tj_at(tj_get(ref, "phi"), i), want, M), M);
        snprintf(what, sizeof what, "%s window %d vs shap (margin)", name, i);
        double e = tu_check_close_d(what, phi, want, M, 0, 1e-6);
        worst = e > worst ? e : worst;
        ck_assert(fabs(base - tj_num(tj_at(tj_get(ref, "expected_value"), i))) <= 1e-6);
        tj *pp = tj_get(ref, "phi_probability");
        if (!pp)
            continue;
        double px, pb, sum = 0;
        ck_assert_msg(wf_treeshap_explain_probability(ts, SHAPX + (size_t)i * CT, phi, &px, &pb,
                                                      &err) == WF_OK,
                      "%s", err.msg);
        ck_assert_int_eq(tj_flat(tj_at(pp, i), want, M), M);
        snprintf(what, sizeof what, "%s window %d vs shap (probability)", name, i);
        e = tu_check_close_d(what, phi, want, M, 0, 1e-6);
        worst_p = e > worst_p ? e : worst_p;
        ck_assert(fabs(pb - tj_num(tj_at(tj_get(ref, "expected_probability"), i))) <= 1e-6);
        for (int p = 0; p < M; p++)
            sum += phi[p];
        ck_assert_msg(fabs(sum - (px - pb)) <= 1e-9, "probability efficiency gap %.3g",
                      sum - (px - pb));
    }
    fprintf(stderr, "%s: %d players, max |whyflag - shap| margin %.3g, probability %.3g\n", name, M,
            worst, worst_p);
    wf_treeshap_free(ts);
    wf_tree_model_free(tm);
    wf_model_free(m);
}

START_TEST(test_treeshap_vs_shap) {
    setup();
    vs_shap("gbc_flat", 0);
    vs_shap("rf_nct", 0);
    vs_shap("gbr_scaled", 0);
    vs_shap("xgb_flat", 0);
    vs_shap("gbc_deep", 0);
    vs_shap("gbc_chmean", 1);
}
END_TEST

START_TEST(test_treeshap_channel_means) {
    setup();
    /* ReduceMean per channel in front of the trees: channel players work ... */
    treeshap_vs_refs("gbc_chmean", "gbc_chmean", 0);
    /* ... cell players do not: each tree feature depends on 36 cells of different players */
    wf_model *m = load("gbc_chmean");
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    const int32_t *cl;
    ck_assert_int_eq(wf_tree_model_feature_cells(tm, 3, &cl), NT);
    ck_assert_int_eq(cl[0], 3 * NT);
    int64_t start[CT + 1], cells[CT];
    for (int c = 0; c <= CT; c++)
        start[c] = c;
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    wf_treeshap *ts = NULL;
    ck_assert_int_eq(wf_treeshap_new(tm, BG, NULL, NBG, CT, start, cells, &ts, &err),
                     WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "players") && strstr(err.msg, "tree feature"), "%s", err.msg);
    wf_tree_model_free(tm);
    wf_model_free(m);
}
END_TEST

/* Players of mixed shapes (channels 0-3 split in two halves, 4-7 whole: 12 players) on the
 * regressor, whose score is its margin: TreeSHAP against an enumeration of all 4096
 * coalitions with the engine's forward pass, weighted background. */
START_TEST(test_treeshap_mixed_players_vs_engine) {
    setup();
    wf_model *m = load("gbr_scaled");
    wf_tree_model *tm = NULL;
    wf_error err = {0};
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    enum { M = 12 };
    int64_t start[M + 1], cells[CT];
    int k = 0, p = 0;
    for (int c = 0; c < NC; c++) {
        int parts = c < 4 ? 2 : 1;
        for (int h = 0; h < parts; h++) {
            start[p++] = k;
            int t0 = h * NT / parts, t1 = (h + 1) * NT / parts;
            for (int t = t0; t < t1; t++)
                cells[k++] = c * NT + t;
        }
    }
    start[M] = k;
    double wts[NBG], wsum = 0;
    for (int b = 0; b < NBG; b++)
        wsum += wts[b] = 1.0 + (b % 7);
    for (int b = 0; b < NBG; b++)
        wts[b] /= wsum;
    wf_treeshap *ts = NULL;
    ck_assert(wf_treeshap_new(tm, BG, wts, NBG, M, start, cells, &ts, &err) == WF_OK);
    double phi[M], fx, base;
    const float *x = SHAPX; /* a positive window */
    ck_assert(wf_treeshap_explain(ts, x, phi, &fx, &base, &err) == WF_OK);
    /* v(S) for all S: (2^M * NBG) composites through the predictor */
    wf_predictor pr;
    ck_assert(wf_model_predictor(m, NC, NT, WF_LAYOUT_AUTO, &pr, &err) == WF_OK);
    void *ctx = NULL;
    ck_assert(pr.ctx_new(pr.user, NBG, &ctx, &err) == WF_OK);
    double *v = malloc(sizeof(double) << M);
    float *comp = malloc(sizeof(float) * NBG * CT);
    float y[NBG];
    for (int s = 0; s < (1 << M); s++) {
        memcpy(comp, BG, sizeof(float) * NBG * CT);
        for (int q = 0; q < M; q++)
            if (s >> q & 1)
                for (int64_t j = start[q]; j < start[q + 1]; j++)
                    for (int b = 0; b < NBG; b++)
                        comp[b * CT + cells[j]] = x[cells[j]];
        ck_assert(pr.predict(ctx, comp, NBG, y, &err) == WF_OK);
        v[s] = 0;
        for (int b = 0; b < NBG; b++)
            v[s] += wts[b] * y[b];
    }
    double want[M], fact[M + 1];
    fact[0] = 1;
    for (int i = 1; i <= M; i++)
        fact[i] = fact[i - 1] * i;
    for (int q = 0; q < M; q++) {
        want[q] = 0;
        for (int s = 0; s < (1 << M); s++) {
            if (s >> q & 1)
                continue;
            int sz = __builtin_popcount((unsigned)s);
            want[q] += fact[sz] * fact[M - sz - 1] / fact[M] * (v[s | 1 << q] - v[s]);
        }
    }
    /* the engine sums leaves in float (ORT's way): allow float rounding of the margin */
    double e =
        tu_check_close_d("mixed players TreeSHAP vs engine enumeration", phi, want, M, 0, 2e-6);
    fprintf(stderr, "gbr_scaled 12 mixed players: max |TreeSHAP - engine enumeration| = %.3g\n", e);
    ck_assert(fabs(fx - v[(1 << M) - 1]) <= 2e-6 && fabs(base - v[0]) <= 2e-6);
    free(v);
    free(comp);
    pr.ctx_free(ctx);
    wf_predictor_deinit(&pr);
    wf_treeshap_free(ts);
    wf_tree_model_free(tm);
    wf_model_free(m);
}
END_TEST

/* The claim: TreeSHAP of the margin equals exact KernelSHAP of the margin with the same
 * background and players. whyflag's own exact KernelSHAP (every coalition, identity link) on
 * models whose score is the margin (regressor; forest with post_transform NONE), with channel
 * players (mixed player shapes: test_treeshap_mixed_players_vs_engine). */
static void vs_kernelshap(const char *name, wf_groups_kind groups, int segments, int n_windows) {
    wf_model *m = load(name);
    wf_error err = {0};
    wf_windows ws = {0};
    ck_assert_msg(wf_windows_read_json(tu_data("data/windows.json"), &ws, &err) == WF_OK, "%s",
                  err.msg);
    wf_predictor p;
    ck_assert(wf_model_predictor(m, NC, NT, WF_LAYOUT_AUTO, &p, &err) == WF_OK);
    wf_explain_settings st;
    wf_explain_settings_default(&st);
    st.do_ig = 0;
    st.nsamples = WF_NSAMPLES_EXACT;
    st.link = WF_LINK_IDENTITY;
    st.groups = groups;
    st.segments = segments;
    wf_background bg = {NC, NT, NBG, BG, NULL, "", 0, NULL};
    double w[NBG];
    for (int i = 0; i < NBG; i++)
        w[i] = 1.0 / NBG;
    bg.weight = w;
    int64_t idx[4];
    tj *sw = tj_get(REFS, "shap_windows");
    for (int i = 0; i < n_windows; i++)
        idx[i] = (int64_t)tj_num(tj_at(sw, i));
    wf_explanation out[4];
    ck_assert_msg(wf_explain_run(&st, &p, &bg, &ws, idx, n_windows, out, &err) == WF_OK, "%s",
                  err.msg);
    wf_players pl = {0};
    ck_assert(wf_players_build(&st, NC, NT, NULL, &pl, &err) == WF_OK);
    wf_tree_model *tm = NULL;
    ck_assert(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err) == WF_OK);
    wf_treeshap *ts = NULL;
    ck_assert_msg(wf_treeshap_new(tm, BG, w, NBG, pl.M, pl.start, pl.cells, &ts, &err) == WF_OK,
                  "%s", err.msg);
    double phi[64], fx, base, worst = 0;
    for (int i = 0; i < n_windows; i++) {
        ck_assert_msg(out[i].status == WF_OK && out[i].kshap.exact && out[i].kshap.M == pl.M, "%s",
                      out[i].error);
        ck_assert(wf_treeshap_explain(ts, ws.w[idx[i]].values, phi, &fx, &base, &err) == WF_OK);
        char what[128];
        snprintf(what, sizeof what, "%s window %lld TreeSHAP vs exact KernelSHAP (%d players)",
                 name, (long long)idx[i], pl.M);
        /* KernelSHAP evaluates the model in float: its coalition values carry float rounding */
        double e = tu_check_close_d(what, phi, out[i].kshap.values, (size_t)pl.M, 0, 2e-6);
        worst = e > worst ? e : worst;
        ck_assert(fabs(fx - out[i].kshap.f_x) <= 2e-6 &&
                  fabs(base - out[i].kshap.base_value) <= 2e-6);
        wf_explanation_deinit(&out[i]);
    }
    fprintf(stderr, "%s: %d players, max |TreeSHAP - exact KernelSHAP| = %.3g\n", name, pl.M,
            worst);
    wf_treeshap_free(ts);
    wf_tree_model_free(tm);
    wf_players_free(&pl);
    wf_explain_settings_deinit(&st);
    wf_predictor_deinit(&p);
    wf_windows_free(&ws);
    wf_model_free(m);
}

START_TEST(test_treeshap_vs_kernelshap) {
    setup();
    vs_kernelshap("gbr_scaled", WF_GROUPS_CHANNEL, 0, 4);
    vs_kernelshap("rf_nct", WF_GROUPS_CHANNEL, 0, 4);
}
END_TEST

START_TEST(test_unsupported) {
    setup();
    wf_error err = {0};
    wf_tree_model *tm = NULL;
    /* MIN aggregation is not additive */
    wf_model *m = load("syn_reg1_min");
    ck_assert_int_eq(wf_tree_model_new(m, 1, 6, WF_LAYOUT_FLAT, &tm, &err), WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "MIN"), "%s", err.msg);
    wf_model_free(m);
    /* three classes: one score is needed */
    m = load("syn_cls3_softmax");
    ck_assert_int_eq(wf_tree_model_new(m, 1, 6, WF_LAYOUT_FLAT, &tm, &err), WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "3 classes"), "%s", err.msg);
    wf_model_free(m);
    /* not a tree model */
    ck_assert(wf_model_load(tu_data("aurora/mlp.onnx"), &m, &err) == WF_OK);
    ck_assert_int_eq(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err), WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "TreeSHAP does not apply"), "%s", err.msg);
    wf_model_free(m);
}
END_TEST

START_TEST(test_hostile) {
    static const struct {
        const char *file, *msg;
    } cases[] = {
        {"bad_cycle", "not a tree"},
        {"bad_child", "does not have"},
        {"bad_classid", "class_ids[1] = 5"},
        {"bad_mode", "BRANCH_XX"},
        {"bad_weight_node", "not a leaf"},
        {"bad_lengths", "nodes_values has 1 entries for 6 nodes"},
        {"bad_nolabels", "classlabels_int64s and classlabels_strings are missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "trees/%s.onnx", cases[i].file);
        wf_model *m = NULL;
        wf_error err = {0};
        wf_status s = wf_model_load(tu_data(rel), &m, &err);
        ck_assert_msg(s != WF_OK && m == NULL, "%s loaded", cases[i].file);
        ck_assert_msg(strstr(err.msg, cases[i].msg) && strstr(err.msg, "TreeEnsembleClassifier"),
                      "%s: %s", cases[i].file, err.msg);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("trees");
    TCase *to = tcase_create("ops_vs_ort");
    tcase_add_test(to, test_window_models_vs_ort);
    tcase_add_test(to, test_synthetic_vs_ort);
    tcase_add_test(to, test_differentiable);
    tcase_add_test(to, test_hostile);
    suite_add_tcase(s, to);
    TCase *tt = tcase_create("treeshap");
    tcase_add_test(tt, test_treeshap_gbc);
    tcase_add_test(tt, test_treeshap_rf);
    tcase_add_test(tt, test_treeshap_gbr_scaled);
    tcase_add_test(tt, test_treeshap_xgb);
    tcase_add_test(tt, test_treeshap_deep);
    tcase_add_test(tt, test_treeshap_afe);
    tcase_add_test(tt, test_treeshap_vs_shap);
    tcase_add_test(tt, test_treeshap_channel_means);
    tcase_add_test(tt, test_treeshap_mixed_players_vs_engine);
    tcase_add_test(tt, test_treeshap_vs_kernelshap);
    tcase_add_test(tt, test_unsupported);
    suite_add_tcase(s, tt);
    return tu_run_suite(s);
}
