#include "gateway/dataplane/egress_batch.h"

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

constexpr std::size_t kHeader = 56;  // a TUNNEL header

OutPacket pkt(std::uint32_t dest, std::size_t payload) {
  return OutPacket{std::span(g_bytes.data(), kHeader + payload),
                   {},
                   net::Endpoint{dest, 5000},
                   wire::ProtoId{1}};
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
  plan(many, n, GsoLimits{64, 3 * (kHeader + 100)});
  CHECK(n == 4);
  plan(many, n, GsoLimits{1, 65000});
  CHECK(n == 10);
}

TEST_CASE("datagrams larger than one MTU's worth are never coalesced") {
  std::size_t n = 0;
  std::vector<OutPacket> big(4, pkt(1, 1420));  // 1476 bytes with the header
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

    // Even datagrams contiguous in a buffer of their own (as in a worker's receive slot), odd ones
    // as a header of their own and the payload (as after GRO), mixed within one GSO run.
    std::vector<std::array<std::byte, kHeader + 100>> datagrams(20);
    std::array<std::byte, kHeader> header{};
    std::fill(header.begin(), header.end(), std::byte{0xaa});
    EgressBatch batch(20, gso);
    for (int i = 0; i < 20; ++i) {
      std::copy(header.begin(), header.end(), datagrams[i].begin());
      std::fill(datagrams[i].begin() + kHeader, datagrams[i].end(), static_cast<std::byte>(i));
      const std::size_t len =
          kHeader + (i == 9 ? 60 : 100);  // a short one (to rx2) closes its group
      const std::span<const std::byte> whole(datagrams[i].data(), len);
      const auto dest = i % 5 == 4 ? to2 : to;
      if (i % 2 == 0) {
        batch.queue(OutPacket{whole, {}, dest, wire::ProtoId{1}});
      } else {
        batch.queue(OutPacket{header, whole.subspan(kHeader), dest, wire::ProtoId{1}});
      }
    }
    DataPathCounters counters;
    batch.flush(tx.get(), counters);
    CHECK(counters.tx_packets[wire::protocol_slot(1)].get() == 20);
    CHECK(counters.tx_bytes[wire::protocol_slot(1)].get() == 19 * (kHeader + 100) + kHeader + 60);
    CHECK(counters.drops[static_cast<std::size_t>(DropReason::kSendFailed)].get() == 0);

    std::array<std::byte, 2000> buf{};
    const auto expect = [&](int fd, int i) {
      CAPTURE(i);
      const auto n = ::recv(fd, buf.data(), buf.size(), 0);
      CHECK(n == static_cast<ssize_t>(kHeader + (i == 9 ? 60 : 100)));
      CHECK(buf[0] == std::byte{0xaa});
      CHECK(buf[kHeader - 1] == std::byte{0xaa});
      CHECK(buf[kHeader] == static_cast<std::byte>(i));
      CHECK(buf[static_cast<std::size_t>(n) - 1] == static_cast<std::byte>(i));
    };
    for (int i = 0; i < 20; ++i) {
      if (i % 5 != 4) expect(rx.get(), i);
    }
    for (int i = 4; i < 20; i += 5) expect(rx2.get(), i);
  }
}
