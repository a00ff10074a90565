#include "supervisor.hpp"

namespace esetcd {
sigset_t blockAsyncSignals() { sigset_t s; sigemptyset(&s); return s; }
}  // namespace esetcd
