// --plan with the real binary against a real etcd: it prints what a start would do (the peers it
// read, the bootstrap role, the command line, the seed file) and writes nothing: etcd's revision
// is the same before and after, and no key appears.
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

const std::string kPrefix = "/services/elasticsearch";

// etcd's current revision, from a range response's header.
long long revision(const EtcdServer& etcd) {
  auto r = etcd.request("POST", "/v3/kv/range",
                        nlohmann::json{{"key", esetcd::codec::base64Encode("/")}}.dump());
  return std::stoll(nlohmann::json::parse(r.body)["header"]["revision"].get<std::string>());
}

void putPeer(const EtcdServer& etcd, const std::string& host, const std::string& name) {
  etcd.request(
      "POST", "/v3/kv/put",
      nlohmann::json{{"key", esetcd::codec::base64Encode(kPrefix + "/" + host)},
                     {"value", esetcd::codec::base64Encode(
                                   R"({"transport_port":9300,"node_name":")" + name + R"("})")}}
          .dump());
}

struct PlanRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

PlanRun plan(const sup_test::TempDir& dir, const std::string& endpoints,
             const std::vector<std::string>& extraEnv) {
  ::mkdir(dir.file("data").c_str(), 0755);
  sup_test::LaunchOptions options;
  options.output = dir.file("plan.out");
  options.env = {"ETCD_ENDPOINTS=" + endpoints,
                 "ETCD_START_TIMEOUT=0",
                 "ES_VERSION=8.15.0",
                 "ES_NODE_NAME=node-a",
                 "ES_PUBLISH_HOST=127.0.0.11",
                 "ES_PATH_CONF=" + dir.path(),
                 "ES_PATH_DATA=" + dir.file("data"),
                 "STATE_DIR=" + dir.path(),
                 "ES_HOME=" + dir.file("no-such-home"),
                 "ES_HEALTH_PASSWORD=hunter2-secret",
                 "ES_BOOTSTRAP_EXPECT=1",
                 "cluster.name=logs"};
  options.env.insert(options.env.end(), extraEnv.begin(), extraEnv.end());
  auto run = sup_test::launch({ENTRYPOINT_PATH, "--plan", "--", "bin/elasticsearch", "-Expack.x=1"},
                              options);
  PlanRun out;
  out.code = run.waitExit(Millis(10000)).value_or(-1);
  out.out = sup_test::readFile(dir.file("plan.out"));
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("plan (--plan) against a running cluster: joins, seeds from its peers, writes nothing") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  putPeer(etcd, "127.0.0.12", "node-b");
  const auto before = revision(etcd);
  const auto keysBefore = etcd.keys();
  auto run = plan(dir, etcd.clientUrl(), {});
  INFO(run.out);
  CHECK(run.code == 0);
  CHECK(has(run.out, "registered peers:\n  127.0.0.12:9300 node-b\n"));
  CHECK(has(run.out, "bootstrap: join: a cluster exists"));
  CHECK(has(run.out, "command: bin/elasticsearch -Expack.x=1 -Enode.name=node-a"));
  CHECK(has(run.out, "-Ecluster.name=logs"));
  CHECK(has(run.out, "environment: removes cluster.name, ES_HEALTH_PASSWORD; adds nothing"));
  CHECK(has(run.out, "seed file " + dir.file("unicast_hosts.txt") + ":\n  127.0.0.12:9300\n"));
  CHECK(has(run.out, "ETCD_ENDPOINTS=" + etcd.clientUrl()));
  CHECK(has(run.out, "a start would run the command"));
  CHECK_FALSE(has(run.out, "hunter2"));
  // Read only: no write of any kind, and no file either.
  CHECK(revision(etcd) == before);
  CHECK(etcd.keys() == keysBefore);
  CHECK_FALSE(sup_test::fileExists(dir.file("unicast_hosts.txt")));
}

TEST_CASE(
    "plan (--plan) for the first node of a new cluster: the initial role, still nothing written") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  const auto before = revision(etcd);
  auto run = plan(dir, etcd.clientUrl(), {});
  INFO(run.out);
  CHECK(run.code == 0);
  CHECK(has(run.out,
            "bootstrap: initial: it would write the decision "
            "{\"initial_master_nodes\":[\"node-a\"]}"));
  CHECK(has(run.out, "-Ecluster.initial_master_nodes=node-a"));
  CHECK(
      has(run.out, "announcement /es-etcd-entrypoint/services/elasticsearch/announce/127.0.0.11"));
  CHECK(revision(etcd) == before);
  CHECK(etcd.keys().empty());

  // Two fresh nodes expected: it would wait, and says for what.
  auto waiting = plan(dir, etcd.clientUrl(), {"ES_BOOTSTRAP_EXPECT=2"});
  CHECK(waiting.code == 0);
  CHECK(has(waiting.out, "bootstrap: wait: 1 of 2 fresh master-eligible nodes announced"));
  CHECK(revision(etcd) == before);
}

TEST_CASE("plan (--plan): a name taken is exit 3, bad settings exit 2 before etcd is asked") {
  sup_test::TempDir dir;
  EtcdServer etcd;
  putPeer(etcd, "127.0.0.99", "node-a");
  const auto before = revision(etcd);
  auto taken = plan(dir, etcd.clientUrl(), {});
  INFO(taken.out);
  CHECK(taken.code == 3);
  CHECK(has(taken.out, "a start would exit 3: node name node-a is registered at 127.0.0.99:9300"));
  CHECK(revision(etcd) == before);

  const std::string dead = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  auto bad = plan(dir, dead, {"ETCD_TTL=1", "STATUS_ADDR=nowhere"});
  INFO(bad.out);
  CHECK(bad.code == 2);
  CHECK(has(bad.out, "ETCD_TTL (--etcd-ttl) = \"1\""));
  CHECK(has(bad.out, "STATUS_ADDR (--status-addr) = \"nowhere\""));
  CHECK_FALSE(has(bad.out, "cannot read peers"));
}
