/* Small helpers for bench/run.sh that bash cannot do precisely or quickly.
 *
 *   benchtool launch STAMP_FILE -- CMD [ARGS...]
 *       Reads CLOCK_MONOTONIC, forks and execs CMD (stdout/stderr to /dev/null), waits for it
 *       with wait4 and prints one line:
 *           <start-to-exec us> <wall us> <max RSS KiB> <exit status>
 *       start-to-exec = the time the child wrote to STAMP_FILE (bench/stamp_child.c) minus the
 *       launch time; -1 when the child never wrote it. wall = launch -> CMD reaped. The max RSS
 *       is wait4's ru_maxrss: the largest of CMD and its reaped descendants, which is what
 *       /usr/bin/time -v reports as "Maximum resident set size".
 *
 *   benchtool txn PREFIX COUNT BATCH OUT_BASENAME VALUE
 *       Writes etcd v3 gateway txn bodies (/v3/kv/txn) of at most BATCH puts each, to
 *       OUT_BASENAME.<n>.json, for the keys PREFIX/127.10.<i/250>.<i%250+1>, i < COUNT, all
 *       with VALUE. The gateway wants base64 keys and values; doing that in C avoids 10,000
 *       base64 processes. The same names come out of the curl URL glob used for v2.
 *
 *   benchtool freeport
 *       Prints a TCP port that is free on 127.0.0.1 (bound to port 0, then released).
 *
 *   benchtool join ETCD_PORT KEY VALUE LINE TIMEOUT_MS SEED_FILE...
 *       One join as every other node sees it (bench/scale.sh): watches the directory of each
 *       SEED_FILE with inotify, reads CLOCK_MONOTONIC, writes KEY=VALUE with one v3 gateway put
 *       to 127.0.0.1:ETCD_PORT, then prints one line per SEED_FILE, in order: the milliseconds
 *       from just before the put to the first time that file held LINE, or -1 when it did not
 *       within TIMEOUT_MS. Exits 1 when the put failed or a file already held LINE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int launch(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: benchtool launch STAMP_FILE -- CMD [ARGS...]\n");
    return 2;
  }
  const char *stamp = argv[2];
  unlink(stamp); /* a stale stamp must never be read as this run's */
  long long start = monotonic_ns();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    /* The wrappers' output (curl's body, our log lines) goes nowhere, the same for every one,
     * so that a terminal or a pipe never slows one down. */
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      if (null > STDERR_FILENO) close(null);
    }
    execvp(argv[4], argv + 4);
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  memset(&usage, 0, sizeof usage);
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      perror("wait4");
      return 1;
    }
  }
  long long end = monotonic_ns();
  long long exec_ns = -1;
  FILE *f = fopen(stamp, "r");
  if (f) {
    long long t = 0;
    if (fscanf(f, "%lld", &t) == 1) exec_ns = t - start;
    fclose(f);
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%lld %lld %ld %d\n", exec_ns < 0 ? -1 : exec_ns / 1000, (end - start) / 1000,
         usage.ru_maxrss, code);
  return 0;
}

static void base64(const char *in, char *out) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), i = 0;
  const unsigned char *s = (const unsigned char *)in;
  for (; i + 2 < n; i += 3) {
    *out++ = table[s[i] >> 2];
    *out++ = table[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    *out++ = table[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
    *out++ = table[s[i + 2] & 63];
  }
  if (i < n) {
    *out++ = table[s[i] >> 2];
    if (i + 1 < n) {
      *out++ = table[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
      *out++ = table[(s[i + 1] & 15) << 2];
    } else {
      *out++ = table[(s[i] & 3) << 4];
      *out++ = '=';
    }
    *out++ = '=';
  }
  *out = '\0';
}

static int txn(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: benchtool txn PREFIX COUNT BATCH OUT_BASENAME VALUE\n");
    return 2;
  }
  const char *prefix = argv[2], *base = argv[5], *value = argv[6];
  int count = atoi(argv[3]), batch = atoi(argv[4]);
  if (count < 1 || batch < 1 || strlen(prefix) > 200 || strlen(value) > 1000) return 2;
  char value64[1400], key[256], key64[400], path[4096];
  base64(value, value64);
  FILE *out = NULL;
  for (int i = 0; i < count; i++) {
    if (i % batch == 0) {
      if (out) {
        fputs("]}\n", out);
        fclose(out);
      }
      snprintf(path, sizeof path, "%s.%05d.json", base, i / batch);
      out = fopen(path, "w");
      if (!out) {
        perror(path);
        return 1;
      }
      fputs("{\"success\":[", out);
    } else {
      fputc(',', out);
    }
    snprintf(key, sizeof key, "%s/127.10.%d.%d", prefix, i / 250, i % 250 + 1);
    base64(key, key64);
    fprintf(out, "{\"requestPut\":{\"key\":\"%s\",\"value\":\"%s\"}}", key64, value64);
  }
  fputs("]}\n", out);
  fclose(out);
  return 0;
}

static int freeport(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    perror("freeport");
    return 1;
  }
  printf("%d\n", ntohs(a.sin_port));
  close(fd);
  return 0;
}

/* Whether the file at PATH has LINE as one of its lines. */
static int has_line(const char *path, const char *line) {
  static char buf[1 << 20];
  size_t n, len = strlen(line);
  const char *p;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  for (p = buf; (p = strstr(p, line)) != NULL; p += len) {
    if ((p == buf || p[-1] == '\n') && (p[len] == '\n' || p[len] == 0)) return 1;
  }
  return 0;
}

/* POST BODY to /v3/kv/put on 127.0.0.1:PORT over a fresh connection; 0 when etcd answered 200. */
static int put(int port, const char *body) {
  char request[4096], answer[512];
  struct sockaddr_in a;
  ssize_t got;
  int fd = socket(AF_INET, SOCK_STREAM, 0), n;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  n = snprintf(request, sizeof request,
               "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
               strlen(body), body);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      write(fd, request, (size_t)n) != n) {
    perror("join: put");
    return 1;
  }
  got = read(fd, answer, sizeof answer - 1);
  close(fd);
  if (got < 12 || strncmp(answer + 9, "200", 3) != 0) {
    fprintf(stderr, "join: put answered %.*s\n", got > 0 ? (int)got : 0, answer);
    return 1;
  }
  return 0;
}

static int join(int argc, char **argv) {
  const char *line;
  long long start, deadline, *seen;
  int port, timeout_ms, count, ino, i, left;
  int *wds;
  char key64[1024], value64[1024], body[2200], dir[4096], *slash;
  char events[64 * (sizeof(struct inotify_event) + 256)];
  if (argc < 8 || strlen(argv[3]) > 700 || strlen(argv[4]) > 700) {
    fprintf(stderr, "usage: benchtool join ETCD_PORT KEY VALUE LINE TIMEOUT_MS SEED_FILE...\n");
    return 2;
  }
  port = atoi(argv[2]);
  line = argv[5];
  timeout_ms = atoi(argv[6]);
  count = argc - 7;
  wds = calloc((size_t)count, sizeof *wds);
  seen = calloc((size_t)count, sizeof *seen);
  ino = inotify_init1(IN_NONBLOCK);
  if (!wds || !seen || ino < 0) {
    perror("join");
    return 1;
  }
  /* The seed file is replaced by a rename into its directory (entrypoint/seed_file.cpp). */
  for (i = 0; i < count; ++i) {
    snprintf(dir, sizeof dir, "%s", argv[7 + i]);
    slash = strrchr(dir, '/');
    if (slash) *slash = 0; else strcpy(dir, ".");
    wds[i] = inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE);
    if (wds[i] < 0) {
      perror(dir);
      return 1;
    }
    if (has_line(argv[7 + i], line)) {
      fprintf(stderr, "join: %s already holds %s\n", argv[7 + i], line);
      return 1;
    }
    seen[i] = -1;
  }
  base64(argv[3], key64);
  base64(argv[4], value64);
  snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", key64, value64);
  start = monotonic_ns();
  if (put(port, body) != 0) return 1;
  deadline = start + (long long)timeout_ms * 1000000LL;
  left = count;
  /* A file may have changed between the watch and the put; look once, then on every event. */
  for (i = 0; i < count; ++i) {
    if (has_line(argv[7 + i], line)) {
      seen[i] = monotonic_ns() - start;
      --left;
    }
  }
  while (left > 0 && monotonic_ns() < deadline) {
    ssize_t n = read(ino, events, sizeof events);
    char *p;
    if (n <= 0) {
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
      continue;
    }
    for (p = events; p < events + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      for (i = 0; i < count; ++i) {
        if (wds[i] == e->wd && seen[i] < 0 && has_line(argv[7 + i], line)) {
          seen[i] = monotonic_ns() - start;
          --left;
        }
      }
      p += sizeof *e + e->len;
    }
  }
  for (i = 0; i < count; ++i) {
    if (seen[i] < 0) printf("-1\n"); else printf("%.1f\n", (double)seen[i] / 1e6);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "launch") == 0) return launch(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "txn") == 0) return txn(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "freeport") == 0) return freeport();
  if (argc >= 2 && strcmp(argv[1], "join") == 0) return join(argc, argv);
  fprintf(stderr, "usage: benchtool launch|txn|freeport|join ...\n");
  return 2;
}
