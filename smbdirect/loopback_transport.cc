// Copyright (C) samba-ca authors. GPLv3+.

#include "loopback_transport.h"

#include <cstring>
#include <string>

namespace samba_ca {
namespace smbdirect {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

void LoopbackTransport::CreatePair(std::unique_ptr<LoopbackTransport>* a,
                                   std::unique_ptr<LoopbackTransport>* b) {
  a->reset(new LoopbackTransport());
  b->reset(new LoopbackTransport());
  (*a)->peer_ = b->get();
  (*b)->peer_ = a->get();
  // Different token spaces, so that a token of one side used on the
  // other is caught.
  (*b)->next_token_ = 0x51D08001;
}

LoopbackTransport::~LoopbackTransport() {
  if (peer_ != nullptr) {
    peer_->peer_ = nullptr;
    peer_->closed_ = true;
  }
}

void LoopbackTransport::Close() {
  closed_ = true;
  if (peer_ != nullptr) {
    peer_->closed_ = true;
  }
}

Status LoopbackTransport::Break(Status why) {
  Close();
  return why;
}

Status LoopbackTransport::PostReceive(uint32_t size) {
  if (closed_) {
    return Status(Code::kTransport, "post receive on a closed queue pair");
  }
  posted_.emplace_back(size);
  return Status::OK();
}

Status LoopbackTransport::Send(const uint8_t* header, size_t header_len,
                               const uint8_t* payload, size_t payload_len,
                               uint32_t invalidate_token) {
  if (closed_ || peer_ == nullptr) {
    return Status(Code::kTransport, "send on a closed queue pair");
  }
  if (peer_->posted_.empty()) {
    return Break(Status(Code::kTransport,
                        "receiver not ready: the peer posted no receive"));
  }
  std::vector<uint8_t>& buffer = peer_->posted_.front();
  size_t total = header_len + payload_len;
  if (total > buffer.size()) {
    return Break(Status(Code::kOversize, "message of " + Num(total) +
                                             " bytes into a receive of " +
                                             Num(buffer.size())));
  }
  if (invalidate_token != 0 && peer_->regions_.erase(invalidate_token) == 0) {
    return Break(Status(Code::kBadToken, "send with invalidate of token " +
                                             Num(invalidate_token) +
                                             ", not registered at the peer"));
  }
  if (header_len > 0) {
    memcpy(buffer.data(), header, header_len);
  }
  if (payload_len > 0) {
    memcpy(buffer.data() + header_len, payload, payload_len);
  }
  bytes_moved_ += total;
  buffer.resize(total);
  peer_->completed_.push_back(std::move(buffer));
  peer_->posted_.pop_front();
  return Status::OK();
}

bool LoopbackTransport::PollReceive(std::vector<uint8_t>* message) {
  if (completed_.empty()) {
    return false;
  }
  message->swap(completed_.front());
  completed_.pop_front();
  return true;
}

Status LoopbackTransport::Register(uint8_t* base, size_t len, uint32_t access,
                                   BufferDescriptorV1* out) {
  if (base == nullptr || len == 0 || len > UINT32_MAX) {
    return Status(Code::kBadSize,
                  "cannot register a region of " + Num(len) + " bytes");
  }
  uint32_t token = next_token_++;
  regions_[token] = Region{base, len, access};
  out->offset = reinterpret_cast<uintptr_t>(base);
  out->token = token;
  out->length = static_cast<uint32_t>(len);
  return Status::OK();
}

Status LoopbackTransport::Deregister(uint32_t token) {
  if (regions_.erase(token) == 0) {
    return Status(Code::kBadToken, "no region under token " + Num(token));
  }
  return Status::OK();
}

Status LoopbackTransport::Resolve(const BufferDescriptorV1& remote, size_t len,
                                  uint32_t access, uint8_t** where) {
  if (closed_ || peer_ == nullptr) {
    return Status(Code::kTransport, "RDMA on a closed queue pair");
  }
  auto it = peer_->regions_.find(remote.token);
  if (it == peer_->regions_.end()) {
    return Break(
        Status(Code::kBadToken,
               "no region under token " + Num(remote.token) + " at the peer"));
  }
  const Region& r = it->second;
  if ((r.access & access) == 0) {
    return Break(Status(Code::kAccessDenied,
                        std::string("region ") + Num(remote.token) +
                            " is not registered for remote " +
                            (access == kRemoteRead ? "read" : "write")));
  }
  uint64_t start = reinterpret_cast<uintptr_t>(r.base);
  // Bounds without overflow: offset in [start, start + len) and the
  // access's end no further than the region's.
  if (remote.offset < start || remote.offset - start > r.len ||
      len > r.len - (remote.offset - start)) {
    return Break(Status(Code::kOutOfBounds,
                        Num(len) + " bytes at offset " + Num(remote.offset) +
                            " leave region " + Num(remote.token) + " (" +
                            Num(r.len) + " bytes at " + Num(start) + ")"));
  }
  *where = r.base + (remote.offset - start);
  return Status::OK();
}

Status LoopbackTransport::RdmaWrite(const uint8_t* local, size_t len,
                                    const BufferDescriptorV1& remote) {
  uint8_t* where = nullptr;
  Status s = Resolve(remote, len, kRemoteWrite, &where);
  if (!s.ok()) {
    return s;
  }
  memcpy(where, local, len);
  bytes_moved_ += len;
  return Status::OK();
}

Status LoopbackTransport::RdmaRead(uint8_t* local, size_t len,
                                   const BufferDescriptorV1& remote) {
  uint8_t* where = nullptr;
  Status s = Resolve(remote, len, kRemoteRead, &where);
  if (!s.ok()) {
    return s;
  }
  memcpy(local, where, len);
  bytes_moved_ += len;
  return Status::OK();
}

}  // namespace smbdirect
}  // namespace samba_ca
