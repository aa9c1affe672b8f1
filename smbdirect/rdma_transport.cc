// Copyright (C) samba-ca authors. GPLv3+.
//
// Built always, never run yet: see rdma_transport.h.

#include "rdma_transport.h"

#include <arpa/inet.h>
#include <infiniband/verbs.h>
#include <netinet/in.h>
#include <rdma/rdma_cma.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace samba_ca {
namespace smbdirect {

namespace {

constexpr int kTimeoutMs = 5000;
constexpr int kQueueDepth = 256;  // receive_credit_max and then some
constexpr int kReadDepth = 16;    // RDMA reads in flight (responder/initiator)

Status Errno(const char* what) {
  return Status(Code::kTransport, std::string(what) + ": " + strerror(errno));
}

Status WaitEvent(rdma_event_channel* channel, rdma_cm_event_type expected,
                 rdma_cm_id** new_id) {
  rdma_cm_event* event = nullptr;
  if (rdma_get_cm_event(channel, &event) != 0) {
    return Errno("rdma_get_cm_event");
  }
  rdma_cm_event_type got = event->event;
  int status = event->status;
  if (new_id != nullptr) {
    *new_id = event->id;
  }
  rdma_ack_cm_event(event);
  if (got != expected) {
    return Status(Code::kTransport, std::string("RDMA CM: expected ") +
                                        rdma_event_str(expected) + ", got " +
                                        rdma_event_str(got) + " (status " +
                                        std::to_string(status) + ")");
  }
  return Status::OK();
}

rdma_conn_param ConnParam() {
  rdma_conn_param p;
  memset(&p, 0, sizeof(p));
  p.responder_resources = kReadDepth;
  p.initiator_depth = kReadDepth;
  p.retry_count = 7;
  p.rnr_retry_count = 7;
  return p;
}

}  // namespace

Status ProbeRdmaDevices(std::string* names) {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list == nullptr) {
    return Status(Code::kTransport,
                  std::string("no RDMA device on this host: "
                              "ibv_get_device_list: ") +
                      strerror(errno) +
                      " (no RDMA support loaded in this kernel)");
  }
  names->clear();
  for (int i = 0; i < n; ++i) {
    if (!names->empty()) {
      *names += " ";
    }
    *names += ibv_get_device_name(list[i]);
  }
  ibv_free_device_list(list);
  if (n == 0) {
    return Status(Code::kTransport,
                  "no RDMA device on this host (ibv_get_device_list found "
                  "none; soft-RoCE needs the rdma_rxe module and "
                  "`rdma link add`)");
  }
  return Status::OK();
}

RdmaTransport::~RdmaTransport() { Close(); }

void RdmaTransport::Close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (id_ != nullptr) {
    rdma_disconnect(id_);
  }
  for (auto& r : regions_) {
    ibv_dereg_mr(r.second);
  }
  regions_.clear();
  for (auto& r : receives_) {
    ibv_dereg_mr(r.second.mr);
  }
  receives_.clear();
  if (send_mr_ != nullptr) {
    ibv_dereg_mr(send_mr_);
    send_mr_ = nullptr;
  }
  if (qp_) {
    rdma_destroy_qp(id_);
  }
  if (cq_ != nullptr) {
    ibv_destroy_cq(cq_);
  }
  if (pd_ != nullptr) {
    ibv_dealloc_pd(pd_);
  }
  if (id_ != nullptr) {
    rdma_destroy_id(id_);
  }
  if (channel_ != nullptr) {
    rdma_destroy_event_channel(channel_);
  }
}

Status RdmaTransport::CreateQueuePair() {
  pd_ = ibv_alloc_pd(id_->verbs);
  if (pd_ == nullptr) {
    return Errno("ibv_alloc_pd");
  }
  cq_ = ibv_create_cq(id_->verbs, 2 * kQueueDepth, nullptr, nullptr, 0);
  if (cq_ == nullptr) {
    return Errno("ibv_create_cq");
  }
  ibv_qp_init_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.send_cq = cq_;
  attr.recv_cq = cq_;
  attr.qp_type = IBV_QPT_RC;
  attr.cap.max_send_wr = kQueueDepth;
  attr.cap.max_recv_wr = kQueueDepth;
  attr.cap.max_send_sge = 1;
  attr.cap.max_recv_sge = 1;
  if (rdma_create_qp(id_, pd_, &attr) != 0) {
    return Errno("rdma_create_qp");
  }
  qp_ = true;
  return Status::OK();
}

Status RdmaTransport::Connect(const char* host, uint16_t port,
                              std::unique_ptr<RdmaTransport>* out) {
  std::unique_ptr<RdmaTransport> t(new RdmaTransport());
  sockaddr_in dst;
  memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
    return Status(Code::kTransport,
                  std::string("not an IPv4 address: ") + host);
  }
  t->channel_ = rdma_create_event_channel();
  if (t->channel_ == nullptr) {
    return Errno("rdma_create_event_channel");
  }
  if (rdma_create_id(t->channel_, &t->id_, nullptr, RDMA_PS_TCP) != 0) {
    return Errno("rdma_create_id");
  }
  if (rdma_resolve_addr(t->id_, nullptr, reinterpret_cast<sockaddr*>(&dst),
                        kTimeoutMs) != 0) {
    return Errno("rdma_resolve_addr");
  }
  Status s = WaitEvent(t->channel_, RDMA_CM_EVENT_ADDR_RESOLVED, nullptr);
  if (!s.ok()) {
    return s;
  }
  if (rdma_resolve_route(t->id_, kTimeoutMs) != 0) {
    return Errno("rdma_resolve_route");
  }
  s = WaitEvent(t->channel_, RDMA_CM_EVENT_ROUTE_RESOLVED, nullptr);
  if (!s.ok()) {
    return s;
  }
  s = t->CreateQueuePair();
  if (!s.ok()) {
    return s;
  }
  rdma_conn_param param = ConnParam();
  if (rdma_connect(t->id_, &param) != 0) {
    return Errno("rdma_connect");
  }
  s = WaitEvent(t->channel_, RDMA_CM_EVENT_ESTABLISHED, nullptr);
  if (!s.ok()) {
    return s;
  }
  *out = std::move(t);
  return Status::OK();
}

Status RdmaTransport::PostReceive(uint32_t size) {
  if (closed_) {
    return Status(Code::kTransport, "post receive on a closed queue pair");
  }
  Receive r;
  r.buffer.resize(size);
  r.mr = ibv_reg_mr(pd_, r.buffer.data(), size, IBV_ACCESS_LOCAL_WRITE);
  if (r.mr == nullptr) {
    return Errno("ibv_reg_mr (receive)");
  }
  ibv_sge sge;
  sge.addr = reinterpret_cast<uintptr_t>(r.buffer.data());
  sge.length = size;
  sge.lkey = r.mr->lkey;
  ibv_recv_wr wr;
  memset(&wr, 0, sizeof(wr));
  wr.wr_id = next_wr_id_++;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (ibv_post_recv(id_->qp, &wr, &bad) != 0) {
    ibv_dereg_mr(r.mr);
    return Errno("ibv_post_recv");
  }
  receives_[wr.wr_id] = std::move(r);
  return Status::OK();
}

Status RdmaTransport::PollOnce(uint64_t wait_for, bool* found) {
  ibv_wc wc;
  int n = ibv_poll_cq(cq_, 1, &wc);
  if (n < 0) {
    return Errno("ibv_poll_cq");
  }
  if (n == 0) {
    return Status::OK();
  }
  if (wc.status != IBV_WC_SUCCESS) {
    Status s(Code::kTransport, std::string("work request failed: ") +
                                   ibv_wc_status_str(wc.status));
    Close();
    return s;
  }
  if (wc.opcode == IBV_WC_RECV) {
    auto it = receives_.find(wc.wr_id);
    if (it != receives_.end()) {
      ibv_dereg_mr(it->second.mr);
      it->second.buffer.resize(wc.byte_len);
      completed_.push_back(std::move(it->second.buffer));
      receives_.erase(it);
    }
  }
  if (wc.wr_id == wait_for) {
    *found = true;
  }
  return Status::OK();
}

Status RdmaTransport::WaitFor(uint64_t wr_id) {
  bool found = false;
  while (!found) {
    if (closed_) {
      return Status(Code::kTransport, "queue pair closed while waiting");
    }
    Status s = PollOnce(wr_id, &found);
    if (!s.ok()) {
      return s;
    }
    if (!found) {
      // Soft-RoCE completes the work in the kernel, on these same CPUs:
      // give it the CPU rather than spin.
      sched_yield();
    }
  }
  return Status::OK();
}

bool RdmaTransport::PollReceive(std::vector<uint8_t>* message) {
  bool unused = false;
  while (!closed_ && completed_.empty()) {
    size_t before = completed_.size();
    if (!PollOnce(0, &unused).ok() || completed_.size() == before) {
      break;
    }
  }
  if (completed_.empty()) {
    return false;
  }
  message->swap(completed_.front());
  completed_.pop_front();
  return true;
}

Status RdmaTransport::Send(const uint8_t* header, size_t header_len,
                           const uint8_t* payload, size_t payload_len,
                           uint32_t invalidate_token) {
  if (closed_) {
    return Status(Code::kTransport, "send on a closed queue pair");
  }
  // The transport's one copy: into the registered send buffer, registered
  // once (and again only when a longer message comes); each send waits
  // for its completion, so one buffer serves them all.
  const size_t len = header_len + payload_len;
  if (send_mr_ == nullptr || send_buffer_.size() < len) {
    if (send_mr_ != nullptr) {
      ibv_dereg_mr(send_mr_);
      send_mr_ = nullptr;
    }
    send_buffer_.assign(std::max<size_t>(len, 4096), 0);
    send_mr_ = ibv_reg_mr(pd_, send_buffer_.data(), send_buffer_.size(), 0);
    if (send_mr_ == nullptr) {
      return Errno("ibv_reg_mr (send)");
    }
  }
  if (header_len > 0) {
    memcpy(send_buffer_.data(), header, header_len);
  }
  if (payload_len > 0) {
    memcpy(send_buffer_.data() + header_len, payload, payload_len);
  }
  ibv_send_wr wr;
  memset(&wr, 0, sizeof(wr));
  if (invalidate_token != 0) {
    wr.opcode = IBV_WR_SEND_WITH_INV;
    wr.invalidate_rkey = invalidate_token;
  } else {
    wr.opcode = IBV_WR_SEND;
  }
  return PostAndWait(&wr, send_buffer_.data(), len, send_mr_, false);
}

Status RdmaTransport::PostAndWait(ibv_send_wr* wr, void* addr, size_t len,
                                  ibv_mr* mr, bool deregister) {
  ibv_sge sge;
  sge.addr = reinterpret_cast<uintptr_t>(addr);
  sge.length = static_cast<uint32_t>(len);
  sge.lkey = mr->lkey;
  wr->wr_id = next_wr_id_++;
  wr->sg_list = &sge;
  wr->num_sge = 1;
  wr->send_flags = IBV_SEND_SIGNALED;
  ibv_send_wr* bad = nullptr;
  Status s;
  if (ibv_post_send(id_->qp, wr, &bad) != 0) {
    s = Errno("ibv_post_send");
  } else {
    s = WaitFor(wr->wr_id);
  }
  if (deregister) {
    ibv_dereg_mr(mr);
  }
  return s;
}

Status RdmaTransport::Register(uint8_t* base, size_t len, uint32_t access,
                               BufferDescriptorV1* out) {
  if (closed_) {
    return Status(Code::kTransport, "register on a closed queue pair");
  }
  if (base == nullptr || len == 0 || len > UINT32_MAX) {
    return Status(Code::kBadSize, "cannot register a region of " +
                                      std::to_string(len) + " bytes");
  }
  int flags = IBV_ACCESS_LOCAL_WRITE;
  if (access & kRemoteRead) {
    flags |= IBV_ACCESS_REMOTE_READ;
  }
  if (access & kRemoteWrite) {
    flags |= IBV_ACCESS_REMOTE_WRITE;
  }
  ibv_mr* mr = ibv_reg_mr(pd_, base, len, flags);
  if (mr == nullptr) {
    return Errno("ibv_reg_mr");
  }
  regions_[mr->rkey] = mr;
  out->offset = reinterpret_cast<uintptr_t>(base);
  out->token = mr->rkey;
  out->length = static_cast<uint32_t>(len);
  return Status::OK();
}

Status RdmaTransport::Deregister(uint32_t token) {
  auto it = regions_.find(token);
  if (it == regions_.end()) {
    return Status(Code::kBadToken,
                  "no region under token " + std::to_string(token));
  }
  ibv_dereg_mr(it->second);
  regions_.erase(it);
  return Status::OK();
}

Status RdmaTransport::OneSided(int opcode, uint8_t* local, size_t len,
                               const BufferDescriptorV1& remote) {
  if (closed_) {
    return Status(Code::kTransport, "RDMA on a closed queue pair");
  }
  // Bounds and access are the peer NIC's to check (a violation fails
  // the work request and breaks the queue pair); the length against the
  // descriptor is ours.
  if (len > remote.length) {
    return Status(Code::kOutOfBounds, std::to_string(len) +
                                          " bytes for a descriptor of " +
                                          std::to_string(remote.length));
  }
  ibv_mr* mr = ibv_reg_mr(pd_, local, len, IBV_ACCESS_LOCAL_WRITE);
  if (mr == nullptr) {
    return Errno("ibv_reg_mr (one-sided)");
  }
  ibv_send_wr wr;
  memset(&wr, 0, sizeof(wr));
  wr.opcode = static_cast<ibv_wr_opcode>(opcode);
  wr.wr.rdma.remote_addr = remote.offset;
  wr.wr.rdma.rkey = remote.token;
  return PostAndWait(&wr, local, len, mr);
}

Status RdmaTransport::RdmaWrite(const uint8_t* local, size_t len,
                                const BufferDescriptorV1& remote) {
  // The NIC only reads local memory for a write.
  return OneSided(IBV_WR_RDMA_WRITE, const_cast<uint8_t*>(local), len, remote);
}

Status RdmaTransport::RdmaRead(uint8_t* local, size_t len,
                               const BufferDescriptorV1& remote) {
  return OneSided(IBV_WR_RDMA_READ, local, len, remote);
}

void RdmaTransport::Addresses(sockaddr_storage* peer,
                              sockaddr_storage* local) const {
  memset(peer, 0, sizeof(*peer));
  memset(local, 0, sizeof(*local));
  if (id_ == nullptr) {
    return;
  }
  const sockaddr* p = rdma_get_peer_addr(id_);
  const sockaddr* l = rdma_get_local_addr(id_);
  auto len = [](const sockaddr* sa) -> size_t {
    return sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                     : sizeof(sockaddr_in);
  };
  if (p != nullptr) memcpy(peer, p, len(p));
  if (l != nullptr) memcpy(local, l, len(l));
}

RdmaListener::~RdmaListener() {
  if (id_ != nullptr) {
    rdma_destroy_id(id_);
  }
  if (channel_ != nullptr) {
    rdma_destroy_event_channel(channel_);
  }
}

Status RdmaListener::Listen(uint16_t port, std::unique_ptr<RdmaListener>* out) {
  std::unique_ptr<RdmaListener> l(new RdmaListener());
  l->channel_ = rdma_create_event_channel();
  if (l->channel_ == nullptr) {
    return Errno("rdma_create_event_channel");
  }
  if (rdma_create_id(l->channel_, &l->id_, nullptr, RDMA_PS_TCP) != 0) {
    return Errno("rdma_create_id");
  }
  sockaddr_in any;
  memset(&any, 0, sizeof(any));
  any.sin_family = AF_INET;
  any.sin_port = htons(port);
  if (rdma_bind_addr(l->id_, reinterpret_cast<sockaddr*>(&any)) != 0) {
    return Errno("rdma_bind_addr");
  }
  if (rdma_listen(l->id_, 16) != 0) {
    return Errno("rdma_listen");
  }
  *out = std::move(l);
  return Status::OK();
}

Status RdmaListener::Accept(std::unique_ptr<RdmaTransport>* out) {
  rdma_cm_id* id = nullptr;
  Status s = WaitEvent(channel_, RDMA_CM_EVENT_CONNECT_REQUEST, &id);
  if (!s.ok()) {
    return s;
  }
  std::unique_ptr<RdmaTransport> t(new RdmaTransport());
  t->id_ = id;
  // Its own event channel, so that its events do not queue behind the
  // listener's.
  t->channel_ = rdma_create_event_channel();
  if (t->channel_ == nullptr) {
    return Errno("rdma_create_event_channel");
  }
  if (rdma_migrate_id(id, t->channel_) != 0) {
    return Errno("rdma_migrate_id");
  }
  s = t->CreateQueuePair();
  if (!s.ok()) {
    return s;
  }
  rdma_conn_param param = ConnParam();
  if (rdma_accept(id, &param) != 0) {
    return Errno("rdma_accept");
  }
  s = WaitEvent(t->channel_, RDMA_CM_EVENT_ESTABLISHED, nullptr);
  if (!s.ok()) {
    return s;
  }
  *out = std::move(t);
  return Status::OK();
}

}  // namespace smbdirect
}  // namespace samba_ca
