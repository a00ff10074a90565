// Thin main: block signals before anything can start a thread, then hand over to the app.
#include "app.hpp"
#include "supervisor.hpp"

int main(int argc, char** argv) {
  esetcd::blockAsyncSignals();
  return esetcd::runApp(argc, argv);
}
