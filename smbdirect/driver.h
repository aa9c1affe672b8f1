// Copyright (C) samba-ca authors. GPLv3+.
//
// Joins a Connection (the engine) to a Transport: the engine's wishes go
// to the transport, the transport's completed receives to the engine,
// whole upper-layer messages to a handler.  Single-threaded; the caller
// polls and supplies the time.

#ifndef SAMBA_CA_SMBDIRECT_DRIVER_H_
#define SAMBA_CA_SMBDIRECT_DRIVER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "connection.h"
#include "transport.h"

namespace samba_ca {
namespace smbdirect {

class Driver : public ConnectionIo {
 public:
  using MessageHandler = std::function<void(const uint8_t*, size_t)>;

  Driver(Role role, const Config& config, Transport* transport);

  Connection& connection() { return connection_; }
  Transport* transport() { return transport_; }
  void set_message_handler(MessageHandler handler) {
    handler_ = std::move(handler);
  }
  // Hands every completed receive to the engine; returns how many.
  size_t Poll(uint64_t now_ms);
  bool disconnected() const { return disconnected_; }
  const Status& disconnect_reason() const { return reason_; }

  Status PostReceive(uint32_t size) override;
  Status SendMessage(const uint8_t* header, size_t header_len,
                     const uint8_t* payload, size_t payload_len,
                     uint32_t invalidate_token) override;
  void OnUpperMessage(const uint8_t* data, size_t len) override;
  void OnDisconnected(const Status& reason) override;

 private:
  Transport* const transport_;
  Connection connection_;
  MessageHandler handler_;
  bool disconnected_ = false;
  Status reason_;
  std::vector<uint8_t> receive_;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_DRIVER_H_
