// Shared by the core's tests of the journal and of the journaled store: a
// private temporary directory, whole-file reads and writes, two boot ids,
// a journal file folded.  No cmocka here:
// include it before <cmocka.h>, whose fail() macro the C++ streams
// headers do not survive.
#ifndef SAMBA_CA_PERSISTENT_JOURNAL_TEST_UTIL_H
#define SAMBA_CA_PERSISTENT_JOURNAL_TEST_UTIL_H

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "journal.h"
#include "store.h"

namespace samba_ca {
namespace persistent {

inline constexpr uint8_t kBootA[16] = {0xa, 1, 2,  3,  4,  5,  6,  7,
                                       8,   9, 10, 11, 12, 13, 14, 15};
inline constexpr uint8_t kBootB[16] = {0xb, 1, 2,  3,  4,  5,  6,  7,
                                       8,   9, 10, 11, 12, 13, 14, 15};

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pcore-journal-XXXXXX";
    char* d = mkdtemp(tmpl);
    if (d == nullptr) {
      perror("mkdtemp");
      abort();
    }
    path = d;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str()) != 0) {
      fprintf(stderr, "could not remove %s\n", path.c_str());
    }
  }
  std::string File(const char* name) const { return path + "/" + name; }
  std::string path;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    perror(path.c_str());
    abort();
  }
  return static_cast<uint64_t>(st.st_size);
}

// What the journal file at path holds, folded; aborts when it cannot be
// opened or read.
inline KeyValueMap FoldFile(const std::string& path, JournalFoldStats* stats) {
  Journal j;
  bool fresh = false;
  KeyValueMap state;
  Status s = j.OpenLocked(path, &fresh);
  if (s.ok()) {
    s = j.Fold(&state, stats);
  }
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    abort();
  }
  return state;
}

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_JOURNAL_TEST_UTIL_H
