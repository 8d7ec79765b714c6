#include "sdk/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <utility>

#include "common/metrics/http_server.h"

namespace dmux::sdk {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class MetricsExporter::Collectable : public prometheus::Collectable {
 public:
  void update(std::vector<MetricSample> s) {
    std::lock_guard lock(mu_);
    samples_ = std::move(s);
  }

  std::vector<MetricFamily> Collect() const override {
    std::lock_guard lock(mu_);
    std::vector<MetricFamily> out;
    for (const MetricSample& s : samples_) {
      if (out.empty() || out.back().name != s.name) {
        out.push_back(MetricFamily{s.name, s.help, MetricType::Counter, {}});
      }
      ClientMetric m;
      if (!s.reason.empty()) m.label = {{"reason", s.reason}};
      m.counter.value = static_cast<double>(s.value);
      out.back().metric.push_back(std::move(m));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<MetricSample> samples_;
};

MetricsExporter::MetricsExporter(const net::Endpoint& listen)
    : collectable_(std::make_shared<Collectable>()) {
  auto collectable = collectable_;
  server_ = std::make_unique<metrics::HttpServer>(listen, [collectable] {
    return prometheus::TextSerializer().Serialize(collectable->Collect());
  });
}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::update(std::vector<MetricSample> samples) {
  collectable_->update(std::move(samples));
}

net::Endpoint MetricsExporter::endpoint() const noexcept { return server_->endpoint(); }

}  // namespace dmux::sdk
