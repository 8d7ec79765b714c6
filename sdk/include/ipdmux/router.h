// The IPdmux router-agent SDK: everything a router of a new protocol needs to be reachable through
// IPdmux gateways, behind one class. A program fills RouterOptions, sets its callbacks and calls
// run(); the Router then
//
//  - loads the provider's credentials (dmux-ca certificate and key) and checks the certificate
//    allows `proto_id`;
//  - registers (docs/protocol.md 9) with every configured gateway (anycast or unicast), keeps the
//    registrations alive, re-registers when a gateway forgets it or anycast moves it to another
//    gateway, and deregisters on SIGTERM/SIGINT or stop();
//  - accepts only TUNNELs whose tag verifies (5.3), answers TOKEN_REQUESTs (15), and hands the
//    program each packet from a proven client (its token is the client's return token, 6.2);
//  - sends RETURNs with the right token, only to addresses the destination filter allows;
//  - exchanges authenticated messages with the provider's other routers (protocol.md 18);
//  - serves a status document on a control socket (dmuxctl) and Prometheus metrics.
//
// This header is the SDK's stable interface: it includes only the standard library and names no
// IPdmux internals. IPDMUX_SDK_VERSION grows with every incompatible change, and the interface
// lives in the inline namespace ipdmux::sdk::v1 so that objects built against another version do
// not link together silently.
//
// Threading: a Router belongs to the thread that calls run(); every callback runs there. stop()
// may be called from any thread or a signal handler. The send functions may be called only from
// callbacks (or before run()).
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#define IPDMUX_SDK_VERSION 1

namespace ipdmux::sdk {
inline namespace v1 {

struct RouterOptions {
  std::uint16_t proto_id = 0;  // the protocol served, e.g. 0x8001; must be in the certificate
  // Where TUNNELs arrive, "198.18.2.2:5000" (a specific address: it is registered, and it is the
  // source of RETURNs, registrations and peer messages).
  std::string listen;
  // Registration endpoints, "198.18.0.1:4501": the anycast address, or gateways' unicast ones.
  // One registration each. Empty: no registration (a static router, with static_tunnel_key_file).
  std::vector<std::string> gateways;
  std::string cert_file;               // PEM provider certificate from dmux-ca
  std::string key_file;                // its Ed25519 key
  std::string return_key_file;         // provider-wide return-token secret; "" = from key_file
  std::string static_tunnel_key_file;  // tunnel key of a static router (key_id 0); "" = none
  // Special-purpose IPv4 prefixes RETURNs may go to ("198.18.0.0/15" in a lab); none by default.
  std::vector<std::string> allow_destinations;
  std::vector<std::string> peers;  // the provider's other routers, by their `listen` endpoints
  std::string peer_key_file;       // secret shared by the routers (at least 16 bytes); "" = none
  std::chrono::milliseconds peer_heartbeat{1000};   // an empty peer message at least this often
  std::chrono::milliseconds peer_dead_after{3500};  // a peer silent this long is dead
  std::string control_socket;                       // UNIX socket answering "status"; "" = none
  std::string metrics_listen;                       // "127.0.0.1:9470" for /metrics; "" = none
  std::string name = "router";  // the program, for logs, status and the metric prefix
};

// A client as the gateway saw it: the IPv4 address and UDP port RETURNs go to. Host byte order.
struct Client {
  std::uint32_t ipv4 = 0;
  std::uint16_t port = 0;
  auto operator<=>(const Client&) const = default;
  [[nodiscard]] std::string to_string() const;  // "198.18.11.2:40000"
};

// An authenticated TUNNEL of our protocol from a proven client. Views stay valid during the
// callback only.
struct Packet {
  Client client{};
  std::uint64_t token = 0;        // the client's return token (already checked)
  std::uint32_t gateway_id = 0;   // the ingress gateway
  std::uint32_t provider_id = 0;  // what the client asked for: 0 (any) or ours
  std::uint8_t flags = 0;         // the DATA flags (CTRL is never set: the SDK answers those)
  std::span<const std::byte> payload{};
};

// An authenticated message from another router of the provider (never an empty heartbeat).
struct PeerMessage {
  Client from{};  // the peer's listen endpoint
  std::span<const std::byte> payload{};
};

struct PeerState {
  Client endpoint{};
  bool alive = false;
};

// A counter the program owns, exported in status and metrics as <name>_<counter>_total.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { *value_ += n; }
  [[nodiscard]] std::uint64_t value() const noexcept { return *value_; }

 private:
  friend class Router;
  explicit Counter(std::uint64_t* value) noexcept : value_(value) {}
  std::uint64_t* value_;
};

class Router {
 public:
  // Loads credentials and secrets and opens the sockets. Throws std::runtime_error whose message
  // names the option at fault.
  explicit Router(RouterOptions options);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Callbacks; set them before run().
  void on_packet(std::function<void(const Packet&)> fn);
  void on_peer_message(std::function<void(const PeerMessage&)> fn);
  void on_peer_change(std::function<void(const PeerState&)> fn);  // a peer came up or died
  // Calls `fn` every `period` (and first one period after run() starts).
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  // A JSON object the program adds to its status document under "app".
  void status_extra(std::function<std::string()> json_object);
  // A counter the program increments (stable for the Router's lifetime). Call before run().
  Counter counter(const std::string& name, const std::string& help);

  // A RETURN of `payload` to `to`, carrying its return token. False if the destination filter
  // refuses the address (counted) or the send failed. Never throws, never allocates.
  bool send(const Client& to, std::span<const std::byte> payload) noexcept;
  // Several RETURNs to one client: equal-size payloads go as one UDP GSO send when the kernel
  // offers it, else one by one. Returns how many went out.
  std::size_t send_batch(const Client& to,
                         std::span<const std::span<const std::byte>> payloads) noexcept;
  // An authenticated message to one configured peer, or to every live peer; false / the number
  // sent. Payloads up to 8192 bytes.
  bool send_peer(const Client& peer, std::span<const std::byte> payload) noexcept;
  std::size_t send_peers(std::span<const std::byte> payload) noexcept;

  // Registers and serves until stop() or SIGTERM/SIGINT, then deregisters and returns.
  void run();
  void stop() noexcept;

  [[nodiscard]] std::uint16_t proto_id() const noexcept;
  [[nodiscard]] std::uint32_t provider_id() const noexcept;
  [[nodiscard]] Client self() const noexcept;                // the listen endpoint as bound
  [[nodiscard]] std::size_t registrations() const noexcept;  // accepted and alive
  [[nodiscard]] std::vector<PeerState> peers() const;
  // The client's return token: what RETURNs carry and what peers may check.
  [[nodiscard]] std::uint64_t return_token(const Client& c) const noexcept;
  [[nodiscard]] std::string status_json() const;  // the control socket's "status" answer
  [[nodiscard]] std::chrono::steady_clock::time_point now() const noexcept;  // the loop's clock

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// docs/protocol.md 6.2, for clients and tests: K_r from a seed, and a client's return token.
using ReturnKeyBytes = std::array<std::byte, 16>;
ReturnKeyBytes return_key_from_seed(std::span<const std::byte> seed);
std::uint64_t return_token(const ReturnKeyBytes& k_r, std::uint16_t proto_id,
                           std::uint32_t provider_id, std::uint32_t client_ipv4,
                           std::uint16_t client_port) noexcept;

const char* version_string() noexcept;  // "ipdmux-sdk 1 (wire protocol 2)"

}  // namespace v1
}  // namespace ipdmux::sdk
