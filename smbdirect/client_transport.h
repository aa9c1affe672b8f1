// Copyright (C) samba-ca authors. GPLv3+.
//
// smbclient3's Transport over SMB Direct: the engine as initiator on a
// smbdirect::Transport.  Send() hands one SMB2 message to the engine (it
// fragments it as the credits allow), Recv() waits for the next whole
// one.  Waiting means calling `pump` (which moves whatever else must move
// in this thread, e.g. a loopback peer's relay) and polling the engine,
// until a message is there, the connection is gone or the timeout is up.

#ifndef SAMBA_CA_SMBDIRECT_CLIENT_TRANSPORT_H_
#define SAMBA_CA_SMBDIRECT_CLIENT_TRANSPORT_H_

#include <deque>
#include <functional>
#include <memory>

#include "../smbclient3/transport.h"
#include "driver.h"
#include "relay.h"      // NowMs
#include "transport.h"  // smbdirect's, found first (same directory)

namespace samba_ca {
namespace smbdirect {

class SmbDirectClientTransport : public smbclient3::Transport {
 public:
  using Pump = std::function<void()>;

  // Takes the transport, starts the negotiation and waits for it.
  static smbclient3::Status Connect(
      std::unique_ptr<smbdirect::Transport> transport, const Config& config,
      Pump pump, int timeout_ms,
      std::unique_ptr<SmbDirectClientTransport>* out);

  smbclient3::Status Send(const uint8_t* pdu, size_t len) override;
  smbclient3::Status Recv(smbclient3::Bytes* pdu) override;
  void Close() override;
  size_t max_message_size() const override;

  Connection& connection() { return driver_.connection(); }
  // Polls the engine once (and pumps): for callers that wait themselves.
  void PollOnce();

 private:
  SmbDirectClientTransport(std::unique_ptr<smbdirect::Transport> transport,
                           const Config& config, Pump pump, int timeout_ms);

  std::unique_ptr<smbdirect::Transport> transport_;
  Driver driver_;
  Pump pump_;
  int timeout_ms_;
  std::deque<smbclient3::Bytes> received_;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_CLIENT_TRANSPORT_H_
