// Tests of the persistent open's cookie codec: seeded round trips, the
// golden bytes of the format smbds already keep, truncation, corruption,
// versions, and the C API over it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <string>

#include "coding.h"
#include "cookie.h"
#include "persistent_core.h"
#include "test_util.h"

using namespace samba_ca::persistent;
using samba_ca::persistent::testing::Random;

namespace {

constexpr uint64_t kRoundTripSeeds = 3000;
constexpr size_t kVersionOffset = 8;
constexpr size_t kInnerLengthOffset = 12;

const uint8_t* Bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

std::string Encode(uint64_t persistent_id, const std::string& inner) {
  std::string out;
  Status s = EncodeCookie(persistent_id, Bytes(inner), inner.size(), &out);
  if (!s.ok()) {
    fail_msg("encode failed: %s", s.ToString().c_str());
  }
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string Unhex(const char* hex) {
  std::string out;
  for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

void test_round_trip_seeds(void**) {
  for (uint64_t seed = 1; seed <= kRoundTripSeeds; seed++) {
    Random rnd(seed);
    uint64_t id = rnd.Next();
    std::string inner(rnd.OneIn(10) ? 0 : rnd.Uniform(600), '\0');
    for (auto& c : inner) {
      c = static_cast<char>(rnd.Next());
    }
    std::string bytes = Encode(id, inner);
    if (bytes.size() != kCookieHeaderSize + inner.size() ||
        !IsPersistentCookie(Bytes(bytes), bytes.size())) {
      fail_msg("seed %llu: encoding of %zu bytes",
               static_cast<unsigned long long>(seed), bytes.size());
    }
    CookieView view;
    Status s = DecodeCookie(Bytes(bytes), bytes.size(), &view);
    if (!s.ok()) {
      fail_msg("seed %llu: decode: %s", static_cast<unsigned long long>(seed),
               s.ToString().c_str());
    }
    if (view.persistent_id != id ||
        bytes.substr(view.inner_offset, view.inner_length) != inner) {
      fail_msg("seed %llu: decoded cookie differs",
               static_cast<unsigned long long>(seed));
    }
    if (Encode(view.persistent_id, bytes.substr(view.inner_offset)) != bytes) {
      fail_msg("seed %llu: re-encoding differs",
               static_cast<unsigned long long>(seed));
    }
  }
}

// What the module wrote before the codec moved into the core (SIVAL and
// SBVAL: little endian), and so what smbds keep in smbXsrv_open_global.tdb
// today.  A change here strands those opens: it needs a new version.
const char kGoldenHex[] =
    // magic "SCA-PH\0\0"
    "5343412d50480000"
    // version 1, inner length 5
    "01000000"
    "05000000"
    // persistent id 0x1122334455667788
    "8877665544332211"
    // inner cookie
    "696e6e6572";

void test_golden_encoding(void**) {
  std::string bytes = Encode(0x1122334455667788ull, "inner");
  if (Hex(bytes) != kGoldenHex) {
    fail_msg("golden mismatch:\n got %s\nwant %s", Hex(bytes).c_str(),
             kGoldenHex);
  }
  CookieView view;
  std::string golden = Unhex(kGoldenHex);
  assert_true(DecodeCookie(Bytes(golden), golden.size(), &view).ok());
  assert_true(view.persistent_id == 0x1122334455667788ull);
  assert_int_equal(view.inner_offset, 24);
  assert_int_equal(view.inner_length, 5);
}

// The cookie a restored open gets before its reconnect: no inner cookie.
void test_golden_empty_inner(void**) {
  std::string bytes = Encode(1, "");
  assert_string_equal(Hex(bytes).c_str(),
                      "5343412d50480000"
                      "01000000"
                      "00000000"
                      "0100000000000000");
  CookieView view;
  assert_true(DecodeCookie(Bytes(bytes), bytes.size(), &view).ok());
  assert_int_equal(view.inner_length, 0);
  assert_int_equal(view.inner_offset, bytes.size());
}

void test_every_truncation_fails(void**) {
  std::string bytes = Encode(42, "some inner cookie");
  for (size_t len = 0; len < bytes.size(); len++) {
    CookieView view;
    Status s = DecodeCookie(Bytes(bytes), len, &view);
    if (s.code() != PCORE_CORRUPT_RECORD) {
      fail_msg("length %zu: %s", len, s.ToString().c_str());
    }
  }
  CookieView view;
  std::string longer = bytes + "x";
  assert_int_equal(DecodeCookie(Bytes(longer), longer.size(), &view).code(),
                   PCORE_CORRUPT_RECORD);
  assert_int_equal(DecodeCookie(nullptr, 0, &view).code(),
                   PCORE_CORRUPT_RECORD);
}

// There is no checksum: a changed persistent id or inner byte decodes (the
// reconnect's record checks catch those); every other byte is checked.
void test_every_header_corruption(void**) {
  std::string bytes = Encode(42, "inner");
  for (size_t i = 0; i < kCookieMagicSize + 8; i++) {
    for (uint8_t mask : {0x01, 0x10, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      CookieView view;
      Status s = DecodeCookie(Bytes(bad), bad.size(), &view);
      pcore_status want = i >= kVersionOffset && i < kInnerLengthOffset
                              ? PCORE_UNKNOWN_VERSION
                              : PCORE_CORRUPT_RECORD;
      if (s.code() != want) {
        fail_msg("byte %zu ^ 0x%02x: %s", i, mask, s.ToString().c_str());
      }
      assert_int_equal(IsPersistentCookie(Bytes(bad), bad.size()),
                       i >= kCookieMagicSize);
    }
  }
}

void test_unknown_version(void**) {
  std::string bytes = Encode(7, "x");
  uint8_t* p = reinterpret_cast<uint8_t*>(&bytes[0]);
  for (uint32_t version : {0u, 2u, 99u, 0xFFFFFFFFu}) {
    EncodeFixed32(p + kVersionOffset, version);
    CookieView view;
    Status s = DecodeCookie(p, bytes.size(), &view);
    assert_int_equal(s.code(), PCORE_UNKNOWN_VERSION);
    assert_true(s.message().find(std::to_string(version)) != std::string::npos);
  }
}

void test_inner_length_mismatch(void**) {
  std::string bytes = Encode(7, "abc");
  uint8_t* p = reinterpret_cast<uint8_t*>(&bytes[0]);
  for (uint32_t len : {0u, 2u, 4u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    EncodeFixed32(p + kInnerLengthOffset, len);
    CookieView view;
    Status s = DecodeCookie(p, bytes.size(), &view);
    assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
    assert_true(s.message().find("inner length") != std::string::npos);
  }
}

void test_durable_cookie_is_not_ours(void**) {
  // The default durable cookie is an NDR blob starting with its own magic.
  const std::string durable = "VFS_DEFAULT_DURABLE_COOKIE_MAGIC";
  assert_false(IsPersistentCookie(Bytes(durable), durable.size()));
  assert_false(IsPersistentCookie(Bytes(durable), 0));
  assert_false(IsPersistentCookie(nullptr, 0));
  std::string magic_only = Encode(1, "").substr(0, kCookieMagicSize);
  assert_true(IsPersistentCookie(Bytes(magic_only), magic_only.size()));
}

void test_encoder_refuses_invalid(void**) {
  std::string out = "kept";
  assert_int_equal(EncodeCookie(1, nullptr, 3, &out).code(),
                   PCORE_INVALID_PARAMETER);
  assert_string_equal(out.c_str(), "kept");
  assert_true(EncodeCookie(1, nullptr, 0, &out).ok());
  assert_int_equal(out.size(), 4 + kCookieHeaderSize);
}

void test_c_api(void**) {
  const uint8_t inner[5] = {'i', 'n', 'n', 'e', 'r'};
  uint8_t out[PCORE_COOKIE_HEADER_SIZE + sizeof(inner)];
  assert_int_equal(pcore_cookie_encode(0x1122334455667788ull, inner,
                                       sizeof(inner), out, sizeof(out)),
                   PCORE_OK);
  std::string bytes(reinterpret_cast<const char*>(out), sizeof(out));
  assert_string_equal(Hex(bytes).c_str(), kGoldenHex);
  assert_int_equal(pcore_cookie_is_ours(out, sizeof(out)), 1);

  pcore_cookie c;
  assert_int_equal(pcore_cookie_decode(out, sizeof(out), &c), PCORE_OK);
  assert_true(c.persistent_id == 0x1122334455667788ull);
  assert_int_equal(c.inner_offset, PCORE_COOKIE_HEADER_SIZE);
  assert_int_equal(c.inner_len, sizeof(inner));
  assert_string_equal(c.problem, "");

  // The output must be exactly header plus inner.
  assert_int_equal(
      pcore_cookie_encode(1, inner, sizeof(inner), out, sizeof(out) - 1),
      PCORE_INVALID_PARAMETER);
  assert_int_equal(pcore_cookie_encode(1, inner, sizeof(inner), out, 2),
                   PCORE_INVALID_PARAMETER);
  assert_int_equal(
      pcore_cookie_encode(1, inner, sizeof(inner), nullptr, sizeof(out)),
      PCORE_INVALID_PARAMETER);
  assert_int_equal(
      pcore_cookie_encode(2, nullptr, 0, out, PCORE_COOKIE_HEADER_SIZE),
      PCORE_OK);
  assert_int_equal(pcore_cookie_decode(out, PCORE_COOKIE_HEADER_SIZE, &c),
                   PCORE_OK);
  assert_true(c.persistent_id == 2);
  assert_int_equal(c.inner_len, 0);

  // Failures say what is wrong.
  assert_int_equal(pcore_cookie_decode(out, 3, &c), PCORE_CORRUPT_RECORD);
  assert_true(strstr(c.problem, "3 bytes") != nullptr);
  EncodeFixed32(out + kVersionOffset, 99);
  assert_int_equal(pcore_cookie_decode(out, PCORE_COOKIE_HEADER_SIZE, &c),
                   PCORE_UNKNOWN_VERSION);
  assert_true(strstr(c.problem, "version 99") != nullptr);
  assert_int_equal(pcore_cookie_decode(out, PCORE_COOKIE_HEADER_SIZE, nullptr),
                   PCORE_INVALID_PARAMETER);
  assert_int_equal(pcore_cookie_is_ours(out, 7), 0);
  assert_int_equal(pcore_cookie_is_ours(nullptr, 0), 0);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_seeds),
      cmocka_unit_test(test_golden_encoding),
      cmocka_unit_test(test_golden_empty_inner),
      cmocka_unit_test(test_every_truncation_fails),
      cmocka_unit_test(test_every_header_corruption),
      cmocka_unit_test(test_unknown_version),
      cmocka_unit_test(test_inner_length_mismatch),
      cmocka_unit_test(test_durable_cookie_is_not_ours),
      cmocka_unit_test(test_encoder_refuses_invalid),
      cmocka_unit_test(test_c_api),
  };
  return cmocka_run_group_tests_name("persistent_cookie", tests, nullptr,
                                     nullptr);
}
