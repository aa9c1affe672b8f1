// Copyright (C) samba-ca authors. GPLv3+.
//
// sca_smbclient: a small command-line SMB 2/3 client on smbclient3/, for
// interop tests. It prints what was negotiated (dialect, signing algorithm,
// cipher, share capabilities, durable/persistent grants) and copies files.
//
//   sca_smbclient //HOST/SHARE -U USER%PASS [options] COMMAND [ARGS]
//
// Commands: info | put LOCAL REMOTE | get REMOTE LOCAL |
//           reconnect-put LOCAL REMOTE | lock REMOTE | tamper-test

#include <openssl/rand.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client.h"

namespace samba_ca {
namespace smbclient3 {
namespace {

const char kUsage[] =
    "usage: sca_smbclient //HOST/SHARE -U USER[%PASS] [options] COMMAND\n"
    "options:\n"
    "  -W DOMAIN            NTLM domain (default: the server's)\n"
    "  -p PORT              TCP port (445)\n"
    "  --dialect D          offer only D: 2.0.2 2.1 3.0 3.0.2 3.1.1\n"
    "  --max-dialect D      offer 2.0.2 up to D\n"
    "  --sign ALG           3.1.1 signing algorithm to offer: hmac cmac gmac\n"
    "  --seal [CIPHER]      encrypt; 3.1.1 cipher to offer: ccm128 gcm128\n"
    "                       ccm256 gcm256 (default: all)\n"
    "  --no-signing-required  do not ask the server to sign everything\n"
    "  --durable            request a durable v2 handle (DH2Q)\n"
    "  --persistent         request a persistent handle (DH2Q flag)\n"
    "  --lease              request an RWH lease (RqLs v2)\n"
    "  --timeout-ms N       transport timeout (30000)\n"
    "commands:\n"
    "  info                       connect and print what was negotiated\n"
    "  put LOCAL REMOTE           copy a local file to the share\n"
    "  get REMOTE LOCAL           copy a file from the share\n"
    "  reconnect-put LOCAL REMOTE put with a dropped connection halfway,\n"
    "                             reconnect and DH2C reopen (durable)\n"
    "  lock REMOTE                lock and unlock a range of REMOTE\n"
    "  tamper-test                flip a bit of a protected response; the\n"
    "                             client must refuse it\n";

struct Args {
  ClientOptions options;
  bool durable = false;
  bool persistent = false;
  bool lease = false;
  std::vector<std::string> command;
};

int Usage(const char* why) {
  if (why != nullptr) fprintf(stderr, "sca_smbclient: %s\n", why);
  fputs(kUsage, stderr);
  return 2;
}

int Fail(const char* what, const Status& s) {
  fprintf(stderr, "sca_smbclient: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  bool have_unc = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) {
        *err = arg + " needs a value";
        return false;
      }
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-U") {
      if (!next(&v)) return false;
      size_t pct = v.find('%');
      std::string user = v.substr(0, pct);
      if (pct != std::string::npos)
        a->options.credentials.password = v.substr(pct + 1);
      size_t sep = user.find_first_of("\\/");
      if (sep != std::string::npos) {
        a->options.credentials.domain = user.substr(0, sep);
        user = user.substr(sep + 1);
      }
      a->options.credentials.user = user;
    } else if (arg == "-W") {
      if (!next(&v)) return false;
      a->options.credentials.domain = v;
    } else if (arg == "-p") {
      if (!next(&v)) return false;
      a->options.port = static_cast<uint16_t>(atoi(v.c_str()));
    } else if (arg == "--dialect" || arg == "--max-dialect") {
      if (!next(&v)) return false;
      uint16_t d;
      Status s = ParseDialect(v, &d);
      if (!s.ok()) {
        *err = s.message();
        return false;
      }
      if (arg == "--dialect") {
        a->options.dialects = {d};
      } else {
        std::vector<uint16_t> ds;
        for (uint16_t x : {kDialect202, kDialect210, kDialect300, kDialect302,
                           kDialect311}) {
          if (x <= d) ds.push_back(x);
        }
        a->options.dialects = ds;
      }
    } else if (arg == "--sign") {
      if (!next(&v)) return false;
      SigningAlgorithm alg;
      Status s = ParseSigningAlgorithm(v, &alg);
      if (!s.ok()) {
        *err = s.message();
        return false;
      }
      a->options.signing_algorithms = {alg};
    } else if (arg == "--seal") {
      a->options.seal = true;
      if (i + 1 < argc && argv[i + 1][0] != '-' &&
          std::string(argv[i + 1]).find_first_of("0123456789") !=
              std::string::npos &&
          (strncmp(argv[i + 1], "ccm", 3) == 0 ||
           strncmp(argv[i + 1], "gcm", 3) == 0)) {
        CipherId c;
        Status s = ParseCipher(argv[++i], &c);
        if (!s.ok()) {
          *err = s.message();
          return false;
        }
        a->options.ciphers = {c};
      }
    } else if (arg == "--no-signing-required") {
      a->options.require_signing = false;
    } else if (arg == "--durable") {
      a->durable = true;
    } else if (arg == "--persistent") {
      a->durable = true;
      a->persistent = true;
    } else if (arg == "--lease") {
      a->lease = true;
    } else if (arg == "--timeout-ms") {
      if (!next(&v)) return false;
      a->options.timeout_ms = atoi(v.c_str());
    } else if (!have_unc && arg.size() > 2 &&
               (arg.compare(0, 2, "//") == 0 ||
                arg.compare(0, 2, "\\\\") == 0)) {
      std::string rest = arg.substr(2);
      size_t slash = rest.find_first_of("/\\");
      if (slash == std::string::npos || slash + 1 >= rest.size()) {
        *err = "UNC must be //HOST/SHARE";
        return false;
      }
      a->options.host = rest.substr(0, slash);
      a->options.share = rest.substr(slash + 1);
      have_unc = true;
    } else if (!arg.empty() && arg[0] == '-') {
      *err = "unknown option " + arg;
      return false;
    } else {
      a->command.push_back(arg);
    }
  }
  if (!have_unc) {
    *err = "no //HOST/SHARE given";
    return false;
  }
  if (a->command.empty()) {
    *err = "no command given";
    return false;
  }
  return true;
}

void PrintInfo(const Smb2Client& c) {
  const ConnectionInfo& i = c.info();
  printf("dialect: %s\n", DialectName(i.dialect));
  printf("server capabilities: 0x%08x%s%s%s\n", i.server_capabilities,
         (i.server_capabilities & kCapPersistentHandles) ? " PERSISTENT_HANDLES"
                                                         : "",
         (i.server_capabilities & kCapEncryption) ? " ENCRYPTION" : "",
         (i.server_capabilities & kCapLeasing) ? " LEASING" : "");
  printf("signing: %s%s\n", SigningAlgorithmName(i.signing_algorithm),
         i.signing_negotiated ? " (negotiated)" : " (dialect default)");
  if (i.encrypting) {
    printf("cipher: %s (sealed)\n", CipherName(i.cipher));
  } else if (i.cipher_negotiated) {
    printf("cipher: %s (available, not used)\n", CipherName(i.cipher));
  } else {
    printf("cipher: none\n");
  }
  printf("session flags: 0x%04x\n", i.session_flags);
  printf(
      "share flags: 0x%08x capabilities: 0x%08x CA=%s\n", i.tree.share_flags,
      i.tree.capabilities,
      (i.tree.capabilities & kShareCapContinuousAvailability) ? "yes" : "no");
}

void PrintCounters(const Smb2Client& c) {
  printf("signed responses verified: %llu\n",
         static_cast<unsigned long long>(c.info().signed_responses_verified));
  printf("encrypted responses opened: %llu\n",
         static_cast<unsigned long long>(c.info().encrypted_responses_opened));
}

CreateRequest MakeCreate(const Args& a, const std::string& name, bool write,
                         uint8_t create_guid[16], uint8_t lease_key[16]) {
  CreateRequest req;
  req.name = name;
  req.desired_access = kAccessReadWriteAttrs;
  req.create_disposition = write ? kDispositionOverwriteIf : kDispositionOpen;
  if (a.durable) {
    DurableV2Request d;
    d.timeout_ms = 60000;
    d.flags = a.persistent ? kDhandleFlagPersistent : 0;
    memcpy(d.create_guid, create_guid, 16);
    req.contexts.push_back(MakeDh2q(d));
    if (!a.lease) req.oplock_level = kOplockBatch;
  }
  if (a.lease) {
    LeaseV2 l;
    memcpy(l.key, lease_key, 16);
    l.state = kLeaseRead | kLeaseHandle | (write ? kLeaseWrite : 0);
    req.oplock_level = kOplockLease;
    req.contexts.push_back(MakeLeaseV2(l));
  }
  return req;
}

void PrintOpen(const OpenResult& r) {
  printf("open: durable=%s persistent=%s timeout=%ums lease=%s",
         r.durable ? "yes" : "no", r.persistent ? "yes" : "no",
         r.durable_timeout_ms, r.lease_granted ? "yes" : "no");
  if (r.lease_granted) {
    printf(" (%s%s%s)", (r.lease_state & kLeaseRead) ? "R" : "",
           (r.lease_state & kLeaseHandle) ? "H" : "",
           (r.lease_state & kLeaseWrite) ? "W" : "");
  }
  printf(" oplock=0x%02x\n", r.response.oplock_level);
}

bool ReadLocal(const std::string& path, Bytes* out) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t buf[65536];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    out->insert(out->end(), buf, buf + n);
  bool ok = !ferror(f);
  fclose(f);
  return ok;
}

Status WriteAll(Smb2Client* c, const FileId& fid, const Bytes& data,
                size_t from, size_t to) {
  size_t chunk = c->max_io_size();
  for (size_t off = from; off < to;) {
    uint32_t n = static_cast<uint32_t>(std::min(chunk, to - off));
    uint32_t written = 0;
    SCA_RETURN_IF_ERROR(c->Write(fid, off, data.data() + off, n, &written));
    if (written == 0) return Status::ProtocolError("WRITE wrote nothing");
    off += written;
  }
  return Status::Ok();
}

int CmdPut(const Args& a, Smb2Client* c, bool with_reconnect) {
  if (a.command.size() != 3) return Usage("put LOCAL REMOTE");
  Bytes data;
  if (!ReadLocal(a.command[1], &data)) {
    fprintf(stderr, "sca_smbclient: cannot read %s: %s\n", a.command[1].c_str(),
            strerror(errno));
    return 1;
  }
  uint8_t guid[16], lease_key[16];
  RAND_bytes(guid, 16);
  RAND_bytes(lease_key, 16);
  CreateRequest req = MakeCreate(a, a.command[2], true, guid, lease_key);
  OpenResult open;
  Status s = c->Create(req, &open);
  if (!s.ok()) return Fail("create", s);
  PrintOpen(open);
  size_t half = with_reconnect ? data.size() / 2 : data.size();
  s = WriteAll(c, open.response.file_id, data, 0, half);
  if (!s.ok()) return Fail("write", s);
  FileId fid = open.response.file_id;
  if (with_reconnect) {
    if (!open.durable) {
      fprintf(stderr,
              "sca_smbclient: the server did not grant a durable handle\n");
      return 1;
    }
    c->DropConnection();
    s = c->Reconnect();
    if (!s.ok()) return Fail("reconnect", s);
    CreateRequest re = req;
    re.contexts.clear();
    DurableV2Reconnect rc;
    rc.file_id = fid;
    memcpy(rc.create_guid, guid, 16);
    rc.flags = a.persistent ? kDhandleFlagPersistent : 0;
    re.contexts.push_back(MakeDh2c(rc));
    if (a.lease) {
      LeaseV2 l;
      memcpy(l.key, lease_key, 16);
      l.state = kLeaseRead | kLeaseHandle | kLeaseWrite;
      re.contexts.push_back(MakeLeaseV2(l));
    }
    OpenResult reopened;
    s = c->Create(re, &reopened);
    if (!s.ok()) return Fail("DH2C reopen", s);
    printf("reconnect: reopened with DH2C, same file id: %s\n",
           (reopened.response.file_id.persistent == fid.persistent) ? "yes"
                                                                    : "no");
    fid = reopened.response.file_id;
    s = WriteAll(c, fid, data, half, data.size());
    if (!s.ok()) return Fail("write after reconnect", s);
  }
  s = c->Close(fid);
  if (!s.ok()) return Fail("close", s);
  printf("put: %zu bytes\n", data.size());
  return 0;
}

int CmdGet(const Args& a, Smb2Client* c) {
  if (a.command.size() != 3) return Usage("get REMOTE LOCAL");
  uint8_t guid[16], lease_key[16];
  RAND_bytes(guid, 16);
  RAND_bytes(lease_key, 16);
  CreateRequest req = MakeCreate(a, a.command[1], false, guid, lease_key);
  req.desired_access = 0x00120089;  // FILE_GENERIC_READ
  OpenResult open;
  Status s = c->Create(req, &open);
  if (!s.ok()) return Fail("create", s);
  PrintOpen(open);
  FILE* f = fopen(a.command[2].c_str(), "wb");
  if (f == nullptr) {
    fprintf(stderr, "sca_smbclient: cannot write %s: %s\n",
            a.command[2].c_str(), strerror(errno));
    return 1;
  }
  uint64_t off = 0;
  while (true) {
    Bytes chunk;
    s = c->Read(open.response.file_id, off, c->max_io_size(), &chunk);
    if (!s.ok()) {
      fclose(f);
      return Fail("read", s);
    }
    if (chunk.empty()) break;
    fwrite(chunk.data(), 1, chunk.size(), f);
    off += chunk.size();
  }
  if (fclose(f) != 0) {
    fprintf(stderr, "sca_smbclient: writing %s failed\n", a.command[2].c_str());
    return 1;
  }
  s = c->Close(open.response.file_id);
  if (!s.ok()) return Fail("close", s);
  printf("get: %llu bytes\n", static_cast<unsigned long long>(off));
  return 0;
}

int CmdLock(const Args& a, Smb2Client* c) {
  if (a.command.size() != 2) return Usage("lock REMOTE");
  uint8_t guid[16], lease_key[16];
  RAND_bytes(guid, 16);
  RAND_bytes(lease_key, 16);
  CreateRequest req = MakeCreate(a, a.command[1], false, guid, lease_key);
  req.create_disposition = kDispositionOpenIf;
  OpenResult open;
  Status s = c->Create(req, &open);
  if (!s.ok()) return Fail("create", s);
  LockElement l;
  l.offset = 0;
  l.length = 4096;
  l.flags = kLockExclusive | kLockFailImmediately;
  s = c->Lock(open.response.file_id, {l});
  if (!s.ok()) return Fail("lock", s);
  l.flags = kLockUnlock;
  s = c->Lock(open.response.file_id, {l});
  if (!s.ok()) return Fail("unlock", s);
  s = c->Close(open.response.file_id);
  if (!s.ok()) return Fail("close", s);
  printf("lock: locked and unlocked [0, 4096)\n");
  return 0;
}

int CmdTamper(Smb2Client* c) {
  c->TamperNextProtectedResponse();
  Status s = c->Echo();
  if (s.ok()) {
    fprintf(stderr,
            "sca_smbclient: tamper NOT detected: a modified response "
            "was accepted\n");
    return 1;
  }
  if (!s.IsAuthFailed()) return Fail("tamper-test: unexpected error", s);
  printf("tamper: detected (%s)\n", s.ToString().c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Args a;
  std::string err;
  if (!ParseArgs(argc, argv, &a, &err)) return Usage(err.c_str());
  Smb2Client client(a.options);
  Status s = client.Connect();
  if (!s.ok()) return Fail("connect", s);
  PrintInfo(client);
  const std::string& cmd = a.command[0];
  int rc;
  if (cmd == "info") {
    rc = 0;
  } else if (cmd == "put") {
    rc = CmdPut(a, &client, false);
  } else if (cmd == "reconnect-put") {
    rc = CmdPut(a, &client, true);
  } else if (cmd == "get") {
    rc = CmdGet(a, &client);
  } else if (cmd == "lock") {
    rc = CmdLock(a, &client);
  } else if (cmd == "tamper-test") {
    rc = CmdTamper(&client);
    PrintCounters(client);
    return rc;
  } else {
    return Usage(("unknown command " + cmd).c_str());
  }
  if (rc == 0) {
    s = client.TreeDisconnect();
    if (s.ok()) s = client.Logoff();
    if (!s.ok()) return Fail("disconnect", s);
  }
  PrintCounters(client);
  return rc;
}

}  // namespace
}  // namespace smbclient3
}  // namespace samba_ca

int main(int argc, char** argv) {
  return samba_ca::smbclient3::Main(argc, argv);
}
