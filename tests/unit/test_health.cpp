#include <catch2/catch.hpp>

#include "health.hpp"

using namespace esetcd;

namespace {
HttpResponse answer(long status, std::string body) {
  HttpResponse r;
  r.outcome = HttpOutcome::Ok;
  r.status = status;
  r.body = std::move(body);
  return r;
}
}  // namespace

TEST_CASE("a node that knows an elected master has joined a cluster") {
  // Elasticsearch 7.x-9.x and OpenSearch answer like this (seen on 7.17, 8.19, OpenSearch 2.19
  // and 3.6); older versions omit cluster_uuid.
  auto report = classifyHealth(
      answer(200, R"({"cluster_name":"logs","cluster_uuid":"Zb3x","master_node":"R-yz99"})"));
  CHECK(report.healthy);
  CHECK(report.clusterName == "logs");
  CHECK(report.clusterUuid == "Zb3x");
  CHECK(report.masterNode == "R-yz99");
  auto old = classifyHealth(answer(200, R"({"cluster_name":"logs","master_node":"x"})"));
  CHECK(old.healthy);
  CHECK(old.clusterUuid.empty());
  auto manager = classifyHealth(answer(200, R"({"cluster_manager_node":"m"})"));
  CHECK(manager.healthy);
  CHECK(manager.masterNode == "m");
}

TEST_CASE("no master, errors, timeouts and nonsense are unhealthy with a reason") {
  auto noMaster = classifyHealth(answer(200, R"({"cluster_name":"logs","cluster_uuid":"_na_"})"));
  CHECK_FALSE(noMaster.healthy);
  CHECK(noMaster.clusterUuid.empty());
  CHECK(noMaster.reason.find("no elected master") != std::string::npos);
  CHECK_FALSE(classifyHealth(answer(200, R"({"master_node":null})")).healthy);
  CHECK_FALSE(classifyHealth(answer(200, R"({"master_node":""})")).healthy);
  auto unavailable = classifyHealth(answer(503, R"({"error":{}})"));
  CHECK_FALSE(unavailable.healthy);
  CHECK(unavailable.reason.find("503") != std::string::npos);
  CHECK_FALSE(classifyHealth(answer(401, "")).healthy);
  CHECK_FALSE(classifyHealth(answer(200, "<html>")).healthy);
  CHECK_FALSE(
      classifyHealth(answer(200, R"({"name":"es-1","tagline":"You Know, for Search"})")).healthy);
  HttpResponse refused;
  refused.outcome = HttpOutcome::Transport;
  refused.error = "Connection refused";
  auto r = classifyHealth(refused);
  CHECK_FALSE(r.healthy);
  CHECK(r.reason.find("Connection refused") != std::string::npos);
  HttpResponse slow;
  slow.outcome = HttpOutcome::Timeout;
  CHECK(classifyHealth(slow).reason == "health probe timed out");
}

TEST_CASE("the probe reads the node's own cluster state, not the master's") {
  CHECK(std::string(healthPath()) == "/_cluster/state/master_node?local=true");
}

namespace {

NodeApi api(const std::string& url, const std::string& principal, const std::string& ca = "") {
  NodeApi a;
  a.baseUrl = url;
  a.principal = principal;
  a.tls.caFile = ca;
  return a;
}

}  // namespace

TEST_CASE("401 and 403 name who asked and what to set, never a secret") {
  auto wrong = classifyHealth(answer(401, "{}"), api("https://127.0.0.1:9200", "user \"elastic\""));
  CHECK(wrong.kind == HealthKind::AuthFailed);
  CHECK(wrong.reason == "authentication failed for user \"elastic\" (HTTP 401)");
  auto missing = classifyHealth(answer(401, "{}"), api("https://127.0.0.1:9200", ""));
  CHECK(missing.kind == HealthKind::AuthFailed);
  CHECK(missing.reason.find("no credentials set (ELASTIC_PASSWORD") != std::string::npos);
  auto denied = classifyHealth(answer(403, "{}"), api("https://127.0.0.1:9200", "an API key"));
  CHECK(denied.kind == HealthKind::Forbidden);
  CHECK(denied.reason.find("an API key") != std::string::npos);
  CHECK(denied.reason.find("monitor") != std::string::npos);
  CHECK(classifyHealth(answer(503, "{}")).kind == HealthKind::HttpError);
}

TEST_CASE("a TLS failure names the URL and the CA in use") {
  HttpResponse tls;
  tls.outcome = HttpOutcome::Tls;
  tls.error = "SSL certificate problem: unable to get local issuer certificate";
  auto withCa = classifyHealth(tls, api("https://127.0.0.1:9200", "", "/certs/ca.crt"));
  CHECK(withCa.kind == HealthKind::TlsFailed);
  CHECK(withCa.reason.find("https://127.0.0.1:9200") != std::string::npos);
  CHECK(withCa.reason.find("CA file /certs/ca.crt") != std::string::npos);
  CHECK(withCa.reason.find("unable to get local issuer") != std::string::npos);
  auto system = classifyHealth(tls, api("https://127.0.0.1:9200", ""));
  CHECK(system.reason.find("system CA bundle") != std::string::npos);
  // Plain HTTP to Elasticsearch's HTTPS port: an empty reply, and a hint.
  HttpResponse empty;
  empty.outcome = HttpOutcome::Transport;
  empty.error = "Empty reply from server";
  auto plain = classifyHealth(empty, api("http://127.0.0.1:9200", ""));
  CHECK(plain.kind == HealthKind::Unreachable);
  CHECK(plain.reason.find("ES_HEALTH_URL=https://") != std::string::npos);
}

TEST_CASE("a failure is logged when it starts and when its kind changes, not on every probe") {
  HealthReport refused;
  refused.kind = HealthKind::Unreachable;
  refused.reason = "node not answering: Connection refused";
  HealthReport denied;
  denied.kind = HealthKind::AuthFailed;
  denied.reason = "authentication failed for user \"elastic\" (HTTP 401)";
  HealthReport ok;
  ok.healthy = true;
  ok.kind = HealthKind::Healthy;

  CHECK(healthTransition(HealthKind::Healthy, refused) ==
        std::optional<std::string>("health check failed: node not answering: Connection refused"));
  CHECK_FALSE(healthTransition(HealthKind::Unreachable, refused).has_value());
  CHECK(healthTransition(HealthKind::Unreachable, denied) ==
        std::optional<std::string>("health check failed: " + denied.reason));
  CHECK_FALSE(healthTransition(HealthKind::AuthFailed, denied).has_value());
  CHECK(healthTransition(HealthKind::AuthFailed, ok) ==
        std::optional<std::string>("health check passes again"));
  CHECK_FALSE(healthTransition(HealthKind::Healthy, ok).has_value());
  CHECK(isConfigurationProblem(HealthKind::AuthFailed));
  CHECK(isConfigurationProblem(HealthKind::TlsFailed));
  CHECK_FALSE(isConfigurationProblem(HealthKind::Unreachable));
  CHECK_FALSE(isConfigurationProblem(HealthKind::NoMaster));
}
