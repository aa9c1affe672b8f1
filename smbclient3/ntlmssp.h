// Copyright (C) samba-ca authors. GPLv3+.
//
// NTLMSSP client ([MS-NLMP]) with NTLMv2 responses, wrapped in a minimal
// SPNEGO ([RFC 4178]) DER encoding of our own. MD4 (RFC 1320) is here
// because OpenSSL 3 keeps it in the legacy provider; HMAC-MD5 goes through
// EVP. Key exchange (NTLMSSP_NEGOTIATE_KEY_EXCH) is not requested, so the
// exported session key is the NTLMv2 session base key. No I/O.

#ifndef SAMBA_CA_SMBCLIENT3_NTLMSSP_H_
#define SAMBA_CA_SMBCLIENT3_NTLMSSP_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "client_status.h"
#include "wire.h"

namespace samba_ca {
namespace smbclient3 {

void Md4(const uint8_t* data, size_t len, uint8_t out[16]);
Status HmacMd5(const uint8_t* key, size_t key_len, const uint8_t* data,
               size_t len, uint8_t out[16]);
// MD4 of the UTF-16LE password.
Status NtHash(const std::string& password, uint8_t out[16]);
// HMAC-MD5(NT hash, UTF-16LE(upper(user) + domain)).
Status NtowfV2(const std::string& password, const std::string& user,
               const std::string& domain, uint8_t out[16]);

constexpr uint32_t kNtlmNegotiateUnicode = 0x00000001;
constexpr uint32_t kNtlmRequestTarget = 0x00000004;
constexpr uint32_t kNtlmNegotiateSign = 0x00000010;
constexpr uint32_t kNtlmNegotiateNtlm = 0x00000200;
constexpr uint32_t kNtlmNegotiateAlwaysSign = 0x00008000;
constexpr uint32_t kNtlmNegotiateExtendedSessionSecurity = 0x00080000;
constexpr uint32_t kNtlmNegotiateTargetInfo = 0x00800000;
constexpr uint32_t kNtlmNegotiate128 = 0x20000000;
constexpr uint32_t kNtlmNegotiateKeyExch = 0x40000000;
constexpr uint32_t kNtlmNegotiate56 = 0x80000000;

struct NtlmChallenge {
  uint32_t flags = 0;
  uint8_t server_challenge[8] = {};
  std::string target_name;  // UTF-8
  Bytes target_info;        // AV pairs, verbatim
  bool has_timestamp = false;
  uint64_t timestamp = 0;  // MsvAvTimestamp, when present
};
Status ParseNtlmChallenge(const uint8_t* msg, size_t len, NtlmChallenge* out);

struct NtlmCredentials {
  std::string user;
  std::string domain;  // empty: the server's target name is used
  std::string password;
  std::string workstation = "SCA-CLIENT";
};

class NtlmsspClient {
 public:
  explicit NtlmsspClient(NtlmCredentials creds) : creds_(std::move(creds)) {}

  // NEGOTIATE_MESSAGE.
  Bytes Negotiate();
  // Parses the CHALLENGE_MESSAGE and builds the AUTHENTICATE_MESSAGE.
  Status Authenticate(const uint8_t* challenge, size_t len, Bytes* auth);
  // The 16-byte session key, valid after Authenticate().
  const uint8_t* session_key() const { return session_key_; }

  // Tests fix the client challenge and the time instead of drawing them.
  void SetFixedInputs(const uint8_t client_challenge[8], uint64_t time) {
    memcpy(fixed_challenge_, client_challenge, 8);
    fixed_time_ = time;
    fixed_ = true;
  }

 private:
  NtlmCredentials creds_;
  uint32_t negotiate_flags_ = 0;
  uint8_t session_key_[16] = {};
  bool fixed_ = false;
  uint8_t fixed_challenge_[8] = {};
  uint64_t fixed_time_ = 0;
};

// NTLMv2 response computation ([MS-NLMP] 3.3.2), exposed for known-answer
// tests. `target_info` are the server's AV pairs.
Status ComputeNtlmV2(const uint8_t ntowf_v2[16],
                     const uint8_t server_challenge[8],
                     const uint8_t client_challenge[8], uint64_t time,
                     const Bytes& target_info, Bytes* nt_response,
                     Bytes* lm_response, uint8_t session_base_key[16]);

// SPNEGO: NegTokenInit carrying the NTLMSSP mech and a first token, and
// NegTokenResp carrying a later token.
Bytes SpnegoInitToken(const Bytes& mech_token);
Bytes SpnegoResponseToken(const Bytes& mech_token);

struct SpnegoReply {
  int neg_state = -1;  // 0 accept-completed, 1 accept-incomplete, 2 reject
  Bytes response_token;
  Bytes mech_list_mic;
};
// Parses a NegTokenResp from the server. A raw NTLMSSP message (the server
// may answer that way) comes back as response_token with neg_state -1.
Status ParseSpnegoReply(const uint8_t* buf, size_t len, SpnegoReply* out);

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_NTLMSSP_H_
