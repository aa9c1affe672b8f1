// Copyright (C) samba-ca authors. GPLv3+.

#include "smb3_kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <cstring>

namespace samba_ca {
namespace signing {

namespace {

// Labels and contexts of [MS-SMB2] 3.1.4.2, NUL terminators included.
constexpr char kLabel300Signing[] = "SMB2AESCMAC";
constexpr char kContext300Signing[] = "SmbSign";
constexpr char kLabel300Cipher[] = "SMB2AESCCM";
constexpr char kContext300C2S[] = "ServerIn ";
constexpr char kContext300S2C[] = "ServerOut";
constexpr char kLabel300App[] = "SMB2APP";
constexpr char kContext300App[] = "SmbRpc";
constexpr char kLabel311Signing[] = "SMBSigningKey";
constexpr char kLabel311C2S[] = "SMBC2SCipherKey";
constexpr char kLabel311S2C[] = "SMBS2CCipherKey";
constexpr char kLabel311App[] = "SMBAppKey";

constexpr size_t kSha256Size = 32;

void PutBe32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// sizeof() of a string literal counts its NUL, which the SMB labels need.
template <size_t N>
Status DeriveLabelled(const uint8_t* key, size_t key_len, const char (&label)[N],
                      const uint8_t* context, size_t context_len, uint8_t* out,
                      size_t out_len) {
  return Sp800108HmacSha256(key, key_len,
                            reinterpret_cast<const uint8_t*>(label), N,
                            context, context_len, out, out_len);
}

template <size_t N, size_t M>
Status DeriveLabelled(const uint8_t* key, size_t key_len, const char (&label)[N],
                      const char (&context)[M], uint8_t* out, size_t out_len) {
  return DeriveLabelled(key, key_len, label,
                        reinterpret_cast<const uint8_t*>(context), M, out,
                        out_len);
}

}  // namespace

Status Sp800108HmacSha256(const uint8_t* key, size_t key_len,
                          const uint8_t* label, size_t label_len,
                          const uint8_t* context, size_t context_len,
                          uint8_t* out, size_t out_len) {
  if (key == nullptr || key_len == 0 || out == nullptr || out_len == 0 ||
      out_len > 0x1FFFFFFF / 8) {
    return Status::InvalidArgument("KDF: bad key or output length");
  }
  if ((label == nullptr && label_len != 0) ||
      (context == nullptr && context_len != 0)) {
    return Status::InvalidArgument("KDF: null label or context");
  }
  internal::MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return Status::CryptoError("KDF: HMAC unavailable");
  internal::MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return Status::CryptoError("KDF: out of memory");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key, key_len, params) != 1) {
    return Status::CryptoError("KDF: HMAC init failed");
  }

  const uint8_t zero = 0;
  uint8_t length_be[4];
  PutBe32(static_cast<uint32_t>(out_len * 8), length_be);
  size_t done = 0;
  for (uint32_t i = 1; done < out_len; ++i) {
    uint8_t counter_be[4];
    PutBe32(i, counter_be);
    uint8_t block[kSha256Size];
    size_t block_len = 0;
    // K(i) = PRF(KI, [i]2 || Label || 0x00 || Context || [L]2)
    if ((i > 1 && EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) ||
        EVP_MAC_update(ctx.get(), counter_be, sizeof(counter_be)) != 1 ||
        EVP_MAC_update(ctx.get(), label, label_len) != 1 ||
        EVP_MAC_update(ctx.get(), &zero, 1) != 1 ||
        EVP_MAC_update(ctx.get(), context, context_len) != 1 ||
        EVP_MAC_update(ctx.get(), length_be, sizeof(length_be)) != 1 ||
        EVP_MAC_final(ctx.get(), block, &block_len, sizeof(block)) != 1 ||
        block_len != kSha256Size) {
      OPENSSL_cleanse(block, sizeof(block));
      return Status::CryptoError("KDF: HMAC failed");
    }
    size_t take = out_len - done < kSha256Size ? out_len - done : kSha256Size;
    memcpy(out + done, block, take);
    done += take;
    OPENSSL_cleanse(block, sizeof(block));
  }
  return Status::Ok();
}

Status DeriveSmb3SessionKeys(Dialect dialect, const uint8_t* session_key,
                             size_t session_key_len,
                             const uint8_t* preauth_hash,
                             size_t cipher_key_len, Smb3SessionKeys* out) {
  if (out == nullptr || session_key == nullptr || session_key_len == 0) {
    return Status::InvalidArgument("no session key");
  }
  if (cipher_key_len != 16 && cipher_key_len != 32) {
    return Status::InvalidArgument("cipher key length must be 16 or 32");
  }
  memset(out, 0, sizeof(*out));
  out->cipher_key_len = cipher_key_len;
  Status s;
  switch (dialect) {
    case Dialect::kSmb300:
    case Dialect::kSmb302:
      if (cipher_key_len != 16) {
        return Status::InvalidArgument("SMB 3.0.x only has 128-bit ciphers");
      }
      s = DeriveLabelled(session_key, session_key_len, kLabel300Signing,
                         kContext300Signing, out->signing, 16);
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel300App,
                           kContext300App, out->application, 16);
      }
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel300Cipher,
                           kContext300C2S, out->c2s_cipher, 16);
      }
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel300Cipher,
                           kContext300S2C, out->s2c_cipher, 16);
      }
      break;
    case Dialect::kSmb311:
      if (preauth_hash == nullptr) {
        return Status::InvalidArgument("SMB 3.1.1 needs the preauth hash");
      }
      s = DeriveLabelled(session_key, session_key_len, kLabel311Signing,
                         preauth_hash, kPreauthHashSize, out->signing, 16);
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel311App,
                           preauth_hash, kPreauthHashSize, out->application,
                           16);
      }
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel311C2S,
                           preauth_hash, kPreauthHashSize, out->c2s_cipher,
                           cipher_key_len);
      }
      if (s.ok()) {
        s = DeriveLabelled(session_key, session_key_len, kLabel311S2C,
                           preauth_hash, kPreauthHashSize, out->s2c_cipher,
                           cipher_key_len);
      }
      break;
    default:
      return Status::InvalidArgument("key derivation needs an SMB 3.x dialect");
  }
  if (!s.ok()) OPENSSL_cleanse(out, sizeof(*out));
  return s;
}

PreauthHash::PreauthHash()
    : md_(EVP_MD_fetch(nullptr, "SHA512", nullptr)), ctx_(EVP_MD_CTX_new()) {
  memset(value_, 0, sizeof(value_));
  if (!md_ || !ctx_) status_ = Status::CryptoError("SHA-512 unavailable");
}

void PreauthHash::Reset() { memset(value_, 0, sizeof(value_)); }

void PreauthHash::CopyFrom(const PreauthHash& other) {
  memcpy(value_, other.value_, sizeof(value_));
}

Status PreauthHash::Update(const uint8_t* message, size_t len) {
  if (!status_.ok()) return status_;
  if (message == nullptr && len != 0) {
    return Status::InvalidArgument("preauth: null message");
  }
  unsigned int out_len = 0;
  if (EVP_DigestInit_ex(ctx_.get(), md_.get(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx_.get(), value_, sizeof(value_)) != 1 ||
      EVP_DigestUpdate(ctx_.get(), message, len) != 1 ||
      EVP_DigestFinal_ex(ctx_.get(), value_, &out_len) != 1 ||
      out_len != kPreauthHashSize) {
    return Status::CryptoError("preauth: SHA-512 failed");
  }
  return Status::Ok();
}

}  // namespace signing
}  // namespace samba_ca
