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

TEST_CASE("a node that has joined a cluster is healthy, whatever its colour") {
  for (const char* colour : {"green", "yellow", "red"}) {
    auto report =
        classifyHealth(answer(200, std::string(R"({"cluster_name":"logs","status":")") + colour +
                                       R"(","timed_out":false,"number_of_nodes":3})"));
    CHECK(report.healthy);
    CHECK(report.clusterName == "logs");
    CHECK(report.nodes == 3);
    CHECK(report.status == colour);
  }
}

TEST_CASE("no master, errors, timeouts and nonsense are unhealthy with a reason") {
  auto noMaster =
      classifyHealth(answer(503, R"({"error":{"type":"master_not_discovered_exception"}})"));
  CHECK_FALSE(noMaster.healthy);
  CHECK(noMaster.reason.find("503") != std::string::npos);
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

TEST_CASE("the probe does not wait for a master") {
  std::string path = healthPath();
  CHECK(path.find("timeout=0s") != std::string::npos);
  CHECK(path.find("master_timeout=0s") != std::string::npos);
}

TEST_CASE("the cluster UUID is read from the metadata, never the placeholder") {
  CHECK(parseClusterUuid(R"({"metadata":{"cluster_uuid":"Zb3x"}})") ==
        std::optional<std::string>("Zb3x"));
  CHECK_FALSE(parseClusterUuid(R"({"metadata":{"cluster_uuid":"_na_"}})"));
  CHECK_FALSE(parseClusterUuid(R"({"metadata":{}})"));
  CHECK_FALSE(parseClusterUuid("{}"));
  CHECK_FALSE(parseClusterUuid("<html>"));
}
