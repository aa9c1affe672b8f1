// Copyright (C) samba-ca authors. GPLv3+.
//
// The Transport over rdma-core: an RC queue pair set up with librdmacm in
// the RDMA CM's TCP port space (RDMA_PS_TCP: SMB Direct's 5445 and 445),
// memory registration and the verbs of libibverbs.
//
// State, plainly: this file is built on every build but has never run:
// the machines it was written on have no RDMA device (not even soft-RoCE:
// that needs the rdma_rxe kernel module).  Its first run is planned in
// the test VM with rxe (docs/smbdirect.md).  Until then nothing may rely
// on it; ProbeDevices() says whether it can run at all.
//
// Deliberately simple, not fast: every operation waits for its own
// completion; a send copies header and payload into a registered buffer
// (the transport's one copy); RDMA read and write register the local
// buffer for the one operation.  The listener will keep smbd's buffers
// registered instead.

#ifndef SAMBA_CA_SMBDIRECT_RDMA_TRANSPORT_H_
#define SAMBA_CA_SMBDIRECT_RDMA_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport.h"

struct rdma_cm_id;
struct sockaddr_storage;
struct rdma_event_channel;
struct ibv_pd;
struct ibv_cq;
struct ibv_mr;
struct ibv_send_wr;

namespace samba_ca {
namespace smbdirect {

// OK with the device names when this host has an RDMA device, else
// kTransport saying so.
Status ProbeRdmaDevices(std::string* names);

class RdmaTransport : public Transport {
 public:
  ~RdmaTransport() override;
  // Connects to host:port (an IPv4 address).
  static Status Connect(const char* host, uint16_t port,
                        std::unique_ptr<RdmaTransport>* out);

  Status PostReceive(uint32_t size) override;
  Status Send(const uint8_t* header, size_t header_len, const uint8_t* payload,
              size_t payload_len, uint32_t invalidate_token) override;
  bool PollReceive(std::vector<uint8_t>* message) override;
  Status Register(uint8_t* base, size_t len, uint32_t access,
                  BufferDescriptorV1* out) override;
  Status Deregister(uint32_t token) override;
  Status RdmaWrite(const uint8_t* local, size_t len,
                   const BufferDescriptorV1& remote) override;
  Status RdmaRead(uint8_t* local, size_t len,
                  const BufferDescriptorV1& remote) override;
  void Close() override;
  bool closed() const override { return closed_; }
  // The peer's and our address of the connection (RDMA CM's, IP-based).
  void Addresses(sockaddr_storage* peer, sockaddr_storage* local) const;

 private:
  friend class RdmaListener;
  struct Receive {
    std::vector<uint8_t> buffer;
    ibv_mr* mr = nullptr;
  };
  RdmaTransport() = default;
  // Protection domain, completion queue and RC queue pair on id_.
  Status CreateQueuePair();
  // Polls until the work request wr_id completes; receive completions
  // met on the way are kept for PollReceive.
  Status WaitFor(uint64_t wr_id);
  Status PollOnce(uint64_t wait_for, bool* found);
  // Posts *wr (signalled) over [addr, addr + len) registered as mr,
  // waits for it, and deregisters mr if asked to.
  Status PostAndWait(ibv_send_wr* wr, void* addr, size_t len, ibv_mr* mr,
                     bool deregister = true);
  Status OneSided(int opcode, uint8_t* local, size_t len,
                  const BufferDescriptorV1& remote);

  rdma_event_channel* channel_ = nullptr;
  rdma_cm_id* id_ = nullptr;
  ibv_pd* pd_ = nullptr;
  ibv_cq* cq_ = nullptr;
  bool qp_ = false;
  bool closed_ = false;
  uint64_t next_wr_id_ = 1;
  std::map<uint64_t, Receive> receives_;  // posted, by wr_id
  std::deque<std::vector<uint8_t>> completed_;
  std::map<uint32_t, ibv_mr*> regions_;  // by rkey
  std::vector<uint8_t> send_buffer_;     // registered once, as send_mr_
  ibv_mr* send_mr_ = nullptr;
};

// Listens in the RDMA CM port space and accepts connections.
class RdmaListener {
 public:
  ~RdmaListener();
  static Status Listen(uint16_t port, std::unique_ptr<RdmaListener>* out);
  // Waits for the next connection request and accepts it.
  Status Accept(std::unique_ptr<RdmaTransport>* out);

 private:
  RdmaListener() = default;
  rdma_event_channel* channel_ = nullptr;
  rdma_cm_id* id_ = nullptr;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_RDMA_TRANSPORT_H_
