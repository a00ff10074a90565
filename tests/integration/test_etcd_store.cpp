// Integration tests of both Store implementations against a real etcd started per test: every
// behaviour the registrar and the peer monitor rely on, with real TTLs, watches and failures.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../result_checks.hpp"
#include "etcd.hpp"
#include "etcd_codec.hpp"
#include "etcd_server.hpp"
#include "fake_http_server.hpp"

using namespace esetcd;
using esetcd::testing::errorText;
using esetcd::testing::EtcdServer;
using esetcd::testing::EtcdServerOptions;
using esetcd::testing::FakeHttpServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct V3 {
  static constexpr const char* api = "v3";
};
struct V2 {
  static constexpr const char* api = "v2";
};

const std::string kDir = "/services/elasticsearch";

EtcdOptions optionsFor(const EtcdServer& server) {
  EtcdOptions options;
  options.endpoints = {server.clientUrl()};
  options.timeout = milliseconds(2000);
  return options;
}

std::unique_ptr<Store> storeFor(const std::string& api, EtcdOptions options) {
  auto made = makeStore(api, std::move(options));
  if (!made) FAIL("makeStore(" << api << "): " << made.error().message);
  return std::move(made.value());
}

std::unique_ptr<Store> storeFor(const std::string& api, const EtcdServer& server) {
  return storeFor(api, optionsFor(server));
}

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

// Our open TCP sockets, and how many of them lack close-on-exec. libcurl 7.88's internal
// socketpair (its multi handle's wakeup pair, AF_UNIX) is not ours to flag: the supervisor closes
// every fd above 2 in the child anyway.
std::pair<int, int> tcpSocketsAndInheritable() {
  int sockets = 0;
  int inheritable = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    if (address.ss_family != AF_INET && address.ss_family != AF_INET6) continue;
    ++sockets;
    if ((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) ++inheritable;
  }
  return {sockets, inheritable};
}

// What another client does to our key: v3 revokes its lease, v2 deletes the key.
void dropBehindOurBack(const EtcdServer& server, const std::string& api, const Lease& lease) {
  const auto answer =
      api == "v3" ? server.request("POST", "/v3/lease/revoke", codec::v3LeaseIdRequest(lease.id))
                  : server.request("DELETE", codec::v2KeyPath(lease.key));
  REQUIRE(answer.status == 200);
}

// Makes every revision before the current one unavailable to watches: v3 compacts; v2 only keeps
// the last 1000 events, so it gets more writes than that elsewhere in the keyspace.
void forgetHistory(const EtcdServer& server, const std::string& api, Store& store) {
  if (api == "v3") {
    const auto current = store.list(kDir);
    REQUIRE(current);
    const nlohmann::json body = {{"revision", std::to_string(current->revision)},
                                 {"physical", true}};
    REQUIRE(server.request("POST", "/v3/kv/compaction", body.dump()).status == 200);
    return;
  }
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&server, &failures, w] {
      for (int i = 0; i < 260; ++i) {
        const auto answer =
            server.request("PUT", "/v2/keys/churn/" + std::to_string(w),
                           "value=" + std::to_string(i), "application/x-www-form-urlencoded");
        if (answer.status != 200 && answer.status != 201) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  REQUIRE(failures == 0);
}

// Auth on, with user root (role root: everything) and user nobody (no role: no key at all).
void enableAuth(const EtcdServer& server) {
  const char* const steps[][2] = {
      {"/v3/auth/user/add", R"({"name":"root","password":"s3cret"})"},
      {"/v3/auth/role/add", R"({"name":"root"})"},
      {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
      {"/v3/auth/user/add", R"({"name":"nobody","password":"n0pe"})"},
      {"/v3/auth/enable", "{}"},
  };
  for (const auto& step : steps) {
    INFO(step[0]);
    REQUIRE(server.request("POST", step[0], step[1]).status == 200);
  }
}

// An auth change made by root, as an operator would make it: a user unrelated to ours is added.
void addUnrelatedUser(const EtcdServer& server, const std::string& name) {
  const auto login =
      server.request("POST", "/v3/auth/authenticate", R"({"name":"root","password":"s3cret"})");
  REQUIRE(login.status == 200);
  HttpRequest add;
  add.method = "POST";
  add.url = server.clientUrl() + "/v3/auth/user/add";
  add.body = nlohmann::json{{"name", name}, {"password", "x"}}.dump();
  add.contentType = "application/json";
  add.headers = {"Authorization: " + nlohmann::json::parse(login.body)["token"].get<std::string>()};
  const auto added = httpPerform(add, {});
  INFO(added.body);
  REQUIRE(added.status == 200);
}

}  // namespace

TEMPLATE_TEST_CASE("list returns every key below the directory and no sibling prefix", "[etcd]", V3,
                   V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/10.0.0.6:9300", "b", 0)));
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/10.0.0.5:9300", "a", 0)));
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/nested/deeper", "c", 0)));
  REQUIRE(VALUE_OF(store->createIfAbsent("/services/elasticsearch-state/x", "sibling", 0)));

  const auto listing = store->list(kDir);
  REQUIRE(listing);
  REQUIRE(listing->kvs.size() == 3);
  CHECK(listing->kvs[0].key == kDir + "/10.0.0.5:9300");
  CHECK(listing->kvs[0].value == "a");
  CHECK(listing->kvs[1].key == kDir + "/10.0.0.6:9300");
  CHECK(listing->kvs[2].key == kDir + "/nested/deeper");
  CHECK(listing->revision > 0);
  CHECK(VALUE_OF(store->list(kDir + "/")).kvs.size() == 3);

  const auto missing = store->list("/services/nothing-here");
  REQUIRE(missing);
  CHECK(missing->kvs.empty());
  CHECK(missing->revision >= listing->revision);
}

TEMPLATE_TEST_CASE("list with a limit returns the first keys and says it was cut", "[etcd]", V3,
                   V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  for (const char* host : {"10.0.0.3", "10.0.0.1", "10.0.0.2"})
    REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/" + host, "v", 0)));
  const auto cut = store->list(kDir, 2);
  REQUIRE(cut);
  REQUIRE(cut->kvs.size() == 2);
  CHECK(cut->kvs[0].key == kDir + "/10.0.0.1");
  CHECK(cut->kvs[1].key == kDir + "/10.0.0.2");
  CHECK(cut->truncated);
  const auto whole = store->list(kDir, 10);
  REQUIRE(whole);
  CHECK(whole->kvs.size() == 3);
  CHECK_FALSE(whole->truncated);
}

TEMPLATE_TEST_CASE("get returns the value or nothing", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const std::string value = "value with spaces, & = + / % and utf-8 \xc3\xa9";
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/node 1", value, 0)));
  const auto found = store->get(kDir + "/node 1");
  REQUIRE(found);
  CHECK(*found == std::optional<std::string>(value));
  const auto missing = store->get(kDir + "/node 2");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
}

TEMPLATE_TEST_CASE("refresh keeps a TTL key beyond its TTL", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto lease = store->putWithTtl(kDir + "/self", "10.0.0.5:9300", 2);
  REQUIRE(lease);
  CHECK(lease->ttlSeconds == 2);
  for (int i = 0; i < 6; ++i) {  // 3 s: 1.5 x the TTL
    std::this_thread::sleep_for(milliseconds(500));
    const auto refreshed = store->refresh(*lease);
    INFO("refresh " << i << ": " << (refreshed ? "ok" : errorText(refreshed.error())));
    REQUIRE(refreshed);
  }
  CHECK(VALUE_OF(store->get(kDir + "/self")) == std::optional<std::string>("10.0.0.5:9300"));
}

TEMPLATE_TEST_CASE("a TTL key expires without refresh, then refresh reports LeaseLost", "[etcd]",
                   V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto start = Clock::now();
  const auto lease = store->putWithTtl(kDir + "/self", "x", 2);
  REQUIRE(lease);
  bool gone = false;
  while (!gone && since(start) < milliseconds(6000)) {
    std::this_thread::sleep_for(milliseconds(100));
    const auto value = store->get(kDir + "/self");
    REQUIRE(value);
    gone = !value->has_value();
  }
  CHECK(gone);
  CHECK(since(start) >= milliseconds(1500));  // it did live for about its TTL
  const auto refreshed = store->refresh(*lease);
  REQUIRE_FALSE(refreshed);
  CHECK(refreshed.error().kind == ErrorKind::LeaseLost);
}

TEMPLATE_TEST_CASE("a key dropped behind our back: LeaseLost, then putWithTtl restores it",
                   "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto lease = store->putWithTtl(kDir + "/self", "x", 30);
  REQUIRE(lease);
  REQUIRE(store->refresh(*lease));
  dropBehindOurBack(server, TestType::api, *lease);
  CHECK_FALSE(VALUE_OF(store->get(kDir + "/self")).has_value());

  const auto refreshed = store->refresh(*lease);
  REQUIRE_FALSE(refreshed);
  CHECK(refreshed.error().kind == ErrorKind::LeaseLost);

  const auto again = store->putWithTtl(kDir + "/self", "x", 30);
  REQUIRE(again);
  CHECK(VALUE_OF(store->get(kDir + "/self")) == std::optional<std::string>("x"));
  CHECK(store->refresh(*again));
}

TEST_CASE("v3: a key deleted while its lease lives is reported as LeaseLost", "[etcd]") {
  EtcdServer server;
  auto store = storeFor("v3", server);
  const auto lease = store->putWithTtl(kDir + "/self", "x", 30);
  REQUIRE(lease);
  const auto deleted =
      server.request("POST", "/v3/kv/deleterange", codec::v3DeleteRequest(kDir + "/self"));
  REQUIRE(deleted.status == 200);
  const auto refreshed = store->refresh(*lease);
  REQUIRE_FALSE(refreshed);
  CHECK(refreshed.error().kind == ErrorKind::LeaseLost);
}

TEMPLATE_TEST_CASE("remove deletes the key and tolerates a missing one", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto lease = store->putWithTtl(kDir + "/self", "x", 30);
  REQUIRE(lease);
  REQUIRE(store->remove(*lease));
  CHECK_FALSE(VALUE_OF(store->get(kDir + "/self")).has_value());
  CHECK(store->remove(*lease));  // already gone: lease not found / key not found

  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/forever", "y", 0)));
  REQUIRE(store->remove(Lease{kDir + "/forever", "y", "", 0}));
  CHECK_FALSE(VALUE_OF(store->get(kDir + "/forever")).has_value());
}

TEMPLATE_TEST_CASE("createIfAbsent writes only the first time", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto first = store->createIfAbsent(kDir + "/bootstrap", "node-a", 0);
  REQUIRE(first);
  CHECK(*first);
  const auto second = store->createIfAbsent(kDir + "/bootstrap", "node-b", 0);
  REQUIRE(second);
  CHECK_FALSE(*second);
  CHECK(VALUE_OF(store->get(kDir + "/bootstrap")) == std::optional<std::string>("node-a"));

  const auto withTtl = store->createIfAbsent(kDir + "/claim", "node-a", 30);
  REQUIRE(withTtl);
  CHECK(*withTtl);
  CHECK_FALSE(VALUE_OF(store->createIfAbsent(kDir + "/claim", "node-b", 30)));
}

TEMPLATE_TEST_CASE("removeIfUnchanged deletes only the revision that was read", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const std::string key = "/state/bootstrap";
  REQUIRE(VALUE_OF(store->createIfAbsent(key, "first", 0)));
  auto read = VALUE_OF(store->getVersioned(key));
  REQUIRE(read);
  CHECK(read->value == "first");
  CHECK(read->revision > 0);
  CHECK_FALSE(VALUE_OF(store->getVersioned("/state/none")));
  // Rewritten in between: the old revision no longer matches, nothing is deleted.
  REQUIRE(store->remove(Lease{key, "", "", 0}));
  REQUIRE(VALUE_OF(store->createIfAbsent(key, "second", 0)));
  CHECK_FALSE(VALUE_OF(store->removeIfUnchanged(key, read->revision, {}, 0)));
  CHECK(VALUE_OF(store->get(key)) == std::optional<std::string>("second"));
  auto again = VALUE_OF(store->getVersioned(key));
  REQUIRE(again);
  CHECK(again->revision > read->revision);
  CHECK(VALUE_OF(store->removeIfUnchanged(key, again->revision, {}, 0)));
  CHECK_FALSE(VALUE_OF(store->get(key)));
  CHECK_FALSE(VALUE_OF(store->removeIfUnchanged(key, again->revision, {}, 0)));
}

TEST_CASE("v3: removeIfUnchanged fails while a watched directory was written after `since`",
          "[etcd]") {
  EtcdServer server;
  auto store = storeFor("v3", server);
  const std::string key = "/state/bootstrap";
  REQUIRE(VALUE_OF(store->createIfAbsent(key, "decision", 0)));
  REQUIRE(store->putWithTtl("/state/announce/10.0.0.1", "{}", 30));
  const auto decision = VALUE_OF(store->getVersioned(key));
  REQUIRE(decision);
  const auto quiet = VALUE_OF(store->list("/state/announce"));
  // A node announces itself after the listing: the delete must not happen.
  REQUIRE(store->putWithTtl("/state/announce/10.0.0.2", "{}", 30));
  const std::vector<std::string> watched = {"/state/announce", "/regs"};
  CHECK_FALSE(VALUE_OF(store->removeIfUnchanged(key, decision->revision, watched, quiet.revision)));
  CHECK(VALUE_OF(store->get(key)));
  // Its twin: nothing written below the directories since the listing, and an empty one.
  const auto later = VALUE_OF(store->list("/state/announce"));
  CHECK(VALUE_OF(store->removeIfUnchanged(key, decision->revision, watched, later.revision)));
  CHECK_FALSE(VALUE_OF(store->get(key)));
}

TEST_CASE("v2: removeIfUnchanged refuses directory conditions it cannot check", "[etcd][v2]") {
  EtcdServer server;
  auto store = storeFor("v2", server);
  REQUIRE(VALUE_OF(store->createIfAbsent("/state/bootstrap", "d", 0)));
  const auto read = VALUE_OF(store->getVersioned("/state/bootstrap"));
  REQUIRE(read);
  auto refused = store->removeIfUnchanged("/state/bootstrap", read->revision, {"/state/a"}, 0);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("needs the v3 API") != std::string::npos);
  CHECK(VALUE_OF(store->get("/state/bootstrap")));
}

// How soon a put reaches a watcher is measured by bench/scale.sh (joins: put to seed file), not
// decided here: the wait must end because of the put, at the put's revision.
TEMPLATE_TEST_CASE("waitForChange wakes on a put by another client, at the put's revision",
                   "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  auto other = storeFor(TestType::api, server);
  const auto listing = store->list(kDir);
  REQUIRE(listing);

  std::atomic<bool> putOk{false};
  std::thread writer([&] {
    // A precondition, not a measurement: the put most likely lands while the wait is open (a put
    // before it would be found from the listing's revision all the same).
    std::this_thread::sleep_for(milliseconds(400));
    putOk = other->putWithTtl(kDir + "/10.0.0.7:9300", "x", 30).ok();
  });
  const auto change = store->waitForChange(kDir, listing->revision, milliseconds(20000));
  writer.join();

  REQUIRE(putOk);
  REQUIRE(change);
  CHECK(change->changed);  // woken by the put, not by the deadline
  const auto after = store->list(kDir);
  REQUIRE(after);
  REQUIRE(after->kvs.size() == 1);
  CHECK(change->revision == after->revision);  // the put's own revision
}

TEMPLATE_TEST_CASE("waitForChange times out quietly and ignores a sibling prefix", "[etcd]", V3,
                   V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  auto other = storeFor(TestType::api, server);
  const auto listing = store->list(kDir);
  REQUIRE(listing);

  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    (void)other->createIfAbsent("/services/elasticsearch-state/x", "not ours", 0);
  });
  const auto start = Clock::now();
  const auto quiet = store->waitForChange(kDir, listing->revision, milliseconds(800));
  const auto waited = since(start);
  writer.join();

  REQUIRE(quiet);
  CHECK_FALSE(quiet->changed);
  CHECK(quiet->revision == listing->revision);
  CHECK(waited >= milliseconds(700));
  CHECK(waited < milliseconds(2000));
  CHECK(VALUE_OF(other->get("/services/elasticsearch-state/x")).has_value());
}

TEMPLATE_TEST_CASE("waitForChange from an old revision returns the changes made in between",
                   "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  auto other = storeFor(TestType::api, server);
  const auto before = store->list(kDir);
  REQUIRE(before);
  REQUIRE(VALUE_OF(other->createIfAbsent(kDir + "/a", "1", 0)));
  REQUIRE(VALUE_OF(other->createIfAbsent(kDir + "/b", "2", 0)));
  const auto after = other->list(kDir);
  REQUIRE(after);
  REQUIRE(after->revision > before->revision);

  // v3 may deliver both events at once; v2 answers one event per wait.
  int64_t revision = before->revision;
  for (int round = 0; round < 4 && revision < after->revision; ++round) {
    const auto start = Clock::now();
    const auto change = store->waitForChange(kDir, revision, milliseconds(3000));
    REQUIRE(change);
    CHECK(change->changed);
    CHECK(change->revision > revision);
    CHECK(since(start) < milliseconds(1000));  // the changes were already there
    revision = change->revision;
  }
  CHECK(revision == after->revision);
  const auto quiet = store->waitForChange(kDir, revision, milliseconds(300));
  REQUIRE(quiet);
  CHECK_FALSE(quiet->changed);
}

TEMPLATE_TEST_CASE(
    "waitForChange from a forgotten revision reports Compacted, then a new list recovers", "[etcd]",
    V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto before = store->list(kDir);
  REQUIRE(before);
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/a", "1", 0)));
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/b", "2", 0)));
  forgetHistory(server, TestType::api, *store);

  const auto stale = store->waitForChange(kDir, before->revision, milliseconds(3000));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().kind == ErrorKind::Compacted);

  const auto relisted = store->list(kDir);
  REQUIRE(relisted);
  CHECK(relisted->kvs.size() == 2);
  const auto quiet = store->waitForChange(kDir, relisted->revision, milliseconds(300));
  INFO((quiet ? "ok" : errorText(quiet.error())));
  REQUIRE(quiet);
  CHECK_FALSE(quiet->changed);
}

TEMPLATE_TEST_CASE("a dead endpoint and an Unavailable member are skipped", "[etcd]", V3, V2) {
  EtcdServer server;
  FakeHttpServer unavailable(
      503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})");
  EtcdOptions options = optionsFor(server);
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::freeLoopbackPort());
  options.endpoints = {dead, unavailable.url(), server.clientUrl()};
  auto store = storeFor(TestType::api, options);

  const auto lease = store->putWithTtl(kDir + "/self", "x", 30);
  INFO((lease ? "ok" : errorText(lease.error())));
  REQUIRE(lease);
  const auto listing = store->list(kDir);
  REQUIRE(listing);
  CHECK(listing->kvs.size() == 1);
  CHECK(store->refresh(*lease));
  // Once the live member answered, the store stays with it.
  CHECK(unavailable.hits() == 1);

  auto other = storeFor(TestType::api, server);
  REQUIRE(other->putWithTtl(kDir + "/peer", "y", 30));
  const auto change = store->waitForChange(kDir, listing->revision, milliseconds(2000));
  REQUIRE(change);
  CHECK(change->changed);

  // A watch as the very first call meets the Unavailable member first.
  options.endpoints = {unavailable.url(), server.clientUrl()};
  const auto watched =
      storeFor(TestType::api, options)->waitForChange(kDir, listing->revision, milliseconds(2000));
  INFO((watched ? "ok" : errorText(watched.error())));
  REQUIRE(watched);
  CHECK(watched->changed);
  CHECK(unavailable.hits() == 2);
}

TEMPLATE_TEST_CASE("no endpoint answering is a Transport error, and a restarted etcd serves again",
                   "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/kept", "x", 0)));
  server.stop();

  const auto start = Clock::now();
  const auto down = store->list(kDir);
  REQUIRE_FALSE(down);
  CHECK(down.error().kind == ErrorKind::Transport);
  CHECK(since(start) < milliseconds(1000));  // connection refused: no waiting for the timeout

  server.start();
  const auto up = store->list(kDir);
  REQUIRE(up);
  REQUIRE(up->kvs.size() == 1);
  CHECK(up->kvs[0].key == kDir + "/kept");
}

TEMPLATE_TEST_CASE("raising the abort flag ends a long wait promptly", "[etcd]", V3, V2) {
  EtcdServer server;
  std::atomic<bool> abort{false};
  EtcdOptions options = optionsFor(server);
  options.abort = &abort;
  auto store = storeFor(TestType::api, options);
  const auto listing = store->list(kDir);
  REQUIRE(listing);

  std::thread stopper([&abort] {
    std::this_thread::sleep_for(milliseconds(300));
    abort = true;
  });
  const auto start = Clock::now();
  const auto result = store->waitForChange(kDir, listing->revision, milliseconds(20000));
  const auto waited = since(start);
  stopper.join();

  REQUIRE_FALSE(result);
  CHECK(result.error().kind == ErrorKind::Aborted);
  CHECK(waited < milliseconds(2500));  // libcurl checks the flag about once a second when idle
  CHECK(store->list(kDir).error().kind == ErrorKind::Aborted);
}

TEMPLATE_TEST_CASE("the TCP socket of a running watch is close-on-exec", "[etcd]", V3, V2) {
  EtcdServer server;
  auto store = storeFor(TestType::api, server);
  const auto listing = store->list(kDir);
  REQUIRE(listing);
  std::pair<int, int> seen{0, 0};
  std::thread observer([&seen] {
    std::this_thread::sleep_for(milliseconds(300));
    seen = tcpSocketsAndInheritable();
  });
  const auto quiet = store->waitForChange(kDir, listing->revision, milliseconds(600));
  observer.join();
  REQUIRE(quiet);
  CHECK(seen.first >= 1);  // the watch's connection was open while we looked
  CHECK(seen.second == 0);
}

TEST_CASE("auto detection picks v3 on a real etcd (3.4 and later)", "[etcd]") {
  EtcdServer server;
  auto store = storeFor("auto", server);
  CHECK(std::string(store->api()) == "v3");
  CHECK(store->list(kDir));
}

TEST_CASE("auto detection picks v2 when the v3 gateway is missing", "[etcd]") {
  // etcd 2.x (and 3.3, whose gateway is under /v3beta) answers /v3/... like this.
  FakeHttpServer v2Only(404, "404 page not found\n");
  EtcdOptions options;
  options.endpoints = {v2Only.url()};
  auto store = storeFor("auto", options);
  CHECK(std::string(store->api()) == "v2");
  CHECK(v2Only.hits() == 1);  // one round trip
}

TEST_CASE("forced API names are used as given, unknown ones refused", "[etcd]") {
  EtcdOptions options;
  options.endpoints = {"http://127.0.0.1:" + std::to_string(testing::freeLoopbackPort())};
  CHECK(std::string(storeFor("v2", options)->api()) == "v2");
  CHECK(std::string(storeFor("v3", options)->api()) == "v3");
  const auto unknown = makeStore("v4", options);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind == ErrorKind::Malformed);
  const auto unreachable = makeStore("auto", options);
  REQUIRE_FALSE(unreachable);
  CHECK(unreachable.error().kind == ErrorKind::Transport);
}

TEST_CASE("v3 auth: token on every call, renewed after it expired, for watches too", "[etcd]") {
  EtcdServerOptions serverOptions;
  serverOptions.extraArgs = {"--auth-token-ttl=1"};
  EtcdServer server(serverOptions);
  enableAuth(server);

  const auto anonymous = storeFor("v3", server)->list(kDir);
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().kind == ErrorKind::Auth);  // "user name is empty"

  EtcdOptions options = optionsFor(server);
  options.username = "root";
  options.password = "wrong";
  const auto refused = storeFor("v3", options)->list(kDir);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("authenticate as root") != std::string::npos);
  CHECK(refused.error().message.find("wrong") == std::string::npos);

  options.password = "s3cret";
  auto store = storeFor("auto", options);
  auto watcher = storeFor("v3", options);  // its own transport, so its own token
  CHECK(std::string(store->api()) == "v3");
  REQUIRE(VALUE_OF(store->createIfAbsent(kDir + "/a", "1", 0)));
  const auto before = watcher->list(kDir);
  REQUIRE(before);
  std::this_thread::sleep_for(milliseconds(2500));  // both tokens expire after 1 s unused

  const auto listing = store->list(kDir);
  INFO((listing ? "ok" : errorText(listing.error())));
  REQUIRE(listing);
  CHECK(listing->kvs.size() == 1);
  // A watch learns of the expired token only from the stream's cancel reason.
  const auto quiet = watcher->waitForChange(kDir, before->revision, milliseconds(300));
  INFO((quiet ? "ok" : errorText(quiet.error())));
  REQUIRE(quiet);
  CHECK_FALSE(quiet->changed);
}

TEST_CASE("v3 auth: a lease refreshed after its token expired (keepalive checks it on 3.5+)",
          "[etcd]") {
  EtcdServerOptions serverOptions;
  serverOptions.extraArgs = {"--auth-token-ttl=1"};
  EtcdServer server(serverOptions);
  enableAuth(server);
  EtcdOptions options = optionsFor(server);
  options.username = "root";
  options.password = "s3cret";
  auto store = storeFor("v3", options);
  const auto lease = store->putWithTtl(kDir + "/10.0.0.1", "{}", 20);
  REQUIRE(lease);
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(milliseconds(2500));  // the token expires after 1 s unused
    const auto refreshed = store->refresh(*lease);
    INFO("round " << round << ": " << (refreshed ? "ok" : errorText(refreshed.error())));
    REQUIRE(refreshed);
  }
}

TEST_CASE("v3 auth with JWT tokens: an auth change means one new login, for every call", "[etcd]") {
  esetcd::testing::TestDir dir;
  EtcdServer server(esetcd::testing::jwtServerOptions(dir.path()));
  enableAuth(server);
  EtcdOptions options = optionsFor(server);
  options.username = "root";
  options.password = "s3cret";
  auto store = storeFor("v3", options);
  auto watcher = storeFor("v3", options);
  const auto lease = store->putWithTtl(kDir + "/10.0.0.1", "{}", 20);
  REQUIRE(lease);
  const auto before = watcher->list(kDir);
  REQUIRE(before);

  for (int change = 0; change < 2; ++change) {
    addUnrelatedUser(server, "other" + std::to_string(change));  // both tokens are now old
    const auto quiet = watcher->waitForChange(kDir, before->revision, milliseconds(300));
    INFO("watch: " << (quiet ? "ok" : errorText(quiet.error())));
    REQUIRE(quiet);
    CHECK_FALSE(quiet->changed);
    const auto refreshed = store->refresh(*lease);
    INFO("refresh: " << (refreshed ? "ok" : errorText(refreshed.error())));
    REQUIRE(refreshed);
    const auto listing = store->list(kDir);
    REQUIRE(listing);
    CHECK(listing->kvs.size() == 1);
  }
}

TEST_CASE("v3 auth: refused credentials or permissions are ErrorKind::Auth, with the fix",
          "[etcd]") {
  EtcdServer server;
  enableAuth(server);
  EtcdOptions options = optionsFor(server);

  // No user while etcd has auth on.
  const auto anonymous = storeFor("v3", options)->list(kDir);
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().kind == ErrorKind::Auth);
  CHECK_THAT(anonymous.error().message, Catch::Contains("ETCD_USERNAME"));

  options.username = "root";
  options.password = "wrong";
  const auto wrong = storeFor("v3", options)->putWithTtl(kDir + "/10.0.0.1", "{}", 10);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::Auth);
  CHECK_THAT(wrong.error().message, Catch::Contains("authentication failed") &&
                                        Catch::Contains("ETCD_PASSWORD") &&
                                        !Catch::Contains("wrong"));

  // A user whose roles grant nothing on the prefix: every call of ours, the watch included.
  options.username = "nobody";
  options.password = "n0pe";
  auto store = storeFor("v3", options);
  const auto listing = store->list(kDir);
  REQUIRE_FALSE(listing);
  CHECK(listing.error().kind == ErrorKind::Auth);
  CHECK(listing.error().code == codec::kGrpcPermissionDenied);
  CHECK_THAT(listing.error().message,
             Catch::Contains("permission denied") && Catch::Contains("nobody"));
  const auto put = store->putWithTtl(kDir + "/10.0.0.1", "{}", 10);
  REQUIRE_FALSE(put);
  CHECK(put.error().kind == ErrorKind::Auth);
  const auto watch = store->waitForChange(kDir, 1, milliseconds(500));
  REQUIRE_FALSE(watch);
  CHECK(watch.error().kind == ErrorKind::Auth);
}

TEST_CASE("the harness fails clearly when the etcd binary is missing", "[harness]") {
  const char* configured = std::getenv("ESETCD_TEST_ETCD");
  const std::string previous = configured != nullptr ? configured : "";
  ::setenv("ESETCD_TEST_ETCD", "/nonexistent/etcd", 1);
  CHECK_THROWS_WITH(EtcdServer(), Catch::Contains("/nonexistent/etcd"));
  if (configured != nullptr) {
    ::setenv("ESETCD_TEST_ETCD", previous.c_str(), 1);
  } else {
    ::unsetenv("ESETCD_TEST_ETCD");
  }
}
