/*
 * whyflag: the one explicit-state random generator (xoshiro256**, seeded through splitmix64).
 *
 * There is no global state. Results must not depend on the thread count, so a computation that
 * runs per window derives its own stream from (seed, window index) with wf_rng_init_stream rather
 * than sharing one generator across threads.
 */
#ifndef WHYFLAG_RNG_H
#define WHYFLAG_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_rng {
    uint64_t s[4];
} wf_rng;

/* Seed from a 64-bit value (splitmix64 expansion, never all-zero state). */
void wf_rng_init(wf_rng *r, uint64_t seed);
/* Independent stream number `stream` of seed `seed` (e.g. the window index). */
void wf_rng_init_stream(wf_rng *r, uint64_t seed, uint64_t stream);
/* A window's identity as a 64-bit key (FNV-1a of the turbine id, mixed with the start time):
 * the stream number of a window's explanation and the draw order of the background, so that
 * both depend on the window itself, not on its position in a run (or in a shard of it). */
uint64_t wf_window_key(const char *turbine_id, int64_t start);
/* The seeded hash that orders windows for the background draw: a uniform 64-bit value per
 * (seed, key), independent of everything else. */
uint64_t wf_seeded_hash(uint64_t seed, uint64_t key);
uint64_t wf_rng_u64(wf_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double wf_rng_uniform(wf_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's method); n > 0. */
uint64_t wf_rng_below(wf_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value so the stream stays simple). */
double wf_rng_normal(wf_rng *r);

#ifdef __cplusplus
}
#endif
#endif
