// Memory: hands back, once start-up is over, the pages of this binary's own code and read-only
// data that the start touched (option parsing, help text, the first etcd listing). A static
// binary's resident set is mostly such file-backed pages; the steady loop touches few of them
// again, and those come back from the page cache on demand.
#pragma once

namespace esetcd {

// madvise(MADV_PAGEOUT) over the file-backed mappings of /proc/self/exe. Best effort: errors
// (an old kernel, no /proc) are ignored. Returns the number of mappings advised.
int releaseStartupPages();

}  // namespace esetcd
