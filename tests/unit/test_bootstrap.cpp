#include <catch2/catch.hpp>

#include "../fakes/memory_store.hpp"
#include "../result_checks.hpp"
#include "bootstrap.hpp"

using namespace esetcd;
using esetcd::testing::MemoryStore;

namespace {

const std::string kState = "/es-etcd-entrypoint/services/elasticsearch";
const std::string kPrefix = "/services/elasticsearch";

std::string announced(const std::string& name, bool fresh) {
  return announcementValue(R"({"transport_port":9300,"node_name":")" + name + R"("})", fresh);
}

KeyValue announcement(const std::string& host, const std::string& name, bool fresh) {
  return {kState + "/announce/" + host, announced(name, fresh)};
}

// An announcement of a node with node.roles set.
KeyValue withRoles(const std::string& host, const std::string& name, const std::string& roles,
                   bool masterEligible) {
  return {
      kState + "/announce/" + host,
      announcementValue(R"({"transport_port":9300,"node_name":")" + name + R"(","roles":)" + roles +
                            R"(,"master_eligible":)" + (masterEligible ? "true" : "false") + "}",
                        true)};
}

// The decision stored under the state prefix; REQUIREs that one was written.
std::string storedDecision(MemoryStore& store) {
  const auto value = VALUE_OF(store.get(kState + "/bootstrap"));
  REQUIRE(value);
  return *value;
}

BootstrapContext context(MemoryStore& store, const std::string& name, int expect, int& sleeps) {
  Identity self{name, "10.0.0.1", 9200, 9300, std::nullopt, true};
  BootstrapContext ctx{store,
                       StateKeys(kState),
                       kPrefix,
                       {},
                       expect,
                       {},
                       {},
                       self,
                       std::chrono::milliseconds(60000),
                       std::chrono::steady_clock::now};
  ctx.facts.nodeName = name;
  ctx.sleep = [&sleeps](std::chrono::milliseconds) {
    ++sleeps;
    return sleeps > 5 ? 15 : 0;  // give up like a SIGTERM would, so a wrong wait ends
  };
  return ctx;
}

}  // namespace

TEST_CASE("a data directory is fresh when it holds no node state") {
  CHECK(isFreshDataDir({}));
  CHECK(isFreshDataDir({".", "..", "lost+found", ".es-etcd-entrypoint-peers"}));
  CHECK_FALSE(isFreshDataDir({".", "..", "nodes"}));
  CHECK_FALSE(isFreshDataDir({"_state", "indices"}));
}

TEST_CASE("initial masters: the first EXPECT fresh announced names, sorted") {
  std::vector<KeyValue> kvs = {
      announcement("10.0.0.3", "es-c", true), announcement("10.0.0.1", "es-a", true),
      announcement("10.0.0.9", "es-0", false), announcement("10.0.0.2", "es-b", true)};
  auto three = chooseInitialMasters(kvs, kState + "/announce", 3);
  REQUIRE(three);
  CHECK(*three == std::vector<std::string>{"es-a", "es-b", "es-c"});
  auto two = chooseInitialMasters(kvs, kState + "/announce", 2);
  REQUIRE(two);
  CHECK(*two == std::vector<std::string>{"es-a", "es-b"});
  CHECK_FALSE(chooseInitialMasters(kvs, kState + "/announce", 4));
}

TEST_CASE("initial masters: only master-eligible nodes are candidates and counted") {
  std::vector<KeyValue> kvs = {withRoles("10.0.0.1", "data-1", R"(["data"])", false),
                               withRoles("10.0.0.2", "coord-1", "[]", false),
                               withRoles("10.0.0.3", "es-m", R"(["master","data"])", true),
                               withRoles("10.0.0.4", "os-m", R"(["cluster_manager"])", true),
                               announcement("10.0.0.5", "es-x", true)};
  CHECK(bootstrapCandidates(kvs, kState + "/announce") ==
        std::vector<std::string>{"es-m", "es-x", "os-m"});
  CHECK(chooseInitialMasters(kvs, kState + "/announce", 3) ==
        std::vector<std::string>{"es-m", "es-x", "os-m"});
  CHECK_FALSE(chooseInitialMasters(kvs, kState + "/announce", 4));
  // Data-only nodes alone never reach EXPECT, however many.
  std::vector<KeyValue> dataOnly = {withRoles("10.0.0.1", "d1", R"(["data"])", false),
                                    withRoles("10.0.0.2", "d2", R"(["data"])", false)};
  CHECK_FALSE(chooseInitialMasters(dataOnly, kState + "/announce", 1));
}

TEST_CASE("the decision round-trips and rejects nonsense") {
  CHECK(parseDecision(decisionValue({"a", "b"})) == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(parseDecision("{}"));
  CHECK_FALSE(parseDecision(R"({"initial_master_nodes":[]})"));
  CHECK_FALSE(parseDecision(R"({"initial_master_nodes":[1]})"));
  CHECK_FALSE(parseDecision("nope"));
}

TEST_CASE("roles: only members of the one decision get the setting, before any cluster exists") {
  BootstrapFacts f;
  f.nodeName = "es-a";
  CHECK(bootstrapRole(f) == BootstrapRole::Wait);
  f.decision = std::vector<std::string>{"es-a", "es-b", "es-c"};
  CHECK(bootstrapRole(f) == BootstrapRole::Initial);
  f.nodeName = "es-d";
  CHECK(bootstrapRole(f) == BootstrapRole::Join);
  f.nodeName = "es-a";
  f.clusterExists = true;
  CHECK(bootstrapRole(f) == BootstrapRole::Join);
  // A member whose first start failed after writing node state is still a member.
  f.clusterExists = false;
  f.freshData = false;
  CHECK(bootstrapRole(f) == BootstrapRole::Initial);
  // Data but no decision: an old node of some other cluster; it never starts a bootstrap.
  f.decision.reset();
  CHECK(bootstrapRole(f) == BootstrapRole::Join);
  f.versionHasSetting = false;
  CHECK(bootstrapRole(f) == BootstrapRole::NotApplicable);
}

TEST_CASE("roles: a node that is not master-eligible joins, never waits, never bootstraps") {
  BootstrapFacts f;
  f.nodeName = "data-1";
  f.masterEligible = false;
  CHECK(bootstrapRole(f) == BootstrapRole::Join);   // fresh, no decision: others decide
  f.decision = std::vector<std::string>{"data-1"};  // even if named (its roles changed since)
  CHECK(bootstrapRole(f) == BootstrapRole::Join);
  f.masterEligible = true;  // the twin
  CHECK(bootstrapRole(f) == BootstrapRole::Initial);
}

TEST_CASE("coordination: a data-only node started first joins at once, writing no decision") {
  MemoryStore store;
  store.set(withRoles("10.0.0.1", "data-1", R"(["data"])", false).key,
            withRoles("10.0.0.1", "data-1", R"(["data"])", false).value);
  int sleeps = 0;
  auto ctx = context(store, "data-1", 1, sleeps);
  ctx.facts.masterEligible = false;
  CHECK(coordinateBootstrap(ctx).role == BootstrapRole::Join);
  CHECK(sleeps == 0);
  CHECK_FALSE(store.has(kState + "/bootstrap"));
}

TEST_CASE("coordination: with enough fresh nodes the decision is written once") {
  MemoryStore store;
  for (const auto& kv :
       {announcement("10.0.0.1", "es-a", true), announcement("10.0.0.2", "es-b", true)})
    store.set(kv.key, kv.value);
  int sleeps = 0;
  auto ctx = context(store, "es-a", 2, sleeps);
  BootstrapOutcome out = coordinateBootstrap(ctx);
  CHECK(out.role == BootstrapRole::Initial);
  CHECK(out.initialMasters == std::vector<std::string>{"es-a", "es-b"});
  CHECK(sleeps == 0);
  // A third node arriving later finds the decision and joins, even though it is fresh.
  store.set(kState + "/announce/10.0.0.3", announced("es-0", true));
  int sleeps3 = 0;
  auto ctx3 = context(store, "es-0", 2, sleeps3);
  CHECK(coordinateBootstrap(ctx3).role == BootstrapRole::Join);
  CHECK(parseDecision(storedDecision(store)) == std::vector<std::string>{"es-a", "es-b"});
}

TEST_CASE("coordination: too few nodes means waiting, interruptible by a stop signal") {
  MemoryStore store;
  store.set(kState + "/announce/10.0.0.1", announced("es-a", true));
  int sleeps = 0;
  auto ctx = context(store, "es-a", 3, sleeps);
  int kept = 0;
  ctx.keepAlive = [&kept] { ++kept; };
  BootstrapOutcome out = coordinateBootstrap(ctx);
  CHECK(out.stopSignal == 15);
  CHECK(sleeps == 6);
  CHECK(kept == 6);
  CHECK_FALSE(store.has(kState + "/bootstrap"));
}

TEST_CASE("coordination: a recorded cluster or a live registration means join, never bootstrap") {
  MemoryStore store;
  store.set(kState + "/cluster_uuid", "abc");
  int sleeps = 0;
  auto ctx = context(store, "es-a", 1, sleeps);
  CHECK(coordinateBootstrap(ctx).role == BootstrapRole::Join);
  MemoryStore running;
  running.set(kPrefix + "/10.0.0.7", R"({"transport_port":9300})");
  running.set(kState + "/announce/10.0.0.1", announced("es-a", true));
  auto ctx2 = context(running, "es-a", 1, sleeps);
  CHECK(coordinateBootstrap(ctx2).role == BootstrapRole::Join);
  CHECK_FALSE(running.has(kState + "/bootstrap"));
}

TEST_CASE("coordination: a node with data never waits and never bootstraps") {
  MemoryStore store;
  int sleeps = 0;
  auto ctx = context(store, "es-a", 3, sleeps);
  ctx.facts.freshData = false;
  CHECK(coordinateBootstrap(ctx).role == BootstrapRole::Join);
  CHECK(sleeps == 0);
}

TEST_CASE("coordination: etcd failing while waiting keeps waiting, it never guesses") {
  MemoryStore store;
  store.failWith(Error{ErrorKind::Transport, "refused", 0});
  int sleeps = 0;
  auto ctx = context(store, "es-a", 1, sleeps);
  BootstrapOutcome out = coordinateBootstrap(ctx);
  CHECK(out.stopSignal == 15);
  CHECK(out.initialMasters.empty());
}

TEST_CASE("announced names: another address with our name is a conflict, our own key is not") {
  const std::string dir = kState + "/announce";
  Identity self{"es-a", "10.0.0.2", 9200, 9300, std::nullopt, true};
  std::vector<KeyValue> kvs = {announcement("10.0.0.2", "es-a", true),
                               announcement("10.0.0.3", "es-b", true)};
  CHECK_FALSE(announcedNameConflict(kvs, dir, self));
  kvs.push_back(announcement("10.0.0.1", "es-a", false));
  auto other = announcedNameConflict(kvs, dir, self);
  REQUIRE(other);
  CHECK(other->host == "10.0.0.1");
  // Exactly one of the two yields: the one at the greater address.
  CHECK(yieldsName(self, *other));
  Identity first{"es-a", "10.0.0.1", 9200, 9300, std::nullopt, true};
  auto second = announcedNameConflict({announcement("10.0.0.2", "es-a", true)}, dir, first);
  REQUIRE(second);
  CHECK_FALSE(yieldsName(first, *second));
}

TEST_CASE("coordination: two fresh nodes with one name do not both wait for ever") {
  MemoryStore store;
  store.set(kState + "/announce/10.0.0.1", announced("es-a", true));
  store.set(kState + "/announce/10.0.0.2", announced("es-a", true));
  int sleeps = 0;
  auto ctx = context(store, "es-a", 2, sleeps);
  ctx.self.publishHost = "10.0.0.2";
  BootstrapOutcome out = coordinateBootstrap(ctx);
  REQUIRE(out.nameTaken);
  CHECK(out.nameTaken->host == "10.0.0.1");
  CHECK(sleeps == 0);
  CHECK_FALSE(store.has(kState + "/bootstrap"));
  // The other one keeps the name and keeps waiting for a second distinct name.
  int sleepsFirst = 0;
  auto first = context(store, "es-a", 2, sleepsFirst);
  BootstrapOutcome kept = coordinateBootstrap(first);
  CHECK_FALSE(kept.nameTaken);
  CHECK(kept.stopSignal == 15);
}

TEST_CASE("roles: a fresh non-member waits while the decision has no live member") {
  BootstrapFacts f;
  f.nodeName = "mynode";
  f.decision = std::vector<std::string>{"3f2a9c1b7d"};
  CHECK(bootstrapRole(f) == BootstrapRole::Join);  // members alive (or unknown): join them
  f.decisionOrphaned = true;
  CHECK(bootstrapRole(f) == BootstrapRole::Wait);
  f.freshData = false;  // a node with data never drives a bootstrap
  CHECK(bootstrapRole(f) == BootstrapRole::Join);
  f.freshData = true;
  f.nodeName = "3f2a9c1b7d";  // a member that comes back carries it out
  CHECK(bootstrapRole(f) == BootstrapRole::Initial);
  Peer member;
  member.nodeName = "3f2a9c1b7d";
  Peer other;
  other.nodeName = "mynode";
  CHECK(decisionHasLiveMember({"3f2a9c1b7d"}, {other, member}));
  CHECK_FALSE(decisionHasLiveMember({"3f2a9c1b7d"}, {other}));
}

namespace {

// A context whose clock moves `step` per sleep, so the stale bound passes without waiting.
BootstrapContext clockedContext(MemoryStore& store, const std::string& name, int& sleeps,
                                std::chrono::seconds step) {
  BootstrapContext ctx = context(store, name, 1, sleeps);
  auto start = std::chrono::steady_clock::now();
  ctx.now = [start, step, &sleeps] { return start + step * sleeps; };
  return ctx;
}

}  // namespace

TEST_CASE("coordination: a decision whose members are all gone is replaced after the bound") {
  MemoryStore store;
  store.set(kState + "/bootstrap", decisionValue({"3f2a9c1b7d"}));
  store.set(kState + "/announce/10.0.0.1", announced("mynode", true));
  int sleeps = 0;
  auto ctx = clockedContext(store, "mynode", sleeps, std::chrono::seconds(20));
  BootstrapOutcome out = coordinateBootstrap(ctx);
  CHECK(out.role == BootstrapRole::Initial);
  CHECK(out.initialMasters == std::vector<std::string>{"mynode"});
  CHECK(sleeps == 3);  // 0, 20, 40 s orphaned; replaced at 60 s
  CHECK(parseDecision(storedDecision(store)) == std::vector<std::string>{"mynode"});
}

TEST_CASE("coordination: an orphaned decision is kept until the bound has passed") {
  MemoryStore store;
  store.set(kState + "/bootstrap", decisionValue({"3f2a9c1b7d"}));
  store.set(kState + "/announce/10.0.0.1", announced("mynode", true));
  int sleeps = 0;
  auto ctx = clockedContext(store, "mynode", sleeps, std::chrono::seconds(5));
  BootstrapOutcome out = coordinateBootstrap(ctx);  // gives up after 6 sleeps: 30 s < 60 s
  CHECK(out.stopSignal == 15);
  CHECK(parseDecision(storedDecision(store)) == std::vector<std::string>{"3f2a9c1b7d"});
}

TEST_CASE("coordination: a decision with a member announced is never replaced") {
  MemoryStore store;
  store.set(kState + "/bootstrap", decisionValue({"es-b"}));
  store.set(kState + "/announce/10.0.0.1", announced("mynode", true));
  store.set(kState + "/announce/10.0.0.2", announced("es-b", false));
  int sleeps = 0;
  auto ctx = clockedContext(store, "mynode", sleeps, std::chrono::seconds(100));
  CHECK(coordinateBootstrap(ctx).role == BootstrapRole::Join);
  CHECK(sleeps == 0);
  CHECK(parseDecision(storedDecision(store)) == std::vector<std::string>{"es-b"});
}

TEST_CASE("reset-bootstrap deletes an orphaned decision and refuses otherwise") {
  const StateKeys keys(kState);
  std::string message;
  {
    MemoryStore store;
    CHECK(resetBootstrap(store, keys, kPrefix, message) == ResetResult::NothingToReset);
    store.set(keys.decision, decisionValue({"gone"}));
    store.set(keys.announceDir + "/10.0.0.1", announced("mynode", true));
    CHECK(resetBootstrap(store, keys, kPrefix, message) == ResetResult::Deleted);
    CHECK_FALSE(store.has(keys.decision));
    CHECK(message.find("deleted the bootstrap decision") != std::string::npos);
  }
  {
    MemoryStore store;  // a cluster formed: its bootstrap must never run again
    store.set(keys.decision, decisionValue({"gone"}));
    store.set(keys.clusterUuid, "k3fQ");
    CHECK(resetBootstrap(store, keys, kPrefix, message) == ResetResult::Refused);
    CHECK(message.find("cluster UUID k3fQ") != std::string::npos);
    CHECK(store.has(keys.decision));
  }
  {
    MemoryStore store;  // a node is registered
    store.set(keys.decision, decisionValue({"gone"}));
    store.set(kPrefix + "/10.0.0.9", R"({"transport_port":9300})");
    CHECK(resetBootstrap(store, keys, kPrefix, message) == ResetResult::Refused);
    CHECK(store.has(keys.decision));
  }
  {
    MemoryStore store;  // a member is starting
    store.set(keys.decision, decisionValue({"es-b"}));
    store.set(keys.announceDir + "/10.0.0.2", announced("es-b", true));
    CHECK(resetBootstrap(store, keys, kPrefix, message) == ResetResult::Refused);
    CHECK(message.find("stop it first") != std::string::npos);
    CHECK(store.has(keys.decision));
  }
}

TEST_CASE(
    "an announcement whose fresh is not a boolean is not fresh, and nothing throws (found by "
    "fuzzing)") {
  CHECK_FALSE(announcementIsFresh(R"({"fresh":1})"));
  CHECK_FALSE(announcementIsFresh(R"({"fresh":"true"})"));
  CHECK(announcementIsFresh(R"({"fresh":true})"));
}
