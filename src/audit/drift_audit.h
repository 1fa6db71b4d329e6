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
#include "whyflag/drift.h"
#include "whyflag/results_drift.h"
#include "whyflag/windows.h"

struct wf_audit_part;

typedef struct wf_audit_drift {
    int C;
    int64_t n_tb;
    char (*tb_id)[WF_ID_MAX]; /* (n_tb) sorted after the pass */
    wf_drift_acc **tb_ref;    /* (n_tb) the turbine's reference rows */
    wf_drift_acc **tb_cur;    /* (n_tb) its current rows */
    wf_drift_acc *ref_extra;  /* reference rows of turbines not in the audited log */
    int64_t n_per;
    int64_t *per_start;      /* (n_per) ascending after the pass */
    wf_drift_acc **per_cur;  /* (n_per) current rows of the period, this part's turbines */
    wf_drift_acc *ref_means; /* channel means of the reference windows */
    int64_t n_ref_windows;
    int64_t tb_cap, per_cap;
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

wf_status wf_audit_drift_report_build(const wf_config *cfg, const struct wf_audit_part *all,
                                      wf_audit_drift_report *out, wf_error *err);
void wf_audit_drift_report_free(wf_audit_drift_report *out);

#endif
