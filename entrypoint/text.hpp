// Text: the small string helpers several modules need. Pure; no locale (ASCII only).
#pragma once

#include <string>
#include <string_view>

namespace esetcd {

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view text);

// `text` with ASCII upper-case letters lowered.
std::string lowerCase(std::string text);

}  // namespace esetcd
