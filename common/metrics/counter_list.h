// A daemon's counters described once: for each, its status-JSON field, its Prometheus counter and
// help, and where it lives. The daemon's counters.h holds the list; its status_json.cpp feeds it to
// add_counters (counter_json.h) and its metrics_exporter.cpp to add_counter_families
// (daemon_families.h), so a counter's names are written in one place. No dependencies: the list
// is plain data, usable in constant expressions.
#pragma once

#include <cstdint>

namespace dmux::metrics {

// `V` is the count, or an array of counts that a daemon labels itself (dmuxd: by protocol).
template <typename S, typename V = std::uint64_t>
struct CounterField {
  const char* json;    // field of the status document; nullptr: not in it
  const char* metric;  // Prometheus counter family; nullptr: not exported
  const char* help;    // the family's HELP (with `metric`)
  V S::*value;
};

}  // namespace dmux::metrics
