// Copyright (C) samba-ca authors. GPLv3+.

#include "connection.h"

#include <algorithm>
#include <string>

namespace samba_ca {
namespace smbdirect {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

Status CheckConfig(const Config& c) {
  if (c.max_receive_size < kMinReceiveSize) {
    return Status(
        Code::kBadSize,
        "max receive size " + Num(c.max_receive_size) + " is below 128");
  }
  if (c.max_send_size < kMinReceiveSize) {
    return Status(Code::kBadSize,
                  "max send size " + Num(c.max_send_size) + " is below 128");
  }
  if (c.max_fragmented_recv_size < kMinFragmentedSize) {
    return Status(Code::kBadSize, "max fragmented size " +
                                      Num(c.max_fragmented_recv_size) +
                                      " is below 131072");
  }
  if (c.receive_credit_max == 0 || c.send_credit_target == 0) {
    return Status(Code::kBadSize, "credit limits must be above 0");
  }
  if (c.idle_timeout_ms == 0 || c.keepalive_response_ms == 0 ||
      c.negotiate_timeout_ms == 0) {
    return Status(Code::kBadSize, "timeouts must be above 0");
  }
  return Status::OK();
}

Connection::Connection(Role role, const Config& config, ConnectionIo* io)
    : role_(role), config_(config), io_(io) {}

Status Connection::Fail(Status reason) {
  Disconnect(reason);
  return reason;
}

void Connection::Disconnect(const Status& reason) {
  if (state_ == State::kDisconnected) {
    return;
  }
  state_ = State::kDisconnected;
  send_queue_.clear();
  reassembly_.clear();
  io_->OnDisconnected(reason);
}

Status Connection::Start(uint64_t now_ms) {
  if (state_ != State::kIdle) {
    return Status(Code::kInvalidState, "Start on a started connection");
  }
  Status s = CheckConfig(config_);
  if (!s.ok()) {
    return Fail(s);
  }
  state_ = State::kNegotiating;
  negotiate_deadline_ = now_ms + config_.negotiate_timeout_ms;
  last_receive_ms_ = now_ms;
  max_receive_size_ = config_.max_receive_size;
  // Both sides post the receive for the other's negotiate message before
  // anything is sent to them.
  s = io_->PostReceive(config_.max_receive_size);
  if (!s.ok()) {
    return Fail(s);
  }
  receive_credits_ = 1;
  if (role_ == Role::kResponder) {
    return Status::OK();
  }
  // 3.1.5.2: the initiator's first message.
  NegotiateRequest req;
  req.credits_requested = config_.send_credit_target;
  req.preferred_send_size = config_.max_send_size;
  req.max_receive_size = config_.max_receive_size;
  req.max_fragmented_size = config_.max_fragmented_recv_size;
  std::vector<uint8_t> bytes;
  EncodeNegotiateRequest(req, &bytes);
  s = io_->SendMessage(bytes.data(), bytes.size(), nullptr, 0, 0);
  if (!s.ok()) {
    return Fail(s);
  }
  return Status::OK();
}

Status Connection::OnReceive(const uint8_t* data, size_t len, uint64_t now_ms) {
  if (state_ == State::kIdle || state_ == State::kDisconnected) {
    return Status(Code::kInvalidState, "receive on a connection not running");
  }
  // A message lands in a posted receive; with none posted an RDMA NIC
  // fails it (receiver not ready).  A transport that let it through has
  // a peer that sent beyond its credits.
  if (receive_credits_ == 0) {
    return Fail(Status(Code::kCreditsExceeded,
                       "a message arrived with no receive posted for it"));
  }
  receive_credits_--;
  // 3.1.2.2: any message from the peer ends its idleness and answers an
  // outstanding keepalive.
  last_receive_ms_ = now_ms;
  keepalive_deadline_ = 0;
  Status s;
  if (state_ == State::kNegotiating) {
    s = role_ == Role::kResponder ? ReceiveNegotiateRequest(data, len)
                                  : ReceiveNegotiateResponse(data, len);
  } else {
    s = ReceiveDataTransfer(data, len);
  }
  if (!s.ok()) {
    return s;
  }
  return PumpSendQueue(now_ms);
}

Status Connection::ReceiveNegotiateRequest(const uint8_t* data, size_t len) {
  NegotiateRequestDecoder decoder(len);
  decoder.Consume(data, len);
  if (decoder.state() == DecodeState::kError) {
    // 3.1.5.6: no common version is answered with STATUS_NOT_SUPPORTED
    // before the connection ends; other failures end it at once.
    if (decoder.error().code() == Code::kBadVersion) {
      SendNegotiateResponse(kStatusNotSupported, 0);
    }
    return Fail(decoder.error());
  }
  const NegotiateRequest& req = decoder.message();
  // 3.1.5.6: the sizes and the credit target this connection keeps.
  max_receive_size_ = std::max<uint32_t>(
      kMinReceiveSize,
      std::min(config_.max_receive_size, req.preferred_send_size));
  receive_credit_target_ =
      std::min(req.credits_requested, config_.receive_credit_max);
  max_send_size_ = std::min(config_.max_send_size, req.max_receive_size);
  max_fragmented_send_size_ = req.max_fragmented_size;
  max_read_write_size_ = config_.max_read_write_size;
  // 3.1.5.6: receives and credits per 3.1.5.9; none is a failure.
  ManageCredits();
  if (receive_credits_ == 0) {
    SendNegotiateResponse(kStatusNotSupported, 0);
    return Fail(Status(Code::kTransport,
                       "no receive could be posted for the peer's credits"));
  }
  uint16_t grant =
      static_cast<uint16_t>(std::min<uint32_t>(pending_grant_, UINT16_MAX));
  Status s = SendNegotiateResponse(0, grant);
  if (!s.ok()) {
    return Fail(s);
  }
  pending_grant_ -= grant;
  peer_credits_ += grant;
  state_ = State::kEstablished;
  return Status::OK();
}

Status Connection::SendNegotiateResponse(uint32_t status, uint16_t granted) {
  NegotiateResponse resp;
  resp.credits_requested = config_.send_credit_target;
  resp.credits_granted = granted;
  resp.status = status;
  resp.max_read_write_size = config_.max_read_write_size;
  resp.preferred_send_size =
      max_send_size_ ? max_send_size_ : config_.max_send_size;
  resp.max_receive_size = config_.max_receive_size;
  resp.max_fragmented_size = config_.max_fragmented_recv_size;
  std::vector<uint8_t> bytes;
  EncodeNegotiateResponse(resp, &bytes);
  return io_->SendMessage(bytes.data(), bytes.size(), nullptr, 0, 0);
}

Status Connection::ReceiveNegotiateResponse(const uint8_t* data, size_t len) {
  NegotiateResponseDecoder decoder(len);
  decoder.Consume(data, len);
  if (decoder.state() == DecodeState::kError) {
    return Fail(decoder.error());
  }
  const NegotiateResponse& resp = decoder.message();
  // 3.1.5.7: the peer may not prefer to send more than we can receive.
  if (resp.preferred_send_size > config_.max_receive_size) {
    return Fail(
        Status(Code::kBadSize, "negotiate response: PreferredSendSize " +
                                   Num(resp.preferred_send_size) +
                                   " is above our MaxReceiveSize " +
                                   Num(config_.max_receive_size)));
  }
  receive_credit_target_ =
      std::min(resp.credits_requested, config_.receive_credit_max);
  max_receive_size_ = std::max<uint32_t>(
      kMinReceiveSize,
      std::min(config_.max_receive_size, resp.preferred_send_size));
  max_send_size_ = std::min(config_.max_send_size, resp.max_receive_size);
  max_read_write_size_ =
      std::min(config_.max_read_write_size, resp.max_read_write_size);
  max_fragmented_send_size_ = resp.max_fragmented_size;
  send_credits_ = resp.credits_granted;
  state_ = State::kEstablished;
  // Receives for the peer's messages, granted at once: the peer holds
  // no credit until we grant one.
  ManageCredits();
  GrantPromptlyIfLow();
  return Status::OK();
}

void Connection::OnDataTransferHeader(const DataTransferHeader& h) {
  current_ = h;
  current_in_place_ = false;
  in_place_data_ = nullptr;
  in_place_len_ = 0;
  if (h.data_length == 0) {
    // A message without payload only carries credits and flags.
    return;
  }
  if (reassembling_) {
    // 3.1.5.8: each fragment's DataLength + RemainingDataLength is what
    // the previous fragment said remained.
    if (uint64_t{h.data_length} + h.remaining_data_length !=
        expected_remaining_) {
      reassembly_error_ = Status(
          Code::kReassembly,
          "fragment of " + Num(h.data_length) + " bytes with " +
              Num(h.remaining_data_length) + " remaining does not continue " +
              "a message that had " + Num(expected_remaining_) + " to come");
      return;
    }
    if (reassembly_.size() + h.data_length > config_.max_fragmented_recv_size) {
      reassembly_error_ =
          Status(Code::kReassembly, "reassembly beyond " +
                                        Num(config_.max_fragmented_recv_size) +
                                        " bytes");
      return;
    }
    expected_remaining_ = h.remaining_data_length;
    return;
  }
  if (h.remaining_data_length == 0) {
    current_in_place_ = true;  // a whole message: handed up where it lies
    return;
  }
  reassembling_ = true;
  reassembly_.clear();
  reassembly_.reserve(uint64_t{h.data_length} + h.remaining_data_length);
  expected_remaining_ = h.remaining_data_length;
}

void Connection::OnPayload(const uint8_t* data, size_t len) {
  if (!reassembly_error_.ok()) {
    return;
  }
  if (current_in_place_ && in_place_data_ == nullptr) {
    in_place_data_ = data;
    in_place_len_ = len;
    return;
  }
  if (current_in_place_) {
    // The message came in more than one piece: join them after all.
    current_in_place_ = false;
    reassembly_.assign(in_place_data_, in_place_data_ + in_place_len_);
    bytes_copied_ += in_place_len_;
  }
  reassembly_.insert(reassembly_.end(), data, data + len);
  bytes_copied_ += len;
}

Status Connection::ReceiveDataTransfer(const uint8_t* data, size_t len) {
  // The peer may send only against credits we granted it (3.1.5.1).
  if (peer_credits_ == 0) {
    return Fail(Status(Code::kCreditsExceeded,
                       "the peer sent a data transfer without a credit"));
  }
  peer_credits_--;
  DataTransferLimits limits;
  limits.max_receive_size = max_receive_size_;
  limits.max_fragmented_size = config_.max_fragmented_recv_size;
  reassembly_error_ = Status::OK();
  DataTransferDecoder decoder(len, limits, this);
  decoder.Consume(data, len);
  if (decoder.state() == DecodeState::kError) {
    return Fail(decoder.error());
  }
  if (!reassembly_error_.ok()) {
    return Fail(reassembly_error_);
  }
  const DataTransferHeader& h = current_;
  if (h.data_length == 0 && h.remaining_data_length != 0) {
    return Fail(Status(Code::kReassembly, "a message without data says " +
                                              Num(h.remaining_data_length) +
                                              " bytes remain"));
  }
  // 3.1.5.8: the peer's credit target, its keepalive request, its grant.
  receive_credit_target_ =
      std::min(h.credits_requested, config_.receive_credit_max);
  if (h.flags & kFlagResponseRequested) {
    send_immediate_ = true;
  }
  if (uint64_t{send_credits_} + h.credits_granted > UINT16_MAX) {
    // Ours: a peer cannot have posted more receives than a 16-bit
    // CreditsRequested could ever have asked for.
    return Fail(Status(Code::kCreditsExceeded,
                       "the peer granted " + Num(h.credits_granted) +
                           " credits on top of " + Num(send_credits_)));
  }
  send_credits_ += h.credits_granted;
  // 3.1.5.8: the payload is appended; a message is whole when nothing
  // remains.
  if (h.data_length > 0) {
    if (current_in_place_) {
      io_->OnUpperMessage(in_place_data_, in_place_len_);
    } else if (h.remaining_data_length == 0) {
      std::vector<uint8_t> message;
      message.swap(reassembly_);
      reassembling_ = false;
      io_->OnUpperMessage(message.data(), message.size());
    }
  }
  if (state_ != State::kEstablished) {
    return Status::OK();  // the upper layer ended it while handed the data
  }
  // 3.1.5.8: with nothing queued, replenish receives; new credits are
  // granted promptly.
  if (send_queue_.empty()) {
    ManageCredits();
    GrantPromptlyIfLow();
  }
  return Status::OK();
}

void Connection::GrantPromptlyIfLow() {
  // Ours, where 3.1.5.8 says "promptly": a message that only carries
  // credits goes when the peer holds less than half of its target;
  // otherwise the grant rides on the next message.  Granting every
  // replenished receive at once would answer each credit message with
  // another, forever.
  uint32_t low = std::max<uint32_t>(1, receive_credit_target_ / 2);
  if (pending_grant_ > 0 && peer_credits_ < low) {
    send_immediate_ = true;
  }
}

uint16_t Connection::ManageCredits() {
  // 3.1.5.9.  Enough posted: nothing new.
  uint32_t target =
      std::min(receive_credit_target_, config_.receive_credit_max);
  if (receive_credits_ > 0 && receive_credits_ >= target) {
    return 0;
  }
  uint32_t want = target > receive_credits_ ? target - receive_credits_ : 0;
  // At least one when none is posted, or when our last send credit is
  // about to go with messages still queued; never more than
  // receive_credit_max in all (the queue pair is sized for it; 3.1.5.9
  // lets a post fail with nothing granted).
  bool last_credit = send_credits_ == 1 && !send_queue_.empty() &&
                     receive_credits_ < config_.receive_credit_max;
  if (want == 0 && (receive_credits_ == 0 || last_credit)) {
    want = 1;
  }
  uint16_t posted = 0;
  for (uint32_t i = 0; i < want; ++i) {
    if (!io_->PostReceive(max_receive_size_).ok()) {
      break;
    }
    posted++;
  }
  receive_credits_ += posted;
  pending_grant_ += posted;
  return posted;
}

Status Connection::PumpSendQueue(uint64_t now_ms) {
  (void)now_ms;
  while (state_ == State::kEstablished) {
    bool empty_message = send_queue_.empty();
    if (empty_message && !send_immediate_ && !keepalive_due_) {
      break;
    }
    // 3.1.5.1: never send without a credit; the message waits.
    if (send_credits_ == 0) {
      break;
    }
    ManageCredits();
    uint32_t grant = std::min<uint32_t>(pending_grant_, UINT16_MAX);
    // 3.1.5.1: the last credit goes only with a grant, so that the peer
    // can always answer.
    if (send_credits_ == 1 && grant == 0) {
      break;
    }
    Fragment frag;
    if (!empty_message) {
      frag = send_queue_.front();
    }
    DataTransferHeader h;
    h.credits_requested = config_.send_credit_target;
    h.credits_granted = static_cast<uint16_t>(grant);
    h.flags = keepalive_due_ ? kFlagResponseRequested : 0;
    h.remaining_data_length = frag.remaining;
    h.data_length = frag.length;
    h.data_offset = frag.length > 0 ? kDataOffset : 0;
    std::vector<uint8_t> header;
    EncodeDataTransferHeader(h, &header);
    const uint8_t* payload =
        frag.length > 0 ? frag.message->data() + frag.offset : nullptr;
    send_credits_--;
    pending_grant_ -= grant;
    peer_credits_ += grant;
    Status s = io_->SendMessage(header.data(), header.size(), payload,
                                frag.length, frag.invalidate_token);
    if (!s.ok()) {
      return Fail(s);
    }
    keepalive_due_ = false;
    send_immediate_ = false;
    if (!empty_message) {
      send_queue_.pop_front();
    }
  }
  return Status::OK();
}

Status Connection::SendUpper(std::vector<uint8_t> message, uint64_t now_ms,
                             uint32_t invalidate_token) {
  if (state_ != State::kEstablished) {
    return Status(Code::kInvalidState, "send on a connection not established");
  }
  // 3.1.4.2: too long for the peer's reassembly is a local error; the
  // connection stays.
  if (message.size() > max_fragmented_send_size_) {
    return Status(Code::kOversize, "message of " + Num(message.size()) +
                                       " bytes, the peer reassembles at most " +
                                       Num(max_fragmented_send_size_));
  }
  auto shared =
      std::make_shared<const std::vector<uint8_t>>(std::move(message));
  // 3.1.5.4: DataOffset 24, DataLength up to MaxSendSize - 24 each.
  const size_t chunk = max_send_size_ - kDataOffset;
  const size_t total = shared->size();
  size_t offset = 0;
  do {
    Fragment f;
    f.message = shared;
    f.offset = offset;
    f.length = static_cast<uint32_t>(std::min(chunk, total - offset));
    offset += f.length;
    f.remaining = static_cast<uint32_t>(total - offset);
    f.invalidate_token = offset == total ? invalidate_token : 0;
    send_queue_.push_back(f);
  } while (offset < total);
  return PumpSendQueue(now_ms);
}

Status Connection::OnTimer(uint64_t now_ms) {
  if (state_ == State::kNegotiating && now_ms >= negotiate_deadline_) {
    return Fail(Status(
        Code::kTimeout,
        "no negotiation within " + Num(config_.negotiate_timeout_ms) + " ms"));
  }
  if (state_ != State::kEstablished) {
    return Status::OK();
  }
  // 3.1.2.2: a keepalive that got no message back ends the connection.
  if (keepalive_deadline_ != 0 && now_ms >= keepalive_deadline_) {
    return Fail(Status(Code::kTimeout, "idle: no message within " +
                                           Num(config_.keepalive_response_ms) +
                                           " ms of a keepalive"));
  }
  // 3.1.2.2: after idle_timeout_ms of silence, ask for a response.
  if (keepalive_deadline_ == 0 &&
      now_ms >= last_receive_ms_ + config_.idle_timeout_ms) {
    keepalive_due_ = true;
    keepalive_deadline_ = now_ms + config_.keepalive_response_ms;
    return PumpSendQueue(now_ms);
  }
  return Status::OK();
}

uint64_t Connection::NextDeadline() const {
  switch (state_) {
    case State::kNegotiating:
      return negotiate_deadline_;
    case State::kEstablished:
      return keepalive_deadline_ != 0
                 ? keepalive_deadline_
                 : last_receive_ms_ + config_.idle_timeout_ms;
    default:
      return UINT64_MAX;
  }
}

}  // namespace smbdirect
}  // namespace samba_ca
