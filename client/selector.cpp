#include "client/selector.h"

#include <netdb.h>

#include <array>
#include <charconv>

#include "common/util/config_error.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

constexpr const char* kOption = "capture";

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw ConfigError(kOption, "'" + std::string(text) + "': " + why);
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// IP protocol names iptables users write most; anything else is looked up in /etc/protocols.
constexpr std::array<std::pair<std::string_view, std::uint8_t>, 9> kIpProtocols{{{"icmp", 1},
                                                                                 {"igmp", 2},
                                                                                 {"tcp", 6},
                                                                                 {"udp", 17},
                                                                                 {"gre", 47},
                                                                                 {"esp", 50},
                                                                                 {"ah", 51},
                                                                                 {"sctp", 132},
                                                                                 {"udplite", 136}}};

std::optional<std::uint8_t> ip_protocol_number(std::string_view text, std::string_view selector) {
  if (text == "all" || text == "0") return std::nullopt;
  unsigned n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size() && n <= 255)
    return static_cast<std::uint8_t>(n);
  for (const auto& [name, number] : kIpProtocols) {
    if (name == text) return number;
  }
  if (const protoent* p = ::getprotobyname(std::string(text).c_str()); p != nullptr)
    return static_cast<std::uint8_t>(p->p_proto);
  bad(selector, "unknown IP protocol '" + std::string(text) + "' in match=");
}

// The IP protocol a generic selector's match names: "-p N", "--protocol N", "! -p N", "-p ! N".
void read_ip_protocol(Selector& s) {
  for (std::size_t i = 0; i < s.match.size(); ++i) {
    if (s.match[i] != "-p" && s.match[i] != "--protocol") continue;
    std::size_t v = i + 1;
    bool negated = i > 0 && s.match[i - 1] == "!";
    if (v < s.match.size() && s.match[v] == "!") {
      negated = true;
      ++v;
    }
    if (v >= s.match.size()) bad(s.text, "match= has -p without a protocol");
    s.ip_protocol = ip_protocol_number(s.match[v], s.text);
    s.ip_protocol_negated = negated && s.ip_protocol.has_value();
    return;
  }
}

}  // namespace

Selector parse_selector(std::string_view text) {
  Selector s;
  s.text = std::string(text);
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  if (kind == "ipv6") {
    s.kind = Selector::Kind::kIpv6;
    s.proto_id = wire::kProtoIpv6;
  } else if (kind == "ipv4-multicast") {
    s.kind = Selector::Kind::kIpv4Multicast;
    s.proto_id = wire::kProtoIpv4Multicast;
  } else if (kind == "generic") {
    s.kind = Selector::Kind::kGeneric;
  } else {
    bad(text, "unknown kind '" + std::string(kind) + "' (ipv6, ipv4-multicast or generic)");
  }
  std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  while (!rest.empty()) {
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) bad(text, "expected KEY=VALUE");
    const std::string_view key = rest.substr(0, eq);
    if (key == "match") {  // the rest of the text, commas included
      s.match = split_words(rest.substr(eq + 1));
      break;
    }
    const std::size_t comma = rest.find(',');
    const std::string_view value = rest.substr(
        eq + 1, comma == std::string_view::npos ? std::string_view::npos : comma - eq - 1);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    if (key == "provider") {
      const auto r = std::from_chars(value.data(), value.data() + value.size(), s.provider_id);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size())
        bad(text, "provider must be a number from 0 (any) to 4294967295");
    } else if (key == "proto") {
      const auto id = wire::parse_protocol(value);
      if (!id) bad(text, "unknown protocol '" + std::string(value) + "'");
      s.proto_id = *id;
    } else {
      bad(text, "unknown key '" + std::string(key) + "' (provider, proto, match)");
    }
  }
  if (s.kind == Selector::Kind::kGeneric) {
    if (s.proto_id == 0) bad(text, "generic needs proto=");
    if (s.match.empty()) bad(text, "generic needs match= (iptables match arguments)");
    for (const auto& w : s.match) {
      if (w == "-j" || w == "-g" || w == "--jump" || w == "--goto")
        bad(text, "match= must not contain a target");
    }
    read_ip_protocol(s);
  } else if (!s.match.empty()) {
    bad(text, "match= is only for generic selectors");
  }
  return s;
}

std::vector<Rule> selector_rules(const Selector& s, std::uint32_t mark, int mtu) {
  // ipv6 and ipv4-multicast are selected by their routes into the TUN device. (Re-routing a
  // marked multicast packet would not do: with a source address and no interface given, the
  // kernel sends multicast out of the device that owns the source address.)
  if (s.kind != Selector::Kind::kGeneric) return {};
  const std::vector<std::string>& match = s.match;
  const std::string m = std::to_string(mark);
  std::vector<std::string> marking = match;
  for (const char* a : {"-j", "MARK", "--set-mark"}) marking.emplace_back(a);
  marking.push_back(m);
  // After the MARK rule; TCPMSS --set-mss only ever lowers the MSS.
  std::vector<std::string> clamp{"-m",
                                 "mark",
                                 "--mark",
                                 m,
                                 "-p",
                                 "tcp",
                                 "--tcp-flags",
                                 "SYN,RST",
                                 "SYN",
                                 "-j",
                                 "TCPMSS",
                                 "--set-mss",
                                 std::to_string(mtu - 40)};
  return {Rule{4, std::move(marking)}, Rule{4, std::move(clamp)}};
}

Rule ipv6_mss_rule(const std::string& tun, int mtu) {
  return Rule{6,
              {"-o", tun, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss",
               std::to_string(mtu - 60)}};
}

bool may_select(const Selector& s, std::uint8_t protocol) noexcept {
  if (!s.ip_protocol) return true;
  return (*s.ip_protocol == protocol) != s.ip_protocol_negated;
}

bool overlap(const Selector& a, const Selector& b) noexcept {
  for (unsigned p = 0; p < 256; ++p) {
    if (may_select(a, static_cast<std::uint8_t>(p)) && may_select(b, static_cast<std::uint8_t>(p)))
      return true;
  }
  return false;
}

}  // namespace dmux::client
