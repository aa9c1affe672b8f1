// Copyright (C) samba-ca authors. GPLv3+.

#include "framing.h"

#include <algorithm>

namespace samba_ca {
namespace smbclient3 {

Status EncodeFrameHeader(size_t len, uint8_t out[kFrameHeaderSize]) {
  if (len > kMaxFrameLength) {
    return Status::InvalidArgument("message of " + std::to_string(len) +
                                   " bytes does not fit a 24-bit frame");
  }
  out[0] = 0;
  out[1] = static_cast<uint8_t>(len >> 16);
  out[2] = static_cast<uint8_t>(len >> 8);
  out[3] = static_cast<uint8_t>(len);
  return Status::Ok();
}

FrameDecoder::FrameDecoder(size_t max_frame)
    : max_frame_(std::min(max_frame, kMaxFrameLength)) {}

size_t FrameDecoder::Consume(const uint8_t* data, size_t len,
                             FrameVisitor* visitor) {
  size_t used = 0;
  while (used < len && state_ != State::kError) {
    if (state_ == State::kHeader) {
      size_t take = std::min(kFrameHeaderSize - header_have_, len - used);
      std::copy(data + used, data + used + take, header_ + header_have_);
      header_have_ += take;
      used += take;
      if (header_have_ < kFrameHeaderSize) break;
      header_have_ = 0;
      if (header_[0] != 0) {
        state_ = State::kError;
        error_ = Status::Malformed("transport frame type " +
                                   std::to_string(header_[0]) +
                                   " is not a session message (0)");
        break;
      }
      body_len_ = (static_cast<size_t>(header_[1]) << 16) |
                  (static_cast<size_t>(header_[2]) << 8) | header_[3];
      if (body_len_ > max_frame_) {
        state_ = State::kError;
        error_ = Status::Malformed(
            "transport frame of " + std::to_string(body_len_) +
            " bytes exceeds the limit of " + std::to_string(max_frame_));
        break;
      }
      body_.clear();
      body_.reserve(body_len_);
      state_ = State::kBody;
    }
    if (state_ == State::kBody) {
      size_t take = std::min(body_len_ - body_.size(), len - used);
      body_.insert(body_.end(), data + used, data + used + take);
      used += take;
      if (body_.size() == body_len_) {
        state_ = State::kHeader;
        Bytes frame;
        frame.swap(body_);
        visitor->OnFrame(std::move(frame));
      }
    }
  }
  return used;
}

}  // namespace smbclient3
}  // namespace samba_ca
