// Copyright (C) samba-ca authors. GPLv3+.
//
// Smb2Client: one connection, one session and one tree connect to an SMB
// 2.0.2-3.1.1 server over a Transport. Negotiate (with 3.1.1 negotiate
// contexts), NTLMSSP-in-SPNEGO session setup, signing of every request and
// verification of every signed response through signing/, encryption when
// asked for or demanded by the server, tree connect, create (durable v2,
// persistent, lease v2 contexts), read, write, lock, close, and reconnect
// (new transport, session setup naming the previous session, tree connect;
// the caller then reopens its handles with DH2C).
//
// Requests are sent one at a time; STATUS_PENDING interim responses and
// lease/oplock break notifications are skipped while waiting.

#ifndef SAMBA_CA_SMBCLIENT3_CLIENT_H_
#define SAMBA_CA_SMBCLIENT3_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client_status.h"
#include "ntlmssp.h"
#include "smb2_pdu.h"
#include "smb3_crypto.h"
#include "transport.h"

namespace samba_ca {
namespace smbclient3 {

using signing::CipherId;
using signing::SigningAlgorithm;

const char* SigningAlgorithmName(SigningAlgorithm algorithm);
const char* CipherName(CipherId cipher);
// "hmac", "cmac", "gmac"; "ccm128", "gcm128", "ccm256", "gcm256".
Status ParseSigningAlgorithm(const std::string& text, SigningAlgorithm* out);
Status ParseCipher(const std::string& text, CipherId* out);

struct ClientOptions {
  std::string host;
  uint16_t port = 445;
  std::string share;  // share name, without the server
  NtlmCredentials credentials;
  // Offered dialects (default: all five).
  std::vector<uint16_t> dialects = {kDialect202, kDialect210, kDialect300,
                                    kDialect302, kDialect311};
  // 3.1.1 SIGNING_CAPABILITIES, in order of preference.
  std::vector<SigningAlgorithm> signing_algorithms = {
      SigningAlgorithm::kAesGmac, SigningAlgorithm::kAesCmac,
      SigningAlgorithm::kHmacSha256};
  // 3.1.1 ENCRYPTION_CAPABILITIES, in order of preference.
  std::vector<CipherId> ciphers = {CipherId::kAes256Gcm, CipherId::kAes128Gcm,
                                   CipherId::kAes256Ccm, CipherId::kAes128Ccm};
  // Sets SIGNING_REQUIRED in negotiate and session setup, so that the server
  // signs every response; the client signs every request either way once
  // the session is set up (unless it encrypts).
  bool require_signing = true;
  // Encrypts every request after session setup (3.x only).
  bool seal = false;
  int timeout_ms = 30000;
  // Creates the transport; default: TCP to host:port.
  std::function<Status(const ClientOptions&, std::unique_ptr<Transport>*)>
      connect_transport;
};

struct ConnectionInfo {
  uint16_t dialect = 0;
  uint16_t server_security_mode = 0;
  uint32_t server_capabilities = 0;
  uint32_t max_read_size = 0;
  uint32_t max_write_size = 0;
  bool signing_negotiated = false;  // 3.1.1 SIGNING_CAPABILITIES answered
  SigningAlgorithm signing_algorithm = SigningAlgorithm::kHmacSha256;
  bool cipher_negotiated = false;
  CipherId cipher = CipherId::kAes128Ccm;
  bool signing_active = false;  // requests signed, responses verified
  bool encrypting = false;      // requests sealed
  uint16_t session_flags = 0;
  uint64_t session_id = 0;
  uint32_t tree_id = 0;
  TreeConnectResponse tree;
  // Counters over the life of the client.
  uint64_t signed_responses_verified = 0;
  uint64_t encrypted_responses_opened = 0;
};

// What Create() reports beyond the response itself.
struct OpenResult {
  CreateResponse response;
  bool durable = false;     // a DH2Q response context came back
  bool persistent = false;  // ... with SMB2_DHANDLE_FLAG_PERSISTENT
  uint32_t durable_timeout_ms = 0;
  bool lease_granted = false;
  uint32_t lease_state = 0;
};

class Smb2Client {
 public:
  explicit Smb2Client(ClientOptions options);
  ~Smb2Client();
  Smb2Client(const Smb2Client&) = delete;
  Smb2Client& operator=(const Smb2Client&) = delete;

  // Transport, negotiate, session setup and tree connect.
  Status Connect();
  Status ConnectTransport();
  Status Negotiate();
  Status SessionSetup(uint64_t previous_session_id);
  Status TreeConnect();
  Status TreeDisconnect();
  Status Logoff();

  Status Create(const CreateRequest& request, OpenResult* result);
  // Create in two steps, so that one caller can drive several clients
  // while a create waits (an interim response) for a lease break:
  // CreateSend() sends, CreateReceive() waits for the final response.
  Status CreateSend(const CreateRequest& request, uint64_t* message_id);
  Status CreateReceive(uint64_t message_id, const CreateRequest& request,
                       OpenResult* result);
  // The next lease break notification (one received meanwhile, or the
  // next message on the connection, which must be one).
  Status WaitLeaseBreak(LeaseBreak* out);
  // Acknowledges a lease break with `state`; *granted: the server's answer.
  Status LeaseBreakAck(const uint8_t key[16], uint32_t state,
                       uint32_t* granted);
  // Reads up to `length` bytes; a read at or past the end gives 0 bytes.
  Status Read(const FileId& file_id, uint64_t offset, uint32_t length,
              Bytes* data);
  Status Write(const FileId& file_id, uint64_t offset, const uint8_t* data,
               uint32_t length, uint32_t* written);
  // WRITE with the header's ChannelSequence ([MS-SMB2] 2.2.1.2) and, if
  // `replay`, SMB2_FLAGS_REPLAY_OPERATION: a client resending a write whose
  // answer it lost with its connection (3.2.5.1.x, 3.3.5.2.10).
  Status WriteReplay(const FileId& file_id, uint64_t offset,
                     const uint8_t* data, uint32_t length,
                     uint16_t channel_sequence, bool replay,
                     uint32_t* written);
  // Sends that WRITE and does not wait for its answer: the write in flight
  // when the connection fails.
  Status WriteSend(const FileId& file_id, uint64_t offset, const uint8_t* data,
                   uint32_t length, uint16_t channel_sequence, bool replay);
  // lock_sequence: the request's LockSequence field ([MS-SMB2] 2.2.26),
  // index in the upper 28 bits, number in the lower 4; 0 for none.
  Status Lock(const FileId& file_id, const std::vector<LockElement>& locks,
              uint32_t lock_sequence = 0);
  Status Close(const FileId& file_id);
  // SET_INFO FileDispositionInformation: delete the file at its last close
  // (or no longer).
  Status SetDeleteOnClose(const FileId& file_id, bool delete_on_close);
  Status Echo();

  // Drops the transport without logoff or close, as a failing network
  // would; open durable handles stay on the server.
  void DropConnection();
  // New transport, negotiate (same client GUID), session setup naming the
  // previous session, tree connect. Handles are reopened by the caller
  // with a DH2C create context.
  Status Reconnect();

  // Test hook: flips one bit of the next signed or encrypted response
  // before it is verified/decrypted; the request then fails with
  // Status::IsAuthFailed().
  void TamperNextProtectedResponse() { tamper_next_ = true; }

  const ConnectionInfo& info() const { return info_; }
  const uint8_t* client_guid() const { return client_guid_; }
  // Largest read/write the client issues in one request.
  uint32_t max_io_size() const;

 private:
  Bytes NewRequest(uint16_t command) const;
  // Fills in the header of `msg`, signs or seals it, sends it and waits for
  // its response. `ok_statuses` lists the statuses besides SUCCESS that
  // return OK with the response in *response.
  Status Transact(Bytes* msg, Bytes* response, Smb2Header* response_header,
                  std::initializer_list<uint32_t> ok_statuses = {});
  // Transact() in two steps: fill in, protect and send; then wait.
  Status SendRequest(Bytes* msg, uint64_t* message_id);
  Status ReceiveResponse(uint64_t message_id, uint16_t command,
                         Bytes* response, Smb2Header* response_header,
                         std::initializer_list<uint32_t> ok_statuses = {});
  Status SendMessage(Bytes* msg, bool encrypt);
  Status ReceiveFor(uint64_t message_id, uint16_t command, Bytes* response,
                    Smb2Header* header);
  Status Unprotect(Bytes* frame, bool* was_encrypted);
  Status SetUpSessionCrypto(const uint8_t* session_key,
                            const uint8_t* preauth_hash);
  uint16_t CreditCharge(uint32_t payload) const;

  ClientOptions options_;
  std::unique_ptr<Transport> transport_;
  ConnectionInfo info_;
  uint8_t client_guid_[16] = {};
  uint64_t next_message_id_ = 0;
  bool tamper_next_ = false;
  // Lease break notifications received while waiting for a response.
  std::vector<Bytes> notifications_;

  signing::PreauthHash connection_hash_;
  // While set, Transact() chains each request as sent into this hash.
  signing::PreauthHash* preauth_sink_ = nullptr;
  std::unique_ptr<signing::Smb2Signer> signer_;
  std::unique_ptr<signing::Smb3Cipher> encryptor_;
  std::unique_ptr<signing::Smb3Cipher> decryptor_;
  uint64_t nonce_counter_ = 0;
  uint8_t nonce_salt_[4] = {};
};

}  // namespace smbclient3
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBCLIENT3_CLIENT_H_
