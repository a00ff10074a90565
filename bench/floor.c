/* The "floor" wrapper of the start-to-exec benchmark: the least any etcd-discovery entrypoint
 * must do before it starts its command.
 *
 *   floor ETCD_URL PREFIX CMD [ARGS...]
 *
 * One etcd v3 range request for the keys under PREFIX/ (POST /v3/kv/range through the JSON
 * gateway, base64 key and range_end, at most 1,000 keys: the listing the entrypoint makes at
 * start, entrypoint/startup.cpp kStartListLimit) on a new TCP connection to ETCD_URL
 * (http://IPV4:PORT, no name lookup), the whole response read, then execv(CMD). No configuration,
 * no parsing of the answer beyond the status line, no signal handling, no threads: a static C
 * program, like stamp_child.c, so that its own process start costs what tini's does. bench/run.sh
 * reports ours / floor.
 *
 * Exits 2 on bad usage, 3 when the request fails or etcd does not answer 200, 4 when the exec
 * fails. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t base64(const char* in, size_t n, char* out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)in[i] << 16;
    if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)in[i + 2];
    out[o++] = abc[(v >> 18) & 63];
    out[o++] = abc[(v >> 12) & 63];
    out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? abc[v & 63] : '=';
  }
  out[o] = '\0';
  return o;
}

static int range_request(const char* url, const char* prefix) {
  char host[64], key[512], end[512], key64[700], end64[700], body[1500], req[2048], buf[65536];
  unsigned port;
  if (sscanf(url, "http://%63[0-9.]:%u", host, &port) != 2 || port > 65535) return -1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return -1;

  /* Every key under PREFIX/: [PREFIX/, PREFIX0), '0' being the byte after '/'. */
  int kn = snprintf(key, sizeof key, "%s/", prefix);
  int en = snprintf(end, sizeof end, "%s0", prefix);
  if (kn < 0 || en < 0 || (size_t)kn >= sizeof key || (size_t)en >= sizeof end) return -1;
  base64(key, (size_t)kn, key64);
  base64(end, (size_t)en, end64);
  int bn = snprintf(body, sizeof body, "{\"key\":\"%s\",\"range_end\":\"%s\",\"limit\":\"1000\"}",
                    key64, end64);
  int rn =
      snprintf(req, sizeof req,
               "POST /v3/kv/range HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
               host, port, bn, body);
  if (rn < 0 || (size_t)rn >= sizeof req) return -1;

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) goto fail;
  for (int off = 0; off < rn;) {
    ssize_t w = write(fd, req + off, (size_t)(rn - off));
    if (w <= 0) goto fail;
    off += (int)w;
  }
  /* Connection: close, so the response ends where the stream does: the status line decides,
   * the rest is read and dropped. */
  size_t got = 0;
  ssize_t r;
  while (got < 12) {
    r = read(fd, buf + got, sizeof buf - got);
    if (r <= 0) goto fail;
    got += (size_t)r;
  }
  int ok = strncmp(buf, "HTTP/1.1 200", 12) == 0;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
  }
  if (r < 0) goto fail;
  close(fd);
  return ok ? 0 : -1;
fail:
  close(fd);
  return -1;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: floor ETCD_URL PREFIX CMD [ARGS...]\n");
    return 2;
  }
  if (range_request(argv[1], argv[2]) != 0) {
    fprintf(stderr, "floor: range request to %s failed\n", argv[1]);
    return 3;
  }
  execv(argv[3], argv + 3);
  perror("floor: execv");
  return 4;
}
