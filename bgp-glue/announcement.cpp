#include "bgp-glue/announcement.h"

#include <unistd.h>

#include <array>

#include "common/util/log.h"

namespace dmux::bgp_glue {
namespace {
std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }
}  // namespace

Announcement::Announcement(evloop::EventLoop& loop, const AnnounceConfig& config, HealthProbe probe)
    : config_(config),
      probe_(std::move(probe)),
      tun_(config.device, net::TunOptions{}),
      routes_(config.prefix, tun_.ifindex(), tun_.name()),
      announcer_(config_, routes_) {
  // Addresses of the prefix that are not local to this PoP end up in the device: read and count
  // them so the device's queue never fills.
  stray_watcher_ = std::make_unique<evloop::IoWatcher>(loop, tun_.fd(), [this] {
    std::array<std::byte, 2048> buf{};
    while (::read(tun_.fd(), buf.data(), buf.size()) > 0) {
      stray_.store(stray_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  });
  sampler_ = std::make_unique<evloop::Timer>(loop, [this] { on_sample(); });
  sampler_->start_periodic(config_.health_interval);
  publish();
  LOG_INFO(
      "announce: %s via %s (metric %u, drain metric %u), health every %lld ms, rise %u, "
      "fall %u",
      config_.prefix.to_string().c_str(), tun_.name().c_str(), config_.metric, config_.drain_metric,
      static_cast<long long>(config_.health_interval.count()), config_.rise, config_.fall);
}

Announcement::~Announcement() { announcer_.withdraw_now(); }

void Announcement::on_sample() noexcept {
  announcer_.on_health_sample(probe_ ? probe_() : true, now());
  publish();
  if (on_withdrawn_ && !announcer_.snapshot(now()).installed_metric) {
    auto done = std::move(on_withdrawn_);
    on_withdrawn_ = nullptr;
    done();
  }
}

void Announcement::drain() noexcept {
  announcer_.drain(now());
  publish();
}

void Announcement::undrain() noexcept {
  if (on_withdrawn_) return;  // shutting down: stays drained
  announcer_.undrain(now());
  publish();
}

void Announcement::drain_then_withdraw(std::function<void()> done) {
  const bool announced = announcer_.snapshot(now()).installed_metric.has_value();
  if (on_withdrawn_ || !announced) {
    announcer_.withdraw_now();
    publish();
    on_withdrawn_ = nullptr;
    done();
    return;
  }
  on_withdrawn_ = std::move(done);
  announcer_.drain(now());
  publish();
}

void Announcement::withdraw() noexcept {
  announcer_.withdraw_now();
  publish();
}

void Announcement::publish() noexcept {
  const auto s = announcer_.snapshot(now());
  const std::lock_guard lock(mu_);
  published_ = s;
}

AnnounceSnapshot Announcement::snapshot() const {
  const std::lock_guard lock(mu_);
  return published_;
}

std::uint64_t Announcement::stray_packets() const noexcept {
  return stray_.load(std::memory_order_relaxed);
}

}  // namespace dmux::bgp_glue
