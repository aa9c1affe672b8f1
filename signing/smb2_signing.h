// Copyright (C) samba-ca authors. GPLv3+.
//
// SMB2/3 message signing ([MS-SMB2] 3.1.4.1 and 3.1.5.1): HMAC-SHA256
// (2.0.2, 2.1), AES-128-CMAC (3.0, 3.0.2, 3.1.1 default) and AES-128-GMAC
// (3.1.1 with SMB2_SIGNING_CAPABILITIES), for single PDUs and compound
// chains. The signature field is treated as zero while computing; messages
// are never copied.

#ifndef SAMBA_CA_SIGNING_SMB2_SIGNING_H_
#define SAMBA_CA_SIGNING_SMB2_SIGNING_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "evp_util.h"
#include "status.h"

namespace samba_ca {
namespace signing {

// Values are the SMB2_SIGNING_CAPABILITIES algorithm ids.
enum class SigningAlgorithm : uint16_t {
  kHmacSha256 = 0x0000,
  kAesCmac = 0x0001,
  kAesGmac = 0x0002,
};

constexpr size_t kSmb2HeaderSize = 64;
constexpr size_t kSmb2SignatureOffset = 48;
constexpr size_t kSmb2SignatureSize = 16;
// Offsets of the header fields the signer reads.
constexpr size_t kSmb2CommandOffset = 12;
constexpr size_t kSmb2FlagsOffset = 16;
constexpr size_t kSmb2NextCommandOffset = 20;
constexpr size_t kSmb2MessageIdOffset = 24;
constexpr uint32_t kSmb2FlagServerToRedir = 0x00000001;
constexpr uint32_t kSmb2FlagSigned = 0x00000008;
constexpr uint16_t kSmb2CommandCancel = 0x000C;

// Checks that `buf` starts with an SMB2 header and returns the length of the
// PDU that starts there: NextCommand when it is non-zero, otherwise all of
// `len`. NextCommand must be 8-byte aligned, at least one header long and
// inside the buffer.
Status Smb2PduLength(const uint8_t* buf, size_t len, size_t* pdu_len);

class Smb2Signer {
 public:
  // key: any non-empty length for HMAC-SHA256 (the session key), exactly 16
  // bytes for CMAC and GMAC (the derived signing key).
  static Status Create(SigningAlgorithm algorithm, const uint8_t* key,
                       size_t key_len, std::unique_ptr<Smb2Signer>* out);

  Smb2Signer(const Smb2Signer&) = delete;
  Smb2Signer& operator=(const Smb2Signer&) = delete;
  ~Smb2Signer();

  SigningAlgorithm algorithm() const { return algorithm_; }

  // Signature of one PDU occupying pdu[0, len), including any trailing
  // padding of a compounded PDU. For GMAC the nonce comes from the header's
  // MessageId, its SERVER_TO_REDIR flag and whether it is a CANCEL.
  Status Compute(const uint8_t* pdu, size_t len,
                 uint8_t signature[kSmb2SignatureSize]);

  // Writes the signature into the header of one PDU.
  Status SignPdu(uint8_t* pdu, size_t len);
  // Constant-time comparison with the signature in the header.
  Status VerifyPdu(const uint8_t* pdu, size_t len);

  // The same over a compound chain: every PDU (as delimited by NextCommand)
  // is signed/verified on its own. The chain is checked completely before
  // anything is written.
  Status SignChain(uint8_t* msg, size_t len);
  Status VerifyChain(const uint8_t* msg, size_t len);

 private:
  explicit Smb2Signer(SigningAlgorithm algorithm);

  Status ComputeMac(const uint8_t* pdu, size_t len, uint8_t* signature);
  Status ComputeGmac(const uint8_t* pdu, size_t len, uint8_t* signature);

  SigningAlgorithm algorithm_;
  internal::MacCtxPtr mac_ctx_;        // HMAC-SHA256 and CMAC
  internal::CipherCtxPtr gcm_ctx_;     // GMAC
  internal::CipherPtr gcm_cipher_;
};

}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_SMB2_SIGNING_H_
