// Copyright (C) samba-ca authors. GPLv3+.
//
// [MS-SMBD] messages on the wire: the negotiate request (2.2.1) and
// response (2.2.2), the data transfer message (2.2.3) and the buffer
// descriptor (2.2.3.1), with their encoders and decoders.
//
// The decoders are resumable in QUICHE's way: a receive completion tells
// the message's length up front, and its bytes may come in any number of
// pieces (scatter entries, a fuzzer's splits); Consume() takes what it
// can, state() says kNeedMore, kDone or kError, and error() says why.
// No decoder reads past what it was given or keeps a pointer to it.

#ifndef SAMBA_CA_SMBDIRECT_WIRE_H_
#define SAMBA_CA_SMBDIRECT_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "status.h"

namespace samba_ca {
namespace smbdirect {

constexpr uint16_t kProtocolV1 = 0x0100;             // 1.7
constexpr size_t kNegotiateRequestSize = 20;         // 2.2.1
constexpr size_t kNegotiateResponseSize = 32;        // 2.2.2
constexpr size_t kDataTransferHeaderSize = 20;       // 2.2.3 (no padding)
constexpr uint32_t kDataOffset = 24;                 // 3.1.5.4: SHOULD be 24
constexpr size_t kBufferDescriptorV1Size = 16;       // 2.2.3.1
constexpr uint16_t kFlagResponseRequested = 0x0001;  // 2.2.3
constexpr uint32_t kMinReceiveSize = 128;            // 3.1.5.6, 3.1.5.7
constexpr uint32_t kMinFragmentedSize = 131072;      // 3.1.5.6, 3.1.5.7
constexpr uint32_t kStatusNotSupported = 0xC00000BB;
// [MS-SMB2] 2.2.19 / 2.2.21: Channel values of READ and WRITE.
constexpr uint32_t kSmb2ChannelRdmaV1 = 0x00000001;
constexpr uint32_t kSmb2ChannelRdmaV1Invalidate = 0x00000002;

struct NegotiateRequest {  // 2.2.1
  uint16_t min_version = kProtocolV1;
  uint16_t max_version = kProtocolV1;
  uint16_t credits_requested = 0;
  uint32_t preferred_send_size = 0;
  uint32_t max_receive_size = 0;
  uint32_t max_fragmented_size = 0;
};

struct NegotiateResponse {  // 2.2.2
  uint16_t min_version = kProtocolV1;
  uint16_t max_version = kProtocolV1;
  uint16_t negotiated_version = kProtocolV1;
  uint16_t credits_requested = 0;
  uint16_t credits_granted = 0;
  uint32_t status = 0;
  uint32_t max_read_write_size = 0;
  uint32_t preferred_send_size = 0;
  uint32_t max_receive_size = 0;
  uint32_t max_fragmented_size = 0;
};

struct DataTransferHeader {  // 2.2.3
  uint16_t credits_requested = 0;
  uint16_t credits_granted = 0;
  uint16_t flags = 0;
  uint32_t remaining_data_length = 0;
  uint32_t data_offset = 0;
  uint32_t data_length = 0;
};

struct BufferDescriptorV1 {  // 2.2.3.1
  uint64_t offset = 0;
  uint32_t token = 0;
  uint32_t length = 0;
};

// Encoders append to *out.
void EncodeNegotiateRequest(const NegotiateRequest& m,
                            std::vector<uint8_t>* out);
void EncodeNegotiateResponse(const NegotiateResponse& m,
                             std::vector<uint8_t>* out);
// The 20-byte header, then zeros up to h.data_offset when it is larger.
void EncodeDataTransferHeader(const DataTransferHeader& h,
                              std::vector<uint8_t>* out);
void EncodeBufferDescriptor(const BufferDescriptorV1& d,
                            std::vector<uint8_t>* out);

enum class DecodeState { kNeedMore, kDone, kError };

// A message of fixed layout: the first kSize bytes are parsed (and
// checked by Parse) as soon as they are in; bytes beyond them are taken
// and ignored, as 3.1.5.6 and 3.1.5.7 only ask for "at least" kSize.
template <typename Message, size_t kSize,
          Status (*Parse)(const uint8_t* bytes, Message* out)>
class FixedMessageDecoder {
 public:
  explicit FixedMessageDecoder(size_t message_length);
  size_t Consume(const uint8_t* data, size_t len);
  DecodeState state() const { return state_; }
  const Status& error() const { return error_; }
  const Message& message() const { return message_; }

 private:
  uint8_t bytes_[kSize] = {};
  size_t have_ = 0;
  size_t left_;
  DecodeState state_ = DecodeState::kNeedMore;
  Status error_;
  Message message_;
};

// 3.1.5.6's checks that need nothing but the message: a version range
// without 0x0100 is kBadVersion (answered with STATUS_NOT_SUPPORTED, the
// caller's job); no credits requested or too-small sizes are kBadSize.
Status ParseNegotiateRequest(const uint8_t* bytes, NegotiateRequest* out);
// 3.1.5.7's checks that need nothing but the message (the one against
// Connection.MaxReceiveSize is the connection's).
Status ParseNegotiateResponse(const uint8_t* bytes, NegotiateResponse* out);

using NegotiateRequestDecoder =
    FixedMessageDecoder<NegotiateRequest, kNegotiateRequestSize,
                        ParseNegotiateRequest>;
using NegotiateResponseDecoder =
    FixedMessageDecoder<NegotiateResponse, kNegotiateResponseSize,
                        ParseNegotiateResponse>;

// What a data transfer message is checked against: Connection's
// MaxReceiveSize and MaxFragmentedRecvSize after the negotiation.
struct DataTransferLimits {
  uint32_t max_receive_size = 0;
  uint32_t max_fragmented_size = 0;
};

class DataTransferVisitor {
 public:
  virtual ~DataTransferVisitor() = default;
  // Once, when the header is in and has passed 3.1.5.8's checks.
  virtual void OnDataTransferHeader(const DataTransferHeader& header) = 0;
  // The payload, in order, in as many pieces as it came in.
  virtual void OnPayload(const uint8_t* data, size_t len) = 0;
};

class DataTransferDecoder {
 public:
  DataTransferDecoder(size_t message_length, const DataTransferLimits& limits,
                      DataTransferVisitor* visitor);
  size_t Consume(const uint8_t* data, size_t len);
  DecodeState state() const { return state_; }
  const Status& error() const { return error_; }
  const DataTransferHeader& header() const { return header_; }

 private:
  enum class Stage { kHeader, kPadding, kPayload, kTrailer };
  void Fail(Code code, std::string message);
  void CheckHeader();

  const size_t message_length_;
  const DataTransferLimits limits_;
  DataTransferVisitor* const visitor_;
  uint8_t bytes_[kDataTransferHeaderSize] = {};
  size_t consumed_ = 0;  // of the whole message
  Stage stage_ = Stage::kHeader;
  DecodeState state_ = DecodeState::kNeedMore;
  Status error_;
  DataTransferHeader header_;
};

// An SMB2 READ/WRITE channel buffer ([MS-SMB2] 2.2.19, 2.2.21 with
// SMB2_CHANNEL_RDMA_V1 or _V1_INVALIDATE): a list of 2.2.3.1 descriptors.
// Refused: an empty list, a length not a multiple of 16, more than
// max_entries, an entry of length zero, and a total beyond 4 GiB - 1.
Status ParseBufferDescriptorList(const uint8_t* data, size_t len,
                                 size_t max_entries,
                                 std::vector<BufferDescriptorV1>* out);
uint64_t TotalLength(const std::vector<BufferDescriptorV1>& list);

}  // namespace smbdirect
}  // namespace samba_ca

#include "wire_inl.h"

#endif  // SAMBA_CA_SMBDIRECT_WIRE_H_
