#include <catch2/catch.hpp>

#include <functional>

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
      // The official OpenSearch image's start script, at any path, with its start word or options.
      {{"/usr/share/opensearch/opensearch-docker-entrypoint.sh", "opensearch"}, true, false},
      {{"opensearch-docker-entrypoint.sh", "opensearch", "-Ecluster.name=c"}, true, false},
      {{"/opt/os/opensearch-docker-entrypoint.sh", "-Ecluster.name=c"}, true, false},
      {{"./opensearch-docker-entrypoint.sh", "-E", "node.name=x", "-Ea=b"}, true, false},
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
      // Its negative twins: the script runs anything else unchanged.
      {"/usr/share/opensearch/opensearch-docker-entrypoint.sh", "bash"},
      {"./opensearch-docker-entrypoint.sh", "opensearch-plugin", "list"},
      {"opensearch-docker-entrypoint.sh", "-Ea=b", "bash"},
      {"/usr/share/opensearch/opensearch-docker-entrypoint.sh.orig", "opensearch"},
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

TEST_CASE("node settings are read from every command-line syntax") {
  auto got = commandLineSettings({"bin/elasticsearch", "-Enode.name=a", "-E", "cluster.name=b",
                                  "-Des.http.port=9201", "--transport.tcp.port=9301", "--pidfile=x",
                                  "-d", "-Enothing", "-E"});
  REQUIRE(got.size() == 4);
  CHECK(got[0].key == "node.name");
  CHECK(got[0].value == "a");
  CHECK(got[0].arg == "-Enode.name=a");
  CHECK(got[1].key == "cluster.name");
  CHECK(got[1].arg == "-E cluster.name=b");
  CHECK(got[2].key == "http.port");
  CHECK(got[3].key == "transport.tcp.port");
  CHECK(commandLineSettings({"bash", "-c", "echo -Enode.name=x"}).empty());
}

namespace {

NodeSettings ourSettings() {
  NodeSettings s;
  s.self = {"ours", "10.0.0.1", 9200, 9300, std::nullopt, true};
  s.clusterName = "our-cluster";
  s.transportBindPort = 9300;
  return s;
}

bool anyError(const MergedSettings& m, const std::string& text) {
  for (const auto& e : m.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("settings the user gives on the command line are adopted and not appended") {
  struct Adopt {
    Argv command;
    std::string key;
    std::function<bool(const NodeSettings&)> holds;
  };
  const std::vector<Adopt> cases = {
      {{"bin/elasticsearch", "-Enode.name=mine"},
       "node.name",
       [](const NodeSettings& s) { return s.self.nodeName == "mine"; }},
      {{"bin/elasticsearch", "-Ecluster.name=logs"},
       "cluster.name",
       [](const NodeSettings& s) { return s.clusterName == "logs"; }},
      {{"bin/elasticsearch", "-Enetwork.publish_host=10.9.9.9"},
       "network.publish_host",
       [](const NodeSettings& s) { return s.self.publishHost == "10.9.9.9"; }},
      {{"bin/elasticsearch", "-Ehttp.port=9201"},
       "http.port",
       [](const NodeSettings& s) { return s.self.httpPort == 9201; }},
      {{"bin/elasticsearch", "-Etransport.port=9301"},
       "transport.port",
       [](const NodeSettings& s) {
         return s.transportBindPort == 9301 && s.self.transportPort == 9301;
       }},
      {{"bin/elasticsearch", "-Etransport.publish_port=19300"},
       "transport.publish_port",
       [](const NodeSettings& s) {
         return s.transportBindPort == 9300 && s.self.transportPort == 19300;
       }},
      {{"bin/elasticsearch", "-Ediscovery.type=single-node"},
       "discovery.type",
       [](const NodeSettings& s) { return s.singleNode; }},
      {{"/usr/local/bin/docker-entrypoint.sh", "eswrapper", "-E", "node.name=spaced"},
       "node.name",
       [](const NodeSettings& s) { return s.self.nodeName == "spaced"; }},
  };
  for (const auto& c : cases) {
    INFO("command: " << Catch::Detail::stringify(c.command));
    MergedSettings m = mergeCommandSettings(c.command, ourSettings(), true);
    CHECK(m.errors.empty());
    CHECK(m.userKeys.count(c.key) == 1);
    CHECK(c.holds(m.settings));
    CHECK(m.adopted.size() == 1);
  }
}

TEST_CASE("without those settings on the command line, ours stay and all are appended") {
  const std::vector<Argv> cases = {
      {"bin/elasticsearch"},
      {"bin/elasticsearch", "-Enode.attr.zone=a", "-Epath.data=/d", "-Ecluster.routing.x=1"},
      {"bin/elasticsearch", "-Enode.names=x", "-Ehttp.port.x=1", "-Ediscovery.type=multi-node"},
      {"bash", "-c", "bin/elasticsearch -Enode.name=x"},
  };
  for (const auto& command : cases) {
    INFO("command: " << Catch::Detail::stringify(command));
    MergedSettings m = mergeCommandSettings(command, ourSettings(), true);
    CHECK(m.errors.empty());
    CHECK(m.userKeys.empty());
    CHECK(m.settings.self.nodeName == "ours");
    CHECK(m.settings.self.httpPort == 9200);
    CHECK(m.settings.clusterName == "our-cluster");
    CHECK_FALSE(m.settings.singleNode);
  }
  // A transport publish port set apart stays when only the bound port is given.
  NodeSettings mapped = ourSettings();
  mapped.self.transportPort = 19300;
  auto m = mergeCommandSettings({"x", "-Etransport.port=9301"}, mapped, true);
  CHECK(m.settings.transportBindPort == 9301);
  CHECK(m.settings.self.transportPort == 19300);
}

TEST_CASE("settings that contradict etcd discovery are errors naming the argument") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"-Ediscovery.seed_hosts=10.0.0.9", "discovery.seed_hosts"},
      {"-Ediscovery.seed_providers=ec2", "discovery.seed_providers"},
      {"-Ediscovery.type=zen", "discovery.type"},
      {"-Ediscovery.zen.ping.unicast.hosts=a", "discovery.zen.ping.unicast.hosts"},
      {"-Ecluster.initial_master_nodes=a,b,c", "cluster.initial_master_nodes"},
      {"-Ecluster.initial_cluster_manager_nodes=a", "cluster.initial_cluster_manager_nodes"},
      {"-Ehttp.port=9200-9300", "not a range"},
      {"-Etransport.port=93a0", "one port number"},
      {"-Enetwork.publish_host=a,b", "one IP address or DNS name"},
      {"-Enetwork.publish_host=_site_", "one IP address or DNS name"},
      {"-Enode.name=", "must not be empty"},
  };
  for (const auto& [arg, why] : cases) {
    INFO("argument: " << arg);
    MergedSettings m = mergeCommandSettings({"bin/elasticsearch", arg}, ourSettings(), true);
    REQUIRE(m.errors.size() == 1);
    CHECK(anyError(m, "\"" + arg + "\""));
    CHECK(anyError(m, why));
  }
  // Their twins: when the entrypoint appends no discovery settings (ES_PASS_SETTINGS=never),
  // the user's own discovery settings are theirs to give.
  CHECK(mergeCommandSettings({"x", "-Ediscovery.seed_providers=file"}, ourSettings(), false)
            .errors.empty());
  CHECK(mergeCommandSettings({"x", "-Ecluster.initial_master_nodes=a"}, ourSettings(), false)
            .errors.empty());
}

TEST_CASE("adopted command-line values are checked like our settings") {
  auto m = mergeCommandSettings({"bin/elasticsearch", "-Enode.name=x\xff"}, ourSettings(), true);
  REQUIRE(m.errors.size() == 1);
  CHECK(anyError(m, "\"-Enode.name=x\\xff\""));
  CHECK(anyError(m, "UTF-8"));
  CHECK(anyError(mergeCommandSettings({"x", "-Ecluster.name=a\tb"}, ourSettings(), false),
                 "control characters"));
  CHECK(mergeCommandSettings({"x", "-Enode.name=nœud"}, ourSettings(), true).errors.empty());
}
