#include "etcd_http.hpp"

#include <utility>

#include "etcd_codec.hpp"
#include "log.hpp"

namespace esetcd {
namespace {

std::string joinUrl(std::string endpoint, const std::string& path) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + path;
}

bool isStreaming(const EtcdRequest& request) {
  return static_cast<bool>(request.onData) || request.longPoll;
}

// Whether the endpoint gave an answer we keep; anything else moves on to the next endpoint.
bool answered(const HttpResponse& response, const EtcdRequest& request) {
  switch (response.outcome) {
    case HttpOutcome::Ok:
      // 503: etcd's Unavailable (no leader, member stopping); another member may serve it.
      // Once a stream has an answer, its callback has seen data: replaying the request elsewhere
      // would mix two answers, so the caller gets this one (and may call skipEndpoint).
      return response.status != 503 || static_cast<bool>(request.onData);
    case HttpOutcome::Stopped:
      return true;
    case HttpOutcome::Transport:
    case HttpOutcome::Tls:
    case HttpOutcome::Timeout:
      return response.status != 0 && isStreaming(request);
    case HttpOutcome::Aborted:
      return true;
  }
  return false;
}

std::string describe(const HttpResponse& response) {
  if (response.outcome == HttpOutcome::Ok) return "HTTP status " + std::to_string(response.status);
  return response.error.empty() ? std::string("no answer") : response.error;
}

// What to check after a failed TLS handshake: the settings that feed it.
std::string tlsHint(const TlsOptions& tls) {
  const std::string ca = tls.caFile.empty() ? std::string("the system bundle") : tls.caFile;
  if (tls.certFile.empty())
    return "if etcd requires client certificates (--client-cert-auth), set ETCD_CERT_FILE and "
           "ETCD_KEY_FILE; the server certificate is checked against ETCD_CA_FILE (" +
           ca + ")";
  return "check ETCD_CA_FILE (" + ca + "), ETCD_CERT_FILE (" + tls.certFile +
         ") and ETCD_KEY_FILE (" + tls.keyFile + ")";
}

bool anyHttps(const std::vector<std::string>& endpoints) {
  for (const auto& e : endpoints)
    if (e.rfind("https:", 0) == 0) return true;
  return false;
}

// A server that refuses the client's certificate does not always say so: with TLS 1.3 the
// refusal comes after the handshake, and the client sees a reset, a closed connection or an
// alert on its first read or write. So on https, a lost connection gets the TLS hint too.
Error failure(const HttpResponse& last, size_t tried, const EtcdOptions& options) {
  const auto kind =
      last.outcome == HttpOutcome::Timeout ? ErrorKind::Timeout : ErrorKind::Transport;
  std::string message =
      "no etcd endpoint answered (" + std::to_string(tried) + " tried), last: " + describe(last);
  const bool refused = last.error.find("Connection refused") != std::string::npos ||
                       last.error.find("resolve") != std::string::npos;
  if (last.outcome == HttpOutcome::Tls)
    message += " (TLS handshake failed; " + tlsHint(options.tls) + ")";
  else if (last.outcome == HttpOutcome::Transport && anyHttps(options.endpoints) && !refused)
    message += " (TLS: " + tlsHint(options.tls) + ")";
  return Error{kind, message, 0};
}

}  // namespace

EtcdTransport::EtcdTransport(EtcdOptions options)
    : options_(std::move(options)),
      current_(options_.lastAnswered ? options_.lastAnswered
                                     : std::make_shared<std::atomic<size_t>>(0)) {}

std::string EtcdTransport::currentEndpoint() const {
  return options_.endpoints.empty() ? std::string()
                                    : options_.endpoints[*current_ % options_.endpoints.size()];
}

void EtcdTransport::dropToken() {
  std::lock_guard<std::mutex> lock(mutex_);
  token_.clear();
}

void EtcdTransport::skipEndpoint() {
  if (!options_.endpoints.empty()) *current_ = (*current_ + 1) % options_.endpoints.size();
}

HttpResponse EtcdTransport::sendTo(size_t index, const EtcdRequest& request,
                                   const std::vector<std::string>& headers) const {
  HttpRequest http;
  http.method = request.method;
  http.url = joinUrl(options_.endpoints[index], request.path);
  http.body = request.body;
  http.contentType = request.contentType;
  http.headers = headers;
  http.timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  if (auto left = timeLeft(); left && *left < http.timeout) http.timeout = *left;
  http.onData = request.onData;
  return httpPerform(http, options_.tls, options_.abort);
}

std::optional<std::chrono::milliseconds> EtcdTransport::timeLeft() const {
  if (!options_.deadline) return std::nullopt;
  const auto at = options_.deadline->load();
  if (at == 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::duration(std::max<std::chrono::steady_clock::rep>(at - now, 0)));
}

Result<HttpResponse> EtcdTransport::sendRotating(const EtcdRequest& request,
                                                 const std::vector<std::string>& headers) {
  const size_t count = options_.endpoints.size();
  if (count == 0) return Error{ErrorKind::Transport, "no etcd endpoint configured", 0};
  const size_t start = *current_ % count;
  HttpResponse last;
  size_t tried = 0;
  for (size_t attempt = 0; attempt < count; ++attempt, ++tried) {
    const size_t index = (start + attempt) % count;
    if (auto left = timeLeft(); left && left->count() <= 0) {
      if (attempt == 0) return Error{ErrorKind::Timeout, "etcd request not sent: time is up", 0};
      break;
    }
    if (options_.abort != nullptr && options_.abort->load())
      return Error{ErrorKind::Aborted, "etcd request aborted", 0};
    last = sendTo(index, request, headers);
    if (last.outcome == HttpOutcome::Aborted) {
      return Error{ErrorKind::Aborted, "etcd request aborted", 0};
    }
    if (answered(last, request)) {
      *current_ = index;
      return last;
    }
    logDebug("etcd " + options_.endpoints[index] + " " + request.path + ": " + describe(last) +
             (count > 1 ? ", trying the next endpoint" : ""));
  }
  // Every member said Unavailable: the body carries etcd's reason for the caller.
  if (last.outcome == HttpOutcome::Ok) return last;
  return failure(last, tried, options_);
}

Result<std::string> EtcdTransport::authenticate() {
  EtcdRequest request;
  request.path = "/v3/auth/authenticate";
  request.body = codec::v3AuthRequest(options_.username, options_.password);
  request.contentType = "application/json";
  auto response = sendRotating(request, {"Grpc-Metadata-hasleader: true"});
  if (!response) return response.error();
  if (auto error = codec::v3Error(response->status, response->body)) {
    error->message = "authenticate as " + options_.username + ": " + error->message;
    if (error->kind == ErrorKind::Auth)
      error->message += " (check ETCD_USERNAME and ETCD_PASSWORD)";
    return *error;
  }
  return codec::v3ParseAuthToken(response->body);
}

Result<std::string> EtcdTransport::token() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!token_.empty()) return token_;
  }
  // Two threads may authenticate at once; both tokens are valid, the last one is kept.
  auto fresh = authenticate();
  if (!fresh) return fresh;
  std::lock_guard<std::mutex> lock(mutex_);
  token_ = *fresh;
  return fresh;
}

Result<HttpResponse> EtcdTransport::v3(const EtcdRequest& request) {
  std::vector<std::string> headers = {"Grpc-Metadata-hasleader: true"};
  if (!hasCredentials()) return sendRotating(request, headers);
  for (int attempt = 0;; ++attempt) {
    auto current = token();
    if (!current) return current.error();
    // etcd 3.4 expects the bare token; "Bearer <token>" is rejected.
    headers.resize(1);
    headers.push_back("Authorization: " + *current);
    auto response = sendRotating(request, headers);
    if (!response || attempt > 0) return response;
    const auto error = codec::v3Error(response->status, response->body);
    if (!error || !codec::tokenRejected(*error)) return response;
    logDebug("etcd rejected the auth token (" + error->message + "), authenticating again");
    dropToken();
  }
}

Result<HttpResponse> EtcdTransport::v2(const EtcdRequest& request) {
  std::vector<std::string> headers;
  if (hasCredentials()) {
    headers.push_back("Authorization: Basic " +
                      codec::base64Encode(options_.username + ":" + options_.password));
  }
  return sendRotating(request, headers);
}

Result<HttpResponse> EtcdTransport::plain(const EtcdRequest& request) {
  return sendRotating(request, {});
}

}  // namespace esetcd
