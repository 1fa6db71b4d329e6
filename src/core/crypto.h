/*
 * Ed25519 (nettle/hogweed; src/core is nettle's only user): the signature over manifest.json.
 */
#ifndef WF_CORE_CRYPTO_H
#define WF_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

void wf_ed25519_public_key(uint8_t pub[32], const uint8_t priv[32]);
void wf_ed25519_sign(const uint8_t priv[32], const void *msg, size_t len, uint8_t sig[64]);
/* 1 when sig is pub's signature of msg. */
int wf_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64]);

#endif
