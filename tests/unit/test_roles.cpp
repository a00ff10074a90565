#include <catch2/catch.hpp>

#include "node_api.hpp"
#include "roles.hpp"

using namespace esetcd;

namespace {

using Roles = std::vector<std::string>;

NodeSettingSources fromCommand(std::vector<std::string> command) {
  NodeSettingSources s;
  s.command = std::move(command);
  return s;
}

}  // namespace

TEST_CASE("role lists: comma-separated, the flow form, empty") {
  CHECK(parseRoleList("data,ingest") == Roles{"data", "ingest"});
  CHECK(parseRoleList(" data , ingest ") == Roles{"data", "ingest"});
  CHECK(parseRoleList("[master, data]") == Roles{"master", "data"});
  CHECK(parseRoleList("").empty());
  CHECK(parseRoleList("[]").empty());
  CHECK(parseRoleList(" , ").empty());
}

TEST_CASE("master-eligible: master, or OpenSearch's cluster_manager") {
  CHECK(rolesIncludeMaster({"master"}));
  CHECK(rolesIncludeMaster({"data", "cluster_manager"}));
  CHECK_FALSE(rolesIncludeMaster({"data", "ingest"}));
  CHECK_FALSE(rolesIncludeMaster({"voting_only"}));  // voting_only needs master as well
  CHECK_FALSE(rolesIncludeMaster({"masters"}));
  CHECK_FALSE(rolesIncludeMaster({}));
}

TEST_CASE("node roles from each source, in Elasticsearch's order") {
  struct Case {
    NodeSettingSources sources;
    std::optional<Roles> roles;
    bool masterEligible;
  };
  NodeSettingSources yaml;
  yaml.configFile = flattenYaml("node.roles: [ data, ingest ]\n");
  NodeSettingSources block;
  block.configFile = flattenYaml("node:\n  roles:\n    - cluster_manager\n    - data\n");
  NodeSettingSources coordinating;
  coordinating.configFile = flattenYaml("node.roles: []\n");
  NodeSettingSources env;
  env.env = {{"node.roles", "data"}};
  env.configFile = {{"node.roles", "master"}};
  NodeSettingSources emptyEnv;  // the official images skip empty values
  emptyEnv.env = {{"node.roles", ""}};
  emptyEnv.configFile = {{"node.roles", "data"}};
  NodeSettingSources commandWins = fromCommand({"bin/elasticsearch", "-Enode.roles=master,data"});
  commandWins.env = {{"node.roles", "data"}};
  NodeSettingSources legacy;
  legacy.configFile = {{"node.master", "false"}};
  NodeSettingSources legacyOs;
  legacyOs.env = {{"node.cluster_manager", "false"}};
  const std::vector<Case> cases = {
      {{}, std::nullopt, true},
      {yaml, Roles{"data", "ingest"}, false},
      {block, Roles{"cluster_manager", "data"}, true},
      {coordinating, Roles{}, false},
      {env, Roles{"data"}, false},
      {emptyEnv, Roles{"data"}, false},
      {commandWins, Roles{"master", "data"}, true},
      {fromCommand({"x", "-Enode.roles="}), Roles{}, false},
      {fromCommand({"x", "-E", "node.roles=ingest"}), Roles{"ingest"}, false},
      {fromCommand({"x", "-Enode.roles=[master]"}), Roles{"master"}, true},
      {legacy, std::nullopt, false},
      {legacyOs, std::nullopt, false},
      {fromCommand({"x", "-Enode.master=true"}), std::nullopt, true},
  };
  int i = 0;
  for (const auto& c : cases) {
    INFO("case " << i++);
    NodeRoles got = nodeRoles(c.sources);
    CHECK(got.roles == c.roles);
    CHECK(got.masterEligible == c.masterEligible);
  }
  CHECK(nodeRoles(commandWins).source == "-Enode.roles=master,data");
}
