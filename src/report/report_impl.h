/*
 * Internal to src/report: the analysis every output shares (turbines, alarm episodes, outcomes
 * against the failure log, the explanation of each window), the template and the charts.
 * Computed once per report from the wf_results; the PDF, the workbook and results.json all print
 * the same numbers from here.
 */
#ifndef WF_REPORT_IMPL_H
#define WF_REPORT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/jw.h"
#include "whyflag/model.h"
#include "whyflag/report.h"
#include "whyflag/results.h"

typedef enum wf_outcome {
    WF_OUTCOME_UNKNOWN = 0, /* no failure log */
    WF_OUTCOME_TRUE = 1,    /* a failure followed within the horizon */
    WF_OUTCOME_FALSE = 2,   /* no failure followed */
    WF_OUTCOME_REPEAT = 3,  /* a failure followed, but an earlier episode already caught it */
} wf_outcome;

/* What became of a failure in the log. */
typedef enum wf_failure_outcome {
    WF_FAILURE_CAUGHT = 0,         /* an episode preceded it within the horizon */
    WF_FAILURE_MISSED = 1,         /* windows were scored before it, none flagged in time */
    WF_FAILURE_NOT_OBSERVABLE = 2, /* no scored window ends within the horizon before it */
} wf_failure_outcome;

/* One threshold of the sweep: what the flags would have been at that threshold. */
typedef struct wf_sweep_row {
    double threshold;
    int64_t flagged, episodes, true_alarms, repeat_alarms, false_alarms;
    int64_t caught, missed;
    double precision, recall; /* episodes that preceded a failure / episodes; caught / (caught +
                                 missed); NaN when undefined */
} wf_sweep_row;
#define WF_SWEEP_MAX 24

/* Consecutive flagged windows of one turbine. */
typedef struct wf_episode {
    int turbine;         /* index into wf_analysis.turbines */
    int64_t first, last; /* window indices of the first and the last flagged window */
    int64_t n;           /* flagged windows in the episode */
    int64_t *windows;    /* (n) window indices, owned */
    int64_t peak;        /* window with the highest score */
    double peak_score;
    wf_outcome outcome;
    int64_t failure_time;  /* when outcome == TRUE */
    const char *component; /* failing component, when TRUE */
    double lead_hours;     /* failure_time - end of the first flagged window */
    int detailed;          /* 1: has its own detail section in the PDF */
} wf_episode;

typedef struct wf_turbine_summary {
    char id[WF_ID_MAX];
    int64_t scored, skipped, flagged, episodes;
    double max_score;         /* NaN when nothing scored */
    int64_t failures, missed; /* failures in the log; failures with no alarm before them */
    int64_t first_window;     /* index of its first valid window (windows in turbine order) */
} wf_turbine_summary;

typedef struct wf_analysis {
    const wf_results *r;
    int C, T;
    int n_turbines;
    wf_turbine_summary *turbines;
    int n_episodes;
    wf_episode *episodes; /* in time order per turbine, turbines sorted */
    int *episode_order;   /* (n_episodes) detail order: by time, or by peak score if capped */
    const wf_explanation **expl_of; /* (windows->n) explanation of each window or NULL */
    /* issue 13 (checks.c) */
    const wf_why **why_of; /* (windows->n) the why of each window or NULL (none, or text "") */
    double *bg_means;      /* (background n, C) each background window's channel means */
    int64_t n_why;         /* windows with a why sentence */
    int64_t n_disagree;    /* ... of which the methods disagree */
    int64_t period_start, period_end;
    int64_t n_flagged, n_true, n_false, n_missed;
    /* outcomes that add up (issue 14): every episode is true, repeat or false; every failure is
     * caught, missed or not observable (n_caught + n_missed + n_not_observable = n_failures) */
    int64_t n_repeat, n_caught, n_not_observable, n_failures;
    int64_t episode_merge_gap; /* seconds: flagged windows closer than this are one episode */
    wf_failure_outcome *fail_outcome; /* (r->n_failures) */
    int *fail_episode;                /* (r->n_failures) the crediting episode or -1 */
    double precision, recall;         /* as in wf_sweep_row, at the run's threshold */
    double median_lead_hours;         /* over caught failures; NaN when none */
    int n_sweep;                      /* threshold sweep (0 without scores or failure log) */
    wf_sweep_row sweep[WF_SWEEP_MAX];
    int n_flagged_turbines;
    char run_id[17];
} wf_analysis;

wf_status wf_analysis_build(wf_analysis *a, const wf_results *r, int max_detail, wf_error *err);
void wf_analysis_free(wf_analysis *a);
/* The writers of wf_report_write_all with one analysis built once for all of them (an built
 * with the options' max_episode_pages; NULL: each builds its own, as the public writers do). */
wf_status wf_results_write_json_with(const char *path, const wf_results *r, const wf_analysis *an,
                                     wf_error *err);
wf_status wf_results_write_tables_with(const char *dir, const wf_results *r, const wf_analysis *an,
                                       wf_error *err);
wf_status wf_report_write_pdf_with(const char *path, const wf_results *r,
                                   const wf_report_options *o, const wf_analysis *an,
                                   wf_error *err);
wf_status wf_report_write_xlsx_with(const char *path, const wf_results *r,
                                    const wf_report_options *o, const wf_analysis *an,
                                    wf_error *err);

/* Channel names/units (never NULL). */
const char *wf_an_channel(const wf_analysis *a, int c);
const char *wf_an_unit(const wf_analysis *a, int c);
/* Per-channel attribution of an explanation: KernelSHAP value when its players are the channels,
 * else the IG channel sum. Returns 0 if neither is available. */
int wf_an_channel_attr(const wf_analysis *a, const wf_explanation *e, double *out /* (C) */);
/* Channel with the largest |attribution| (positive preferred on ties); -1 if none. */
int wf_an_top_channel(const wf_analysis *a, const wf_explanation *e);
const char *wf_outcome_str(wf_outcome o);
const char *wf_failure_outcome_str(wf_failure_outcome o); /* "caught", "missed", ... */
/* Alarm review: per channel (C each) the mean attribution of the window that explains each true /
 * false alarm episode and how often the channel was its top driver; episodes counted. */
void wf_an_review(const wf_analysis *a, double *mean_true, double *mean_false, double *top_true,
                  double *top_false, int *n_true, int *n_false);
/* Smallest and largest value of channel c over all valid windows (+-inf when none). */
void wf_an_channel_range(const wf_analysis *a, int c, double *lo, double *hi);
/* 1 if e is an explanation with per-channel attributions. */
int wf_an_usable(const wf_analysis *a, const wf_explanation *e);
/* The window that explains an episode: its first window if explained, else its peak, else its
 * explained window with the highest score; -1 when none is explained. */
int64_t wf_an_episode_window(const wf_analysis *a, const wf_episode *e);
/* "2024-03-04 10:00 UTC" (buf >= 32). */
char *wf_fmt_time_short(int64_t t, char *buf);
/* Score to 3 decimals ("0.873"); NaN as "n/a". buf >= 32. */
char *wf_fmt_score(double v, char *buf);

/* ---------------------------------------------------------------- checks (issue 13) */

/* The why of window wi (NULL when none). */
const wf_why *wf_an_why(const wf_analysis *a, int64_t wi);
/* Channel c of window wi: its mean over the window and the weighted percentile of that mean
 * among the background windows' means of c (100 * (share below + half the share equal)); NaN
 * when the window's values or the background are not kept. Returns 1 when the mean is known. */
int wf_an_window_value(const wf_analysis *a, int64_t wi, int c, double *mean, double *pct);
/* "61.2 °C (p97)": the value beside a waterfall bar (buf >= 64). */
char *wf_an_value_label(const wf_analysis *a, int64_t wi, int c, char *buf, size_t n);
/* The one sentence an episode page prints when the channels its why names depend on each other
 * in the background while the players are the channels (groups "channel"): names the groups
 * "auto" would use. Returns 1 and fills buf when it applies, else 0 (buf ""). */
int wf_an_dependence_note(const wf_analysis *a, int64_t wi, char *buf, size_t n);
/* The agreement's reason with its drivers named ("driver 1" -> the player's name). */
const char *wf_an_agreement_reason(const wf_analysis *a, int64_t wi, char *buf, size_t n);
/* Short marks for tables: the drivers the why names ("a" for the claim main, "a, b" for
 * several), "DISAGREE (methods)" when the methods disagree, or the top channel when there is no
 * why. */
const char *wf_an_why_short(const wf_analysis *a, int64_t wi, char *buf, size_t n);

/* results.json parts (results_checks.c): the top-level "dependence", a window's "why",
 * "agreement", "values" and "dependence_note", the audit's "explanation_checks". */
void wf_results_json_dependence(wf_jw *w, const wf_results *r);
void wf_results_json_window_checks(wf_jw *w, const wf_analysis *a, const wf_explanation *e);
void wf_results_json_checks_summary(wf_jw *w, const wf_analysis *a);

/* ---------------------------------------------------------------- template */

/* A section of the template: its name and its key = value lines in order. */
typedef struct wf_tpl_line {
    char *key;
    char *value;
    int line; /* 1-based line in the template file */
} wf_tpl_line;

typedef struct wf_tpl_section {
    char name[32];
    int line;
    int n;
    wf_tpl_line *lines;
} wf_tpl_section;

typedef struct wf_template {
    char path[1024];
    int n;
    wf_tpl_section *sections;
} wf_template;

/* Load and validate: known sections, known keys, known placeholders (per section). Errors name
 * the file, the line and the offending section, key or placeholder. */
wf_status wf_template_load(const char *path, wf_template *t, wf_error *err);
void wf_template_free(wf_template *t);
const wf_tpl_section *wf_template_section(const wf_template *t, const char *name);

/* Placeholder values: a lookup callback (name -> value or NULL). */
typedef const char *(*wf_tpl_lookup)(void *user, const char *name);
/* Expand {name} placeholders of text into out (size). Unknown -> WF_ERR_CONFIG naming it. */
wf_status wf_template_expand(const wf_template *t, const wf_tpl_line *l, wf_tpl_lookup look,
                             void *user, char *out, size_t size, wf_error *err);

/* ---------------------------------------------------------------- charts (cairo -> RGB pixels) */

/* A drawn chart: raw 8-bit RGB rows, top to bottom, len = width_px * height_px * 3 (the name is
 * from when charts were PNG files). */
typedef struct wf_png {
    unsigned char *data;
    size_t len;
    int width_px, height_px;
} wf_png;

void wf_png_free(wf_png *p);

/* Charts are drawn at `dpi` into an image of w_pt x h_pt points (1/72 in). font_path is the TTF
 * used for every label. */
typedef struct wf_chart_ctx {
    const char *font_path;
    const char *font_bold_path;
    double dpi;
    const struct wf_report_words *words; /* locale of the labels' numbers; NULL: English */
} wf_chart_ctx;

/* The pixel size of a w_pt x h_pt chart at cx->dpi (what every chart function draws). */
void wf_chart_px(const wf_chart_ctx *cx, double w_pt, double h_pt, int *w_px, int *h_px);

/* Waterfall of KernelSHAP values from base to f(x) (link space), with +-1.96 SE bars. */
wf_status wf_chart_waterfall(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                             double w_pt, double h_pt, wf_png *out, wf_error *err);
/* IG attributions channel x time, diverging colours, colour bar. */
wf_status wf_chart_heatmap(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                           double w_pt, double h_pt, wf_png *out, wf_error *err);
/* Top k channels' signals with the background range shaded and IG attribution overlaid. */
wf_status wf_chart_signals(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                           int k, double w_pt, double h_pt, wf_png *out, wf_error *err);
/* True vs false alarms: mean attribution per channel. mean_true/mean_false (C). */
wf_status wf_chart_review(const wf_chart_ctx *cx, const wf_analysis *a, const double *mean_true,
                          const double *mean_false, double w_pt, double h_pt, wf_png *out,
                          wf_error *err);

/* Resolve the data dir, template and font paths from the options (buffers of 1024). */
void wf_report_paths(const wf_report_options *o, char *tpl, char *font, char *font_bold,
                     char *font_mono);

/* Versions of the libraries this module links (cairo, libharu, libxlsxwriter, nettle). */
const char *wf_report_cairo_version(void);
const char *wf_report_hpdf_version(void);
const char *wf_report_lxw_version(void);

/* Methods text (plain words) from the options or built from the settings into buf. */
void wf_report_methods_text(const wf_results *r, const wf_report_options *o, char *buf,
                            size_t size);

/* The "settings" object of results.json and manifest.json (key included). */
void wf_results_json_settings(wf_jw *w, const wf_explain_settings *s);

/* results.json's "window" ({"T", "stride", "cadence_seconds"}) and "report" ({"title",
 * "max_episode_pages", "per_turbine", "methods_text"}) objects (issue 19, report_turbines.c). */
void wf_results_json_rerender(wf_jw *w, const wf_results *r);

/* One CSV text cell (results_json.c): quoted (RFC 4180) when it holds a comma, quote or line
 * break; neutralised as OWASP advises against CSV injection (a cell starting with = + - @ or a
 * control byte gets a leading single quote; control bytes are written as '?'). Every CSV the
 * report stage writes (scores.csv, episodes.csv, failure_outcomes.csv, attributions.csv) writes
 * its text cells through it. */
void wf_report_csv_field(FILE *f, const char *s);

/* results.json's "model_card" object (results_json.c). */
void wf_results_json_model_card(wf_jw *w, const wf_model_card *c);

#endif
