/*
 * whyflag: explanations that survive an auditor (issue 13).
 *
 *   - dependence among channels: exact linear dependence (which channel is which combination of
 *     the others, with coefficients and residual), pairwise correlation, and a hierarchical
 *     clustering of the channels; the groups it gives become KernelSHAP players
 *     (groups "auto") and its dendrogram the hierarchy of Owen values (groups "hierarchy");
 *   - Owen values over a hierarchy of players, exact (shap's PartitionExplainer);
 *   - agreement of KernelSHAP and Integrated Gradients in sign and magnitude;
 *   - the "why" sentence, built only from what the evidence supports.
 *
 * Everything here is plain data in, plain structs out; nothing prints. The dependence result
 * and the why/agreement structs are meant to be written to results.json as they are.
 */
#ifndef WHYFLAG_EXPLAIN_CHECKS_H
#define WHYFLAG_EXPLAIN_CHECKS_H

#include <stdint.h>

#include "whyflag/explain.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================== */
/* Dependence among channels                                                                 */
/* ======================================================================================== */

/* Defaults of the rules (stated in the methods text, see wf_dependence_describe). */
#define WF_DEP_EXACT_TOL                                                                           \
    1e-4 /* a channel is an exact combination when the RMS of its residual                         \
            is at most this fraction of its standard deviation (float32                            \
            storage of differences leaves ~1e-6) */
#define WF_DEP_CUT                                                                                 \
    0.05 /* groups: complete-linkage clusters on 1 - |r| cut at this height,                       \
            so every two channels of a group have |r| >= 0.95 */

typedef struct wf_dep_options {
    double exact_tol; /* WF_DEP_EXACT_TOL */
    double cut;       /* WF_DEP_CUT */
    int merge_exact;  /* 1 (default): a dependent channel and the channels of its combination
                         are at distance 0 in the clustering, so they end in one group */
    double coef_min;  /* coefficients below this (in standardized units) are not part of a
                         combination (default 1e-6) */
} wf_dep_options;

void wf_dep_options_default(wf_dep_options *o);

/* One channel found to be a linear combination of earlier independent channels:
 * x[channel] = intercept + sum_k coef[k] x[basis[k]] (in the channels' own units). */
typedef struct wf_dep_relation {
    int channel;
    int n_terms;
    int *basis;   /* (n_terms) channel indices, owned */
    double *coef; /* (n_terms), owned */
    double intercept;
    double residual_rms; /* RMS of x[channel] - combination, channel units */
    double residual_rel; /* residual_rms / sd of the channel; values below about 3e-8 are
                            beyond the measure's resolution (reported as they come, often 0) */
    double sd;           /* the channel's (weighted) standard deviation */
} wf_dep_relation;

/* Linear dependence of one matrix of observations (rows) x channels. */
typedef struct wf_dep_linear {
    int64_t rows; /* observations used */
    int rank;     /* number of independent channels (channels in order, each kept when its
                     relative residual on the kept ones exceeds exact_tol) */
    int n_relations;
    wf_dep_relation *relations; /* (n_relations), owned; one per dependent channel */
    double *singular; /* (C) singular values of the standardized, centered matrix divided by
                         sqrt(rows), descending (their squares are the correlation matrix's
                         eigenvalues) */
    int n_constant;   /* channels with zero variance (never a basis channel) */
} wf_dep_linear;

/* One merge of the dendrogram, as scipy's linkage matrix: clusters a and b (ids < C are
 * channels, C + k is the cluster made by merge k) joined at height `height`, `size` channels. */
typedef struct wf_dep_merge {
    int a, b;
    double height;
    int size;
} wf_dep_merge;

typedef struct wf_dependence {
    int C;
    char **names;         /* (C) owned copies */
    wf_dep_linear cells;  /* every cell of every window: rows = n windows x T steps */
    wf_dep_linear means;  /* window means: rows = n windows */
    double *corr;         /* (C, C) weighted Pearson correlation of cell values (NaN for a
                             constant channel) */
    double *dist;         /* (C, C) clustering dissimilarity: 1 - |r|, 0 inside an exact set
                             when merge_exact */
    wf_dep_merge *merges; /* (C - 1) complete-linkage dendrogram, heights non-decreasing */
    int n_groups;
    int *group_of; /* (C) group index of each channel; groups numbered by their first
                      channel */
    wf_dep_options options;
} wf_dependence;

/* Measure dependence on windows x (n, C, T) with weights w (n, NULL = equal; e.g. a background's
 * weights). names: C channel names (NULL: "c0", ...). Needs n >= 2. Fills out (deinit it). */
wf_status wf_dependence_measure(const float *x, const double *w, int64_t n, int C, int T,
                                char *const *names, const wf_dep_options *opt, wf_dependence *out,
                                wf_error *err);
void wf_dependence_deinit(wf_dependence *d);

/* The linear part on its own, for any matrix X (rows, C) row-major with row weights w (rows,
 * NULL = equal). */
wf_status wf_dep_linear_measure(const double *X, const double *w, int64_t rows, int C,
                                double exact_tol, double coef_min, wf_dep_linear *out,
                                wf_error *err);
void wf_dep_linear_deinit(wf_dep_linear *l);

/* The groups as KernelSHAP players (explicit groups of cells c*T+t, every step of each of the
 * group's channels), one per group in the order of their first channel; a group of one channel
 * is named after it, a larger one "a+b+c" (or "a+b+3 more" when that does not fit WF_ID_MAX).
 * *out is allocated (free each cells array and the array, or hand it to
 * wf_explain_settings.explicit_groups, which owns it then). */
wf_status wf_dependence_groups(const wf_dependence *d, int T, wf_group **out, int *n_out,
                               wf_error *err);

/* The methods text for the dependence (rules, tolerances, what was found), into buf. */
void wf_dependence_describe(const wf_dependence *d, char *buf, size_t size);

/* ======================================================================================== */
/* Groups "auto" and "hierarchy": the settings resolved against a background                 */
/* ======================================================================================== */

/* What an explanation of a run uses once its background is known: the dependence of the
 * background's channels and the settings to explain with. groups "auto" becomes explicit groups
 * (wf_dependence_groups; when every group holds one channel, the channels themselves), groups
 * "hierarchy" becomes the channels valued by the exact Owen values over the dendrogram
 * (wf_hierarchy_from_merges). Any other kind is kept as it is (explicit groups borrowed from the
 * caller's settings). The background is the same in every shard of a run, so the plan is too. */
typedef struct wf_explain_plan {
    wf_explain_settings s; /* the settings to explain with (s.hierarchy points into this plan:
                              do not copy the plan itself) */
    int has_dep;           /* 1: dep holds the dependence of the background */
    wf_dependence dep;
    struct wf_hierarchy *h; /* groups "hierarchy" (owned) */
    int owns_groups;        /* 1: s.explicit_groups belong to the plan */
} wf_explain_plan;

/* Build the plan of settings s over background bg (may be NULL: no dependence; then groups
 * "auto"/"hierarchy" are an error). names: the C channel names. */
wf_status wf_explain_plan_build(const wf_explain_settings *s, const wf_background *bg,
                                char *const *names, wf_explain_plan *out, wf_error *err);
void wf_explain_plan_deinit(wf_explain_plan *p);
/* 1 when the dependence found something an explanation over channels should mention: an exact
 * linear relation (cells or window means) or a group of two or more channels. */
int wf_dependence_found(const wf_dependence *d);

/* ======================================================================================== */
/* Hierarchies and Owen values                                                               */
/* ======================================================================================== */

/* A tree over M players: nodes 0..M-1 are the leaves (players), nodes M.. are internal, the
 * last one is the root. Internal node k has children child[start[k-M] .. start[k-M+1]). A flat
 * hierarchy (one root over all players) gives the Shapley values; a binary one (from a
 * dendrogram) the Owen values of shap's PartitionExplainer. */
typedef struct wf_hierarchy {
    int M;          /* players (leaves) */
    int n_internal; /* internal nodes, the root last */
    int *start;     /* (n_internal + 1) */
    int *child;     /* (start[n_internal]) node ids */
} wf_hierarchy;

void wf_hierarchy_deinit(wf_hierarchy *h);
/* One root over all M players (the Shapley values). */
wf_status wf_hierarchy_flat(int M, wf_hierarchy *h, wf_error *err);
/* The binary tree of a dendrogram (C - 1 merges, ids as scipy's linkage). */
wf_status wf_hierarchy_from_merges(int C, const wf_dep_merge *merges, wf_hierarchy *h,
                                   wf_error *err);
/* Two levels: the root over the dependence groups, each group over its channels (a group of one
 * channel is that channel). The Owen values then give each channel its share within its group
 * while the groups play as blocks. */
wf_status wf_hierarchy_from_groups(const wf_dependence *d, wf_hierarchy *h, wf_error *err);
/* Check that every node but the root has exactly one parent and every internal node >= 1
 * child. */
wf_status wf_hierarchy_check(const wf_hierarchy *h, wf_error *err);

/* Value function: v[k] = v(S_k) for n coalitions given as bit masks (bit p = player p on). */
typedef wf_status (*wf_value_fn)(void *user, const uint64_t *masks, int64_t n, double *v,
                                 wf_error *err);

/* Largest number of distinct coalitions wf_owen_values evaluates. */
#define WF_OWEN_MAX_COALITIONS ((int64_t)1 << 22)

/* Exact Owen values phi (M) of the game v over hierarchy h (M <= 63): the mean marginal
 * contribution over all player orders that keep every node's players together, each node's
 * children in all orders equally likely. Evaluates each needed coalition once, in one call of
 * fn (*n_coalitions receives how many; may be NULL). Efficiency: sum phi = v(all) - v(none). */
wf_status wf_owen_values(const wf_hierarchy *h, wf_value_fn fn, void *user, double *phi,
                         int64_t *n_coalitions, wf_error *err);

/* ======================================================================================== */
/* Agreement of KernelSHAP and IG                                                            */
/* ======================================================================================== */

#define WF_AGREE_TOPK 3 /* top-k overlap uses k = min(3, n) */
#define WF_AGREE_MATERIAL                                                                          \
    0.10                    /* a driver is material when it carries >= 10% of the total            \
                               absolute attribution of either method */
#define WF_AGREE_L1_MAX 0.5 /* flag when the normalised L1 distance exceeds this */

typedef struct wf_agreement {
    int n;                 /* drivers compared */
    int n_material;        /* material drivers (see WF_AGREE_MATERIAL) */
    int n_sign_agree;      /* material drivers on which both methods have the same sign */
    double sign_agreement; /* n_sign_agree / n_material (NaN when none) */
    int k;                 /* top-k size */
    int topk_overlap;      /* |top-k by |KernelSHAP| and top-k by |IG|| in common */
    double l1;             /* 0.5 * sum_i |a_i / sum|a| - b_i / sum|b||, in [0, 1]; NaN if a side
                              is all zero */
    double spearman;       /* rank correlation (as the checks table had it) */
    int disagree;          /* 1: l1 > WF_AGREE_L1_MAX or a material driver with opposite signs */
    char reason[256];      /* why disagree was set, "" otherwise */
} wf_agreement;

/* Compare KernelSHAP values a (n) and IG sums b (n) per driver. */
void wf_agreement_compute(const double *a, const double *b, int n, wf_agreement *out);

/* IG attributions (C*T cells) summed per player group (explicit groups of cells), into out
 * (n_groups). Cells in no group are ignored. */
void wf_ig_group_sums(const double *ig_cells, int C, int T, const wf_group *groups, int n_groups,
                      double *out);

/* ======================================================================================== */
/* The sentence                                                                              */
/* ======================================================================================== */

#define WF_WHY_MAIN_SHARE                                                                          \
    0.5                  /* "mainly because X": X's KernelSHAP value is >= 50% of the score        \
                            change and >= 50% of the total absolute attribution */
#define WF_WHY_RIVAL 0.5 /* ... and no other driver's |value| exceeds 50% of X's */
#define WF_WHY_LIST_COVER                                                                          \
    0.75 /* "several": drivers named until they cover 75% of the total                             \
            absolute attribution (at least 2, at most 3) */
#define WF_WHY_MAX_DRIVERS 3
#define WF_WHY_CANCEL                                                                              \
    0.1 /* |delta| below 10% of the total absolute attribution: the drivers cancel, shares of the  \
           small remainder mean nothing and the sentence gives values instead */
#define WF_WHY_TEXT_MAX 640

typedef enum wf_why_claim {
    WF_WHY_MAIN = 0,    /* "main" */
    WF_WHY_SEVERAL = 1, /* "several" */
    WF_WHY_DISAGREE = 2 /* "disagree" */
} wf_why_claim;

typedef struct wf_why_driver {
    int index; /* driver index in the input */
    char name[WF_ID_MAX];
    char channels[256];    /* the driver's channels, comma separated */
    double share;          /* kernelshap / (f(x) - E f(b)), signed */
    double kernelshap, ig; /* ig NaN when not given */
} wf_why_driver;

typedef struct wf_why {
    char text[WF_WHY_TEXT_MAX];
    wf_why_claim claim;
    int n_drivers;
    wf_why_driver drivers[WF_WHY_MAX_DRIVERS];
    wf_agreement agreement; /* of the inputs (n = 0 when IG was not given) */
} wf_why;

/* Per-driver inputs of the sentence. */
typedef struct wf_why_input {
    int n;                    /* drivers (channels or groups) */
    char *const *names;       /* (n) */
    char *const *channels;    /* (n) channel lists ("a, b"), NULL: the name */
    const double *kernelshap; /* (n) values (sum = delta) */
    const double *ig;         /* (n) IG sums per driver, NULL when IG was not run */
    double delta;             /* f(x) - E f(b), the space of the KernelSHAP values */
    const char *units;        /* e.g. "log-odds" or "score", for the text */
} wf_why_input;

/* The sentence and its claim, following the rule written in src/explain/why.c. Pure. */
void wf_why_build(const wf_why_input *in, wf_why *out);
/* The sentence for one explained window (status WF_OK, has_kshap): the drivers are the
 * KernelSHAP players that s gives for windows of C x T (channels, "auto" groups as explicit
 * groups, segments, ...), each with the channels its cells touch, and IG (when has_ig) summed
 * over each player's cells; delta = f(x) - base value, in the link's units. channels: the C
 * channel names (NULL: "c0", ...). */
wf_status wf_explanation_why(const wf_explanation *e, const wf_explain_settings *s, int C, int T,
                             char *const *channels, wf_why *out, wf_error *err);
/* The checks of a set of explanations made with settings s over background bg (names: the C
 * channel names): the plan (with the dependence of the background's channels when bg is given)
 * and, per explanation, the why sentence (*why: n entries, calloc'd, text "" where the window
 * could not be explained or has no KernelSHAP values). Used by the audit and by `whyflag
 * explain`, so both print the same sentence for the same window. Free with
 * wf_explain_plan_deinit and free(*why). */
wf_status wf_explain_checks_build(const wf_explain_settings *s, const wf_background *bg, int C,
                                  int T, char *const *names, const wf_explanation *ex, int64_t n,
                                  wf_explain_plan *plan, wf_why **why, wf_error *err);
/* The rule of the sentence and of the agreement flag, with its constants, for the methods page
 * (the text of the comment block in src/explain/why.c), into buf. */
void wf_why_describe(char *buf, size_t size);
/* "main", "several", "disagree". */
const char *wf_why_claim_str(wf_why_claim c);

#ifdef __cplusplus
}
#endif
#endif
