#include "mesh/handshake_limiter.h"

#include <algorithm>

namespace dmux::mesh {

HandshakeLimiter::Verdict HandshakeLimiter::on_accept(std::uint32_t source, TimePoint now) {
  if (pending_ >= limits_.max_pending) return Verdict::kTooMany;
  auto it = sources_.find(source);
  if (it != sources_.end()) {
    if (now < it->second.blocked_until) return Verdict::kPenalised;
    if (it->second.pending >= limits_.max_per_source) return Verdict::kTooManyFromSource;
  } else {
    forget_oldest_if_full();
    it = sources_.emplace(source, Source{}).first;
  }
  ++it->second.pending;
  ++pending_;
  return Verdict::kAccept;
}

void HandshakeLimiter::on_authenticated(std::uint32_t source) { release(source, false, {}); }

void HandshakeLimiter::on_failed(std::uint32_t source, TimePoint now) {
  release(source, true, now);
}

void HandshakeLimiter::release(std::uint32_t source, bool failed, TimePoint now) {
  auto it = sources_.find(source);
  if (it == sources_.end() || it->second.pending == 0) return;
  --it->second.pending;
  --pending_;
  Source& s = it->second;
  if (failed) {
    if (++s.failures < 2) return;
    s.penalty =
        s.penalty.count() == 0 ? limits_.penalty_min : std::min(s.penalty * 2, limits_.penalty_max);
    s.blocked_until = now + s.penalty;
  } else {
    s.failures = 0;
    s.penalty = std::chrono::milliseconds(0);
    s.blocked_until = {};
    if (s.pending == 0) sources_.erase(it);
  }
}

void HandshakeLimiter::forget_oldest_if_full() {
  if (sources_.size() < limits_.max_tracked_sources) return;
  // Forget the penalised source whose penalty ends first; sources with pending links stay.
  auto victim = sources_.end();
  for (auto it = sources_.begin(); it != sources_.end(); ++it) {
    if (it->second.pending != 0) continue;
    if (victim == sources_.end() || it->second.blocked_until < victim->second.blocked_until) {
      victim = it;
    }
  }
  if (victim != sources_.end()) sources_.erase(victim);
}

}  // namespace dmux::mesh
