// Copyright (C) samba-ca authors. GPLv3+.
//
// SMB 3.x key derivation ([MS-SMB2] 3.1.4.2) and the SMB 3.1.1 preauth
// integrity hash ([MS-SMB2] 3.2.5.2, 3.3.5.4).

#ifndef SAMBA_CA_SIGNING_SMB3_KDF_H_
#define SAMBA_CA_SIGNING_SMB3_KDF_H_

#include <cstddef>
#include <cstdint>

#include "evp_util.h"
#include "status.h"

namespace samba_ca {
namespace signing {

enum class Dialect : uint16_t {
  kSmb202 = 0x0202,
  kSmb210 = 0x0210,
  kSmb300 = 0x0300,
  kSmb302 = 0x0302,
  kSmb311 = 0x0311,
};

constexpr size_t kPreauthHashSize = 64;  // SHA-512
constexpr size_t kMaxDerivedKeySize = 32;

// SP800-108 KDF in counter mode with HMAC-SHA256 as the PRF, r = 32 bits,
// L = out_len * 8 (16 or 32 bytes for SMB). label and context are taken
// verbatim: the SMB labels include their terminating NUL.
Status Sp800108HmacSha256(const uint8_t* key, size_t key_len,
                          const uint8_t* label, size_t label_len,
                          const uint8_t* context, size_t context_len,
                          uint8_t* out, size_t out_len);

// The four session keys of an SMB 3.x session. "c2s" protects messages from
// the client to the server ("ServerIn " in 3.0), "s2c" the other direction:
// a client encrypts with c2s and decrypts with s2c, a server the reverse.
struct Smb3SessionKeys {
  uint8_t signing[16];
  uint8_t application[16];
  uint8_t c2s_cipher[kMaxDerivedKeySize];
  uint8_t s2c_cipher[kMaxDerivedKeySize];
  size_t cipher_key_len;  // 16 for AES-128-*, 32 for AES-256-*
};

// Derives all keys for `dialect` (3.0, 3.0.2 or 3.1.1). For 3.1.1,
// `preauth_hash` is the session's 64-byte preauth integrity hash; it is
// ignored (may be null) for 3.0.x. cipher_key_len is 16 or 32; 32 is only
// valid with 3.1.1 and then `session_key` should be the full session key
// (Session.FullSessionKey), which is what [MS-SMB2] feeds the KDF for the
// AES-256 ciphers.
Status DeriveSmb3SessionKeys(Dialect dialect, const uint8_t* session_key,
                             size_t session_key_len,
                             const uint8_t* preauth_hash,
                             size_t cipher_key_len, Smb3SessionKeys* out);

// Running SHA-512 preauth integrity hash: H' = SHA-512(H || message),
// starting from 64 zero bytes. Reuses one digest context.
class PreauthHash {
 public:
  PreauthHash();
  PreauthHash(const PreauthHash&) = delete;
  PreauthHash& operator=(const PreauthHash&) = delete;

  // Fails only when OpenSSL cannot provide SHA-512.
  Status status() const { return status_; }

  void Reset();
  // Chains one whole SMB2 message (without the 4-byte transport header).
  Status Update(const uint8_t* message, size_t len);
  const uint8_t* value() const { return value_; }
  // A session's hash starts as a copy of the connection's.
  void CopyFrom(const PreauthHash& other);

 private:
  internal::MdPtr md_;
  internal::MdCtxPtr ctx_;
  uint8_t value_[kPreauthHashSize];
  Status status_;
};

}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_SMB3_KDF_H_
