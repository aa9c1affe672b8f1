// The persistent-open record kept in the store, and its codec.
//
// Layout (little-endian), format version 3:
//   header   magic u32 "PHCA", version u16, flags u16 (0), total length u32,
//            sequence u64
//   body     ids, GUIDs, state, oplock/lease, owner, create parameters,
//            timeout, disconnect time, SID/share/path (u16 length + bytes),
//            create reply, 64 lock-sequence bytes, lock count + locks,
//            file identity: flags u8 (1: known), devid u64, inode u64,
//            extid u64, birth time u64, stream name (u16 length + bytes),
//            open flags u8 (1: delete on close set by SET_INFO)
//   trailer  CRC-32C u32 over every byte before it
// Version 2 is version 3 without the open flags, version 1 version 2
// without the file identity; both are still read (a store written before
// they were kept): a version 2 record as one whose delete on close was
// never set by SET_INFO, a version 1 record also as one whose file is known
// by share and path only.  Either is written back as version 3.
// Every field is checked when read back; a record that fails is reported
// with the field that failed and never used.
#ifndef SAMBA_CA_PERSISTENT_RECORD_H
#define SAMBA_CA_PERSISTENT_RECORD_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "persistent_core.h"
#include "status.h"

namespace samba_ca {
namespace persistent {

constexpr uint32_t kRecordMagic = 0x41434850;  // "PHCA" in the byte stream
constexpr uint16_t kRecordVersion = 3;
constexpr uint16_t kRecordVersionNoOpenFlags = 2;
constexpr uint16_t kRecordVersionNoIdentity = 1;
constexpr size_t kRecordHeaderSize = 20;
constexpr size_t kRecordTrailerSize = 4;
// A bound on the whole record, so a header cannot claim gigabytes.
constexpr size_t kMaxRecordSize = 512 * 1024;

using Guid = std::array<uint8_t, PCORE_GUID_SIZE>;

enum class OpenState : uint8_t {
  kConnected = PCORE_STATE_CONNECTED,
  kDisconnected = PCORE_STATE_DISCONNECTED,
};

struct ByteRangeLock {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool exclusive = false;
  uint32_t lock_sequence = 0;

  bool operator==(const ByteRangeLock& o) const {
    return offset == o.offset && length == o.length &&
           exclusive == o.exclusive && lock_sequence == o.lock_sequence;
  }
};

struct ServerId {
  uint32_t vnn = 0;
  uint64_t pid = 0;
  uint64_t unique_id = 0;

  bool operator==(const ServerId& o) const {
    return vnn == o.vnn && pid == o.pid && unique_id == o.unique_id;
  }
};

struct CreateReply {
  uint16_t channel_sequence = 0;
  uint32_t create_action = 0;
  uint64_t creation_time = 0;
  uint64_t last_access_time = 0;
  uint64_t last_write_time = 0;
  uint64_t change_time = 0;
  uint64_t allocation_size = 0;
  uint64_t end_of_file = 0;
  uint32_t file_attributes = 0;
  uint32_t maximal_access = 0;

  bool operator==(const CreateReply& o) const;
};

constexpr uint8_t kLockSequenceInvalid = PCORE_LOCK_SEQUENCE_INVALID;

// What smbd identifies the open's file by (its struct file_id, as the
// share's VFS computes it), the file's birth time and the stream: a
// reconnect or a restore reattaches only to that file.
struct FileIdentity {
  bool known = false;  // false: a version 1 record
  uint64_t devid = 0;
  uint64_t inode = 0;
  uint64_t extid = 0;
  uint64_t birth_time = 0;  // NTTIME; 0 where the file system has none
  std::string stream_name;  // empty for the base file

  bool operator==(const FileIdentity& o) const {
    return known == o.known && devid == o.devid && inode == o.inode &&
           extid == o.extid && birth_time == o.birth_time &&
           stream_name == o.stream_name;
  }
};

struct OpenRecord {
  uint64_t sequence = 0;
  uint64_t persistent_id = 0;
  uint64_t volatile_id = 0;
  Guid create_guid{};
  Guid client_guid{};
  OpenState state = OpenState::kConnected;
  uint8_t oplock_level = PCORE_OPLOCK_NONE;
  uint8_t lease_version = 0;
  Guid lease_key{};
  uint32_t lease_state = 0;
  uint16_t lease_epoch = 0;
  ServerId owner;
  uint32_t access_mask = 0;
  uint32_t share_access = 0;
  uint32_t create_disposition = 0;
  uint32_t create_options = 0;
  uint32_t timeout_ms = 0;
  uint64_t disconnect_time_us = 0;
  std::string owner_sid;
  std::string share_name;
  std::string path;
  CreateReply reply;
  std::array<uint8_t, PCORE_LOCK_SEQUENCE_ENTRIES> lock_sequence;
  std::vector<ByteRangeLock> locks;
  FileIdentity file;
  // The open's file is to be deleted when its last handle closes or
  // expires: set on the open by a SET_INFO (FileDispositionInformation).
  // A create's FILE_DELETE_ON_CLOSE is in create_options.
  bool delete_on_close = false;

  OpenRecord() { lock_sequence.fill(kLockSequenceInvalid); }
  bool operator==(const OpenRecord& o) const;
  bool operator!=(const OpenRecord& o) const { return !(*this == o); }
};

// Field checks shared by the encoder (PCORE_INVALID_PARAMETER) and the
// decoder (PCORE_CORRUPT_RECORD); the message names the field.
Status ValidateRecord(const OpenRecord& record, pcore_status code);

// Appends nothing and returns PCORE_INVALID_PARAMETER if a field is invalid.
Status EncodeRecord(const OpenRecord& record, std::string* out);

// PCORE_UNKNOWN_VERSION for another format version, PCORE_CORRUPT_RECORD for
// anything else wrong; *record is unspecified on failure.
Status DecodeRecord(const uint8_t* data, size_t len, OpenRecord* record);

// Rewrites the trailer of an encoded record after its bytes were changed, so
// tests and the fuzzer reach the field checks behind the checksum.  Does
// nothing to a buffer shorter than a header plus trailer.
void ResealRecordForTesting(std::string* encoded);

// Checks a string as UTF-8 (no overlong forms, surrogates or NULs).
bool IsValidUtf8(const std::string& s);
// Checks "S-1-<authority>(-<subauthority>){0,15}".
bool IsValidSidString(const std::string& s);

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_RECORD_H
