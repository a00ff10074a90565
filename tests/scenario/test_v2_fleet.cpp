// Mixed fleets with the real binary and a real etcd serving both keyspaces: nodes registered by
// the 2014 sidecar (its loop body, `etcdctl set` in v2 mode) are joined by a node of ours with
// ETCD_API=v2, and a node in the default auto mode refuses to bootstrap a second cluster beside
// them (docs/migrating.md, docs/entrypoint.md "Which keys each API reads and writes").
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::EtcdServerOptions;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;

namespace {

const std::string kPrefix = "/services/elasticsearch";
// The value exactly as the seed's sidecar writes it (spaces included).
const std::string kSidecarValue = R"({"http_port": 9200, "transport_port": 9300})";
const std::string kStatePrefix = "/es-etcd-entrypoint/services/elasticsearch";

// Debian ships etcdctl beside etcd.
std::string etcdctlPath() {
  auto beside = std::filesystem::path(esetcd::testing::findEtcd()).parent_path() / "etcdctl";
  return std::filesystem::exists(beside) ? beside.string() : "etcdctl";
}

// Runs `etcdctl` in v2 mode, as the sidecar's shell loop would; returns its output.
std::string etcdctlV2(const sup_test::TempDir& dir, const EtcdServer& etcd,
                      std::vector<std::string> args) {
  static int calls = 0;
  std::string output = dir.file("etcdctl-" + std::to_string(++calls) + ".out");
  sup_test::LaunchOptions options;
  options.output = output;
  options.env = {"ETCDCTL_API=2"};
  std::vector<std::string> argv = {etcdctlPath(), "--endpoints", etcd.clientUrl()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = sup_test::launch(argv, options);
  auto code = run.waitExit(Millis(10000));
  INFO("etcdctl " << args.front() << ": " << sup_test::readFile(output));
  REQUIRE(code == 0);
  return sup_test::readFile(output);
}

// The body of the seed's sidecar loop for a healthy node at `ip`.
void sidecarRegisters(const sup_test::TempDir& dir, const EtcdServer& etcd, const std::string& ip) {
  etcdctlV2(dir, etcd, {"set", kPrefix + "/" + ip, kSidecarValue, "--ttl", "60"});
}

// The keys `etcdctl ls --recursive` prints, sorted.
std::vector<std::string> etcdctlLs(const sup_test::TempDir& dir, const EtcdServer& etcd) {
  std::string text = etcdctlV2(dir, etcd, {"ls", "--recursive", kPrefix});
  std::vector<std::string> keys;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    if (end > start) keys.push_back(text.substr(start, end - start));
  std::sort(keys.begin(), keys.end());  // etcd v2 lists in no particular order
  return keys;
}

// Every key in the v3 keyspace.
size_t v3KeyCount(const EtcdServer& etcd) {
  auto r =
      etcd.request("POST", "/v3/kv/range",
                   nlohmann::json{{"key", esetcd::codec::base64Encode(std::string(1, '\0'))},
                                  {"range_end", esetcd::codec::base64Encode(std::string(1, '\0'))},
                                  {"count_only", true}}
                       .dump());
  auto doc = nlohmann::json::parse(r.body);
  // The gateway writes int64 as a string and leaves out zero.
  if (!doc.contains("count")) return 0;
  const auto& count = doc["count"];
  return count.is_string() ? std::stoul(count.get<std::string>()) : count.get<size_t>();
}

bool v3HasKey(const EtcdServer& etcd, const std::string& key) {
  auto r = etcd.request("POST", "/v3/kv/range",
                        nlohmann::json{{"key", esetcd::codec::base64Encode(key)}}.dump());
  return nlohmann::json::parse(r.body).contains("kvs");
}

bool v2HasKey(const EtcdServer& etcd, const std::string& key) {
  return etcd.request("GET", "/v2/keys" + key).status == 200;
}

bool logHas(const sup_test::TempDir& dir, const std::string& text) {
  return sup_test::readFile(dir.file("entrypoint.log")).find(text) != std::string::npos;
}

// A node of ours at 127.0.0.11 supervising the stand-in, with `extraEnv` on top.
sup_test::Running startNode(const sup_test::TempDir& dir, const EtcdServer& etcd,
                            const std::vector<std::string>& extraEnv) {
  int port = freeLoopbackPort();
  sup_test::writeFile(dir.file("state"), "healthy\n");
  ::mkdir(dir.file("data").c_str(), 0755);  // empty: a brand-new node
  sup_test::LaunchOptions options;
  options.output = dir.file("entrypoint.log");
  options.env = {"DISCOVERY=on",
                 "ETCD_ENDPOINTS=" + etcd.clientUrl(),
                 "ES_VERSION=8.15.0",
                 "ES_NODE_NAME=node-new",
                 "ES_PUBLISH_HOST=127.0.0.11",
                 "ES_HTTP_PORT=" + std::to_string(port),
                 "ES_PATH_CONF=" + dir.path(),
                 "ES_PATH_DATA=" + dir.file("data"),
                 "STATE_DIR=" + dir.path(),
                 "ES_PASS_SETTINGS=always",
                 "HEALTH_INTERVAL=200ms",
                 "HEALTH_TIMEOUT=150ms",
                 "ETCD_TTL=3",
                 "ETCD_TIMEOUT=1s",
                 "ES_BOOTSTRAP_EXPECT=1",
                 "LOG_LEVEL=debug"};
  options.env.insert(options.env.end(), extraEnv.begin(), extraEnv.end());
  return sup_test::launch(
      {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port), dir.file("state")}, options);
}

}  // namespace

TEST_CASE("a node with ETCD_API=v2 joins two nodes registered by the 2014 sidecar", "[v2]") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  sidecarRegisters(dir, etcd, "10.1.0.21");
  sidecarRegisters(dir, etcd, "10.1.0.22");

  auto node = startNode(dir, etcd, {"ETCD_API=v2"});
  INFO("entrypoint log: " << dir.file("entrypoint.log"));
  REQUIRE(
      sup_test::waitUntil([&] { return v2HasKey(etcd, kPrefix + "/127.0.0.11"); }, Millis(10000)));
  // It seeded from both old nodes and joined: no first bootstrap of its own.
  CHECK(sup_test::fileHasLine(dir.file("unicast_hosts.txt"), "10.1.0.21:9300"));
  CHECK(sup_test::fileHasLine(dir.file("unicast_hosts.txt"), "10.1.0.22:9300"));
  CHECK(logHas(dir, "read 2 registrations from etcd (v2)"));
  std::string args = sup_test::readFile(dir.file("state.args"));
  CHECK(args.find("initial_master_nodes") == std::string::npos);
  // The old units' view: three nodes, as their `etcdctl ls` builds the unicast hosts from.
  CHECK(etcdctlLs(dir, etcd) == std::vector<std::string>{kPrefix + "/10.1.0.21",
                                                         kPrefix + "/10.1.0.22",
                                                         kPrefix + "/127.0.0.11"});
  // Nothing in the v3 keyspace: the whole fleet lives in v2.
  CHECK(v3KeyCount(etcd) == 0);

  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
  CHECK(etcdctlLs(dir, etcd) ==
        std::vector<std::string>{kPrefix + "/10.1.0.21", kPrefix + "/10.1.0.22"});
}

TEST_CASE("auto mode beside a v2 fleet: exit 2 with the fix, nothing written to etcd", "[v2]") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  sidecarRegisters(dir, etcd, "10.1.0.21");
  sidecarRegisters(dir, etcd, "10.1.0.22");

  auto node = startNode(dir, etcd, {});
  CHECK(node.waitExit(Millis(10000)) == 2);
  INFO("entrypoint log:\n" << sup_test::readFile(dir.file("entrypoint.log")));
  CHECK(logHas(dir, "its v2 keyspace holds 2"));
  CHECK(logHas(dir, "under " + kPrefix));
  CHECK(logHas(dir, "ETCD_API=v2"));
  CHECK(logHas(dir, "docs/migrating.md"));
  CHECK_FALSE(sup_test::fileExists(dir.file("state.args")));
  // No decision, no announcement, no registration, in either keyspace.
  CHECK(v3KeyCount(etcd) == 0);
  CHECK_FALSE(v2HasKey(etcd, "/es-etcd-entrypoint"));
  CHECK(etcdctlLs(dir, etcd) ==
        std::vector<std::string>{kPrefix + "/10.1.0.21", kPrefix + "/10.1.0.22"});
}

TEST_CASE("auto mode with both keyspaces empty: bootstraps as before (negative twin)") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  auto node = startNode(dir, etcd, {});
  INFO("entrypoint log: " << dir.file("entrypoint.log"));
  REQUIRE(
      sup_test::waitUntil([&] { return v3HasKey(etcd, kPrefix + "/127.0.0.11"); }, Millis(10000)));
  CHECK(v3HasKey(etcd, kStatePrefix + "/bootstrap"));
  CHECK(sup_test::readFile(dir.file("state.args")).find("initial_master_nodes") !=
        std::string::npos);
  CHECK_FALSE(logHas(dir, "v2 keyspace"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("auto mode on an etcd without the v2 API: the 404 means no v2 fleet, it bootstraps") {
  sup_test::TempDir dir;
  EtcdServerOptions options;
  options.enableV2 = false;
  EtcdServer etcd(options);
  REQUIRE(etcd.request("GET", "/v2/keys" + kPrefix).status == 404);
  auto node = startNode(dir, etcd, {});
  INFO("entrypoint log: " << dir.file("entrypoint.log"));
  REQUIRE(
      sup_test::waitUntil([&] { return v3HasKey(etcd, kPrefix + "/127.0.0.11"); }, Millis(10000)));
  CHECK(v3HasKey(etcd, kStatePrefix + "/bootstrap"));
  CHECK_FALSE(logHas(dir, "v2 keyspace"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("auto mode with a live v3 registration: joins it, the v2 keyspace is not read", "[v2]") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  sidecarRegisters(dir, etcd, "10.1.0.21");
  etcd.request("POST", "/v3/kv/put",
               nlohmann::json{{"key", esetcd::codec::base64Encode(kPrefix + "/10.1.0.31")},
                              {"value", esetcd::codec::base64Encode(kSidecarValue)}}
                   .dump());
  auto node = startNode(dir, etcd, {});
  INFO("entrypoint log: " << dir.file("entrypoint.log"));
  REQUIRE(
      sup_test::waitUntil([&] { return v3HasKey(etcd, kPrefix + "/127.0.0.11"); }, Millis(10000)));
  CHECK(sup_test::fileHasLine(dir.file("unicast_hosts.txt"), "10.1.0.31:9300"));
  CHECK_FALSE(sup_test::fileHasLine(dir.file("unicast_hosts.txt"), "10.1.0.21:9300"));
  CHECK_FALSE(logHas(dir, "v2 keyspace"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}
