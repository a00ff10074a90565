// Text: the small string helpers several modules need. Pure; no locale (ASCII only).
#pragma once

#include <string>
#include <string_view>

namespace esetcd {

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view text);

// `text` with ASCII upper-case letters lowered.
std::string lowerCase(std::string text);

// Why `value` cannot go into JSON or onto a command line ("is not valid UTF-8", "must not contain
// control characters"), or "" when it can. Every setting is checked with it at start.
std::string textProblem(const std::string& value);

// `value` as an error message or log line shows it: unchanged when textProblem finds nothing,
// else with every byte outside printable ASCII as \xNN, so that the message is one clean line
// (a key from etcd with a newline in it cannot forge a log line).
std::string printableText(const std::string& value);

// `text` with the user part of every URL in it ("http://user:password@host" ->
// "http://***@host"), for texts that are shown: ETCD_ENDPOINTS, ES_HEALTH_URL. Pure.
std::string withoutUserinfo(std::string text);

// Milliseconds since the epoch as UTC in ISO 8601, "2026-12-05T09:15:31.395Z"; times before 1970
// show as 1970-01-01T00:00:00.000Z. Computed here rather than with gmtime_r, whose first call
// reads the time zone file (/etc/localtime) for a conversion that needs none: seven system calls
// in the first log line of every start.
std::string isoTimeUtc(long long epochMillis);

}  // namespace esetcd
