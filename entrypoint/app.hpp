// The app: wires configuration, etcd, assembly, supervisor, health and registration together.
#pragma once

namespace esetcd {

// Runs the whole entrypoint and returns the process exit code (docs/entrypoint.md).
int runApp(int argc, char** argv);

}  // namespace esetcd
