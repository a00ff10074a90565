// StopFlag: how the signal loop tells the background thread to stop. Raising it wakes a thread
// sleeping on it and any libcurl transfer in flight, so a stop never waits out a timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace esetcd {

// A flag that a sleeping thread notices at once.
class StopFlag {
 public:
  void raise();
  bool raised() const { return flag_.load(); }
  // Sleeps up to `d`; true when the flag was raised.
  bool waitFor(std::chrono::milliseconds d);
  const std::atomic<bool>* atomic() const { return &flag_; }

 private:
  std::atomic<bool> flag_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace esetcd
