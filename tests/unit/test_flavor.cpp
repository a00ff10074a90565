#include <catch2/catch.hpp>

#include "flavor.hpp"

using namespace esetcd;

namespace {
Flavor es(int major, int minor = 0) {
  return {Distribution::Elasticsearch, {major, minor, 0}};
}
Flavor os(int major) {
  return {Distribution::OpenSearch, {major, 0, 0}};
}
}  // namespace

TEST_CASE("versions parse with and without qualifiers") {
  auto v = parseVersion("8.15.3");
  REQUIRE(v);
  CHECK(v->major == 8);
  CHECK(v->minor == 15);
  CHECK(v->patch == 3);
  CHECK(parseVersion("2.18.0-SNAPSHOT"));
  CHECK_FALSE(parseVersion("8.15"));
  CHECK_FALSE(parseVersion("8.15.x"));
  CHECK_FALSE(parseVersion("v8.15.0"));
  CHECK_FALSE(parseVersion(""));
}

TEST_CASE("the flavor is detected from the server jar, not its siblings") {
  std::vector<std::string> es8 = {"elasticsearch-core-8.15.0.jar", "log4j-api-2.19.0.jar",
                                  "elasticsearch-8.15.0.jar", "elasticsearch-x-content-8.15.0.jar"};
  auto f = detectFlavor(es8, "auto");
  REQUIRE(f);
  CHECK(toString(*f) == "elasticsearch 8.15.0");
  auto o = detectFlavor({"opensearch-core-2.18.0.jar", "opensearch-2.18.0.jar"}, "auto");
  REQUIRE(o);
  CHECK(toString(*o) == "opensearch 2.18.0");
  CHECK_FALSE(detectFlavor({"opensearch-2.18.0.jar"}, "elasticsearch"));
  CHECK_FALSE(detectFlavor({"elasticsearch-core-8.15.0.jar"}, "auto"));
  CHECK_FALSE(detectFlavor({}, "auto"));
}

TEST_CASE("setting syntax follows the version") {
  CHECK(settingArg(es(1, 7), "node.name", "a") == "--node.name=a");
  CHECK(settingArg(es(2, 4), "node.name", "a") == "-Des.node.name=a");
  for (int major : {5, 6, 7, 8, 9})
    CHECK(settingArg(es(major), "node.name", "a") == "-Enode.name=a");
  CHECK(settingArg(os(1), "node.name", "a") == "-Enode.name=a");
  CHECK(settingArg(os(2), "node.name", "a") == "-Enode.name=a");
}

TEST_CASE("discovery and transport setting names follow the version") {
  CHECK_FALSE(usesSeedFile(es(6, 8)));
  CHECK(usesSeedFile(es(7)));
  CHECK(usesSeedFile(es(9)));
  CHECK(usesSeedFile(os(1)));
  CHECK(transportPortKey(es(6, 6)) == "transport.tcp.port");
  CHECK(transportPortKey(es(6, 7)) == "transport.port");
  CHECK(transportPortKey(os(2)) == "transport.port");
  CHECK(initialMastersKey(es(6, 8)).empty());
  CHECK(initialMastersKey(es(7)) == "cluster.initial_master_nodes");
  CHECK(initialMastersKey(es(9)) == "cluster.initial_master_nodes");
  CHECK(initialMastersKey(os(1)) == "cluster.initial_master_nodes");
  CHECK(initialMastersKey(os(2)) == "cluster.initial_cluster_manager_nodes");
}

TEST_CASE("the start script of each distribution") {
  CHECK(startScript(es(8)) == "bin/elasticsearch");
  CHECK(startScript(os(2)) == "bin/opensearch");
}
