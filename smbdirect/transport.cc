// Copyright (C) samba-ca authors. GPLv3+.

#include "transport.h"

#include <string>

namespace samba_ca {
namespace smbdirect {

namespace {

// Walks the descriptors over [0, len), calling op on each piece.
template <typename Op>
Status ForEachPiece(size_t len, const std::vector<BufferDescriptorV1>& list,
                    Op op) {
  if (TotalLength(list) < len) {
    return Status(Code::kBadDescriptor, "buffer descriptors cover " +
                                            std::to_string(TotalLength(list)) +
                                            " bytes, " + std::to_string(len) +
                                            " needed");
  }
  size_t done = 0;
  for (const BufferDescriptorV1& d : list) {
    if (done == len) {
      break;
    }
    size_t piece = len - done < d.length ? len - done : d.length;
    BufferDescriptorV1 part = d;
    part.length = static_cast<uint32_t>(piece);
    Status s = op(done, piece, part);
    if (!s.ok()) {
      return s;
    }
    done += piece;
  }
  return Status::OK();
}

}  // namespace

Status WriteToDescriptors(Transport* t, const uint8_t* data, size_t len,
                          const std::vector<BufferDescriptorV1>& list) {
  return ForEachPiece(len, list,
                      [&](size_t at, size_t n, const BufferDescriptorV1& d) {
                        return t->RdmaWrite(data + at, n, d);
                      });
}

Status ReadFromDescriptors(Transport* t, uint8_t* data, size_t len,
                           const std::vector<BufferDescriptorV1>& list) {
  return ForEachPiece(len, list,
                      [&](size_t at, size_t n, const BufferDescriptorV1& d) {
                        return t->RdmaRead(data + at, n, d);
                      });
}

}  // namespace smbdirect
}  // namespace samba_ca
