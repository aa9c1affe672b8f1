// Copyright (C) samba-ca authors. GPLv3+.
//
// SMB2/3 PDU codecs ([MS-SMB2] section 2.2): the 64-byte header and the
// bodies of the commands this client uses. Encoders append to a message
// that already holds its header, so every offset they write is relative to
// the header as the protocol wants. Decoders take the whole message (header
// included), check StructureSize and that every offset/length stays inside
// the message, and return a Status saying which field was wrong. No I/O.

#ifndef SAMBA_CA_SMBCLIENT3_SMB2_PDU_H_
#define SAMBA_CA_SMBCLIENT3_SMB2_PDU_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client_status.h"
#include "wire.h"

namespace samba_ca {
namespace smbclient3 {

constexpr size_t kSmb2HeaderSize = 64;

enum Smb2Command : uint16_t {
  kSmb2Negotiate = 0x0000,
  kSmb2SessionSetup = 0x0001,
  kSmb2Logoff = 0x0002,
  kSmb2TreeConnect = 0x0003,
  kSmb2TreeDisconnect = 0x0004,
  kSmb2Create = 0x0005,
  kSmb2Close = 0x0006,
  kSmb2Flush = 0x0007,
  kSmb2Read = 0x0008,
  kSmb2Write = 0x0009,
  kSmb2Lock = 0x000A,
  kSmb2Ioctl = 0x000B,
  kSmb2Cancel = 0x000C,
  kSmb2Echo = 0x000D,
  kSmb2SetInfo = 0x0011,
  kSmb2OplockBreak = 0x0012,
};
const char* CommandName(uint16_t command);

// Header flags.
constexpr uint32_t kFlagServerToRedir = 0x00000001;
constexpr uint32_t kFlagAsyncCommand = 0x00000002;
constexpr uint32_t kFlagRelatedOperations = 0x00000004;
constexpr uint32_t kFlagSigned = 0x00000008;
constexpr uint32_t kFlagReplayOperation = 0x20000000;

// NTSTATUS values the client looks at.
constexpr uint32_t kStatusSuccess = 0x00000000;
constexpr uint32_t kStatusPending = 0x00000103;
constexpr uint32_t kStatusMoreProcessingRequired = 0xC0000016;
constexpr uint32_t kStatusEndOfFile = 0xC0000011;
constexpr uint32_t kStatusAccessDenied = 0xC0000022;
constexpr uint32_t kStatusLogonFailure = 0xC000006D;
constexpr uint32_t kStatusObjectNameNotFound = 0xC0000034;
constexpr uint32_t kStatusLockNotGranted = 0xC0000055;
constexpr uint32_t kStatusFileClosed = 0xC0000128;
constexpr uint32_t kStatusNetworkSessionExpired = 0xC000035C;
const char* NtStatusName(uint32_t status);

// Dialects.
constexpr uint16_t kDialect202 = 0x0202;
constexpr uint16_t kDialect210 = 0x0210;
constexpr uint16_t kDialect300 = 0x0300;
constexpr uint16_t kDialect302 = 0x0302;
constexpr uint16_t kDialect311 = 0x0311;
constexpr uint16_t kDialectWildcard = 0x02FF;
// "2.0.2" for 0x0202; nullptr for a value that is not an SMB2 dialect.
const char* DialectName(uint16_t dialect);
// Parses "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1".
Status ParseDialect(const std::string& text, uint16_t* dialect);
bool IsSmb3(uint16_t dialect);

// Negotiate security mode and capabilities.
constexpr uint16_t kSigningEnabled = 0x0001;
constexpr uint16_t kSigningRequired = 0x0002;
constexpr uint32_t kCapDfs = 0x00000001;
constexpr uint32_t kCapLeasing = 0x00000002;
constexpr uint32_t kCapLargeMtu = 0x00000004;
constexpr uint32_t kCapMultiChannel = 0x00000008;
constexpr uint32_t kCapPersistentHandles = 0x00000010;
constexpr uint32_t kCapDirectoryLeasing = 0x00000020;
constexpr uint32_t kCapEncryption = 0x00000040;

// Negotiate context types and algorithm ids.
constexpr uint16_t kPreauthIntegrityCapabilities = 0x0001;
constexpr uint16_t kEncryptionCapabilities = 0x0002;
constexpr uint16_t kCompressionCapabilities = 0x0003;
constexpr uint16_t kNetnameNegotiateContextId = 0x0005;
constexpr uint16_t kSigningCapabilities = 0x0008;
constexpr uint16_t kHashSha512 = 0x0001;

struct Smb2Header {
  uint16_t credit_charge = 0;
  uint32_t status = 0;  // ChannelSequence/Reserved in requests
  uint16_t command = 0;
  uint16_t credits = 0;  // CreditRequest / CreditResponse
  uint32_t flags = 0;
  uint32_t next_command = 0;
  uint64_t message_id = 0;
  uint64_t async_id = 0;  // when kFlagAsyncCommand is set
  uint32_t tree_id = 0;   // otherwise
  uint64_t session_id = 0;
  uint8_t signature[16] = {};
};

void EncodeHeader(const Smb2Header& header, Bytes* msg);
// Checks ProtocolId 0xFE 'S' 'M' 'B' and StructureSize 64.
Status DecodeHeader(const uint8_t* msg, size_t len, Smb2Header* header);

// SMB2 NEGOTIATE contexts (3.1.1). Unknown context types are skipped and
// their type ids kept in `unknown_types`.
struct NegotiateContexts {
  bool has_preauth = false;
  std::vector<uint16_t> hash_algorithms;
  Bytes salt;
  bool has_encryption = false;
  std::vector<uint16_t> ciphers;
  bool has_signing = false;
  std::vector<uint16_t> signing_algorithms;
  std::vector<uint16_t> unknown_types;

  uint16_t count() const {
    return static_cast<uint16_t>(has_preauth + has_encryption + has_signing);
  }
};

struct NegotiateRequest {
  uint16_t security_mode = kSigningEnabled;
  uint32_t capabilities = 0;
  uint8_t client_guid[16] = {};
  std::vector<uint16_t> dialects;
  // Sent only when `dialects` holds 3.1.1.
  NegotiateContexts contexts;
};

struct NegotiateResponse {
  uint16_t security_mode = 0;
  uint16_t dialect = 0;
  uint8_t server_guid[16] = {};
  uint32_t capabilities = 0;
  uint32_t max_transact_size = 0;
  uint32_t max_read_size = 0;
  uint32_t max_write_size = 0;
  uint64_t system_time = 0;
  uint64_t server_start_time = 0;
  Bytes security_buffer;
  NegotiateContexts contexts;  // 3.1.1 only
};

void EncodeNegotiateRequest(const NegotiateRequest& req, Bytes* msg);
Status DecodeNegotiateRequest(const uint8_t* msg, size_t len,
                              NegotiateRequest* req);
void EncodeNegotiateResponse(const NegotiateResponse& resp, Bytes* msg);
// Also refuses a dialect that is not one of the five SMB2/3 ones (the
// wildcard included): "unknown dialect 0x...".
Status DecodeNegotiateResponse(const uint8_t* msg, size_t len,
                               NegotiateResponse* resp);

// Context list: `count` contexts at `offset` of msg (8-byte aligned each).
void EncodeNegotiateContexts(const NegotiateContexts& contexts, Bytes* msg);
Status DecodeNegotiateContexts(const uint8_t* msg, size_t len, size_t offset,
                               uint16_t count, NegotiateContexts* contexts);

// SESSION_SETUP.
constexpr uint16_t kSessionFlagIsGuest = 0x0001;
constexpr uint16_t kSessionFlagIsNull = 0x0002;
constexpr uint16_t kSessionFlagEncryptData = 0x0004;

struct SessionSetupRequest {
  uint8_t flags = 0;  // SMB2_SESSION_FLAG_BINDING
  uint8_t security_mode = kSigningEnabled;
  uint32_t capabilities = 0;
  uint64_t previous_session_id = 0;
  Bytes security_buffer;
};
struct SessionSetupResponse {
  uint16_t session_flags = 0;
  Bytes security_buffer;
};
void EncodeSessionSetupRequest(const SessionSetupRequest& req, Bytes* msg);
Status DecodeSessionSetupResponse(const uint8_t* msg, size_t len,
                                  SessionSetupResponse* resp);
void EncodeSessionSetupResponse(const SessionSetupResponse& resp, Bytes* msg);

// LOGOFF, TREE_DISCONNECT, ECHO: StructureSize 4 and a reserved field.
void EncodeEmptyBody(Bytes* msg);
Status DecodeEmptyBody(const uint8_t* msg, size_t len);

// TREE_CONNECT.
constexpr uint32_t kShareFlagEncryptData = 0x00008000;
constexpr uint32_t kShareCapDfs = 0x00000008;
constexpr uint32_t kShareCapContinuousAvailability = 0x00000010;
constexpr uint32_t kShareCapScaleout = 0x00000020;
constexpr uint32_t kShareCapCluster = 0x00000040;

struct TreeConnectResponse {
  uint8_t share_type = 0;
  uint32_t share_flags = 0;
  uint32_t capabilities = 0;
  uint32_t maximal_access = 0;
};
// `unc` is \\server\share, encoded as UTF-16LE.
void EncodeTreeConnectRequest(const std::string& unc, Bytes* msg);
Status DecodeTreeConnectResponse(const uint8_t* msg, size_t len,
                                 TreeConnectResponse* resp);
void EncodeTreeConnectResponse(const TreeConnectResponse& resp, Bytes* msg);

// CREATE and its contexts.
struct FileId {
  uint64_t persistent = 0;
  uint64_t volatile_id = 0;
};

struct CreateContext {
  std::string name;  // 4-character tags like "DH2Q"
  Bytes data;
};
// Appends the chain at the current (8-aligned) end of msg.
void EncodeCreateContexts(const std::vector<CreateContext>& contexts,
                          Bytes* msg);
Status DecodeCreateContexts(const uint8_t* buf, size_t len,
                            std::vector<CreateContext>* contexts);

constexpr uint8_t kOplockNone = 0x00;
constexpr uint8_t kOplockBatch = 0x09;
constexpr uint8_t kOplockLease = 0xFF;
constexpr uint32_t kDispositionOpen = 1;
constexpr uint32_t kDispositionCreate = 2;
constexpr uint32_t kDispositionOpenIf = 3;
constexpr uint32_t kDispositionOverwriteIf = 5;
constexpr uint32_t kAccessGenericRead = 0x80000000;
constexpr uint32_t kAccessGenericWrite = 0x40000000;
constexpr uint32_t kAccessGenericAll = 0x10000000;
constexpr uint32_t kAccessReadWriteAttrs = 0x0012019F;  // FILE_GENERIC_RW
constexpr uint32_t kShareAll = 0x00000007;
constexpr uint32_t kOptionNonDirectoryFile = 0x00000040;
constexpr uint32_t kAttributeNormal = 0x00000080;

struct CreateRequest {
  uint8_t oplock_level = kOplockNone;
  uint32_t impersonation_level = 2;  // Impersonation
  uint32_t desired_access = kAccessReadWriteAttrs;
  uint32_t file_attributes = kAttributeNormal;
  uint32_t share_access = kShareAll;
  uint32_t create_disposition = kDispositionOpenIf;
  uint32_t create_options = kOptionNonDirectoryFile;
  std::string name;  // UTF-8, '/' turned into '\'
  std::vector<CreateContext> contexts;
};
struct CreateResponse {
  uint8_t oplock_level = 0;
  uint8_t flags = 0;
  uint32_t create_action = 0;
  uint64_t creation_time = 0;
  uint64_t last_access_time = 0;
  uint64_t last_write_time = 0;
  uint64_t change_time = 0;
  uint64_t allocation_size = 0;
  uint64_t end_of_file = 0;
  uint32_t file_attributes = 0;
  FileId file_id;
  std::vector<CreateContext> contexts;
};
void EncodeCreateRequest(const CreateRequest& req, Bytes* msg);
Status DecodeCreateRequest(const uint8_t* msg, size_t len, CreateRequest* req);
Status DecodeCreateResponse(const uint8_t* msg, size_t len,
                            CreateResponse* resp);
void EncodeCreateResponse(const CreateResponse& resp, Bytes* msg);

// Durable handle v2 request/response/reconnect and lease v2 context data.
constexpr uint32_t kDhandleFlagPersistent = 0x00000002;
constexpr uint32_t kLeaseRead = 0x01;
constexpr uint32_t kLeaseHandle = 0x02;
constexpr uint32_t kLeaseWrite = 0x04;

struct DurableV2Request {  // "DH2Q"
  uint32_t timeout_ms = 0;
  uint32_t flags = 0;
  uint8_t create_guid[16] = {};
};
struct DurableV2Response {  // "DH2Q" in the response
  uint32_t timeout_ms = 0;
  uint32_t flags = 0;
};
struct DurableV2Reconnect {  // "DH2C"
  FileId file_id;
  uint8_t create_guid[16] = {};
  uint32_t flags = 0;
};
struct LeaseV2 {  // "RqLs", version 2 (52 bytes)
  uint8_t key[16] = {};
  uint32_t state = 0;
  uint32_t flags = 0;
  uint64_t duration = 0;
  uint8_t parent_key[16] = {};
  uint16_t epoch = 0;
};
CreateContext MakeDh2q(const DurableV2Request& req);
CreateContext MakeDh2c(const DurableV2Reconnect& req);
CreateContext MakeLeaseV2(const LeaseV2& lease);
CreateContext MakeDh2qResponse(const DurableV2Response& resp);
Status ParseDh2q(const Bytes& data, DurableV2Request* req);
Status ParseDh2qResponse(const Bytes& data, DurableV2Response* resp);
Status ParseDh2c(const Bytes& data, DurableV2Reconnect* req);
Status ParseLeaseV2(const Bytes& data, LeaseV2* lease);
// The first context named `name`, or nullptr.
const CreateContext* FindContext(const std::vector<CreateContext>& contexts,
                                 const char* name);

// CLOSE.
void EncodeCloseRequest(const FileId& file_id, Bytes* msg);
Status DecodeCloseResponse(const uint8_t* msg, size_t len);

// SET_INFO of a file information class ([MS-SMB2] 2.2.39, InfoType
// SMB2_0_INFO_FILE) with the class's buffer.
constexpr uint8_t kInfoTypeFile = 0x01;
constexpr uint8_t kFileDispositionInformation = 13;  // [MS-FSCC] 2.4.11
void EncodeSetInfoFileRequest(const FileId& file_id, uint8_t info_class,
                              const Bytes& buffer, Bytes* msg);
Status DecodeSetInfoResponse(const uint8_t* msg, size_t len);

// READ: the data is returned as a view into msg.
struct ReadRequest {
  uint32_t length = 0;
  uint64_t offset = 0;
  FileId file_id;
  uint32_t minimum_count = 0;
};
void EncodeReadRequest(const ReadRequest& req, Bytes* msg);
Status DecodeReadResponse(const uint8_t* msg, size_t len, const uint8_t** data,
                          uint32_t* data_len);
void EncodeReadResponse(const uint8_t* data, uint32_t data_len, Bytes* msg);

// WRITE.
struct WriteRequest {
  uint64_t offset = 0;
  FileId file_id;
  uint32_t flags = 0;
  const uint8_t* data = nullptr;
  uint32_t length = 0;
};
void EncodeWriteRequest(const WriteRequest& req, Bytes* msg);
Status DecodeWriteResponse(const uint8_t* msg, size_t len, uint32_t* count);

// LOCK.
constexpr uint32_t kLockShared = 0x01;
constexpr uint32_t kLockExclusive = 0x02;
constexpr uint32_t kLockUnlock = 0x04;
constexpr uint32_t kLockFailImmediately = 0x10;
struct LockElement {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t flags = 0;
};
void EncodeLockRequest(const FileId& file_id, uint32_t lock_sequence,
                       const std::vector<LockElement>& locks, Bytes* msg);
Status DecodeLockResponse(const uint8_t* msg, size_t len);

// Lease break notification ([MS-SMB2] 2.2.23.2, 44 bytes) and its
// acknowledgment (2.2.24.2) and response (2.2.25.2, 36 bytes each).
struct LeaseBreak {
  uint16_t new_epoch = 0;
  uint32_t flags = 0;  // kLeaseBreakAckRequired
  uint8_t key[16] = {};
  uint32_t current_state = 0;
  uint32_t new_state = 0;
};
constexpr uint32_t kLeaseBreakAckRequired = 0x01;
Status DecodeLeaseBreakNotification(const uint8_t* msg, size_t len,
                                    LeaseBreak* out);
void EncodeLeaseBreakAck(const uint8_t key[16], uint32_t state, Bytes* msg);
Status DecodeLeaseBreakResponse(const uint8_t* msg, size_t len,
                                uint32_t* state);

// ERROR response body (any command, failing status).
Status DecodeErrorResponse(const uint8_t* msg, size_t len, Bytes* error_data);

// UTF-8 <-> UTF-16LE for names. Invalid UTF-8 is refused.
bool Utf8ToUtf16le(const std::string& in, Bytes* out);
bool Utf16leToUtf8(const uint8_t* in, size_t len, std::string* out);

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_SMB2_PDU_H_
