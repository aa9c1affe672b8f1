// Copyright (C) samba-ca authors. GPLv3+.
//
// samba_ca_smbdirect_listener: the SMB Direct listener over rdma-core.
// Reads smb.conf's [global] smbdirect: options, listens on each
// smbdirect:ports port in the RDMA CM port space (5445 and 445: the Linux
// client tries 5445 first) and relays every accepted connection to smbd
// ("smbd:listener socket").  The thin main of listener.h: one thread per
// port blocks in accept, the main thread steps the relays.
//
//   samba_ca_smbdirect_listener [-s SMB.CONF] [--check]
// --check reads and checks the options and exits (0 good, 1 bad).
// Log lines (stderr) say why each connection was dropped.

#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "listener.h"
#include "rdma_transport.h"

namespace sd = samba_ca::smbdirect;

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

void Log(const std::string& line) {
  char ts[32];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, "%s %s\n", ts, line.c_str());
  fflush(stderr);
}

std::mutex g_mu;
std::deque<std::unique_ptr<sd::RdmaTransport>> g_accepted;

void AcceptLoop(std::unique_ptr<sd::RdmaListener> l, uint16_t port) {
  while (!g_stop) {
    std::unique_ptr<sd::RdmaTransport> t;
    sd::Status s = l->Accept(&t);
    if (!s.ok()) {
      Log("smbdirect: accept on port " + std::to_string(port) +
          " failed: " + s.ToString());
      continue;
    }
    std::lock_guard<std::mutex> g(g_mu);
    g_accepted.push_back(std::move(t));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string conf = "/etc/samba/smb.conf";
  bool check = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-s" && i + 1 < argc) {
      conf = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else {
      fprintf(stderr,
              "usage: samba_ca_smbdirect_listener [-s SMB.CONF] [--check]\n");
      return 2;
    }
  }
  sd::ListenerOptions opts;
  sd::Status s = sd::ReadListenerOptions(conf, &opts);
  if (!s.ok()) {
    Log("smbdirect: " + s.ToString());
    return 1;
  }
  if (check) {
    printf(
        "enable %s, smbd socket %s, send %u receive %u fragmented %u "
        "read/write %u, credits %u/%u\n",
        opts.enable ? "yes" : "no", opts.smbd_socket.c_str(),
        opts.engine.max_send_size, opts.engine.max_receive_size,
        opts.engine.max_fragmented_recv_size, opts.engine.max_read_write_size,
        opts.engine.receive_credit_max, opts.engine.send_credit_target);
    return 0;
  }
  if (!opts.enable) {
    Log("smbdirect: smbdirect:enable is not set in " + conf +
        ": not listening");
    return 0;
  }
  std::string devices;
  s = sd::ProbeRdmaDevices(&devices);
  if (!s.ok()) {
    Log("smbdirect: no RDMA device: " + s.ToString());
    return 1;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::thread> threads;
  for (uint16_t port : opts.ports) {
    std::unique_ptr<sd::RdmaListener> l;
    s = sd::RdmaListener::Listen(port, &l);
    if (!s.ok()) {
      Log("smbdirect: listen on port " + std::to_string(port) + ": " +
          s.ToString());
      return 1;
    }
    Log("smbdirect: listening on RDMA CM port " + std::to_string(port) +
        " (devices: " + devices + "), relaying to " + opts.smbd_socket);
    threads.emplace_back(AcceptLoop, std::move(l), port);
  }

  sd::Listener listener(opts, Log);
  while (!g_stop) {
    {
      std::lock_guard<std::mutex> g(g_mu);
      while (!g_accepted.empty()) {
        std::unique_ptr<sd::RdmaTransport> t = std::move(g_accepted.front());
        g_accepted.pop_front();
        sockaddr_storage peer, local;
        t->Addresses(&peer, &local);
        listener.Accept(std::move(t), peer, local, sd::NowMs());
      }
    }
    listener.Step(sd::NowMs());
    // Completions are polled, not waited for: a short sleep on smbd's
    // sockets keeps an idle listener cheap.
    listener.Wait(listener.live() ? 1 : 50);
  }
  listener.StopAll(sd::Status(sd::Code::kTransport, "listener stopping"));
  Log("smbdirect: stopped");
  // The accept threads block in rdma_get_cm_event: exit without joining.
  for (auto& t : threads) t.detach();
  return 0;
}
