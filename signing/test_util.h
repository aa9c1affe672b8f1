// Copyright (C) samba-ca authors. GPLv3+.
//
// Helpers shared by the cmocka tests of signing/ and smbclient3/ (the
// latter find this header through -I../signing). Include after <cmocka.h>.

#ifndef SAMBA_CA_SIGNING_TEST_UTIL_H_
#define SAMBA_CA_SIGNING_TEST_UTIL_H_

#include <cstdint>
#include <vector>

namespace samba_ca {
namespace testing {

// Hex digits to bytes; anything else (spaces between groups) is skipped.
inline std::vector<uint8_t> Hex(const char* s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (; *s; ++s) {
    int v;
    char c = *s;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace testing
}  // namespace samba_ca

// Fails the test with the Status's text when `expr` (any Status with ok()
// and ToString()) is not OK.
#define ASSERT_OK(expr)                                             \
  do {                                                              \
    auto _s = (expr);                                               \
    if (!_s.ok()) fail_msg("%s: %s", #expr, _s.ToString().c_str()); \
  } while (0)

// The same, naming the seed of a seeded test.
#define ASSERT_OK_SEED(expr, seed)                                       \
  do {                                                                   \
    auto _s = (expr);                                                    \
    if (!_s.ok()) {                                                      \
      fail_msg("seed %d: %s: %s", (seed), #expr, _s.ToString().c_str()); \
    }                                                                    \
  } while (0)

#endif  // SAMBA_CA_SIGNING_TEST_UTIL_H_
