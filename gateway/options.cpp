#include "gateway/options.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/app/standard_options.h"
#include "common/util/option_errors.h"
#include "common/util/strict_command_line.h"

namespace po = boost::program_options;

namespace dmux::gateway {
namespace {

// Every option's name, once.
constexpr const char* kHelp = app::opt::kHelp;
constexpr const char* kVersion = app::opt::kVersion;
constexpr const char* kConfig = app::opt::kConfig;
constexpr const char* kCheckConfig = app::opt::kCheckConfig;
constexpr const char* kListen = "listen";
constexpr const char* kTunnelSource = "tunnel-source";
constexpr const char* kGatewayId = "gateway-id";
constexpr const char* kWorkers = "workers";
constexpr const char* kBatchSize = "batch-size";
constexpr const char* kMaxDatagram = "max-datagram-bytes";
constexpr const char* kSocketBuffer = "socket-buffer-bytes";
constexpr const char* kGso = "gso";
constexpr const char* kGro = "gro";
constexpr const char* kStaticRouter = "static-router";
constexpr const char* kRegistrationListen = "registration-listen";
constexpr const char* kCaCert = "ca-cert";
constexpr const char* kKeepaliveMs = "keepalive-interval-ms";
constexpr const char* kHoldMs = "hold-time-ms";
constexpr const char* kMaxRouters = "max-routers";
constexpr const char* kMaxPerProvider = "max-routers-per-provider";
constexpr const char* kDampHalfLife = "dampening-half-life-s";
constexpr const char* kDampSuppress = "dampening-suppress";
constexpr const char* kDampReuse = "dampening-reuse";
constexpr const char* kRegRate = "registration-rate";
constexpr const char* kRegBurst = "registration-burst";
constexpr const char* kRegMaxSources = "registration-max-sources";
constexpr const char* kRegSignatureRate = "registration-signature-rate";
constexpr const char* kRegCookieRate = "registration-cookie-rate";
constexpr const char* kRegCookieValidMs = "registration-cookie-valid-ms";
constexpr const char* kRegHintRate = "registration-hint-rate";
constexpr const char* kMeshListen = "mesh-listen";
constexpr const char* kMeshPeer = "mesh-peer";
constexpr const char* kMeshCert = "mesh-cert";
constexpr const char* kMeshKey = "mesh-key";
constexpr const char* kMeshGraceMs = "mesh-grace-ms";
constexpr const char* kMeshProbeMs = "mesh-probe-interval-ms";
constexpr const char* kMeshMaxPerOrigin = "mesh-max-routers-per-origin";
constexpr const char* kMeshMaxPerProvider = "mesh-max-routers-per-provider";
constexpr const char* kCrl = "crl";
constexpr const char* kSelection = "selection";
constexpr const char* kSelectionToleranceUs = "selection-tolerance-us";
constexpr const char* kAnnouncePrefix = "announce-prefix";
constexpr const char* kAnnounceDevice = "announce-device";
constexpr const char* kAnnounceMetric = "announce-metric";
constexpr const char* kDrainMetric = "drain-metric";
constexpr const char* kHealthIntervalMs = "health-interval-ms";
constexpr const char* kHealthRise = "health-rise";
constexpr const char* kHealthFall = "health-fall";
constexpr const char* kDrainWithdrawMs = "drain-withdraw-ms";

po::options_description daemon_options() {
  po::options_description d("Gateway", 100, 50);
  // clang-format off
  d.add_options()
      (kListen, po::value<std::vector<std::string>>()->value_name("ADDR:PORT"),
       "receive client DATA datagrams here; repeat for anycast and unicast addresses (required)")
      (kTunnelSource, po::value<std::string>()->value_name("ADDR")->default_value("0.0.0.0"),
       "source address of tunnels to routers (0.0.0.0 = chosen by the kernel)")
      (kGatewayId, po::value<std::string>()->value_name("ID"),
       "this gateway's id in TUNNEL headers: a number or dotted quad (default: first listen address)")
      (kWorkers, po::value<unsigned>()->value_name("N")->default_value(0),
       "data-plane threads, each with SO_REUSEPORT sockets (0 = one per CPU, at most 64)")
      (kBatchSize, po::value<unsigned>()->value_name("N")->default_value(64),
       "datagrams per recvmmsg/sendmmsg call (1-1024)")
      (kMaxDatagram, po::value<std::size_t>()->value_name("BYTES")->default_value(1500),
       "largest DATA datagram accepted; larger ones are dropped as oversize (64-65507)")
      (kSocketBuffer, po::value<int>()->value_name("BYTES")->default_value(4 << 20),
       "SO_RCVBUF and SO_SNDBUF of each data socket")
      (kGso, po::value<bool>()->value_name("on|off")->default_value(true, "on"),
       "send runs of equal-size datagrams to one router as one UDP GSO send (falls back by itself)")
      (kGro, po::value<bool>()->value_name("on|off")->default_value(true, "on"),
       "receive DATA with UDP_GRO: a client's GSO sends, and runs the interface's GRO merged, "
       "arrive in one buffer (off by itself on kernels without it)")
      (kStaticRouter, po::value<std::vector<std::string>>()->value_name("\"PROTO PROVIDER ADDR:PORT KEYFILE\""),
       "pin a router, e.g. \"ipv6 7 198.18.2.2:5000 /etc/ipdmux/r1.tunnel-key\"; KEYFILE holds "
       "its tunnel key, 64 hex digits (openssl rand -hex 32), which its agent is given too; "
       "repeatable; SIGHUP re-reads the key files")
      (kRegistrationListen, po::value<std::vector<std::string>>()->value_name("ADDR:PORT"),
       "accept router registrations here (anycast registration address and unicast); repeatable; "
       "needs --ca-cert")
      (kCaCert, po::value<std::string>()->value_name("FILE"),
       "the operator's CA certificate (PEM, from dmux-ca) that provider credentials must chain to")
      (kKeepaliveMs, po::value<unsigned>()->value_name("MS")->default_value(5000),
       "keepalive interval told to registered routers")
      (kHoldMs, po::value<unsigned>()->value_name("MS")->default_value(15000),
       "a registered router silent this long is removed (>= 2 keepalive intervals)")
      (kMaxRouters, po::value<std::size_t>()->value_name("N")->default_value(10000),
       "registered routers in total; more are refused")
      (kMaxPerProvider, po::value<std::size_t>()->value_name("N")->default_value(64),
       "registered routers per provider; more are refused")
      (kDampHalfLife, po::value<unsigned>()->value_name("S")->default_value(60),
       "flap dampening: half-life of a router's penalty (1000 per withdrawal)")
      (kDampSuppress, po::value<double>()->value_name("P")->default_value(3000),
       "flap dampening: refuse a router whose penalty exceeds this")
      (kDampReuse, po::value<double>()->value_name("P")->default_value(750),
       "flap dampening: accept it again once its penalty decays below this")
      (kRegRate, po::value<double>()->value_name("PER_S")->default_value(5),
       "REGISTERs per second accepted from one source address that showed a valid cookie "
       "(checked before any public-key work)")
      (kRegBurst, po::value<double>()->value_name("N")->default_value(10),
       "burst allowance of --registration-rate")
      (kRegMaxSources, po::value<std::size_t>()->value_name("N")->default_value(16384),
       "source addresses tracked by --registration-rate (only sources with a valid cookie)")
      (kRegSignatureRate, po::value<double>()->value_name("PER_S")->default_value(2000),
       "REGISTERs per second, all sources together, that may reach certificate and signature "
       "checks; more are refused as overloaded (keepalives are always served first)")
      (kRegCookieRate, po::value<double>()->value_name("PER_S")->default_value(50000),
       "COOKIE answers per second, all sources together")
      (kRegCookieValidMs, po::value<unsigned>()->value_name("MS")->default_value(60000),
       "cookie secret rotation: a cookie stays valid this long at least, twice at most (100-3600000)")
      (kRegHintRate, po::value<double>()->value_name("PER_S")->default_value(1000),
       "unauthenticated 'unknown session' answers to KEEPALIVEs per second, all sources together")
      (kMeshListen, po::value<std::string>()->value_name("ADDR:PORT"),
       "join the gateway mesh: accept TLS links from other gateways here; needs --mesh-cert, "
       "--mesh-key and --ca-cert")
      (kMeshPeer, po::value<std::vector<std::string>>()->value_name("ADDR:PORT"),
       "a gateway to dial at start (seed); the rest of the mesh is learned from it; repeatable")
      (kMeshCert, po::value<std::string>()->value_name("FILE"),
       "this gateway's certificate (PEM, from dmux-ca issue-gateway, for --gateway-id)")
      (kMeshKey, po::value<std::string>()->value_name("FILE"), "the key of --mesh-cert (PEM)")
      (kMeshGraceMs, po::value<unsigned>()->value_name("MS")->default_value(10000),
       "a gateway unreachable this long has its routers dropped here")
      (kMeshProbeMs, po::value<unsigned>()->value_name("MS")->default_value(1000),
       "RTT probe interval per peer; a link silent for 5 intervals is closed")
      (kMeshMaxPerOrigin, po::value<std::size_t>()->value_name("N")->default_value(10000),
       "router records held from one peer gateway; more are refused before any signature check")
      (kMeshMaxPerProvider, po::value<std::size_t>()->value_name("N")->default_value(1024),
       "router records held for one provider, from all peers together")
      (kCrl, po::value<std::string>()->value_name("FILE"),
       "the operator CA's revocation list (PEM or DER, from dmux-ca crl), re-read on SIGHUP; the "
       "mesh passes newer ones on (docs/ca.md \"Revocation\")")
      (kSelection, po::value<std::string>()->value_name("paper|path")->default_value("path"),
       "router choice: 'paper' = routers at the nearest gateway; 'path' = also count each "
       "router's distance to its gateway")
      (kAnnouncePrefix, po::value<std::string>()->value_name("PREFIX"),
       "announce the dmux-prefix (e.g. 198.18.0.0/24) through FRR while healthy: a kernel route "
       "into a TUN device only this process holds (FRR: redistribute kernel, deploy/frr/)")
      (kAnnounceDevice, po::value<std::string>()->value_name("NAME")->default_value("dmuxa0"),
       "the TUN device the announced route points into (created and removed by dmuxd)")
      (kAnnounceMetric, po::value<long long>()->value_name("N")->default_value(100),
       "route metric meaning 'announce' to FRR's route-map")
      (kDrainMetric, po::value<long long>()->value_name("N")->default_value(1000),
       "route metric meaning 'announce with graceful shutdown (RFC 8326)' while draining")
      (kHealthIntervalMs, po::value<unsigned>()->value_name("MS")->default_value(200),
       "health sample interval: every data-plane worker must have made progress (100-60000)")
      (kHealthRise, po::value<unsigned>()->value_name("N")->default_value(3),
       "good samples in a row before announcing (1-100)")
      (kHealthFall, po::value<unsigned>()->value_name("N")->default_value(2),
       "bad samples in a row before withdrawing (1-100)")
      (kDrainWithdrawMs, po::value<unsigned>()->value_name("MS")->default_value(5000),
       "drain (dmuxctl drain, SIGTERM): announce with graceful shutdown this long, then withdraw")
      (kSelectionToleranceUs, po::value<unsigned>()->value_name("US")->default_value(1000),
       "routers whose estimated distance is within this (or 10%) of the nearest form one tier, "
       "over which clients are hashed (0-1000000)");
  // clang-format on
  app::add_operator_options(d, {.control_socket = "/run/ipdmux/dmuxd.sock",
                                .control_socket_help = "UNIX socket for dmuxctl",
                                .metrics_listen = "127.0.0.1:9750"});
  return d;
}

template <typename T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

net::Endpoint require_endpoint(const std::string& text, const char* option, bool port_zero) {
  auto ep = net::parse_endpoint(text, port_zero);
  if (!ep) throw ConfigError(option, "'" + text + "' is not IPV4:PORT");
  return *ep;
}

wire::GatewayId parse_gateway_id(const std::string& text) {
  if (auto a = net::parse_ipv4(text)) return wire::GatewayId{*a};
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw ConfigError(kGatewayId, "'" + text + "' is neither a number nor a dotted quad");
  }
  return wire::GatewayId{v};
}

// A global rate with a burst of a twentieth of a second's worth (at least 1).
registry::TokenBucketConfig global_rate(const po::variables_map& vm, const char* option) {
  const double rate = get<double>(vm, option);
  if (!(rate >= 1)) throw ConfigError(option, "must be at least 1");
  return {rate, std::max(1.0, rate / 20)};
}

void to_registration_limits(const po::variables_map& vm, wire::GatewayId gateway_id,
                            registry::HandlerConfig& h) {
  h.gateway_id = gateway_id;
  h.rate.per_second = get<double>(vm, kRegRate);
  h.rate.burst = get<double>(vm, kRegBurst);
  if (!(h.rate.per_second > 0)) throw ConfigError(kRegRate, "must be above 0");
  if (!(h.rate.burst >= 1)) throw ConfigError(kRegBurst, "must be at least 1");
  h.rate.max_sources = get<std::size_t>(vm, kRegMaxSources);
  if (h.rate.max_sources < 1) throw ConfigError(kRegMaxSources, "must be at least 1");
  h.signature_rate = global_rate(vm, kRegSignatureRate);
  h.cookie_rate = global_rate(vm, kRegCookieRate);
  h.hint_rate = global_rate(vm, kRegHintRate);
  const auto valid = get<unsigned>(vm, kRegCookieValidMs);
  if (valid < 100 || valid > 3'600'000) throw ConfigError(kRegCookieValidMs, "must be 100-3600000");
  h.cookie_valid = std::chrono::milliseconds(valid);
}

std::optional<RegistrationConfig> to_registration(const po::variables_map& vm,
                                                  wire::GatewayId gateway_id) {
  if (!vm.count(kRegistrationListen)) {
    if (vm.count(kCaCert) && !vm.count(kMeshListen)) {
      throw ConfigError(kCaCert, "given without --registration-listen or --mesh-listen");
    }
    return std::nullopt;
  }
  RegistrationConfig r;
  for (const auto& s : get<std::vector<std::string>>(vm, kRegistrationListen)) {
    r.listen.push_back(require_endpoint(s, kRegistrationListen, false));
  }
  if (!vm.count(kCaCert)) throw ConfigError(kCaCert, "required with --registration-listen");
  r.ca_cert_path = get<std::string>(vm, kCaCert);
  if (!std::ifstream(r.ca_cert_path))
    throw ConfigError(kCaCert, "cannot read '" + r.ca_cert_path + "'");

  const auto keepalive = get<unsigned>(vm, kKeepaliveMs);
  const auto hold = get<unsigned>(vm, kHoldMs);
  if (keepalive < 100) throw ConfigError(kKeepaliveMs, "must be at least 100");
  if (hold < 2 * keepalive)
    throw ConfigError(kHoldMs, "must be at least twice --keepalive-interval-ms");
  r.registry.keepalive_interval = std::chrono::milliseconds(keepalive);
  r.registry.hold_time = std::chrono::milliseconds(hold);
  r.registry.max_routers = get<std::size_t>(vm, kMaxRouters);
  r.registry.max_routers_per_provider = get<std::size_t>(vm, kMaxPerProvider);
  const auto half_life = get<unsigned>(vm, kDampHalfLife);
  if (half_life == 0) throw ConfigError(kDampHalfLife, "must be at least 1");
  r.registry.dampening.half_life = std::chrono::seconds(half_life);
  r.registry.dampening.suppress_threshold = get<double>(vm, kDampSuppress);
  r.registry.dampening.reuse_threshold = get<double>(vm, kDampReuse);
  if (!(r.registry.dampening.reuse_threshold > 0 &&
        r.registry.dampening.reuse_threshold < r.registry.dampening.suppress_threshold)) {
    throw ConfigError(kDampReuse, "must be above 0 and below --dampening-suppress");
  }
  to_registration_limits(vm, gateway_id, r.handler);
  return r;
}

std::string require_readable(const po::variables_map& vm, const char* option, const char* why) {
  if (!vm.count(option)) throw ConfigError(option, why);
  auto path = get<std::string>(vm, option);
  if (!std::ifstream(path)) throw ConfigError(option, "cannot read '" + path + "'");
  return path;
}

std::optional<mesh::MeshConfig> to_mesh(const po::variables_map& vm, wire::GatewayId gateway_id) {
  if (!vm.count(kMeshListen)) {
    for (const char* o : {kMeshPeer, kMeshCert, kMeshKey}) {
      if (vm.count(o)) throw ConfigError(o, "given without --mesh-listen");
    }
    return std::nullopt;
  }
  mesh::MeshConfig m;
  m.gateway_id = gateway_id;
  m.listen = require_endpoint(get<std::string>(vm, kMeshListen), kMeshListen, true);
  if (vm.count(kMeshPeer)) {
    for (const auto& s : get<std::vector<std::string>>(vm, kMeshPeer)) {
      m.seeds.push_back(require_endpoint(s, kMeshPeer, false));
    }
  }
  m.cert_path = require_readable(vm, kMeshCert, "required with --mesh-listen");
  m.key_path = require_readable(vm, kMeshKey, "required with --mesh-listen");
  m.ca_cert_path = require_readable(vm, kCaCert, "required with --mesh-listen");
  const auto grace = get<unsigned>(vm, kMeshGraceMs);
  const auto probe = get<unsigned>(vm, kMeshProbeMs);
  if (probe < 10 || probe > 60000) throw ConfigError(kMeshProbeMs, "must be 10-60000");
  if (grace < 100) throw ConfigError(kMeshGraceMs, "must be at least 100");
  m.grace = std::chrono::milliseconds(grace);
  m.probe_interval = std::chrono::milliseconds(probe);
  m.max_routers_per_origin = get<std::size_t>(vm, kMeshMaxPerOrigin);
  m.max_routers_per_provider = get<std::size_t>(vm, kMeshMaxPerProvider);
  if (m.max_routers_per_origin == 0) throw ConfigError(kMeshMaxPerOrigin, "must be at least 1");
  if (m.max_routers_per_provider == 0) throw ConfigError(kMeshMaxPerProvider, "must be at least 1");
  return m;
}

std::optional<bgp_glue::AnnounceConfig> to_announce(const po::variables_map& vm) {
  if (!vm.count(kAnnouncePrefix)) return std::nullopt;
  bgp_glue::AnnounceConfig a;
  const auto text = get<std::string>(vm, kAnnouncePrefix);
  const auto prefix = net::parse_ipv4_prefix(text);
  if (!prefix)
    throw ConfigError(kAnnouncePrefix, "'" + text + "' is not an IPv4 prefix (host bits zero)");
  a.prefix = *prefix;
  a.device = get<std::string>(vm, kAnnounceDevice);
  if (a.device.empty() || a.device.size() > 15) {
    throw ConfigError(kAnnounceDevice, "must be 1-15 characters");
  }
  for (const char* o : {kAnnounceMetric, kDrainMetric}) {
    const auto v = get<long long>(vm, o);
    if (v < 0 || v > 0xffffffffLL) throw ConfigError(o, "must be 0-4294967295");
  }
  a.metric = static_cast<std::uint32_t>(get<long long>(vm, kAnnounceMetric));
  a.drain_metric = static_cast<std::uint32_t>(get<long long>(vm, kDrainMetric));
  if (a.metric == a.drain_metric)
    throw ConfigError(kDrainMetric, "must differ from --announce-metric");
  const auto interval = get<unsigned>(vm, kHealthIntervalMs);
  if (interval < 100 || interval > 60000) throw ConfigError(kHealthIntervalMs, "must be 100-60000");
  a.health_interval = std::chrono::milliseconds(interval);
  a.rise = get<unsigned>(vm, kHealthRise);
  a.fall = get<unsigned>(vm, kHealthFall);
  if (a.rise < 1 || a.rise > 100) throw ConfigError(kHealthRise, "must be 1-100");
  if (a.fall < 1 || a.fall > 100) throw ConfigError(kHealthFall, "must be 1-100");
  a.drain_withdraw = std::chrono::milliseconds(get<unsigned>(vm, kDrainWithdrawMs));
  return a;
}

GatewayConfig to_config(const po::variables_map& vm) {
  GatewayConfig c;
  if (vm.count(kConfig)) c.config_file = get<std::string>(vm, kConfig);

  if (!vm.count(kListen)) throw ConfigError(kListen, "at least one listen endpoint is required");
  for (const auto& s : get<std::vector<std::string>>(vm, kListen)) {
    c.listen.push_back(require_endpoint(s, kListen, false));
  }

  const auto src = get<std::string>(vm, kTunnelSource);
  const auto src_addr = net::parse_ipv4(src);
  if (!src_addr) throw ConfigError(kTunnelSource, "'" + src + "' is not an IPv4 address");
  c.tunnel_source = net::Endpoint{*src_addr, 0};

  if (vm.count(kGatewayId)) {
    c.gateway_id = parse_gateway_id(get<std::string>(vm, kGatewayId));
  } else {
    c.gateway_id = wire::GatewayId{c.listen.front().addr};
  }
  if (c.gateway_id == wire::GatewayId{0}) {
    throw ConfigError(kGatewayId,
                      "must be set (and non-zero) when the first listen address is 0.0.0.0");
  }

  c.workers = get<unsigned>(vm, kWorkers);
  if (c.workers == 0) c.workers = std::max(1u, std::thread::hardware_concurrency());
  if (c.workers > 64) throw ConfigError(kWorkers, "at most 64 workers");

  c.batch_size = get<unsigned>(vm, kBatchSize);
  if (c.batch_size < 1 || c.batch_size > 1024) throw ConfigError(kBatchSize, "must be 1-1024");

  c.max_datagram_bytes = get<std::size_t>(vm, kMaxDatagram);
  if (c.max_datagram_bytes < 64 || c.max_datagram_bytes > 65507) {
    throw ConfigError(kMaxDatagram, "must be 64-65507");
  }

  c.socket_buffer_bytes = get<int>(vm, kSocketBuffer);
  if (c.socket_buffer_bytes < 4096) throw ConfigError(kSocketBuffer, "must be at least 4096");

  c.use_gso = get<bool>(vm, kGso);
  c.use_gro = get<bool>(vm, kGro);

  if (vm.count(kStaticRouter)) {
    for (const auto& s : get<std::vector<std::string>>(vm, kStaticRouter)) {
      RouterEntry r;
      if (auto err = parse_static_router(s, r); !err.empty()) throw ConfigError(kStaticRouter, err);
      c.static_routers.push_back(r);
    }
  }

  c.registration = to_registration(vm, c.gateway_id);
  if (c.registration) c.registration->feedback.tunnel_source = c.tunnel_source.addr;  // 9.9
  c.mesh = to_mesh(vm, c.gateway_id);
  if (vm.count(kCrl)) {
    if (!c.mesh && !c.registration) {
      throw ConfigError(kCrl, "given without --registration-listen or --mesh-listen");
    }
    c.crl_path = require_readable(vm, kCrl, "");
  }
  const auto selection = get<std::string>(vm, kSelection);
  if (selection != "paper" && selection != "path") {
    throw ConfigError(kSelection, "'" + selection + "' is neither paper nor path");
  }
  c.selection.use_router_distance = selection == "path";
  const auto tolerance = get<unsigned>(vm, kSelectionToleranceUs);
  if (tolerance > 1'000'000) throw ConfigError(kSelectionToleranceUs, "must be 0-1000000");
  c.selection.tolerance = std::chrono::microseconds(tolerance);
  c.announce = to_announce(vm);

  app::read_operator_options(vm, c);
  return c;
}

template <typename F>
auto translate_errors(F&& f) {
  try {
    return f();
  } catch (...) {
    rethrow_as_config_error();
  }
}

po::variables_map parse_all(int argc, const char* const argv[], const po::options_description& all,
                            const po::options_description& file_opts) {
  po::variables_map vm;
  po::store(parse_strict_command_line(argc, argv, all), vm);
  if (vm.count(kConfig)) store_config_file(vm[kConfig].as<std::string>(), file_opts, vm, kConfig);
  po::notify(vm);
  return vm;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  return translate_errors([&] {
    const auto prog =
        app::program_options("validate the configuration, print a summary and exit (0 if valid)");
    const auto daemon = daemon_options();
    po::options_description all(100, 50);
    all.add(prog).add(daemon);

    CommandLine cl;
    std::ostringstream help;
    help << "dmuxd: the IPdmux gateway. Receives shim-tagged UDP from clients on the listen\n"
            "endpoints and re-tunnels each IPvN packet to the nearest matching provider router.\n\n"
            "Usage: dmuxd [--config FILE] [options]\n\n"
         << all
         << "\nExample:\n  openssl rand -hex 32 > /etc/ipdmux/r1.tunnel-key\n"
            "  dmuxd --listen 198.18.0.1:4500 --static-router \"ipv6 7 198.18.2.2:5000 "
            "/etc/ipdmux/r1.tunnel-key\"\n"
            "Reload: SIGHUP re-reads --config (static routers and their key files) without "
            "stopping the data plane.\n"
            "Docs: docs/operations.md; wire formats: docs/protocol.md\n";
    cl.help_text = help.str();

    po::variables_map pre;
    po::store(parse_strict_command_line(argc, argv, all, true), pre);
    if (pre.count(kHelp)) {
      cl.help = true;
      return cl;
    }
    if (pre.count(kVersion)) {
      cl.version = true;
      return cl;
    }
    const auto vm = parse_all(argc, argv, all, daemon);
    cl.check_config = vm.count(kCheckConfig) > 0;
    cl.config = to_config(vm);
    return cl;
  });
}

GatewayConfig reload_config(int argc, const char* const argv[]) {
  return parse_command_line(argc, argv).config;
}

}  // namespace dmux::gateway
