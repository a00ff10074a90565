// One HTTP request over libcurl, with a deadline, an optional abort flag and an optional
// streaming callback. No retries and no endpoint choice here: callers decide (see etcd_http.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace esetcd {

// How a server certificate is checked, named as Elasticsearch names its verification_mode.
enum class TlsVerify {
  Full,         // a trusted chain and a name matching the URL's host
  Certificate,  // a trusted chain; any name (a probe of 127.0.0.1 with a cert for the DNS name)
  None,         // nothing: encryption without authentication of the server
};

struct TlsOptions {
  std::string caFile;    // empty: probe the usual bundle paths (see tlsCaCandidates)
  std::string certFile;  // client certificate for mTLS, optional
  std::string keyFile;
  TlsVerify verify = TlsVerify::Full;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string contentType;           // e.g. "application/json"
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{2000};
  // Called with each chunk of the body as it arrives; return false to stop reading early
  // (used by watches). When set, HttpResponse::body stays empty.
  std::function<bool(std::string_view)> onData;
};

enum class HttpOutcome {
  Ok,         // a complete HTTP response (any status)
  Stopped,    // onData returned false: the caller has what it wanted
  Transport,  // could not connect, reset, DNS failure
  Tls,        // the TLS handshake failed: certificate not trusted, name mismatch, client
              // certificate missing or refused, bad CA/cert/key file, plain HTTP peer
  Timeout,    // deadline passed
  Aborted,    // the abort flag was raised
};

struct HttpResponse {
  HttpOutcome outcome = HttpOutcome::Transport;
  long status = 0;
  std::string body;
  std::string error;  // libcurl's message for Transport/Tls/Timeout
  long connects = 0;  // new connections this request opened (0: an open one was reused)
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
};

// The CA bundle paths probed, in order, when TlsOptions::caFile is empty: Debian/Ubuntu/Wolfi,
// RHEL/UBI, Alpine/macOS-style. A static OpenSSL only knows its build-time path otherwise.
const std::vector<std::string>& tlsCaCandidates();

// Performs one request. Thread-safe: each call uses its own easy handle. `abort` may be null.
HttpResponse httpPerform(const HttpRequest& request, const TlsOptions& tls,
                         const std::atomic<bool>* abort = nullptr);

// Must run once, before any thread exists (curl_global_init is not thread-safe).
void httpGlobalInit();

// Wakes every request waiting in libcurl, in any thread, so that it looks at its abort flag now.
// Call it after raising an abort flag. Thread-safe.
void httpWakeAll();

// What the requests of one thread watch besides their own transfer (httpWatchOnThisThread).
struct HttpThreadWatch {
  int fd = -1;  // -1: none
  // Called on the thread when fd is readable, before the request looks at its abort flag.
  std::function<void()> onReadable;
  // Called on the thread once per request that has waited `slowAfter`; null: never.
  std::function<void()> onSlow;
  std::chrono::milliseconds slowAfter{0};
};

// From now on every request of the calling thread also watches `watch`: how a stop signal ends a
// request of the start at once without a thread to watch for it (the start guard's signalfd,
// supervisor.hpp), and how a slow start gets on with what a quick one puts off. An empty
// HttpThreadWatch ends it. Other threads are not affected.
void httpWatchOnThisThread(HttpThreadWatch watch);

}  // namespace esetcd
