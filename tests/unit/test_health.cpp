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
