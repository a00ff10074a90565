// Result<T>: a value or an Error that keeps transport failure, timeout, HTTP status and etcd's own
// error apart, so callers can decide between "rotate endpoint", "retry later" and "give up".
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace esetcd {

enum class ErrorKind {
  Transport,  // connection refused, DNS, TLS: the endpoint is unusable right now
  Timeout,    // the request took longer than its deadline
  Status,     // the server answered with an unexpected HTTP status
  Etcd,       // etcd answered with an error body (gRPC code or v2 errorCode in `code`)
  Malformed,  // the answer could not be parsed
  LeaseLost,  // a lease or TTL key expired: grant a new one and put again
  Compacted,  // a watch asked for a compacted revision: list again, then watch
  Aborted,    // the caller asked us to stop
  System,     // a system call failed (errno in `code`)
};

const char* toString(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Transport;
  std::string message;
  long code = 0;  // HTTP status, gRPC code or v2 errorCode, depending on kind
};

// Whether etcd refused our credentials or their permissions: gRPC Unauthenticated (16) or
// PermissionDenied (7), v2's "requires user authentication" (110), HTTP 401 or 403.
bool isAuthFailure(const Error& error);

// The empty value of a Result<Unit>.
struct Unit {};

// Called when the value of a failed Result is used: a bug in the caller, never an input error.
// Writes the error's kind and message to stderr and aborts, instead of the undefined behaviour
// of reading an empty optional.
[[noreturn]] void valueOfFailedResult(const Error& error);

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // The value; on a failed Result, valueOfFailedResult() aborts the process.
  const T& value() const { return checked(), *value_; }
  T& value() { return checked(), *value_; }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  // The error; meaningful only when !ok().
  const Error& error() const { return error_; }

 private:
  void checked() const {
    if (!value_) valueOfFailedResult(error_);
  }

  std::optional<T> value_;
  Error error_;
};

}  // namespace esetcd
