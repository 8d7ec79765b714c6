// dmux-client's data path as pure logic, without sockets or the TUN device (ClientApp does the
// I/O): a packet read from the TUN device -> its selector -> a DATA header carrying the protocol's
// return token; a RETURN
// datagram -> a packet to inject, an address offer, an accepted TOKEN_OFFER, or a counted drop
// (docs/protocol.md 6.3). Everything given to it is untrusted. Never allocates, never throws.
// Single-threaded: the event loop's, which also drives the ReturnTokens it shares.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "client/config.h"
#include "client/counters.h"
#include "client/host_net.h"
#include "client/packet_filter.h"
#include "client/return_tokens.h"
#include "client/router_discovery.h"
#include "common/wire/shim.h"

namespace dmux::client {

struct CapturePathConfig {
  // One per proto_id; generic ones told apart by IP protocol (no two overlap()).
  std::vector<Selector> selectors;
  std::size_t max_packet = 1400;  // the TUN MTU
};

// What on_return() found, by kind.
struct ReturnResult {
  std::span<const std::byte> packet;  // kInject: the IPvN packet to write into the TUN device
  Offer advert;                       // kAdvert: the address offer
  std::uint16_t proto_id = 0;         // kToken: the protocol whose offer was accepted
  std::uint32_t provider_id = 0;      // kToken: the answering router's provider
  TokenUpdate token;                  // kToken: what the offer changed
};

class CapturePath {
 public:
  enum class ReturnKind { kDrop, kInject, kAdvert, kToken };
  // kSend: tunnel the packet as it is. kDrop: counted, nothing sent.
  enum class CaptureKind { kDrop, kSend };

  // `tokens` (the return tokens of the active selectors) must outlive the path.
  CapturePath(CapturePathConfig config, ReturnTokens& tokens) noexcept;

  // Our IPv6 address (none until the provider offered one). Control plane.
  void set_address(const std::optional<Ipv6Address>& a) noexcept { address_ = a; }
  // The host's own IPv4 addresses (generic selectors' replies). Control plane.
  HostAddresses& host_addresses() noexcept { return host_; }

  // A packet the host routed into the TUN device (untrusted: any local process can write one).
  // Unless dropped (and counted), writes the DATA header of its selector to `header`. Packets of
  // a protocol without a return token are dropped: only IPv6 and IPv4 multicast reach us before
  // their token (generic selectors' routing rules wait for theirs).
  CaptureKind on_captured(std::span<const std::byte> packet,
                          std::span<std::byte, wire::kDataHeaderLen> header) noexcept;

  // The selector a packet read from the TUN device belongs to, or nullptr: IPv6 other than to
  // link-local and link-scope multicast -> ipv6; IPv4 to 224.0.0.0/4 -> ipv4-multicast; other
  // IPv4 -> the generic selector whose IP protocol it carries.
  [[nodiscard]] const Selector* classify(std::span<const std::byte> packet) const noexcept;

  // A datagram from the tunnel socket, at `now` (offers schedule the next request).
  ReturnKind on_return(std::span<const std::byte> datagram, Clock::time_point now,
                       ReturnResult& out) noexcept;

  void tunnelled(std::size_t packet_bytes) noexcept;
  void injected(std::size_t packet_bytes) noexcept;
  void failed(Drop reason, std::uint64_t packets = 1) noexcept { counters_.drop(reason, packets); }

  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const std::vector<Selector>& selectors() const noexcept {
    return config_.selectors;
  }

 private:
  [[nodiscard]] const Selector* selector_of(std::uint16_t proto_id) const noexcept;
  ReturnKind drop(Drop reason) noexcept;
  ReturnKind on_control(const wire::ShimHeader& h, std::span<const std::byte> payload,
                        Clock::time_point now, ReturnResult& out) noexcept;
  ReturnKind on_packet(const Selector& s, std::span<const std::byte> packet,
                       ReturnResult& out) noexcept;

  CapturePathConfig config_;
  ReturnTokens& tokens_;
  std::optional<Ipv6Address> address_;
  HostAddresses host_;
  DataPathCounters counters_;
};

}  // namespace dmux::client
