#include <catch2/catch.hpp>

#include "command.hpp"

using namespace esetcd;

namespace {

using Argv = std::vector<std::string>;

struct Case {
  Argv command;
  bool startsNode;
  bool appendToDefault;
};

}  // namespace

TEST_CASE("commands that start the node, as the official entrypoints see them") {
  const std::vector<Case> cases = {
      {{}, true, true},
      {{"eswrapper"}, true, false},
      {{"/usr/local/bin/eswrapper"}, true, false},
      {{"elasticsearch"}, true, false},
      {{"bin/elasticsearch", "-Enode.name=x"}, true, false},
      {{"/usr/share/elasticsearch/bin/elasticsearch"}, true, false},
      {{"/usr/share/opensearch/bin/opensearch", "-Ecluster.name=c"}, true, false},
      {{"/usr/local/bin/docker-entrypoint.sh"}, true, false},
      {{"/usr/local/bin/docker-entrypoint.sh", "eswrapper"}, true, false},
      {{"/usr/local/bin/docker-entrypoint.sh", "elasticsearch", "-Ea=b"}, true, false},
      {{"/usr/local/bin/docker-entrypoint.sh", "bin/opensearch"}, true, false},
      {{"/usr/local/bin/docker-entrypoint.sh", "-Ea=b", "-Ec=d"}, true, false},
      {{"./opensearch-docker-entrypoint.sh"}, true, false},
      {{"-Ecluster.name=x"}, true, true},
      {{"-Ecluster.name=x", "-Enode.name=y"}, true, true},
      {{"-E", "cluster.name=x"}, true, true},
  };
  for (const auto& c : cases) {
    INFO("command: " << Catch::Detail::stringify(c.command));
    CommandClass got = classifyCommand(c.command);
    CHECK(got.startsNode == c.startsNode);
    CHECK(got.appendToDefault == c.appendToDefault);
    CHECK_FALSE(got.reason.empty());
  }
}

TEST_CASE("any other command is only supervised") {
  const std::vector<Argv> cases = {
      {"bash"},
      {"/bin/bash", "-c", "exit 7"},
      {"/bin/sh", "-c", "exit 0"},
      {"bin/elasticsearch-keystore", "list"},
      {"elasticsearch-certutil", "ca"},
      {"/usr/share/elasticsearch/bin/elasticsearch-plugin", "install", "x"},
      {"elasticsearch.sh"},
      {"/usr/local/bin/docker-entrypoint.sh", "bash"},
      {"/usr/local/bin/docker-entrypoint.sh", "elasticsearch-keystore", "list"},
      {"/usr/local/bin/docker-entrypoint.sh", "-Ea=b", "bash"},
      {"-Ecluster.name=x", "bash"},
      {"-E", "cluster.name=x", "bash"},
      {"my-docker-entrypoint.sh"},
  };
  for (const auto& command : cases) {
    INFO("command: " << Catch::Detail::stringify(command));
    CommandClass got = classifyCommand(command);
    CHECK_FALSE(got.startsNode);
    CHECK_FALSE(got.appendToDefault);
    CHECK(got.reason.find(command[0]) != std::string::npos);
  }
}

TEST_CASE("DISCOVERY: on and off decide alone, auto follows the command") {
  CommandClass node = classifyCommand({"eswrapper"});
  CommandClass tool = classifyCommand({"bash"});
  CHECK(chooseDiscovery(DiscoveryMode::Auto, node).discover);
  CHECK_FALSE(chooseDiscovery(DiscoveryMode::Auto, tool).discover);
  CHECK(chooseDiscovery(DiscoveryMode::On, tool).discover);
  CHECK(chooseDiscovery(DiscoveryMode::On, node).discover);
  CHECK_FALSE(chooseDiscovery(DiscoveryMode::Off, node).discover);
  CHECK_FALSE(chooseDiscovery(DiscoveryMode::Off, tool).discover);
  // One line says which and why.
  auto line = chooseDiscovery(DiscoveryMode::Auto, tool).line;
  CHECK(line.find("discovery off (DISCOVERY=auto)") == 0);
  CHECK(line.find("bash does not start the node") != std::string::npos);
  CHECK(chooseDiscovery(DiscoveryMode::Off, node).line.find("DISCOVERY=off") != std::string::npos);
  CHECK(chooseDiscovery(DiscoveryMode::On, tool).line.find("discovery on (DISCOVERY=on)") == 0);
}
