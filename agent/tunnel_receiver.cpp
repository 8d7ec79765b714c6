#include "agent/tunnel_receiver.h"

#include <algorithm>
#include <stdexcept>

#include "common/util/log.h"
#include "common/wire/tunnel_seal.h"

namespace dmux::agent {
namespace {

TunnelDrop drop_for(wire::ParseStatus s) noexcept {
  switch (s) {
    case wire::ParseStatus::kTruncated:
      return TunnelDrop::kTruncated;
    case wire::ParseStatus::kUnsupportedVersion:
      return TunnelDrop::kUnsupportedVersion;
    case wire::ParseStatus::kUnexpectedType:
      return TunnelDrop::kUnexpectedType;
    case wire::ParseStatus::kMalformed:
    case wire::ParseStatus::kOk:
      break;
  }
  return TunnelDrop::kMalformed;
}

}  // namespace

TunnelReceiver::TunnelReceiver(const TunnelReceiverConfig& config,
                               const std::optional<crypto::TunnelKeyBytes>& static_key)
    : config_(config), windows_(config.max_windows) {
  if (config_.max_keys == 0) throw std::invalid_argument("max_keys must be at least 1");
  keys_.reserve(config_.max_keys + 1);
  if (static_key) {
    keys_.push_back(HeldKey{
        .key_id = 0, .proto_id = {}, .key = std::make_unique<crypto::TunnelKey>(*static_key)});
  }
}

bool TunnelReceiver::open(std::span<std::byte> datagram, MonoTime now, wire::TunnelHeader& h,
                          std::span<const std::byte>& payload) noexcept {
  if (const auto s = wire::parse_tunnel(datagram, h, payload); s != wire::ParseStatus::kOk) {
    return refuse(drop_for(s));
  }
  const crypto::TunnelKey* key = usable_key(h.key_id, now);
  if (key == nullptr) return refuse(TunnelDrop::kUnknownKey);
  const ReplayWindow* window = windows_.find(h.key_id, h.gateway_id);
  if (window != nullptr && !window->may_accept(h.counter)) return refuse(TunnelDrop::kReplayed);
  if (!wire::open_tunnel(datagram, h, *key)) return refuse(TunnelDrop::kBadTag);
  if (!windows_.use(h.key_id, h.gateway_id).accept(h.counter)) {
    return refuse(TunnelDrop::kReplayed);
  }
  ++counters_.accepted;
  return true;
}

const crypto::TunnelKey* TunnelReceiver::usable_key(std::uint32_t key_id,
                                                    MonoTime now) const noexcept {
  for (const HeldKey& k : keys_) {
    if (k.key_id != key_id) continue;
    return k.retired && now >= k.forget_at ? nullptr : k.key.get();
  }
  return nullptr;
}

TunnelReceiver::HeldKey* TunnelReceiver::find(std::uint32_t key_id) noexcept {
  const auto it = std::find_if(keys_.begin(), keys_.end(),
                               [key_id](const HeldKey& k) { return k.key_id == key_id; });
  return it == keys_.end() ? nullptr : &*it;
}

void TunnelReceiver::on_tunnel_key(wire::ProtoId proto_id, std::uint32_t key_id,
                                   const crypto::TunnelKeyBytes& key, MonoTime now) noexcept {
  if (key_id == 0) {  // reserved for the static key: a gateway must never name it
    ++counters_.keys_refused;
    LOG_WARN("tunnel key with key_id 0 from a registration: ignored");
    return;
  }
  try {
    auto schedule = std::make_unique<crypto::TunnelKey>(key);
    if (HeldKey* held = find(key_id)) {  // the same id again: a new key replaces the old one
      held->key = std::move(schedule);
      held->proto_id = proto_id;
      held->retired = false;
      windows_.erase_key(key_id);
    } else if (make_room(now)) {
      keys_.push_back(HeldKey{.key_id = key_id, .proto_id = proto_id, .key = std::move(schedule)});
    } else {
      ++counters_.keys_refused;
      LOG_ERROR("tunnel key %u refused: %zu registration keys are live already", key_id,
                config_.max_keys);
      return;
    }
    ++counters_.keys_installed;
    LOG_DEBUG("tunnel key %u installed (proto %u)", key_id, unsigned{proto_id.value()});
  } catch (const std::exception& e) {
    ++counters_.keys_refused;
    LOG_ERROR("tunnel key %u: %s", key_id, e.what());
  }
}

void TunnelReceiver::on_tunnel_key_retired(std::uint32_t key_id, MonoTime now) noexcept {
  HeldKey* held = key_id == 0 ? nullptr : find(key_id);
  if (held == nullptr || held->retired) return;
  held->retired = true;
  held->forget_at = now + config_.retired_key_hold;
  ++counters_.keys_retired;
  expire(now);
}

void TunnelReceiver::expire(MonoTime now) noexcept {
  for (std::size_t i = keys_.size(); i > 0; --i) {
    const HeldKey& k = keys_[i - 1];
    if (k.retired && now >= k.forget_at) forget(i - 1);
  }
}

// Room for one more registration key: forget expired keys, then the retired key nearest the end
// of its hold if we are still full. False if every key is live.
bool TunnelReceiver::make_room(MonoTime now) noexcept {
  expire(now);
  const auto registered = static_cast<std::size_t>(
      std::count_if(keys_.begin(), keys_.end(), [](const HeldKey& k) { return k.key_id != 0; }));
  if (registered < config_.max_keys) return true;
  std::size_t oldest = keys_.size();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].retired &&
        (oldest == keys_.size() || keys_[i].forget_at < keys_[oldest].forget_at))
      oldest = i;
  }
  if (oldest == keys_.size()) return false;
  forget(oldest);
  return true;
}

void TunnelReceiver::forget(std::size_t index) noexcept {
  windows_.erase_key(keys_[index].key_id);
  keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(index));
  ++counters_.keys_forgotten;
}

}  // namespace dmux::agent
