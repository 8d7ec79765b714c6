// The status-JSON side of a counter list (counter_list.h), and of counts by an enum (drops by
// reason). Control-socket code, not the data path: allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "common/metrics/counter_list.h"

namespace dmux::metrics {

// doc[field.json] = s.*field.value for every field that has a JSON name.
template <typename S, std::size_t N>
void add_counters(nlohmann::json& doc, const CounterField<S> (&fields)[N], const S& s) {
  for (const CounterField<S>& f : fields) {
    if (f.json != nullptr) doc[f.json] = s.*f.value;
  }
}

// out[to_string(Enum(i))] = counts[i], and `total` += each: the "drops" object and its
// "dropped_packets" sum. `to_string` is found by argument-dependent lookup.
template <typename Enum>
void add_by_name(nlohmann::json& out, std::uint64_t& total, std::span<const std::uint64_t> counts) {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out[std::string(to_string(static_cast<Enum>(i)))] = counts[i];
    total += counts[i];
  }
}

// {to_string(Enum(i)): counts[i], ...}.
template <typename Enum>
nlohmann::json by_name(std::span<const std::uint64_t> counts) {
  nlohmann::json out = nlohmann::json::object();
  std::uint64_t total = 0;
  add_by_name<Enum>(out, total, counts);
  return out;
}

}  // namespace dmux::metrics
