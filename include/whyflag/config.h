/*
 * whyflag: the run configuration (config.json). Loaded and validated by src/config, the only
 * cJSON reader. Paths in the file are relative to the config file's folder; the loader resolves
 * them to usable paths. Every error names the key path (log.channels[3].column), what was found
 * and what was expected; unknown keys are errors, never silently ignored.
 */
#ifndef WHYFLAG_CONFIG_H
#define WHYFLAG_CONFIG_H

#include <stdint.h>

#include "whyflag/explain.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_PATH_MAX 1024

typedef struct wf_channel_config {
    char name[WF_ID_MAX];   /* the model's channel name */
    char column[WF_ID_MAX]; /* CSV header of its column */
    char unit[32];          /* "m/s", "°C" (UTF-8); "" when not given */
} wf_channel_config;

typedef enum wf_missing_policy {
    WF_MISSING_SKIP = 0,
    WF_MISSING_INTERPOLATE = 1
} wf_missing_policy;

typedef struct wf_log_config {
    char path[WF_PATH_MAX]; /* resolved */
    char delimiter;         /* ',' default */
    char decimal;           /* '.' default, or ',' */
    char turbine_column[WF_ID_MAX];
    char time_column[WF_ID_MAX];
    char time_format[64];    /* "iso8601" or a strptime-style pattern */
    int64_t cadence_seconds; /* 600 default */
    int n_channels;
    wf_channel_config *channels; /* owned */
} wf_log_config;

typedef struct wf_window_config {
    int length; /* T */
    int stride;
    wf_missing_policy missing;
    int interpolate_max; /* K for {"interpolate": K} */
} wf_window_config;

typedef struct wf_failures_config {
    char path[WF_PATH_MAX]; /* "" when no failure log */
    double horizon_hours;   /* 72 default */
} wf_failures_config;

typedef struct wf_report_config {
    char template_path[WF_PATH_MAX]; /* "" = the default template */
    char fonts_dir[WF_PATH_MAX];     /* "" = the installed fonts/ */
    char title[256];                 /* fleet / report title; "" = default */
    int max_episode_pages;           /* cap on per-episode detail sections (default 200) */
} wf_report_config;

typedef struct wf_config {
    char config_path[WF_PATH_MAX]; /* the file itself */
    char base_dir[WF_PATH_MAX];    /* its folder */
    char model[WF_PATH_MAX];       /* resolved model path */
    char layout[8];                /* "" (from the model), "NCT" or "NTC" */
    wf_log_config log;
    wf_window_config window;
    wf_failures_config failures;
    char output_dir[WF_PATH_MAX]; /* resolved; "out" default */
    double threshold;             /* flag when score >= threshold (default 0.5) */
    int has_explain;
    wf_explain_settings explain; /* the "explain" section (defaults if absent) */
    wf_report_config report;
} wf_config;

/* Load and validate path. On success the caller owns *cfg contents: wf_config_deinit. */
wf_status wf_config_load(const char *path, wf_config *cfg, wf_error *err);
/* Same from a string (base_dir resolves relative paths; name is used in messages). */
wf_status wf_config_parse(const char *json, const char *name, const char *base_dir, wf_config *cfg,
                          wf_error *err);
void wf_config_deinit(wf_config *cfg);

/* The files the explain settings name (a background windows file, a baseline window), read
 * here (the explain stage opens no file) and handed to explain through s->background_windows
 * and s->baseline_values, which point into f until wf_explain_files_free. The baseline must be
 * one window of C x T. */
typedef struct wf_explain_files {
    wf_windows background, baseline;
} wf_explain_files;
wf_status wf_explain_files_load(wf_explain_settings *s, int C, int T, wf_explain_files *f,
                                wf_error *err);
void wf_explain_files_free(wf_explain_files *f);

#ifdef __cplusplus
}
#endif
#endif
