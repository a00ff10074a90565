// Backoff for retries: exponential with full jitter, capped. Pure: the random draw is a
// parameter, so tests pin it.
#pragma once

#include <chrono>

namespace esetcd {

// Delay before retry number `attempt` (0-based): a uniform share `jitter01` in [0, 1) of
// min(cap, base * 2^attempt), but never below base / 2 so a loop cannot spin.
std::chrono::milliseconds backoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double jitter01);

}  // namespace esetcd
