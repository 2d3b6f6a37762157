/* mc_load: a small memcached text-protocol load generator (Debian has no
 * memtier_benchmark). One thread, epoll, C connections each keeping D requests in
 * flight; every request's latency is measured from its send to its reply. Prints
 * one JSON line:
 *   {"op":"get","conns":50,"pipeline":16,"requests":N,"rps":...,"p50_us":...,"p99_us":...,"errors":0}
 *
 *   mc_load --port P [--op get|set] [--conns 50] [--pipeline 1] [--seconds 5]
 *           [--keys 100000] [--value-size 100] [--prefill]
 * --prefill sets every key once (pipelined) before the measured run. Built by
 * bench/kvs_bench.sh with cc; not installed. */
#define _GNU_SOURCE /* memrchr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNS = 1024, MAX_DEPTH = 256, HIST_US = 200000, BUF = 1 << 20 };

struct conn {
  int fd;
  uint64_t sent_ns[MAX_DEPTH]; /* a ring of the send times of requests in flight */
  int head, inflight;
  char in[BUF];
  size_t ilen;
  char out[BUF];
  size_t olen, ooff;
};

static int op_get, depth = 1, nconns = 50, value_size = 100;
static long nkeys = 100000;
static uint64_t hist[HIST_US + 1], done, errors;
static uint64_t rng = 88172645463325252ull;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long random_key(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (long)(rng % (uint64_t)nkeys);
}

static void queue_request(struct conn *c, int get, long key) {
  char *p = c->out + c->olen;
  if (get) {
    c->olen += (size_t)sprintf(p, "get key:%012ld\r\n", key);
  } else {
    int n = sprintf(p, "set key:%012ld 0 0 %d\r\n", key, value_size);
    memset(p + n, 'x', (size_t)value_size);
    memcpy(p + n + value_size, "\r\n", 2);
    c->olen += (size_t)n + (size_t)value_size + 2;
  }
  c->sent_ns[(c->head + c->inflight) % MAX_DEPTH] = now_ns();
  c->inflight++;
}

/* Length of one complete reply at p, 0 if incomplete, -1 if it is an error. */
static long reply_len(const char *p, size_t n) {
  const char *nl = memchr(p, '\n', n);
  if (nl == NULL) return 0;
  size_t line = (size_t)(nl - p) + 1;
  if (strncmp(p, "VALUE ", 6) == 0) {
    const char *sp = memrchr(p, ' ', line);
    long bytes = sp ? atol(sp + 1) : 0;
    size_t total = line + (size_t)bytes + 2 + 5;
    return n >= total ? (long)total : 0;
  }
  if (strncmp(p, "END\r\n", 5) == 0 || strncmp(p, "STORED\r\n", 8) == 0) return (long)line;
  return -(long)line;
}

static void flush_out(struct conn *c) {
  while (c->ooff < c->olen) {
    ssize_t n = write(c->fd, c->out + c->ooff, c->olen - c->ooff);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      perror("mc_load: write");
      exit(1);
    }
    c->ooff += (size_t)n;
  }
  c->olen = c->ooff = 0;
}

static void on_reply(struct conn *c, int measure) {
  uint64_t us = (now_ns() - c->sent_ns[c->head]) / 1000;
  c->head = (c->head + 1) % MAX_DEPTH;
  c->inflight--;
  if (!measure) return;
  hist[us > HIST_US ? HIST_US : us]++;
  done++;
}

static uint64_t percentile(double q) {
  uint64_t want = (uint64_t)(q * (double)done), seen = 0;
  for (int i = 0; i <= HIST_US; i++) {
    seen += hist[i];
    if (seen > want) return (uint64_t)i;
  }
  return HIST_US;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("mc_load: connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Set every key once, a pipeline of 100 at a time on one connection. */
static void prefill(int port) {
  static struct conn c;
  c.fd = connect_to(port);
  for (long k = 0; k < nkeys;) {
    for (int i = 0; i < 100 && k < nkeys; i++, k++) queue_request(&c, 0, k);
    flush_out(&c);
    while (c.inflight > 0) {
      ssize_t n = read(c.fd, c.in + c.ilen, BUF - c.ilen);
      if (n <= 0) {
        perror("mc_load: prefill read");
        exit(1);
      }
      c.ilen += (size_t)n;
      size_t off = 0;
      long len;
      while (c.inflight > 0 && (len = reply_len(c.in + off, c.ilen - off)) != 0) {
        off += (size_t)(len < 0 ? -len : len);
        on_reply(&c, 0);
      }
      memmove(c.in, c.in + off, c.ilen - off);
      c.ilen -= off;
    }
  }
  close(c.fd);
}

int main(int argc, char **argv) {
  int port = 0, fill = 0;
  double seconds = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--port")) port = atoi(v), i++;
    else if (!strcmp(a, "--op")) op_get = !strcmp(v, "get"), i++;
    else if (!strcmp(a, "--conns")) nconns = atoi(v), i++;
    else if (!strcmp(a, "--pipeline")) depth = atoi(v), i++;
    else if (!strcmp(a, "--seconds")) seconds = atof(v), i++;
    else if (!strcmp(a, "--keys")) nkeys = atol(v), i++;
    else if (!strcmp(a, "--value-size")) value_size = atoi(v), i++;
    else if (!strcmp(a, "--prefill")) fill = 1;
    else return fprintf(stderr, "mc_load: unknown argument %s\n", a), 2;
  }
  if (port <= 0 || nconns < 1 || nconns > MAX_CONNS || depth < 1 || depth > MAX_DEPTH || nkeys < 1 ||
      value_size < 1 || value_size > 100000)
    return fprintf(stderr, "mc_load: bad arguments\n"), 2;
  if (fill) prefill(port);
  int ep = epoll_create1(0);
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->fd = connect_to(port);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    for (int d = 0; d < depth; d++) queue_request(c, op_get, random_key());
    flush_out(c);
  }
  uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
  struct epoll_event evs[256];
  while (now_ns() < end) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      ssize_t r = read(c->fd, c->in + c->ilen, BUF - c->ilen);
      if (r <= 0) {
        fprintf(stderr, "mc_load: server closed a connection\n");
        return 1;
      }
      c->ilen += (size_t)r;
      size_t off = 0;
      long len;
      while (c->inflight > 0 && (len = reply_len(c->in + off, c->ilen - off)) != 0) {
        if (len < 0) errors++;
        off += (size_t)(len < 0 ? -len : len);
        on_reply(c, 1);
        queue_request(c, op_get, random_key());
      }
      memmove(c->in, c->in + off, c->ilen - off);
      c->ilen -= off;
      flush_out(c);
    }
  }
  double secs = (double)(now_ns() - start) / 1e9;
  printf("{\"op\":\"%s\",\"conns\":%d,\"pipeline\":%d,\"value_size\":%d,\"keys\":%ld,\"requests\":%llu,"
         "\"rps\":%.0f,\"p50_us\":%llu,\"p99_us\":%llu,\"errors\":%llu}\n",
         op_get ? "get" : "set", nconns, depth, value_size, nkeys, (unsigned long long)done, (double)done / secs,
         (unsigned long long)percentile(0.5), (unsigned long long)percentile(0.99), (unsigned long long)errors);
  return errors ? 1 : 0;
}
