#include "gateway/data_plane.h"

namespace dmux::gateway {

DataPlane::DataPlane(const WorkerConfig& config, unsigned workers, const TablePublisher& tables) {
  for (unsigned i = 0; i < workers; ++i)
    workers_.push_back(std::make_unique<Worker>(config, tables));
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

CounterTotals DataPlane::totals() const noexcept {
  CounterTotals t;
  for (const auto& w : workers_) t.add(w->counters());
  return t;
}

}  // namespace dmux::gateway
