#include "triggers.h"

#include <algorithm>
#include <iterator>

namespace rendezvous {

std::size_t TriggerTable::IdHash::operator()(const Id& id) const noexcept {
  // Ids are chosen by clients: hash all 16 bytes (FNV-1a) rather than trusting any part of them.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const std::byte b : id) h = (h ^ std::to_integer<std::uint8_t>(b)) * 0x100000001b3ull;
  return static_cast<std::size_t>(h);
}

TriggerTable::TriggerTable(const TriggerLimits& limits) : limits_(limits) {
  slots_.reserve(std::min<std::size_t>(limits_.max_triggers, 4096));
}

std::chrono::milliseconds TriggerTable::cap(std::chrono::milliseconds asked) const noexcept {
  return std::min<std::chrono::milliseconds>(asked, limits_.max_lifetime);
}

InsertResult TriggerTable::insert(const Id& id, const Receiver& r,
                                  std::chrono::milliseconds lifetime, MonoTime now) {
  Receiver entry = r;
  entry.expires = now + cap(lifetime);
  const auto it = slots_.find(id);
  if (it != slots_.end()) {
    Slot& s = it->second;
    for (std::size_t i = 0; i < s.count; ++i) {
      if (s.receivers[i].ipv4 == r.ipv4 && s.receivers[i].port == r.port) {
        s.receivers[i] = entry;
        return InsertResult::kRefreshed;
      }
    }
  }
  std::size_t& mine = per_address_[r.ipv4];
  if (total_ >= limits_.max_triggers || mine >= limits_.max_per_address ||
      (it != slots_.end() && it->second.count >= kMaxReceivers)) {
    if (mine == 0) per_address_.erase(r.ipv4);
    return InsertResult::kRefused;
  }
  Slot& s = it != slots_.end() ? it->second : slots_[id];
  s.receivers[s.count++] = entry;
  ++mine;
  ++total_;
  return InsertResult::kInserted;
}

void TriggerTable::erase_at(Slot& s, std::size_t i) noexcept {
  const auto a = per_address_.find(s.receivers[i].ipv4);
  if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
  s.receivers[i] = s.receivers[s.count - 1];
  --s.count;
  --total_;
}

bool TriggerTable::remove(const Id& id, std::uint32_t ipv4, std::uint16_t port) noexcept {
  const auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  Slot& s = it->second;
  for (std::size_t i = 0; i < s.count; ++i) {
    if (s.receivers[i].ipv4 == ipv4 && s.receivers[i].port == port) {
      erase_at(s, i);
      if (s.count == 0) slots_.erase(it);
      return true;
    }
  }
  return false;
}

std::span<const Receiver> TriggerTable::lookup(const Id& id) const noexcept {
  const auto it = slots_.find(id);
  if (it == slots_.end()) return {};
  return std::span(it->second.receivers).first(it->second.count);
}

std::size_t TriggerTable::expire(MonoTime now) {
  std::size_t removed = 0;
  for (auto it = slots_.begin(); it != slots_.end();) {
    Slot& s = it->second;
    for (std::size_t i = 0; i < s.count;) {
      if (s.receivers[i].expires <= now) {
        erase_at(s, i);
        ++removed;
      } else {
        ++i;
      }
    }
    it = s.count == 0 ? slots_.erase(it) : std::next(it);
  }
  return removed;
}

}  // namespace rendezvous
