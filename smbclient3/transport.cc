// Copyright (C) samba-ca authors. GPLv3+.

#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

namespace samba_ca {
namespace smbclient3 {

namespace {

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + strerror(errno));
}

Status ConnectOne(const addrinfo* ai, int timeout_ms, int* fd_out) {
  int fd =
      socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return Errno("socket");
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    Status s = Errno("connect");
    close(fd);
    return s;
  }
  if (rc != 0) {
    pollfd p = {fd, POLLOUT, 0};
    rc = poll(&p, 1, timeout_ms);
    if (rc <= 0) {
      close(fd);
      return Status::IoError("connect: timed out");
    }
    int err = 0;
    socklen_t err_len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) {
      close(fd);
      return Status::IoError(std::string("connect: ") + strerror(err));
    }
  }
  fcntl(fd, F_SETFL, flags);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  *fd_out = fd;
  return Status::Ok();
}

}  // namespace

Status TcpTransport::Connect(const std::string& host, uint16_t port,
                             int timeout_ms,
                             std::unique_ptr<TcpTransport>* out) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::IoError("resolve " + host + ": " + gai_strerror(rc));
  }
  Status last = Status::IoError("no address for " + host);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = -1;
    last = ConnectOne(ai, timeout_ms, &fd);
    if (last.ok()) {
      freeaddrinfo(res);
      out->reset(new TcpTransport(fd));
      return Status::Ok();
    }
  }
  freeaddrinfo(res);
  return Status::IoError("connect to " + host + ":" + port_text + ": " +
                         last.message());
}

TcpTransport::~TcpTransport() { Close(); }

void TcpTransport::Close() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

Status TcpTransport::Send(const uint8_t* pdu, size_t len) {
  if (fd_ < 0) return Status::IoError("send: connection closed");
  uint8_t header[kFrameHeaderSize];
  SCA_RETURN_IF_ERROR(EncodeFrameHeader(len, header));
  iovec iov[2] = {{header, sizeof(header)}, {const_cast<uint8_t*>(pdu), len}};
  size_t total = sizeof(header) + len;
  size_t sent = 0;
  while (sent < total) {
    msghdr mh = {};
    iovec cur[2];
    int n = 0;
    size_t skip = sent;
    for (const iovec& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      cur[n].iov_base = static_cast<uint8_t*>(v.iov_base) + skip;
      cur[n].iov_len = v.iov_len - skip;
      skip = 0;
      ++n;
    }
    mh.msg_iov = cur;
    mh.msg_iovlen = n;
    ssize_t rc = sendmsg(fd_, &mh, MSG_NOSIGNAL);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    sent += static_cast<size_t>(rc);
  }
  return Status::Ok();
}

Status TcpTransport::Recv(Bytes* pdu) {
  uint8_t buf[65536];
  while (frames_.empty()) {
    if (fd_ < 0) return Status::IoError("recv: connection closed");
    if (decoder_.state() == FrameDecoder::State::kError) {
      return decoder_.error();
    }
    pollfd p = {fd_, POLLIN, 0};
    int rc = poll(&p, 1, recv_timeout_ms_);
    if (rc == 0) return Status::IoError("recv: timed out");
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Errno("poll");
    }
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("recv");
    }
    if (n == 0)
      return Status::IoError("recv: the server closed the connection");
    decoder_.Consume(buf, static_cast<size_t>(n), this);
  }
  *pdu = std::move(frames_.front());
  frames_.pop_front();
  return Status::Ok();
}

}  // namespace smbclient3
}  // namespace samba_ca
