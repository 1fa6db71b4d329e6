/*
 * Drift in the audit (issue 16), inside the audit stage: the accumulators a part carries, the
 * passes that fill them, their shard.bin encoding, their combination, and the numbers handed to
 * the report (wf_results_drift).
 *
 * Ownership follows the windows: a part accumulates the rows of the turbines it owns (every
 * turbine of a one-machine run). Reference rows of turbines that are absent from the audited log
 * (another log as reference) belong to shard 0. Every accumulator's finished form depends on its
 * multiset of values only, so shards + merge give the bytes of one machine.
 */
#ifndef WF_AUDIT_DRIFT_H
#define WF_AUDIT_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/config.h"
#include "whyflag/predictor.h"
#include "whyflag/drift.h"
#include "whyflag/results_drift.h"
#include "whyflag/windows.h"

struct wf_audit_part;

/* The seeded sample of unflagged windows (drift.unflagged_sample per period, drift_sample.c):
 * per period the k windows with the smallest seeded hash of (turbine id, start) among the
 * part's unflagged windows whose end lies in it. A bottom-k sample: the parts' samples combine
 * into the one-machine sample, so it does not depend on shards or threads. */
typedef struct wf_audit_ufs {
    wf_windows ws;   /* the windows, values kept; ordered by (period, hash) when final */
    uint64_t *hash;  /* (ws.n) */
    int64_t *period; /* (ws.n) start of the period holding the window's end */
    double *score;   /* (ws.n) */
    int64_t cap;     /* of hash, period, score */
    struct wf_explanation *expl; /* (ws.n) after wf_audit_drift_explain_sample, else NULL */
} wf_audit_ufs;

/* The hash that orders the sample (another stream than the background's draw). */
uint64_t wf_audit_ufs_hash(uint64_t seed, const char *turbine_id, int64_t start);
/* Offer a scored unflagged window (values (C, T)) to the candidates of its period. */
wf_status wf_audit_ufs_offer(wf_audit_ufs *u, int64_t k, int64_t period, uint64_t hash,
                             const wf_window *w, double score, wf_error *err);
/* Keep per period the k smallest (hash, turbine id, start), ordered by (period, hash). */
wf_status wf_audit_ufs_select(wf_audit_ufs *u, int64_t k, wf_error *err);
void wf_audit_ufs_free(wf_audit_ufs *u); /* accepts a zeroed one */

typedef struct wf_audit_drift {
    int C;
    int64_t n_tb;
    char (*tb_id)[WF_ID_MAX]; /* (n_tb) sorted after the pass */
    wf_drift_acc **tb_ref;    /* (n_tb) the turbine's reference rows */
    wf_drift_acc **tb_cur;    /* (n_tb) its current rows */
    wf_drift_acc *fleet_ref;  /* reference rows of this part's turbines and (shard 0) of the
                                 turbines not in the audited log */
    wf_drift_acc *fleet_cur;  /* current rows of this part's turbines */
    int64_t n_per;
    int64_t *per_start;      /* (n_per) ascending after the pass */
    wf_drift_acc **per_cur;  /* (n_per) current rows of the period, this part's turbines */
    wf_drift_acc *ref_means; /* channel means of the reference windows */
    int64_t n_ref_windows;
    int64_t tb_cap, per_cap;
    /* The run's one budget (drift.memory_mb, see drift_audit.c): the caps (entries per channel)
     * of the fleet-wide tables and of the per-turbine and per-period tables, from the budget and
     * the fleet's turbine and period counts (the same in every shard). */
    uint64_t cap_fleet, cap_table;
    int64_t n_tb_fleet, n_per_fleet;
    wf_audit_ufs ufs; /* the sample of unflagged windows (ws.C == 0 when none) */
    int64_t ufs_k;    /* its windows per period (drift.unflagged_sample) */
} wf_audit_drift;

/* The passes: rows of the audited log (and of the reference log), reference windows. */
wf_status wf_audit_drift_run(const wf_config *cfg, const struct wf_audit_part *pt,
                             wf_audit_drift **out, wf_error *err);
void wf_audit_drift_free(wf_audit_drift *d); /* accepts NULL */

/* shard.bin: the accumulators as bytes (malloc'd) and back. */
wf_status wf_audit_drift_encode(const wf_audit_drift *d, char **p, size_t *n, wf_error *err);
wf_status wf_audit_drift_decode(const unsigned char *p, size_t n, wf_audit_drift **out,
                                wf_error *err);
/* Combine the parts' drift (NULL entries allowed only when all are NULL) into *out. */
wf_status wf_audit_drift_combine(wf_audit_drift *const *parts, int np, wf_audit_drift **out,
                                 wf_error *err);

/* The numbers for the report, from a combined part. Owns its arrays. */
typedef struct wf_audit_drift_report {
    wf_results_drift r;
    void *mem[24];
    char ref_text[WF_PATH_MAX + 64];
} wf_audit_drift_report;

/* Explain the combined part's sample of unflagged windows with the run's settings and
 * background (before wf_audit_drift_report_build). */
wf_status wf_audit_drift_explain_sample(const wf_config *cfg, const wf_predictor *pred,
                                        const struct wf_audit_part *all, wf_audit_drift *d,
                                        int threads, wf_error *err);

wf_status wf_audit_drift_report_build(const wf_config *cfg, const struct wf_audit_part *all,
                                      wf_audit_drift_report *out, wf_error *err);
void wf_audit_drift_report_free(wf_audit_drift_report *out);

#endif
