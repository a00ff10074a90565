// GET /status's document and the health subcommand's verdict on it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "health_check.hpp"
#include "status.hpp"

using namespace esetcd;
using Clock = std::chrono::steady_clock;

TEST_CASE("status: the document carries phase, command, health, lease time left, peers") {
  StatusSnapshot s;
  s.phase = Phase::Running;
  s.command = {"bin/elasticsearch", "-Enode.name=a"};
  s.pid = 42;
  s.probed = true;
  s.healthy = true;
  s.healthKind = "healthy";
  s.registered = true;
  s.key = "/services/elasticsearch/10.0.0.5";
  s.leaseId = "7587869999";
  s.ttlSeconds = 20;
  const auto now = Clock::now();
  s.leaseRenewed = now - std::chrono::milliseconds(5000);
  s.peers = {"10.0.0.6:9300"};
  s.seedFileChangedMs = 1796462131395LL;
  s.bootstrapRole = "join";
  s.settings = {{"ETCD_TTL", "20"}};
  auto doc = nlohmann::json::parse(statusJson(s, now, 1796462131395LL));
  CHECK(doc["phase"] == "running");
  CHECK(doc["command"]["pid"] == 42);
  CHECK(doc["command"]["argv"][1] == "-Enode.name=a");
  CHECK(doc["health"]["healthy"] == true);
  CHECK(doc["registration"]["lease_id"] == "7587869999");
  CHECK(doc["registration"]["seconds_left"] == 15.0);
  CHECK(doc["peers"]["seeds"][0] == "10.0.0.6:9300");
  CHECK(doc["peers"]["seed_file_changed_at"] == "2026-12-05T09:15:31.395Z");
  CHECK(doc["bootstrap"]["role"] == "join");
  CHECK(doc["settings"]["ETCD_TTL"] == "20");
}

TEST_CASE("status: an unregistered node shows its key and no lease") {
  StatusSnapshot s;
  s.key = "/services/elasticsearch/10.0.0.5";
  auto doc = nlohmann::json::parse(statusJson(s, Clock::now(), 0));
  CHECK(doc["phase"] == "starting");
  CHECK(doc["registration"]["registered"] == false);
  CHECK(doc["registration"]["key"] == "/services/elasticsearch/10.0.0.5");
  CHECK_FALSE(doc["registration"].contains("lease_id"));
  CHECK(doc["health"]["kind"].is_null());
  CHECK(doc["command"]["pid"].is_null());
}

TEST_CASE("status: the board follows the registrar's events") {
  StatusBoard board;
  board.registered(Lease{"/p/k", "{}", "12", 20});
  CHECK(board.snapshot().registered);
  CHECK(board.snapshot().leaseId == "12");
  board.deregistered("unhealthy");
  CHECK_FALSE(board.snapshot().registered);
  board.registered(Lease{"/p/k", "{}", "13", 20});
  board.leaseLost();
  CHECK_FALSE(board.snapshot().registered);
}

namespace {

HttpResponse answer(const std::string& body, long status = 200) {
  HttpResponse r;
  r.outcome = HttpOutcome::Ok;
  r.status = status;
  r.body = body;
  return r;
}

const std::string kUrl = "http://10.0.0.5:9911/status";

}  // namespace

TEST_CASE("health: 0 only when healthy and registered, one line either way") {
  auto ok = healthVerdict(answer(R"({"phase":"running","health":{"probed":true,"healthy":true},
      "registration":{"registered":true,"key":"/p/10.0.0.5"}})"),
                          kUrl);
  CHECK(ok.code == 0);
  CHECK(ok.line == "healthy and registered as /p/10.0.0.5 (phase running)");

  auto unregistered = healthVerdict(answer(R"({"phase":"running","health":{"healthy":true},
      "registration":{"registered":false,"key":"/p/10.0.0.5"}})"),
                                    kUrl);
  CHECK(unregistered.code == 1);
  CHECK(unregistered.line.find("not registered") != std::string::npos);

  auto sick = healthVerdict(answer(R"({"phase":"running","health":{"probed":true,"healthy":false,
      "reason":"no elected master"},"registration":{"registered":true}})"),
                            kUrl);
  CHECK(sick.code == 1);
  CHECK(sick.line == "unhealthy: no elected master (phase running)");

  auto early = healthVerdict(
      answer(R"({"phase":"bootstrap-wait","health":{"probed":false},"registration":{}})"), kUrl);
  CHECK(early.code == 1);
  CHECK(early.line == "unhealthy: no health probe yet (phase bootstrap-wait)");
}

TEST_CASE("health: nothing listening, another server, or garbage is 1 with a clear line") {
  HttpResponse refused;
  refused.outcome = HttpOutcome::Transport;
  refused.error = "Connection refused";
  auto none = healthVerdict(refused, kUrl);
  CHECK(none.code == 1);
  CHECK(none.line.find("nothing answers at " + kUrl + " (Connection refused)") !=
        std::string::npos);
  CHECK(healthVerdict(answer("not found", 404), kUrl).line ==
        "unhealthy: " + kUrl + " answered HTTP 404");
  CHECK(healthVerdict(answer("[1,2]"), kUrl).code == 1);
  CHECK(healthVerdict(answer("{\"health\":1,\"registration\":2}"), kUrl).code == 1);
  CHECK(healthVerdict(answer("{"), kUrl).line ==
        "unhealthy: " + kUrl + " answered no status document");
}
