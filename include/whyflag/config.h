/*
 * whyflag: the run configuration (config.json). Loaded and validated by src/io, the only
 * cJSON reader. Paths in the file are relative to the config file's folder; the loader resolves
 * them to usable paths. Every error names the key path (log.channels[3].column), what was found
 * and what was expected; unknown keys are errors, never silently ignored.
 */
#ifndef WHYFLAG_CONFIG_H
#define WHYFLAG_CONFIG_H

#include <stdint.h>

#include "whyflag/data.h"
#include "whyflag/drift.h"
#include "whyflag/explain.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_report_config {
    char template_path[WF_PATH_MAX]; /* "" = the default template */
    char fonts_dir[WF_PATH_MAX];     /* "" = the installed fonts/ */
    char title[256];                 /* fleet / report title; "" = default */
    int max_episode_pages;           /* cap on per-episode detail sections (default 200) */
    double max_rejected_share; /* warn when a larger share of rows or windows is rejected (0.5) */
    double episode_merge_gap_hours; /* flagged windows closer than this are one episode; 0 = one
                                       stride (successive windows only) */
    int per_turbine; /* issue 19: also turbines/<id>.pdf per flagged turbine (default off) */
} wf_report_config;

/* The "drift" section (issue 16): what the audited log is compared with. */
typedef enum wf_drift_ref_kind {
    WF_DRIFT_REF_PERIOD = 0, /* rows of the audited log with from <= time < to */
    WF_DRIFT_REF_LOG = 1,    /* every row of another log with the same column mapping */
} wf_drift_ref_kind;

typedef struct wf_drift_config {
    wf_drift_ref_kind ref_kind;
    int64_t ref_from, ref_to;   /* UTC seconds, from inclusive, to exclusive (period) */
    char ref_path[WF_PATH_MAX]; /* resolved (log) */
    wf_drift_period period;     /* "day", "week" (default), "month" */
    wf_drift_settings settings; /* thresholds (wf_drift_settings_init defaults) */
    int64_t memory_mb;          /* one budget for all drift accumulators of a run (default 64) */
    int64_t unflagged_sample;   /* unflagged windows explained per period (default 8; 0: none) */
} wf_drift_config;

/* The "compare" section (issue 15): a second model B run on the same windows as the model A. */
typedef struct wf_compare_config {
    char model[WF_PATH_MAX];  /* resolved path of B */
    char name[128];           /* "" = B's file name */
    char relation[16];        /* what B is to A: "challenger" (default), "teacher",
                                 "student" or "previous" */
    char layout[8];           /* "" (from B), "NCT" or "NTC" */
    char model_output[160];   /* B's score: "" (default) or "NAME" / "NAME:COLUMN" */
    double threshold;         /* B flags when score_b >= threshold (default: the main one) */
    int max_explained;        /* disagreements (and windows both flag) explained, each
                                 capped by |score difference| (default 50) */
    int bootstrap;            /* resamples over turbines for the intervals (default 1000) */
    int has_arms;             /* an "arms" object was given */
    int n_arm_b;              /* turbines that ran B in the field; the others ran A */
    char (*arm_b)[WF_ID_MAX]; /* (n_arm_b) owned */
} wf_compare_config;

typedef struct wf_config {
    char config_path[WF_PATH_MAX]; /* the file itself */
    char base_dir[WF_PATH_MAX];    /* its folder */
    char model[WF_PATH_MAX];       /* resolved model path */
    char layout[8];                /* "" (from the model), "NCT" or "NTC" */
    char model_output[160];        /* "" (the default score), or "NAME" / "NAME:COLUMN" */
    wf_log_config log;
    wf_window_config window;
    wf_failures_config failures;
    char output_dir[WF_PATH_MAX]; /* resolved; "out" default */
    double threshold;             /* flag when score >= threshold (default 0.5) */
    int has_explain;
    wf_explain_settings explain; /* the "explain" section (defaults if absent) */
    wf_report_config report;
    int has_drift;             /* a "drift" section was given; without it no drift is computed */
    wf_drift_config drift;     /* the "drift" section */
    int has_compare;           /* a "compare" section was given (or --compare) */
    wf_compare_config compare; /* the "compare" section (issue 15) */
} wf_config;

/* The compare section's defaults for model path (resolved), with the main threshold. */
void wf_compare_config_default(wf_compare_config *c, double threshold);

/* The data stage's view of a config (its log, window and failure-log sections). */
static inline wf_data_config wf_config_data(const wf_config *cfg) {
    wf_data_config d = {&cfg->log, &cfg->window, &cfg->failures};
    return d;
}

/* Load and validate path. On success the caller owns *cfg contents: wf_config_deinit. */
wf_status wf_config_load(const char *path, wf_config *cfg, wf_error *err);
/* The same, reading the file once: sha256_hex (65 bytes, may be NULL) receives the SHA-256 of
 * exactly the bytes parsed (the run's identity records it). */
wf_status wf_config_load_digest(const char *path, wf_config *cfg, char sha256_hex[65],
                                wf_error *err);
/* Same from a string (base_dir resolves relative paths; name is used in messages). */
wf_status wf_config_parse(const char *json, const char *name, const char *base_dir, wf_config *cfg,
                          wf_error *err);
void wf_config_deinit(wf_config *cfg);

/* A starting config.json (pretty, comment-free) for a guessed log layout: the log section from
 * g, log_path, model_path and failures_path (NULL: none) as written, a window of window_length
 * steps (<= 0: 36) with half overlap, threshold 0.5, KernelSHAP + IG per channel. *text is
 * malloc'd. */
wf_status wf_config_starting_json(const wf_log_guess *g, const char *log_path,
                                  const char *model_path, const char *failures_path,
                                  int window_length, char **text, wf_error *err);

/* The files the explain settings name (a background windows file, a baseline window), read
 * here (the explain stage opens no file) and handed to explain through s->background_windows
 * and s->baseline_values, which point into f until wf_explain_files_free. The baseline must be
 * one window of C x T. */
typedef struct wf_explain_files {
    wf_windows background, baseline;
    wf_windows covers; /* explain.treeshap_covers as a file: s->treeshap_cover_windows */
    /* SHA-256 of exactly the bytes parsed into background and baseline ("" when not a file):
     * each file is read once, and the run's identity records these. */
    char background_sha256[65], baseline_sha256[65];
} wf_explain_files;
wf_status wf_explain_files_load(wf_explain_settings *s, int C, int T, wf_explain_files *f,
                                wf_error *err);
void wf_explain_files_free(wf_explain_files *f);

#ifdef __cplusplus
}
#endif
#endif
