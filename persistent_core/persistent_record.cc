// Encoder, decoder and field checks of the persistent-open record.
#include "persistent_record.h"

#include "coding.h"
#include "crc32c.h"

namespace samba_ca {
namespace persistent {
namespace {

constexpr uint32_t kMaxCreateDisposition = 5;  // FILE_OVERWRITE_IF
constexpr uint32_t kMaxCreateAction = 3;       // FILE_OVERWRITTEN
constexpr uint32_t kValidShareAccess = 0x7;    // READ | WRITE | DELETE
constexpr uint32_t kValidLeaseState =
    PCORE_LEASE_READ | PCORE_LEASE_HANDLE | PCORE_LEASE_WRITE;
constexpr uint8_t kLockExclusiveFlag = 0x01;
constexpr uint8_t kFileIdentityKnown = 0x01;
constexpr uint8_t kOpenDeleteOnClose = 0x01;
// Bytes of one lock: offset, length, flags, lock sequence.
constexpr size_t kLockSize = 8 + 8 + 1 + 4;

bool IsKnownOplockLevel(uint8_t level) {
  return level == PCORE_OPLOCK_NONE || level == PCORE_OPLOCK_II ||
         level == PCORE_OPLOCK_EXCLUSIVE || level == PCORE_OPLOCK_BATCH ||
         level == PCORE_OPLOCK_LEASE;
}

bool IsZero(const Guid& g) {
  for (uint8_t b : g) {
    if (b != 0) {
      return false;
    }
  }
  return true;
}

Status Bad(pcore_status code, std::string message) {
  return Status(code, std::move(message));
}

Status CheckString(const std::string& value, size_t max_len, const char* field,
                   pcore_status code) {
  if (value.empty()) {
    return Bad(code, std::string(field) + " is empty");
  }
  if (value.size() > max_len) {
    return Bad(code, std::string(field) + " length " +
                         std::to_string(value.size()) + " exceeds " +
                         std::to_string(max_len));
  }
  if (!IsValidUtf8(value)) {
    return Bad(code, std::string(field) + " is not valid UTF-8");
  }
  return Status::OK();
}

}  // namespace

bool CreateReply::operator==(const CreateReply& o) const {
  return channel_sequence == o.channel_sequence &&
         create_action == o.create_action && creation_time == o.creation_time &&
         last_access_time == o.last_access_time &&
         last_write_time == o.last_write_time && change_time == o.change_time &&
         allocation_size == o.allocation_size && end_of_file == o.end_of_file &&
         file_attributes == o.file_attributes &&
         maximal_access == o.maximal_access;
}

bool OpenRecord::operator==(const OpenRecord& o) const {
  return sequence == o.sequence && persistent_id == o.persistent_id &&
         volatile_id == o.volatile_id && create_guid == o.create_guid &&
         client_guid == o.client_guid && state == o.state &&
         oplock_level == o.oplock_level && lease_version == o.lease_version &&
         lease_key == o.lease_key && lease_state == o.lease_state &&
         lease_epoch == o.lease_epoch && owner == o.owner &&
         access_mask == o.access_mask && share_access == o.share_access &&
         create_disposition == o.create_disposition &&
         create_options == o.create_options && timeout_ms == o.timeout_ms &&
         disconnect_time_us == o.disconnect_time_us &&
         owner_sid == o.owner_sid && share_name == o.share_name &&
         path == o.path && reply == o.reply &&
         lock_sequence == o.lock_sequence && locks == o.locks &&
         file == o.file && delete_on_close == o.delete_on_close;
}

bool IsValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c == 0) {
      return false;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    uint32_t cp;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) {
      return false;
    }
    for (size_t k = 1; k <= extra; k++) {
      uint8_t cc = p[i + k];
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

bool IsValidSidString(const std::string& s) {
  if (s.size() > PCORE_MAX_SID_LEN || s.compare(0, 4, "S-1-") != 0) {
    return false;
  }
  // After "S-1-": the authority, then up to 15 sub-authorities.
  size_t parts = 0;
  size_t digits = 0;
  uint64_t value = 0;
  for (size_t i = 4; i <= s.size(); i++) {
    if (i == s.size() || s[i] == '-') {
      if (digits == 0) {
        return false;
      }
      uint64_t max = parts == 0 ? 0xFFFFFFFFFFFFull : 0xFFFFFFFFull;
      if (value > max) {
        return false;
      }
      parts++;
      digits = 0;
      value = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || digits >= 15) {
      return false;
    }
    value = value * 10 + static_cast<uint64_t>(s[i] - '0');
    digits++;
  }
  return parts >= 1 && parts <= 16;
}

Status ValidateRecord(const OpenRecord& r, pcore_status code) {
  if (r.persistent_id == 0) {
    return Bad(code, "persistent id is 0");
  }
  if (IsZero(r.create_guid)) {
    return Bad(code, "create GUID is zero");
  }
  if (r.state != OpenState::kConnected && r.state != OpenState::kDisconnected) {
    return Bad(code, "unknown state " +
                         std::to_string(static_cast<unsigned>(r.state)));
  }
  if (r.state == OpenState::kConnected && r.disconnect_time_us != 0) {
    return Bad(code, "connected open has a disconnect time");
  }
  if (r.state == OpenState::kDisconnected && r.disconnect_time_us == 0) {
    return Bad(code, "disconnected open has no disconnect time");
  }
  if (!IsKnownOplockLevel(r.oplock_level)) {
    return Bad(code, "unknown oplock level " + std::to_string(r.oplock_level));
  }
  bool leased = r.oplock_level == PCORE_OPLOCK_LEASE;
  if (leased != (r.lease_version != 0) || r.lease_version > 2) {
    return Bad(code, "lease version " + std::to_string(r.lease_version) +
                         " with oplock level " +
                         std::to_string(r.oplock_level));
  }
  if ((r.lease_state & ~kValidLeaseState) != 0) {
    return Bad(code, "invalid lease state " + std::to_string(r.lease_state));
  }
  if (!leased &&
      (r.lease_state != 0 || r.lease_epoch != 0 || !IsZero(r.lease_key))) {
    return Bad(code, "lease fields set without a lease");
  }
  if ((r.share_access & ~kValidShareAccess) != 0) {
    return Bad(code, "invalid share access " + std::to_string(r.share_access));
  }
  if (r.create_disposition > kMaxCreateDisposition) {
    return Bad(code, "invalid create disposition " +
                         std::to_string(r.create_disposition));
  }
  if (r.timeout_ms < PCORE_MIN_TIMEOUT_MS ||
      r.timeout_ms > PCORE_MAX_TIMEOUT_MS) {
    return Bad(code,
               "timeout " + std::to_string(r.timeout_ms) + " ms out of range");
  }
  if (!IsValidSidString(r.owner_sid)) {
    return Bad(code, "owner SID is not a SID string");
  }
  Status s =
      CheckString(r.share_name, PCORE_MAX_SHARE_NAME_LEN, "share name", code);
  if (!s.ok()) {
    return s;
  }
  s = CheckString(r.path, PCORE_MAX_PATH_LEN, "path", code);
  if (!s.ok()) {
    return s;
  }
  if (r.path[0] == '/') {
    return Bad(code, "path is absolute");
  }
  if (r.reply.create_action > kMaxCreateAction) {
    return Bad(
        code, "invalid create action " + std::to_string(r.reply.create_action));
  }
  for (size_t i = 0; i < r.lock_sequence.size(); i++) {
    uint8_t e = r.lock_sequence[i];
    if (e != kLockSequenceInvalid && e > 0x0F) {
      return Bad(code, "invalid lock sequence entry " + std::to_string(i + 1));
    }
  }
  if (r.locks.size() > PCORE_MAX_LOCKS) {
    return Bad(code, "lock count " + std::to_string(r.locks.size()) +
                         " exceeds " + std::to_string(PCORE_MAX_LOCKS));
  }
  for (size_t i = 0; i < r.locks.size(); i++) {
    const ByteRangeLock& l = r.locks[i];
    if (l.length != 0 && l.offset > UINT64_MAX - (l.length - 1)) {
      return Bad(code, "lock " + std::to_string(i) + " wraps around");
    }
  }
  if (!r.file.known) {
    if (!(r.file == FileIdentity())) {
      return Bad(code, "file identity fields set but not known");
    }
    return Status::OK();
  }
  if (r.file.inode == 0) {
    return Bad(code, "file identity with inode 0");
  }
  if (!r.file.stream_name.empty()) {
    s = CheckString(r.file.stream_name, PCORE_MAX_STREAM_NAME_LEN,
                    "stream name", code);
    if (!s.ok()) {
      return s;
    }
    if (r.file.stream_name[0] != ':') {
      return Bad(code, "stream name does not start with ':'");
    }
  }
  return Status::OK();
}

Status EncodeRecord(const OpenRecord& r, std::string* out) {
  Status s = ValidateRecord(r, PCORE_INVALID_PARAMETER);
  if (!s.ok()) {
    return s;
  }
  std::string buf;
  buf.reserve(300 + r.path.size() + r.file.stream_name.size() +
              r.locks.size() * kLockSize);
  PutFixed32(&buf, kRecordMagic);
  PutFixed16(&buf, kRecordVersion);
  PutFixed16(&buf, 0);  // flags
  PutFixed32(&buf, 0);  // total length, filled in below
  PutFixed64(&buf, r.sequence);

  PutFixed64(&buf, r.persistent_id);
  PutFixed64(&buf, r.volatile_id);
  PutBytes(&buf, r.create_guid.data(), r.create_guid.size());
  PutBytes(&buf, r.client_guid.data(), r.client_guid.size());
  PutFixed8(&buf, static_cast<uint8_t>(r.state));
  PutFixed8(&buf, r.oplock_level);
  PutFixed8(&buf, r.lease_version);
  PutFixed8(&buf, 0);  // reserved
  PutBytes(&buf, r.lease_key.data(), r.lease_key.size());
  PutFixed32(&buf, r.lease_state);
  PutFixed16(&buf, r.lease_epoch);
  PutFixed32(&buf, r.owner.vnn);
  PutFixed64(&buf, r.owner.pid);
  PutFixed64(&buf, r.owner.unique_id);
  PutFixed32(&buf, r.access_mask);
  PutFixed32(&buf, r.share_access);
  PutFixed32(&buf, r.create_disposition);
  PutFixed32(&buf, r.create_options);
  PutFixed32(&buf, r.timeout_ms);
  PutFixed64(&buf, r.disconnect_time_us);
  PutLengthPrefixed16(&buf, r.owner_sid);
  PutLengthPrefixed16(&buf, r.share_name);
  PutLengthPrefixed16(&buf, r.path);

  PutFixed16(&buf, r.reply.channel_sequence);
  PutFixed32(&buf, r.reply.create_action);
  PutFixed64(&buf, r.reply.creation_time);
  PutFixed64(&buf, r.reply.last_access_time);
  PutFixed64(&buf, r.reply.last_write_time);
  PutFixed64(&buf, r.reply.change_time);
  PutFixed64(&buf, r.reply.allocation_size);
  PutFixed64(&buf, r.reply.end_of_file);
  PutFixed32(&buf, r.reply.file_attributes);
  PutFixed32(&buf, r.reply.maximal_access);

  PutBytes(&buf, r.lock_sequence.data(), r.lock_sequence.size());
  PutFixed32(&buf, static_cast<uint32_t>(r.locks.size()));
  for (const ByteRangeLock& l : r.locks) {
    PutFixed64(&buf, l.offset);
    PutFixed64(&buf, l.length);
    PutFixed8(&buf, l.exclusive ? kLockExclusiveFlag : 0);
    PutFixed32(&buf, l.lock_sequence);
  }
  PutFixed8(&buf, r.file.known ? kFileIdentityKnown : 0);
  PutFixed64(&buf, r.file.devid);
  PutFixed64(&buf, r.file.inode);
  PutFixed64(&buf, r.file.extid);
  PutFixed64(&buf, r.file.birth_time);
  PutLengthPrefixed16(&buf, r.file.stream_name);
  PutFixed8(&buf, r.delete_on_close ? kOpenDeleteOnClose : 0);

  size_t total = buf.size() + kRecordTrailerSize;
  if (total > kMaxRecordSize) {
    return Status::Invalid("record of " + std::to_string(total) +
                           " bytes exceeds " + std::to_string(kMaxRecordSize));
  }
  EncodeFixed32(reinterpret_cast<uint8_t*>(&buf[8]),
                static_cast<uint32_t>(total));
  PutFixed32(&buf,
             Crc32c(reinterpret_cast<const uint8_t*>(buf.data()), buf.size()));
  out->append(buf);
  return Status::OK();
}

void ResealRecordForTesting(std::string* encoded) {
  if (encoded->size() < kRecordHeaderSize + kRecordTrailerSize) {
    return;
  }
  size_t body = encoded->size() - kRecordTrailerSize;
  uint32_t crc =
      Crc32c(reinterpret_cast<const uint8_t*>(encoded->data()), body);
  EncodeFixed32(reinterpret_cast<uint8_t*>(&(*encoded)[body]), crc);
}

Status DecodeRecord(const uint8_t* data, size_t len, OpenRecord* r) {
  if (len < kRecordHeaderSize + kRecordTrailerSize) {
    return Status::Corrupt("record truncated: " + std::to_string(len) +
                           " bytes, shorter than header and checksum");
  }
  Decoder d(data, len);
  uint32_t magic;
  uint16_t version;
  uint16_t flags;
  uint32_t total;
  d.GetFixed32(&magic, "magic");
  d.GetFixed16(&version, "version");
  d.GetFixed16(&flags, "flags");
  d.GetFixed32(&total, "length");
  d.GetFixed64(&r->sequence, "sequence");
  if (magic != kRecordMagic) {
    return Status::Corrupt("bad magic");
  }
  if (version != kRecordVersion && version != kRecordVersionNoOpenFlags &&
      version != kRecordVersionNoIdentity) {
    return Status(PCORE_UNKNOWN_VERSION,
                  "unknown version " + std::to_string(version));
  }
  if (flags != 0) {
    return Status::Corrupt("unknown flags " + std::to_string(flags));
  }
  if (total != len) {
    if (total > len) {
      return Status::Corrupt("record truncated: " + std::to_string(len) +
                             " of " + std::to_string(total) + " bytes");
    }
    return Status::Corrupt("record length " + std::to_string(total) + " but " +
                           std::to_string(len) + " bytes stored");
  }
  if (total > kMaxRecordSize) {
    return Status::Corrupt("record length " + std::to_string(total) +
                           " exceeds " + std::to_string(kMaxRecordSize));
  }
  size_t body_end = len - kRecordTrailerSize;
  uint32_t stored_crc = DecodeFixed32(data + body_end);
  if (Crc32c(data, body_end) != stored_crc) {
    return Status::Corrupt("checksum mismatch");
  }

  // Fields: the decoder only sees the bytes before the checksum.
  Decoder f(data + kRecordHeaderSize, body_end - kRecordHeaderSize);
  uint8_t state;
  uint8_t reserved;
  f.GetFixed64(&r->persistent_id, "persistent id");
  f.GetFixed64(&r->volatile_id, "volatile id");
  f.GetBytes(r->create_guid.data(), r->create_guid.size(), "create GUID");
  f.GetBytes(r->client_guid.data(), r->client_guid.size(), "client GUID");
  f.GetFixed8(&state, "state");
  f.GetFixed8(&r->oplock_level, "oplock level");
  f.GetFixed8(&r->lease_version, "lease version");
  f.GetFixed8(&reserved, "reserved");
  f.GetBytes(r->lease_key.data(), r->lease_key.size(), "lease key");
  f.GetFixed32(&r->lease_state, "lease state");
  f.GetFixed16(&r->lease_epoch, "lease epoch");
  f.GetFixed32(&r->owner.vnn, "owner vnn");
  f.GetFixed64(&r->owner.pid, "owner pid");
  f.GetFixed64(&r->owner.unique_id, "owner unique id");
  f.GetFixed32(&r->access_mask, "access mask");
  f.GetFixed32(&r->share_access, "share access");
  f.GetFixed32(&r->create_disposition, "create disposition");
  f.GetFixed32(&r->create_options, "create options");
  f.GetFixed32(&r->timeout_ms, "timeout");
  f.GetFixed64(&r->disconnect_time_us, "disconnect time");
  f.GetLengthPrefixed16(&r->owner_sid, PCORE_MAX_SID_LEN, "owner SID");
  f.GetLengthPrefixed16(&r->share_name, PCORE_MAX_SHARE_NAME_LEN, "share name");
  f.GetLengthPrefixed16(&r->path, PCORE_MAX_PATH_LEN, "path");
  f.GetFixed16(&r->reply.channel_sequence, "channel sequence");
  f.GetFixed32(&r->reply.create_action, "create action");
  f.GetFixed64(&r->reply.creation_time, "creation time");
  f.GetFixed64(&r->reply.last_access_time, "last access time");
  f.GetFixed64(&r->reply.last_write_time, "last write time");
  f.GetFixed64(&r->reply.change_time, "change time");
  f.GetFixed64(&r->reply.allocation_size, "allocation size");
  f.GetFixed64(&r->reply.end_of_file, "end of file");
  f.GetFixed32(&r->reply.file_attributes, "file attributes");
  f.GetFixed32(&r->reply.maximal_access, "maximal access");
  f.GetBytes(r->lock_sequence.data(), r->lock_sequence.size(),
             "lock sequence array");
  uint32_t num_locks = 0;
  f.GetFixed32(&num_locks, "lock count");
  if (f.failed()) {
    return Status::Corrupt(f.error());
  }
  if (reserved != 0) {
    return Status::Corrupt("reserved byte is " + std::to_string(reserved));
  }
  if (num_locks > PCORE_MAX_LOCKS) {
    return Status::Corrupt("lock count " + std::to_string(num_locks) +
                           " exceeds " + std::to_string(PCORE_MAX_LOCKS));
  }
  if (static_cast<size_t>(num_locks) * kLockSize > f.remaining()) {
    // Name the first lock that does not fit.
    size_t fits = f.remaining() / kLockSize;
    return Status::Corrupt("record truncated at lock " + std::to_string(fits));
  }
  r->state = static_cast<OpenState>(state);
  r->locks.clear();
  r->locks.reserve(num_locks);
  for (uint32_t i = 0; i < num_locks; i++) {
    ByteRangeLock l;
    uint8_t lock_flags = 0;
    std::string field = "lock " + std::to_string(i);
    f.GetFixed64(&l.offset, field.c_str());
    f.GetFixed64(&l.length, field.c_str());
    f.GetFixed8(&lock_flags, field.c_str());
    f.GetFixed32(&l.lock_sequence, field.c_str());
    if (f.failed()) {
      return Status::Corrupt(f.error());
    }
    if ((lock_flags & ~kLockExclusiveFlag) != 0) {
      return Status::Corrupt(field + " has unknown flags " +
                             std::to_string(lock_flags));
    }
    l.exclusive = (lock_flags & kLockExclusiveFlag) != 0;
    r->locks.push_back(l);
  }
  r->file = FileIdentity();
  r->delete_on_close = false;
  if (version >= kRecordVersionNoOpenFlags) {
    uint8_t file_flags = 0;
    f.GetFixed8(&file_flags, "file identity flags");
    f.GetFixed64(&r->file.devid, "file devid");
    f.GetFixed64(&r->file.inode, "file inode");
    f.GetFixed64(&r->file.extid, "file extid");
    f.GetFixed64(&r->file.birth_time, "file birth time");
    f.GetLengthPrefixed16(&r->file.stream_name, PCORE_MAX_STREAM_NAME_LEN,
                          "stream name");
    if (f.failed()) {
      return Status::Corrupt(f.error());
    }
    if ((file_flags & ~kFileIdentityKnown) != 0) {
      return Status::Corrupt("file identity has unknown flags " +
                             std::to_string(file_flags));
    }
    r->file.known = (file_flags & kFileIdentityKnown) != 0;
  }
  if (version >= kRecordVersion) {
    uint8_t open_flags = 0;
    f.GetFixed8(&open_flags, "open flags");
    if (f.failed()) {
      return Status::Corrupt(f.error());
    }
    if ((open_flags & ~kOpenDeleteOnClose) != 0) {
      return Status::Corrupt("unknown open flags " +
                             std::to_string(open_flags));
    }
    r->delete_on_close = (open_flags & kOpenDeleteOnClose) != 0;
  }
  if (f.remaining() != 0) {
    const char* last = "locks";
    if (version >= kRecordVersion) {
      last = "open flags";
    } else if (version == kRecordVersionNoOpenFlags) {
      last = "file identity";
    }
    return Status::Corrupt(std::to_string(f.remaining()) +
                           " trailing bytes after the " + last);
  }
  return ValidateRecord(*r, PCORE_CORRUPT_RECORD);
}

}  // namespace persistent
}  // namespace samba_ca
