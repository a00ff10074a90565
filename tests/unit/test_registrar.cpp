#include <catch2/catch.hpp>

#include "../fakes/memory_store.hpp"
#include "registrar.hpp"

using namespace esetcd;
using esetcd::testing::MemoryStore;

TEST_CASE("rules: healthy registers then refreshes, failures never refresh") {
  RegistrationState s;
  CHECK(decideRegistration(s, false, 3) == RegistrationAction::None);
  CHECK(decideRegistration(s, true, 3) == RegistrationAction::Register);
  CHECK(s.failures == 0);
  s.registered = true;
  CHECK(decideRegistration(s, true, 3) == RegistrationAction::Refresh);
  CHECK(decideRegistration(s, false, 3) == RegistrationAction::None);
  CHECK(decideRegistration(s, false, 3) == RegistrationAction::None);
  CHECK(decideRegistration(s, false, 3) == RegistrationAction::Deregister);
  s.registered = false;
  CHECK(decideRegistration(s, false, 3) == RegistrationAction::None);
  CHECK(decideRegistration(s, true, 3) == RegistrationAction::Register);
}

TEST_CASE("rules: a success resets the failure count") {
  RegistrationState s{true, 0};
  decideRegistration(s, false, 2);
  decideRegistration(s, true, 2);
  CHECK(decideRegistration(s, false, 2) == RegistrationAction::None);
  CHECK(decideRegistration(s, false, 2) == RegistrationAction::Deregister);
}

TEST_CASE("threshold 1 deregisters on the first failure") {
  RegistrationState s{true, 0};
  CHECK(decideRegistration(s, false, 1) == RegistrationAction::Deregister);
}

TEST_CASE("registrar keeps the key only while healthy") {
  MemoryStore store;
  Registrar r(store, "/es/10.0.0.1", "{}", 10, 2);
  r.onProbe(false, "starting");
  CHECK_FALSE(store.has("/es/10.0.0.1"));
  r.onProbe(true, "");
  CHECK(store.has("/es/10.0.0.1"));
  CHECK(r.registered());
  r.onProbe(true, "");
  CHECK(store.refreshes == 1);
  r.onProbe(false, "503");
  CHECK(store.has("/es/10.0.0.1"));
  CHECK(store.refreshes == 1);
  r.onProbe(false, "503");
  CHECK_FALSE(store.has("/es/10.0.0.1"));
  CHECK_FALSE(r.registered());
  r.onProbe(true, "");
  CHECK(store.has("/es/10.0.0.1"));
}

TEST_CASE("an unrefreshed key dies at its TTL even when etcd refuses the delete") {
  MemoryStore store;
  Registrar r(store, "/es/a", "{}", 10, 3);
  r.onProbe(true, "");
  store.advance(6);
  r.onProbe(false, "timeout");
  store.advance(6);
  CHECK_FALSE(store.has("/es/a"));
}

TEST_CASE("a lost lease is re-granted and the key put again") {
  MemoryStore store;
  Registrar r(store, "/es/a", "{}", 10, 3);
  r.onProbe(true, "");
  store.erase("/es/a");  // revoked behind our back
  r.onProbe(true, "");
  CHECK(store.has("/es/a"));
  CHECK(store.puts == 2);
  CHECK(r.registered());
}

TEST_CASE("etcd down: registering is retried on the next healthy probe") {
  MemoryStore store;
  Registrar r(store, "/es/a", "{}", 10, 3);
  store.failWith(Error{ErrorKind::Transport, "connection refused", 0});
  r.onProbe(true, "");
  CHECK_FALSE(r.registered());
  store.failWith(std::nullopt);
  r.onProbe(true, "");
  CHECK(r.registered());
  CHECK(store.has("/es/a"));
}

TEST_CASE("stop deregisters at once and refuses later registrations") {
  MemoryStore store;
  Registrar r(store, "/es/a", "{}", 10, 3);
  r.onProbe(true, "");
  r.stop();
  CHECK_FALSE(store.has("/es/a"));
  CHECK(r.onProbe(true, "") == RegistrationAction::None);
  CHECK_FALSE(store.has("/es/a"));
  r.stop();
  CHECK(store.removes == 1);
}
