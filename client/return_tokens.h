// The client's return tokens, one per tunnelled protocol (docs/protocol.md 6.2, 15.3). A router
// tells the client its token `rt` in a TOKEN_OFFER answering a TOKEN_REQUEST; DATA carries `rt`
// (routers refuse a client that has not shown it), and a RETURN is the client's only if it
// carries `rt`. The servers the client talks to never see `rt`.
//
// Per protocol: a request at start, retries on a backoff (1 s doubling to the refresh interval)
// while unanswered, a refresh every refresh_s after an answer; the nonces of the last kNonces
// requests, of which an offer must echo one; the current rt and the one it replaced (acceptable in
// RETURNs until the next refresh). The client-wide NAT binding the offers name: when it moves,
// every other protocol asks again at once (their tokens are bound to the old one).
//
// Soft state driven by event-named calls with the time passed in (tests use a fake clock).
// Single-threaded: the event loop's. Offers and tokens arrive on the data path, so everything but
// the constructor is noexcept and allocation-free. Nonces come from a NonceSource.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "client/config.h"
#include "common/wire/client_control.h"

namespace dmux::client {

struct ReturnTokensConfig {
  std::chrono::milliseconds retry{1000};          // first retry of an unanswered request; doubles
  std::chrono::milliseconds refresh{25000};       // refresh interval until an offer names one
  std::chrono::milliseconds max_refresh{300000};  // an offer's refresh_s is capped at this
};

// A protocol the client tunnels, and the provider its selector asks for (0: any).
struct TokenProtocol {
  std::uint16_t proto_id = 0;
  std::uint32_t provider_id = 0;
};

// One TOKEN_REQUEST to send: a DATA with CTRL of proto_id and provider_id whose token is `nonce`.
struct TokenRequest {
  std::uint16_t proto_id = 0;
  std::uint32_t provider_id = 0;
  std::uint64_t nonce = 0;
  std::uint32_t unanswered = 0;  // requests since the protocol's last offer, this one included
  bool have_token = false;       // the protocol has an rt already (this is a refresh)
};

// The client's address as gateways see it (host order).
struct Binding {
  std::uint32_t ipv4 = 0;
  std::uint16_t port = 0;
  bool operator==(const Binding&) const = default;
};

// What an accepted offer changed.
struct TokenUpdate {
  bool token_changed = false;  // the protocol's first rt, or another one than before
  bool binding_moved = false;  // the offer names another binding than the previous offer did
  Binding binding;
  std::chrono::milliseconds refresh{0};  // when this protocol asks again
};

struct ReturnTokenCounters {
  std::uint64_t requests = 0;         // TOKEN_REQUESTs due (sent by the caller)
  std::uint64_t offers = 0;           // TOKEN_OFFERs accepted
  std::uint64_t binding_changes = 0;  // offers that moved the binding
};

// Random nonces for TOKEN_REQUESTs, unpredictable to others; 0 if none can be drawn now (the
// request then waits for the first retry).
class NonceSource {
 public:
  virtual ~NonceSource() = default;
  virtual std::uint64_t next_nonce() noexcept = 0;
};

// Per protocol, what status and logs show (never the tokens or nonces themselves).
struct TokenState {
  TokenProtocol protocol;
  bool have_token = false;
  std::uint32_t unanswered = 0;
  std::chrono::milliseconds refresh{0};  // the interval refreshes use now
};

class ReturnTokens {
 public:
  static constexpr std::size_t kNonces = 4;
  // Requests in a row without an answer before a warning is due (the caller logs it).
  static constexpr std::uint32_t kWarnAfter = 3;

  // A request for each protocol is due at `now`. `nonces` must outlive this object.
  ReturnTokens(const ReturnTokensConfig& config, std::span<const TokenProtocol> protocols,
               NonceSource& nonces, Clock::time_point now);

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] Clock::time_point next_deadline() const noexcept;
  // Writes the requests due at `now` (at most one per protocol; `out` holds size() of them) and
  // reschedules them; returns how many.
  std::size_t on_timer(Clock::time_point now, std::span<TokenRequest> out) noexcept;
  // Makes a request for every protocol due at once (the binding moved, e.g. an RA said so).
  void request_all(Clock::time_point now) noexcept;

  // Data path. The current rt of `proto_id`, if it has one: DATA carries it.
  [[nodiscard]] std::optional<std::uint64_t> current(std::uint16_t proto_id) const noexcept;
  // True if `token` is the current rt of `proto_id` or the one it replaced (constant time).
  [[nodiscard]] bool accepts(std::uint16_t proto_id, std::uint64_t token) const noexcept;
  // True if `nonce` is that of a request for `proto_id` not yet answered (constant time).
  [[nodiscard]] bool outstanding(std::uint16_t proto_id, std::uint64_t nonce) const noexcept;
  // A TOKEN_OFFER (already parsed) in a RETURN of `proto_id` whose token is `nonce`. False, and
  // nothing changes, unless the nonce is outstanding; then it and every older nonce are spent.
  bool on_offer(std::uint16_t proto_id, std::uint64_t nonce, const wire::TokenOffer& offer,
                Clock::time_point now, TokenUpdate& update) noexcept;

  [[nodiscard]] TokenState state(std::size_t i) const noexcept;
  [[nodiscard]] const std::optional<Binding>& binding() const noexcept { return binding_; }
  [[nodiscard]] const ReturnTokenCounters& counters() const noexcept { return counters_; }

 private:
  struct Nonce {
    std::uint64_t value = 0;  // 0: free (spent, or never used)
    std::uint64_t seq = 0;    // requests of this protocol before it, for "every older nonce"
  };
  struct Entry {
    TokenProtocol protocol;
    Clock::time_point deadline;
    std::array<Nonce, kNonces> nonces{};
    std::uint64_t sent = 0;
    std::uint32_t unanswered = 0;
    std::chrono::milliseconds refresh{0};
    std::uint64_t current = 0, previous = 0;
    bool have_current = false, have_previous = false;
  };

  [[nodiscard]] const Entry* find(std::uint16_t proto_id) const noexcept;
  [[nodiscard]] Entry* find(std::uint16_t proto_id) noexcept;
  [[nodiscard]] static int matching_slot(const Entry& e, std::uint64_t nonce) noexcept;
  TokenRequest make_request(Entry& e, std::uint64_t nonce, Clock::time_point now) noexcept;

  ReturnTokensConfig config_;
  NonceSource& nonces_;
  std::vector<Entry> entries_;
  std::optional<Binding> binding_;
  ReturnTokenCounters counters_;
};

}  // namespace dmux::client
