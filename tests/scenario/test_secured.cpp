// The secured node, end to end with the real binary and a real etcd: a stand-in that serves HTTPS
// with a certificate from scripts/certs.sh and accepts one Authorization header, as a node with
// Elasticsearch 8's security does. The probe must find HTTPS and the CA by itself, authenticate
// with the image's own password, keep every secret out of logs, argv and the child's
// environment, and report a wrong password or an untrusted certificate once, not per probe.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;

namespace {

const std::string kKey = "/services/elasticsearch/127.0.0.11";
// Distinctive, so that finding it anywhere is unambiguous.
const std::string kPassword = "Zq7-elastic-secret";

bool hasKey(const EtcdServer& etcd, const std::string& key) {
  auto r = etcd.request("POST", "/v3/kv/range",
                        nlohmann::json{{"key", esetcd::codec::base64Encode(key)}}.dump());
  return r.status == 200 && nlohmann::json::parse(r.body).contains("kvs");
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + esetcd::codec::base64Encode(user + ":" + password);
}

size_t countLines(const std::string& path, const std::string& needle) {
  size_t n = 0;
  for (const auto& line : sup_test::readLines(path))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

// A node directory laid out like the official image's config dir after Elasticsearch 8's
// auto-configuration: HTTP TLS switched on in elasticsearch.yml (nested, as it writes it) and
// the HTTP CA at certs/http_ca.crt. Nothing tells the entrypoint "https" or where the CA is.
struct SecuredNode {
  SecuredNode(const sup_test::TempDir& dir, const esetcd::testing::TestPki& pki,
              const EtcdServer& etcd, const std::string& acceptedAuthorization,
              std::vector<std::string> extraEnv, const std::string& httpCa)
      : conf(dir.file("conf")), state(dir.file("state")), log(dir.file("entrypoint.log")) {
    ::mkdir(conf.c_str(), 0755);
    ::mkdir((conf + "/certs").c_str(), 0755);
    sup_test::writeFile(conf + "/elasticsearch.yml",
                        "cluster.name: docker-cluster\n"
                        "xpack.security.enabled: true\n"
                        "xpack.security.http.ssl:\n"
                        "  enabled: true\n"
                        "  key: certs/node.key\n");
    sup_test::writeFile(conf + "/certs/http_ca.crt", sup_test::readFile(httpCa));
    sup_test::writeFile(state, "healthy\n");
    const int port = freeLoopbackPort();
    sup_test::LaunchOptions options;
    options.output = log;
    options.env = {"DISCOVERY=on", "ETCD_ENDPOINTS=" + etcd.clientUrl(), "ETCD_TTL=3",
                   "ETCD_TIMEOUT=1s", "ES_VERSION=8.19.0", "ES_NODE_NAME=node-a",
                   "ES_PUBLISH_HOST=127.0.0.11", "ES_HTTP_PORT=" + std::to_string(port),
                   "ES_PATH_CONF=" + conf, "ES_PATH_DATA=" + dir.path(), "STATE_DIR=" + dir.path(),
                   "ES_PASS_SETTINGS=always", "ES_BOOTSTRAP_EXPECT=1", "HEALTH_INTERVAL=200ms",
                   // A TLS handshake on a loaded machine: more than the plain tests' 150 ms.
                   "HEALTH_TIMEOUT=1s", "HEALTH_FAILURES=2", "LOG_LEVEL=debug",
                   "STANDIN_TLS_CERT=" + pki.serverCert, "STANDIN_TLS_KEY=" + pki.serverKey,
                   "STANDIN_AUTHORIZATION=" + acceptedAuthorization};
    options.env.insert(options.env.end(), extraEnv.begin(), extraEnv.end());
    process.emplace(sup_test::launch(
        {ENTRYPOINT_PATH, "--", STANDIN_PATH, std::to_string(port), state}, options));
  }

  size_t requests() const { return sup_test::readLines(state + ".requests").size(); }

  // Waits until the stand-in has answered `more` requests beyond those answered so far: later
  // probes, each a chance to log again.
  bool waitForMoreProbes(size_t more) {
    const size_t target = requests() + more;
    return sup_test::waitUntil([&] { return requests() >= target; }, Millis(20000));
  }

  int stop() {
    ::kill(process->pid(), SIGTERM);
    auto code = process->waitExit(Millis(10000));
    return code ? *code : -1;
  }

  std::string conf, state, log;
  std::optional<sup_test::Running> process;
};

}  // namespace

TEST_CASE("secured node: https, its CA and the elastic password found with no probe settings") {
  esetcd::testing::TestDir dir;
  const auto pki = esetcd::testing::makeTestPki(dir.path());
  EtcdServer etcd;
  sup_test::TempDir nodeDir;
  sup_test::writeFile(nodeDir.file("etcd-password"), "Zq7-etcd-secret\n", 0600);
  SecuredNode node(
      nodeDir, pki, etcd, basic("elastic", kPassword),
      {"ELASTIC_PASSWORD=" + kPassword, "ETCD_PASSWORD_FILE=" + nodeDir.file("etcd-password")},
      pki.caFile);
  INFO("entrypoint log: " << node.log);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, kKey); }, Millis(15000)));
  const std::string log = sup_test::readFile(node.log);
  CHECK(log.find("health probe https://127.0.0.1:") != std::string::npos);
  CHECK(log.find("CA " + node.conf + "/certs/http_ca.crt") != std::string::npos);
  CHECK(log.find("as user \"elastic\"") != std::string::npos);

  // The child keeps the image's password (its start script needs it) and loses ours.
  const auto env = sup_test::readLines(node.state + ".env");
  auto inEnv = [&](const std::string& prefix) {
    for (const auto& e : env)
      if (e.rfind(prefix, 0) == 0) return true;
    return false;
  };
  CHECK(inEnv("ELASTIC_PASSWORD=" + kPassword));
  CHECK(inEnv("ES_PATH_CONF="));  // positive control: the dump is the child's environment
  CHECK_FALSE(inEnv("ETCD_PASSWORD_FILE="));
  REQUIRE(node.stop() == 143);
  CHECK_FALSE(hasKey(etcd, kKey));
  // Nowhere in our log or on the child's command line: neither secret, nor the header.
  const std::string all = sup_test::readFile(node.log) + sup_test::readFile(node.state + ".args");
  CHECK(all.find(kPassword) == std::string::npos);
  CHECK(all.find("Zq7-etcd-secret") == std::string::npos);
  CHECK(all.find(esetcd::codec::base64Encode("elastic:" + kPassword)) == std::string::npos);
}

TEST_CASE("secured node: a wrong password is logged once and the node never registers") {
  esetcd::testing::TestDir dir;
  const auto pki = esetcd::testing::makeTestPki(dir.path());
  EtcdServer etcd;
  sup_test::TempDir nodeDir;
  SecuredNode node(nodeDir, pki, etcd, basic("elastic", kPassword),
                   {"ELASTIC_PASSWORD=" + kPassword, "ES_HEALTH_PASSWORD=not-the-password"},
                   pki.caFile);
  INFO("entrypoint log: " << node.log);
  const std::string line =
      "health check failed: authentication failed for user \"elastic\" (HTTP 401)";
  REQUIRE(sup_test::waitUntil([&] { return countLines(node.log, line) > 0; }, Millis(15000)));
  // Ten more probes, each refused: still one line, and no registration.
  REQUIRE(node.waitForMoreProbes(10));
  CHECK(countLines(node.log, line) == 1);
  CHECK(countLines(node.state + ".requests", "401") >= 10);
  CHECK_FALSE(hasKey(etcd, kKey));
  CHECK(sup_test::readFile(node.log).find("not-the-password") == std::string::npos);
  bool passwordInChildEnv = false;
  for (const auto& e : sup_test::readLines(node.state + ".env"))
    if (e.rfind("ES_HEALTH_PASSWORD=", 0) == 0) passwordInChildEnv = true;
  CHECK_FALSE(passwordInChildEnv);
  CHECK(node.stop() == 143);
}

TEST_CASE("secured node: an API key is sent as ApiKey and registers the node") {
  esetcd::testing::TestDir dir;
  const auto pki = esetcd::testing::makeTestPki(dir.path());
  EtcdServer etcd;
  sup_test::TempDir nodeDir;
  sup_test::writeFile(nodeDir.file("api-key"),
                      "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n", 0600);
  SecuredNode node(nodeDir, pki, etcd,
                   "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
                   {"ES_HEALTH_API_KEY_FILE=" + nodeDir.file("api-key")}, pki.caFile);
  INFO("entrypoint log: " << node.log);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, kKey); }, Millis(15000)));
  CHECK(sup_test::readFile(node.log).find("as an API key") != std::string::npos);
  CHECK(sup_test::readFile(node.log).find("VnVhQ2ZH") == std::string::npos);
  CHECK(sup_test::readFile(node.state + ".env").find("ES_HEALTH_API_KEY") == std::string::npos);
  CHECK(node.stop() == 143);
}

TEST_CASE(
    "secured node: a certificate the CA did not sign fails TLS, named once, never registered") {
  esetcd::testing::TestDir dir;
  const auto pki = esetcd::testing::makeTestPki(dir.path());
  EtcdServer etcd;
  sup_test::TempDir nodeDir;
  // The node's http_ca.crt is another cluster's CA: the handshake must fail.
  SecuredNode node(nodeDir, pki, etcd, basic("elastic", kPassword),
                   {"ELASTIC_PASSWORD=" + kPassword}, pki.otherCaFile);
  INFO("entrypoint log: " << node.log);
  const std::string line = "health check failed: TLS handshake with https://127.0.0.1:";
  REQUIRE(sup_test::waitUntil([&] { return countLines(node.log, line) > 0; }, Millis(15000)));
  // The stand-in never sees a request; the probes show in the debug log, one line each.
  const std::string probeLine = "health probe: TLS handshake";
  const size_t target = countLines(node.log, probeLine) + 10;
  REQUIRE(sup_test::waitUntil([&] { return countLines(node.log, probeLine) >= target; },
                              Millis(20000)));
  CHECK(countLines(node.log, line) == 1);
  std::string failure;
  for (const auto& l : sup_test::readLines(node.log))
    if (l.find(line) != std::string::npos) failure = l;
  CHECK(failure.find("(CA file " + node.conf + "/certs/http_ca.crt)") != std::string::npos);
  CHECK_FALSE(sup_test::fileExists(node.state + ".requests"));
  CHECK_FALSE(hasKey(etcd, kKey));
  // Negative twin: the same node trusting the right CA registers.
  CHECK(node.stop() == 143);
  sup_test::TempDir goodDir;
  SecuredNode good(goodDir, pki, etcd, basic("elastic", kPassword),
                   {"ELASTIC_PASSWORD=" + kPassword}, pki.caFile);
  REQUIRE(sup_test::waitUntil([&] { return hasKey(etcd, kKey); }, Millis(15000)));
  CHECK(countLines(good.log, line) == 0);
  CHECK(good.stop() == 143);
}
