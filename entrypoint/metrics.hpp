// Metrics: a small registry of counters, gauges and histograms, and the Prometheus text exposition
// format (0.0.4) they are served in on GET /metrics (status_server.hpp). The format is a pure
// function of a snapshot; the registry is thread-safe and an update holds its lock for a few
// instructions, so neither the signal loop nor the monitor ever waits on a scrape.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace esetcd {

enum class MetricType { Counter, Gauge, Histogram };

// Label names and values, in the order they are printed.
using Labels = std::vector<std::pair<std::string, std::string>>;

// One labelled time series of a family.
struct MetricSeries {
  Labels labels;
  double value = 0;               // counter, gauge
  std::vector<uint64_t> buckets;  // histogram: observations per bucket (not cumulative)
  double sum = 0;                 // histogram
  uint64_t count = 0;             // histogram
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::Counter;
  std::vector<double> bounds;  // histogram: ascending upper bounds, +Inf implied
  std::vector<MetricSeries> series;
};

// The text exposition format: per family a HELP and a TYPE line, then its samples; histograms as
// cumulative name_bucket{le="…"} lines ending with le="+Inf", then name_sum and name_count. Label
// values escape \, " and newline; HELP texts escape \ and newline.
std::string formatExposition(const std::vector<MetricFamily>& families);

// A sample value as Prometheus writes it: the shortest text that reads back to the same double,
// +Inf, -Inf or NaN.
std::string formatMetricValue(double value);

class MetricRegistry {
 public:
  // Declares a family once; updates of undeclared names are ignored. An unlabelled family starts
  // with one series at zero, so that it is scraped before its first update.
  void declare(const std::string& name, const std::string& help, MetricType type,
               bool labelled = false, std::vector<double> bounds = {});
  void add(const std::string& name, const Labels& labels = {}, double delta = 1);
  void set(const std::string& name, const Labels& labels, double value);
  void set(const std::string& name, double value) { set(name, {}, value); }
  void observe(const std::string& name, const Labels& labels, double value);
  std::vector<MetricFamily> snapshot() const;

 private:
  MetricSeries* series(const std::string& name, const Labels& labels, MetricFamily** family);

  mutable std::mutex mutex_;
  std::vector<MetricFamily> families_;  // in declaration order
};

// The entrypoint's metrics, one registry per process (like the log), declared on first use.
MetricRegistry& metrics();

namespace metric {
inline constexpr char kRegistered[] = "es_etcd_entrypoint_registered";
inline constexpr char kHealthy[] = "es_etcd_entrypoint_healthy";
inline constexpr char kHealthProbes[] = "es_etcd_entrypoint_health_probes_total";
inline constexpr char kHealthProbeSeconds[] = "es_etcd_entrypoint_health_probe_seconds";
inline constexpr char kEtcdRequests[] = "es_etcd_entrypoint_etcd_requests_total";
inline constexpr char kEtcdRequestSeconds[] = "es_etcd_entrypoint_etcd_request_seconds";
inline constexpr char kRegistrations[] = "es_etcd_entrypoint_registrations_total";
inline constexpr char kDeregistrations[] = "es_etcd_entrypoint_deregistrations_total";
inline constexpr char kLeaseLost[] = "es_etcd_entrypoint_lease_lost_total";
inline constexpr char kWatchRestarts[] = "es_etcd_entrypoint_watch_restarts_total";
inline constexpr char kPeers[] = "es_etcd_entrypoint_peers";
inline constexpr char kSeedFileWrites[] = "es_etcd_entrypoint_seed_file_writes_total";
inline constexpr char kStartSeconds[] = "es_etcd_entrypoint_start_seconds";
inline constexpr char kChildExitCode[] = "es_etcd_entrypoint_child_exit_code";
}  // namespace metric

}  // namespace esetcd
