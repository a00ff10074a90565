#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace esetcd {
namespace {

std::string escaped(const std::string& text, bool quotes) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '\n')
      out += "\\n";
    else if (ch == '"' && quotes)
      out += "\\\"";
    else
      out += ch;
  }
  return out;
}

// {a="x",b="y"}, with `extra` (a histogram's le) last; "" without any label.
std::string labelText(const Labels& labels, const std::pair<std::string, std::string>* extra) {
  std::string out;
  auto append = [&out](const std::string& name, const std::string& value) {
    out += (out.empty() ? "{" : ",") + name + "=\"" + escaped(value, true) + "\"";
  };
  for (const auto& [name, value] : labels) append(name, value);
  if (extra) append(extra->first, extra->second);
  return out.empty() ? out : out + "}";
}

const char* typeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

void formatHistogram(const MetricFamily& family, const MetricSeries& s, std::string& out) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < family.bounds.size(); ++i) {
    cumulative += i < s.buckets.size() ? s.buckets[i] : 0;
    std::pair<std::string, std::string> le{"le", formatMetricValue(family.bounds[i])};
    out += family.name + "_bucket" + labelText(s.labels, &le) + " " + std::to_string(cumulative) +
           "\n";
  }
  std::pair<std::string, std::string> inf{"le", "+Inf"};
  out += family.name + "_bucket" + labelText(s.labels, &inf) + " " + std::to_string(s.count) + "\n";
  out +=
      family.name + "_sum" + labelText(s.labels, nullptr) + " " + formatMetricValue(s.sum) + "\n";
  out +=
      family.name + "_count" + labelText(s.labels, nullptr) + " " + std::to_string(s.count) + "\n";
}

}  // namespace

std::string formatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers as integers (le="10", not "1e+01"), as Prometheus' own clients write them.
  if (std::fabs(value) < 1e15 && value == std::floor(value))
    return std::to_string(static_cast<long long>(value));
  char text[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string formatExposition(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    out += "# HELP " + family.name + " " + escaped(family.help, false) + "\n";
    out += "# TYPE " + family.name + " " + typeName(family.type) + "\n";
    for (const auto& s : family.series) {
      if (family.type == MetricType::Histogram)
        formatHistogram(family, s, out);
      else
        out += family.name + labelText(s.labels, nullptr) + " " + formatMetricValue(s.value) + "\n";
    }
  }
  return out;
}

void MetricRegistry::declare(const std::string& name, const std::string& help, MetricType type,
                             bool labelled, std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& f : families_)
    if (f.name == name) return;
  MetricFamily family{name, help, type, std::move(bounds), {}};
  if (!labelled)
    family.series.push_back({{}, 0, std::vector<uint64_t>(family.bounds.size()), 0, 0});
  families_.push_back(std::move(family));
}

MetricSeries* MetricRegistry::series(const std::string& name, const Labels& labels,
                                     MetricFamily** family) {
  auto f = std::find_if(families_.begin(), families_.end(),
                        [&name](const MetricFamily& m) { return m.name == name; });
  if (f == families_.end()) return nullptr;
  *family = &*f;
  for (auto& s : f->series)
    if (s.labels == labels) return &s;
  f->series.push_back({labels, 0, std::vector<uint64_t>(f->bounds.size()), 0, 0});
  return &f->series.back();
}

void MetricRegistry::add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricFamily* family = nullptr;
  if (auto* s = series(name, labels, &family)) s->value += delta;
}

void MetricRegistry::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricFamily* family = nullptr;
  if (auto* s = series(name, labels, &family)) s->value = value;
}

void MetricRegistry::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricFamily* family = nullptr;
  auto* s = series(name, labels, &family);
  if (!s) return;
  // The first bucket whose upper bound holds the value; above every bound only +Inf counts it.
  auto at = std::lower_bound(family->bounds.begin(), family->bounds.end(), value);
  if (at != family->bounds.end()) ++s->buckets[static_cast<size_t>(at - family->bounds.begin())];
  s->sum += value;
  ++s->count;
}

std::vector<MetricFamily> MetricRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return families_;
}

MetricRegistry& metrics() {
  static MetricRegistry* registry = [] {
    // Never destroyed: threads may still update it while the process _exits.
    auto* r = new MetricRegistry;
    // Seconds, from a fast local answer to a request at its deadline.
    const std::vector<double> seconds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    using T = MetricType;
    r->declare(metric::kRegistered, "1 while this node's registration is in etcd", T::Gauge);
    r->declare(metric::kHealthy, "1 when the last health probe passed", T::Gauge);
    r->declare(metric::kHealthProbes, "Health probes by result (healthy or the failure's kind)",
               T::Counter, true);
    r->declare(metric::kHealthProbeSeconds, "Duration of the health probes", T::Histogram, false,
               seconds);
    r->declare(metric::kEtcdRequests, "etcd requests by operation and result (ok or the error)",
               T::Counter, true);
    r->declare(metric::kEtcdRequestSeconds, "Duration of etcd requests (watches excluded)",
               T::Histogram, true, seconds);
    r->declare(metric::kRegistrations, "Registrations written (first and after a loss)",
               T::Counter);
    r->declare(metric::kDeregistrations, "Registrations deleted, by reason", T::Counter, true);
    r->declare(metric::kLeaseLost, "Registrations found expired or revoked at a refresh",
               T::Counter);
    r->declare(metric::kWatchRestarts, "Peer watches that failed and were started again",
               T::Counter);
    r->declare(metric::kPeers, "Seed hosts in the last peer list", T::Gauge);
    r->declare(metric::kSeedFileWrites, "Writes of unicast_hosts.txt (only when the peers change)",
               T::Counter);
    r->declare(metric::kStartSeconds, "Seconds from the entrypoint's start to the command's spawn",
               T::Gauge);
    r->declare(metric::kChildExitCode, "Exit status of the command; -1 while it runs", T::Gauge);
    r->set(metric::kChildExitCode, -1);
    return r;
  }();
  return *registry;
}

}  // namespace esetcd
