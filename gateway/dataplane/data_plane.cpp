#include "gateway/dataplane/data_plane.h"

namespace dmux::gateway {

DataPlane::DataPlane(const WorkerConfig& config, unsigned workers, const TablePublisher& tables,
                     std::uint64_t unix_time_us)
    : counter_(unix_time_us) {
  for (unsigned i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(config, tables, counter_));
  }
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::start() {
  for (auto& w : workers_) w->start();
}

void DataPlane::stop() {
  for (auto& w : workers_) w->stop();
}

std::vector<std::uint64_t> DataPlane::heartbeats() const {
  std::vector<std::uint64_t> beats;
  beats.reserve(workers_.size());
  for (const auto& w : workers_) beats.push_back(w->heartbeat());
  return beats;
}

std::vector<std::uint64_t> DataPlane::received_per_worker() const {
  std::vector<std::uint64_t> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) {
    CounterTotals t;
    t.add(w->counters());
    std::uint64_t n = 0;
    for (const auto v : t.rx_packets) n += v;
    out.push_back(n);
  }
  return out;
}

CounterTotals DataPlane::totals() const noexcept {
  CounterTotals t;
  for (const auto& w : workers_) t.add(w->counters());
  return t;
}

}  // namespace dmux::gateway
