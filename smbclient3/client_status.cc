// Copyright (C) samba-ca authors. GPLv3+.

#include "client_status.h"

#include <cstdio>

namespace samba_ca {
namespace smbclient3 {

Status Status::FromSigning(const signing::Status& s, const char* what) {
  std::string msg(what);
  msg += ": ";
  msg += s.message();
  switch (s.code()) {
    case signing::Status::Code::kOk:
      return Status::Ok();
    case signing::Status::Code::kAuthFailed:
      return AuthFailed(std::move(msg));
    case signing::Status::Code::kTruncated:
      return Truncated(std::move(msg));
    case signing::Status::Code::kMalformed:
      return Malformed(std::move(msg));
    case signing::Status::Code::kInvalidArgument:
      return InvalidArgument(std::move(msg));
    case signing::Status::Code::kCryptoError:
      break;
  }
  return Status(Code::kProtocolError, "crypto error: " + msg);
}

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
    case Code::kUnsupported:
      name = "Unsupported";
      break;
    case Code::kAuthFailed:
      name = "Authentication failed";
      break;
    case Code::kIoError:
      name = "I/O error";
      break;
    case Code::kServerError: {
      char buf[32];
      snprintf(buf, sizeof(buf), "NTSTATUS 0x%08x", ntstatus_);
      return std::string(buf) + ": " + message_;
    }
    case Code::kProtocolError:
      name = "Protocol error";
      break;
  }
  std::string s(name);
  s += ": ";
  s += message_;
  return s;
}

}  // namespace smbclient3
}  // namespace samba_ca
