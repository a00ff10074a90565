#include "result.hpp"

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
    case ErrorKind::Auth:
      return "auth";
    case ErrorKind::Malformed:
      return "malformed";
    case ErrorKind::LeaseLost:
      return "lease-lost";
    case ErrorKind::Compacted:
      return "compacted";
    case ErrorKind::Aborted:
      return "aborted";
  }
  return "unknown";
}

}  // namespace esetcd
