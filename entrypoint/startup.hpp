// Start-up: everything decided before the child starts — the flavor, this node's identity and
// command, the peers read from etcd (retried with backoff for ETCD_START_TIMEOUT, interruptible
// by a stop signal), the cached peers when etcd stays away, and this node's bootstrap role.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "command.hpp"
#include "config.hpp"
#include "etcd.hpp"
#include "flavor.hpp"
#include "layout.hpp"
#include "node_api.hpp"
#include "peer_listing.hpp"
#include "peers.hpp"
#include "roles.hpp"
#include "supervisor.hpp"

namespace esetcd {

// Everything decided before the child starts.
struct NodeSetup {
  bool freshData = true;  // ES_PATH_DATA held no node state at start
  Flavor flavor;
  Identity self;            // with the values the command line gives (command.hpp)
  std::string clusterName;  // likewise; empty: Elasticsearch's default
  int transportBindPort = 9300;
  bool singleNode = false;         // discovery.type=single-node, in the env or on the command line
  std::set<std::string> userKeys;  // settings the command gives itself
  std::vector<std::string> command;
  bool passSettings = false;
  std::string seedFile;  // empty: this version takes seeds on the command line only
  std::string cacheFile;
  NodeApi nodeApi;  // how the health probe reaches the node
  NodeRoles roles;  // node.roles and where it came from (also in self)
};

// Fills `setup` from the configuration and the installation; returns usage errors.
std::vector<std::string> resolveNodeSetup(const Config& c, const CommandClass& command,
                                          NodeSetup& setup);

// The command to supervise without discovery: the given one, or the image's start command (in
// front of options alone). Adds a usage error when that start command cannot be found.
std::vector<std::string> supervisedCommand(const Config& c, const CommandClass& command,
                                           std::vector<std::string>& errors);

// The start guard of this process (supervisor.hpp), while the start runs; call it on the thread
// that runs the start, whose requests then watch the guard's signals: every etcd connection made
// by etcdOptions without an abort flag of its own is aborted by a stop signal, and
// sleepUnlessStopped wakes on one. nullptr when none runs.
void useStartGuard(StartGuard* guard);

// Sleeps up to `d` unless a stop signal (TERM, INT, QUIT) arrives; returns it, or 0. Signals are
// blocked, so one sent during start-up waits here instead of being lost. The start's thread only.
int sleepUnlessStopped(std::chrono::milliseconds d);

// Runs `work` once, as soon as the start waits: before its first sleepUnlessStopped (an etcd
// retry, the bootstrap wait), or when one of its etcd requests has taken kSlowStartRequest while
// the start guard is in use. For work that would slow a quick start but must not wait for a slow
// one. Replaces work not run yet; nullptr drops it. The start's thread only.
void beforeTheStartWaits(std::function<void()> work);
constexpr std::chrono::milliseconds kSlowStartRequest{100};

// The options of an etcd connection: the settings, the endpoint memory every connection of this
// process shares, the start's deadline (ETCD_START_TIMEOUT, while readPeersAtStart runs), and
// `abort`, or the start guard's flag when `abort` is null.
EtcdOptions etcdOptions(const Config& c, const std::atomic<bool>* abort);

// The endpoint of `endpoints` (ETCD_ENDPOINTS) that the next request of this process goes to first:
// the one that answered last. Thread-safe.
std::string currentEtcdEndpoint(const std::vector<std::string>& endpoints);

struct StartRead {
  std::unique_ptr<Store> store;  // null when etcd never answered
  std::optional<PeerSnapshot> snapshot;
  int stopSignal = 0;
  std::optional<Error> refused;  // ErrorKind::Auth: etcd refused the credentials or permissions
};

// Reads the registrations, retrying with backoff for ETCD_START_TIMEOUT, a hard bound: each
// request is cut to the time left (ETCD_START_TIMEOUT=0: one pass over the endpoints). A stop
// signal ends it at once, with stopSignal set.
// A refusal of our credentials or permissions (ErrorKind::Auth) is not retried: no wait cures it.
StartRead readPeersAtStart(const Config& c);

// How many registrations the v2 keyspace holds under ETCD_PREFIX, for ETCD_API=auto after the v3
// listing came back empty: a fleet registered through the v2 keys API (the 2014 sidecar) is
// invisible to v3. 0 when there are none, or when the etcd has no v2 API (404: etcd 3.6+, or
// 3.4/3.5 without --enable-v2). Any other failure of the v2 listing is returned as its Error.
Result<size_t> countV2Registrations(const Config& c);

// The seeds from etcd's peers, or else from the cache file (logged either way).
std::vector<std::string> startSeeds(const std::optional<PeerSnapshot>& snapshot,
                                    const NodeSetup& setup);

}  // namespace esetcd
