// The exit-code contract (docs/entrypoint.md). Once the child runs, the entrypoint exits with the
// child's code or 128+signal, like tini; its own codes below are used only when no child ran.
#pragma once

namespace esetcd::exit_code {

constexpr int kUsage = 2;            // bad setting, or a v2 fleet under auto; nothing started
constexpr int kNodeNameTaken = 3;    // a live registration holds our node name at another address
constexpr int kRefused = 4;          // reset-bootstrap refused (a cluster exists, a member lives)
constexpr int kEtcdAuth = 5;         // etcd refused our credentials or their permissions at start
constexpr int kSystem = 111;         // a system call failed (fork, pipe, ...); nothing was started
constexpr int kNotExecutable = 126;  // the command exists but cannot be executed
constexpr int kNotFound = 127;       // the command does not exist
constexpr int kSignalBase = 128;     // 128 + signal number when the child died of a signal

}  // namespace esetcd::exit_code
