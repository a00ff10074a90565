// VALUE_OF(result): the value of a Result a test needs in order to go on. It REQUIREs success
// first, so a failed call ends the test case with the call and the error's kind and message,
// instead of reaching Result::value(), which aborts the whole test binary on an error.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "result.hpp"

namespace esetcd::testing {

inline std::string errorText(const Error& error) {
  return std::string(toString(error.kind)) + " (" + std::to_string(error.code) +
         "): " + error.message;
}

}  // namespace esetcd::testing

// A lambda, so that it is an expression and usable inside CHECK(...); REQUIRE still reports the
// caller's line, and its failure propagates through an enclosing CHECK like any other REQUIRE.
#define VALUE_OF(...)                                                                         \
  ([&] {                                                                                      \
    auto valueOfResult = (__VA_ARGS__);                                                       \
    INFO(#__VA_ARGS__ << " failed: " << ::esetcd::testing::errorText(valueOfResult.error())); \
    REQUIRE(valueOfResult.ok());                                                              \
    return std::move(valueOfResult.value());                                                  \
  }())
