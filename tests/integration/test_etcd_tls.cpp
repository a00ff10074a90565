// Integration tests of the etcd client against a real etcd that requires client certificates
// (--client-cert-auth), with certificates made by scripts/certs.sh as a user makes them: with
// ETCD_CA_FILE + ETCD_CERT_FILE + ETCD_KEY_FILE both store APIs work over mutual TLS; without a
// client certificate, or with one from another CA, every call fails with a transport error that
// says what to set.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "etcd.hpp"
#include "etcd_server.hpp"

using namespace esetcd;
using esetcd::testing::EtcdServer;
using esetcd::testing::EtcdServerOptions;
using esetcd::testing::TestDir;
using esetcd::testing::TestPki;
using std::chrono::milliseconds;

namespace {

const std::string kDir = "/services/elasticsearch";

// One test's certificates and an etcd that demands a client certificate signed by their CA.
struct SecuredEtcd {
  TestDir dir;
  TestPki pki = esetcd::testing::makeTestPki(dir.path());
  EtcdServer etcd{serverOptions(pki)};

  static EtcdServerOptions serverOptions(const TestPki& pki) {
    EtcdServerOptions options;
    options.tls = esetcd::testing::mutualTls(pki);
    return options;
  }

  // What the entrypoint builds from ETCD_ENDPOINTS, ETCD_CA_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE.
  EtcdOptions client(const std::string& certFile, const std::string& keyFile,
                     const std::string& caFile = "") const {
    EtcdOptions options;
    options.endpoints = {etcd.clientUrl()};
    options.tls = TlsOptions{caFile.empty() ? pki.caFile : caFile, certFile, keyFile};
    options.timeout = milliseconds(2000);
    return options;
  }
};

std::unique_ptr<Store> storeFor(const std::string& api, EtcdOptions options) {
  auto made = makeStore(api, std::move(options));
  if (!made) FAIL("makeStore(" << api << "): " << made.error().message);
  return std::move(made.value());
}

std::string errorText(const Error& error) {
  return std::string(toString(error.kind)) + " (" + std::to_string(error.code) +
         "): " + error.message;
}

// The refusal a user sees: a transport failure (the endpoint is unusable, not an answer) whose
// message says it is TLS and which settings supply a client certificate.
void requireTlsRefusal(const Error& error) {
  INFO(errorText(error));
  CHECK(error.kind == ErrorKind::Transport);
  CHECK(error.message.find("TLS") != std::string::npos);
  CHECK(error.message.find("ETCD_CERT_FILE") != std::string::npos);
  CHECK(error.message.find("ETCD_KEY_FILE") != std::string::npos);
}

// A put by another client after `revision` wakes a watch from `revision` (a watch from a past
// revision sees it whichever comes first: no sleep decides the order).
void watchSeesAPut(Store& watcher, Store& writer, int64_t revision) {
  std::optional<Result<bool>> written;  // Catch's assertions are not for other threads
  std::thread put([&] { written = writer.createIfAbsent(kDir + "/10.0.0.2", "{}", 0); });
  const auto change = watcher.waitForChange(kDir, revision, milliseconds(10000));
  put.join();
  REQUIRE(written);
  CHECK(*written);
  REQUIRE(change);
  CHECK(change->changed);
}

}  // namespace

TEST_CASE("mutual TLS: the test etcd really demands a client certificate signed by its CA",
          "[etcd][tls]") {
  SecuredEtcd secured;
  HttpRequest health;
  health.url = secured.etcd.clientUrl() + "/health";
  // The twin of every test below: the harness's own request, with the client certificate.
  CHECK(secured.etcd.request("GET", "/health").status == 200);
  const auto bare = httpPerform(health, TlsOptions{secured.pki.caFile, "", ""});
  INFO("without a client certificate: " << bare.error);
  // Refused in the handshake (Tls) or, with TLS 1.3, by an alert or a close after it.
  CHECK((bare.outcome == HttpOutcome::Tls || bare.outcome == HttpOutcome::Transport));
  CHECK(bare.status == 0);
  const auto foreign = httpPerform(
      health,
      TlsOptions{secured.pki.caFile, secured.pki.otherClientCert, secured.pki.otherClientKey});
  INFO("with a client certificate from another CA: " << foreign.error);
  CHECK((foreign.outcome == HttpOutcome::Tls || foreign.outcome == HttpOutcome::Transport));
  CHECK(foreign.status == 0);
}

TEST_CASE("mutual TLS: the v3 store puts, lists and watches with ETCD_CERT_FILE and ETCD_KEY_FILE",
          "[etcd][tls]") {
  SecuredEtcd secured;
  const auto options = secured.client(secured.pki.clientCert, secured.pki.clientKey);

  // "auto" asks the cluster, over TLS, which API it serves.
  auto detected = makeStore("auto", options);
  REQUIRE(detected);
  CHECK(std::string(detected.value()->api()) == "v3");

  auto store = storeFor("v3", options);
  const auto lease = store->putWithTtl(kDir + "/10.0.0.1", R"({"node_name":"a"})", 10);
  REQUIRE(lease);
  auto listing = store->list(kDir);
  REQUIRE(listing);
  REQUIRE(listing->kvs.size() == 1);
  CHECK(listing->kvs[0].key == kDir + "/10.0.0.1");
  CHECK(store->refresh(*lease));

  watchSeesAPut(*store, *storeFor("v3", options), listing->revision);
  auto after = store->list(kDir);
  REQUIRE(after);
  CHECK(after->kvs.size() == 2);
  CHECK(store->remove(*lease));
}

TEST_CASE("mutual TLS: the v2 store works the same way", "[etcd][tls][v2]") {
  SecuredEtcd secured;
  auto store = storeFor("v2", secured.client(secured.pki.clientCert, secured.pki.clientKey));
  const auto lease = store->putWithTtl(kDir + "/10.0.0.1", "{}", 10);
  REQUIRE(lease);
  auto listing = store->list(kDir);
  REQUIRE(listing);
  CHECK(listing->kvs.size() == 1);
  watchSeesAPut(*store,
                *storeFor("v2", secured.client(secured.pki.clientCert, secured.pki.clientKey)),
                listing->revision);
}

TEST_CASE(
    "mutual TLS: without a client certificate, a transport error naming TLS, "
    "ETCD_CERT_FILE and ETCD_KEY_FILE",
    "[etcd][tls]") {
  SecuredEtcd secured;
  const auto options = secured.client("", "");  // ETCD_CA_FILE only

  // Each API's first call, and auto detection (the entrypoint's start-up default).
  auto v3 = storeFor("v3", options);
  const auto listing = v3->list(kDir);
  REQUIRE_FALSE(listing);
  requireTlsRefusal(listing.error());
  const auto put = v3->putWithTtl(kDir + "/10.0.0.1", "{}", 10);
  REQUIRE_FALSE(put);
  requireTlsRefusal(put.error());
  const auto v2 = storeFor("v2", options)->list(kDir);
  REQUIRE_FALSE(v2);
  requireTlsRefusal(v2.error());
  const auto detected = makeStore("auto", options);
  REQUIRE_FALSE(detected);
  requireTlsRefusal(detected.error());

  // Nothing got through: a client with a certificate does not find the key.
  const auto got = storeFor("v3", secured.client(secured.pki.clientCert, secured.pki.clientKey))
                       ->get(kDir + "/10.0.0.1");
  REQUIRE(got);
  CHECK_FALSE(got->has_value());
}

TEST_CASE("mutual TLS: a client certificate from another CA is refused as well", "[etcd][tls]") {
  SecuredEtcd secured;
  auto store =
      storeFor("v3", secured.client(secured.pki.otherClientCert, secured.pki.otherClientKey));
  const auto put = store->putWithTtl(kDir + "/10.0.0.1", "{}", 10);
  REQUIRE_FALSE(put);
  INFO(errorText(put.error()));
  CHECK(put.error().kind == ErrorKind::Transport);
  auto listing =
      storeFor("v3", secured.client(secured.pki.clientCert, secured.pki.clientKey))->list(kDir);
  REQUIRE(listing);
  CHECK(listing->kvs.empty());
}

TEST_CASE("mutual TLS: a client that trusts another CA refuses the etcd server", "[etcd][tls]") {
  SecuredEtcd secured;
  auto store = storeFor(
      "v3", secured.client(secured.pki.clientCert, secured.pki.clientKey, secured.pki.otherCaFile));
  const auto listing = store->list(kDir);
  REQUIRE_FALSE(listing);
  INFO(errorText(listing.error()));
  CHECK(listing.error().kind == ErrorKind::Transport);
}
