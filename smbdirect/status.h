// Copyright (C) samba-ca authors. GPLv3+.
//
// Status: the one error value of smbdirect/ (LevelDB style): a code that
// says what kind of rule was broken and a sentence that says which
// ("data transfer: DataOffset 21 is not 8-byte aligned").  Every reason a
// connection is dropped is one of these, so the listener can log it.

#ifndef SAMBA_CA_SMBDIRECT_STATUS_H_
#define SAMBA_CA_SMBDIRECT_STATUS_H_

#include <string>
#include <utility>

namespace samba_ca {
namespace smbdirect {

enum class Code {
  kOk = 0,
  kTruncated,        // shorter than the message it must hold
  kBadVersion,       // no protocol version in common (0x0100)
  kBadSize,          // a size or count below the minimum, zero or too big
  kMalformed,        // fields that contradict each other
  kCreditsExceeded,  // a message arrived without a credit granted for it
  kOversize,         // longer than the negotiated maximum
  kReassembly,       // fragments that do not add up to one message
  kBadDescriptor,    // a buffer descriptor list that cannot be used
  kOutOfBounds,      // an RDMA access outside its registered region
  kAccessDenied,     // an RDMA access the region was not registered for
  kBadToken,         // no registered region under this token
  kTimeout,          // the peer was silent for too long
  kInvalidState,     // the call does not fit the connection's state
  kNegotiateFailed,  // the peer refused the negotiation (Status != 0)
  kTransport,        // the transport failed (no device, peer gone...)
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}
  static Status OK() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_STATUS_H_
