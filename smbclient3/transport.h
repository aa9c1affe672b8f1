// Copyright (C) samba-ca authors. GPLv3+.
//
// The message-oriented transport under the client: Send() one SMB2 message
// (or transform message), Recv() the next whole one. TCP with the 4-byte
// Direct-TCP framing is the implementation here; SMB Direct (smbdirect/)
// will be another one behind the same interface.

#ifndef SAMBA_CA_SMBCLIENT3_TRANSPORT_H_
#define SAMBA_CA_SMBCLIENT3_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "client_status.h"
#include "framing.h"
#include "wire.h"

namespace samba_ca {
namespace smbclient3 {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status Send(const uint8_t* pdu, size_t len) = 0;
  virtual Status Recv(Bytes* pdu) = 0;
  // Drops the connection at once (no logoff): what a failing network does.
  virtual void Close() = 0;
  // Largest message the transport carries.
  virtual size_t max_message_size() const = 0;
};

class TcpTransport : public Transport, private FrameVisitor {
 public:
  // Connects to host:port (IPv4 or IPv6 literal or name) within timeout_ms.
  static Status Connect(const std::string& host, uint16_t port, int timeout_ms,
                        std::unique_ptr<TcpTransport>* out);
  ~TcpTransport() override;

  Status Send(const uint8_t* pdu, size_t len) override;
  Status Recv(Bytes* pdu) override;
  void Close() override;
  size_t max_message_size() const override { return kMaxFrameLength; }

  void set_recv_timeout_ms(int ms) { recv_timeout_ms_ = ms; }

 private:
  explicit TcpTransport(int fd) : fd_(fd) {}
  void OnFrame(Bytes frame) override { frames_.push_back(std::move(frame)); }

  int fd_;
  int recv_timeout_ms_ = 60000;
  FrameDecoder decoder_;
  std::deque<Bytes> frames_;
};

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_TRANSPORT_H_
