// Admission of unauthenticated mesh connections (docs/protocol.md 12.1). Anyone can open a TCP
// connection to the mesh port and make the gateway do TLS crypto, so: at most `max_pending`
// accepted links may be between accept and HELLO at once, at most `max_per_source` from one
// address, and a source whose handshakes fail twice in a row waits before it is accepted again
// (from `penalty_min`, doubling to `penalty_max`; one failure is forgiven, so a peer that died
// mid-handshake and restarts is not kept out). Pure: the caller reports events with its clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

namespace dmux::mesh {

struct HandshakeLimits {
  std::size_t max_pending = 16;
  std::size_t max_per_source = 2;
  std::chrono::milliseconds penalty_min{1000};
  std::chrono::milliseconds penalty_max{300000};
  std::size_t max_tracked_sources = 4096;  // penalised sources remembered (oldest forgotten)
};

class HandshakeLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Verdict : std::uint8_t { kAccept, kTooMany, kTooManyFromSource, kPenalised };

  explicit HandshakeLimiter(const HandshakeLimits& limits) : limits_(limits) {}

  // An inbound connection from `source`; on kAccept it counts as pending until one of the two
  // calls below.
  Verdict on_accept(std::uint32_t source, TimePoint now);
  // It authenticated (certificate and HELLO): no longer pending, and the source is forgiven.
  void on_authenticated(std::uint32_t source);
  // It closed before authenticating: no longer pending, and the source waits longer next time.
  void on_failed(std::uint32_t source, TimePoint now);

  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }

 private:
  struct Source {
    std::size_t pending = 0;
    unsigned failures = 0;  // in a row
    std::chrono::milliseconds penalty{0};
    TimePoint blocked_until{};
  };
  void release(std::uint32_t source, bool failed, TimePoint now);
  void forget_oldest_if_full();

  HandshakeLimits limits_;
  std::map<std::uint32_t, Source> sources_;
  std::size_t pending_ = 0;
};

}  // namespace dmux::mesh
