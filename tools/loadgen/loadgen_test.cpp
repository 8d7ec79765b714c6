// Unit tests for the loadgen's pure parts: pacing schedule, datagram layout, latency summary and
// command-line checks. No sockets, no sleeping.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"
#include "tools/loadgen/deferred_tag_check.h"
#include "tools/loadgen/latency_summary.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/probe.h"

namespace dmux::loadgen {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "dmux-loadgen");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST_CASE("pacer schedules datagrams at the target rate from the start") {
  const Clock::time_point t0{};
  Pacer p(100'000, t0);  // 10 us apart
  CHECK(p.due(0) == t0);
  CHECK(p.due(1) == t0 + microseconds(10));
  CHECK(p.due(100'000) == t0 + std::chrono::seconds(1));
}

TEST_CASE("pacer tolerates small lag but rebases after a long stall") {
  const Clock::time_point t0{};
  Pacer p(1000, t0);                      // 1 ms apart
  p.on_ready(10, t0 + milliseconds(15));  // 5 ms late: keep the schedule (catch up)
  CHECK(p.due(10) == t0 + milliseconds(10));
  p.on_ready(10, t0 + milliseconds(100));  // 90 ms late: restart at now, no burst
  CHECK(p.due(10) == t0 + milliseconds(100));
  CHECK(p.due(11) == t0 + milliseconds(101));
}

TEST_CASE("unpaced sender: everything is due at once") {
  Pacer p(0, Clock::time_point{});
  CHECK_FALSE(p.paced());
  CHECK(p.due(123456) == Clock::time_point{});
}

TEST_CASE("shim datagram parses as DATA and carries the stamp after the header") {
  std::array<std::byte, 128> buf{};
  const ShimSpec shim{.enabled = true, .proto_id = 1, .provider_id = 7, .token = 42};
  std::size_t off = 0;
  REQUIRE(build_datagram(buf, 64, shim, ProbeStamp{5, 99}, off));
  CHECK(off == wire::kDataHeaderLen);
  wire::ShimHeader h;
  std::span<const std::byte> payload;
  REQUIRE(wire::parse_shim(std::span(buf).first(64), wire::MsgType::kData, h, payload) ==
          wire::ParseStatus::kOk);
  CHECK(h.provider_id == wire::ProviderId{7});
  CHECK(h.token == 42);
  CHECK(payload.size() == 64 - wire::kDataHeaderLen);
  ProbeStamp s;
  REQUIRE(read_stamp(payload, s));
  CHECK(s.seq == 5);
  CHECK(s.send_ns == 99);
  REQUIRE(write_stamp(buf, off, ProbeStamp{6, 100}));
  REQUIRE(read_stamp(std::span<const std::byte>(buf).subspan(off), s));
  CHECK(s.seq == 6);
}

TEST_CASE("raw datagram starts with the stamp; too-small sizes are refused") {
  std::array<std::byte, 64> buf{};
  std::size_t off = 99;
  REQUIRE(build_datagram(buf, kProbeStampLen, ShimSpec{}, ProbeStamp{1, 2}, off));
  CHECK(off == 0);
  CHECK_FALSE(build_datagram(buf, kProbeStampLen - 1, ShimSpec{}, ProbeStamp{}, off));
  CHECK_FALSE(build_datagram(buf, 65, ShimSpec{}, ProbeStamp{}, off));
  ProbeStamp s;
  CHECK_FALSE(read_stamp(std::span<const std::byte>(buf).first(kProbeStampLen - 1), s));
  buf[0] = std::byte{0};  // wrong magic
  CHECK_FALSE(read_stamp(buf, s));
}

TEST_CASE("latency summary uses nearest-rank percentiles") {
  std::vector<std::int64_t> ns;
  for (int i = 100; i >= 1; --i) ns.push_back(i * 1000);  // 1..100 us, reversed
  const auto s = summarize(ns);
  CHECK(s.samples == 100);
  CHECK(s.min_us == doctest::Approx(1));
  CHECK(s.p50_us == doctest::Approx(50));
  CHECK(s.p99_us == doctest::Approx(99));
  CHECK(s.max_us == doctest::Approx(100));
  CHECK(s.mean_us == doctest::Approx(50.5));
  CHECK(summarize({}).samples == 0);
}

TEST_CASE("command line: subcommands build their configs") {
  const auto cl = parse({"send", "--target", "198.18.1.1:4500", "--shim", "ipv6,7", "--rate",
                         "1000", "--flows", "8", "--size", "1400"});
  const auto& c = std::get<SendConfig>(cl.config);
  CHECK(c.target.port == 4500);
  CHECK(c.shim.enabled);
  CHECK(c.shim.provider_id == 7);
  CHECK(c.rate_pps == 1000);
  CHECK(c.flows == 8);
  CHECK(c.datagram_bytes == 1400);
  CHECK(std::get<EchoConfig>(parse({"echo", "--listen", "198.18.2.2:5000", "--mode", "raw"}).config)
            .mode == EchoMode::kRaw);
  CHECK(parse({"ping", "--help"}).help);
}

TEST_CASE("command line: the sink checks tags with a key file, only for TUNNELs") {
  const std::string path = "/tmp/loadgen_test.tunnel-key";
  std::ofstream(path) << "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
  const auto c = std::get<SinkConfig>(
      parse({"sink", "--listen", "1.2.3.4:1", "--expect", "tunnel", "--tunnel-key", path.c_str()})
          .config);
  REQUIRE(c.tunnel_key);
  CHECK((*c.tunnel_key)[31] == std::byte{0x1f});
  CHECK_FALSE(std::get<SinkConfig>(parse({"sink", "--listen", "1.2.3.4:1"}).config).tunnel_key);
  CHECK(c.check_later_bytes == 0);
  CHECK(std::get<SinkConfig>(parse({"sink", "--listen", "1.2.3.4:1", "--expect", "tunnel",
                                    "--tunnel-key", path.c_str(), "--check-later-mb", "3"})
                                 .config)
            .check_later_bytes == 3u << 20);
  CHECK_THROWS_AS(parse({"sink", "--listen", "1.2.3.4:1", "--check-later-mb", "3"}), UsageError);
  CHECK_THROWS_AS(parse({"sink", "--listen", "1.2.3.4:1", "--tunnel-key", path.c_str()}),
                  UsageError);  // without --expect tunnel
  std::ofstream(path) << "0001";
  CHECK_THROWS_AS(
      parse({"sink", "--listen", "1.2.3.4:1", "--expect", "tunnel", "--tunnel-key", path.c_str()}),
      UsageError);
  std::remove(path.c_str());
  CHECK_THROWS_AS(parse({"sink", "--listen", "1.2.3.4:1", "--expect", "tunnel", "--tunnel-key",
                         "/nonexistent/key"}),
                  UsageError);
}

TEST_CASE("deferred tag checks find every wrong tag, and say when the log is full") {
  crypto::TunnelKeyBytes k{};
  k[0] = std::byte{7};
  const crypto::TunnelKey key(k);
  std::vector<std::byte> d(wire::kTunnelHeaderLen + 30, std::byte{0x42});
  const wire::TunnelHeader h{
      .proto_id = wire::ProtoId{1}, .gateway_id = wire::GatewayId{9}, .counter = 5};
  REQUIRE(wire::write_tunnel(d, h) == wire::kTunnelHeaderLen);
  wire::seal_tunnel(d, wire::GatewayId{9}, 5, key);
  DeferredTagCheck later(3 * (d.size() + 2));
  auto bad = d;
  bad.back() ^= std::byte{1};
  CHECK(later.add(d));
  CHECK(later.add(bad));
  CHECK(later.add(d));
  CHECK_FALSE(later.add(d));  // full
  CHECK(later.kept() == 3);
  CHECK(later.check_all(key) == 1);
  CHECK(later.check_all(key) == 0);  // emptied
  CHECK(later.add(bad));
  CHECK(later.check_all(key) == 1);
}

TEST_CASE("command line: bad values are one-line usage errors") {
  CHECK_THROWS_AS(parse({}), UsageError);
  CHECK_THROWS_AS(parse({"blast"}), UsageError);
  CHECK_THROWS_AS(parse({"send"}), UsageError);  // --target missing
  CHECK_THROWS_AS(parse({"send", "--target", "1.2.3.4"}), UsageError);
  CHECK_THROWS_AS(parse({"send", "--target", "1.2.3.4:1", "--shim", "ipv6"}), UsageError);
  CHECK_THROWS_AS(parse({"send", "--target", "1.2.3.4:1", "--shim", "ipv6,x"}), UsageError);
  CHECK_THROWS_AS(parse({"send", "--target", "1.2.3.4:1", "--shim", "ipv6,1", "--size", "30"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"send", "--target", "1.2.3.4:1", "--flows", "0"}), UsageError);
  CHECK_THROWS_AS(parse({"sink", "--listen", "1.2.3.4:1", "--expect", "foo"}), UsageError);
  CHECK_THROWS_AS(parse({"ping", "--target", "1.2.3.4:1", "--bogus"}), UsageError);
}

}  // namespace
}  // namespace dmux::loadgen
