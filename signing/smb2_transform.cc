// Copyright (C) samba-ca authors. GPLv3+.

#include "smb2_transform.h"

#include <openssl/crypto.h>

#include <cstring>

#include "byte_order.h"

namespace samba_ca {
namespace signing {

namespace {

constexpr uint8_t kTransformProtocolId[4] = {0xFD, 'S', 'M', 'B'};
constexpr size_t kOriginalSizeOffset = 36;
constexpr size_t kFlagsOffset = 42;
constexpr size_t kSessionIdOffset = 44;

size_t KeySize(CipherId id) {
  return (id == CipherId::kAes256Ccm || id == CipherId::kAes256Gcm) ? 32 : 16;
}

}  // namespace

const char* CipherIdName(CipherId id) {
  switch (id) {
    case CipherId::kAes128Ccm:
      return "AES-128-CCM";
    case CipherId::kAes128Gcm:
      return "AES-128-GCM";
    case CipherId::kAes256Ccm:
      return "AES-256-CCM";
    case CipherId::kAes256Gcm:
      return "AES-256-GCM";
  }
  return nullptr;
}

Status ParseTransformHeader(const uint8_t* buf, size_t len,
                            TransformHeader* out) {
  if (buf == nullptr || len < kTransformHeaderSize) {
    return Status::Truncated("shorter than a transform header (52 bytes)");
  }
  if (memcmp(buf, kTransformProtocolId, sizeof(kTransformProtocolId)) != 0) {
    return Status::Malformed("not a transform header (ProtocolId)");
  }
  TransformHeader h;
  memcpy(h.signature, buf + kTransformSignatureOffset, sizeof(h.signature));
  memcpy(h.nonce, buf + kTransformNonceOffset, sizeof(h.nonce));
  h.original_message_size = internal::LoadLe32(buf + kOriginalSizeOffset);
  h.flags = internal::LoadLe16(buf + kFlagsOffset);
  h.session_id = internal::LoadLe64(buf + kSessionIdOffset);
  if (h.flags != kTransformFlagEncrypted) {
    return Status::Malformed("transform Flags/EncryptionAlgorithm is not 1");
  }
  if (h.original_message_size == 0) {
    return Status::Malformed("OriginalMessageSize is zero");
  }
  if (h.original_message_size != len - kTransformHeaderSize) {
    return len - kTransformHeaderSize < h.original_message_size
               ? Status::Truncated("OriginalMessageSize exceeds the data")
               : Status::Malformed("data longer than OriginalMessageSize");
  }
  if (out != nullptr) *out = h;
  return Status::Ok();
}

void EncodeTransformHeader(const TransformHeader& h,
                           uint8_t out[kTransformHeaderSize]) {
  memcpy(out, kTransformProtocolId, sizeof(kTransformProtocolId));
  memcpy(out + kTransformSignatureOffset, h.signature, sizeof(h.signature));
  memcpy(out + kTransformNonceOffset, h.nonce, sizeof(h.nonce));
  internal::StoreLe32(h.original_message_size, out + kOriginalSizeOffset);
  internal::StoreLe16(0, out + kOriginalSizeOffset + 4);  // Reserved
  internal::StoreLe16(h.flags, out + kFlagsOffset);
  internal::StoreLe64(h.session_id, out + kSessionIdOffset);
}

Smb3Cipher::Smb3Cipher(CipherId id) : id_(id) {}

Smb3Cipher::~Smb3Cipher() = default;

Status Smb3Cipher::SetUp(EVP_CIPHER_CTX* ctx, const uint8_t* key,
                         bool encrypt) {
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx, cipher_.get(), nullptr, nullptr, nullptr, enc) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN,
                          static_cast<int>(nonce_size()), nullptr) != 1) {
    return Status::CryptoError("cipher setup failed");
  }
  // CCM fixes the tag length before the key; it stays for later messages.
  if (is_ccm() &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
                          static_cast<int>(kTransformTagSize), nullptr) != 1) {
    return Status::CryptoError("cipher setup failed");
  }
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, key, nullptr, enc) != 1) {
    return Status::CryptoError("cipher key setup failed");
  }
  return Status::Ok();
}

Status Smb3Cipher::Create(CipherId id, const uint8_t* key, size_t key_len,
                          std::unique_ptr<Smb3Cipher>* out) {
  const char* name = CipherIdName(id);
  if (name == nullptr) return Status::InvalidArgument("unknown cipher id");
  if (out == nullptr || key == nullptr || key_len != KeySize(id)) {
    return Status::InvalidArgument("cipher key has the wrong size");
  }
  std::unique_ptr<Smb3Cipher> c(new Smb3Cipher(id));
  c->cipher_.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
  c->encrypt_ctx_.reset(EVP_CIPHER_CTX_new());
  c->decrypt_ctx_.reset(EVP_CIPHER_CTX_new());
  if (!c->cipher_ || !c->encrypt_ctx_ || !c->decrypt_ctx_) {
    return Status::CryptoError("cipher unavailable");
  }
  Status s = c->SetUp(c->encrypt_ctx_.get(), key, true);
  if (s.ok()) s = c->SetUp(c->decrypt_ctx_.get(), key, false);
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::Ok();
}

Status Smb3Cipher::Encrypt(const uint8_t nonce_field[kTransformNonceFieldSize],
                           uint64_t session_id, const uint8_t* msg, size_t len,
                           uint8_t* out, size_t out_cap) {
  if (nonce_field == nullptr || msg == nullptr || out == nullptr) {
    return Status::InvalidArgument("null buffer");
  }
  if (len == 0) return Status::InvalidArgument("nothing to encrypt");
  if (len > kMaxEncryptedMessageSize) {
    return Status::InvalidArgument("message too large to encrypt");
  }
  if (out_cap < kTransformHeaderSize + len) {
    return Status::InvalidArgument("output buffer too small");
  }
  TransformHeader h;
  memset(h.signature, 0, sizeof(h.signature));
  memcpy(h.nonce, nonce_field, sizeof(h.nonce));
  h.original_message_size = static_cast<uint32_t>(len);
  h.flags = kTransformFlagEncrypted;
  h.session_id = session_id;
  EncodeTransformHeader(h, out);

  EVP_CIPHER_CTX* ctx = encrypt_ctx_.get();
  const int ilen = static_cast<int>(len);
  uint8_t* payload = out + kTransformHeaderSize;
  int outl = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce_field) == 1;
  if (ok && is_ccm()) {
    // CCM must know the payload length before the associated data.
    ok = EVP_EncryptUpdate(ctx, nullptr, &outl, nullptr, ilen) == 1;
  }
  ok = ok &&
       EVP_EncryptUpdate(ctx, nullptr, &outl, out + kTransformNonceOffset,
                         static_cast<int>(kTransformAadSize)) == 1 &&
       EVP_EncryptUpdate(ctx, payload, &outl, msg, ilen) == 1 && outl == ilen;
  int final_len = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, payload + ilen, &final_len) == 1 &&
       final_len == 0 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
                           static_cast<int>(kTransformTagSize),
                           out + kTransformSignatureOffset) == 1;
  if (!ok) {
    OPENSSL_cleanse(out, kTransformHeaderSize + len);
    return Status::CryptoError("encryption failed");
  }
  return Status::Ok();
}

Status Smb3Cipher::Decrypt(const uint8_t* in, size_t in_len, uint8_t* out,
                           size_t out_cap, size_t* out_len,
                           TransformHeader* header) {
  TransformHeader h;
  Status s = ParseTransformHeader(in, in_len, &h);
  if (!s.ok()) return s;
  const size_t len = h.original_message_size;
  if (len > kMaxEncryptedMessageSize) {
    return Status::Malformed("OriginalMessageSize too large");
  }
  if (out == nullptr || out_len == nullptr || out_cap < len) {
    return Status::InvalidArgument("output buffer too small");
  }

  EVP_CIPHER_CTX* ctx = decrypt_ctx_.get();
  const int ilen = static_cast<int>(len);
  const int tag_len = static_cast<int>(kTransformTagSize);
  const uint8_t* payload = in + kTransformHeaderSize;
  int outl = 0;
  bool ok = false;
  bool crypto_ok = false;
  if (is_ccm()) {
    crypto_ok =
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, h.signature) ==
            1 &&
        EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, h.nonce) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &outl, nullptr, ilen) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &outl, in + kTransformNonceOffset,
                          static_cast<int>(kTransformAadSize)) == 1;
    // For CCM the payload update is where the tag is checked.
    ok = crypto_ok && EVP_DecryptUpdate(ctx, out, &outl, payload, ilen) == 1 &&
         outl == ilen;
  } else {
    crypto_ok =
        EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, h.nonce) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &outl, in + kTransformNonceOffset,
                          static_cast<int>(kTransformAadSize)) == 1 &&
        EVP_DecryptUpdate(ctx, out, &outl, payload, ilen) == 1 &&
        outl == ilen &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, h.signature) ==
            1;
    int final_len = 0;
    ok = crypto_ok && EVP_DecryptFinal_ex(ctx, out + len, &final_len) == 1 &&
         final_len == 0;
  }
  if (!ok) {
    OPENSSL_cleanse(out, len);
    return crypto_ok ? Status::AuthFailed("transform signature mismatch")
                     : Status::CryptoError("decryption failed");
  }
  *out_len = len;
  if (header != nullptr) *header = h;
  return Status::Ok();
}

}  // namespace signing
}  // namespace samba_ca
