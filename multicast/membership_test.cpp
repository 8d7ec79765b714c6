#include "multicast/membership.h"

#include <doctest/doctest.h>

namespace dmux::multicast {
namespace {

using std::chrono::milliseconds;
constexpr std::uint32_t kG1 = 0xef010101, kG2 = 0xef020202, kG3 = 0xef030303;
const Member kA{0xc6120b02, 40000, 0xaaaa};
const Member kB{0xc6120c02, 40001, 0xbbbb};
const MonoTime kT0 = MonoTime(std::chrono::hours(1));

std::size_t count(const Membership& m, std::uint32_t g) {
  const auto* v = m.members(g);
  return v == nullptr ? 0 : v->size();
}

TEST_CASE("join, refresh, leave") {
  Membership m(MembershipConfig{});
  CHECK(m.join(kA, kG1, kT0));
  CHECK(m.join(kB, kG1, kT0));
  CHECK(m.join(kA, kG1, kT0 + milliseconds(10)));  // refresh
  CHECK(count(m, kG1) == 2);
  CHECK(m.counters().joins == 2);
  CHECK(m.counters().refreshes == 1);
  m.leave(kA, kG1, kT0);
  CHECK(count(m, kG1) == 1);
  CHECK(m.client(client_key(kA)) == nullptr);           // no groups left: forgotten
  m.leave(kA, kG2, kT0);                                // unknown: ignored
  m.leave(Member{kB.ipv4, kB.port, 0x1234}, kG1, kT0);  // wrong token: ignored
  CHECK(count(m, kG1) == 1);
  CHECK(m.counters().leaves == 1);
}

TEST_CASE("silent memberships expire after the timeout, refreshed ones stay") {
  Membership m(MembershipConfig{.timeout = milliseconds(1000)});
  m.join(kA, kG1, kT0);
  m.join(kA, kG2, kT0);
  m.join(kB, kG1, kT0);
  m.join(kA, kG2, kT0 + milliseconds(600));
  m.expire(kT0 + milliseconds(999));
  CHECK(m.membership_count() == 3);
  m.expire(kT0 + milliseconds(1000));
  CHECK(count(m, kG1) == 0);
  CHECK(count(m, kG2) == 1);
  CHECK(m.client(client_key(kB)) == nullptr);
  CHECK(m.counters().expired == 2);
  m.expire(kT0 + milliseconds(1600));
  CHECK(m.clients().empty());
  CHECK(m.group_count() == 0);
}

TEST_CASE("limits refuse and count by reason") {
  Membership m(MembershipConfig{
      .max_groups_per_client = 2, .max_members_per_group = 1, .max_groups = 2, .max_clients = 1});
  CHECK(m.join(kA, kG1, kT0));
  CHECK(m.join(kA, kG2, kT0));
  CHECK_FALSE(m.join(kA, kG3, kT0));
  CHECK_FALSE(m.join(kB, kG1, kT0));
  Membership g(MembershipConfig{.max_members_per_group = 1, .max_groups = 1});
  CHECK(g.join(kA, kG1, kT0));
  CHECK_FALSE(g.join(kB, kG1, kT0));
  CHECK_FALSE(g.join(kB, kG2, kT0));
  const auto& r = m.counters().refusals;
  CHECK(r[static_cast<std::size_t>(Refusal::kGroupsPerClient)] == 1);
  CHECK(r[static_cast<std::size_t>(Refusal::kClientsTotal)] == 1);
  const auto& r2 = g.counters().refusals;
  CHECK(r2[static_cast<std::size_t>(Refusal::kMembersPerGroup)] == 1);
  CHECK(r2[static_cast<std::size_t>(Refusal::kGroupsTotal)] == 1);
  CHECK(to_string(Refusal::kGroupsTotal) == "groups_total");
  CHECK(to_string(Refusal::kClientsPerAddress) == "clients_per_address");
}

TEST_CASE("one IPv4 address is capped over all its ports: clients and memberships") {
  Membership m(MembershipConfig{.max_groups_per_client = 6, .max_clients_per_address = 4});
  // 1,100 ports of one address (as a victim named in forged joins would be): 4 clients at most.
  std::size_t accepted = 0;
  for (std::uint16_t port = 1000; port < 2100; ++port) {
    accepted += m.join(Member{kA.ipv4, port, port}, kG1, kT0) ? 1 : 0;
  }
  CHECK(accepted == 4);
  CHECK(count(m, kG1) == 4);
  CHECK(m.counters().refusals[static_cast<std::size_t>(Refusal::kClientsPerAddress)] == 1096);
  // Memberships of the address over its ports: 4 in G1, 2 more fit, then refused.
  CHECK(m.join(Member{kA.ipv4, 1000, 1000}, kG2, kT0));
  CHECK(m.join(Member{kA.ipv4, 1001, 1001}, kG2, kT0));
  CHECK_FALSE(m.join(Member{kA.ipv4, 1002, 1002}, kG2, kT0));
  CHECK(m.counters().refusals[static_cast<std::size_t>(Refusal::kGroupsPerClient)] == 1);
  // Another address is not affected, and leaving makes room again.
  CHECK(m.join(kB, kG2, kT0));
  m.leave(Member{kA.ipv4, 1003, 1003}, kG1, kT0);
  CHECK(m.address_count() == 2);
  CHECK(m.join(Member{kA.ipv4, 5000, 5000}, kG3, kT0));  // a fourth client again
  CHECK_FALSE(m.join(Member{kA.ipv4, 5001, 5001}, kG3, kT0));
  m.expire(kT0 + std::chrono::hours(1));
  CHECK(m.address_count() == 0);
  CHECK(m.join(Member{kA.ipv4, 7, 7}, kG1, kT0 + std::chrono::hours(1)));
}

TEST_CASE("a client back with a new token replaces its old state") {
  Membership m(MembershipConfig{});
  m.join(kA, kG1, kT0);
  m.join(kA, kG2, kT0);
  const Member again{kA.ipv4, kA.port, 0x9999};
  m.join(again, kG3, kT0);
  CHECK(count(m, kG1) == 0);
  REQUIRE(count(m, kG3) == 1);
  CHECK(m.members(kG3)->front().token == 0x9999);
  CHECK(m.counters().replaced_clients == 1);
  m.remove_client(client_key(again));
  CHECK(m.clients().empty());
}

}  // namespace
}  // namespace dmux::multicast
