// Copyright (C) samba-ca authors. GPLv3+.
//
// RAII owners for OpenSSL objects. Internal to signing/; not installed.

#ifndef SAMBA_CA_SIGNING_EVP_UTIL_H_
#define SAMBA_CA_SIGNING_EVP_UTIL_H_

#include <openssl/evp.h>

#include <memory>

namespace samba_ca {
namespace signing {
namespace internal {

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct MacDeleter {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct CipherDeleter {
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct MdDeleter {
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};

using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using MdPtr = std::unique_ptr<EVP_MD, MdDeleter>;

}  // namespace internal
}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_EVP_UTIL_H_
