#include "health.hpp"

#include <nlohmann/json.hpp>

namespace esetcd {

const char* healthPath() {
  return "/_cluster/health?timeout=0s&master_timeout=0s";
}

HealthReport classifyHealth(const HttpResponse& response) {
  HealthReport report;
  switch (response.outcome) {
    case HttpOutcome::Ok:
      break;
    case HttpOutcome::Timeout:
      report.reason = "health probe timed out";
      return report;
    case HttpOutcome::Aborted:
      report.reason = "health probe aborted";
      return report;
    default:
      report.reason = "node not answering: " + response.error;
      return report;
  }
  if (response.status == 503) {
    report.reason = "node has not joined a cluster (no master, HTTP 503)";
    return report;
  }
  if (response.status != 200) {
    report.reason = "health answered HTTP " + std::to_string(response.status);
    return report;
  }
  auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("status") ||
      !doc["status"].is_string()) {
    report.reason = "health answer is not a cluster health document";
    return report;
  }
  report.status = doc["status"].get<std::string>();
  if (doc.contains("cluster_name") && doc["cluster_name"].is_string())
    report.clusterName = doc["cluster_name"].get<std::string>();
  if (doc.contains("number_of_nodes") && doc["number_of_nodes"].is_number_integer())
    report.nodes = doc["number_of_nodes"].get<int>();
  report.healthy = true;
  return report;
}

HealthReport probeHealth(const std::string& baseUrl, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* abort) {
  HttpRequest request;
  request.url = baseUrl + healthPath();
  request.timeout = timeout;
  return classifyHealth(httpPerform(request, TlsOptions{}, abort));
}

std::optional<std::string> parseClusterUuid(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("metadata") || !doc["metadata"].is_object())
    return std::nullopt;
  const auto& metadata = doc["metadata"];
  if (!metadata.contains("cluster_uuid") || !metadata["cluster_uuid"].is_string())
    return std::nullopt;
  std::string uuid = metadata["cluster_uuid"].get<std::string>();
  if (uuid.empty() || uuid == "_na_") return std::nullopt;
  return uuid;
}

std::optional<std::string> fetchClusterUuid(const std::string& baseUrl,
                                            std::chrono::milliseconds timeout,
                                            const std::atomic<bool>* abort) {
  HttpRequest request;
  request.url = baseUrl + "/_cluster/state/metadata?filter_path=metadata.cluster_uuid";
  request.timeout = timeout;
  HttpResponse response = httpPerform(request, TlsOptions{}, abort);
  if (response.outcome != HttpOutcome::Ok || response.status != 200) return std::nullopt;
  return parseClusterUuid(response.body);
}

}  // namespace esetcd
