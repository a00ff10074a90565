// Bootstrap: the one-time choice of the initial master nodes of a brand-new 7.x+ cluster (and
// OpenSearch), made through etcd so that exactly one choice exists per cluster, and only nodes
// with empty data that are in it ever get cluster.initial_master_nodes (docs/design.md,
// "First bootstrap"). Decisions are pure; coordinateBootstrap() does the etcd part before the
// start.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etcd_store.hpp"
#include "peers.hpp"

namespace esetcd {

// Whether a data directory holds no node state: only ".", "..", "lost+found" and dot files
// (our own peer cache among them) may be present.
bool isFreshDataDir(const std::vector<std::string>& entries);

// The announcement a starting node writes below STATE/announce: our registration record plus
// whether its data directory was empty at start.
std::string announcementValue(const std::string& registration, bool fresh);
bool announcementIsFresh(const std::string& value);

// The stored decision: {"initial_master_nodes":[...]} and its parser.
std::string decisionValue(const std::vector<std::string>& masters);
std::optional<std::vector<std::string>> parseDecision(const std::string& value);

// The distinct node names, sorted, of the fresh master-eligible nodes among the announcements:
// the candidates of the first bootstrap. Data-only and coordinating nodes are never candidates.
std::vector<std::string> bootstrapCandidates(const std::vector<KeyValue>& announcements,
                                             const std::string& dir);

// The first `expect` candidates; nullopt while there are fewer than `expect`.
std::optional<std::vector<std::string>> chooseInitialMasters(
    const std::vector<KeyValue>& announcements, const std::string& dir, int expect);

enum class BootstrapRole {
  NotApplicable,  // before 7.0: no such setting (minimum_master_nodes is used instead)
  Join,           // the cluster exists, this is not one of its initial masters, or this node
                  // is not master-eligible (it never waits for the bootstrap)
  Initial,        // one of the initial masters of the first formation: gets the setting (also
                  // after a failed first start left node state behind, until a UUID exists)
  Wait,           // fresh, nothing decided yet: wait for more nodes to announce; or fresh and
                  // not a member of an orphaned decision: wait until it may be replaced
};

struct BootstrapFacts {
  bool versionHasSetting = true;
  bool masterEligible = true;
  bool freshData = true;
  bool clusterExists = false;  // a cluster UUID is recorded, or healthy nodes are registered
  std::optional<std::vector<std::string>> decision;
  // None of the decision's members is announced or registered (and no cluster exists): the first
  // start of its members failed, or they were never started under those names.
  bool decisionOrphaned = false;
  std::string nodeName;
};

// Whether any member of `decision` is among the announced or registered peers.
bool decisionHasLiveMember(const std::vector<std::string>& decision,
                           const std::vector<Peer>& peers);

BootstrapRole bootstrapRole(const BootstrapFacts& facts);

// The keys below ETCD_STATE_PREFIX.
struct StateKeys {
  explicit StateKeys(const std::string& statePrefix)
      : announceDir(statePrefix + "/announce"),
        decision(statePrefix + "/bootstrap"),
        clusterUuid(statePrefix + "/cluster_uuid") {}
  std::string announceDir;
  std::string decision;
  std::string clusterUuid;
};

struct BootstrapOutcome {
  BootstrapRole role = BootstrapRole::Join;
  std::vector<std::string> initialMasters;  // set for Initial
  int stopSignal = 0;                       // a stop signal arrived while waiting
  // Another starting node announced our node name from another address while we waited: it
  // keeps the name, we give up (exit 3).
  std::optional<Peer> nameTaken;
};

struct BootstrapContext {
  Store& store;
  StateKeys keys;
  std::string prefix;  // registrations
  BootstrapFacts facts;
  int expect = 3;
  // Called about once a second while waiting: refreshes our announcement.
  std::function<void()> keepAlive;
  // Sleeps up to the given time; returns a stop signal that arrived, or 0.
  std::function<int(std::chrono::milliseconds)> sleep;
  // This node as announced: its name must be distinct among the announcements.
  Identity self;
  // How long an orphaned decision must stay orphaned before it is replaced (a compare-and-swap
  // on its revision that also fails if anything was announced or registered meanwhile).
  std::chrono::milliseconds staleAfter{60000};
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

// reset-bootstrap: deletes the decision unless a cluster UUID is recorded, a node is registered
// or a member of the decision is announced. `message` says what was done or why not.
enum class ResetResult { Deleted, NothingToReset, Refused };
ResetResult resetBootstrap(Store& store, const StateKeys& keys, const std::string& prefix,
                           std::string& message);

// A starting node at another address that announced `self`'s node name, if any.
std::optional<Peer> announcedNameConflict(const std::vector<KeyValue>& announcements,
                                          const std::string& dir, const Identity& self);

// Of two nodes that announced one name at once, the one at the greater address yields, so that
// exactly one gives up; a name announced before we looked is checked at start instead (app.cpp).
bool yieldsName(const Identity& self, const Peer& other);

// Waits, if needed, until the cluster's bootstrap is decided (by us or a peer, through
// create-if-absent) and returns this node's role. Never returns Wait.
BootstrapOutcome coordinateBootstrap(BootstrapContext& ctx);

}  // namespace esetcd
