/*
 * Inside the audit stage (include/whyflag/audit.h is its public face).
 *
 * One pass over the log (wf_data_stream_windows) produces a *part*: the windows of the turbines
 * this run owns (all of them, or shard k of n), scored in batches as they stream, with values kept
 * only for the flagged ones; the skipped windows; per-channel ranges; the background; and the
 * explanations of the flagged windows. Memory is bounded by the part's per-window records (about
 * 200 bytes a window) plus the flagged windows, not by the log.
 *
 * A one-machine run finalizes its single part; a sharded run writes its part to SHARD/shard.bin
 * and `merge` reads every part back and finalizes them together. Both go through
 * wf_audit_finalize, which puts the windows of all parts in canonical order (turbine id, start),
 * so that the results do not depend on how many shards produced them.
 *
 * What makes a shard's numbers equal to the one-machine run's:
 *  - every window's score depends only on the window (batch scoring, one context per thread);
 *  - the background is drawn by a shard-independent rule: the windows with the smallest seeded
 *    hash of (turbine id, start) among all unflagged windows of the log (every shard reads the
 *    whole log for it), or a background file;
 *  - each explanation's RNG stream follows its window's (turbine id, start), not its index.
 */
#ifndef WF_AUDIT_IMPL_H
#define WF_AUDIT_IMPL_H

#include <stdint.h>

#include "whyflag/audit.h"
#include "whyflag/config.h"
#include "whyflag/data.h"
#include "whyflag/explain.h"
#include "whyflag/explain_checks.h"
#include "whyflag/model.h"
#include "whyflag/predictor.h"
#include "whyflag/results.h"
#include "whyflag/windows.h"
#include "audit/compare_audit.h"

/* SHA-256 digests that identify the run a part belongs to ("" when the input is absent). Each
 * is the digest of the bytes parsed, taken as they are read, never by a separate pass: config,
 * model, background and baseline when the run is opened (wf_audit_open), the failure log
 * when the part reads it, the log on the first pass over it (every later pass is checked
 * against it: wf_audit_log_digest). */
typedef struct wf_audit_ident {
    char tool[64];
    char config[65], model[65], log[65], failures[65], background[65], baseline[65];
    char config_path[WF_PATH_MAX]; /* absolute path of the config, for merge */
} wf_audit_ident;

typedef struct wf_audit_part {
    int shard_k, shard_n; /* 0/1 for a one-machine run */
    wf_audit_ident id;
    /* The failure log as this process parsed it (moved into the combined part); NULL when the
     * run has none or the part was read back from a shard file (publish reads it then). */
    wf_failure *failures;
    int64_t n_failures;
    int has_failures;
    /* Turbine assignment of the whole fleet (identical in every shard of a run). */
    int64_t n_turbines;
    char (*turbines)[WF_ID_MAX]; /* sorted by id */
    int32_t *turbine_shard;      /* shard of each turbine */
    int64_t *turbine_rows;       /* rows per turbine (the assignment's weights; 0 unsharded) */

    /* The owned windows, in canonical order. ws.w[i].values is NULL unless window i is flagged;
     * the flagged windows' values live in ws.data (owned). */
    wf_windows ws;
    double *scores;          /* (ws.n) */
    uint8_t *flagged;        /* (ws.n) */
    double *ch_min, *ch_max; /* (C) over the owned valid windows; +-inf when none */
    int64_t windows_offered; /* valid windows of the whole log (background draw population) */

    int has_bg;
    wf_background bg;

    int64_t n_expl;
    wf_explanation *expl; /* window_index into ws */
    int64_t n_strings;    /* strings the explanations point to (read back from a shard) */
    char **strings;

    struct wf_audit_drift *drift; /* drift accumulators (drift_audit.h); NULL without drift */
    wf_audit_cmp *cmp; /* model B's scores (compare_audit.h); NULL without a comparison */

    wf_data_stats stats;                    /* of this part's pass (not merged: informational) */
    double seconds_stream, seconds_explain; /* wall time of the two phases (informational) */
} wf_audit_part;

/* The loaded run behind the public wf_audit handle. */
struct wf_audit {
    wf_config cfg;
    wf_explain_files files; /* the background/baseline files cfg.explain names, loaded once */
    wf_audit_ident id; /* digests of the files read at open (config, model, background, baseline) */
    wf_model *model;
    wf_predictor pred;
    wf_audit_trees trees;    /* the tree model for TreeSHAP, IG's not-applicable reason */
    wf_audit_cmp_model cmpm; /* model B (issue 15); cmpm.model NULL without a comparison */
};

typedef struct wf_audit_run_opts {
    int shard_k, shard_n;
    int threads;         /* resolved: 0 = all cores */
    int background_only; /* stream the log for the background only (no part windows) */
    wf_audit_progress_fn progress;
    void *progress_user;
    const wf_audit_cmp_model *cmpm; /* model B to score beside A, or NULL */
    const wf_audit_ident *id;       /* the digests taken at open (wf_audit.id) */
} wf_audit_run_opts;

/* Run one part: stream, score, draw the background, explain the flagged windows. */
wf_status wf_audit_part_run(const wf_config *cfg, const wf_model *model, const wf_predictor *pred,
                            const wf_audit_run_opts *o, wf_audit_part *part, wf_error *err);
void wf_audit_part_free(wf_audit_part *part);

/* Load the run's config, reading the file once: id receives the tool, the config's absolute
 * path and the digest of the bytes parsed. The model's digest comes from
 * wf_audit_model_load_digest, the background's and baseline's from wf_audit_ident_files once the
 * explain files are loaded. */
wf_status wf_audit_ident_config(const char *config_path, wf_config *cfg, wf_audit_ident *id,
                                wf_error *err);
void wf_audit_ident_files(const wf_explain_files *f, wf_audit_ident *id);
/* Read a model file once: *model parsed from the bytes whose SHA-256 is sha256_hex. */
wf_status wf_audit_model_load_digest(const char *path, wf_model **model, char sha256_hex[65],
                                     wf_error *err);
/* A pass over the log read it to its end with digest hex (wf_log_reader_digest). The first pass
 * records it in id->log (record set); every later pass must give the same bytes (a log appended
 * to or rewritten during the run is an error naming the pass, not a silent mix). */
wf_status wf_audit_log_digest(const wf_config *cfg, wf_audit_ident *id, const char *hex,
                              const char *pass, wf_error *err);
wf_status wf_audit_log_check(const wf_config *cfg, const wf_audit_ident *id, const char *hex,
                             const char *pass, wf_error *err);

/* shard.bin: the part, bit for bit (little-endian IEEE-754; checked on read). */
wf_status wf_audit_shard_write(const char *path, const wf_audit_part *part, wf_error *err);
wf_status wf_audit_shard_read(const char *path, wf_audit_part *part, wf_error *err);

/* Combine parts (the shards 0..n-1 of one run, each once, in any order; or the single part of a
 * one-machine run) into *out (a part holding every window, canonical order). The parts are
 * consumed (left empty). Errors name the offending shard folder (names[i]). */
wf_status wf_audit_combine(wf_audit_part *parts, const char *const *names, int n_parts,
                           wf_audit_part *out, wf_error *err);

/* Turbine ownership of a shard: the part's sorted turbine table. */
int wf_audit_part_owns(const wf_audit_part *pt, const char *turbine_id);

/* The checks of the explanations of a combined part (checks.c, issue 13): the dependence of the
 * background's channels and, per explanation, the why sentence with the agreement of its
 * methods. Built from the part alone, so a merge gives what the one-machine run gives. */
typedef struct wf_audit_checks {
    wf_explain_plan plan; /* plan.has_dep: the dependence */
    int64_t n;
    wf_why *why; /* (n) parallel to the part's explanations */
} wf_audit_checks;

wf_status wf_audit_checks_build(const wf_config *cfg, const wf_audit_part *all,
                                wf_audit_checks *out, wf_error *err);
void wf_audit_checks_free(wf_audit_checks *c);

/* Publishing (publish.c). Create the output folder if missing; an error if it is not a writable
 * folder. */
/* SOURCE_DATE_EPOCH, when set, must be a valid time (else WF_ERR_INVALID naming it). */
wf_status wf_audit_check_source_date(wf_error *err);
wf_status wf_audit_make_dir(const char *path, wf_error *err);
/* results.json, report.pdf, report.xlsx, scores.csv, episodes.csv, failure_outcomes.csv,
 * attributions.csv, manifest.json (+ .sig when sign_key), written into a staging folder inside
 * out_dir and moved into place. An input of the run that is one of these outputs in out_dir is
 * refused (WF_ERR_INVALID naming both) before anything is written. */
wf_status wf_audit_write_outputs(const wf_config *cfg, const wf_model *model,
                                 const wf_predictor *pred, const wf_audit_part *all,
                                 const char *out_dir, const char *data_dir, const uint8_t *sign_key,
                                 const wf_audit_cmp_model *cmpm, int threads,
                                 double *seconds_compare, wf_error *err);
/* A shard folder's partial manifest: inputs, settings and shard.bin. */
wf_status wf_audit_write_shard_manifest(const wf_config *cfg, const wf_model *model,
                                        const wf_predictor *pred, const wf_audit_part *pt,
                                        const char *dir, const char *data_dir, wf_error *err);

/* Little-endian byte records (bytes.c): a growing writer (failed set when memory runs out) and
 * a bounds-checked reader (bad set, zeros returned, once a read would pass the end). */
typedef struct wf_bw {
    char *p;
    size_t n, cap;
    int failed;
} wf_bw;
void wf_bw_put(wf_bw *b, const void *x, size_t n);
void wf_bw_u64(wf_bw *b, uint64_t v);
typedef struct wf_br {
    const unsigned char *p;
    size_t n, at;
    int bad;
} wf_br;
int wf_br_get(wf_br *b, void *x, size_t n);
uint64_t wf_br_u64(wf_br *b);

#endif
