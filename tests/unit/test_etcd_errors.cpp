// Every error answer captured from real etcd servers (tests/fixtures/etcd_errors, one directory
// per version) is classified the way the client must act on it: a rejected token means one new
// login and a retry, refused credentials or permissions are a setting to fix (ErrorKind::Auth),
// no leader means another member. The table names each file, so a missing capture fails too.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "etcd_codec.hpp"

#ifndef ETCD_ERRORS_DIR
#error "ETCD_ERRORS_DIR (tests/fixtures/etcd_errors) must be defined by the build"
#endif

using namespace esetcd;
using namespace esetcd::codec;

namespace {

enum class Expect { NewLogin, BadCredentials, PermissionDenied, Unavailable };

struct Answer {
  long status = 0;
  std::string body;
};

Answer readAnswer(const std::string& version, const std::string& name) {
  const std::string path = std::string(ETCD_ERRORS_DIR) + "/" + version + "/" + name + ".http";
  std::ifstream file(path);
  INFO(path);
  REQUIRE(file);
  std::string statusLine;
  std::getline(file, statusLine);
  REQUIRE(statusLine.rfind("HTTP ", 0) == 0);
  std::stringstream rest;
  rest << file.rdbuf();
  return Answer{std::stol(statusLine.substr(5)), rest.str()};
}

// The error the client sees, through the decoder its call uses: a watch reads its stream line by
// line; a keepalive is a one-message stream; every other call is unary.
Error errorOf(const std::string& name, const Answer& answer) {
  const bool watch = name.find(".watch") != std::string::npos;
  if (!watch || answer.status != 200) {
    if (auto error = v3Error(answer.status, answer.body)) return *error;
    REQUIRE(name.find(".keepalive") != std::string::npos);
    const auto ttl = v3ParseKeepAlive(answer.body);
    REQUIRE_FALSE(ttl);
    return ttl.error();
  }
  const auto message = v3ParseWatchMessage(answer.body.substr(0, answer.body.find('\n')));
  REQUIRE_FALSE(message);
  return message.error();
}

const char* const kVersions[] = {"3.4.23", "3.5.35", "3.6.16", "3.7.3"};

struct Case {
  const char* name;
  Expect expect;
  bool checkedBy34 = true;  // 3.4 does not auth-check lease keepalive: no error to capture
};

const Case kCases[] = {
    {"token-invalid.range", Expect::NewLogin},
    {"token-invalid.keepalive", Expect::NewLogin, false},
    {"token-invalid.watch", Expect::NewLogin},
    {"token-expired.range", Expect::NewLogin},
    {"token-expired.keepalive", Expect::NewLogin, false},
    {"token-expired.watch", Expect::NewLogin},
    // A JWT from before an auth change; no version rejects it on keepalive.
    {"revision-old.range", Expect::NewLogin},
    {"revision-old.watch", Expect::NewLogin},
    {"permission-denied.range", Expect::PermissionDenied},
    {"permission-denied.put", Expect::PermissionDenied},
    {"permission-denied.watch", Expect::PermissionDenied},
    {"auth-failed.password", Expect::BadCredentials},
    {"auth-failed.user", Expect::BadCredentials},
    {"user-empty.range", Expect::BadCredentials},
    {"no-leader.range", Expect::Unavailable},
};

}  // namespace

TEST_CASE("every captured etcd error answer asks for the right reaction") {
  int checked = 0;
  for (const char* version : kVersions) {
    for (const auto& c : kCases) {
      if (!c.checkedBy34 && std::string(version) == "3.4.23") continue;
      INFO("etcd " << version << ", " << c.name);
      const Error error = errorOf(c.name, readAnswer(version, c.name));
      INFO("kind " << toString(error.kind) << ", code " << error.code << ": " << error.message);
      CHECK(error.message.find("etcdserver: ") != std::string::npos);  // etcd's own words
      switch (c.expect) {
        case Expect::NewLogin:
          CHECK(error.kind == ErrorKind::Etcd);
          CHECK(tokenRejected(error));
          break;
        case Expect::BadCredentials:
          CHECK(error.kind == ErrorKind::Auth);
          CHECK(error.code == kGrpcInvalidArgument);
          CHECK_FALSE(tokenRejected(error));
          break;
        case Expect::PermissionDenied:
          CHECK(error.kind == ErrorKind::Auth);
          CHECK(error.code == kGrpcPermissionDenied);
          CHECK_FALSE(tokenRejected(error));
          break;
        case Expect::Unavailable:
          CHECK(error.kind == ErrorKind::Etcd);
          CHECK(error.code == kGrpcUnavailable);
          CHECK_FALSE(tokenRejected(error));
          break;
      }
      ++checked;
    }
  }
  CHECK(checked == 4 * 15 - 2);
}

TEST_CASE("a watch cancel reason gives its gRPC code and etcd's message") {
  const auto denied = v3ParseWatchMessage(
      R"({"result":{"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied )"
      R"(desc = etcdserver: permission denied"}})");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().kind == ErrorKind::Auth);
  CHECK(denied.error().code == kGrpcPermissionDenied);
  CHECK(denied.error().message == "watch canceled: etcdserver: permission denied");
  // A reason in no known form: an Etcd error without a code, never a retry.
  const auto odd = v3ParseWatchMessage(R"({"result":{"canceled":true,"cancel_reason":"odd"}})");
  REQUIRE_FALSE(odd);
  CHECK(odd.error().kind == ErrorKind::Etcd);
  CHECK(odd.error().code == 0);
  CHECK_FALSE(tokenRejected(odd.error()));
}

TEST_CASE("the revision-old message is a new login only with its code") {
  CHECK(tokenRejected(Error{ErrorKind::Etcd, "etcdserver: revision of auth store is old", 3}));
  CHECK_FALSE(
      tokenRejected(Error{ErrorKind::Etcd, "etcdserver: revision of auth store is old", 0}));
  CHECK_FALSE(tokenRejected(Error{ErrorKind::Status, "HTTP status 401", 401}));
  CHECK(tokenRejected(Error{ErrorKind::Etcd, "anything", kGrpcUnauthenticated}));
}
