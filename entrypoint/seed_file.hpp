// Files that Elasticsearch or a later start reads: written atomically (temp file in the same
// directory, fsync, rename) and only when the content changes, because Elasticsearch re-reads
// unicast_hosts.txt about once a second while it has no master.
#pragma once

#include <string>

namespace esetcd {

enum class WriteOutcome { Unchanged, Written, Failed };

// Replaces `path` with `content` unless it already holds exactly that. On failure `error` says
// why (with errno text) and the old file is untouched.
// `durable` adds an fsync before the rename; the seed file skips it (it is rewritten at every
// start, and the fsync would sit between start-up and the exec).
WriteOutcome writeFileIfChanged(const std::string& path, const std::string& content,
                                std::string& error, bool durable = true);

}  // namespace esetcd
