// Hosts: the one validator for every host that enters a seed file, a command line or a
// registration. Peers' keys come from anyone with write access to the etcd prefix, so a host is
// accepted only in one of three shapes, and everything else is refused, never repaired:
//   - an IPv4 address in dotted-quad form (10.0.0.5);
//   - an IPv6 address (fd00::5), with or without brackets; no zone index;
//   - a DNS name of RFC 1123 labels (letters, digits, hyphens; 1-63 bytes each, not starting or
//     ending with a hyphen; 253 bytes in all; an all-numeric last label is refused, since it
//     would be read as a malformed IPv4 address).
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "result.hpp"

namespace esetcd {

// The host in canonical form (IPv6 without brackets, as `inet_pton` reads it; DNS names as
// given), or a Malformed error whose message is a short reason to follow the value ("is not an
// IPv4 address, an IPv6 address or a DNS name").
Result<std::string> validHost(std::string_view text);

// Parses "host:port" or "[v6]:port" as a seed-file line holds it; both parts valid.
bool validHostPort(std::string_view text);

}  // namespace esetcd
