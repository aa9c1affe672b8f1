// A result of a core operation: a pcore_status code plus a sentence saying
// what exactly failed ("record truncated at lock 3").  Cheap when OK.
#ifndef SAMBA_CA_PERSISTENT_STATUS_H
#define SAMBA_CA_PERSISTENT_STATUS_H

#include <string>
#include <utility>

#include "persistent_core.h"

namespace samba_ca {
namespace persistent {

class Status {
 public:
  Status() = default;
  Status(pcore_status code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status Corrupt(std::string message) {
    return Status(PCORE_CORRUPT_RECORD, std::move(message));
  }
  static Status Invalid(std::string message) {
    return Status(PCORE_INVALID_PARAMETER, std::move(message));
  }

  bool ok() const { return code_ == PCORE_OK; }
  pcore_status code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<status string>: <message>", or the status string alone.
  std::string ToString() const;

 private:
  pcore_status code_ = PCORE_OK;
  std::string message_;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_STATUS_H
