/*
 * whyflag: results.json read back into a wf_results (issue 19, `whyflag report`), by the io
 * stage (cJSON, the one JSON reader). Everything a report prints is rebuilt from the file:
 * windows (without their values), scores and flags (from scores.csv beside results.json, which
 * its "scores_file" names; inline "scores" in files written before issue 14), skipped windows,
 * failures, settings, background (its windows and weights, without values), explanations with their
 * checks (why, agreement), dependence, model card, channel ranges and what the report was rendered
 * with.
 *
 * The windows' values are not in results.json: the caller fills doc->values (and the
 * background's x) from the log when it has it (wf_audit_rerender does), else the report says
 * the signals were not available.
 */
#ifndef WHYFLAG_RESULTS_READ_H
#define WHYFLAG_RESULTS_READ_H

#include "whyflag/results.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_results_doc {
    wf_results r; /* points into the fields below */
    int version;  /* results_version */
    char run_id[17];
    char scores_file[256]; /* "scores.csv": the scores were read from that file beside
                              results.json (issue 14); "" when inline (files written before) */
    wf_windows ws;         /* values NULL until filled */
    double *scores;
    uint8_t *flagged;
    wf_failure *failures;
    wf_explain_settings settings;
    wf_background bg; /* x NULL until filled */
    int has_bg;
    wf_explanation *expl;
    wf_why *why;
    wf_dependence dep;
    int has_dep;
    struct wf_model_card *card;
    wf_data_stats input; /* "input": the counts of the log's pass */
    double *ch_min, *ch_max;
    float *values; /* (n_explained, C, T) when filled: the explained windows' values */
    char **pool;   /* owned strings the structs above borrow */
    int n_pool, cap_pool;
} wf_results_doc;

/* Read path. Errors name the file and the JSON path of the first problem; a file without
 * "results_version" (written before issue 19) or from a newer version, the results of
 * `explain` and runs with a drift section (not re-rendered yet) are errors that say so. */
wf_status wf_results_read_json(const char *path, wf_results_doc *doc, wf_error *err);
void wf_results_doc_free(wf_results_doc *doc); /* accepts a zeroed or half-read doc */

#ifdef __cplusplus
}
#endif
#endif
