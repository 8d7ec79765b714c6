// dmuxd entry point: the program skeleton (common/app/program.h) with dmuxd's options, summary
// and App. No logic lives here.
#include "common/app/program.h"
#include "gateway/gateway_app.h"
#include "gateway/options.h"

int main(int argc, char** argv) {
  using namespace dmux::gateway;
  return dmux::app::run_program<CommandLine, GatewayConfig>(
      argc, argv,
      {.name = "dmuxd",
       .parse = parse_command_line,
       .own_action = {},
       .load = [](CommandLine& cl) { return std::move(cl.config); },
       .summary =
           [](const GatewayConfig& c) {
             return "config OK: " + std::to_string(c.listen.size()) +
                    " listen endpoints, gateway-id " +
                    dmux::net::ipv4_to_string(c.gateway_id.value()) + ", " +
                    std::to_string(c.workers) + " workers, " +
                    std::to_string(c.static_routers.size()) + " static routers";
           },
       .run =
           [argc, argv](GatewayConfig& c) {
             GatewayApp(std::move(c), [argc, argv] { return reload_config(argc, argv); }).run();
           }});
}
