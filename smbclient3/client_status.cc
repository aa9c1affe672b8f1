// Copyright (C) samba-ca authors. GPLv3+.

#include "client_status.h"

#include <cstdio>

namespace samba_ca {
namespace smbclient3 {

Status Status::FromSigning(const signing::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  std::string msg(what);
  msg += ": ";
  msg += s.message();
  if (s.IsCryptoError()) {
    return Status(Code::kProtocolError, "crypto error: " + msg);
  }
  return Status(s.code(), std::move(msg));
}

std::string Status::ToString() const {
  if (code_ == Code::kServerError) {
    char buf[32];
    snprintf(buf, sizeof(buf), "NTSTATUS 0x%08x", ntstatus_);
    return std::string(buf) + ": " + message_;
  }
  return signing::FormatStatus(code_, message_);
}

}  // namespace smbclient3
}  // namespace samba_ca
