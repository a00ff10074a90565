#include <catch2/catch.hpp>

#include "result.hpp"

TEST_CASE("error kinds have names") { CHECK(std::string(esetcd::toString(esetcd::ErrorKind::Timeout)) == "timeout"); }
