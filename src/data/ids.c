/*
 * The one rule for a turbine's identity (data.h: wf_turbine_id_normalize), used by the log
 * reader's windower, the failure log and the shard assignment alike.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "data/data_impl.h"

/* Turbine ids as C strings (the rule is stated in include/whyflag/data.h): control bytes (NUL
 * included) replaced by '?', Latin-1 converted to UTF-8, and an id that had to be changed
 * (control bytes) or cut (longer than WF_ID_MAX - 1 bytes) keeps at most WF_ID_CUT bytes (never
 * inside a UTF-8 sequence) followed by '~' and 8 hex digits of a hash of its raw bytes, so that
 * distinct raw ids stay distinct. Returns the length. */

#define WF_ID_CUT (WF_ID_MAX - 1 - 9) /* bytes kept before "~" + 8 hex digits */

static uint64_t id_hash(const char *id, size_t n) { /* FNV-1a, 64 bits, then mixed */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33; /* finaliser (MurmurHash3 fmix64): every input bit reaches the top bits */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

size_t wf_turbine_id_normalize(const char *id, size_t n, char *out) {
    const unsigned char *u = (const unsigned char *)id;
    int ascii = 1;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = u[i] < 0x80;
    int utf8 = ascii || wf_utf8_valid(id, n);
    /* the normalised text, uncut, measured first: converted length and whether it changed */
    size_t full = 0;
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        changed |= u[i] < 0x20;
        full += (!utf8 && u[i] >= 0x80) ? 2 : 1;
    }
    size_t limit = (changed || full >= WF_ID_MAX) ? WF_ID_CUT : WF_ID_MAX - 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < 0x20) {
            if (k + 1 > limit)
                break;
            out[k++] = '?';
        } else if (u[i] < 0x80) {
            if (k + 1 > limit)
                break;
            out[k++] = id[i];
        } else if (!utf8) { /* not UTF-8: Latin-1, as real exports are, converted */
            if (k + 2 > limit)
                break;
            out[k++] = (char)(0xC0 | (u[i] >> 6));
            out[k++] = (char)(0x80 | (u[i] & 0x3F));
        } else {
            size_t len = (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3 : 4;
            if (k + len > limit)
                break; /* never cut a UTF-8 sequence */
            memcpy(out + k, id + i, len);
            k += len;
            i += len - 1;
        }
    }
    if (limit == WF_ID_CUT)
        k += (size_t)snprintf(out + k, WF_ID_MAX - k, "~%08x", (unsigned)(id_hash(id, n) >> 32));
    out[k] = '\0';
    return k;
}
