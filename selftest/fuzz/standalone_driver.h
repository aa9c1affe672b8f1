// Copyright (C) samba-ca authors. GPLv3+.
//
// The plain driver shared by the fuzz targets' standalone builds (g++ with
// ASan/UBSan, no libFuzzer): each argument is an input file, or, without
// arguments, a number of seeded random inputs (taken from an environment
// variable, default 20000) is run through the target.

#ifndef SAMBA_CA_SELFTEST_FUZZ_STANDALONE_DRIVER_H_
#define SAMBA_CA_SELFTEST_FUZZ_STANDALONE_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace samba_ca {
namespace fuzz {

// SplitMix64: the next pseudo-random value from *state.
inline uint64_t SplitMix64(uint64_t* state) {
  *state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = *state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Runs `fuzz_one` on the files named in argv, or on `random_input` from
// `seed` as many times as the environment variable `iterations_env` says.
// `name` starts the summary line. Returns main()'s exit code.
inline int RunStandalone(int argc, char** argv, const char* name,
                         const char* iterations_env, uint64_t seed,
                         void (*fuzz_one)(const uint8_t*, size_t),
                         std::vector<uint8_t> (*random_input)(uint64_t*)) {
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      FILE* fp = fopen(argv[i], "rb");
      if (fp == nullptr) {
        perror(argv[i]);
        return 1;
      }
      std::vector<uint8_t> in;
      int c;
      while ((c = fgetc(fp)) != EOF) in.push_back(static_cast<uint8_t>(c));
      fclose(fp);
      fuzz_one(in.data(), in.size());
    }
    printf("%s: %d input file(s) OK\n", name, argc - 1);
    return 0;
  }
  const char* env = getenv(iterations_env);
  long iterations = env ? atol(env) : 20000;
  uint64_t state = seed;
  for (long i = 0; i < iterations; ++i) {
    std::vector<uint8_t> in = random_input(&state);
    fuzz_one(in.data(), in.size());
  }
  printf("%s: %ld random inputs OK\n", name, iterations);
  return 0;
}

}  // namespace fuzz
}  // namespace samba_ca

#endif  // SAMBA_CA_SELFTEST_FUZZ_STANDALONE_DRIVER_H_
