// The registration scenario with the real binary, a real etcd and a stand-in node: the key
// appears only once the node is healthy, goes after HEALTH_FAILURES failed probes and at once on
// SIGTERM, and a node started later is written into the first node's unicast_hosts.txt.
#include <signal.h>

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPrefix = "/services/elasticsearch";

// One entrypoint supervising one stand-in, in its own directory.
struct Node {
  Node(const sup_test::TempDir& dir, const std::string& name, const std::string& publishHost,
       const EtcdServer& etcd, const std::string& api, bool healthy)
      : state(dir.file(name + ".state")),
        seeds(dir.file(name + "/unicast_hosts.txt")),
        log(dir.file(name + ".log")) {
    sup_test::writeFile(state, healthy ? "healthy\n" : "unhealthy\n");
    ::mkdir(dir.file(name).c_str(), 0755);
    int port = freeLoopbackPort();
    sup_test::LaunchOptions options;
    options.output = log;
    // The stand-in is no Elasticsearch start command: discovery is asked for.
    options.env = {"DISCOVERY=on",
                   "ETCD_ENDPOINTS=" + etcd.clientUrl(),
                   "ETCD_API=" + api,
                   "ETCD_TTL=3",
                   "ES_VERSION=8.15.0",
                   "ES_NODE_NAME=" + name,
                   "ES_PUBLISH_HOST=" + publishHost,
                   "ES_HTTP_PORT=" + std::to_string(port),
                   "ES_PATH_CONF=" + dir.file(name),
                   "STATE_DIR=" + dir.file(name),
                   "ES_PASS_SETTINGS=always",
                   "HEALTH_INTERVAL=200ms",
                   "HEALTH_TIMEOUT=150ms",
                   "HEALTH_FAILURES=2",
                   "STOP_GRACE=5s",
                   "LOG_LEVEL=debug",
                   "ES_BOOTSTRAP_EXPECT=1",
                   "ES_PATH_DATA=" + dir.file(name)};
    process.emplace(sup_test::launch(
        {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port), state}, options));
  }

  void setHealthy(bool healthy) {
    sup_test::writeFile(state, healthy ? "healthy\n" : "unhealthy\n");
  }

  std::string state, seeds, log;
  std::optional<sup_test::Running> process;
};

std::optional<std::string> getKey(const EtcdServer& etcd, const std::string& api,
                                  const std::string& key) {
  if (api == "v2") {
    auto r = etcd.request("GET", "/v2/keys" + key);
    if (r.status != 200) return std::nullopt;
    return nlohmann::json::parse(r.body)["node"]["value"].get<std::string>();
  }
  auto r = etcd.request("POST", "/v3/kv/range",
                        nlohmann::json{{"key", esetcd::codec::base64Encode(key)}}.dump());
  auto doc = nlohmann::json::parse(r.body);
  if (!doc.contains("kvs")) return std::nullopt;
  return esetcd::codec::base64Decode(doc["kvs"][0]["value"].get<std::string>()).value_or("");
}

bool hasKey(const EtcdServer& etcd, const std::string& api, const std::string& key) {
  return getKey(etcd, api, key).has_value();
}

void registrationScenario(const std::string& api) {
  sup_test::TempDir dir;
  EtcdServer etcd;
  Node a(dir, "node-a", "127.0.0.11", etcd, api, false);
  const std::string keyA = kPrefix + "/127.0.0.11";
  INFO("entrypoint log: " << a.log);

  // Unhealthy: five probes (each a debug line) pass and nothing is registered.
  REQUIRE(sup_test::waitUntil(
      [&] { return sup_test::countIn(sup_test::readFile(a.log), "health probe: ") >= 5; },
      Millis(10000)));
  CHECK_FALSE(hasKey(etcd, api, keyA));

  // Healthy: registered within a few probes, with the seed-compatible record.
  a.setHealthy(true);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, api, keyA); }, Millis(3000)));
  auto record = nlohmann::json::parse(*getKey(etcd, api, keyA));
  CHECK(record["transport_port"] == 9300);
  CHECK(record["node_name"] == "node-a");

  // A second node started later: it seeds from A at start, and A's seed file lists it once A's
  // watch reports the registration (how soon: bench/scale.sh's joins; here only a WARN). A's
  // log says the seed hosts changed: the watch, not a restart, rewrote the file.
  Node b(dir, "node-b", "127.0.0.12", etcd, api, true);
  const std::string keyB = kPrefix + "/127.0.0.12";
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, api, keyB); }, Millis(10000)));
  auto registeredAt = Clock::now();
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileHasLine(a.seeds, "127.0.0.12:9300"); },
                              Millis(10000)));
  auto lag = std::chrono::duration_cast<Millis>(Clock::now() - registeredAt);
  WARN("peer change reached the seed file " << lag.count() << " ms after the registration");
  CHECK(sup_test::waitUntil(
      [&] {
        return sup_test::readFile(a.log).find("seed hosts now [127.0.0.12:9300]") !=
               std::string::npos;
      },
      Millis(10000)));
  CHECK(sup_test::fileHasLine(b.seeds, "127.0.0.11:9300"));
  CHECK_FALSE(sup_test::fileHasLine(b.seeds, "127.0.0.12:9300"));

  // Unhealthy again: deregistered by A itself after HEALTH_FAILURES probes, not left to expire
  // at the TTL: the key is gone and A's log says why.
  a.setHealthy(false);
  auto turned = Clock::now();
  REQUIRE(sup_test::waitUntil([&] { return !hasKey(etcd, api, keyA); }, Millis(10000)));
  WARN("deregistered " << std::chrono::duration_cast<Millis>(Clock::now() - turned).count()
                       << " ms after the node turned unhealthy");
  // The log line follows the delete: wait for it too.
  CHECK(sup_test::waitUntil(
      [&] { return sup_test::readFile(a.log).find("deregistered " + keyA) != std::string::npos; },
      Millis(10000)));
  // B's seed file drops A once A is no longer registered.
  REQUIRE(sup_test::waitUntil([&] { return !sup_test::fileHasLine(b.seeds, "127.0.0.11:9300"); },
                              Millis(10000)));

  // SIGTERM: the key is deleted before the child is even told to stop, so it is gone by the
  // time the entrypoint has exited with the child's 143.
  a.setHealthy(true);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, api, keyA); }, Millis(3000)));
  ::kill(b.process->pid(), SIGTERM);
  auto code = b.process->waitExit(Millis(5000));
  REQUIRE(code);
  CHECK(*code == 143);
  CHECK_FALSE(hasKey(etcd, api, keyB));
  std::string logB = sup_test::readFile(b.log);
  auto deregistered = logB.find("deregistered " + keyB);
  auto exited = logB.find("exited; exiting with status 143");
  CHECK(deregistered != std::string::npos);
  CHECK(exited != std::string::npos);
  CHECK(deregistered < exited);
  CHECK(hasKey(etcd, api, keyA));

  ::kill(a.process->pid(), SIGTERM);
  CHECK(a.process->waitExit(Millis(5000)) == 143);
  CHECK_FALSE(hasKey(etcd, api, keyA));
}

}  // namespace

TEST_CASE("registration follows health, peers follow registrations (etcd v3)") {
  registrationScenario("v3");
}

TEST_CASE("registration follows health, peers follow registrations (etcd v2)", "[v2]") {
  registrationScenario("v2");
}

TEST_CASE("the child's exit status passes through and the key goes with it") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  Node a(dir, "node-a", "127.0.0.11", etcd, "v3", true);
  const std::string key = kPrefix + "/127.0.0.11";
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(3000)));
  // The stand-in dies of SIGKILL: the entrypoint exits 137 and deregisters at once.
  auto children = sup_test::childrenOf(a.process->pid());
  REQUIRE(children.size() == 1);
  ::kill(children[0], SIGKILL);
  CHECK(a.process->waitExit(Millis(5000)) == 137);
  CHECK_FALSE(hasKey(etcd, "v3", key));
}

namespace {

// Starts the entrypoint with `extraEnv` on top of a stand-in node setup and returns it; the
// stand-in gets `extraArgs` after its own two, as Elasticsearch would get -E settings.
sup_test::Running startEntrypoint(const sup_test::TempDir& dir,
                                  const std::vector<std::string>& extraEnv,
                                  const std::string& state,
                                  const std::vector<std::string>& extraArgs = {},
                                  bool healthy = true) {
  sup_test::LaunchOptions options;
  options.output = dir.file("entrypoint.log");
  options.env = {"DISCOVERY=on",
                 "ES_VERSION=8.15.0",
                 "ES_NODE_NAME=node-a",
                 "ES_PUBLISH_HOST=127.0.0.11",
                 "ES_PATH_CONF=" + dir.path(),
                 "STATE_DIR=" + dir.path(),
                 "ES_PASS_SETTINGS=always",
                 "HEALTH_INTERVAL=200ms",
                 "HEALTH_TIMEOUT=150ms",
                 "ETCD_TTL=3",
                 "ETCD_TIMEOUT=300ms",
                 "ES_BOOTSTRAP_EXPECT=1",
                 "ES_PATH_DATA=" + dir.path()};
  options.env.insert(options.env.end(), extraEnv.begin(), extraEnv.end());
  int port = freeLoopbackPort();
  options.env.push_back("ES_HTTP_PORT=" + std::to_string(port));
  sup_test::writeFile(state, healthy ? "healthy\n" : "unhealthy\n");
  std::vector<std::string> argv = {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port),
                                   state};
  for (const auto& arg : extraArgs) {
    // "{port}": the stand-in's own port, for -Ehttp.port.
    std::string a = arg;
    if (auto at = a.find("{port}"); at != std::string::npos) a.replace(at, 6, std::to_string(port));
    argv.push_back(a);
  }
  return sup_test::launch(argv, options);
}

std::string deadEndpoint() {
  return "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
}

}  // namespace

TEST_CASE("etcd down at start: bounded retry, then the cached peers") {
  sup_test::TempDir dir;
  sup_test::writeFile(dir.file(".es-etcd-entrypoint-peers"), "# cached\n10.9.9.9:9300\n");
  auto started = Clock::now();
  auto node = startEntrypoint(
      dir, {"ETCD_ENDPOINTS=" + deadEndpoint(), "ETCD_START_TIMEOUT=1500ms"}, dir.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dir.file("state.args")); },
                              Millis(5000)));
  auto waited = std::chrono::duration_cast<Millis>(Clock::now() - started);
  CHECK(waited >= Millis(1400));
  CHECK(waited < Millis(4000));
  CHECK(sup_test::fileHasLine(dir.file("unicast_hosts.txt"), "10.9.9.9:9300"));
  std::string log = sup_test::readFile(dir.file("entrypoint.log"));
  CHECK(log.find("starting with the 1 cached peers") != std::string::npos);
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("etcd down at start without a cache: starts with no peers, registers once etcd is up") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  etcd.stop();
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ETCD_START_TIMEOUT=0"},
                              dir.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dir.file("state.args")); },
                              Millis(5000)));
  CHECK(sup_test::readFile(dir.file("entrypoint.log")).find("starting with no peers") !=
        std::string::npos);
  etcd.start();
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", kPrefix + "/127.0.0.11"); },
                              Millis(5000)));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
  CHECK_FALSE(hasKey(etcd, "v3", kPrefix + "/127.0.0.11"));
}

bool logHas(const sup_test::TempDir& dir, const std::string& part) {
  return sup_test::readFile(dir.file("entrypoint.log")).find(part) != std::string::npos;
}

// etcd restores every lease with a fresh TTL when it restarts (its lessor promotes them), so a
// v3 registration outlives an outage longer than its TTL: the refreshes simply resume.
TEST_CASE("etcd restarted while running: the lease survives and the refreshes resume") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  const std::string key = kPrefix + "/127.0.0.11";
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl()}, dir.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(10000)));
  etcd.stop();
  REQUIRE(sup_test::waitUntil([&] { return logHas(dir, "cannot refresh " + key); }, Millis(10000)));
  // A precondition, not a measurement: down for longer than the TTL (3 s).
  std::this_thread::sleep_for(Millis(3500));
  etcd.start();
  REQUIRE(sup_test::waitUntil([&] { return logHas(dir, "refreshed " + key + " again"); },
                              Millis(15000)));
  CHECK(hasKey(etcd, "v3", key));
  CHECK_FALSE(logHas(dir, "was lost; registering again"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

// v2 TTL keys keep their expiry time across a restart: down for longer than the TTL, the key has
// expired meanwhile, the refresh finds it gone, and the node registers again.
TEST_CASE(
    "etcd (v2) down for longer than the TTL: the key expires meanwhile and is registered "
    "again",
    "[v2]") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  const std::string key = kPrefix + "/127.0.0.11";
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ETCD_API=v2"},
                              dir.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v2", key); }, Millis(10000)));
  etcd.stop();
  REQUIRE(sup_test::waitUntil([&] { return logHas(dir, "cannot refresh " + key); }, Millis(10000)));
  std::this_thread::sleep_for(Millis(3500));  // a precondition: longer than the TTL (3 s)
  etcd.start();
  REQUIRE(sup_test::waitUntil([&] { return logHas(dir, "registration " + key + " was lost"); },
                              Millis(15000)));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v2", key); }, Millis(10000)));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("a lease revoked behind our back is granted again and the key comes back") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  const std::string key = kPrefix + "/127.0.0.11";
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl()}, dir.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(3000)));
  auto range = nlohmann::json::parse(
      etcd.request("POST", "/v3/kv/range",
                   nlohmann::json{{"key", esetcd::codec::base64Encode(key)}}.dump())
          .body);
  std::string lease = range["kvs"][0]["lease"].get<std::string>();
  etcd.request("POST", "/v3/lease/revoke", nlohmann::json{{"ID", lease}}.dump());
  REQUIRE_FALSE(hasKey(etcd, "v3", key));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(10000)));
  CHECK(logHas(dir, "registration " + key + " was lost; registering again"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("a live node with our name at another address: exit 3, nothing started", "[v2]") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  etcd.request("PUT", "/v2/keys" + kPrefix + "/127.0.0.99",
               "value=" + std::string(R"({"transport_port":9300,"node_name":"node-a"})"),
               "application/x-www-form-urlencoded");
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ETCD_API=v2"},
                              dir.file("state"));
  CHECK(node.waitExit(Millis(5000)) == 3);
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
  CHECK(sup_test::readFile(dir.file("entrypoint.log")).find("127.0.0.99") != std::string::npos);
}

TEST_CASE("bad settings: exit 2 before anything is contacted or started") {
  sup_test::TempDir dir;
  auto node = startEntrypoint(
      dir, {"ETCD_ENDPOINTS=" + deadEndpoint(), "ETCD_TTL=1", "ETCD_API=v9"}, dir.file("state"));
  CHECK(node.waitExit(Millis(3000)) == 2);
  std::string log = sup_test::readFile(dir.file("entrypoint.log"));
  CHECK(log.find("ETCD_TTL (--etcd-ttl) = \"1\"") != std::string::npos);
  CHECK(log.find("nothing was started") != std::string::npos);
  CHECK(log.find("ETCD_API (--etcd-api) = \"v9\"") != std::string::npos);
  // Nothing was asked of etcd: no API detection, no listing, no retry.
  CHECK(log.find("API detection") == std::string::npos);
  CHECK(log.find("cannot read peers") == std::string::npos);
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
}

TEST_CASE("SIGTERM while etcd is retried at start: exit 143, the command never starts") {
  sup_test::TempDir dir;
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + deadEndpoint(), "ETCD_START_TIMEOUT=30s"},
                              dir.file("state"));
  REQUIRE(sup_test::waitUntil(
      [&] {
        return sup_test::readFile(dir.file("entrypoint.log")).find("retrying") != std::string::npos;
      },
      Millis(3000)));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(3000)) == 143);
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
}

TEST_CASE("split cluster: a node whose cluster UUID differs from etcd's refuses to register") {
  sup_test::TempDir dirA;
  sup_test::TempDir dirB;
  EtcdServer etcd;
  auto a = startEntrypoint(dirA, {"ETCD_ENDPOINTS=" + etcd.clientUrl()}, dirA.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", kPrefix + "/127.0.0.11"); },
                              Millis(3000)));
  CHECK(getKey(etcd, "v3", "/es-etcd-entrypoint/services/elasticsearch/cluster_uuid") ==
        std::optional<std::string>("standin-cluster-uuid"));
  auto b = startEntrypoint(
      dirB,
      {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_NODE_NAME=node-b", "ES_PUBLISH_HOST=127.0.0.12",
       "STANDIN_CLUSTER_UUID=another-cluster", "LOG_LEVEL=debug"},
      dirB.file("state"));
  REQUIRE(sup_test::waitUntil(
      [&] {
        return sup_test::readFile(dirB.file("entrypoint.log")).find("split cluster") !=
               std::string::npos;
      },
      Millis(3000)));
  // Three more probes (debug lines), each of which found the node healthy and still refused.
  const auto probes = [&] {
    return sup_test::countIn(sup_test::readFile(dirB.file("entrypoint.log")), "health probe: ");
  };
  const size_t before = probes();
  REQUIRE(sup_test::waitUntil([&] { return probes() >= before + 3; }, Millis(10000)));
  CHECK_FALSE(hasKey(etcd, "v3", kPrefix + "/127.0.0.12"));
  ::kill(b.pid(), SIGTERM);
  ::kill(a.pid(), SIGTERM);
  CHECK(b.waitExit(Millis(5000)) == 143);
  CHECK(a.waitExit(Millis(5000)) == 143);
}

TEST_CASE("etcd with client-cert-auth: registers over https with a client certificate") {
  sup_test::TempDir dir;
  const auto pki = esetcd::testing::makeTestPki(dir.path());
  esetcd::testing::EtcdServerOptions serverOptions;
  serverOptions.tls = esetcd::testing::mutualTls(pki);
  EtcdServer etcd(serverOptions);
  const std::string key = kPrefix + "/127.0.0.11";
  // A TLS handshake under a loaded machine takes longer than the other tests' 300 ms.
  const std::vector<std::string> common = {"ETCD_ENDPOINTS=" + etcd.clientUrl(),
                                           "ETCD_CA_FILE=" + pki.caFile, "ETCD_TIMEOUT=2s",
                                           "ETCD_START_TIMEOUT=0"};

  // The negative twin first, so that the key cannot come from it: no client certificate, and
  // the log says which settings are missing.
  {
    sup_test::TempDir bare;
    auto node = startEntrypoint(bare, common, bare.file("state"));
    const auto log = bare.file("entrypoint.log");
    // One line says it all: TLS, and the two settings that supply a client certificate.
    const auto namesTheFix = [&] {
      for (const auto& line : sup_test::readLines(log)) {
        if (line.find("TLS") != std::string::npos &&
            line.find("ETCD_CERT_FILE") != std::string::npos &&
            line.find("ETCD_KEY_FILE") != std::string::npos) {
          return true;
        }
      }
      return false;
    };
    const bool named = sup_test::waitUntil(namesTheFix, Millis(10000));
    INFO("entrypoint log without a client certificate:\n" << sup_test::readFile(log));
    CHECK(named);
    CHECK_FALSE(hasKey(etcd, "v3", key));
    ::kill(node.pid(), SIGTERM);
    CHECK(node.waitExit(Millis(5000)) == 143);
  }

  auto withCert = common;
  withCert.push_back("ETCD_CERT_FILE=" + pki.clientCert);
  withCert.push_back("ETCD_KEY_FILE=" + pki.clientKey);
  auto node = startEntrypoint(dir, withCert, dir.file("state"));
  INFO("entrypoint log: " << dir.file("entrypoint.log"));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(8000)));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
  CHECK_FALSE(hasKey(etcd, "v3", key));
}

TEST_CASE("settings on the command line win: registered and probed as given, not appended") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  const std::string key = kPrefix + "/127.0.0.11";
  // ES_HTTP_PORT is overridden below by the command's -Ehttp.port, the port the stand-in serves:
  // the node registers only if the probe goes there.
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl()}, dir.file("state"),
                              {"-Enode.name=from-command", "-Ehttp.port={port}"});
  INFO("entrypoint log: " << sup_test::readFile(dir.file("entrypoint.log")));
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, "v3", key); }, Millis(5000)));
  auto record = nlohmann::json::parse(*getKey(etcd, "v3", key));
  CHECK(record["node_name"] == "from-command");
  auto args = sup_test::readLines(dir.file("state.args"));
  auto count = [&](const std::string& prefix) {
    return std::count_if(args.begin(), args.end(),
                         [&](const std::string& a) { return a.rfind(prefix, 0) == 0; });
  };
  CHECK(count("-Enode.name=") == 1);
  CHECK(count("-Ehttp.port=") == 1);
  CHECK(sup_test::fileHasLine(dir.file("state.args"), "-Enode.name=from-command"));
  auto httpArg = std::find_if(args.begin(), args.end(),
                              [](const std::string& a) { return a.rfind("-Ehttp.port=", 0) == 0; });
  REQUIRE(httpArg != args.end());
  CHECK(record["http_port"] == std::stoi(httpArg->substr(12)));
  // Ours are still appended where the command says nothing.
  CHECK(sup_test::fileHasLine(dir.file("state.args"), "-Enetwork.publish_host=127.0.0.11"));
  CHECK(sup_test::readFile(dir.file("entrypoint.log"))
            .find("the command sets node.name=from-command") != std::string::npos);
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("a command-line setting that contradicts etcd discovery: exit 2, nothing started") {
  sup_test::TempDir dir;
  auto node = startEntrypoint(dir, {"ETCD_ENDPOINTS=" + deadEndpoint()}, dir.file("state"),
                              {"-Ecluster.initial_master_nodes=a,b,c"});
  CHECK(node.waitExit(Millis(3000)) == 2);
  std::string log = sup_test::readFile(dir.file("entrypoint.log"));
  INFO("entrypoint log:\n" << log);
  CHECK(log.find("argument \"-Ecluster.initial_master_nodes=a,b,c\"") != std::string::npos);
  CHECK(log.find("nothing was started") != std::string::npos);
  CHECK(log.find("cannot read peers") == std::string::npos);
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
}

TEST_CASE("a data-only node started first never enters the bootstrap decision") {
  sup_test::TempDir dataDir;
  sup_test::TempDir masterDir;
  EtcdServer etcd;
  const std::string state = "/es-etcd-entrypoint/services/elasticsearch";
  auto startsWith = [](const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
  };
  // node.roles in the settings file, as a flow list. Without a master it cannot be healthy.
  sup_test::writeFile(dataDir.file("elasticsearch.yml"), "node.roles: [ data ]\n");
  auto data =
      startEntrypoint(dataDir,
                      {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_NODE_NAME=data-1",
                       "ES_PUBLISH_HOST=127.0.0.12", "ES_PATH_DATA=" + dataDir.file("data")},
                      dataDir.file("state"), {}, false);
  INFO("data node log:\n" << sup_test::readFile(dataDir.file("entrypoint.log")));
  // It starts at once (ES_BOOTSTRAP_EXPECT=1 would have chosen it) and decides nothing.
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dataDir.file("state.args")); },
                              Millis(5000)));
  CHECK_FALSE(hasKey(etcd, "v3", state + "/bootstrap"));
  for (const auto& arg : sup_test::readLines(dataDir.file("state.args")))
    CHECK_FALSE(startsWith(arg, "-Ecluster.initial_master_nodes"));
  auto announced = getKey(etcd, "v3", state + "/announce/127.0.0.12");
  REQUIRE(announced);
  auto record = nlohmann::json::parse(*announced);
  CHECK(record["roles"] == nlohmann::json::array({"data"}));
  CHECK(record["master_eligible"] == false);
  CHECK(sup_test::readFile(dataDir.file("entrypoint.log")).find("not master-eligible") !=
        std::string::npos);

  // The twin: a master-eligible node (roles unset) is the one candidate, with EXPECT=1.
  auto master = startEntrypoint(
      masterDir, {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_PATH_DATA=" + masterDir.file("data")},
      masterDir.file("state"));
  INFO("master node log:\n" << sup_test::readFile(masterDir.file("entrypoint.log")));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(masterDir.file("state.args")); },
                              Millis(5000)));
  CHECK(getKey(etcd, "v3", state + "/bootstrap") ==
        std::optional<std::string>(R"({"initial_master_nodes":["node-a"]})"));
  CHECK(
      sup_test::fileHasLine(masterDir.file("state.args"), "-Ecluster.initial_master_nodes=node-a"));
  ::kill(master.pid(), SIGTERM);
  ::kill(data.pid(), SIGTERM);
  CHECK(master.waitExit(Millis(5000)) == 143);
  CHECK(data.waitExit(Millis(5000)) == 143);
}

TEST_CASE("two fresh nodes with one name: the second exits 3, the first keeps waiting") {
  sup_test::TempDir dirA;
  sup_test::TempDir dirB;
  sup_test::TempDir dirC;
  EtcdServer etcd;
  const std::string state = "/es-etcd-entrypoint/services/elasticsearch";
  auto fresh = [&](const sup_test::TempDir& dir, const std::string& name, const std::string& host) {
    return std::vector<std::string>{"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_BOOTSTRAP_EXPECT=2",
                                    "ES_NODE_NAME=" + name, "ES_PUBLISH_HOST=" + host,
                                    "ES_PATH_DATA=" + dir.file("data")};
  };
  auto a = startEntrypoint(dirA, fresh(dirA, "node-a", "127.0.0.11"), dirA.file("state"));
  const std::string logA = dirA.file("entrypoint.log");
  REQUIRE(sup_test::waitUntil(
      [&] {
        return sup_test::readFile(logA).find("waiting for the cluster's first bootstrap") !=
               std::string::npos;
      },
      Millis(5000)));

  auto b = startEntrypoint(dirB, fresh(dirB, "node-a", "127.0.0.12"), dirB.file("state"));
  CHECK(b.waitExit(Millis(5000)) == 3);
  std::string logB = sup_test::readFile(dirB.file("entrypoint.log"));
  INFO("second node's log:\n" << logB);
  CHECK(logB.find("node name node-a is announced by a starting node at 127.0.0.11:9300") !=
        std::string::npos);
  CHECK(logB.find("set a unique ES_NODE_NAME") != std::string::npos);
  CHECK_FALSE(sup_test::fileExists(dirB.file("state.args")));
  CHECK_FALSE(hasKey(etcd, "v3", state + "/announce/127.0.0.12"));
  CHECK_FALSE(hasKey(etcd, "v3", state + "/bootstrap"));

  // The twin: a distinct name completes the pair, and both start with the decision.
  auto c = startEntrypoint(dirC, fresh(dirC, "node-c", "127.0.0.13"), dirC.file("state"));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dirC.file("state.args")); },
                              Millis(5000)));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dirA.file("state.args")); },
                              Millis(5000)));
  CHECK(getKey(etcd, "v3", state + "/bootstrap") ==
        std::optional<std::string>(R"({"initial_master_nodes":["node-a","node-c"]})"));
  ::kill(a.pid(), SIGTERM);
  ::kill(c.pid(), SIGTERM);
  CHECK(a.waitExit(Millis(5000)) == 143);
  CHECK(c.waitExit(Millis(5000)) == 143);
}

TEST_CASE("a node name that is not UTF-8: exit 2 naming ES_NODE_NAME, not an abort") {
  sup_test::TempDir dir;
  // Before validation, this aborted with exit 134 on an uncaught JSON exception (invalid UTF-8
  // in the registration record).
  auto node = startEntrypoint(dir,
                              {"ETCD_ENDPOINTS=" + deadEndpoint(), "ETCD_START_TIMEOUT=0",
                               "ES_NODE_NAME=ab\xff"
                               "c"},
                              dir.file("state"));
  CHECK(node.waitExit(Millis(5000)) == 2);
  std::string log = sup_test::readFile(dir.file("entrypoint.log"));
  INFO("entrypoint log:\n" << log);
  CHECK(log.find("ES_NODE_NAME (--es-node-name)") != std::string::npos);
  CHECK(log.find("UTF-8") != std::string::npos);
  CHECK(log.find("nothing was started") != std::string::npos);
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
}

namespace {

void putKey(const EtcdServer& etcd, const std::string& key, const std::string& value) {
  etcd.request("POST", "/v3/kv/put",
               nlohmann::json{{"key", esetcd::codec::base64Encode(key)},
                              {"value", esetcd::codec::base64Encode(value)}}
                   .dump());
}

const std::string kState = "/es-etcd-entrypoint/services/elasticsearch";

}  // namespace

TEST_CASE("a bootstrap decision whose members are all gone is replaced after the bound") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  // What a failed first start leaves: a decision naming a node that never came back.
  putKey(etcd, kState + "/bootstrap", R"({"initial_master_nodes":["3f2a9c1b7d"]})");
  auto started = Clock::now();
  auto node = startEntrypoint(dir,
                              {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_BOOTSTRAP_STALE_AFTER=6s",
                               "ES_PATH_DATA=" + dir.file("data")},
                              dir.file("state"));
  INFO("entrypoint log:\n" << sup_test::readFile(dir.file("entrypoint.log")));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dir.file("state.args")); },
                              Millis(15000)));
  auto waited = std::chrono::duration_cast<Millis>(Clock::now() - started);
  WARN("the orphaned decision was replaced and the node started after " << waited.count() << " ms");
  CHECK(waited >= Millis(6000));
  CHECK(getKey(etcd, "v3", kState + "/bootstrap") ==
        std::optional<std::string>(R"({"initial_master_nodes":["node-a"]})"));
  CHECK(sup_test::fileHasLine(dir.file("state.args"), "-Ecluster.initial_master_nodes=node-a"));
  CHECK(sup_test::readFile(dir.file("entrypoint.log"))
            .find("bootstrap decision [3f2a9c1b7d] replaced") != std::string::npos);
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("a bootstrap decision with a member announced is never replaced: the node joins") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  putKey(etcd, kState + "/bootstrap", R"({"initial_master_nodes":["node-b"]})");
  putKey(etcd, kState + "/announce/127.0.0.99", R"({"transport_port":9300,"node_name":"node-b"})");
  auto node = startEntrypoint(dir,
                              {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ES_BOOTSTRAP_STALE_AFTER=6s",
                               "ES_PATH_DATA=" + dir.file("data")},
                              dir.file("state"));
  INFO("entrypoint log:\n" << sup_test::readFile(dir.file("entrypoint.log")));
  REQUIRE(sup_test::waitUntil([&] { return sup_test::fileExists(dir.file("state.args")); },
                              Millis(5000)));
  CHECK(getKey(etcd, "v3", kState + "/bootstrap") ==
        std::optional<std::string>(R"({"initial_master_nodes":["node-b"]})"));
  for (const auto& arg : sup_test::readLines(dir.file("state.args")))
    CHECK(arg.find("initial_master_nodes") == std::string::npos);
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("es-etcd-entrypoint reset-bootstrap: refused once a cluster formed, else deletes") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  auto reset = [&](const std::string& log) {
    sup_test::LaunchOptions options;
    options.output = dir.file(log);
    options.env = {"ETCD_ENDPOINTS=" + etcd.clientUrl(), "ETCD_START_TIMEOUT=0"};
    return sup_test::launch({ENTRYPOINT_PATH, "reset-bootstrap"}, options).waitExit(Millis(5000));
  };
  putKey(etcd, kState + "/bootstrap", R"({"initial_master_nodes":["gone"]})");
  putKey(etcd, kState + "/cluster_uuid", "k3fQx1");
  CHECK(reset("refused.log") == 4);
  CHECK(sup_test::readFile(dir.file("refused.log")).find("refused: a cluster formed") !=
        std::string::npos);
  CHECK(hasKey(etcd, "v3", kState + "/bootstrap"));

  etcd.request(
      "POST", "/v3/kv/deleterange",
      nlohmann::json{{"key", esetcd::codec::base64Encode(kState + "/cluster_uuid")}}.dump());
  CHECK(reset("deleted.log") == 0);
  CHECK(sup_test::readFile(dir.file("deleted.log")).find("deleted the bootstrap decision") !=
        std::string::npos);
  CHECK_FALSE(hasKey(etcd, "v3", kState + "/bootstrap"));
  CHECK(reset("nothing.log") == 0);
  CHECK(sup_test::readFile(dir.file("nothing.log")).find("nothing to reset") != std::string::npos);
}
