// The stable face (include/ipdmux/router.h) over Router::Impl, the status document and the
// metric samples.
#include <nlohmann/json.hpp>

#include "agent/registration_status.h"
#include "agent/status_json.h"
#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"
#include "sdk/router_impl.h"

namespace ipdmux::sdk {
inline namespace v1 {

std::string Client::to_string() const { return dmux::net::Endpoint{ipv4, port}.to_string(); }

Router::Router(RouterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Router::~Router() = default;

void Router::on_packet(std::function<void(const Packet&)> fn) { impl_->on_packet = std::move(fn); }
void Router::on_peer_message(std::function<void(const PeerMessage&)> fn) {
  impl_->on_peer_message = std::move(fn);
}
void Router::on_peer_change(std::function<void(const PeerState&)> fn) {
  impl_->on_peer_change = std::move(fn);
}
void Router::every(std::chrono::milliseconds period, std::function<void()> fn) {
  impl_->periodic.push_back(Impl::Periodic{period, std::move(fn), nullptr});
}
void Router::status_extra(std::function<std::string()> json_object) {
  impl_->status_extra = std::move(json_object);
}
Counter Router::counter(const std::string& name, const std::string& help) {
  impl_->app_counters.push_back(AppCounter{name, help, 0});
  return Counter(&impl_->app_counters.back().value);
}

bool Router::send(const Client& to, std::span<const std::byte> payload) noexcept {
  return impl_->send_return(to, payload);
}
std::size_t Router::send_batch(const Client& to,
                               std::span<const std::span<const std::byte>> payloads) noexcept {
  return impl_->send_batch(to, payloads);
}
bool Router::send_peer(const Client& peer, std::span<const std::byte> payload) noexcept {
  return impl_->send_peer(dmux::net::Endpoint{peer.ipv4, peer.port}, payload);
}
std::size_t Router::send_peers(std::span<const std::byte> payload) noexcept {
  return impl_->send_peers(payload);
}

void Router::run() { impl_->run(); }
void Router::stop() noexcept { impl_->loop.stop(); }

std::uint16_t Router::proto_id() const noexcept { return impl_->options.proto_id; }
std::uint32_t Router::provider_id() const noexcept { return impl_->credentials.info.provider_id; }
Client Router::self() const noexcept { return Client{impl_->listen.addr, impl_->listen.port}; }
std::size_t Router::registrations() const noexcept { return impl_->registrations_up(); }
std::vector<PeerState> Router::peers() const {
  std::vector<PeerState> out;
  if (!impl_->peers) return out;
  for (const auto& p : impl_->peers->peers()) {
    out.push_back(PeerState{Client{p.endpoint.addr, p.endpoint.port}, p.alive});
  }
  return out;
}
std::uint64_t Router::return_token(const Client& c) const noexcept {
  return impl_->ingress.rt(c.ipv4, c.port);
}
std::string Router::status_json() const { return impl_->status(); }
std::chrono::steady_clock::time_point Router::now() const noexcept {
  return impl_->clock.now().mono;
}

std::size_t Router::Impl::registrations_up() const noexcept {
  std::size_t n = 0;
  for (const auto& r : registrations) {
    n += r->state() == dmux::agent::RegistrationState::kRegistered ? 1 : 0;
  }
  return n;
}

std::string Router::Impl::status() const {
  using nlohmann::json;
  const auto now = clock.now().mono;
  json drops = json::object();
  std::uint64_t dropped = 0;
  json doc{
      {"agent", options.name},
      {"sdk", version_string()},
      {"protocol", dmux::wire::protocol_name(options.proto_id)},
      {"proto_id", options.proto_id},
      {"provider_id", credentials.info.provider_id},
      {"listen", listen.to_string()},
      {"uptime_seconds", static_cast<double>(clock.now().unix_us) / 1e6 - start_time},
      {"registrations", json::array()},
      {"control_replies", control_replies.received},
      {"bad_control_replies", control_replies.bad},
      {"packets", counters.packets},
      {"packet_bytes", counters.packet_bytes},
      {"token_offers_sent", counters.token_offers_sent},
      {"returns", counters.returns},
      {"return_bytes", counters.return_bytes},
      {"return_failures", counters.return_failures},
      {"gso_sends", counters.gso_sends},
      {"peer_sent", counters.peer_sent},
      {"peer_messages", counters.peer_messages},
      {"peer_heartbeats", counters.peer_heartbeats},
      {"peers", json::array()},
  };
  for (const auto& r : registrations)
    doc["registrations"].push_back(dmux::agent::registration_json(*r));
  dmux::agent::add_ingress_status(doc, drops, dropped, ingress, now);
  if (peers) {
    for (const auto& p : peers->peers()) {
      doc["peers"].push_back(
          json{{"endpoint", p.endpoint.to_string()}, {"alive", p.alive}, {"received", p.received}});
    }
    dmux::agent::add_drops<dmux::sdk::PeerDrop>(drops, dropped, peers->drops());
  }
  doc["drops"] = drops;
  doc["dropped"] = dropped;
  json app = json::object();
  for (const AppCounter& c : app_counters) app[c.name] = c.value;
  if (status_extra) {
    const json extra = json::parse(status_extra(), nullptr, false);
    if (extra.is_object()) app.update(extra);
  }
  doc["app"] = app;
  return doc.dump();
}

std::vector<dmux::sdk::MetricSample> Router::Impl::metric_samples() const {
  const std::string p = options.name + "_";
  std::vector<dmux::sdk::MetricSample> s = {
      {p + "packets_total", "Authenticated TUNNELs from proven clients", "", counters.packets},
      {p + "packet_bytes_total", "Payload bytes of those TUNNELs", "", counters.packet_bytes},
      {p + "token_offers_total", "TOKEN_OFFERs sent", "", counters.token_offers_sent},
      {p + "returns_total", "RETURNs sent to clients", "", counters.returns},
      {p + "return_bytes_total", "Payload bytes of those RETURNs", "", counters.return_bytes},
      {p + "return_failures_total", "RETURNs the socket refused", "", counters.return_failures},
      {p + "peer_sent_total", "Messages sent to peer routers", "", counters.peer_sent},
      {p + "peer_messages_total", "Authenticated peer messages received", "",
       counters.peer_messages},
      {p + "registrations", "Registrations accepted and alive (a count, not a rate)", "",
       registrations_up()},
  };
  nlohmann::json drops = nlohmann::json::object();
  std::uint64_t dropped = 0;
  nlohmann::json ignored = nlohmann::json::object();
  dmux::agent::add_ingress_status(ignored, drops, dropped, ingress, clock.now().mono);
  if (peers) dmux::agent::add_drops<dmux::sdk::PeerDrop>(drops, dropped, peers->drops());
  for (const auto& [reason, value] : drops.items()) {
    s.push_back(
        {p + "dropped_total", "Datagrams dropped, by reason", reason, value.get<std::uint64_t>()});
  }
  for (const AppCounter& c : app_counters)
    s.push_back({p + c.name + "_total", c.help, "", c.value});
  return s;
}

ReturnKeyBytes return_key_from_seed(std::span<const std::byte> seed) {
  return dmux::crypto::derive_return_key(seed);
}

std::uint64_t return_token(const ReturnKeyBytes& k_r, std::uint16_t proto_id,
                           std::uint32_t provider_id, std::uint32_t client_ipv4,
                           std::uint16_t client_port) noexcept {
  return dmux::crypto::return_token(k_r, proto_id, provider_id, client_ipv4, client_port);
}

const char* version_string() noexcept { return "ipdmux-sdk 1 (wire protocol 2)"; }

}  // namespace v1
}  // namespace ipdmux::sdk
