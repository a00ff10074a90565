#include "result.hpp"

#include <cstdio>
#include <cstdlib>

namespace esetcd {

const char* toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Transport:
      return "transport";
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Status:
      return "http-status";
    case ErrorKind::Etcd:
      return "etcd";
    case ErrorKind::Malformed:
      return "malformed";
    case ErrorKind::LeaseLost:
      return "lease-lost";
    case ErrorKind::Compacted:
      return "compacted";
    case ErrorKind::Aborted:
      return "aborted";
    case ErrorKind::System:
      return "system";
  }
  return "unknown";
}

bool isAuthFailure(const Error& error) {
  if (error.kind == ErrorKind::Etcd)
    return error.code == 16 || error.code == 7 || error.code == 110;
  return error.kind == ErrorKind::Status && (error.code == 401 || error.code == 403);
}

void valueOfFailedResult(const Error& error) {
  // stdio, not the logger: this must work from any thread and in any state.
  std::fprintf(
      stderr,
      "es-etcd-entrypoint: internal error: the value of a failed result was used (%s: %s)\n",
      toString(error.kind), error.message.c_str());
  std::abort();
}

}  // namespace esetcd
