// dmux-client's data path as pure logic, without sockets, NFQUEUE or the TUN device (ClientApp
// does the I/O): a captured packet -> DATA header; a RETURN datagram -> a packet to inject, an
// address offer, or a counted drop. Everything given to it is untrusted. Never allocates, never
// throws. Single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "client-capture/config.h"
#include "client-capture/counters.h"
#include "client-capture/host_net.h"
#include "client-capture/router_discovery.h"
#include "common/wire/shim.h"

namespace dmux::client {

struct CapturePathConfig {
  std::vector<Selector> selectors;  // selector i owns NFQUEUE first_queue + i
  std::uint16_t first_queue = 0;
  std::size_t max_packet = 1400;    // the TUN MTU
};

class CapturePath {
 public:
  enum class ReturnKind { kDrop, kInject, kAdvert };
  // kSend: tunnel the packet as it is. kSegment: a TCP/IPv6 super-packet longer than the MTU;
  // tunnel it cut with segment_tcp6 (the DATA header is the same for every segment).
  enum class CaptureKind { kDrop, kSend, kSegment };

  CapturePath(CapturePathConfig config, std::uint64_t token) noexcept;

  // Our IPv6 address (none until the provider offered one). Control plane.
  void set_address(const std::optional<Ipv6Address>& a) noexcept { address_ = a; }

  // A packet from NFQUEUE `queue`. Completes a partial checksum in place if `checksum_not_ready`.
  // Unless dropped (and counted), writes the DATA header to `header`.
  CaptureKind on_captured(std::uint16_t queue, std::span<std::byte> packet, bool checksum_not_ready,
                   std::span<std::byte, wire::kDataHeaderLen> header) noexcept;

  // A datagram from the tunnel socket. kInject: `packet` is the IPvN packet to write into the TUN
  // device. kAdvert: `offer` holds an address offer. kDrop: counted.
  ReturnKind on_return(std::span<const std::byte> datagram, std::span<const std::byte>& packet,
                       Offer& offer) noexcept;

  void tunnelled(std::size_t packet_bytes) noexcept;
  void injected(std::size_t packet_bytes) noexcept;
  void failed(Drop reason) noexcept { counters_.drop(reason); }

  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] bool captures(std::uint16_t proto_id) const noexcept;
  ReturnKind on_return_ipv6(std::span<const std::byte> packet, Offer& offer) noexcept;

  CapturePathConfig config_;
  std::uint64_t token_;
  bool captures_ipv6_ = false;
  std::optional<Ipv6Address> address_;
  DataPathCounters counters_;
};

// True if `packet` is one whole IPv4 packet (version 4, header length valid, total length equal
// to the bytes present).
[[nodiscard]] bool whole_ipv4_packet(std::span<const std::byte> packet) noexcept;
// True if `packet` is one whole IPv6 packet (payload length equal to the bytes present).
[[nodiscard]] bool whole_ipv6_packet(std::span<const std::byte> packet) noexcept;

}  // namespace dmux::client
