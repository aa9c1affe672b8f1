// The local store's journal (journal.h).
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "coding.h"
#include "crc32c.h"

namespace samba_ca {
namespace persistent {
namespace {

constexpr char kMagic[8] = {'P', 'H', 'C', 'A', 'J', 'R', 'N', 'L'};
constexpr size_t kHeaderCrcOffset = 40;
constexpr uint8_t kOpPut = 1;
constexpr uint8_t kOpDelete = 2;
constexpr size_t kEntryHead = 12;  // magic, length, crc
constexpr size_t kMaxKey = 64u << 10;

Status ErrnoError(int err, const std::string& what, const std::string& path) {
  return Status(pcore_status_from_errno(err),
                "journal " + path + ": " + what + ": " + strerror(err));
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError(errno, "write", path);
    }
    if (n == 0) {
      return ErrnoError(ENOSPC, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

int LockFd(int fd, short type, bool wait) {
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  int ret;
  do {
    ret = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
  } while (ret == -1 && errno == EINTR);
  return ret;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

std::string EncodeHeader(const uint8_t boot_id[16], uint64_t base_bytes) {
  std::string h(kMagic, sizeof(kMagic));
  PutFixed32(&h, Journal::kVersion);
  PutFixed32(&h, static_cast<uint32_t>(Journal::kHeaderSize));
  PutBytes(&h, boot_id, 16);
  PutFixed64(&h, base_bytes);
  PutFixed32(&h, Crc32c(reinterpret_cast<const uint8_t*>(h.data()), h.size()));
  h.resize(Journal::kHeaderSize, '\0');
  return h;
}

// Parses one entry's payload into ops, or says what is wrong with it.
bool DecodePayload(const uint8_t* p, size_t len,
                   std::vector<WriteBatch::Op>* ops, std::string* why) {
  Decoder d(p, len);
  uint32_t count = 0;
  if (!d.GetFixed32(&count, "op count")) {
    *why = d.error();
    return false;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint8_t type = 0;
    uint32_t klen = 0;
    if (!d.GetFixed8(&type, "op type") || !d.GetFixed32(&klen, "key length")) {
      *why = d.error();
      return false;
    }
    if (type != kOpPut && type != kOpDelete) {
      *why = "op type " + std::to_string(type);
      return false;
    }
    if (klen == 0 || klen > kMaxKey || klen > d.remaining()) {
      *why = "key length " + std::to_string(klen);
      return false;
    }
    WriteBatch::Op op;
    op.type = type == kOpPut ? WriteBatch::OpType::kPut
                             : WriteBatch::OpType::kDelete;
    op.key.resize(klen);
    d.GetBytes(reinterpret_cast<uint8_t*>(&op.key[0]), klen, "key");
    if (type == kOpPut) {
      uint32_t vlen = 0;
      if (!d.GetFixed32(&vlen, "value length")) {
        *why = d.error();
        return false;
      }
      if (vlen > d.remaining()) {
        *why = "value length " + std::to_string(vlen);
        return false;
      }
      op.value.resize(vlen);
      if (vlen > 0) {
        d.GetBytes(reinterpret_cast<uint8_t*>(&op.value[0]), vlen, "value");
      }
    }
    ops->push_back(std::move(op));
  }
  if (d.remaining() != 0) {
    *why = std::to_string(d.remaining()) + " bytes after the last op";
    return false;
  }
  return true;
}

}  // namespace

Journal::~Journal() {
  if (fd_ != -1) {
    close(fd_);  // drops the lock too
  }
}

std::string Journal::EncodeEntry(const WriteBatch& batch) {
  std::string payload;
  PutFixed32(&payload, static_cast<uint32_t>(batch.ops().size()));
  for (const auto& op : batch.ops()) {
    bool put = op.type == WriteBatch::OpType::kPut;
    PutFixed8(&payload, put ? kOpPut : kOpDelete);
    PutFixed32(&payload, static_cast<uint32_t>(op.key.size()));
    payload += op.key;
    if (put) {
      PutFixed32(&payload, static_cast<uint32_t>(op.value.size()));
      payload += op.value;
    }
  }
  std::string entry;
  PutFixed32(&entry, kEntryMagic);
  PutFixed32(&entry, static_cast<uint32_t>(payload.size()));
  uint32_t crc = Crc32c(reinterpret_cast<const uint8_t*>(entry.data()) + 4, 4);
  crc = Crc32cExtend(crc, reinterpret_cast<const uint8_t*>(payload.data()),
                     payload.size());
  PutFixed32(&entry, crc);
  entry += payload;
  return entry;
}

Status Journal::OpenLocked(const std::string& path, bool* fresh) {
  if (fd_ != -1) {
    close(fd_);
    fd_ = -1;
  }
  path_ = path;
  for (int tries = 0; tries < 100; tries++) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd == -1) {
      return ErrnoError(errno, "open", path);
    }
    if (LockFd(fd, F_WRLCK, true) == -1) {
      int err = errno;
      close(fd);
      return ErrnoError(err, "lock", path);
    }
    // A rewrite may have renamed another file over the one just locked.
    struct stat locked, named;
    if (fstat(fd, &locked) == -1) {
      int err = errno;
      close(fd);
      return ErrnoError(err, "fstat", path);
    }
    if (stat(path.c_str(), &named) == 0 && named.st_ino == locked.st_ino &&
        named.st_dev == locked.st_dev) {
      fd_ = fd;
      locked_ = true;
      return ReadHeader(fresh);
    }
    close(fd);
  }
  return Status(PCORE_STORE_IO_ERROR,
                "journal " + path + ": replaced under every lock attempt");
}

void Journal::Unlock() {
  if (fd_ != -1 && locked_) {
    LockFd(fd_, F_UNLCK, false);
  }
  locked_ = false;
}

Status Journal::ReadHeader(bool* fresh) {
  struct stat st;
  if (fstat(fd_, &st) == -1) {
    return ErrnoError(errno, "fstat", path_);
  }
  size_ = static_cast<uint64_t>(st.st_size);
  *fresh = false;
  if (size_ == 0) {
    *fresh = true;
    base_bytes_ = 0;
    return Status::OK();
  }
  uint8_t h[kHeaderSize];
  ssize_t n = pread(fd_, h, sizeof(h), 0);
  if (n < 0) {
    return ErrnoError(errno, "read header", path_);
  }
  if (static_cast<size_t>(n) < kHeaderSize) {
    return Status::Corrupt("journal " + path_ + ": header truncated to " +
                           std::to_string(n) + " bytes");
  }
  if (memcmp(h, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corrupt("journal " + path_ + ": not a journal (bad magic)");
  }
  uint32_t crc = DecodeFixed32(h + kHeaderCrcOffset);
  if (crc != Crc32c(h, kHeaderCrcOffset)) {
    return Status::Corrupt("journal " + path_ + ": header checksum mismatch");
  }
  uint32_t version = DecodeFixed32(h + 8);
  if (version != kVersion) {
    return Status(PCORE_UNKNOWN_VERSION,
                  "journal " + path_ + ": version " + std::to_string(version) +
                      ", this build reads version " +
                      std::to_string(kVersion));
  }
  memcpy(boot_id_, h + 16, 16);
  Decoder d(h + 32, 8);
  d.GetFixed64(&base_bytes_, "base bytes");
  return Status::OK();
}

Status Journal::ReadAll(std::string* data) {
  struct stat st;
  if (fstat(fd_, &st) == -1) {
    return ErrnoError(errno, "fstat", path_);
  }
  data->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data->size()) {
    ssize_t n = pread(fd_, &(*data)[done], data->size() - done,
                      static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError(errno, "read", path_);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  data->resize(done);
  return Status::OK();
}

Status Journal::Fold(KeyValueMap* state, JournalFoldStats* stats) {
  std::string data;
  Status s = ReadAll(&data);
  if (!s.ok()) {
    return s;
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t off = data.size() >= kHeaderSize ? kHeaderSize : data.size();
  size_t bad_from = SIZE_MAX;
  auto note = [&](size_t at, const std::string& why) {
    if (stats->first_problem.empty()) {
      stats->first_problem =
          "entry at offset " + std::to_string(at) + ": " + why;
    }
  };
  while (off < data.size()) {
    std::string why;
    std::vector<WriteBatch::Op> ops;
    size_t left = data.size() - off;
    bool good = false;
    size_t len = 0;
    if (left < kEntryHead) {
      why = "truncated entry header";
    } else if (DecodeFixed32(p + off) != kEntryMagic) {
      why = "no entry magic";
    } else {
      len = DecodeFixed32(p + off + 4);
      if (len > kMaxPayload || len > left - kEntryHead) {
        why = "payload length " + std::to_string(len) + " beyond the file";
      } else if (Crc32cExtend(Crc32c(p + off + 4, 4), p + off + kEntryHead,
                              len) != DecodeFixed32(p + off + 8)) {
        why = "checksum mismatch";
      } else {
        good = DecodePayload(p + off + kEntryHead, len, &ops, &why);
      }
    }
    if (!good) {
      // Look for the next good entry, a byte further on.
      if (bad_from == SIZE_MAX) {
        note(off, why);
        bad_from = off;
      }
      off++;
      continue;
    }
    if (bad_from != SIZE_MAX) {
      stats->skipped_bytes += off - bad_from;
      bad_from = SIZE_MAX;
    }
    for (auto& op : ops) {
      if (op.type == WriteBatch::OpType::kPut) {
        (*state)[op.key] = std::move(op.value);
      } else {
        state->erase(op.key);
      }
    }
    stats->entries++;
    off += kEntryHead + len;
  }
  if (bad_from != SIZE_MAX) {
    stats->skipped_bytes += data.size() - bad_from;
  }
  return Status::OK();
}

Status Journal::Rewrite(const KeyValueMap& state, const uint8_t boot_id[16]) {
  if (!locked_) {
    return Status(PCORE_INVALID_PARAMETER, "journal rewrite without the lock");
  }
  std::string body;
  for (const auto& kv : state) {
    WriteBatch b;
    b.Put(kv.first, kv.second);
    body += EncodeEntry(b);
  }
  uint64_t total = kHeaderSize + body.size();
  std::string tmp = path_ + ".new";
  int fd = open(tmp.c_str(),
                O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd == -1) {
    return ErrnoError(errno, "create " + tmp, path_);
  }
  Status s = WriteAll(fd, EncodeHeader(boot_id, total) + body, tmp);
  if (s.ok() && fdatasync(fd) == -1) {
    s = ErrnoError(errno, "fdatasync " + tmp, path_);
  }
  // Lock the new file before it gets the name, so that no opener can
  // take it between the rename and our lock.
  if (s.ok() && LockFd(fd, F_WRLCK, false) == -1) {
    s = ErrnoError(errno, "lock " + tmp, path_);
  }
  if (s.ok() && rename(tmp.c_str(), path_.c_str()) == -1) {
    s = ErrnoError(errno, "rename " + tmp, path_);
  }
  if (!s.ok()) {
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  std::string dir = DirName(path_);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd != -1) {
    fsync(dfd);
    close(dfd);
  }
  // The new file's descriptor, locked all along, becomes ours; the old
  // file's lock goes with its descriptor, and its waiters find the new
  // file locked until we unlock.
  close(fd_);
  fd_ = fd;
  size_ = total;
  base_bytes_ = total;
  reserved_end_ = 0;  // the new file has none yet
  memcpy(boot_id_, boot_id, 16);
  EnsureReserve();    // best effort: a grant asks again
  return Status::OK();
}

Status Journal::FollowRename() {
  struct stat mine, named;
  if (fstat(fd_, &mine) == -1) {
    return ErrnoError(errno, "fstat", path_);
  }
  if (stat(path_.c_str(), &named) == -1) {
    return ErrnoError(errno, "stat", path_);
  }
  if (mine.st_ino == named.st_ino && mine.st_dev == named.st_dev) {
    size_ = static_cast<uint64_t>(mine.st_size);
    return Status::OK();
  }
  if (privileged_) {
    privileged_(true);
  }
  Status s = Reopen();
  if (privileged_) {
    privileged_(false);
  }
  return s;
}

Status Journal::Reopen() {
  int fd = open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd == -1) {
    return ErrnoError(errno, "reopen", path_);
  }
  close(fd_);
  fd_ = fd;
  locked_ = false;
  reserved_end_ = 0;
  bool fresh = false;
  Status s = ReadHeader(&fresh);
  if (s.ok() && fresh) {
    s = Status::Corrupt("journal " + path_ + ": replaced by an empty file");
  }
  return s;
}

Status Journal::Append(const WriteBatch& batch, bool sync) {
  if (fd_ == -1) {
    return Status(PCORE_STORE_IO_ERROR, "journal not open");
  }
  Status s = FollowRename();
  if (!s.ok()) {
    return s;
  }
  uint64_t old_size = size_;
  s = WriteAll(fd_, EncodeEntry(batch), path_);
  if (s.ok() && sync && fdatasync(fd_) == -1) {
    s = ErrnoError(errno, "fdatasync", path_);
  }
  if (!s.ok()) {
    if (ftruncate(fd_, static_cast<off_t>(old_size)) == -1) {
      return Status(s.code(), s.message() + "; and cutting back failed: " +
                                  strerror(errno));
    }
    return s;
  }
  struct stat st;
  if (fstat(fd_, &st) == 0) {
    size_ = static_cast<uint64_t>(st.st_size);
  }
  return Status::OK();
}

Status Journal::Sync() {
  if (fd_ == -1) {
    return Status(PCORE_STORE_IO_ERROR, "journal not open");
  }
  if (fdatasync(fd_) == -1) {
    return ErrnoError(errno, "fdatasync", path_);
  }
  return Status::OK();
}

Status Journal::EnsureReserve() {
  if (fd_ == -1) {
    return Status(PCORE_STORE_IO_ERROR, "journal not open");
  }
  Status s = FollowRename();
  if (!s.ok()) {
    return s;
  }
  if (reserved_end_ >= size_ + kReserveBytes) {
    return Status::OK();  // this process allocated that far already
  }
  // Extend by a second reserve's worth, so that this runs once per that
  // many bytes of updates; it fails as soon as the file system cannot
  // give the whole reserve.
  int ret;
  do {
    ret = fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_),
                    static_cast<off_t>(2 * kReserveBytes));
  } while (ret == -1 && errno == EINTR);
  if (ret == -1 && errno == ENOSPC) {
    do {
      ret = fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_),
                      static_cast<off_t>(kReserveBytes));
    } while (ret == -1 && errno == EINTR);
    if (ret == 0) {
      reserved_end_ = size_ + kReserveBytes;
      return Status::OK();
    }
  }
  if (ret == -1) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      reserved_end_ = UINT64_MAX;  // nothing to keep; do not ask again
      return Status::OK();
    }
    return Status(pcore_status_from_errno(errno),
                  "journal " + path_ + ": no room for the " +
                      std::to_string(kReserveBytes >> 10) +
                      " KiB reserve a new open needs: " + strerror(errno));
  }
  reserved_end_ = size_ + 2 * kReserveBytes;
  return Status::OK();
}

bool Journal::NeedsCompaction() const {
  return size_ >= kMinCompactBytes && size_ >= 2 * base_bytes_ &&
         size_ >= retry_at_;
}

Status Journal::Compact(bool* done) {
  *done = false;
  Status s = FollowRename();
  if (!s.ok()) {
    return s;
  }
  if (LockFd(fd_, F_WRLCK, false) == -1) {
    if (errno == EAGAIN || errno == EACCES) {
      retry_at_ = size_ + kMinCompactBytes / 4;
      return Status::OK();  // an opener holds it; later
    }
    return ErrnoError(errno, "lock", path_);
  }
  locked_ = true;
  KeyValueMap state;
  JournalFoldStats stats;
  s = Fold(&state, &stats);
  if (s.ok()) {
    if (privileged_) {
      privileged_(true);
    }
    s = Rewrite(state, boot_id_);
    if (privileged_) {
      privileged_(false);
    }
  }
  Unlock();
  *done = s.ok();
  if (!s.ok()) {
    // Not again at every update: each try reads the whole file.
    retry_at_ = size_ + kMinCompactBytes / 4;
  }
  return s;
}

Status ReadBootId(const std::string& path, uint8_t boot_id[16]) {
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) {
    return ErrnoError(errno, "open", path);
  }
  char text[64] = {};
  bool got = fgets(text, sizeof(text), f) != nullptr;
  fclose(f);
  size_t n = 0;
  for (size_t i = 0; got && text[i] != '\0' && n < 32; i++) {
    char c = text[i];
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == '-') {
      continue;
    } else {
      break;
    }
    if (n % 2 == 0) {
      boot_id[n / 2] = static_cast<uint8_t>(v << 4);
    } else {
      boot_id[n / 2] |= static_cast<uint8_t>(v);
    }
    n++;
  }
  if (n != 32) {
    return Status::Invalid("boot id file " + path + " holds no UUID");
  }
  return Status::OK();
}

}  // namespace persistent
}  // namespace samba_ca
