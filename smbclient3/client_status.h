// Copyright (C) samba-ca authors. GPLv3+.
//
// Status: the error value of every fallible call in smbclient3/. LevelDB
// style: a code plus a message; a server error also carries its NTSTATUS.
// The codes and their names are signing::StatusCode's. Unlike
// signing::Status the message is an owned string: the client builds errors
// off the hot path and wants them to say which PDU and field failed.

#ifndef SAMBA_CA_SMBCLIENT3_CLIENT_STATUS_H_
#define SAMBA_CA_SMBCLIENT3_CLIENT_STATUS_H_

#include <cstdint>
#include <string>

#include "smb3_crypto.h"  // signing/, found through -I../signing

namespace samba_ca {
namespace smbclient3 {

class Status {
 public:
  using Code = signing::StatusCode;

  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Truncated(std::string msg) {
    return Status(Code::kTruncated, std::move(msg));
  }
  static Status Malformed(std::string msg) {
    return Status(Code::kMalformed, std::move(msg));
  }
  static Status Unsupported(std::string msg) {
    return Status(Code::kUnsupported, std::move(msg));
  }
  static Status AuthFailed(std::string msg) {
    return Status(Code::kAuthFailed, std::move(msg));
  }
  static Status IoError(std::string msg) {
    return Status(Code::kIoError, std::move(msg));
  }
  static Status ProtocolError(std::string msg) {
    return Status(Code::kProtocolError, std::move(msg));
  }
  static Status ServerError(uint32_t ntstatus, std::string msg) {
    Status s(Code::kServerError, std::move(msg));
    s.ntstatus_ = ntstatus;
    return s;
  }
  // Maps a signing/ error, prefixing what was being done.
  static Status FromSigning(const signing::Status& s, const char* what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsTruncated() const { return code_ == Code::kTruncated; }
  bool IsMalformed() const { return code_ == Code::kMalformed; }
  bool IsUnsupported() const { return code_ == Code::kUnsupported; }
  bool IsAuthFailed() const { return code_ == Code::kAuthFailed; }
  bool IsIoError() const { return code_ == Code::kIoError; }
  bool IsServerError() const { return code_ == Code::kServerError; }
  bool IsProtocolError() const { return code_ == Code::kProtocolError; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  uint32_t ntstatus() const { return ntstatus_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  uint32_t ntstatus_ = 0;
  std::string message_;
};

// Returns early from the enclosing function with a failing Status.
#define SCA_RETURN_IF_ERROR(expr)                \
  do {                                           \
    ::samba_ca::smbclient3::Status _st = (expr); \
    if (!_st.ok()) return _st;                   \
  } while (0)

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_CLIENT_STATUS_H_
