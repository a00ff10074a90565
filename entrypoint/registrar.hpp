// Registrar: keeps this node's registration in etcd while, and only while, the node is healthy.
// The rules are a pure function; the class applies them to a Store and is safe to stop from
// another thread (the signal loop deregisters first thing on SIGTERM, through a connection of
// its own, without waiting for a refresh stuck in etcd).
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

// What a Registrar reports as it acts, for the status page and the metrics (status.hpp): called
// after etcd answered, never while the Registrar holds a lock the signal loop needs.
class RegistrarEvents {
 public:
  virtual ~RegistrarEvents() = default;
  virtual void registered(const Lease& lease) = 0;
  virtual void refreshed() = 0;
  // `reason`: "unhealthy" or "stopping".
  virtual void deregistered(const std::string& reason) = 0;
  virtual void leaseLost() = 0;
};

// How a Registrar names its record in logs: this node's registration, or its announcement.
enum class RecordKind { Registration, Announcement };

class Registrar {
 public:
  // `store` must not be shared with a thread that may block in it (watches).
  // `events` (may be null) hears of every registration, refresh and deletion.
  Registrar(Store& store, std::string key, std::string value, int ttlSeconds, int failureThreshold,
            RecordKind kind = RecordKind::Registration, RegistrarEvents* events = nullptr);

  // Applies one probe result. Returns the action taken (None when stopped). Probes are applied one
  // at a time; the etcd request runs without holding what stop() needs.
  RegistrationAction onProbe(bool healthy, const std::string& reason);

  // Refuses every later registration and deletes the current one through `via` (a connection
  // with the stop's own deadline), at once: never behind a probe whose request is still in
  // flight. A put in flight meanwhile is taken back by its own probe. Idempotent.
  void stop(Store& via);
  // The same through the registrar's own store.
  void stop();

  bool registered() const;
  const std::string& key() const { return key_; }

 private:
  void registerNow();
  void refreshNow();
  // `reason` is the metric's label ("unhealthy", "stopping"), `why` the log's words.
  void deregisterNow(Store& via, const std::string& reason, const std::string& why);
  void reportFailure(const std::string& what, const Error& error);
  // The event.action of a log line: "registered" or "announced", etc.
  std::string action(const char* registration, const char* announcement) const;

  std::mutex operationMutex_;      // one probe's action at a time; held during its request
  mutable std::mutex stateMutex_;  // state_, lease_, stopped_; never held during a request
  Store& store_;
  std::string key_;
  std::string value_;
  int ttlSeconds_;
  int failureThreshold_;
  RecordKind kind_;
  RegistrarEvents* events_;
  RegistrationState state_;
  std::optional<Lease> lease_;
  bool stopped_ = false;
  std::optional<ErrorKind> failing_;  // the kind of the last failed put or refresh, if failing
};

}  // namespace esetcd
