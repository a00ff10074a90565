#include "bootstrap.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "log.hpp"

namespace esetcd {

using nlohmann::json;

bool isFreshDataDir(const std::vector<std::string>& entries) {
  return std::all_of(entries.begin(), entries.end(), [](const std::string& name) {
    return name.empty() || name[0] == '.' || name == "lost+found";
  });
}

std::string announcementValue(const std::string& registration, bool fresh) {
  json doc = json::parse(registration, nullptr, false);
  if (!doc.is_object()) doc = json::object();
  doc["fresh"] = fresh;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool announcementIsFresh(const std::string& value) {
  json doc = json::parse(value, nullptr, false);
  // value("fresh", false) would throw on "fresh": 1, and anyone who can write the state prefix
  // could end every starting node that way (found by fuzzing).
  if (!doc.is_object()) return false;
  const auto fresh = doc.find("fresh");
  return fresh != doc.end() && fresh->is_boolean() && fresh->get<bool>();
}

std::string decisionValue(const std::vector<std::string>& masters) {
  return json{{"initial_master_nodes", masters}}.dump(-1, ' ', false,
                                                      json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> parseDecision(const std::string& value) {
  json doc = json::parse(value, nullptr, false);
  if (!doc.is_object() || !doc.contains("initial_master_nodes")) return std::nullopt;
  const json& list = doc["initial_master_nodes"];
  if (!list.is_array() || list.empty()) return std::nullopt;
  std::vector<std::string> masters;
  for (const auto& item : list) {
    if (!item.is_string()) return std::nullopt;
    masters.push_back(item.get<std::string>());
  }
  return masters;
}

std::vector<std::string> bootstrapCandidates(const std::vector<KeyValue>& announcements,
                                             const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& kv : announcements) {
    auto peer = parsePeer(dir, kv);
    if (peer && !peer->nodeName.empty() && peer->masterEligible && announcementIsFresh(kv.value))
      names.push_back(peer->nodeName);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::optional<std::vector<std::string>> chooseInitialMasters(
    const std::vector<KeyValue>& announcements, const std::string& dir, int expect) {
  std::vector<std::string> names = bootstrapCandidates(announcements, dir);
  if (static_cast<int>(names.size()) < expect) return std::nullopt;
  names.resize(static_cast<size_t>(expect));
  return names;
}

std::optional<Peer> announcedNameConflict(const std::vector<KeyValue>& announcements,
                                          const std::string& dir, const Identity& self) {
  std::vector<std::string> ignored;
  return nodeNameConflict(parsePeers(dir, announcements, ignored), self);
}

bool yieldsName(const Identity& self, const Peer& other) {
  return std::make_pair(other.host, other.transportPort) <
         std::make_pair(self.publishHost, self.transportPort);
}

bool decisionHasLiveMember(const std::vector<std::string>& decision,
                           const std::vector<Peer>& peers) {
  return std::any_of(peers.begin(), peers.end(), [&](const Peer& peer) {
    return std::find(decision.begin(), decision.end(), peer.nodeName) != decision.end();
  });
}

BootstrapRole bootstrapRole(const BootstrapFacts& f) {
  if (!f.versionHasSetting) return BootstrapRole::NotApplicable;
  // Elasticsearch ignores the initial master setting on a node that cannot be master; such a
  // node seeds from the announcements and joins whatever forms.
  if (!f.masterEligible) return BootstrapRole::Join;
  if (f.clusterExists) return BootstrapRole::Join;
  // No cluster has formed yet. A node with data but no decision is someone else's old node:
  // it never starts a bootstrap. A member of the decision with data failed its first start
  // (bootstrap checks, say) after writing node state: it still belongs to the first formation.
  if (!f.decision) return f.freshData ? BootstrapRole::Wait : BootstrapRole::Join;
  bool member = std::find(f.decision->begin(), f.decision->end(), f.nodeName) != f.decision->end();
  if (member) return BootstrapRole::Initial;
  // Joining a decision nobody is left to carry out would wait for ever inside Elasticsearch;
  // a fresh node waits here instead, until the decision may be replaced.
  return f.freshData && f.decisionOrphaned ? BootstrapRole::Wait : BootstrapRole::Join;
}

namespace {

constexpr auto kNotOrphaned = std::chrono::steady_clock::time_point::max();

// What the last refreshFacts saw of the decision, for replacing an orphaned one.
struct DecisionSeen {
  int64_t revision = 0;  // of the decision key
  int64_t since = 0;     // etcd's revision when the announcements and registrations were listed
};

// Refreshes what coordinateBootstrap decides on; false when etcd did not answer.
bool refreshFacts(BootstrapContext& ctx, std::string& failure, DecisionSeen& seen) {
  auto uuid = ctx.store.get(ctx.keys.clusterUuid);
  auto decision = ctx.store.getVersioned(ctx.keys.decision);
  auto registrations = ctx.store.list(ctx.prefix);
  auto announced = ctx.store.list(ctx.keys.announceDir);
  if (!uuid || !registrations || !decision || !announced) {
    failure = !uuid            ? uuid.error().message
              : !registrations ? registrations.error().message
              : !decision      ? decision.error().message
                               : announced.error().message;
    return false;
  }
  ctx.facts.clusterExists = uuid->has_value() || !registrations->kvs.empty();
  ctx.facts.decision = decision->has_value() ? parseDecision((*decision)->value) : std::nullopt;
  ctx.facts.decisionOrphaned = false;
  if (ctx.facts.decision && !ctx.facts.clusterExists) {
    std::vector<std::string> ignored;
    auto peers = parsePeers(ctx.keys.announceDir, announced->kvs, ignored);
    ctx.facts.decisionOrphaned = !decisionHasLiveMember(*ctx.facts.decision, peers);
    seen = {(*decision)->revision, std::min(registrations->revision, announced->revision)};
  }
  return true;
}

// Replaces (deletes) an orphaned decision once it has been orphaned for ctx.staleAfter; the
// next round proposes a new one. Safe against a member coming back meanwhile: the delete is one
// transaction that fails if the decision changed or anything was announced or registered after
// the listings that found no member. true when it was replaced.
bool replaceIfStale(BootstrapContext& ctx, const DecisionSeen& seen,
                    std::chrono::steady_clock::time_point& orphanedSince, std::string& waitingFor) {
  auto now = ctx.now();
  if (orphanedSince == kNotOrphaned) orphanedSince = now;
  auto orphaned = std::chrono::duration_cast<std::chrono::milliseconds>(now - orphanedSince);
  std::string names;
  for (const auto& name : *ctx.facts.decision) names += (names.empty() ? "" : ",") + name;
  waitingFor = "the decision [" + names + "] has no member announced or registered for " +
               std::to_string(orphaned.count() / 1000) + "s; it is replaced after " +
               std::to_string(ctx.staleAfter.count() / 1000) + "s (ES_BOOTSTRAP_STALE_AFTER)";
  if (orphaned < ctx.staleAfter) return false;
  auto removed = ctx.store.removeIfUnchanged(ctx.keys.decision, seen.revision,
                                             {ctx.keys.announceDir, ctx.prefix}, seen.since);
  if (!removed) {
    waitingFor = "cannot replace the orphaned decision [" + names +
                 "]: " + removed.error().message +
                 "; es-etcd-entrypoint reset-bootstrap deletes it";
  } else if (*removed) {
    logEvent(LogLevel::Warn, "bootstrap-replaced",
             "bootstrap decision [" + names + "] replaced: none of its members was announced or " +
                 "registered for " + std::to_string(orphaned.count() / 1000) +
                 "s and no cluster UUID is recorded",
             {{"key", ctx.keys.decision}, {"initial_master_nodes", *ctx.facts.decision}});
    orphanedSince = kNotOrphaned;
    return true;
  }
  return false;
}

// With enough fresh nodes announced, writes the decision unless a peer wrote one first. Sets
// `nameTaken` instead when another node announced our name and we are the one to yield.
void proposeIfReady(BootstrapContext& ctx, std::string& waitingFor,
                    std::optional<Peer>& nameTaken) {
  auto announced = ctx.store.list(ctx.keys.announceDir);
  if (!announced) return;
  if (auto other = announcedNameConflict(announced->kvs, ctx.keys.announceDir, ctx.self);
      other && yieldsName(ctx.self, *other)) {
    nameTaken = other;
    return;
  }
  auto masters = chooseInitialMasters(announced->kvs, ctx.keys.announceDir, ctx.expect);
  if (!masters) {
    waitingFor = std::to_string(bootstrapCandidates(announced->kvs, ctx.keys.announceDir).size()) +
                 " of " + std::to_string(ctx.expect);
    return;
  }
  auto created = ctx.store.createIfAbsent(ctx.keys.decision, decisionValue(*masters), 0);
  if (created && *created)
    logEvent(LogLevel::Info, "bootstrap-decided",
             "bootstrap decided: initial master nodes " + decisionValue(*masters),
             {{"key", ctx.keys.decision}, {"initial_master_nodes", *masters}});
}

}  // namespace

BootstrapOutcome coordinateBootstrap(BootstrapContext& ctx) {
  BootstrapOutcome out;
  auto lastLog = std::chrono::steady_clock::now() - std::chrono::hours(1);
  auto orphanedSince = kNotOrphaned;
  DecisionSeen seen;
  for (;;) {
    std::string failure;
    if (refreshFacts(ctx, failure, seen)) {
      out.role = bootstrapRole(ctx.facts);
      if (out.role != BootstrapRole::Wait) break;
      std::string waitingFor;
      if (ctx.facts.decision) {
        if (replaceIfStale(ctx, seen, orphanedSince, waitingFor)) continue;  // propose anew
        failure = waitingFor;
      } else {
        orphanedSince = kNotOrphaned;
        proposeIfReady(ctx, waitingFor, out.nameTaken);
        if (out.nameTaken) return out;
        if (refreshFacts(ctx, failure, seen) &&
            (out.role = bootstrapRole(ctx.facts)) != BootstrapRole::Wait)
          break;
        failure = "fresh master-eligible nodes announced: " + waitingFor;
      }
    }
    if (std::chrono::steady_clock::now() - lastLog > std::chrono::seconds(10)) {
      logEvent(LogLevel::Info, "bootstrap-waiting",
               "waiting for the cluster's first bootstrap (" + failure + ")",
               {{"event.reason", failure}});
      lastLog = std::chrono::steady_clock::now();
    }
    if (ctx.keepAlive) ctx.keepAlive();
    out.stopSignal = ctx.sleep(std::chrono::milliseconds(500));
    if (out.stopSignal) return out;
  }
  if (out.role == BootstrapRole::Initial) out.initialMasters = *ctx.facts.decision;
  return out;
}

ResetResult resetBootstrap(Store& store, const StateKeys& keys, const std::string& prefix,
                           std::string& message) {
  auto uuid = store.get(keys.clusterUuid);
  auto decision = store.getVersioned(keys.decision);
  auto registrations = store.list(prefix);
  auto announced = store.list(keys.announceDir);
  if (!uuid || !decision || !registrations || !announced) {
    message = "cannot read etcd: " + (!uuid            ? uuid.error().message
                                      : !decision      ? decision.error().message
                                      : !registrations ? registrations.error().message
                                                       : announced.error().message);
    return ResetResult::Refused;
  }
  if (uuid->has_value()) {
    message = "refused: a cluster formed (cluster UUID " + **uuid + " at " + keys.clusterUuid +
              "); its bootstrap is over and must never run again";
    return ResetResult::Refused;
  }
  if (!decision->has_value()) {
    message = "no bootstrap decision at " + keys.decision + ": nothing to reset";
    return ResetResult::NothingToReset;
  }
  if (!registrations->kvs.empty()) {
    message = "refused: " + std::to_string(registrations->kvs.size()) +
              " node(s) registered under " + prefix + ": a cluster is running";
    return ResetResult::Refused;
  }
  auto members = parseDecision((*decision)->value).value_or(std::vector<std::string>{});
  std::vector<std::string> ignored;
  if (decisionHasLiveMember(members, parsePeers(keys.announceDir, announced->kvs, ignored))) {
    message = "refused: a member of the decision " + (*decision)->value +
              " is announced (starting); stop it first";
    return ResetResult::Refused;
  }
  // v3 also checks in the same transaction that nothing was announced or registered since;
  // v2 cannot, and compares the decision's revision only.
  std::vector<std::string> quiet;
  if (std::string(store.api()) != "v2") quiet = {keys.announceDir, prefix};
  auto removed = store.removeIfUnchanged(keys.decision, (*decision)->revision, quiet,
                                         std::min(registrations->revision, announced->revision));
  if (!removed || !*removed) {
    message = removed ? "refused: etcd changed while checking; run it again"
                      : "cannot delete " + keys.decision + ": " + removed.error().message;
    return ResetResult::Refused;
  }
  message = "deleted the bootstrap decision " + (*decision)->value + " at " + keys.decision;
  return ResetResult::Deleted;
}

}  // namespace esetcd
