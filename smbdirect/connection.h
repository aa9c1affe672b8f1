// Copyright (C) samba-ca authors. GPLv3+.
//
// The [MS-SMBD] connection engine: negotiation, credits, keepalives and
// the idle timeout, fragmentation and reassembly, disconnect rules.  It
// does no I/O and reads no clock: every entry point is given the time,
// and what the engine wants done (post a receive, send a message, hand
// a message up, drop the connection) goes through ConnectionIo, which a
// driver implements over a Transport.  Section numbers are [MS-SMBD]'s.

#ifndef SAMBA_CA_SMBDIRECT_CONNECTION_H_
#define SAMBA_CA_SMBDIRECT_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "status.h"
#include "wire.h"

namespace samba_ca {
namespace smbdirect {

// 3.1.1.1's implementation-chosen values.
struct Config {
  uint16_t receive_credit_max = 255;
  uint16_t send_credit_target = 255;
  uint32_t max_send_size = 1364;
  uint32_t max_receive_size = 1364;
  uint32_t max_fragmented_recv_size = 1048576;
  uint32_t max_read_write_size = 1048576;
  // 3.1.2.2: silence after which a keepalive asks for a response, and how
  // long that response may take before the connection is dropped.
  uint64_t idle_timeout_ms = 120000;
  uint64_t keepalive_response_ms = 5000;
  // How long the negotiation may take from Start().
  uint64_t negotiate_timeout_ms = 5000;
};

// A config the engine can run with: receive sizes of at least 128 bytes,
// a send size with room for payload, credits and timeouts above zero.
Status CheckConfig(const Config& config);

class ConnectionIo {
 public:
  virtual ~ConnectionIo() = default;
  // Posts one receive of `size` bytes.
  virtual Status PostReceive(uint32_t size) = 0;
  // Sends one message: header then payload as one Send (gathered, not
  // joined), which uses one receive the peer posted.  When
  // invalidate_token is non-zero the peer's region under it is
  // invalidated with the send (3.1.4.2's optional token).
  virtual Status SendMessage(const uint8_t* header, size_t header_len,
                             const uint8_t* payload, size_t payload_len,
                             uint32_t invalidate_token) = 0;
  // A whole upper-layer message, reassembled.
  virtual void OnUpperMessage(const uint8_t* data, size_t len) = 0;
  // Once, when the connection ends; reason says why.
  virtual void OnDisconnected(const Status& reason) = 0;
};

enum class Role { kInitiator, kResponder };
enum class State { kIdle, kNegotiating, kEstablished, kDisconnected };

class Connection : private DataTransferVisitor {
 public:
  Connection(Role role, const Config& config, ConnectionIo* io);

  // Initiator: posts the receive for the response and sends the request
  // (3.1.5.2).  Responder: posts the receive for the request.
  Status Start(uint64_t now_ms);
  // One completed receive.  A message that breaks a rule drops the
  // connection (OnDisconnected) and the reason is returned.
  Status OnReceive(const uint8_t* data, size_t len, uint64_t now_ms);
  // Sends an upper-layer message, in fragments (3.1.4.2, 3.1.5.4); what
  // the credits do not allow yet waits in the send queue.
  Status SendUpper(std::vector<uint8_t> message, uint64_t now_ms,
                   uint32_t invalidate_token = 0);
  // Timers (3.1.2.2 and the negotiation's).
  Status OnTimer(uint64_t now_ms);
  // The earliest time OnTimer has something to do.
  uint64_t NextDeadline() const;
  // Ends the connection from this side (upper layer's request).
  void Disconnect(const Status& reason);

  State state() const { return state_; }
  uint32_t send_credits() const { return send_credits_; }
  uint32_t receive_credits() const { return receive_credits_; }
  uint32_t peer_credits() const { return peer_credits_; }
  uint32_t max_send_size() const { return max_send_size_; }
  uint32_t max_receive_size() const { return max_receive_size_; }
  uint32_t max_fragmented_send_size() const {
    return max_fragmented_send_size_;
  }
  uint32_t max_read_write_size() const { return max_read_write_size_; }
  size_t send_queue_length() const { return send_queue_.size(); }
  // Payload bytes this engine copied (reassembly of fragmented messages).
  uint64_t bytes_copied() const { return bytes_copied_; }

 private:
  struct Fragment {
    std::shared_ptr<const std::vector<uint8_t>> message;
    size_t offset = 0;
    uint32_t length = 0;
    uint32_t remaining = 0;
    uint32_t invalidate_token = 0;
  };

  Status Fail(Status reason);
  Status ReceiveNegotiateRequest(const uint8_t* data, size_t len);
  Status ReceiveNegotiateResponse(const uint8_t* data, size_t len);
  Status ReceiveDataTransfer(const uint8_t* data, size_t len);
  Status SendNegotiateResponse(uint32_t status, uint16_t granted);
  uint16_t ManageCredits();
  void GrantPromptlyIfLow();
  Status PumpSendQueue(uint64_t now_ms);
  void OnDataTransferHeader(const DataTransferHeader& header) override;
  void OnPayload(const uint8_t* data, size_t len) override;

  const Role role_;
  const Config config_;
  ConnectionIo* const io_;
  State state_ = State::kIdle;

  // 3.1.1.1's Connection fields.
  uint32_t send_credits_ = 0;
  uint32_t receive_credits_ = 0;  // receives posted, not yet used
  uint32_t peer_credits_ = 0;     // granted to the peer, not yet used
  uint32_t pending_grant_ = 0;    // posted, not yet granted
  uint16_t receive_credit_target_ = 0;
  uint32_t max_send_size_ = 0;
  uint32_t max_receive_size_ = 0;
  uint32_t max_fragmented_send_size_ = 0;
  uint32_t max_read_write_size_ = 0;
  std::deque<Fragment> send_queue_;
  bool send_immediate_ = false;
  bool keepalive_due_ = false;  // the idle timer fired: ask for a response

  // Reassembly (3.1.5.8): the message being put together.
  std::vector<uint8_t> reassembly_;
  bool reassembling_ = false;
  uint32_t expected_remaining_ = 0;
  DataTransferHeader current_;
  bool current_in_place_ = false;  // one-fragment message: no copy
  const uint8_t* in_place_data_ = nullptr;
  size_t in_place_len_ = 0;
  uint64_t bytes_copied_ = 0;
  Status reassembly_error_;

  // Timers.
  uint64_t negotiate_deadline_ = 0;
  uint64_t last_receive_ms_ = 0;
  uint64_t keepalive_deadline_ = 0;  // 0: no keepalive outstanding
};

}  // namespace smbdirect
}  // namespace samba_ca

#endif  // SAMBA_CA_SMBDIRECT_CONNECTION_H_
