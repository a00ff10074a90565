#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "peers.hpp"
#include "seed_file.hpp"

using namespace esetcd;

namespace {
const std::string kDir = "/services/elasticsearch";
Identity self() {
  return {"es-1", "10.0.0.1", 9200, 9300, std::nullopt, true};
}
}  // namespace

TEST_CASE("the seed sidecar's records are understood") {
  auto peer =
      parsePeer(kDir, {kDir + "/172.17.8.103", R"({"http_port": 9200, "transport_port": 9300})"});
  REQUIRE(peer);
  CHECK(peer->host == "172.17.8.103");
  CHECK(peer->transportPort == 9300);
  CHECK(peer->httpPort == 9200);
  CHECK(peer->nodeName.empty());
}

TEST_CASE("our own records round-trip through parsePeer") {
  Flavor f{Distribution::Elasticsearch, {8, 15, 0}};
  std::string value = registrationValue(self(), f, "logs");
  auto doc = nlohmann::json::parse(value);
  CHECK(doc["http_port"] == 9200);
  CHECK(doc["transport_port"] == 9300);
  CHECK(doc["node_name"] == "es-1");
  CHECK(doc["version"] == "8.15.0");
  CHECK(doc["distribution"] == "elasticsearch");
  CHECK(doc["cluster_name"] == "logs");
  auto peer = parsePeer(kDir, {registrationKey(kDir, self()), value});
  REQUIRE(peer);
  CHECK(peer->host == "10.0.0.1");
  CHECK(peer->nodeName == "es-1");
  CHECK(peer->clusterName == "logs");
  CHECK(peer->masterEligible);
  // Roles unset: no list, master-eligible.
  CHECK_FALSE(doc.contains("roles"));
  CHECK(doc["master_eligible"] == true);
}

TEST_CASE("the registration carries the roles, and master eligibility is read back") {
  Flavor f{Distribution::OpenSearch, {2, 19, 0}};
  Identity data = self();
  data.roles = std::vector<std::string>{"data", "ingest"};
  data.masterEligible = false;
  auto doc = nlohmann::json::parse(registrationValue(data, f, ""));
  CHECK(doc["roles"] == nlohmann::json::array({"data", "ingest"}));
  CHECK(doc["master_eligible"] == false);
  auto peer = parsePeer(kDir, {registrationKey(kDir, data), doc.dump()});
  REQUIRE(peer);
  CHECK_FALSE(peer->masterEligible);
  Identity coordinating = self();
  coordinating.roles = std::vector<std::string>{};
  coordinating.masterEligible = false;
  CHECK(nlohmann::json::parse(registrationValue(coordinating, f, ""))["roles"] ==
        nlohmann::json::array());
  // Records without master_eligible: from the roles, else master-eligible (the seed's, ours
  // before roles were recorded).
  auto byRoles = [&](const char* value) {
    const auto parsed = parsePeer(kDir, {kDir + "/10.0.0.9", value});
    REQUIRE(parsed);
    return parsed->masterEligible;
  };
  CHECK(byRoles(R"({"transport_port":9300,"roles":["cluster_manager"]})"));
  CHECK_FALSE(byRoles(R"({"transport_port":9300,"roles":["data"]})"));
  CHECK_FALSE(byRoles(R"({"transport_port":9300,"roles":[]})"));
  CHECK(byRoles(R"({"transport_port":9300})"));
}

TEST_CASE("malformed registrations are skipped with the key named") {
  std::vector<KeyValue> kvs = {
      {kDir + "/10.0.0.2", R"({"transport_port": 9300})"},
      {kDir + "/10.0.0.3", "not json"},
      {kDir + "/10.0.0.4", R"({"transport_port": 70000})"},
      {kDir + "/10.0.0.5", R"({"transport_port": "9301"})"},
      {kDir + "/10.0.0.6", R"({"something": "else"})"},
      {kDir + "/a/b", R"({"transport_port": 9300})"},
      {kDir + "/10.0.0.7", R"([9300])"},
      {kDir + "/10.0.0.8", R"({"transport_port": -1})"},
  };
  std::vector<std::string> warnings;
  auto peers = parsePeers(kDir, kvs, warnings);
  REQUIRE(peers.size() == 2);
  CHECK(peers[0].host == "10.0.0.2");
  CHECK(peers[1].transportPort == 9301);
  REQUIRE(warnings.size() == 6);
  CHECK(warnings[0].find(kDir + "/10.0.0.3") != std::string::npos);
  CHECK(warnings[1].find("70000") != std::string::npos);
}

TEST_CASE("seed hosts: sorted, unique, own address excluded, IPv6 bracketed, ports kept") {
  std::vector<Peer> peers = {
      {"k", "10.0.0.9", 9200, 9300, "", ""},    {"k", "10.0.0.1", 9200, 9300, "es-1", ""},
      {"k", "10.0.0.2", 9200, 9301, "", ""},    {"k", "fd00::5", 9200, 9300, "", ""},
      {"k", "10.0.0.9", 9200, 9300, "dup", ""}, {"k", "10.0.0.1", 9200, 9305, "other", ""},
  };
  auto seeds = seedHosts(peers, self());
  CHECK(seeds == std::vector<std::string>{"10.0.0.1:9305", "10.0.0.2:9301", "10.0.0.9:9300",
                                          "[fd00::5]:9300"});
}

TEST_CASE("bracketed IPv6 keys are accepted") {
  auto peer = parsePeer(kDir, {kDir + "/[fd00::7]", R"({"transport_port": 9300})"});
  REQUIRE(peer);
  CHECK(peer->host == "fd00::7");
  CHECK(hostPort(peer->host, 9300) == "[fd00::7]:9300");
}

TEST_CASE("the seed file has clean lines and reads back") {
  std::string text = seedFileText({"10.0.0.2:9300", "[fd00::5]:9300"});
  CHECK(text ==
        "# Written by es-etcd-entrypoint from etcd; replaced when peers change.\n"
        "10.0.0.2:9300\n[fd00::5]:9300\n");
  CHECK(parseSeedFileText(text) == std::vector<std::string>{"10.0.0.2:9300", "[fd00::5]:9300"});
  CHECK(parseSeedFileText("\n# c\n a:1\nb:2") == std::vector<std::string>{"b:2"});
  CHECK(seedFileText({}).find('\n') == seedFileText({}).size() - 1);
}

TEST_CASE("a live registration with our name at another address is a conflict") {
  std::vector<Peer> same = {{"k", "10.0.0.1", 9200, 9300, "es-1", ""}};
  CHECK_FALSE(nodeNameConflict(same, self()));
  std::vector<Peer> other = {{"k", "10.0.0.7", 9200, 9300, "es-1", ""}};
  auto conflict = nodeNameConflict(other, self());
  REQUIRE(conflict);
  CHECK(conflict->host == "10.0.0.7");
  std::vector<Peer> seedRecord = {{"k", "10.0.0.7", 9200, 9300, "", ""}};
  CHECK_FALSE(nodeNameConflict(seedRecord, self()));
}
