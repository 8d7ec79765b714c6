// The tutorial's router (docs/sdk.md): serves an experimental protocol by sending every packet a
// client tunnels back to that client. Everything IPdmux asks of a router is the SDK's.
//   echo-router --proto 0x8001 --listen 198.18.2.2:5000 --gateway 198.18.0.1:4501
//               --cert provider.crt --key provider.key [--allow 198.18.0.0/15] [--control S]
#include <ipdmux/router.h>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  ipdmux::sdk::RouterOptions o;
  o.name = "echo_router";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--proto")
      o.proto_id = static_cast<std::uint16_t>(std::stoul(value, nullptr, 0));
    else if (flag == "--listen")
      o.listen = value;
    else if (flag == "--gateway")
      o.gateways.push_back(value);
    else if (flag == "--cert")
      o.cert_file = value;
    else if (flag == "--key")
      o.key_file = value;
    else if (flag == "--allow")
      o.allow_destinations.push_back(value);
    else if (flag == "--control")
      o.control_socket = value;
    else if (flag == "--metrics")
      o.metrics_listen = value;
    else
      return std::fprintf(stderr, "echo-router: unknown option %s\n", flag.c_str()), 2;
  }
  try {
    ipdmux::sdk::Router router(o);
    ipdmux::sdk::Counter echoed = router.counter("echoed", "Packets sent back to their client");
    router.on_packet([&](const ipdmux::sdk::Packet& p) {
      if (router.send(p.client, p.payload)) echoed.add();
    });
    router.run();  // until SIGTERM or SIGINT
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo-router: %s\n", e.what());
    return 1;
  }
  return 0;
}
