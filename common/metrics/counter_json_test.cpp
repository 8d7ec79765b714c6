#include "common/metrics/counter_json.h"

#include <doctest/doctest.h>

#include <array>
#include <string_view>

namespace dmux::metrics {
namespace {

enum class Reason { kFirst, kSecond, kCount_ };
std::string_view to_string(Reason r) { return r == Reason::kFirst ? "first" : "second"; }

struct Counters {
  std::uint64_t seen = 0;
  std::uint64_t kept = 0;
  std::array<std::uint64_t, 2> drops{};
};

constexpr CounterField<Counters> kFields[] = {
    {"seen", "dmux_test_seen_total", "Seen", &Counters::seen},
    {"kept", nullptr, nullptr, &Counters::kept},
    {nullptr, "dmux_test_only_metric_total", "Only exported", &Counters::kept},
};

TEST_CASE("add_counters writes every field that has a JSON name") {
  nlohmann::json doc = nlohmann::json::object();
  add_counters(doc, kFields, Counters{.seen = 3, .kept = 2, .drops = {}});
  CHECK(doc == nlohmann::json{{"seen", 3}, {"kept", 2}});
}

TEST_CASE("add_by_name names each count by its enum value and sums them") {
  nlohmann::json drops = nlohmann::json::object();
  std::uint64_t total = 1;
  const Counters c{.seen = 0, .kept = 0, .drops = {4, 5}};
  add_by_name<Reason>(drops, total, c.drops);
  CHECK(drops == nlohmann::json{{"first", 4}, {"second", 5}});
  CHECK(total == 10);
  CHECK(by_name<Reason>(c.drops) == drops);
}

}  // namespace
}  // namespace dmux::metrics
