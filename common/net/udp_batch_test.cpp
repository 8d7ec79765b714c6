// UdpSendBatch and UdpBatchReceiver over real loopback sockets (port 0).
#include <doctest/doctest.h>
#include <poll.h>

#include <vector>

#include "common/net/udp_gro.h"
#include "common/net/udp_gso.h"
#include "common/net/udp_socket.h"

namespace dmux::net {
namespace {

constexpr std::uint32_t kLoopback = 0x7f000001;

UniqueFd bound() {
  return open_udp_socket(Endpoint{kLoopback, 0},
                         UdpSocketOptions{.rcvbuf_bytes = 4 << 20, .sndbuf_bytes = 4 << 20});
}

std::vector<std::byte> datagram(std::size_t len, std::uint8_t tag) {
  std::vector<std::byte> d(len);
  for (std::size_t i = 0; i < len; ++i) d[i] = static_cast<std::byte>((tag + i) & 0xff);
  return d;
}

// Everything that arrives within a short wait, one vector per datagram.
std::vector<std::vector<std::byte>> drain(UdpBatchReceiver& rx, int fd, std::size_t want) {
  std::vector<std::vector<std::byte>> got;
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    const std::size_t n = rx.receive();
    for (std::size_t i = 0; i < n; ++i) {
      const auto d = rx.datagram(i);
      got.emplace_back(d.begin(), d.end());
    }
  }
  return got;
}

}  // namespace

TEST_CASE("split_gro_buffer cuts at the segment size, the last may be shorter") {
  std::vector<std::byte> b(2500);
  std::array<std::span<std::byte>, 4> out;
  CHECK(split_gro_buffer(b, 1000, out) == 3);
  CHECK(out[2].size() == 500);
  CHECK(split_gro_buffer(b, 0, out) == 1);
  CHECK(out[0].size() == 2500);
  CHECK(split_gro_buffer(b, 100, out) == 4);  // out is full: the rest is the caller's loss
  CHECK(split_gro_buffer({}, 100, out) == 0);
}

TEST_CASE("a batch of runs arrives datagram by datagram, exactly as queued") {
  const UniqueFd tx = bound(), rxfd = bound();
  const Endpoint to = local_endpoint(rxfd.get());
  for (const bool gso : {true, false}) {
    for (const bool gro : {true, false}) {
      CAPTURE(gso);
      CAPTURE(gro);
      UdpSendBatch batch(tx.get(), UdpSendBatchConfig{.gso = gso});
      UdpBatchReceiver rx(rxfd.get(), UdpReceiveConfig{.gro = gro});
      std::vector<std::vector<std::byte>> sent;
      // A run of 10 equal datagrams and a shorter last, then singles of other sizes.
      for (int i = 0; i < 11; ++i) sent.push_back(datagram(i == 10 ? 300 : 1200, 1));
      sent.push_back(datagram(100, 2));
      sent.push_back(datagram(1500, 3));
      const std::span<std::byte> room = batch.reserve(10 * 1200 + 300, 11);
      REQUIRE(room.size() == 10 * 1200 + 300);
      for (int i = 0; i < 11; ++i)
        std::copy(sent[i].begin(), sent[i].end(), room.begin() + i * 1200);
      batch.commit(to, 11, 1200, 300);
      REQUIRE(batch.add(to, std::span(sent[11]).first(40), std::span(sent[11]).subspan(40)));
      REQUIRE(batch.add(to, {}, sent[12]));
      CHECK(batch.flush() == sent.size());
      CHECK(batch.empty());
      CHECK(batch.counters().gso_sends == (gso ? 1 : 0));
      const auto got = drain(rx, rxfd.get(), sent.size());
      CHECK(got == sent);
    }
  }
}

TEST_CASE("drained() says whether the last receive emptied the socket") {
  const UniqueFd tx = bound(), rxfd = bound();
  const Endpoint to = local_endpoint(rxfd.get());
  UdpBatchReceiver rx(rxfd.get(), UdpReceiveConfig{.batch = 2, .gro = false});
  CHECK(rx.drained());  // nothing received yet
  UdpSendBatch batch(tx.get(), UdpSendBatchConfig{.gso = false});
  const auto d = datagram(100, 4);
  for (int i = 0; i < 3; ++i) REQUIRE(batch.add(to, {}, d));
  REQUIRE(batch.flush() == 3);
  pollfd p{rxfd.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  REQUIRE(rx.receive() == 2);  // loopback queues all three within the send
  CHECK(!rx.drained());        // a full batch: there may be more
  REQUIRE(rx.receive() == 1);
  CHECK(rx.drained());  // one of a batch of two
  CHECK(rx.receive() == 0);
  CHECK(rx.drained());  // EAGAIN
}

TEST_CASE("a send the kernel refuses is counted, and the batch carries on") {
  const UniqueFd tx = bound();
  UdpSendBatch batch(tx.get(), UdpSendBatchConfig{});
  const auto d = datagram(100, 0);
  REQUIRE(batch.add(Endpoint{kLoopback, 0}, {}, d));  // port 0: refused
  CHECK(batch.flush() == 0);
  CHECK(batch.counters().send_failures == 1);
  CHECK(batch.reserve(2 << 20).empty());
}

}  // namespace dmux::net
