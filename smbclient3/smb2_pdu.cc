// Copyright (C) samba-ca authors. GPLv3+.

#include "smb2_pdu.h"

#include <cstdio>
#include <cstring>

namespace samba_ca {
namespace smbclient3 {

namespace {

const uint8_t kSmb2ProtocolId[4] = {0xFE, 'S', 'M', 'B'};

std::string Hex16(uint16_t v) {
  char buf[8];
  snprintf(buf, sizeof(buf), "0x%04x", v);
  return buf;
}

// Checks the StructureSize right after the header.
Status CheckBody(const uint8_t* msg, size_t len, uint16_t structure_size,
                 size_t fixed_size, const char* what) {
  if (len < kSmb2HeaderSize + fixed_size) {
    return Status::Truncated(std::string(what) + ": body shorter than " +
                             std::to_string(fixed_size) + " bytes");
  }
  uint16_t got = GetLe16(msg + kSmb2HeaderSize);
  if (got != structure_size) {
    return Status::Malformed(std::string(what) + ": StructureSize " +
                             std::to_string(got) + ", expected " +
                             std::to_string(structure_size));
  }
  return Status::Ok();
}

// Copies msg[offset, offset + length) into *out after checking the range.
// A zero length is accepted with any offset.
Status CopyBuffer(const uint8_t* msg, size_t len, uint32_t offset,
                  uint32_t length, Bytes* out, const char* what) {
  out->clear();
  if (length == 0) return Status::Ok();
  if (!RangeInside(offset, length, len)) {
    return Status::Malformed(std::string(what) + ": buffer [" +
                             std::to_string(offset) + ", +" +
                             std::to_string(length) + ") overruns the " +
                             std::to_string(len) + "-byte message");
  }
  out->assign(msg + offset, msg + offset + length);
  return Status::Ok();
}

void EncodeU16List(const std::vector<uint16_t>& v, Writer* w) {
  for (uint16_t x : v) w->U16(x);
}

// Appends one negotiate context; `body` is its Data.
void AppendNegotiateContext(uint16_t type, const Bytes& body, Bytes* msg) {
  Writer w(msg);
  w.AlignTo(8);
  w.U16(type);
  w.U16(static_cast<uint16_t>(body.size()));
  w.U32(0);
  w.Raw(body);
}

Status ReadU16List(Reader* r, uint16_t count, std::vector<uint16_t>* out,
                   const char* what) {
  out->clear();
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t v;
    if (!r->U16(&v)) {
      return Status::Malformed(std::string(what) + ": " +
                               std::to_string(count) +
                               " entries do not fit in the context data");
    }
    out->push_back(v);
  }
  return Status::Ok();
}

Status DecodeOneContext(uint16_t type, const uint8_t* data, uint16_t len,
                        NegotiateContexts* out) {
  Reader r(data, len);
  switch (type) {
    case kPreauthIntegrityCapabilities: {
      uint16_t count, salt_len;
      if (!r.U16(&count) || !r.U16(&salt_len)) {
        return Status::Truncated("preauth integrity context shorter than 4");
      }
      if (count == 0) {
        return Status::Malformed("preauth integrity context without hash");
      }
      SCA_RETURN_IF_ERROR(
          ReadU16List(&r, count, &out->hash_algorithms, "preauth context"));
      out->salt.resize(salt_len);
      if (!r.Raw(out->salt.data(), salt_len)) {
        return Status::Malformed("preauth context: salt overruns the data");
      }
      out->has_preauth = true;
      return Status::Ok();
    }
    case kEncryptionCapabilities: {
      uint16_t count;
      if (!r.U16(&count)) {
        return Status::Truncated("encryption context shorter than 2");
      }
      SCA_RETURN_IF_ERROR(
          ReadU16List(&r, count, &out->ciphers, "encryption context"));
      out->has_encryption = true;
      return Status::Ok();
    }
    case kSigningCapabilities: {
      uint16_t count;
      if (!r.U16(&count)) {
        return Status::Truncated("signing context shorter than 2");
      }
      if (count == 0) return Status::Malformed("signing context is empty");
      SCA_RETURN_IF_ERROR(
          ReadU16List(&r, count, &out->signing_algorithms, "signing context"));
      out->has_signing = true;
      return Status::Ok();
    }
    default:
      out->unknown_types.push_back(type);
      return Status::Ok();
  }
}

void PutName(const std::string& name, Bytes* out) {
  std::string n = name;
  for (char& c : n) {
    if (c == '/') c = '\\';
  }
  Utf8ToUtf16le(n, out);
}

}  // namespace

const char* CommandName(uint16_t command) {
  switch (command) {
    case kSmb2Negotiate:
      return "NEGOTIATE";
    case kSmb2SessionSetup:
      return "SESSION_SETUP";
    case kSmb2Logoff:
      return "LOGOFF";
    case kSmb2TreeConnect:
      return "TREE_CONNECT";
    case kSmb2TreeDisconnect:
      return "TREE_DISCONNECT";
    case kSmb2Create:
      return "CREATE";
    case kSmb2Close:
      return "CLOSE";
    case kSmb2Flush:
      return "FLUSH";
    case kSmb2Read:
      return "READ";
    case kSmb2Write:
      return "WRITE";
    case kSmb2Lock:
      return "LOCK";
    case kSmb2Ioctl:
      return "IOCTL";
    case kSmb2Cancel:
      return "CANCEL";
    case kSmb2Echo:
      return "ECHO";
    case kSmb2SetInfo:
      return "SET_INFO";
    case kSmb2OplockBreak:
      return "OPLOCK_BREAK";
    default:
      return "UNKNOWN";
  }
}

const char* NtStatusName(uint32_t status) {
  switch (status) {
    case kStatusSuccess:
      return "STATUS_SUCCESS";
    case kStatusPending:
      return "STATUS_PENDING";
    case kStatusMoreProcessingRequired:
      return "STATUS_MORE_PROCESSING_REQUIRED";
    case kStatusEndOfFile:
      return "STATUS_END_OF_FILE";
    case kStatusAccessDenied:
      return "STATUS_ACCESS_DENIED";
    case kStatusLogonFailure:
      return "STATUS_LOGON_FAILURE";
    case kStatusObjectNameNotFound:
      return "STATUS_OBJECT_NAME_NOT_FOUND";
    case kStatusLockNotGranted:
      return "STATUS_LOCK_NOT_GRANTED";
    case kStatusFileClosed:
      return "STATUS_FILE_CLOSED";
    case kStatusNetworkSessionExpired:
      return "STATUS_NETWORK_SESSION_EXPIRED";
    case 0xC000000D:
      return "STATUS_INVALID_PARAMETER";
    case 0xC00000BB:
      return "STATUS_NOT_SUPPORTED";
    case 0xC00000CC:
      return "STATUS_BAD_NETWORK_NAME";
    case 0xC0000043:
      return "STATUS_SHARING_VIOLATION";
    case 0xC0000035:
      return "STATUS_OBJECT_NAME_COLLISION";
    case 0xC0000203:
      return "STATUS_USER_SESSION_DELETED";
    default:
      return "NTSTATUS";
  }
}

const char* DialectName(uint16_t dialect) {
  switch (dialect) {
    case kDialect202:
      return "2.0.2";
    case kDialect210:
      return "2.1";
    case kDialect300:
      return "3.0";
    case kDialect302:
      return "3.0.2";
    case kDialect311:
      return "3.1.1";
    default:
      return nullptr;
  }
}

Status ParseDialect(const std::string& text, uint16_t* dialect) {
  static const uint16_t kAll[] = {kDialect202, kDialect210, kDialect300,
                                  kDialect302, kDialect311};
  for (uint16_t d : kAll) {
    if (text == DialectName(d)) {
      *dialect = d;
      return Status::Ok();
    }
  }
  return Status::Unsupported("unknown dialect '" + text +
                             "' (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1)");
}

bool IsSmb3(uint16_t dialect) {
  return dialect == kDialect300 || dialect == kDialect302 ||
         dialect == kDialect311;
}

void EncodeHeader(const Smb2Header& h, Bytes* msg) {
  Writer w(msg);
  w.Raw(kSmb2ProtocolId, 4);
  w.U16(64);
  w.U16(h.credit_charge);
  w.U32(h.status);
  w.U16(h.command);
  w.U16(h.credits);
  w.U32(h.flags);
  w.U32(h.next_command);
  w.U64(h.message_id);
  if (h.flags & kFlagAsyncCommand) {
    w.U64(h.async_id);
  } else {
    w.U32(0);
    w.U32(h.tree_id);
  }
  w.U64(h.session_id);
  w.Raw(h.signature, 16);
}

Status DecodeHeader(const uint8_t* msg, size_t len, Smb2Header* h) {
  if (len < kSmb2HeaderSize) {
    return Status::Truncated("SMB2 header: " + std::to_string(len) +
                             " bytes, need 64");
  }
  if (memcmp(msg, kSmb2ProtocolId, 4) != 0) {
    return Status::Malformed("SMB2 header: ProtocolId is not 0xFE 'SMB'");
  }
  Reader r(msg + 4, kSmb2HeaderSize - 4);
  uint16_t structure_size;
  r.U16(&structure_size);
  if (structure_size != 64) {
    return Status::Malformed("SMB2 header: StructureSize " +
                             std::to_string(structure_size));
  }
  r.U16(&h->credit_charge);
  r.U32(&h->status);
  r.U16(&h->command);
  r.U16(&h->credits);
  r.U32(&h->flags);
  r.U32(&h->next_command);
  r.U64(&h->message_id);
  if (h->flags & kFlagAsyncCommand) {
    r.U64(&h->async_id);
    h->tree_id = 0;
  } else {
    uint32_t reserved;
    r.U32(&reserved);
    r.U32(&h->tree_id);
    h->async_id = 0;
  }
  r.U64(&h->session_id);
  r.Raw(h->signature, 16);
  return Status::Ok();
}

// --- NEGOTIATE ---------------------------------------------------------

void EncodeNegotiateContexts(const NegotiateContexts& c, Bytes* msg) {
  if (c.has_preauth) {
    Bytes body;
    Writer w(&body);
    w.U16(static_cast<uint16_t>(c.hash_algorithms.size()));
    w.U16(static_cast<uint16_t>(c.salt.size()));
    EncodeU16List(c.hash_algorithms, &w);
    w.Raw(c.salt);
    AppendNegotiateContext(kPreauthIntegrityCapabilities, body, msg);
  }
  if (c.has_encryption) {
    Bytes body;
    Writer w(&body);
    w.U16(static_cast<uint16_t>(c.ciphers.size()));
    EncodeU16List(c.ciphers, &w);
    AppendNegotiateContext(kEncryptionCapabilities, body, msg);
  }
  if (c.has_signing) {
    Bytes body;
    Writer w(&body);
    w.U16(static_cast<uint16_t>(c.signing_algorithms.size()));
    EncodeU16List(c.signing_algorithms, &w);
    AppendNegotiateContext(kSigningCapabilities, body, msg);
  }
}

Status DecodeNegotiateContexts(const uint8_t* msg, size_t len, size_t offset,
                               uint16_t count, NegotiateContexts* out) {
  *out = NegotiateContexts();
  if (count == 0) return Status::Ok();
  if (offset % 8 != 0) {
    return Status::Malformed("NegotiateContextOffset " +
                             std::to_string(offset) + " is not 8-aligned");
  }
  size_t pos = offset;
  for (uint16_t i = 0; i < count; ++i) {
    if (i > 0) pos = (pos + 7) & ~static_cast<size_t>(7);
    if (!RangeInside(pos, 8, len)) {
      return Status::Malformed(
          "negotiate context list overruns the packet: context " +
          std::to_string(i) + " of " + std::to_string(count) + " at offset " +
          std::to_string(pos) + " of a " + std::to_string(len) +
          "-byte message");
    }
    uint16_t type = GetLe16(msg + pos);
    uint16_t data_len = GetLe16(msg + pos + 2);
    if (!RangeInside(pos + 8, data_len, len)) {
      return Status::Malformed(
          "negotiate context list overruns the packet: context " +
          std::to_string(i) + " (type " + Hex16(type) + ") DataLength " +
          std::to_string(data_len) + " passes the end");
    }
    bool dup = (type == kPreauthIntegrityCapabilities && out->has_preauth) ||
               (type == kEncryptionCapabilities && out->has_encryption) ||
               (type == kSigningCapabilities && out->has_signing);
    if (dup) {
      return Status::Malformed("negotiate context type " + Hex16(type) +
                               " appears twice");
    }
    SCA_RETURN_IF_ERROR(DecodeOneContext(type, msg + pos + 8, data_len, out));
    pos += 8 + data_len;
  }
  return Status::Ok();
}

void EncodeNegotiateRequest(const NegotiateRequest& req, Bytes* msg) {
  Writer w(msg);
  bool smb311 = false;
  for (uint16_t d : req.dialects) smb311 |= (d == kDialect311);
  w.U16(36);
  w.U16(static_cast<uint16_t>(req.dialects.size()));
  w.U16(req.security_mode);
  w.U16(0);
  w.U32(req.capabilities);
  w.Raw(req.client_guid, 16);
  size_t context_offset_pos = w.size();
  w.U32(0);  // NegotiateContextOffset (or ClientStartTime)
  w.U16(smb311 ? req.contexts.count() : 0);
  w.U16(0);
  EncodeU16List(req.dialects, &w);
  if (smb311 && req.contexts.count() > 0) {
    w.AlignTo(8);
    w.Patch32(context_offset_pos, static_cast<uint32_t>(w.size()));
    EncodeNegotiateContexts(req.contexts, msg);
  }
}

Status DecodeNegotiateRequest(const uint8_t* msg, size_t len,
                              NegotiateRequest* req) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 36, 36, "NEGOTIATE request"));
  Reader r(msg + kSmb2HeaderSize + 2, len - kSmb2HeaderSize - 2);
  uint16_t dialect_count = 0, reserved = 0, context_count = 0, reserved2 = 0;
  uint32_t context_offset = 0;
  r.U16(&dialect_count);
  r.U16(&req->security_mode);
  r.U16(&reserved);
  r.U32(&req->capabilities);
  r.Raw(req->client_guid, 16);
  r.U32(&context_offset);
  r.U16(&context_count);
  r.U16(&reserved2);
  if (dialect_count == 0) {
    return Status::Malformed("NEGOTIATE request: DialectCount is 0");
  }
  SCA_RETURN_IF_ERROR(
      ReadU16List(&r, dialect_count, &req->dialects, "NEGOTIATE dialects"));
  bool smb311 = false;
  for (uint16_t d : req->dialects) smb311 |= (d == kDialect311);
  if (!smb311) context_count = 0;
  return DecodeNegotiateContexts(msg, len, context_offset, context_count,
                                 &req->contexts);
}

void EncodeNegotiateResponse(const NegotiateResponse& resp, Bytes* msg) {
  Writer w(msg);
  bool smb311 = resp.dialect == kDialect311;
  w.U16(65);
  w.U16(resp.security_mode);
  w.U16(resp.dialect);
  w.U16(smb311 ? resp.contexts.count() : 0);
  w.Raw(resp.server_guid, 16);
  w.U32(resp.capabilities);
  w.U32(resp.max_transact_size);
  w.U32(resp.max_read_size);
  w.U32(resp.max_write_size);
  w.U64(resp.system_time);
  w.U64(resp.server_start_time);
  w.U16(static_cast<uint16_t>(
      resp.security_buffer.empty() ? 0 : kSmb2HeaderSize + 64));
  w.U16(static_cast<uint16_t>(resp.security_buffer.size()));
  size_t context_offset_pos = w.size();
  w.U32(0);
  w.Raw(resp.security_buffer);
  if (smb311 && resp.contexts.count() > 0) {
    w.AlignTo(8);
    w.Patch32(context_offset_pos, static_cast<uint32_t>(w.size()));
    EncodeNegotiateContexts(resp.contexts, msg);
  }
}

Status DecodeNegotiateResponse(const uint8_t* msg, size_t len,
                               NegotiateResponse* resp) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 65, 64, "NEGOTIATE response"));
  Reader r(msg + kSmb2HeaderSize + 2, len - kSmb2HeaderSize - 2);
  uint16_t context_count = 0, sec_offset = 0, sec_len = 0;
  uint32_t context_offset = 0;
  r.U16(&resp->security_mode);
  r.U16(&resp->dialect);
  r.U16(&context_count);
  r.Raw(resp->server_guid, 16);
  r.U32(&resp->capabilities);
  r.U32(&resp->max_transact_size);
  r.U32(&resp->max_read_size);
  r.U32(&resp->max_write_size);
  r.U64(&resp->system_time);
  r.U64(&resp->server_start_time);
  r.U16(&sec_offset);
  r.U16(&sec_len);
  r.U32(&context_offset);
  if (DialectName(resp->dialect) == nullptr) {
    return Status::Unsupported("NEGOTIATE response: unknown dialect " +
                               Hex16(resp->dialect));
  }
  SCA_RETURN_IF_ERROR(CopyBuffer(msg, len, sec_offset, sec_len,
                                 &resp->security_buffer,
                                 "NEGOTIATE response security buffer"));
  if (resp->dialect != kDialect311) {
    resp->contexts = NegotiateContexts();
    return Status::Ok();
  }
  return DecodeNegotiateContexts(msg, len, context_offset, context_count,
                                 &resp->contexts);
}

// --- SESSION_SETUP -----------------------------------------------------

void EncodeSessionSetupRequest(const SessionSetupRequest& req, Bytes* msg) {
  Writer w(msg);
  w.U16(25);
  w.U8(req.flags);
  w.U8(req.security_mode);
  w.U32(req.capabilities);
  w.U32(0);  // Channel
  w.U16(static_cast<uint16_t>(kSmb2HeaderSize + 24));
  w.U16(static_cast<uint16_t>(req.security_buffer.size()));
  w.U64(req.previous_session_id);
  if (req.security_buffer.empty()) {
    w.U8(0);
  } else {
    w.Raw(req.security_buffer);
  }
}

Status DecodeSessionSetupResponse(const uint8_t* msg, size_t len,
                                  SessionSetupResponse* resp) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 9, 8, "SESSION_SETUP response"));
  const uint8_t* b = msg + kSmb2HeaderSize;
  resp->session_flags = GetLe16(b + 2);
  return CopyBuffer(msg, len, GetLe16(b + 4), GetLe16(b + 6),
                    &resp->security_buffer,
                    "SESSION_SETUP response security buffer");
}

void EncodeSessionSetupResponse(const SessionSetupResponse& resp, Bytes* msg) {
  Writer w(msg);
  w.U16(9);
  w.U16(resp.session_flags);
  w.U16(static_cast<uint16_t>(kSmb2HeaderSize + 8));
  w.U16(static_cast<uint16_t>(resp.security_buffer.size()));
  w.Raw(resp.security_buffer);
}

void EncodeEmptyBody(Bytes* msg) {
  Writer w(msg);
  w.U16(4);
  w.U16(0);
}

Status DecodeEmptyBody(const uint8_t* msg, size_t len) {
  return CheckBody(msg, len, 4, 4, "response");
}

// --- TREE_CONNECT ------------------------------------------------------

void EncodeTreeConnectRequest(const std::string& unc, Bytes* msg) {
  Bytes path;
  Utf8ToUtf16le(unc, &path);
  Writer w(msg);
  w.U16(9);
  w.U16(0);
  w.U16(static_cast<uint16_t>(kSmb2HeaderSize + 8));
  w.U16(static_cast<uint16_t>(path.size()));
  w.Raw(path);
}

Status DecodeTreeConnectResponse(const uint8_t* msg, size_t len,
                                 TreeConnectResponse* resp) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 16, 16, "TREE_CONNECT response"));
  const uint8_t* b = msg + kSmb2HeaderSize;
  resp->share_type = b[2];
  resp->share_flags = GetLe32(b + 4);
  resp->capabilities = GetLe32(b + 8);
  resp->maximal_access = GetLe32(b + 12);
  return Status::Ok();
}

void EncodeTreeConnectResponse(const TreeConnectResponse& resp, Bytes* msg) {
  Writer w(msg);
  w.U16(16);
  w.U8(resp.share_type);
  w.U8(0);
  w.U32(resp.share_flags);
  w.U32(resp.capabilities);
  w.U32(resp.maximal_access);
}

// --- CREATE ------------------------------------------------------------

void EncodeCreateContexts(const std::vector<CreateContext>& contexts,
                          Bytes* msg) {
  Writer w(msg);
  size_t prev = 0;
  bool first = true;
  for (const CreateContext& c : contexts) {
    w.AlignTo(8);
    size_t start = w.size();
    if (!first) w.Patch32(prev, static_cast<uint32_t>(start - prev));
    first = false;
    prev = start;
    size_t name_len = c.name.size();
    size_t data_offset = c.data.empty() ? 0 : ((16 + name_len + 7) & ~7u);
    w.U32(0);  // Next
    w.U16(16);
    w.U16(static_cast<uint16_t>(name_len));
    w.U16(0);
    w.U16(static_cast<uint16_t>(data_offset));
    w.U32(static_cast<uint32_t>(c.data.size()));
    w.Raw(reinterpret_cast<const uint8_t*>(c.name.data()), name_len);
    if (!c.data.empty()) {
      w.AlignTo(8, start);
      w.Raw(c.data);
    }
  }
}

Status DecodeCreateContexts(const uint8_t* buf, size_t len,
                            std::vector<CreateContext>* out) {
  out->clear();
  size_t pos = 0;
  while (true) {
    if (!RangeInside(pos, 16, len)) {
      return Status::Malformed("create context at " + std::to_string(pos) +
                               " overruns the " + std::to_string(len) +
                               "-byte context list");
    }
    const uint8_t* c = buf + pos;
    size_t avail = len - pos;
    uint32_t next = GetLe32(c);
    uint16_t name_off = GetLe16(c + 4);
    uint16_t name_len = GetLe16(c + 6);
    uint16_t data_off = GetLe16(c + 10);
    uint32_t data_len = GetLe32(c + 12);
    size_t limit = next != 0 ? next : avail;
    if (next != 0 && (next % 8 != 0 || next > avail)) {
      return Status::Malformed("create context Next " + std::to_string(next) +
                               " is unaligned or passes the end");
    }
    if (name_len == 0 || !RangeInside(name_off, name_len, limit)) {
      return Status::Malformed("create context name overruns its context");
    }
    if (data_len != 0 && !RangeInside(data_off, data_len, limit)) {
      return Status::Malformed("create context data overruns its context");
    }
    CreateContext cc;
    cc.name.assign(reinterpret_cast<const char*>(c + name_off), name_len);
    if (data_len != 0) cc.data.assign(c + data_off, c + data_off + data_len);
    out->push_back(std::move(cc));
    if (out->size() > 256) {
      return Status::Malformed("more than 256 create contexts");
    }
    if (next == 0) return Status::Ok();
    pos += next;
  }
}

void EncodeCreateRequest(const CreateRequest& req, Bytes* msg) {
  Bytes name;
  PutName(req.name, &name);
  Writer w(msg);
  w.U16(57);
  w.U8(0);  // SecurityFlags
  w.U8(req.oplock_level);
  w.U32(req.impersonation_level);
  w.U64(0);  // SmbCreateFlags
  w.U64(0);  // Reserved
  w.U32(req.desired_access);
  w.U32(req.file_attributes);
  w.U32(req.share_access);
  w.U32(req.create_disposition);
  w.U32(req.create_options);
  w.U16(static_cast<uint16_t>(kSmb2HeaderSize + 56));
  w.U16(static_cast<uint16_t>(name.size()));
  size_t ctx_pos = w.size();
  w.U32(0);
  w.U32(0);
  if (name.empty()) {
    w.U8(0);
  } else {
    w.Raw(name);
  }
  if (!req.contexts.empty()) {
    w.AlignTo(8);
    size_t start = w.size();
    EncodeCreateContexts(req.contexts, msg);
    w.Patch32(ctx_pos, static_cast<uint32_t>(start));
    w.Patch32(ctx_pos + 4, static_cast<uint32_t>(w.size() - start));
  }
}

Status DecodeCreateRequest(const uint8_t* msg, size_t len, CreateRequest* req) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 57, 56, "CREATE request"));
  const uint8_t* b = msg + kSmb2HeaderSize;
  req->oplock_level = b[3];
  req->impersonation_level = GetLe32(b + 4);
  req->desired_access = GetLe32(b + 24);
  req->file_attributes = GetLe32(b + 28);
  req->share_access = GetLe32(b + 32);
  req->create_disposition = GetLe32(b + 36);
  req->create_options = GetLe32(b + 40);
  uint16_t name_off = GetLe16(b + 44), name_len = GetLe16(b + 46);
  uint32_t ctx_off = GetLe32(b + 48), ctx_len = GetLe32(b + 52);
  Bytes name;
  SCA_RETURN_IF_ERROR(
      CopyBuffer(msg, len, name_off, name_len, &name, "CREATE name"));
  if (!Utf16leToUtf8(name.data(), name.size(), &req->name)) {
    return Status::Malformed("CREATE name is not valid UTF-16");
  }
  req->contexts.clear();
  if (ctx_len == 0) return Status::Ok();
  if (!RangeInside(ctx_off, ctx_len, len)) {
    return Status::Malformed("CREATE request contexts overrun the message");
  }
  return DecodeCreateContexts(msg + ctx_off, ctx_len, &req->contexts);
}

Status DecodeCreateResponse(const uint8_t* msg, size_t len,
                            CreateResponse* resp) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 89, 88, "CREATE response"));
  Reader r(msg + kSmb2HeaderSize + 2, 86);
  uint32_t reserved2 = 0, ctx_off = 0, ctx_len = 0;
  r.U8(&resp->oplock_level);
  r.U8(&resp->flags);
  r.U32(&resp->create_action);
  r.U64(&resp->creation_time);
  r.U64(&resp->last_access_time);
  r.U64(&resp->last_write_time);
  r.U64(&resp->change_time);
  r.U64(&resp->allocation_size);
  r.U64(&resp->end_of_file);
  r.U32(&resp->file_attributes);
  r.U32(&reserved2);
  r.U64(&resp->file_id.persistent);
  r.U64(&resp->file_id.volatile_id);
  r.U32(&ctx_off);
  r.U32(&ctx_len);
  resp->contexts.clear();
  if (ctx_len == 0) return Status::Ok();
  if (!RangeInside(ctx_off, ctx_len, len)) {
    return Status::Malformed("CREATE response: create contexts [" +
                             std::to_string(ctx_off) + ", +" +
                             std::to_string(ctx_len) + ") overrun the message");
  }
  return DecodeCreateContexts(msg + ctx_off, ctx_len, &resp->contexts);
}

void EncodeCreateResponse(const CreateResponse& resp, Bytes* msg) {
  Writer w(msg);
  w.U16(89);
  w.U8(resp.oplock_level);
  w.U8(resp.flags);
  w.U32(resp.create_action);
  w.U64(resp.creation_time);
  w.U64(resp.last_access_time);
  w.U64(resp.last_write_time);
  w.U64(resp.change_time);
  w.U64(resp.allocation_size);
  w.U64(resp.end_of_file);
  w.U32(resp.file_attributes);
  w.U32(0);
  w.U64(resp.file_id.persistent);
  w.U64(resp.file_id.volatile_id);
  size_t ctx_pos = w.size();
  w.U32(0);
  w.U32(0);
  if (!resp.contexts.empty()) {
    w.AlignTo(8);
    size_t start = w.size();
    EncodeCreateContexts(resp.contexts, msg);
    w.Patch32(ctx_pos, static_cast<uint32_t>(start));
    w.Patch32(ctx_pos + 4, static_cast<uint32_t>(w.size() - start));
  }
}

CreateContext MakeDh2q(const DurableV2Request& req) {
  CreateContext c;
  c.name = "DH2Q";
  Writer w(&c.data);
  w.U32(req.timeout_ms);
  w.U32(req.flags);
  w.U64(0);
  w.Raw(req.create_guid, 16);
  return c;
}

CreateContext MakeDh2c(const DurableV2Reconnect& req) {
  CreateContext c;
  c.name = "DH2C";
  Writer w(&c.data);
  w.U64(req.file_id.persistent);
  w.U64(req.file_id.volatile_id);
  w.Raw(req.create_guid, 16);
  w.U32(req.flags);
  return c;
}

CreateContext MakeLeaseV2(const LeaseV2& lease) {
  CreateContext c;
  c.name = "RqLs";
  Writer w(&c.data);
  w.Raw(lease.key, 16);
  w.U32(lease.state);
  w.U32(lease.flags);
  w.U64(lease.duration);
  w.Raw(lease.parent_key, 16);
  w.U16(lease.epoch);
  w.U16(0);
  return c;
}

CreateContext MakeDh2qResponse(const DurableV2Response& resp) {
  CreateContext c;
  c.name = "DH2Q";
  Writer w(&c.data);
  w.U32(resp.timeout_ms);
  w.U32(resp.flags);
  return c;
}

Status ParseDh2q(const Bytes& data, DurableV2Request* req) {
  if (data.size() != 32) {
    return Status::Malformed("DH2Q request data is " +
                             std::to_string(data.size()) + " bytes, not 32");
  }
  req->timeout_ms = GetLe32(data.data());
  req->flags = GetLe32(data.data() + 4);
  memcpy(req->create_guid, data.data() + 16, 16);
  return Status::Ok();
}

Status ParseDh2qResponse(const Bytes& data, DurableV2Response* resp) {
  if (data.size() != 8) {
    return Status::Malformed("DH2Q response data is " +
                             std::to_string(data.size()) + " bytes, not 8");
  }
  resp->timeout_ms = GetLe32(data.data());
  resp->flags = GetLe32(data.data() + 4);
  return Status::Ok();
}

Status ParseDh2c(const Bytes& data, DurableV2Reconnect* req) {
  if (data.size() != 36) {
    return Status::Malformed("DH2C data is " + std::to_string(data.size()) +
                             " bytes, not 36");
  }
  req->file_id.persistent = GetLe64(data.data());
  req->file_id.volatile_id = GetLe64(data.data() + 8);
  memcpy(req->create_guid, data.data() + 16, 16);
  req->flags = GetLe32(data.data() + 32);
  return Status::Ok();
}

Status ParseLeaseV2(const Bytes& data, LeaseV2* lease) {
  if (data.size() != 52) {
    return Status::Malformed("lease v2 context data is " +
                             std::to_string(data.size()) + " bytes, not 52");
  }
  const uint8_t* p = data.data();
  memcpy(lease->key, p, 16);
  lease->state = GetLe32(p + 16);
  lease->flags = GetLe32(p + 20);
  lease->duration = GetLe64(p + 24);
  memcpy(lease->parent_key, p + 32, 16);
  lease->epoch = GetLe16(p + 48);
  return Status::Ok();
}

const CreateContext* FindContext(const std::vector<CreateContext>& contexts,
                                 const char* name) {
  for (const CreateContext& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// --- CLOSE, READ, WRITE, LOCK -----------------------------------------

void EncodeCloseRequest(const FileId& file_id, Bytes* msg) {
  Writer w(msg);
  w.U16(24);
  w.U16(0);
  w.U32(0);
  w.U64(file_id.persistent);
  w.U64(file_id.volatile_id);
}

Status DecodeCloseResponse(const uint8_t* msg, size_t len) {
  return CheckBody(msg, len, 60, 60, "CLOSE response");
}

void EncodeSetInfoFileRequest(const FileId& file_id, uint8_t info_class,
                              const Bytes& buffer, Bytes* msg) {
  Writer w(msg);
  w.U16(33);
  w.U8(kInfoTypeFile);
  w.U8(info_class);
  w.U32(static_cast<uint32_t>(buffer.size()));  // BufferLength
  w.U16(kSmb2HeaderSize + 32);                  // BufferOffset
  w.U16(0);                                     // Reserved
  w.U32(0);                                     // AdditionalInformation
  w.U64(file_id.persistent);
  w.U64(file_id.volatile_id);
  msg->insert(msg->end(), buffer.begin(), buffer.end());
}

Status DecodeSetInfoResponse(const uint8_t* msg, size_t len) {
  return CheckBody(msg, len, 2, 2, "SET_INFO response");
}

void EncodeReadRequest(const ReadRequest& req, Bytes* msg) {
  Writer w(msg);
  w.U16(49);
  w.U8(0);  // Padding
  w.U8(0);  // Flags
  w.U32(req.length);
  w.U64(req.offset);
  w.U64(req.file_id.persistent);
  w.U64(req.file_id.volatile_id);
  w.U32(req.minimum_count);
  w.U32(0);  // Channel
  w.U32(0);  // RemainingBytes
  w.U16(0);
  w.U16(0);
  w.U8(0);  // the one-byte Buffer
}

Status DecodeReadResponse(const uint8_t* msg, size_t len, const uint8_t** data,
                          uint32_t* data_len) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 17, 16, "READ response"));
  const uint8_t* b = msg + kSmb2HeaderSize;
  uint8_t offset = b[2];
  uint32_t length = GetLe32(b + 4);
  if (length == 0) {
    *data = msg + len;
    *data_len = 0;
    return Status::Ok();
  }
  if (offset < kSmb2HeaderSize + 16 || !RangeInside(offset, length, len)) {
    return Status::Malformed("READ response: data [" + std::to_string(offset) +
                             ", +" + std::to_string(length) +
                             ") is outside the " + std::to_string(len) +
                             "-byte message");
  }
  *data = msg + offset;
  *data_len = length;
  return Status::Ok();
}

void EncodeReadResponse(const uint8_t* data, uint32_t data_len, Bytes* msg) {
  Writer w(msg);
  w.U16(17);
  w.U8(static_cast<uint8_t>(kSmb2HeaderSize + 16));
  w.U8(0);
  w.U32(data_len);
  w.U32(0);
  w.U32(0);
  w.Raw(data, data_len);
}

void EncodeWriteRequest(const WriteRequest& req, Bytes* msg) {
  Writer w(msg);
  w.U16(49);
  w.U16(static_cast<uint16_t>(kSmb2HeaderSize + 48));
  w.U32(req.length);
  w.U64(req.offset);
  w.U64(req.file_id.persistent);
  w.U64(req.file_id.volatile_id);
  w.U32(0);  // Channel
  w.U32(0);  // RemainingBytes
  w.U16(0);
  w.U16(0);
  w.U32(req.flags);
  if (req.length == 0) {
    w.U8(0);
  } else {
    w.Raw(req.data, req.length);
  }
}

Status DecodeWriteResponse(const uint8_t* msg, size_t len, uint32_t* count) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 17, 16, "WRITE response"));
  *count = GetLe32(msg + kSmb2HeaderSize + 4);
  return Status::Ok();
}

void EncodeLockRequest(const FileId& file_id, uint32_t lock_sequence,
                       const std::vector<LockElement>& locks, Bytes* msg) {
  Writer w(msg);
  w.U16(48);
  w.U16(static_cast<uint16_t>(locks.size()));
  w.U32(lock_sequence);
  w.U64(file_id.persistent);
  w.U64(file_id.volatile_id);
  for (const LockElement& l : locks) {
    w.U64(l.offset);
    w.U64(l.length);
    w.U32(l.flags);
    w.U32(0);
  }
}

Status DecodeLockResponse(const uint8_t* msg, size_t len) {
  return CheckBody(msg, len, 4, 4, "LOCK response");
}

Status DecodeLeaseBreakNotification(const uint8_t* msg, size_t len,
                                    LeaseBreak* out) {
  SCA_RETURN_IF_ERROR(
      CheckBody(msg, len, 44, 44, "lease break notification"));
  const uint8_t* b = msg + kSmb2HeaderSize;
  out->new_epoch = GetLe16(b + 2);
  out->flags = GetLe32(b + 4);
  memcpy(out->key, b + 8, 16);
  out->current_state = GetLe32(b + 24);
  out->new_state = GetLe32(b + 28);
  return Status::Ok();
}

void EncodeLeaseBreakAck(const uint8_t key[16], uint32_t state, Bytes* msg) {
  Writer w(msg);
  w.U16(36);
  w.U16(0);  // Reserved
  w.U32(0);  // Flags
  for (int i = 0; i < 16; i++) w.U8(key[i]);
  w.U32(state);
  w.U64(0);  // LeaseDuration
}

Status DecodeLeaseBreakResponse(const uint8_t* msg, size_t len,
                                uint32_t* state) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 36, 36, "lease break response"));
  *state = GetLe32(msg + kSmb2HeaderSize + 24);
  return Status::Ok();
}

Status DecodeErrorResponse(const uint8_t* msg, size_t len, Bytes* error_data) {
  SCA_RETURN_IF_ERROR(CheckBody(msg, len, 9, 8, "ERROR response"));
  uint32_t byte_count = GetLe32(msg + kSmb2HeaderSize + 4);
  return CopyBuffer(msg, len, kSmb2HeaderSize + 8, byte_count, error_data,
                    "ERROR response data");
}

// --- UTF-8 / UTF-16LE --------------------------------------------------

bool Utf8ToUtf16le(const std::string& in, Bytes* out) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    uint32_t cp;
    uint8_t c = static_cast<uint8_t>(in[i]);
    int extra;
    if (c < 0x80) {
      cp = c;
      extra = 0;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      extra = 2;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= in.size() && extra > 0) return false;
    for (int k = 1; k <= extra; ++k) {
      uint8_t cc = static_cast<uint8_t>(in[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    i += 1 + extra;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      uint16_t hi = static_cast<uint16_t>(0xD800 + (cp >> 10));
      uint16_t lo = static_cast<uint16_t>(0xDC00 + (cp & 0x3FF));
      out->push_back(static_cast<uint8_t>(hi));
      out->push_back(static_cast<uint8_t>(hi >> 8));
      out->push_back(static_cast<uint8_t>(lo));
      out->push_back(static_cast<uint8_t>(lo >> 8));
    } else {
      out->push_back(static_cast<uint8_t>(cp));
      out->push_back(static_cast<uint8_t>(cp >> 8));
    }
  }
  return true;
}

bool Utf16leToUtf8(const uint8_t* in, size_t len, std::string* out) {
  out->clear();
  if (len % 2 != 0) return false;
  for (size_t i = 0; i < len; i += 2) {
    uint32_t cp = GetLe16(in + i);
    if (cp >= 0xD800 && cp < 0xDC00) {
      if (i + 4 > len) return false;
      uint32_t lo = GetLe16(in + i + 2);
      if (lo < 0xDC00 || lo >= 0xE000) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      i += 2;
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return false;
    }
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return true;
}

}  // namespace smbclient3
}  // namespace samba_ca
