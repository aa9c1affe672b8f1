// Copyright (C) samba-ca authors. GPLv3+.
//
// One-shot forms of the primitives under the SMB classes, with free nonce
// and tag lengths. They exist so the primitives can be checked against
// their own published vectors (RFC 4493, the GCM specification, SP 800-38C,
// RFC 3610) and so tests can cross-check the SMB classes; the SMB hot paths
// use the context-keeping classes instead.

#ifndef SAMBA_CA_SIGNING_CRYPTO_PRIMITIVES_H_
#define SAMBA_CA_SIGNING_CRYPTO_PRIMITIVES_H_

#include <cstddef>
#include <cstdint>

#include "status.h"

namespace samba_ca {
namespace signing {

enum class AeadMode { kCcm, kGcm };

// AES-CMAC with a 16- or 32-byte key.
Status AesCmac(const uint8_t* key, size_t key_len, const uint8_t* data,
               size_t len, uint8_t out[16]);
Status HmacSha256(const uint8_t* key, size_t key_len, const uint8_t* data,
                  size_t len, uint8_t out[32]);

// AES-CCM / AES-GCM with a 16- or 32-byte key. CCM nonces are 7..13 bytes
// and tags 4..16 (even); GCM nonces 1..64 bytes (12 is the fast one), tags
// 4..16.
Status AeadSeal(AeadMode mode, const uint8_t* key, size_t key_len,
                const uint8_t* nonce, size_t nonce_len, const uint8_t* aad,
                size_t aad_len, const uint8_t* plaintext, size_t len,
                uint8_t* ciphertext, uint8_t* tag, size_t tag_len);
Status AeadOpen(AeadMode mode, const uint8_t* key, size_t key_len,
                const uint8_t* nonce, size_t nonce_len, const uint8_t* aad,
                size_t aad_len, const uint8_t* ciphertext, size_t len,
                const uint8_t* tag, size_t tag_len, uint8_t* plaintext);

}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_CRYPTO_PRIMITIVES_H_
