// STATUS_ADDR with the real binary, a real etcd and the stand-in node: /status and /metrics are
// scraped while the scenario runs and must move with it (probes counted, registered 0 -> 1 once
// the stand-in is healthy, peers and seed file writes when a peer registers, a deregistration
// counted when it turns unhealthy), and `es-etcd-entrypoint health` answers 0 only for a healthy,
// registered node. Every wait polls the endpoint until the condition holds or a deadline passes.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"
#include "http.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;

namespace {

const std::string kPrefix = "/services/elasticsearch";

std::string get(const std::string& url) {
  esetcd::HttpRequest request;
  request.url = url;
  request.timeout = Millis(1000);
  auto response = esetcd::httpPerform(request, {});
  return response.outcome == esetcd::HttpOutcome::Ok && response.status == 200 ? response.body : "";
}

// The samples of a scrape: "name{labels}" -> value.
std::map<std::string, double> scrape(const std::string& base) {
  std::map<std::string, double> samples;
  std::istringstream in(get(base + "/metrics"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double sample(const std::string& base, const std::string& name) {
  auto samples = scrape(base);
  auto it = samples.find(name);
  return it == samples.end() ? -1 : it->second;
}

// The sum of a family's samples whose name{labels} starts with `prefix`.
double total(const std::string& base, const std::string& prefix) {
  double sum = 0;
  for (const auto& [name, value] : scrape(base))
    if (name.rfind(prefix, 0) == 0) sum += value;
  return sum;
}

nlohmann::json status(const std::string& base) {
  auto doc = nlohmann::json::parse(get(base + "/status"), nullptr, false);
  return doc.is_object() ? doc : nlohmann::json::object();
}

struct Node {
  Node(const sup_test::TempDir& dir, const EtcdServer& etcd, std::vector<std::string> extraEnv,
       const std::string& dataDir)
      : state(dir.file("state")), statusPort(freeLoopbackPort()) {
    sup_test::writeFile(state, "unhealthy\n");
    const int port = freeLoopbackPort();
    sup_test::LaunchOptions options;
    options.output = dir.file("entrypoint.log");
    options.env = {"DISCOVERY=on",
                   "ETCD_ENDPOINTS=" + etcd.clientUrl(),
                   "ETCD_TTL=3",
                   "ES_VERSION=8.15.0",
                   "ES_NODE_NAME=node-a",
                   "ES_PUBLISH_HOST=127.0.0.11",
                   "ES_HTTP_PORT=" + std::to_string(port),
                   "ES_PATH_CONF=" + dir.path(),
                   "STATE_DIR=" + dir.path(),
                   "ES_PATH_DATA=" + dataDir,
                   "ES_PASS_SETTINGS=always",
                   "HEALTH_INTERVAL=200ms",
                   "HEALTH_TIMEOUT=150ms",
                   "HEALTH_FAILURES=2",
                   "ES_BOOTSTRAP_EXPECT=1",
                   "LOG_FORMAT=json",
                   "STATUS_ADDR=127.0.0.1:" + std::to_string(statusPort)};
    options.env.insert(options.env.end(), extraEnv.begin(), extraEnv.end());
    process.emplace(sup_test::launch(
        {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port), state}, options));
    base = "http://127.0.0.1:" + std::to_string(statusPort);
  }

  void setHealthy(bool healthy) { sup_test::writeFile(state, healthy ? "healthy\n" : "x\n"); }

  std::string state;
  int statusPort;
  std::string base;
  std::optional<sup_test::Running> process;
};

struct HealthRun {
  int code = -1;
  std::string line;
};

// `es-etcd-entrypoint health` with the node's STATUS_ADDR, as the image's HEALTHCHECK runs it.
HealthRun runHealth(const sup_test::TempDir& dir, const std::string& statusAddr) {
  sup_test::LaunchOptions options;
  options.output = dir.file("health.out");
  ::unlink(options.output.c_str());
  options.env = {"STATUS_ADDR=" + statusAddr, "ES_PUBLISH_HOST=127.0.0.11"};
  auto run = sup_test::launch({ENTRYPOINT_PATH, "health"}, options);
  HealthRun out;
  out.code = run.waitExit(Millis(5000)).value_or(-1);
  auto lines = sup_test::readLines(dir.file("health.out"));
  out.line = lines.empty() ? "" : lines[0];
  if (lines.size() != 1) out.line = "(" + std::to_string(lines.size()) + " lines)";
  return out;
}

void putPeer(const EtcdServer& etcd, const std::string& host) {
  etcd.request(
      "POST", "/v3/kv/put",
      nlohmann::json{
          {"key", esetcd::codec::base64Encode(kPrefix + "/" + host)},
          {"value", esetcd::codec::base64Encode(R"({"transport_port":9300,"node_name":"peer"})")}}
          .dump());
}

// The JSON log lines with this event.action.
std::vector<nlohmann::json> events(const std::string& log, const std::string& action) {
  std::vector<nlohmann::json> found;
  for (const auto& line : sup_test::readLines(log)) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_object() && doc.value("event.action", "") == action) found.push_back(doc);
  }
  return found;
}

}  // namespace

TEST_CASE("status and metrics move as the node turns healthy, gains a peer, turns unhealthy") {
  esetcd::httpGlobalInit();
  sup_test::TempDir dir;
  EtcdServer etcd;
  Node node(dir, etcd, {}, dir.path());
  const std::string& base = node.base;
  const std::string key = kPrefix + "/127.0.0.11";
  const std::string statusAddr = "127.0.0.1:" + std::to_string(node.statusPort);
  INFO("entrypoint log: " << dir.file("entrypoint.log"));

  // Unhealthy (the first probes may find the stand-in not listening yet): probes are counted by
  // result, nothing is registered.
  const std::string answered503 = "es_etcd_entrypoint_health_probes_total{result=\"http-error\"}";
  REQUIRE(sup_test::waitUntil([&] { return sample(base, answered503) >= 3; }, Millis(5000)));
  CHECK(total(base, "es_etcd_entrypoint_health_probes_total{") >= 3);
  CHECK(sample(base, "es_etcd_entrypoint_registered") == 0);
  CHECK(sample(base, "es_etcd_entrypoint_healthy") == 0);
  CHECK(sample(base, "es_etcd_entrypoint_start_seconds") > 0);
  CHECK(sample(base, "es_etcd_entrypoint_child_exit_code") == -1);
  auto unhealthy = status(base);
  CHECK(unhealthy["phase"] == "running");
  CHECK(unhealthy["registration"]["registered"] == false);
  CHECK(unhealthy["registration"]["key"] == key);
  CHECK(unhealthy["health"]["kind"] == "http-error");  // the stand-in answers 503
  auto children = sup_test::childrenOf(node.process->pid());
  REQUIRE(children.size() == 1);
  CHECK(unhealthy["command"]["pid"] == children[0]);
  auto sick = runHealth(dir, statusAddr);
  CHECK(sick.code == 1);
  CHECK(sick.line.rfind("unhealthy: ", 0) == 0);

  // Healthy: registered goes 0 -> 1, with its lease on /status, and health says 0.
  node.setHealthy(true);
  REQUIRE(sup_test::waitUntil([&] { return sample(base, "es_etcd_entrypoint_registered") == 1; },
                              Millis(5000)));
  CHECK(sample(base, "es_etcd_entrypoint_healthy") == 1);
  CHECK(sample(base, "es_etcd_entrypoint_registrations_total") == 1);
  CHECK(sample(base, "es_etcd_entrypoint_etcd_requests_total{op=\"put\",result=\"ok\"}") >= 1);
  auto registered = status(base);
  CHECK(registered["registration"]["registered"] == true);
  CHECK_FALSE(registered["registration"]["lease_id"].get<std::string>().empty());
  CHECK(registered["registration"]["seconds_left"].get<double>() > 0);
  CHECK(registered["etcd"]["endpoint"] == etcd.clientUrl());
  CHECK(registered["etcd"]["api"] == "v3");
  CHECK(registered["settings"]["STATUS_ADDR"] == statusAddr);
  auto healthy = runHealth(dir, statusAddr);
  CHECK(healthy.code == 0);
  CHECK(healthy.line == "healthy and registered as " + key + " (phase running)");
  // Refreshes follow each healthy probe.
  const double refreshes =
      sample(base, "es_etcd_entrypoint_etcd_requests_total{op=\"refresh\",result=\"ok\"}");
  REQUIRE(sup_test::waitUntil(
      [&] {
        return sample(base,
                      "es_etcd_entrypoint_etcd_requests_total{op=\"refresh\",result=\"ok\"}") >
               refreshes;
      },
      Millis(3000)));

  // A peer registers: the watch sees it, the seed file is written, peers goes up by one.
  const double peers = sample(base, "es_etcd_entrypoint_peers");
  const double writes = sample(base, "es_etcd_entrypoint_seed_file_writes_total");
  const auto revision = status(base)["watch"]["revision"].get<int64_t>();
  putPeer(etcd, "127.0.0.12");
  REQUIRE(sup_test::waitUntil([&] { return sample(base, "es_etcd_entrypoint_peers") == peers + 1; },
                              Millis(3000)));
  CHECK(sample(base, "es_etcd_entrypoint_seed_file_writes_total") == writes + 1);
  auto withPeer = status(base);
  CHECK(withPeer["peers"]["seeds"] == nlohmann::json::array({"127.0.0.12:9300"}));
  CHECK(withPeer["watch"]["revision"].get<int64_t>() > revision);
  CHECK_FALSE(withPeer["peers"]["seed_file_changed_at"].is_null());

  // Unhealthy again: deregistered after HEALTH_FAILURES probes, counted with its reason.
  node.setHealthy(false);
  REQUIRE(sup_test::waitUntil([&] { return sample(base, "es_etcd_entrypoint_registered") == 0; },
                              Millis(3000)));
  CHECK(sample(base, "es_etcd_entrypoint_deregistrations_total{reason=\"unhealthy\"}") == 1);
  CHECK(runHealth(dir, statusAddr).code == 1);

  // Healthy once more, then SIGTERM: the stop deregisters; the JSON log carries the events.
  node.setHealthy(true);
  REQUIRE(sup_test::waitUntil([&] { return sample(base, "es_etcd_entrypoint_registered") == 1; },
                              Millis(5000)));
  CHECK(sample(base, "es_etcd_entrypoint_registrations_total") == 2);
  ::kill(node.process->pid(), SIGTERM);
  CHECK(node.process->waitExit(Millis(5000)) == 143);
  const std::string log = dir.file("entrypoint.log");
  auto registrations = events(log, "registered");
  REQUIRE(registrations.size() == 2);
  CHECK(registrations[0]["key"] == key);
  auto deregistrations = events(log, "deregistered");
  REQUIRE(deregistrations.size() == 2);
  CHECK(deregistrations[0]["event.reason"] == "unhealthy");
  CHECK(deregistrations[1]["event.reason"] == "stopping");
  CHECK(events(log, "bootstrap-role").size() == 1);
  CHECK(events(log, "status-listening").size() == 1);
  // Nothing listens any more: health says so in one line.
  auto gone = runHealth(dir, statusAddr);
  CHECK(gone.code == 1);
  CHECK(gone.line.find("nothing answers at http://" + statusAddr + "/status") != std::string::npos);
}

TEST_CASE("status during the bootstrap wait: phase bootstrap-wait, health 1") {
  esetcd::httpGlobalInit();
  sup_test::TempDir dir;
  EtcdServer etcd;
  ::mkdir(dir.file("data").c_str(), 0755);  // empty: a fresh node, which waits for a second
  Node node(dir, etcd, {"ES_BOOTSTRAP_EXPECT=2"}, dir.file("data"));
  REQUIRE(sup_test::waitUntil(
      [&] { return status(node.base).value("phase", "") == "bootstrap-wait"; }, Millis(5000)));
  auto waiting = status(node.base);
  CHECK(waiting["command"]["pid"].is_null());
  CHECK(waiting["bootstrap"]["role"].is_null());
  auto health = runHealth(dir, "127.0.0.1:" + std::to_string(node.statusPort));
  CHECK(health.code == 1);
  CHECK(health.line == "unhealthy: no health probe yet (phase bootstrap-wait)");
  ::kill(node.process->pid(), SIGTERM);
  CHECK(node.process->waitExit(Millis(5000)) == 143);
}

TEST_CASE("status while the first etcd request hangs: served after 100 ms, phase starting") {
  esetcd::httpGlobalInit();
  sup_test::TempDir dir;
  EtcdServer etcd;
  etcd.freeze();  // the first listing hangs for ETCD_TIMEOUT, 2 s
  const auto launched = std::chrono::steady_clock::now();
  Node node(dir, etcd, {"ETCD_TIMEOUT=2s", "ETCD_START_TIMEOUT=60s"}, dir.path());
  // A quick start opens the listener after the exec; a start that waits opens it at once.
  REQUIRE(sup_test::waitUntil(
      [&] { return !events(dir.file("entrypoint.log"), "status-listening").empty(); },
      Millis(5000)));
  const auto listening = std::chrono::steady_clock::now() - launched;
  auto starting = status(node.base);
  WARN("es-etcd-entrypoint: /status served "
       << std::chrono::duration_cast<Millis>(listening).count()
       << " ms after launch, while the first etcd request hangs (ETCD_TIMEOUT 2 s)");
  CHECK(starting.value("phase", "") == "starting");
  CHECK(starting["command"]["pid"].is_null());
  // Before the first retry, which would open it too: the slow request did.
  CHECK(listening < Millis(1500));
  etcd.thaw();
  ::kill(node.process->pid(), SIGTERM);
  CHECK(node.process->waitExit(Millis(10000)) == 143);
}

TEST_CASE("STATUS_ADDR taken by another socket: logged, and the node starts and registers") {
  esetcd::httpGlobalInit();
  sup_test::TempDir dir;
  EtcdServer etcd;
  // Hold a port: bound and listening, as another process would.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  socklen_t length = sizeof address;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  Node node(dir, etcd, {"STATUS_ADDR=" + taken}, dir.path());
  node.setHealthy(true);
  REQUIRE(sup_test::waitUntil([&] { return !etcd.keys(kPrefix + "/127.0.0.11").empty(); },
                              Millis(5000)));
  auto failed = events(dir.file("entrypoint.log"), "status-listen-failed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["message"].get<std::string>().find("cannot listen on " + taken +
                                                     " (STATUS_ADDR)") != std::string::npos);
  ::kill(node.process->pid(), SIGTERM);
  CHECK(node.process->waitExit(Millis(5000)) == 143);
  ::close(holder);
}
