/*
 * whyflag: drift in the results (issue 16), as plain numbers the report stage prints. Filled by
 * the audit stage (src/audit/drift_audit.c) from its drift accumulators; wf_results.drift is
 * NULL when the config has no "drift" section (the outputs are then as without drift).
 *
 * Data drift compares the reference rows with the current rows, per channel: fleet-wide, per
 * turbine (the turbine's current rows against its own reference rows) and per period (the
 * fleet's current rows of the period against the whole reference). Out-of-reference figures are
 * given for every explained window. The concept-drift signals per period (scores, precision and
 * recall, attributions) are computed by the report from the windows, using window_period.
 */
#ifndef WHYFLAG_RESULTS_DRIFT_H
#define WHYFLAG_RESULTS_DRIFT_H

#include <stdint.h>

#include "whyflag/drift.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_results_drift {
    const char *reference;    /* "rows from 2024-03-01T00:00:00Z to ..." or the other log */
    int reference_is_log;     /* 1: another log (ref_path), 0: a period of the audited log */
    int64_t ref_from, ref_to; /* the period (UTC seconds, to exclusive) */
    const char *ref_path;     /* the other log */
    const char *period;       /* "day", "week" or "month" */
    wf_drift_settings settings;
    int C;
    const wf_drift_channel *fleet; /* (C) */
    int64_t n_turbines;
    const char (*turbine)[WF_ID_MAX];   /* (n_turbines) sorted */
    const wf_drift_channel *by_turbine; /* (n_turbines, C) */
    int64_t n_periods;
    const int64_t *period_start;       /* (n_periods) ascending */
    const char (*period_label)[16];    /* (n_periods) "2024-W10" */
    const wf_drift_channel *by_period; /* (n_periods, C); evaluated 0 when no current rows */
    const int32_t *window_period;      /* (windows->n) period of each window's end */
    /* out of the validated range */
    int64_t n_ref_windows;             /* reference windows whose means make the profile */
    const double *mean_lo, *mean_hi;   /* (C) quantiles of the reference window means */
    const double *value_lo, *value_hi; /* (C) quantiles of the reference cells */
    int64_t n_windows;                 /* explained windows judged */
    const int64_t *window_index;       /* (n_windows) into results' windows */
    const int *outside;                /* (n_windows) any channel mean outside */
    const double *percentile;          /* (n_windows, C) percentile of the window mean */
    const double *share_out;           /* (n_windows, C) share of cells outside */
    const int *channel_out;            /* (n_windows, C) mean outside [mean_lo, mean_hi] */
    /* The seeded sample of unflagged windows, explained like the flagged ones for the reliance
     * trend (never episodes): per period the drift.unflagged_sample windows with the smallest
     * seeded hash of (turbine id, start) among the unflagged windows whose end lies in it. */
    int64_t unflagged_per_period;             /* drift.unflagged_sample (0: none) */
    int64_t n_sample;                         /* windows in the sample */
    const wf_window *sample;                  /* (n_sample) by period, then hash */
    const int32_t *sample_period;             /* (n_sample) index into the periods */
    const double *sample_score;               /* (n_sample) */
    const struct wf_explanation *sample_expl; /* (n_sample) */
    /* The memory budget (drift.memory_mb) and the figures it made approximate: a figure is
     * "compacted" when its reference or current table was compacted onto the dyadic grid
     * (whyflag/drift.h states the error bounds). NULL arrays: every figure exact. */
    int64_t memory_mb;
    uint64_t cap_fleet, cap_table;    /* entries per channel of a fleet-wide / other table */
    const uint8_t *fleet_compacted;   /* (C) */
    const uint8_t *turbine_compacted; /* (n_turbines, C) */
    const uint8_t *period_compacted;  /* (n_periods, C) */
} wf_results_drift;

#ifdef __cplusplus
}
#endif
#endif
