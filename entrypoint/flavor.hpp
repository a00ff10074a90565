// Flavor: which Elasticsearch (or OpenSearch) this is, and the version rules that follow from it:
// how settings are written on the command line and which discovery settings exist.
// All pure; see docs/design.md for the sources of each rule.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace esetcd {

enum class Distribution { Elasticsearch, OpenSearch };

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  bool operator<(const Version& o) const;
  bool atLeast(int maj, int min = 0) const { return !(*this < Version{maj, min, 0}); }
};

struct Flavor {
  Distribution distribution = Distribution::Elasticsearch;
  Version version;
};

// "8.15.0", "7.17.25", "2.18.0-SNAPSHOT" (qualifier ignored); nullopt when not a version.
std::optional<Version> parseVersion(const std::string& text);

std::string toString(const Flavor& flavor);  // "elasticsearch 8.15.0"

// Finds the flavor from the file names in ES_HOME/lib: elasticsearch-<ver>.jar or
// opensearch-<ver>.jar. `wanted` narrows the search ("auto" accepts both).
std::optional<Flavor> detectFlavor(const std::vector<std::string>& libFileNames,
                                   const std::string& wanted);

// One setting in the command-line syntax of that version: "--k=v" (1.x), "-Des.k=v" (2.x),
// "-Ek=v" (5.x and later, OpenSearch).
std::string settingArg(const Flavor& flavor, const std::string& key, const std::string& value);

// 7.x+ and OpenSearch read seed hosts from $ES_PATH_CONF/unicast_hosts.txt, re-read on every
// discovery round; older versions only take them on the command line at start.
bool usesSeedFile(const Flavor& flavor);

// The transport port setting: transport.tcp.port before 6.7, transport.port after.
std::string transportPortKey(const Flavor& flavor);

// The setting that names the initial master set: cluster.initial_master_nodes (ES 7+, OpenSearch
// 1.x) or cluster.initial_cluster_manager_nodes (OpenSearch 2+); empty before ES 7.
std::string initialMastersKey(const Flavor& flavor);

// The start script, relative to ES_HOME (command.hpp tells start commands from other ones).
std::string startScript(const Flavor& flavor);

}  // namespace esetcd
