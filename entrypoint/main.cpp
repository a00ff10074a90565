// Thin main: block signals before anything can start a thread, then hand over to the app.
#include <unistd.h>

#include <cstdio>

#include "app.hpp"
#include "supervisor.hpp"

int main(int argc, char** argv) {
  esetcd::blockAsyncSignals();
  int code = esetcd::runApp(argc, argv);
  // _exit, not return: the monitor thread may still be finishing a request, and running static
  // destructors under it would be a race. Output goes through stdio only (no iostream, whose
  // static initialiser would set up the C++ locale at every start): one flush is enough.
  std::fflush(nullptr);
  _exit(code);
}
