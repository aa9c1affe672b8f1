// Copyright (C) samba-ca authors. GPLv3+.

#include "crypto_primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <climits>
#include <cstring>

#include "evp_util.h"

namespace samba_ca {
namespace signing {

namespace {

Status OneShotMac(const char* mac_name, const char* param_name,
                  const char* param_value, const uint8_t* key, size_t key_len,
                  const uint8_t* data, size_t len, uint8_t* out,
                  size_t out_size) {
  if (key == nullptr || key_len == 0 || out == nullptr ||
      (data == nullptr && len != 0)) {
    return Status::InvalidArgument("MAC: null argument");
  }
  internal::MacPtr mac(EVP_MAC_fetch(nullptr, mac_name, nullptr));
  if (!mac) return Status::CryptoError("MAC unavailable");
  internal::MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return Status::CryptoError("out of memory");
  char value[32];
  snprintf(value, sizeof(value), "%s", param_value);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(param_name, value, 0),
      OSSL_PARAM_construct_end()};
  size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), key, key_len, params) != 1 ||
      EVP_MAC_update(ctx.get(), data, len) != 1 ||
      EVP_MAC_final(ctx.get(), out, &out_len, out_size) != 1 ||
      out_len != out_size) {
    return Status::CryptoError("MAC failed");
  }
  return Status::Ok();
}

const EVP_CIPHER* AeadCipher(AeadMode mode, size_t key_len) {
  if (key_len == 16) {
    return mode == AeadMode::kCcm ? EVP_aes_128_ccm() : EVP_aes_128_gcm();
  }
  if (key_len == 32) {
    return mode == AeadMode::kCcm ? EVP_aes_256_ccm() : EVP_aes_256_gcm();
  }
  return nullptr;
}

Status CheckAead(AeadMode mode, size_t key_len, const uint8_t* nonce,
                 size_t nonce_len, const uint8_t* aad, size_t aad_len,
                 const uint8_t* in, const uint8_t* out, size_t len,
                 const uint8_t* tag, size_t tag_len) {
  if (AeadCipher(mode, key_len) == nullptr) {
    return Status::InvalidArgument("AEAD: key must be 16 or 32 bytes");
  }
  if (nonce == nullptr || tag == nullptr || (aad == nullptr && aad_len) ||
      ((in == nullptr || out == nullptr) && len)) {
    return Status::InvalidArgument("AEAD: null argument");
  }
  if (len > INT_MAX || aad_len > INT_MAX) {
    return Status::InvalidArgument("AEAD: too long");
  }
  bool ccm = mode == AeadMode::kCcm;
  if (ccm ? (nonce_len < 7 || nonce_len > 13 || tag_len < 4 || tag_len > 16 ||
             tag_len % 2)
          : (nonce_len < 1 || nonce_len > 64 || tag_len < 4 || tag_len > 16)) {
    return Status::InvalidArgument("AEAD: bad nonce or tag length");
  }
  return Status::Ok();
}

}  // namespace

Status AesCmac(const uint8_t* key, size_t key_len, const uint8_t* data,
               size_t len, uint8_t out[16]) {
  if (key_len != 16 && key_len != 32) {
    return Status::InvalidArgument("CMAC: key must be 16 or 32 bytes");
  }
  return OneShotMac("CMAC", OSSL_MAC_PARAM_CIPHER,
                    key_len == 16 ? "AES-128-CBC" : "AES-256-CBC", key,
                    key_len, data, len, out, 16);
}

Status HmacSha256(const uint8_t* key, size_t key_len, const uint8_t* data,
                  size_t len, uint8_t out[32]) {
  return OneShotMac("HMAC", OSSL_MAC_PARAM_DIGEST, "SHA256", key, key_len,
                    data, len, out, 32);
}

Status AeadSeal(AeadMode mode, const uint8_t* key, size_t key_len,
                const uint8_t* nonce, size_t nonce_len, const uint8_t* aad,
                size_t aad_len, const uint8_t* plaintext, size_t len,
                uint8_t* ciphertext, uint8_t* tag, size_t tag_len) {
  Status s = CheckAead(mode, key_len, nonce, nonce_len, aad, aad_len,
                       plaintext, ciphertext, len, tag, tag_len);
  if (!s.ok()) return s;
  bool ccm = mode == AeadMode::kCcm;
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status::CryptoError("out of memory");
  int outl = 0;
  uint8_t scratch[16];
  bool ok =
      EVP_EncryptInit_ex(ctx.get(), AeadCipher(mode, key_len), nullptr,
                         nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN,
                          static_cast<int>(nonce_len), nullptr) == 1 &&
      (!ccm || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG,
                                   static_cast<int>(tag_len), nullptr) == 1) &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key, nonce) == 1 &&
      (!ccm || EVP_EncryptUpdate(ctx.get(), nullptr, &outl, nullptr,
                                 static_cast<int>(len)) == 1) &&
      (aad_len == 0 || EVP_EncryptUpdate(ctx.get(), nullptr, &outl, aad,
                                         static_cast<int>(aad_len)) == 1) &&
      (len == 0 || EVP_EncryptUpdate(ctx.get(), ciphertext, &outl, plaintext,
                                     static_cast<int>(len)) == 1) &&
      EVP_EncryptFinal_ex(ctx.get(), scratch, &outl) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG,
                          static_cast<int>(tag_len), tag) == 1;
  return ok ? Status::Ok() : Status::CryptoError("AEAD seal failed");
}

Status AeadOpen(AeadMode mode, const uint8_t* key, size_t key_len,
                const uint8_t* nonce, size_t nonce_len, const uint8_t* aad,
                size_t aad_len, const uint8_t* ciphertext, size_t len,
                const uint8_t* tag, size_t tag_len, uint8_t* plaintext) {
  Status s = CheckAead(mode, key_len, nonce, nonce_len, aad, aad_len,
                       ciphertext, plaintext, len, tag, tag_len);
  if (!s.ok()) return s;
  bool ccm = mode == AeadMode::kCcm;
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status::CryptoError("out of memory");
  int outl = 0;
  uint8_t scratch[16];
  uint8_t tag_copy[16];
  memcpy(tag_copy, tag, tag_len);
  bool setup =
      EVP_DecryptInit_ex(ctx.get(), AeadCipher(mode, key_len), nullptr,
                         nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN,
                          static_cast<int>(nonce_len), nullptr) == 1 &&
      (!ccm || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG,
                                   static_cast<int>(tag_len), tag_copy) == 1) &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key, nonce) == 1 &&
      (!ccm || EVP_DecryptUpdate(ctx.get(), nullptr, &outl, nullptr,
                                 static_cast<int>(len)) == 1) &&
      (aad_len == 0 || EVP_DecryptUpdate(ctx.get(), nullptr, &outl, aad,
                                         static_cast<int>(aad_len)) == 1);
  if (!setup) return Status::CryptoError("AEAD open setup failed");
  bool ok;
  if (ccm) {
    // The payload update checks the CCM tag (even for an empty payload).
    uint8_t empty[1];
    ok = EVP_DecryptUpdate(ctx.get(), len ? plaintext : empty, &outl,
                           len ? ciphertext : empty,
                           static_cast<int>(len)) == 1;
  } else {
    ok = (len == 0 || EVP_DecryptUpdate(ctx.get(), plaintext, &outl,
                                        ciphertext,
                                        static_cast<int>(len)) == 1) &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG,
                             static_cast<int>(tag_len), tag_copy) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), scratch, &outl) == 1;
  }
  if (!ok) {
    if (len) OPENSSL_cleanse(plaintext, len);
    return Status::AuthFailed("AEAD tag mismatch");
  }
  return Status::Ok();
}

}  // namespace signing
}  // namespace samba_ca
