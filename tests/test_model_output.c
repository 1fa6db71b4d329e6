/*
 * What the score is, as the graph shows it (wf_model_output_kind, wf_predictor's output_*):
 * torch exports from tests/data/zoo with a logit and a probability output, a softmax head, the
 * Aurora int8 MLP (Sigmoid at the end) and a tree classifier; and the choice of output and
 * column through wf_model_predictor_spec.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/model.h"

static wf_model *load(const char *rel) {
    wf_model *m = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_model_load(tu_data(rel), &m, &err) == WF_OK, "%s: %s", rel, err.msg);
    return m;
}

START_TEST(test_kinds) {
    wf_model *m = load("zoo/two_out_d17.onnx");
    int logit = wf_model_output_index(m, "logit"), prob = wf_model_output_index(m, "prob");
    ck_assert_int_ge(logit, 0);
    ck_assert_int_ge(prob, 0);
    ck_assert_str_eq(wf_model_output_kind(m, logit), "logit");
    ck_assert_str_eq(wf_model_output_kind(m, prob), "probability");
    ck_assert_str_eq(wf_model_output_kind(m, 7), "unknown");
    wf_predictor p;
    wf_error err = {0};
    ck_assert_msg(wf_model_predictor_spec(m, 8, 36, WF_LAYOUT_NCT, "logit", "--output", &p, &err) ==
                      WF_OK,
                  "%s", err.msg);
    ck_assert_str_eq(p.output_name, "logit");
    ck_assert_int_eq(p.output_column, 0);
    ck_assert_str_eq(p.output_kind, "logit");
    wf_predictor_deinit(&p);
    wf_model_free(m);

    m = load("zoo/softmax_head_d13.onnx");
    ck_assert_msg(
        wf_model_predictor_spec(m, 8, 36, WF_LAYOUT_NCT, "score:1", "--output", &p, &err) == WF_OK,
        "%s", err.msg);
    ck_assert_str_eq(p.output_name, "score");
    ck_assert_int_eq(p.output_column, 1);
    ck_assert_str_eq(p.output_kind, "probability");
    wf_predictor_deinit(&p);
    ck_assert_int_eq(
        wf_model_predictor_spec(m, 8, 36, WF_LAYOUT_NCT, "score:2", "--output", &p, &err),
        WF_ERR_SHAPE);
    wf_model_free(m);

    m = load("aurora/mlp_int8_qdq.onnx");
    ck_assert_msg(wf_model_predictor(m, 8, 36, WF_LAYOUT_AUTO, &p, &err) == WF_OK, "%s", err.msg);
    ck_assert_str_eq(p.output_kind, "probability");
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_output");
    TCase *tc = tcase_create("model_output");
    tcase_add_test(tc, test_kinds);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
