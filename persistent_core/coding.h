// Little-endian encoders and a bounds-checked decoder for stored records.
// Every Get names the field it reads, so a short buffer is reported as
// "record truncated at <field>".
#ifndef SAMBA_CA_PERSISTENT_CODING_H
#define SAMBA_CA_PERSISTENT_CODING_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace samba_ca {
namespace persistent {

void PutFixed8(std::string* dst, uint8_t value);
void PutFixed16(std::string* dst, uint16_t value);
void PutFixed32(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutBytes(std::string* dst, const uint8_t* data, size_t len);
// A 16-bit length, then the bytes; the caller has checked len fits.
void PutLengthPrefixed16(std::string* dst, const std::string& value);

uint32_t DecodeFixed32(const uint8_t* p);
void EncodeFixed32(uint8_t* p, uint32_t value);

// Reads from [data, data + len).  After the first failure every further Get
// fails too and error() keeps the first field that did not fit.
class Decoder {
 public:
  Decoder(const uint8_t* data, size_t len) : data_(data), left_(len) {}

  bool GetFixed8(uint8_t* value, const char* field);
  bool GetFixed16(uint16_t* value, const char* field);
  bool GetFixed32(uint32_t* value, const char* field);
  bool GetFixed64(uint64_t* value, const char* field);
  bool GetBytes(uint8_t* out, size_t len, const char* field);
  // A 16-bit length, then that many bytes, at most max_len.
  bool GetLengthPrefixed16(std::string* value, size_t max_len,
                           const char* field);

  size_t remaining() const { return left_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(std::string message);

 private:
  bool Take(size_t len, const char* field, const uint8_t** p);

  const uint8_t* data_;
  size_t left_;
  std::string error_;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_CODING_H
