// Configuration of dmux-healthcheck (plain struct; options.cpp fills it).
#pragma once

#include <cstdint>
#include <string>

#include "bgp-glue/data_path_check.h"
#include "common/net/endpoint.h"
#include "common/util/log.h"

namespace dmux::bgp_glue {

struct HealthcheckConfig {
  net::Endpoint data;    // dmuxd's data port: probes are DATA sent here
  net::Endpoint listen;  // dmuxd's static router for `proto_id`: probes come back here as TUNNEL
  std::string key_file;  // that static router's tunnel key (hex), to check the probes' tags
  std::uint16_t proto_id = 0xfffe;  // experimental id reserved for health by this deployment
  std::uint32_t provider_id = 1;    // the static router's provider id
  std::string device;               // dmuxd's announcement device: taken down to withdraw
  DataPathCheckConfig check;
  log::Level log_level = log::Level::kInfo;
};

}  // namespace dmux::bgp_glue
