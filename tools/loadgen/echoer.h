// `dmux-loadgen echo`: the far end of `ping`, run where the router would be. For a TUNNEL it
// replies, like a provider router, straight to client_ipv4:client_port with a RETURN header and
// the same IPvN payload; in raw mode it sends the datagram back to its source. Replies leave from
// the receiving socket, so a DNAT in between can reverse-translate them.
//
// Received bytes are untrusted and go through wire::parse_tunnel. Threading: one thread, the
// caller's. run() never allocates.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/unique_fd.h"
#include "common/wire/shim.h"
#include "tools/loadgen/config.h"

namespace dmux::loadgen {

struct EchoReport {
  std::uint64_t received = 0;
  std::uint64_t echoed = 0;
  std::uint64_t invalid = 0;  // tunnel mode: not a well-formed TUNNEL
  std::uint64_t send_errors = 0;
};

class Echoer {
 public:
  // Binds the socket. Throws std::system_error.
  explicit Echoer(const EchoConfig& config);

  // Echoes until the duration ends or SIGINT/SIGTERM.
  EchoReport run() noexcept;

 private:
  void echo_tunnel(std::span<const std::byte> datagram, EchoReport& report) noexcept;
  void echo_raw(std::span<const std::byte> datagram, const sockaddr_in& from,
                EchoReport& report) noexcept;

  EchoConfig config_;
  net::UniqueFd fd_;
  std::vector<std::byte> rx_;
  std::array<std::byte, wire::kReturnHeaderLen> return_header_{};
};

}  // namespace dmux::loadgen
