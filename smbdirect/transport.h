// Copyright (C) samba-ca authors. GPLv3+.
//
// One endpoint of a reliable connected queue pair, as SMB Direct needs it
// (RDMA verbs semantics): receives are posted before a message can land,
// each send fills the oldest receive the peer posted, and memory is
// registered under a token so that the peer can RDMA-read or -write it
// by (token, offset, length).  Two implementations: LoopbackTransport
// (loopback_transport.h), in-process, for tests, and RdmaTransport
// (rdma_transport.h) over rdma-core.

#ifndef SAMBA_CA_SMBDIRECT_TRANSPORT_H_
#define SAMBA_CA_SMBDIRECT_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "status.h"
#include "wire.h"

namespace samba_ca {
namespace smbdirect {

enum Access : uint32_t {
  kLocalOnly = 0,
  kRemoteRead = 1,   // the peer may RDMA-read the region
  kRemoteWrite = 2,  // the peer may RDMA-write the region
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Posts a receive buffer of `size` bytes.
  virtual Status PostReceive(uint32_t size) = 0;
  // Sends header + payload (gathered) into the peer's oldest posted
  // receive; with a non-zero invalidate_token the peer's region under
  // that token is invalidated as the message lands (send with
  // invalidate).  Fails when the peer posted no receive or the message is
  // longer than it.
  virtual Status Send(const uint8_t* header, size_t header_len,
                      const uint8_t* payload, size_t payload_len,
                      uint32_t invalidate_token) = 0;
  // The oldest completed receive, moved into *message (its length is the
  // message's); false when none has completed.
  virtual bool PollReceive(std::vector<uint8_t>* message) = 0;

  // Registers [base, base + len) for the peer with `access`; *out gets
  // the descriptor to advertise (offset, token, length).
  virtual Status Register(uint8_t* base, size_t len, uint32_t access,
                          BufferDescriptorV1* out) = 0;
  virtual Status Deregister(uint32_t token) = 0;
  // One-sided operations on the peer's registered memory.
  virtual Status RdmaWrite(const uint8_t* local, size_t len,
                           const BufferDescriptorV1& remote) = 0;
  virtual Status RdmaRead(uint8_t* local, size_t len,
                          const BufferDescriptorV1& remote) = 0;
  virtual void Close() = 0;
  // The queue pair is gone (closed here, by the peer, or broken).
  virtual bool closed() const = 0;
};

// SMB2 READ with an RDMA channel: the server writes `len` bytes of data
// into the client's buffers, descriptor after descriptor.  SMB2 WRITE:
// the server reads them.  The descriptors must cover len exactly or more.
Status WriteToDescriptors(Transport* t, const uint8_t* data, size_t len,
                          const std::vector<BufferDescriptorV1>& list);
Status ReadFromDescriptors(Transport* t, uint8_t* data, size_t len,
                           const std::vector<BufferDescriptorV1>& list);

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_TRANSPORT_H_
