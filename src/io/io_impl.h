/*
 * Internals of src/io shared between its files (cJSON types stay inside this module).
 */
#ifndef WF_IO_IMPL_H
#define WF_IO_IMPL_H

#include <cjson/cJSON.h>

#include "whyflag/config.h"

/* The config readers' shared checks (config_keys.c). name is the file name for messages, kp the
 * key path ("drift.psi_bins"). */
void wf_io_found(const cJSON *v, char *buf, size_t n); /* the value in words: "an array", ... */
/* "<name>: <kp>: found <what>, expected <expected>" (WF_ERR_CONFIG). */
wf_status wf_io_expect(wf_error *err, const char *name, const char *kp, const cJSON *v,
                       const char *expected);
/* Unknown keys of obj (not in the NULL-ended allowed; with a did-you-mean hint) and duplicate
 * keys are errors; path is obj's key path ("" for the root). */
wf_status wf_io_check_keys(wf_error *err, const char *name, const cJSON *obj, const char *path,
                           const char *const *allowed);
/* A number v (absent: WF_OK, *out kept) in [lo, hi] ((lo, hi] when lo_open), an integer when
 * integer is set. */
wf_status wf_io_number(wf_error *err, const char *name, const char *kp, const cJSON *v, double lo,
                       int lo_open, double hi, int integer, double *out);

/* Parse explain.groups given as an array of {"name", "channels": [...], "from"?, "to"?} into
 * s (WF_GROUPS_EXPLICIT). Channels are names of log.channels or 0-based indices; from/to are
 * time steps, from inclusive, to exclusive (default 0 and T). Cells are c*T+t. Groups must be
 * non-empty and disjoint. name is the config file name for messages. */
wf_status wf_config_parse_groups_array(const cJSON *arr, const char *name, const wf_log_config *log,
                                       int T, wf_explain_settings *s, wf_error *err);

/* Parse the "drift" section (config_drift.c) into out; name and base_dir as in
 * wf_config_parse. Errors name the key path (drift.reference.from, ...). */
wf_status wf_config_parse_drift(const cJSON *d, const char *name, const char *base_dir,
                                wf_drift_config *out, wf_error *err);

/* Parse the "compare" section (config_compare.c) into out (owned arrays: wf_config_deinit);
 * threshold is the main one (B's default). Errors name the key path (compare.arms.B[2], ...). */
wf_status wf_config_parse_compare(const cJSON *d, const char *name, const char *base_dir,
                                  double threshold, wf_compare_config *out, wf_error *err);

/* scores.csv (scores_read.c, issue 14): its n rows into w (turbine_id, start, end, label,
 * component, interpolated), scores and flagged (n each, caller-allocated). ids and components:
 * the exact texts results.json holds (its "turbines" and "failures"), which the neutralised
 * cells are matched against. Errors name the file and the line. */
wf_status wf_io_scores_csv_read(const char *path, int64_t n, const char *const *ids, int n_ids,
                                const char *const *components, int n_comp, wf_window *w,
                                double *scores, uint8_t *flagged, wf_error *err);

#endif
