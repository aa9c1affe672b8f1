// Tests of the persistent-open record codec: seeded round trips, a golden
// encoding, truncation, corruption, versions and every field check.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <cstring>
#include <string>

#include "coding.h"
#include "crc32c.h"
#include "persistent_record.h"
#include "test_util.h"

using namespace samba_ca::persistent;
using samba_ca::persistent::testing::RandomRecord;

namespace {

constexpr uint64_t kRoundTripSeeds = 3000;

// Offsets of fixed fields, from the layout in persistent_record.h.
constexpr size_t kVersionOffset = 4;
constexpr size_t kFlagsOffset = 6;
constexpr size_t kStateOffset = 68;
constexpr size_t kOplockOffset = 69;
constexpr size_t kLeaseVersionOffset = 70;
constexpr size_t kReservedOffset = 71;
constexpr size_t kLeaseStateOffset = 88;
constexpr size_t kTimeoutOffset = 130;
constexpr size_t kDisconnectTimeOffset = 134;
constexpr size_t kSidLengthOffset = 142;
constexpr size_t kLockSize = 21;

OpenRecord FixedRecord() {
  OpenRecord r;
  r.sequence = 7;
  r.persistent_id = 0x1122334455667788ull;
  r.volatile_id = 0x99;
  for (size_t i = 0; i < 16; i++) {
    r.create_guid[i] = static_cast<uint8_t>(0xC0 + i);
    r.client_guid[i] = static_cast<uint8_t>(0xA0 + i);
    r.lease_key[i] = static_cast<uint8_t>(0x10 + i);
  }
  r.state = OpenState::kDisconnected;
  r.disconnect_time_us = 1700000000000000ull;
  r.oplock_level = PCORE_OPLOCK_LEASE;
  r.lease_version = 2;
  r.lease_state = PCORE_LEASE_READ | PCORE_LEASE_HANDLE;
  r.lease_epoch = 3;
  r.owner.vnn = 1;
  r.owner.pid = 4242;
  r.owner.unique_id = 0xABCDEF;
  r.access_mask = 0x0012019F;
  r.share_access = 7;
  r.create_disposition = 3;
  r.create_options = 0x40;
  r.timeout_ms = 60000;
  r.owner_sid = "S-1-5-21-1-2-3-1000";
  r.share_name = "ca";
  r.path = "dir/f\xc3\xa4.txt";
  r.reply.channel_sequence = 5;
  r.reply.create_action = 2;
  r.reply.creation_time = 1;
  r.reply.last_access_time = 2;
  r.reply.last_write_time = 3;
  r.reply.change_time = 4;
  r.reply.allocation_size = 4096;
  r.reply.end_of_file = 10;
  r.reply.file_attributes = 0x20;
  r.reply.maximal_access = 0x001F01FF;
  r.lock_sequence[0] = 1;
  r.lock_sequence[63] = 15;
  ByteRangeLock a;
  a.offset = 0;
  a.length = 100;
  a.exclusive = true;
  a.lock_sequence = 0x11;
  ByteRangeLock b;
  b.offset = 200;
  b.length = 0;
  b.exclusive = false;
  b.lock_sequence = 0;
  r.locks = {a, b};
  r.file.known = true;
  r.file.devid = 0x801;
  r.file.inode = 0x1234;
  r.file.extid = 0;
  r.file.birth_time = 0x01DA000000000001ull;
  r.file.stream_name = ":s1:$DATA";
  r.delete_on_close = true;
  return r;
}

std::string Encode(const OpenRecord& r) {
  std::string out;
  Status s = EncodeRecord(r, &out);
  if (!s.ok()) {
    fail_msg("encode failed: %s", s.ToString().c_str());
  }
  return out;
}

Status Decode(const std::string& bytes, OpenRecord* r) {
  return DecodeRecord(reinterpret_cast<const uint8_t*>(bytes.data()),
                      bytes.size(), r);
}

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

// Changes bytes at offset, reseals the checksum, expects the decoder to
// refuse with code and a message containing want.
void ExpectFieldFailure(std::string bytes, size_t offset,
                        const std::string& patch, pcore_status code,
                        const char* want) {
  bytes.replace(offset, patch.size(), patch);
  ResealRecordForTesting(&bytes);
  OpenRecord r;
  Status s = Decode(bytes, &r);
  if (s.code() != code || s.message().find(want) == std::string::npos) {
    fail_msg("patch at %zu: got \"%s\", want %s containing \"%s\"", offset,
             s.ToString().c_str(), pcore_status_string(code), want);
  }
}

std::string Le32(uint32_t v) {
  std::string s;
  PutFixed32(&s, v);
  return s;
}

std::string Le16(uint16_t v) {
  std::string s;
  PutFixed16(&s, v);
  return s;
}

void test_crc32c_known_value(void**) {
  const char* check = "123456789";
  assert_int_equal(
      Crc32c(reinterpret_cast<const uint8_t*>(check), strlen(check)),
      0xE3069283u);
  assert_int_equal(Crc32c(nullptr, 0), 0u);
}

void test_round_trip_seeds(void**) {
  for (uint64_t seed = 1; seed <= kRoundTripSeeds; seed++) {
    OpenRecord in = RandomRecord(seed);
    std::string bytes;
    Status s = EncodeRecord(in, &bytes);
    if (!s.ok()) {
      fail_msg("seed %llu: encode: %s", static_cast<unsigned long long>(seed),
               s.ToString().c_str());
    }
    OpenRecord out;
    s = Decode(bytes, &out);
    if (!s.ok()) {
      fail_msg("seed %llu: decode: %s", static_cast<unsigned long long>(seed),
               s.ToString().c_str());
    }
    if (in != out) {
      fail_msg("seed %llu: decoded record differs",
               static_cast<unsigned long long>(seed));
    }
    std::string again = Encode(out);
    if (again != bytes) {
      fail_msg("seed %llu: re-encoding differs",
               static_cast<unsigned long long>(seed));
    }
  }
}

// The bytes of FixedRecord(), checked by hand against the layout once; a
// change here is a format change and needs a new version.  Version 2 is
// the same without the header's version and length and without the open
// flags at the end, version 1 also without the file identity.
const char kGoldenHeaderV3Hex[] =
    // header: "PHCA", version 3, flags 0, length 401
    "50484341"
    "0300"
    "0000"
    "91010000";
const char kGoldenHeaderV2Hex[] =
    // header: "PHCA", version 2, flags 0, length 400
    "50484341"
    "0200"
    "0000"
    "90010000";
const char kGoldenHeaderV1Hex[] =
    // header: "PHCA", version 1, flags 0, length 356
    "50484341"
    "0100"
    "0000"
    "64010000";
const char kGoldenHex[] =
    // sequence 7
    "0700000000000000"
    // persistent id, volatile id
    "8877665544332211"
    "9900000000000000"
    // create GUID, client GUID
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    // state 2, oplock 0xff, lease v2, reserved
    "02"
    "ff"
    "02"
    "00"
    // lease key, lease state R|H, epoch 3
    "101112131415161718191a1b1c1d1e1f"
    "03000000"
    "0300"
    // owner: vnn 1, pid 4242, unique id
    "01000000"
    "9210000000000000"
    "efcdab0000000000"
    // access, share access, disposition, options, timeout 60000
    "9f011200"
    "07000000"
    "03000000"
    "40000000"
    "60ea0000"
    // disconnect time 1700000000000000
    "00401e18240a0600"
    // SID, share, path
    "1300"
    "532d312d352d32312d312d322d332d31303030"
    "0200"
    "6361"
    "0b00"
    "6469722f66c3a42e747874"
    // reply: channel sequence 5, action 2, four times, sizes, attrs, access
    "0500"
    "02000000"
    "0100000000000000"
    "0200000000000000"
    "0300000000000000"
    "0400000000000000"
    "0010000000000000"
    "0a00000000000000"
    "20000000"
    "ff011f00"
    // lock sequence array: entry 1 = 1, entries 2..63 invalid, 64 = 15
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0f"
    // two locks
    "02000000"
    "0000000000000000"
    "6400000000000000"
    "01"
    "11000000"
    "c800000000000000"
    "0000000000000000"
    "00"
    "00000000";
const char kGoldenIdentityHex[] =
    // file identity: known, devid 0x801, inode 0x1234, extid 0, birth time,
    // stream ":s1:$DATA"
    "01"
    "0108000000000000"
    "3412000000000000"
    "0000000000000000"
    "010000000000da01"
    "0900"
    "3a73313a2444415441";
const char kGoldenOpenFlagsHex[] =
    // open flags: delete on close
    "01";

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(
        static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  PutFixed32(&bytes, Crc32c(reinterpret_cast<const uint8_t*>(bytes.data()),
                            bytes.size()));
  return bytes;
}

void test_golden_encoding(void**) {
  std::string bytes = Encode(FixedRecord());
  std::string hex = Hex(bytes);
  // The last 8 hex digits are the checksum: compare up to it, then check it.
  std::string body = hex.substr(0, hex.size() - 8);
  std::string want = std::string(kGoldenHeaderV3Hex) + kGoldenHex +
                     kGoldenIdentityHex + kGoldenOpenFlagsHex;
  if (body != want) {
    fail_msg("golden mismatch:\n got %s\nwant %s", body.c_str(),
             want.c_str());
  }
  uint32_t crc =
      Crc32c(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size() - 4);
  assert_int_equal(DecodeFixed32(reinterpret_cast<const uint8_t*>(
                       bytes.data() + bytes.size() - 4)),
                   crc);
  assert_int_equal(bytes.size(), 401);
}

// A record written before the open flags were kept (version 2) is still
// read, as one whose delete on close was never set by SET_INFO, and written
// back as version 3.
void test_version2_still_read(void**) {
  std::string bytes = FromHex(std::string(kGoldenHeaderV2Hex) + kGoldenHex +
                              kGoldenIdentityHex);
  assert_int_equal(bytes.size(), 400);
  OpenRecord r;
  Status s = Decode(bytes, &r);
  if (!s.ok()) {
    fail_msg("version 2 record refused: %s", s.ToString().c_str());
  }
  OpenRecord want = FixedRecord();
  want.delete_on_close = false;
  assert_true(r == want);
  std::string again = Encode(r);
  assert_int_equal(static_cast<uint8_t>(again[kVersionOffset]), 3);
  assert_int_equal(static_cast<uint8_t>(again[kVersionOffset + 1]), 0);
  assert_int_equal(static_cast<uint8_t>(again[again.size() - 5]), 0);
  OpenRecord back;
  assert_true(Decode(again, &back).ok());
  assert_true(back == want);
  // a version 2 record with one byte more is not read as version 3
  std::string longer = FromHex(std::string(kGoldenHeaderV2Hex) + kGoldenHex +
                               kGoldenIdentityHex + kGoldenOpenFlagsHex);
  EncodeFixed32(reinterpret_cast<uint8_t*>(&longer[8]),
                static_cast<uint32_t>(longer.size()));
  ResealRecordForTesting(&longer);
  assert_int_equal(Decode(longer, &back).code(), PCORE_CORRUPT_RECORD);
  Status longer_status = Decode(longer, &back);
  assert_true(
      longer_status.message().find("trailing bytes after the file identity") !=
      std::string::npos);
}

// The open flags: only delete on close is known; the flag round-trips.
void test_open_flags(void**) {
  OpenRecord r = FixedRecord();
  std::string bytes = Encode(r);
  size_t flags_offset = bytes.size() - 5;
  ExpectFieldFailure(bytes, flags_offset, std::string(1, '\x02'),
                     PCORE_CORRUPT_RECORD, "unknown open flags 2");
  ExpectFieldFailure(bytes, flags_offset, std::string(1, '\x81'),
                     PCORE_CORRUPT_RECORD, "unknown open flags 129");
  r.delete_on_close = false;
  std::string cleared = Encode(r);
  assert_int_equal(static_cast<uint8_t>(cleared[flags_offset]), 0);
  OpenRecord back;
  assert_true(Decode(cleared, &back).ok());
  assert_false(back.delete_on_close);
  assert_true(Decode(bytes, &back).ok());
  assert_true(back.delete_on_close);
}

// A record written before file identities were kept (version 1) is still
// read: the same fields, its file known by share and path only.
void test_version1_still_read(void**) {
  std::string bytes = FromHex(std::string(kGoldenHeaderV1Hex) + kGoldenHex);
  assert_int_equal(bytes.size(), 356);
  OpenRecord r;
  Status s = Decode(bytes, &r);
  if (!s.ok()) {
    fail_msg("version 1 record refused: %s", s.ToString().c_str());
  }
  OpenRecord want = FixedRecord();
  want.file = FileIdentity();
  want.delete_on_close = false;
  assert_true(r == want);
  // written back, it is a version 3 record without an identity
  std::string again = Encode(r);
  assert_int_equal(static_cast<uint8_t>(again[kVersionOffset]), 3);
  assert_int_equal(static_cast<uint8_t>(again[kVersionOffset + 1]), 0);
  OpenRecord back;
  assert_true(Decode(again, &back).ok());
  assert_true(back == want);
}

void test_identity_checks(void**) {
  OpenRecord r = FixedRecord();
  std::string out;
  r.file.inode = 0;
  assert_int_equal(EncodeRecord(r, &out).code(), PCORE_INVALID_PARAMETER);
  r = FixedRecord();
  r.file.stream_name = "s1";
  assert_int_equal(EncodeRecord(r, &out).code(), PCORE_INVALID_PARAMETER);
  r = FixedRecord();
  r.file.known = false;
  assert_int_equal(EncodeRecord(r, &out).code(), PCORE_INVALID_PARAMETER);
  r.file = FileIdentity();
  assert_true(EncodeRecord(r, &out).ok());
  // an unknown identity flag is corruption
  std::string bytes = Encode(FixedRecord());
  // checksum, open flags, stream, its length, four u64, identity flags
  size_t flags_at = bytes.size() - 4 - 1 - 9 - 2 - 32 - 1;
  assert_int_equal(static_cast<uint8_t>(bytes[flags_at]), 1);
  bytes[flags_at] = 3;
  ResealRecordForTesting(&bytes);
  OpenRecord back;
  Status s = Decode(bytes, &back);
  assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
  assert_true(s.message().find("file identity has unknown flags 3") !=
              std::string::npos);
}

void test_every_truncation_fails(void**) {
  std::string bytes = Encode(FixedRecord());
  for (size_t len = 0; len < bytes.size(); len++) {
    OpenRecord r;
    Status s =
        DecodeRecord(reinterpret_cast<const uint8_t*>(bytes.data()), len, &r);
    if (s.code() != PCORE_CORRUPT_RECORD) {
      fail_msg("length %zu: %s", len, s.ToString().c_str());
    }
    assert_true(s.message().find("truncated") != std::string::npos);
  }
  std::string longer = bytes + "x";
  OpenRecord r;
  assert_int_equal(Decode(longer, &r).code(), PCORE_CORRUPT_RECORD);
}

void test_every_byte_corruption_fails(void**) {
  // A record with every kind of field, and one without locks or lease.
  OpenRecord plain = RandomRecord(5);
  plain.oplock_level = PCORE_OPLOCK_BATCH;
  plain.lease_version = 0;
  plain.lease_key = Guid{};
  plain.lease_state = 0;
  plain.lease_epoch = 0;
  plain.locks.clear();
  for (const OpenRecord& record : {FixedRecord(), plain}) {
    std::string bytes = Encode(record);
    for (size_t i = 0; i < bytes.size(); i++) {
      for (uint8_t mask : {0x01, 0x10, 0x80, 0xFF}) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        OpenRecord r;
        Status s = Decode(bad, &r);
        if (s.ok()) {
          fail_msg("byte %zu ^ 0x%02x accepted", i, mask);
        }
        if (s.code() != PCORE_CORRUPT_RECORD &&
            s.code() != PCORE_UNKNOWN_VERSION) {
          fail_msg("byte %zu: unexpected %s", i, s.ToString().c_str());
        }
      }
    }
  }
}

void test_unknown_version(void**) {
  std::string bytes = Encode(FixedRecord());
  ExpectFieldFailure(bytes, kVersionOffset, Le16(7), PCORE_UNKNOWN_VERSION,
                     "unknown version 7");
  ExpectFieldFailure(bytes, kVersionOffset, Le16(0), PCORE_UNKNOWN_VERSION,
                     "unknown version 0");
  // The version is reported even when the checksum is stale: a record from a
  // newer format is not called corrupt.
  std::string newer = bytes;
  newer.replace(kVersionOffset, 2, Le16(4));
  OpenRecord r;
  assert_int_equal(Decode(newer, &r).code(), PCORE_UNKNOWN_VERSION);
}

void test_header_checks(void**) {
  std::string bytes = Encode(FixedRecord());
  ExpectFieldFailure(bytes, 0, "XHCA", PCORE_CORRUPT_RECORD, "bad magic");
  ExpectFieldFailure(bytes, kFlagsOffset, Le16(1), PCORE_CORRUPT_RECORD,
                     "unknown flags 1");
  std::string stale = bytes;
  stale[kStateOffset] = 1;
  OpenRecord r;
  Status s = Decode(stale, &r);
  assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
  assert_string_equal(s.message().c_str(), "checksum mismatch");
}

void test_oversized_counts(void**) {
  std::string bytes = Encode(FixedRecord());
  // the identity (44 bytes with FixedRecord()'s stream) and the open flags
  // (1 byte) follow the locks
  size_t count_offset = bytes.size() - 4 - 1 - 44 - 2 * kLockSize - 4;
  ExpectFieldFailure(bytes, count_offset, Le32(PCORE_MAX_LOCKS + 1),
                     PCORE_CORRUPT_RECORD, "lock count 4097 exceeds 4096");
  ExpectFieldFailure(bytes, count_offset, Le32(0xFFFFFFFF),
                     PCORE_CORRUPT_RECORD, "exceeds");
  // 5 locks need 105 bytes; the 2 stored, the identity and the flags hold 87
  ExpectFieldFailure(bytes, count_offset, Le32(5), PCORE_CORRUPT_RECORD,
                     "record truncated at lock 4");
  ExpectFieldFailure(bytes, count_offset, Le32(1), PCORE_CORRUPT_RECORD,
                     "file identity has unknown flags");
  ExpectFieldFailure(bytes, kSidLengthOffset, Le16(PCORE_MAX_SID_LEN + 1),
                     PCORE_CORRUPT_RECORD, "owner SID length 191 exceeds 190");
  ExpectFieldFailure(bytes, kSidLengthOffset, Le16(0xFFFF),
                     PCORE_CORRUPT_RECORD, "exceeds");
  // A string length that runs past the end of the record.
  size_t path_len_offset = kSidLengthOffset + 2 + 19 + 2 + 2;
  ExpectFieldFailure(bytes, path_len_offset, Le16(4000), PCORE_CORRUPT_RECORD,
                     "record truncated at path");
  ExpectFieldFailure(bytes, path_len_offset, Le16(5000), PCORE_CORRUPT_RECORD,
                     "path length 5000 exceeds 4096");
}

void test_field_checks(void**) {
  std::string bytes = Encode(FixedRecord());
  ExpectFieldFailure(bytes, kStateOffset, "\x03", PCORE_CORRUPT_RECORD,
                     "unknown state 3");
  ExpectFieldFailure(bytes, kStateOffset, "\x01", PCORE_CORRUPT_RECORD,
                     "connected open has a disconnect time");
  ExpectFieldFailure(bytes, kDisconnectTimeOffset, std::string(8, '\0'),
                     PCORE_CORRUPT_RECORD, "no disconnect time");
  ExpectFieldFailure(bytes, kOplockOffset, "\x42", PCORE_CORRUPT_RECORD,
                     "unknown oplock level 66");
  ExpectFieldFailure(bytes, kOplockOffset, "\x09", PCORE_CORRUPT_RECORD,
                     "lease version 2 with oplock level 9");
  ExpectFieldFailure(bytes, kLeaseVersionOffset, "\x03", PCORE_CORRUPT_RECORD,
                     "lease version 3");
  ExpectFieldFailure(bytes, kReservedOffset, "\x01", PCORE_CORRUPT_RECORD,
                     "reserved byte");
  ExpectFieldFailure(bytes, kLeaseStateOffset, Le32(8), PCORE_CORRUPT_RECORD,
                     "invalid lease state 8");
  ExpectFieldFailure(bytes, kTimeoutOffset, Le32(0), PCORE_CORRUPT_RECORD,
                     "timeout 0 ms out of range");
  ExpectFieldFailure(bytes, 20, std::string(8, '\0'), PCORE_CORRUPT_RECORD,
                     "persistent id is 0");
  ExpectFieldFailure(bytes, 36, std::string(16, '\0'), PCORE_CORRUPT_RECORD,
                     "create GUID is zero");
  ExpectFieldFailure(bytes, 118, Le32(8), PCORE_CORRUPT_RECORD,
                     "invalid share access 8");
  ExpectFieldFailure(bytes, 122, Le32(6), PCORE_CORRUPT_RECORD,
                     "invalid create disposition 6");
  // SID "S-1-5-21-1-2-3-1000": make it "X-1-...".
  ExpectFieldFailure(bytes, kSidLengthOffset + 2, "X", PCORE_CORRUPT_RECORD,
                     "owner SID is not a SID string");
  size_t share_offset = kSidLengthOffset + 2 + 19 + 2;
  ExpectFieldFailure(bytes, share_offset, std::string("\0", 1),
                     PCORE_CORRUPT_RECORD, "share name is not valid UTF-8");
  size_t path_offset = share_offset + 2 + 2;
  ExpectFieldFailure(bytes, path_offset, "/", PCORE_CORRUPT_RECORD,
                     "path is absolute");
  // "dir/f\xc3\xa4.txt": break the two-byte sequence.
  ExpectFieldFailure(bytes, path_offset + 5, "\xc3\x41", PCORE_CORRUPT_RECORD,
                     "path is not valid UTF-8");
  size_t reply_offset = path_offset + 11;
  ExpectFieldFailure(bytes, reply_offset + 2, Le32(4), PCORE_CORRUPT_RECORD,
                     "invalid create action 4");
  size_t seq_offset = reply_offset + 2 + 4 + 6 * 8 + 4 + 4;
  ExpectFieldFailure(bytes, seq_offset + 9, "\x10", PCORE_CORRUPT_RECORD,
                     "invalid lock sequence entry 10");
  size_t lock0 = seq_offset + 64 + 4;
  ExpectFieldFailure(bytes, lock0 + 16, "\x02", PCORE_CORRUPT_RECORD,
                     "lock 0 has unknown flags 2");
  // Lock 1 at offset 200: give it a length that wraps past 2^64.
  ExpectFieldFailure(bytes, lock0 + kLockSize + 8, std::string(8, '\xff'),
                     PCORE_CORRUPT_RECORD, "lock 1 wraps around");
}

void test_encoder_refuses_invalid(void**) {
  OpenRecord r = FixedRecord();
  r.path = std::string(PCORE_MAX_PATH_LEN + 1, 'a');
  std::string out = "keep";
  Status s = EncodeRecord(r, &out);
  assert_int_equal(s.code(), PCORE_INVALID_PARAMETER);
  assert_string_equal(out.c_str(), "keep");
  r = FixedRecord();
  r.owner_sid = "S-1-5-21-4294967296";  // sub-authority above 2^32-1
  assert_int_equal(EncodeRecord(r, &out).code(), PCORE_INVALID_PARAMETER);
  r = FixedRecord();
  r.locks.resize(PCORE_MAX_LOCKS + 1);
  s = EncodeRecord(r, &out);
  assert_int_equal(s.code(), PCORE_INVALID_PARAMETER);
  assert_true(s.message().find("lock count") != std::string::npos);
}

void test_string_checks(void**) {
  assert_true(IsValidUtf8("plain"));
  assert_true(IsValidUtf8("\xe6\x97\xa5\xf0\x9f\x98\x80"));
  assert_false(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  assert_false(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  assert_false(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  assert_false(IsValidUtf8("\xe6\x97"));          // cut short
  assert_false(IsValidUtf8(std::string("a\0b", 3)));
  assert_true(IsValidSidString("S-1-5-32-544"));
  assert_true(IsValidSidString("S-1-1"));
  assert_false(IsValidSidString("S-1-"));
  assert_false(IsValidSidString("S-1-5--1"));
  assert_false(IsValidSidString("S-2-5-1"));
  assert_false(IsValidSidString("S-1-5-1-"));
  std::string many = "S-1-5";
  for (int i = 0; i < 15; i++) {
    many += "-1";
  }
  assert_true(IsValidSidString(many));
  assert_false(IsValidSidString(many + "-1"));
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c_known_value),
      cmocka_unit_test(test_round_trip_seeds),
      cmocka_unit_test(test_golden_encoding),
      cmocka_unit_test(test_every_truncation_fails),
      cmocka_unit_test(test_every_byte_corruption_fails),
      cmocka_unit_test(test_unknown_version),
      cmocka_unit_test(test_version1_still_read),
      cmocka_unit_test(test_version2_still_read),
      cmocka_unit_test(test_open_flags),
      cmocka_unit_test(test_identity_checks),
      cmocka_unit_test(test_header_checks),
      cmocka_unit_test(test_oversized_counts),
      cmocka_unit_test(test_field_checks),
      cmocka_unit_test(test_encoder_refuses_invalid),
      cmocka_unit_test(test_string_checks),
  };
  return cmocka_run_group_tests_name("persistent_record", tests, nullptr,
                                     nullptr);
}
