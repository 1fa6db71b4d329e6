/*
 * whyflag: explaining the difference of two models (issue 15).
 *
 * The difference game of models A and B over a background is d(S) = v_A(S) - v_B(S), with
 * v_m(S) = sum_b w_b f_m(x on S's cells, b elsewhere) (identity link). Its Shapley values are
 * phi_A - phi_B by linearity; whyflag computes them once, from d itself, so that the report can
 * check the identity (a KernelSHAP that is not linear in the model would fail it).
 */
#ifndef WHYFLAG_EXPLAIN_COMPARE_H
#define WHYFLAG_EXPLAIN_COMPARE_H

#include <stdint.h>

#include "whyflag/explain.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of players the difference game enumerates (2^M coalitions). */
#define WF_DIFF_GAME_MAX_M 16

/* Exact Shapley values of the difference game for window x (C*T) with the players of s (its
 * groups; s->link and s->hierarchy are ignored: identity link, plain Shapley values), every
 * coalition enumerated and both models evaluated on the same masked rows, in the same batches as
 * KernelSHAP's exact mode. phi: (M) where M is the number of players (checked against m_expect
 * when > 0); *base = d(empty set), *fx = d(all players). */
wf_status wf_explain_difference_game(const wf_explain_settings *s, const wf_predictor *pa,
                                     const wf_predictor *pb, const wf_background *bg,
                                     const wf_windows *ws, const float *x, int m_expect,
                                     double *phi, double *base, double *fx, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif
