/*
 * whyflag: the comparison of two models on the same fleet (issue 15), as plain numbers the report
 * stage prints. Filled by the audit stage (src/audit/compare_audit.c) after every window was
 * scored by both models; wf_results.compare is NULL when the run has no "compare" section (the
 * outputs are then exactly as without it).
 *
 * The audit stage gives what needs the models: B's score and flag of every window, what each
 * model is (card, file size, time per window), and the explanations of the windows where the two
 * disagree (A, B and the difference game f_A - f_B) and of windows both flag. The report stage
 * computes the paired statistics (agreement table, Cohen's kappa, McNemar, score differences) and
 * each model's alarm episodes and outcomes from these with the same code it uses for A
 * (src/report/results_compare.c).
 */
#ifndef WHYFLAG_RESULTS_COMPARE_H
#define WHYFLAG_RESULTS_COMPARE_H

#include <stdint.h>

#include "whyflag/explain_checks.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wf_model_card;

/* What one model is and costs. */
typedef struct wf_compare_model {
    const char *name; /* shown in reports */
    const char *path; /* as resolved */
    char sha256[65];
    const struct wf_model_card *card; /* parameters, FLOPs, ops (may be NULL) */
    int64_t file_bytes;
    int quantized;
    double threshold;
    const char *output_name; /* graph output read (NULL when unknown) */
    int output_column;
    const char *output_kind;   /* "probability" | "logit" | "unknown" */
    double seconds_per_window; /* engine time per window, one thread, batch of 256; NaN when not
                                  measured (SOURCE_DATE_EPOCH set: outputs must be reproducible) */
} wf_compare_model;

/* One explained window of the comparison. kind: 1 only A flags, 2 only B flags, 3 both flag. */
typedef struct wf_compare_window {
    int64_t window_index; /* into wf_results.windows */
    int kind;
    double score_a, score_b;
    wf_status status; /* WF_OK, or why it could not be explained */
    char error[WF_REASON_MAX];
    /* KernelSHAP (identity link, same players, background and coalitions for both models) */
    int has_kshap;
    int M;
    const char *const *players; /* (M) borrowed from wf_results_compare.players */
    double *phi_a, *phi_b;      /* (M) */
    double base_a, base_b, fx_a, fx_b;
    /* the difference game v_A(S) - v_B(S), computed once (disagreements only, else NULL) */
    double *phi_diff;          /* (M) */
    double base_diff, fx_diff; /* E f_A - E f_B over the background, f_A(x) - f_B(x) */
    double diff_check;         /* max |phi_diff - (phi_a - phi_b)| */
    double diff_efficiency;    /* sum phi_diff - (fx_diff - base_diff) */
    /* Integrated Gradients channel sums of each model (NULL when not run) */
    int has_ig;
    double *ig_a, *ig_b; /* (C) */
    double ig_delta_a, ig_delta_b;
    /* attribution agreement of A and B (KernelSHAP values, A as "a", B as "b") */
    wf_agreement agree;
    int top_a, top_b; /* player with the largest |value| of each model */
} wf_compare_window;

typedef struct wf_results_compare {
    const char *relation; /* what B is to A: "challenger", "teacher", "student", "previous" */
    wf_compare_model a, b;
    const double *scores_b;   /* (windows->n) */
    const uint8_t *flagged_b; /* (windows->n) score_b >= b.threshold */
    /* arms (turbines that ran B in the field; the others ran A); n_arm_b 0 when not given */
    int n_arm_b;
    const char (*arm_b)[WF_ID_MAX];
    /* bootstrap over turbines */
    int bootstrap;
    uint64_t seed;
    /* explanations */
    const char *settings_text; /* how the comparison's explanations were made, one sentence */
    int max_explained;
    int64_t n_disagree;           /* windows one model flags and the other does not */
    int64_t n_both;               /* windows both flag */
    int64_t n_windows;            /* explained windows (disagreements first, then both-flag) */
    const wf_compare_window *win; /* (n_windows) */
    int M;
    const char *const *players; /* (M) */
    double max_diff_check;      /* over the explained disagreements (NaN when none) */
} wf_results_compare;

#ifdef __cplusplus
}
#endif
#endif
