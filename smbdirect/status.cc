// Copyright (C) samba-ca authors. GPLv3+.

#include "status.h"

namespace samba_ca {
namespace smbdirect {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kTruncated:
      return "truncated message";
    case Code::kBadVersion:
      return "bad version";
    case Code::kBadSize:
      return "bad size";
    case Code::kMalformed:
      return "malformed message";
    case Code::kCreditsExceeded:
      return "credits exceeded";
    case Code::kOversize:
      return "oversize message";
    case Code::kReassembly:
      return "reassembly error";
    case Code::kBadDescriptor:
      return "bad buffer descriptor";
    case Code::kOutOfBounds:
      return "outside the registered region";
    case Code::kAccessDenied:
      return "access denied";
    case Code::kBadToken:
      return "bad token";
    case Code::kTimeout:
      return "timeout";
    case Code::kInvalidState:
      return "invalid state";
    case Code::kNegotiateFailed:
      return "negotiate failed";
    case Code::kTransport:
      return "transport error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  std::string s = CodeName(code_);
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace smbdirect
}  // namespace samba_ca
