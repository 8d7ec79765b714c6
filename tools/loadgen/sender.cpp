#include "tools/loadgen/sender.h"

#include <cerrno>
#include <stdexcept>

#include "tools/loadgen/flow_sockets.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/probe.h"
#include "tools/loadgen/stop_signal.h"

namespace dmux::loadgen {

Sender::Sender(const SendConfig& config) : config_(config) {
  datagram_.resize(config_.datagram_bytes);
  std::size_t stamp_offset = 0;
  if (!build_datagram(datagram_, datagram_.size(), config_.shim, ProbeStamp{}, stamp_offset)) {
    throw std::invalid_argument("datagram size " + std::to_string(config_.datagram_bytes) +
                                " is below the minimum " +
                                std::to_string(min_datagram_bytes(config_.shim)));
  }
  flows_ = open_flow_sockets(config_);
  iov_ = iovec{datagram_.data(), datagram_.size()};
  msgs_.resize(config_.batch);
  for (auto& m : msgs_) {
    m.msg_hdr.msg_iov = &iov_;
    m.msg_hdr.msg_iovlen = 1;
  }
}

SendReport Sender::run() noexcept {
  tighten_timer_slack();
  SendReport report;
  const auto start = Clock::now();
  const auto end = start + config_.duration;
  Pacer pacer(config_.rate_pps, start);
  std::size_t flow = 0;

  for (;;) {
    if (stop_requested()) break;
    auto now = Clock::now();
    if (pacer.paced()) {
      const auto due = pacer.due(report.packets);
      if (due >= end) {
        if (now < end) sleep_until(end);  // nothing more is due within the run
        break;
      }
      if (due > now) {
        wait_until(due);
      } else {
        pacer.on_ready(report.packets, now);
      }
    } else if (now >= end) {
      break;
    }
    const int sent =
        ::sendmmsg(flows_[flow].get(), msgs_.data(), static_cast<unsigned>(msgs_.size()), 0);
    if (sent < 0) {
      if (errno != EINTR) ++report.send_errors;
    } else {
      report.packets += static_cast<std::uint64_t>(sent);
    }
    if (++flow == flows_.size()) flow = 0;
  }

  report.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  report.bytes = report.packets * datagram_.size();
  report.achieved_pps =
      report.elapsed_s > 0 ? static_cast<double>(report.packets) / report.elapsed_s : 0;
  return report;
}

}  // namespace dmux::loadgen
