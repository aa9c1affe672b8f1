// Copyright (C) samba-ca authors. GPLv3+.

#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace samba_ca {
namespace smbdirect {

namespace {

// Direct-TCP's 4-byte prefix ([MS-SMB2] 2.1): a zero byte, then the
// length in 24 bits, big-endian.  smbd also writes NetBIOS session
// keepalives (type 0x85, length 0) on an idle connection.
constexpr uint8_t kNbssMessage = 0x00;
constexpr uint8_t kNbssKeepalive = 0x85;
constexpr uint32_t kMaxPrefixedLength = 0x00FFFFFF;

std::string Errno(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags != -1) {
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

}  // namespace

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

std::string AddressString(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) +
           "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "(family " + std::to_string(addr.ss_family) + ")";
}

Status PassToSmbd(const std::string& path, const sockaddr_storage& client,
                  const sockaddr_storage& server, int* fd) {
  *fd = -1;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sun.sun_path)) {
    return Status(Code::kTransport, "smbd socket path empty or too long");
  }
  memcpy(sun.sun_path, path.c_str(), path.size() + 1);

  int ctl = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (ctl == -1) {
    return Status(Code::kTransport, Errno("socket"));
  }
  if (connect(ctl, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) != 0) {
    Status s(Code::kTransport, Errno(("connect to smbd at " + path).c_str()));
    close(ctl);
    return s;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    Status s(Code::kTransport, Errno("socketpair"));
    close(ctl);
    return s;
  }

  PassedConnection pc;
  memset(&pc, 0, sizeof(pc));
  pc.magic = kPassedConnectionMagic;
  pc.transport = kPassedTransportSmbDirect;
  pc.client_addr = client;
  pc.server_addr = server;
  iovec iov{&pc, sizeof(pc)};
  union {
    cmsghdr hdr;
    uint8_t buf[CMSG_SPACE(sizeof(int))];
  } cbuf;
  memset(&cbuf, 0, sizeof(cbuf));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf.buf;
  msg.msg_controllen = sizeof(cbuf.buf);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &pair[1], sizeof(int));
  ssize_t n = sendmsg(ctl, &msg, MSG_NOSIGNAL);
  Status s;
  if (n != static_cast<ssize_t>(sizeof(pc))) {
    s = Status(Code::kTransport, Errno("passing the connection to smbd"));
  }
  close(pair[1]);
  close(ctl);
  if (!s.ok()) {
    close(pair[0]);
    return s;
  }
  // Room for a whole reassembled message in the socket, so that it goes
  // from the receive buffer to smbd without waiting in a copy here
  // (SO_SNDBUFFORCE passes net.core.wmem_max; root only).
  int sndbuf = 4 * 1024 * 1024;
  if (setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                 sizeof(sndbuf)) != 0) {
    setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  }
  SetNonBlocking(pair[0]);
  *fd = pair[0];
  return Status::OK();
}

Relay::Relay(uint64_t id, std::unique_ptr<Transport> transport,
             RelayOptions options, LogFn log)
    : id_(id),
      transport_(std::move(transport)),
      options_(std::move(options)),
      log_(std::move(log)),
      driver_(Role::kResponder, options_.engine, transport_.get()) {
  driver_.set_message_handler(
      [this](const uint8_t* data, size_t len) { OnClientMessage(data, len); });
}

Relay::~Relay() {
  if (smbd_fd_ != -1) {
    close(smbd_fd_);
  }
}

Status Relay::Start(uint64_t now_ms) {
  Status s = driver_.connection().Start(now_ms);
  if (!s.ok()) {
    Finish(s);
  }
  return s;
}

void Relay::OnClientMessage(const uint8_t* data, size_t len) {
  if (len > kMaxPrefixedLength) {
    // Cannot happen with a sane max fragmented size; refused anyway.
    pending_error_ =
        Status(Code::kOversize, "SMB2 message of " + std::to_string(len) +
                                    " bytes does not fit Direct-TCP framing");
    return;
  }
  uint8_t prefix[4] = {kNbssMessage, static_cast<uint8_t>(len >> 16),
                       static_cast<uint8_t>(len >> 8),
                       static_cast<uint8_t>(len)};
  stats_.messages_to_smbd++;
  stats_.bytes_to_smbd += len;
  size_t sent = 0;
  if (smbd_fd_ != -1 && to_smbd_.empty()) {
    // Straight from the receive (or reassembly) buffer into the socket.
    iovec iov[2] = {{prefix, sizeof(prefix)},
                    {const_cast<uint8_t*>(data), len}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t n = sendmsg(smbd_fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == -1 && errno != EAGAIN && errno != EINTR) {
      pending_error_ = Status(Code::kTransport, Errno("writing to smbd"));
      return;
    }
    sent = n > 0 ? static_cast<size_t>(n) : 0;
    if (sent == sizeof(prefix) + len) {
      return;
    }
  }
  // What smbd's socket did not take now waits here: a copy.
  std::vector<uint8_t> rest;
  rest.reserve(sizeof(prefix) + len - sent);
  if (sent < sizeof(prefix)) {
    rest.insert(rest.end(), prefix + sent, prefix + sizeof(prefix));
    rest.insert(rest.end(), data, data + len);
  } else {
    rest.insert(rest.end(), data + (sent - sizeof(prefix)), data + len);
  }
  stats_.bytes_buffered += rest.size();
  to_smbd_.push_back(std::move(rest));
}

Status Relay::FlushToSmbd() {
  while (!to_smbd_.empty()) {
    const std::vector<uint8_t>& m = to_smbd_.front();
    ssize_t n = send(smbd_fd_, m.data() + to_smbd_offset_,
                     m.size() - to_smbd_offset_, MSG_NOSIGNAL);
    if (n == -1) {
      if (errno == EAGAIN || errno == EINTR) {
        return Status::OK();
      }
      return Status(Code::kTransport, Errno("writing to smbd"));
    }
    to_smbd_offset_ += static_cast<size_t>(n);
    if (to_smbd_offset_ == m.size()) {
      to_smbd_.pop_front();
      to_smbd_offset_ = 0;
    }
  }
  return Status::OK();
}

Status Relay::ReadFromSmbd(uint64_t now_ms) {
  Connection& c = driver_.connection();
  while (c.state() == State::kEstablished &&
         c.send_queue_length() < options_.max_send_queue) {
    ssize_t n;
    if (!in_body_) {
      n = recv(smbd_fd_, prefix_ + prefix_have_, 4 - prefix_have_, 0);
    } else {
      n = recv(smbd_fd_, in_.data() + in_have_, in_.size() - in_have_, 0);
    }
    if (n == 0) {
      return Status(Code::kTransport, "smbd closed the connection");
    }
    if (n == -1) {
      if (errno == EAGAIN || errno == EINTR) {
        return Status::OK();
      }
      return Status(Code::kTransport, Errno("reading from smbd"));
    }
    if (!in_body_) {
      prefix_have_ += static_cast<size_t>(n);
      if (prefix_have_ < 4) {
        continue;
      }
      prefix_have_ = 0;
      uint32_t len = (uint32_t(prefix_[1]) << 16) |
                     (uint32_t(prefix_[2]) << 8) | prefix_[3];
      if (prefix_[0] == kNbssKeepalive && len == 0) {
        stats_.keepalives_dropped++;
        continue;
      }
      if (prefix_[0] != kNbssMessage) {
        return Status(Code::kMalformed,
                      "smbd sent NetBIOS type " + std::to_string(prefix_[0]));
      }
      if (len > c.max_fragmented_send_size()) {
        return Status(Code::kOversize,
                      "smbd sent a message of " + std::to_string(len) +
                          " bytes, the client reassembles at most " +
                          std::to_string(c.max_fragmented_send_size()));
      }
      in_.assign(len, 0);
      in_have_ = 0;
      in_body_ = len > 0;
      if (len > 0) {
        continue;
      }
    } else {
      in_have_ += static_cast<size_t>(n);
      if (in_have_ < in_.size()) {
        continue;
      }
      in_body_ = false;
    }
    stats_.messages_to_client++;
    stats_.bytes_to_client += in_.size();
    Status s = c.SendUpper(std::move(in_), now_ms);
    in_.clear();
    if (!s.ok()) {
      return s;
    }
  }
  return Status::OK();
}

bool Relay::Step(uint64_t now_ms) {
  if (done_) {
    return false;
  }
  Connection& c = driver_.connection();
  driver_.Poll(now_ms);
  if (driver_.disconnected()) {
    Finish(driver_.disconnect_reason());
    return false;
  }
  if (!pending_error_.ok()) {
    c.Disconnect(pending_error_);
    Finish(pending_error_);
    return false;
  }
  Status s = c.OnTimer(now_ms);
  if (driver_.disconnected()) {
    Finish(driver_.disconnect_reason());
    return false;
  }
  if (c.state() == State::kEstablished && smbd_fd_ == -1) {
    s = PassToSmbd(options_.smbd_socket, options_.client_addr,
                   options_.server_addr, &smbd_fd_);
    if (!s.ok()) {
      c.Disconnect(s);
      Finish(s);
      return false;
    }
    log_("smbdirect: connection " + std::to_string(id_) + " from " +
         AddressString(options_.client_addr) + " negotiated (send " +
         std::to_string(c.max_send_size()) + ", receive " +
         std::to_string(c.max_receive_size()) + ", fragmented " +
         std::to_string(c.max_fragmented_send_size()) + "), passed to smbd");
  }
  if (smbd_fd_ == -1) {
    return true;
  }
  s = FlushToSmbd();
  if (s.ok()) {
    s = ReadFromSmbd(now_ms);
  }
  if (!s.ok() || driver_.disconnected()) {
    if (!driver_.disconnected()) {
      c.Disconnect(s);
    }
    Finish(driver_.disconnect_reason());
    return false;
  }
  return true;
}

void Relay::Stop(const Status& why) {
  if (done_) {
    return;
  }
  driver_.connection().Disconnect(why);
  Finish(why);
}

void Relay::Finish(const Status& why) {
  if (done_) {
    return;
  }
  done_ = true;
  reason_ = why;
  if (smbd_fd_ != -1) {
    close(smbd_fd_);
    smbd_fd_ = -1;
  }
  transport_->Close();
  log_("smbdirect: connection " + std::to_string(id_) + " from " +
       AddressString(options_.client_addr) + " dropped: " + why.ToString() +
       " (to smbd " + std::to_string(stats_.messages_to_smbd) +
       " messages, to the client " + std::to_string(stats_.messages_to_client) +
       ")");
}

}  // namespace smbdirect
}  // namespace samba_ca
