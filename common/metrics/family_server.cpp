#include "common/metrics/family_server.h"

#include <prometheus/text_serializer.h>

#include "common/metrics/http_server.h"

namespace dmux::metrics {

FamilyServer::FamilyServer(const net::Endpoint& listen, Collect collect)
    : latest_(std::make_shared<Latest>()) {
  auto latest = latest_;
  server_ = std::make_unique<HttpServer>(listen, [latest, collect = std::move(collect)] {
    std::vector<prometheus::MetricFamily> copy;
    if (collect) {
      copy = collect();
    } else {
      std::lock_guard lock(latest->mutex);
      copy = latest->families;
    }
    return prometheus::TextSerializer().Serialize(copy);
  });
}

FamilyServer::~FamilyServer() = default;  // stops the server before `latest_` goes

void FamilyServer::publish(std::vector<prometheus::MetricFamily> families) {
  std::lock_guard lock(latest_->mutex);
  latest_->families = std::move(families);
}

net::Endpoint FamilyServer::endpoint() const noexcept { return server_->endpoint(); }

}  // namespace dmux::metrics
