// Copyright (C) samba-ca authors. GPLv3+.
//
// Tests of signing/: known answers from published vectors (RFC 4493, the
// GCM specification, SP 800-38C, RFC 3610, and the [MS-SMB2] examples of
// Microsoft's Open Specifications blog), seeded round trips, bit-flip
// tamper tests and bad input. Runs under cmocka.

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <setjmp.h>

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include "byte_order.h"
#include "crypto_primitives.h"
#include "smb3_crypto.h"
#include "test_util.h"

namespace samba_ca {
namespace signing {
namespace {

using Bytes = std::vector<uint8_t>;

using ::samba_ca::testing::Hex;

#define ASSERT_BYTES(expected, ptr, len)                  \
  do {                                                    \
    assert_int_equal((expected).size(), (len));           \
    assert_memory_equal((expected).data(), (ptr), (len)); \
  } while (0)

// ---------------------------------------------------------------------------
// Primitive known answers.

void TestCmacRfc4493(void**) {
  const Bytes key = Hex("2b7e151628aed2a6abf7158809cf4f3c");
  const Bytes msg =
      Hex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710");
  struct {
    size_t len;
    const char* mac;
  } cases[] = {
      {0, "bb1d6929e95937287fa37d129b756746"},
      {16, "070a16b46b4d4144f79bdd9dd04a287c"},
      {40, "dfa66747de9ae63030ca32611497c827"},
      {64, "51f0bebf7e3b9d92fc49741779363cfe"},
  };
  for (const auto& c : cases) {
    uint8_t mac[16];
    ASSERT_OK(AesCmac(key.data(), key.size(), msg.data(), c.len, mac));
    ASSERT_BYTES(Hex(c.mac), mac, sizeof(mac));
  }
}

struct AeadVector {
  const char* name;
  AeadMode mode;
  const char* key;
  const char* nonce;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

const AeadVector kAeadVectors[] = {
    // The Galois/Counter Mode of Operation (McGrew, Viega), appendix B.
    {"GCM test case 1", AeadMode::kGcm, "00000000000000000000000000000000",
     "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"GCM test case 2", AeadMode::kGcm, "00000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {"GCM test case 3", AeadMode::kGcm, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM test case 4", AeadMode::kGcm, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM test case 16", AeadMode::kGcm,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    // NIST SP 800-38C, appendix C.
    {"SP 800-38C example 1", AeadMode::kCcm, "404142434445464748494a4b4c4d4e4f",
     "10111213141516", "0001020304050607", "20212223", "7162015b", "4dac255d"},
    {"SP 800-38C example 2", AeadMode::kCcm, "404142434445464748494a4b4c4d4e4f",
     "1011121314151617", "000102030405060708090a0b0c0d0e0f",
     "202122232425262728292a2b2c2d2e2f", "d2a1f0e051ea5f62081a7792073d593d",
     "1fc64fbfaccd"},
    {"SP 800-38C example 3", AeadMode::kCcm, "404142434445464748494a4b4c4d4e4f",
     "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213",
     "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5", "484392fbc1b09951"},
    // RFC 3610, packet vector #1.
    {"RFC 3610 packet vector 1", AeadMode::kCcm,
     "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5",
     "0001020304050607", "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
     "588c979a61c663d2f066d0c2c0f989806d5f6b61dac384", "17e8d12cfdf926e0"},
};

void TestAeadPublishedVectors(void**) {
  for (const AeadVector& v : kAeadVectors) {
    Bytes key = Hex(v.key), nonce = Hex(v.nonce), aad = Hex(v.aad),
          pt = Hex(v.plaintext), ct = Hex(v.ciphertext), tag = Hex(v.tag);
    Bytes out(pt.size() + 1), out_tag(tag.size());
    Status s = AeadSeal(v.mode, key.data(), key.size(), nonce.data(),
                        nonce.size(), aad.data(), aad.size(), pt.data(),
                        pt.size(), out.data(), out_tag.data(), tag.size());
    if (!s.ok()) fail_msg("%s: seal: %s", v.name, s.ToString().c_str());
    if (!std::equal(ct.begin(), ct.end(), out.begin()) || out_tag != tag) {
      fail_msg("%s: ciphertext or tag differs", v.name);
    }
    Bytes back(pt.size() + 1);
    s = AeadOpen(v.mode, key.data(), key.size(), nonce.data(), nonce.size(),
                 aad.data(), aad.size(), ct.data(), ct.size(), tag.data(),
                 tag.size(), back.data());
    if (!s.ok()) fail_msg("%s: open: %s", v.name, s.ToString().c_str());
    assert_true(std::equal(pt.begin(), pt.end(), back.begin()));
    tag[0] ^= 1;
    s = AeadOpen(v.mode, key.data(), key.size(), nonce.data(), nonce.size(),
                 aad.data(), aad.size(), ct.data(), ct.size(), tag.data(),
                 tag.size(), back.data());
    if (!s.IsAuthFailed()) fail_msg("%s: bad tag accepted", v.name);
  }
}

// ---------------------------------------------------------------------------
// [MS-SMB2] key derivation and preauth hash: the examples of the Open
// Specifications blog ("SMB 3.1.1 Pre-authentication integrity in Windows
// 10", "Encryption in SMB 3.0: a protocol perspective", "SMB 3.1.1
// Encryption in Windows 10").

const char kPreauthMessages[5][1400] = {
    "FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000"
    "000000"
    "00000000000000000000000000000000000000000000000024000500000000003F000000EC"
    "D86F32"
    "6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000"
    "000000"
    "010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32"
    "FF0000"
    "0200060000000000020002000100",
    "FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000"
    "000000"
    "000000000000000000000000000000000000000000000000410001001103020039CBCAF329"
    "714942"
    "BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095"
    "AED001"
    "80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601"
    "040182"
    "3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000"
    "000000"
    "60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296"
    "B26E51"
    "FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000"
    "000000"
    "5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098"
    "000000"
    "7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058"
    "000000"
    "3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720"
    "507562"
    "6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67"
    "205075"
    "626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3"
    "AC74C4"
    "83CA5B65385A251117BEB30712E50000020004000000000001000200",
    "FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000"
    "000000"
    "00000000000000000000000000000000000000000000000019000001010000000000000058"
    "004A00"
    "0000000000000000604806062B0601050502A03E303CA00E300C060A2B0601040182370202"
    "0AA22A"
    "04284E544C4D5353500001000000978208E200000000000000000000000000000000060380"
    "250000"
    "000F",
    "FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000"
    "000000"
    "190000000010000000000000000000000000000000000000090000004800B300A181B03081"
    "ADA003"
    "0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C00"
    "0C0038"
    "00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000"
    "000F53"
    "005500540033003100310002000C0053005500540033003100310001000C00530055005400"
    "330031"
    "00310004000C0053005500540033003100310003000C005300550054003300310031000700"
    "0800A1"
    "A1F5ADCBAED00100000000",
    "FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000"
    "000000"
    "19000000001000000000000000000000000000000000000019000001010000000000000058"
    "00CF01"
    "0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000"
    "030000"
    "001800180090000000EE00EE00A80000000C000C00580000001A001A006400000012001200"
    "7E0000"
    "001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3"
    "530055"
    "005400330031003100610064006D0069006E006900730074007200610074006F0072004400"
    "520049"
    "00560045005200330031003100000000000000000000000000000000000000000000000000"
    "63078E"
    "B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F"
    "000000"
    "0002000C0053005500540033003100310001000C0053005500540033003100310004000C00"
    "530055"
    "00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001"
    "060004"
    "00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEB"
    "F8974B"
    "8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000"
    "090016"
    "0063006900660073002F005300550054003300310031000000000000000000000000003B9B"
    "DFF38F"
    "5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000",
};

const char* const kPreauthHashes[5] = {
    "DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C4712"
    "2594CDE0CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426",
    "324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F"
    "36011E997E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513",
    "AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5D432F8ED"
    "42C55E33197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9",
    "2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B8835740A73760"
    "085633364C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387",
    "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDD"
    "AD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01",
};

void TestPreauthHashAndSmb311SigningKey(void**) {
  PreauthHash hash;
  ASSERT_OK(hash.status());
  for (int i = 0; i < 5; ++i) {
    Bytes msg = Hex(kPreauthMessages[i]);
    ASSERT_OK(hash.Update(msg.data(), msg.size()));
    Bytes expected = Hex(kPreauthHashes[i]);
    if (memcmp(hash.value(), expected.data(), kPreauthHashSize) != 0) {
      fail_msg("preauth hash after message %d differs", i + 1);
    }
  }
  Bytes session_key = Hex("270E1BA896585EEB7AF3472D3B4C75A7");
  Smb3SessionKeys keys;
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb311, session_key.data(),
                                  session_key.size(), hash.value(), 16, &keys));
  ASSERT_BYTES(Hex("73FE7A9A77BEF0BDE49C650D8CCB5F76"), keys.signing, 16u);

  PreauthHash copy;
  copy.CopyFrom(hash);
  assert_memory_equal(copy.value(), hash.value(), kPreauthHashSize);
  hash.Reset();
  uint8_t zero[kPreauthHashSize] = {};
  assert_memory_equal(hash.value(), zero, kPreauthHashSize);
}

void TestKdfSmb300(void**) {
  Bytes session_key = Hex("B4546771B515F766A86735532DD6C4F0");
  Smb3SessionKeys keys;
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb300, session_key.data(),
                                  session_key.size(), nullptr, 16, &keys));
  ASSERT_BYTES(Hex("261B72350558F2E9DCF613070383EDBF"), keys.c2s_cipher, 16u);
  ASSERT_BYTES(Hex("8FE2B57EC34D2DB5B1A9727F526BBDB5"), keys.s2c_cipher, 16u);
  assert_int_equal(keys.cipher_key_len, 16);
}

const char kSmb311SessionKey[] = "419FDDF34C1E001909D362AE7FB6AF79";
const char kSmb311PreauthHash[] =
    "B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256B"
    "A2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770";

void TestKdfSmb311Ciphers(void**) {
  Bytes session_key = Hex(kSmb311SessionKey);
  Bytes preauth = Hex(kSmb311PreauthHash);
  Smb3SessionKeys keys;
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb311, session_key.data(),
                                  session_key.size(), preauth.data(), 16,
                                  &keys));
  ASSERT_BYTES(Hex("A2F5E80E5D59103034F32E52F698E5EC"), keys.c2s_cipher, 16u);
  ASSERT_BYTES(Hex("748C50868C90F302962A5C35F5F9A8BF"), keys.s2c_cipher, 16u);
}

// OpenSSL's own KBKDF is an independent implementation of SP800-108; ours
// must agree with it for every label/context/key/length shape.
void TestKdfMatchesOpensslKbkdf(void**) {
  std::mt19937_64 rng(108);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "KBKDF", nullptr);
  assert_non_null(kdf);
  for (unsigned seed = 0; seed < 200; ++seed) {
    rng.seed(seed);
    Bytes key(1 + rng() % 64), label(rng() % 20), context(rng() % 80);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    for (auto& b : label) b = static_cast<uint8_t>(rng());
    for (auto& b : context) b = static_cast<uint8_t>(rng());
    size_t out_len = (seed % 3 == 0) ? 32 : (seed % 3 == 1 ? 16 : 48);
    uint8_t ours[48], theirs[48];
    ASSERT_OK(Sp800108HmacSha256(key.data(), key.size(), label.data(),
                                 label.size(), context.data(), context.size(),
                                 ours, out_len));
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    char mac[] = "HMAC", digest[] = "SHA256", mode[] = "counter";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac, 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key.data(),
                                          key.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, label.data(),
                                          label.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context.data(),
                                          context.size()),
        OSSL_PARAM_construct_end()};
    int rc = EVP_KDF_derive(ctx, theirs, out_len, params);
    EVP_KDF_CTX_free(ctx);
    if (rc != 1) fail_msg("seed %u: OpenSSL KBKDF failed", seed);
    if (memcmp(ours, theirs, out_len) != 0) {
      fail_msg("seed %u: KDF differs from OpenSSL KBKDF", seed);
    }
  }
  EVP_KDF_free(kdf);
}

// ---------------------------------------------------------------------------
// Signing known answers.

// SMB 2.1 responses with their HMAC-SHA256 signatures, as captured (the
// vectors of SMBLibrary's SMB2SigningTests).
struct HmacSigningVector {
  const char* session_key;
  const char* message;
};
const HmacSigningVector kHmacSigningVectors[] = {
    {"D38354CC374339F0524F789146789921",
     "fe534d4240000100280100c00b000700090000000000000004000000000000"
     "00fffe00000100000001000000000400 00fbd2843403 24c62fbebb65dd1051f3ae"
     "0900000000000000ff"},
    {"04E707571F8E0353B77A94C3653B87B5",
     "fe534d4240000100280100c00b000700090000000000000004000000000000"
     "00fffe00000100000005000000000400 00a164ffe53d 6811981f386772e387e06f"
     "0900000000000000ff"},
};

void TestHmacSha256SigningKnownAnswer(void**) {
  for (const auto& v : kHmacSigningVectors) {
    Bytes key = Hex(v.session_key);
    Bytes msg = Hex(v.message);
    assert_int_equal(msg.size(), 73);
    std::unique_ptr<Smb2Signer> signer;
    ASSERT_OK(Smb2Signer::Create(SigningAlgorithm::kHmacSha256, key.data(),
                                 key.size(), &signer));
    ASSERT_OK(signer->VerifyPdu(msg.data(), msg.size()));
    ASSERT_OK(signer->VerifyChain(msg.data(), msg.size()));
    Bytes resigned = msg;
    memset(resigned.data() + kSmb2SignatureOffset, 0xAA, 16);
    ASSERT_OK(signer->SignPdu(resigned.data(), resigned.size()));
    assert_true(resigned == msg);
  }
}

Bytes RandomPdu(std::mt19937_64& rng, size_t len) {
  Bytes pdu(len);
  for (auto& b : pdu) b = static_cast<uint8_t>(rng());
  pdu[0] = 0xFE;
  pdu[1] = 'S';
  pdu[2] = 'M';
  pdu[3] = 'B';
  internal::StoreLe32(0, pdu.data() + kSmb2NextCommandOffset);
  return pdu;
}

// The CMAC and GMAC signers must equal the primitives (checked above against
// RFC 4493 and the GCM specification) over the message with a zeroed
// signature field, with the [MS-SMB2] 3.1.4.1 GMAC nonce built by hand.
void TestCmacGmacSignersMatchPrimitives(void**) {
  std::mt19937_64 rng(4493);
  Bytes key(16);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  std::unique_ptr<Smb2Signer> cmac, gmac;
  ASSERT_OK(
      Smb2Signer::Create(SigningAlgorithm::kAesCmac, key.data(), 16, &cmac));
  ASSERT_OK(
      Smb2Signer::Create(SigningAlgorithm::kAesGmac, key.data(), 16, &gmac));
  for (unsigned seed = 0; seed < 64; ++seed) {
    rng.seed(seed);
    Bytes pdu = RandomPdu(rng, 64 + rng() % 300);
    uint32_t flags = static_cast<uint32_t>(rng()) & ~1u;
    bool server = seed & 1;
    bool cancel = seed & 2;
    if (server) flags |= kSmb2FlagServerToRedir;
    internal::StoreLe32(flags, pdu.data() + kSmb2FlagsOffset);
    internal::StoreLe16(cancel ? kSmb2CommandCancel : 0x0008,
                        pdu.data() + kSmb2CommandOffset);
    Bytes zeroed = pdu;
    memset(zeroed.data() + kSmb2SignatureOffset, 0, 16);

    uint8_t expect[16], got[16];
    ASSERT_OK(AesCmac(key.data(), 16, zeroed.data(), zeroed.size(), expect));
    ASSERT_OK(cmac->Compute(pdu.data(), pdu.size(), got));
    if (memcmp(expect, got, 16) != 0) fail_msg("seed %u: CMAC differs", seed);

    uint8_t nonce[12];
    memcpy(nonce, pdu.data() + kSmb2MessageIdOffset, 8);
    nonce[8] = static_cast<uint8_t>((server ? 1 : 0) | (cancel ? 2 : 0));
    nonce[9] = nonce[10] = nonce[11] = 0;
    ASSERT_OK(AeadSeal(AeadMode::kGcm, key.data(), 16, nonce, 12, zeroed.data(),
                       zeroed.size(), nullptr, 0, nullptr, expect, 16));
    ASSERT_OK(gmac->Compute(pdu.data(), pdu.size(), got));
    if (memcmp(expect, got, 16) != 0) fail_msg("seed %u: GMAC differs", seed);
  }
}

// ---------------------------------------------------------------------------
// Encryption known answers (Open Specifications blog examples).

const char kSmb300Plain[] =
    "FE534D4240000100000000000900400008000000000000000400000000000000"
    "FFFE0000010000001100001400E4080000000000000000000000000000000000"
    "3100700017000000000000000000000015010000390000020100000039020000"
    "00000000000000007000000000000000536D623320656E6372797074696F6E20"
    "74657374696E67";
const char kSmb300Transformed[] =
    "FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A"
    "744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5"
    "2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4"
    "4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5"
    "AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6"
    "C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB";
const char kSmb300Response[] =
    "FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014"
    "00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079"
    "E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787"
    "1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1"
    "77309E5B";
const char kSmb300ResponsePlain[] =
    "FE534D4240000100000000000900210009000000000000000400000000000000"
    "FFFE0000010000001100001400E4080000000000000000000000000000000000"
    "11000000170000000000000000000000";

const char kSmb311Plain[] =
    "FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001"
    "000000"
    "25000000001000000000000000000000000000000000000031007000170000000000000000"
    "000000"
    "0600000004000000010000000400000000000000000000007000000000000000536D623320"
    "656E63"
    "72797074696F6E2074657374696E67";
const char kSmb311Transformed[] =
    "FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087"
    "000000"
    "0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C"
    "084E02"
    "D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A"
    "394BB4"
    "4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C1"
    "3A19E9"
    "1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8";
const char kSmb311Response[] =
    "FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050"
    "000000"
    "00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32"
    "A2A0B8"
    "F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA61"
    "79159B"
    "82E03C9E18A050FF0EA1C967";
const char kSmb311ResponsePlain[] =
    "FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001"
    "000000"
    "25000000001000000000000000000000000000000000000011000000170000000000000000"
    "000000";

void CheckEncryptKat(CipherId id, const uint8_t* key, size_t key_len,
                     const char* plain_hex, const char* transformed_hex,
                     uint64_t session_id) {
  Bytes plain = Hex(plain_hex), expected = Hex(transformed_hex);
  std::unique_ptr<Smb3Cipher> cipher;
  ASSERT_OK(Smb3Cipher::Create(id, key, key_len, &cipher));
  // Twice: the second run reuses the keyed EVP context.
  for (int round = 0; round < 2; ++round) {
    Bytes out(kTransformHeaderSize + plain.size());
    ASSERT_OK(cipher->Encrypt(expected.data() + kTransformNonceOffset,
                              session_id, plain.data(), plain.size(),
                              out.data(), out.size()));
    assert_true(out == expected);
    // The sender can open what it sealed with the same key.
    Bytes back(plain.size());
    size_t back_len = 0;
    TransformHeader h;
    ASSERT_OK(cipher->Decrypt(out.data(), out.size(), back.data(), back.size(),
                              &back_len, &h));
    assert_true(back == plain);
    assert_int_equal(h.session_id, session_id);
  }
}

void CheckDecryptKat(CipherId id, const uint8_t* key, size_t key_len,
                     const char* transformed_hex, const char* plain_hex,
                     uint64_t session_id) {
  Bytes in = Hex(transformed_hex), plain = Hex(plain_hex);
  std::unique_ptr<Smb3Cipher> cipher;
  ASSERT_OK(Smb3Cipher::Create(id, key, key_len, &cipher));
  for (int round = 0; round < 2; ++round) {
    Bytes out(plain.size());
    size_t out_len = 0;
    TransformHeader h;
    ASSERT_OK(cipher->Decrypt(in.data(), in.size(), out.data(), out.size(),
                              &out_len, &h));
    assert_int_equal(out_len, plain.size());
    assert_true(out == plain);
    assert_int_equal(h.session_id, session_id);
    assert_int_equal(h.original_message_size, plain.size());
  }
}

void TestEncryptionSmb300KnownAnswer(void**) {
  Bytes session_key = Hex("B4546771B515F766A86735532DD6C4F0");
  Smb3SessionKeys keys;
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb302, session_key.data(),
                                  session_key.size(), nullptr, 16, &keys));
  CheckEncryptKat(CipherId::kAes128Ccm, keys.c2s_cipher, 16, kSmb300Plain,
                  kSmb300Transformed, 0x8e40014000011ULL);
  CheckDecryptKat(CipherId::kAes128Ccm, keys.s2c_cipher, 16, kSmb300Response,
                  kSmb300ResponsePlain, 0x8e40014000011ULL);
}

void TestEncryptionSmb311KnownAnswer(void**) {
  Bytes session_key = Hex(kSmb311SessionKey);
  Bytes preauth = Hex(kSmb311PreauthHash);
  Smb3SessionKeys keys;
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb311, session_key.data(),
                                  session_key.size(), preauth.data(), 16,
                                  &keys));
  CheckEncryptKat(CipherId::kAes128Gcm, keys.c2s_cipher, 16, kSmb311Plain,
                  kSmb311Transformed, 0x100000000025ULL);
  CheckDecryptKat(CipherId::kAes128Gcm, keys.s2c_cipher, 16, kSmb311Response,
                  kSmb311ResponsePlain, 0x100000000025ULL);
}

// ---------------------------------------------------------------------------
// Seeded round trips.

const SigningAlgorithm kAlgorithms[] = {SigningAlgorithm::kHmacSha256,
                                        SigningAlgorithm::kAesCmac,
                                        SigningAlgorithm::kAesGmac};
const CipherId kCiphers[] = {CipherId::kAes128Ccm, CipherId::kAes128Gcm,
                             CipherId::kAes256Ccm, CipherId::kAes256Gcm};

// A compound chain of 1..4 PDUs with 8-byte aligned NextCommand offsets;
// the last PDU may end unaligned.
Bytes RandomChain(std::mt19937_64& rng, size_t* pdu_count) {
  size_t count = 1 + rng() % 4;
  Bytes chain;
  for (size_t i = 0; i < count; ++i) {
    bool last = i + 1 == count;
    size_t len = 64 + rng() % 700;
    if (!last) len = (len + 7) & ~size_t{7};
    Bytes pdu = RandomPdu(rng, len);
    internal::StoreLe32(last ? 0 : static_cast<uint32_t>(len),
                        pdu.data() + kSmb2NextCommandOffset);
    chain.insert(chain.end(), pdu.begin(), pdu.end());
  }
  *pdu_count = count;
  return chain;
}

void TestSigningRoundTrips(void**) {
  std::mt19937_64 rng;
  for (unsigned seed = 0; seed < 300; ++seed) {
    rng.seed(seed);
    SigningAlgorithm alg = kAlgorithms[seed % 3];
    Bytes key(alg == SigningAlgorithm::kHmacSha256 ? 16 + rng() % 17 : 16);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    std::unique_ptr<Smb2Signer> signer, other;
    ASSERT_OK(Smb2Signer::Create(alg, key.data(), key.size(), &signer));
    key[0] ^= 0x80;
    ASSERT_OK(Smb2Signer::Create(alg, key.data(), key.size(), &other));
    size_t count = 0;
    Bytes chain = RandomChain(rng, &count);
    Status s = signer->SignChain(chain.data(), chain.size());
    if (!s.ok()) fail_msg("seed %u: sign: %s", seed, s.ToString().c_str());
    s = signer->VerifyChain(chain.data(), chain.size());
    if (!s.ok()) fail_msg("seed %u: verify: %s", seed, s.ToString().c_str());
    // Every PDU carries its own signature over its own bytes.
    size_t offset = 0, pdu_len = 0, seen = 0;
    while (offset < chain.size()) {
      ASSERT_OK(Smb2PduLength(chain.data() + offset, chain.size() - offset,
                              &pdu_len));
      s = signer->VerifyPdu(chain.data() + offset, pdu_len);
      if (!s.ok())
        fail_msg("seed %u: PDU %zu: %s", seed, seen, s.ToString().c_str());
      offset += pdu_len;
      ++seen;
    }
    assert_int_equal(seen, count);
    if (!other->VerifyChain(chain.data(), chain.size()).IsAuthFailed()) {
      fail_msg("seed %u: a different key verified", seed);
    }
  }
}

void TestEncryptionRoundTrips(void**) {
  std::mt19937_64 rng;
  for (unsigned seed = 0; seed < 400; ++seed) {
    rng.seed(seed);
    CipherId id = kCiphers[seed % 4];
    size_t key_len =
        (id == CipherId::kAes256Ccm || id == CipherId::kAes256Gcm) ? 32 : 16;
    Bytes key(key_len);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    std::unique_ptr<Smb3Cipher> cipher;
    ASSERT_OK(Smb3Cipher::Create(id, key.data(), key.size(), &cipher));
    uint8_t nonce[16] = {};
    for (size_t i = 0; i < cipher->nonce_size(); ++i) {
      nonce[i] = static_cast<uint8_t>(rng());
    }
    size_t len = 1 + rng() % (seed % 10 == 0 ? 70000 : 2000);
    Bytes msg(len);
    for (auto& b : msg) b = static_cast<uint8_t>(rng());
    uint64_t session_id = rng();
    Bytes sealed(kTransformHeaderSize + len);
    Status s = cipher->Encrypt(nonce, session_id, msg.data(), len,
                               sealed.data(), sealed.size());
    if (!s.ok()) fail_msg("seed %u: encrypt: %s", seed, s.ToString().c_str());
    Bytes back(len);
    size_t back_len = 0;
    TransformHeader h;
    s = cipher->Decrypt(sealed.data(), sealed.size(), back.data(), back.size(),
                        &back_len, &h);
    if (!s.ok()) fail_msg("seed %u: decrypt: %s", seed, s.ToString().c_str());
    if (back != msg || h.session_id != session_id ||
        memcmp(h.nonce, nonce, 16) != 0) {
      fail_msg("seed %u: round trip differs", seed);
    }
  }
}

// ---------------------------------------------------------------------------
// Tampering: one flipped bit anywhere must fail.

void TestSigningTamper(void**) {
  std::mt19937_64 rng(7);
  for (SigningAlgorithm alg : kAlgorithms) {
    Bytes key(16);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    std::unique_ptr<Smb2Signer> signer;
    ASSERT_OK(Smb2Signer::Create(alg, key.data(), key.size(), &signer));
    // A two-PDU chain: 120 + 77 bytes.
    Bytes first = RandomPdu(rng, 120), second = RandomPdu(rng, 77);
    internal::StoreLe32(120, first.data() + kSmb2NextCommandOffset);
    Bytes chain = first;
    chain.insert(chain.end(), second.begin(), second.end());
    ASSERT_OK(signer->SignChain(chain.data(), chain.size()));
    for (size_t bit = 0; bit < chain.size() * 8; ++bit) {
      chain[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      Status s = signer->VerifyChain(chain.data(), chain.size());
      if (s.ok()) {
        fail_msg("algorithm %u: flipped bit %zu verified",
                 static_cast<unsigned>(alg), bit);
      }
      chain[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
    ASSERT_OK(signer->VerifyChain(chain.data(), chain.size()));
  }
}

void TestEncryptionTamper(void**) {
  std::mt19937_64 rng(11);
  for (CipherId id : kCiphers) {
    size_t key_len =
        (id == CipherId::kAes256Ccm || id == CipherId::kAes256Gcm) ? 32 : 16;
    Bytes key(key_len);
    for (auto& b : key) b = static_cast<uint8_t>(rng());
    std::unique_ptr<Smb3Cipher> cipher;
    ASSERT_OK(Smb3Cipher::Create(id, key.data(), key.size(), &cipher));
    uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    if (cipher->is_ccm()) nonce[11] = 0;
    Bytes msg = RandomPdu(rng, 100);
    Bytes sealed(kTransformHeaderSize + msg.size());
    ASSERT_OK(cipher->Encrypt(nonce, 0x1234, msg.data(), msg.size(),
                              sealed.data(), sealed.size()));
    Bytes out(msg.size());
    size_t out_len = 0;
    // Every bit after ProtocolId: Signature, Nonce, OriginalMessageSize,
    // Reserved, Flags, SessionId, ciphertext. (ProtocolId bits are refused
    // by the parser, checked in the bad-input test.)
    for (size_t bit = 32; bit < sealed.size() * 8; ++bit) {
      sealed[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      Status s = cipher->Decrypt(sealed.data(), sealed.size(), out.data(),
                                 out.size(), &out_len, nullptr);
      if (s.ok()) {
        fail_msg("cipher %u: flipped bit %zu decrypted",
                 static_cast<unsigned>(id), bit);
      }
      sealed[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
    ASSERT_OK(cipher->Decrypt(sealed.data(), sealed.size(), out.data(),
                              out.size(), &out_len, nullptr));
    assert_true(out == msg);
  }
}

// ---------------------------------------------------------------------------
// Bad input: clear statuses, no crash.

void TestTransformHeaderBadInput(void**) {
  Bytes key(16, 0x42);
  std::unique_ptr<Smb3Cipher> cipher;
  ASSERT_OK(Smb3Cipher::Create(CipherId::kAes128Gcm, key.data(), 16, &cipher));
  uint8_t nonce[16] = {9};
  Bytes msg = RandomPdu(*std::make_unique<std::mt19937_64>(3), 80);
  Bytes sealed(kTransformHeaderSize + msg.size());
  ASSERT_OK(cipher->Encrypt(nonce, 77, msg.data(), msg.size(), sealed.data(),
                            sealed.size()));
  Bytes out(4096);
  size_t out_len = 0;

  for (size_t len = 0; len < kTransformHeaderSize; ++len) {
    assert_true(
        ParseTransformHeader(sealed.data(), len, nullptr).IsTruncated());
    assert_true(cipher
                    ->Decrypt(sealed.data(), len, out.data(), out.size(),
                              &out_len, nullptr)
                    .IsTruncated());
  }
  assert_true(ParseTransformHeader(nullptr, 100, nullptr).IsTruncated());
  // Data shorter than OriginalMessageSize, and longer.
  assert_true(cipher
                  ->Decrypt(sealed.data(), sealed.size() - 1, out.data(),
                            out.size(), &out_len, nullptr)
                  .IsTruncated());
  Bytes longer = sealed;
  longer.push_back(0);
  assert_true(cipher
                  ->Decrypt(longer.data(), longer.size(), out.data(),
                            out.size(), &out_len, nullptr)
                  .IsMalformed());
  // OriginalMessageSize rewritten: mismatch is caught before the tag.
  Bytes bad = sealed;
  internal::StoreLe32(0xFFFFFFFF, bad.data() + 36);
  assert_true(
      ParseTransformHeader(bad.data(), bad.size(), nullptr).IsTruncated());
  internal::StoreLe32(0, bad.data() + 36);
  assert_true(
      ParseTransformHeader(bad.data(), bad.size(), nullptr).IsMalformed());
  // Flags other than 1.
  bad = sealed;
  internal::StoreLe16(2, bad.data() + 42);
  assert_true(
      ParseTransformHeader(bad.data(), bad.size(), nullptr).IsMalformed());
  // Every ProtocolId bit.
  for (size_t bit = 0; bit < 32; ++bit) {
    bad = sealed;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    assert_true(cipher
                    ->Decrypt(bad.data(), bad.size(), out.data(), out.size(),
                              &out_len, nullptr)
                    .IsMalformed());
  }
  // Output too small, for both directions.
  assert_true(cipher
                  ->Decrypt(sealed.data(), sealed.size(), out.data(),
                            msg.size() - 1, &out_len, nullptr)
                  .IsInvalidArgument());
  assert_true(cipher
                  ->Encrypt(nonce, 1, msg.data(), msg.size(), out.data(),
                            kTransformHeaderSize + msg.size() - 1)
                  .IsInvalidArgument());
  assert_true(cipher->Encrypt(nonce, 1, msg.data(), 0, out.data(), out.size())
                  .IsInvalidArgument());
  // And the good message still opens.
  ASSERT_OK(cipher->Decrypt(sealed.data(), sealed.size(), out.data(),
                            out.size(), &out_len, nullptr));
}

void TestChainBadInput(void**) {
  Bytes key(16, 1);
  std::unique_ptr<Smb2Signer> signer;
  ASSERT_OK(
      Smb2Signer::Create(SigningAlgorithm::kAesCmac, key.data(), 16, &signer));
  std::mt19937_64 rng(5);
  Bytes chain = RandomPdu(rng, 200);
  size_t pdu_len = 0;

  for (size_t len = 0; len < kSmb2HeaderSize; ++len) {
    assert_true(signer->SignChain(chain.data(), len).IsTruncated());
    assert_true(signer->VerifyChain(chain.data(), len).IsTruncated());
    assert_true(signer->VerifyPdu(chain.data(), len).IsTruncated());
  }
  // NextCommand past the end of the buffer, or leaving less than a header.
  internal::StoreLe32(256, chain.data() + kSmb2NextCommandOffset);
  assert_true(signer->SignChain(chain.data(), chain.size()).IsTruncated());
  internal::StoreLe32(144, chain.data() + kSmb2NextCommandOffset);
  assert_true(signer->VerifyChain(chain.data(), chain.size()).IsTruncated());
  // Unaligned, and shorter than a header.
  internal::StoreLe32(100, chain.data() + kSmb2NextCommandOffset);
  assert_true(signer->SignChain(chain.data(), chain.size()).IsMalformed());
  internal::StoreLe32(56, chain.data() + kSmb2NextCommandOffset);
  assert_true(
      Smb2PduLength(chain.data(), chain.size(), &pdu_len).IsMalformed());
  // Second PDU that is not SMB2.
  internal::StoreLe32(128, chain.data() + kSmb2NextCommandOffset);
  Bytes before = chain;
  assert_true(signer->SignChain(chain.data(), chain.size()).IsMalformed());
  assert_true(chain == before);  // nothing written for a bad chain
  // A second PDU whose NextCommand overruns.
  chain[128] = 0xFE;
  chain[129] = 'S';
  chain[130] = 'M';
  chain[131] = 'B';
  internal::StoreLe32(0x7FFFFFF8, chain.data() + 128 + kSmb2NextCommandOffset);
  assert_true(signer->VerifyChain(chain.data(), chain.size()).IsTruncated());
  internal::StoreLe32(0, chain.data() + 128 + kSmb2NextCommandOffset);
  ASSERT_OK(signer->SignChain(chain.data(), chain.size()));
  ASSERT_OK(signer->VerifyChain(chain.data(), chain.size()));
  // Not SMB2 at all.
  chain[0] = 0xFF;
  assert_true(signer->VerifyChain(chain.data(), chain.size()).IsMalformed());
}

void TestCreateBadArguments(void**) {
  uint8_t key[32] = {1};
  std::unique_ptr<Smb2Signer> signer;
  assert_true(Smb2Signer::Create(SigningAlgorithm::kAesCmac, key, 32, &signer)
                  .IsInvalidArgument());
  assert_true(Smb2Signer::Create(SigningAlgorithm::kAesGmac, key, 15, &signer)
                  .IsInvalidArgument());
  assert_true(Smb2Signer::Create(SigningAlgorithm::kHmacSha256, key, 0, &signer)
                  .IsInvalidArgument());
  assert_true(
      Smb2Signer::Create(static_cast<SigningAlgorithm>(9), key, 16, &signer)
          .IsInvalidArgument());
  std::unique_ptr<Smb3Cipher> cipher;
  assert_true(Smb3Cipher::Create(CipherId::kAes128Ccm, key, 32, &cipher)
                  .IsInvalidArgument());
  assert_true(Smb3Cipher::Create(CipherId::kAes256Gcm, key, 16, &cipher)
                  .IsInvalidArgument());
  assert_true(Smb3Cipher::Create(static_cast<CipherId>(5), key, 16, &cipher)
                  .IsInvalidArgument());
  Smb3SessionKeys keys;
  assert_true(
      DeriveSmb3SessionKeys(Dialect::kSmb300, key, 16, nullptr, 32, &keys)
          .IsInvalidArgument());
  assert_true(
      DeriveSmb3SessionKeys(Dialect::kSmb210, key, 16, nullptr, 16, &keys)
          .IsInvalidArgument());
  assert_true(
      DeriveSmb3SessionKeys(Dialect::kSmb311, key, 16, nullptr, 16, &keys)
          .IsInvalidArgument());
  uint8_t hash[64] = {};
  ASSERT_OK(DeriveSmb3SessionKeys(Dialect::kSmb311, key, 32, hash, 32, &keys));
  assert_int_equal(keys.cipher_key_len, 32);
}

}  // namespace
}  // namespace signing
}  // namespace samba_ca

int main() {
  using namespace samba_ca::signing;  // NOLINT: test registration only
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestCmacRfc4493),
      cmocka_unit_test(TestAeadPublishedVectors),
      cmocka_unit_test(TestPreauthHashAndSmb311SigningKey),
      cmocka_unit_test(TestKdfSmb300),
      cmocka_unit_test(TestKdfSmb311Ciphers),
      cmocka_unit_test(TestKdfMatchesOpensslKbkdf),
      cmocka_unit_test(TestHmacSha256SigningKnownAnswer),
      cmocka_unit_test(TestCmacGmacSignersMatchPrimitives),
      cmocka_unit_test(TestEncryptionSmb300KnownAnswer),
      cmocka_unit_test(TestEncryptionSmb311KnownAnswer),
      cmocka_unit_test(TestSigningRoundTrips),
      cmocka_unit_test(TestEncryptionRoundTrips),
      cmocka_unit_test(TestSigningTamper),
      cmocka_unit_test(TestEncryptionTamper),
      cmocka_unit_test(TestTransformHeaderBadInput),
      cmocka_unit_test(TestChainBadInput),
      cmocka_unit_test(TestCreateBadArguments),
  };
  return cmocka_run_group_tests_name("samba_ca_signing", tests, nullptr,
                                     nullptr);
}
