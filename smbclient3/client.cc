// Copyright (C) samba-ca authors. GPLv3+.

#include "client.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace samba_ca {
namespace smbclient3 {

namespace {

constexpr uint16_t kCreditRequest = 256;
constexpr uint64_t kNotificationMessageId = 0xFFFFFFFFFFFFFFFFull;

std::string Describe(uint16_t command, uint32_t status) {
  char buf[96];
  snprintf(buf, sizeof(buf), "%s: %s (0x%08x)", CommandName(command),
           NtStatusName(status), status);
  return buf;
}

Status DefaultTcp(const ClientOptions& o, std::unique_ptr<Transport>* out) {
  std::unique_ptr<TcpTransport> tcp;
  SCA_RETURN_IF_ERROR(
      TcpTransport::Connect(o.host, o.port, o.timeout_ms, &tcp));
  tcp->set_recv_timeout_ms(o.timeout_ms);
  *out = std::move(tcp);
  return Status::Ok();
}

bool Contains(const std::vector<uint16_t>& v, uint16_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

const char* SigningAlgorithmName(SigningAlgorithm a) {
  switch (a) {
    case SigningAlgorithm::kHmacSha256:
      return "HMAC-SHA256";
    case SigningAlgorithm::kAesCmac:
      return "AES-128-CMAC";
    case SigningAlgorithm::kAesGmac:
      return "AES-128-GMAC";
  }
  return "unknown";
}

const char* CipherName(CipherId c) {
  const char* name = signing::CipherIdName(c);
  return name != nullptr ? name : "unknown";
}

Status ParseSigningAlgorithm(const std::string& t, SigningAlgorithm* out) {
  if (t == "hmac") {
    *out = SigningAlgorithm::kHmacSha256;
  } else if (t == "cmac") {
    *out = SigningAlgorithm::kAesCmac;
  } else if (t == "gmac") {
    *out = SigningAlgorithm::kAesGmac;
  } else {
    return Status::InvalidArgument("unknown signing algorithm '" + t +
                                   "' (hmac, cmac, gmac)");
  }
  return Status::Ok();
}

Status ParseCipher(const std::string& t, CipherId* out) {
  if (t == "ccm128") {
    *out = CipherId::kAes128Ccm;
  } else if (t == "gcm128") {
    *out = CipherId::kAes128Gcm;
  } else if (t == "ccm256") {
    *out = CipherId::kAes256Ccm;
  } else if (t == "gcm256") {
    *out = CipherId::kAes256Gcm;
  } else {
    return Status::InvalidArgument("unknown cipher '" + t +
                                   "' (ccm128, gcm128, ccm256, gcm256)");
  }
  return Status::Ok();
}

Smb2Client::Smb2Client(ClientOptions options) : options_(std::move(options)) {
  RAND_bytes(client_guid_, sizeof(client_guid_));
  RAND_bytes(nonce_salt_, sizeof(nonce_salt_));
  if (!options_.connect_transport) options_.connect_transport = DefaultTcp;
}

Smb2Client::~Smb2Client() = default;

uint32_t Smb2Client::max_io_size() const {
  uint32_t limit = 65536;
  if (info_.dialect != kDialect202 &&
      (info_.server_capabilities & kCapLargeMtu)) {
    limit = 1024 * 1024;
  }
  return limit;
}

uint16_t Smb2Client::CreditCharge(uint32_t payload) const {
  // 2.0.2 has no credit charge (the field is reserved).
  if (info_.dialect == kDialect202) return 0;
  if (payload == 0) return 1;
  return static_cast<uint16_t>((payload - 1) / 65536 + 1);
}

Status Smb2Client::Connect() {
  SCA_RETURN_IF_ERROR(ConnectTransport());
  SCA_RETURN_IF_ERROR(Negotiate());
  SCA_RETURN_IF_ERROR(SessionSetup(0));
  return TreeConnect();
}

Status Smb2Client::ConnectTransport() {
  transport_.reset();
  return options_.connect_transport(options_, &transport_);
}

void Smb2Client::DropConnection() {
  if (transport_) transport_->Close();
  transport_.reset();
}

Status Smb2Client::Reconnect() {
  uint64_t previous = info_.session_id;
  DropConnection();
  SCA_RETURN_IF_ERROR(ConnectTransport());
  SCA_RETURN_IF_ERROR(Negotiate());
  SCA_RETURN_IF_ERROR(SessionSetup(previous));
  return TreeConnect();
}

Bytes Smb2Client::NewRequest(uint16_t command) const {
  Smb2Header h;
  h.command = command;
  Bytes msg;
  EncodeHeader(h, &msg);
  return msg;
}

Status Smb2Client::SendMessage(Bytes* msg, bool encrypt) {
  if (!transport_) return Status::IoError("not connected");
  if (!encrypt) return transport_->Send(msg->data(), msg->size());
  uint8_t nonce[signing::kTransformNonceFieldSize] = {};
  uint64_t counter = ++nonce_counter_;
  PutLe64(nonce, counter);
  size_t nonce_len = encryptor_->nonce_size();
  memcpy(nonce + 8, nonce_salt_, nonce_len - 8);
  Bytes out(signing::kTransformHeaderSize + msg->size());
  signing::Status s = encryptor_->Encrypt(nonce, info_.session_id, msg->data(),
                                          msg->size(), out.data(), out.size());
  if (!s.ok()) return Status::FromSigning(s, "encrypting a request");
  return transport_->Send(out.data(), out.size());
}

Status Smb2Client::Unprotect(Bytes* frame, bool* was_encrypted) {
  *was_encrypted = false;
  if (frame->size() >= 4 && (*frame)[0] == 0xFD && (*frame)[1] == 'S' &&
      (*frame)[2] == 'M' && (*frame)[3] == 'B') {
    if (!decryptor_) {
      return Status::ProtocolError(
          "encrypted message on a connection without encryption keys");
    }
    if (tamper_next_) {
      tamper_next_ = false;
      (*frame)[frame->size() - 1] ^= 0x01;
    }
    Bytes plain(frame->size());
    size_t plain_len = 0;
    signing::TransformHeader th;
    signing::Status s =
        decryptor_->Decrypt(frame->data(), frame->size(), plain.data(),
                            plain.size(), &plain_len, &th);
    if (!s.ok()) return Status::FromSigning(s, "decrypting a response");
    if (th.session_id != info_.session_id) {
      return Status::ProtocolError("encrypted response for another session");
    }
    plain.resize(plain_len);
    frame->swap(plain);
    *was_encrypted = true;
    ++info_.encrypted_responses_opened;
  }
  return Status::Ok();
}

Status Smb2Client::ReceiveFor(uint64_t message_id, uint16_t command,
                              Bytes* response, Smb2Header* h) {
  while (true) {
    Bytes frame;
    SCA_RETURN_IF_ERROR(transport_->Recv(&frame));
    bool encrypted = false;
    SCA_RETURN_IF_ERROR(Unprotect(&frame, &encrypted));
    SCA_RETURN_IF_ERROR(DecodeHeader(frame.data(), frame.size(), h));
    if (!(h->flags & kFlagServerToRedir)) {
      return Status::ProtocolError("a message without SERVER_TO_REDIR");
    }
    if (h->next_command != 0) {
      return Status::ProtocolError("compound response to a single request");
    }
    if (h->message_id == kNotificationMessageId) {
      // lease/oplock break notification (unsigned): kept for
      // WaitLeaseBreak(), at most a few
      if (notifications_.size() < 64) notifications_.push_back(frame);
      continue;
    }
    if (h->message_id != message_id) {
      return Status::ProtocolError(
          "response for message id " + std::to_string(h->message_id) +
          ", waiting for " + std::to_string(message_id));
    }
    if (h->command != command) {
      return Status::ProtocolError(std::string("response command ") +
                                   CommandName(h->command) + " to a " +
                                   CommandName(command) + " request");
    }
    bool interim =
        (h->flags & kFlagAsyncCommand) && h->status == kStatusPending;
    if (!encrypted) {
      if (h->flags & kFlagSigned) {
        if (!signer_) {
          // Only the final SESSION_SETUP response can be signed before the
          // keys exist; SessionSetup verifies it after deriving them.
          if (command != kSmb2SessionSetup) {
            return Status::ProtocolError(
                "signed response before the session has keys");
          }
        } else {
          if (tamper_next_) {
            tamper_next_ = false;
            frame[frame.size() - 1] ^= 0x01;
          }
          signing::Status s = signer_->VerifyPdu(frame.data(), frame.size());
          if (!s.ok()) {
            return Status::FromSigning(
                s, (std::string("verifying the ") + CommandName(command) +
                    " response signature")
                       .c_str());
          }
          ++info_.signed_responses_verified;
        }
      } else if (info_.signing_active && !interim) {
        return Status::AuthFailed(std::string("unsigned ") +
                                  CommandName(command) +
                                  " response on a signed session");
      } else if (info_.encrypting && !interim) {
        return Status::AuthFailed(std::string("unencrypted ") +
                                  CommandName(command) +
                                  " response on an encrypted session");
      }
    }
    if (interim) continue;
    response->swap(frame);
    return Status::Ok();
  }
}

Status Smb2Client::Transact(Bytes* msg, Bytes* response, Smb2Header* rh,
                            std::initializer_list<uint32_t> ok_statuses) {
  uint64_t message_id = 0;
  SCA_RETURN_IF_ERROR(SendRequest(msg, &message_id));
  return ReceiveResponse(message_id, GetLe16(msg->data() + 12), response, rh,
                         ok_statuses);
}

Status Smb2Client::SendRequest(Bytes* msg, uint64_t* message_id_out) {
  if (!transport_) return Status::IoError("not connected");
  uint8_t* h = msg->data();
  uint16_t command = GetLe16(h + 12);
  uint16_t charge = GetLe16(h + 6);
  if (charge == 0 && info_.dialect != 0 && info_.dialect != kDialect202) {
    charge = 1;
  }
  uint64_t message_id = next_message_id_;
  next_message_id_ += std::max<uint16_t>(charge, 1);
  PutLe16(h + 6, charge);
  PutLe16(h + 14, kCreditRequest);
  PutLe64(h + 24, message_id);
  if (command != kSmb2Negotiate) {
    PutLe64(h + 40, info_.session_id);
    if (command != kSmb2SessionSetup && command != kSmb2Logoff) {
      PutLe32(h + 36, info_.tree_id);
    }
  }
  bool encrypt = info_.encrypting && command != kSmb2Negotiate &&
                 command != kSmb2SessionSetup;
  if (!encrypt && info_.signing_active && signer_) {
    PutLe32(h + 16, GetLe32(h + 16) | kFlagSigned);
    signing::Status s = signer_->SignPdu(msg->data(), msg->size());
    if (!s.ok()) return Status::FromSigning(s, "signing a request");
  }
  // The preauth hash covers the request as sent (header fields filled in).
  if (preauth_sink_ != nullptr) preauth_sink_->Update(msg->data(), msg->size());
  SCA_RETURN_IF_ERROR(SendMessage(msg, encrypt));
  *message_id_out = message_id;
  return Status::Ok();
}

Status Smb2Client::ReceiveResponse(
    uint64_t message_id, uint16_t command, Bytes* response, Smb2Header* rh,
    std::initializer_list<uint32_t> ok_statuses) {
  SCA_RETURN_IF_ERROR(ReceiveFor(message_id, command, response, rh));
  if (rh->status == kStatusSuccess) return Status::Ok();
  for (uint32_t ok : ok_statuses) {
    if (rh->status == ok) return Status::Ok();
  }
  return Status::ServerError(rh->status, Describe(command, rh->status));
}

Status Smb2Client::Negotiate() {
  // Counters survive reconnects; everything negotiated starts afresh.
  uint64_t verified = info_.signed_responses_verified;
  uint64_t opened = info_.encrypted_responses_opened;
  info_ = ConnectionInfo();
  info_.signed_responses_verified = verified;
  info_.encrypted_responses_opened = opened;
  signer_.reset();
  encryptor_.reset();
  decryptor_.reset();
  next_message_id_ = 0;
  connection_hash_.Reset();

  NegotiateRequest req;
  req.security_mode = options_.require_signing
                          ? (kSigningEnabled | kSigningRequired)
                          : kSigningEnabled;
  req.capabilities = kCapDfs | kCapLeasing | kCapLargeMtu |
                     kCapPersistentHandles | kCapEncryption;
  memcpy(req.client_guid, client_guid_, 16);
  req.dialects = options_.dialects;
  if (req.dialects.empty()) {
    return Status::InvalidArgument("no dialect to offer");
  }
  if (Contains(req.dialects, kDialect311)) {
    NegotiateContexts& c = req.contexts;
    c.has_preauth = true;
    c.hash_algorithms = {kHashSha512};
    c.salt.resize(32);
    RAND_bytes(c.salt.data(), 32);
    if (!options_.ciphers.empty()) {
      c.has_encryption = true;
      for (CipherId id : options_.ciphers) {
        c.ciphers.push_back(static_cast<uint16_t>(id));
      }
    }
    if (!options_.signing_algorithms.empty()) {
      c.has_signing = true;
      for (SigningAlgorithm a : options_.signing_algorithms) {
        c.signing_algorithms.push_back(static_cast<uint16_t>(a));
      }
    }
  }
  Bytes msg = NewRequest(kSmb2Negotiate);
  EncodeNegotiateRequest(req, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  NegotiateResponse resp;
  SCA_RETURN_IF_ERROR(
      DecodeNegotiateResponse(resp_msg.data(), resp_msg.size(), &resp));
  if (!Contains(req.dialects, resp.dialect)) {
    return Status::ProtocolError(std::string("server chose dialect ") +
                                 DialectName(resp.dialect) +
                                 ", which was not offered");
  }
  info_.dialect = resp.dialect;
  info_.server_security_mode = resp.security_mode;
  info_.server_capabilities = resp.capabilities;
  info_.max_read_size = resp.max_read_size;
  info_.max_write_size = resp.max_write_size;
  // Default algorithms per dialect; 3.1.1 contexts may change them.
  info_.signing_algorithm = IsSmb3(resp.dialect)
                                ? SigningAlgorithm::kAesCmac
                                : SigningAlgorithm::kHmacSha256;
  if (resp.dialect == kDialect300 || resp.dialect == kDialect302) {
    if (resp.capabilities & kCapEncryption) {
      info_.cipher_negotiated = true;
      info_.cipher = CipherId::kAes128Ccm;
    }
  }
  if (resp.dialect == kDialect311) {
    const NegotiateContexts& c = resp.contexts;
    if (!c.has_preauth || c.hash_algorithms.size() != 1 ||
        c.hash_algorithms[0] != kHashSha512) {
      return Status::ProtocolError(
          "3.1.1 NEGOTIATE response without exactly SHA-512 preauth "
          "integrity");
    }
    if (c.has_encryption) {
      if (c.ciphers.size() != 1) {
        return Status::ProtocolError("server answered with " +
                                     std::to_string(c.ciphers.size()) +
                                     " ciphers, not one");
      }
      if (c.ciphers[0] != 0) {
        bool offered = false;
        for (CipherId id : options_.ciphers) {
          offered |= static_cast<uint16_t>(id) == c.ciphers[0];
        }
        if (!offered)
          return Status::ProtocolError("server chose a cipher not offered");
        info_.cipher_negotiated = true;
        info_.cipher = static_cast<CipherId>(c.ciphers[0]);
      }
    }
    if (c.has_signing) {
      if (c.signing_algorithms.size() != 1) {
        return Status::ProtocolError(
            "server answered with " +
            std::to_string(c.signing_algorithms.size()) +
            " signing algorithms, not one");
      }
      bool offered = false;
      for (SigningAlgorithm a : options_.signing_algorithms) {
        offered |= static_cast<uint16_t>(a) == c.signing_algorithms[0];
      }
      if (!offered) {
        return Status::ProtocolError(
            "server chose a signing algorithm not offered");
      }
      info_.signing_negotiated = true;
      info_.signing_algorithm =
          static_cast<SigningAlgorithm>(c.signing_algorithms[0]);
    }
    if (!connection_hash_.status().ok()) {
      return Status::FromSigning(connection_hash_.status(), "preauth hash");
    }
    connection_hash_.Update(msg.data(), msg.size());
    connection_hash_.Update(resp_msg.data(), resp_msg.size());
  }
  if (options_.seal && !info_.cipher_negotiated) {
    return Status::Unsupported(
        std::string("encryption asked for, but dialect ") +
        DialectName(info_.dialect) + " with this server has no cipher");
  }
  return Status::Ok();
}

Status Smb2Client::SetUpSessionCrypto(const uint8_t* session_key,
                                      const uint8_t* preauth_hash) {
  signing::Status s;
  if (!IsSmb3(info_.dialect)) {
    s = signing::Smb2Signer::Create(info_.signing_algorithm, session_key, 16,
                                    &signer_);
    if (!s.ok()) return Status::FromSigning(s, "setting up signing");
    return Status::Ok();
  }
  size_t cipher_key_len = 16;
  if (info_.cipher_negotiated && (info_.cipher == CipherId::kAes256Ccm ||
                                  info_.cipher == CipherId::kAes256Gcm)) {
    cipher_key_len = 32;
  }
  signing::Smb3SessionKeys keys;
  s = signing::DeriveSmb3SessionKeys(
      static_cast<signing::Dialect>(info_.dialect), session_key, 16,
      preauth_hash, cipher_key_len, &keys);
  if (!s.ok()) return Status::FromSigning(s, "deriving session keys");
  s = signing::Smb2Signer::Create(info_.signing_algorithm, keys.signing, 16,
                                  &signer_);
  if (!s.ok()) return Status::FromSigning(s, "setting up signing");
  if (info_.cipher_negotiated) {
    s = signing::Smb3Cipher::Create(info_.cipher, keys.c2s_cipher,
                                    keys.cipher_key_len, &encryptor_);
    if (s.ok()) {
      s = signing::Smb3Cipher::Create(info_.cipher, keys.s2c_cipher,
                                      keys.cipher_key_len, &decryptor_);
    }
    if (!s.ok()) return Status::FromSigning(s, "setting up encryption");
  }
  return Status::Ok();
}

Status Smb2Client::SessionSetup(uint64_t previous_session_id) {
  NtlmsspClient ntlm(options_.credentials);
  signing::PreauthHash session_hash;
  session_hash.CopyFrom(connection_hash_);
  bool smb311 = info_.dialect == kDialect311;
  info_.session_id = 0;
  info_.signing_active = false;
  info_.encrypting = false;
  signer_.reset();

  Bytes token = SpnegoInitToken(ntlm.Negotiate());
  for (int round = 0; round < 2; ++round) {
    SessionSetupRequest req;
    req.security_mode = options_.require_signing
                            ? (kSigningEnabled | kSigningRequired)
                            : kSigningEnabled;
    req.capabilities = 0;
    req.previous_session_id = previous_session_id;
    req.security_buffer = token;
    Bytes msg = NewRequest(kSmb2SessionSetup);
    EncodeSessionSetupRequest(req, &msg);
    Bytes resp_msg;
    Smb2Header rh;
    preauth_sink_ = smb311 ? &session_hash : nullptr;
    Status st = Transact(&msg, &resp_msg, &rh, {kStatusMoreProcessingRequired});
    preauth_sink_ = nullptr;
    if (!st.ok()) return st;
    SessionSetupResponse resp;
    SCA_RETURN_IF_ERROR(
        DecodeSessionSetupResponse(resp_msg.data(), resp_msg.size(), &resp));
    info_.session_id = rh.session_id;
    SpnegoReply reply;
    if (!resp.security_buffer.empty()) {
      SCA_RETURN_IF_ERROR(ParseSpnegoReply(
          resp.security_buffer.data(), resp.security_buffer.size(), &reply));
    }
    if (rh.status == kStatusMoreProcessingRequired) {
      if (round != 0) {
        return Status::ProtocolError("session setup wants a third round");
      }
      if (smb311) session_hash.Update(resp_msg.data(), resp_msg.size());
      Bytes auth;
      SCA_RETURN_IF_ERROR(ntlm.Authenticate(
          reply.response_token.data(), reply.response_token.size(), &auth));
      token = SpnegoResponseToken(auth);
      continue;
    }
    // STATUS_SUCCESS.
    if (reply.neg_state == 2) {
      return Status::AuthFailed("SPNEGO rejected the authentication");
    }
    info_.session_flags = resp.session_flags;
    if (resp.session_flags & (kSessionFlagIsGuest | kSessionFlagIsNull)) {
      return Status::AuthFailed(
          "the server made this a guest/anonymous session");
    }
    SCA_RETURN_IF_ERROR(SetUpSessionCrypto(
        ntlm.session_key(), smb311 ? session_hash.value() : nullptr));
    bool response_signed = rh.flags & kFlagSigned;
    if (response_signed) {
      if (tamper_next_) {
        tamper_next_ = false;
        resp_msg[resp_msg.size() - 1] ^= 0x01;
      }
      signing::Status s = signer_->VerifyPdu(resp_msg.data(), resp_msg.size());
      if (!s.ok()) {
        return Status::FromSigning(
            s, "verifying the final SESSION_SETUP response signature");
      }
      ++info_.signed_responses_verified;
    } else if (IsSmb3(info_.dialect) && options_.require_signing) {
      return Status::AuthFailed("final SESSION_SETUP response is not signed");
    }
    info_.signing_active = true;
    bool server_wants_encryption = resp.session_flags & kSessionFlagEncryptData;
    if (options_.seal || server_wants_encryption) {
      if (!encryptor_) {
        return Status::Unsupported(
            "encryption needed but no cipher negotiated");
      }
      info_.encrypting = true;
    }
    return Status::Ok();
  }
  return Status::ProtocolError("session setup did not finish");
}

Status Smb2Client::TreeConnect() {
  std::string unc = "\\\\" + options_.host + "\\" + options_.share;
  Bytes msg = NewRequest(kSmb2TreeConnect);
  EncodeTreeConnectRequest(unc, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  info_.tree_id = 0;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  SCA_RETURN_IF_ERROR(
      DecodeTreeConnectResponse(resp_msg.data(), resp_msg.size(), &info_.tree));
  info_.tree_id = rh.tree_id;
  if ((info_.tree.share_flags & kShareFlagEncryptData) && !info_.encrypting) {
    if (!encryptor_) {
      return Status::Unsupported("share demands encryption; no cipher");
    }
    info_.encrypting = true;
  }
  return Status::Ok();
}

Status Smb2Client::TreeDisconnect() {
  Bytes msg = NewRequest(kSmb2TreeDisconnect);
  EncodeEmptyBody(&msg);
  Bytes resp;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp, &rh));
  return DecodeEmptyBody(resp.data(), resp.size());
}

Status Smb2Client::Logoff() {
  Bytes msg = NewRequest(kSmb2Logoff);
  EncodeEmptyBody(&msg);
  Bytes resp;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp, &rh));
  return DecodeEmptyBody(resp.data(), resp.size());
}

Status Smb2Client::Echo() {
  Bytes msg = NewRequest(kSmb2Echo);
  EncodeEmptyBody(&msg);
  Bytes resp;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp, &rh));
  return DecodeEmptyBody(resp.data(), resp.size());
}

Status Smb2Client::Create(const CreateRequest& request, OpenResult* result) {
  uint64_t message_id = 0;
  SCA_RETURN_IF_ERROR(CreateSend(request, &message_id));
  return CreateReceive(message_id, request, result);
}

Status Smb2Client::CreateSend(const CreateRequest& request,
                              uint64_t* message_id) {
  Bytes msg = NewRequest(kSmb2Create);
  EncodeCreateRequest(request, &msg);
  return SendRequest(&msg, message_id);
}

Status Smb2Client::CreateReceive(uint64_t message_id,
                                 const CreateRequest& request,
                                 OpenResult* result) {
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(ReceiveResponse(message_id, kSmb2Create, &resp_msg, &rh));
  *result = OpenResult();
  SCA_RETURN_IF_ERROR(DecodeCreateResponse(resp_msg.data(), resp_msg.size(),
                                           &result->response));
  const CreateContext* dh2q = FindContext(result->response.contexts, "DH2Q");
  if (dh2q != nullptr) {
    DurableV2Response d;
    SCA_RETURN_IF_ERROR(ParseDh2qResponse(dh2q->data, &d));
    result->durable = true;
    result->persistent = d.flags & kDhandleFlagPersistent;
    result->durable_timeout_ms = d.timeout_ms;
  }
  // A DH2C reconnect answers without DH2Q: the handle stays what it was.
  if (FindContext(request.contexts, "DH2C") != nullptr) result->durable = true;
  const CreateContext* lease = FindContext(result->response.contexts, "RqLs");
  if (lease != nullptr && lease->data.size() == 52) {
    LeaseV2 l;
    SCA_RETURN_IF_ERROR(ParseLeaseV2(lease->data, &l));
    result->lease_granted = true;
    result->lease_state = l.state;
  }
  return Status::Ok();
}

Status Smb2Client::Read(const FileId& file_id, uint64_t offset, uint32_t length,
                        Bytes* data) {
  ReadRequest req;
  req.length = length;
  req.offset = offset;
  req.file_id = file_id;
  Bytes msg = NewRequest(kSmb2Read);
  EncodeReadRequest(req, &msg);
  PutLe16(msg.data() + 6, CreditCharge(length));
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh, {kStatusEndOfFile}));
  data->clear();
  if (rh.status == kStatusEndOfFile) return Status::Ok();
  const uint8_t* p;
  uint32_t n;
  SCA_RETURN_IF_ERROR(
      DecodeReadResponse(resp_msg.data(), resp_msg.size(), &p, &n));
  if (n > length) {
    return Status::ProtocolError("READ returned more than was asked for");
  }
  data->assign(p, p + n);
  return Status::Ok();
}

Status Smb2Client::Write(const FileId& file_id, uint64_t offset,
                         const uint8_t* data, uint32_t length,
                         uint32_t* written) {
  WriteRequest req;
  req.offset = offset;
  req.file_id = file_id;
  req.data = data;
  req.length = length;
  Bytes msg = NewRequest(kSmb2Write);
  EncodeWriteRequest(req, &msg);
  PutLe16(msg.data() + 6, CreditCharge(length));
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  SCA_RETURN_IF_ERROR(
      DecodeWriteResponse(resp_msg.data(), resp_msg.size(), written));
  if (*written > length) {
    return Status::ProtocolError("WRITE reports more bytes than were sent");
  }
  return Status::Ok();
}

namespace {

// The WRITE request of WriteReplay()/WriteSend(): ChannelSequence in the
// first two bytes of the header's Status field, the replay flag in Flags.
void MarkReplay(uint16_t channel_sequence, bool replay, Bytes* msg) {
  PutLe16(msg->data() + 8, channel_sequence);
  if (replay) {
    PutLe32(msg->data() + 16, GetLe32(msg->data() + 16) | kFlagReplayOperation);
  }
}

}  // namespace

Status Smb2Client::WriteReplay(const FileId& file_id, uint64_t offset,
                               const uint8_t* data, uint32_t length,
                               uint16_t channel_sequence, bool replay,
                               uint32_t* written) {
  WriteRequest req;
  req.offset = offset;
  req.file_id = file_id;
  req.data = data;
  req.length = length;
  Bytes msg = NewRequest(kSmb2Write);
  EncodeWriteRequest(req, &msg);
  PutLe16(msg.data() + 6, CreditCharge(length));
  MarkReplay(channel_sequence, replay, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  SCA_RETURN_IF_ERROR(
      DecodeWriteResponse(resp_msg.data(), resp_msg.size(), written));
  if (*written > length) {
    return Status::ProtocolError("WRITE reports more bytes than were sent");
  }
  return Status::Ok();
}

Status Smb2Client::WriteSend(const FileId& file_id, uint64_t offset,
                             const uint8_t* data, uint32_t length,
                             uint16_t channel_sequence, bool replay) {
  WriteRequest req;
  req.offset = offset;
  req.file_id = file_id;
  req.data = data;
  req.length = length;
  Bytes msg = NewRequest(kSmb2Write);
  EncodeWriteRequest(req, &msg);
  PutLe16(msg.data() + 6, CreditCharge(length));
  MarkReplay(channel_sequence, replay, &msg);
  uint64_t message_id = 0;
  return SendRequest(&msg, &message_id);
}

Status Smb2Client::Lock(const FileId& file_id,
                        const std::vector<LockElement>& locks,
                        uint32_t lock_sequence) {
  Bytes msg = NewRequest(kSmb2Lock);
  EncodeLockRequest(file_id, lock_sequence, locks, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  return DecodeLockResponse(resp_msg.data(), resp_msg.size());
}

Status Smb2Client::WaitLeaseBreak(LeaseBreak* out) {
  while (true) {
    if (!notifications_.empty()) {
      Bytes frame = notifications_.front();
      notifications_.erase(notifications_.begin());
      Smb2Header h;
      SCA_RETURN_IF_ERROR(DecodeHeader(frame.data(), frame.size(), &h));
      if (h.command != kSmb2OplockBreak) continue;
      if (frame.size() == kSmb2HeaderSize + 24) continue;  // an oplock's
      return DecodeLeaseBreakNotification(frame.data(), frame.size(), out);
    }
    if (!transport_) return Status::IoError("not connected");
    Bytes frame;
    SCA_RETURN_IF_ERROR(transport_->Recv(&frame));
    bool encrypted = false;
    SCA_RETURN_IF_ERROR(Unprotect(&frame, &encrypted));
    Smb2Header h;
    SCA_RETURN_IF_ERROR(DecodeHeader(frame.data(), frame.size(), &h));
    if (h.message_id != kNotificationMessageId) {
      return Status::ProtocolError(
          "a response (message id " + std::to_string(h.message_id) +
          ") while waiting for a lease break, with no request outstanding");
    }
    notifications_.push_back(frame);
  }
}

Status Smb2Client::LeaseBreakAck(const uint8_t key[16], uint32_t state,
                                 uint32_t* granted) {
  Bytes msg = NewRequest(kSmb2OplockBreak);
  EncodeLeaseBreakAck(key, state, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  return DecodeLeaseBreakResponse(resp_msg.data(), resp_msg.size(), granted);
}

Status Smb2Client::SetDeleteOnClose(const FileId& file_id,
                                    bool delete_on_close) {
  Bytes msg = NewRequest(kSmb2SetInfo);
  Bytes buffer(1, delete_on_close ? 1 : 0);  // DeletePending
  EncodeSetInfoFileRequest(file_id, kFileDispositionInformation, buffer, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  return DecodeSetInfoResponse(resp_msg.data(), resp_msg.size());
}

Status Smb2Client::Close(const FileId& file_id) {
  Bytes msg = NewRequest(kSmb2Close);
  EncodeCloseRequest(file_id, &msg);
  Bytes resp_msg;
  Smb2Header rh;
  SCA_RETURN_IF_ERROR(Transact(&msg, &resp_msg, &rh));
  return DecodeCloseResponse(resp_msg.data(), resp_msg.size());
}

}  // namespace smbclient3
}  // namespace samba_ca
