// dmux-healthcheck's App: a data-path watchdog beside dmuxd, for hangs that fate-sharing cannot
// see (a SIGSTOPped or deadlocked dmuxd keeps its TUN device, hence its route). Every
// --interval-ms it sends dmuxd one DATA probe; dmuxd tunnels it back to this process (a
// --static-router of the health protocol points here). After --fall probes missed in a row it
// takes dmuxd's announcement device down, so the kernel deletes the route and FRR withdraws the
// prefix; dmuxd, when it runs again, notices (bgp-glue/announcer.h), brings the device up and
// re-announces after its own rise. A separate process on purpose: a frozen process runs none of
// its threads. Start-up code throws; SIGTERM and SIGINT stop it.
#pragma once

#include <array>
#include <cstddef>
#include <memory>

#include "bgp-glue/data_path_check.h"
#include "bgp-glue/healthcheck/healthcheck_config.h"
#include "common/app/daemon_wiring.h"
#include "common/crypto/data_path_mac.h"
#include "common/evloop/event_loop.h"
#include "common/net/udp_socket.h"

namespace dmux::bgp_glue {

class HealthcheckApp {
 public:
  // `key`: the static router's tunnel key (--key), read by the skeleton's load step.
  HealthcheckApp(HealthcheckConfig config, const crypto::TunnelKeyBytes& key);
  void run();  // until SIGTERM or SIGINT

 private:
  // Read first, judge second: after a stall of this process, replies already queued count (the
  // checker's own delay is not dmuxd's). Then the next probe, and the timer for the step after.
  void step();
  void read_replies();
  void act(DataPathCheck::Change change);

  HealthcheckConfig config_;
  crypto::TunnelKey key_;
  DataPathCheck check_;
  net::UniqueFd sock_;
  std::array<std::byte, 2048> rx_{};
  evloop::EventLoop loop_;
  std::unique_ptr<evloop::IoWatcher> replies_;
  std::unique_ptr<evloop::Timer> timer_;
  std::unique_ptr<app::StopSignals> signals_;
};

}  // namespace dmux::bgp_glue
