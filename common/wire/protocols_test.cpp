#include "common/wire/protocols.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

using namespace dmux::wire;

TEST_CASE("protocol names and numbers parse; reserved ids do not") {
  CHECK(parse_protocol("ipv6") == kProtoIpv6);
  CHECK(parse_protocol("ipv4-multicast") == kProtoIpv4Multicast);
  CHECK(parse_protocol("1") == 1);
  CHECK(parse_protocol("0x8001") == 0x8001);
  CHECK(parse_protocol("exp-0x8001") == 0x8001);
  CHECK_FALSE(parse_protocol("0"));
  CHECK_FALSE(parse_protocol("65535"));
  CHECK_FALSE(parse_protocol("65536"));
  CHECK_FALSE(parse_protocol("ipv7"));
  CHECK_FALSE(parse_protocol(""));
  CHECK(protocol_name(1) == "ipv6");
  CHECK(protocol_name(0x8001) == "exp-0x8001");
  CHECK(protocol_name(77) == "77");
}

TEST_CASE("counter slots: assigned protocols get their own, the rest share 'other'") {
  CHECK(protocol_slot(kProtoIpv6) != 0);
  CHECK(protocol_slot(kProtoIpv4Multicast) != protocol_slot(kProtoIpv6));
  CHECK(protocol_slot(0x8001) == 0);
  CHECK(protocol_slot_name(0) == "other");
  CHECK(protocol_slot_name(protocol_slot(kProtoIpv6)) == "ipv6");
}

TEST_CASE("docs/protocol.md lists exactly the assigned protocols of protocols.h") {
  std::ifstream in(DMUX_SOURCE_DIR "/docs/protocol.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  // Rows look like: | 1 | `ipv6` | ... |
  const std::regex row(R"(\|\s*(\d+)\s*\|\s*`([a-z0-9-]+)`\s*\|)");
  std::map<int, std::string> documented;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
       ++it) {
    documented[std::stoi((*it)[1])] = (*it)[2];
  }
  std::map<int, std::string> coded;
  for (const auto& p : kProtocols) coded[p.id] = std::string(p.name);
  CHECK(documented == coded);
}
