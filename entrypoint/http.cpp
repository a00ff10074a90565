#include "http.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>
#include <string>

#include "text.hpp"

namespace esetcd {
namespace {

// A connect to a live member takes milliseconds; waiting longer only delays the rotation to the
// next endpoint, while long-polls still get their full request timeout for the answer.
constexpr std::chrono::milliseconds kMaxConnectTimeout{2000};

struct Transfer {
  const HttpRequest* request = nullptr;
  const std::atomic<bool>* abort = nullptr;
  HttpResponse* response = nullptr;
  bool stopped = false;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (!transfer->request->onData) {
    transfer->response->body.append(data, length);
    return length;
  }
  if (transfer->request->onData(std::string_view(data, length))) return length;
  transfer->stopped = true;
  return 0;  // makes libcurl end the transfer with CURLE_WRITE_ERROR
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line(data, length);
  // A new status line starts a new header block (after "100 Continue"): forget the old one.
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response->headers.clear();
    return length;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response->headers.emplace_back(lowerCase(trim(line.substr(0, colon))),
                                             trim(line.substr(colon + 1)));
  }
  return length;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  // libcurl calls this about once a second even while a long-poll is idle, which bounds the
  // latency of an abort.
  const auto* transfer = static_cast<Transfer*>(user);
  return transfer->abort != nullptr && transfer->abort->load() ? 1 : 0;
}

// Opens every socket with SOCK_CLOEXEC: the supervised child must inherit no etcd connection, and
// setting the flag atomically leaves no window for a concurrent fork/spawn.
curl_socket_t openSocket(void*, curlsocktype, struct curl_sockaddr* address) {
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

const std::string& probedCaFile() {
  static const std::string found = [] {
    for (const auto& path : tlsCaCandidates()) {
      if (::access(path.c_str(), R_OK) == 0) return path;
    }
    return std::string();
  }();
  return found;
}

void setTls(CURL* curl, const TlsOptions& tls) {
  const std::string& caFile = tls.caFile.empty() ? probedCaFile() : tls.caFile;
  if (!caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, caFile.c_str());
  if (!tls.certFile.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.certFile.c_str());
  if (!tls.keyFile.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.keyFile.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, tls.verify == TlsVerify::None ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls.verify == TlsVerify::Full ? 2L : 0L);
}

void setMethodAndBody(CURL* curl, const HttpRequest& request) {
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
  }
}

curl_slist* buildHeaders(const HttpRequest& request) {
  curl_slist* list = nullptr;
  // etcd answers at once; a 100-continue round trip would only add latency.
  list = curl_slist_append(list, "Expect:");
  if (!request.contentType.empty()) {
    list = curl_slist_append(list, ("Content-Type: " + request.contentType).c_str());
  }
  for (const auto& header : request.headers) list = curl_slist_append(list, header.c_str());
  return list;
}

void setTimeouts(CURL* curl, std::chrono::milliseconds timeout) {
  const auto total = std::max(timeout, std::chrono::milliseconds(1));
  const auto connect = std::min(total, kMaxConnectTimeout);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
}

void setCallbacks(CURL* curl, Transfer& transfer) {
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, openSocket);
}

// Whether a failed transfer failed in TLS. With TLS 1.3 a server that refuses the client's
// certificate says so in an alert that arrives after the handshake, on the first read.
bool isTlsFailure(CURLcode code, const char* message) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      return std::string_view(message).find("SSL") != std::string_view::npos;
    default:
      return false;
  }
}

HttpOutcome outcomeOf(CURLcode code, const Transfer& transfer, const char* message) {
  if (code == CURLE_OK) return HttpOutcome::Ok;
  if (transfer.stopped) return HttpOutcome::Stopped;
  if (code == CURLE_ABORTED_BY_CALLBACK) return HttpOutcome::Aborted;
  if (code == CURLE_OPERATION_TIMEDOUT) return HttpOutcome::Timeout;
  if (isTlsFailure(code, message)) return HttpOutcome::Tls;
  return HttpOutcome::Transport;
}

// Every thread's multi handle, so that an abort can wake them all (curl_multi_wakeup is the one
// libcurl call that is safe from another thread).
std::mutex gMultisMutex;
std::set<CURLM*> gMultis;

// One easy and one multi handle per thread, the easy one reset before each request: the multi
// handle keeps the connection cache, so the monitor's probes, refreshes and watches reuse their
// connections instead of opening one per request (CPU at idle), and a thread never shares a
// handle. The multi interface lets an abort end a request at once instead of at libcurl's next
// progress call (up to a second later).
struct ThreadHandles {
  CURL* easy = curl_easy_init();
  CURLM* multi = curl_multi_init();
  ThreadHandles() {
    std::lock_guard<std::mutex> lock(gMultisMutex);
    if (multi != nullptr) gMultis.insert(multi);
  }
  ~ThreadHandles() {
    {
      std::lock_guard<std::mutex> lock(gMultisMutex);
      gMultis.erase(multi);
    }
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

ThreadHandles& threadHandles() {
  thread_local ThreadHandles handles;
  if (handles.easy != nullptr) curl_easy_reset(handles.easy);
  return handles;
}

HttpThreadWatch& threadWatch() {
  thread_local HttpThreadWatch watch;
  return watch;
}

// How long the next poll may wait: a second (libcurl's own timers come first), less when the
// watch's slowAfter comes sooner.
int pollTimeoutMs(const HttpThreadWatch& watch, bool slowCalled,
                  std::chrono::steady_clock::time_point started) {
  if (!watch.onSlow || slowCalled) return 1000;
  const auto left = watch.slowAfter - (std::chrono::steady_clock::now() - started);
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 1000));
}

// curl_easy_perform through the thread's multi handle, checking `abort` whenever libcurl waits;
// a wake-up (httpWakeAll), the watched fd or a second without news ends the wait early.
CURLcode performAbortable(ThreadHandles& h, const std::atomic<bool>* abort) {
  if (curl_multi_add_handle(h.multi, h.easy) != CURLM_OK) return CURLE_FAILED_INIT;
  const HttpThreadWatch& watch = threadWatch();
  const auto started = std::chrono::steady_clock::now();
  bool slowCalled = false;
  curl_waitfd watched{watch.fd, CURL_WAIT_POLLIN, 0};
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(h.multi, &running) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(h.multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h.easy) result = msg->data.result;
      }
      break;
    }
    if (abort != nullptr && abort->load()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (watch.onSlow && !slowCalled &&
        std::chrono::steady_clock::now() - started >= watch.slowAfter) {
      slowCalled = true;
      watch.onSlow();
    }
    watched.revents = 0;
    const bool watching = watch.fd >= 0;
    curl_multi_poll(h.multi, watching ? &watched : nullptr, watching ? 1 : 0,
                    pollTimeoutMs(watch, slowCalled, started), nullptr);
    if (watched.revents != 0 && watch.onReadable) watch.onReadable();
  }
  curl_multi_remove_handle(h.multi, h.easy);
  return result;
}

}  // namespace

const std::vector<std::string>& tlsCaCandidates() {
  static const std::vector<std::string> paths = {
      "/etc/ssl/certs/ca-certificates.crt",
      "/etc/pki/tls/certs/ca-bundle.crt",
      "/etc/ssl/cert.pem",
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
      "/etc/ssl/ca-bundle.pem",
  };
  return paths;
}

HttpResponse httpPerform(const HttpRequest& request, const TlsOptions& tls,
                         const std::atomic<bool>* abort) {
  HttpResponse response;
  if (abort != nullptr && abort->load()) {
    response.outcome = HttpOutcome::Aborted;
    return response;
  }
  ThreadHandles& handles = threadHandles();
  CURL* curl = handles.easy;
  if (curl == nullptr || handles.multi == nullptr) {
    response.error = "curl_easy_init or curl_multi_init failed";
    return response;
  }
  Transfer transfer{&request, abort, &response, false};
  char errorBuffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // Signals belong to the PID-1 loop; libcurl must never install handlers or use alarm().
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // The smallest send buffer libcurl takes (16 KiB) instead of its 64 KiB, which it zeroes on the
  // first request of every handle: 12 pages touched at each start for bodies of a few hundred bytes
  // (a larger body is sent in more rounds).
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  setTimeouts(curl, request.timeout);
  setMethodAndBody(curl, request);
  setTls(curl, tls);
  setCallbacks(curl, transfer);
  curl_slist* headers = buildHeaders(request);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = performAbortable(handles, abort);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.connects);
  const char* message = errorBuffer[0] != '\0' ? errorBuffer : curl_easy_strerror(code);
  response.outcome = outcomeOf(code, transfer, message);
  if (response.outcome == HttpOutcome::Transport || response.outcome == HttpOutcome::Tls ||
      response.outcome == HttpOutcome::Timeout) {
    // mbedTLS's verification reasons (the static binary's TLS) end in a newline.
    response.error = trim(message);
  }
  // The handle keeps pointers to these until the next reset: clear them now.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  return response;
}

void httpWakeAll() {
  std::lock_guard<std::mutex> lock(gMultisMutex);
  for (CURLM* multi : gMultis) curl_multi_wakeup(multi);
}

void httpWatchOnThisThread(HttpThreadWatch watch) {
  threadWatch() = std::move(watch);
}

void httpGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace esetcd
