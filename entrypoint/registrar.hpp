// Registrar: keeps this node's registration in etcd while, and only while, the node is healthy.
// The rules are a pure function; the class applies them to a Store and is safe to stop from
// another thread (the signal loop deregisters first thing on SIGTERM).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "etcd_store.hpp"

namespace esetcd {

struct RegistrationState {
  bool registered = false;
  int failures = 0;  // consecutive failed probes
};

enum class RegistrationAction { None, Register, Refresh, Deregister };

// The rules: a healthy probe registers or refreshes; a failed probe never refreshes (so the key
// dies one TTL after the last healthy probe even if we cannot reach etcd to delete it), and the
// failureThreshold-th failure in a row deletes the key at once. Updates `failures` only; the
// caller sets `registered` from what etcd answered.
RegistrationAction decideRegistration(RegistrationState& state, bool healthy, int failureThreshold);

const char* toString(RegistrationAction action);

class Registrar {
 public:
  // `store` must not be shared with a thread that may block in it (watches): stop() needs it.
  Registrar(Store& store, std::string key, std::string value, int ttlSeconds, int failureThreshold);

  // Applies one probe result. Returns the action taken (None when stopped).
  RegistrationAction onProbe(bool healthy, const std::string& reason);

  // Deletes the registration now and refuses every later one. Idempotent.
  void stop();

  bool registered() const;
  const std::string& key() const { return key_; }

 private:
  void registerLocked();
  void refreshLocked();
  void deregisterLocked(const std::string& why);
  void reportFailure(const std::string& what, const Error& error);

  mutable std::mutex mutex_;
  Store& store_;
  std::string key_;
  std::string value_;
  int ttlSeconds_;
  int failureThreshold_;
  RegistrationState state_;
  std::optional<Lease> lease_;
  bool stopped_ = false;
  std::optional<ErrorKind> failing_;  // the kind of the last failed put or refresh, if failing
};

}  // namespace esetcd
