#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <climits>
#include <fstream>
#include <sstream>

#include "memory.hpp"

namespace {

std::string readAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string selfPath() {
  char self[PATH_MAX] = {};
  REQUIRE(::readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  return self;
}

// KiB of this binary's read-only mappings resident in this process (smaps "Rss").
long residentKib() {
  const std::string self = selfPath();
  std::istringstream lines(readAll("/proc/self/smaps"));
  std::string line;
  bool ours = false;
  long kib = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string first, perms, offset, dev, inode, path;
    fields >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {
      fields >> perms >> offset >> dev >> inode >> std::ws;
      std::getline(fields, path);
      ours = path == self && perms.find('w') == std::string::npos;
    } else if (ours && first == "Rss:") {
      long value = 0;
      fields >> value;
      kib += value;
    }
  }
  return kib;
}

// Pages of this binary's file in the page cache (mincore of a fresh mapping that touches none).
long cachedPages() {
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  const long page = ::sysconf(_SC_PAGESIZE);
  const size_t pages = (static_cast<size_t>(st.st_size) + page - 1) / page;
  void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> in(pages);
  REQUIRE(::mincore(map, static_cast<size_t>(st.st_size), in.data()) == 0);
  ::munmap(map, static_cast<size_t>(st.st_size));
  long cached = 0;
  for (unsigned char c : in) cached += c & 1;
  return cached;
}

}  // namespace

TEST_CASE("releasableRanges: the binary's read-only mappings without private pages") {
  const std::string smaps =
      "00400000-00420000 r--p 00000000 fe:00 42    /usr/bin/es etcd entrypoint\n"
      "Size:                128 kB\n"
      "Rss:                 128 kB\n"
      "Anonymous:             0 kB\n"
      "VmFlags: rd mr mw me\n"
      "00420000-00600000 r-xp 00020000 fe:00 42    /usr/bin/es etcd entrypoint\n"
      "Rss:                 900 kB\n"
      "Anonymous:             0 kB\n"
      "00600000-00640000 r--p 00200000 fe:00 42    /usr/bin/es etcd entrypoint\n"
      "Anonymous:            12 kB\n"  // RELRO: relocated pointers, written before mprotect
      "00640000-00650000 rw-p 00240000 fe:00 42    /usr/bin/es etcd entrypoint\n"
      "Anonymous:             0 kB\n"
      "7f0000000000-7f0000001000 r-xp 00000000 fe:00 43    /lib/other.so\n"
      "Anonymous:             0 kB\n"
      "7f0000002000-7f0000003000 r--p 00000000 00:00 0 \n"
      "Anonymous:             0 kB\n";
  auto ranges = esetcd::releasableRanges(smaps, "/usr/bin/es etcd entrypoint");
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].start == 0x400000);
  CHECK(ranges[0].end == 0x420000);
  CHECK(ranges[1].start == 0x420000);
  CHECK(ranges[1].end == 0x600000);
  CHECK(esetcd::releasableRanges(smaps, "/usr/bin/es").empty());
  CHECK(esetcd::releasableRanges("garbage\n-\n:-:\n", "/usr/bin/es").empty());
}

TEST_CASE("start-up code pages leave the resident set but stay in the page cache") {
  const long rssBefore = residentKib();
  const long cachedBefore = cachedPages();
  const int advised = esetcd::releaseStartupPages();
  const long rssAfter = residentKib();
  const long cachedAfter = cachedPages();
  WARN("read-only mappings of the test binary: "
       << rssBefore << " KiB resident before, " << rssAfter << " after; page cache " << cachedBefore
       << " pages before, " << cachedAfter << " after");
  // The test binary's own read-only and executable mappings (Linux 5.4+).
  CHECK(advised >= 2);
  CHECK(rssAfter < rssBefore);
  // MADV_PAGEOUT evicted them from the page cache: a restart read the binary from disk again.
  CHECK(cachedAfter >= cachedBefore);
  // Dropped code maps back from the page cache: calling again works and agrees.
  CHECK(esetcd::releaseStartupPages() == advised);
}
