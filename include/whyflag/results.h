/*
 * whyflag: the results of a run, as plain structs that the report stage reads. Everything a
 * report prints is also written to results.json (wf_results_write_json), so that tests and
 * auditors can check every number without reading the PDF.
 *
 * wf_results borrows its windows, background and explanations from the caller (who keeps them
 * alive until the report is written); it owns nothing but what wf_results_deinit frees.
 */
#ifndef WHYFLAG_RESULTS_H
#define WHYFLAG_RESULTS_H

#include <stdint.h>

#include "whyflag/data.h"
#include "whyflag/explain.h"
#include "whyflag/explain_checks.h"
#include "whyflag/results_compare.h"
#include "whyflag/results_drift.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_results {
    /* run */
    const char *tool;       /* "whyflag 0.1.0" */
    const char *command;    /* "explain" or "audit" */
    const char *model_path; /* as given */
    char model_sha256[65];
    int model_quantized;
    const char *surrogate; /* gradient surrogate for quantized models, else NULL */
    /* The score: graph output, column, and "probability" | "logit" | "unknown" as the graph
     * shows it (wf_predictor's output_*); output_name NULL when not known. */
    const char *output_name;
    int output_column;
    const char *output_kind;
    double threshold;     /* flag when score >= threshold; NaN for `explain` */
    int64_t generated_at; /* SOURCE_DATE_EPOCH when set, else the time of the run */
    const wf_explain_settings *settings;
    const wf_background *background; /* may be NULL */

    /* data */
    const wf_windows *windows; /* all valid windows (values, labels) and the skipped list */
    const double *scores;      /* (windows->n) model output per window; NULL for `explain` */
    const uint8_t *flagged;    /* (windows->n) 1 if score >= threshold; NULL for `explain` */
    int64_t n_failures;
    const wf_failure *failures; /* the failure log, may be NULL */
    double horizon_hours;
    /* Flagged windows of a turbine form one alarm episode while the gap between them (time
     * between the starts, less one stride) is shorter than this many hours; 0 = one stride (only
     * successive windows). */
    double episode_merge_gap_hours;

    /* Optional (C each): smallest and largest value of each channel over every valid window,
     * when the caller computed them while streaming (the windows' values are then not kept);
     * NULL: computed from windows->w[i].values. */
    const double *channel_min, *channel_max;

    /* The counts of the log's pass (rows read, used and rejected by reason; windows cut, skipped
     * by kind); NULL when not known (explain on a windows file). */
    const wf_data_stats *input;

    /* The model card (what the model is, from its file); NULL when not built. */
    const struct wf_model_card *model_card;

    /* explanations, in window order */
    int64_t n_explained;
    const wf_explanation *expl;

    /* The checks of the explanations (issue 13); NULL when not computed. */
    const wf_dependence *dependence; /* of the background's channels */
    const wf_why *why; /* (n_explained) parallel to expl: the sentence, its drivers and the
                          agreement of KernelSHAP and IG; text "" where it could not be built
                          (no KernelSHAP values, a failed window) */
    /* drift (issue 16): NULL when the config has no "drift" section */
    const wf_results_drift *drift;
    /* model comparison (issue 15): NULL when the run compares no second model */
    const wf_results_compare *compare;
    /* Issue 19: what the report was rendered with, recorded in results.json ("report") so that
     * `whyflag report` renders it again (wf_report_write_all fills them from its options). */
    const char *report_title; /* NULL: not recorded */
    int max_episode_pages;    /* <= 0: not recorded */
    int per_turbine;          /* turbines/<id>.pdf were written */
    const char *methods_text; /* the methods text the report printed; NULL: not recorded */
} wf_results;

/* The version of the results.json format this build writes ("results_version"); 2 is the first
 * that holds everything a report prints (issue 19: `whyflag report` re-renders from it). */
#define WF_RESULTS_VERSION 2
/* results.json's first key, "schema" (issue 14): the JSON Schema of this shape is shipped as
 * templates/results.schema.json. Every window's score is in scores.csv beside it (an audit's
 * "scores_file"), whatever the run's size, so results.json has one shape. */
#define WF_RESULTS_SCHEMA "whyflag.results/2"

/* Write results.json atomically (the format documented in the README). */
wf_status wf_results_write_json(const char *path, const wf_results *r, wf_error *err);
/* Write scores.csv atomically, streamed (constant memory): one row per valid window in window
 * order, "turbine_id,start,end,score,flagged,label,component,interpolated", scores printed as
 * the shortest text that reads back as the same double. With a comparison (r->compare) two
 * columns follow: "score_b,flagged_b". */
wf_status wf_results_write_scores_csv(const char *path, const wf_results *r, wf_error *err);
/* Issue 14: the flat tables of an audit beside results.json, each written atomically, every
 * text cell neutralised as scores.csv's (OWASP): episodes.csv (one row per alarm episode),
 * failure_outcomes.csv (one row per failure of the failure log; header only without one) and
 * attributions.csv (long format: one row per explained window, method and player). dir is the
 * folder; the names are wf_results_table_names. */
wf_status wf_results_write_tables(const char *dir, const wf_results *r, wf_error *err);
#define WF_RESULTS_N_TABLES 3
extern const char *const wf_results_table_names[WF_RESULTS_N_TABLES];

#ifdef __cplusplus
}
#endif
#endif
