// Copyright (C) samba-ca authors. GPLv3+.
//
// libFuzzer target for the smbclient3/ decoders: the SMB2 header, every
// response body the client decodes (negotiate with its context list,
// session setup, tree connect, create with its create contexts, read,
// write, close, lock, error), the negotiate and create request decoders,
// the NTLMSSP CHALLENGE and SPNEGO reply parsers, and the resumable
// transport-frame decoder fed in two pieces. Invariants (abort on
// violation): nothing crashes or reads out of bounds; a READ's data lies
// inside the message; the frame decoder gives the same frames however the
// input is split.
//
// clang++-14 -fsanitize=fuzzer,address,undefined -Ismbclient3 -Isigning
// builds the libFuzzer binary. With -DCLIENT_FUZZ_STANDALONE (g++ with
// ASan/UBSan) it is a plain driver: arguments are input files, or without
// arguments CLIENT_FUZZ_ITERATIONS (default 20000) seeded random inputs.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "framing.h"
#include "ntlmssp.h"
#include "smb2_pdu.h"

namespace {

namespace sc = samba_ca::smbclient3;

class Collect : public sc::FrameVisitor {
 public:
  void OnFrame(sc::Bytes frame) override { frames.push_back(std::move(frame)); }
  std::vector<sc::Bytes> frames;
};

void FuzzFrames(const uint8_t* data, size_t size) {
  Collect whole, split;
  sc::FrameDecoder a(1 << 16), b(1 << 16);
  size_t used_a = a.Consume(data, size, &whole);
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  size_t used_b = b.Consume(data, cut, &split);
  if (b.state() != sc::FrameDecoder::State::kError) {
    used_b += b.Consume(data + cut, size - cut, &split);
  }
  if (used_a != used_b || whole.frames != split.frames ||
      a.state() != b.state()) {
    abort();
  }
}

void FuzzMessage(const uint8_t* data, size_t size) {
  sc::Smb2Header h;
  (void)sc::DecodeHeader(data, size, &h);
  sc::NegotiateResponse nr;
  (void)sc::DecodeNegotiateResponse(data, size, &nr);
  sc::NegotiateRequest nq;
  (void)sc::DecodeNegotiateRequest(data, size, &nq);
  sc::SessionSetupResponse ss;
  (void)sc::DecodeSessionSetupResponse(data, size, &ss);
  sc::TreeConnectResponse tc;
  (void)sc::DecodeTreeConnectResponse(data, size, &tc);
  sc::CreateResponse cr;
  if (sc::DecodeCreateResponse(data, size, &cr).ok()) {
    for (const sc::CreateContext& c : cr.contexts) {
      sc::DurableV2Response d;
      (void)sc::ParseDh2qResponse(c.data, &d);
      sc::LeaseV2 l;
      (void)sc::ParseLeaseV2(c.data, &l);
    }
  }
  sc::CreateRequest cq;
  if (sc::DecodeCreateRequest(data, size, &cq).ok()) {
    for (const sc::CreateContext& c : cq.contexts) {
      sc::DurableV2Request d;
      (void)sc::ParseDh2q(c.data, &d);
      sc::DurableV2Reconnect r;
      (void)sc::ParseDh2c(c.data, &r);
    }
  }
  const uint8_t* p = nullptr;
  uint32_t n = 0;
  if (sc::DecodeReadResponse(data, size, &p, &n).ok() && n > 0) {
    if (p < data || p + n > data + size) abort();
  }
  uint32_t count;
  (void)sc::DecodeWriteResponse(data, size, &count);
  (void)sc::DecodeCloseResponse(data, size);
  (void)sc::DecodeLockResponse(data, size);
  sc::Bytes err;
  (void)sc::DecodeErrorResponse(data, size, &err);
  if (size >= 64) {
    sc::NegotiateContexts ctx;
    (void)sc::DecodeNegotiateContexts(data, size, data[0] & 0xF8u, data[1],
                                      &ctx);
  }
  std::vector<sc::CreateContext> ccs;
  (void)sc::DecodeCreateContexts(data, size, &ccs);
  sc::NtlmChallenge ch;
  (void)sc::ParseNtlmChallenge(data, size, &ch);
  sc::SpnegoReply sr;
  (void)sc::ParseSpnegoReply(data, size, &sr);
  std::string name;
  (void)sc::Utf16leToUtf8(data, size, &name);
}

void FuzzOne(const uint8_t* data, size_t size) {
  // Copy so that ASan sees reads past the exact input length.
  std::vector<uint8_t> buf(data, data + size);
  FuzzMessage(buf.data(), buf.size());
  FuzzFrames(buf.data(), buf.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}

#ifdef CLIENT_FUZZ_STANDALONE
#include "standalone_driver.h"

namespace {

// Mostly SMB2 headers with plausible StructureSizes, so that the body
// decoders get past their first check.
std::vector<uint8_t> RandomInput(uint64_t* state) {
  auto next = [state]() { return samba_ca::fuzz::SplitMix64(state); };
  size_t size = next() % 400;
  std::vector<uint8_t> in(size);
  for (auto& b : in) b = static_cast<uint8_t>(next());
  if (size >= 66 && next() % 4 != 0) {
    in[0] = 0xFE, in[1] = 'S', in[2] = 'M', in[3] = 'B';
    in[4] = 64, in[5] = 0;
    static const uint16_t kSizes[] = {65, 9, 16, 89, 17, 60, 4, 36, 57};
    uint16_t s = kSizes[next() % 9];
    in[64] = static_cast<uint8_t>(s);
    in[65] = 0;
    // Offsets that point inside more often than not.
    for (size_t i = 66; i + 1 < size && i < 160; i += 2) {
      if (next() % 3 == 0)
        in[i] = static_cast<uint8_t>(next() % size), in[i + 1] = 0;
    }
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  return samba_ca::fuzz::RunStandalone(argc, argv, "client_pdu_fuzz",
                                       "CLIENT_FUZZ_ITERATIONS", 0xC11E,
                                       FuzzOne, RandomInput);
}
#endif  // CLIENT_FUZZ_STANDALONE
