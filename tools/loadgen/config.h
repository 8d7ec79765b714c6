// dmux-loadgen's subcommand configurations as plain structs. Built by options.cpp (the only code
// that knows Boost.Program_options) and handed to the Sender, Sink, Pinger and Echoer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"

namespace dmux::loadgen {

// Whether datagrams carry a DATA shim header (to a gateway) or are raw UDP (to a DNAT reference).
struct ShimSpec {
  bool enabled = false;           // false: raw UDP, no header
  std::uint16_t proto_id = 1;     // IPvN protocol in the shim (1 = ipv6)
  std::uint32_t provider_id = 0;  // 0 = any provider
  std::uint64_t token = 0;        // client token, echoed by routers in RETURN
};

struct SendConfig {
  net::Endpoint target;                // gateway listen endpoint or DNAT address
  std::uint32_t source_addr = 0;       // bind address of every flow socket; 0 = any
  std::uint16_t source_port_base = 0;  // flows use base..base+flows-1; 0 = ephemeral ports
  unsigned flows = 64;                 // distinct source ports (one socket each)
  std::size_t datagram_bytes = 64;     // UDP payload per datagram, shim header included
  std::uint64_t rate_pps = 0;          // target rate; 0 = as fast as possible
  std::chrono::nanoseconds duration = std::chrono::seconds(2);  // how long to send
  unsigned batch = 32;   // datagrams per sendmmsg call (all on one flow)
  ShimSpec shim;         // DATA shim, or raw UDP
  int sndbuf_bytes = 0;  // SO_SNDBUF of each flow socket; 0 = kernel default
};

// What the sink expects in each datagram.
enum class Expect : std::uint8_t {
  kAny,     // count everything
  kTunnel,  // a well-formed TUNNEL header; others are counted as invalid
};

struct SinkConfig {
  net::Endpoint listen;          // where to receive
  Expect expect = Expect::kAny;  // what counts as valid
  // With kTunnel: the router's tunnel key; every TUNNEL's tag is checked with it, and the run
  // fails if one is wrong. nullopt = tags are not checked.
  std::optional<crypto::TunnelKeyBytes> tunnel_key;
  // With a tunnel key: keep up to this many bytes of TUNNELs and check their tags once the run is
  // over (what does not fit is checked as it arrives). 0 = check every tag as it arrives.
  std::size_t check_later_bytes = 0;
  std::chrono::nanoseconds duration{0};  // hard stop; 0 = none
  // Stop this long after the last datagram (once one has arrived).
  std::chrono::nanoseconds idle = std::chrono::milliseconds(500);
  unsigned batch = 256;  // datagrams per recvmmsg call
  // Between drains the sink sleeps this long instead of waiting in poll(): no thread waits on
  // the socket, so the kernel's delivery path never has to wake one, and the sink costs the
  // CPUs under test as little as possible. 0 = wait in poll() (lowest delay, more wake-ups).
  std::chrono::microseconds drain_interval{1000};
  std::size_t max_datagram_bytes = 2048;  // longer ones are counted as truncated
  // Receive with UDP_GRO, as a router agent would: the kernel hands over runs of datagrams of
  // one size (a gateway's GSO sends) in one buffer instead of one at a time.
  bool gro = false;
  int rcvbuf_bytes = 16 << 20;  // SO_RCVBUFFORCE if permitted, else SO_RCVBUF
};

struct PingConfig {
  net::Endpoint target;             // gateway listen endpoint, DNAT address or the echo itself
  std::uint32_t source_addr = 0;    // bind address; 0 = any
  ShimSpec shim;                    // DATA shim (replies are RETURN), or raw UDP
  std::size_t datagram_bytes = 64;  // UDP payload, shim header included
  unsigned count = 2000;            // measured round trips
  unsigned warmup = 100;            // round trips before measuring (ARP, conntrack, caches)
  std::chrono::microseconds interval{0};                               // pause between round trips
  std::chrono::microseconds timeout = std::chrono::milliseconds(200);  // a reply later is lost
  unsigned give_up_after = 50;  // stop after this many losses in a row; 0 = never
};

enum class EchoMode : std::uint8_t {
  kTunnel,  // input is TUNNEL; reply with RETURN to client_ipv4:client_port from the header
  kRaw,     // input is raw UDP; reply with the same bytes to the datagram's source
};

struct EchoConfig {
  net::Endpoint listen;  // where the router would listen
  EchoMode mode = EchoMode::kTunnel;
  std::chrono::nanoseconds duration{0};  // stop after this long; 0 = until SIGINT/SIGTERM
};

}  // namespace dmux::loadgen
