#include "registry/router_registry.h"

#include <utility>

namespace dmux::registry {
namespace {
// How long withdrawn state is kept at least: REGISTERs older than this are stale anyway.
constexpr auto kReplayMemory = std::chrono::seconds(60);
}  // namespace

AdmitResult RouterRegistry::on_register(const RouterId& key, std::uint64_t timestamp_us,
                                        const Session& session, TimePoint now,
                                        RegistrationEvidence evidence) {
  auto it = routers_.find(key);
  if (it != routers_.end()) {
    Router& r = it->second;
    if (timestamp_us <= r.last_timestamp_us) return AdmitResult::kReplayed;
    if (r.dampening.suppressed(now, config_.dampening)) {
      r.last_timestamp_us = timestamp_us;
      return AdmitResult::kSuppressed;
    }
  }
  const bool already_up = it != routers_.end() && it->second.state != RouterState::kWithdrawn;
  if (!already_up && (up_count_ >= config_.max_routers ||
                      up_for_provider(key.provider) >= config_.max_routers_per_provider)) {
    return AdmitResult::kLimitReached;
  }
  if (it == routers_.end()) it = routers_.emplace(key, Router{}).first;
  Router& r = it->second;
  end_session(r);
  r.session_id = session.id;
  r.last_timestamp_us = timestamp_us;
  r.last_heard = now;
  r.probed = false;
  Session s = session;
  s.router = key;
  sessions_[s.id] = s;
  if (s.key_id != 0) key_ids_[s.key_id] = s.id;
  if (const std::uint32_t rtt = evidence.proof.signed_rtt_us; rtt != 0) {
    r.rtt_us = rtt;
    r.announced_rtt_us = rtt;
  }
  r.evidence = std::move(evidence);
  if (!already_up) {
    r.registered_at = now;
    ++up_count_;
  }
  r.state = RouterState::kUp;  // a suspect re-registering passed dampening above: it is back
  ++version_;                  // a new router, or a new tunnel key for one
  touched_.insert(key);
  return AdmitResult::kAccepted;
}

void RouterRegistry::end_session(Router& r) {
  if (r.session_id == 0) return;
  if (auto it = sessions_.find(r.session_id); it != sessions_.end()) {
    key_ids_.erase(it->second.key_id);
    sessions_.erase(it);
  }
  r.session_id = 0;
}

const Session* RouterRegistry::session(std::uint64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const Session* RouterRegistry::session_by_key_id(std::uint32_t key_id) const {
  auto it = key_ids_.find(key_id);
  return it == key_ids_.end() ? nullptr : session(it->second);
}

const RegistrationEvidence* RouterRegistry::evidence(const RouterId& key) const {
  auto it = routers_.find(key);
  if (it == routers_.end() || it->second.state == RouterState::kWithdrawn) return nullptr;
  return &it->second.evidence;
}

bool rtt_change_worth_announcing(std::uint32_t announced_us, std::uint32_t reported_us) noexcept {
  if (reported_us == 0) return false;
  if (announced_us == 0) return true;
  const std::uint64_t diff =
      announced_us > reported_us ? announced_us - reported_us : reported_us - announced_us;
  return diff >= 1000 && diff * 5 > announced_us;  // >= 1 ms and > 20 %
}

bool RouterRegistry::on_keepalive(std::uint64_t session_id, std::uint64_t counter,
                                  std::uint32_t rtt_us, TimePoint now) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || counter <= it->second.last_counter) return false;
  it->second.last_counter = counter;
  Router& r = routers_.at(it->second.router);
  const Duration gap = now - r.last_heard;
  observe_gap(r, now);
  r.last_heard = now;
  r.probed = false;
  if (rtt_us != 0) r.rtt_us = rtt_us;
  if (r.state == RouterState::kSuspect && !r.dampening.suppressed(now, config_.dampening)) {
    enter_forwarding(it->second.router, r);
    ++liveness_.recovered;
    note(it->second.router, LivenessEvent::Kind::kRecovered, gap, r);
  }
  if (r.state == RouterState::kUp && rtt_change_worth_announcing(r.announced_rtt_us, rtt_us)) {
    r.announced_rtt_us = rtt_us;
    ++rtt_version_;
    touched_.insert(it->second.router);
  }
  return true;
}

bool RouterRegistry::on_deregister(std::uint64_t session_id, std::uint64_t counter, TimePoint now) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || counter <= it->second.last_counter) return false;
  const RouterId key = it->second.router;
  Router& r = routers_.at(key);
  end_session(r);
  withdraw(key, r, now);
  return true;
}

bool RouterRegistry::on_confirmed_dead(std::uint64_t session_id, TimePoint now) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return false;
  const RouterId key = it->second.router;
  Router& r = routers_.at(key);
  end_session(r);
  withdraw(key, r, now);
  ++liveness_.confirmed_dead;
  return true;
}

// Lateness: how much longer than one interval the gap since the previous keepalive was, smoothed
// with gain 1/4 (RFC 6298's RTTVAR). Late keepalives stretch the detect time at once; on time ones
// shrink it back by a quarter each.
void RouterRegistry::observe_gap(Router& r, TimePoint now) {
  if (r.state != RouterState::kUp) return;
  const Duration late = std::max(Duration::zero(), now - r.last_heard - config_.keepalive_interval);
  if (now - r.last_heard >= config_.keepalive_interval * config_.suspect_after) {
    ++liveness_.late_keepalives;
  }
  r.lateness += (late - r.lateness) / 4;
}

Duration RouterRegistry::detect_time(const Router& r) const {
  const Duration base = config_.keepalive_interval * config_.suspect_after;
  const Duration cap = config_.suspect_max.count() > 0
                           ? std::max<Duration>(base, config_.suspect_max)
                           : base + config_.keepalive_interval;
  return std::min(cap, base + 4 * r.lateness);
}

Duration RouterRegistry::detect_time(const RouterId& key) const {
  auto it = routers_.find(key);
  return it == routers_.end() ? config_.keepalive_interval * config_.suspect_after
                              : detect_time(it->second);
}

void RouterRegistry::note(const RouterId& key, LivenessEvent::Kind kind, Duration silent,
                          const Router& r) {
  if (events_.size() >= kMaxLivenessEvents) {
    ++events_dropped_;
    return;
  }
  events_.push_back(LivenessEvent{key, kind, silent, detect_time(r)});
}

std::vector<LivenessEvent> RouterRegistry::take_liveness_events(std::size_t& dropped) {
  std::vector<LivenessEvent> out;
  out.swap(events_);
  dropped = std::exchange(events_dropped_, 0);
  return out;
}

std::vector<std::uint64_t> RouterRegistry::take_silent() {
  std::vector<std::uint64_t> out;
  out.swap(silent_);
  return out;
}

// Out of forwarding (up -> suspect or withdrawn): one flap for dampening, one change for the mesh.
void RouterRegistry::leave_forwarding(const RouterId& key, Router& r, TimePoint now) {
  if (r.state != RouterState::kUp) return;
  touched_.insert(key);
  r.dampening.on_withdrawal(now, config_.dampening);
  ++r.flaps;
  ++version_;
  r.state = RouterState::kSuspect;
}

void RouterRegistry::enter_forwarding(const RouterId& key, Router& r) {
  r.state = RouterState::kUp;
  touched_.insert(key);
  ++version_;
}

void RouterRegistry::withdraw(const RouterId& key, Router& r, TimePoint now) {
  if (r.state == RouterState::kWithdrawn) return;
  leave_forwarding(key, r, now);  // no second flap for a suspect
  r.state = RouterState::kWithdrawn;
  r.withdrawn_at = now;
  r.evidence = {};
  --up_count_;
}

// Silence during our own stall is not the routers' fault: each silence clock is paused for the
// whole gap since the previous call (a router keeps the silence it had before the stall).
void RouterRegistry::forgive_stall(TimePoint now) {
  const bool stalled = last_expire_ && now - *last_expire_ >= config_.stall_gap;
  const TimePoint before = last_expire_.value_or(now);
  last_expire_ = now;
  if (!stalled) return;
  const Duration stall = now - before;
  ++liveness_.own_stalls;
  liveness_.stalled_ms += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(stall).count());
  for (auto& [key, r] : routers_) {
    if (r.state != RouterState::kWithdrawn && r.last_heard <= before) {
      r.last_heard = std::min(now, r.last_heard + stall);
    }
  }
}

std::size_t RouterRegistry::expire(TimePoint now) {
  forgive_stall(now);
  silent_.clear();  // offered once: a caller without probes leaves them
  const Duration suspect_after = config_.keepalive_interval * config_.suspect_after;
  std::size_t withdrawn = 0;
  for (auto it = routers_.begin(); it != routers_.end();) {
    Router& r = it->second;
    const Duration silent = now - r.last_heard;
    if (r.state != RouterState::kWithdrawn && silent >= config_.hold_time) {
      note(it->first, LivenessEvent::Kind::kExpired, silent, r);
      end_session(r);
      withdraw(it->first, r, now);
      ++withdrawn;
    } else if (r.state == RouterState::kUp && config_.suspect_after != 0 &&
               silent >= suspect_after) {
      if (!r.probed && r.session_id != 0) {
        r.probed = true;
        silent_.push_back(r.session_id);
      }
      if (silent >= detect_time(r)) {
        leave_forwarding(it->first, r, now);
        ++liveness_.suspected;
        note(it->first, LivenessEvent::Kind::kSuspect, silent, r);
      }
    } else if (r.state == RouterState::kSuspect && silent < config_.keepalive_interval &&
               !r.dampening.suppressed(now, config_.dampening)) {
      enter_forwarding(it->first, r);  // heard while dampened; reusable now
      ++liveness_.recovered;
    }
    if (r.state == RouterState::kWithdrawn && now - r.withdrawn_at >= kReplayMemory &&
        r.dampening.forgettable(now, config_.dampening)) {
      it = routers_.erase(it);
    } else {
      ++it;
    }
  }
  return withdrawn;
}

std::size_t RouterRegistry::withdraw_revoked(const std::set<crypto::SerialNumber>& serials,
                                             TimePoint now) {
  std::size_t withdrawn = 0;
  for (auto& [key, r] : routers_) {
    if (r.state == RouterState::kWithdrawn || !serials.contains(r.evidence.serial)) continue;
    end_session(r);
    withdraw(key, r, now);
    ++withdrawn;
  }
  return withdrawn;
}

std::size_t RouterRegistry::up_for_provider(ProviderId provider) const {
  std::size_t n = 0;
  for (auto it = routers_.lower_bound(RouterId{wire::ProtoId{0}, provider, {}});
       it != routers_.end() && it->first.provider == provider; ++it) {
    n += it->second.state != RouterState::kWithdrawn ? 1 : 0;
  }
  return n;
}

std::vector<RouterId> RouterRegistry::up_routers() const {
  std::vector<RouterId> out;
  for (const auto& [key, r] : routers_) {
    if (r.state == RouterState::kUp) out.push_back(key);
  }
  return out;
}

std::vector<RouterChange> RouterRegistry::take_changes() {
  std::vector<RouterChange> out;
  out.reserve(touched_.size());
  for (const auto& key : touched_) {
    RouterChange c{key, std::nullopt};
    if (auto it = routers_.find(key);
        it != routers_.end() && it->second.state == RouterState::kUp) {
      c.router = UpRouter{key, it->second.announced_rtt_us, it->second.evidence};
    }
    out.push_back(std::move(c));
  }
  touched_.clear();
  return out;
}

std::vector<UpRouter> RouterRegistry::up_routers_with_rtt() const {
  std::vector<UpRouter> out;
  for (const auto& [key, r] : routers_) {
    if (r.state == RouterState::kUp) out.push_back(UpRouter{key, r.announced_rtt_us, r.evidence});
  }
  return out;
}

std::vector<RouterStatus> RouterRegistry::status(TimePoint now) {
  std::vector<RouterStatus> out;
  for (auto& [key, r] : routers_) {
    out.push_back(RouterStatus{key, r.state, r.dampening.suppressed(now, config_.dampening),
                               r.dampening.penalty(now, config_.dampening), now - r.registered_at,
                               now - r.last_heard, r.flaps, r.rtt_us});
  }
  return out;
}

}  // namespace dmux::registry
