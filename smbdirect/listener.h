// Copyright (C) samba-ca authors. GPLv3+.
//
// The SMB Direct listener's core: its smb.conf options, and the set of
// relays (relay.h) of the connections it accepted, whatever transport
// accepted them (rdma-core in samba_ca_smbdirect_listener, the loopback
// transport in the tests).  Single-threaded, like the relays.

#ifndef SAMBA_CA_SMBDIRECT_LISTENER_H_
#define SAMBA_CA_SMBDIRECT_LISTENER_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "relay.h"

namespace samba_ca {
namespace smbdirect {

// [global] "smbdirect:*" options of smb.conf (the man page
// samba_ca_smbdirect_listener.8 lists them) and smbd's
// "smbd:listener socket".
struct ListenerOptions {
  bool enable = false;
  std::vector<uint16_t> ports = {5445, 445};
  std::string smbd_socket;
  Config engine;
  ListenerOptions();
};

// Reads the options from the [global] section of the smb.conf at path.
// Unknown smbdirect: options, bad numbers and sizes the engine cannot run
// with are errors, named with their line.
Status ReadListenerOptions(const std::string& path, ListenerOptions* out);

struct ListenerCounts {
  uint64_t accepted = 0;
  uint64_t finished = 0;
};

class Listener {
 public:
  Listener(const ListenerOptions& options, Relay::LogFn log);

  // A connection a transport accepted: its relay starts at once.
  Relay* Accept(std::unique_ptr<Transport> transport,
                const sockaddr_storage& client_addr,
                const sockaddr_storage& server_addr, uint64_t now_ms);
  // Steps every relay, forgets the finished ones; returns how many live.
  size_t Step(uint64_t now_ms);
  // Sleeps in poll(2) on the relays' smbd sockets for up to timeout_ms.
  void Wait(int timeout_ms);
  // Ends every connection.
  void StopAll(const Status& why);

  // Whether connection id ended (the last 256 are remembered), and why.
  bool Ended(uint64_t id, Status* reason) const;

  const ListenerCounts& counts() const { return counts_; }
  size_t live() const { return relays_.size(); }

 private:
  const ListenerOptions options_;
  Relay::LogFn log_;
  std::list<std::unique_ptr<Relay>> relays_;
  uint64_t next_id_ = 1;
  ListenerCounts counts_;
  std::map<uint64_t, Status> ended_;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_LISTENER_H_
