// Copyright (C) samba-ca authors. GPLv3+.
//
// Shared by smbdirect/'s tests: a seeded generator, a ConnectionIo that
// records what the engine asked for, message builders.

#ifndef SAMBA_CA_SMBDIRECT_TEST_UTIL_H_
#define SAMBA_CA_SMBDIRECT_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "connection.h"
#include "standalone_driver.h"  // selftest/fuzz/
#include "wire.h"

namespace samba_ca {
namespace smbdirect {
namespace testing {

// A seed reproduces a run: the fuzz drivers' SplitMix64, the one copy.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return fuzz::SplitMix64(&state_); }
  uint32_t Uniform(uint32_t n) { return static_cast<uint32_t>(Next() % n); }

 private:
  uint64_t state_;
};

inline std::vector<uint8_t> Pattern(size_t len, uint8_t seed) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) {
    v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  }
  return v;
}

// Records the engine's wishes; receives always succeed unless refused.
class RecordingIo : public ConnectionIo {
 public:
  struct Sent {
    std::vector<uint8_t> bytes;
    uint32_t invalidate_token = 0;
  };
  Status PostReceive(uint32_t size) override {
    if (refuse_receives) {
      return Status(Code::kTransport, "refused by the test");
    }
    posted++;
    last_receive_size = size;
    return Status::OK();
  }
  Status SendMessage(const uint8_t* header, size_t header_len,
                     const uint8_t* payload, size_t payload_len,
                     uint32_t invalidate_token) override {
    Sent s;
    s.bytes.assign(header, header + header_len);
    if (payload_len > 0) {
      s.bytes.insert(s.bytes.end(), payload, payload + payload_len);
    }
    s.invalidate_token = invalidate_token;
    sent.push_back(s);
    return Status::OK();
  }
  void OnUpperMessage(const uint8_t* data, size_t len) override {
    upper.emplace_back(data, data + len);
  }
  void OnDisconnected(const Status& reason) override {
    disconnects++;
    why = reason;
  }

  bool refuse_receives = false;
  uint32_t posted = 0;
  uint32_t last_receive_size = 0;
  std::vector<Sent> sent;
  std::vector<std::vector<uint8_t>> upper;
  int disconnects = 0;
  Status why;
};

inline NegotiateRequest GoodRequest() {
  NegotiateRequest r;
  r.credits_requested = 10;
  r.preferred_send_size = 1024;
  r.max_receive_size = 1024;
  r.max_fragmented_size = 131072;
  return r;
}

inline std::vector<uint8_t> Encode(const NegotiateRequest& r) {
  std::vector<uint8_t> v;
  EncodeNegotiateRequest(r, &v);
  return v;
}

inline std::vector<uint8_t> Encode(const NegotiateResponse& r) {
  std::vector<uint8_t> v;
  EncodeNegotiateResponse(r, &v);
  return v;
}

// A data transfer message with `payload` at offset 24.
inline std::vector<uint8_t> DataMessage(uint16_t granted, uint16_t flags,
                                        uint32_t remaining,
                                        const std::vector<uint8_t>& payload) {
  DataTransferHeader h;
  h.credits_requested = 10;
  h.credits_granted = granted;
  h.flags = flags;
  h.remaining_data_length = remaining;
  h.data_offset = payload.empty() ? 0 : kDataOffset;
  h.data_length = static_cast<uint32_t>(payload.size());
  std::vector<uint8_t> v;
  EncodeDataTransferHeader(h, &v);
  v.insert(v.end(), payload.begin(), payload.end());
  return v;
}

inline DataTransferHeader HeaderOf(const std::vector<uint8_t>& message) {
  struct Keep : DataTransferVisitor {
    DataTransferHeader h;
    void OnDataTransferHeader(const DataTransferHeader& x) override { h = x; }
    void OnPayload(const uint8_t*, size_t) override {}
  } keep;
  DataTransferLimits limits{UINT32_MAX, UINT32_MAX};
  DataTransferDecoder d(message.size(), limits, &keep);
  d.Consume(message.data(), message.size());
  return keep.h;
}

}  // namespace testing
}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_TEST_UTIL_H_
