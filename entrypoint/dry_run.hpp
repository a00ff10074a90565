// --plan: what a start would do now, from the settings, the installation and a strictly
// read-only look at etcd: listings and gets only, no announcement, no lease, no put, delete or
// transaction. Prints the settings without secrets, the peers read, the bootstrap role, the exact
// command line, the environment changes and the seed file. The report's text is a pure function.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace esetcd {

struct DryRun {
  std::vector<std::pair<std::string, std::string>> settings;  // without secrets
  std::string discovery;                                      // chooseDiscovery's line
  std::string node;                                           // identity, flavor, data, roles
  std::string etcd;                     // the API and endpoint that answered, or why none did
  std::vector<std::string> registered;  // host:port node-name of each registration
  std::vector<std::string> announced;   // likewise, starting nodes
  std::string bootstrap;                // the role it would take, and why
  std::vector<std::string> writes;      // what the start would write to etcd
  std::vector<std::string> command;     // argv as it would be spawned
  std::vector<std::string> removedEnv;  // variable names dropped from the command's environment
  std::string seedFile;                 // path; empty: seeds on the command line
  std::string seedFileText;
  std::optional<std::string> refusal;  // a start would exit (2, 3) instead: why
  int refusalCode = 0;
};

// The text --plan prints.
std::string formatDryRun(const DryRun& run);

// A command line as a shell would need it typed: words with special characters single-quoted.
std::string shellWords(const std::vector<std::string>& argv);

// Runs --plan: prints the report on stdout and returns 0, 2 for bad settings (or a start that
// would exit 2), 3 when a start would exit 3 (node name taken).
int planCommand(const Config& c);

}  // namespace esetcd
