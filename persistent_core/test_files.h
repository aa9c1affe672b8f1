// Shared by the core's C++ tests that use files (the journal's): a private
// temporary directory and whole-file reads and writes.  No cmocka here:
// include it before <cmocka.h>, whose fail() macro the C++ streams
// headers do not survive.
#ifndef SAMBA_CA_PERSISTENT_TEST_FILES_H
#define SAMBA_CA_PERSISTENT_TEST_FILES_H

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace samba_ca {
namespace persistent {

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

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_TEST_FILES_H
