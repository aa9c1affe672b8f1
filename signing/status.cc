// Copyright (C) samba-ca authors. GPLv3+.

#include "status.h"

namespace samba_ca {
namespace signing {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      name = "Invalid argument";
      break;
    case Code::kTruncated:
      name = "Truncated";
      break;
    case Code::kMalformed:
      name = "Malformed";
      break;
    case Code::kAuthFailed:
      name = "Authentication failed";
      break;
    case Code::kCryptoError:
      name = "Crypto error";
      break;
  }
  std::string s(name);
  s += ": ";
  s += message_;
  return s;
}

}  // namespace signing
}  // namespace samba_ca
