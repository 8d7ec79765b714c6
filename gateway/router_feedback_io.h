// The sockets of router feedback (docs/protocol.md 9.9) on the control thread: a raw ICMP socket
// that sees every port unreachable this host receives (filtered in the kernel to type 3), and a
// UDP socket on the tunnel source address the probes leave from, so that their refusals come back
// here. The rules are in registry/router_feedback; this only moves bytes.
//
// Needs CAP_NET_RAW. Without it (or with --tunnel-source unset) the gateway runs without ICMP
// feedback and relies on missed keepalives alone; open() says why.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "registry/router_feedback.h"

namespace dmux::gateway {

class RouterFeedbackIo {
 public:
  // `on_change` runs after a batch of ICMP that withdrew a router (control thread).
  RouterFeedbackIo(evloop::EventLoop& loop, const registry::FeedbackConfig& config,
                   registry::RouterRegistry& registry, std::function<void()> on_change);
  ~RouterFeedbackIo();

  // Opens the sockets; returns an error text instead if it cannot (then nothing is watched).
  std::optional<std::string> open();
  // Reads everything pending (the expiry tick calls this before it expires anything).
  void drain() noexcept;
  void expire(registry::TimePoint now) noexcept { feedback_.expire(now); }
  // Probes routers silent for suspect_after keepalive intervals (RouterRegistry::take_silent):
  // a dead agent's host refuses the probe and drain() withdraws the router on that.
  void probe_silent(const std::vector<std::uint64_t>& sessions, registry::TimePoint now) noexcept;
  [[nodiscard]] const registry::FeedbackCounters& counters() const noexcept {
    return feedback_.counters();
  }
  [[nodiscard]] bool active() const noexcept { return icmp_fd_.valid(); }

 private:
  void send(const registry::RouterFeedback::Probe& probe) noexcept;

  evloop::EventLoop& loop_;
  registry::FeedbackConfig config_;
  registry::RouterFeedback feedback_;
  std::function<void()> on_change_;
  net::UniqueFd icmp_fd_, probe_fd_;
  std::unique_ptr<evloop::IoWatcher> watcher_;
  std::array<std::byte, 1500> rx_{};
};

}  // namespace dmux::gateway
