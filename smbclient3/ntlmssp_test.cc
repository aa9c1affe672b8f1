// Copyright (C) samba-ca authors. GPLv3+.
//
// Tests of the NTLMSSP/SPNEGO layer (cmocka): MD4 against the RFC 1320
// test suite, NT hash / NTOWFv2 / NTLMv2 response against the [MS-NLMP]
// 4.2.4 example (user "User", domain "Domain", password "Password"),
// SPNEGO tokens that parse back, and challenge messages that lie.

#include <setjmp.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
#include <cmocka.h>
}

#include "ntlmssp.h"
#include "smb2_pdu.h"
#include "test_util.h"

namespace samba_ca {
namespace smbclient3 {
namespace {

using ::samba_ca::testing::Hex;

void TestMd4Rfc1320(void**) {
  struct {
    const char* in;
    const char* digest;
  } v[] = {
      {"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
      {"a", "bde52cb31de33e46245e05fbdbd6fb24"},
      {"abc", "a448017aaf21d8525fc10ae87aa6729d"},
      {"message digest", "d9130a8164549fe818874806e1c7014b"},
      {"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "043f8582f241db351ce627e153e7f0e4"},
      {"1234567890123456789012345678901234567890123456789012345678901234567"
       "8901234567890",
       "e33b4ddc9c38f2199c3e7b164fcc0536"},
  };
  for (const auto& t : v) {
    uint8_t out[16];
    Md4(reinterpret_cast<const uint8_t*>(t.in), strlen(t.in), out);
    Bytes want = Hex(t.digest);
    if (memcmp(out, want.data(), 16) != 0) fail_msg("MD4(\"%s\") wrong", t.in);
  }
}

// [MS-NLMP] 4.2.4: NTLMv2 with User/Domain/Password, server challenge
// 0123456789abcdef, client challenge aa*8, time 0, AV pairs
// MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server".
void TestNtlmV2Example(void**) {
  uint8_t nt[16];
  ASSERT_OK(NtHash("Password", nt));
  Bytes want = Hex("a4f49c406510bdcab6824ee7c30fd852");
  assert_memory_equal(nt, want.data(), 16);
  uint8_t owf[16];
  ASSERT_OK(NtowfV2("Password", "User", "Domain", owf));
  want = Hex("0c868a403bfd7a93a3001ef22ef02e3f");
  assert_memory_equal(owf, want.data(), 16);

  Bytes av =
      Hex("02000c00 44006f006d00610069006e00"
          "01000c00 530065007200760065007200"
          "00000000");
  const uint8_t server_challenge[8] = {0x01, 0x23, 0x45, 0x67,
                                       0x89, 0xab, 0xcd, 0xef};
  uint8_t client_challenge[8];
  memset(client_challenge, 0xaa, 8);
  Bytes nt_resp, lm_resp;
  uint8_t base_key[16];
  ASSERT_OK(ComputeNtlmV2(owf, server_challenge, client_challenge, 0, av,
                          &nt_resp, &lm_resp, base_key));
  want = Hex("68cd0ab851e51c96aabc927bebef6a1c");
  assert_memory_equal(nt_resp.data(), want.data(), 16);
  want = Hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
  assert_int_equal(lm_resp.size(), 24);
  assert_memory_equal(lm_resp.data(), want.data(), 24);
  want = Hex("8de40ccadbc14a82f15cb0ad0de95ca3");
  assert_memory_equal(base_key, want.data(), 16);
}

Bytes MakeChallenge(const Bytes& target_info) {
  Bytes name;
  Utf8ToUtf16le("DOM", &name);
  Bytes m(48, 0);
  memcpy(m.data(), "NTLMSSP", 8);
  PutLe32(m.data() + 8, 2);
  PutLe16(m.data() + 12, static_cast<uint16_t>(name.size()));
  PutLe16(m.data() + 14, static_cast<uint16_t>(name.size()));
  PutLe32(m.data() + 16, 48);
  PutLe32(m.data() + 20, kNtlmNegotiateUnicode | kNtlmNegotiateNtlm |
                             kNtlmNegotiateExtendedSessionSecurity);
  for (int i = 0; i < 8; ++i) m[24 + i] = static_cast<uint8_t>(i);
  PutLe16(m.data() + 40, static_cast<uint16_t>(target_info.size()));
  PutLe16(m.data() + 42, static_cast<uint16_t>(target_info.size()));
  PutLe32(m.data() + 44, static_cast<uint32_t>(48 + name.size()));
  m.insert(m.end(), name.begin(), name.end());
  m.insert(m.end(), target_info.begin(), target_info.end());
  return m;
}

void TestChallengeAndAuthenticate(void**) {
  Bytes av = Hex("07000800 0102030405060708 00000000");
  Bytes ch = MakeChallenge(av);
  NtlmChallenge parsed;
  ASSERT_OK(ParseNtlmChallenge(ch.data(), ch.size(), &parsed));
  assert_string_equal(parsed.target_name.c_str(), "DOM");
  assert_true(parsed.has_timestamp);
  assert_true(parsed.timestamp == 0x0807060504030201ull);

  NtlmCredentials creds;
  creds.user = "user";
  creds.password = "secret";
  NtlmsspClient client(creds);
  Bytes neg = client.Negotiate();
  assert_int_equal(neg.size(), 32);
  assert_memory_equal(neg.data(), "NTLMSSP", 8);
  Bytes auth;
  ASSERT_OK(client.Authenticate(ch.data(), ch.size(), &auth));
  assert_int_equal(GetLe32(auth.data() + 8), 3);
  // With a timestamp the LM response is 24 zero bytes.
  assert_int_equal(GetLe16(auth.data() + 12), 24);
  uint32_t lm_off = GetLe32(auth.data() + 16);
  Bytes zeros(24, 0);
  assert_memory_equal(auth.data() + lm_off, zeros.data(), 24);
  // Every field points inside the message.
  for (size_t f = 12; f <= 52; f += 8) {
    assert_true(RangeInside(GetLe32(auth.data() + f + 4),
                            GetLe16(auth.data() + f), auth.size()));
  }

  // Lies: short, wrong type, fields overrunning, AV pairs without EOL.
  for (size_t len = 0; len < 48; ++len) {
    assert_false(ParseNtlmChallenge(ch.data(), len, &parsed).ok());
  }
  Bytes bad = ch;
  PutLe32(bad.data() + 8, 1);
  assert_true(
      ParseNtlmChallenge(bad.data(), bad.size(), &parsed).IsMalformed());
  bad = ch;
  PutLe32(bad.data() + 44, 0xFFFFFF00u);
  assert_true(
      ParseNtlmChallenge(bad.data(), bad.size(), &parsed).IsMalformed());
  Bytes no_eol = MakeChallenge(Hex("07000800 0102030405060708"));
  assert_true(
      ParseNtlmChallenge(no_eol.data(), no_eol.size(), &parsed).IsMalformed());
}

void TestSpnego(void**) {
  Bytes token(300, 0x42);
  Bytes init = SpnegoInitToken(token);
  assert_int_equal(init[0], 0x60);
  // The NTLMSSP OID is in the mech list.
  Bytes oid = Hex("060a2b0601040182370202 0a");
  assert_non_null(memmem(init.data(), init.size(), oid.data(), oid.size()));
  // A NegTokenResp as the server sends it parses back.
  Bytes resp =
      Hex("a1 1b 30 19 a0 03 0a 01 01 a1 0c 06 0a 2b06010401823702020a"
          "a2 04 04 02 beef");
  SpnegoReply r;
  ASSERT_OK(ParseSpnegoReply(resp.data(), resp.size(), &r));
  assert_int_equal(r.neg_state, 1);
  assert_int_equal(r.response_token.size(), 2);
  // Our own response token parses too (long-form lengths).
  Bytes ours = SpnegoResponseToken(token);
  ASSERT_OK(ParseSpnegoReply(ours.data(), ours.size(), &r));
  assert_true(r.response_token == token);
  // Truncations and lying lengths never parse.
  for (size_t len = 0; len < resp.size(); ++len) {
    assert_false(ParseSpnegoReply(resp.data(), len, &r).ok());
  }
  Bytes lie = resp;
  lie[1] = 0x7f;
  assert_false(ParseSpnegoReply(lie.data(), lie.size(), &r).ok());
  lie = resp;
  lie[1] = 0x85;
  assert_false(ParseSpnegoReply(lie.data(), lie.size(), &r).ok());
}

}  // namespace
}  // namespace smbclient3
}  // namespace samba_ca

int main() {
  using namespace samba_ca::smbclient3;  // NOLINT
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestMd4Rfc1320),
      cmocka_unit_test(TestNtlmV2Example),
      cmocka_unit_test(TestChallengeAndAuthenticate),
      cmocka_unit_test(TestSpnego),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
