// Copyright (C) samba-ca authors. GPLv3+.
//
// Codec tests for smbclient3/ (cmocka): byte-exact golden encodings,
// seeded round trips over many seeds (the failing seed is printed),
// truncated and oversized PDUs, negotiate context lists that overrun the
// packet, unknown dialects, create contexts that lie about their sizes,
// and the resumable transport-frame decoder fed in every split.

#include <setjmp.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include "framing.h"
#include "smb2_pdu.h"
#include "test_util.h"

namespace samba_ca {
namespace smbclient3 {
namespace {

constexpr int kSeeds = 500;

using ::samba_ca::testing::Hex;

Bytes HeaderOnly(uint16_t command) {
  Smb2Header h;
  h.command = command;
  Bytes msg;
  EncodeHeader(h, &msg);
  return msg;
}

// ---------------------------------------------------------------------------
// Golden encodings.

void TestHeaderGolden(void**) {
  Smb2Header h;
  h.credit_charge = 1;
  h.status = 0xC0000016;
  h.command = kSmb2SessionSetup;
  h.credits = 0x21;
  h.flags = kFlagServerToRedir | kFlagSigned;
  h.message_id = 0x0102030405060708ull;
  h.tree_id = 0xAABBCCDD;
  h.session_id = 0x1122334455667788ull;
  for (int i = 0; i < 16; ++i) h.signature[i] = static_cast<uint8_t>(i);
  Bytes msg;
  EncodeHeader(h, &msg);
  Bytes want =
      Hex("fe534d42 4000 0100 160000c0 0100 2100 09000000 00000000"
          "0807060504030201 00000000 ddccbbaa 8877665544332211"
          "000102030405060708090a0b0c0d0e0f");
  assert_int_equal(msg.size(), want.size());
  assert_memory_equal(msg.data(), want.data(), want.size());
  Smb2Header back;
  ASSERT_OK(DecodeHeader(msg.data(), msg.size(), &back));
  assert_int_equal(back.tree_id, 0xAABBCCDD);
  assert_true(back.session_id == h.session_id);
}

void TestSetInfoRequestGolden(void**) {
  FileId fid;
  fid.persistent = 0x1122334455667788ull;
  fid.volatile_id = 0x99;
  Bytes msg;
  EncodeSetInfoFileRequest(fid, kFileDispositionInformation, Bytes(1, 1), &msg);
  Bytes want =
      Hex("2100 01 0d 01000000 6000 0000 00000000"
          "8877665544332211 9900000000000000 01");
  assert_int_equal(msg.size(), want.size());
  assert_memory_equal(msg.data(), want.data(), want.size());
  Bytes resp =
      Hex("fe534d42 4000 0000 00000000 1100 0100 01000000 00000000"
          "0000000000000000 00000000 00000000 0000000000000000"
          "00000000000000000000000000000000 0200");
  ASSERT_OK(DecodeSetInfoResponse(resp.data(), resp.size()));
  assert_false(DecodeSetInfoResponse(resp.data(), resp.size() - 1).ok());
}

void TestNegotiateRequestGolden(void**) {
  NegotiateRequest req;
  req.security_mode = kSigningEnabled;
  req.capabilities = 0x44;
  for (int i = 0; i < 16; ++i) req.client_guid[i] = static_cast<uint8_t>(i);
  req.dialects = {kDialect202, kDialect311};
  req.contexts.has_preauth = true;
  req.contexts.hash_algorithms = {kHashSha512};
  req.contexts.salt = {'a', 'b', 'c', 'd'};
  req.contexts.has_encryption = true;
  req.contexts.ciphers = {2};
  req.contexts.has_signing = true;
  req.contexts.signing_algorithms = {2, 1};
  Bytes msg = HeaderOnly(kSmb2Negotiate);
  EncodeNegotiateRequest(req, &msg);
  Bytes want =
      Hex("2400 0200 0100 0000 44000000 000102030405060708090a0b0c0d0e0f"
          "68000000 0300 0000 0202 1103"
          // preauth at 104: SHA-512, 4-byte salt; padded to 128
          "0100 0a00 00000000 0100 0400 0100 61626364 000000000000"
          // encryption at 128: AES-128-GCM; padded to 144
          "0200 0400 00000000 0100 0200 00000000"
          // signing at 144: GMAC, CMAC
          "0800 0600 00000000 0200 0200 0100");
  assert_int_equal(msg.size(), 64 + want.size());
  assert_memory_equal(msg.data() + 64, want.data(), want.size());
  NegotiateRequest back;
  ASSERT_OK(DecodeNegotiateRequest(msg.data(), msg.size(), &back));
  assert_int_equal(back.dialects.size(), 2);
  assert_true(back.contexts.has_signing);
  assert_int_equal(back.contexts.signing_algorithms[1], 1);
}

void TestCreateContextGolden(void**) {
  DurableV2Request d;
  d.timeout_ms = 60000;
  d.flags = kDhandleFlagPersistent;
  for (int i = 0; i < 16; ++i)
    d.create_guid[i] = static_cast<uint8_t>(0xA0 + i);
  Bytes buf;
  EncodeCreateContexts({MakeDh2q(d)}, &buf);
  Bytes want = Hex(
      "00000000 1000 0400 0000 1800 20000000 44483251 00000000"
      "60ea0000 02000000 0000000000000000 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  assert_int_equal(buf.size(), want.size());
  assert_memory_equal(buf.data(), want.data(), want.size());
}

void TestFrameHeaderGolden(void**) {
  uint8_t h[4];
  ASSERT_OK(EncodeFrameHeader(0x123456, h));
  const uint8_t want[4] = {0x00, 0x12, 0x34, 0x56};
  assert_memory_equal(h, want, 4);
  assert_true(EncodeFrameHeader(0x1000000, h).IsInvalidArgument());
}

// ---------------------------------------------------------------------------
// Seeded round trips.

std::vector<uint16_t> RandomList(std::mt19937* rng, size_t max) {
  std::vector<uint16_t> v((*rng)() % max + 1);
  for (uint16_t& x : v) x = static_cast<uint16_t>((*rng)());
  return v;
}

void RandomContexts(std::mt19937* rng, NegotiateContexts* c) {
  c->has_preauth = (*rng)() & 1;
  if (c->has_preauth) {
    c->hash_algorithms = RandomList(rng, 4);
    c->salt.resize((*rng)() % 40);
    for (uint8_t& b : c->salt) b = static_cast<uint8_t>((*rng)());
  }
  c->has_encryption = (*rng)() & 1;
  if (c->has_encryption) c->ciphers = RandomList(rng, 5);
  c->has_signing = (*rng)() & 1;
  if (c->has_signing) c->signing_algorithms = RandomList(rng, 4);
}

void ExpectSameContexts(const NegotiateContexts& a, const NegotiateContexts& b,
                        int seed) {
  if (a.has_preauth != b.has_preauth || a.has_encryption != b.has_encryption ||
      a.has_signing != b.has_signing ||
      (a.has_preauth &&
       (a.hash_algorithms != b.hash_algorithms || a.salt != b.salt)) ||
      (a.has_encryption && a.ciphers != b.ciphers) ||
      (a.has_signing && a.signing_algorithms != b.signing_algorithms)) {
    fail_msg("seed %d: negotiate contexts differ after a round trip", seed);
  }
}

void TestNegotiateRoundTrip(void**) {
  const uint16_t kDialects[] = {kDialect202, kDialect210, kDialect300,
                                kDialect302, kDialect311};
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937 rng(seed);
    NegotiateRequest req;
    req.security_mode = static_cast<uint16_t>(rng() & 3);
    req.capabilities = rng();
    for (uint8_t& b : req.client_guid) b = static_cast<uint8_t>(rng());
    req.dialects = RandomList(&rng, 6);
    req.dialects.push_back(kDialect311);
    RandomContexts(&rng, &req.contexts);
    Bytes msg = HeaderOnly(kSmb2Negotiate);
    EncodeNegotiateRequest(req, &msg);
    NegotiateRequest rq;
    ASSERT_OK_SEED(DecodeNegotiateRequest(msg.data(), msg.size(), &rq), seed);
    if (rq.dialects != req.dialects || rq.capabilities != req.capabilities ||
        memcmp(rq.client_guid, req.client_guid, 16) != 0) {
      fail_msg("seed %d: negotiate request differs", seed);
    }
    ExpectSameContexts(req.contexts, rq.contexts, seed);

    NegotiateResponse resp;
    resp.security_mode = static_cast<uint16_t>(rng() & 3);
    resp.dialect = kDialects[rng() % 5];
    resp.capabilities = rng();
    resp.max_read_size = rng();
    resp.max_write_size = rng();
    resp.max_transact_size = rng();
    resp.system_time = (static_cast<uint64_t>(rng()) << 32) | rng();
    resp.security_buffer.resize(rng() % 200);
    for (uint8_t& b : resp.security_buffer) b = static_cast<uint8_t>(rng());
    if (resp.dialect == kDialect311) RandomContexts(&rng, &resp.contexts);
    Bytes rmsg = HeaderOnly(kSmb2Negotiate);
    EncodeNegotiateResponse(resp, &rmsg);
    NegotiateResponse rs;
    ASSERT_OK_SEED(DecodeNegotiateResponse(rmsg.data(), rmsg.size(), &rs),
                   seed);
    if (rs.dialect != resp.dialect || rs.capabilities != resp.capabilities ||
        rs.max_read_size != resp.max_read_size ||
        rs.system_time != resp.system_time ||
        rs.security_buffer != resp.security_buffer) {
      fail_msg("seed %d: negotiate response differs", seed);
    }
    ExpectSameContexts(resp.contexts, rs.contexts, seed);
  }
}

void TestCreateRoundTrip(void**) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937 rng(seed);
    CreateRequest req;
    req.oplock_level = static_cast<uint8_t>(rng());
    req.desired_access = rng();
    req.create_disposition = rng() % 6;
    req.name = "dir\\file" + std::to_string(rng());
    if (rng() & 1) req.name += "\xc3\xa9\xf0\x9f\x98\x80";  // e-acute, emoji
    DurableV2Request d;
    d.timeout_ms = rng();
    d.flags = rng() & 2;
    for (uint8_t& b : d.create_guid) b = static_cast<uint8_t>(rng());
    LeaseV2 l;
    for (uint8_t& b : l.key) b = static_cast<uint8_t>(rng());
    l.state = rng() & 7;
    l.epoch = static_cast<uint16_t>(rng());
    DurableV2Reconnect rc;
    rc.file_id.persistent = rng();
    rc.file_id.volatile_id = rng();
    if (rng() & 1) req.contexts.push_back(MakeDh2q(d));
    if (rng() & 1) req.contexts.push_back(MakeLeaseV2(l));
    if (rng() & 1) req.contexts.push_back(MakeDh2c(rc));
    CreateContext odd;
    odd.name = "X";
    if (rng() & 1) req.contexts.push_back(odd);  // no data, short name
    Bytes msg = HeaderOnly(kSmb2Create);
    EncodeCreateRequest(req, &msg);
    CreateRequest back;
    ASSERT_OK_SEED(DecodeCreateRequest(msg.data(), msg.size(), &back), seed);
    if (back.name != req.name || back.desired_access != req.desired_access ||
        back.oplock_level != req.oplock_level ||
        back.contexts.size() != req.contexts.size()) {
      fail_msg("seed %d: create request differs", seed);
    }
    for (size_t i = 0; i < req.contexts.size(); ++i) {
      if (back.contexts[i].name != req.contexts[i].name ||
          back.contexts[i].data != req.contexts[i].data) {
        fail_msg("seed %d: create context %zu differs", seed, i);
      }
    }
    const CreateContext* c = FindContext(back.contexts, "DH2Q");
    if (c != nullptr) {
      DurableV2Request d2;
      ASSERT_OK_SEED(ParseDh2q(c->data, &d2), seed);
      if (d2.timeout_ms != d.timeout_ms || d2.flags != d.flags ||
          memcmp(d2.create_guid, d.create_guid, 16) != 0) {
        fail_msg("seed %d: DH2Q differs", seed);
      }
    }
    c = FindContext(back.contexts, "RqLs");
    if (c != nullptr) {
      LeaseV2 l2;
      ASSERT_OK_SEED(ParseLeaseV2(c->data, &l2), seed);
      if (l2.state != l.state || l2.epoch != l.epoch ||
          memcmp(l2.key, l.key, 16) != 0) {
        fail_msg("seed %d: lease differs", seed);
      }
    }

    CreateResponse resp;
    resp.oplock_level = static_cast<uint8_t>(rng());
    resp.create_action = rng();
    resp.end_of_file = rng();
    resp.file_id.persistent = rng();
    resp.file_id.volatile_id = rng();
    DurableV2Response dr;
    dr.timeout_ms = rng();
    dr.flags = rng() & 2;
    if (rng() & 1) resp.contexts.push_back(MakeDh2qResponse(dr));
    if (rng() & 1) resp.contexts.push_back(MakeLeaseV2(l));
    Bytes rmsg = HeaderOnly(kSmb2Create);
    EncodeCreateResponse(resp, &rmsg);
    CreateResponse rb;
    ASSERT_OK_SEED(DecodeCreateResponse(rmsg.data(), rmsg.size(), &rb), seed);
    if (rb.file_id.persistent != resp.file_id.persistent ||
        rb.file_id.volatile_id != resp.file_id.volatile_id ||
        rb.end_of_file != resp.end_of_file ||
        rb.contexts.size() != resp.contexts.size()) {
      fail_msg("seed %d: create response differs", seed);
    }
    c = FindContext(rb.contexts, "DH2Q");
    if (c != nullptr) {
      DurableV2Response dr2;
      ASSERT_OK_SEED(ParseDh2qResponse(c->data, &dr2), seed);
      if (dr2.flags != dr.flags || dr2.timeout_ms != dr.timeout_ms) {
        fail_msg("seed %d: DH2Q response differs", seed);
      }
    }
  }
}

void TestSmallBodiesRoundTrip(void**) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937 rng(seed);
    SessionSetupResponse ss;
    ss.session_flags = static_cast<uint16_t>(rng());
    ss.security_buffer.resize(rng() % 300);
    for (uint8_t& b : ss.security_buffer) b = static_cast<uint8_t>(rng());
    Bytes msg = HeaderOnly(kSmb2SessionSetup);
    EncodeSessionSetupResponse(ss, &msg);
    SessionSetupResponse ss2;
    ASSERT_OK_SEED(DecodeSessionSetupResponse(msg.data(), msg.size(), &ss2),
                   seed);
    if (ss2.session_flags != ss.session_flags ||
        ss2.security_buffer != ss.security_buffer) {
      fail_msg("seed %d: session setup response differs", seed);
    }
    TreeConnectResponse tc;
    tc.share_type = static_cast<uint8_t>(rng());
    tc.share_flags = rng();
    tc.capabilities = rng();
    tc.maximal_access = rng();
    msg = HeaderOnly(kSmb2TreeConnect);
    EncodeTreeConnectResponse(tc, &msg);
    TreeConnectResponse tc2;
    ASSERT_OK_SEED(DecodeTreeConnectResponse(msg.data(), msg.size(), &tc2),
                   seed);
    if (tc2.capabilities != tc.capabilities ||
        tc2.share_flags != tc.share_flags ||
        tc2.maximal_access != tc.maximal_access) {
      fail_msg("seed %d: tree connect response differs", seed);
    }
    Bytes data(rng() % 5000);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    msg = HeaderOnly(kSmb2Read);
    EncodeReadResponse(data.data(), static_cast<uint32_t>(data.size()), &msg);
    const uint8_t* p;
    uint32_t n;
    ASSERT_OK_SEED(DecodeReadResponse(msg.data(), msg.size(), &p, &n), seed);
    if (n != data.size() || (n > 0 && memcmp(p, data.data(), n) != 0)) {
      fail_msg("seed %d: read response differs", seed);
    }
  }
}

// Random frames fed to the decoder in random pieces come out whole.
class Collect : public FrameVisitor {
 public:
  void OnFrame(Bytes frame) override { frames.push_back(std::move(frame)); }
  std::vector<Bytes> frames;
};

void TestFramingRoundTrip(void**) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937 rng(seed);
    std::vector<Bytes> sent(rng() % 5 + 1);
    Bytes stream;
    for (Bytes& f : sent) {
      f.resize(rng() % 3000);
      for (uint8_t& b : f) b = static_cast<uint8_t>(rng());
      uint8_t h[4];
      ASSERT_OK_SEED(EncodeFrameHeader(f.size(), h), seed);
      stream.insert(stream.end(), h, h + 4);
      stream.insert(stream.end(), f.begin(), f.end());
    }
    FrameDecoder dec;
    Collect got;
    size_t pos = 0;
    while (pos < stream.size()) {
      size_t n = std::min<size_t>(rng() % 700 + 1, stream.size() - pos);
      size_t used = dec.Consume(stream.data() + pos, n, &got);
      if (used != n)
        fail_msg("seed %d: decoder used %zu of %zu", seed, used, n);
      pos += n;
    }
    if (got.frames != sent || !dec.at_boundary()) {
      fail_msg("seed %d: frames differ after reassembly", seed);
    }
  }
}

// ---------------------------------------------------------------------------
// Bad input.

// [MS-SMB2] 2.2.23.2 / 2.2.24.2: a lease break notification as a server
// sends it (built by hand, field by field) decodes; the acknowledgment has
// the spec's layout; every truncation is refused.
void TestLeaseBreak(void**) {
  Bytes msg = HeaderOnly(kSmb2OplockBreak);
  const uint8_t body[44] = {
      44, 0,       3, 0,           // StructureSize, NewEpoch
      1,  0,       0, 0,           // Flags: ACK_REQUIRED
      1,  2,       3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,  // key
      7,  0,       0, 0,           // CurrentLeaseState RWH
      3,  0,       0, 0,           // NewLeaseState RH
      0,  0,       0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // reason, hints
  msg.insert(msg.end(), body, body + sizeof(body));
  LeaseBreak b;
  assert_true(DecodeLeaseBreakNotification(msg.data(), msg.size(), &b).ok());
  assert_int_equal(b.new_epoch, 3);
  assert_int_equal(b.flags, kLeaseBreakAckRequired);
  assert_int_equal(b.key[0], 1);
  assert_int_equal(b.key[15], 16);
  assert_int_equal(b.current_state, 7);
  assert_int_equal(b.new_state, 3);
  for (size_t len = 0; len < msg.size(); ++len) {
    assert_false(DecodeLeaseBreakNotification(msg.data(), len, &b).ok());
  }
  msg[kSmb2HeaderSize] = 24;  // an oplock break's size
  assert_true(
      DecodeLeaseBreakNotification(msg.data(), msg.size(), &b).IsMalformed());

  Bytes ack = HeaderOnly(kSmb2OplockBreak);
  EncodeLeaseBreakAck(b.key, 3, &ack);
  assert_int_equal(ack.size(), kSmb2HeaderSize + 36);
  Bytes want = Hex(
      "2400000000000000" "0102030405060708090a0b0c0d0e0f10" "03000000"
      "0000000000000000");
  assert_true(Bytes(ack.begin() + kSmb2HeaderSize, ack.end()) == want);
  uint32_t state = 0;
  assert_true(DecodeLeaseBreakResponse(ack.data(), ack.size(), &state).ok());
  assert_int_equal(state, 3);
  for (size_t len = 0; len < ack.size(); ++len) {
    assert_false(DecodeLeaseBreakResponse(ack.data(), len, &state).ok());
  }
}

void TestTruncatedPdus(void**) {
  NegotiateResponse resp;
  resp.dialect = kDialect311;
  resp.security_buffer = Bytes(40, 0x60);
  resp.contexts.has_preauth = true;
  resp.contexts.hash_algorithms = {kHashSha512};
  resp.contexts.salt = Bytes(32, 1);
  resp.contexts.has_signing = true;
  resp.contexts.signing_algorithms = {1};
  Bytes msg = HeaderOnly(kSmb2Negotiate);
  EncodeNegotiateResponse(resp, &msg);
  for (size_t len = 0; len < msg.size(); ++len) {
    NegotiateResponse out;
    Status s = DecodeNegotiateResponse(msg.data(), len, &out);
    if (s.ok())
      fail_msg("negotiate response of %zu/%zu bytes decoded", len, msg.size());
    assert_true(s.IsTruncated() || s.IsMalformed());
  }
  Smb2Header h;
  for (size_t len = 0; len < 64; ++len) {
    assert_true(DecodeHeader(msg.data(), len, &h).IsTruncated());
  }
  CreateResponse cr;
  cr.contexts.push_back(MakeDh2qResponse(DurableV2Response()));
  Bytes cmsg = HeaderOnly(kSmb2Create);
  EncodeCreateResponse(cr, &cmsg);
  for (size_t len = 0; len < cmsg.size(); ++len) {
    CreateResponse out;
    if (DecodeCreateResponse(cmsg.data(), len, &out).ok()) {
      fail_msg("create response of %zu/%zu bytes decoded", len, cmsg.size());
    }
  }
  const uint8_t* p;
  uint32_t n;
  Bytes rmsg = HeaderOnly(kSmb2Read);
  Bytes data(100, 7);
  EncodeReadResponse(data.data(), 100, &rmsg);
  for (size_t len = 0; len < rmsg.size(); ++len) {
    assert_false(DecodeReadResponse(rmsg.data(), len, &p, &n).ok());
  }
}

void TestOversizedAndLyingLengths(void**) {
  // READ response claiming more data than the message holds.
  Bytes rmsg = HeaderOnly(kSmb2Read);
  Bytes data(100, 7);
  EncodeReadResponse(data.data(), 100, &rmsg);
  PutLe32(rmsg.data() + 64 + 4, 0xFFFFFFF0u);
  const uint8_t* p;
  uint32_t n;
  Status s = DecodeReadResponse(rmsg.data(), rmsg.size(), &p, &n);
  assert_true(s.IsMalformed());
  // Security buffer offset past the end.
  SessionSetupResponse ss;
  ss.security_buffer = Bytes(10, 1);
  Bytes msg = HeaderOnly(kSmb2SessionSetup);
  EncodeSessionSetupResponse(ss, &msg);
  PutLe16(msg.data() + 64 + 4, 0xFFF0);
  SessionSetupResponse out;
  assert_true(
      DecodeSessionSetupResponse(msg.data(), msg.size(), &out).IsMalformed());
  // Wrong StructureSize.
  msg = HeaderOnly(kSmb2SessionSetup);
  EncodeSessionSetupResponse(SessionSetupResponse(), &msg);
  PutLe16(msg.data() + 64, 10);
  assert_true(
      DecodeSessionSetupResponse(msg.data(), msg.size(), &out).IsMalformed());
  // Bad ProtocolId.
  msg[0] = 0xFF;
  Smb2Header h;
  assert_true(DecodeHeader(msg.data(), msg.size(), &h).IsMalformed());
  // Oversized transport frame.
  FrameDecoder dec(1 << 20);
  Collect got;
  const uint8_t big[4] = {0x00, 0x20, 0x00, 0x00};
  assert_int_equal(dec.Consume(big, 4, &got), 4);
  assert_true(dec.state() == FrameDecoder::State::kError);
  assert_true(dec.error().IsMalformed());
  assert_int_equal(dec.Consume(big, 4, &got), 0);
  FrameDecoder dec2;
  const uint8_t bad_type[4] = {0x85, 0, 0, 0};
  dec2.Consume(bad_type, 4, &got);
  assert_true(dec2.state() == FrameDecoder::State::kError);
  assert_true(got.frames.empty());
}

void TestNegotiateContextOverrun(void**) {
  NegotiateResponse resp;
  resp.dialect = kDialect311;
  resp.contexts.has_preauth = true;
  resp.contexts.hash_algorithms = {kHashSha512};
  resp.contexts.salt = Bytes(32, 1);
  resp.contexts.has_encryption = true;
  resp.contexts.ciphers = {2};
  Bytes msg = HeaderOnly(kSmb2Negotiate);
  EncodeNegotiateResponse(resp, &msg);
  uint32_t ctx_off = GetLe32(msg.data() + 64 + 60);
  NegotiateResponse out;
  // One more context than there are.
  Bytes m = msg;
  PutLe16(m.data() + 64 + 6, 3);
  Status s = DecodeNegotiateResponse(m.data(), m.size(), &out);
  assert_true(s.IsMalformed());
  assert_non_null(strstr(s.message().c_str(), "overruns the packet"));
  // DataLength of the first context past the end.
  m = msg;
  PutLe16(m.data() + ctx_off + 2, 0x7FFF);
  s = DecodeNegotiateResponse(m.data(), m.size(), &out);
  assert_true(s.IsMalformed());
  assert_non_null(strstr(s.message().c_str(), "overruns the packet"));
  // Context offset past the end.
  m = msg;
  PutLe32(m.data() + 64 + 60, 0xFFFFFFF8u);
  assert_true(DecodeNegotiateResponse(m.data(), m.size(), &out).IsMalformed());
  // Unaligned context offset.
  m = msg;
  PutLe32(m.data() + 64 + 60, ctx_off + 1);
  assert_true(DecodeNegotiateResponse(m.data(), m.size(), &out).IsMalformed());
  // Cipher count larger than the data.
  m = msg;
  size_t second = (ctx_off + 8 + GetLe16(m.data() + ctx_off + 2) + 7) & ~7u;
  PutLe16(m.data() + second + 8, 200);
  assert_true(DecodeNegotiateResponse(m.data(), m.size(), &out).IsMalformed());
  // Duplicate context.
  NegotiateContexts c;
  c.has_signing = true;
  c.signing_algorithms = {1};
  Bytes dup = HeaderOnly(kSmb2Negotiate);
  dup.resize(64);
  EncodeNegotiateContexts(c, &dup);
  EncodeNegotiateContexts(c, &dup);
  assert_true(
      DecodeNegotiateContexts(dup.data(), dup.size(), 64, 2, &out.contexts)
          .IsMalformed());
}

void TestUnknownDialect(void**) {
  for (uint16_t d : {0x0000, 0x02FF, 0x0201, 0x0312, 0xFFFF}) {
    NegotiateResponse resp;
    resp.dialect = d;
    Bytes msg = HeaderOnly(kSmb2Negotiate);
    EncodeNegotiateResponse(resp, &msg);
    NegotiateResponse out;
    Status s = DecodeNegotiateResponse(msg.data(), msg.size(), &out);
    assert_true(s.IsUnsupported());
    assert_non_null(strstr(s.message().c_str(), "unknown dialect"));
  }
  uint16_t d;
  assert_true(ParseDialect("3.1.2", &d).IsUnsupported());
  ASSERT_OK(ParseDialect("3.0.2", &d));
  assert_int_equal(d, kDialect302);
}

void TestCreateContextLies(void**) {
  DurableV2Request d;
  Bytes good;
  EncodeCreateContexts({MakeDh2q(d), MakeDh2q(d)}, &good);
  std::vector<CreateContext> out;
  ASSERT_OK(DecodeCreateContexts(good.data(), good.size(), &out));
  assert_int_equal(out.size(), 2);
  struct Lie {
    size_t at;
    uint32_t value;
    bool is32;
  } lies[] = {
      {0, 3, true},         // unaligned Next
      {0, 0x10000, true},   // Next past the end
      {4, 0xFFF0, false},   // name offset
      {6, 0, false},        // empty name
      {10, 0xFFF0, false},  // data offset
      {12, 0x1000, true},   // data length
  };
  for (const Lie& l : lies) {
    Bytes b = good;
    if (l.is32) {
      PutLe32(b.data() + l.at, l.value);
    } else {
      PutLe16(b.data() + l.at, static_cast<uint16_t>(l.value));
    }
    if (DecodeCreateContexts(b.data(), b.size(), &out).ok()) {
      fail_msg("create context lie at %zu accepted", l.at);
    }
  }
  for (size_t len = 0; len < good.size(); ++len) {
    assert_false(DecodeCreateContexts(good.data(), len, &out).ok());
  }
  DurableV2Response r;
  assert_true(ParseDh2qResponse(Bytes(7), &r).IsMalformed());
  LeaseV2 l;
  assert_true(ParseLeaseV2(Bytes(32), &l).IsMalformed());
}

void TestUtf16(void**) {
  Bytes u;
  assert_true(Utf8ToUtf16le("a\xc3\xa9\xf0\x9f\x98\x80", &u));
  Bytes want = Hex("6100 e900 3dd8 00de");
  assert_true(u == want);
  std::string back;
  assert_true(Utf16leToUtf8(u.data(), u.size(), &back));
  assert_string_equal(back.c_str(), "a\xc3\xa9\xf0\x9f\x98\x80");
  assert_false(Utf8ToUtf16le("\xc3", &u));
  assert_false(Utf8ToUtf16le("\xff", &u));
  const uint8_t lone[2] = {0x00, 0xdc};
  assert_false(Utf16leToUtf8(lone, 2, &back));
  assert_false(Utf16leToUtf8(lone, 1, &back));
}

}  // namespace
}  // namespace smbclient3
}  // namespace samba_ca

int main() {
  using namespace samba_ca::smbclient3;  // NOLINT
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(TestHeaderGolden),
      cmocka_unit_test(TestNegotiateRequestGolden),
      cmocka_unit_test(TestSetInfoRequestGolden),
      cmocka_unit_test(TestCreateContextGolden),
      cmocka_unit_test(TestFrameHeaderGolden),
      cmocka_unit_test(TestNegotiateRoundTrip),
      cmocka_unit_test(TestCreateRoundTrip),
      cmocka_unit_test(TestSmallBodiesRoundTrip),
      cmocka_unit_test(TestFramingRoundTrip),
      cmocka_unit_test(TestTruncatedPdus),
      cmocka_unit_test(TestLeaseBreak),
      cmocka_unit_test(TestOversizedAndLyingLengths),
      cmocka_unit_test(TestNegotiateContextOverrun),
      cmocka_unit_test(TestUnknownDialect),
      cmocka_unit_test(TestCreateContextLies),
      cmocka_unit_test(TestUtf16),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
