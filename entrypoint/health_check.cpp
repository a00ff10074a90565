#include "health_check.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "identity.hpp"
#include "peers.hpp"
#include "status_server.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

std::string phaseOf(const nlohmann::json& doc) {
  return " (phase " + doc.value("phase", std::string("unknown")) + ")";
}

}  // namespace

HealthVerdict healthVerdict(const HttpResponse& response, const std::string& url) {
  if (response.outcome != HttpOutcome::Ok)
    return {1, "unhealthy: nothing answers at " + url + " (" + printableText(response.error) +
                   "); is the entrypoint running, with discovery, and is STATUS_ADDR the same?"};
  if (response.status != 200)
    return {1, "unhealthy: " + url + " answered HTTP " + std::to_string(response.status)};
  auto doc = nlohmann::json::parse(response.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("health") || !doc.contains("registration") ||
      !doc["health"].is_object() || !doc["registration"].is_object())
    return {1, "unhealthy: " + url + " answered no status document"};
  const auto& health = doc["health"];
  const auto& registration = doc["registration"];
  const bool healthy = health.value("healthy", false);
  const bool registered = registration.value("registered", false);
  const std::string key = registration.value("key", std::string());
  if (healthy && registered) return {0, "healthy and registered as " + key + phaseOf(doc)};
  if (healthy) return {1, "unhealthy: healthy but not registered as " + key + phaseOf(doc)};
  if (!health.value("probed", false)) return {1, "unhealthy: no health probe yet" + phaseOf(doc)};
  return {1, "unhealthy: " + printableText(health.value("reason", std::string("unknown"))) +
                 phaseOf(doc)};
}

std::string statusUrl(const Config& c) {
  if (!c.statusAddr.enabled) return "";
  const bool byDefault = c.statusAddr.host.empty();
  std::string host = c.statusAddr.host;
  if (byDefault)
    host = c.publishHost.empty() ? choosePublishAddress(localAddresses()) : c.publishHost;
  if (host.empty()) return "";
  return "http://" + hostPort(reachHost(listenHost(host, byDefault)), c.statusAddr.port) +
         "/status";
}

int healthCommand(const Config& c) {
  const std::string url = statusUrl(c);
  HealthVerdict verdict;
  if (url.empty()) {
    verdict.line = c.statusAddr.enabled
                       ? "unhealthy: no publish host detected; set ES_PUBLISH_HOST or STATUS_ADDR"
                       : "unhealthy: STATUS_ADDR=off: there is no status listener to ask";
  } else {
    httpGlobalInit();
    HttpRequest request;
    request.url = url;
    request.timeout = c.healthTimeout;
    verdict = healthVerdict(httpPerform(request, TlsOptions{}), url);
  }
  std::fprintf(stdout, "%s\n", verdict.line.c_str());
  return verdict.code;
}

}  // namespace esetcd
