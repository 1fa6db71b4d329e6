/*
 * The explain tests' reference inputs (see tests/data/README): the windows of
 * tests/data/data/windows.json, the background shap and captum were given (the 50 windows of
 * tests/data/explain/background.json, equally weighted) and captum's channel-mean baseline
 * (explain/baselines.json). Test code only.
 */
#ifndef WF_TEST_BACKGROUND_H
#define WF_TEST_BACKGROUND_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_explain_json.h"
#include "testutil.h"
#include "whyflag/explain.h"
#include "whyflag/windows.h"

#define TU_BG_N 50

/* The reference windows into *w. */
static inline void tu_reference_windows(wf_windows *w) {
    wf_error err = {0};
    ck_assert_msg(wf_windows_read_json(tu_data("data/windows.json"), w, &err) == WF_OK, "%s",
                  err.msg);
}

/* base (C x T): each channel's value of the channel-mean baseline at every time step. */
static inline void tu_channel_mean_baseline(float *base, int C, int T) {
    tj *bl = tj_load(tu_data("explain/baselines.json"));
    double mean[64];
    ck_assert(bl != NULL && C <= 64);
    ck_assert_int_eq(tj_flat(tj_get(bl, "channel_mean_baseline"), mean, C), C);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++)
            base[c * T + t] = (float)mean[c];
    tj_free(bl);
}

/* The reference background into *bg (C x T windows); the caller frees bg->x and bg->weight. */

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
