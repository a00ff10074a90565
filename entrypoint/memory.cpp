#include "memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21  // Linux 5.4
#endif

namespace esetcd {

int releaseStartupPages() {
  char self[PATH_MAX] = {};
  ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return 0;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int advised = 0;
  while (std::getline(maps, line)) {
    // "start-end perms offset dev inode path"
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    fields >> range >> perms >> offset >> dev >> inode >> path;
    // Only clean, file-backed pages of our binary: writable mappings hold live data.
    if (path != self || perms.find('w') != std::string::npos) continue;
    size_t dash = range.find('-');
    uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_PAGEOUT) == 0) ++advised;
  }
  return advised;
}

}  // namespace esetcd
