#include "agent/key_files.h"

#include <doctest/doctest.h>

#include <fstream>

#include "agent/agent_options.h"
#include "common/util/config_error.h"
#include "tests/temp_dir.h"

namespace dmux::agent {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

const std::string kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";

TEST_CASE("key files are read, and bad ones refused with the path in the message") {
  testing::TempDir dir("dmux-agent-keys");
  write(dir.file("t.key"), kHex.substr(0, 32) + "\n" + kHex.substr(32) + "\n");
  const crypto::TunnelKeyBytes k = load_tunnel_key_file(dir.file("t.key"));
  for (std::size_t i = 0; i < k.size(); ++i) CHECK(std::to_integer<std::size_t>(k[i]) == i);
  write(dir.file("short.hex"), kHex.substr(2));
  CHECK_THROWS(load_tunnel_key_file(dir.file("short.hex")));
  write(dir.file("bad.key"), "not a key\n");
  CHECK_THROWS_WITH(load_tunnel_key_file(dir.file("bad.key")),
                    doctest::Contains(dir.file("bad.key").c_str()));
  CHECK_THROWS(load_tunnel_key_file(dir.file("missing.key")));

  const std::string seed = "0123456789abcdef\n";
  write(dir.file("r.key"), seed);
  CHECK(load_return_key_file(dir.file("r.key")) ==
        crypto::derive_return_key(std::as_bytes(std::span(seed.data(), seed.size()))));
  write(dir.file("short.key"), "0123456789abcde");
  CHECK_THROWS_WITH(load_return_key_file(dir.file("short.key")),
                    doctest::Contains("fewer than 16 bytes"));
}

TEST_CASE("agent options: allowed prefixes and secrets, errors named by option") {
  CHECK(parse_allowed_destinations({"198.18.0.0/15", "10.0.0.0/8"}).size() == 2);
  try {
    parse_allowed_destinations({"198.18.0.1/15"});
    FAIL("accepted host bits");
  } catch (const ConfigError& e) {
    CHECK(e.option() == "allow-destination");
  }
  testing::TempDir dir("dmux-agent-secrets");
  const crypto::SigningKey provider = crypto::SigningKey::generate();
  CHECK(load_secrets(AgentOptions{}, provider).return_key == crypto::derive_return_key(provider));
  CHECK_FALSE(load_secrets(AgentOptions{}, provider).static_tunnel_key);
  write(dir.file("t.key"), kHex);
  const AgentSecrets s =
      load_secrets(AgentOptions{.static_tunnel_key_file = dir.file("t.key")}, provider);
  CHECK(s.static_tunnel_key == load_tunnel_key_file(dir.file("t.key")));
  for (const auto& [options, name] :
       {std::pair{AgentOptions{.return_key_file = dir.file("none")}, "return-key"},
        std::pair{AgentOptions{.static_tunnel_key_file = dir.file("none")}, "static-tunnel-key"}}) {
    try {
      load_secrets(options, provider);
      FAIL("accepted a missing file");
    } catch (const ConfigError& e) {
      CHECK(e.option() == name);
    }
  }
}

}  // namespace
}  // namespace dmux::agent
