// Copyright (C) samba-ca authors. GPLv3+.

#include "driver.h"

namespace samba_ca {
namespace smbdirect {

Driver::Driver(Role role, const Config& config, Transport* transport)
    : transport_(transport), connection_(role, config, this) {}

size_t Driver::Poll(uint64_t now_ms) {
  size_t n = 0;
  while (!disconnected_ && transport_->PollReceive(&receive_)) {
    connection_.OnReceive(receive_.data(), receive_.size(), now_ms);
    n++;
  }
  // A broken queue pair ends the connection (on RDMA: an error
  // completion or a CM disconnect event).
  if (!disconnected_ && transport_->closed()) {
    connection_.Disconnect(
        Status(Code::kTransport, "the queue pair closed or broke"));
  }
  return n;
}

Status Driver::PostReceive(uint32_t size) {
  return transport_->PostReceive(size);
}

Status Driver::SendMessage(const uint8_t* header, size_t header_len,
                           const uint8_t* payload, size_t payload_len,
                           uint32_t invalidate_token) {
  return transport_->Send(header, header_len, payload, payload_len,
                          invalidate_token);
}

void Driver::OnUpperMessage(const uint8_t* data, size_t len) {
  if (handler_) {
    handler_(data, len);
  }
}

void Driver::OnDisconnected(const Status& reason) {
  disconnected_ = true;
  reason_ = reason;
  transport_->Close();
}

}  // namespace smbdirect
}  // namespace samba_ca
