// Memory: unmaps, once start-up is over, this process's view of the pages of its own code and
// read-only data that the start touched (option parsing, help text, the first etcd listing). A
// static binary's resident set is mostly such file-backed pages; the steady loop touches few of
// them again, and those are mapped back from the page cache on demand (a minor fault, no I/O).
// The page cache itself keeps them: a restarted node, or the next container of the image, starts
// from memory instead of reading the binary from disk again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace esetcd {

struct MappedRange {
  uintptr_t start = 0;
  uintptr_t end = 0;  // one past the last byte
};

// The mappings in `smaps` (the text of /proc/self/smaps) that can be dropped without losing
// anything: those of the file `path`, not writable, and holding no private copy of a page
// ("Anonymous: 0 kB"). A private copy is data written before the mapping became read-only (the
// RELRO part of a static binary: relocated pointers); dropping it would bring back the file's
// unrelocated bytes. Pure.
std::vector<MappedRange> releasableRanges(const std::string& smaps, const std::string& path);

// madvise(MADV_DONTNEED) over releasableRanges of /proc/self/exe: the pages leave this process's
// resident set but stay in the page cache (MADV_PAGEOUT would evict them from it, and every
// restart would read them from disk). Best effort: errors (no /proc) are ignored. Returns the
// number of mappings advised.
int releaseStartupPages();

}  // namespace esetcd
