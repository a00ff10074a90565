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
  return doc.is_object() && doc.value("fresh", false) == true;
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
    std::string why;
    auto peer = parsePeer(dir, kv, why);
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
  return member ? BootstrapRole::Initial : BootstrapRole::Join;
}

namespace {

// Refreshes what coordinateBootstrap decides on; false when etcd did not answer.
bool refreshFacts(BootstrapContext& ctx, std::string& failure) {
  auto uuid = ctx.store.get(ctx.keys.clusterUuid);
  auto registrations = ctx.store.list(ctx.prefix);
  auto decision = ctx.store.get(ctx.keys.decision);
  if (!uuid || !registrations || !decision) {
    failure = !uuid            ? uuid.error().message
              : !registrations ? registrations.error().message
                               : decision.error().message;
    return false;
  }
  ctx.facts.clusterExists = uuid->has_value() || !registrations->kvs.empty();
  ctx.facts.decision = decision->has_value() ? parseDecision(**decision) : std::nullopt;
  return true;
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
    logInfo("bootstrap decided: initial master nodes " + decisionValue(*masters));
}

}  // namespace

BootstrapOutcome coordinateBootstrap(BootstrapContext& ctx) {
  BootstrapOutcome out;
  auto lastLog = std::chrono::steady_clock::now() - std::chrono::hours(1);
  for (;;) {
    std::string failure;
    if (refreshFacts(ctx, failure)) {
      out.role = bootstrapRole(ctx.facts);
      if (out.role != BootstrapRole::Wait) break;
      std::string waitingFor;
      proposeIfReady(ctx, waitingFor, out.nameTaken);
      if (out.nameTaken) return out;
      if (refreshFacts(ctx, failure) &&
          (out.role = bootstrapRole(ctx.facts)) != BootstrapRole::Wait)
        break;
      failure = "fresh master-eligible nodes announced: " + waitingFor;
    }
    if (std::chrono::steady_clock::now() - lastLog > std::chrono::seconds(10)) {
      logInfo("waiting for the cluster's first bootstrap (" + failure + ")");
      lastLog = std::chrono::steady_clock::now();
    }
    if (ctx.keepAlive) ctx.keepAlive();
    out.stopSignal = ctx.sleep(std::chrono::milliseconds(500));
    if (out.stopSignal) return out;
  }
  if (out.role == BootstrapRole::Initial) out.initialMasters = *ctx.facts.decision;
  return out;
}

}  // namespace esetcd
