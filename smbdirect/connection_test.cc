// Copyright (C) samba-ca authors. GPLv3+.
//
// The engine's rules, one test each, driven message by message through a
// recording ConnectionIo: negotiation, credits, keepalives and the idle
// timeout, fragmentation, reassembly, disconnects.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstring>

#include "connection.h"
#include "test_util.h"

using namespace samba_ca::smbdirect;
using namespace samba_ca::smbdirect::testing;

namespace {

constexpr uint64_t kT0 = 1000;

Config SmallConfig() {
  Config c;
  c.receive_credit_max = 8;
  c.send_credit_target = 8;
  c.max_send_size = 256;
  c.max_receive_size = 256;
  c.max_fragmented_recv_size = 131072;
  c.idle_timeout_ms = 1000;
  c.keepalive_response_ms = 100;
  c.negotiate_timeout_ms = 500;
  return c;
}

void Deliver(Connection* c, const std::vector<uint8_t>& m, uint64_t now) {
  c->OnReceive(m.data(), m.size(), now);
}

// A responder past a good negotiation with the peer asking for 10
// credits; the peer holds what the response granted.
struct Established {
  RecordingIo io;
  Connection conn{Role::kResponder, SmallConfig(), &io};
  uint16_t granted = 0;
  Established() {
    conn.Start(kT0);
    NegotiateRequest r = GoodRequest();
    r.preferred_send_size = 256;
    r.max_receive_size = 256;
    Deliver(&conn, Encode(r), kT0);
    NegotiateResponseDecoder d(io.sent.back().bytes.size());
    d.Consume(io.sent.back().bytes.data(), io.sent.back().bytes.size());
    granted = d.message().credits_granted;
  }
};

void TestResponderNegotiates(void**) {
  RecordingIo io;
  Connection c(Role::kResponder, SmallConfig(), &io);
  assert_true(c.Start(kT0).ok());
  assert_int_equal(io.posted, 1);  // for the request
  assert_int_equal(io.sent.size(), 0);
  NegotiateRequest r = GoodRequest();
  r.preferred_send_size = 200;
  r.max_receive_size = 1024;
  Deliver(&c, Encode(r), kT0);
  assert_true(c.state() == State::kEstablished);
  assert_int_equal(io.sent.size(), 1);
  NegotiateResponseDecoder d(io.sent[0].bytes.size());
  d.Consume(io.sent[0].bytes.data(), io.sent[0].bytes.size());
  assert_true(d.state() == DecodeState::kDone);
  // 3.1.5.6 + 3.1.5.9: receives up to min(requested 10, max 8), all
  // granted in the response; sizes are the smaller of the two sides.
  assert_int_equal(d.message().credits_granted, 8);
  assert_int_equal(c.receive_credits(), 8);
  assert_int_equal(c.peer_credits(), 8);
  assert_int_equal(c.max_send_size(), 256);     // min(256, 1024)
  assert_int_equal(c.max_receive_size(), 200);  // min(256, 200)
  assert_int_equal(d.message().preferred_send_size, 256);
  assert_int_equal(c.send_credits(), 0);  // nothing granted to us yet
}

void TestResponderBadVersionAnswersNotSupported(void**) {
  RecordingIo io;
  Connection c(Role::kResponder, SmallConfig(), &io);
  c.Start(kT0);
  NegotiateRequest r = GoodRequest();
  r.min_version = r.max_version = 0x0200;
  Deliver(&c, Encode(r), kT0);
  assert_true(c.state() == State::kDisconnected);
  assert_true(io.why.code() == Code::kBadVersion);
  assert_int_equal(io.sent.size(), 1);
  NegotiateResponseDecoder d(io.sent[0].bytes.size());
  d.Consume(io.sent[0].bytes.data(), io.sent[0].bytes.size());
  assert_true(d.error().code() == Code::kNegotiateFailed);
  assert_int_equal(d.message().credits_granted, 0);
  assert_int_equal(d.message().status, kStatusNotSupported);
}

void TestResponderDropsBadRequests(void**) {
  // Truncated, zero credits, sizes too small: dropped, never answered.
  std::vector<std::vector<uint8_t>> bad;
  std::vector<uint8_t> v = Encode(GoodRequest());
  bad.emplace_back(v.begin(), v.begin() + 12);
  NegotiateRequest r = GoodRequest();
  r.credits_requested = 0;
  bad.push_back(Encode(r));
  r = GoodRequest();
  r.max_receive_size = 64;
  bad.push_back(Encode(r));
  r = GoodRequest();
  r.max_fragmented_size = 65536;
  bad.push_back(Encode(r));
  for (const auto& m : bad) {
    RecordingIo io;
    Connection c(Role::kResponder, SmallConfig(), &io);
    c.Start(kT0);
    Status s = c.OnReceive(m.data(), m.size(), kT0);
    assert_false(s.ok());
    assert_true(c.state() == State::kDisconnected);
    assert_int_equal(io.disconnects, 1);
    assert_int_equal(io.sent.size(), 0);
  }
}

void TestResponderWithoutReceivesRefuses(void**) {
  RecordingIo io;
  Connection c(Role::kResponder, SmallConfig(), &io);
  c.Start(kT0);
  io.refuse_receives = true;
  Deliver(&c, Encode(GoodRequest()), kT0);
  assert_true(c.state() == State::kDisconnected);
  assert_int_equal(io.sent.size(), 1);  // the failure response
}

void TestInitiatorNegotiates(void**) {
  RecordingIo io;
  Connection c(Role::kInitiator, SmallConfig(), &io);
  c.Start(kT0);
  assert_int_equal(io.posted, 1);
  assert_int_equal(io.sent.size(), 1);
  NegotiateRequestDecoder rd(io.sent[0].bytes.size());
  rd.Consume(io.sent[0].bytes.data(), io.sent[0].bytes.size());
  assert_true(rd.state() == DecodeState::kDone);
  assert_int_equal(rd.message().max_receive_size, 256);
  NegotiateResponse resp;
  resp.credits_requested = 5;
  resp.credits_granted = 3;
  resp.max_read_write_size = 65536;
  resp.preferred_send_size = 256;
  resp.max_receive_size = 200;
  resp.max_fragmented_size = 131072;
  Deliver(&c, Encode(resp), kT0);
  assert_true(c.state() == State::kEstablished);
  assert_int_equal(c.max_send_size(), 200);
  assert_int_equal(c.max_read_write_size(), 65536);
  assert_int_equal(c.receive_credits(), 5);  // posted for the peer's target
  // The peer holds no credit yet: the receives are granted at once, in a
  // message of their own, which takes one of our three credits.
  assert_int_equal(io.sent.size(), 2);
  DataTransferHeader h = HeaderOf(io.sent[1].bytes);
  assert_int_equal(h.credits_granted, 5);
  assert_int_equal(h.data_length, 0);
  assert_int_equal(c.send_credits(), 2);
  assert_int_equal(c.peer_credits(), 5);
}

void TestInitiatorRefusesBadResponses(void**) {
  NegotiateResponse good;
  good.credits_requested = 5;
  good.credits_granted = 3;
  good.preferred_send_size = 256;
  good.max_receive_size = 256;
  good.max_fragmented_size = 131072;
  NegotiateResponse bad[4] = {good, good, good, good};
  bad[0].negotiated_version = 0x0300;
  bad[1].status = kStatusNotSupported;
  bad[2].preferred_send_size = 257;  // above our MaxReceiveSize
  bad[3].credits_granted = 0;
  Code want[4] = {Code::kBadVersion, Code::kNegotiateFailed, Code::kBadSize,
                  Code::kBadSize};
  for (int i = 0; i < 4; ++i) {
    RecordingIo io;
    Connection c(Role::kInitiator, SmallConfig(), &io);
    c.Start(kT0);
    Deliver(&c, Encode(bad[i]), kT0);
    assert_true(c.state() == State::kDisconnected);
    assert_int_equal(static_cast<int>(io.why.code()),
                     static_cast<int>(want[i]));
  }
}

void TestNegotiateTimeout(void**) {
  RecordingIo io;
  Connection c(Role::kResponder, SmallConfig(), &io);
  c.Start(kT0);
  assert_int_equal(c.NextDeadline(), kT0 + 500);
  assert_true(c.OnTimer(kT0 + 499).ok());
  assert_true(c.state() == State::kNegotiating);
  assert_true(c.OnTimer(kT0 + 500).code() == Code::kTimeout);
  assert_true(c.state() == State::kDisconnected);
}

void TestNoSendWithoutCredit(void**) {
  Established e;
  size_t before = e.io.sent.size();
  // The responder holds no send credit: the message waits.
  assert_true(e.conn.SendUpper(Pattern(100, 1), kT0).ok());
  assert_int_equal(e.io.sent.size(), before);
  assert_int_equal(e.conn.send_queue_length(), 1);
  // The peer grants two credits: the message goes, with a grant.
  Deliver(&e.conn, DataMessage(2, 0, 0, {}), kT0);
  assert_int_equal(e.conn.send_queue_length(), 0);
  assert_int_equal(e.io.sent.size(), before + 1);
  assert_int_equal(e.conn.send_credits(), 1);
}

void TestLastCreditOnlyWithGrant(void**) {
  Established e;
  // Two credits from the peer; the receive its message used is posted
  // again, its grant pending.
  Deliver(&e.conn, DataMessage(2, 0, 0, {}), kT0);
  assert_int_equal(e.conn.send_credits(), 2);
  size_t before = e.io.sent.size();
  assert_true(e.conn.SendUpper(Pattern(10, 1), kT0).ok());
  assert_int_equal(e.io.sent.size(), before + 1);
  assert_int_equal(HeaderOf(e.io.sent.back().bytes).credits_granted, 1);
  // One credit left and nothing to grant: the next message would leave
  // the peer unable to answer, so it waits (3.1.5.1).
  assert_true(e.conn.SendUpper(Pattern(20, 2), kT0).ok());
  assert_int_equal(e.io.sent.size(), before + 1);
  assert_int_equal(e.conn.send_queue_length(), 1);
  // The peer uses a credit: a receive to replenish, a grant to carry.
  Deliver(&e.conn, DataMessage(0, 0, 0, {}), kT0);
  assert_int_equal(e.io.sent.size(), before + 2);
  assert_int_equal(HeaderOf(e.io.sent.back().bytes).credits_granted, 1);
  assert_int_equal(HeaderOf(e.io.sent.back().bytes).data_length, 20);
  assert_int_equal(e.conn.send_credits(), 0);
}

void TestGrantsFollowPostedReceives(void**) {
  Established e;
  uint32_t posted_before = e.io.posted;
  size_t sent_before = e.io.sent.size();
  // The peer uses three of its eight credits and grants us five.
  Deliver(&e.conn, DataMessage(5, 0, 0, Pattern(10, 1)), kT0);
  Deliver(&e.conn, DataMessage(0, 0, 0, Pattern(10, 2)), kT0);
  Deliver(&e.conn, DataMessage(0, 0, 0, Pattern(10, 3)), kT0);
  assert_int_equal(e.io.upper.size(), 3);
  // Each used receive is posted again at once; the peer still holds
  // five credits, so the grant waits for our next message.
  assert_int_equal(e.io.posted - posted_before, 3);
  assert_int_equal(e.conn.receive_credits(), 8);
  assert_int_equal(e.io.sent.size(), sent_before);
  e.conn.SendUpper(Pattern(10, 4), kT0);
  assert_int_equal(HeaderOf(e.io.sent.back().bytes).credits_granted, 3);
  assert_int_equal(e.conn.peer_credits(), 8);
  // Below half of its target (10 requested, 8 at most), the peer is
  // granted promptly, in a message of its own.
  for (int i = 0; i < 5; ++i) {
    Deliver(&e.conn, DataMessage(0, 0, 0, Pattern(10, 5)), kT0);
  }
  DataTransferHeader h = HeaderOf(e.io.sent.back().bytes);
  assert_int_equal(h.data_length, 0);
  assert_int_equal(h.credits_granted, 5);
  assert_int_equal(e.conn.peer_credits(), 8);
  assert_int_equal(e.io.posted - posted_before, 8);
}

void TestPeerWithoutCreditIsDropped(void**) {
  Established e;
  std::vector<uint8_t> m = DataMessage(0, 0, 0, Pattern(10, 1));
  // The peer holds `granted` credits and sends one more message; our
  // receives are replenished but not granted (no send credit to grant
  // them with).
  for (uint16_t i = 0; i < e.granted; ++i) {
    assert_true(e.conn.OnReceive(m.data(), m.size(), kT0).ok());
  }
  Status s = e.conn.OnReceive(m.data(), m.size(), kT0);
  assert_true(s.code() == Code::kCreditsExceeded);
  assert_true(e.conn.state() == State::kDisconnected);
  assert_int_equal(e.io.disconnects, 1);
}

void TestPeerOvergrantingIsDropped(void**) {
  Established e;
  Deliver(&e.conn, DataMessage(65535, 0, 0, {}), kT0);
  assert_true(e.conn.state() == State::kEstablished);
  Deliver(&e.conn, DataMessage(65535, 0, 0, {}), kT0);
  assert_true(e.io.why.code() == Code::kCreditsExceeded);
}

void TestKeepaliveAndIdleTimeout(void**) {
  Established e;
  Deliver(&e.conn, DataMessage(4, 0, 0, {}), kT0);
  size_t before = e.io.sent.size();
  assert_int_equal(e.conn.NextDeadline(), kT0 + 1000);
  assert_true(e.conn.OnTimer(kT0 + 999).ok());
  assert_int_equal(e.io.sent.size(), before);
  // Idle: a message asking for a response.
  assert_true(e.conn.OnTimer(kT0 + 1000).ok());
  assert_int_equal(e.io.sent.size(), before + 1);
  assert_true(HeaderOf(e.io.sent.back().bytes).flags & kFlagResponseRequested);
  assert_int_equal(e.conn.NextDeadline(), kT0 + 1100);
  // Answered in time: the connection stays, the idle clock restarts.
  Deliver(&e.conn, DataMessage(0, 0, 0, {}), kT0 + 1050);
  assert_true(e.conn.OnTimer(kT0 + 1100).ok());
  assert_true(e.conn.state() == State::kEstablished);
  assert_int_equal(e.conn.NextDeadline(), kT0 + 2050);
  // Not answered: dropped, saying why.
  e.conn.OnTimer(kT0 + 2050);
  Status s = e.conn.OnTimer(kT0 + 2150);
  assert_true(s.code() == Code::kTimeout);
  assert_non_null(strstr(s.message().c_str(), "keepalive"));
  assert_true(e.conn.state() == State::kDisconnected);
}

void TestResponseRequestedIsAnswered(void**) {
  Established e;
  size_t before = e.io.sent.size();
  Deliver(&e.conn, DataMessage(2, kFlagResponseRequested, 0, {}), kT0);
  assert_int_equal(e.io.sent.size(), before + 1);
  DataTransferHeader h = HeaderOf(e.io.sent.back().bytes);
  assert_int_equal(h.data_length, 0);
  assert_int_equal(h.flags & kFlagResponseRequested, 0);
}

void TestFragmentation(void**) {
  Established e;
  Deliver(&e.conn, DataMessage(60, 0, 0, {}), kT0);
  size_t before = e.io.sent.size();
  std::vector<uint8_t> message = Pattern(1000, 9);
  assert_true(e.conn.SendUpper(message, kT0, 0x77).ok());
  // max_send_size 256: 232 bytes of payload per fragment, 5 fragments.
  assert_int_equal(e.io.sent.size(), before + 5);
  std::vector<uint8_t> joined;
  uint32_t expect_remaining = 1000;
  for (size_t i = before; i < e.io.sent.size(); ++i) {
    const std::vector<uint8_t>& m = e.io.sent[i].bytes;
    assert_true(m.size() <= 256);
    DataTransferHeader h = HeaderOf(m);
    assert_int_equal(h.data_offset, 24);
    expect_remaining -= h.data_length;
    assert_int_equal(h.remaining_data_length, expect_remaining);
    joined.insert(joined.end(), m.begin() + 24, m.end());
    // The token to invalidate goes with the last fragment only.
    assert_int_equal(e.io.sent[i].invalidate_token,
                     i + 1 == e.io.sent.size() ? 0x77 : 0);
  }
  assert_true(joined == message);
}

void TestSendBeyondPeerMaximumIsLocalError(void**) {
  Established e;
  Status s = e.conn.SendUpper(std::vector<uint8_t>(131073), kT0);
  assert_true(s.code() == Code::kOversize);
  assert_true(e.conn.state() == State::kEstablished);
  assert_int_equal(e.io.disconnects, 0);
}

void TestReassembly(void**) {
  Established e;
  std::vector<uint8_t> message = Pattern(500, 3);
  std::vector<uint8_t> a(message.begin(), message.begin() + 200);
  std::vector<uint8_t> b(message.begin() + 200, message.begin() + 400);
  std::vector<uint8_t> c(message.begin() + 400, message.end());
  Deliver(&e.conn, DataMessage(1, 0, 300, a), kT0);
  Deliver(&e.conn, DataMessage(0, 0, 100, b), kT0);
  assert_int_equal(e.io.upper.size(), 0);
  // A credit-only message between fragments does not disturb them.
  Deliver(&e.conn, DataMessage(0, 0, 0, {}), kT0);
  Deliver(&e.conn, DataMessage(0, 0, 0, c), kT0);
  assert_int_equal(e.io.upper.size(), 1);
  assert_true(e.io.upper[0] == message);
  assert_int_equal(e.conn.bytes_copied(), 500);
  // A message in one piece is handed up where it lies.
  Deliver(&e.conn, DataMessage(0, 0, 0, Pattern(100, 4)), kT0);
  assert_int_equal(e.conn.bytes_copied(), 500);
}

void TestReassemblyRemainingMustAddUp(void**) {
  Established e;
  Deliver(&e.conn, DataMessage(1, 0, 300, Pattern(200, 1)), kT0);
  // 200 + 50 != the 300 announced.
  Deliver(&e.conn, DataMessage(0, 0, 50, Pattern(200, 2)), kT0);
  assert_true(e.io.why.code() == Code::kReassembly);
  assert_non_null(strstr(e.io.why.message().c_str(), "300"));
  assert_int_equal(e.io.upper.size(), 0);
}

void TestEmptyMessageClaimingRemainingIsDropped(void**) {
  Established e;
  Deliver(&e.conn, DataMessage(1, 0, 10, {}), kT0);
  assert_true(e.io.why.code() == Code::kReassembly);
}

void TestFragmentBeyondNegotiatedMaximum(void**) {
  Established e;
  // DataLength + RemainingDataLength above MaxFragmentedSize (131072).
  Deliver(&e.conn, DataMessage(1, 0, 131072 - 99, Pattern(100, 1)), kT0);
  assert_true(e.io.why.code() == Code::kOversize);
}

void TestReassemblyOverflow(void**) {
  // Fragments that each pass the per-message check but keep claiming
  // more than announced are refused before the buffer grows past it.
  Established e;
  Deliver(&e.conn, DataMessage(1, 0, 131072 - 200, Pattern(200, 1)), kT0);
  Deliver(&e.conn, DataMessage(0, 0, 131072 - 200, Pattern(200, 2)), kT0);
  assert_true(e.io.why.code() == Code::kReassembly);
}

void TestMessageLongerThanReceive(void**) {
  Established e;
  // The negotiated MaxReceiveSize is 256.
  Deliver(&e.conn, DataMessage(1, 0, 0, Pattern(233, 1)), kT0);
  assert_true(e.io.why.code() == Code::kOversize);
}

void TestDisconnectIsFinal(void**) {
  Established e;
  e.conn.Disconnect(Status(Code::kTransport, "test"));
  e.conn.Disconnect(Status(Code::kTransport, "again"));
  assert_int_equal(e.io.disconnects, 1);
  std::vector<uint8_t> m = DataMessage(1, 0, 0, {});
  assert_true(e.conn.OnReceive(m.data(), m.size(), kT0).code() ==
              Code::kInvalidState);
  assert_true(e.conn.SendUpper(Pattern(1, 1), kT0).code() ==
              Code::kInvalidState);
}

void TestBadConfigRefused(void**) {
  Config c = SmallConfig();
  c.max_receive_size = 100;
  RecordingIo io;
  Connection conn(Role::kResponder, c, &io);
  assert_true(conn.Start(kT0).code() == Code::kBadSize);
  c = SmallConfig();
  c.max_fragmented_recv_size = 0;
  assert_false(CheckConfig(c).ok());
  c = SmallConfig();
  c.receive_credit_max = 0;
  assert_false(CheckConfig(c).ok());
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestResponderNegotiates),
      cmocka_unit_test(TestResponderBadVersionAnswersNotSupported),
      cmocka_unit_test(TestResponderDropsBadRequests),
      cmocka_unit_test(TestResponderWithoutReceivesRefuses),
      cmocka_unit_test(TestInitiatorNegotiates),
      cmocka_unit_test(TestInitiatorRefusesBadResponses),
      cmocka_unit_test(TestNegotiateTimeout),
      cmocka_unit_test(TestNoSendWithoutCredit),
      cmocka_unit_test(TestLastCreditOnlyWithGrant),
      cmocka_unit_test(TestGrantsFollowPostedReceives),
      cmocka_unit_test(TestPeerWithoutCreditIsDropped),
      cmocka_unit_test(TestPeerOvergrantingIsDropped),
      cmocka_unit_test(TestKeepaliveAndIdleTimeout),
      cmocka_unit_test(TestResponseRequestedIsAnswered),
      cmocka_unit_test(TestFragmentation),
      cmocka_unit_test(TestSendBeyondPeerMaximumIsLocalError),
      cmocka_unit_test(TestReassembly),
      cmocka_unit_test(TestReassemblyRemainingMustAddUp),
      cmocka_unit_test(TestEmptyMessageClaimingRemainingIsDropped),
      cmocka_unit_test(TestFragmentBeyondNegotiatedMaximum),
      cmocka_unit_test(TestReassemblyOverflow),
      cmocka_unit_test(TestMessageLongerThanReceive),
      cmocka_unit_test(TestDisconnectIsFinal),
      cmocka_unit_test(TestBadConfigRefused),
  };
  return cmocka_run_group_tests_name("smbdirect_connection", tests, nullptr,
                                     nullptr);
}
