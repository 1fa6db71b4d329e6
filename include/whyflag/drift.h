/*
 * whyflag: data drift between a reference period and a current period, and out-of-reference
 * windows (issue 16, the numerical core of "Drift in the audit").
 *
 * Pure numerics over plain arrays: no I/O, no printing, no global state, deterministic. Each
 * number matches the Python peer named beside it (checked by tests/test_drift.c against values
 * written by scipy 1.10.1 / numpy 1.24.2, tests/data/drift/gen_drift_refs.py):
 *
 *   ks_statistic        scipy.stats.ks_2samp(ref, cur, method="asymp").statistic
 *   ks_pvalue           scipy.stats.ks_2samp(ref, cur, method="asymp").pvalue, i.e.
 *                       scipy.stats.kstwo.sf(D, round(m*n/(m+n))) (NaN when that n rounds to 0,
 *                       which happens for 1 value against 1 value, as in scipy)
 *   ks_pvalue_auto      scipy.stats.ks_2samp(ref, cur).pvalue: method="auto", scipy's default
 *                       and the call Evidently's "ks" test makes; the exact two-sample
 *                       distribution when both samples have at most 10,000 values, else the
 *                       asymptotic one. Computed only when settings.ks_auto is set.
 *   wasserstein_normed  scipy.stats.wasserstein_distance(ref, cur) / max(numpy.std(ref), 0.001)
 *                       (Evidently's "wasserstein" test; the floor is wasserstein_min_std)
 *   psi                 10 bins cut at numpy.quantile(ref, [0.1..0.9]) (linear), open at both
 *                       ends, a value equal to an edge in the lower bin (numpy.searchsorted side
 *                       "left"); empty shares become 1e-4; sum (cur - ref) * ln(cur / ref)
 *   drifted             Evidently's default for a numeric column: a reference of at most 1,000
 *                       values uses KS (drifted when p < 0.05), a larger one the normed
 *                       Wasserstein distance (drifted when >= 0.1)
 *   percentile          scipy.stats.percentileofscore(ref_means, mean, kind="weak"): the share
 *                       (in %) of reference window means <= the window's mean
 *   quantile            numpy.quantile(x, q) with the default "linear" method, bit for bit
 *
 * Values that are NaN are left out everywhere (empty cells). A channel whose reference or current
 * sample is empty after that has evaluated = 0 and NaN statistics: an explicit state, not zero.
 *
 * Scale: wf_drift_acc collects a channel's values exactly (sorted distinct values with counts,
 * or sorted values, whichever is smaller), within a memory budget the caller sets; exceeding it
 * is WF_ERR_UNSUPPORTED with a message, never a silent truncation. Accumulators merge; after
 * wf_drift_acc_finish the form depends on the multiset of values only (-0.0 is stored as +0.0),
 * so every result is byte-identical however the rows were split into shards and in whatever
 * order the shards were merged.
 */
#ifndef WHYFLAG_DRIFT_H
#define WHYFLAG_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sorted sample: v (n) ascending without NaN, each value counted w[i] >= 1 times, or once when
 * w is NULL (then v may hold repeats). Borrowed pointers. */
typedef struct wf_drift_sample {
    const double *v;
    const uint64_t *w;
    size_t n;
} wf_drift_sample;

/* The number of values a sample stands for. */
uint64_t wf_drift_sample_total(const wf_drift_sample *a);
/* numpy.quantile of the expanded sample, method "linear"; total >= 1. */
double wf_drift_sample_quantile(const wf_drift_sample *a, double q);

/* ---- settings ---------------------------------------------------------------------------- */

typedef struct wf_drift_settings {
    size_t ks_max_ref;            /* KS when the reference has at most this many values: 1000 */
    double ks_alpha;              /* KS drifted when p < ks_alpha: 0.05 */
    int ks_auto;                  /* also compute ks_pvalue_auto, and let the rule use it: 0 */
    size_t ks_pvalue_max_n;       /* skip the asymptotic p-value when round(m*n/(m+n)) exceeds
                                     this (it costs ~0.3 s at 125,000, ~1.2 s at 500,000, as in
                                     scipy); 0 = never skip. Must be >= ks_max_ref: 0 */
    double wasserstein_threshold; /* otherwise drifted when wasserstein_normed >= this: 0.1 */
    double wasserstein_min_std;   /* the norm is max(std(ref), this): 0.001 (Evidently) */
    int psi_bins;                 /* PSI bins cut at the reference's quantiles k/bins: 10 */
    double psi_eps;               /* an empty bin's share becomes this: 1e-4 */
    double oor_q_lo, oor_q_hi;    /* out-of-reference range quantiles: 0.005, 0.995 */
} wf_drift_settings;

/* The defaults above. */
void wf_drift_settings_init(wf_drift_settings *s);

/* ---- one channel: reference vs current ----------------------------------------------------- */

typedef enum wf_drift_method {
    WF_DRIFT_METHOD_NONE = 0,        /* not evaluated (an empty sample) */
    WF_DRIFT_METHOD_KS = 1,          /* the reference has <= ks_max_ref values */
    WF_DRIFT_METHOD_WASSERSTEIN = 2, /* the reference has more */
} wf_drift_method;

typedef struct wf_drift_channel {
    size_t n_ref, n_cur;       /* values used (NaN left out) */
    int evaluated;             /* 0 when n_ref or n_cur is 0: then every statistic is NaN */
    double ks_statistic;       /* two-sample KS D in [0, 1] */
    double ks_pvalue;          /* asymptotic two-sided p-value (scipy method="asymp") */
    double ks_pvalue_auto;     /* scipy's default method="auto" p-value; NaN unless ks_auto */
    int ks_pvalue_skipped;     /* 1 when ks_pvalue_max_n skipped the p-values (they are NaN) */
    double wasserstein;        /* 1-Wasserstein distance, in the channel's units */
    double ref_std;            /* numpy.std(ref), ddof 0 */
    double wasserstein_normed; /* wasserstein / max(ref_std, wasserstein_min_std) */
    double psi;                /* population stability index */
    wf_drift_method method;    /* which rule decided `drifted` */
    int drifted;               /* 1 when the rule says drifted, else 0 (also when p is NaN) */
} wf_drift_channel;

/* Compare two samples that are sorted ascending and free of NaN (as wf_drift_acc_finish leaves
 * them). Allocates only scratch inside the KS p-values: the asymptotic one for small D (Durbin's
 * (2k-1)^2 matrix, k = ceil(n*D) <= 59, under 450 KB), the auto one a column of at most
 * min(n_ref, n_cur) + 1 doubles. Errors: WF_ERR_INVALID when a sample is not sorted or holds NaN
 * or psi_bins < 1; WF_ERR_NOMEM. */
wf_status wf_drift_compare_sorted(const double *ref, size_t n_ref, /* (n_ref) sorted */
                                  const double *cur, size_t n_cur, /* (n_cur) sorted */
                                  const wf_drift_settings *s, wf_drift_channel *out, wf_error *err);

/* The same over weighted samples (e.g. an accumulator's, see wf_drift_acc_sample); identical
 * results to the expanded arrays except numpy.std, which may differ in the last bit. */
wf_status wf_drift_compare_samples(const wf_drift_sample *ref, const wf_drift_sample *cur,
                                   const wf_drift_settings *s, wf_drift_channel *out,
                                   wf_error *err);

/* The same over raw float samples in any order, NaN cells left out (copies and sorts). */
wf_status wf_drift_compare_f(const float *ref, size_t n_ref, const float *cur, size_t n_cur,
                             const wf_drift_settings *s, wf_drift_channel *out, wf_error *err);

/* ---- the statistics one by one (inputs sorted ascending, no NaN, n >= 1) --------------------- */

/* KS D = max over x of |F_ref(x) - F_cur(x)|, ECDFs right-continuous, computed as scipy does
 * (count/n in double). */
double wf_drift_ks_statistic(const double *a, size_t na, const double *b, size_t nb);
/* scipy.stats.ks_2samp method="asymp", two-sided: kstwo.sf(d, round(m*n/(m+n))). NaN when
 * that rounds to 0 (1 vs 1 value); WF_ERR_NOMEM is reported through *status when not NULL. */
double wf_drift_ks_pvalue(double d, size_t na, size_t nb, wf_status *status);
/* scipy.stats.ks_2samp(method="auto") two-sided p-value for statistic d: exact (Hodges'
 * lattice-path counting, scipy 1.10.1's _attempt_exact_2kssamp) when max(na, nb) <= 10000,
 * asymptotic otherwise or when the exact computation is refused, as in scipy. */
double wf_drift_ks_pvalue_auto(double d, size_t na, size_t nb, wf_status *status);
/* scipy.stats.kstwo.sf(x, n): the two-sided one-sample KS distribution's survival function. */
double wf_drift_kstwo_sf(int n, double x);
/* scipy.special.smirnov(n, x): the one-sided one-sample KS survival function. */
double wf_drift_smirnov_sf(int n, double x);
/* scipy.stats.wasserstein_distance(a, b). */
double wf_drift_wasserstein(const double *a, size_t na, const double *b, size_t nb);
/* numpy.std(a) (ddof 0), two passes in double. */
double wf_drift_std(const double *a, size_t na);
/* numpy.quantile(a, q), method "linear", q in [0, 1]. */
double wf_drift_quantile(const double *a, size_t na, double q);
/* PSI with `bins` bins at the reference's quantiles k/bins (see the file comment). */
double wf_drift_psi(const double *ref, size_t nr, const double *cur, size_t nc, int bins,
                    double eps);
/* scipy.stats.percentileofscore(a, score, kind="weak") = 100 * #(a <= score) / n. */
double wf_drift_percentile_weak(const double *a, size_t na, double score);

/* ---- exact, mergeable accumulation per channel --------------------------------------------- */

/* An accumulator keeps each channel's multiset of values exactly: as sorted distinct values with
 * counts (16 bytes a distinct value) when that is at most half the size of the sorted values
 * (8 bytes a value), else as the sorted values; new values wait unsorted (8 bytes each) until
 * they are folded in. Sensor channels logged at a fixed resolution have few distinct values, so
 * a fleet-year of one channel takes kilobytes. The form after wf_drift_acc_finish depends on the
 * multiset only: every result is bit-identical however the rows were split and merged. */
typedef struct wf_drift_acc wf_drift_acc;

/* A new accumulator for n_channels channels that may hold at most budget_bytes in all (counted
 * as above; 0 means no limit; a fold needs transient scratch of the folded size on top). Caller
 * frees with wf_drift_acc_free. */
wf_status wf_drift_acc_new(wf_drift_acc **out, int n_channels, size_t budget_bytes, wf_error *err);
/* Free; accepts NULL. */
void wf_drift_acc_free(wf_drift_acc *acc);
/* Add n values of one channel (NaN left out, -0.0 stored as +0.0). When the budget would be
 * exceeded the pending values of every channel are folded first; if that is not enough:
 * WF_ERR_UNSUPPORTED with a message, and the values are not added (never a silent truncation).
 * Also WF_ERR_NOMEM, WF_ERR_INVALID (channel out of range). */
wf_status wf_drift_acc_add_f(wf_drift_acc *acc, int channel, const float *v, size_t n,
                             wf_error *err);
wf_status wf_drift_acc_add_d(wf_drift_acc *acc, int channel, const double *v, size_t n,
                             wf_error *err);
/* Add a window's cells: x is (C, T) row-major with C = the accumulator's channels. On an error
 * the channels before the failing one have been added. */
wf_status wf_drift_acc_add_window(wf_drift_acc *acc, const float *x, int T, wf_error *err);
/* Add values with counts, e.g. read back from a shard file that stored wf_drift_acc_sample:
 * v (n) ascending, no NaN, no -0.0; w (n) counts >= 1 with v strictly ascending, or w NULL for
 * 1 each (repeats allowed). */
wf_status wf_drift_acc_add_counts(wf_drift_acc *acc, int channel, const double *v,
                                  const uint64_t *w, size_t n, wf_error *err);
/* Fold all of src's values into dst (same channel count; dst's budget applies, checked against
 * the exact merged size before anything changes). src must be finished and is left as it was. */
wf_status wf_drift_acc_merge(wf_drift_acc *dst, const wf_drift_acc *src, wf_error *err);
/* Fold every channel's pending values into the canonical form and free the pending buffers.
 * Idempotent; adding or merging afterwards is allowed (finish again). WF_ERR_NOMEM. */
wf_status wf_drift_acc_finish(wf_drift_acc *acc, wf_error *err);
int wf_drift_acc_channels(const wf_drift_acc *acc);
/* A channel's folded values (all of them after finish): a view owned by acc, valid until the
 * next add, merge, finish or free. */
wf_drift_sample wf_drift_acc_sample(const wf_drift_acc *acc, int channel);
/* Bytes held now (as counted for the budget). */
size_t wf_drift_acc_bytes(const wf_drift_acc *acc);

/* ---- compaction (a deterministic, mergeable sketch) ----------------------------------------
 * With a cap of K entries, a channel stays exact while its canonical form takes at most 16 K
 * bytes; past that it is compacted onto a dyadic grid: each value x is replaced by the midpoint
 * (k + 1/2) 2^e of its bucket [k 2^e, (k+1) 2^e), k = floor(x 2^-e), at the lowest level e
 * (-1000..960) that leaves at most K buckets, and the table keeps (midpoint, count) pairs.
 * Buckets nest, and both the exactness test and the bucket count only grow with the multiset,
 * so the compacted table is a function of the channel's multiset and K alone: shards + merge
 * give the bytes of one machine. Each value moves by at most h = 2^(e-1), so against the exact
 * samples: |W1 - W1_exact| <= h_ref + h_cur, |std - std_exact| <= h_ref, and
 * |D - D_exact| <= b_ref + b_cur for the KS statistic, b the largest share of a sample in one
 * bucket (tests/test_drift_sketch.c checks these and measures PSI). */

/* Set the cap K (entries per channel, 0 = exact: never compact) and the pending values a
 * channel buffers before a fold (0 = 4 Ki or the folded size). Applied at the next fold (add,
 * merge, finish): wf_drift_acc_finish after lowering K compacts now. */
void wf_drift_acc_set_limits(wf_drift_acc *acc, size_t cap, size_t pend);
/* 1 when channel c is compacted (then *level = e, the bucket width is 2^e), else 0. */
int wf_drift_acc_level(const wf_drift_acc *acc, int channel, int *level);
/* The midpoint of x's bucket at level e (x itself when the bucket holds no other double). */
double wf_drift_sketch_rep(double x, int e);
/* wf_drift_acc_add_counts for a table compacted at `level` (when `compacted`): the values must
 * be bucket midpoints of that level (WF_ERR_INVALID otherwise). */
wf_status wf_drift_acc_add_compacted(wf_drift_acc *acc, int channel, const double *v,
                                     const uint64_t *w, size_t n, int compacted, int level,
                                     wf_error *err);

/* Drift of every channel: out is (C). Both accumulators must be finished. */
wf_status wf_drift_acc_compare(const wf_drift_acc *ref, const wf_drift_acc *cur,
                               const wf_drift_settings *s, wf_drift_channel *out, wf_error *err);

/* ---- out-of-reference windows -------------------------------------------------------------- */

/* The channel means of one window: x (C, T) row-major, NaN left out, summed in double in time
 * order; a channel with no value has mean NaN. means is (C). */
void wf_drift_window_means(double *means, const float *x, int C, int T);

/* What the reference period looks like, per channel, for judging single windows (opaque). */
typedef struct wf_drift_profile wf_drift_profile;

/* Build a profile from two finished accumulators: `means` holds each reference window's channel
 * means (one value per window and channel, see wf_drift_window_means), `values` the reference
 * cells. A channel with no data gets NaN bounds. Caller frees with wf_drift_profile_free. */
wf_status wf_drift_profile_new(wf_drift_profile **out, const wf_drift_acc *means,
                               const wf_drift_acc *values, const wf_drift_settings *s,
                               wf_error *err);
void wf_drift_profile_free(wf_drift_profile *p);
/* Channel c's ranges: numpy.quantile (linear) of the reference window means and of the reference
 * cell values at oor_q_lo and oor_q_hi. */
void wf_drift_profile_bounds(const wf_drift_profile *p, int c, double *mean_lo, double *mean_hi,
                             double *value_lo, double *value_hi);

typedef struct wf_drift_window {
    double *percentile; /* (C) percentileofscore kind="weak" of the window's mean, NaN if none */
    double *share_out;  /* (C) share of the window's non-NaN cells outside [value_lo, value_hi] */
    int *channel_out;   /* (C) 1 when the mean is outside [mean_lo, mean_hi] */
    int outside;        /* 1 when any channel_out is 1 */
} wf_drift_window;

/* Judge one window x (C, T) against the profile. The caller provides the three (C) arrays in
 * out; nothing is allocated. WF_ERR_SHAPE when C differs from the profile's. */
wf_status wf_drift_window_judge(const wf_drift_profile *p, const float *x, int C, int T,
                                wf_drift_window *out, wf_error *err);

/* ---- periods (UTC) -------------------------------------------------------------------------- */

typedef enum wf_drift_period {
    WF_DRIFT_PERIOD_DAY = 0,
    WF_DRIFT_PERIOD_WEEK = 1, /* ISO weeks: Monday 00:00 UTC to the next Monday */
    WF_DRIFT_PERIOD_MONTH = 2,
} wf_drift_period;

/* The unix time (seconds) at which the period holding t starts; correct for negative t. */
int64_t wf_drift_period_start(int64_t t, wf_drift_period kind);
/* The unix time at which the next period starts. */
int64_t wf_drift_period_next(int64_t start, wf_drift_period kind);
/* ISO 8601 label of the period holding t: "2026-12-01", "2026-W49", "2026-12". Writes at most
 * size bytes (NUL included; 16 is always enough); returns buf. */
char *wf_drift_period_label(int64_t t, wf_drift_period kind, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
