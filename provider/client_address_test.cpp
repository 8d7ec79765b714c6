#include "provider/client_address.h"

#include <doctest/doctest.h>

namespace dmux::provider {
namespace {

ClientPrefix prefix7() { return *parse_client_prefix("2001:db8:7::/48"); }

}  // namespace

TEST_CASE("the protocol.md section 11 example embeds and decodes") {
  const EmbeddedClient c{.ipv4 = 0xc6120102, .port = 40000, .tag = 0xdeadbeef};  // 198.18.1.2
  const Ipv6Address a = embed(prefix7(), c);
  CHECK(to_string(a) == "2001:db8:7:c612:102:9c40:dead:beef");
  EmbeddedClient back;
  REQUIRE(extract(prefix7(), a, back));
  CHECK(back == c);
}

TEST_CASE("extract refuses addresses outside the prefix") {
  const Ipv6Address a = embed(*parse_client_prefix("2001:db8:8::/48"), {1, 2, 3});
  EmbeddedClient out;
  CHECK_FALSE(extract(prefix7(), a, out));
  CHECK_FALSE(in_prefix(prefix7(), a));
}

TEST_CASE("client prefixes must be /48 with clear host bits") {
  CHECK(to_string(prefix7()) == "2001:db8:7::/48");
  CHECK_FALSE(parse_client_prefix("2001:db8:7::/64"));
  CHECK_FALSE(parse_client_prefix("2001:db8:7::"));
  CHECK_FALSE(parse_client_prefix("2001:db8:7::1/48"));
  CHECK_FALSE(parse_client_prefix("2001:db8:7::/48x"));
  CHECK_FALSE(parse_client_prefix("198.18.0.0/48"));
  CHECK_FALSE(parse_client_prefix("/48"));
}

TEST_CASE("the source check wants the TUNNEL's own ipv4 and port, whatever the tag") {
  const std::uint32_t ip = 0xc6120102;
  const Ipv6Address src = embed(prefix7(), {ip, 40000, 0xdeadbeef});
  CHECK(source_matches_client(prefix7(), src, ip, 40000));
  CHECK(source_matches_client(prefix7(), embed(prefix7(), {ip, 40000, 1}), ip, 40000));
  CHECK_FALSE(source_matches_client(prefix7(), src, ip + 1, 40000));
  CHECK_FALSE(source_matches_client(prefix7(), src, ip, 40001));
  const Ipv6Address elsewhere =
      embed(*parse_client_prefix("2001:db8:9::/48"), {ip, 40000, 0xdeadbeef});
  CHECK_FALSE(source_matches_client(prefix7(), elsewhere, ip, 40000));
}

}  // namespace dmux::provider
