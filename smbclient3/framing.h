// Copyright (C) samba-ca authors. GPLv3+.
//
// The 4-byte Direct-TCP transport header of SMB2 over port 445 ([MS-SMB2]
// 2.1): a zero byte and a 24-bit big-endian length before every message.
// FrameDecoder is resumable in QUICHE's manner: an explicit state, bytes fed
// in any split through Consume(), which returns how many it used, and a
// visitor that receives each whole message. No I/O.

#ifndef SAMBA_CA_SMBCLIENT3_FRAMING_H_
#define SAMBA_CA_SMBCLIENT3_FRAMING_H_

#include <cstddef>
#include <cstdint>

#include "client_status.h"
#include "wire.h"

namespace samba_ca {
namespace smbclient3 {

constexpr size_t kFrameHeaderSize = 4;
constexpr size_t kMaxFrameLength = 0x00FFFFFF;

// Writes the header for a message of `len` bytes; fails when len does not
// fit in 24 bits.
Status EncodeFrameHeader(size_t len, uint8_t out[kFrameHeaderSize]);

class FrameVisitor {
 public:
  virtual ~FrameVisitor() = default;
  // One whole message, without its 4-byte header. The visitor may keep it.
  virtual void OnFrame(Bytes frame) = 0;
};

class FrameDecoder {
 public:
  enum class State { kHeader, kBody, kError };

  // Frames longer than max_frame (at most kMaxFrameLength) are refused:
  // the client never asks for more than its negotiated sizes.
  explicit FrameDecoder(size_t max_frame = kMaxFrameLength);

  // Feeds bytes. Every complete frame goes to `visitor`. Returns the number
  // of bytes used: all of them, unless the stream turned bad (then state()
  // is kError, error() says why and nothing more is accepted).
  size_t Consume(const uint8_t* data, size_t len, FrameVisitor* visitor);

  State state() const { return state_; }
  const Status& error() const { return error_; }
  // True between frames: no partial header or body is held.
  bool at_boundary() const {
    return state_ == State::kHeader && header_have_ == 0;
  }

 private:
  size_t max_frame_;
  State state_ = State::kHeader;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_have_ = 0;
  size_t body_len_ = 0;
  Bytes body_;
  Status error_;
};

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_FRAMING_H_
