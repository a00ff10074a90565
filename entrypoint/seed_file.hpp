// Files that Elasticsearch or a later start reads: written atomically (temp file in the same
// directory, fsync, rename) and only when the content changes, because Elasticsearch re-reads
// unicast_hosts.txt about once a second while it has no master.
#pragma once

#include <string>
#include <vector>

#include "result.hpp"

namespace esetcd {

// The whole content of `path`; `ok` tells whether it could be read. read(2), not a stream: the
// start reads its files before the exec, and an iostream there would initialise the C++ locale
// (tens of microseconds, a dozen page faults) that nothing before the exec needs.
std::string readWholeFile(const std::string& path, bool& ok);

enum class WriteOutcome { Unchanged, Written };

// Replaces `path` with `content` unless it already holds exactly that. A System error (errno in
// its code, the path and errno's text in its message) leaves the old file untouched.
// `durable` adds an fsync before the rename; the seed file skips it (it is rewritten at every
// start, and the fsync would sit between start-up and the exec).
Result<WriteOutcome> writeFileIfChanged(const std::string& path, const std::string& content,
                                        bool durable = true);

// unicast_hosts.txt content: one host:port a line, no blank lines, no spaces (Elasticsearch
// trims neither), a comment header.
std::string seedFileText(const std::vector<std::string>& seeds);

// Reads back seedFileText output (the cached peer list), skipping comments and blank lines.
std::vector<std::string> parseSeedFileText(const std::string& text);

// Counts a write of the seed file (es_etcd_entrypoint_seed_file_writes_total) and shows its time
// on /status.
void noteSeedFileWritten();

// Writes the seed file and the peer cache when the seed list changed; logs the new list. The
// list becomes /status's peers and the peers gauge.
void publishSeeds(const std::vector<std::string>& seeds, const std::string& seedFile,
                  const std::string& cacheFile);

}  // namespace esetcd
