// Copyright (C) samba-ca authors. GPLv3+.

#include "smb2_signing.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <cstring>

#include "byte_order.h"

namespace samba_ca {
namespace signing {

namespace {

constexpr uint8_t kSmb2ProtocolId[4] = {0xFE, 'S', 'M', 'B'};
constexpr uint8_t kZeroSignature[kSmb2SignatureSize] = {};
constexpr size_t kGmacNonceSize = 12;
// EVP takes int lengths for AAD; SMB PDUs are far smaller than this.
constexpr size_t kMaxPduSize = size_t{1} << 30;

}  // namespace

Status Smb2PduLength(const uint8_t* buf, size_t len, size_t* pdu_len) {
  if (buf == nullptr || len < kSmb2HeaderSize) {
    return Status::Truncated("shorter than an SMB2 header");
  }
  if (memcmp(buf, kSmb2ProtocolId, sizeof(kSmb2ProtocolId)) != 0) {
    return Status::Malformed("not an SMB2 header (ProtocolId)");
  }
  uint32_t next = internal::LoadLe32(buf + kSmb2NextCommandOffset);
  if (next == 0) {
    *pdu_len = len;
    return Status::Ok();
  }
  if (next < kSmb2HeaderSize) {
    return Status::Malformed("NextCommand shorter than an SMB2 header");
  }
  if (next % 8 != 0) {
    return Status::Malformed("NextCommand not 8-byte aligned");
  }
  if (next > len - kSmb2HeaderSize || next >= len) {
    // The next PDU needs at least a full header after this one.
    return Status::Truncated("NextCommand overruns the buffer");
  }
  *pdu_len = next;
  return Status::Ok();
}

Smb2Signer::Smb2Signer(SigningAlgorithm algorithm) : algorithm_(algorithm) {}

Smb2Signer::~Smb2Signer() = default;

Status Smb2Signer::Create(SigningAlgorithm algorithm, const uint8_t* key,
                          size_t key_len, std::unique_ptr<Smb2Signer>* out) {
  if (out == nullptr || key == nullptr || key_len == 0) {
    return Status::InvalidArgument("signer needs a key");
  }
  std::unique_ptr<Smb2Signer> signer(new Smb2Signer(algorithm));
  switch (algorithm) {
    case SigningAlgorithm::kHmacSha256:
    case SigningAlgorithm::kAesCmac: {
      bool hmac = algorithm == SigningAlgorithm::kHmacSha256;
      if (!hmac && key_len != 16) {
        return Status::InvalidArgument("AES-CMAC signing key must be 16 bytes");
      }
      internal::MacPtr mac(
          EVP_MAC_fetch(nullptr, hmac ? "HMAC" : "CMAC", nullptr));
      if (!mac) return Status::CryptoError("MAC algorithm unavailable");
      signer->mac_ctx_.reset(EVP_MAC_CTX_new(mac.get()));
      if (!signer->mac_ctx_) return Status::CryptoError("out of memory");
      char digest[] = "SHA256";
      char cipher[] = "AES-128-CBC";
      OSSL_PARAM params[] = {
          hmac ? OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                  digest, 0)
               : OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                  cipher, 0),
          OSSL_PARAM_construct_end()};
      if (EVP_MAC_init(signer->mac_ctx_.get(), key, key_len, params) != 1) {
        return Status::CryptoError("MAC key setup failed");
      }
      break;
    }
    case SigningAlgorithm::kAesGmac: {
      if (key_len != 16) {
        return Status::InvalidArgument("AES-GMAC signing key must be 16 bytes");
      }
      signer->gcm_cipher_.reset(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
      signer->gcm_ctx_.reset(EVP_CIPHER_CTX_new());
      if (!signer->gcm_cipher_ || !signer->gcm_ctx_) {
        return Status::CryptoError("AES-128-GCM unavailable");
      }
      if (EVP_EncryptInit_ex(signer->gcm_ctx_.get(), signer->gcm_cipher_.get(),
                             nullptr, key, nullptr) != 1) {
        return Status::CryptoError("GMAC key setup failed");
      }
      break;
    }
    default:
      return Status::InvalidArgument("unknown signing algorithm");
  }
  *out = std::move(signer);
  return Status::Ok();
}

Status Smb2Signer::ComputeMac(const uint8_t* pdu, size_t len,
                              uint8_t* signature) {
  EVP_MAC_CTX* ctx = mac_ctx_.get();
  uint8_t full[32];
  size_t full_len = 0;
  // Re-initialising with a null key keeps the key schedule.
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx, pdu, kSmb2SignatureOffset) != 1 ||
      EVP_MAC_update(ctx, kZeroSignature, kSmb2SignatureSize) != 1 ||
      EVP_MAC_update(ctx, pdu + kSmb2HeaderSize, len - kSmb2HeaderSize) != 1 ||
      EVP_MAC_final(ctx, full, &full_len, sizeof(full)) != 1 ||
      full_len < kSmb2SignatureSize) {
    return Status::CryptoError("MAC computation failed");
  }
  // HMAC-SHA256 is truncated to the 16-byte signature field.
  memcpy(signature, full, kSmb2SignatureSize);
  return Status::Ok();
}

Status Smb2Signer::ComputeGmac(const uint8_t* pdu, size_t len,
                               uint8_t* signature) {
  // Nonce ([MS-SMB2] 3.1.4.1): MessageId, then a 32-bit word whose bit 0 is
  // set for a server (response) and bit 1 for a CANCEL request.
  uint8_t nonce[kGmacNonceSize];
  memcpy(nonce, pdu + kSmb2MessageIdOffset, 8);
  uint32_t flags = internal::LoadLe32(pdu + kSmb2FlagsOffset);
  uint16_t command = internal::LoadLe16(pdu + kSmb2CommandOffset);
  uint32_t role = 0;
  if (flags & kSmb2FlagServerToRedir) role |= 1;
  if (command == kSmb2CommandCancel) role |= 2;
  internal::StoreLe32(role, nonce + 8);

  EVP_CIPHER_CTX* ctx = gcm_ctx_.get();
  int outl = 0;
  uint8_t unused[16];
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &outl, pdu,
                        static_cast<int>(kSmb2SignatureOffset)) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &outl, kZeroSignature,
                        static_cast<int>(kSmb2SignatureSize)) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &outl, pdu + kSmb2HeaderSize,
                        static_cast<int>(len - kSmb2HeaderSize)) != 1 ||
      EVP_EncryptFinal_ex(ctx, unused, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
                          static_cast<int>(kSmb2SignatureSize),
                          signature) != 1) {
    return Status::CryptoError("GMAC computation failed");
  }
  return Status::Ok();
}

Status Smb2Signer::Compute(const uint8_t* pdu, size_t len,
                           uint8_t signature[kSmb2SignatureSize]) {
  if (pdu == nullptr || len < kSmb2HeaderSize) {
    return Status::Truncated("shorter than an SMB2 header");
  }
  if (len > kMaxPduSize) return Status::InvalidArgument("PDU too large");
  if (signature == nullptr) return Status::InvalidArgument("no output");
  if (algorithm_ == SigningAlgorithm::kAesGmac) {
    return ComputeGmac(pdu, len, signature);
  }
  return ComputeMac(pdu, len, signature);
}

Status Smb2Signer::SignPdu(uint8_t* pdu, size_t len) {
  uint8_t signature[kSmb2SignatureSize];
  Status s = Compute(pdu, len, signature);
  if (!s.ok()) return s;
  memcpy(pdu + kSmb2SignatureOffset, signature, kSmb2SignatureSize);
  return Status::Ok();
}

Status Smb2Signer::VerifyPdu(const uint8_t* pdu, size_t len) {
  uint8_t expected[kSmb2SignatureSize];
  Status s = Compute(pdu, len, expected);
  if (!s.ok()) return s;
  if (CRYPTO_memcmp(expected, pdu + kSmb2SignatureOffset,
                    kSmb2SignatureSize) != 0) {
    return Status::AuthFailed("SMB2 signature mismatch");
  }
  return Status::Ok();
}

namespace {

// Walks a compound chain without touching it; calls fn(offset, pdu_len)
// for every PDU only when the whole chain is well formed.
template <typename Fn>
Status ForEachPdu(const uint8_t* msg, size_t len, Fn fn) {
  size_t offset = 0;
  size_t pdu_len = 0;
  while (offset < len) {
    Status s = Smb2PduLength(msg + offset, len - offset, &pdu_len);
    if (!s.ok()) return s;
    offset += pdu_len;
  }
  if (len == 0) return Status::Truncated("empty message");
  for (offset = 0; offset < len; offset += pdu_len) {
    Smb2PduLength(msg + offset, len - offset, &pdu_len);
    Status s = fn(offset, pdu_len);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status Smb2Signer::SignChain(uint8_t* msg, size_t len) {
  return ForEachPdu(msg, len, [this, msg](size_t offset, size_t pdu_len) {
    return SignPdu(msg + offset, pdu_len);
  });
}

Status Smb2Signer::VerifyChain(const uint8_t* msg, size_t len) {
  return ForEachPdu(msg, len, [this, msg](size_t offset, size_t pdu_len) {
    return VerifyPdu(msg + offset, pdu_len);
  });
}

}  // namespace signing
}  // namespace samba_ca
