/*
 * The explain tests' reference background: the 50 windows of tests/data/explain/background.json
 * (the background shap and captum were given, see tests/data/README), equally weighted, as a
 * wf_background of C x T windows. Test code only; the caller frees bg->x and bg->weight.
 */
#ifndef WF_TEST_BACKGROUND_H
#define WF_TEST_BACKGROUND_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_explain_json.h"
#include "testutil.h"
#include "whyflag/explain.h"

#define TU_BG_N 50

static inline void tu_reference_background(wf_background *bg, int C, int T) {
    size_t ct = (size_t)C * (size_t)T, n = (size_t)TU_BG_N * ct;
    tj *b = tj_load(tu_data("explain/background.json"));
    ck_assert(b != NULL);
    bg->C = C;
    bg->T = T;
    bg->n = TU_BG_N;
    bg->x = malloc(sizeof(float) * n);
    bg->weight = malloc(sizeof(double) * TU_BG_N);
    double *tmp = malloc(sizeof(double) * n);
    ck_assert(bg->x && bg->weight && tmp);
    ck_assert_int_eq(tj_flat(tj_get(b, "values"), tmp, (int)n), (int)n);
    for (size_t i = 0; i < n; i++)
        bg->x[i] = (float)tmp[i];
    for (int i = 0; i < TU_BG_N; i++)
        bg->weight[i] = 1.0 / TU_BG_N;
    snprintf(bg->description, sizeof bg->description, "refs/background.json (%d windows)", TU_BG_N);
    free(tmp);
    tj_free(b);
}

#endif
