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

/*
 * One parser for the explain settings, shared by the config loader and the CLI flags
 * (--method, --groups, ...). Each parses a string into s (or *out) and, on failure, returns
 * WF_ERR_CONFIG with a message "found X, expected Y" (the caller prefixes the key path or flag).
 */
/* "kernelshap" | "ig" | "both" */
wf_status wf_explain_parse_method(const char *v, wf_explain_settings *s, wf_error *err);
/* "channel" | "segments:K" (K >= 1) | "cell". Explicit groups come from the config only. */
wf_status wf_explain_parse_groups(const char *v, wf_explain_settings *s, wf_error *err);
/* a positive integer | "auto" (WF_NSAMPLES_AUTO) | "exact" (WF_NSAMPLES_EXACT) */
wf_status wf_explain_parse_nsamples(const char *v, int64_t *out, wf_error *err);
/* "identity" | "logit" | "logit_output" (see wf_link) */
wf_status wf_explain_parse_link(const char *v, wf_link *out, wf_error *err);
/* "gausslegendre" | "riemann_left" | "riemann_right" | "riemann_middle" | "riemann_trapezoid" */
wf_status wf_explain_parse_ig_method(const char *v, wf_ig_rule *out, wf_error *err);
/* a positive integer | "auto" (0) */
wf_status wf_explain_parse_steps(const char *v, int *out, wf_error *err);
/* "mean" | "zeros" | "median" | a path to a windows file (copied into s->baseline_path as
 * given; the config loader resolves it against the config folder first) */
wf_status wf_explain_parse_baseline(const char *v, wf_explain_settings *s, wf_error *err);
/* "sample" | "file" | "kmeans" */
wf_status wf_explain_parse_background(const char *v, wf_background_kind *out, wf_error *err);
/* Names of the enums, as the config spells them (for reports and results.json). */
const char *wf_explain_method_name(const wf_explain_settings *s);
const char *wf_ig_rule_name(wf_ig_rule r);
const char *wf_link_name(wf_link l);
const char *wf_baseline_name(wf_baseline_kind b);
const char *wf_background_name(wf_background_kind b);

#ifdef __cplusplus
}
#endif
#endif
