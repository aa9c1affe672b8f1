// Copyright (C) samba-ca authors. GPLv3+.
//
// libFuzzer target for signing/: the SMB2 TRANSFORM_HEADER parser and
// decryption with every cipher, and compound-chain signing/verification
// with every algorithm, on arbitrary bytes. Invariants checked (abort on
// violation): nothing crashes; a chain that signs also verifies; what is
// encrypted decrypts to the same bytes; garbage never decrypts.
//
// clang++ -fsanitize=fuzzer,address,undefined builds the libFuzzer binary.
// Built with -DSIGNING_FUZZ_STANDALONE (e.g. by g++ with ASan/UBSan) it is
// a plain driver: each argument is an input file, or, without arguments,
// a fixed number of seeded random inputs is run.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "smb3_crypto.h"

namespace {

using samba_ca::signing::CipherId;
using samba_ca::signing::kTransformHeaderSize;
using samba_ca::signing::ParseTransformHeader;
using samba_ca::signing::SigningAlgorithm;
using samba_ca::signing::Smb2PduLength;
using samba_ca::signing::Smb2Signer;
using samba_ca::signing::Smb3Cipher;
using samba_ca::signing::Status;
using samba_ca::signing::TransformHeader;

struct Fixture {
  std::unique_ptr<Smb2Signer> signers[3];
  std::unique_ptr<Smb3Cipher> ciphers[4];

  Fixture() {
    uint8_t key[32];
    for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
    const SigningAlgorithm algs[] = {SigningAlgorithm::kHmacSha256,
                                     SigningAlgorithm::kAesCmac,
                                     SigningAlgorithm::kAesGmac};
    for (int i = 0; i < 3; ++i) {
      if (!Smb2Signer::Create(algs[i], key, 16, &signers[i]).ok()) abort();
    }
    const CipherId ids[] = {CipherId::kAes128Ccm, CipherId::kAes128Gcm,
                            CipherId::kAes256Ccm, CipherId::kAes256Gcm};
    for (int i = 0; i < 4; ++i) {
      size_t len = i >= 2 ? 32 : 16;
      if (!Smb3Cipher::Create(ids[i], key, len, &ciphers[i]).ok()) abort();
    }
  }
};

Fixture& GetFixture() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void FuzzOne(const uint8_t* data, size_t size) {
  Fixture& f = GetFixture();

  // Transform header: parse, then try to open with every cipher. Random
  // bytes must never authenticate.
  TransformHeader h;
  Status parsed = ParseTransformHeader(data, size, &h);
  std::vector<uint8_t> out(size + 1);
  for (auto& cipher : f.ciphers) {
    size_t out_len = 0;
    Status s =
        cipher->Decrypt(data, size, out.data(), out.size(), &out_len, nullptr);
    if (s.ok()) abort();
    if (!parsed.ok() && s.code() != parsed.code()) abort();
  }

  // Compound chains: verify the bytes as they are, then sign a copy and
  // check that it verifies.
  size_t pdu_len = 0;
  (void)Smb2PduLength(data, size, &pdu_len);
  std::vector<uint8_t> copy(data, data + size);
  for (auto& signer : f.signers) {
    (void)signer->VerifyChain(data, size);
    Status signed_ok = signer->SignChain(copy.data(), copy.size());
    if (signed_ok.ok() && !signer->VerifyChain(copy.data(), copy.size()).ok()) {
      abort();
    }
  }

  // Round trip of the input as a message, the nonce taken from its start.
  if (size > 0 && size < (1u << 20)) {
    uint8_t nonce[16] = {};
    memcpy(nonce, data, size < 11 ? size : 11);
    for (auto& cipher : f.ciphers) {
      std::vector<uint8_t> sealed(kTransformHeaderSize + size);
      if (!cipher->Encrypt(nonce, 1, data, size, sealed.data(), sealed.size())
               .ok()) {
        abort();
      }
      size_t back_len = 0;
      if (!cipher
               ->Decrypt(sealed.data(), sealed.size(), out.data(), out.size(),
                         &back_len, nullptr)
               .ok() ||
          back_len != size || memcmp(out.data(), data, size) != 0) {
        abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}

#ifdef SIGNING_FUZZ_STANDALONE
#include "standalone_driver.h"

namespace {

// Inputs that reach the deeper paths more often than uniform noise: SMB2
// headers with NextCommand chains and transform headers with a matching
// OriginalMessageSize.
std::vector<uint8_t> RandomInput(uint64_t* state) {
  auto next = [state]() { return samba_ca::fuzz::SplitMix64(state); };
  size_t size = next() % 600;
  std::vector<uint8_t> in(size);
  for (auto& b : in) b = static_cast<uint8_t>(next());
  switch (next() % 3) {
    case 0:
      if (size >= 64) {
        in[0] = 0xFE, in[1] = 'S', in[2] = 'M', in[3] = 'B';
        uint32_t nc = static_cast<uint32_t>(next() % 2 ? 0 : next() % size);
        if (next() % 2) nc &= ~7u;
        memcpy(&in[20], &nc, 4);
      }
      break;
    case 1:
      if (size >= 52) {
        in[0] = 0xFD, in[1] = 'S', in[2] = 'M', in[3] = 'B';
        uint32_t osz = static_cast<uint32_t>(size - 52);
        memcpy(&in[36], &osz, 4);
        in[42] = 1, in[43] = 0;
      }
      break;
    default:
      break;
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  return samba_ca::fuzz::RunStandalone(argc, argv, "signing_fuzz",
                                       "SIGNING_FUZZ_ITERATIONS", 0x5A5A,
                                       FuzzOne, RandomInput);
}
#endif  // SIGNING_FUZZ_STANDALONE
