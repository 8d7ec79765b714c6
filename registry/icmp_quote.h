// The parser of ICMPv4 "port unreachable" messages as a raw ICMP socket delivers them: outer IPv4
// header, ICMP header, then the quoted start of the datagram that could not be delivered (its IPv4
// header, 8 bytes of UDP header and as much of the UDP payload as the reporting host quoted:
// Linux keeps the whole ICMP within 576 bytes, so ~520 bytes of the original datagram).
//
// Contract: every byte here is untrusted (anyone can send ICMP); parsing goes through
// wire::ByteReader, never allocates, never throws. Failures are typed and the caller counts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dmux::registry {

enum class QuoteStatus : std::uint8_t {
  kOk = 0,
  kTruncated,      // shorter than a header it declares
  kMalformed,      // a header that is not IPv4 / is inconsistent
  kNotApplicable,  // valid, but not a port unreachable quoting an unfragmented UDP datagram
};
std::string_view to_string(QuoteStatus s) noexcept;

struct PortUnreachable {
  std::uint32_t reporter = 0;    // outer IPv4 source: the host that says nothing listens
  std::uint32_t quoted_src = 0;  // the undelivered datagram's source address (host order)
  std::uint32_t quoted_dst = 0;  // ... and destination
  std::uint16_t quoted_sport = 0;
  std::uint16_t quoted_dport = 0;
  std::uint16_t quoted_udp_len = 0;    // as the quoted UDP header declares it
  std::span<const std::byte> payload;  // the quoted UDP payload as far as present
  // True if the quote holds the whole UDP payload (quoted_udp_len - 8 bytes of it).
  [[nodiscard]] bool complete() const noexcept {
    return quoted_udp_len >= 8 && payload.size() == quoted_udp_len - 8U;
  }
};

// `packet` is what recv() on an AF_INET/SOCK_RAW/IPPROTO_ICMP socket returns.
QuoteStatus parse_port_unreachable(std::span<const std::byte> packet,
                                   PortUnreachable& out) noexcept;

}  // namespace dmux::registry
