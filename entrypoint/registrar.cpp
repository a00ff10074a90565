#include "registrar.hpp"

#include "log.hpp"

namespace esetcd {

RegistrationAction decideRegistration(RegistrationState& state, bool healthy,
                                      int failureThreshold) {
  if (healthy) {
    state.failures = 0;
    return state.registered ? RegistrationAction::Refresh : RegistrationAction::Register;
  }
  ++state.failures;
  if (state.registered && state.failures >= failureThreshold) return RegistrationAction::Deregister;
  return RegistrationAction::None;
}

const char* toString(RegistrationAction action) {
  switch (action) {
    case RegistrationAction::None:
      return "none";
    case RegistrationAction::Register:
      return "register";
    case RegistrationAction::Refresh:
      return "refresh";
    case RegistrationAction::Deregister:
      return "deregister";
  }
  return "none";
}

Registrar::Registrar(Store& store, std::string key, std::string value, int ttlSeconds,
                     int failureThreshold, RecordKind kind, RegistrarEvents* events)
    : store_(store),
      key_(std::move(key)),
      value_(std::move(value)),
      ttlSeconds_(ttlSeconds),
      failureThreshold_(failureThreshold),
      kind_(kind),
      events_(events) {}

std::string Registrar::action(const char* registration, const char* announcement) const {
  return kind_ == RecordKind::Registration ? registration : announcement;
}

RegistrationAction Registrar::onProbe(bool healthy, const std::string& reason) {
  std::lock_guard<std::mutex> operation(operationMutex_);
  RegistrationAction action;
  {
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (stopped_) return RegistrationAction::None;
    // The probe's result is logged by the monitor, when it changes; here only what it leads to.
    action = decideRegistration(state_, healthy, failureThreshold_);
  }
  switch (action) {
    case RegistrationAction::Register:
      registerNow();
      break;
    case RegistrationAction::Refresh:
      refreshNow();
      break;
    case RegistrationAction::Deregister:
      deregisterNow(store_, "unhealthy",
                    std::to_string(state_.failures) + " failed health checks (" + reason + ")");
      break;
    case RegistrationAction::None:
      break;
  }
  return action;
}

void Registrar::registerNow() {
  auto lease = store_.putWithTtl(key_, value_, ttlSeconds_);
  if (!lease) {
    reportFailure("cannot register " + key_ + ": ", lease.error());
    return;
  }
  failing_.reset();
  bool kept = false;
  {
    // The event under the lock: a stop() cannot report its deletion before this registration.
    std::lock_guard<std::mutex> lock(stateMutex_);
    kept = !stopped_;
    if (kept) {
      lease_ = lease.value();
      state_.registered = true;
      if (events_) events_->registered(lease.value());
    }
  }
  if (kept) {
    logEvent(LogLevel::Info, action("registered", "announced"),
             "registered " + key_ + " (ttl " + std::to_string(ttlSeconds_) + "s)",
             {{"key", key_}, {"etcd.lease.id", lease->id}});
    return;
  }
  // stop() ran while this put was in flight and could not see it: take it back ourselves.
  auto removed = store_.remove(lease.value());
  if (!removed) return;
  logEvent(LogLevel::Info, action("deregistered", "announcement-deleted"),
           "deregistered " + key_ + ": stopping (its put was in flight)",
           {{"key", key_}, {"event.reason", "stopping"}});
  if (events_) events_->deregistered("stopping");
}

void Registrar::refreshNow() {
  std::optional<Lease> lease;
  {
    std::lock_guard<std::mutex> lock(stateMutex_);
    lease = lease_;
  }
  if (!lease) return;
  auto refreshed = store_.refresh(*lease);
  if (refreshed) {
    if (failing_) logInfo("refreshed " + key_ + " again");
    failing_.reset();
    if (events_) events_->refreshed();
    return;
  }
  if (refreshed.error().kind == ErrorKind::LeaseLost) {
    {
      std::lock_guard<std::mutex> lock(stateMutex_);
      if (stopped_) return;  // revoked by stop(): nothing to restore
      state_.registered = false;
      lease_.reset();
      if (events_) events_->leaseLost();
    }
    // Expired during an etcd outage or revoked behind our back: a new lease, and the key again.
    logEvent(LogLevel::Warn, action("lease-lost", "announcement-lost"),
             "registration " + key_ + " was lost; registering again", {{"key", key_}});
    registerNow();
    return;
  }
  reportFailure("cannot refresh " + key_ + ": ", refreshed.error());
}

void Registrar::reportFailure(const std::string& what, const Error& error) {
  // An etcd that stays away, or refuses our credentials, fails every probe the same way: say so
  // once, and again only when the failure changes.
  if (failing_ && *failing_ == error.kind) {
    logDebug(what + error.message);
    return;
  }
  failing_ = error.kind;
  const std::vector<LogField> fields = {
      {"key", key_}, {"event.reason", error.message}, {"error.type", toString(error.kind)}};
  if (error.kind != ErrorKind::Auth) {
    logEvent(LogLevel::Warn, "etcd-request-failed", what + error.message, fields);
    return;
  }
  // A setting to fix, not an outage: an error, with what it does to the registration.
  logEvent(
      LogLevel::Error, "etcd-auth-failed",
      what + error.message +
          (state_.registered ? "; the registration lapses within " + std::to_string(ttlSeconds_) +
                                   "s while etcd refuses its refresh"
                             : "; this node stays unregistered while etcd refuses it"),
      fields);
}

void Registrar::deregisterNow(Store& via, const std::string& reason, const std::string& why) {
  Lease lease;
  {
    std::lock_guard<std::mutex> lock(stateMutex_);
    lease = lease_.value_or(Lease{key_, value_, "", ttlSeconds_});
  }
  auto removed = via.remove(lease);
  if (!removed) {
    // The key still dies at its TTL: we stopped refreshing it.
    logWarn("cannot deregister " + key_ + " (it expires within " + std::to_string(ttlSeconds_) +
            "s): " + removed.error().message);
  } else {
    logEvent(LogLevel::Info, action("deregistered", "announcement-deleted"),
             "deregistered " + key_ + ": " + why, {{"key", key_}, {"event.reason", reason}});
  }
  std::lock_guard<std::mutex> lock(stateMutex_);
  state_.registered = false;
  lease_.reset();
  if (events_) events_->deregistered(reason);
}

void Registrar::stop(Store& via) {
  {
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (stopped_) return;
    stopped_ = true;
    if (!state_.registered) return;
  }
  // Never behind operationMutex_: a refresh stuck in an etcd that does not answer holds it.
  deregisterNow(via, "stopping", "stopping");
}

void Registrar::stop() {
  stop(store_);
}

bool Registrar::registered() const {
  std::lock_guard<std::mutex> lock(stateMutex_);
  return state_.registered;
}

}  // namespace esetcd
