// Copyright (C) samba-ca authors. GPLv3+.

#include "listener.h"

#include <poll.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace samba_ca {
namespace smbdirect {

namespace {

std::string Trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && isspace(static_cast<unsigned char>(s[a]))) a++;
  while (b > a && isspace(static_cast<unsigned char>(s[b - 1]))) b--;
  return s.substr(a, b - a);
}

// smb.conf's parameter names: case, spaces and underscores do not count.
std::string Canonical(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '_') continue;
    out += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Status ParseBool(const std::string& v, bool* out) {
  std::string c = Canonical(v);
  if (c == "yes" || c == "true" || c == "1" || c == "on") {
    *out = true;
  } else if (c == "no" || c == "false" || c == "0" || c == "off") {
    *out = false;
  } else {
    return Status(Code::kMalformed, "not a boolean: \"" + v + "\"");
  }
  return Status::OK();
}

Status ParseNumber(const std::string& v, uint64_t max, uint64_t* out) {
  if (v.empty() || !isdigit(static_cast<unsigned char>(v[0]))) {
    return Status(Code::kMalformed, "not a number: \"" + v + "\"");
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long n = strtoull(v.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || n > max) {
    return Status(
        Code::kMalformed,
        "not a number up to " + std::to_string(max) + ": \"" + v + "\"");
  }
  *out = n;
  return Status::OK();
}

}  // namespace

ListenerOptions::ListenerOptions() {
  // One 1 MiB SMB2 WRITE or READ response (smbclient3's and cifs.ko's
  // largest without an RDMA channel) with its headers fits in one
  // reassembled message.
  engine.max_fragmented_recv_size = 2 * 1024 * 1024;
}

Status ReadListenerOptions(const std::string& path, ListenerOptions* out) {
  std::ifstream in(path);
  if (!in) {
    return Status(Code::kTransport, "cannot read " + path);
  }
  ListenerOptions o;
  std::string line, section;
  std::string pending;
  int lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    // Continuation lines end with a backslash.
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    line = Trim(pending + line);
    pending.clear();
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      size_t e = line.find(']');
      section = Canonical(
          line.substr(1, e == std::string::npos ? std::string::npos : e - 1));
      continue;
    }
    if (section != "global") continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Canonical(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (key == "smbd:listenersocket") {
      o.smbd_socket = value;
      continue;
    }
    if (key.compare(0, 10, "smbdirect:") != 0) continue;
    std::string name = key.substr(10);
    Status s;
    uint64_t n = 0;
    if (name == "enable") {
      s = ParseBool(value, &o.enable);
    } else if (name == "ports") {
      o.ports.clear();
      std::string tok;
      for (size_t i = 0; i <= value.size() && s.ok(); i++) {
        if (i == value.size() || value[i] == ' ' || value[i] == ',' ||
            value[i] == '\t') {
          if (!tok.empty()) {
            s = ParseNumber(tok, 65535, &n);
            if (s.ok() && n == 0) {
              s = Status(Code::kMalformed, "port 0");
            }
            o.ports.push_back(static_cast<uint16_t>(n));
          }
          tok.clear();
        } else {
          tok += value[i];
        }
      }
      if (s.ok() && o.ports.empty()) {
        s = Status(Code::kMalformed, "no port");
      }
    } else if (name == "receivecreditmax") {
      s = ParseNumber(value, 65535, &n);
      o.engine.receive_credit_max = static_cast<uint16_t>(n);
    } else if (name == "sendcredittarget") {
      s = ParseNumber(value, 65535, &n);
      o.engine.send_credit_target = static_cast<uint16_t>(n);
    } else if (name == "maxsendsize") {
      s = ParseNumber(value, 0xffffffff, &n);
      o.engine.max_send_size = static_cast<uint32_t>(n);
    } else if (name == "maxreceivesize") {
      s = ParseNumber(value, 0xffffffff, &n);
      o.engine.max_receive_size = static_cast<uint32_t>(n);
    } else if (name == "maxfragmentedsize") {
      s = ParseNumber(value, 0x00ffffff, &n);
      o.engine.max_fragmented_recv_size = static_cast<uint32_t>(n);
    } else if (name == "maxreadwritesize") {
      s = ParseNumber(value, 0xffffffff, &n);
      o.engine.max_read_write_size = static_cast<uint32_t>(n);
    } else if (name == "idletimeout") {
      s = ParseNumber(value, 86400, &n);
      o.engine.idle_timeout_ms = n * 1000;
    } else {
      s = Status(Code::kMalformed, "unknown option smbdirect:" + name);
    }
    if (!s.ok()) {
      return Status(s.code(), where + s.message());
    }
  }
  Status s = CheckConfig(o.engine);
  if (!s.ok()) {
    return Status(s.code(), path + ": " + s.message());
  }
  if (o.enable && o.smbd_socket.empty()) {
    return Status(Code::kMalformed,
                  path + ": smbdirect:enable = yes needs smbd:listener socket");
  }
  *out = o;
  return Status::OK();
}

Listener::Listener(const ListenerOptions& options, Relay::LogFn log)
    : options_(options), log_(std::move(log)) {}

Relay* Listener::Accept(std::unique_ptr<Transport> transport,
                        const sockaddr_storage& client_addr,
                        const sockaddr_storage& server_addr, uint64_t now_ms) {
  RelayOptions ro;
  ro.engine = options_.engine;
  ro.smbd_socket = options_.smbd_socket;
  ro.client_addr = client_addr;
  ro.server_addr = server_addr;
  const uint64_t id = next_id_++;
  counts_.accepted++;
  log_("smbdirect: connection " + std::to_string(id) + " from " +
       AddressString(client_addr) + " to " + AddressString(server_addr) +
       " accepted");
  relays_.push_back(
      std::unique_ptr<Relay>(new Relay(id, std::move(transport), ro, log_)));
  Relay* r = relays_.back().get();
  r->Start(now_ms);
  return r;
}

size_t Listener::Step(uint64_t now_ms) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    (*it)->Step(now_ms);
    if ((*it)->done()) {
      counts_.finished++;
      ended_[(*it)->id()] = (*it)->reason();
      if (ended_.size() > 256) ended_.erase(ended_.begin());
      it = relays_.erase(it);
    } else {
      ++it;
    }
  }
  return relays_.size();
}

bool Listener::Ended(uint64_t id, Status* reason) const {
  auto it = ended_.find(id);
  if (it == ended_.end()) return false;
  if (reason) *reason = it->second;
  return true;
}

void Listener::Wait(int timeout_ms) {
  std::vector<pollfd> fds;
  for (const auto& r : relays_) {
    if (r->smbd_fd() != -1) {
      short ev = POLLIN;
      if (r->wants_smbd_write()) ev |= POLLOUT;
      fds.push_back(pollfd{r->smbd_fd(), ev, 0});
    }
  }
  poll(fds.data(), fds.size(), timeout_ms);
}

void Listener::StopAll(const Status& why) {
  for (auto& r : relays_) {
    r->Stop(why);
  }
  relays_.clear();
}

}  // namespace smbdirect
}  // namespace samba_ca
