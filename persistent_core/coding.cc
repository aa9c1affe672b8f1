// Little-endian encoders and the bounds-checked decoder.
#include "coding.h"

namespace samba_ca {
namespace persistent {

void PutFixed8(std::string* dst, uint8_t value) {
  dst->push_back(static_cast<char>(value));
}

void PutFixed16(std::string* dst, uint16_t value) {
  char buf[2] = {static_cast<char>(value & 0xFF),
                 static_cast<char>((value >> 8) & 0xFF)};
  dst->append(buf, sizeof(buf));
}

void PutFixed32(std::string* dst, uint32_t value) {
  uint8_t buf[4];
  EncodeFixed32(buf, value);
  dst->append(reinterpret_cast<const char*>(buf), sizeof(buf));
}

void PutFixed64(std::string* dst, uint64_t value) {
  PutFixed32(dst, static_cast<uint32_t>(value));
  PutFixed32(dst, static_cast<uint32_t>(value >> 32));
}

void PutBytes(std::string* dst, const uint8_t* data, size_t len) {
  dst->append(reinterpret_cast<const char*>(data), len);
}

void PutLengthPrefixed16(std::string* dst, const std::string& value) {
  PutFixed16(dst, static_cast<uint16_t>(value.size()));
  dst->append(value);
}

uint32_t DecodeFixed32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

void EncodeFixed32(uint8_t* p, uint32_t value) {
  p[0] = static_cast<uint8_t>(value);
  p[1] = static_cast<uint8_t>(value >> 8);
  p[2] = static_cast<uint8_t>(value >> 16);
  p[3] = static_cast<uint8_t>(value >> 24);
}

void Decoder::Fail(std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
  }
  left_ = 0;
}

bool Decoder::Take(size_t len, const char* field, const uint8_t** p) {
  if (failed()) {
    return false;
  }
  if (len > left_) {
    Fail(std::string("record truncated at ") + field);
    return false;
  }
  *p = data_;
  data_ += len;
  left_ -= len;
  return true;
}

bool Decoder::GetFixed8(uint8_t* value, const char* field) {
  const uint8_t* p;
  if (!Take(1, field, &p)) {
    return false;
  }
  *value = p[0];
  return true;
}

bool Decoder::GetFixed16(uint16_t* value, const char* field) {
  const uint8_t* p;
  if (!Take(2, field, &p)) {
    return false;
  }
  *value = static_cast<uint16_t>(p[0] | (p[1] << 8));
  return true;
}

bool Decoder::GetFixed32(uint32_t* value, const char* field) {
  const uint8_t* p;
  if (!Take(4, field, &p)) {
    return false;
  }
  *value = DecodeFixed32(p);
  return true;
}

bool Decoder::GetFixed64(uint64_t* value, const char* field) {
  const uint8_t* p;
  if (!Take(8, field, &p)) {
    return false;
  }
  *value = static_cast<uint64_t>(DecodeFixed32(p)) |
           (static_cast<uint64_t>(DecodeFixed32(p + 4)) << 32);
  return true;
}

bool Decoder::GetBytes(uint8_t* out, size_t len, const char* field) {
  const uint8_t* p;
  if (!Take(len, field, &p)) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    out[i] = p[i];
  }
  return true;
}

bool Decoder::GetLengthPrefixed16(std::string* value, size_t max_len,
                                  const char* field) {
  uint16_t len;
  if (!GetFixed16(&len, field)) {
    return false;
  }
  if (len > max_len) {
    Fail(std::string(field) + " length " + std::to_string(len) + " exceeds " +
         std::to_string(max_len));
    return false;
  }
  const uint8_t* p;
  if (!Take(len, field, &p)) {
    return false;
  }
  value->assign(reinterpret_cast<const char*>(p), len);
  return true;
}

}  // namespace persistent
}  // namespace samba_ca
