// Copyright (C) samba-ca authors. GPLv3+.
//
// SMB 3.x encryption: the SMB2 TRANSFORM_HEADER ([MS-SMB2] 2.2.41) and
// AES-128/256-CCM/GCM sealing of a message behind it ([MS-SMB2] 3.1.4.3).
// The AEAD's associated data is the header from the Nonce field on (32
// bytes); its tag is the header's Signature.

#ifndef SAMBA_CA_SIGNING_SMB2_TRANSFORM_H_
#define SAMBA_CA_SIGNING_SMB2_TRANSFORM_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "evp_util.h"
#include "status.h"

namespace samba_ca {
namespace signing {

// Values are the SMB2_ENCRYPTION_CAPABILITIES cipher ids.
enum class CipherId : uint16_t {
  kAes128Ccm = 0x0001,
  kAes128Gcm = 0x0002,
  kAes256Ccm = 0x0003,
  kAes256Gcm = 0x0004,
};

// "AES-128-CCM" ... (also the OpenSSL cipher name); nullptr for an id that
// is none of the four.
const char* CipherIdName(CipherId id);

constexpr size_t kTransformHeaderSize = 52;
constexpr size_t kTransformSignatureOffset = 4;
constexpr size_t kTransformNonceOffset = 20;
constexpr size_t kTransformNonceFieldSize = 16;
constexpr size_t kTransformAadSize =
    kTransformHeaderSize - kTransformNonceOffset;
constexpr size_t kTransformTagSize = 16;
constexpr size_t kCcmNonceSize = 11;
constexpr size_t kGcmNonceSize = 12;
// Flags (3.1.1) and EncryptionAlgorithm (3.0.x) share the field and, for
// every dialect, the only valid value.
constexpr uint16_t kTransformFlagEncrypted = 0x0001;
// OriginalMessageSize is 32 bits and EVP lengths are int.
constexpr size_t kMaxEncryptedMessageSize = size_t{1} << 30;

struct TransformHeader {
  uint8_t signature[kTransformTagSize];
  uint8_t nonce[kTransformNonceFieldSize];
  uint32_t original_message_size;
  uint16_t flags;
  uint64_t session_id;
};

// Parses and checks the fixed fields of a transform header at the start of
// a whole transformed message of `len` bytes: ProtocolId 0xFD 'S' 'M' 'B',
// Flags/EncryptionAlgorithm == 1, OriginalMessageSize == len - 52.
Status ParseTransformHeader(const uint8_t* buf, size_t len,
                            TransformHeader* out);
void EncodeTransformHeader(const TransformHeader& header,
                           uint8_t out[kTransformHeaderSize]);

// One direction of an encrypted session: a key bound to one cipher, with
// its EVP context kept across messages.
class Smb3Cipher {
 public:
  // key_len: 16 for the AES-128 ciphers, 32 for the AES-256 ones.
  static Status Create(CipherId id, const uint8_t* key, size_t key_len,
                       std::unique_ptr<Smb3Cipher>* out);

  Smb3Cipher(const Smb3Cipher&) = delete;
  Smb3Cipher& operator=(const Smb3Cipher&) = delete;
  ~Smb3Cipher();

  CipherId id() const { return id_; }
  bool is_ccm() const {
    return id_ == CipherId::kAes128Ccm || id_ == CipherId::kAes256Ccm;
  }
  // 11 (CCM) or 12 (GCM) leading bytes of the 16-byte Nonce field are used.
  size_t nonce_size() const { return is_ccm() ? kCcmNonceSize : kGcmNonceSize; }

  // Seals `msg` into out[0, kTransformHeaderSize + len). nonce_field is the
  // whole 16-byte Nonce field as it goes on the wire; [MS-SMB2] wants the
  // bytes past nonce_size() zero and every nonce used once per key: both are
  // the caller's duty. `out` must not overlap `msg`.
  Status Encrypt(const uint8_t nonce_field[kTransformNonceFieldSize],
                 uint64_t session_id, const uint8_t* msg, size_t len,
                 uint8_t* out, size_t out_cap);

  // Opens a transformed message. On success out[0, *out_len) holds the
  // SMB2 message and *header (if not null) the parsed header; on failure
  // nothing of the plaintext is left in `out`. `out` must not overlap `in`.
  Status Decrypt(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap,
                 size_t* out_len, TransformHeader* header);

 private:
  explicit Smb3Cipher(CipherId id);

  // Keys `ctx` once for one direction; later calls only set the nonce.
  Status SetUp(EVP_CIPHER_CTX* ctx, const uint8_t* key, bool encrypt);

  CipherId id_;
  internal::CipherPtr cipher_;
  internal::CipherCtxPtr encrypt_ctx_;
  internal::CipherCtxPtr decrypt_ctx_;
};

}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_SMB2_TRANSFORM_H_
