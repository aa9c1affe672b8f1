// Copyright (C) samba-ca authors. GPLv3+.

#include "client_transport.h"

#include <time.h>

namespace samba_ca {
namespace smbdirect {

SmbDirectClientTransport::SmbDirectClientTransport(
    std::unique_ptr<smbdirect::Transport> transport, const Config& config,
    Pump pump, int timeout_ms)
    : transport_(std::move(transport)),
      driver_(Role::kInitiator, config, transport_.get()),
      pump_(std::move(pump)),
      timeout_ms_(timeout_ms) {
  driver_.set_message_handler([this](const uint8_t* data, size_t len) {
    received_.emplace_back(data, data + len);
  });
}

smbclient3::Status SmbDirectClientTransport::Connect(
    std::unique_ptr<smbdirect::Transport> transport, const Config& config,
    Pump pump, int timeout_ms, std::unique_ptr<SmbDirectClientTransport>* out) {
  std::unique_ptr<SmbDirectClientTransport> t(new SmbDirectClientTransport(
      std::move(transport), config, std::move(pump), timeout_ms));
  Status s = t->connection().Start(NowMs());
  if (!s.ok()) {
    return smbclient3::Status::IoError("SMB Direct: " + s.ToString());
  }
  const uint64_t deadline = NowMs() + uint64_t(timeout_ms);
  while (t->connection().state() == State::kNegotiating) {
    t->PollOnce();
    if (NowMs() > deadline) {
      return smbclient3::Status::IoError("SMB Direct: negotiate timed out");
    }
  }
  if (t->connection().state() != State::kEstablished) {
    return smbclient3::Status::IoError(
        "SMB Direct: negotiate failed: " +
        t->driver_.disconnect_reason().ToString());
  }
  *out = std::move(t);
  return smbclient3::Status::Ok();
}

void SmbDirectClientTransport::PollOnce() {
  if (pump_) {
    pump_();
  }
  const uint64_t now = NowMs();
  driver_.Poll(now);
  if (!driver_.disconnected()) {
    driver_.connection().OnTimer(now);
  }
}

smbclient3::Status SmbDirectClientTransport::Send(const uint8_t* pdu,
                                                  size_t len) {
  if (driver_.disconnected()) {
    return smbclient3::Status::IoError("SMB Direct: " +
                                       driver_.disconnect_reason().ToString());
  }
  Status s = driver_.connection().SendUpper(
      std::vector<uint8_t>(pdu, pdu + len), NowMs());
  if (!s.ok()) {
    return smbclient3::Status::IoError("SMB Direct send: " + s.ToString());
  }
  return smbclient3::Status::Ok();
}

smbclient3::Status SmbDirectClientTransport::Recv(smbclient3::Bytes* pdu) {
  const uint64_t deadline = NowMs() + uint64_t(timeout_ms_);
  while (received_.empty()) {
    if (driver_.disconnected()) {
      return smbclient3::Status::IoError(
          "SMB Direct: " + driver_.disconnect_reason().ToString());
    }
    if (NowMs() > deadline) {
      return smbclient3::Status::IoError("SMB Direct: receive timed out");
    }
    PollOnce();
  }
  *pdu = std::move(received_.front());
  received_.pop_front();
  return smbclient3::Status::Ok();
}

void SmbDirectClientTransport::Close() {
  driver_.connection().Disconnect(
      Status(Code::kTransport, "closed by the client"));
}

size_t SmbDirectClientTransport::max_message_size() const {
  return const_cast<Driver&>(driver_).connection().max_fragmented_send_size();
}

}  // namespace smbdirect
}  // namespace samba_ca
