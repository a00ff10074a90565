#include "health.hpp"

#include <nlohmann/json.hpp>

namespace esetcd {
namespace {

std::string stringField(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

HealthReport failed(HealthKind kind, std::string reason) {
  HealthReport report;
  report.kind = kind;
  report.reason = std::move(reason);
  return report;
}

bool isHttps(const NodeApi& api) {
  return api.baseUrl.rfind("https:", 0) == 0;
}

std::string caInUse(const NodeApi& api) {
  return api.tls.caFile.empty() ? "the system CA bundle" : "CA file " + api.tls.caFile;
}

HealthReport transportFailure(const HttpResponse& response, const NodeApi& api) {
  if (response.outcome == HttpOutcome::Tls) {
    std::string hint = isHttps(api) ? "" : "; the node does not speak TLS on this URL?";
    return failed(HealthKind::TlsFailed, "TLS handshake with " + api.baseUrl + " failed (" +
                                             caInUse(api) + "): " + response.error + hint);
  }
  // Elasticsearch closes a plain-HTTP connection to its HTTPS port without a word.
  std::string hint;
  if (!isHttps(api) && response.error.find("Empty reply") != std::string::npos)
    hint = "; if the node serves HTTPS, set ES_HEALTH_URL=https://...";
  return failed(HealthKind::Unreachable, "node not answering: " + response.error + hint);
}

HealthReport statusFailure(long status, const NodeApi& api) {
  const std::string code = " (HTTP " + std::to_string(status) + ")";
  if (status == 401) {
    if (api.principal.empty())
      return failed(HealthKind::AuthFailed,
                    "authentication required and no credentials set (ELASTIC_PASSWORD, "
                    "ES_HEALTH_PASSWORD or ES_HEALTH_API_KEY)" +
                        code);
    return failed(HealthKind::AuthFailed, "authentication failed for " + api.principal + code);
  }
  if (status == 403)
    return failed(HealthKind::Forbidden,
                  "access denied for " + (api.principal.empty() ? "anonymous" : api.principal) +
                      ": the probe needs the cluster privilege monitor" + code);
  return failed(HealthKind::HttpError, "health probe answered HTTP " + std::to_string(status));
}

}  // namespace

const char* toString(HealthKind kind) {
  switch (kind) {
    case HealthKind::Healthy:
      return "healthy";
    case HealthKind::Unreachable:
      return "unreachable";
    case HealthKind::TimedOut:
      return "timed-out";
    case HealthKind::Aborted:
      return "aborted";
    case HealthKind::TlsFailed:
      return "tls-failed";
    case HealthKind::AuthFailed:
      return "auth-failed";
    case HealthKind::Forbidden:
      return "forbidden";
    case HealthKind::HttpError:
      return "http-error";
    case HealthKind::BadAnswer:
      return "bad-answer";
    case HealthKind::NoMaster:
      return "no-master";
    case HealthKind::ClusterUnknown:
      return "cluster-unknown";
    case HealthKind::SplitCluster:
      return "split-cluster";
  }
  return "unknown";
}

const char* healthPath() {
  return "/_cluster/state/master_node?local=true";
}

HealthReport classifyHealth(const HttpResponse& response, const NodeApi& api) {
  switch (response.outcome) {
    case HttpOutcome::Ok:
      break;
    case HttpOutcome::Timeout:
      return failed(HealthKind::TimedOut, "health probe timed out");
    case HttpOutcome::Aborted:
      return failed(HealthKind::Aborted, "health probe aborted");
    default:
      return transportFailure(response, api);
  }
  if (response.status != 200) return statusFailure(response.status, api);
  auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return failed(HealthKind::BadAnswer, "health answer is not a cluster state document");
  HealthReport report;
  report.clusterName = stringField(doc, "cluster_name");
  report.clusterUuid = stringField(doc, "cluster_uuid");
  if (report.clusterUuid == "_na_") report.clusterUuid.clear();
  // OpenSearch 2+ may name it cluster_manager_node; both mean the elected master.
  report.masterNode = stringField(doc, "master_node");
  if (report.masterNode.empty()) report.masterNode = stringField(doc, "cluster_manager_node");
  if (report.masterNode.empty()) {
    report.kind = HealthKind::NoMaster;
    report.reason = "node has not joined a cluster (no elected master known)";
    return report;
  }
  report.healthy = true;
  report.kind = HealthKind::Healthy;
  return report;
}

std::optional<std::string> healthTransition(HealthKind before, const HealthReport& now) {
  if (now.kind == before) return std::nullopt;
  if (now.healthy) return std::string("health check passes again");
  if (now.kind == HealthKind::Aborted) return std::nullopt;
  return "health check failed: " + now.reason;
}

bool isConfigurationProblem(HealthKind kind) {
  return kind == HealthKind::TlsFailed || kind == HealthKind::AuthFailed ||
         kind == HealthKind::Forbidden || kind == HealthKind::SplitCluster;
}

HealthReport probeHealth(const NodeApi& api, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* abort) {
  HttpResponse response = nodeGet(api, healthPath(), timeout, abort);
  HealthReport report = classifyHealth(response, api);
  report.newConnection = response.connects > 0;
  return report;
}

}  // namespace esetcd
