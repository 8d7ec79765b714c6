// The rendezvous router as pure logic, in the manner of i3: receivers insert triggers (an id
// standing for their address), senders send packets to an id, and every router of the provider
// keeps every trigger, so a sender and a receiver attached at different routers (PoPs) meet:
//
//  - INSERT from a client: (id -> the client's address:port and return token) for the lifetime
//    asked, capped; answered with an ACK; told to every live peer router (TRIGGERS).
//  - REMOVE: the trigger goes, here and (told) at the peers; answered with an ACK.
//  - SEND: the data goes as a DELIVER, in a RETURN straight from this router, to every live
//    receiver of the id (at most kMaxReceivers), wherever it inserted its trigger: any router of
//    the provider holds the return key, so any can send to any proven client. No trigger: dropped
//    and counted, nothing answered.
//  - TRIGGERS from a peer: each entry is taken only if its token is the rt of its address (so a
//    trigger always names a client that proved it receives there); remaining 0 removes it.
//  - A peer that comes up is sent every trigger inserted here; triggers of a dead peer stay until
//    they expire (receivers refresh through whichever router gateways now give them).
//
// The Router of the SDK delivers only authenticated TUNNELs from proven clients, so every
// `client` here has shown it receives at its address: a trigger can never aim traffic at a
// victim. Single-threaded; time comes from the caller. The SEND path allocates nothing.
#pragma once

#include <ipdmux/router.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rv_wire.h"
#include "triggers.h"

namespace rendezvous {

// How the router's output leaves (the SDK's Router in the program, a recorder in tests).
class Output {
 public:
  virtual ~Output() = default;
  virtual bool to_client(const ipdmux::sdk::Client& c,
                         std::span<const std::byte> payload) noexcept = 0;
  virtual void to_peers(std::span<const std::byte> payload) noexcept = 0;  // every live peer
  virtual void to_peer(const ipdmux::sdk::Client& peer,
                       std::span<const std::byte> payload) noexcept = 0;
  [[nodiscard]] virtual std::uint64_t rt(const ipdmux::sdk::Client& c) const noexcept = 0;
};

struct RvCounters {
  std::uint64_t inserted = 0;    // new triggers from clients here
  std::uint64_t refreshed = 0;   // INSERTs of a trigger we had
  std::uint64_t refused = 0;     // INSERTs beyond a cap
  std::uint64_t removed = 0;     // REMOVEs of a trigger we had
  std::uint64_t sends = 0;       // SENDs received
  std::uint64_t delivered = 0;   // DELIVERs sent
  std::uint64_t no_trigger = 0;  // SENDs to an id without a live trigger
  std::uint64_t expired = 0;
  std::uint64_t bad_messages = 0;   // client payloads that do not parse, or of a router's type
  std::uint64_t peer_entries = 0;   // trigger entries taken from peers
  std::uint64_t peer_bad = 0;       // peer payloads that do not parse
  std::uint64_t peer_unproven = 0;  // peer entries whose token is not the rt of their address
  std::uint64_t peer_updates_sent = 0;
};

class RendezvousRouter {
 public:
  RendezvousRouter(const TriggerLimits& limits, Output& out);

  void on_client(const ipdmux::sdk::Packet& p, MonoTime now);
  void on_peer(const ipdmux::sdk::PeerMessage& m, MonoTime now);
  void on_peer_up(const ipdmux::sdk::Client& peer, MonoTime now);
  void expire(MonoTime now);

  [[nodiscard]] const RvCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const TriggerTable& triggers() const noexcept { return table_; }
  [[nodiscard]] std::string status_json() const;  // a JSON object for the status document

 private:
  void on_insert(const ipdmux::sdk::Packet& p, const Message& m, MonoTime now);
  void on_remove(const ipdmux::sdk::Packet& p, const Message& m);
  void on_send(const Message& m, MonoTime now) noexcept;
  void ack(const ipdmux::sdk::Client& to, const Id& id, AckStatus status,
           std::uint16_t lifetime_s) noexcept;
  void tell_peers(const TriggerEntry& e) noexcept;

  TriggerTable table_;
  Output& out_;
  RvCounters counters_;
  std::array<std::byte, kHeaderLen + kMaxData> message_{};  // one DELIVER or ACK
  std::vector<std::byte> update_;                           // one TRIGGERS update
};

}  // namespace rendezvous
