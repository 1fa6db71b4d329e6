/*
 * whyflag: attributions. KernelSHAP (players = groups of window cells, interventional, weighted
 * background), Integrated Gradients (and Expected Gradients) per cell with channel sums, and the
 * agreement between the two. Inputs: windows and a wf_predictor. Outputs: plain structs that the
 * report stage reads and results.json records.
 */
#ifndef WHYFLAG_EXPLAIN_H
#define WHYFLAG_EXPLAIN_H

#include <stdint.h>

#include "whyflag/predictor.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wf_hierarchy; /* whyflag/explain_checks.h */

typedef enum wf_groups_kind {
    WF_GROUPS_CHANNEL = 0,  /* one player per channel (its whole row), the default */
    WF_GROUPS_SEGMENTS = 1, /* channel x K equal time segments */
    WF_GROUPS_CELL = 2,     /* one player per cell */
    WF_GROUPS_EXPLICIT = 3, /* groups given in the config */
    WF_GROUPS_AUTO = 4,     /* the dependence groups of the background's channels (issue 13): a
                               group of one channel stays that channel (whyflag/explain_checks.h,
                               wf_explain_plan_build resolves it into explicit groups) */
    WF_GROUPS_HIERARCHY = 5 /* the channels, valued by the exact Owen values over the background's
                               dependence dendrogram (resolved into channels + s->hierarchy) */
} wf_groups_kind;

/* Link for KernelSHAP. LOGIT is shap's: the link is applied to v(S) = E_b f(...), so values are in
 * log-odds of the expected probability. LOGIT_OUTPUT explains the model's log-odds output
 * itself: v(S) = E_b logit f(...) (for a logistic regression the exact linear Shapley values). */
typedef enum wf_link { WF_LINK_IDENTITY = 0, WF_LINK_LOGIT = 1, WF_LINK_LOGIT_OUTPUT = 2 } wf_link;

typedef enum wf_ig_rule {
    WF_IG_GAUSS_LEGENDRE = 0, /* default, as captum */
    WF_IG_RIEMANN_LEFT = 1,
    WF_IG_RIEMANN_RIGHT = 2,
    WF_IG_RIEMANN_MIDDLE = 3,
    WF_IG_RIEMANN_TRAPEZOID = 4, /* captum's weights: 1/n, both ends halved */
    WF_IG_CLENSHAW_CURTIS = 5,   /* nested: adaptive doublings reuse every earlier gradient */
    WF_IG_AUTO = 6 /* settings only: Clenshaw-Curtis when steps are adaptive, else Gauss-Legendre */
} wf_ig_rule;

typedef enum wf_baseline_kind {
    WF_BASELINE_MEAN = 0, /* per-channel mean of the background (default) */
    WF_BASELINE_ZEROS = 1,
    WF_BASELINE_MEDIAN = 2,
    WF_BASELINE_FILE = 3 /* a windows file holding one window */
} wf_baseline_kind;

typedef enum wf_background_kind {
    WF_BACKGROUND_SAMPLE = 0, /* drawn from the run's windows, seeded (unflagged by default) */
    WF_BACKGROUND_FILE = 1,   /* a windows file */
    WF_BACKGROUND_KMEANS = 2  /* weighted k-means summary of the run's windows */
} wf_background_kind;

/* TreeSHAP's output scale: the ensemble's raw margin (exact) or shap's rescaling to the
 * probability (approximate, see wf_treeshap_explain_probability). */
typedef enum wf_treeshap_output {
    WF_TREESHAP_MARGIN = 0,
    WF_TREESHAP_PROBABILITY = 1
} wf_treeshap_output;

/* How KernelSHAP (and the Owen values) evaluate a coalition's rows (config explain.arithmetic).
 * SHORTCUT (default): where the graph starts with an affine first layer (after the input's
 * QuantizeLinear -> DequantizeLinear for a QDQ model), a row's first-layer pre-activation is
 * summed from per-player partial products and the rest of the graph runs as deployed; equal to
 * the deployed arithmetic up to float rounding of the first layer. EXACT: every masked row runs
 * through the whole deployed graph. */
typedef enum wf_arithmetic { WF_ARITHMETIC_SHORTCUT = 0, WF_ARITHMETIC_EXACT = 1 } wf_arithmetic;

/* do_treeshap values */
#define WF_TREESHAP_OFF 0
#define WF_TREESHAP_ON 1   /* method "treeshap": the model must be a tree ensemble */
#define WF_TREESHAP_AUTO 2 /* method "both": TreeSHAP when the model is a tree ensemble */

#define WF_NSAMPLES_AUTO (-1)  /* sample until converged or max_samples */
#define WF_NSAMPLES_EXACT (-2) /* enumerate every coalition */

/* A window named by its identity (a background window, in results.json). */
typedef struct wf_window_ref {
    char turbine_id[WF_ID_MAX];
    int64_t start;
} wf_window_ref;

/* An explicit player: a name and the cells it holds (indices c*T+t). */
typedef struct wf_group {
    char name[WF_ID_MAX];
    int64_t n_cells;
    int64_t *cells;
} wf_group;

typedef struct wf_explain_settings {
    int do_kernelshap, do_ig; /* which methods (both 1 = "both") */
    /* KernelSHAP */
    wf_groups_kind groups;
    int segments;              /* K for WF_GROUPS_SEGMENTS */
    int n_groups;              /* WF_GROUPS_EXPLICIT */
    wf_group *explicit_groups; /* owned */
    int64_t nsamples;          /* > 0, WF_NSAMPLES_AUTO or WF_NSAMPLES_EXACT */
    int64_t max_samples;       /* cap for AUTO (default 65536) */
    double convergence;        /* max SE / (max phi - min phi) threshold (default 0.01) */
    wf_link link;
    wf_background_kind background;
    char background_path[1024];           /* WF_BACKGROUND_FILE (named in reports) */
    const wf_windows *background_windows; /* WF_BACKGROUND_FILE: the file's windows, loaded by
                                           * the caller (borrowed; explain opens no file) */
    int background_size;                  /* windows drawn / k-means clusters (default 50) */
    int background_include_flagged;       /* 0: draw from unflagged windows only (default) */
    /* Integrated Gradients */
    wf_ig_rule ig_rule;
    int steps;     /* > 0, or 0 for adaptive ("auto") */
    int max_steps; /* adaptive cap (default 1024) */
    double ig_tol; /* adaptive: |delta| <= tol * |f(x) - f(x')| (default 0.01) */
    wf_baseline_kind baseline;
    char baseline_path[1024];
    const float *baseline_values; /* WF_BASELINE_FILE: (C, T) the file's one window, loaded by
                                   * the caller (borrowed) */
    int expected_gradients;       /* 1: Expected Gradients (baselines drawn from the background) */
    int eg_samples;               /* baselines x alphas drawn per window for EG (default 200) */
    /* run */
    uint64_t seed; /* default 0 */
    int threads;   /* 0 = all cores */
    /* groups "hierarchy" (issue 13): when not NULL, the KernelSHAP values are replaced by the
     * exact Owen values over this tree of the players (see whyflag/explain_checks.h; its M must
     * equal the number of players, usually the channels). Borrowed, default NULL. */
    const struct wf_hierarchy *hierarchy;
    /* TreeSHAP (issue 11) */
    int do_treeshap;                        /* WF_TREESHAP_OFF / _ON / _AUTO (default AUTO) */
    wf_treeshap_output treeshap_output;     /* default margin */
    const struct wf_tree_model *tree_model; /* whyflag/trees.h: set by the caller when the model
                                             * is a tree ensemble (borrowed), else NULL */
    const char *ig_not_applicable;          /* why the model has no gradient (borrowed, from
                                             * wf_model_differentiable), or NULL */
    /* Path-dependent TreeSHAP (shap's tree_path_dependent, whyflag/treeshap_path.h): node
     * covers counted from treeshap_covers: "" interventional TreeSHAP (default), "background"
     * the background windows (with their weights), else the path of a windows file, loaded by
     * the caller into treeshap_cover_windows (borrowed; explain opens no file). */
    char treeshap_covers[1024];
    const wf_windows *treeshap_cover_windows;
    wf_arithmetic arithmetic; /* default WF_ARITHMETIC_SHORTCUT */
} wf_explain_settings;

/* Fill s with the defaults documented above. */
void wf_explain_settings_default(wf_explain_settings *s);
/* Free what the settings own (explicit groups). */
void wf_explain_settings_deinit(wf_explain_settings *s);

typedef struct wf_kshap_result {
    int M;             /* players */
    char **players;    /* M names (owned) */
    double base_value; /* E f(background) in link space */
    double f_x;        /* f(x) in link space */
    double *values;    /* M Shapley values, sum = f_x - base_value (efficiency) */
    double *std_err;   /* M standard errors (0 in exact mode; NaN when the budget is too small
                          for independent batches, about 4M sampled coalitions) */
    int64_t samples;   /* distinct coalitions behind the values (2^M in exact mode); with
                          nsamples "auto", those of the final budget (earlier, smaller
                          budgets are evaluated too and discarded) */
    int exact;         /* 1 if every coalition was enumerated */
    int converged;     /* 1 if the convergence rule held (always 1 when exact) */
    wf_link link;
    double efficiency_gap; /* sum(values) - (f_x - base_value), should be ~0 */
} wf_kshap_result;

typedef struct wf_ig_result {
    int C, T;
    double *values;       /* (C, T) attributions */
    double *channel_sums; /* (C) */
    double f_x, f_baseline;
    double delta;  /* sum(values) - (f_x - f_baseline) */
    int steps;     /* steps used (after adaptation) */
    int converged; /* adaptive mode: tolerance reached */
    wf_ig_rule rule;
    int expected_gradients;
    const char *baseline; /* "mean", "zeros", "median", a file name (static or owned by settings) */
    const char *surrogate; /* NULL for float models */
} wf_ig_result;

/* TreeSHAP values of one window (exact interventional Shapley values of the margin, or shap's
 * approximate rescaling to the probability). */
typedef struct wf_treeshap_result {
    int M;
    char **players; /* M names (owned) */
    double base_value, f_x;
    double *values; /* M, sum = f_x - base_value */
    wf_treeshap_output output;
    double efficiency_gap;
    int path_dependent; /* 0 interventional, 1 path-dependent (covers from data) */
} wf_treeshap_result;

void wf_treeshap_result_free(wf_treeshap_result *r);

typedef struct wf_explanation {
    int64_t window_index; /* index into the run's windows */
    double score;         /* model output f(x) (probability space) */
    wf_status status;     /* WF_OK, or why this window could not be explained */
    char error[WF_REASON_MAX];
    int has_kshap, has_ig;
    wf_kshap_result kshap;
    wf_ig_result ig;
    double agreement; /* Spearman rank correlation of KernelSHAP channel values and IG channel
                         sums; NaN when not computable (players are not channels, or one method
                         missing) */
    int has_treeshap;
    wf_treeshap_result treeshap;
    /* TreeSHAP vs KernelSHAP, when both ran: max |difference| of the values when both explain
     * the same quantity (KernelSHAP link logit_output on a logistic classifier's margin, or
     * identity when the score is the margin; NaN otherwise), the Spearman rank correlation and
     * the number of players whose values have the same sign. */
    double ts_ks_max_diff, ts_ks_spearman;
    int ts_ks_same_sign;
    /* IG was asked for but the model has no gradient: 1 and the reason (borrowed). */
    int ig_not_applicable;
    const char *ig_reason;
} wf_explanation;

void wf_explanation_deinit(wf_explanation *e);

/* Background set: windows (n, C, T) with weights summing to 1. */
typedef struct wf_background {
    int C, T;
    int64_t n;
    float *x;              /* (n, C, T), owned */
    double *weight;        /* (n), owned, sum 1 */
    char description[256]; /* for the methods text, e.g. "50 unflagged windows drawn with seed 0" */
    /* The windows the background was taken from, so that an auditor can rebuild it from the log:
     * the drawn windows themselves (sample, file), or the population a k-means summary was
     * computed from. n_src == 0 when unknown. */
    int64_t n_src;
    wf_window_ref *src; /* (n_src), owned */
} wf_background;

void wf_background_deinit(wf_background *b);
/* Record the windows a background came from (w: n pointers, or wa: n windows). */
wf_status wf_background_set_src(wf_background *b, const wf_window *const *w, const wf_window *wa,
                                int64_t n, wf_error *err);
/* Build a background according to s from a windows set (flags[i] != 0 marks flagged windows; may
 * be NULL) or from the windows file the caller loaded (s->background_windows). */
wf_status wf_background_build(const wf_explain_settings *s, const wf_windows *ws,
                              const uint8_t *flags, wf_background *out, wf_error *err);

/* Explain n windows (indices idx into ws, or all when idx == NULL) with predictor p.
 * out: n explanations (caller-allocated, deinit each). A window that fails gets status != WF_OK
 * and an error text; the batch goes on. Deterministic for a given seed whatever s->threads. */
wf_status wf_explain_run(const wf_explain_settings *s, const wf_predictor *p,
                         const wf_background *bg, const wf_windows *ws, const int64_t *idx,
                         int64_t n, wf_explanation *out, wf_error *err);

/* Human-readable description of the settings for reports (method text), into buf. */
void wf_explain_describe(const wf_explain_settings *s, const wf_background *bg, char *buf,
                         size_t size);

/*
 * One parser for the explain settings, shared by the config loader and the CLI flags
 * (--method, --groups, ...). Each parses a string into s (or *out) and, on failure, returns
 * WF_ERR_CONFIG with a message "found X, expected Y" (the caller prefixes the key path or flag).
 */
/* "kernelshap" | "ig" | "treeshap" | "both" (KernelSHAP with IG, or with TreeSHAP for a
 * tree-ensemble model) */
wf_status wf_explain_parse_method(const char *v, wf_explain_settings *s, wf_error *err);
/* "channel" | "segments:K" (K >= 1) | "cell" | "auto" | "hierarchy". Explicit groups come from
 * the config only. */
wf_status wf_explain_parse_groups(const char *v, wf_explain_settings *s, wf_error *err);
/* a positive integer | "auto" (WF_NSAMPLES_AUTO) | "exact" (WF_NSAMPLES_EXACT) */
wf_status wf_explain_parse_nsamples(const char *v, int64_t *out, wf_error *err);
/* "identity" | "logit" | "logit_output" (see wf_link) */
wf_status wf_explain_parse_link(const char *v, wf_link *out, wf_error *err);
/* "gausslegendre" | "riemann_left" | "riemann_right" | "riemann_middle" | "riemann_trapezoid" |
 * "clenshaw_curtis" | "auto" */
wf_status wf_explain_parse_ig_method(const char *v, wf_ig_rule *out, wf_error *err);
/* a positive integer | "auto" (0) */
wf_status wf_explain_parse_steps(const char *v, int *out, wf_error *err);
/* "mean" | "zeros" | "median" | a path to a windows file (copied into s->baseline_path as
 * given; the config loader resolves it against the config folder first) */
wf_status wf_explain_parse_baseline(const char *v, wf_explain_settings *s, wf_error *err);
/* "sample" | "file" | "kmeans" */
wf_status wf_explain_parse_background(const char *v, wf_background_kind *out, wf_error *err);
/* "margin" | "probability" */
wf_status wf_explain_parse_treeshap_output(const char *v, wf_treeshap_output *out, wf_error *err);
/* explain.treeshap_covers: "background" | the path of a windows file (copied into
 * s->treeshap_covers as given; the config loader resolves it against the config folder first) |
 * "" or "none" (interventional TreeSHAP) */
wf_status wf_explain_parse_treeshap_covers(const char *v, wf_explain_settings *s, wf_error *err);
/* "shortcut" | "exact" */
wf_status wf_explain_parse_arithmetic(const char *v, wf_arithmetic *out, wf_error *err);
/* Names of the enums, as the config spells them (for reports and results.json). */
const char *wf_explain_method_name(const wf_explain_settings *s);
/* "channel", "segments" (without its K), "cell", "explicit", "auto", "hierarchy" */
const char *wf_groups_name(const wf_explain_settings *s);
const char *wf_ig_rule_name(wf_ig_rule r);
const char *wf_link_name(wf_link l);
const char *wf_baseline_name(wf_baseline_kind b);
const char *wf_background_name(wf_background_kind b);
const char *wf_treeshap_output_name(wf_treeshap_output o);
const char *wf_arithmetic_name(wf_arithmetic a);
/* 1 when TreeSHAP runs with these settings (method "treeshap", or "both" with a tree model). */
int wf_explain_uses_treeshap(const wf_explain_settings *s);

#ifdef __cplusplus
}
#endif
#endif
