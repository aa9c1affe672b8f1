// Copyright (C) samba-ca authors. GPLv3+.
//
// The SMB Direct listener's relay: one accepted SMB Direct connection
// (a Transport and the engine on it, responder side) joined to smbd.
// Once the [MS-SMBD] negotiation is done the relay connects to smbd's
// "smbd:listener socket" (patch 0018), passes it one end of a
// socketpair with the client's and server's addresses, and from then on
// moves whole SMB2 messages: each upper-layer message from the client is
// written to smbd with the 4-byte Direct-TCP length prefix ([MS-SMB2]
// 2.1), each message smbd writes is sent to the client as one upper-layer
// message (fragmented by the engine).  The relay never looks into SMB2:
// signing and encryption stay smbd's, byte for byte.
//
// Single-threaded; the caller polls Step() (with poll(2) on smbd_fd()
// when it wants to sleep) and supplies the time.

#ifndef SAMBA_CA_SMBDIRECT_RELAY_H_
#define SAMBA_CA_SMBDIRECT_RELAY_H_

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver.h"
#include "status.h"
#include "transport.h"

namespace samba_ca {
namespace smbdirect {

// The message patch 0018's smbd reads on its listener socket, with one
// file descriptor in SCM_RIGHTS.  Same host, same ABI: the layout is
// struct smbd_passed_connection in source3/smbd/server.c.
constexpr uint32_t kPassedConnectionMagic = 0x31434d53;  // "SMC1"
constexpr uint32_t kPassedTransportSmbDirect = 1;
struct PassedConnection {
  uint32_t magic;
  uint32_t transport;
  sockaddr_storage client_addr;
  sockaddr_storage server_addr;
};

// Connects to smbd's listener socket at `path` and passes it one end of a
// new socketpair (SOCK_STREAM); *fd is our end (non-blocking).
Status PassToSmbd(const std::string& path, const sockaddr_storage& client,
                  const sockaddr_storage& server, int* fd);

// CLOCK_MONOTONIC in milliseconds: the engine's time.
uint64_t NowMs();

// "1.2.3.4:445" / "[::1]:445".
std::string AddressString(const sockaddr_storage& addr);

struct RelayOptions {
  Config engine;
  std::string smbd_socket;  // smbd:listener socket
  sockaddr_storage client_addr{};
  sockaddr_storage server_addr{};
  // Fragments queued towards the client (the engine's send queue) at or
  // above which the relay stops reading from smbd until credits drain it.
  size_t max_send_queue = 1024;
};

struct RelayStats {
  uint64_t messages_to_smbd = 0;
  uint64_t messages_to_client = 0;
  uint64_t bytes_to_smbd = 0;  // SMB2 bytes, without the prefix
  uint64_t bytes_to_client = 0;
  uint64_t keepalives_dropped = 0;  // NBSS keepalives from smbd
  // Bytes towards smbd copied into the relay's buffer because smbd's
  // socket was full (the rest went from the receive buffer to the socket).
  uint64_t bytes_buffered = 0;
};

class Relay {
 public:
  using LogFn = std::function<void(const std::string&)>;

  Relay(uint64_t id, std::unique_ptr<Transport> transport, RelayOptions options,
        LogFn log);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Posts the receive for the client's negotiate request.
  Status Start(uint64_t now_ms);
  // Moves what can be moved without blocking: completed receives into the
  // engine (and whole messages towards smbd), smbd's output towards the
  // client, timers.  Returns true while the relay is alive.
  bool Step(uint64_t now_ms);
  // Ends the relay from this side (listener shutting down).
  void Stop(const Status& why);

  bool done() const { return done_; }
  // Why the connection ended (also logged, once).
  const Status& reason() const { return reason_; }
  int smbd_fd() const { return smbd_fd_; }
  bool wants_smbd_write() const { return !to_smbd_.empty(); }
  uint64_t id() const { return id_; }
  const RelayStats& stats() const { return stats_; }
  Connection& connection() { return driver_.connection(); }
  Transport* transport() { return transport_.get(); }

 private:
  void OnClientMessage(const uint8_t* data, size_t len);
  Status FlushToSmbd();
  Status ReadFromSmbd(uint64_t now_ms);
  void Finish(const Status& why);

  const uint64_t id_;
  std::unique_ptr<Transport> transport_;
  const RelayOptions options_;
  LogFn log_;
  Driver driver_;
  int smbd_fd_ = -1;
  bool done_ = false;
  Status reason_;
  Status pending_error_;
  RelayStats stats_;
  // Towards smbd: prefix + message, written as the socket takes them.
  std::deque<std::vector<uint8_t>> to_smbd_;
  size_t to_smbd_offset_ = 0;
  // From smbd: the message being read (prefix first).
  uint8_t prefix_[4] = {};
  size_t prefix_have_ = 0;
  std::vector<uint8_t> in_;
  size_t in_have_ = 0;
  bool in_body_ = false;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_RELAY_H_
