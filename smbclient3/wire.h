// Copyright (C) samba-ca authors. GPLv3+.
//
// Little-endian wire encoding in LevelDB's util/coding.h spirit: a Writer
// that appends to a byte vector (with back-patching of offsets and
// lengths) and a bounds-checked Reader whose every read reports whether
// the bytes were there. Nothing here reads past the buffer it was given.

#ifndef SAMBA_CA_SMBCLIENT3_WIRE_H_
#define SAMBA_CA_SMBCLIENT3_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "byte_order.h"  // signing/, found through -I../signing

namespace samba_ca {
namespace smbclient3 {

using Bytes = std::vector<uint8_t>;

// The loads and stores are signing/'s (byte_order.h); the client spells
// them Get/Put with the pointer first.
using signing::internal::LoadLe16;
using signing::internal::LoadLe32;
using signing::internal::LoadLe64;
inline uint16_t GetLe16(const uint8_t* p) { return LoadLe16(p); }
inline uint32_t GetLe32(const uint8_t* p) { return LoadLe32(p); }
inline uint64_t GetLe64(const uint8_t* p) { return LoadLe64(p); }
inline void PutLe16(uint8_t* p, uint16_t v) {
  signing::internal::StoreLe16(v, p);
}
inline void PutLe32(uint8_t* p, uint32_t v) {
  signing::internal::StoreLe32(v, p);
}
inline void PutLe64(uint8_t* p, uint64_t v) {
  signing::internal::StoreLe64(v, p);
}

class Writer {
 public:
  explicit Writer(Bytes* out) : out_(out) {}

  size_t size() const { return out_->size(); }
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) {
    uint8_t b[2];
    PutLe16(b, v);
    Raw(b, 2);
  }
  void U32(uint32_t v) {
    uint8_t b[4];
    PutLe32(b, v);
    Raw(b, 4);
  }
  void U64(uint64_t v) {
    uint8_t b[8];
    PutLe64(b, v);
    Raw(b, 8);
  }
  void Raw(const uint8_t* p, size_t n) {
    if (n > 0) out_->insert(out_->end(), p, p + n);
  }
  void Raw(const Bytes& b) { Raw(b.data(), b.size()); }
  void Zeros(size_t n) { out_->insert(out_->end(), n, 0); }
  // Pads with zeros until size() - base is a multiple of `align`.
  void AlignTo(size_t align, size_t base = 0) {
    while ((out_->size() - base) % align != 0) out_->push_back(0);
  }
  void Patch16(size_t pos, uint16_t v) { PutLe16(out_->data() + pos, v); }
  void Patch32(size_t pos, uint32_t v) { PutLe32(out_->data() + pos, v); }

 private:
  Bytes* out_;
};

// Reads fields in order. A read that would pass the end fails, leaves the
// position unchanged and makes ok() false for good.
class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return len_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }

  bool U8(uint8_t* v) {
    if (!Need(1)) return false;
    *v = data_[pos_++];
    return true;
  }
  bool U16(uint16_t* v) {
    if (!Need(2)) return false;
    *v = GetLe16(data_ + pos_);
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Need(4)) return false;
    *v = GetLe32(data_ + pos_);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Need(8)) return false;
    *v = GetLe64(data_ + pos_);
    pos_ += 8;
    return true;
  }
  bool Raw(uint8_t* out, size_t n) {
    if (!Need(n)) return false;
    if (n > 0) memcpy(out, data_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (!Need(n)) return false;
    pos_ += n;
    return true;
  }
  bool Seek(size_t pos) {
    if (pos > len_) {
      ok_ = false;
      return false;
    }
    pos_ = pos;
    return true;
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || n > len_ - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  const uint8_t* data_;
  size_t len_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// True when [offset, offset + length) lies inside a buffer of `total`
// bytes, without overflow.
inline bool RangeInside(uint64_t offset, uint64_t length, uint64_t total) {
  return offset <= total && length <= total - offset;
}

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_WIRE_H_
