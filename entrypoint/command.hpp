// Command: what the command the entrypoint was given is — a start of Elasticsearch (or
// OpenSearch), which gets discovery, or any other program (bash, elasticsearch-keystore, ...),
// which is only supervised, as tini would. Decided the way the official images' entrypoints
// decide it. Pure; docs/entrypoint.md, "What DISCOVERY does".
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace esetcd {

// The official images' start script: with no command, the entrypoint runs it with "eswrapper".
inline constexpr const char* kImageStartScript = "/usr/local/bin/docker-entrypoint.sh";

struct CommandClass {
  bool startsNode = false;       // the command starts Elasticsearch or OpenSearch
  bool appendToDefault = false;  // empty, or options only: they follow the image's start command
  std::string reason;            // for the log: "bash is not a start command of the node"
};

// Classifies the command as given (before the default start command is put in front):
// - no command, or arguments that all begin with "-": the image's start command (with them);
// - a program whose base name is eswrapper, elasticsearch or opensearch;
// - the image's start script (docker-entrypoint.sh, opensearch-docker-entrypoint.sh) alone,
//   followed by one of those programs, or followed by options only;
// anything else is some other program.
CommandClass classifyCommand(const std::vector<std::string>& command);

struct DiscoveryChoice {
  bool discover = false;  // read etcd, announce, write seeds, probe, register
  std::string line;       // the one log line that says which and why
};

// DISCOVERY=on and off decide alone; auto follows the classification.
DiscoveryChoice chooseDiscovery(DiscoveryMode mode, const CommandClass& command);

}  // namespace esetcd
