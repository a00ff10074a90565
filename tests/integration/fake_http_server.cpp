#include "fake_http_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>

#include <sstream>
#include <utility>

namespace esetcd::testing {
namespace {

class FixedAnswer : public Poco::Net::HTTPRequestHandler {
 public:
  FixedAnswer(int status, const std::string& body) : status_(status), body_(body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    std::ostringstream ignored;
    Poco::StreamCopier::copyStream(request.stream(), ignored);  // read the body before answering
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status_));
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body_.size()));
    response.send() << body_;
  }

 private:
  int status_;
  const std::string& body_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(int status, std::string body, std::shared_ptr<std::atomic<int>> hits)
      : status_(status), body_(std::move(body)), hits_(std::move(hits)) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    ++*hits_;
    return new FixedAnswer(status_, body_);
  }

 private:
  int status_;
  std::string body_;
  std::shared_ptr<std::atomic<int>> hits_;
};

}  // namespace

FakeHttpServer::FakeHttpServer(int status, std::string body)
    : hits_(std::make_shared<std::atomic<int>>(0)), threads_(std::make_unique<Poco::ThreadPool>()) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  // One request per connection: a kept-alive connection would still be open on a pool thread
  // when the test ends, and Poco 1.11 lets such a connection unregister from the server's stop
  // event while the server is being destroyed (a data race ThreadSanitizer reported).
  auto* params = new Poco::Net::HTTPServerParams;
  params->setKeepAlive(false);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(status, std::move(body), hits_),
                                                    *threads_, socket, params);
  server_->start();
}

FakeHttpServer::~FakeHttpServer() {
  server_->stopAll(true);
  threads_->joinAll();
  server_.reset();
}

std::string FakeHttpServer::url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port());
}

}  // namespace esetcd::testing
