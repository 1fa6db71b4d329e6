/*
 * The comparison of two models in the audit (issue 15), inside the audit stage: model B loaded
 * beside A, B's score of every window of a part (scored in the same batches as A's, as the log
 * streams), the values of the windows only B flags (A's flagged values are kept by the part),
 * their shard.bin encoding and combination, and the numbers handed to the report
 * (wf_results_compare), including the explanations of the disagreements.
 *
 * A part's comparison follows its windows: indexed like s->w during the pass (stream order),
 * then like the part's windows (canonical order), so shards + merge give the bytes of one
 * machine. The explanations are made once, on the combined part (the cap by |score difference|
 * is a fleet-wide choice), each depending on its window only.
 */
#ifndef WF_AUDIT_COMPARE_H
#define WF_AUDIT_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/config.h"
#include "whyflag/model.h"
#include "whyflag/predictor.h"
#include "whyflag/results_compare.h"

struct wf_audit_part;

/* Model B, loaded and checked against the config (owned by the wf_audit). */
typedef struct wf_audit_cmp_model {
    wf_model *model; /* NULL: no comparison */
    wf_predictor pred;
    char sha256[65];
} wf_audit_cmp_model;

/* Load cfg->compare.model and check it takes the config's channels and window length and has a
 * score output; errors name B's file and what was expected. */
wf_status wf_audit_cmp_model_open(const wf_config *cfg, wf_audit_cmp_model *cm, wf_error *err);
void wf_audit_cmp_model_close(wf_audit_cmp_model *cm);

/* A part's comparison. */
typedef struct wf_audit_cmp {
    int64_t n, cap;  /* windows */
    double *score_b; /* (n) */
    int64_t *vslot;  /* (n) slot in vals of a window only B flags, else -1 */
    float *vals;     /* (nv, CT) */
    int64_t nv, vcap;
    size_t CT;
    double threshold_a, threshold_b;
    char model[WF_PATH_MAX]; /* B's path and digest: merge reopens it */
    char sha256[65];
    double *by;           /* (batch) scratch of the pass */
    double seconds_score; /* B's scoring time in this pass (informational) */
} wf_audit_cmp;

wf_status wf_audit_cmp_new(const wf_config *cfg, const wf_audit_cmp_model *cm, size_t CT,
                           int64_t batch, wf_audit_cmp **out, wf_error *err);
void wf_audit_cmp_free(wf_audit_cmp *c); /* accepts NULL */

/* The pass (stream.c): score the batch x (nb, C, T) of windows idx (stream indices) with B;
 * ya are A's scores of the batch. A non-finite score of B is an error naming the window. */
wf_status wf_audit_cmp_batch(wf_audit_cmp *c, const wf_predictor *pb, const float *x,
                             const int64_t *idx, const double *ya, int64_t nb, int threads,
                             const wf_window *w, wf_error *err);
/* Record moves of the stream's arrays: window `from` becomes window `to` (to <= from). */
void wf_audit_cmp_move(wf_audit_cmp *c, int64_t to, int64_t from);
/* new[j] = old[perm[j]] for the first n windows (perm is not changed). */
wf_status wf_audit_cmp_permute(wf_audit_cmp *c, const int64_t *perm, int64_t n, wf_error *err);

/* shard.bin: the comparison of part pt as bytes (malloc'd) and back (pt's windows read). */
wf_status wf_audit_cmp_encode(const wf_audit_cmp *c, const struct wf_audit_part *pt, char **p,
                              size_t *n, wf_error *err);
wf_status wf_audit_cmp_decode(const unsigned char *p, size_t n, const struct wf_audit_part *pt,
                              wf_audit_cmp **out, wf_error *err);
/* Combine: window j of part i goes to newpos[base[i] + j] of total. Every part has a comparison
 * or none does (else an error naming the shard). */
wf_status wf_audit_cmp_combine(struct wf_audit_part *parts, const char *const *names, int np,
                               const int64_t *base, const int64_t *newpos, int64_t total,
                               wf_audit_cmp **out, wf_error *err);

/* compare.arms must name turbines of the log: checked once the pass knows them (before the
 * explanations); an error naming the turbine. */
wf_status wf_audit_cmp_check_arms(const wf_config *cfg, const struct wf_audit_part *pt,
                                  wf_error *err);

/* The numbers for the report, from a combined part. Owns its arrays. */
typedef struct wf_audit_cmp_report {
    wf_results_compare r;
    uint8_t *flagged_b;
    wf_compare_window *win;
    char **players;
    struct wf_model_card *card_a, *card_b;
    char name_a[WF_PATH_MAX], name_b[WF_PATH_MAX];
    char settings_text[512];
    double seconds_explain; /* informational */
} wf_audit_cmp_report;

wf_status wf_audit_cmp_report_build(const wf_config *cfg, const wf_model *ma,
                                    const wf_predictor *pa, const wf_audit_cmp_model *cm,
                                    const struct wf_audit_part *all, int threads,
                                    wf_audit_cmp_report *out, wf_error *err);
void wf_audit_cmp_report_free(wf_audit_cmp_report *out);

#endif
