/*
 * The difference game of two models (include/whyflag/explain_compare.h): d(S) = v_A(S) - v_B(S)
 * over every coalition, then its exact Shapley values. The coalition values come from the same
 * evaluator, batches and masks as KernelSHAP's exact mode (kshap.c), so that d is exactly the
 * difference of the values behind phi_A and phi_B.
 */
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "whyflag/explain_compare.h"

#define KSHAP_BATCH 8192 /* rows per predict call, as explain.c */

wf_status wf_explain_difference_game(const wf_explain_settings *s, const wf_predictor *pa,
                                     const wf_predictor *pb, const wf_background *bg,
                                     const wf_windows *ws, const float *x, int m_expect,
                                     double *phi, double *base, double *fx, wf_error *err) {
    wf_players pl;
    memset(&pl, 0, sizeof pl);
    wf_coal_eval ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    double *va = NULL, *vb = NULL;
    uint8_t *z = NULL;
    wf_status st = wf_players_build(s, ws->C, ws->T, ws->channels, &pl, err);
    if (st)
        return st;
    int M = pl.M;
    if (M > WF_DIFF_GAME_MAX_M || (m_expect > 0 && M != m_expect)) {
        st = wf_error_set(err, WF_ERR_INVALID,
                          "difference game: %d players (expected %d, at most %d)", M, m_expect,
                          WF_DIFF_GAME_MAX_M);
        goto done;
    }
    /* the arithmetic KernelSHAP uses (explain.c): the first-layer shortcut unless "exact" */
    int affine = s->arithmetic == WF_ARITHMETIC_EXACT ? 0 : 1;
    if ((st = wf_coal_eval_init(&ea, pa, bg, &pl, WF_LINK_IDENTITY, affine, KSHAP_BATCH, err)) ||
        (st = wf_coal_eval_init(&eb, pb, bg, &pl, WF_LINK_IDENTITY, affine, KSHAP_BATCH, err)) ||
        (st = wf_coal_eval_window(&ea, x, err)) || (st = wf_coal_eval_window(&eb, x, err)))
        goto done;
    uint64_t N = (uint64_t)1 << M;
    /* the chunking of kshap_exact: ev->max_batch / bg->n coalitions per call */
    int64_t chunk = ea.max_batch / bg->n;
    if (chunk < 1)
        chunk = 1;
    if ((uint64_t)chunk > N)
        chunk = (int64_t)N;
    va = malloc(sizeof(double) * N);
    vb = malloc(sizeof(double) * N);
    z = malloc((size_t)chunk * (size_t)M);
    if (!va || !vb || !z) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory enumerating 2^%d coalitions", M);
        goto done;
    }
    for (uint64_t S0 = 0; S0 < N && !st; S0 += (uint64_t)chunk) {
        int64_t n = N - S0 < (uint64_t)chunk ? (int64_t)(N - S0) : chunk;
        for (int64_t k = 0; k < n; k++)
            for (int p = 0; p < M; p++)
                z[(size_t)k * M + (size_t)p] = (uint8_t)(((S0 + (uint64_t)k) >> p) & 1);
        st = wf_coal_eval_values(&ea, z, n, va + S0, err);
        if (!st)
            st = wf_coal_eval_values(&eb, z, n, vb + S0, err);
    }
    if (st)
        goto done;
    for (uint64_t S = 0; S < N; S++)
        va[S] -= vb[S]; /* d(S) */
    wf_shapley_exact(phi, va, M);
    *base = va[0];
    *fx = va[N - 1];
done:
    free(va);
    free(vb);
    free(z);
    wf_coal_eval_free(&ea);
    wf_coal_eval_free(&eb);
    wf_players_free(&pl);
    return st;
}
