#include "tools/loadgen/options.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <sstream>
#include <string_view>

#include "common/util/hex_key_file.h"
#include "common/util/strict_command_line.h"
#include "common/wire/protocols.h"
#include "tools/loadgen/probe.h"

namespace po = boost::program_options;

namespace dmux::loadgen {
namespace {

// Every option's name, once.
constexpr const char* kHelp = "help";
constexpr const char* kTarget = "target";
constexpr const char* kListen = "listen";
constexpr const char* kSource = "source";
constexpr const char* kSourcePortBase = "source-port-base";
constexpr const char* kShim = "shim";
constexpr const char* kToken = "token";
constexpr const char* kRate = "rate";
constexpr const char* kDuration = "duration";
constexpr const char* kSize = "size";
constexpr const char* kFlows = "flows";
constexpr const char* kBatch = "batch";
constexpr const char* kSndbuf = "sndbuf";
constexpr const char* kRcvbuf = "rcvbuf";
constexpr const char* kExpect = "expect";
constexpr const char* kIdle = "idle";
constexpr const char* kCount = "count";
constexpr const char* kWarmup = "warmup";
constexpr const char* kIntervalUs = "interval-us";
constexpr const char* kTimeoutMs = "timeout-ms";
constexpr const char* kMode = "mode";
constexpr const char* kDrainUs = "drain-interval-us";
constexpr const char* kGiveUp = "give-up";
constexpr const char* kTunnelKey = "tunnel-key";
constexpr const char* kCheckLaterMb = "check-later-mb";
constexpr const char* kGro = "gro";

constexpr unsigned kHelpWidth = 100;  // columns of --help output

constexpr const char* kOverview =
    "dmux-loadgen: load and latency generator for IPdmux forwarding benchmarks.\n\n"
    "Usage: dmux-loadgen SUBCOMMAND [options]   (dmux-loadgen SUBCOMMAND --help for options)\n\n"
    "Subcommands:\n"
    "  send   send UDP (DATA shim or raw) at a target rate over many flows\n"
    "  sink   receive and count datagrams, optionally checking TUNNEL headers\n"
    "  ping   round-trip latency, one datagram in flight\n"
    "  echo   the far end of ping: answer TUNNEL with RETURN to the client, or raw to the "
    "source\n\n"
    "Each run prints one JSON object on one line on stdout. Exit status: 0 done, 1 runtime\n"
    "error, 2 bad command line.\n";

[[noreturn]] void bad(const char* option, const std::string& why) {
  throw UsageError(std::string("--") + option + ": " + why);
}

template <typename T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

template <typename T>
T in_range(const po::variables_map& vm, const char* name, T lo, T hi) {
  const T v = get<T>(vm, name);
  if (v < lo || v > hi) {
    bad(name, "must be " + std::to_string(lo) + "-" + std::to_string(hi));
  }
  return v;
}

std::chrono::nanoseconds seconds_option(const po::variables_map& vm, const char* name,
                                        bool zero_ok) {
  const double s = get<double>(vm, name);
  if (!std::isfinite(s) || s < 0 || s > 86400 || (s == 0 && !zero_ok)) {
    bad(name, zero_ok ? "must be 0-86400 seconds" : "must be more than 0, at most 86400 seconds");
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

net::Endpoint endpoint_option(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) bad(name, "is required");
  const auto text = get<std::string>(vm, name);
  const auto ep = net::parse_endpoint(text);
  if (!ep) bad(name, "'" + text + "' is not IPV4:PORT");
  return *ep;
}

std::uint32_t address_option(const po::variables_map& vm, const char* name) {
  const auto text = get<std::string>(vm, name);
  const auto a = net::parse_ipv4(text);
  if (!a) bad(name, "'" + text + "' is not an IPv4 address");
  return *a;
}

// "PROTO,PROVIDER", e.g. "ipv6,7"; PROTO is a name or number, PROVIDER 0 means any.
ShimSpec shim_option(const po::variables_map& vm) {
  ShimSpec s;
  if (!vm.count(kShim)) return s;
  const auto text = get<std::string>(vm, kShim);
  const auto comma = text.find(',');
  if (comma == std::string::npos) bad(kShim, "'" + text + "' is not PROTO,PROVIDER");
  const auto proto = wire::parse_protocol(std::string_view(text).substr(0, comma));
  if (!proto) bad(kShim, "unknown or reserved protocol in '" + text + "'");
  const std::string_view prov = std::string_view(text).substr(comma + 1);
  std::uint32_t provider = 0;
  const auto [ptr, ec] = std::from_chars(prov.data(), prov.data() + prov.size(), provider);
  if (prov.empty() || ec != std::errc() || ptr != prov.data() + prov.size()) {
    bad(kShim, "provider in '" + text + "' is not a 32-bit number");
  }
  s.enabled = true;
  s.proto_id = *proto;
  s.provider_id = provider;
  s.token = get<std::uint64_t>(vm, kToken);
  return s;
}

// UDP payload size: room for the shim header (if any) and the probe stamp.
std::size_t size_option(const po::variables_map& vm, const ShimSpec& shim) {
  return in_range<std::size_t>(vm, kSize, min_datagram_bytes(shim), 65507);
}

void add_shim_options(po::options_description& d) {
  // clang-format off
  d.add_options()
      (kShim, po::value<std::string>()->value_name("PROTO,PROVIDER"),
       "send DATA datagrams with this shim, e.g. ipv6,7 (PROVIDER 0 = any); omit for raw UDP")
      (kToken, po::value<std::uint64_t>()->value_name("N")->default_value(0),
       "client token in the shim");
  // clang-format on
}

po::options_description send_options() {
  po::options_description d("send options", kHelpWidth, kHelpWidth / 2);
  // clang-format off
  d.add_options()
      (kTarget, po::value<std::string>()->value_name("ADDR:PORT"), "destination (required)")
      (kSource, po::value<std::string>()->value_name("ADDR")->default_value("0.0.0.0"),
       "source address of every flow")
      (kSourcePortBase, po::value<unsigned>()->value_name("PORT")->default_value(0),
       "flows use source ports PORT..PORT+flows-1 (0 = ephemeral ports)")
      (kFlows, po::value<unsigned>()->value_name("N")->default_value(64),
       "flows, i.e. sockets with distinct source ports (1-4096)")
      (kSize, po::value<std::size_t>()->value_name("BYTES")->default_value(64),
       "UDP payload per datagram, shim header included (min 20 raw, 40 with --shim; max 65507)")
      (kRate, po::value<std::uint64_t>()->value_name("PPS")->default_value(0),
       "target datagrams per second (0 = as fast as possible)")
      (kDuration, po::value<double>()->value_name("SECONDS")->default_value(2.0), "run time")
      (kBatch, po::value<unsigned>()->value_name("N")->default_value(32),
       "datagrams per sendmmsg call, all on one flow (1-1024)")
      (kSndbuf, po::value<int>()->value_name("BYTES")->default_value(0),
       "SO_SNDBUF of each flow (0 = kernel default)");
  // clang-format on
  add_shim_options(d);
  return d;
}

SendConfig to_send(const po::variables_map& vm) {
  SendConfig c;
  c.target = endpoint_option(vm, kTarget);
  c.source_addr = address_option(vm, kSource);
  c.flows = in_range<unsigned>(vm, kFlows, 1, 4096);
  c.source_port_base =
      static_cast<std::uint16_t>(in_range<unsigned>(vm, kSourcePortBase, 0, 65536 - c.flows));
  c.shim = shim_option(vm);
  c.datagram_bytes = size_option(vm, c.shim);
  c.rate_pps = in_range<std::uint64_t>(vm, kRate, 0, 100'000'000);
  c.duration = seconds_option(vm, kDuration, false);
  c.batch = in_range<unsigned>(vm, kBatch, 1, 1024);
  c.sndbuf_bytes = in_range<int>(vm, kSndbuf, 0, 1 << 30);
  return c;
}

po::options_description sink_options() {
  po::options_description d("sink options", kHelpWidth, kHelpWidth / 2);
  // clang-format off
  d.add_options()
      (kListen, po::value<std::string>()->value_name("ADDR:PORT"), "where to receive (required)")
      (kExpect, po::value<std::string>()->value_name("any|tunnel")->default_value("any"),
       "tunnel: count datagrams that are not a TUNNEL with a loadgen payload as invalid")
      (kDuration, po::value<double>()->value_name("SECONDS")->default_value(0.0),
       "stop after this long (0 = no limit)")
      (kIdle, po::value<double>()->value_name("SECONDS")->default_value(0.5),
       "stop this long after the last datagram (counting starts with the first)")
      (kBatch, po::value<unsigned>()->value_name("N")->default_value(256),
       "datagrams per recvmmsg call (1-1024)")
      (kDrainUs, po::value<unsigned>()->value_name("US")->default_value(1000),
       "sleep between drains of the socket, so the kernel never has to wake the sink; "
       "0 = wait in poll()")
      (kRcvbuf, po::value<int>()->value_name("BYTES")->default_value(16 << 20),
       "receive buffer (SO_RCVBUFFORCE when root)")
      (kTunnelKey, po::value<std::string>()->value_name("FILE"),
       "with --expect tunnel: check every TUNNEL's tag with the router's tunnel key in FILE "
       "(64 hex digits); the run fails (exit 1) if one is wrong")
      (kCheckLaterMb, po::value<unsigned>()->value_name("MB")->default_value(0),
       "with --tunnel-key: keep up to MB megabytes of TUNNELs and check their tags after the run, "
       "so that checking costs nothing while it measures (the rest is checked as it arrives; "
       "0 = check every tag as it arrives)")
      (kGro, "receive with UDP_GRO (runs of equal-size datagrams in one buffer), as a router "
       "agent does");
  // clang-format on
  return d;
}

SinkConfig to_sink(const po::variables_map& vm) {
  SinkConfig c;
  c.listen = endpoint_option(vm, kListen);
  const auto expect = get<std::string>(vm, kExpect);
  if (expect == "tunnel") {
    c.expect = Expect::kTunnel;
  } else if (expect != "any") {
    bad(kExpect, "'" + expect + "' is not any or tunnel");
  }
  c.duration = seconds_option(vm, kDuration, true);
  c.idle = seconds_option(vm, kIdle, false);
  c.batch = in_range<unsigned>(vm, kBatch, 1, 1024);
  c.drain_interval = std::chrono::microseconds(in_range<unsigned>(vm, kDrainUs, 0, 1'000'000));
  c.rcvbuf_bytes = in_range<int>(vm, kRcvbuf, 0, 1 << 30);
  if (vm.count(kTunnelKey)) {
    if (c.expect != Expect::kTunnel) bad(kTunnelKey, "needs --expect tunnel");
    crypto::TunnelKeyBytes key{};
    const auto err = util::read_hex_key_file(get<std::string>(vm, kTunnelKey), key);
    if (!err.empty()) bad(kTunnelKey, err);
    c.tunnel_key = key;
  }
  const auto later_mb = in_range<unsigned>(vm, kCheckLaterMb, 0, 65536);
  if (later_mb > 0 && !c.tunnel_key) bad(kCheckLaterMb, "needs --tunnel-key");
  c.check_later_bytes = std::size_t{later_mb} << 20;
  c.gro = vm.count(kGro) != 0;
  return c;
}

po::options_description ping_options() {
  po::options_description d("ping options", kHelpWidth, kHelpWidth / 2);
  // clang-format off
  d.add_options()
      (kTarget, po::value<std::string>()->value_name("ADDR:PORT"), "destination (required)")
      (kSource, po::value<std::string>()->value_name("ADDR")->default_value("0.0.0.0"),
       "source address")
      (kSize, po::value<std::size_t>()->value_name("BYTES")->default_value(64),
       "UDP payload, shim header included (min 20 raw, 40 with --shim; max 65507)")
      (kCount, po::value<unsigned>()->value_name("N")->default_value(2000),
       "measured round trips (1-10000000)")
      (kWarmup, po::value<unsigned>()->value_name("N")->default_value(100),
       "round trips before measuring")
      (kIntervalUs, po::value<unsigned>()->value_name("US")->default_value(0),
       "pause between round trips, microseconds")
      (kTimeoutMs, po::value<unsigned>()->value_name("MS")->default_value(200),
       "a reply later than this counts as lost (1-60000)")
      (kGiveUp, po::value<unsigned>()->value_name("N")->default_value(50),
       "stop after N losses in a row (0 = never)");
  // clang-format on
  add_shim_options(d);
  return d;
}

PingConfig to_ping(const po::variables_map& vm) {
  PingConfig c;
  c.target = endpoint_option(vm, kTarget);
  c.source_addr = address_option(vm, kSource);
  c.shim = shim_option(vm);
  c.datagram_bytes = size_option(vm, c.shim);
  c.count = in_range<unsigned>(vm, kCount, 1, 10'000'000);
  c.warmup = in_range<unsigned>(vm, kWarmup, 0, 10'000'000);
  c.interval = std::chrono::microseconds(in_range<unsigned>(vm, kIntervalUs, 0, 10'000'000));
  c.timeout = std::chrono::milliseconds(in_range<unsigned>(vm, kTimeoutMs, 1, 60'000));
  c.give_up_after = get<unsigned>(vm, kGiveUp);
  return c;
}

po::options_description echo_options() {
  po::options_description d("echo options", kHelpWidth, kHelpWidth / 2);
  // clang-format off
  d.add_options()
      (kListen, po::value<std::string>()->value_name("ADDR:PORT"), "where to receive (required)")
      (kMode, po::value<std::string>()->value_name("tunnel|raw")->default_value("tunnel"),
       "tunnel: answer TUNNEL with RETURN to the client in its header; raw: echo to the source")
      (kDuration, po::value<double>()->value_name("SECONDS")->default_value(0.0),
       "stop after this long (0 = until SIGINT/SIGTERM)");
  // clang-format on
  return d;
}

EchoConfig to_echo(const po::variables_map& vm) {
  EchoConfig c;
  c.listen = endpoint_option(vm, kListen);
  const auto mode = get<std::string>(vm, kMode);
  if (mode == "raw") {
    c.mode = EchoMode::kRaw;
  } else if (mode != "tunnel") {
    bad(kMode, "'" + mode + "' is not tunnel or raw");
  }
  c.duration = seconds_option(vm, kDuration, true);
  return c;
}

struct Subcommand {
  std::string_view name;
  po::options_description (*options)();
  Config (*to_config)(const po::variables_map&);
};

const Subcommand kSubcommands[] = {
    {"send", send_options, [](const po::variables_map& vm) -> Config { return to_send(vm); }},
    {"sink", sink_options, [](const po::variables_map& vm) -> Config { return to_sink(vm); }},
    {"ping", ping_options, [](const po::variables_map& vm) -> Config { return to_ping(vm); }},
    {"echo", echo_options, [](const po::variables_map& vm) -> Config { return to_echo(vm); }},
};

CommandLine parse_subcommand(const Subcommand& sub, int argc, const char* const argv[]) {
  auto opts = sub.options();
  opts.add_options()((std::string(kHelp) + ",h").c_str(), "show this help and exit");
  CommandLine cl;
  po::variables_map vm;
  try {
    po::store(parse_strict_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  } catch (const ConfigError& e) {  // a stray argument
    throw UsageError(e.what());
  }
  if (vm.count(kHelp)) {
    std::ostringstream help;
    help << "Usage: dmux-loadgen " << sub.name << " [options]\n\n" << opts;
    cl.help = true;
    cl.help_text = help.str();
    return cl;
  }
  cl.config = sub.to_config(vm);
  return cl;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  if (argc < 2) throw UsageError("missing subcommand (send, sink, ping, echo); see --help");
  const std::string_view first = argv[1];
  if (auto flags = app::overview_flags<CommandLine>(first, kOverview)) return *flags;
  for (const auto& sub : kSubcommands) {
    if (sub.name != first) continue;
    try {
      // argv[1] (the subcommand) takes the place of the program name for Boost.
      return parse_subcommand(sub, argc - 1, argv + 1);
    } catch (const UsageError& e) {
      throw UsageError(std::string(sub.name) + ": " + e.what());
    }
  }
  throw UsageError("unknown subcommand '" + std::string(first) + "' (send, sink, ping, echo)");
}

}  // namespace dmux::loadgen
