// dmuxd's announcement of the dmux-prefix, wired for real: a non-persistent TUN device, the
// netlink route into it, the Announcer state machine fed by a health probe every
// health_interval, and operator drain. Everything runs on the control thread's loop; snapshot()
// may be called from any thread (the metrics exporter's).
//
// FRR picks the route up with `redistribute kernel route-map DMUX-ANNOUNCE` (deploy/frr/): the
// announce metric gives a plain announcement, the drain metric one with the graceful-shutdown
// community, no route no announcement. The process holds the only descriptor of the device, so a
// crash or SIGKILL removes the route and FRR withdraws the prefix; a hang is the watchdog's.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "bgp-glue/announce_config.h"
#include "bgp-glue/announcer.h"
#include "bgp-glue/route_netlink.h"
#include "common/evloop/event_loop.h"
#include "common/net/tun_device.h"

namespace dmux::bgp_glue {

class Announcement {
 public:
  using HealthProbe = std::function<bool()>;  // true = the data plane made progress

  // Creates the device and the netlink socket (throws std::system_error naming what failed).
  // Nothing is announced before `rise` good samples.
  Announcement(evloop::EventLoop& loop, const AnnounceConfig& config, HealthProbe probe);
  ~Announcement();

  void drain() noexcept;
  void undrain() noexcept;
  // Shutdown: drain (if announced), withdraw after drain_withdraw, then call `done` on the loop.
  // Calling it again, or with nothing announced, withdraws and calls `done` at once.
  void drain_then_withdraw(std::function<void()> done);

  // Withdraws at once and for good (the process is exiting).
  void withdraw() noexcept;

  [[nodiscard]] AnnounceSnapshot snapshot() const;
  [[nodiscard]] std::uint64_t stray_packets() const noexcept;
  [[nodiscard]] const AnnounceConfig& config() const noexcept { return config_; }

 private:
  void on_sample() noexcept;
  void publish() noexcept;

  AnnounceConfig config_;
  HealthProbe probe_;
  net::TunDevice tun_;
  NetlinkRoutes routes_;
  Announcer announcer_;
  std::unique_ptr<evloop::Timer> sampler_;
  std::unique_ptr<evloop::IoWatcher> stray_watcher_;
  std::function<void()> on_withdrawn_;

  mutable std::mutex mu_;
  AnnounceSnapshot published_;
  std::atomic<std::uint64_t> stray_{0};  // written by the control thread only
};

}  // namespace dmux::bgp_glue
