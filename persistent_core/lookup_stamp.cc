// The stamp of a journaled store's lookup copy (lookup_stamp.h).
#include "lookup_stamp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coding.h"
#include "crc32c.h"

namespace samba_ca {
namespace persistent {
namespace {

constexpr char kMagic[8] = {'P', 'H', 'J', 'S', 'T', 'A', 'M', 'P'};
constexpr size_t kCrcOffset = 24;
constexpr uint32_t kClean = 0;
constexpr uint32_t kDirty = 1;

Status ErrnoError(int err, const std::string& what, const std::string& path) {
  return Status(pcore_status_from_errno(err),
                "lookup stamp " + path + ": " + what + ": " + strerror(err));
}

uint64_t DecodeFixed64(const uint8_t* p) {
  return static_cast<uint64_t>(DecodeFixed32(p)) |
         (static_cast<uint64_t>(DecodeFixed32(p + 4)) << 32);
}

}  // namespace

LookupStamp::~LookupStamp() {
  if (map_ != nullptr) {
    munmap(map_, kSize);
  }
  if (fd_ != -1) {
    close(fd_);  // drops the lock
  }
}

Status LookupStamp::Open(const std::string& path, bool* created) {
  path_ = path;
  *created = false;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ == -1) {
    return ErrnoError(errno, "open", path);
  }
  struct stat st;
  if (fstat(fd_, &st) == -1) {
    return ErrnoError(errno, "fstat", path);
  }
  if (static_cast<uint64_t>(st.st_size) < kSize) {
    // Two openers may both get here; growing a file to the same size
    // twice is harmless, and a short file vouches for nothing either way.
    *created = true;
    if (ftruncate(fd_, kSize) == -1) {
      return ErrnoError(errno, "ftruncate", path);
    }
  }
  void* map = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) {
    return ErrnoError(errno, "mmap", path);
  }
  map_ = static_cast<uint8_t*>(map);
  return Status::OK();
}

Status LookupStamp::Lock(Mode mode) {
  if (fd_ == -1) {
    return Status(PCORE_STORE_IO_ERROR, "lookup stamp not open");
  }
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = mode == Mode::kExclusive ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  int ret;
  do {
    ret = fcntl(fd_, F_SETLKW, &fl);
  } while (ret == -1 && errno == EINTR);
  if (ret == -1) {
    return ErrnoError(errno, "lock", path_);
  }
  held_ = mode;
  return Status::OK();
}

void LookupStamp::Unlock() {
  if (fd_ == -1 || held_ == Mode::kNone) {
    return;
  }
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  fcntl(fd_, F_SETLK, &fl);
  held_ = Mode::kNone;
}

bool LookupStamp::valid() const {
  if (map_ == nullptr || memcmp(map_, kMagic, sizeof(kMagic)) != 0 ||
      DecodeFixed32(map_ + 8) != kVersion) {
    return false;
  }
  uint32_t state = DecodeFixed32(map_ + 12);
  return (state == kClean || state == kDirty) &&
         DecodeFixed32(map_ + kCrcOffset) == Crc32c(map_, kCrcOffset);
}

bool LookupStamp::dirty() const {
  return !valid() || DecodeFixed32(map_ + 12) != kClean;
}

uint64_t LookupStamp::generation() const {
  return valid() ? DecodeFixed64(map_ + 16) : 0;
}

void LookupStamp::MarkDirty() { Write(kDirty, generation()); }

void LookupStamp::MarkClean(uint64_t generation) { Write(kClean, generation); }

void LookupStamp::Write(uint32_t state, uint64_t generation) {
  std::string s(kMagic, sizeof(kMagic));
  PutFixed32(&s, kVersion);
  PutFixed32(&s, state);
  PutFixed64(&s, generation);
  PutFixed32(&s, Crc32c(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  PutFixed32(&s, 0);
  memcpy(map_, s.data(), kSize);
}

StampLock::StampLock(LookupStamp* stamp, LookupStamp::Mode mode)
    : stamp_(stamp), restore_(stamp->held()) {
  if (restore_ == LookupStamp::Mode::kExclusive ||
      (restore_ == LookupStamp::Mode::kShared &&
       mode == LookupStamp::Mode::kShared)) {
    return;
  }
  status_ = stamp_->Lock(mode);
  taken_ = status_.ok();
}

StampLock::~StampLock() {
  if (!taken_) {
    return;
  }
  if (restore_ == LookupStamp::Mode::kShared) {
    stamp_->Lock(LookupStamp::Mode::kShared);
  } else {
    stamp_->Unlock();
  }
}

}  // namespace persistent
}  // namespace samba_ca
