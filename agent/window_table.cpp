#include "agent/window_table.h"

#include <bit>
#include <stdexcept>

namespace dmux::agent {
namespace {

std::uint64_t mix64(std::uint64_t x) noexcept {  // SplitMix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::size_t checked(std::size_t capacity) {
  if (capacity == 0 || capacity > (std::size_t{1} << 24)) {
    throw std::invalid_argument("replay window capacity must be 1 to 16777216");
  }
  return capacity;
}

}  // namespace

WindowTable::WindowTable(std::size_t capacity)
    : slots_(checked(capacity)), index_(std::bit_ceil(2 * capacity), kNone) {
  free_.reserve(capacity);
  for (std::size_t i = capacity; i > 0; --i) free_.push_back(static_cast<std::int32_t>(i - 1));
}

std::size_t WindowTable::home(std::uint32_t key_id, wire::GatewayId gateway_id) const noexcept {
  const std::uint64_t h = mix64((std::uint64_t{key_id} << 32) | gateway_id.value());
  return static_cast<std::size_t>(h) & (index_.size() - 1);
}

std::int32_t WindowTable::lookup(std::uint32_t key_id, wire::GatewayId gateway_id,
                                 std::size_t* position) const noexcept {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = home(key_id, gateway_id);; i = (i + 1) & mask) {
    const std::int32_t s = index_[i];
    if (position != nullptr) *position = i;
    if (s == kNone) return kNone;  // the index is at most half full: an empty place exists
    const Slot& slot = slots_[static_cast<std::size_t>(s)];
    if (slot.key_id == key_id && slot.gateway_id == gateway_id) return s;
  }
}

const ReplayWindow* WindowTable::find(std::uint32_t key_id,
                                      wire::GatewayId gateway_id) const noexcept {
  const std::int32_t s = lookup(key_id, gateway_id, nullptr);
  return s == kNone ? nullptr : &slots_[static_cast<std::size_t>(s)].window;
}

ReplayWindow& WindowTable::use(std::uint32_t key_id, wire::GatewayId gateway_id) noexcept {
  std::size_t position = 0;
  std::int32_t s = lookup(key_id, gateway_id, &position);
  if (s != kNone) {
    unlink(s);
    push_front(s);
    return slots_[static_cast<std::size_t>(s)].window;
  }
  if (free_.empty()) {
    remove(tail_);
    ++evictions_;
    (void)lookup(key_id, gateway_id, &position);  // the removal may have moved the empty place
  }
  s = free_.back();
  free_.pop_back();
  Slot& slot = slots_[static_cast<std::size_t>(s)];
  slot = Slot{.key_id = key_id, .gateway_id = gateway_id, .used = true};
  index_[position] = s;
  push_front(s);
  ++size_;
  return slot.window;
}

void WindowTable::erase_key(std::uint32_t key_id) noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].used && slots_[i].key_id == key_id) remove(static_cast<std::int32_t>(i));
  }
}

void WindowTable::unlink(std::int32_t s) noexcept {
  Slot& slot = slots_[static_cast<std::size_t>(s)];
  (slot.prev == kNone ? head_ : slots_[static_cast<std::size_t>(slot.prev)].next) = slot.next;
  (slot.next == kNone ? tail_ : slots_[static_cast<std::size_t>(slot.next)].prev) = slot.prev;
  slot.prev = slot.next = kNone;
}

void WindowTable::push_front(std::int32_t s) noexcept {
  Slot& slot = slots_[static_cast<std::size_t>(s)];
  slot.prev = kNone;
  slot.next = head_;
  (head_ == kNone ? tail_ : slots_[static_cast<std::size_t>(head_)].prev) = s;
  head_ = s;
}

// Backward-shift deletion keeps every probe sequence unbroken without tombstones.
void WindowTable::remove(std::int32_t s) noexcept {
  Slot& slot = slots_[static_cast<std::size_t>(s)];
  std::size_t hole = 0;
  (void)lookup(slot.key_id, slot.gateway_id, &hole);
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = (hole + 1) & mask; index_[i] != kNone; i = (i + 1) & mask) {
    const Slot& other = slots_[static_cast<std::size_t>(index_[i])];
    const std::size_t want = home(other.key_id, other.gateway_id);
    // Move the entry into the hole unless its home lies cyclically in (hole, i].
    if (((i - want) & mask) >= ((i - hole) & mask)) {
      index_[hole] = index_[i];
      hole = i;
    }
  }
  index_[hole] = kNone;
  unlink(s);
  slot.used = false;
  free_.push_back(s);
  --size_;
}

}  // namespace dmux::agent
