#include "tools/ca/options.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>
#include <string_view>

#include "common/net/endpoint.h"
#include "common/wire/protocols.h"

namespace po = boost::program_options;

namespace dmux::ca {
namespace {

// Every option's name, once.
constexpr const char* kHelp = "help";
constexpr const char* kDir = "dir";
constexpr const char* kName = "name";
constexpr const char* kDays = "days";
constexpr const char* kProviderId = "provider-id";
constexpr const char* kProtocols = "protocols";
constexpr const char* kGatewayId = "gateway-id";
constexpr const char* kOut = "out";
constexpr const char* kRole = "role";
constexpr const char* kCert = "cert";  // positional
constexpr const char* kNotBeforeOffset = "not-before-offset";
constexpr const char* kValidSeconds = "valid-seconds";

constexpr unsigned kHelpWidth = 100;
constexpr std::int64_t kMaxDays = 36600;  // a century
constexpr std::int64_t kMaxSeconds = kMaxDays * kSecondsPerDay;

constexpr const char* kOverview =
    "dmux-ca: the operator's certificate authority for IPdmux credentials.\n\n"
    "Usage: dmux-ca COMMAND [options]   (dmux-ca COMMAND --help for its options)\n\n"
    "Commands:\n"
    "  init            create a CA: DIR/ca.key (secret, mode 0600) and DIR/ca.crt (for gateways)\n"
    "  issue-provider  key and certificate for a provider's routers: provider id and protocols\n"
    "  issue-gateway   key and certificate for a gateway: its gateway id\n"
    "  show CERT       print a certificate's role, scope, subject, validity and key fingerprint\n"
    "  verify CERT     check a certificate against the CA in --dir (exit 0 only if it is good)\n"
    "  revoke CERT     list a certificate this CA issued as revoked (DIR/revoked)\n"
    "  crl             sign a revocation list of DIR/revoked for the gateways (--crl)\n\n"
    "Example:\n"
    "  dmux-ca init --dir /etc/ipdmux/ca\n"
    "  dmux-ca issue-provider --dir /etc/ipdmux/ca --provider-id 7 --protocols ipv6,ipv4-multicast "
    "--out router-a\n"
    "  dmux-ca issue-gateway --dir /etc/ipdmux/ca --gateway-id 198.18.0.1 --out gw-1\n"
    "  dmux-ca verify --dir /etc/ipdmux/ca router-a.crt\n"
    "  dmux-ca revoke --dir /etc/ipdmux/ca router-a.crt && dmux-ca crl --dir /etc/ipdmux/ca "
    "--out crl.pem\n\n"
    "Exit status: 0 done, 1 error or certificate refused, 2 bad command line.\n"
    "See docs/ca.md.\n";

[[noreturn]] void bad(const char* option, const std::string& why) {
  throw UsageError(std::string("--") + option + ": " + why);
}

template <typename T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

std::string required(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) bad(name, "is required");
  const auto s = get<std::string>(vm, name);
  if (s.empty()) bad(name, "must not be empty");
  return s;
}

std::int64_t in_range(const po::variables_map& vm, const char* name, std::int64_t lo,
                      std::int64_t hi) {
  const auto v = get<std::int64_t>(vm, name);
  if (v < lo || v > hi) bad(name, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

// A 32-bit id: decimal, or a dotted quad when `dotted_ok`. Never 0.
std::uint32_t id_option(const po::variables_map& vm, const char* name, bool dotted_ok) {
  const std::string text = required(vm, name);
  if (dotted_ok) {
    if (const auto a = net::parse_ipv4(text)) {
      if (*a == 0) bad(name, "must not be 0.0.0.0");
      return *a;
    }
  }
  std::uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v == 0) {
    bad(name, "'" + text + "' is not a number 1..4294967295" +
                  (dotted_ok ? std::string(" or a dotted quad") : std::string()));
  }
  return v;
}

std::vector<std::uint16_t> protocols_option(const po::variables_map& vm) {
  if (!vm.count(kProtocols)) bad(kProtocols, "is required");
  std::vector<std::uint16_t> out;
  for (const auto& arg : get<std::vector<std::string>>(vm, kProtocols)) {
    std::string_view rest = arg;
    for (;;) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      const auto id = wire::parse_protocol(item);
      if (!id) bad(kProtocols, "'" + std::string(item) + "' is not a protocol name or usable id");
      out.push_back(*id);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

Validity validity_option(const po::variables_map& vm) {
  Validity v;
  v.not_before_offset_s = in_range(vm, kNotBeforeOffset, -kMaxSeconds, kMaxSeconds);
  v.length_s = vm.count(kValidSeconds) ? in_range(vm, kValidSeconds, 1, kMaxSeconds)
                                       : in_range(vm, kDays, 1, kMaxDays) * kSecondsPerDay;
  return v;
}

void add_dir(po::options_description& d) {
  d.add_options()((std::string(kDir) + ",d").c_str(), po::value<std::string>()->value_name("DIR"),
                  "the CA directory, holding ca.key and ca.crt (required)");
}

void add_leaf_options(po::options_description& d) {
  // clang-format off
  d.add_options()
      (kDays, po::value<std::int64_t>()->value_name("N")->default_value(365),
       "validity in days (1..36600)")
      ((std::string(kOut) + ",o").c_str(), po::value<std::string>()->value_name("PREFIX"),
       "write PREFIX.key (mode 0600) and PREFIX.crt; existing files are never overwritten "
       "(required)");
  // clang-format on
}

po::options_description testing_options() {
  po::options_description d("Testing options (to make expired or not yet valid credentials)",
                            kHelpWidth, kHelpWidth / 2);
  // clang-format off
  d.add_options()
      (kNotBeforeOffset, po::value<std::int64_t>()->value_name("SECONDS")->default_value(-60),
       "the certificate becomes valid this many seconds from now (negative: in the past)")
      (kValidSeconds, po::value<std::int64_t>()->value_name("SECONDS"),
       "valid for this many seconds from not-before, instead of --days");
  // clang-format on
  return d;
}

po::options_description init_options() {
  po::options_description d("init options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  // clang-format off
  d.add_options()
      (kName, po::value<std::string>()->value_name("NAME")->default_value("IPdmux CA"),
       "the CA's common name")
      (kDays, po::value<std::int64_t>()->value_name("N")->default_value(3650),
       "validity in days (1..36600)");
  // clang-format on
  return d;
}

Config to_init(const po::variables_map& vm) {
  InitConfig c;
  c.dir = required(vm, kDir);
  c.name = required(vm, kName);
  c.days = in_range(vm, kDays, 1, kMaxDays);
  return c;
}

po::options_description issue_provider_options() {
  po::options_description d("issue-provider options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  // clang-format off
  d.add_options()
      (kProviderId, po::value<std::string>()->value_name("N"),
       "the provider id (1..4294967295) the routers may serve (required)")
      (kProtocols, po::value<std::vector<std::string>>()->value_name("LIST")->composing(),
       "comma-separated protocol names or ids, e.g. ipv6,ipv4-multicast or 1,2 (required)")
      (kName, po::value<std::string>()->value_name("CN"),
       "common name (default: provider-N)");
  // clang-format on
  add_leaf_options(d);
  d.add(testing_options());
  return d;
}

Config to_issue_provider(const po::variables_map& vm) {
  IssueProviderConfig c;
  c.dir = required(vm, kDir);
  c.provider_id = id_option(vm, kProviderId, false);
  c.protocols = protocols_option(vm);
  if (vm.count(kName)) c.name = required(vm, kName);
  c.validity = validity_option(vm);
  c.out = required(vm, kOut);
  return c;
}

po::options_description issue_gateway_options() {
  po::options_description d("issue-gateway options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  // clang-format off
  d.add_options()
      (kGatewayId, po::value<std::string>()->value_name("ID"),
       "the gateway id, a dotted quad (198.18.0.1) or a number (required); the same value as "
       "dmuxd --gateway-id")
      (kName, po::value<std::string>()->value_name("CN"),
       "common name (default: gateway-<dotted quad>)");
  // clang-format on
  add_leaf_options(d);
  d.add(testing_options());
  return d;
}

Config to_issue_gateway(const po::variables_map& vm) {
  IssueGatewayConfig c;
  c.dir = required(vm, kDir);
  c.gateway_id = id_option(vm, kGatewayId, true);
  if (vm.count(kName)) c.name = required(vm, kName);
  c.validity = validity_option(vm);
  c.out = required(vm, kOut);
  return c;
}

po::options_description show_options() { return po::options_description("show options"); }

Config to_show(const po::variables_map& vm) { return ShowConfig{required(vm, kCert)}; }

po::options_description verify_options() {
  po::options_description d("verify options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  d.add_options()(kRole, po::value<std::string>()->value_name("provider|gateway"),
                  "the role the certificate must have (default: the role it claims)");
  return d;
}

Config to_verify(const po::variables_map& vm) {
  VerifyConfig c;
  c.dir = required(vm, kDir);
  c.cert = required(vm, kCert);
  if (vm.count(kRole)) {
    const auto role = get<std::string>(vm, kRole);
    if (role == "provider") {
      c.role = crypto::Role::kProvider;
    } else if (role == "gateway") {
      c.role = crypto::Role::kGateway;
    } else {
      bad(kRole, "'" + role + "' is not provider or gateway");
    }
  }
  return c;
}

po::options_description revoke_options() {
  po::options_description d("revoke options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  return d;
}

Config to_revoke(const po::variables_map& vm) {
  return RevokeConfig{required(vm, kDir), required(vm, kCert)};
}

po::options_description crl_options() {
  po::options_description d("crl options", kHelpWidth, kHelpWidth / 2);
  add_dir(d);
  // clang-format off
  d.add_options()
      ((std::string(kOut) + ",o").c_str(), po::value<std::string>()->value_name("FILE"),
       "where to write the CRL (PEM; required)")
      (kDays, po::value<std::int64_t>()->value_name("N")->default_value(30),
       "days until the CRL's next update (1..36600)");
  // clang-format on
  return d;
}

Config to_crl(const po::variables_map& vm) {
  return CrlConfig{required(vm, kDir), required(vm, kOut), in_range(vm, kDays, 1, kMaxDays)};
}

struct Command {
  std::string_view name;
  std::string_view usage;
  bool takes_cert;  // one positional CERT argument
  po::options_description (*options)();
  Config (*to_config)(const po::variables_map&);
};

const Command kCommands[] = {
    {"init", "init --dir DIR [--name NAME] [--days N]", false, init_options, to_init},
    {"issue-provider",
     "issue-provider --dir DIR --provider-id N --protocols LIST --out PREFIX [options]", false,
     issue_provider_options, to_issue_provider},
    {"issue-gateway", "issue-gateway --dir DIR --gateway-id ID --out PREFIX [options]", false,
     issue_gateway_options, to_issue_gateway},
    {"show", "show CERT", true, show_options, to_show},
    {"verify", "verify --dir DIR [--role ROLE] CERT", true, verify_options, to_verify},
    {"revoke", "revoke --dir DIR CERT", true, revoke_options, to_revoke},
    {"crl", "crl --dir DIR --out FILE [--days N]", false, crl_options, to_crl},
};

CommandLine parse_command(const Command& cmd, int argc, const char* const argv[]) {
  auto opts = cmd.options();
  opts.add_options()((std::string(kHelp) + ",h").c_str(), "show this help and exit");
  po::options_description all;
  all.add(opts);
  po::positional_options_description pos;
  if (cmd.takes_cert) {
    all.add_options()(kCert, po::value<std::string>());
    pos.add(kCert, 1);
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  CommandLine cl;
  if (vm.count(kHelp)) {
    std::ostringstream help;
    help << "Usage: dmux-ca " << cmd.usage << "\n\n" << opts;
    cl.help = true;
    cl.help_text = help.str();
    return cl;
  }
  if (cmd.takes_cert && !vm.count(kCert)) throw UsageError("missing the CERT file argument");
  cl.config = cmd.to_config(vm);
  return cl;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  if (argc < 2)
    throw UsageError(
        "missing command (init, issue-provider, issue-gateway, show, verify, revoke, crl); see "
        "--help");
  const std::string_view first = argv[1];
  if (auto flags = app::overview_flags<CommandLine>(first, kOverview)) return *flags;
  for (const auto& cmd : kCommands) {
    if (cmd.name != first) continue;
    try {
      // argv[1] (the command) takes the place of the program name for Boost.
      return parse_command(cmd, argc - 1, argv + 1);
    } catch (const UsageError& e) {
      throw UsageError(std::string(cmd.name) + ": " + e.what());
    }
  }
  throw UsageError("unknown command '" + std::string(first) +
                   "' (init, issue-provider, issue-gateway, show, verify, revoke, crl)");
}

}  // namespace dmux::ca
