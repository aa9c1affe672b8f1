// Copyright (C) samba-ca authors. GPLv3+.

#include "ntlmssp.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <ctime>

#include "smb2_pdu.h"

namespace samba_ca {
namespace smbclient3 {

namespace {

// --- MD4, RFC 1320 ------------------------------------------------------

inline uint32_t Rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

void Md4Block(uint32_t state[4], const uint8_t block[64]) {
  uint32_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = GetLe32(block + 4 * i);
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  auto f = [](uint32_t x, uint32_t y, uint32_t z) {
    return (x & y) | (~x & z);
  };
  auto g = [](uint32_t x, uint32_t y, uint32_t z) {
    return (x & y) | (x & z) | (y & z);
  };
  auto h = [](uint32_t x, uint32_t y, uint32_t z) { return x ^ y ^ z; };
  // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s.
  static const int kR1Shift[4] = {3, 7, 11, 19};
  for (int i = 0; i < 16; ++i) {
    uint32_t t = a + f(b, c, d) + x[i];
    a = d;
    d = c;
    c = b;
    b = Rotl(t, kR1Shift[i % 4]);
  }
  // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s, k = 0,4,8,12,1,...
  static const int kR2Shift[4] = {3, 5, 9, 13};
  for (int i = 0; i < 16; ++i) {
    int k = (i % 4) * 4 + i / 4;
    uint32_t t = a + g(b, c, d) + x[k] + 0x5A827999u;
    a = d;
    d = c;
    c = b;
    b = Rotl(t, kR2Shift[i % 4]);
  }
  // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s, k in bit-reversed
  // order 0,8,4,12,2,10,...
  static const int kR3Order[16] = {0, 8, 4, 12, 2, 10, 6, 14,
                                   1, 9, 5, 13, 3, 11, 7, 15};
  static const int kR3Shift[4] = {3, 9, 11, 15};
  for (int i = 0; i < 16; ++i) {
    uint32_t t = a + h(b, c, d) + x[kR3Order[i]] + 0x6ED9EBA1u;
    a = d;
    d = c;
    c = b;
    b = Rotl(t, kR3Shift[i % 4]);
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

// --- DER ------------------------------------------------------------------

void DerLength(size_t len, Bytes* out) {
  if (len < 0x80) {
    out->push_back(static_cast<uint8_t>(len));
  } else if (len < 0x100) {
    out->push_back(0x81);
    out->push_back(static_cast<uint8_t>(len));
  } else if (len < 0x10000) {
    out->push_back(0x82);
    out->push_back(static_cast<uint8_t>(len >> 8));
    out->push_back(static_cast<uint8_t>(len));
  } else {
    out->push_back(0x83);
    out->push_back(static_cast<uint8_t>(len >> 16));
    out->push_back(static_cast<uint8_t>(len >> 8));
    out->push_back(static_cast<uint8_t>(len));
  }
}

Bytes DerTlv(uint8_t tag, const Bytes& content) {
  Bytes out;
  out.push_back(tag);
  DerLength(content.size(), &out);
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

const uint8_t kSpnegoOid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
const uint8_t kNtlmsspOid[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                               0x82, 0x37, 0x02, 0x02, 0x0a};

// One DER element inside [pos, end): tag, content range.
struct DerElement {
  uint8_t tag;
  size_t content;
  size_t length;
};

Status DerNext(const uint8_t* buf, size_t end, size_t* pos, DerElement* el) {
  size_t p = *pos;
  if (end - p < 2) return Status::Truncated("SPNEGO: element header cut off");
  el->tag = buf[p++];
  uint8_t first = buf[p++];
  size_t len = 0;
  if (first < 0x80) {
    len = first;
  } else {
    int n = first & 0x7F;
    if (n == 0 || n > 4) {
      return Status::Malformed("SPNEGO: unsupported DER length form");
    }
    if (end - p < static_cast<size_t>(n)) {
      return Status::Truncated("SPNEGO: DER length cut off");
    }
    for (int i = 0; i < n; ++i) len = (len << 8) | buf[p++];
  }
  if (len > end - p) {
    return Status::Malformed("SPNEGO: element of " + std::to_string(len) +
                             " bytes overruns its container");
  }
  el->content = p;
  el->length = len;
  *pos = p + len;
  return Status::Ok();
}

uint64_t NowFiletime() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (static_cast<uint64_t>(ts.tv_sec) + 11644473600ull) * 10000000ull +
         static_cast<uint64_t>(ts.tv_nsec) / 100;
}

// Appends a (len, maxlen, offset) field referring to `data`, which is put
// in the payload.
void PutField(const Bytes& data, Bytes* msg, size_t field_pos, Bytes* payload,
              size_t payload_base) {
  uint32_t offset = static_cast<uint32_t>(payload_base + payload->size());
  PutLe16(msg->data() + field_pos, static_cast<uint16_t>(data.size()));
  PutLe16(msg->data() + field_pos + 2, static_cast<uint16_t>(data.size()));
  PutLe32(msg->data() + field_pos + 4, offset);
  payload->insert(payload->end(), data.begin(), data.end());
}

const uint8_t kNtlmSignature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

}  // namespace

void Md4(const uint8_t* data, size_t len, uint8_t out[16]) {
  uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  size_t full = len / 64 * 64;
  for (size_t i = 0; i < full; i += 64) Md4Block(state, data + i);
  uint8_t tail[128] = {};
  size_t rest = len - full;
  if (rest > 0) memcpy(tail, data + full, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest < 56 ? 64 : 128;
  PutLe64(tail + tail_len - 8, static_cast<uint64_t>(len) * 8);
  Md4Block(state, tail);
  if (tail_len == 128) Md4Block(state, tail + 64);
  for (int i = 0; i < 4; ++i) PutLe32(out + 4 * i, state[i]);
}

Status HmacMd5(const uint8_t* key, size_t key_len, const uint8_t* data,
               size_t len, uint8_t out[16]) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return Status::Unsupported("HMAC not available");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest[] = "MD5";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  size_t out_len = 0;
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
            EVP_MAC_update(ctx, data, len) == 1 &&
            EVP_MAC_final(ctx, out, &out_len, 16) == 1 && out_len == 16;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) return Status::Unsupported("HMAC-MD5 failed in OpenSSL");
  return Status::Ok();
}

Status NtHash(const std::string& password, uint8_t out[16]) {
  Bytes u16;
  if (!Utf8ToUtf16le(password, &u16)) {
    return Status::InvalidArgument("password is not valid UTF-8");
  }
  Md4(u16.data(), u16.size(), out);
  return Status::Ok();
}

Status NtowfV2(const std::string& password, const std::string& user,
               const std::string& domain, uint8_t out[16]) {
  uint8_t nt[16];
  SCA_RETURN_IF_ERROR(NtHash(password, nt));
  std::string upper = user;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<uint8_t>(c)));
  Bytes id;
  if (!Utf8ToUtf16le(upper + domain, &id)) {
    return Status::InvalidArgument("user or domain is not valid UTF-8");
  }
  return HmacMd5(nt, 16, id.data(), id.size(), out);
}

Status ParseNtlmChallenge(const uint8_t* msg, size_t len, NtlmChallenge* out) {
  if (len < 48) {
    return Status::Truncated("NTLMSSP CHALLENGE shorter than 48 bytes");
  }
  if (memcmp(msg, kNtlmSignature, 8) != 0 || GetLe32(msg + 8) != 2) {
    return Status::Malformed("not an NTLMSSP CHALLENGE message");
  }
  uint16_t name_len = GetLe16(msg + 12);
  uint32_t name_off = GetLe32(msg + 16);
  out->flags = GetLe32(msg + 20);
  memcpy(out->server_challenge, msg + 24, 8);
  uint16_t info_len = GetLe16(msg + 40);
  uint32_t info_off = GetLe32(msg + 44);
  if (name_len && !RangeInside(name_off, name_len, len)) {
    return Status::Malformed("NTLMSSP CHALLENGE TargetName overruns");
  }
  if (info_len && !RangeInside(info_off, info_len, len)) {
    return Status::Malformed("NTLMSSP CHALLENGE TargetInfo overruns");
  }
  if (!Utf16leToUtf8(msg + name_off, name_len, &out->target_name)) {
    out->target_name.clear();
  }
  out->target_info.assign(msg + info_off, msg + info_off + info_len);
  // Walk the AV pairs: they must end with MsvAvEOL inside the field.
  out->has_timestamp = false;
  size_t p = 0;
  const Bytes& ti = out->target_info;
  bool eol = false;
  while (p + 4 <= ti.size()) {
    uint16_t id = GetLe16(ti.data() + p);
    uint16_t l = GetLe16(ti.data() + p + 2);
    if (p + 4 + l > ti.size()) break;
    if (id == 0) {
      eol = true;
      break;
    }
    if (id == 7 && l == 8) {
      out->has_timestamp = true;
      out->timestamp = GetLe64(ti.data() + p + 4);
    }
    p += 4 + l;
  }
  if (!eol) {
    return Status::Malformed("NTLMSSP TargetInfo has no MsvAvEOL");
  }
  return Status::Ok();
}

Status ComputeNtlmV2(const uint8_t ntowf_v2[16],
                     const uint8_t server_challenge[8],
                     const uint8_t client_challenge[8], uint64_t time,
                     const Bytes& target_info, Bytes* nt_response,
                     Bytes* lm_response, uint8_t session_base_key[16]) {
  Bytes temp;
  Writer w(&temp);
  w.U8(1);  // RespType
  w.U8(1);  // HiRespType
  w.U16(0);
  w.U32(0);
  w.U64(time);
  w.Raw(client_challenge, 8);
  w.U32(0);
  w.Raw(target_info);
  w.U32(0);
  Bytes buf(server_challenge, server_challenge + 8);
  buf.insert(buf.end(), temp.begin(), temp.end());
  uint8_t proof[16];
  SCA_RETURN_IF_ERROR(HmacMd5(ntowf_v2, 16, buf.data(), buf.size(), proof));
  nt_response->assign(proof, proof + 16);
  nt_response->insert(nt_response->end(), temp.begin(), temp.end());
  uint8_t lm_in[16], lm[16];
  memcpy(lm_in, server_challenge, 8);
  memcpy(lm_in + 8, client_challenge, 8);
  SCA_RETURN_IF_ERROR(HmacMd5(ntowf_v2, 16, lm_in, 16, lm));
  lm_response->assign(lm, lm + 16);
  lm_response->insert(lm_response->end(), client_challenge,
                      client_challenge + 8);
  return HmacMd5(ntowf_v2, 16, proof, 16, session_base_key);
}

Bytes NtlmsspClient::Negotiate() {
  negotiate_flags_ = kNtlmNegotiateUnicode | kNtlmRequestTarget |
                     kNtlmNegotiateSign | kNtlmNegotiateNtlm |
                     kNtlmNegotiateAlwaysSign |
                     kNtlmNegotiateExtendedSessionSecurity | kNtlmNegotiate128 |
                     kNtlmNegotiate56;
  Bytes msg;
  Writer w(&msg);
  w.Raw(kNtlmSignature, 8);
  w.U32(1);
  w.U32(negotiate_flags_);
  w.Zeros(16);  // DomainNameFields, WorkstationFields: empty
  return msg;
}

Status NtlmsspClient::Authenticate(const uint8_t* challenge_msg, size_t len,
                                   Bytes* auth) {
  NtlmChallenge ch;
  SCA_RETURN_IF_ERROR(ParseNtlmChallenge(challenge_msg, len, &ch));
  if (!(ch.flags & kNtlmNegotiateUnicode)) {
    return Status::Unsupported("NTLMSSP server does not do Unicode");
  }
  std::string domain = creds_.domain.empty() ? ch.target_name : creds_.domain;
  uint8_t owf[16];
  SCA_RETURN_IF_ERROR(NtowfV2(creds_.password, creds_.user, domain, owf));
  uint8_t client_challenge[8];
  uint64_t time;
  if (fixed_) {
    memcpy(client_challenge, fixed_challenge_, 8);
    time = fixed_time_;
  } else {
    if (RAND_bytes(client_challenge, 8) != 1) {
      return Status::Unsupported("no random bytes from OpenSSL");
    }
    time = ch.has_timestamp ? ch.timestamp : NowFiletime();
  }
  Bytes nt, lm;
  SCA_RETURN_IF_ERROR(ComputeNtlmV2(owf, ch.server_challenge, client_challenge,
                                    time, ch.target_info, &nt, &lm,
                                    session_key_));
  // With MsvAvTimestamp the LM response is 24 zero bytes ([MS-NLMP] 3.1.5.1.2).
  if (ch.has_timestamp) lm.assign(24, 0);
  uint32_t flags = (negotiate_flags_ & ch.flags) | kNtlmNegotiateUnicode;
  Bytes domain16, user16, ws16;
  Utf8ToUtf16le(domain, &domain16);
  Utf8ToUtf16le(creds_.user, &user16);
  Utf8ToUtf16le(creds_.workstation, &ws16);

  constexpr size_t kFixed = 64;
  auth->assign(kFixed, 0);
  memcpy(auth->data(), kNtlmSignature, 8);
  PutLe32(auth->data() + 8, 3);
  Bytes payload;
  PutField(lm, auth, 12, &payload, kFixed);
  PutField(nt, auth, 20, &payload, kFixed);
  PutField(domain16, auth, 28, &payload, kFixed);
  PutField(user16, auth, 36, &payload, kFixed);
  PutField(ws16, auth, 44, &payload, kFixed);
  PutField(Bytes(), auth, 52, &payload, kFixed);  // no key exchange
  PutLe32(auth->data() + 60, flags);
  auth->insert(auth->end(), payload.begin(), payload.end());
  return Status::Ok();
}

Bytes SpnegoInitToken(const Bytes& mech_token) {
  Bytes oid(kNtlmsspOid, kNtlmsspOid + sizeof(kNtlmsspOid));
  Bytes mech_types = DerTlv(0x30, DerTlv(0x06, oid));
  Bytes init =
      Concat(DerTlv(0xa0, mech_types), DerTlv(0xa2, DerTlv(0x04, mech_token)));
  Bytes neg_token_init = DerTlv(0xa0, DerTlv(0x30, init));
  Bytes spnego(kSpnegoOid, kSpnegoOid + sizeof(kSpnegoOid));
  return DerTlv(0x60, Concat(DerTlv(0x06, spnego), neg_token_init));
}

Bytes SpnegoResponseToken(const Bytes& mech_token) {
  return DerTlv(0xa1, DerTlv(0x30, DerTlv(0xa2, DerTlv(0x04, mech_token))));
}

Status ParseSpnegoReply(const uint8_t* buf, size_t len, SpnegoReply* out) {
  *out = SpnegoReply();
  if (len >= 8 && memcmp(buf, kNtlmSignature, 8) == 0) {
    out->response_token.assign(buf, buf + len);
    return Status::Ok();
  }
  size_t pos = 0;
  DerElement outer, seq;
  SCA_RETURN_IF_ERROR(DerNext(buf, len, &pos, &outer));
  if (outer.tag != 0xa1) {
    return Status::Malformed("SPNEGO: expected NegTokenResp [1]");
  }
  size_t p = outer.content;
  SCA_RETURN_IF_ERROR(DerNext(buf, outer.content + outer.length, &p, &seq));
  if (seq.tag != 0x30) return Status::Malformed("SPNEGO: expected SEQUENCE");
  size_t end = seq.content + seq.length;
  p = seq.content;
  while (p < end) {
    DerElement field, inner;
    SCA_RETURN_IF_ERROR(DerNext(buf, end, &p, &field));
    size_t q = field.content;
    SCA_RETURN_IF_ERROR(DerNext(buf, field.content + field.length, &q, &inner));
    const uint8_t* v = buf + inner.content;
    switch (field.tag) {
      case 0xa0:
        if (inner.tag != 0x0a || inner.length != 1) {
          return Status::Malformed("SPNEGO: bad negState");
        }
        out->neg_state = v[0];
        break;
      case 0xa2:
        if (inner.tag != 0x04) {
          return Status::Malformed("SPNEGO: responseToken not OCTET STRING");
        }
        out->response_token.assign(v, v + inner.length);
        break;
      case 0xa3:
        if (inner.tag != 0x04) {
          return Status::Malformed("SPNEGO: mechListMIC not OCTET STRING");
        }
        out->mech_list_mic.assign(v, v + inner.length);
        break;
      default:
        break;  // supportedMech and anything newer
    }
  }
  return Status::Ok();
}

}  // namespace smbclient3
}  // namespace samba_ca
