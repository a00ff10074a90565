// A stand-in for Elasticsearch's HTTP API, used only as the supervised command in the
// registration scenario (never as proof that clusters form). GET /_cluster/state/master_node
// answers like a node that has joined a cluster (a master and a cluster UUID) while the state
// file says "healthy", and like a node without a master (503) otherwise. SIGTERM ends it with
// status 143, as Elasticsearch does.
//
// Usage: standin_es PORT STATE_FILE [ignored Elasticsearch arguments...]
// It writes its arguments, one per line, to STATE_FILE.args and its environment to
// STATE_FILE.env so tests can check them, and appends one line per request it answered to
// STATE_FILE.requests ("200", "401", ...), so that a test can wait for the next probes.
// Secured like Elasticsearch 8 when asked through its environment:
//   STANDIN_TLS_CERT, STANDIN_TLS_KEY   serve HTTPS with this certificate (PEM files)
//   STANDIN_AUTHORIZATION               the one Authorization header accepted; others get 401
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

std::string stateFile;

bool healthy() {
  std::ifstream in(stateFile);
  std::string word;
  in >> word;
  return word == "healthy";
}

// The cluster UUID it claims: STANDIN_CLUSTER_UUID, so a test can fake a split cluster.
std::string clusterUuid() {
  const char* uuid = std::getenv("STANDIN_CLUSTER_UUID");
  return uuid ? uuid : "standin-cluster-uuid";
}

const char* envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

void recordRequest(int status) {
  std::ofstream(stateFile + ".requests", std::ios::app) << status << "\n";
}

// With a length, the connection stays open for the next request, as Elasticsearch keeps it:
// without one, Poco would close it after every answer.
void reply(Poco::Net::HTTPServerResponse& response, const std::string& body) {
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

class Health : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const std::string expected = envOr("STANDIN_AUTHORIZATION", "");
    if (!expected.empty() && request.get("Authorization", "") != expected) {
      // What Elasticsearch answers to missing or wrong credentials.
      response.setStatus(Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED);
      response.set("WWW-Authenticate", "Basic realm=\"security\", charset=\"UTF-8\"");
      response.setContentType("application/json");
      reply(response, R"({"error":{"type":"security_exception"},"status":401})");
      recordRequest(401);
      return;
    }
    const std::string& uri = request.getURI();
    bool ok = healthy() && uri.rfind("/_cluster/state/master_node", 0) == 0;
    response.setStatus(ok ? Poco::Net::HTTPResponse::HTTP_OK
                          : Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    response.setContentType("application/json");
    if (ok)
      reply(response, R"({"cluster_name":"standin","cluster_uuid":")" + clusterUuid() +
                          R"(","master_node":"standin-master"})");
    else
      reply(response, R"({"error":{"type":"master_not_discovered_exception"},"status":503})");
    recordRequest(ok ? 200 : 503);
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Health;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: standin_es PORT STATE_FILE [args...]\n";
    return 2;
  }
  // Block the stop signals before Poco starts its threads, then wait for one synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  stateFile = argv[2];
  // Written whole and renamed into place: a test that sees the file sees all of it.
  {
    std::ofstream args(stateFile + ".args.tmp");
    for (int i = 3; i < argc; ++i) args << argv[i] << "\n";
  }
  std::rename((stateFile + ".args.tmp").c_str(), (stateFile + ".args").c_str());
  {
    extern char** environ;
    std::ofstream env(stateFile + ".env.tmp");
    for (char** e = environ; *e; ++e) env << *e << "\n";
  }
  std::rename((stateFile + ".env.tmp").c_str(), (stateFile + ".env").c_str());
  const Poco::Net::SocketAddress address("127.0.0.1",
                                         static_cast<Poco::UInt16>(std::stoi(argv[1])));
  const std::string cert = envOr("STANDIN_TLS_CERT", "");
  Poco::Net::ServerSocket socket;
  if (cert.empty()) {
    socket = Poco::Net::ServerSocket(address);
  } else {
    Poco::Net::initializeSSL();
    Poco::Net::Context::Ptr context(new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE,
                                                           envOr("STANDIN_TLS_KEY", ""), cert, "",
                                                           Poco::Net::Context::VERIFY_NONE));
    socket = Poco::Net::SecureServerSocket(address, 64, context);
  }
  Poco::Net::HTTPServer server(new Factory, socket, new Poco::Net::HTTPServerParams);
  server.start();
  int sig = 0;
  sigwait(&set, &sig);
  server.stopAll(true);
  return 128 + sig;
}
