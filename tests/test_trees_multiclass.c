/*
 * A 3-class tree classifier explained for a chosen class (model_output / --output
 * "output_probability:2"): tests/data/trees/gbc3_flat.onnx, a sklearn GradientBoostingClassifier
 * with SOFTMAX over 3 classes (gen_trees_multiclass.py). Against sklearn 1.2.1 and shap's own C
 * extension (shap_multiclass_refs.json): the chosen column's probability (predict_proba), its raw
 * margin (decision_function), and interventional TreeSHAP of that margin per cell with the
 * 50-window background; the default (no column) and bad columns refused with the reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "test_explain_json.h"
#include "whyflag/model.h"
#include "whyflag/predictor.h"
#include "whyflag/trees.h"
#include "whyflag/treeshap.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NBG 50

START_TEST(test_class2) {
    tj *ref = tj_load(tu_data("trees/shap_multiclass_refs.json"));
    tj *w = tj_load(tu_data("data/windows.json"));
    tj *b = tj_load(tu_data("explain/background.json"));
    ck_assert(ref && w && b);
    tj *sw = tj_get(ref, "shap_windows");
    int n = sw->n;
    float *x = malloc(sizeof(float) * (size_t)n * CT), *bg = malloc(sizeof(float) * NBG * CT);
    double *tmp = malloc(sizeof(double) * NBG * CT);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(
            tj_flat(tj_get(tj_at(tj_get(w, "windows"), (int)tj_num(tj_at(sw, i))), "values"), tmp,
                    CT),
            CT);
        for (int j = 0; j < CT; j++)
            x[(size_t)i * CT + j] = (float)tmp[j];
    }
    ck_assert_int_eq(tj_flat(tj_get(b, "values"), tmp, NBG * CT), NBG * CT);
    for (int j = 0; j < NBG * CT; j++)
        bg[j] = (float)tmp[j];
    wf_model *m = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data("trees/gbc3_flat.onnx"), &m, &err) == WF_OK, "%s", err.msg);
    /* the chosen class's probability, as sklearn's predict_proba */
    wf_predictor p;
    ck_assert_msg(wf_model_predictor_spec(m, NC, NT, WF_LAYOUT_AUTO, "output_probability:2", "test",
                                          &p, &err) == WF_OK,
                  "%s", err.msg);
    float score[16];
    ck_assert(n <= 16);
    void *ctx = NULL;
    ck_assert(p.ctx_new(p.user, n, &ctx, &err) == WF_OK);
    ck_assert_msg(p.predict(ctx, x, n, score, &err) == WF_OK, "%s", err.msg);
    p.ctx_free(ctx);
    double want[CT], got[CT];
    ck_assert_int_eq(tj_flat(tj_get(ref, "predict_proba"), want, n), n);
    for (int i = 0; i < n; i++)
        got[i] = score[i];
    tu_check_close_d("class 2 probability vs sklearn predict_proba", got, want, (size_t)n, 0, 1e-6);
    /* TreeSHAP of class 2's margin */
    wf_tree_model *tm = NULL;
    ck_assert_msg(wf_tree_model_new_spec(m, NC, NT, WF_LAYOUT_AUTO, "output_probability:2", &tm,
                                         &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_msg(strstr(wf_tree_model_margin_name(tm), "class 2") &&
                      strstr(wf_tree_model_margin_name(tm), "SOFTMAX"),
                  "%s", wf_tree_model_margin_name(tm));
    ck_assert_int_eq(wf_tree_model_output_link(tm), -1);
    int64_t start[CT + 1], cells[CT];
    for (int i = 0; i <= CT; i++)
        start[i] = i;
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    wf_treeshap *ts = NULL;
    ck_assert(wf_treeshap_new(tm, bg, NULL, NBG, CT, start, cells, &ts, &err) == WF_OK);
    double df[16], worst = 0;
    ck_assert_int_eq(tj_flat(tj_get(ref, "decision_function"), df, n), n);
    for (int i = 0; i < n; i++) {
        double fx, base;
        ck_assert(wf_treeshap_explain(ts, x + (size_t)i * CT, got, &fx, &base, &err) == WF_OK);
        ck_assert_msg(fabs(fx - df[i]) <= 1e-6, "margin %.9g, sklearn %.9g", fx, df[i]);
        ck_assert_int_eq(tj_flat(tj_at(tj_get(ref, "phi"), i), want, CT), CT);
        char what[80];
        snprintf(what, sizeof what, "gbc3 class 2 window %d vs shap (interventional, margin)", i);
        double e = tu_check_close_d(what, got, want, CT, 0, 1e-6);
        worst = e > worst ? e : worst;
        ck_assert(fabs(base - tj_num(tj_at(tj_get(ref, "expected_value"), i))) <= 1e-6);
    }
    fprintf(stderr, "gbc3_flat class 2: max |whyflag - shap| %.3g\n", worst);
    wf_treeshap_free(ts);
    wf_tree_model_free(tm);
    /* no column: three classes are refused with the way out; bad columns and the label output */
    ck_assert_int_eq(wf_tree_model_new(m, NC, NT, WF_LAYOUT_AUTO, &tm, &err), WF_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "3 classes") && strstr(err.msg, "NAME:COLUMN"), "%s", err.msg);
    ck_assert_int_eq(
        wf_tree_model_new_spec(m, NC, NT, WF_LAYOUT_AUTO, "output_probability:3", &tm, &err),
        WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "column 3"), "%s", err.msg);
    ck_assert_int_eq(wf_tree_model_new_spec(m, NC, NT, WF_LAYOUT_AUTO, "output_label:1", &tm, &err),
                     WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "labels"), "%s", err.msg);
    ck_assert_int_eq(wf_tree_model_new_spec(m, NC, NT, WF_LAYOUT_AUTO, "nope:1", &tm, &err),
                     WF_ERR_CONFIG);
    wf_predictor_deinit(&p);
    wf_model_free(m);
    free(x);
    free(bg);
    free(tmp);
    tj_free(ref);
    tj_free(w);
    tj_free(b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("trees_multiclass");
    TCase *tc = tcase_create("class_column");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_class2);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
