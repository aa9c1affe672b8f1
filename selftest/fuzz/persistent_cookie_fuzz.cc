// Copyright (C) samba-ca authors. GPLv3+.
//
// libFuzzer target for the persistent open's cookie codec
// (persistent_core/cookie.h), the bytes smbd hands the module back on
// disconnect and reconnect, through the C++ decoder and the C API the glue
// calls.  The first input byte chooses a mode: with its low bit set the
// version and inner length fields of the rest are made right first, so the
// fuzzer reaches the accepting path.  Invariants (abort on violation):
// nothing crashes or reads out of bounds; a refusal is PCORE_CORRUPT_RECORD
// or PCORE_UNKNOWN_VERSION; the C API agrees with the C++ decoder; an
// accepted cookie starts with our magic, its inner cookie ends exactly at
// the end, and it re-encodes to the same bytes; any inner cookie wrapped
// decodes back to itself.
//
// clang++-14 -fsanitize=fuzzer,address,undefined -Ipersistent_core with
// the core's sources builds the libFuzzer binary.  With
// -DPCORE_FUZZ_STANDALONE (g++ with ASan/UBSan) it is a plain driver:
// arguments are input files, or without arguments COOKIE_FUZZ_ITERATIONS
// (default 20000) seeded random inputs.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "coding.h"
#include "cookie.h"
#include "persistent_core.h"

namespace {

namespace pc = samba_ca::persistent;

constexpr size_t kVersionOffset = 8;
constexpr size_t kInnerLengthOffset = 12;

void CheckDecode(const uint8_t* data, size_t size) {
  pc::CookieView view;
  pc::Status s = pc::DecodeCookie(data, size, &view);
  pcore_cookie c;
  pcore_status st = pcore_cookie_decode(data, size, &c);
  if (st != s.code() || (pcore_cookie_is_ours(data, size) != 0) !=
                            pc::IsPersistentCookie(data, size)) {
    abort();
  }
  if (!s.ok()) {
    if (s.code() != PCORE_CORRUPT_RECORD && s.code() != PCORE_UNKNOWN_VERSION) {
      abort();
    }
    if (c.problem[0] == '\0') {
      abort();
    }
    return;
  }
  if (!pc::IsPersistentCookie(data, size) ||
      view.inner_offset != pc::kCookieHeaderSize ||
      view.inner_offset + view.inner_length != size ||
      c.persistent_id != view.persistent_id ||
      c.inner_offset != view.inner_offset || c.inner_len != view.inner_length ||
      c.problem[0] != '\0') {
    abort();
  }
  std::string again;
  if (!pc::EncodeCookie(view.persistent_id, data + view.inner_offset,
                        view.inner_length, &again)
           .ok() ||
      again.size() != size || memcmp(again.data(), data, size) != 0) {
    abort();
  }
}

// The input as somebody's inner cookie: wrapped by the C API, it must
// come back whole.
void CheckWrap(const uint8_t* data, size_t size) {
  uint64_t id = 0;
  if (size != 0) {
    memcpy(&id, data, size < sizeof(id) ? size : sizeof(id));
  }
  std::vector<uint8_t> out(PCORE_COOKIE_HEADER_SIZE + size);
  if (pcore_cookie_encode(id, size != 0 ? data : nullptr, size, out.data(),
                          out.size()) != PCORE_OK) {
    abort();
  }
  pcore_cookie c;
  if (pcore_cookie_decode(out.data(), out.size(), &c) != PCORE_OK ||
      c.persistent_id != id || c.inner_len != size ||
      (size != 0 && memcmp(out.data() + c.inner_offset, data, size) != 0)) {
    abort();
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) {
    return;
  }
  std::vector<uint8_t> input(data + 1, data + size);
  if ((data[0] & 1) && input.size() >= pc::kCookieHeaderSize) {
    pc::EncodeFixed32(&input[kVersionOffset], pc::kCookieVersion);
    pc::EncodeFixed32(
        &input[kInnerLengthOffset],
        static_cast<uint32_t>(input.size() - pc::kCookieHeaderSize));
  }
  CheckDecode(input.data(), input.size());
  CheckWrap(input.data(), input.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}

#ifdef PCORE_FUZZ_STANDALONE
#include "standalone_driver.h"

namespace {

// Cookies as the module writes them, with a few bytes changed, cut or
// added, and plain noise.
std::vector<uint8_t> RandomInput(uint64_t* state) {
  auto next = [state]() { return samba_ca::fuzz::SplitMix64(state); };
  std::vector<uint8_t> in(1, static_cast<uint8_t>(next()));
  if (next() % 4 == 0) {
    size_t len = next() % 80;
    for (size_t i = 0; i < len; i++) {
      in.push_back(static_cast<uint8_t>(next()));
    }
    return in;
  }
  std::string inner(next() % 64, '\0');
  for (auto& c : inner) {
    c = static_cast<char>(next());
  }
  std::string cookie;
  pc::EncodeCookie(next(), reinterpret_cast<const uint8_t*>(inner.data()),
                   inner.size(), &cookie);
  in.insert(in.end(), cookie.begin(), cookie.end());
  int changes = static_cast<int>(next() % 3);
  for (int k = 0; k < changes; k++) {
    size_t at = 1 + next() % (in.size() - 1);
    in[at] = static_cast<uint8_t>(next());
  }
  if (next() % 8 == 0) {
    in.resize(1 + next() % in.size());
  } else if (next() % 8 == 0) {
    in.push_back(static_cast<uint8_t>(next()));
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  return samba_ca::fuzz::RunStandalone(argc, argv, "persistent_cookie_fuzz",
                                       "COOKIE_FUZZ_ITERATIONS", 0xC00C1E,
                                       FuzzOne, RandomInput);
}
#endif  // PCORE_FUZZ_STANDALONE
