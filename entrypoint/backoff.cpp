#include "backoff.hpp"

#include <algorithm>

namespace esetcd {

std::chrono::milliseconds backoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double jitter01) {
  long long ceiling = base.count();
  for (int i = 0; i < attempt && ceiling < cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, cap.count());
  double share = std::clamp(jitter01, 0.0, 1.0);
  long long delay = static_cast<long long>(static_cast<double>(ceiling) * share);
  return std::chrono::milliseconds(std::max<long long>(delay, base.count() / 2));
}

}  // namespace esetcd
