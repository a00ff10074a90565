// EtcdTransport sends one etcd request to the first configured endpoint that answers, rotating on
// transport errors, timeouts and 503 (each endpoint at most once per call), and keeps the v3 auth
// token; it knows the URL layout and headers of etcd, not the meaning of the bodies. Every
// transport of one process shares the memory of which endpoint answered last (a black-holed
// endpoint costs one timeout per process, not one per connection), and a request never outlives
// the transport's deadline or abort flag.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http.hpp"
#include "result.hpp"

namespace esetcd {

// The index of the endpoint that answered last, shared by every transport of a process.
using EndpointMemory = std::shared_ptr<std::atomic<size_t>>;

// A point in time after which no request may run, shared and movable: the start-up's
// ETCD_START_TIMEOUT, a stop's STOP_DEREGISTER_TIMEOUT. 0 (the default) means none.
using Deadline = std::shared_ptr<std::atomic<std::chrono::steady_clock::rep>>;

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://host:port" or "https://host:port"
  TlsOptions tls;
  std::chrono::milliseconds timeout{2000};  // per endpoint attempt
  std::string username;                     // empty: no authentication (v3 token, v2 basic auth)
  std::string password;
  const std::atomic<bool>* abort = nullptr;  // raised: every request ends with Aborted
  EndpointMemory lastAnswered;               // null: this transport's own
  Deadline deadline;                         // null or 0: none; passed: Timeout, no request
};

struct EtcdRequest {
  std::string method = "POST";
  std::string path;  // "/v3/kv/range", "/v2/keys/a?recursive=true"
  std::string body;
  std::string contentType;
  std::chrono::milliseconds timeout{0};  // 0: EtcdOptions::timeout
  // Streams the body (see HttpRequest::onData). Such a request is never replayed on another
  // endpoint once the endpoint has answered, since the callback has already seen data.
  std::function<bool(std::string_view)> onData;
  // A long-poll (watch): a timeout after the status line is an answer ("nothing happened"),
  // returned with HttpOutcome::Timeout, not a failure of the endpoint.
  bool longPoll = false;
};

class EtcdTransport {
 public:
  explicit EtcdTransport(EtcdOptions options);
  EtcdTransport(const EtcdTransport&) = delete;
  EtcdTransport& operator=(const EtcdTransport&) = delete;

  // A v3 gateway request. Adds `Grpc-Metadata-hasleader: true` so that a member without a leader
  // fails fast with 503, and the auth token when credentials are set; authenticates lazily, and
  // once more, then retries once, when etcd rejects the token (codec::tokenRejected: invalid,
  // expired, or issued before an auth change). Refused credentials: ErrorKind::Auth.
  // ok: an endpoint answered, with any HTTP status (a 503 only if every endpoint gave one).
  // Error: Transport or Timeout when no endpoint answered, Aborted when the flag was raised.
  Result<HttpResponse> v3(const EtcdRequest& request);

  // The same for the v2 keys API (HTTP basic auth when credentials are set).
  Result<HttpResponse> v2(const EtcdRequest& request);

  // The same without any etcd header or credential (health, version, API detection).
  Result<HttpResponse> plain(const EtcdRequest& request);

  // Forgets the token: a watch learns of its rejection only from the stream's cancel reason.
  void dropToken();

  // Starts the next request at the next endpoint: a streamed answer (watch) is never rotated
  // away from, so its reader reports Unavailable through this.
  void skipEndpoint();

  bool hasCredentials() const { return !options_.username.empty(); }
  const EtcdOptions& options() const { return options_; }
  // The endpoint the next request goes to first: the last one that answered.
  std::string currentEndpoint() const;

 private:
  // Until the deadline, when there is one (never negative).
  std::optional<std::chrono::milliseconds> timeLeft() const;
  Result<HttpResponse> sendRotating(const EtcdRequest& request,
                                    const std::vector<std::string>& headers);
  HttpResponse sendTo(size_t index, const EtcdRequest& request,
                      const std::vector<std::string>& headers) const;
  Result<std::string> token();
  Result<std::string> authenticate();

  const EtcdOptions options_;
  mutable std::mutex mutex_;  // guards token_; never held during a request
  EndpointMemory current_;
  std::string token_;
};

}  // namespace esetcd
