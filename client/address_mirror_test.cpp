#include "client/address_mirror.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace dmux::client {
namespace {

constexpr std::uint32_t kUplink = 0xc6120102;  // 198.18.1.2
constexpr std::uint32_t kOther = 0xc6120202;   // 198.18.2.2

struct FakeOps final : AddressMirror::Ops {
  std::vector<std::string> log;
  bool fail = false;
  void add(std::uint32_t a) override {
    if (fail) throw std::runtime_error("ip failed");
    log.push_back("add " + std::to_string(a));
  }
  void remove(std::uint32_t a) noexcept override { log.push_back("del " + std::to_string(a)); }
  bool found_first(std::uint32_t a) noexcept override { return a != shadowed; }
  std::uint32_t shadowed = 0;  // an address the kernel finds on its own device first
};

std::string add(std::uint32_t a) { return "add " + std::to_string(a); }
std::string del(std::uint32_t a) { return "del " + std::to_string(a); }

}  // namespace

TEST_CASE("every host address is mirrored once, the TUN device's own never") {
  FakeOps ops;
  AddressMirror m("dmuxc0", ops);
  CHECK(m.update({{kUplink, "eth0"}, {kOther, "eth1"}, {kUplink, "dmuxc0"}}) == 0);
  CHECK(ops.log == std::vector<std::string>{add(kUplink), add(kOther)});
  ops.log.clear();
  CHECK(m.update({{kUplink, "eth0"}, {kOther, "eth1"}, {kUplink, "dmuxc0"}, {kOther, "dmuxc0"}}) ==
        0);
  CHECK(ops.log.empty());
  CHECK(m.mirrored().size() == 2);
}

TEST_CASE("an address the host lost is removed, one that moved is mirrored again") {
  FakeOps ops;
  AddressMirror m("dmuxc0", ops);
  m.update({{kUplink, "eth0"}, {kOther, "eth1"}});
  ops.log.clear();
  // Only the mirror still holds kOther: the host lost it.
  m.update({{kUplink, "eth0"}, {kOther, "dmuxc0"}});
  CHECK(ops.log == std::vector<std::string>{del(kOther)});
  ops.log.clear();
  // kUplink moved to wlan0, which now holds it before the mirror: the mirror goes in again.
  m.update({{kUplink, "wlan0"}, {kUplink, "dmuxc0"}});
  CHECK(ops.log == std::vector<std::string>{del(kUplink), add(kUplink)});
  REQUIRE(m.mirrored().size() == 1);
  CHECK(m.mirrored()[0] == InterfaceAddress{kUplink, "wlan0"});
}

TEST_CASE("a mirror the kernel no longer finds first is added again") {
  FakeOps ops;
  AddressMirror m("dmuxc0", ops);
  m.update({{kUplink, "eth0"}, {kOther, "eth1"}});
  ops.log.clear();
  ops.shadowed = kOther;  // eth1's address was removed and added again between two updates
  m.update({{kUplink, "eth0"}, {kOther, "eth1"}, {kUplink, "dmuxc0"}, {kOther, "dmuxc0"}});
  CHECK(ops.log == std::vector<std::string>{del(kOther), add(kOther)});
  CHECK(m.mirrored().size() == 2);
  // Still not found first right after adding: left alone (warned once), not added every time.
  ops.log.clear();
  m.update({{kUplink, "eth0"}, {kOther, "eth1"}, {kUplink, "dmuxc0"}, {kOther, "dmuxc0"}});
  CHECK(ops.log.empty());
  // Until it goes away.
  m.update({{kUplink, "eth0"}, {kUplink, "dmuxc0"}});
  CHECK(ops.log == std::vector<std::string>{del(kOther)});
}

TEST_CASE("a failed addition is counted and tried again") {
  FakeOps ops;
  AddressMirror m("dmuxc0", ops);
  ops.fail = true;
  CHECK(m.update({{kUplink, "eth0"}}) == 1);
  CHECK(m.mirrored().empty());
  ops.fail = false;
  CHECK(m.update({{kUplink, "eth0"}}) == 0);
  CHECK(ops.log == std::vector<std::string>{add(kUplink)});
}

}  // namespace dmux::client
