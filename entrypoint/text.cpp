#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace esetcd {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string lowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string textProblem(const std::string& value) {
  size_t i = 0;
  while (i < value.size()) {
    auto byte = static_cast<unsigned char>(value[i]);
    if (byte < 0x20 || byte == 0x7f) return "must not contain control characters";
    if (byte < 0x80) {
      ++i;
      continue;
    }
    // The length of a UTF-8 sequence from its lead byte; overlong forms, surrogates and code
    // points above U+10FFFF are invalid too (RFC 3629), as nlohmann::json rejects them.
    size_t length = byte >= 0xc2 && byte <= 0xdf   ? 2
                    : byte >= 0xe0 && byte <= 0xef ? 3
                    : byte >= 0xf0 && byte <= 0xf4 ? 4
                                                   : 0;
    if (length == 0 || i + length > value.size()) return "is not valid UTF-8";
    auto second = static_cast<unsigned char>(value[i + 1]);
    unsigned char low = 0x80, high = 0xbf;
    if (byte == 0xe0) low = 0xa0;
    if (byte == 0xed) high = 0x9f;
    if (byte == 0xf0) low = 0x90;
    if (byte == 0xf4) high = 0x8f;
    if (second < low || second > high) return "is not valid UTF-8";
    for (size_t k = 2; k < length; ++k) {
      auto next = static_cast<unsigned char>(value[i + k]);
      if (next < 0x80 || next > 0xbf) return "is not valid UTF-8";
    }
    // C1 control characters (U+0080..U+009F).
    if (byte == 0xc2 && second <= 0x9f) return "must not contain control characters";
    i += length;
  }
  return "";
}

std::string printableText(const std::string& value) {
  if (textProblem(value).empty()) return value;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : value) {
    if (ch >= 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
    } else {
      out += "\\x";
      out += hex[ch >> 4];
      out += hex[ch & 0xf];
    }
  }
  return out;
}

std::string withoutUserinfo(std::string text) {
  for (size_t scheme = text.find("://"); scheme != std::string::npos;
       scheme = text.find("://", scheme + 3)) {
    const size_t hostStart = scheme + 3;
    const size_t end = text.find_first_of("/,", hostStart);
    const size_t at = text.find('@', hostStart);
    if (at != std::string::npos && (end == std::string::npos || at < end))
      text.replace(hostStart, at + 1 - hostStart, "***@");
  }
  return text;
}

namespace {

// Appends `value` (>= 0) in decimal, zero-padded to at least `width` digits.
void appendDigits(std::string& out, long long value, int width) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 || n < width);
  while (n > 0) out += digits[--n];
}

}  // namespace

std::string isoTimeUtc(long long epochMillis) {
  if (epochMillis < 0) epochMillis = 0;
  const long long seconds = epochMillis / 1000;
  const long long secondOfDay = seconds % 86400;
  // The civil date of a day count (Howard Hinnant's algorithm, in 400-year eras from 0000-03-01).
  const long long z = seconds / 86400 + 719468;
  const long long era = z / 146097;
  const long long dayOfEra = z - era * 146097;
  const long long yearOfEra =
      (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
  const long long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const long long shifted = (5 * dayOfYear + 2) / 153;  // March = 0
  const long long day = dayOfYear - (153 * shifted + 2) / 5 + 1;
  const long long month = shifted < 10 ? shifted + 3 : shifted - 9;
  const long long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  // Digits by hand rather than snprintf: every log line has a time, and formatting seven numbers
  // through printf costs more than the rest of a plain line.
  std::string text;
  text.reserve(24);
  appendDigits(text, year, 4);
  text += '-';
  appendDigits(text, month, 2);
  text += '-';
  appendDigits(text, day, 2);
  text += 'T';
  appendDigits(text, secondOfDay / 3600, 2);
  text += ':';
  appendDigits(text, secondOfDay / 60 % 60, 2);
  text += ':';
  appendDigits(text, secondOfDay % 60, 2);
  text += '.';
  appendDigits(text, epochMillis % 1000, 3);
  text += 'Z';
  return text;
}

}  // namespace esetcd
