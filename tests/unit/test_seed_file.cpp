#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "../result_checks.hpp"
#include "seed_file.hpp"

using namespace esetcd;

namespace {

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/esetcd-unit-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() {
    for (const char* name : {"/unicast_hosts.txt"}) ::unlink((path + name).c_str());
    ::rmdir(path.c_str());
  }
  std::string path;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ino_t inode(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return st.st_ino;
}

}  // namespace

TEST_CASE("the file is written, left alone when unchanged, replaced when changed") {
  TempDir dir;
  std::string path = dir.path + "/unicast_hosts.txt";
  CHECK(VALUE_OF(writeFileIfChanged(path, "a:1\n")) == WriteOutcome::Written);
  CHECK(slurp(path) == "a:1\n");
  ino_t first = inode(path);
  CHECK(VALUE_OF(writeFileIfChanged(path, "a:1\n")) == WriteOutcome::Unchanged);
  CHECK(inode(path) == first);
  CHECK(VALUE_OF(writeFileIfChanged(path, "a:1\nb:2\n")) == WriteOutcome::Written);
  CHECK(slurp(path) == "a:1\nb:2\n");
  // Replaced by rename, never rewritten in place: a reader sees the old or the new file.
  CHECK(inode(path) != first);
}

TEST_CASE("readWholeFile reads a file of any size whole, and tells a missing one apart") {
  TempDir dir;
  const std::string path = dir.path + "/unicast_hosts.txt";
  // Larger than one read(2) of its buffer, and with a NUL: nothing is cut short.
  std::string content(20000, 'x');
  content[10] = '\0';
  content += "end\n";
  REQUIRE(VALUE_OF(writeFileIfChanged(path, content)) == WriteOutcome::Written);
  bool ok = false;
  CHECK(readWholeFile(path, ok) == content);
  CHECK(ok);
  CHECK(readWholeFile(dir.path + "/absent", ok).empty());
  CHECK_FALSE(ok);
  // A directory opens but cannot be read: not ok either.
  CHECK(readWholeFile(dir.path, ok).empty());
  CHECK_FALSE(ok);
}

TEST_CASE("a failed write says why and leaves no temp file") {
  TempDir dir;
  auto failed = writeFileIfChanged(dir.path + "/missing/x", "a");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == ErrorKind::System);
  CHECK(failed.error().code == ENOENT);
  CHECK(failed.error().message.find("missing/x") != std::string::npos);
  CHECK(failed.error().message.find("No such file") != std::string::npos);
}
