#include "stop_flag.hpp"

#include "http.hpp"

namespace esetcd {

using std::chrono::milliseconds;

void StopFlag::raise() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flag_ = true;
  }
  cv_.notify_all();
  httpWakeAll();  // a watch waiting in libcurl looks at the flag now
}

bool StopFlag::waitFor(milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, d, [this] { return flag_.load(); });
}

}  // namespace esetcd
