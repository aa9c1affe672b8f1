// Shared by the core's C++ tests: a seeded generator of valid records.
#ifndef SAMBA_CA_PERSISTENT_TEST_UTIL_H
#define SAMBA_CA_PERSISTENT_TEST_UTIL_H

#include <cstdint>
#include <string>

#include "persistent_record.h"

namespace samba_ca {
namespace persistent {
namespace testing {

// splitmix64: small, fast and the same everywhere, so a seed reproduces.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t Uniform(uint32_t n) { return static_cast<uint32_t>(Next() % n); }
  bool OneIn(uint32_t n) { return Uniform(n) == 0; }

 private:
  uint64_t state_;
};

inline Guid RandomGuid(Random* rnd) {
  Guid g;
  for (auto& b : g) {
    b = static_cast<uint8_t>(rnd->Next());
  }
  return g;
}

inline std::string RandomText(Random* rnd, size_t max_len) {
  static const char* const kPieces[] = {"a",
                                        "Z",
                                        "0",
                                        " ",
                                        ".",
                                        "-",
                                        "_",
                                        "/",
                                        "\xc3\xa4",
                                        "\xe6\x97\xa5",
                                        "\xf0\x9f\x98\x80"};
  std::string s;
  size_t want = 1 + rnd->Uniform(static_cast<uint32_t>(max_len));
  while (true) {
    const char* piece = kPieces[rnd->Uniform(11)];
    if (s.size() + std::char_traits<char>::length(piece) > want) {
      break;
    }
    s += piece;
  }
  if (s.empty() || s[0] == '/') {
    s.insert(0, "f");
  }
  return s;
}

inline OpenRecord RandomRecord(uint64_t seed) {
  Random rnd(seed);
  OpenRecord r;
  r.sequence = rnd.Next();
  r.persistent_id = rnd.Next() | 1;
  r.volatile_id = rnd.Next();
  r.create_guid = RandomGuid(&rnd);
  r.create_guid[0] |= 1;
  r.client_guid = RandomGuid(&rnd);
  static const uint8_t kLevels[] = {PCORE_OPLOCK_NONE, PCORE_OPLOCK_II,
                                    PCORE_OPLOCK_EXCLUSIVE, PCORE_OPLOCK_BATCH,
                                    PCORE_OPLOCK_LEASE};
  r.oplock_level = kLevels[rnd.Uniform(5)];
  if (r.oplock_level == PCORE_OPLOCK_LEASE) {
    r.lease_version = static_cast<uint8_t>(1 + rnd.Uniform(2));
    r.lease_key = RandomGuid(&rnd);
    r.lease_state = rnd.Uniform(8);
    r.lease_epoch = static_cast<uint16_t>(rnd.Next());
  }
  r.owner.vnn = static_cast<uint32_t>(rnd.Next());
  r.owner.pid = rnd.Next();
  r.owner.unique_id = rnd.Next();
  r.access_mask = static_cast<uint32_t>(rnd.Next());
  r.share_access = rnd.Uniform(8);
  r.create_disposition = rnd.Uniform(6);
  r.create_options = static_cast<uint32_t>(rnd.Next());
  r.timeout_ms = PCORE_MIN_TIMEOUT_MS + rnd.Uniform(PCORE_MAX_TIMEOUT_MS);
  if (rnd.OneIn(2)) {
    r.state = OpenState::kDisconnected;
    r.disconnect_time_us = rnd.Next() | 1;
  }
  r.owner_sid = "S-1-5-21-" + std::to_string(rnd.Next() % 4294967296ull) + "-" +
                std::to_string(rnd.Uniform(100000)) + "-" +
                std::to_string(1000 + rnd.Uniform(100000));
  r.share_name = RandomText(&rnd, rnd.OneIn(8) ? PCORE_MAX_SHARE_NAME_LEN : 16);
  r.path = RandomText(&rnd, rnd.OneIn(8) ? PCORE_MAX_PATH_LEN : 64);
  r.reply.channel_sequence = static_cast<uint16_t>(rnd.Next());
  r.reply.create_action = rnd.Uniform(4);
  r.reply.creation_time = rnd.Next();
  r.reply.last_access_time = rnd.Next();
  r.reply.last_write_time = rnd.Next();
  r.reply.change_time = rnd.Next();
  r.reply.allocation_size = rnd.Next();
  r.reply.end_of_file = rnd.Next();
  r.reply.file_attributes = static_cast<uint32_t>(rnd.Next());
  r.reply.maximal_access = static_cast<uint32_t>(rnd.Next());
  for (auto& e : r.lock_sequence) {
    e = rnd.OneIn(3) ? static_cast<uint8_t>(rnd.Uniform(16))
                     : kLockSequenceInvalid;
  }
  if (!rnd.OneIn(4)) {  // one in four: a record of version 1, no identity
    r.file.known = true;
    r.file.devid = rnd.Next();
    r.file.inode = rnd.Next() | 1;
    r.file.extid = rnd.OneIn(2) ? 0 : rnd.Next();
    r.file.birth_time = rnd.OneIn(3) ? 0 : rnd.Next();
    if (rnd.OneIn(3)) {
      r.file.stream_name = ":" + RandomText(&rnd, 20) + ":$DATA";
    }
  }
  uint32_t num_locks =
      rnd.OneIn(16) ? rnd.Uniform(PCORE_MAX_LOCKS + 1) : rnd.Uniform(8);
  for (uint32_t i = 0; i < num_locks; i++) {
    ByteRangeLock l;
    l.length = rnd.OneIn(10) ? 0 : rnd.Next() >> rnd.Uniform(64);
    l.offset = rnd.Next();
    if (l.length != 0 && l.offset > UINT64_MAX - (l.length - 1)) {
      l.offset = UINT64_MAX - (l.length - 1);
    }
    l.exclusive = rnd.OneIn(2);
    l.lock_sequence = static_cast<uint32_t>(rnd.Next());
    r.locks.push_back(l);
  }
  // drawn last, so that the fields above stay what older seeds gave
  if (r.file.known) {
    r.delete_on_close = rnd.OneIn(2);
  }
  return r;
}

}  // namespace testing
}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_TEST_UTIL_H
