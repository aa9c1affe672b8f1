// Copyright (C) samba-ca authors. GPLv3+.

#include "wire.h"

#include <cstdio>
#include <string>

#include "byte_order.h"  // signing/: the one little-endian layer

namespace samba_ca {
namespace smbdirect {

using signing::internal::LoadLe16;
using signing::internal::LoadLe32;
using signing::internal::LoadLe64;
using signing::internal::StoreLe16;
using signing::internal::StoreLe32;
using signing::internal::StoreLe64;

namespace {

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->resize(out->size() + 2);
  StoreLe16(v, out->data() + out->size() - 2);
}

void Put32(std::vector<uint8_t>* out, uint32_t v) {
  out->resize(out->size() + 4);
  StoreLe32(v, out->data() + out->size() - 4);
}

void Put64(std::vector<uint8_t>* out, uint64_t v) {
  out->resize(out->size() + 8);
  StoreLe64(v, out->data() + out->size() - 8);
}

// 3.1.5.6 and 3.1.5.7 share these two size floors.
Status CheckSizes(const char* what, uint32_t max_receive_size,
                  uint32_t max_fragmented_size) {
  if (max_receive_size < kMinReceiveSize) {
    return Status(Code::kBadSize, std::string(what) + ": MaxReceiveSize " +
                                      std::to_string(max_receive_size) +
                                      " is below 128");
  }
  if (max_fragmented_size < kMinFragmentedSize) {
    return Status(Code::kBadSize, std::string(what) + ": MaxFragmentedSize " +
                                      std::to_string(max_fragmented_size) +
                                      " is below 131072");
  }
  return Status::OK();
}

}  // namespace

void EncodeNegotiateRequest(const NegotiateRequest& m,
                            std::vector<uint8_t>* out) {
  Put16(out, m.min_version);
  Put16(out, m.max_version);
  Put16(out, 0);  // Reserved
  Put16(out, m.credits_requested);
  Put32(out, m.preferred_send_size);
  Put32(out, m.max_receive_size);
  Put32(out, m.max_fragmented_size);
}

void EncodeNegotiateResponse(const NegotiateResponse& m,
                             std::vector<uint8_t>* out) {
  Put16(out, m.min_version);
  Put16(out, m.max_version);
  Put16(out, m.negotiated_version);
  Put16(out, 0);  // Reserved
  Put16(out, m.credits_requested);
  Put16(out, m.credits_granted);
  Put32(out, m.status);
  Put32(out, m.max_read_write_size);
  Put32(out, m.preferred_send_size);
  Put32(out, m.max_receive_size);
  Put32(out, m.max_fragmented_size);
}

void EncodeDataTransferHeader(const DataTransferHeader& h,
                              std::vector<uint8_t>* out) {
  size_t start = out->size();
  Put16(out, h.credits_requested);
  Put16(out, h.credits_granted);
  Put16(out, h.flags);
  Put16(out, 0);  // Reserved
  Put32(out, h.remaining_data_length);
  Put32(out, h.data_offset);
  Put32(out, h.data_length);
  if (h.data_offset > kDataTransferHeaderSize) {
    out->resize(start + h.data_offset, 0);  // Padding
  }
}

void EncodeBufferDescriptor(const BufferDescriptorV1& d,
                            std::vector<uint8_t>* out) {
  Put64(out, d.offset);
  Put32(out, d.token);
  Put32(out, d.length);
}

Status ParseNegotiateRequest(const uint8_t* p, NegotiateRequest* m) {
  m->min_version = LoadLe16(p);
  m->max_version = LoadLe16(p + 2);
  m->credits_requested = LoadLe16(p + 6);
  m->preferred_send_size = LoadLe32(p + 8);
  m->max_receive_size = LoadLe32(p + 12);
  m->max_fragmented_size = LoadLe32(p + 16);
  // 3.1.5.6: the range MinVersion..MaxVersion must include 0x0100.
  if (m->min_version > kProtocolV1 || m->max_version < kProtocolV1) {
    return Status(Code::kBadVersion, "negotiate request: versions " +
                                         std::to_string(m->min_version) + ".." +
                                         std::to_string(m->max_version) +
                                         " do not include 0x0100");
  }
  // 3.1.5.6: CreditsRequested > 0, MaxReceiveSize >= 128,
  // MaxFragmentedSize >= 131072, else the connection is terminated.
  if (m->credits_requested == 0) {
    return Status(Code::kBadSize, "negotiate request: CreditsRequested is 0");
  }
  return CheckSizes("negotiate request", m->max_receive_size,
                    m->max_fragmented_size);
}

Status ParseNegotiateResponse(const uint8_t* p, NegotiateResponse* m) {
  m->min_version = LoadLe16(p);
  m->max_version = LoadLe16(p + 2);
  m->negotiated_version = LoadLe16(p + 4);
  m->credits_requested = LoadLe16(p + 8);
  m->credits_granted = LoadLe16(p + 10);
  m->status = LoadLe32(p + 12);
  m->max_read_write_size = LoadLe32(p + 16);
  m->preferred_send_size = LoadLe32(p + 20);
  m->max_receive_size = LoadLe32(p + 24);
  m->max_fragmented_size = LoadLe32(p + 28);
  // 3.1.5.7's checks; a refusal first, as its Status is the best reason.
  if (m->status != 0) {
    char hex[16];
    snprintf(hex, sizeof(hex), "0x%08X", m->status);
    return Status(
        Code::kNegotiateFailed,
        std::string("negotiate response: the peer refused, Status ") + hex);
  }
  if (m->negotiated_version != kProtocolV1) {
    return Status(Code::kBadVersion, "negotiate response: NegotiatedVersion " +
                                         std::to_string(m->negotiated_version) +
                                         " is not 0x0100");
  }
  Status s = CheckSizes("negotiate response", m->max_receive_size,
                        m->max_fragmented_size);
  if (!s.ok()) {
    return s;
  }
  if (m->credits_granted == 0) {
    return Status(Code::kBadSize, "negotiate response: CreditsGranted is 0");
  }
  if (m->credits_requested == 0) {
    return Status(Code::kBadSize, "negotiate response: CreditsRequested is 0");
  }
  return Status::OK();
}

DataTransferDecoder::DataTransferDecoder(size_t message_length,
                                         const DataTransferLimits& limits,
                                         DataTransferVisitor* visitor)
    : message_length_(message_length), limits_(limits), visitor_(visitor) {
  // 3.1.5.8: at least 20 bytes.  A message longer than the receive the
  // peer was allowed to fill breaks the negotiated MaxReceiveSize.
  if (message_length < kDataTransferHeaderSize) {
    Fail(Code::kTruncated, "data transfer of " +
                               std::to_string(message_length) +
                               " bytes, at least 20 needed");
  } else if (message_length > limits.max_receive_size) {
    Fail(Code::kOversize, "data transfer of " + std::to_string(message_length) +
                              " bytes, the negotiated MaxReceiveSize is " +
                              std::to_string(limits.max_receive_size));
  }
}

void DataTransferDecoder::Fail(Code code, std::string message) {
  state_ = DecodeState::kError;
  error_ = Status(code, std::move(message));
}

void DataTransferDecoder::CheckHeader() {
  const uint8_t* p = bytes_;
  header_.credits_requested = LoadLe16(p);
  header_.credits_granted = LoadLe16(p + 2);
  header_.flags = LoadLe16(p + 4);
  header_.remaining_data_length = LoadLe32(p + 8);
  header_.data_offset = LoadLe32(p + 12);
  header_.data_length = LoadLe32(p + 16);
  const DataTransferHeader& h = header_;
  // 3.1.5.8, each check in turn; any failure terminates the connection.
  if (h.credits_requested == 0) {
    Fail(Code::kBadSize, "data transfer: CreditsRequested is 0");
    return;
  }
  if (h.data_offset % 8 != 0) {
    Fail(Code::kMalformed, "data transfer: DataOffset " +
                               std::to_string(h.data_offset) +
                               " is not 8-byte aligned");
    return;
  }
  if (h.data_length > 0 && h.data_offset < kDataTransferHeaderSize) {
    Fail(Code::kMalformed, "data transfer: DataOffset " +
                               std::to_string(h.data_offset) +
                               " points into the header");
    return;
  }
  uint64_t end = uint64_t{h.data_offset} + h.data_length;
  if (h.data_length > 0 && end > message_length_) {
    Fail(Code::kTruncated, "data transfer: DataOffset + DataLength = " +
                               std::to_string(end) + " beyond the message's " +
                               std::to_string(message_length_) + " bytes");
    return;
  }
  uint64_t total = uint64_t{h.data_length} + h.remaining_data_length;
  if (total > limits_.max_fragmented_size) {
    Fail(Code::kOversize, "data transfer: DataLength + RemainingDataLength = " +
                              std::to_string(total) +
                              " beyond the negotiated maximum " +
                              std::to_string(limits_.max_fragmented_size));
    return;
  }
  visitor_->OnDataTransferHeader(h);
}

size_t DataTransferDecoder::Consume(const uint8_t* data, size_t len) {
  size_t used = 0;
  while (state_ == DecodeState::kNeedMore && used < len &&
         consumed_ < message_length_) {
    const uint8_t* p = data + used;
    size_t avail = len - used;
    if (message_length_ - consumed_ < avail) {
      avail = message_length_ - consumed_;
    }
    size_t take = avail;
    switch (stage_) {
      case Stage::kHeader: {
        size_t need = kDataTransferHeaderSize - consumed_;
        take = avail < need ? avail : need;
        memcpy(bytes_ + consumed_, p, take);
        if (consumed_ + take == kDataTransferHeaderSize) {
          CheckHeader();
          stage_ = header_.data_length > 0 ? Stage::kPadding : Stage::kTrailer;
        }
        break;
      }
      case Stage::kPadding: {
        size_t need = header_.data_offset - consumed_;
        take = avail < need ? avail : need;
        break;
      }
      case Stage::kPayload: {
        size_t need =
            uint64_t{header_.data_offset} + header_.data_length - consumed_;
        take = avail < need ? avail : need;
        visitor_->OnPayload(p, take);
        break;
      }
      case Stage::kTrailer:
        break;
    }
    used += take;
    consumed_ += take;
    if (stage_ == Stage::kPadding && consumed_ == header_.data_offset) {
      stage_ = Stage::kPayload;
    }
    if (stage_ == Stage::kPayload &&
        consumed_ == uint64_t{header_.data_offset} + header_.data_length) {
      stage_ = Stage::kTrailer;
    }
  }
  if (state_ == DecodeState::kNeedMore && consumed_ == message_length_) {
    state_ = DecodeState::kDone;
  }
  return used;
}

Status ParseBufferDescriptorList(const uint8_t* data, size_t len,
                                 size_t max_entries,
                                 std::vector<BufferDescriptorV1>* out) {
  out->clear();
  if (len == 0) {
    return Status(Code::kBadDescriptor, "empty buffer descriptor list");
  }
  if (len % kBufferDescriptorV1Size != 0) {
    return Status(Code::kBadDescriptor, "buffer descriptor list of " +
                                            std::to_string(len) +
                                            " bytes is not a multiple of 16");
  }
  size_t n = len / kBufferDescriptorV1Size;
  if (n > max_entries) {
    return Status(Code::kBadDescriptor, std::to_string(n) +
                                            " buffer descriptors, at most " +
                                            std::to_string(max_entries));
  }
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data + i * kBufferDescriptorV1Size;
    BufferDescriptorV1 d;
    d.offset = LoadLe64(p);
    d.token = LoadLe32(p + 8);
    d.length = LoadLe32(p + 12);
    if (d.length == 0) {
      out->clear();
      return Status(Code::kBadDescriptor,
                    "buffer descriptor " + std::to_string(i) + " has length 0");
    }
    total += d.length;
    if (total > UINT32_MAX) {
      out->clear();
      return Status(Code::kBadDescriptor,
                    "buffer descriptors add up to more than 4 GiB");
    }
    out->push_back(d);
  }
  return Status::OK();
}

uint64_t TotalLength(const std::vector<BufferDescriptorV1>& list) {
  uint64_t total = 0;
  for (const BufferDescriptorV1& d : list) {
    total += d.length;
  }
  return total;
}

}  // namespace smbdirect
}  // namespace samba_ca
