// Command: what the command the entrypoint was given is — a start of Elasticsearch (or
// OpenSearch), which gets discovery, or any other program (bash, elasticsearch-keystore, ...),
// which is only supervised, as tini would, decided the way the official images' entrypoints
// decide it — and which of the node's settings it already carries. Pure; docs/entrypoint.md,
// "What DISCOVERY does" and "Settings on the command line".
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "peers.hpp"

namespace esetcd {

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

// One node setting on the command line: -Ekey=value, -E key=value, -Des.key=value (2.x) or
// --key.with.dots=value (1.x). `arg` is the argument as written, for error messages.
struct CommandLineSetting {
  std::string key;
  std::string value;
  std::string arg;
};

// The node settings the command gives, in order.
std::vector<CommandLineSetting> commandLineSettings(const std::vector<std::string>& command);

// What the entrypoint would give the node, before the command line is read.
struct NodeSettings {
  Identity self;  // node name, publish host, HTTP port, published transport port
  std::string clusterName;
  int transportBindPort = 9300;
  bool singleNode = false;
};

struct MergedSettings {
  NodeSettings settings;             // ours, with the user's values adopted
  std::set<std::string> userKeys;    // settings the command gives itself: never appended again
  std::vector<std::string> adopted;  // "node.name=x", for the log
  std::vector<std::string> errors;   // each names the argument
};

// Settings on the command line win: node.name, network.publish_host, http.port, transport.port
// (transport.tcp.port before 6.7), transport.publish_port and cluster.name are adopted — they
// are the values registered and probed — and not appended a second time (Elasticsearch refuses
// a setting given twice). With `appendingDiscovery` (the entrypoint appends its discovery
// settings), discovery.* other than discovery.type=single-node and the initial master settings
// contradict discovery through etcd: an error each. A value that is not one port, or not one
// host, is an error too.
MergedSettings mergeCommandSettings(const std::vector<std::string>& command,
                                    const NodeSettings& ours, bool appendingDiscovery);

}  // namespace esetcd
