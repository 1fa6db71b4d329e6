/* Ed25519 through nettle (see crypto.h). */
#include "core/crypto.h"

#include <nettle/eddsa.h>

void wf_ed25519_public_key(uint8_t pub[32], const uint8_t priv[32]) {
    ed25519_sha512_public_key(pub, priv);
}

void wf_ed25519_sign(const uint8_t priv[32], const void *msg, size_t len, uint8_t sig[64]) {
    uint8_t pub[32];
    ed25519_sha512_public_key(pub, priv);
    ed25519_sha512_sign(pub, priv, len, (const uint8_t *)msg, sig);
}

int wf_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64]) {
    return ed25519_sha512_verify(pub, len, (const uint8_t *)msg, sig);
}
