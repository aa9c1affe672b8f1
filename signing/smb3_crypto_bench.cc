// Copyright (C) samba-ca authors. GPLv3+.
//
// Signing throughput of signing/ against the same primitive called straight
// through OpenSSL EVP and through GnuTLS (Samba's crypto backend), for 64 KiB
// and 1 MiB messages. Prints MB/s and ratios; asserts nothing about speed.
// Each figure is the best of several short timed runs, so the whole program
// takes a few seconds. The three implementations are first checked to give
// the same signature.

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "byte_order.h"
#include "smb3_crypto.h"

namespace samba_ca {
namespace signing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kRunSeconds = 0.025;
constexpr int kRuns = 7;

// Throughput in MB/s (10^6 bytes) of one timed run of fn over len bytes.
double TimedRun(size_t len, const std::function<bool()>& fn) {
  size_t iterations = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 2; ++i) {
      if (!fn()) {
        fprintf(stderr, "benchmark operation failed\n");
        return 0;
      }
    }
    iterations += 2;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < kRunSeconds);
  return static_cast<double>(len) * iterations / elapsed / 1e6;
}

// Best of kRuns for each implementation, the runs interleaved so that a
// change of machine load hits all of them alike.
void Measure(size_t len, const std::function<bool()>* fns, size_t count,
             double* best) {
  for (size_t f = 0; f < count; ++f) {
    best[f] = 0;
    for (int i = 0; i < 3; ++i) fns[f]();  // warm caches and lazy EVP state
  }
  for (int run = 0; run < kRuns; ++run) {
    for (size_t f = 0; f < count; ++f) {
      double mbps = TimedRun(len, fns[f]);
      if (mbps > best[f]) best[f] = mbps;
    }
  }
}

struct RawEvpMac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~RawEvpMac() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
  bool Init(bool hmac, const uint8_t* key) {
    mac = EVP_MAC_fetch(nullptr, hmac ? "HMAC" : "CMAC", nullptr);
    ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    if (!ctx) return false;
    char digest[] = "SHA256", cipher[] = "AES-128-CBC";
    OSSL_PARAM params[] = {
        hmac ? OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest,
                                                0)
             : OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher,
                                                0),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_init(ctx, key, 16, params) == 1;
  }
  bool Run(const uint8_t* data, size_t len, uint8_t* out16) {
    uint8_t full[32];
    size_t out_len = 0;
    bool ok = EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
              EVP_MAC_update(ctx, data, len) == 1 &&
              EVP_MAC_final(ctx, full, &out_len, sizeof(full)) == 1;
    memcpy(out16, full, 16);
    return ok;
  }
};

struct RawEvpGmac {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~RawEvpGmac() { EVP_CIPHER_CTX_free(ctx); }
  bool Init(const uint8_t* key) {
    ctx = EVP_CIPHER_CTX_new();
    return ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key,
                                     nullptr) == 1;
  }
  bool Run(const uint8_t* nonce, const uint8_t* data, size_t len,
           uint8_t* out16) {
    int outl = 0;
    uint8_t unused[16];
    return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
           EVP_EncryptUpdate(ctx, nullptr, &outl, data,
                             static_cast<int>(len)) == 1 &&
           EVP_EncryptFinal_ex(ctx, unused, &outl) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out16) == 1;
  }
};

struct GnutlsMac {
  gnutls_hmac_hd_t hd = nullptr;
  ~GnutlsMac() {
    if (hd) gnutls_hmac_deinit(hd, nullptr);
  }
  bool Init(gnutls_mac_algorithm_t alg, const uint8_t* key) {
    return gnutls_hmac_init(&hd, alg, key, 16) == 0;
  }
  bool Run(const uint8_t* data, size_t len, uint8_t* out16) {
    uint8_t full[32];
    // gnutls_hmac_output resets the handle for the next message.
    if (gnutls_hmac(hd, data, len) != 0) return false;
    gnutls_hmac_output(hd, full);
    memcpy(out16, full, 16);
    return true;
  }
};

struct GnutlsGmac {
  gnutls_cipher_hd_t hd = nullptr;
  ~GnutlsGmac() {
    if (hd) gnutls_cipher_deinit(hd);
  }
  bool Init(const uint8_t* key) {
    gnutls_datum_t k = {const_cast<uint8_t*>(key), 16};
    uint8_t iv[12] = {};
    gnutls_datum_t v = {iv, 12};
    return gnutls_cipher_init(&hd, GNUTLS_CIPHER_AES_128_GCM, &k, &v) == 0;
  }
  bool Run(const uint8_t* nonce, const uint8_t* data, size_t len,
           uint8_t* out16) {
    gnutls_cipher_set_iv(hd, const_cast<uint8_t*>(nonce), 12);
    return gnutls_cipher_add_auth(hd, data, len) == 0 &&
           gnutls_cipher_tag(hd, out16, 16) == 0;
  }
};

int RunBench() {
  if (gnutls_global_init() != 0) {
    fprintf(stderr, "gnutls_global_init failed\n");
    return 1;
  }
  std::mt19937_64 rng(2024);
  uint8_t key[16];
  for (auto& b : key) b = static_cast<uint8_t>(rng());

  printf("SMB2 signing throughput, MB/s (best of %d interleaved %.0f ms runs)\n",
         kRuns, kRunSeconds * 1000);
  printf("OpenSSL %s, GnuTLS %s\n", OpenSSL_version(OPENSSL_VERSION),
         gnutls_check_version(nullptr));
  printf("%-12s %8s %10s %10s %10s %9s %9s\n", "algorithm", "size",
         "samba-ca", "raw-EVP", "GnuTLS", "ours/EVP", "GnuTLS/EVP");
  int failures = 0;
  const size_t sizes[] = {64 * 1024, 1024 * 1024};
  const SigningAlgorithm algs[] = {SigningAlgorithm::kHmacSha256,
                                   SigningAlgorithm::kAesCmac,
                                   SigningAlgorithm::kAesGmac};
  const char* names[] = {"HMAC-SHA256", "AES-CMAC", "AES-GMAC"};
  for (size_t size : sizes) {
    // A request PDU with a zero signature field, so the raw primitives over
    // the whole buffer compute exactly what the signer does.
    std::vector<uint8_t> msg(size);
    for (auto& b : msg) b = static_cast<uint8_t>(rng());
    const uint8_t proto[4] = {0xFE, 'S', 'M', 'B'};
    memcpy(msg.data(), proto, 4);
    internal::StoreLe32(0, msg.data() + kSmb2NextCommandOffset);
    internal::StoreLe32(0, msg.data() + kSmb2FlagsOffset);
    internal::StoreLe16(8, msg.data() + kSmb2CommandOffset);
    memset(msg.data() + kSmb2SignatureOffset, 0, kSmb2SignatureSize);
    uint8_t nonce[12] = {};
    memcpy(nonce, msg.data() + kSmb2MessageIdOffset, 8);
    std::vector<uint8_t> signed_msg = msg;

    for (int a = 0; a < 3; ++a) {
      std::unique_ptr<Smb2Signer> signer;
      Status s = Smb2Signer::Create(algs[a], key, sizeof(key), &signer);
      if (!s.ok()) {
        fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      RawEvpMac evp_mac;
      RawEvpGmac evp_gmac;
      GnutlsMac tls_mac;
      GnutlsGmac tls_gmac;
      bool gmac = algs[a] == SigningAlgorithm::kAesGmac;
      bool init_ok =
          gmac ? evp_gmac.Init(key) && tls_gmac.Init(key)
               : evp_mac.Init(algs[a] == SigningAlgorithm::kHmacSha256, key) &&
                     tls_mac.Init(algs[a] == SigningAlgorithm::kHmacSha256
                                      ? GNUTLS_MAC_SHA256
                                      : GNUTLS_MAC_AES_CMAC_128,
                                  key);
      if (!init_ok) {
        fprintf(stderr, "%s: backend setup failed\n", names[a]);
        return 1;
      }
      uint8_t sig_ours[16], sig_evp[16], sig_tls[16];
      auto raw_evp = [&](uint8_t* out) {
        return gmac ? evp_gmac.Run(nonce, msg.data(), size, out)
                    : evp_mac.Run(msg.data(), size, out);
      };
      auto gnutls = [&](uint8_t* out) {
        return gmac ? tls_gmac.Run(nonce, msg.data(), size, out)
                    : tls_mac.Run(msg.data(), size, out);
      };
      bool same = signer->Compute(msg.data(), size, sig_ours).ok() &&
                  raw_evp(sig_evp) && gnutls(sig_tls) &&
                  memcmp(sig_ours, sig_evp, 16) == 0 &&
                  memcmp(sig_ours, sig_tls, 16) == 0;
      if (!same) {
        fprintf(stderr, "%s: implementations disagree on the signature\n",
                names[a]);
        ++failures;
      }
      const std::function<bool()> fns[3] = {
          [&] { return signer->SignPdu(signed_msg.data(), size).ok(); },
          [&] { return raw_evp(sig_evp); },
          [&] { return gnutls(sig_tls); }};
      double best[3];
      Measure(size, fns, 3, best);
      double ours = best[0], evp = best[1], tls = best[2];
      printf("%-12s %7zuK %10.1f %10.1f %10.1f %9.3f %9.3f\n", names[a],
             size / 1024, ours, evp, tls, evp > 0 ? ours / evp : 0,
             evp > 0 ? tls / evp : 0);
    }
  }
  gnutls_global_deinit();
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace signing
}  // namespace samba_ca

int main() { return samba_ca::signing::RunBench(); }
