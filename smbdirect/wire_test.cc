// Copyright (C) samba-ca authors. GPLv3+.
//
// The [MS-SMBD] codecs: golden encodings, seeded round trips in random
// pieces, and every refusal (truncated, wrong version, sizes, offsets).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <cstring>

#include "test_util.h"
#include "wire.h"

using namespace samba_ca::smbdirect;
using namespace samba_ca::smbdirect::testing;

namespace {

// Feeds `bytes` to a decoder in random pieces; returns the final state.
template <typename Decoder>
DecodeState FeedInPieces(Decoder* d, const std::vector<uint8_t>& bytes,
                         Random* rnd) {
  size_t at = 0;
  while (at < bytes.size() && d->state() == DecodeState::kNeedMore) {
    size_t n = 1 + rnd->Uniform(static_cast<uint32_t>(bytes.size() - at));
    size_t used = d->Consume(bytes.data() + at, n);
    assert_true(used <= n);
    at += used;
    if (used < n) {
      break;
    }
  }
  return d->state();
}

void TestNegotiateRequestGolden(void**) {
  // [MS-SMBD] 4.1's request.
  NegotiateRequest r = GoodRequest();
  r.preferred_send_size = 0x400;
  r.max_receive_size = 0x400;
  r.max_fragmented_size = 0x20000;
  const uint8_t golden[] = {0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a,
                            0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04,
                            0x00, 0x00, 0x00, 0x00, 0x02, 0x00};
  std::vector<uint8_t> v = Encode(r);
  assert_int_equal(v.size(), sizeof(golden));
  assert_memory_equal(v.data(), golden, sizeof(golden));
  NegotiateRequestDecoder d(v.size());
  assert_int_equal(d.Consume(v.data(), v.size()), v.size());
  assert_int_equal(static_cast<int>(d.state()),
                   static_cast<int>(DecodeState::kDone));
  assert_int_equal(d.message().credits_requested, 10);
  assert_int_equal(d.message().max_fragmented_size, 0x20000);
}

void TestNegotiateResponseGolden(void**) {
  // [MS-SMBD] 4.1's response.
  NegotiateResponse r;
  r.credits_requested = 10;
  r.credits_granted = 10;
  r.max_read_write_size = 0x100000;
  r.preferred_send_size = 0x400;
  r.max_receive_size = 0x400;
  r.max_fragmented_size = 0x20000;
  const uint8_t golden[] = {0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                            0x0a, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00, 0x00,
                            0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};
  std::vector<uint8_t> v = Encode(r);
  assert_int_equal(v.size(), sizeof(golden));
  assert_memory_equal(v.data(), golden, sizeof(golden));
  NegotiateResponseDecoder d(v.size());
  d.Consume(v.data(), v.size());
  assert_true(d.state() == DecodeState::kDone);
  assert_int_equal(d.message().max_read_write_size, 0x100000);
}

void TestNegotiateInPieces(void**) {
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    Random rnd(seed);
    NegotiateRequest r = GoodRequest();
    r.credits_requested = static_cast<uint16_t>(1 + rnd.Uniform(65535));
    r.max_receive_size = 128 + rnd.Uniform(1 << 20);
    r.max_fragmented_size = 131072 + rnd.Uniform(1 << 24);
    r.preferred_send_size = rnd.Uniform(1 << 20);
    std::vector<uint8_t> v = Encode(r);
    // A longer message is allowed: "at least 20 bytes".
    v.resize(v.size() + rnd.Uniform(8), 0xee);
    NegotiateRequestDecoder d(v.size());
    if (FeedInPieces(&d, v, &rnd) != DecodeState::kDone ||
        d.message().max_receive_size != r.max_receive_size ||
        d.message().credits_requested != r.credits_requested) {
      printf("negotiate round trip failed, seed %llu\n",
             static_cast<unsigned long long>(seed));
      fail();
    }
  }
}

void TestNegotiateNeedsMore(void**) {
  std::vector<uint8_t> v = Encode(GoodRequest());
  NegotiateRequestDecoder d(v.size());
  assert_int_equal(d.Consume(v.data(), 7), 7);
  assert_true(d.state() == DecodeState::kNeedMore);
  assert_int_equal(d.Consume(v.data() + 7, 13), 13);
  assert_true(d.state() == DecodeState::kDone);
  // Nothing more is taken once done.
  assert_int_equal(d.Consume(v.data(), 1), 0);
}

template <typename Decoder, typename Message>
void ExpectError(const Message& m, Code code) {
  std::vector<uint8_t> v = Encode(m);
  Decoder d(v.size());
  d.Consume(v.data(), v.size());
  assert_true(d.state() == DecodeState::kError);
  assert_int_equal(static_cast<int>(d.error().code()), static_cast<int>(code));
}

void ExpectRequestError(const NegotiateRequest& r, Code code) {
  ExpectError<NegotiateRequestDecoder>(r, code);
}

void TestNegotiateRequestRefusals(void**) {
  // Truncated: 19 of 20 bytes, and nothing at all.
  for (size_t len : {size_t{0}, size_t{1}, size_t{19}}) {
    NegotiateRequestDecoder d(len);
    assert_true(d.state() == DecodeState::kError);
    assert_true(d.error().code() == Code::kTruncated);
    assert_non_null(strstr(d.error().message().c_str(), "at least 20"));
  }
  NegotiateRequest r = GoodRequest();
  r.min_version = 0x0200;
  r.max_version = 0x0300;
  ExpectRequestError(r, Code::kBadVersion);
  r = GoodRequest();
  r.min_version = 0x0001;
  r.max_version = 0x00ff;
  ExpectRequestError(r, Code::kBadVersion);
  r = GoodRequest();
  r.max_version = 0x0200;  // a range that includes 0x0100 is fine
  std::vector<uint8_t> v = Encode(r);
  NegotiateRequestDecoder ok(v.size());
  ok.Consume(v.data(), v.size());
  assert_true(ok.state() == DecodeState::kDone);
  r = GoodRequest();
  r.credits_requested = 0;
  ExpectRequestError(r, Code::kBadSize);
  r = GoodRequest();
  r.max_receive_size = 127;
  ExpectRequestError(r, Code::kBadSize);
  r = GoodRequest();
  r.max_receive_size = 0;
  ExpectRequestError(r, Code::kBadSize);
  r = GoodRequest();
  r.max_fragmented_size = 131071;
  ExpectRequestError(r, Code::kBadSize);
}

void ExpectResponseError(const NegotiateResponse& r, Code code) {
  ExpectError<NegotiateResponseDecoder>(r, code);
}

void TestNegotiateResponseRefusals(void**) {
  NegotiateResponse good;
  good.credits_requested = 1;
  good.credits_granted = 1;
  good.max_receive_size = 128;
  good.max_fragmented_size = 131072;
  NegotiateResponseDecoder t(31);
  assert_true(t.error().code() == Code::kTruncated);
  NegotiateResponse r = good;
  r.negotiated_version = 0x0200;
  ExpectResponseError(r, Code::kBadVersion);
  r = good;
  r.max_receive_size = 64;
  ExpectResponseError(r, Code::kBadSize);
  r = good;
  r.max_fragmented_size = 4096;
  ExpectResponseError(r, Code::kBadSize);
  r = good;
  r.credits_granted = 0;
  ExpectResponseError(r, Code::kBadSize);
  r = good;
  r.credits_requested = 0;
  ExpectResponseError(r, Code::kBadSize);
  r = good;
  r.status = kStatusNotSupported;
  ExpectResponseError(r, Code::kNegotiateFailed);
}

struct Collect : DataTransferVisitor {
  DataTransferHeader header;
  int headers = 0;
  std::vector<uint8_t> payload;
  void OnDataTransferHeader(const DataTransferHeader& h) override {
    header = h;
    headers++;
  }
  void OnPayload(const uint8_t* data, size_t len) override {
    payload.insert(payload.end(), data, data + len);
  }
};

const DataTransferLimits kLimits{1364, 1048576};

void TestDataTransferGolden(void**) {
  std::vector<uint8_t> v =
      DataMessage(3, kFlagResponseRequested, 100, {0xaa, 0xbb});
  const uint8_t golden[] = {0x0a, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
                            0x00, 0x64, 0x00, 0x00, 0x00, 0x18, 0x00,
                            0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0xaa, 0xbb};
  assert_int_equal(v.size(), sizeof(golden));
  assert_memory_equal(v.data(), golden, sizeof(golden));
  // An empty message: 20 bytes, no offset (3.1.5.4).
  std::vector<uint8_t> e = DataMessage(1, 0, 0, {});
  assert_int_equal(e.size(), 20);
  Collect c;
  DataTransferDecoder d(e.size(), kLimits, &c);
  d.Consume(e.data(), e.size());
  assert_true(d.state() == DecodeState::kDone);
  assert_int_equal(c.headers, 1);
  assert_int_equal(c.payload.size(), 0);
}

void TestDataTransferInPieces(void**) {
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    Random rnd(seed);
    std::vector<uint8_t> payload =
        Pattern(rnd.Uniform(1364 - 24 + 1), static_cast<uint8_t>(seed));
    uint32_t remaining = rnd.Uniform(1000);
    std::vector<uint8_t> v = DataMessage(static_cast<uint16_t>(rnd.Uniform(20)),
                                         0, remaining, payload);
    Collect c;
    DataTransferDecoder d(v.size(), kLimits, &c);
    if (FeedInPieces(&d, v, &rnd) != DecodeState::kDone || c.headers != 1 ||
        c.payload != payload || c.header.remaining_data_length != remaining) {
      printf("data transfer round trip failed, seed %llu: %s\n",
             static_cast<unsigned long long>(seed),
             d.error().ToString().c_str());
      fail();
    }
  }
}

void ExpectDataError(const std::vector<uint8_t>& v, Code code,
                     const char* words) {
  Collect c;
  DataTransferDecoder d(v.size(), kLimits, &c);
  d.Consume(v.data(), v.size());
  assert_true(d.state() == DecodeState::kError);
  if (d.error().code() != code ||
      strstr(d.error().message().c_str(), words) == nullptr) {
    printf("got %s\n", d.error().ToString().c_str());
    fail();
  }
  assert_int_equal(c.payload.size(), 0);  // nothing handed on
}

void PatchLe32(std::vector<uint8_t>* v, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    (*v)[at + i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

void TestDataTransferRefusals(void**) {
  std::vector<uint8_t> good = DataMessage(1, 0, 0, Pattern(100, 1));
  ExpectDataError(std::vector<uint8_t>(good.begin(), good.begin() + 19),
                  Code::kTruncated, "at least 20");
  // Longer than the negotiated MaxReceiveSize.
  ExpectDataError(DataMessage(1, 0, 0, Pattern(1364 - 24 + 1, 1)),
                  Code::kOversize, "MaxReceiveSize");
  std::vector<uint8_t> v = good;
  v[0] = v[1] = 0;  // CreditsRequested 0
  ExpectDataError(v, Code::kBadSize, "CreditsRequested");
  v = good;
  PatchLe32(&v, 12, 21);  // DataOffset not 8-aligned
  ExpectDataError(v, Code::kMalformed, "aligned");
  v = good;
  PatchLe32(&v, 12, 16);  // payload in the header
  ExpectDataError(v, Code::kMalformed, "header");
  v = good;
  PatchLe32(&v, 16, 101);  // DataLength past the message
  ExpectDataError(v, Code::kTruncated, "beyond the message");
  v = good;
  PatchLe32(&v, 16, 0xffffffff);  // a huge DataLength
  ExpectDataError(v, Code::kTruncated, "beyond the message");
  v = good;
  PatchLe32(&v, 8, 1048576 - 100 + 1);  // one byte over the maximum
  ExpectDataError(v, Code::kOversize, "negotiated maximum");
  v = good;
  PatchLe32(&v, 8, 0xffffffff);  // a huge RemainingDataLength
  ExpectDataError(v, Code::kOversize, "negotiated maximum");
  v = good;
  PatchLe32(&v, 8, 1048576 - 100);  // exactly at the maximum: fine
  Collect c;
  DataTransferDecoder d(v.size(), kLimits, &c);
  d.Consume(v.data(), v.size());
  assert_true(d.state() == DecodeState::kDone);
}

void TestBufferDescriptors(void**) {
  std::vector<uint8_t> v;
  BufferDescriptorV1 a{0x1122334455667788ull, 0xabcd, 4096};
  BufferDescriptorV1 b{0x10, 7, 1};
  EncodeBufferDescriptor(a, &v);
  EncodeBufferDescriptor(b, &v);
  assert_int_equal(v.size(), 32);
  const uint8_t golden_a[] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                              0xcd, 0xab, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00};
  assert_memory_equal(v.data(), golden_a, 16);
  std::vector<BufferDescriptorV1> list;
  assert_true(ParseBufferDescriptorList(v.data(), v.size(), 8, &list).ok());
  assert_int_equal(list.size(), 2);
  assert_true(list[0].offset == a.offset);
  assert_int_equal(list[1].token, 7);
  assert_int_equal(TotalLength(list), 4097);

  assert_true(ParseBufferDescriptorList(v.data(), 0, 8, &list).code() ==
              Code::kBadDescriptor);
  assert_true(ParseBufferDescriptorList(v.data(), 17, 8, &list).code() ==
              Code::kBadDescriptor);
  assert_true(ParseBufferDescriptorList(v.data(), 32, 1, &list).code() ==
              Code::kBadDescriptor);
  std::vector<uint8_t> zero;
  EncodeBufferDescriptor(BufferDescriptorV1{0, 1, 0}, &zero);
  Status s = ParseBufferDescriptorList(zero.data(), zero.size(), 8, &list);
  assert_true(s.code() == Code::kBadDescriptor);
  assert_non_null(strstr(s.message().c_str(), "length 0"));
  assert_int_equal(list.size(), 0);
  std::vector<uint8_t> huge;
  EncodeBufferDescriptor(BufferDescriptorV1{0, 1, 0xffffffff}, &huge);
  EncodeBufferDescriptor(BufferDescriptorV1{0, 2, 1}, &huge);
  s = ParseBufferDescriptorList(huge.data(), huge.size(), 8, &list);
  assert_true(s.code() == Code::kBadDescriptor);
  assert_non_null(strstr(s.message().c_str(), "4 GiB"));
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestNegotiateRequestGolden),
      cmocka_unit_test(TestNegotiateResponseGolden),
      cmocka_unit_test(TestNegotiateInPieces),
      cmocka_unit_test(TestNegotiateNeedsMore),
      cmocka_unit_test(TestNegotiateRequestRefusals),
      cmocka_unit_test(TestNegotiateResponseRefusals),
      cmocka_unit_test(TestDataTransferGolden),
      cmocka_unit_test(TestDataTransferInPieces),
      cmocka_unit_test(TestDataTransferRefusals),
      cmocka_unit_test(TestBufferDescriptors),
  };
  return cmocka_run_group_tests_name("smbdirect_wire", tests, nullptr, nullptr);
}
