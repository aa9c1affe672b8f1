// sca_persistent_driver: a scripted SMB3 client for the persistent-handle
// tests.  Reads one command per line on stdin and answers each with one
// line on stdout, "OK ..." or "ERR 0x<NTSTATUS> <message>", so that a shell
// test can drive several clients (each its own connection, session and
// client GUID) through a server crash and restart.
//
//   connect C //HOST/SHARE USER%PASS   new client C (own client GUID)
//   open C NAME ACCESS SHARE TIMEOUT_MS LEASE PERSISTENT [VARIANT]
//        persistent/durable v2 create (LEASE: RWH, RH, R or - for none,
//        then a batch oplock); C remembers the handle.  VARIANT:
//        delete-on-close (create option FILE_DELETE_ON_CLOSE), or
//        same-guid (the create GUID and lease key of C's last open again,
//        as a client that repeats a create does)
//   opendir C NAME TIMEOUT_MS PERSISTENT
//        the same on a directory (FILE_DIRECTORY_FILE, open-if, access
//        list + read attributes + synchronize, share read + write, no
//        lease or oplock)
//   plain C NAME ACCESS SHARE [DISPOSITION [OPTIONS]]
//        create without contexts (default open-if, FILE_NON_DIRECTORY_FILE)
//   plain_async C NAME ACCESS SHARE [DISPOSITION [OPTIONS]]
//        the same, only sent: the answer comes with "wait C" (while it
//        waits for a lease break of another client, that client can
//        "breakack")
//   poll C MS                          reads what C's connection receives
//        for MS ms (kept for later commands); prints whether C's
//        plain_async has had an interim response and its final answer
//   setname C NAME                     C's file was renamed (by another
//        client): its next DH2C names NAME
//   wait C                             the answer of C's plain_async, and
//        whether an interim response (STATUS_PENDING) came before it
//   breakack C                         waits for a lease break on C's
//        connection and, if it asks for one, acknowledges it with the
//        new state; prints both states
//   lock C OFF LEN [SEQ] | slock C OFF LEN [SEQ] | unlock C OFF LEN [SEQ]
//        SEQ: the LockSequence field (index << 4 | number), default 0
//   write C OFF TEXT [CHSEQ [replay]] | read C OFF LEN | close C | drop C
//        CHSEQ: the header's ChannelSequence; replay: the replay flag
//   write_send C OFF TEXT [CHSEQ [replay]]
//        the same write, sent without waiting for its answer (the write in
//        flight when the connection or its server fails)
//   setdelete C 1|0                    SET_INFO FileDispositionInformation:
//        C's file goes at its last close (1), or no longer (0)
//   reconnect C [otherkey|nolease]     new connection (same client GUID),
//        DH2C of the remembered handle with its lease key (or, to test the
//        server's checks, another lease key or no lease context)
//   copy C LOCAL PROGRESS RECLAIM_MS   writes the local file to C's handle
//        from offset 0; a write lost with the connection is followed by a
//        reclaim (as below) and sent again with the replay flag and the
//        next ChannelSequence; progress "BYTES TOTAL" in the file PROGRESS;
//        prints each failover's times and pause
//   lockloop C OFF LEN MS               asks for the range every 5 ms for
//        MS ms (a grant is unlocked at once); prints the tries and the
//        epoch ms of each refusal and grant
//   reclaim C DEADLINE_MS               reconnect, trying the connection
//        again (every 100 ms) while it fails with an I/O error, until
//        DEADLINE_MS: a failover moving the address; prints the attempts
//        and the milliseconds from the first try to the DH2C's answer
//   bench_create C NAME N PERSISTENT   N x (create with DH2Q + lease RWH,
//        close); prints the rate
//   bench_lock C N                      N x (lock, unlock) on C's handle
//   bench_write C NAME MIB PERSISTENT   sequential write of MIB MiB on a
//        handle opened with FILE_WRITE_THROUGH (+ DH2Q, lease RWH)
//   quit
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client.h"

using namespace samba_ca::smbclient3;

namespace {

// The client's TCP transport, watched: notes the interim responses
// (STATUS_PENDING, async) to a create sent with plain_async, and can read
// ahead for a while (Poll) to see whether its final answer has come, the
// frames kept for the client.
class WatchingTransport : public Transport {
 public:
  explicit WatchingTransport(std::unique_ptr<TcpTransport> tcp, int timeout_ms)
      : tcp_(std::move(tcp)), timeout_ms_(timeout_ms) {}

  Status Send(const uint8_t* pdu, size_t len) override {
    return tcp_->Send(pdu, len);
  }
  Status Recv(Bytes* pdu) override {
    if (!ahead_.empty()) {
      *pdu = std::move(ahead_.front());
      ahead_.erase(ahead_.begin());
      return Status::Ok();
    }
    Status s = tcp_->Recv(pdu);
    if (s.ok()) Note(*pdu);
    return s;
  }
  void Close() override { tcp_->Close(); }
  size_t max_message_size() const override {
    return tcp_->max_message_size();
  }

  // Watches the responses to message `id` from now on.
  void Watch(uint64_t id) {
    watched_ = id;
    interim_ = false;
    answered_ = false;
  }
  // Reads for `ms` milliseconds, keeping what comes for Recv().
  void Poll(int ms) {
    tcp_->set_recv_timeout_ms(ms);
    Bytes frame;
    while (tcp_->Recv(&frame).ok()) {
      Note(frame);
      ahead_.push_back(std::move(frame));
    }
    tcp_->set_recv_timeout_ms(timeout_ms_);
  }
  bool interim() const { return interim_; }
  bool answered() const { return answered_; }

 private:
  void Note(const Bytes& frame) {
    Smb2Header h;
    if (frame.size() < 4 || frame[0] != 0xFE ||
        !DecodeHeader(frame.data(), frame.size(), &h).ok() ||
        h.message_id != watched_) {
      return;
    }
    if ((h.flags & kFlagAsyncCommand) && h.status == kStatusPending) {
      interim_ = true;
    } else {
      answered_ = true;
    }
  }

  std::unique_ptr<TcpTransport> tcp_;
  int timeout_ms_;
  std::vector<Bytes> ahead_;
  uint64_t watched_ = ~0ull;
  bool interim_ = false;
  bool answered_ = false;
};

struct Handle {
  std::unique_ptr<Smb2Client> client;
  FileId fid;
  bool open = false;
  uint8_t create_guid[16] = {};
  uint8_t lease_key[16] = {};
  uint32_t lease_state = 0;
  bool persistent = false;
  std::string name;
  uint32_t access = 0;
  uint32_t share = 0;
  uint32_t create_options = kOptionNonDirectoryFile;
  WatchingTransport* transport = nullptr;  // owned by client
  uint64_t pending_create = 0;  // message id of a plain_async create
  CreateRequest pending_request;
};

std::map<std::string, Handle> clients;

void Err(const Status& s) {
  printf("ERR 0x%08x %s\n", s.ntstatus(), s.ToString().c_str());
}

// Asks for a lease V2 with `key` and `state` on `req`.
void AddLease(const uint8_t key[16], uint32_t state, CreateRequest* req) {
  LeaseV2 l;
  memcpy(l.key, key, 16);
  l.state = state;
  req->oplock_level = kOplockLease;
  req->contexts.push_back(MakeLeaseV2(l));
}

// The benchmarks' contexts: DH2Q (persistent or durable) with a fresh
// create GUID and a lease RWH with a fresh key.
void AddBenchContexts(bool persistent, CreateRequest* req) {
  DurableV2Request d;
  d.flags = persistent ? kDhandleFlagPersistent : 0;
  RAND_bytes(d.create_guid, 16);
  req->contexts.push_back(MakeDh2q(d));
  uint8_t key[16];
  RAND_bytes(key, 16);
  AddLease(key, kLeaseRead | kLeaseWrite | kLeaseHandle, req);
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

std::string LeaseName(uint32_t st) {
  std::string r;
  if (st & kLeaseRead) r += "R";
  if (st & kLeaseWrite) r += "W";
  if (st & kLeaseHandle) r += "H";
  return r.empty() ? "-" : r;
}

uint32_t ParseLease(const std::string& s) {
  uint32_t st = 0;
  for (char ch : s) {
    if (ch == 'R') st |= kLeaseRead;
    if (ch == 'W') st |= kLeaseWrite;
    if (ch == 'H') st |= kLeaseHandle;
  }
  return st;
}

struct ReclaimResult {
  bool same = false;
  std::string lease = "none";
  uint8_t oplock = 0;
  int attempts = 0;
  double ms = 0;
};

// New connection (same client GUID), DH2C of the remembered handle with
// its lease key (or, to test the server's checks, another lease key or no
// lease context).  With reclaim_ms > 0 the connection is tried again
// every 100 ms while it fails with an I/O error (a failover moving the
// address), until reclaim_ms.
Status Reclaim(Handle* hp, const std::string& variant, long reclaim_ms,
               ReclaimResult* out) {
  Handle& h = *hp;
  Smb2Client* c = h.client.get();
  c->DropConnection();
  auto t0 = std::chrono::steady_clock::now();
  Status s = c->Reconnect();
  out->attempts = 1;
  while (!s.ok() && s.IsIoError() && reclaim_ms > 0 &&
         SecondsSince(t0) * 1000 < reclaim_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = c->Reconnect();
    out->attempts++;
  }
  if (!s.ok()) return s;
  CreateRequest req;
  req.name = h.name;
  req.desired_access = h.access;
  req.share_access = h.share;
  req.create_disposition = kDispositionOpen;
  req.create_options = h.create_options;
  DurableV2Reconnect rc;
  rc.file_id = h.fid;
  memcpy(rc.create_guid, h.create_guid, 16);
  rc.flags = h.persistent ? kDhandleFlagPersistent : 0;
  req.contexts.push_back(MakeDh2c(rc));
  if (h.lease_state != 0 && variant == "otherkey") {
    uint8_t other[16];
    RAND_bytes(other, 16);
    AddLease(other, h.lease_state, &req);
  } else if (h.lease_state != 0 && variant != "nolease") {
    AddLease(h.lease_key, h.lease_state, &req);
  } else if (h.lease_state == 0) {
    req.oplock_level = kOplockBatch;
  }
  OpenResult r;
  s = c->Create(req, &r);
  if (!s.ok()) return s;
  out->same = r.response.file_id.persistent == h.fid.persistent;
  out->lease = r.lease_granted ? LeaseName(r.lease_state) : "none";
  out->oplock = r.response.oplock_level;
  out->ms = SecondsSince(t0) * 1000;
  h.fid = r.response.file_id;
  return Status::Ok();
}

double EpochMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// copy C LOCAL PROGRESS RECLAIM_MS: writes the local file LOCAL to C's
// open handle from offset 0, as a client behaving as Windows does: a
// write that fails with the connection (I/O error) is followed by a
// reconnect to the same address, DH2C with the create GUID, and the
// failed write sent again with the replay flag and the next
// ChannelSequence.  After each write "BYTES TOTAL" goes to PROGRESS.
// Prints the bytes written, each failover's times (epoch ms: the last
// answered write before, the failure, the DH2C's answer, the first
// answered write after) and the pause.
void Copy(Handle* hp, const std::string& local, const std::string& progress,
          long reclaim_ms) {
  Handle& h = *hp;
  Smb2Client* c = h.client.get();
  FILE* in = fopen(local.c_str(), "rb");
  if (in == nullptr) {
    printf("ERR 0xffffffff cannot open %s\n", local.c_str());
    return;
  }
  fseek(in, 0, SEEK_END);
  const uint64_t total = static_cast<uint64_t>(ftell(in));
  fseek(in, 0, SEEK_SET);
  const uint32_t chunk = std::min<uint32_t>(c->max_io_size(), 1u << 20);
  Bytes buf(chunk);
  uint64_t off = 0;
  uint16_t chseq = 0;
  double last_ack = EpochMs();
  std::string report;
  int failovers = 0;
  while (off < total) {
    const uint32_t len =
        static_cast<uint32_t>(std::min<uint64_t>(chunk, total - off));
    if (fread(buf.data(), 1, len, in) != len) {
      fclose(in);
      printf("ERR 0xffffffff short read of %s\n", local.c_str());
      return;
    }
    uint32_t n = 0;
    Status s = c->WriteReplay(h.fid, off, buf.data(), len, chseq, false, &n);
    if (!s.ok() && s.IsIoError()) {
      const double failed = EpochMs();
      ReclaimResult rr;
      s = Reclaim(&h, "", reclaim_ms, &rr);
      if (!s.ok()) {
        fclose(in);
        printf("ERR 0x%08x reclaim failed at byte %llu: %s\n", s.ntstatus(),
               static_cast<unsigned long long>(off), s.ToString().c_str());
        return;
      }
      const double dh2c = EpochMs();
      chseq++;
      s = c->WriteReplay(h.fid, off, buf.data(), len, chseq, true, &n);
      if (!s.ok()) {
        fclose(in);
        printf("ERR 0x%08x replayed write refused: %s\n", s.ntstatus(),
               s.ToString().c_str());
        return;
      }
      const double first = EpochMs();
      char line[400];
      snprintf(line, sizeof(line),
               " failover%d=at:%llu,last_ack:%.0f,failed:%.0f,dh2c:%.0f,"
               "same:%s,lease:%s,attempts:%d,replayed:%.0f,pause_ms:%.0f",
               ++failovers, static_cast<unsigned long long>(off), last_ack,
               failed, dh2c, rr.same ? "yes" : "no", rr.lease.c_str(),
               rr.attempts, first, first - last_ack);
      report += line;
    }
    if (!s.ok()) {
      fclose(in);
      printf("ERR 0x%08x write at %llu: %s\n", s.ntstatus(),
             static_cast<unsigned long long>(off), s.ToString().c_str());
      return;
    }
    if (n != len) {
      fclose(in);
      printf("ERR 0xffffffff short write at %llu\n",
             static_cast<unsigned long long>(off));
      return;
    }
    last_ack = EpochMs();
    off += n;
    FILE* p = fopen(progress.c_str(), "w");
    if (p != nullptr) {
      fprintf(p, "%llu %llu\n", static_cast<unsigned long long>(off),
              static_cast<unsigned long long>(total));
      fclose(p);
    }
  }
  fclose(in);
  printf("OK bytes=%llu failovers=%d%s\n",
         static_cast<unsigned long long>(off), failovers, report.c_str());
}

void Run(const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  if (cmd == "connect" && w.size() == 4) {
    ClientOptions o;
    std::string unc = w[2].substr(2);
    size_t slash = unc.find('/');
    o.host = unc.substr(0, slash);
    o.share = unc.substr(slash + 1);
    size_t pct = w[3].find('%');
    o.credentials.user = w[3].substr(0, pct);
    o.credentials.password = w[3].substr(pct + 1);
    o.dialects = {kDialect311};
    o.timeout_ms = 20000;
    Handle& h = clients[w[1]];
    h = Handle();
    Handle* hp = &h;  // map nodes stay put
    o.connect_transport = [hp](const ClientOptions& co,
                               std::unique_ptr<Transport>* out) {
      std::unique_ptr<TcpTransport> tcp;
      Status s = TcpTransport::Connect(co.host, co.port, co.timeout_ms, &tcp);
      if (!s.ok()) return s;
      tcp->set_recv_timeout_ms(co.timeout_ms);
      hp->transport = new WatchingTransport(std::move(tcp), co.timeout_ms);
      out->reset(hp->transport);
      return Status::Ok();
    };
    h.client.reset(new Smb2Client(o));
    Status s = h.client->Connect();
    if (!s.ok()) return Err(s);
    printf("OK share capabilities 0x%08x\n",
           h.client->info().tree.capabilities);
    return;
  }
  if (w.size() < 2 || clients.count(w[1]) == 0) {
    printf("ERR 0xffffffff usage or unknown client\n");
    return;
  }
  Handle& h = clients[w[1]];
  Smb2Client* c = h.client.get();
  if ((cmd == "open" && (w.size() == 8 || w.size() == 9)) ||
      (cmd == "opendir" && w.size() == 5)) {
    const bool dir = cmd == "opendir";
    const std::string variant = (w.size() == 9) ? w[8] : "";
    if (!variant.empty() && variant != "delete-on-close" &&
        variant != "same-guid") {
      printf("ERR 0xffffffff unknown open variant %s\n", variant.c_str());
      return;
    }
    CreateRequest req;
    req.name = w[2];
    req.create_disposition = kDispositionOpenIf;
    if (dir) {
      req.desired_access = 0x00100081;  // SYNCHRONIZE, read attrs, list
      req.share_access = 0x00000003;    // read, write
      req.file_attributes = 0x00000010;  // FILE_ATTRIBUTE_DIRECTORY
      req.create_options = 0x00000001;  // FILE_DIRECTORY_FILE
    } else {
      req.desired_access = strtoul(w[3].c_str(), nullptr, 0);
      req.share_access = strtoul(w[4].c_str(), nullptr, 0);
    }
    if (variant == "delete-on-close") {
      req.create_options |= 0x00001000;  // FILE_DELETE_ON_CLOSE
    }
    if (variant != "same-guid") {
      RAND_bytes(h.create_guid, 16);
      RAND_bytes(h.lease_key, 16);
    }
    const std::string& timeout = dir ? w[3] : w[5];
    const std::string& persistent = dir ? w[4] : w[7];
    const std::string lease = dir ? "" : w[6];
    DurableV2Request d;
    d.timeout_ms = strtoul(timeout.c_str(), nullptr, 0);
    d.flags = (persistent == "1") ? kDhandleFlagPersistent : 0;
    memcpy(d.create_guid, h.create_guid, 16);
    req.contexts.push_back(MakeDh2q(d));
    h.lease_state = ParseLease(lease);
    if (lease == "-") {
      req.oplock_level = kOplockBatch;
    } else if (!dir) {
      AddLease(h.lease_key, h.lease_state, &req);
    }
    h.create_options = req.create_options;
    OpenResult r;
    Status s = c->Create(req, &r);
    if (!s.ok()) return Err(s);
    h.fid = r.response.file_id;
    h.open = true;
    h.persistent = r.persistent;
    h.name = w[2];
    h.access = req.desired_access;
    h.share = req.share_access;
    printf(
        "OK fid=%llu durable=%d persistent=%d timeout=%u lease=%s "
        "oplock=0x%02x\n",
        static_cast<unsigned long long>(h.fid.persistent), r.durable,
        r.persistent, r.durable_timeout_ms,
        r.lease_granted ? LeaseName(r.lease_state).c_str() : "none",
        r.response.oplock_level);
    return;
  }
  if ((cmd == "plain" || cmd == "plain_async") && w.size() >= 5 &&
      w.size() <= 7) {
    CreateRequest req;
    req.name = w[2];
    req.desired_access = strtoul(w[3].c_str(), nullptr, 0);
    req.share_access = strtoul(w[4].c_str(), nullptr, 0);
    req.create_disposition = kDispositionOpenIf;
    if (w.size() >= 6) {
      req.create_disposition = strtoul(w[5].c_str(), nullptr, 0);
    }
    if (w.size() == 7) req.create_options = strtoul(w[6].c_str(), nullptr, 0);
    if (cmd == "plain_async") {
      Status s = c->CreateSend(req, &h.pending_create);
      if (!s.ok()) return Err(s);
      if (h.transport != nullptr) h.transport->Watch(h.pending_create);
      h.pending_request = req;
      printf("OK sent\n");
      return;
    }
    OpenResult r;
    Status s = c->Create(req, &r);
    if (!s.ok()) return Err(s);
    h.fid = r.response.file_id;
    h.open = true;
    printf("OK fid=%llu\n", static_cast<unsigned long long>(h.fid.persistent));
    return;
  }
  if (cmd == "poll" && w.size() == 3) {
    if (h.transport == nullptr) {
      printf("ERR 0xffffffff not connected\n");
      return;
    }
    h.transport->Poll(atoi(w[2].c_str()));
    printf("OK interim=%s answered=%s\n",
           h.transport->interim() ? "yes" : "no",
           h.transport->answered() ? "yes" : "no");
    return;
  }
  if (cmd == "setname" && w.size() == 3) {
    h.name = w[2];
    printf("OK\n");
    return;
  }
  if (cmd == "wait") {
    OpenResult r;
    Status s = c->CreateReceive(h.pending_create, h.pending_request, &r);
    const char* interim =
        (h.transport != nullptr && h.transport->interim()) ? "yes" : "no";
    if (!s.ok()) {
      printf("ERR 0x%08x %s (interim=%s)\n", s.ntstatus(),
             s.ToString().c_str(), interim);
      return;
    }
    h.fid = r.response.file_id;
    h.open = true;
    printf("OK fid=%llu interim=%s\n",
           static_cast<unsigned long long>(h.fid.persistent), interim);
    return;
  }
  if (cmd == "breakack") {
    LeaseBreak b;
    Status s = c->WaitLeaseBreak(&b);
    if (!s.ok()) return Err(s);
    // h.lease_state stays what the open asked for: a DH2C names the
    // lease by key, the server answers with the state it holds.
    if (!(b.flags & kLeaseBreakAckRequired)) {
      printf("OK break %s->%s noack\n", LeaseName(b.current_state).c_str(),
             LeaseName(b.new_state).c_str());
      return;
    }
    uint32_t granted = 0;
    s = c->LeaseBreakAck(b.key, b.new_state, &granted);
    if (!s.ok()) return Err(s);
    printf("OK break %s->%s acked=%s\n", LeaseName(b.current_state).c_str(),
           LeaseName(b.new_state).c_str(), LeaseName(granted).c_str());
    return;
  }
  if ((cmd == "lock" || cmd == "slock" || cmd == "unlock") &&
      (w.size() == 4 || w.size() == 5)) {
    LockElement l;
    l.offset = strtoull(w[2].c_str(), nullptr, 0);
    l.length = strtoull(w[3].c_str(), nullptr, 0);
    if (cmd == "unlock") {
      l.flags = kLockUnlock;
    } else {
      l.flags = ((cmd == "lock") ? kLockExclusive : kLockShared) |
                kLockFailImmediately;
    }
    uint32_t seq =
        (w.size() == 5) ? strtoul(w[4].c_str(), nullptr, 0) : 0;
    Status s = c->Lock(h.fid, {l}, seq);
    if (!s.ok()) return Err(s);
    printf("OK\n");
    return;
  }
  if ((cmd == "write" || cmd == "write_send") && w.size() >= 4 &&
      w.size() <= 6) {
    // [CHSEQ [replay]]: the header's ChannelSequence, the replay flag
    const uint16_t chseq = (w.size() >= 5)
                               ? static_cast<uint16_t>(
                                     strtoul(w[4].c_str(), nullptr, 0))
                               : 0;
    if (w.size() == 6 && w[5] != "replay") {
      printf("ERR 0xffffffff unknown write variant %s\n", w[5].c_str());
      return;
    }
    const bool replay = w.size() == 6;
    const uint64_t off = strtoull(w[2].c_str(), nullptr, 0);
    const uint8_t* data = reinterpret_cast<const uint8_t*>(w[3].data());
    const uint32_t len = static_cast<uint32_t>(w[3].size());
    if (cmd == "write_send") {
      Status s = c->WriteSend(h.fid, off, data, len, chseq, replay);
      if (!s.ok()) return Err(s);
      printf("OK sent\n");
      return;
    }
    uint32_t n = 0;
    Status s = (w.size() == 4)
                   ? c->Write(h.fid, off, data, len, &n)
                   : c->WriteReplay(h.fid, off, data, len, chseq, replay, &n);
    if (!s.ok()) return Err(s);
    printf("OK %u\n", n);
    return;
  }
  if (cmd == "read" && w.size() == 4) {
    Bytes data;
    Status s = c->Read(h.fid, strtoull(w[2].c_str(), nullptr, 0),
                       strtoul(w[3].c_str(), nullptr, 0), &data);
    if (!s.ok()) return Err(s);
    printf("OK %s\n", std::string(data.begin(), data.end()).c_str());
    return;
  }
  if (cmd == "setdelete" && w.size() == 3 && (w[2] == "1" || w[2] == "0")) {
    Status s = c->SetDeleteOnClose(h.fid, w[2] == "1");
    if (!s.ok()) return Err(s);
    printf("OK\n");
    return;
  }
  if (cmd == "close") {
    Status s = c->Close(h.fid);
    if (!s.ok()) return Err(s);
    h.open = false;
    printf("OK\n");
    return;
  }
  if (cmd == "drop") {
    c->DropConnection();
    printf("OK\n");
    return;
  }
  if ((cmd == "reconnect" && w.size() <= 3) ||
      (cmd == "reclaim" && w.size() == 3)) {
    const std::string variant =
        (cmd == "reconnect" && w.size() == 3) ? w[2] : "";
    const long reclaim_ms =
        (cmd == "reclaim") ? strtol(w[2].c_str(), nullptr, 0) : 0;
    if (!variant.empty() && variant != "otherkey" && variant != "nolease") {
      printf("ERR 0xffffffff unknown reconnect variant %s\n",
             variant.c_str());
      return;
    }
    ReclaimResult rr;
    Status s = Reclaim(&h, variant, reclaim_ms, &rr);
    if (!s.ok()) return Err(s);
    printf("OK fid=%llu same=%s lease=%s oplock=0x%02x attempts=%d "
           "ms=%.0f\n",
           static_cast<unsigned long long>(h.fid.persistent),
           rr.same ? "yes" : "no", rr.lease.c_str(), rr.oplock, rr.attempts,
           rr.ms);
    return;
  }
  if (cmd == "lockloop" && w.size() == 5) {
    // asks for [OFF, OFF+LEN) every 5 ms for MS ms (a grant is given
    // back at once); prints the tries and the time (epoch ms) of each
    // refusal and grant
    LockElement l;
    l.offset = strtoull(w[2].c_str(), nullptr, 0);
    l.length = strtoull(w[3].c_str(), nullptr, 0);
    const double until = EpochMs() + strtol(w[4].c_str(), nullptr, 0);
    int tries = 0;
    std::string refused, granted;
    while (EpochMs() < until) {
      l.flags = kLockExclusive | kLockFailImmediately;
      Status s = c->Lock(h.fid, {l});
      const double t = EpochMs();
      tries++;
      char buf[32];
      snprintf(buf, sizeof(buf), "%s%.0f", "", t);
      if (s.ok()) {
        granted += (granted.empty() ? "" : ",") + std::string(buf);
        l.flags = kLockUnlock;
        c->Lock(h.fid, {l});
      } else if (s.IsServerError()) {
        refused += (refused.empty() ? "" : ",") + std::string(buf);
      } else {
        return Err(s);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    printf("OK tries=%d refused=%s granted=%s\n", tries,
           refused.empty() ? "-" : refused.c_str(),
           granted.empty() ? "-" : granted.c_str());
    return;
  }
  if (cmd == "copy" && w.size() == 5) {
    return Copy(&h, w[2], w[3], strtol(w[4].c_str(), nullptr, 0));
  }
  if (cmd == "bench_create" && w.size() == 5) {
    int n = atoi(w[3].c_str());
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; i++) {
      CreateRequest req;
      req.name = w[2];
      AddBenchContexts(w[4] == "1", &req);
      OpenResult r;
      Status s = c->Create(req, &r);
      if (!s.ok()) return Err(s);
      if (r.persistent != (w[4] == "1") || !r.durable) {
        printf("ERR 0xffffffff not granted as asked\n");
        return;
      }
      s = c->Close(r.response.file_id);
      if (!s.ok()) return Err(s);
    }
    double secs = SecondsSince(t0);
    printf("OK %d create+close in %.3f s: %.1f/s\n", n, secs, n / secs);
    return;
  }
  if (cmd == "bench_lock" && w.size() == 3) {
    int n = atoi(w[2].c_str());
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; i++) {
      LockElement l;
      l.offset = 0;
      l.length = 10;
      l.flags = kLockExclusive | kLockFailImmediately;
      uint32_t seq =
        (w.size() == 5) ? strtoul(w[4].c_str(), nullptr, 0) : 0;
    Status s = c->Lock(h.fid, {l}, seq);
      if (!s.ok()) return Err(s);
      l.flags = kLockUnlock;
      s = c->Lock(h.fid, {l});
      if (!s.ok()) return Err(s);
    }
    double secs = SecondsSince(t0);
    printf("OK %d lock+unlock in %.3f s: %.1f/s\n", n, secs, n / secs);
    return;
  }
  if (cmd == "bench_write" && w.size() == 5) {
    uint64_t total = strtoull(w[3].c_str(), nullptr, 0) << 20;
    CreateRequest req;
    req.name = w[2];
    req.create_disposition = kDispositionOverwriteIf;
    req.create_options |= 0x00000002;  // FILE_WRITE_THROUGH
    AddBenchContexts(w[4] == "1", &req);
    OpenResult r;
    Status s = c->Create(req, &r);
    if (!s.ok()) return Err(s);
    uint32_t chunk = std::min<uint32_t>(c->max_io_size(), 1u << 20);
    Bytes buf(chunk, 0x5a);
    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t off = 0; off < total;) {
      uint32_t n = 0;
      s = c->Write(r.response.file_id, off, buf.data(), chunk, &n);
      if (!s.ok()) return Err(s);
      if (n == 0) {
        printf("ERR 0xffffffff short write\n");
        return;
      }
      off += n;
    }
    double secs = SecondsSince(t0);
    s = c->Close(r.response.file_id);
    if (!s.ok()) return Err(s);
    printf(
        "OK %llu MiB in %.3f s: %.1f MiB/s (persistent=%d, %u-byte "
        "writes)\n",
        static_cast<unsigned long long>(total >> 20), secs,
        (total >> 20) / secs, r.persistent, chunk);
    return;
  }
  printf("ERR 0xffffffff unknown command %s\n", cmd.c_str());
}

}  // namespace

int main() {
  std::string line;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> w;
    std::string word;
    while (in >> word) w.push_back(word);
    if (w.empty()) continue;
    if (w[0] == "quit") break;
    Run(w);
    fflush(stdout);
  }
  return 0;
}
