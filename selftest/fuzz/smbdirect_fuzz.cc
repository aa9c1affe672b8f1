// Copyright (C) samba-ca authors. GPLv3+.
//
// libFuzzer target for smbdirect/'s decoders and its engine: the negotiate
// request and response decoders, the data transfer decoder, the buffer
// descriptor list parser, and a responder Connection fed a sequence of
// messages cut from the input.  Invariants (abort on violation): nothing
// crashes or reads out of bounds; every resumable decoder ends in the
// same state with the same result however its input is split; a data
// transfer's payload is exactly DataLength bytes; a parsed descriptor
// list has no empty entry and fits in 32 bits; the engine never holds
// more peer credits than receives posted, nor more receives than its
// maximum.
//
// clang++-14 -fsanitize=fuzzer,address,undefined -Ismbdirect -Isigning
// builds the libFuzzer binary.  With -DSMBDIRECT_FUZZ_STANDALONE (g++ with
// ASan/UBSan) it is a plain driver: arguments are input files, or without
// arguments SMBDIRECT_FUZZ_ITERATIONS (default 20000) seeded random inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "connection.h"
#include "wire.h"

namespace {

namespace sd = samba_ca::smbdirect;

struct Collect : sd::DataTransferVisitor {
  int headers = 0;
  sd::DataTransferHeader header;
  std::vector<uint8_t> payload;
  void OnDataTransferHeader(const sd::DataTransferHeader& h) override {
    headers++;
    header = h;
  }
  void OnPayload(const uint8_t* data, size_t len) override {
    payload.insert(payload.end(), data, data + len);
  }
};

// Feeds [data, data + size) whole to one decoder and cut in three to the
// other; both must agree.
template <typename Decoder>
void Compare(const uint8_t* data, size_t size, size_t cut1, size_t cut2,
             Decoder* whole, Decoder* split) {
  size_t used_whole = whole->Consume(data, size);
  size_t used_split = 0;
  size_t cuts[3] = {cut1, cut2, size};
  size_t at = 0;
  for (size_t end : cuts) {
    if (end < at) {
      end = at;
    }
    used_split += split->Consume(data + at, end - at);
    at = end;
  }
  if (whole->state() != split->state() ||
      whole->error().code() != split->error().code()) {
    abort();
  }
  if (whole->state() != sd::DecodeState::kError && used_whole != used_split) {
    abort();
  }
}

void FuzzDecoders(const uint8_t* data, size_t size) {
  size_t cut1 = size > 0 ? data[0] % (size + 1) : 0;
  size_t cut2 = size > 1 ? cut1 + data[1] % (size - cut1 + 1) : size;
  {
    sd::NegotiateRequestDecoder a(size), b(size);
    Compare(data, size, cut1, cut2, &a, &b);
  }
  {
    sd::NegotiateResponseDecoder a(size), b(size);
    Compare(data, size, cut1, cut2, &a, &b);
  }
  sd::DataTransferLimits limits;
  limits.max_receive_size = 1364;
  limits.max_fragmented_size = size > 2 ? 131072u << (data[2] % 4) : 131072;
  Collect ca, cb;
  sd::DataTransferDecoder a(size, limits, &ca), b(size, limits, &cb);
  Compare(data, size, cut1, cut2, &a, &b);
  if (ca.payload != cb.payload || ca.headers != cb.headers) {
    abort();
  }
  if (a.state() == sd::DecodeState::kDone && ca.headers == 1 &&
      ca.payload.size() != ca.header.data_length) {
    abort();
  }
  std::vector<sd::BufferDescriptorV1> list;
  if (sd::ParseBufferDescriptorList(data, size, 64, &list).ok()) {
    if (list.size() * sd::kBufferDescriptorV1Size != size ||
        sd::TotalLength(list) > UINT32_MAX) {
      abort();
    }
    for (const sd::BufferDescriptorV1& d : list) {
      if (d.length == 0) {
        abort();
      }
    }
  }
}

class CountingIo : public sd::ConnectionIo {
 public:
  sd::Status PostReceive(uint32_t) override {
    posted++;
    return sd::Status::OK();
  }
  sd::Status SendMessage(const uint8_t*, size_t, const uint8_t*, size_t,
                         uint32_t) override {
    return sd::Status::OK();
  }
  void OnUpperMessage(const uint8_t*, size_t) override {}
  void OnDisconnected(const sd::Status&) override {}
  uint64_t posted = 0;
};

// Each message: a length byte, then that many bytes (a good negotiate
// request first, so that data transfers are reached).
void FuzzEngine(const uint8_t* data, size_t size) {
  CountingIo io;
  sd::Config config;
  config.max_fragmented_recv_size = 131072;
  sd::Connection c(sd::Role::kResponder, config, &io);
  c.Start(0);
  sd::NegotiateRequest req;
  req.credits_requested = 8;
  req.preferred_send_size = 1364;
  req.max_receive_size = 1364;
  req.max_fragmented_size = 131072;
  std::vector<uint8_t> first;
  sd::EncodeNegotiateRequest(req, &first);
  c.OnReceive(first.data(), first.size(), 0);
  size_t at = 0;
  uint64_t now = 0;
  while (at < size && c.state() == sd::State::kEstablished) {
    size_t len = data[at++];
    if (len > size - at) {
      len = size - at;
    }
    now += 10;
    c.OnReceive(data + at, len, now);
    c.OnTimer(now);
    at += len;
    if (c.peer_credits() > c.receive_credits() ||
        c.receive_credits() > config.receive_credit_max) {
      abort();
    }
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  FuzzDecoders(data, size);
  FuzzEngine(data, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}

#ifdef SMBDIRECT_FUZZ_STANDALONE
#include "standalone_driver.h"

namespace {

// Mostly data transfer headers with plausible offsets and lengths, so
// that the checks past the first are reached.
std::vector<uint8_t> RandomInput(uint64_t* state) {
  auto next = [state]() { return samba_ca::fuzz::SplitMix64(state); };
  size_t size = next() % 300;
  std::vector<uint8_t> in(size);
  for (auto& b : in) b = static_cast<uint8_t>(next());
  if (size >= 20 && next() % 4 != 0) {
    in[0] = static_cast<uint8_t>(1 + next() % 8), in[1] = 0;
    in[12] = static_cast<uint8_t>(next() % 2 ? 24 : next() % 40);
    in[13] = in[14] = in[15] = 0;
    in[16] = static_cast<uint8_t>(next() % size);
    in[17] = in[18] = in[19] = 0;
    if (next() % 2) {
      in[9] = in[10] = in[11] = 0;
    }
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  return samba_ca::fuzz::RunStandalone(argc, argv, "smbdirect_fuzz",
                                       "SMBDIRECT_FUZZ_ITERATIONS", 0x5D,
                                       FuzzOne, RandomInput);
}
#endif  // SMBDIRECT_FUZZ_STANDALONE
