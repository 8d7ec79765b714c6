#include "client/status_json.h"

#include <nlohmann/json.hpp>

#include "common/metrics/counter_json.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

using nlohmann::json;

const char* kind_name(Selector::Kind k) {
  switch (k) {
    case Selector::Kind::kIpv6:
      return "ipv6";
    case Selector::Kind::kIpv4Multicast:
      return "ipv4-multicast";
    case Selector::Kind::kGeneric:
      return "generic";
  }
  return "unknown";
}

// The return-token state of a selector's protocol (none while the selector is inactive).
json token_json(const ReturnTokens& tokens, std::uint16_t proto_id) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const TokenState t = tokens.state(i);
    if (t.protocol.proto_id != proto_id) continue;
    return json{{"have_token", t.have_token},
                {"unanswered_requests", t.unanswered},
                {"refresh_seconds", std::chrono::duration<double>(t.refresh).count()}};
  }
  return json{{"have_token", false}, {"unanswered_requests", 0}, {"refresh_seconds", 0}};
}

std::string binding_text(const ReturnTokens& tokens) {
  const auto& b = tokens.binding();
  return b ? net::Endpoint{b->ipv4, b->port}.to_string() : "";
}

double seconds_left(const AddressOffer& offer, Clock::time_point now) {
  if (!offer.address() || now >= offer.expires()) return 0;
  return std::chrono::duration<double>(offer.expires() - now).count();
}

json offload_json(const StatusView& v) {
  const TunnelIoCounters& c = v.io.counters();
  const net::UdpSendCounters& s = v.io.send_counters();
  const net::UdpReceiveCounters& r = v.io.receive_counters();
  const net::GroCounters& g = v.io.gro_counters();
  return json{{"tun_offloads", v.tun_offloads},   {"tun_reads", c.tun_reads},
              {"super_packets", c.super_packets}, {"bad_reads", c.bad_reads},
              {"tun_writes", c.tun_writes},       {"tun_write_failures", c.tun_write_failures},
              {"udp_gso", v.io.gso_enabled()},    {"gso_sends", s.gso_sends},
              {"gso_refusals", s.gso_refusals},   {"send_syscalls", s.syscalls},
              {"udp_gro", v.io.gro_enabled()},    {"receive_syscalls", r.syscalls},
              {"gro_buffers", r.gro_buffers},     {"truncated", r.truncated},
              {"coalesced", g.coalesced}};
}

}  // namespace

std::string status_json(const StatusView& v) {
  const DataPathCounters& c = v.counters;
  json drops = json::object();
  std::uint64_t dropped = 0;
  metrics::add_by_name<Drop>(drops, dropped, c.drops);
  json selectors = json::array();
  for (std::size_t i = 0; i < v.config.selectors.size(); ++i) {
    const Selector& s = v.config.selectors[i];
    selectors.push_back(json{
        {"selector", s.text},
        {"kind", kind_name(s.kind)},
        {"protocol", wire::protocol_name(s.proto_id)},
        {"proto_id", s.proto_id},
        {"provider_id", s.provider_id},
        {"fwmark",
         s.kind != Selector::Kind::kGeneric ? 0 : v.config.fwmark + static_cast<std::uint32_t>(i)},
        {"active", s.kind != Selector::Kind::kIpv6 || v.ipv6_active},
        {"return_token", token_json(v.tokens, s.proto_id)}});
  }
  const auto& addr = v.offer.address();
  const AddressOfferCounters& oc = v.offer.counters();
  const ReturnTokenCounters& tc = v.tokens.counters();
  char tag[9];
  std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(v.offer.tag()));
  json doc{{"daemon", "dmux-client"},
           {"uptime_seconds", v.uptime_seconds},
           {"gateway", v.config.gateway.to_string()},
           {"local", v.local.to_string()},
           {"tun", v.tun_name},
           {"mtu", v.config.tun_mtu},
           {"chain", v.config.chain},
           {"route_table", v.config.route_table},
           {"selectors", selectors},
           {"ipv6_active", v.ipv6_active},
           {"address", addr ? to_string(*addr) : ""},
           {"address_valid_seconds", seconds_left(v.offer, v.now)},
           {"tag", tag},
           {"binding", binding_text(v.tokens)},
           {"token_requests", tc.requests},
           {"token_offers", tc.offers},
           {"binding_changes", tc.binding_changes},
           {"solicitations", oc.solicitations},
           {"adverts", oc.adverts},
           {"address_changes", oc.changes},
           {"unanswered_solicitations", v.offer.unanswered()},
           {"segmented", v.io.counters().super_packets},  // reads cut into several DATA
           {"dropped_packets", dropped},
           {"drops", drops},
           {"offload", offload_json(v)}};
  metrics::add_counters(doc, kDataPathCounters, c);
  return doc.dump();
}

}  // namespace dmux::client
