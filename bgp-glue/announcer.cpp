#include "bgp-glue/announcer.h"

#include "common/util/log.h"

namespace dmux::bgp_glue {

std::string_view to_string(AnnounceState s) noexcept {
  switch (s) {
    case AnnounceState::kWithdrawn:
      return "withdrawn";
    case AnnounceState::kAnnounced:
      return "announced";
    case AnnounceState::kDraining:
      return "draining";
    case AnnounceState::kDrained:
      return "drained";
  }
  return "unknown";
}

Announcer::Announcer(const AnnounceConfig& config, RouteControl& routes)
    : config_(config), routes_(routes) {}

void Announcer::on_health_sample(bool good, TimePoint now) noexcept {
  if (good) {
    bad_run_ = 0;
    if (!healthy_ && ++good_run_ >= config_.rise) {
      healthy_ = true;
      LOG_INFO("health: up after %u good samples", good_run_);
    }
  } else {
    ++bad_samples_;
    good_run_ = 0;
    if (healthy_ && ++bad_run_ >= config_.fall) {
      healthy_ = false;
      LOG_WARN("health: down after %u bad samples", bad_run_);
    }
  }
  apply(now);
}

void Announcer::drain(TimePoint now) noexcept {
  if (!drain_requested_) {
    drain_requested_ = true;
    drain_since_ = now;
    LOG_INFO("drain: graceful shutdown of %s for %lld ms, then withdrawal",
             config_.prefix.to_string().c_str(),
             static_cast<long long>(config_.drain_withdraw.count()));
  }
  apply(now);
}

void Announcer::undrain(TimePoint now) noexcept {
  if (drain_requested_) {
    drain_requested_ = false;
    LOG_INFO("undrain: %s announced again%s", config_.prefix.to_string().c_str(),
             healthy_ ? "" : " once healthy");
  }
  apply(now);
}

void Announcer::withdraw_now() noexcept {
  forced_down_ = true;
  apply(TimePoint{});
}

std::optional<std::uint32_t> Announcer::wanted_metric(TimePoint now) const noexcept {
  if (forced_down_ || !healthy_) return std::nullopt;
  if (!drain_requested_) return config_.metric;
  if (now - drain_since_ < config_.drain_withdraw) return config_.drain_metric;
  return std::nullopt;
}

void Announcer::apply(TimePoint now) noexcept {
  if (installed_ && !forced_down_ && !routes_.present(*installed_)) {
    // Removed behind our back: dmux-healthcheck judged this process dead (frozen, or its data
    // path silent). Believe it: healthy again only after `rise` good samples, then re-announce.
    LOG_WARN(
        "announce: %s was withdrawn from outside (health checker?); re-announcing once "
        "healthy for %u samples",
        config_.prefix.to_string().c_str(), config_.rise);
    installed_.reset();
    healthy_ = false;
    good_run_ = 0;
    ++external_withdrawals_;
  }
  const auto want = wanted_metric(now);
  if (want == installed_) return;
  if (want) {
    if (!routes_.add(*want)) {
      ++failures_;
      return;
    }
    ++transitions_;
    if (installed_ && !routes_.remove(*installed_)) ++failures_;  // make before break
    LOG_INFO("announce: %s via %s, metric %u (%s)", config_.prefix.to_string().c_str(),
             config_.device.c_str(), *want, *want == config_.metric ? "announced" : "draining");
  } else {
    if (!routes_.remove(*installed_)) {
      ++failures_;
      return;
    }
    ++transitions_;
    LOG_INFO("announce: %s withdrawn (%s)", config_.prefix.to_string().c_str(),
             forced_down_ ? "shutting down"
             : !healthy_  ? "unhealthy"
                          : "drained");
  }
  installed_ = want;
}

AnnounceState Announcer::state(TimePoint now) const noexcept {
  if (drain_requested_) {
    return installed_ && now - drain_since_ < config_.drain_withdraw ? AnnounceState::kDraining
                                                                     : AnnounceState::kDrained;
  }
  return installed_ ? AnnounceState::kAnnounced : AnnounceState::kWithdrawn;
}

AnnounceSnapshot Announcer::snapshot(TimePoint now) const noexcept {
  AnnounceSnapshot s;
  s.state = state(now);
  s.healthy = healthy_;
  s.drain_requested = drain_requested_;
  s.installed_metric = installed_;
  s.transitions = transitions_;
  s.route_failures = failures_;
  s.bad_samples = bad_samples_;
  s.external_withdrawals = external_withdrawals_;
  if (s.state == AnnounceState::kDraining) {
    s.drain_remaining_seconds =
        std::chrono::duration<double>(config_.drain_withdraw - (now - drain_since_)).count();
  }
  return s;
}

}  // namespace dmux::bgp_glue
