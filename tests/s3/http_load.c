/* http_load: a small keep-alive HTTP/1.1 load client for bench/s3_bench.sh, the same
 * client against rum-s3 (presigned URLs, so it needs no S3 knowledge) and against
 * nginx. N connections, one thread each, GET or PUT of a given size for S seconds.
 * Prints one JSON line: requests, bytes, req/s, MB/s, p50 and p99 latency, errors.
 *
 *   http_load --port P --method GET|PUT --size BYTES --conns N --seconds S --urls FILE */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, conns = 4, seconds = 5, put;
static size_t size;
static char **urls;
static int nurls;
static unsigned char *body;
static double deadline;

struct worker {
  pthread_t t;
  int id;
  uint64_t requests, bytes, errors;
  double *lat;
  size_t nlat, cap;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

/* One request/response. Returns the status, or -1 when the connection failed;
 * *close_after when the server asked to close. */
static int exchange(int fd, const char *url, uint64_t *got, int *close_after) {
  char req[4096];
  int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", put ? "PUT" : "GET", url, port);
  if (put) n += snprintf(req + n, sizeof req - (size_t)n, "Content-Length: %zu\r\n", size);
  n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
  if (send_all(fd, req, (size_t)n) != 0 || (put && send_all(fd, body, size) != 0)) return -1;
  static __thread char buf[1 << 16];
  size_t have = 0;
  char *end = NULL;
  while (end == NULL) {
    ssize_t r = recv(fd, buf + have, sizeof buf - have - 1, 0);
    if (r <= 0) return -1;
    have += (size_t)r;
    buf[have] = 0;
    end = strstr(buf, "\r\n\r\n");
    if (end == NULL && have == sizeof buf - 1) return -1;
  }
  int status = atoi(buf + 9);
  uint64_t clen = 0;
  for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
    if (!strncasecmp(h + 2, "Content-Length:", 15)) clen = strtoull(h + 17, NULL, 10);
    if (!strncasecmp(h + 2, "Connection: close", 17)) *close_after = 1;
  }
  uint64_t left = clen - (have - (size_t)(end + 4 - buf));
  while (left > 0) {
    ssize_t r = recv(fd, buf, left < sizeof buf ? left : sizeof buf, 0);
    if (r <= 0) return -1;
    left -= (uint64_t)r;
  }
  *got = clen;
  return status;
}

static void *run(void *arg) {
  struct worker *w = arg;
  int fd = -1;
  for (uint64_t i = 0; now_s() < deadline; i++) {
    if (fd < 0 && (fd = dial()) < 0) {
      w->errors++;
      usleep(10000);
      continue;
    }
    double t0 = now_s();
    uint64_t got = 0;
    int close_after = 0;
    int st = exchange(fd, urls[(w->id + i * conns) % nurls], &got, &close_after);
    if (st < 200 || st > 299) w->errors++;
    else {
      w->requests++;
      w->bytes += put ? size : got;
      if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
      }
      w->lat[w->nlat++] = now_s() - t0;
    }
    if (st < 0 || close_after) {
      close(fd);
      fd = -1;
    }
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"port", 1, 0, 'p'}, {"method", 1, 0, 'm'}, {"size", 1, 0, 's'},
                                       {"conns", 1, 0, 'c'}, {"seconds", 1, 0, 't'}, {"urls", 1, 0, 'u'},
                                       {0, 0, 0, 0}};
  const char *file = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'p': port = atoi(optarg); break;
    case 'm': put = !strcmp(optarg, "PUT"); break;
    case 's': size = strtoull(optarg, NULL, 10); break;
    case 'c': conns = atoi(optarg); break;
    case 't': seconds = atoi(optarg); break;
    case 'u': file = optarg; break;
    default: return 2;
    }
  }
  FILE *f = file ? fopen(file, "r") : NULL;
  if (f == NULL || port <= 0 || conns < 1 || conns > 256) {
    fprintf(stderr, "usage: http_load --port P --method GET|PUT --size N --conns C --seconds S --urls FILE\n");
    return 2;
  }
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!line[0]) continue;
    urls = realloc(urls, (size_t)(nurls + 1) * sizeof *urls);
    urls[nurls++] = strdup(line);
  }
  fclose(f);
  if (nurls == 0) return fprintf(stderr, "http_load: no URLs\n"), 2;
  if (put) {
    body = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++) body[i] = (unsigned char)(i * 2654435761u >> 24);
  }
  struct worker *w = calloc((size_t)conns, sizeof *w);
  double t0 = now_s();
  deadline = t0 + seconds;
  for (int i = 0; i < conns; i++) {
    w[i].id = i;
    pthread_create(&w[i].t, NULL, run, &w[i]);
  }
  uint64_t reqs = 0, bytes = 0, errors = 0;
  size_t nl = 0;
  for (int i = 0; i < conns; i++) {
    pthread_join(w[i].t, NULL);
    reqs += w[i].requests;
    bytes += w[i].bytes;
    errors += w[i].errors;
    nl += w[i].nlat;
  }
  double el = now_s() - t0;
  double *all = malloc((nl ? nl : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conns; i++) {
    memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all);
    k += w[i].nlat;
  }
  qsort(all, nl, sizeof *all, cmp_double);
  double p50 = nl ? all[nl / 2] : 0, p99 = nl ? all[nl * 99 / 100] : 0;
  printf("{\"requests\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"req_s\":%.1f,\"mb_s\":%.1f,\"p50_ms\":%.3f,"
         "\"p99_ms\":%.3f,\"errors\":%llu}\n",
         (unsigned long long)reqs, (unsigned long long)bytes, el, reqs / el, bytes / el / 1e6, p50 * 1e3, p99 * 1e3,
         (unsigned long long)errors);
  return errors > reqs / 100 + 1 ? 1 : 0;
}
