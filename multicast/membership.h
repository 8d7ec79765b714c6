// The local group membership of a multicast router: which clients joined which groups, as IGMP
// soft state (docs/multicast.md). A membership lives until a leave or until no report has
// mentioned it for the membership timeout (IGMP's group membership interval, 260 s by default).
// Caps per client IPv4 address over all its ports (docs/protocol.md 14.1: memberships and
// clients), so that one address cannot collect copies of a group through many ports, and per
// group and in total.
//
// Driven by event-named calls with the current time; never reads a clock. Single-threaded (the
// router's event loop). Joins and leaves may allocate (control plane: one per IGMP record);
// members() is what the data path calls, and it neither allocates nor throws.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "multicast/member.h"

namespace dmux::multicast {

struct MembershipConfig {
  std::chrono::milliseconds timeout{260000};  // a membership no report refreshed this long expires
  std::size_t max_groups_per_client = 64;     // memberships of one IPv4 address, all its ports
  std::size_t max_clients_per_address = 4;    // clients (ports) of one IPv4 address
  std::size_t max_members_per_group = 1024;   // local members of one group
  std::size_t max_groups = 4096;              // groups with at least one local member
  std::size_t max_clients = 16384;            // clients with at least one membership
};

enum class Refusal : std::uint8_t {
  kGroupsPerClient = 0,  // per client IPv4 address (all its ports)
  kClientsPerAddress,
  kMembersPerGroup,
  kGroupsTotal,
  kClientsTotal,
  kCount_,
};
inline constexpr std::size_t kRefusalReasons = static_cast<std::size_t>(Refusal::kCount_);
std::string_view to_string(Refusal r) noexcept;

struct MembershipCounters {
  std::uint64_t joins = 0;      // new memberships (refreshes of existing ones are not counted)
  std::uint64_t refreshes = 0;  // reports that refreshed an existing membership
  std::uint64_t leaves = 0;     // memberships ended by a leave
  std::uint64_t expired = 0;    // memberships ended by the timeout
  std::uint64_t replaced_clients = 0;  // a client came back with a new token
  std::uint64_t removed_clients = 0;   // clients dropped by remove_client (moved to a peer)
  std::array<std::uint64_t, kRefusalReasons> refusals{};
};

class Membership {
 public:
  struct Group {
    std::uint32_t group = 0;
    MonoTime refreshed{};  // last report that mentioned it
  };
  struct Client {
    std::uint64_t token = 0;
    MonoTime last_report{};  // last IGMP report from this client (any group)
    std::vector<Group> groups;
  };

  explicit Membership(const MembershipConfig& config) : config_(config) {}

  // A report from `m` joining `group` (a routable group), at `now`. Refreshes an existing
  // membership. False if refused by a limit (counted).
  bool join(const Member& m, std::uint32_t group, MonoTime now);
  // A report from `m` leaving `group`. Unknown memberships are ignored.
  void leave(const Member& m, std::uint32_t group, MonoTime now);
  // Removes memberships not refreshed within the timeout, and clients left without any.
  void expire(MonoTime now);
  // Forgets a client entirely (it is now a member at another router).
  void remove_client(std::uint64_t key);

  // The local members of `group`, or nullptr. Valid until the next mutating call.
  [[nodiscard]] const std::vector<Member>* members(std::uint32_t group) const noexcept;
  [[nodiscard]] const std::unordered_map<std::uint64_t, Client>& clients() const noexcept {
    return clients_;
  }
  [[nodiscard]] const Client* client(std::uint64_t key) const noexcept;
  [[nodiscard]] std::size_t group_count() const noexcept { return groups_.size(); }
  [[nodiscard]] std::size_t membership_count() const noexcept;
  [[nodiscard]] const MembershipCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const MembershipConfig& config() const noexcept { return config_; }
  // Client IPv4 addresses with at least one membership.
  [[nodiscard]] std::size_t address_count() const noexcept { return addresses_.size(); }

 private:
  // What one client IPv4 address holds, over all its ports.
  struct AddressUse {
    std::size_t clients = 0;
    std::size_t memberships = 0;
  };

  bool refuse(Refusal r) noexcept {
    ++counters_.refusals[static_cast<std::size_t>(r)];
    return false;
  }
  [[nodiscard]] bool admits(std::uint32_t ipv4, bool new_client, std::uint32_t group) noexcept;
  void unlink(std::uint32_t group, std::uint64_t key);
  // `memberships` (and the client itself if `client_gone`) of `key`'s address ended.
  void release(std::uint64_t key, std::size_t memberships, bool client_gone) noexcept;

  MembershipConfig config_;
  std::unordered_map<std::uint64_t, Client> clients_;
  std::unordered_map<std::uint32_t, std::vector<Member>> groups_;
  std::unordered_map<std::uint32_t, AddressUse> addresses_;
  MembershipCounters counters_;
};

}  // namespace dmux::multicast
