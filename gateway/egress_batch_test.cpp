#include "gateway/egress_batch.h"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <vector>

#include "common/net/udp_socket.h"

using namespace dmux;
using namespace dmux::gateway;

namespace {
std::array<std::byte, 2000> g_bytes{};

OutPacket pkt(std::uint32_t dest, std::size_t payload) {
  return OutPacket{std::span(g_bytes.data(), 28), std::span(g_bytes.data() + 28, payload),
                   net::Endpoint{dest, 5000}, 1};
}

std::vector<std::uint32_t> plan(const std::vector<OutPacket>& ps, std::size_t& groups,
                                GsoLimits limits = {}) {
  std::vector<SendGroup> g(ps.size());
  std::vector<std::uint32_t> of(ps.size());
  groups = plan_send_groups(ps, g, of, limits);
  return of;
}
}  // namespace

TEST_CASE("equal sizes to one router form one group; a shorter last one joins and closes it") {
  std::size_t n = 0;
  auto of = plan({pkt(1, 100), pkt(1, 100), pkt(1, 100), pkt(1, 50), pkt(1, 100)}, n);
  CHECK(n == 2);
  CHECK(of == std::vector<std::uint32_t>{0, 0, 0, 0, 1});
}

TEST_CASE("a larger datagram starts a new group; interleaved routers keep their own groups") {
  std::size_t n = 0;
  auto of = plan({pkt(1, 100), pkt(2, 100), pkt(1, 100), pkt(1, 200), pkt(2, 100)}, n);
  CHECK(n == 3);
  CHECK(of == std::vector<std::uint32_t>{0, 1, 0, 2, 1});
}

TEST_CASE("limits on segments and bytes split groups; max_segments 1 disables coalescing") {
  std::size_t n = 0;
  std::vector<OutPacket> many(10, pkt(1, 100));
  plan(many, n, GsoLimits{4, 65000});
  CHECK(n == 3);
  plan(many, n, GsoLimits{64, 3 * 128});
  CHECK(n == 4);
  plan(many, n, GsoLimits{1, 65000});
  CHECK(n == 10);
}

TEST_CASE("datagrams larger than one MTU's worth are never coalesced") {
  std::size_t n = 0;
  std::vector<OutPacket> big(4, pkt(1, 1480));  // 1508 bytes with the header
  plan(big, n);
  CHECK(n == 4);
}

TEST_CASE("a flushed batch arrives as the original datagrams, in order, GSO or not") {
  for (bool gso : {true, false}) {
    CAPTURE(gso);
    auto rx = net::open_udp_socket(net::Endpoint{0x7f000001, 0},
                                   {.nonblocking = false, .rcvbuf_bytes = 1 << 20});
    auto rx2 = net::open_udp_socket(net::Endpoint{0x7f000001, 0},
                                    {.nonblocking = false, .rcvbuf_bytes = 1 << 20});
    auto tx = net::open_udp_socket(net::Endpoint{0x7f000001, 0}, {});
    const auto to = net::local_endpoint(rx.get());
    const auto to2 = net::local_endpoint(rx2.get());

    std::vector<std::array<std::byte, 28>> headers(20);
    std::vector<std::array<std::byte, 100>> payloads(20);
    EgressBatch batch(20, gso);
    for (int i = 0; i < 20; ++i) {
      headers[i].fill(std::byte{0xaa});
      payloads[i].fill(static_cast<std::byte>(i));
      const std::size_t len = i == 9 ? 60 : 100;  // a short one (to rx2) closes its group
      batch.queue(
          OutPacket{headers[i], std::span(payloads[i].data(), len), i % 5 == 4 ? to2 : to, 1});
    }
    DataPathCounters counters;
    batch.flush(tx.get(), counters);
    CHECK(counters.tx_packets[wire::protocol_slot(1)].get() == 20);
    CHECK(counters.drops[static_cast<std::size_t>(DropReason::kSendFailed)].get() == 0);

    std::array<std::byte, 2000> buf{};
    for (int i = 0; i < 20; ++i) {
      if (i % 5 == 4) continue;
      const auto n = ::recv(rx.get(), buf.data(), buf.size(), 0);
      CHECK(n == (i == 9 ? 88 : 128));
      CHECK(buf[0] == std::byte{0xaa});
      CHECK(buf[28] == static_cast<std::byte>(i));
    }
    for (int i = 4; i < 20; i += 5) {
      const auto n = ::recv(rx2.get(), buf.data(), buf.size(), 0);
      CHECK(n == (i == 9 ? 88 : 128));
      CHECK(buf[28] == static_cast<std::byte>(i));
    }
  }
}
