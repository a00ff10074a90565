#include "status_server.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>

#include "identity.hpp"
#include "metrics.hpp"
#include "peers.hpp"
#include "status.hpp"

namespace esetcd {
namespace {

using Poco::Net::HTTPResponse;

void reply(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
           const std::string& type, const std::string& body, bool withBody) {
  response.setStatusAndReason(status);
  response.setContentType(type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.set("Cache-Control", "no-store");
  auto& out = response.send();
  if (withBody) out << body;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const std::string& method = request.getMethod();
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      response.set("Allow", "GET, HEAD");
      return reply(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain",
                   "only GET and HEAD\n", true);
    }
    std::string path = request.getURI().substr(0, request.getURI().find('?'));
    if (path == "/status")
      return reply(
          response, HTTPResponse::HTTP_OK, "application/json",
          statusJson(statusBoard().snapshot(), std::chrono::steady_clock::now(), wallClockMs()),
          !head);
    if (path == "/metrics")
      return reply(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                   formatExposition(metrics().snapshot()), !head);
    reply(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain",
          "es-etcd-entrypoint serves /status and /metrics\n", !head);
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler;
  }
};

// Linux binds every address of 127.0.0.0/8 (the loopback compose layout puts nodes on
// 127.0.0.2-4, one port each); otherwise the address must be one of an interface's.
bool isLocalAddress(const std::string& host) {
  if (host.rfind("127.", 0) == 0) return true;
  auto local = localAddresses();
  return std::any_of(local.begin(), local.end(),
                     [&host](const LocalAddress& a) { return a.address == host; });
}

bool isIpAddress(const std::string& host) {
  return host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

}  // namespace

std::string listenHost(const std::string& host, bool anyIfNotLocal) {
  if (!anyIfNotLocal || !isIpAddress(host) || isLocalAddress(host)) return host;
  return host.find(':') != std::string::npos ? "::" : "0.0.0.0";
}

std::string reachHost(const std::string& bound) {
  if (bound == "0.0.0.0") return "127.0.0.1";
  if (bound == "::") return "::1";
  return bound;
}

StatusServer::StatusServer() = default;

// Unused in the entrypoint (its server lives until _exit), kept correct: the pool is joined
// before the server goes, because a connection closing on a pool thread unregisters itself from
// the server's stop event.
StatusServer::~StatusServer() {
  if (!server_) return;
  server_->stopAll(true);
  pool_->joinAll();
  server_.reset();
}

Result<std::string> StatusServer::listen(const std::string& host, int port, bool anyIfNotLocal) {
  const std::string bindHost = listenHost(host, anyIfNotLocal);
  try {
    auto socket = std::make_unique<Poco::Net::ServerSocket>();
    socket->bind(Poco::Net::SocketAddress(bindHost, static_cast<Poco::UInt16>(port)), true);
    socket->listen(16);
    socket_ = std::move(socket);
  } catch (const Poco::Exception& e) {
    return Error{
        ErrorKind::System,
        "cannot listen on " + hostPort(bindHost, port) + " (STATUS_ADDR): " + e.displayText(),
        e.code()};
  }
  return hostPort(bindHost, port);
}

Result<Unit> StatusServer::serve() {
  if (!socket_ || server_) return Unit{};
  try {
    auto params = new Poco::Net::HTTPServerParams;
    // A scrape or a health check at a time is the load; more waits in the queue.
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setKeepAlive(false);
    params->setTimeout(Poco::Timespan(5, 0));
    pool_ = std::make_unique<Poco::ThreadPool>(1, 2, 60);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory, *pool_, *socket_, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    server_.reset();
    return Error{ErrorKind::System, "cannot serve /status: " + e.displayText(), e.code()};
  }
  return Unit{};
}

}  // namespace esetcd
