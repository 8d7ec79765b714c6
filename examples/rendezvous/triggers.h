// The trigger table of one rendezvous router: id -> the receivers (client address, port, return
// token) that inserted a trigger for it, each until its expiry. Soft state driven by event-named
// calls with the caller's clock (insert, remove, expire); never reads a clock. Caps bound the
// table whatever clients do: receivers per id, triggers per client IPv4 address (all its ports),
// triggers in total. Triggers a peer router told us about are kept like our own (so a sender at
// this router reaches a receiver attached elsewhere) and marked with their origin. Single-threaded.
// lookup() is the data path (no allocation); insert() allocates a node for a new id (bounded by
// the caps).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>

#include "rv_wire.h"

namespace rendezvous {

using MonoTime = std::chrono::steady_clock::time_point;

struct TriggerLimits {
  std::size_t max_triggers = 65536;        // receivers over all ids
  std::size_t max_per_address = 64;        // triggers of one client IPv4 address, all ports
  std::chrono::seconds max_lifetime{120};  // longer requests are cut to this
};

inline constexpr std::size_t kMaxReceivers = 4;  // receivers per id (i3-style multicast)

struct Receiver {
  std::uint32_t ipv4 = 0;
  std::uint16_t port = 0;
  std::uint64_t token = 0;
  MonoTime expires{};
  bool local = true;  // inserted by a client at this router (else learnt from a peer)
};

enum class InsertResult : std::uint8_t { kInserted, kRefreshed, kRefused };

class TriggerTable {
 public:
  explicit TriggerTable(const TriggerLimits& limits);

  // Inserts or refreshes (id -> receiver) until now + lifetime (capped). A refresh also takes the
  // newer origin. kRefused when a cap is reached.
  InsertResult insert(const Id& id, const Receiver& r, std::chrono::milliseconds lifetime,
                      MonoTime now);
  // Removes (id -> ipv4:port); false if it was not there.
  bool remove(const Id& id, std::uint32_t ipv4, std::uint16_t port) noexcept;
  // The receivers of id; empty if none. Between expire() sweeps some may have expired: callers
  // check `expires`.
  [[nodiscard]] std::span<const Receiver> lookup(const Id& id) const noexcept;
  // Removes every expired trigger; returns how many.
  std::size_t expire(MonoTime now);

  template <typename Fn>  // fn(const Id&, const Receiver&)
  void for_each(Fn&& fn) const {
    for (const auto& [id, slot] : slots_) {
      for (std::size_t i = 0; i < slot.count; ++i) fn(id, slot.receivers[i]);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return total_; }
  [[nodiscard]] std::size_t ids() const noexcept { return slots_.size(); }
  [[nodiscard]] std::chrono::milliseconds cap(std::chrono::milliseconds asked) const noexcept;

 private:
  struct Slot {
    std::array<Receiver, kMaxReceivers> receivers{};
    std::size_t count = 0;
  };
  struct IdHash {
    std::size_t operator()(const Id& id) const noexcept;
  };
  void erase_at(Slot& s, std::size_t i) noexcept;

  TriggerLimits limits_;
  std::unordered_map<Id, Slot, IdHash> slots_;
  std::unordered_map<std::uint32_t, std::size_t> per_address_;
  std::size_t total_ = 0;
};

}  // namespace rendezvous
