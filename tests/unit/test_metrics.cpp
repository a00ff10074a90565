// The Prometheus text exposition format of GET /metrics: HELP and TYPE lines, label escaping,
// cumulative histogram buckets ending with +Inf, _sum and _count.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "metrics.hpp"

using namespace esetcd;

namespace {

void declareTestFamilies(MetricRegistry& r) {
  r.declare("t_up", "1 when up", MetricType::Gauge);
  r.declare("t_requests_total", "Requests by op", MetricType::Counter, true);
  r.declare("t_seconds", "Durations", MetricType::Histogram, true, {0.1, 1, 10});
}

}  // namespace

TEST_CASE("metrics: HELP and TYPE per family, unlabelled ones from the start") {
  MetricRegistry r;
  declareTestFamilies(r);
  CHECK(formatExposition(r.snapshot()) ==
        "# HELP t_up 1 when up\n"
        "# TYPE t_up gauge\n"
        "t_up 0\n"
        "# HELP t_requests_total Requests by op\n"
        "# TYPE t_requests_total counter\n"
        "# HELP t_seconds Durations\n"
        "# TYPE t_seconds histogram\n");
}

TEST_CASE("metrics: counters add per label set, gauges are set") {
  MetricRegistry r;
  declareTestFamilies(r);
  r.set("t_up", 1);
  r.add("t_requests_total", {{"op", "list"}, {"result", "ok"}});
  r.add("t_requests_total", {{"op", "list"}, {"result", "ok"}});
  r.add("t_requests_total", {{"op", "put"}, {"result", "timeout"}});
  r.add("no_such_metric");  // ignored, never created
  std::string text = formatExposition(r.snapshot());
  CHECK(text.find("\nt_up 1\n") != std::string::npos);
  CHECK(text.find("\nt_requests_total{op=\"list\",result=\"ok\"} 2\n") != std::string::npos);
  CHECK(text.find("\nt_requests_total{op=\"put\",result=\"timeout\"} 1\n") != std::string::npos);
  CHECK(text.find("no_such_metric") == std::string::npos);
}

TEST_CASE("metrics: histogram buckets are cumulative, end with +Inf, then _sum and _count") {
  MetricRegistry r;
  declareTestFamilies(r);
  for (double v : {0.05, 0.1, 0.5, 20.0}) r.observe("t_seconds", {{"op", "list"}}, v);
  std::string text = formatExposition(r.snapshot());
  CHECK(text.find("t_seconds_bucket{op=\"list\",le=\"0.1\"} 2\n"
                  "t_seconds_bucket{op=\"list\",le=\"1\"} 3\n"
                  "t_seconds_bucket{op=\"list\",le=\"10\"} 3\n"
                  "t_seconds_bucket{op=\"list\",le=\"+Inf\"} 4\n"
                  "t_seconds_sum{op=\"list\"} 20.65\n"
                  "t_seconds_count{op=\"list\"} 4\n") != std::string::npos);
}

TEST_CASE("metrics: label values escape backslash, quote and newline, HELP texts too") {
  MetricRegistry r;
  r.declare("t_x", "a \\ b\nc \"q\"", MetricType::Counter, true);
  r.add("t_x", {{"reason", "a\\b\"c\nd"}});
  std::string text = formatExposition(r.snapshot());
  CHECK(text.find("# HELP t_x a \\\\ b\\nc \"q\"\n") != std::string::npos);
  CHECK(text.find("t_x{reason=\"a\\\\b\\\"c\\nd\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: values as Prometheus writes them") {
  CHECK(formatMetricValue(0) == "0");
  CHECK(formatMetricValue(-1) == "-1");
  CHECK(formatMetricValue(10) == "10");
  CHECK(formatMetricValue(0.005) == "0.005");
  CHECK(formatMetricValue(0.1 + 0.2) == "0.30000000000000004");
  CHECK(formatMetricValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(formatMetricValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(formatMetricValue(std::nan("")) == "NaN");
}

TEST_CASE("metrics: the entrypoint's registry names every metric with the prefix") {
  auto families = metrics().snapshot();
  REQUIRE(families.size() >= 14);
  for (const auto& f : families) {
    INFO(f.name);
    CHECK(f.name.rfind("es_etcd_entrypoint_", 0) == 0);
    if (f.type == MetricType::Counter) CHECK(f.name.size() > 6);
    if (f.type == MetricType::Counter) CHECK(f.name.substr(f.name.size() - 6) == "_total");
  }
}
