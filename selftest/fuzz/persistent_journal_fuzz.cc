// Copyright (C) samba-ca authors. GPLv3+.
//
// libFuzzer target for the journal's readers (persistent_core/journal.h):
// the header check of Journal::OpenLocked, the entry scan of Journal::Fold
// that replays a journal after a reboot, and ReadBootId, on a file holding
// the input (in a private directory, on /dev/shm when there is one, or in
// JOURNAL_FUZZ_DIR).
//
// The first input byte chooses a mode:
//   bit 0  put a good header (written once by Journal::Rewrite) first;
//   bit 1  read the rest as chunks (u8 kind, u16 length, bytes): kind 0 is
//          copied as it is, kind 1 is framed as an entry with a correct
//          magic, length and checksum so that the payload decoder gets it,
//          kind 2 is turned into operations and encoded by
//          Journal::EncodeEntry; otherwise the rest is copied as it is;
//   bit 2  also read the rest as a boot id file.
// Invariants (abort on violation): nothing crashes or reads out of bounds;
// a refused header is PCORE_CORRUPT_RECORD or PCORE_UNKNOWN_VERSION; Fold of
// an opened journal succeeds, and reports a problem exactly when it skipped
// bytes, never more bytes than the file has; a journal of good entries only
// folds to what they say with nothing skipped; whatever Fold found,
// rewritten by Journal::Rewrite, folds back to the same keys and values.
//
// clang++-14 -fsanitize=fuzzer,address,undefined -Ipersistent_core with
// the core's sources builds the libFuzzer binary.  With
// -DPCORE_FUZZ_STANDALONE (g++ with ASan/UBSan) it is a plain driver:
// arguments are input files, or without arguments JOURNAL_FUZZ_ITERATIONS
// (default 20000) seeded random inputs.

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "coding.h"
#include "crc32c.h"
#include "journal.h"
#include "store.h"

namespace {

namespace pc = samba_ca::persistent;

constexpr uint8_t kBootId[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                 9, 10, 11, 12, 13, 14, 15, 16};

struct Files {
  std::string dir;
  std::string journal;
  std::string boot_id;
  std::string header;  // a good header, as Rewrite writes it
};

void WriteFile(const std::string& path, const std::string& bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    perror(path.c_str());
    abort();
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      perror(path.c_str());
      abort();
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
}

Files* g_files = nullptr;

void RemoveFiles() {
  if (g_files != nullptr) {
    unlink(g_files->journal.c_str());
    unlink((g_files->journal + ".new").c_str());
    unlink(g_files->boot_id.c_str());
    rmdir(g_files->dir.c_str());
  }
}

Files& GetFiles() {
  if (g_files != nullptr) {
    return *g_files;
  }
  // JOURNAL_FUZZ_DIR: where the run's own directory goes (a runner that
  // removes it after a crash, which skips atexit).
  const char* base = getenv("JOURNAL_FUZZ_DIR");
  if (base == nullptr && access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  }
  if (base == nullptr) {
    base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
  }
  std::string tmpl = std::string(base) + "/journal_fuzz.XXXXXX";
  if (mkdtemp(&tmpl[0]) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  g_files = new Files;
  g_files->dir = tmpl;
  g_files->journal = tmpl + "/journal";
  g_files->boot_id = tmpl + "/boot_id";
  atexit(RemoveFiles);
  // The header of an empty journal, from the writer itself.
  pc::Journal j;
  bool fresh = false;
  if (!j.OpenLocked(g_files->journal, &fresh).ok() || !fresh ||
      !j.Rewrite(pc::KeyValueMap(), kBootId).ok()) {
    abort();
  }
  FILE* f = fopen(g_files->journal.c_str(), "rb");
  char buf[pc::Journal::kHeaderSize];
  if (f == nullptr || fread(buf, 1, sizeof(buf), f) != sizeof(buf)) {
    abort();
  }
  fclose(f);
  g_files->header.assign(buf, sizeof(buf));
  return *g_files;
}

// An entry around any payload, framed as journal.h describes it.
std::string FrameEntry(const uint8_t* payload, size_t len) {
  std::string entry;
  pc::PutFixed32(&entry, pc::Journal::kEntryMagic);
  pc::PutFixed32(&entry, static_cast<uint32_t>(len));
  uint32_t crc =
      pc::Crc32c(reinterpret_cast<const uint8_t*>(entry.data()) + 4, 4);
  pc::PutFixed32(&entry, pc::Crc32cExtend(crc, payload, len));
  entry.append(reinterpret_cast<const char*>(payload), len);
  return entry;
}

// Operations read from bytes: u8 (low bit: put or delete), u8 key length
// (one more than it says: keys are never empty), key, for a put u8 value
// length and value.  Applied to *expect as Fold would apply them.
pc::WriteBatch BatchFrom(const uint8_t* p, size_t len,
                         pc::KeyValueMap* expect) {
  pc::WriteBatch batch;
  size_t at = 0;
  auto take = [&](size_t n) {
    n = n < len - at ? n : len - at;
    std::string s(reinterpret_cast<const char*>(p + at), n);
    at += n;
    return s;
  };
  while (at + 2 <= len) {
    bool put = (p[at] & 1) != 0;
    size_t klen = 1 + p[at + 1];
    at += 2;
    std::string key = take(klen);
    if (key.empty()) {
      break;
    }
    if (put) {
      size_t vlen = at < len ? p[at++] : 0;
      std::string value = take(vlen);
      (*expect)[key] = value;
      batch.Put(std::move(key), std::move(value));
    } else {
      expect->erase(key);
      batch.Delete(std::move(key));
    }
  }
  return batch;
}

// The journal file for an input, and whether it holds good entries only
// (then *expect is what folding it must give).
std::string BuildJournal(uint8_t mode, const uint8_t* p, size_t len,
                         pc::KeyValueMap* expect, bool* only_good) {
  const Files& files = GetFiles();
  std::string file = (mode & 1) ? files.header : std::string();
  *only_good = (mode & 1) != 0;
  if (!(mode & 2)) {
    file.append(reinterpret_cast<const char*>(p), len);
    *only_good = *only_good && len == 0;
    return file;
  }
  size_t at = 0;
  while (at + 3 <= len) {
    uint8_t kind = p[at] % 3;
    size_t n = p[at + 1] | (p[at + 2] << 8);
    at += 3;
    n = n < len - at ? n : len - at;
    switch (kind) {
      case 0:
        file.append(reinterpret_cast<const char*>(p + at), n);
        *only_good = *only_good && n == 0;
        break;
      case 1:
        file += FrameEntry(p + at, n);
        *only_good = false;  // the payload may be anything
        break;
      default:
        file += pc::Journal::EncodeEntry(BatchFrom(p + at, n, expect));
        break;
    }
    at += n;
  }
  if (at < len) {
    file.append(reinterpret_cast<const char*>(p + at), len - at);
    *only_good = false;
  }
  return file;
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) {
    return;
  }
  const Files& files = GetFiles();
  uint8_t mode = data[0];
  const uint8_t* p = data + 1;
  size_t len = size - 1;

  if (mode & 4) {
    WriteFile(files.boot_id,
              std::string(reinterpret_cast<const char*>(p), len));
    uint8_t boot_id[16];
    pc::Status s = pc::ReadBootId(files.boot_id, boot_id);
    if (!s.ok() && s.code() != PCORE_INVALID_PARAMETER) {
      abort();
    }
  }

  pc::KeyValueMap expect;
  bool only_good = false;
  std::string file = BuildJournal(mode, p, len, &expect, &only_good);
  WriteFile(files.journal, file);

  pc::Journal j;
  bool fresh = false;
  pc::Status s = j.OpenLocked(files.journal, &fresh);
  if (!s.ok()) {
    if (s.code() != PCORE_CORRUPT_RECORD && s.code() != PCORE_UNKNOWN_VERSION) {
      abort();
    }
    return;
  }
  if (fresh != file.empty()) {
    abort();
  }
  pc::KeyValueMap state;
  pc::JournalFoldStats stats;
  if (!j.Fold(&state, &stats).ok() || stats.skipped_bytes > file.size() ||
      (stats.skipped_bytes == 0) != stats.first_problem.empty()) {
    abort();
  }
  if (only_good && (state != expect || stats.skipped_bytes != 0)) {
    abort();
  }

  // What was found survives a rewrite exactly.
  if (!j.Rewrite(state, kBootId).ok()) {
    abort();
  }
  pc::Journal again;
  pc::KeyValueMap state2;
  pc::JournalFoldStats stats2;
  if (!again.OpenLocked(files.journal, &fresh).ok() || fresh ||
      !again.Fold(&state2, &stats2).ok() || state2 != state ||
      stats2.entries != state.size() || stats2.skipped_bytes != 0) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}

#ifdef PCORE_FUZZ_STANDALONE
#include "standalone_driver.h"

namespace {

// Mostly chunked journals behind a good header, so that the payload
// decoder and the resynchronisation after bad bytes get most inputs.
std::vector<uint8_t> RandomInput(uint64_t* state) {
  auto next = [state]() { return samba_ca::fuzz::SplitMix64(state); };
  uint8_t mode = static_cast<uint8_t>(next());
  if (next() % 4 != 0) {
    mode |= 3;
  }
  std::vector<uint8_t> in(1, mode);
  size_t chunks = next() % 6;
  for (size_t c = 0; c < chunks; c++) {
    size_t n = next() % 48;
    uint8_t kind = static_cast<uint8_t>(next());
    in.push_back(kind);
    if (kind % 3 == 0 && next() % 2 == 0) {
      // Raw bytes that start like an entry: magic, then a length.
      n += 8;
      in.push_back(static_cast<uint8_t>(n));
      in.push_back(0);
      std::string head;
      pc::PutFixed32(&head, pc::Journal::kEntryMagic);
      pc::PutFixed32(&head, static_cast<uint32_t>(next() % 64));
      in.insert(in.end(), head.begin(), head.end());
      n -= 8;
    } else {
      in.push_back(static_cast<uint8_t>(n));
      in.push_back(0);
    }
    for (size_t i = 0; i < n; i++) {
      // Small numbers often, so that counts and lengths fit.
      uint64_t r = next();
      in.push_back(static_cast<uint8_t>(r % 3 == 0 ? r % 5 : r >> 8));
    }
  }
  if (next() % 3 == 0 && in.size() > 1) {
    in[1 + next() % (in.size() - 1)] = static_cast<uint8_t>(next());
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  return samba_ca::fuzz::RunStandalone(argc, argv, "persistent_journal_fuzz",
                                       "JOURNAL_FUZZ_ITERATIONS", 0x10C4A1,
                                       FuzzOne, RandomInput);
}
#endif  // PCORE_FUZZ_STANDALONE
