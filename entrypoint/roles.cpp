#include "roles.hpp"

#include <algorithm>

#include "command.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

// The setting from the command line (last one wins), the env forms (when not empty), the file.
std::optional<std::string> lookup(const NodeSettingSources& sources, const std::string& name,
                                  std::string& source) {
  std::optional<std::string> fromCommand;
  for (const auto& setting : commandLineSettings(sources.command)) {
    if (setting.key != name) continue;
    fromCommand = setting.value;
    source = setting.arg;
  }
  if (fromCommand) return fromCommand;
  if (auto it = sources.env.find(name); it != sources.env.end() && !it->second.empty()) {
    source = "the environment (" + name + ")";
    return it->second;
  }
  if (auto it = sources.configFile.find(name); it != sources.configFile.end()) {
    source = "the settings file";
    return it->second;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> parseRoleList(const std::string& text) {
  std::string inner = trim(text);
  // The YAML flow form, also accepted on the command line by Elasticsearch.
  if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']')
    inner = inner.substr(1, inner.size() - 2);
  std::vector<std::string> roles;
  size_t start = 0;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    if (comma == std::string::npos) comma = inner.size();
    std::string role = trim(inner.substr(start, comma - start));
    start = comma + 1;
    if (!role.empty()) roles.push_back(role);
  }
  return roles;
}

bool rolesIncludeMaster(const std::vector<std::string>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](const std::string& role) {
    return role == "master" || role == "cluster_manager";
  });
}

NodeRoles nodeRoles(const NodeSettingSources& sources) {
  NodeRoles out;
  std::string source;
  if (auto text = lookup(sources, "node.roles", source)) {
    out.roles = parseRoleList(*text);
    out.masterEligible = rolesIncludeMaster(*out.roles);
    out.source = source;
    return out;
  }
  for (const char* legacy : {"node.master", "node.cluster_manager"}) {
    if (auto value = lookup(sources, legacy, source); value && *value == "false") {
      out.masterEligible = false;
      out.source = source;
    }
  }
  return out;
}

}  // namespace esetcd
