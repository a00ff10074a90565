// FakeHttpServer answers every request on a free loopback port with one fixed status and body,
// and counts the requests: it stands in for an unhealthy etcd member or a v2-only server.
#pragma once

#include <atomic>
#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace esetcd::testing {

class FakeHttpServer {
 public:
  FakeHttpServer(int status, std::string body);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::string url() const;
  int hits() const { return hits_->load(); }

 private:
  std::shared_ptr<std::atomic<int>> hits_;
  // Its own threads, joined by the destructor: with Poco's default pool they outlive the server
  // and race with the static destructors at exit (ThreadSanitizer saw it).
  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace esetcd::testing
