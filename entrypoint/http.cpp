#include "http.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
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

// One easy handle per thread, reset before each request: libcurl keeps its connection cache in
// the handle, so the monitor's probes, refreshes and watches reuse their connections instead of
// opening one per request (CPU at idle), and a thread never shares a handle.
CURL* threadHandle() {
  struct Handle {
    CURL* curl = curl_easy_init();
    ~Handle() {
      if (curl != nullptr) curl_easy_cleanup(curl);
    }
  };
  thread_local Handle handle;
  if (handle.curl != nullptr) curl_easy_reset(handle.curl);
  return handle.curl;
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
  CURL* curl = threadHandle();
  if (curl == nullptr) {
    response.error = "curl_easy_init failed";
    return response;
  }
  Transfer transfer{&request, abort, &response, false};
  char errorBuffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // Signals belong to the PID-1 loop; libcurl must never install handlers or use alarm().
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  setTimeouts(curl, request.timeout);
  setMethodAndBody(curl, request);
  setTls(curl, tls);
  setCallbacks(curl, transfer);
  curl_slist* headers = buildHeaders(request);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.connects);
  const char* message = errorBuffer[0] != '\0' ? errorBuffer : curl_easy_strerror(code);
  response.outcome = outcomeOf(code, transfer, message);
  if (response.outcome == HttpOutcome::Transport || response.outcome == HttpOutcome::Tls ||
      response.outcome == HttpOutcome::Timeout) {
    response.error = message;
  }
  // The handle keeps pointers to these until the next reset: clear them now.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  return response;
}

void httpGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace esetcd
