// Copyright (C) samba-ca authors. GPLv3+.
//
// The loopback transport's RDMA rules, and two engines talking over it:
// negotiation, data transfer in and out of fragments, and SMB2-style
// READ and WRITE whose payload moves by RDMA write and read into
// registered buffers named by buffer descriptors.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <cstring>
#include <memory>

#include "driver.h"
#include "loopback_transport.h"
#include "test_util.h"

using namespace samba_ca::smbdirect;
using namespace samba_ca::smbdirect::testing;

namespace {

struct Pair {
  std::unique_ptr<LoopbackTransport> a;
  std::unique_ptr<LoopbackTransport> b;
  Pair() { LoopbackTransport::CreatePair(&a, &b); }
};

void TestSendNeedsPostedReceive(void**) {
  Pair p;
  const uint8_t m[4] = {1, 2, 3, 4};
  Status s = p.a->Send(m, 4, nullptr, 0, 0);
  assert_true(s.code() == Code::kTransport);
  assert_non_null(strstr(s.message().c_str(), "receiver not ready"));
  // The queue pair is broken on both sides, as an RC QP in error.
  assert_true(p.a->closed());
  assert_true(p.b->closed());
}

void TestSendFillsOldestReceive(void**) {
  Pair p;
  assert_true(p.b->PostReceive(8).ok());
  assert_true(p.b->PostReceive(64).ok());
  const uint8_t h[3] = {1, 2, 3};
  const uint8_t d[2] = {4, 5};
  assert_true(p.a->Send(h, 3, d, 2, 0).ok());
  std::vector<uint8_t> got;
  assert_true(p.b->PollReceive(&got));
  assert_int_equal(got.size(), 5);
  assert_int_equal(got[4], 5);
  assert_false(p.b->PollReceive(&got));
  assert_int_equal(p.b->posted_receives(), 1);
}

void TestSendLongerThanReceive(void**) {
  Pair p;
  p.b->PostReceive(4);
  const uint8_t m[5] = {};
  assert_true(p.a->Send(m, 5, nullptr, 0, 0).code() == Code::kOversize);
  assert_true(p.b->closed());
}

void TestRdmaWithinRegion(void**) {
  Pair p;
  std::vector<uint8_t> region(100, 0);
  BufferDescriptorV1 d;
  assert_true(p.b->Register(region.data(), region.size(),
                            kRemoteRead | kRemoteWrite, &d)
                  .ok());
  std::vector<uint8_t> data = Pattern(100, 5);
  assert_true(p.a->RdmaWrite(data.data(), 100, d).ok());
  assert_true(region == data);
  // A piece in the middle, read back.
  BufferDescriptorV1 mid = d;
  mid.offset += 40;
  uint8_t out[10];
  assert_true(p.a->RdmaRead(out, 10, mid).ok());
  assert_memory_equal(out, data.data() + 40, 10);
  assert_int_equal(p.a->bytes_moved(), 110);
}

Status TryWrite(const BufferDescriptorV1& d, size_t len, uint32_t access,
                bool* closed) {
  Pair p;
  std::vector<uint8_t> region(100, 0);
  BufferDescriptorV1 reg;
  p.b->Register(region.data(), region.size(), access, &reg);
  BufferDescriptorV1 use = d;
  use.offset += reg.offset;  // d.offset relative to the region
  if (use.token == 0) {
    use.token = reg.token;
  }
  // Refused before a byte is read, whatever len claims.
  std::vector<uint8_t> data(len < 200 ? len + 1 : 201, 0xab);
  Status s = p.a->RdmaWrite(data.data(), len, use);
  *closed = p.a->closed();
  return s;
}

void TestRdmaOutsideRegion(void**) {
  bool closed = false;
  // One byte past the end, past the start, a huge length, a huge offset.
  assert_true(TryWrite({1, 0, 100}, 100, kRemoteWrite, &closed).code() ==
              Code::kOutOfBounds);
  assert_true(closed);
  assert_true(
      TryWrite({static_cast<uint64_t>(-1), 0, 2}, 2, kRemoteWrite, &closed)
          .code() == Code::kOutOfBounds);
  assert_true(
      TryWrite({0, 0, 100}, SIZE_MAX / 2, kRemoteWrite, &closed).code() ==
      Code::kOutOfBounds);
  assert_true(TryWrite({1ull << 62, 0, 1}, 1, kRemoteWrite, &closed).code() ==
              Code::kOutOfBounds);
  // Exactly the region: fine.
  assert_true(TryWrite({0, 0, 100}, 100, kRemoteWrite, &closed).ok());
  assert_false(closed);
}

void TestRdmaBadTokenAndAccess(void**) {
  bool closed = false;
  assert_true(TryWrite({0, 12345, 10}, 10, kRemoteWrite, &closed).code() ==
              Code::kBadToken);
  assert_true(closed);
  // A region registered for remote read only cannot be written.
  assert_true(TryWrite({0, 0, 10}, 10, kRemoteRead, &closed).code() ==
              Code::kAccessDenied);
  Pair p;
  std::vector<uint8_t> region(10);
  BufferDescriptorV1 d;
  p.b->Register(region.data(), 10, kRemoteWrite, &d);
  uint8_t out[10];
  assert_true(p.a->RdmaRead(out, 10, d).code() == Code::kAccessDenied);
  // A token of one's own side means nothing at the peer.
  Pair q;
  BufferDescriptorV1 own;
  q.a->Register(region.data(), 10, kRemoteWrite, &own);
  assert_true(q.a->RdmaWrite(out, 10, own).code() == Code::kBadToken);
}

void TestInvalidateAndDeregister(void**) {
  Pair p;
  std::vector<uint8_t> region(10);
  BufferDescriptorV1 d;
  p.b->Register(region.data(), 10, kRemoteWrite, &d);
  p.b->PostReceive(16);
  const uint8_t m[1] = {0};
  // Send with invalidate: the token dies as the message lands.
  assert_true(p.a->Send(m, 1, nullptr, 0, d.token).ok());
  assert_true(p.a->RdmaWrite(m, 1, d).code() == Code::kBadToken);
  Pair q;
  q.b->Register(region.data(), 10, kRemoteWrite, &d);
  assert_true(q.b->Deregister(d.token).ok());
  assert_true(q.b->Deregister(d.token).code() == Code::kBadToken);
  assert_true(q.a->RdmaWrite(m, 1, d).code() == Code::kBadToken);
  assert_true(q.a->Register(region.data(), 0, kRemoteWrite, &d).code() ==
              Code::kBadSize);
}

// --- two engines over the loopback ------------------------------------------

Config ExchangeConfig() {
  Config c;
  c.receive_credit_max = 16;
  c.send_credit_target = 16;
  c.max_send_size = 1364;
  c.max_receive_size = 1364;
  c.max_fragmented_recv_size = 1048576;
  c.max_read_write_size = 1048576;
  return c;
}

struct Exchange {
  Pair p;
  Driver client{Role::kInitiator, ExchangeConfig(), p.a.get()};
  Driver server{Role::kResponder, ExchangeConfig(), p.b.get()};
  std::vector<std::vector<uint8_t>> at_client;
  std::vector<std::vector<uint8_t>> at_server;
  uint64_t now = 5000;

  Exchange() {
    client.set_message_handler([this](const uint8_t* d, size_t n) {
      at_client.emplace_back(d, d + n);
    });
    server.set_message_handler([this](const uint8_t* d, size_t n) {
      at_server.emplace_back(d, d + n);
    });
  }
  // Both sides poll until neither has anything left.
  void Settle() {
    for (int i = 0; i < 10000; ++i) {
      if (client.Poll(now) + server.Poll(now) == 0) {
        return;
      }
    }
    fail_msg("the exchange did not settle");
  }
  void Connect() {
    assert_true(server.connection().Start(now).ok());
    assert_true(client.connection().Start(now).ok());
    Settle();
    assert_true(client.connection().state() == State::kEstablished);
    assert_true(server.connection().state() == State::kEstablished);
  }
};

void TestExchangeNegotiatesAndTransfers(void**) {
  Exchange x;
  x.Connect();
  assert_int_equal(x.client.connection().max_read_write_size(), 1048576);
  // A small message each way, then messages that need fragments.
  for (size_t len : {size_t{1}, size_t{100}, size_t{1340}, size_t{1341},
                     size_t{5000}, size_t{65536}, size_t{1048576}}) {
    std::vector<uint8_t> m = Pattern(len, static_cast<uint8_t>(len));
    assert_true(x.client.connection().SendUpper(m, x.now).ok());
    x.Settle();
    assert_true(x.at_server.back() == m);
    assert_true(x.server.connection().SendUpper(m, x.now).ok());
    x.Settle();
    assert_true(x.at_client.back() == m);
  }
  assert_int_equal(x.at_server.size(), 7);
  assert_false(x.client.disconnected());
  assert_false(x.server.disconnected());
}

void TestExchangeSeededRandomMessages(void**) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Random rnd(seed);
    Exchange x;
    x.Connect();
    std::vector<std::vector<uint8_t>> sent;
    size_t n = 1 + rnd.Uniform(30);
    for (size_t i = 0; i < n; ++i) {
      std::vector<uint8_t> m =
          Pattern(1 + rnd.Uniform(rnd.Uniform(4) == 0 ? 200000 : 3000),
                  static_cast<uint8_t>(i));
      sent.push_back(m);
      // Several queued before anyone polls: credits run out and refill.
      x.client.connection().SendUpper(m, x.now);
      if (rnd.Uniform(3) == 0) {
        x.Settle();
      }
    }
    x.Settle();
    // Receives posted never pass the configured maximum (3.1.5.9).
    assert_true(x.client.connection().receive_credits() <= 16);
    assert_true(x.server.connection().receive_credits() <= 16);
    if (x.at_server != sent || x.client.disconnected()) {
      printf("seed %llu: %zu of %zu messages arrived (%s)\n",
             static_cast<unsigned long long>(seed), x.at_server.size(),
             sent.size(), x.client.disconnect_reason().ToString().c_str());
      fail();
    }
  }
}

void TestExchangeKeepalive(void**) {
  Exchange x;
  x.Connect();
  // Idle past the timeout: the client asks, the server answers, both stay.
  x.now += 120000;
  x.client.connection().OnTimer(x.now);
  x.Settle();
  x.now += 5000;
  assert_true(x.client.connection().OnTimer(x.now).ok());
  assert_false(x.client.disconnected());
  // The server stops polling: the client's next keepalive goes unanswered.
  x.now += 120000;
  x.client.connection().OnTimer(x.now);
  x.now += 5000;
  assert_true(x.client.connection().OnTimer(x.now).code() == Code::kTimeout);
  assert_true(x.client.disconnected());
}

// An SMB2-ish exchange: the client offers registered buffers in its
// request's channel info (a 2.2.3.1 list); the server moves the data by
// RDMA.  The request and response bodies are stand-ins for SMB2 PDUs.
void TestExchangeRdmaReadAndWrite(void**) {
  Exchange x;
  x.Connect();
  const size_t kLen = 300000;
  // WRITE: the client's data, registered for remote read.
  std::vector<uint8_t> to_write = Pattern(kLen, 0x42);
  BufferDescriptorV1 wd;
  assert_true(x.p.a->Register(to_write.data(), kLen, kRemoteRead, &wd).ok());
  // Offered as two descriptors over the one region.
  BufferDescriptorV1 w1 = wd, w2 = wd;
  w1.length = 100000;
  w2.offset += 100000;
  w2.length = static_cast<uint32_t>(kLen - 100000);
  std::vector<uint8_t> request;
  EncodeBufferDescriptor(w1, &request);
  EncodeBufferDescriptor(w2, &request);
  x.client.connection().SendUpper(request, x.now);
  x.Settle();
  assert_int_equal(x.at_server.size(), 1);
  std::vector<BufferDescriptorV1> list;
  const std::vector<uint8_t>& got = x.at_server[0];
  assert_true(
      ParseBufferDescriptorList(got.data(), got.size(), 16, &list).ok());
  std::vector<uint8_t> file(kLen);
  uint64_t moved_before = x.p.b->bytes_moved();
  assert_true(ReadFromDescriptors(x.p.b.get(), file.data(), kLen, list).ok());
  assert_true(file == to_write);
  // Each payload byte crossed once, by the transport; the engines copied
  // none of it (the request was one fragment, handed up in place).
  assert_int_equal(x.p.b->bytes_moved() - moved_before, kLen);
  assert_int_equal(x.server.connection().bytes_copied(), 0);

  // READ with RDMA_V1_INVALIDATE: the client's buffer, registered for
  // remote write; the server writes, then answers with a send that
  // invalidates the token.
  std::vector<uint8_t> to_read(kLen, 0);
  BufferDescriptorV1 rd;
  assert_true(x.p.a->Register(to_read.data(), kLen, kRemoteWrite, &rd).ok());
  request.clear();
  EncodeBufferDescriptor(rd, &request);
  x.client.connection().SendUpper(request, x.now);
  x.Settle();
  assert_true(ParseBufferDescriptorList(x.at_server[1].data(),
                                        x.at_server[1].size(), 16, &list)
                  .ok());
  moved_before = x.p.b->bytes_moved();
  assert_true(WriteToDescriptors(x.p.b.get(), file.data(), kLen, list).ok());
  assert_true(to_read == to_write);
  assert_int_equal(x.p.b->bytes_moved() - moved_before, kLen);
  std::vector<uint8_t> response = Pattern(64, 7);
  x.server.connection().SendUpper(response, x.now, list[0].token);
  x.Settle();
  assert_true(x.at_client.back() == response);
  // The token is gone: a second write is refused and breaks the pair.
  Status s = WriteToDescriptors(x.p.b.get(), file.data(), 10, list);
  assert_true(s.code() == Code::kBadToken);
}

void TestExchangeDescriptorOutsideRegion(void**) {
  Exchange x;
  x.Connect();
  std::vector<uint8_t> buffer(4096);
  BufferDescriptorV1 d;
  x.p.a->Register(buffer.data(), buffer.size(), kRemoteWrite, &d);
  d.length = 8192;  // the client claims more than it registered
  std::vector<uint8_t> request;
  EncodeBufferDescriptor(d, &request);
  x.client.connection().SendUpper(request, x.now);
  x.Settle();
  std::vector<BufferDescriptorV1> list;
  assert_true(ParseBufferDescriptorList(x.at_server[0].data(),
                                        x.at_server[0].size(), 16, &list)
                  .ok());
  std::vector<uint8_t> data(8192, 1);
  Status s = WriteToDescriptors(x.p.b.get(), data.data(), 8192, list);
  assert_true(s.code() == Code::kOutOfBounds);
  // Descriptors that cover less than the transfer are refused before
  // any byte moves.
  list[0].length = 10;
  s = WriteToDescriptors(x.p.b.get(), data.data(), 8192, list);
  assert_true(s.code() == Code::kBadDescriptor);
}

void TestExchangeBadPeerIsDropped(void**) {
  // A peer that sends beyond its credits (raw sends on the client's
  // transport, bypassing its engine): while the server has receives
  // posted, the engine is what catches it, and says so.
  Exchange x;
  x.Connect();
  std::vector<uint8_t> m = DataMessage(0, 0, 0, Pattern(10, 1));
  for (int i = 0; i < 1000 && !x.server.disconnected(); ++i) {
    if (x.p.b->posted_receives() == 0) {
      break;
    }
    x.p.a->Send(m.data(), m.size(), nullptr, 0, 0);
    x.server.Poll(x.now);
  }
  assert_true(x.server.disconnected());
  assert_true(x.server.disconnect_reason().code() == Code::kCreditsExceeded);
  // And the client side learns of it from its transport.
  x.client.Poll(x.now);
  assert_true(x.client.disconnected());
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestSendNeedsPostedReceive),
      cmocka_unit_test(TestSendFillsOldestReceive),
      cmocka_unit_test(TestSendLongerThanReceive),
      cmocka_unit_test(TestRdmaWithinRegion),
      cmocka_unit_test(TestRdmaOutsideRegion),
      cmocka_unit_test(TestRdmaBadTokenAndAccess),
      cmocka_unit_test(TestInvalidateAndDeregister),
      cmocka_unit_test(TestExchangeNegotiatesAndTransfers),
      cmocka_unit_test(TestExchangeSeededRandomMessages),
      cmocka_unit_test(TestExchangeKeepalive),
      cmocka_unit_test(TestExchangeRdmaReadAndWrite),
      cmocka_unit_test(TestExchangeDescriptorOutsideRegion),
      cmocka_unit_test(TestExchangeBadPeerIsDropped),
  };
  return cmocka_run_group_tests_name("smbdirect_loopback", tests, nullptr,
                                     nullptr);
}
