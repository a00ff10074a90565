// Assembly: the pure step from (peers, own identity, flavor) to the settings Elasticsearch is
// started with and the unicast_hosts.txt it reads. No I/O: the app writes what this returns.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "flavor.hpp"
#include "peers.hpp"

namespace esetcd {

struct StartInputs {
  Identity self;
  Flavor flavor;
  std::string clusterName;  // empty: not set
  int transportBindPort = 9300;
  std::vector<std::string> seeds;  // from seedHosts()
  // First formation of a brand-new 7.x+ cluster only: the node names of the initial masters.
  std::vector<std::string> initialMasters;
  // 6.x and older: the quorum of master-eligible nodes (0: not set).
  int minimumMasterNodes = 0;
  // Settings the command gives itself (command.hpp): never appended a second time.
  std::set<std::string> userKeys;
};

struct AssembledStart {
  std::vector<std::string> args;  // settings in the version's command-line syntax
  bool usesSeedFile = false;      // write seedFileText to $ES_PATH_CONF/unicast_hosts.txt
  std::string seedFileText;
};

AssembledStart assembleStart(const StartInputs& in);

// Quorum of n master-eligible nodes: n / 2 + 1.
int quorum(int masterEligible);

}  // namespace esetcd
