#include "health.hpp"

#include <nlohmann/json.hpp>

namespace esetcd {
namespace {

std::string stringField(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

const char* healthPath() {
  return "/_cluster/state/master_node?local=true";
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
  if (response.status != 200) {
    report.reason = "health probe answered HTTP " + std::to_string(response.status);
    return report;
  }
  auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    report.reason = "health answer is not a cluster state document";
    return report;
  }
  report.clusterName = stringField(doc, "cluster_name");
  report.clusterUuid = stringField(doc, "cluster_uuid");
  if (report.clusterUuid == "_na_") report.clusterUuid.clear();
  // OpenSearch 2+ may name it cluster_manager_node; both mean the elected master.
  report.masterNode = stringField(doc, "master_node");
  if (report.masterNode.empty()) report.masterNode = stringField(doc, "cluster_manager_node");
  if (report.masterNode.empty()) {
    report.reason = "node has not joined a cluster (no elected master known)";
    return report;
  }
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

}  // namespace esetcd
