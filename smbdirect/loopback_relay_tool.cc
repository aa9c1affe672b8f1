// Copyright (C) samba-ca authors. GPLv3+.
//
// sca_smbdirect_loopback: the project's SMB3 client (smbclient3) over SMB
// Direct on the loopback transport, through the listener's relays, to a
// real smbd (its "smbd:listener socket", patch 0018).  Client, listener
// and loopback queue pairs live in this one process (the loopback
// transport is in-process); smbd is the real one.
//
//   sca_smbdirect_loopback --smbd-socket PATH --share SHARE -U USER%PASS
//       [--dialect 3.0|3.0.2|3.1.1] [--seal] [--size BYTES]
//       [--send-size N] [--receive-size N]
//       transfer NAME    write SIZE random bytes to NAME and read them back
//       badinput NAME    bad SMB Direct input on new connections while a
//                        good one stays connected; then transfers on the
//                        good one and on a new one
// Exit: 0 all as expected, 1 a failure (said on stderr), 2 usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "../smbclient3/client.h"
#include "client_transport.h"
#include "listener.h"
#include "loopback_transport.h"

namespace sd = samba_ca::smbdirect;
namespace sc = samba_ca::smbclient3;

namespace {

struct Args {
  std::string socket_path;
  std::string share;
  std::string user, pass;
  uint16_t dialect = 0;
  bool seal = false;
  uint64_t size = 4 * 1024 * 1024;
  uint32_t send_size = 1364;
  uint32_t receive_size = 1364;
  std::string command, name;
};

int Usage() {
  fprintf(stderr,
          "usage: sca_smbdirect_loopback --smbd-socket PATH --share SHARE "
          "-U USER%%PASS [--dialect 3.0|3.0.2|3.1.1] [--seal] [--size N] "
          "[--send-size N] [--receive-size N] transfer|badinput NAME\n");
  return 2;
}

std::string Sha256(const std::vector<uint8_t>& d) {
  uint8_t md[32];
  unsigned int len = 0;
  EVP_Digest(d.data(), d.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < len; i++) {
    snprintf(b, sizeof(b), "%02x", md[i]);
    out += b;
  }
  return out;
}

sockaddr_storage Addr(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  inet_pton(AF_INET, ip, &in->sin_addr);
  return ss;
}

class World {
 public:
  explicit World(const Args& a) : args_(a) {
    sd::ListenerOptions lo;
    lo.enable = true;
    lo.smbd_socket = a.socket_path;
    lo.engine.max_send_size = a.send_size;
    lo.engine.max_receive_size = a.receive_size;
    listener_.reset(new sd::Listener(lo, [](const std::string& line) {
      fprintf(stderr, "listener: %s\n", line.c_str());
    }));
    client_config_.max_send_size = a.send_size;
    client_config_.max_receive_size = a.receive_size;
    client_config_.max_fragmented_recv_size = 2 * 1024 * 1024;
  }

  void Pump() {
    listener_->Step(sd::NowMs());
    listener_->Wait(1);
    listener_->Step(sd::NowMs());
  }

  // A new loopback queue pair whose server end the listener accepted.
  std::unique_ptr<sd::LoopbackTransport> NewPair(sd::Relay** relay) {
    std::unique_ptr<sd::LoopbackTransport> c, s;
    sd::LoopbackTransport::CreatePair(&c, &s);
    sd::Relay* r = listener_->Accept(
        std::move(s), Addr("198.18.201.10", uint16_t(50000 + next_port_++)),
        Addr("198.18.201.1", 5445), sd::NowMs());
    if (relay) *relay = r;
    return c;
  }

  std::unique_ptr<sc::Smb2Client> NewClient() {
    sc::ClientOptions o;
    o.host = "198.18.201.1";
    o.share = args_.share;
    o.credentials.user = args_.user;
    o.credentials.password = args_.pass;
    if (args_.dialect) o.dialects = {args_.dialect};
    o.seal = args_.seal;
    o.connect_transport = [this](const sc::ClientOptions& opt,
                                 std::unique_ptr<sc::Transport>* out) {
      std::unique_ptr<sd::SmbDirectClientTransport> t;
      sc::Status s = sd::SmbDirectClientTransport::Connect(
          NewPair(&last_relay_), client_config_, [this] { Pump(); },
          opt.timeout_ms, &t);
      if (s.ok()) *out = std::move(t);
      return s;
    };
    return std::unique_ptr<sc::Smb2Client>(new sc::Smb2Client(o));
  }

  sd::Listener& listener() { return *listener_; }
  sd::Relay* last_relay() { return last_relay_; }

 private:
  const Args& args_;
  std::unique_ptr<sd::Listener> listener_;
  sd::Config client_config_;
  sd::Relay* last_relay_ = nullptr;
  unsigned next_port_ = 0;
};

bool Check(const sc::Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "FAIL: %s: %s\n", what, s.ToString().c_str());
    return false;
  }
  return true;
}

// Write args.size random bytes to name, read them back, compare.
bool Transfer(World& w, sc::Smb2Client* c, const Args& a,
              const std::string& name, const char* label) {
  std::vector<uint8_t> data(a.size);
  std::mt19937_64 rng(std::random_device{}());
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  sc::CreateRequest cr;
  cr.name = name;
  cr.create_disposition = sc::kDispositionOverwriteIf;
  sc::OpenResult open;
  if (!Check(c->Create(cr, &open), "create")) return false;
  const uint32_t chunk = c->max_io_size();
  for (uint64_t off = 0; off < data.size(); off += chunk) {
    uint32_t n =
        static_cast<uint32_t>(std::min<uint64_t>(chunk, data.size() - off));
    uint32_t written = 0;
    if (!Check(c->Write(open.response.file_id, off, data.data() + off, n,
                        &written),
               "write"))
      return false;
    if (written != n) {
      fprintf(stderr, "FAIL: short write %u of %u\n", written, n);
      return false;
    }
  }
  std::vector<uint8_t> back;
  for (uint64_t off = 0;;) {
    sc::Bytes part;
    if (!Check(c->Read(open.response.file_id, off, chunk, &part), "read"))
      return false;
    if (part.empty()) break;
    back.insert(back.end(), part.begin(), part.end());
    off += part.size();
  }
  if (!Check(c->Close(open.response.file_id), "close")) return false;
  const std::string hw = Sha256(data), hr = Sha256(back);
  printf("%s: %s: wrote %zu bytes sha256 %s, read %zu bytes sha256 %s\n", label,
         name.c_str(), data.size(), hw.c_str(), back.size(), hr.c_str());
  (void)w;
  if (hw != hr) {
    fprintf(stderr, "FAIL: %s: checksums differ\n", label);
    return false;
  }
  return true;
}

void PrintInfo(sc::Smb2Client* c, const char* label) {
  const sc::ConnectionInfo& i = c->info();
  printf(
      "%s: dialect 0x%04x signing %s%s cipher %s%s signed-verified %llu "
      "encrypted-opened %llu\n",
      label, i.dialect, sc::SigningAlgorithmName(i.signing_algorithm),
      i.signing_active ? " (active)" : "",
      i.cipher_negotiated || i.encrypting ? sc::CipherName(i.cipher) : "none",
      i.encrypting ? " (sealed)" : "",
      (unsigned long long)i.signed_responses_verified,
      (unsigned long long)i.encrypted_responses_opened);
}

void PrintRelay(sd::Relay* r, const char* label) {
  if (r == nullptr) return;
  const sd::RelayStats& s = r->stats();
  printf(
      "%s: relay to smbd %llu messages %llu bytes, to client %llu "
      "messages %llu bytes, reassembly copies %llu bytes, buffered for "
      "smbd %llu bytes\n",
      label, (unsigned long long)s.messages_to_smbd,
      (unsigned long long)s.bytes_to_smbd,
      (unsigned long long)s.messages_to_client,
      (unsigned long long)s.bytes_to_client,
      (unsigned long long)r->connection().bytes_copied(),
      (unsigned long long)s.bytes_buffered);
}

// Bad input on a raw SMB Direct peer: the relay must drop the connection
// with `want`.  send() is given the raw peer once its receive is posted.
bool BadCase(World& w, const char* label, sd::Code want,
             const std::function<void(sd::LoopbackTransport*, World&)>& send) {
  sd::Relay* r = nullptr;
  std::unique_ptr<sd::LoopbackTransport> raw = w.NewPair(&r);
  const uint64_t id = r->id();
  raw->PostReceive(4096);
  raw->PostReceive(4096);
  send(raw.get(), w);
  const uint64_t deadline = sd::NowMs() + 5000;
  bool ended = false;
  sd::Status reason;
  while (sd::NowMs() < deadline) {
    w.Pump();
    if (w.listener().Ended(id, &reason)) {
      ended = true;
      break;
    }
  }
  if (!ended) {
    fprintf(stderr, "FAIL: %s: connection %llu not dropped within 5 s\n", label,
            (unsigned long long)id);
    return false;
  }
  printf("%s: connection %llu dropped: %s\n", label, (unsigned long long)id,
         reason.ToString().c_str());
  if (reason.code() != want) {
    fprintf(stderr, "FAIL: %s: dropped for %s, expected %s\n", label,
            sd::CodeName(reason.code()), sd::CodeName(want));
    return false;
  }
  return true;
}

std::vector<uint8_t> Negotiate(uint16_t minv, uint16_t maxv, uint32_t recv,
                               uint32_t frag) {
  sd::NegotiateRequest n;
  n.min_version = minv;
  n.max_version = maxv;
  n.credits_requested = 16;
  n.preferred_send_size = 1364;
  n.max_receive_size = recv;
  n.max_fragmented_size = frag;
  std::vector<uint8_t> out;
  sd::EncodeNegotiateRequest(n, &out);
  return out;
}

void SendRaw(sd::LoopbackTransport* t, const std::vector<uint8_t>& m) {
  t->Send(m.data(), m.size(), nullptr, 0, 0);
}

// Negotiates properly on the raw peer and waits for the response.
bool RawNegotiate(sd::LoopbackTransport* t, World& w) {
  SendRaw(t, Negotiate(0x0100, 0x0100, 1364, 1048576));
  std::vector<uint8_t> m;
  const uint64_t deadline = sd::NowMs() + 5000;
  while (!t->PollReceive(&m)) {
    if (sd::NowMs() > deadline) return false;
    w.Pump();
  }
  for (int i = 0; i < 4; i++) t->PostReceive(4096);
  return true;
}

std::vector<uint8_t> DataMessage(uint32_t data_length, uint32_t remaining) {
  sd::DataTransferHeader h;
  h.credits_requested = 1;
  h.remaining_data_length = remaining;
  h.data_offset = data_length ? sd::kDataOffset : 0;
  h.data_length = data_length;
  std::vector<uint8_t> out;
  sd::EncodeDataTransferHeader(h, &out);
  out.resize(sd::kDataOffset + data_length, 0);
  return out;
}

int BadInput(const Args& a) {
  World w(a);
  bool ok = true;
  std::unique_ptr<sc::Smb2Client> good = w.NewClient();
  if (!Check(good->Connect(), "good connection: connect")) return 1;
  const uint64_t good_id = w.last_relay()->id();
  PrintInfo(good.get(), "good");

  ok &= BadCase(w, "wrong version", sd::Code::kBadVersion,
                [](sd::LoopbackTransport* t, World&) {
                  SendRaw(t, Negotiate(0x0200, 0x0300, 1364, 1048576));
                });
  ok &= BadCase(w, "too-small receive size", sd::Code::kBadSize,
                [](sd::LoopbackTransport* t, World&) {
                  SendRaw(t, Negotiate(0x0100, 0x0100, 64, 1048576));
                });
  ok &= BadCase(w, "too-small fragmented size", sd::Code::kBadSize,
                [](sd::LoopbackTransport* t, World&) {
                  SendRaw(t, Negotiate(0x0100, 0x0100, 1364, 4096));
                });
  ok &= BadCase(w, "truncated negotiate", sd::Code::kTruncated,
                [](sd::LoopbackTransport* t, World&) {
                  std::vector<uint8_t> m =
                      Negotiate(0x0100, 0x0100, 1364, 1048576);
                  m.resize(11);
                  SendRaw(t, m);
                });
  ok &= BadCase(w, "over-long data message", sd::Code::kOversize,
                [](sd::LoopbackTransport* t, World& ww) {
                  if (!RawNegotiate(t, ww)) return;
                  // 100 bytes now, and a remaining length that makes the
                  // message longer than the listener reassembles.
                  SendRaw(t, DataMessage(100, 2 * 1024 * 1024));
                });
  ok &= BadCase(w, "remaining length that does not add up",
                sd::Code::kReassembly, [](sd::LoopbackTransport* t, World& ww) {
                  if (!RawNegotiate(t, ww)) return;
                  SendRaw(t, DataMessage(100, 1000));
                  SendRaw(t, DataMessage(100, 5000));
                });
  ok &= BadCase(w, "data message longer than the posted receive",
                sd::Code::kTransport, [](sd::LoopbackTransport* t, World& ww) {
                  if (!RawNegotiate(t, ww)) return;
                  SendRaw(t, DataMessage(8000, 0));
                });

  // A client that goes away with a file open and data written: its
  // connection ends with a log line, nothing else is touched.
  {
    std::unique_ptr<sc::Smb2Client> c = w.NewClient();
    if (!Check(c->Connect(), "mid-session client: connect")) return 1;
    const uint64_t id = w.last_relay()->id();
    sc::CreateRequest cr;
    cr.name = a.name + ".dropped";
    cr.create_disposition = sc::kDispositionOverwriteIf;
    sc::OpenResult open;
    std::vector<uint8_t> data(c->max_io_size(), 0x5a);
    uint32_t written = 0;
    ok &= Check(c->Create(cr, &open), "mid-session client: create") &&
          Check(c->Write(open.response.file_id, 0, data.data(),
                         static_cast<uint32_t>(data.size()), &written),
                "mid-session client: write");
    c->DropConnection();
    sd::Status reason;
    bool ended = false;
    const uint64_t deadline = sd::NowMs() + 5000;
    while (!ended && sd::NowMs() < deadline) {
      w.Pump();
      ended = w.listener().Ended(id, &reason);
    }
    if (ended && reason.code() == sd::Code::kTransport) {
      printf("disconnect mid-session: connection %llu dropped: %s\n",
             (unsigned long long)id, reason.ToString().c_str());
    } else {
      fprintf(stderr, "FAIL: disconnect mid-session: connection %llu %s\n",
              (unsigned long long)id,
              ended ? reason.ToString().c_str() : "not dropped within 5 s");
      ok = false;
    }
  }

  // The good connection and a new one still work.
  sd::Status good_reason;
  if (w.listener().Ended(good_id, &good_reason)) {
    fprintf(stderr, "FAIL: the good connection was dropped: %s\n",
            good_reason.ToString().c_str());
    return 1;
  }
  ok &= Transfer(w, good.get(), a, a.name + ".good", "good after bad input");
  std::unique_ptr<sc::Smb2Client> fresh = w.NewClient();
  if (!Check(fresh->Connect(), "new connection after bad input: connect"))
    return 1;
  ok &= Transfer(w, fresh.get(), a, a.name + ".new", "new after bad input");
  printf("listener: accepted %llu connections, %llu ended, %zu live\n",
         (unsigned long long)w.listener().counts().accepted,
         (unsigned long long)w.listener().counts().finished,
         w.listener().live());
  return ok ? 0 : 1;
}

int TransferCommand(const Args& a) {
  World w(a);
  std::unique_ptr<sc::Smb2Client> c = w.NewClient();
  if (!Check(c->Connect(), "connect")) return 1;
  PrintInfo(c.get(), "transfer");
  if (!Transfer(w, c.get(), a, a.name, "transfer")) return 1;
  PrintInfo(c.get(), "transfer");
  PrintRelay(w.last_relay(), "transfer");
  sd::LoopbackTransport* lt =
      static_cast<sd::LoopbackTransport*>(w.last_relay()->transport());
  printf("transfer: loopback DMA by the listener's end %llu bytes\n",
         (unsigned long long)lt->bytes_moved());
  c->Logoff();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  int i = 1;
  for (; i < argc; i++) {
    std::string s = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (s == "--smbd-socket") {
      if (!next(&a.socket_path)) return Usage();
    } else if (s == "--share") {
      if (!next(&a.share)) return Usage();
    } else if (s == "-U") {
      if (!next(&v)) return Usage();
      size_t p = v.find('%');
      a.user = v.substr(0, p);
      a.pass = p == std::string::npos ? "" : v.substr(p + 1);
    } else if (s == "--dialect") {
      if (!next(&v)) return Usage();
      if (v == "3.0")
        a.dialect = sc::kDialect300;
      else if (v == "3.0.2")
        a.dialect = sc::kDialect302;
      else if (v == "3.1.1")
        a.dialect = sc::kDialect311;
      else
        return Usage();
    } else if (s == "--seal") {
      a.seal = true;
    } else if (s == "--size") {
      if (!next(&v)) return Usage();
      a.size = strtoull(v.c_str(), nullptr, 10);
    } else if (s == "--send-size") {
      if (!next(&v)) return Usage();
      a.send_size = static_cast<uint32_t>(strtoul(v.c_str(), nullptr, 10));
    } else if (s == "--receive-size") {
      if (!next(&v)) return Usage();
      a.receive_size = static_cast<uint32_t>(strtoul(v.c_str(), nullptr, 10));
    } else {
      break;
    }
  }
  if (argc - i != 2 || a.socket_path.empty() || a.share.empty()) return Usage();
  a.command = argv[i];
  a.name = argv[i + 1];
  if (a.command == "transfer") return TransferCommand(a);
  if (a.command == "badinput") return BadInput(a);
  return Usage();
}
