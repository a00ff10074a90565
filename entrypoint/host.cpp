#include "host.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace esetcd {
namespace {

bool isIpv4(const std::string& text) {
  // inet_pton takes exactly the dotted quad of four decimal numbers 0-255 (no octal, no
  // shortened forms); its answer alone decides.
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool isIpv6(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool isLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](unsigned char ch) { return std::isalnum(ch) != 0 || ch == '-'; });
}

bool isDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::string_view last;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!isLabel(label)) return false;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

}  // namespace

Result<std::string> validHost(std::string_view text) {
  auto malformed = [](const char* why) { return Error{ErrorKind::Malformed, why}; };
  std::string host(text);
  // inet_pton reads a C string: a NUL would hide whatever follows it (found by fuzzing).
  if (host.find('\0') != std::string::npos) return malformed("holds a NUL byte");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (isIpv6(host)) return host;
    return malformed("is not an IPv6 address in brackets");
  }
  if (isIpv4(host) || isIpv6(host) || isDnsName(host)) return host;
  return malformed("is not an IPv4 address, an IPv6 address or a DNS name");
}

bool validHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) return false;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(),
                                      [](unsigned char ch) { return std::isdigit(ch) != 0; }))
    return false;
  long number = std::stol(std::string(port));
  if (number < 1 || number > 65535) return false;
  // An IPv6 address must be bracketed here, or the port could not be told from the address.
  bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  auto valid = validHost(host);
  return valid && (bracketed || valid->find(':') == std::string::npos) &&
         !(bracketed && valid->find(':') == std::string::npos);
}

}  // namespace esetcd
