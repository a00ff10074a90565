#include <catch2/catch.hpp>

#include "memory.hpp"

TEST_CASE("start-up code pages are handed back, and the code still runs afterwards") {
  // The test binary's own read-only and executable mappings are advised (Linux 5.4+).
  int advised = esetcd::releaseStartupPages();
  CHECK(advised >= 2);
  // Paged-out code faults back in from the page cache: calling again works and agrees.
  CHECK(esetcd::releaseStartupPages() == advised);
}
