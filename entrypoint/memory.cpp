#include "memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

namespace esetcd {
namespace {

// "start-end perms offset dev inode path": a mapping's header line in smaps (the lines after it
// are "Name: value" fields, whose first word ends in a colon).
bool parseHeader(const std::string& line, MappedRange& range, std::string& perms,
                 std::string& path) {
  std::istringstream fields(line);
  std::string span, offset, dev, inode;
  if (!(fields >> span >> perms >> offset >> dev >> inode)) return false;
  const size_t dash = span.find('-');
  if (dash == std::string::npos || span.back() == ':') return false;
  try {
    range.start = std::stoull(span.substr(0, dash), nullptr, 16);
    range.end = std::stoull(span.substr(dash + 1), nullptr, 16);
  } catch (const std::exception&) {
    return false;
  }
  std::getline(fields >> std::ws, path);
  return true;
}

}  // namespace

std::vector<MappedRange> releasableRanges(const std::string& smaps, const std::string& path) {
  std::vector<MappedRange> out;
  std::istringstream lines(smaps);
  std::string line;
  MappedRange current;
  bool candidate = false;  // the mapping being read is ours and read-only
  while (std::getline(lines, line)) {
    MappedRange range;
    std::string perms, mapped;
    if (parseHeader(line, range, perms, mapped)) {
      current = range;
      candidate = mapped == path && perms.find('w') == std::string::npos;
      continue;
    }
    if (!candidate || line.rfind("Anonymous:", 0) != 0) continue;
    std::istringstream value(line.substr(10));
    long kib = -1;
    if (value >> kib && kib == 0) out.push_back(current);
    candidate = false;
  }
  return out;
}

int releaseStartupPages() {
  char self[PATH_MAX] = {};
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return 0;
  std::ifstream file("/proc/self/smaps");
  std::stringstream smaps;
  smaps << file.rdbuf();
  int advised = 0;
  for (const MappedRange& r : releasableRanges(smaps.str(), self)) {
    if (::madvise(reinterpret_cast<void*>(r.start), r.end - r.start, MADV_DONTNEED) == 0) ++advised;
  }
  return advised;
}

}  // namespace esetcd
