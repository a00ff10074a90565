#include "dry_run.hpp"

#include <cstdio>

#include "assembly.hpp"
#include "bootstrap.hpp"
#include "command.hpp"
#include "exit_codes.hpp"
#include "http.hpp"
#include "peer_listing.hpp"
#include "seed_file.hpp"
#include "startup.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

std::string describePeer(const Peer& p) {
  return hostPort(p.host, p.transportPort) + (p.nodeName.empty() ? "" : " " + p.nodeName) +
         (p.masterEligible ? "" : " (not master-eligible)");
}

std::vector<std::string> describePeers(const std::vector<Peer>& peers) {
  std::vector<std::string> out;
  for (const auto& p : peers) out.push_back(describePeer(p));
  return out;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

void section(std::string& out, const std::string& title, const std::vector<std::string>& lines) {
  out += title + ":\n";
  if (lines.empty()) out += "  (none)\n";
  for (const auto& line : lines) out += "  " + line + "\n";
}

// What etcd says about the first bootstrap, read only.
struct BootstrapView {
  bool readable = false;
  std::optional<std::string> clusterUuid;
  std::optional<std::vector<std::string>> decision;
  std::vector<KeyValue> announcements;
};

BootstrapView readBootstrap(Store& store, const StateKeys& keys) {
  BootstrapView view;
  auto uuid = store.get(keys.clusterUuid);
  auto decision = store.get(keys.decision);
  auto announced = store.list(keys.announceDir);
  if (!uuid || !decision || !announced) return view;
  view.readable = true;
  view.clusterUuid = *uuid;
  if (decision->has_value()) view.decision = parseDecision(**decision);
  view.announcements = announced->kvs;
  return view;
}

// The role a start would take, as coordinateBootstrap would decide it once this node is
// announced; fills the initial masters when this node would be one of them.
std::string predictBootstrap(const Config& c, const NodeSetup& setup,
                             const PeerSnapshot& registrations, const BootstrapView& view,
                             std::vector<std::string>& masters) {
  StateKeys keys(c.statePrefix);
  BootstrapFacts facts;
  facts.versionHasSetting = !initialMastersKey(setup.flavor).empty() && !setup.singleNode;
  facts.masterEligible = setup.self.masterEligible;
  facts.freshData = setup.freshData;
  facts.clusterExists = view.clusterUuid.has_value() || !registrations.peers.empty();
  facts.decision = view.decision;
  facts.nodeName = setup.self.nodeName;
  std::vector<std::string> ignored;
  if (facts.decision && !facts.clusterExists)
    facts.decisionOrphaned = !decisionHasLiveMember(
        *facts.decision, parsePeers(keys.announceDir, view.announcements, ignored));
  switch (bootstrapRole(facts)) {
    case BootstrapRole::NotApplicable:
      return "none: no bootstrap setting for this version or discovery type";
    case BootstrapRole::Initial:
      masters = *facts.decision;
      return "initial: a member of the decision " + decisionValue(masters);
    case BootstrapRole::Join:
      return facts.clusterExists ? "join: a cluster exists (registrations or a cluster UUID)"
                                 : "join: " + std::string(setup.self.masterEligible
                                                              ? "the data directory holds node "
                                                                "state, or a decision excludes it"
                                                              : "not master-eligible");
    case BootstrapRole::Wait:
      break;
  }
  if (facts.decision)
    return "wait: the decision " + decisionValue(*facts.decision) +
           " has no member announced or registered; it is replaced after " +
           std::to_string(c.bootstrapStaleAfter.count() / 1000) + "s (ES_BOOTSTRAP_STALE_AFTER)";
  // With this node's own announcement added, as the start writes it before it decides.
  auto withSelf = view.announcements;
  withSelf.push_back(
      {keys.announceDir + "/" + setup.self.publishHost,
       announcementValue(registrationValue(setup.self, setup.flavor, setup.clusterName), true)});
  auto chosen = chooseInitialMasters(withSelf, keys.announceDir, c.bootstrapExpect);
  if (!chosen)
    return "wait: " + std::to_string(bootstrapCandidates(withSelf, keys.announceDir).size()) +
           " of " + std::to_string(c.bootstrapExpect) +
           " fresh master-eligible nodes announced, this one included (ES_BOOTSTRAP_EXPECT)";
  bool member = std::find(chosen->begin(), chosen->end(), setup.self.nodeName) != chosen->end();
  if (member) masters = *chosen;
  return std::string(member ? "initial" : "join") + ": it would write the decision " +
         decisionValue(*chosen);
}

// The checks of a start that refuse before anything starts (app.cpp, in the same order).
void checkRefusals(const Config& c, const NodeSetup& setup, Store& store,
                   const PeerSnapshot& snapshot, const BootstrapView& view, DryRun& run) {
  if (auto other = nodeNameConflict(snapshot.peers, setup.self)) {
    run.refusal = "node name " + setup.self.nodeName + " is registered at " +
                  hostPort(other->host, other->transportPort) + " (" + other->key + ")";
    run.refusalCode = exit_code::kNodeNameTaken;
    return;
  }
  if (!snapshot.peers.empty()) return;
  if (c.etcdApi == "auto" && std::string(store.api()) == "v3") {
    auto count = countV2Registrations(c);
    if (count && *count > 0) {
      run.refusal = "no v3 registration under " + c.prefix + ", but the v2 keyspace holds " +
                    std::to_string(*count) + "; set ETCD_API=v2 to join that fleet";
      run.refusalCode = exit_code::kUsage;
      return;
    }
  }
  StateKeys keys(c.statePrefix);
  if (auto other = announcedNameConflict(view.announcements, keys.announceDir, setup.self)) {
    run.refusal = "node name " + setup.self.nodeName + " is announced by a starting node at " +
                  hostPort(other->host, other->transportPort);
    run.refusalCode = exit_code::kNodeNameTaken;
  }
}

// Reads etcd (list and get only) and fills the peers, the bootstrap role and the seeds.
void readEtcd(const Config& c, const NodeSetup& setup, DryRun& run, StartInputs& in) {
  StartRead read = readPeersAtStart(c);
  if (!read.snapshot) {
    run.etcd = "did not answer within ETCD_START_TIMEOUT: a start would use the cached peers";
    run.bootstrap = "join: etcd unreachable, no bootstrap";
    in.seeds = startSeeds(std::nullopt, setup);
    return;
  }
  const PeerSnapshot& snapshot = *read.snapshot;
  run.etcd = std::string(read.store->api()) + " at " + currentEtcdEndpoint(c.etcdEndpoints) +
             ", revision " + std::to_string(snapshot.revision);
  run.etcd = withoutUserinfo(run.etcd);
  run.registered = describePeers(snapshot.peers);
  StateKeys keys(c.statePrefix);
  BootstrapView view = readBootstrap(*read.store, keys);
  std::vector<std::string> ignored;
  auto announced = parsePeers(keys.announceDir, view.announcements, ignored);
  run.announced = describePeers(announced);
  checkRefusals(c, setup, *read.store, snapshot, view, run);
  const bool clusterLive = !snapshot.peers.empty();
  run.bootstrap = !view.readable ? "unknown: the bootstrap state could not be read"
                                 : predictBootstrap(c, setup, snapshot, view, in.initialMasters);
  std::vector<Peer> seeds = snapshot.peers;
  if (!clusterLive) seeds.insert(seeds.end(), announced.begin(), announced.end());
  in.seeds = seedHosts(seeds, setup.self);
  if (!clusterLive)
    run.writes.push_back("announcement " + keys.announceDir + "/" + setup.self.publishHost +
                         " (lease " + std::to_string(c.ttlSeconds) + "s) until registered");
  if (!in.initialMasters.empty() && !view.decision)
    run.writes.push_back("the bootstrap decision " + keys.decision + " (create-if-absent)");
}

int planFor(const Config& c, const CommandClass& command, DryRun& run) {
  NodeSetup setup;
  auto errors = resolveNodeSetup(c, command, setup);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "es-etcd-entrypoint: error: %s\n", e.c_str());
    std::fputs("es-etcd-entrypoint: --plan: a start would exit 2; see --help\n", stderr);
    return exit_code::kUsage;
  }
  run.node = setup.self.nodeName + " at " +
             hostPort(setup.self.publishHost, setup.self.transportPort) + ", " +
             toString(setup.flavor) +
             (setup.freshData ? ", empty data directory" : ", existing data") +
             (setup.self.masterEligible ? ", master-eligible" : ", not master-eligible");
  StartInputs in;
  in.self = setup.self;
  in.flavor = setup.flavor;
  in.clusterName = setup.clusterName;
  in.transportBindPort = setup.transportBindPort;
  in.userKeys = setup.userKeys;
  if (initialMastersKey(setup.flavor).empty()) in.minimumMasterNodes = quorum(c.bootstrapExpect);
  readEtcd(c, setup, run, in);
  run.writes.push_back("registration " + registrationKey(c.prefix, setup.self) + " (lease " +
                       std::to_string(c.ttlSeconds) + "s) while the node is healthy");
  AssembledStart start = assembleStart(in);
  run.command = setup.command;
  if (setup.passSettings)
    run.command.insert(run.command.end(), start.args.begin(), start.args.end());
  run.removedEnv = c.absorbedEnv;
  run.removedEnv.insert(run.removedEnv.end(), c.secretEnv.begin(), c.secretEnv.end());
  if (start.usesSeedFile) {
    run.seedFile = setup.seedFile;
    run.seedFileText = start.seedFileText;
  }
  return run.refusalCode;
}

}  // namespace

std::string shellWords(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    const bool plain = !word.empty() && word.find_first_not_of(
                                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=:,@+%") == std::string::npos;
    std::string quoted = "'";
    for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    out += (out.empty() ? "" : " ") + (plain ? word : quoted + "'");
  }
  return out;
}

std::string formatDryRun(const DryRun& run) {
  std::string out = "es-etcd-entrypoint --plan: what a start would do now (nothing was written)\n";
  out += "discovery: " + run.discovery + "\n";
  std::vector<std::string> settings;
  for (const auto& [name, value] : run.settings) settings.push_back(name + "=" + value);
  section(out, "settings (secrets left out)", settings);
  if (!run.node.empty()) out += "node: " + run.node + "\n";
  if (!run.etcd.empty()) {
    out += "etcd: " + run.etcd + "\n";
    section(out, "registered peers", run.registered);
    section(out, "announced (starting) peers", run.announced);
    out += "bootstrap: " + run.bootstrap + "\n";
    section(out, "etcd writes of a start", run.writes);
  }
  out += "command: " + shellWords(run.command) + "\n";
  out += "environment: removes " +
         (run.removedEnv.empty() ? "nothing" : joined(run.removedEnv, ", ")) + "; adds nothing\n";
  if (!run.seedFile.empty()) {
    out += "seed file " + run.seedFile + ":\n";
    for (const auto& line : parseSeedFileText(run.seedFileText)) out += "  " + line + "\n";
    if (parseSeedFileText(run.seedFileText).empty()) out += "  (no seeds)\n";
  }
  if (run.refusal)
    out += "a start would exit " + std::to_string(run.refusalCode) + ": " + *run.refusal + "\n";
  else
    out += "a start would run the command\n";
  return out;
}

int planCommand(const Config& c) {
  CommandClass command = classifyCommand(c.command);
  DiscoveryChoice choice = chooseDiscovery(c.discovery, command);
  DryRun run;
  run.settings = c.shownSettings;
  run.discovery = choice.line;
  int code = 0;
  if (choice.discover) {
    httpGlobalInit();
    code = planFor(c, command, run);
    if (code == exit_code::kUsage && !run.refusal) return code;
  } else {
    std::vector<std::string> errors;
    run.command = supervisedCommand(c, command, errors);
    for (const auto& e : errors) std::fprintf(stderr, "es-etcd-entrypoint: error: %s\n", e.c_str());
    if (!errors.empty()) return exit_code::kUsage;
    run.removedEnv = c.secretEnv;
  }
  std::fputs(formatDryRun(run).c_str(), stdout);
  return code;
}

}  // namespace esetcd
