// Copyright (C) samba-ca authors. GPLv3+.
//
// Status: the error value returned by every fallible call in signing/.
// Modelled on LevelDB's Status: cheap when OK, a code plus a short message
// otherwise. No exceptions cross the library's API. The codes and their
// names are shared with smbclient3/'s Status, which adds an owned message
// and an NTSTATUS.

#ifndef SAMBA_CA_SIGNING_STATUS_H_
#define SAMBA_CA_SIGNING_STATUS_H_

#include <string>
#include <string_view>

namespace samba_ca {
namespace signing {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something unusable (key size...)
  kTruncated,        // input shorter than the structure it must hold
  kMalformed,        // input of the right size but inconsistent fields
  kAuthFailed,       // signature or AEAD tag does not match
  kCryptoError,      // the OpenSSL layer failed
  // Only smbclient3/ returns these.
  kUnsupported,    // a dialect, algorithm or feature we do not speak
  kIoError,        // the transport failed or the peer closed
  kServerError,    // the server answered with a failing NTSTATUS
  kProtocolError,  // a well-formed answer that breaks the protocol
};

// "OK", "Invalid argument", "Truncated", ...: the prefix of ToString().
const char* StatusCodeName(StatusCode code);

// "<name of code>: <message>", or "OK" for kOk.
std::string FormatStatus(StatusCode code, std::string_view message);

class Status {
 public:
  using Code = StatusCode;

  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(const char* msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Truncated(const char* msg) {
    return Status(Code::kTruncated, msg);
  }
  static Status Malformed(const char* msg) {
    return Status(Code::kMalformed, msg);
  }
  static Status AuthFailed(const char* msg) {
    return Status(Code::kAuthFailed, msg);
  }
  static Status CryptoError(const char* msg) {
    return Status(Code::kCryptoError, msg);
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsTruncated() const { return code_ == Code::kTruncated; }
  bool IsMalformed() const { return code_ == Code::kMalformed; }
  bool IsAuthFailed() const { return code_ == Code::kAuthFailed; }
  bool IsCryptoError() const { return code_ == Code::kCryptoError; }

  // The message is a static string: statuses are built on hot paths (every
  // failed verification) and must not allocate.
  const char* message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, const char* msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  const char* message_ = "";
};

}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_STATUS_H_
