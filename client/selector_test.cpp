#include "client/selector.h"

#include <doctest/doctest.h>

#include "common/util/config_error.h"
#include "common/wire/protocols.h"

namespace dmux::client {

TEST_CASE("selectors parse with their defaults and keys") {
  const Selector v6 = parse_selector("ipv6");
  CHECK(v6.kind == Selector::Kind::kIpv6);
  CHECK(v6.proto_id == wire::kProtoIpv6);
  CHECK(v6.provider_id == 0);
  const Selector mc = parse_selector("ipv4-multicast:provider=42");
  CHECK(mc.proto_id == wire::kProtoIpv4Multicast);
  CHECK(mc.provider_id == 42);
  const Selector g = parse_selector("generic:proto=exp-0x8001,provider=7,match=-p udp --dport 9");
  CHECK(g.kind == Selector::Kind::kGeneric);
  CHECK(g.proto_id == 0x8001);
  CHECK(g.provider_id == 7);
  CHECK(g.match == std::vector<std::string>{"-p", "udp", "--dport", "9"});
  CHECK(g.ip_protocol == 17);
  CHECK_FALSE(g.ip_protocol_negated);
}

TEST_CASE("a generic selector knows the IP protocol its match names") {
  CHECK(parse_selector("generic:proto=exp-0x8001,match=-p 253").ip_protocol == 253);
  CHECK(parse_selector("generic:proto=exp-0x8001,match=--protocol tcp").ip_protocol == 6);
  CHECK_FALSE(parse_selector("generic:proto=exp-0x8001,match=-p all").ip_protocol);
  CHECK_FALSE(parse_selector("generic:proto=exp-0x8001,match=-d 198.18.0.0/15").ip_protocol);
  const Selector neg = parse_selector("generic:proto=exp-0x8001,match=! -p 253 -d 198.18.0.0/15");
  CHECK(neg.ip_protocol == 253);
  CHECK(neg.ip_protocol_negated);
  CHECK(parse_selector("generic:proto=exp-0x8001,match=-p ! icmp").ip_protocol_negated);
  CHECK_FALSE(parse_selector("ipv4-multicast").ip_protocol);
  for (const char* bad :
       {"generic:proto=exp-0x8001,match=-p", "generic:proto=exp-0x8001,match=-p 256",
        "generic:proto=exp-0x8001,match=-p nosuchprotocol"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS((void)parse_selector(bad), ConfigError);
  }
}

TEST_CASE("bad selectors name the capture option") {
  for (const char* bad : {"ipv5", "ipv6:provider=x", "ipv6:colour=red", "generic:match=-p 253",
                          "generic:proto=exp-0x8001", "generic:proto=exp-0x8001,match=-j ACCEPT",
                          "ipv6:match=-p 6", "ipv6:provider"}) {
    CAPTURE(bad);
    try {
      (void)parse_selector(bad);
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(e.option() == "capture");
    }
  }
}

TEST_CASE("generic selectors mark and clamp; ipv6 and multicast are selected by routes") {
  CHECK(selector_rules(parse_selector("ipv6"), 7, 1400).empty());
  CHECK(selector_rules(parse_selector("ipv4-multicast"), 8, 1400).empty());
  const auto g =
      selector_rules(parse_selector("generic:proto=exp-0x8001,match=-p 253"), 0xd30001, 1400);
  REQUIRE(g.size() == 2);
  CHECK(g[0].family == 4);
  CHECK(g[0].args == std::vector<std::string>{"-p", "253", "-j", "MARK", "--set-mark", "13828097"});
  CHECK(g[1].args[3] == "13828097");
  CHECK(g[1].args.back() == "1360");
  CHECK(ipv6_mss_rule("dmuxc0", 1400).args.back() == "1340");
}

TEST_CASE("generic selectors are told apart by their IP protocol") {
  const Selector p253 = parse_selector("generic:proto=exp-0x8001,match=-p 253");
  const Selector udp = parse_selector("generic:proto=exp-0x8002,match=-p udp --dport 9");
  const Selector not_udp = parse_selector("generic:proto=exp-0x8003,match=! -p udp");
  const Selector any = parse_selector("generic:proto=exp-0x8004,match=-d 198.18.0.0/15");
  CHECK(may_select(p253, 253));
  CHECK_FALSE(may_select(p253, 17));
  CHECK(may_select(not_udp, 6));
  CHECK_FALSE(may_select(not_udp, 17));
  CHECK(may_select(any, 1));
  CHECK_FALSE(overlap(p253, udp));
  CHECK_FALSE(overlap(udp, not_udp));
  CHECK(overlap(p253, not_udp));
  CHECK(overlap(any, udp));
}

}  // namespace dmux::client
