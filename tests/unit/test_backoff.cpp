#include <catch2/catch.hpp>

#include "backoff.hpp"

using esetcd::backoffDelay;
using ms = std::chrono::milliseconds;

TEST_CASE("backoff doubles up to the cap, scaled by the jitter draw") {
  CHECK(backoffDelay(0, ms(200), ms(5000), 1.0) == ms(200));
  CHECK(backoffDelay(1, ms(200), ms(5000), 1.0) == ms(400));
  CHECK(backoffDelay(3, ms(200), ms(5000), 1.0) == ms(1600));
  CHECK(backoffDelay(10, ms(200), ms(5000), 1.0) == ms(5000));
  CHECK(backoffDelay(1000, ms(200), ms(5000), 1.0) == ms(5000));
  CHECK(backoffDelay(3, ms(200), ms(5000), 0.5) == ms(800));
}

TEST_CASE("backoff never drops below half the base, so a retry loop cannot spin") {
  CHECK(backoffDelay(0, ms(200), ms(5000), 0.0) == ms(100));
  CHECK(backoffDelay(5, ms(200), ms(5000), -3.0) == ms(100));
  CHECK(backoffDelay(5, ms(200), ms(5000), 7.0) == ms(5000));
}
