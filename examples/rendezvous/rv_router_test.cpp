#include "rv_router.h"

#include <doctest/doctest.h>

#include <map>
#include <vector>

namespace rendezvous {
namespace {

using ipdmux::sdk::Client;
using std::chrono::seconds;
using Bytes = std::vector<std::byte>;

// Records what the router sends; rt(c) is a fixed function of the address, as a return key is.
struct Recorder final : Output {
  std::vector<std::pair<Client, Bytes>> to_clients;
  std::vector<Bytes> to_all_peers;
  std::vector<std::pair<Client, Bytes>> to_one_peer;
  bool to_client(const Client& c, std::span<const std::byte> p) noexcept override {
    to_clients.emplace_back(c, Bytes(p.begin(), p.end()));
    return true;
  }
  void to_peers(std::span<const std::byte> p) noexcept override {
    to_all_peers.emplace_back(p.begin(), p.end());
  }
  void to_peer(const Client& c, std::span<const std::byte> p) noexcept override {
    to_one_peer.emplace_back(c, Bytes(p.begin(), p.end()));
  }
  std::uint64_t rt(const Client& c) const noexcept override {
    return (std::uint64_t{c.ipv4} << 16 | c.port) * 0x9e3779b97f4a7c15ull;
  }
};

Id id_of(int n) {
  Id id{};
  id[15] = static_cast<std::byte>(n);
  return id;
}

struct Node {
  Recorder out;
  RendezvousRouter rv{TriggerLimits{.max_lifetime = seconds(60)}, out};
  MonoTime now{};

  void from(const Client& c, const Message& m) {
    Bytes payload(kHeaderLen + kMaxData);
    payload.resize(write_message(payload, m));
    rv.on_client(ipdmux::sdk::Packet{.client = c, .token = out.rt(c), .payload = payload}, now);
  }
  void insert(const Client& c, int id, std::uint16_t lifetime_s = 30) {
    from(c, Message{.type = Type::kInsert, .id = id_of(id), .lifetime_s = lifetime_s});
  }
  void send(const Client& c, int id, const Bytes& data) {
    from(c, Message{.type = Type::kSend, .id = id_of(id), .data = data});
  }
  // The DELIVERs each client got, as their data.
  std::map<Client, std::vector<Bytes>> delivered() const {
    std::map<Client, std::vector<Bytes>> out_map;
    for (const auto& [c, b] : out.to_clients) {
      Message m;
      if (parse_message(b, m) == Parse::kOk && m.type == Type::kDeliver) {
        out_map[c].emplace_back(m.data.begin(), m.data.end());
      }
    }
    return out_map;
  }
};

const Client kRecv{0xc6120b02, 40000};
const Client kSend{0xc6120c02, 40001};
const Bytes kHello = {std::byte{'h'}, std::byte{'i'}};

TEST_CASE("rendezvous: insert is acked and told to peers; send reaches the receiver") {
  Node n;
  n.insert(kRecv, 7);
  REQUIRE(n.out.to_clients.size() == 1);
  Message ack;
  REQUIRE(parse_message(n.out.to_clients[0].second, ack) == Parse::kOk);
  CHECK(ack.type == Type::kAck);
  CHECK(ack.status == AckStatus::kInserted);
  CHECK(ack.lifetime_s == 30);
  REQUIRE(n.out.to_all_peers.size() == 1);
  n.send(kSend, 7, kHello);
  CHECK(n.delivered()[kRecv] == std::vector<Bytes>{kHello});
  n.send(kSend, 8, kHello);  // nobody inserted 8
  CHECK(n.rv.counters().no_trigger == 1);
  CHECK(n.delivered().size() == 1);
}

TEST_CASE("rendezvous: a trigger expires unless refreshed, and REMOVE ends it") {
  Node n;
  n.insert(kRecv, 7, 2);
  n.now += seconds(1);
  n.rv.expire(n.now);
  n.send(kSend, 7, kHello);
  CHECK(n.rv.counters().delivered == 1);
  n.now += seconds(1);
  n.send(kSend, 7, kHello);  // expired, not yet swept: still not delivered
  n.rv.expire(n.now);
  n.send(kSend, 7, kHello);
  CHECK(n.rv.counters().delivered == 1);
  CHECK(n.rv.counters().expired == 1);
  n.insert(kRecv, 7);
  n.from(kRecv, Message{.type = Type::kRemove, .id = id_of(7)});
  n.send(kSend, 7, kHello);
  CHECK(n.rv.counters().delivered == 1);
  CHECK(n.rv.counters().removed == 1);
}

TEST_CASE("rendezvous: triggers cross routers, only with the right token") {
  Node a, b;
  a.insert(kRecv, 7);
  REQUIRE(a.out.to_all_peers.size() == 1);
  b.rv.on_peer(ipdmux::sdk::PeerMessage{.from = {1, 1}, .payload = a.out.to_all_peers[0]}, b.now);
  b.send(kSend, 7, kHello);
  CHECK(b.delivered()[kRecv] == std::vector<Bytes>{kHello});  // b sends straight to the receiver
  // A peer entry naming another address with this token is refused.
  Bytes forged = a.out.to_all_peers[0];
  forged[4 + 16 + 3] ^= std::byte{1};
  b.rv.on_peer(ipdmux::sdk::PeerMessage{.from = {1, 1}, .payload = forged}, b.now);
  CHECK(b.rv.counters().peer_unproven == 1);
  b.rv.on_peer(ipdmux::sdk::PeerMessage{.from = {1, 1}, .payload = Bytes(3)}, b.now);
  CHECK(b.rv.counters().peer_bad == 1);
  // A peer coming up is told every local trigger; b has none of its own.
  a.rv.on_peer_up(Client{2, 2}, a.now);
  CHECK(a.out.to_one_peer.size() == 1);
  b.rv.on_peer_up(Client{1, 1}, b.now);
  CHECK(b.out.to_one_peer.empty());
}

TEST_CASE("rendezvous: malformed client messages and router-only types are counted") {
  Node n;
  n.rv.on_client(ipdmux::sdk::Packet{.client = kSend, .payload = Bytes(3)}, n.now);
  n.from(kSend, Message{.type = Type::kDeliver, .id = id_of(1), .data = kHello});
  CHECK(n.rv.counters().bad_messages == 2);
  CHECK(n.out.to_clients.empty());
}

}  // namespace
}  // namespace rendezvous
