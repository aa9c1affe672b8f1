// Copyright (C) samba-ca authors. GPLv3+.

#include "status.h"

namespace samba_ca {
namespace signing {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "Invalid argument";
    case StatusCode::kTruncated:
      return "Truncated";
    case StatusCode::kMalformed:
      return "Malformed";
    case StatusCode::kAuthFailed:
      return "Authentication failed";
    case StatusCode::kCryptoError:
      return "Crypto error";
    case StatusCode::kUnsupported:
      return "Unsupported";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kServerError:
      return "Server error";
    case StatusCode::kProtocolError:
      return "Protocol error";
  }
  return "OK";
}

std::string FormatStatus(StatusCode code, std::string_view message) {
  if (code == StatusCode::kOk) return "OK";
  std::string s(StatusCodeName(code));
  s += ": ";
  s.append(message.data(), message.size());
  return s;
}

std::string Status::ToString() const { return FormatStatus(code_, message_); }

}  // namespace signing
}  // namespace samba_ca
