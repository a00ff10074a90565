// What DISCOVERY decides, with the real binary and a real etcd (or a dead endpoint): a command
// that does not start the node is only supervised — no etcd request, nothing written, its own
// exit status, at once — and DISCOVERY=on brings the whole discovery path back.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "harness.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::freeLoopbackPort;
using sup_test::Millis;
using Clock = std::chrono::steady_clock;

namespace {

// The names in a directory, without "." and "..".
std::vector<std::string> dirEntries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

bool logHas(const std::string& log, const std::string& text) {
  return sup_test::readFile(log).find(text) != std::string::npos;
}

// The entrypoint with `command`, its node directories in `dir`, and no Elasticsearch anywhere:
// ES_HOME does not exist and ES_VERSION is not set.
sup_test::Running startWith(const sup_test::TempDir& dir, const std::vector<std::string>& env,
                            const std::vector<std::string>& command) {
  sup_test::LaunchOptions options;
  options.output = dir.file("entrypoint.log");
  options.env = {"ES_HOME=" + dir.file("no-such-home"),
                 "ES_PATH_CONF=" + dir.file("node"),
                 "ES_PATH_DATA=" + dir.file("node"),
                 "STATE_DIR=" + dir.file("node"),
                 "ES_PUBLISH_HOST=127.0.0.11",
                 "ES_NODE_NAME=node-a",
                 "LOG_LEVEL=debug"};
  options.env.insert(options.env.end(), env.begin(), env.end());
  std::vector<std::string> argv = {ENTRYPOINT_PATH, "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  ::mkdir(dir.file("node").c_str(), 0755);
  sup_test::writeFile(dir.file("node/.keep"), "");
  return sup_test::launch(argv, options);
}

std::string deadEndpoint() {
  return "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
}

}  // namespace

TEST_CASE("a command that does not start the node: etcd unreachable, its own status at once") {
  sup_test::TempDir dir;
  auto started = Clock::now();
  auto node = startWith(dir, {"ETCD_ENDPOINTS=" + deadEndpoint(), "ETCD_START_TIMEOUT=30s"},
                        {"/bin/sh", "-c", "exit 7"});
  auto code = node.waitExit(Millis(10000));
  auto took = std::chrono::duration_cast<Millis>(Clock::now() - started);
  std::string log = dir.file("entrypoint.log");
  INFO("entrypoint log:\n" << sup_test::readFile(log));
  REQUIRE(code);
  CHECK(*code == 7);
  WARN("sh -c 'exit 7' with an unreachable etcd exited after " << took.count() << " ms");
  CHECK(took < Millis(1000));
  CHECK(logHas(log, "discovery off (DISCOVERY=auto): /bin/sh does not start the node"));
  CHECK_FALSE(logHas(log, "cannot read peers"));
  CHECK_FALSE(logHas(log, "health"));
  // Nothing written: no seed file, no peer cache.
  CHECK(dirEntries(dir.file("node")) == std::vector<std::string>{".keep"});
}

TEST_CASE("DISCOVERY=on: the same command reads etcd first, retrying while it is unreachable") {
  sup_test::TempDir dir;
  auto node = startWith(dir,
                        {"DISCOVERY=on", "ES_VERSION=8.15.0", "ETCD_ENDPOINTS=" + deadEndpoint(),
                         "ETCD_START_TIMEOUT=30s"},
                        {"/bin/sh", "-c", "exit 7"});
  std::string log = dir.file("entrypoint.log");
  REQUIRE(sup_test::waitUntil([&] { return logHas(log, "retrying"); }, Millis(5000)));
  INFO("entrypoint log:\n" << sup_test::readFile(log));
  CHECK(logHas(log, "discovery on (DISCOVERY=on)"));
  CHECK(logHas(log, "cannot read peers from etcd (attempt 1)"));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);  // the command never ran
}

TEST_CASE("DISCOVERY=off: a start command of the node is only supervised, etcd never contacted") {
  sup_test::TempDir dir;
  // A stand-in start script: the classification goes by the base name.
  ::mkdir(dir.file("bin").c_str(), 0755);
  const std::string script = dir.file("bin/elasticsearch");
  sup_test::writeFile(script, "#!/bin/sh\nexit 5\n", 0755);
  auto node = startWith(dir, {"DISCOVERY=off", "ETCD_ENDPOINTS=" + deadEndpoint()}, {script});
  CHECK(node.waitExit(Millis(5000)) == 5);
  std::string log = dir.file("entrypoint.log");
  INFO("entrypoint log:\n" << sup_test::readFile(log));
  CHECK(logHas(log, "discovery off (DISCOVERY=off)"));
  CHECK_FALSE(logHas(log, "cannot read peers"));
  CHECK(dirEntries(dir.file("node")) == std::vector<std::string>{".keep"});
}

TEST_CASE("a reachable, empty etcd: sh -c 'exit 0' runs at once and etcd stays empty") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  auto node = startWith(dir, {"ETCD_ENDPOINTS=" + etcd.clientUrl()}, {"/bin/sh", "-c", "exit 0"});
  CHECK(node.waitExit(Millis(5000)) == 0);
  CHECK(etcd.keys().empty());

  // The negative twin: with DISCOVERY=on the same command is a node that announces itself and
  // waits for the first bootstrap (three nodes by default) instead of running.
  sup_test::TempDir onDir;
  auto on =
      startWith(onDir, {"DISCOVERY=on", "ES_VERSION=8.15.0", "ETCD_ENDPOINTS=" + etcd.clientUrl()},
                {"/bin/sh", "-c", "exit 0"});
  std::string log = onDir.file("entrypoint.log");
  REQUIRE(sup_test::waitUntil(
      [&] { return logHas(log, "waiting for the cluster's first bootstrap"); }, Millis(5000)));
  CHECK(etcd.keys() ==
        std::vector<std::string>{"/es-etcd-entrypoint/services/elasticsearch/announce/127.0.0.11"});
  ::kill(on.pid(), SIGTERM);
  CHECK(on.waitExit(Millis(5000)) == 143);
  CHECK(etcd.keys().empty());
}

namespace {

void putKey(const EtcdServer& etcd, const std::string& key, const std::string& value) {
  auto body = nlohmann::json{{"key", esetcd::codec::base64Encode(key)},
                             {"value", esetcd::codec::base64Encode(value)}};
  REQUIRE(etcd.request("POST", "/v3/kv/put", body.dump()).status == 200);
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("hostile registrations never reach the seed file, and each is reported once") {
  // The keys an audit wrote into a real etcd; each used to become a line of unicast_hosts.txt.
  const std::string prefix = "/services/elasticsearch/";
  const std::string record = R"({"transport_port": 9300})";
  const std::vector<std::string> hostile = {"10.0.0.2\nevil.example:9300\n#x", "10.0.0.3\r",
                                            "[10.0.0.2", "bad\xff\xfe", "[10.0.0.9:9400]"};
  sup_test::TempDir dir;
  EtcdServer etcd;
  for (const auto& host : hostile) putKey(etcd, prefix + host, record);
  putKey(etcd, prefix + "127.0.0.21", record);

  // A node with data (no bootstrap wait) that never turns healthy: unregistered, it lists the
  // prefix again on every change and every second, each time meeting the same bad keys.
  auto node =
      startWith(dir, {"DISCOVERY=on", "ES_VERSION=8.15.0", "ETCD_ENDPOINTS=" + etcd.clientUrl()},
                {"/bin/sleep", "60"});
  const std::string seeds = dir.file("node/unicast_hosts.txt");
  const std::string log = dir.file("entrypoint.log");
  INFO("entrypoint log: " << log);
  auto seedsHave = [&](const std::string& line) {
    auto lines = sup_test::readLines(seeds);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  REQUIRE(sup_test::waitUntil([&] { return seedsHave("127.0.0.21:9300"); }, Millis(5000)));
  // Two more peers: two more full listings that meet the bad keys again.
  putKey(etcd, prefix + "127.0.0.22", record);
  REQUIRE(sup_test::waitUntil([&] { return seedsHave("127.0.0.22:9300"); }, Millis(5000)));
  putKey(etcd, prefix + "127.0.0.23", record);
  REQUIRE(sup_test::waitUntil([&] { return seedsHave("127.0.0.23:9300"); }, Millis(5000)));

  CHECK(sup_test::readLines(seeds) ==
        std::vector<std::string>{"# Written by es-etcd-entrypoint from etcd; replaced when peers "
                                 "change.",
                                 "127.0.0.21:9300", "127.0.0.22:9300", "127.0.0.23:9300"});
  const std::string text = sup_test::readFile(log);
  CHECK(text.find("evil.example:9300\n") == std::string::npos);  // no forged log line either
  CHECK(occurrences(text, "skipping registration") == hostile.size());
  CHECK(occurrences(text, "skipping registration " + prefix + "10.0.0.2\\x0aevil.example") == 1);
  CHECK(occurrences(text, "skipping registration " + prefix + "bad\\xff\\xfe") == 1);

  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);
}

TEST_CASE("LOG_FORMAT=json: every line of ours is one JSON object, the child's pass untouched") {
  const std::string prefix = "/services/elasticsearch/";
  const std::string record = R"({"transport_port": 9300})";
  sup_test::TempDir dir;
  EtcdServer etcd;
  putKey(etcd, prefix + "10.0.0.2\nevil.example:9300", record);
  putKey(etcd, prefix + "127.0.0.21", record);
  auto node = startWith(dir,
                        {"DISCOVERY=on", "ES_VERSION=8.15.0", "LOG_FORMAT=json",
                         "ETCD_ENDPOINTS=" + etcd.clientUrl()},
                        {"/bin/sh", "-c", "echo 'the child, in its own words' >&2; exec sleep 60"});
  const std::string log = dir.file("entrypoint.log");
  INFO("entrypoint log: " << log);
  REQUIRE(sup_test::waitUntil([&] { return logHas(log, "the child, in its own words"); },
                              Millis(5000)));
  // A peer joins: the seed file changes, an event with the new peer list.
  putKey(etcd, prefix + "127.0.0.22", record);
  REQUIRE(sup_test::waitUntil([&] { return logHas(log, "\"seed-hosts-changed\""); }, Millis(5000)));
  ::kill(node.pid(), SIGTERM);
  CHECK(node.waitExit(Millis(5000)) == 143);

  size_t ours = 0;
  bool sawSkipped = false, sawSeeds = false;
  for (const auto& line : sup_test::readLines(log)) {
    INFO("line: " << line);
    if (line == "the child, in its own words") continue;
    auto doc = nlohmann::json::parse(line, nullptr, false);
    REQUIRE(doc.is_object());
    ++ours;
    CHECK(doc.contains("@timestamp"));
    CHECK(doc.contains("log.level"));
    CHECK(doc.contains("message"));
    CHECK(doc["process.pid"] == node.pid());
    if (doc.value("event.action", "") == "registration-skipped") {
      sawSkipped = true;
      CHECK(doc["key"] == prefix + "10.0.0.2\nevil.example:9300");
    }
    if (doc.value("event.action", "") == "seed-hosts-changed") {
      sawSeeds = true;
      CHECK(doc["peers"] == nlohmann::json::array({"127.0.0.21:9300", "127.0.0.22:9300"}));
    }
  }
  CHECK(ours >= 4);
  CHECK(sawSkipped);
  CHECK(sawSeeds);
}

TEST_CASE("a start of the node in a missing home: exit 2 naming the setting, nothing started") {
  // With ES_VERSION the version needs no lib/, but the start command is still the home's.
  for (const auto& extra : {std::vector<std::string>{}, {"ES_VERSION=8.15.0"}}) {
    sup_test::TempDir dir;
    auto node = startWith(dir, extra, {});
    CHECK(node.waitExit(Millis(5000)) == 2);
    std::string log = dir.file("entrypoint.log");
    INFO("entrypoint log:\n" << sup_test::readFile(log));
    CHECK(logHas(log, "ES_HOME = \"" + dir.file("no-such-home") + "\": no such directory"));
    CHECK_FALSE(logHas(log, "cannot read peers"));
  }
}

TEST_CASE("the OpenSearch layout: no command runs the home's start script with our settings") {
  sup_test::TempDir dir;
  // A home laid out as in the official OpenSearch image: its start script beside bin/ and lib/.
  // The stand-in script writes its arguments, one per line, and exits as the real one would
  // after OpenSearch stopped.
  const std::string home = dir.file("opensearch");
  for (const char* sub : {"", "/lib", "/bin"}) ::mkdir((home + sub).c_str(), 0755);
  sup_test::writeFile(home + "/lib/opensearch-2.19.6.jar", "");
  sup_test::writeFile(home + "/opensearch-docker-entrypoint.sh",
                      "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"$0.args\"\nexit 4\n", 0755);
  auto node = startWith(dir,
                        {"ES_HOME=" + home, "ETCD_ENDPOINTS=" + deadEndpoint(),
                         "ETCD_START_TIMEOUT=0", "ES_CLUSTER_NAME=logs"},
                        {});
  CHECK(node.waitExit(Millis(10000)) == 4);
  std::string log = dir.file("entrypoint.log");
  INFO("entrypoint log:\n" << sup_test::readFile(log));
  CHECK(logHas(log, "discovery on (DISCOVERY=auto): no command"));
  CHECK(logHas(log, "layout: home " + home + " (set by ES_HOME), config " + dir.file("node")));
  CHECK(logHas(log, "opensearch 2.19.6"));
  CHECK(logHas(log, "started " + home + "/opensearch-docker-entrypoint.sh opensearch -E"));
  std::string args = sup_test::readFile(home + "/opensearch-docker-entrypoint.sh.args");
  INFO("arguments:\n" << args);
  // The start word first, as the script expects it, then our settings.
  CHECK(args.rfind("opensearch\n", 0) == 0);
  CHECK(args.find("\n-Enode.name=node-a\n") != std::string::npos);
  CHECK(args.find("\n-Ecluster.name=logs\n") != std::string::npos);
  CHECK(args.find("\n-Enetwork.publish_host=127.0.0.11\n") != std::string::npos);
  CHECK(args.find("\n-Ediscovery.seed_providers=file\n") != std::string::npos);
}
