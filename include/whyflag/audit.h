/*
 * whyflag: the audit, as a library stage (src/audit).
 *
 * The main job behind `whyflag audit` and `whyflag merge`, usable from any C program: stream the
 * log, cut windows, score every window with the deployed model, flag those at or above the
 * threshold, draw the background, explain the flagged windows, join the failure log and publish
 * report.pdf, report.xlsx, results.json, scores.csv, episodes.csv, failure_outcomes.csv,
 * attributions.csv and manifest.json into the output folder in one staged step. A run can be split
 * into shards (turbines balanced by row count) whose folders `wf_audit_merge` combines into outputs
 * byte-identical to the one-machine run's.
 *
 *     wf_audit *a;
 *     wf_error err = {0};
 *     if (wf_audit_open("config.json", &a, &err) == WF_OK) {
 *         wf_audit_opts o;
 *         wf_audit_opts_default(&o);
 *         o.out_dir = "out";
 *         wf_audit_summary sum;
 *         wf_audit_run(a, &o, &sum, &err);
 *         wf_audit_close(a);
 *     }
 *
 * Nothing here prints or exits: progress goes to the caller's callback, errors to err.
 */
#ifndef WHYFLAG_AUDIT_H
#define WHYFLAG_AUDIT_H

#include <stdint.h>

#include "whyflag/config.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/predictor.h"
#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded run: the config, the model and its predictor (owned). */
typedef struct wf_audit wf_audit;

/* Progress of a phase: done of total (total < 0: unknown, done counts up). */
typedef void (*wf_audit_progress_fn)(void *user, const char *phase, int64_t done, int64_t total);

typedef struct wf_audit_opts {
    int shard_k, shard_n;    /* audit shard k of n (0 <= k < n <= WF_AUDIT_MAX_SHARDS) */
    int sharded;             /* write a shard folder (shard.bin + partial manifest), even 0/1 */
    int threads;             /* -1: the config's explain.threads; 0: all cores */
    const char *out_dir;     /* NULL: the config's output_dir */
    const char *data_dir;    /* folder with templates/ and fonts/; NULL: the build's */
    const uint8_t *sign_key; /* 32-byte Ed25519 secret key (manifest.json.sig), or NULL */
    wf_audit_progress_fn progress;
    void *progress_user;
    int per_turbine; /* 1: also turbines/<id>.pdf, as report.per_turbine (issue 19) */
} wf_audit_opts;

#define WF_AUDIT_MAX_SHARDS 4096

/* What a run did, for the caller to print. */
typedef struct wf_audit_summary {
    int64_t rows, turbines;   /* read in this pass over the log */
    int64_t windows, skipped; /* owned by this run (or the merged run) */
    int64_t flagged, explained, not_explained;
    int64_t fleet_turbines, fleet_rows; /* sharded: the whole fleet's */
    int64_t shard_turbines, shard_rows; /* sharded: this shard's share */
    int n_shards;                       /* merge: shards combined */
    double seconds_stream, seconds_explain, seconds_total;
    int compared;                   /* a model B was compared (issue 15) */
    double seconds_compare_score;   /* B's scoring (part of seconds_stream) */
    double seconds_compare_explain; /* the comparison's explanations and timing */
    char out_dir[WF_PATH_MAX];
    int signed_manifest;
    int have_data;      /* data below filled (audit, one pass over the log; not merge) */
    wf_data_stats data; /* rows rejected and windows skipped by reason, notes */
} wf_audit_summary;

void wf_audit_opts_default(wf_audit_opts *o);

/* Load the config (through its absolute path, so that every path in the results reads the same
 * however the run was started), the model, and check that the model takes the config's channels
 * in order. */
wf_status wf_audit_open(const char *config_path, wf_audit **a, wf_error *err);
/* The same with the score read from output (NULL: the config's model_output, else the default
 * score): "NAME" or "NAME:COLUMN" (see wf_model_predictor_spec). */
wf_status wf_audit_open_output(const char *config_path, const char *output, wf_audit **a,
                               wf_error *err);
void wf_audit_close(wf_audit *a); /* accepts NULL */
/* Compare a second model B with the run's model A (issue 15), as a config "compare" section
 * with only "model" would (replacing the config's B when it names one): B is loaded and checked
 * now, before any work (same channels and window length as A, one score per window; errors name
 * B's file and what was expected). Every window is then scored by both models and the outputs
 * gain the comparison (scores.csv score_b/flagged_b, results.json "comparison", the PDF chapter,
 * the workbook's Comparison sheet). */
wf_status wf_audit_set_compare(wf_audit *a, const char *model_path, wf_error *err);
const wf_config *wf_audit_config(const wf_audit *a);
const wf_model *wf_audit_model(const wf_audit *a);
const wf_predictor *wf_audit_predictor(const wf_audit *a);

/* The whole job, or one shard of it when o->sharded. The output folder (created if missing) is
 * checked before any work. */
wf_status wf_audit_run(wf_audit *a, const wf_audit_opts *o, wf_audit_summary *sum, wf_error *err);

/* Combine the shard folders of one run (each shard once, in any order) into the outputs of the
 * whole run. The config is reopened from the path the shards recorded and must be unchanged;
 * o->out_dir NULL means the config's output_dir. Errors name the offending folder. */
wf_status wf_audit_merge(const char *const *shard_dirs, int n, const wf_audit_opts *o,
                         wf_audit_summary *sum, wf_error *err);

/* Tree-ensemble models and models without a gradient (issue 11): sets s->tree_model when
 * TreeSHAP runs on this model (method "treeshap", or "both" on a tree ensemble) and
 * s->ig_not_applicable (the reason) when the model has no gradient. t owns what they point to
 * and must outlive the runs that use s; free it with wf_audit_trees_free. wf_audit_open does
 * this for its own config. Method "treeshap" on a model that is not a tree ensemble: an error
 * naming explain.method and the reason. */
typedef struct wf_audit_trees {
    struct wf_tree_model *tm;
    char reason[WF_REASON_MAX];
} wf_audit_trees;
wf_status wf_audit_trees_setup(wf_explain_settings *s, const wf_model *m, int C, int T,
                               wf_layout layout, wf_audit_trees *t, wf_error *err);
/* The same for the score a user chose (model_output / --output "NAME[:COLUMN]", NULL or "" =
 * the default): TreeSHAP explains that column's margin (wf_tree_model_new_spec). */
wf_status wf_audit_trees_setup_spec(wf_explain_settings *s, const wf_model *m, int C, int T,
                                    wf_layout layout, const char *spec, wf_audit_trees *t,
                                    wf_error *err);
void wf_audit_trees_free(wf_audit_trees *t);

/* Finish what a run killed while publishing into out_dir left behind (see src/audit/publish.c):
 * a committed set (its journal written) is moved into place, an uncommitted staging folder is
 * removed, so the folder holds one whole set of outputs, old or new. Takes the folder's lock (a
 * run publishing now: WF_ERR_IO naming the folder). *n_recovered (may be NULL): committed sets
 * moved into place. Every audit does this first; `whyflag verify` does it before checking. */
wf_status wf_audit_recover(const char *out_dir, int *n_recovered, wf_error *err);

/* The run's KernelSHAP background, drawn exactly as wf_audit_run draws it (a background file, or
 * the unflagged windows of the whole log with the smallest seeded hash of turbine id and start,
 * or their k-means summary). `whyflag explain --config` uses it, so that an explanation from the
 * command line equals the audit's for the same window. settings: explain settings to draw with
 * (NULL: the config's); threads as in wf_audit_opts. */
wf_status wf_audit_background(wf_audit *a, const wf_explain_settings *settings, int threads,
                              wf_background *bg, wf_error *err);

/* scores[i] = f(ws->w[i]) for every window on `threads` threads (0 = all cores), one window per
 * model call, so each score depends on its window only, bit for bit. A non-finite score is an
 * error naming the window. */
wf_status wf_audit_score_windows(const wf_predictor *p, const wf_windows *ws, int threads,
                                 double *scores, wf_error *err);
/* y[i] = f(x[i]) for n windows x (n, C, T) channel-major, as above; non-finite outputs are
 * returned as they are (the caller decides). */
wf_status wf_audit_score_array(const wf_predictor *p, const float *x, int64_t n, int threads,
                               double *y, wf_error *err);

/* SOURCE_DATE_EPOCH when set (reproducible outputs), else now. */
int64_t wf_audit_run_time(void);

#ifdef __cplusplus
}
#endif
#endif
