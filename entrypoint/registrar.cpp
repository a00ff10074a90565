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
                     int failureThreshold)
    : store_(store),
      key_(std::move(key)),
      value_(std::move(value)),
      ttlSeconds_(ttlSeconds),
      failureThreshold_(failureThreshold) {}

RegistrationAction Registrar::onProbe(bool healthy, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return RegistrationAction::None;
  // The probe's result is logged by the monitor, when it changes; here only what it leads to.
  RegistrationAction action = decideRegistration(state_, healthy, failureThreshold_);
  switch (action) {
    case RegistrationAction::Register:
      registerLocked();
      break;
    case RegistrationAction::Refresh:
      refreshLocked();
      break;
    case RegistrationAction::Deregister:
      deregisterLocked(std::to_string(state_.failures) + " failed health checks (" + reason + ")");
      break;
    case RegistrationAction::None:
      break;
  }
  return action;
}

void Registrar::registerLocked() {
  auto lease = store_.putWithTtl(key_, value_, ttlSeconds_);
  if (!lease) {
    reportFailure("cannot register " + key_ + ": ", lease.error());
    return;
  }
  failing_.reset();
  lease_ = lease.value();
  state_.registered = true;
  logInfo("registered " + key_ + " (ttl " + std::to_string(ttlSeconds_) + "s)");
}

void Registrar::refreshLocked() {
  auto refreshed = store_.refresh(*lease_);
  if (refreshed) {
    if (failing_) logInfo("refreshed " + key_ + " again");
    failing_.reset();
    return;
  }
  if (refreshed.error().kind == ErrorKind::LeaseLost) {
    // Expired during an etcd outage or revoked behind our back: a new lease, and the key again.
    logWarn("registration " + key_ + " was lost; registering again");
    state_.registered = false;
    registerLocked();
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
  if (error.kind != ErrorKind::Auth) {
    logWarn(what + error.message);
    return;
  }
  // A setting to fix, not an outage: an error, with what it does to the registration.
  logError(what + error.message +
           (state_.registered ? "; the registration lapses within " + std::to_string(ttlSeconds_) +
                                    "s while etcd refuses its refresh"
                              : "; this node stays unregistered while etcd refuses it"));
}

void Registrar::deregisterLocked(const std::string& why) {
  Lease lease = lease_.value_or(Lease{key_, value_, "", ttlSeconds_});
  auto removed = store_.remove(lease);
  if (!removed) {
    // The key still dies at its TTL: we stopped refreshing it.
    logWarn("cannot deregister " + key_ + " (it expires within " + std::to_string(ttlSeconds_) +
            "s): " + removed.error().message);
  } else {
    logInfo("deregistered " + key_ + ": " + why);
  }
  state_.registered = false;
  lease_.reset();
}

void Registrar::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (state_.registered) deregisterLocked("stopping");
}

bool Registrar::registered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_.registered;
}

}  // namespace esetcd
