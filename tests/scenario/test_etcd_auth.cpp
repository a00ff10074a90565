// etcd with authentication, against every etcd version the tiers run (tests/CMakeLists.txt): the
// real binary keeps its registration and its watch through everything that invalidates a token
// (simple tokens that expire between probes, an etcd restart, JWT tokens after an auth change),
// and a refusal of its credentials or permissions is a clear error: exit 5 at start, nothing
// started; logged when it starts and when it stops while running.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"
#include "http.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::EtcdServerOptions;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;

namespace {

const std::string kPrefix = "/services/elasticsearch";

// What an operator does with etcdctl, as root: one request with a fresh token.
esetcd::HttpResponse asRoot(const EtcdServer& etcd, const std::string& path,
                            const std::string& body) {
  const auto login =
      etcd.request("POST", "/v3/auth/authenticate", R"({"name":"root","password":"s3cret"})");
  REQUIRE(login.status == 200);
  esetcd::HttpRequest request;
  request.method = "POST";
  request.url = etcd.clientUrl() + path;
  request.body = body;
  request.contentType = "application/json";
  request.headers = {"Authorization: " +
                     nlohmann::json::parse(login.body)["token"].get<std::string>()};
  request.timeout = Millis(5000);
  return esetcd::httpPerform(request, {});
}

// Auth on: root (everything), es (readwrite on the prefixes the entrypoint uses), nobody (no
// role at all).
void enableAuth(const EtcdServer& etcd) {
  using esetcd::codec::base64Encode;
  using esetcd::codec::prefixRangeEnd;
  const auto grant = [](const std::string& prefix) {
    return nlohmann::json{{"name", "es"},
                          {"perm",
                           {{"permType", "READWRITE"},
                            {"key", base64Encode(prefix)},
                            {"range_end", base64Encode(prefixRangeEnd(prefix))}}}}
        .dump();
  };
  const std::string steps[][2] = {
      {"/v3/auth/user/add", R"({"name":"root","password":"s3cret"})"},
      {"/v3/auth/role/add", R"({"name":"root"})"},
      {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
      {"/v3/auth/role/add", R"({"name":"es"})"},
      {"/v3/auth/role/grant", grant("/services/elasticsearch/")},
      {"/v3/auth/role/grant", grant("/es-etcd-entrypoint/")},
      {"/v3/auth/user/add", R"({"name":"es","password":"es-pass"})"},
      {"/v3/auth/user/grant", R"({"user":"es","role":"es"})"},
      {"/v3/auth/user/add", R"({"name":"nobody","password":"n0pe"})"},
      {"/v3/auth/enable", "{}"},
  };
  for (const auto& step : steps) {
    INFO(step[0] << " " << step[1]);
    REQUIRE(etcd.request("POST", step[0], step[1]).status == 200);
  }
}

// The lease of a key (0: none), or nullopt when the key does not exist; read as root.
std::optional<std::string> leaseOf(const EtcdServer& etcd, const std::string& key) {
  const auto answer = asRoot(etcd, "/v3/kv/range",
                             nlohmann::json{{"key", esetcd::codec::base64Encode(key)}}.dump());
  if (answer.status != 200) return std::nullopt;
  const auto doc = nlohmann::json::parse(answer.body);
  if (!doc.contains("kvs")) return std::nullopt;
  return doc["kvs"][0].value("lease", std::string("0"));
}

bool hasKey(const EtcdServer& etcd, const std::string& key) {
  return leaseOf(etcd, key).has_value();
}

// Whether `line` holds 401 as a number of its own (an HTTP status), not inside a port like 40115.
bool mentions401(const std::string& line) {
  return std::regex_search(line, std::regex("(^|[^0-9])401([^0-9]|$)"));
}

// One entrypoint with a stand-in node, authenticating as `user`. A probe every 4 s, longer than
// a 3 s simple token lives unused: each refresh and each watch round meets an expired token.
struct Node {
  Node(const sup_test::TempDir& dir, const std::string& name, const std::string& host,
       const EtcdServer& etcd, const std::string& user, const std::string& password)
      : key(kPrefix + "/" + host),
        seeds(dir.file(name + "/unicast_hosts.txt")),
        log(dir.file(name + ".log")) {
    ::mkdir(dir.file(name).c_str(), 0755);
    const std::string state = dir.file(name + ".state");
    sup_test::writeFile(state, "healthy\n");
    const int port = freeLoopbackPort();
    sup_test::LaunchOptions options;
    options.output = log;
    options.env = {"DISCOVERY=on",
                   "ETCD_ENDPOINTS=" + etcd.clientUrl(),
                   "ETCD_API=v3",
                   "ETCD_USERNAME=" + user,
                   "ETCD_PASSWORD=" + password,
                   "ETCD_TTL=10",
                   "ETCD_START_TIMEOUT=20s",
                   "ES_VERSION=8.15.0",
                   "ES_NODE_NAME=" + name,
                   "ES_PUBLISH_HOST=" + host,
                   "ES_HTTP_PORT=" + std::to_string(port),
                   "ES_PATH_CONF=" + dir.file(name),
                   "STATE_DIR=" + dir.file(name),
                   "ES_PATH_DATA=" + dir.file(name),
                   "ES_PASS_SETTINGS=always",
                   "ES_BOOTSTRAP_EXPECT=1",
                   "HEALTH_INTERVAL=4s",
                   "HEALTH_TIMEOUT=1s",
                   "STOP_GRACE=5s",
                   "LOG_LEVEL=debug"};
    process.emplace(sup_test::launch(
        {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port), state}, options));
  }

  std::string key, seeds, log;
  std::optional<sup_test::Running> process;
};

// Node A registered under `etcd`, then something happens to every token (`invalidate`); A keeps
// the same lease for longer than its TTL, and a node B started afterwards reaches A's seed file
// through A's watch.
void survives(const EtcdServer& etcd, const std::function<void()>& invalidate) {
  sup_test::TempDir dir;
  Node a(dir, "node-a", "127.0.0.11", etcd, "es", "es-pass");
  INFO("entrypoint log: " << a.log);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, a.key); }, Millis(8000)));
  const auto lease = leaseOf(etcd, a.key);

  const auto invalidated = std::chrono::steady_clock::now();
  invalidate();
  // The path under test ran: etcd rejected a token and the node logged in again (debug line).
  REQUIRE(sup_test::waitUntil(
      [&] { return sup_test::readFile(a.log).find("authenticating again") != std::string::npos; },
      Millis(12000)));
  // Precondition only: more than the TTL (10 s) since the fault, so that a lease nobody could
  // refresh would be gone. The same lease must still hold the key.
  std::this_thread::sleep_until(invalidated + Millis(12000));
  CHECK(leaseOf(etcd, a.key) == lease);

  Node b(dir, "node-b", "127.0.0.12", etcd, "es", "es-pass");
  INFO("node b log: " << b.log);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, b.key); }, Millis(8000)));
  CHECK(sup_test::waitUntil([&] { return sup_test::fileHasLine(a.seeds, "127.0.0.12:9300"); },
                            Millis(6000)));
  // No warning or error about a token (an etcd restart may show as a failed connection).
  CHECK(mentions401("etcd answered HTTP 401: invalid auth token"));
  CHECK_FALSE(mentions401("Failed to connect to 127.0.0.1 port 40115 after 0 ms"));
  for (const auto& line : sup_test::readLines(a.log)) {
    if (line.find(" W ") == std::string::npos && line.find(" E ") == std::string::npos) continue;
    INFO(line);
    CHECK(line.find("auth") == std::string::npos);
    CHECK_FALSE(mentions401(line));
    CHECK(line.find("was lost") == std::string::npos);
  }

  ::kill(b.process->pid(), SIGTERM);
  ::kill(a.process->pid(), SIGTERM);
  CHECK(b.process->waitExit(Millis(8000)) == 143);
  CHECK(a.process->waitExit(Millis(8000)) == 143);
  CHECK_FALSE(hasKey(etcd, a.key));
}

}  // namespace

TEST_CASE("auth: simple tokens that expire between probes: registration and watch survive") {
  EtcdServerOptions options;
  options.extraArgs = {"--auth-token-ttl=3"};
  EtcdServer etcd(options);
  enableAuth(etcd);
  survives(etcd, [] {});
}

TEST_CASE("auth: an etcd restart drops every simple token: registration and watch survive") {
  EtcdServer etcd;
  enableAuth(etcd);
  survives(etcd, [&etcd] {
    etcd.stop();
    etcd.start();
  });
}

TEST_CASE("auth: JWT tokens and an auth change (a user added): registration and watch survive") {
  sup_test::TempDir keys;
  const EtcdServerOptions options = esetcd::testing::jwtServerOptions(keys.path());
  EtcdServer etcd(options);
  enableAuth(etcd);
  survives(etcd, [&etcd] {
    REQUIRE(asRoot(etcd, "/v3/auth/user/add", R"({"name":"other","password":"x"})").status == 200);
  });
}

TEST_CASE("auth: a wrong password at start: exit 5 at once, nothing started or written") {
  EtcdServer etcd;
  enableAuth(etcd);
  for (const auto& [user, password] :
       {std::pair<std::string, std::string>{"es", "wrong"}, {"nobody", "n0pe"}}) {
    INFO("user " << user);
    sup_test::TempDir dir;
    Node a(dir, "node-a", "127.0.0.11", etcd, user, password);
    INFO("entrypoint log: " << a.log);
    // ETCD_START_TIMEOUT is 20 s: no retry.
    CHECK(a.process->waitExit(Millis(5000)) == 5);
    const std::string log = sup_test::readFile(a.log);
    CHECK(log.find("etcd refused this node") != std::string::npos);
    CHECK(log.find("nothing was started") != std::string::npos);
    CHECK(log.find("started " STANDIN_PATH) == std::string::npos);
    CHECK(log.find(password == "wrong" ? "ETCD_PASSWORD" : "readwrite") != std::string::npos);
    CHECK(log.find("\"" + password) == std::string::npos);
  }
  CHECK_FALSE(hasKey(etcd, kPrefix + "/127.0.0.11"));
}

TEST_CASE("auth: a permission revoked while running: one error, one line when it passes") {
  EtcdServer etcd;
  enableAuth(etcd);
  sup_test::TempDir dir;
  Node a(dir, "node-a", "127.0.0.11", etcd, "es", "es-pass");
  INFO("entrypoint log: " << a.log);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, a.key); }, Millis(8000)));

  REQUIRE(asRoot(etcd, "/v3/auth/user/revoke", R"({"name":"es","role":"es"})").status == 200);
  const std::string refused = "etcdserver: permission denied";
  REQUIRE(sup_test::waitUntil(
      [&] { return sup_test::readFile(a.log).find(refused) != std::string::npos; }, Millis(10000)));
  // Two more refresh rounds, each proved by the probe line (debug) that follows it on the one
  // monitor thread: three more probe lines mean the two rounds in between are complete.
  const size_t probes = sup_test::countIn(sup_test::readFile(a.log), "health probe: ");
  REQUIRE(sup_test::waitUntil(
      [&] { return sup_test::countIn(sup_test::readFile(a.log), "health probe: ") >= probes + 3; },
      Millis(20000)));
  const std::string during = sup_test::readFile(a.log);
  CHECK(sup_test::countIn(during, " E cannot refresh " + a.key) == 1);
  CHECK(during.find("the registration lapses within 10s") != std::string::npos);

  REQUIRE(asRoot(etcd, "/v3/auth/user/grant", R"({"user":"es","role":"es"})").status == 200);
  // Back: registered again (the lease lapsed meanwhile) or refreshed, and said so.
  REQUIRE(sup_test::waitUntil(
      [&] {
        const std::string log = sup_test::readFile(a.log);
        return hasKey(etcd, a.key) &&
               (log.find("refreshed " + a.key + " again") != std::string::npos ||
                sup_test::countIn(log, "registered " + a.key) >= 2);
      },
      Millis(12000)));
  ::kill(a.process->pid(), SIGTERM);
  CHECK(a.process->waitExit(Millis(8000)) == 143);
}
