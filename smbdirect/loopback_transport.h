// Copyright (C) samba-ca authors. GPLv3+.
//
// An in-process queue pair with RDMA's rules, for tests of everything
// above the transport on a machine without RDMA: a send needs a receive
// posted by the peer and no longer than it (else the pair breaks, as an
// RC QP goes to the error state on receiver-not-ready or a length
// error); RDMA read and write reach only registered regions, within
// their bounds, with the access they were registered for, under a token
// that was not invalidated.  Its memcpy stands for the NIC's DMA and is
// counted, so tests can state what the layers above copy on top.

#ifndef SAMBA_CA_SMBDIRECT_LOOPBACK_TRANSPORT_H_
#define SAMBA_CA_SMBDIRECT_LOOPBACK_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "transport.h"

namespace samba_ca {
namespace smbdirect {

class LoopbackTransport : public Transport {
 public:
  // Two connected endpoints.
  static void CreatePair(std::unique_ptr<LoopbackTransport>* a,
                         std::unique_ptr<LoopbackTransport>* b);
  ~LoopbackTransport() override;

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
  size_t posted_receives() const { return posted_.size(); }
  // Bytes this endpoint's operations moved (the "DMA" copies).
  uint64_t bytes_moved() const { return bytes_moved_; }

 private:
  struct Region {
    uint8_t* base = nullptr;
    size_t len = 0;
    uint32_t access = 0;
  };
  LoopbackTransport() = default;
  // Breaks the pair: both ends closed, as an RC QP in the error state.
  Status Break(Status why);
  // The peer's region for an access of len bytes at remote.offset.
  Status Resolve(const BufferDescriptorV1& remote, size_t len, uint32_t access,
                 uint8_t** where);

  LoopbackTransport* peer_ = nullptr;
  bool closed_ = false;
  std::deque<std::vector<uint8_t>> posted_;     // buffers, sized
  std::deque<std::vector<uint8_t>> completed_;  // resized to the message
  std::map<uint32_t, Region> regions_;
  uint32_t next_token_ = 0x51D00001;
  uint64_t bytes_moved_ = 0;
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_LOOPBACK_TRANSPORT_H_
