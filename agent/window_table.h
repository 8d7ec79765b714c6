// The replay windows of a router agent, one per (key_id, gateway_id), at most `capacity` of them:
// the least recently used is evicted to make room (docs/protocol.md 5.3: "a bounded number of
// windows (LRU); only a holder of the key can create one" — the caller creates windows only for
// TUNNELs whose tag verified). All memory is allocated by the constructor; every other call is
// noexcept and allocates nothing. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/replay_window.h"
#include "common/wire/ids.h"

namespace dmux::agent {

class WindowTable {
 public:
  explicit WindowTable(std::size_t capacity);  // capacity >= 1; throws std::bad_alloc only

  // The window of (key_id, gateway_id), or nullptr. Leaves the LRU order alone, so lookups for
  // TUNNELs that fail their tag cannot keep a window alive.
  [[nodiscard]] const ReplayWindow* find(std::uint32_t key_id,
                                         wire::GatewayId gateway_id) const noexcept;
  // The window of (key_id, gateway_id), created empty if absent (evicting the least recently used
  // one when full), and now the most recently used.
  ReplayWindow& use(std::uint32_t key_id, wire::GatewayId gateway_id) noexcept;
  // Forgets every window of `key_id` (its key was replaced or forgotten).
  void erase_key(std::uint32_t key_id) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  static constexpr std::int32_t kNone = -1;
  struct Slot {
    std::uint32_t key_id = 0;
    wire::GatewayId gateway_id;
    bool used = false;
    std::int32_t prev = kNone;  // LRU list: head_ is the most recently used
    std::int32_t next = kNone;
    ReplayWindow window{};
  };

  [[nodiscard]] std::size_t home(std::uint32_t key_id, wire::GatewayId gateway_id) const noexcept;
  [[nodiscard]] std::int32_t lookup(std::uint32_t key_id, wire::GatewayId gateway_id,
                                    std::size_t* position) const noexcept;
  void unlink(std::int32_t s) noexcept;
  void push_front(std::int32_t s) noexcept;
  void remove(std::int32_t s) noexcept;  // from the index, the list and the slot

  std::vector<Slot> slots_;
  std::vector<std::int32_t> index_;  // open addressing (linear probing), slot numbers or kNone
  std::vector<std::int32_t> free_;   // unused slots
  std::int32_t head_ = kNone;
  std::int32_t tail_ = kNone;
  std::size_t size_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace dmux::agent
