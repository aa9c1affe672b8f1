// libFuzzer target for the persistent-open record decoder.
//
// The first input byte chooses a mode: with its low bit set the rest of the
// input gets a correct checksum before decoding, so the fuzzer reaches the
// field checks behind the CRC.  A record that decodes must re-encode to the
// same bytes and decode to the same record.
//
// Build with libFuzzer:
//   clang++ -std=c++17 -g -fsanitize=fuzzer,address,undefined
//     -I persistent_core selftest/fuzz/persistent_record_fuzz.cc
//     persistent_core/{persistent_record,coding,crc32c,status}.cc
// Without libFuzzer (any compiler), add -DPCORE_FUZZ_STANDALONE and use
// -fsanitize=address,undefined: main() then runs seeded random and mutated
// inputs, or decodes the files named on the command line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "persistent_record.h"

using samba_ca::persistent::DecodeRecord;
using samba_ca::persistent::EncodeRecord;
using samba_ca::persistent::OpenRecord;
using samba_ca::persistent::ResealRecordForTesting;
using samba_ca::persistent::Status;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    ResealRecordForTesting(&input);
  }
  OpenRecord record;
  Status s = DecodeRecord(reinterpret_cast<const uint8_t*>(input.data()),
                          input.size(), &record);
  if (!s.ok()) {
    if (s.code() != PCORE_CORRUPT_RECORD && s.code() != PCORE_UNKNOWN_VERSION) {
      std::abort();
    }
    return 0;
  }
  std::string again;
  if (!EncodeRecord(record, &again).ok() || again != input) {
    std::abort();
  }
  OpenRecord twice;
  if (!DecodeRecord(reinterpret_cast<const uint8_t*>(again.data()),
                    again.size(), &twice)
           .ok() ||
      twice != record) {
    std::abort();
  }
  return 0;
}

#ifdef PCORE_FUZZ_STANDALONE
namespace {

uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string SeedRecord() {
  OpenRecord r;
  r.persistent_id = 1;
  r.create_guid[0] = 1;
  r.oplock_level = PCORE_OPLOCK_LEASE;
  r.lease_version = 2;
  r.lease_state = PCORE_LEASE_READ;
  r.timeout_ms = 60000;
  r.owner_sid = "S-1-5-21-1-2-3-1000";
  r.share_name = "ca";
  r.path = "a/b.txt";
  r.locks.resize(3);
  r.locks[1].offset = 10;
  r.locks[1].length = 5;
  std::string out;
  EncodeRecord(r, &out);
  return out;
}

int RunFile(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    return 1;
  }
  std::string data;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    data.append(buf, n);
  }
  std::fclose(f);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()),
                         data.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    for (int i = 1; i < argc; i++) {
      if (RunFile(argv[i]) != 0) {
        return 1;
      }
    }
    return 0;
  }
  const uint64_t kIterations = 200000;
  std::string seed = SeedRecord();
  uint64_t state = 42;
  for (uint64_t i = 0; i < kIterations; i++) {
    std::string input(1, static_cast<char>(Next(&state)));
    if (i % 4 == 0) {
      // Random bytes of random length.
      size_t len = Next(&state) % 600;
      for (size_t k = 0; k < len; k++) {
        input.push_back(static_cast<char>(Next(&state)));
      }
    } else {
      // The seed record with a few bytes flipped, cut or extended.
      input += seed;
      int flips = 1 + static_cast<int>(Next(&state) % 4);
      for (int k = 0; k < flips; k++) {
        size_t at = 1 + Next(&state) % (input.size() - 1);
        input[at] = static_cast<char>(Next(&state));
      }
      if (Next(&state) % 8 == 0) {
        input.resize(1 + Next(&state) % input.size());
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::printf("persistent_record_fuzz: %llu inputs, no failure\n",
              static_cast<unsigned long long>(kIterations));
  return 0;
}
#endif  // PCORE_FUZZ_STANDALONE
