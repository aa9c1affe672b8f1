// Copyright (C) samba-ca authors. GPLv3+.
//
// FixedMessageDecoder's template body (included by wire.h only).

#ifndef SAMBA_CA_SMBDIRECT_WIRE_INL_H_
#define SAMBA_CA_SMBDIRECT_WIRE_INL_H_

#include <cstring>
#include <string>

namespace samba_ca {
namespace smbdirect {

template <typename Message, size_t kSize,
          Status (*Parse)(const uint8_t*, Message*)>
FixedMessageDecoder<Message, kSize, Parse>::FixedMessageDecoder(
    size_t message_length)
    : left_(message_length) {
  // 3.1.5.6 / 3.1.5.7: the message is at least kSize bytes.
  if (message_length < kSize) {
    state_ = DecodeState::kError;
    error_ =
        Status(Code::kTruncated,
               "negotiate message of " + std::to_string(message_length) +
                   " bytes, at least " + std::to_string(kSize) + " needed");
  }
}

template <typename Message, size_t kSize,
          Status (*Parse)(const uint8_t*, Message*)>
size_t FixedMessageDecoder<Message, kSize, Parse>::Consume(const uint8_t* data,
                                                           size_t len) {
  if (state_ != DecodeState::kNeedMore) {
    return 0;
  }
  size_t take = len < left_ ? len : left_;
  if (have_ < kSize) {
    size_t fixed = kSize - have_ < take ? kSize - have_ : take;
    memcpy(bytes_ + have_, data, fixed);
    have_ += fixed;
    if (have_ == kSize) {
      error_ = Parse(bytes_, &message_);
      if (!error_.ok()) {
        state_ = DecodeState::kError;
        return take;
      }
    }
  }
  left_ -= take;
  if (left_ == 0) {
    state_ = DecodeState::kDone;
  }
  return take;
}

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_WIRE_INL_H_
