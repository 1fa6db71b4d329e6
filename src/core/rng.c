/*
 * xoshiro256** (Blackman & Vigna, 2018) seeded by splitmix64. Small, fast, and with a fixed,
 * documented sequence so that a seed in a manifest reproduces a run years later.
 */
#include "whyflag/rng.h"

#include <math.h>

__extension__ typedef unsigned __int128 wf_u128;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void wf_rng_init(wf_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

void wf_rng_init_stream(wf_rng *r, uint64_t seed, uint64_t stream) {
    /* Mix the stream number through splitmix so that neighbouring streams are unrelated. */
    uint64_t x = stream ^ 0xD1B54A32D192ED03ull;
    uint64_t h = splitmix64(&x);
    wf_rng_init(r, seed ^ h);
}

uint64_t wf_window_key(const char *turbine_id, int64_t start) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (const unsigned char *p = (const unsigned char *)turbine_id; *p; p++) {
        h ^= *p;
        h *= 0x100000001B3ull;
    }
    uint64_t x = h ^ ((uint64_t)start * 0x9E3779B97F4A7C15ull);
    return splitmix64(&x);
}

uint64_t wf_seeded_hash(uint64_t seed, uint64_t key) {
    uint64_t x = seed ^ 0x5851F42D4C957F2Dull;
    uint64_t a = splitmix64(&x);
    x = a ^ key;
    return splitmix64(&x);
}

uint64_t wf_rng_u64(wf_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double wf_rng_uniform(wf_rng *r) {
    return (double)(wf_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t wf_rng_below(wf_rng *r, uint64_t n) {
    /* Lemire's nearly-divisionless method with rejection: exact uniformity. */
    wf_u128 m = (wf_u128)wf_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            m = (wf_u128)wf_rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double wf_rng_normal(wf_rng *r) {
    double u1 = wf_rng_uniform(r);
    double u2 = wf_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
