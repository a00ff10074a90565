// Roles: which roles the node runs with (node.roles) and whether it is master-eligible, read from
// its own settings the way Elasticsearch and OpenSearch read them. Only master-eligible nodes are
// candidates of the first bootstrap (docs/design.md, "First bootstrap"). Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node_api.hpp"

namespace esetcd {

struct NodeRoles {
  // node.roles as set; nullopt when it is not set (every default role, master included).
  std::optional<std::vector<std::string>> roles;
  bool masterEligible = true;
  std::string
      source;  // where the roles came from, for the log: "-Enode.roles", "elasticsearch.yml"
};

// "data, ingest" -> {"data", "ingest"}; "" -> {} (a coordinating-only node).
std::vector<std::string> parseRoleList(const std::string& text);

// master (Elasticsearch, OpenSearch 1.x) or cluster_manager (OpenSearch 2+) is among the roles.
bool rolesIncludeMaster(const std::vector<std::string>& roles);

// The node's roles from its settings: node.roles on the command line (any -E syntax) wins over
// the env forms (node.roles=..., ES_SETTING_NODE_ROLES; an empty env value is unset, as the
// official images skip it), which win over the settings file. Unset node.roles falls back to the
// legacy node.master / node.cluster_manager: false.
NodeRoles nodeRoles(const NodeSettingSources& sources);

}  // namespace esetcd
