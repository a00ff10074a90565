#include <catch2/catch.hpp>

#include <set>

#include "layout.hpp"

using namespace esetcd;

namespace {

using Tree = std::set<std::string>;

// A probe over a literal file tree: the paths listed, and every directory above them.
PathTest in(const Tree& tree) {
  return [tree](const std::string& path) {
    for (const auto& p : tree)
      if (p == path || p.rfind(path + "/", 0) == 0) return true;
    return false;
  };
}

const std::string kEsHome = "/usr/share/elasticsearch";
const std::string kOsHome = "/usr/share/opensearch";

}  // namespace

TEST_CASE("the home is detected from the image's layout") {
  struct Case {
    const char* image;
    Tree tree;
    std::string home;
    bool found;
    const char* reasonHas;
  };
  const std::vector<Case> cases = {
      {"official Elasticsearch",
       {kEsHome + "/bin/elasticsearch", kEsHome + "/config"},
       kEsHome,
       true,
       "/usr/share/elasticsearch/bin/elasticsearch exists"},
      {"official OpenSearch",
       {kOsHome + "/bin/opensearch", kOsHome + "/opensearch-docker-entrypoint.sh"},
       kOsHome,
       true,
       "/usr/share/opensearch/bin/opensearch exists; /usr/share/elasticsearch does not exist"},
      // The earlier stand-in linked /usr/share/elasticsearch to the OpenSearch home.
      {"OpenSearch behind an elasticsearch link",
       {kEsHome + "/bin/opensearch", kOsHome + "/bin/opensearch"},
       kEsHome,
       true,
       "/usr/share/elasticsearch/bin/opensearch exists"},
      // An empty /usr/share/elasticsearch (a volume mounted there) loses to a real installation.
      {"empty elasticsearch dir beside OpenSearch",
       {kEsHome + "/data", kOsHome + "/bin/opensearch"},
       kOsHome,
       true,
       "/usr/share/opensearch/bin/opensearch exists; /usr/share/elasticsearch holds neither"},
      {"homes without bin/", {kOsHome + "/config"}, kOsHome, true, "without bin/"},
      {"no installation (a tools image)",
       {"/usr/bin/bash"},
       kEsHome,
       false,
       "neither /usr/share/elasticsearch nor /usr/share/opensearch exists"},
  };
  for (const auto& c : cases) {
    INFO(c.image);
    HomeChoice got = detectHome(in(c.tree));
    CHECK(got.home == c.home);
    CHECK(got.found == c.found);
    CHECK_THAT(got.reason, Catch::Contains(c.reasonHas));
  }
}

TEST_CASE("the image's start command follows its layout") {
  const std::string osScript = kOsHome + "/opensearch-docker-entrypoint.sh";
  const std::string esScript = "/usr/local/bin/docker-entrypoint.sh";
  struct Case {
    const char* image;
    std::string home;
    Tree executables;
    std::vector<std::string> command;
  };
  const std::vector<Case> cases = {
      {"official Elasticsearch", kEsHome, {esScript}, {esScript, "eswrapper"}},
      {"official OpenSearch", kOsHome, {osScript}, {osScript, "opensearch"}},
      // The OpenSearch script belongs to the home that was chosen.
      {"both scripts, OpenSearch home", kOsHome, {osScript, esScript}, {osScript, "opensearch"}},
      {"both scripts, Elasticsearch home", kEsHome, {osScript, esScript}, {esScript, "eswrapper"}},
      {"OpenSearch script of another home", "/opt/opensearch", {osScript}, {}},
      {"no start script", kOsHome, {kOsHome + "/bin/opensearch"}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.image);
    CHECK(imageStartCommand(c.home, in(c.executables)) == c.command);
  }
}
