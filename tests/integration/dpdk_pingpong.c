/* dpdk_pingpong: two processes exchange frames through the rum_transport interface
 * (normally the dpdk backend) and check every byte in both directions.
 *
 *   dpdk_pingpong server --eal ARGS --ip 10.77.0.1 --port 20001
 *   dpdk_pingpong client --eal ARGS --ip 10.77.0.2 --port 20002 --peer 10.77.0.1:20001
 *
 * The client sends frames of several sizes up to the MTU, one at a time and in
 * bursts; the server checks each request's bytes and answers with a different
 * pattern of the same size, which the client checks. Lost frames are retransmitted
 * (the first ones may go before the link is up or the peer's MAC known); corrupted,
 * missing or unexpected frames fail the run. Then the client says DONE and, once
 * --clients clients have, the server stays idle for --idle-ms to check it does not
 * burn a core.
 * --bench N makes the client time N round trips per size after the checks and print
 * one JSON line per size (median and p99 in microseconds); --gap-us G pauses G
 * microseconds before each timed request, so the server has gone idle (its wait()
 * back-off shows).
 * --kind udp uses the kernel UDP transport instead (a DPDK client against a kernel
 * server checks the two interoperate).
 * `dpdk_pingpong selftest PREFIX` and `dpdk_pingpong bad-eal PREFIX` check error
 * paths, port claiming and re-opening in one process on net_null ports.
 * Exit status: 0 pass, 1 fail, 2 usage, 77 transport unavailable (skip). */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rum/rum_errors.h>

#include "net/transport.h"
#include "util/clock.h"
#include "util/log.h"
#if defined(RUM_HAVE_DPDK)
#include "net/dpdk.h"
#endif

enum {
  PP_MAGIC = 0x50504452u, /* "RDPP" */
  PP_HEADER = 16,         /* magic, seq, size, kind (u32 each, host order) */
  PP_DATA = 1,
  PP_DONE = 2,
  PP_BENCH = 3, /* timed: the server echoes the bytes unchecked, the client checks the header */
  PP_REPLY = 0x80,
  PP_MAX_FRAME = 9000,
  PP_BURST = RUM_TRANSPORT_BURST,
  PP_MAX_SIZES = 8,
  PP_MAX_CLIENTS = 8,
};

#define PP_RETRY_NS (100ull * 1000 * 1000)

struct options {
  bool server;
  const char *kind, *eal;
  uint32_t ip, peer_ip;
  uint16_t port, peer_port;
  uint32_t mtu;
  unsigned count, bench, cycles, idle_ms, timeout_s, gap_us, clients;
};

struct peer_state {
  struct rum_transport *t;
  struct rum_peer_addr peer;
  uint64_t deadline_ns;
  unsigned retransmits, duplicates;
  uint32_t next_seq;
};

static uint8_t pattern_byte(uint32_t seq, uint32_t dir, uint32_t i) {
  uint32_t x = (seq * 2 + dir) * 2654435761u + i * 40503u;
  return (uint8_t)(x >> 13 ^ i);
}

static void frame_fill(uint8_t *buf, uint32_t seq, uint32_t size, uint32_t kind, uint32_t dir) {
  uint32_t h[4] = {PP_MAGIC, seq, size, kind};
  memcpy(buf, h, sizeof h);
  for (uint32_t i = PP_HEADER; i < size; i++) buf[i] = pattern_byte(seq, dir, i);
}

/* The kind of a well-formed header, else 0; the payload is not looked at. */
static uint32_t frame_kind(const uint8_t *buf, uint32_t len) {
  uint32_t h[4];
  if (len < PP_HEADER) return 0;
  memcpy(h, buf, sizeof h);
  return h[0] == PP_MAGIC && h[2] == len ? h[3] : 0;
}

/* Returns the kind, or 0 when the frame is malformed or its bytes are wrong. */
static uint32_t frame_check(const uint8_t *buf, uint32_t len, uint32_t dir, uint32_t *seq) {
  uint32_t h[4];
  if (len < PP_HEADER) return 0;
  memcpy(h, buf, sizeof h);
  if (h[0] != PP_MAGIC || h[2] != len) return 0;
  for (uint32_t i = PP_HEADER; i < len; i++) {
    if (buf[i] != pattern_byte(h[1], dir, i)) {
      fprintf(stderr, "pingpong: seq %u size %u: byte %u is %#x, want %#x\n", h[1], len, i, buf[i],
              pattern_byte(h[1], dir, i));
      return 0;
    }
  }
  *seq = h[1];
  return h[3];
}

static int open_transport(const struct options *o, struct rum_transport **t) {
  struct rum_transport_config cfg = {.kind = o->kind,
                                     .bind_ipv4 = o->ip,
                                     .bind_port = o->port,
                                     .mtu = o->mtu,
                                     .dpdk_args = o->eal,
                                     .fault_spec = ""};
  int rc = rum__transport_open(&cfg, t);
  if (rc != 0)
    fprintf(stderr, "pingpong: cannot open the %s transport: %s\n", o->kind, rum_strerror(rc));
  return rc;
}

static bool print_stats(const char *who, struct rum_transport *t) {
#if defined(RUM_HAVE_DPDK)
  struct rum_dpdk_stats s;
  if (rum__dpdk_get_stats(t, &s) != 0) return true;
  printf("%s stats: %u port(s); rx %" PRIu64 " frames %" PRIu64 " bytes, ignored %" PRIu64 ", arp %" PRIu64
         ", bad len/hdr/csum %" PRIu64 "/%" PRIu64 "/%" PRIu64 "; tx %" PRIu64
         " frames, arp %" PRIu64 ", held %" PRIu64 ", dropped %" PRIu64 "\n",
         who, (unsigned)s.nports, s.rx_frames, s.rx_bytes, s.rx_ignored, s.rx_arp, s.rx_bad_length, s.rx_bad_header,
         s.rx_bad_checksum, s.tx_frames, s.tx_arp, s.tx_held, s.tx_dropped);
  if (s.rx_bad_length + s.rx_bad_header + s.rx_bad_checksum != 0) {
    fprintf(stderr, "%s: malformed frames received\n", who);
    return false;
  }
#else
  (void)who;
  (void)t;
#endif
  return true;
}

/* ---- server ---- */

static int run_server(const struct options *o) {
  struct rum_transport *t;
  int rc = open_transport(o, &t);
  if (rc != 0) return rc == RUM_ETRANSPORT ? 77 : 1;
  printf("server: listening, mtu %u\n", t->mtu);
  fflush(stdout);
  static uint8_t replies[PP_BURST][PP_MAX_FRAME];
  struct rum_rx_frame rx[PP_BURST];
  struct rum_tx_frame tx[PP_BURST];
  uint64_t start = rum__now_ns(), deadline = start + (uint64_t)o->timeout_s * 1000000000ull;
  uint64_t last_frame = start, done_at = 0, served = 0;
  struct rum_peer_addr done_from[PP_MAX_CLIENTS];
  unsigned ndone = 0;
  bool ok = true;
  for (;;) {
    uint64_t now = rum__now_ns();
    if (done_at != 0 && now - done_at >= (uint64_t)o->idle_ms * 1000000ull) break;
    if (now >= deadline) {
      fprintf(stderr, "server: no DONE before the %us timeout\n", o->timeout_s);
      ok = false;
      break;
    }
    int n = t->ops->recv(t, rx, PP_BURST);
    if (n < 0) {
      fprintf(stderr, "server: recv: %s\n", rum_strerror(n));
      ok = false;
      break;
    }
    if (n == 0) {
      /* Poll a while after traffic, like the RPC layer, then block. */
      if (now - last_frame > 60000) (void)t->ops->wait(t, 1000000);
      continue;
    }
    last_frame = now;
    unsigned k = 0;
    for (int i = 0; i < n; i++) {
      if (frame_kind(rx[i].data, rx[i].len) == PP_BENCH) {
        /* Echo straight from the received buffer (released after the send). */
        uint32_t kind = PP_BENCH | PP_REPLY;
        tx[k].to = rx[i].from;
        tx[k].iov[0] = (struct iovec){rx[i].data, 12};
        tx[k].iov[1] = (struct iovec){&kind, 4};
        tx[k].iov[2] = (struct iovec){rx[i].data + PP_HEADER, rx[i].len - PP_HEADER};
        tx[k].iovcnt = 3;
        int sent = t->ops->send(t, &tx[k], 1);
        if (sent < 0) ok = false;
        served++;
        continue;
      }
      uint32_t seq = 0, kind = frame_check(rx[i].data, rx[i].len, 0, &seq);
      if (kind != PP_DATA && kind != PP_DONE) {
        fprintf(stderr, "server: bad frame of %u bytes\n", rx[i].len);
        ok = false;
        continue;
      }
      served++;
      frame_fill(replies[k], seq, rx[i].len, kind | PP_REPLY, 1);
      /* Two pieces, to exercise the gather copy. */
      uint32_t first = rx[i].len / 3;
      tx[k].to = rx[i].from;
      tx[k].iov[0] = (struct iovec){replies[k], first};
      tx[k].iov[1] = (struct iovec){replies[k] + first, rx[i].len - first};
      tx[k].iovcnt = 2;
      k++;
      if (kind == PP_DONE && done_at == 0) {
        bool seen = false;
        for (unsigned j = 0; j < ndone; j++)
          seen |= rum__peer_addr_equal(&done_from[j], &rx[i].from);
        if (!seen && ndone < PP_MAX_CLIENTS) done_from[ndone++] = rx[i].from;
        if (ndone >= o->clients) {
          done_at = rum__now_ns();
          printf("server: DONE from %u clients after %" PRIu64 " frames; idle for %u ms\n", ndone,
                 served, o->idle_ms);
        }
      }
    }
    int sent = t->ops->send(t, tx, k);
    t->ops->release(t, rx, (unsigned)n);
    if (sent < 0) {
      fprintf(stderr, "server: send: %s\n", rum_strerror(sent));
      ok = false;
      break;
    }
    if (done_at != 0) {
      /* Measure the idle phase from here: our own CPU time against the clock. */
      struct timespec c0;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
      uint64_t w0 = rum__now_ns();
      while (rum__now_ns() - w0 < (uint64_t)o->idle_ms * 1000000ull) {
        n = t->ops->recv(t, rx, PP_BURST);
        if (n > 0) { /* late retransmitted DONE: answer it again */
          for (int i = 0; i < n; i++) {
            uint32_t seq = 0, kind = frame_check(rx[i].data, rx[i].len, 0, &seq);
            if (kind == 0) continue;
            frame_fill(replies[0], seq, rx[i].len, kind | PP_REPLY, 1);
            tx[0].to = rx[i].from;
            tx[0].iov[0] = (struct iovec){replies[0], rx[i].len};
            tx[0].iovcnt = 1;
            (void)t->ops->send(t, tx, 1);
          }
          t->ops->release(t, rx, (unsigned)n);
        } else {
          (void)t->ops->wait(t, 5000000);
        }
      }
      struct timespec c1;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
      double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
      double wall = (double)(rum__now_ns() - w0) / 1e9;
      printf("server: idle CPU %.1f%% of one core over %.2f s\n", 100.0 * cpu / wall, wall);
      if (o->idle_ms >= 200 && cpu / wall > 0.2) {
        fprintf(stderr, "server: an idle endpoint used %.0f%% of a core\n", 100.0 * cpu / wall);
        ok = false;
      }
      break;
    }
  }
  if (!print_stats("server", t)) ok = false;
  rum__transport_destroy(t);
  printf("server: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

/* ---- client ---- */

struct request {
  uint32_t seq, size, kind;
  bool answered;
  uint8_t *buf;
};

static uint8_t request_bufs[PP_BURST][PP_MAX_FRAME];

static int send_requests(struct peer_state *ps, struct request *reqs, unsigned k) {
  struct rum_tx_frame tx[PP_BURST];
  unsigned m = 0;
  for (unsigned i = 0; i < k; i++) {
    if (reqs[i].answered) continue;
    tx[m].to = ps->peer;
    tx[m].iov[0] = (struct iovec){reqs[i].buf, reqs[i].size};
    tx[m].iovcnt = 1;
    m++;
  }
  unsigned off = 0;
  while (off < m) {
    int sent = ps->t->ops->send(ps->t, tx + off, m - off);
    if (sent < 0) return sent;
    if (sent == 0) break; /* link not up yet: the retry timer resends */
    off += (unsigned)sent;
  }
  return 0;
}

/* Send k requests in one call and collect all their replies, retransmitting the
 * missing ones. spin: busy-poll instead of wait() (benchmarks). */
static int exchange(struct peer_state *ps, struct request *reqs, unsigned k, bool spin) {
  int rc = send_requests(ps, reqs, k);
  if (rc != 0) return rc;
  unsigned missing = k;
  uint64_t retry_at = rum__now_ns() + PP_RETRY_NS;
  struct rum_rx_frame rx[PP_BURST];
  while (missing > 0) {
    uint64_t now = rum__now_ns();
    if (now >= ps->deadline_ns) {
      fprintf(stderr, "client: %u replies missing at the deadline\n", missing);
      return RUM_ETIMEDOUT;
    }
    if (now >= retry_at) {
      ps->retransmits += missing;
      rc = send_requests(ps, reqs, k);
      if (rc != 0) return rc;
      retry_at = now + PP_RETRY_NS;
    }
    int n = ps->t->ops->recv(ps->t, rx, PP_BURST);
    if (n < 0) return n;
    if (n == 0) {
      if (!spin) (void)ps->t->ops->wait(ps->t, (int64_t)(retry_at - now));
      continue;
    }
    for (int i = 0; i < n && rc == 0; i++) {
      uint32_t seq = 0, kind = frame_kind(rx[i].data, rx[i].len);
      if (kind == (PP_BENCH | PP_REPLY))
        memcpy(&seq, rx[i].data + 4, 4); /* timed echo: only its header is checked */
      else
        kind = frame_check(rx[i].data, rx[i].len, 1, &seq);
      if (kind == 0) {
        fprintf(stderr, "client: bad reply of %u bytes\n", rx[i].len);
        rc = RUM_EPROTO;
        break;
      }
      unsigned j = 0;
      while (j < k && reqs[j].seq != seq) j++;
      if (j == k || reqs[j].answered) {
        ps->duplicates++; /* answer to a retransmission */
        continue;
      }
      if (kind != (reqs[j].kind | PP_REPLY) || rx[i].len != reqs[j].size) {
        fprintf(stderr, "client: reply to seq %u has kind %#x size %u\n", seq, kind, rx[i].len);
        rc = RUM_EPROTO;
        break;
      }
      reqs[j].answered = true;
      missing--;
    }
    ps->t->ops->release(ps->t, rx, (unsigned)n);
    if (rc != 0) return rc;
  }
  return 0;
}

static void request_init(struct peer_state *ps, struct request *r, unsigned slot, uint32_t size,
                         uint32_t kind) {
  r->seq = ps->next_seq++;
  r->size = size;
  r->kind = kind;
  r->answered = false;
  r->buf = request_bufs[slot];
  frame_fill(r->buf, r->seq, size, kind, 0);
}

static unsigned frame_sizes(uint32_t mtu, uint32_t *sizes) {
  const uint32_t wanted[] = {PP_HEADER, 64, 333, 1000, 1472, 2006, mtu - 1, mtu};
  unsigned n = 0;
  for (unsigned i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
    if (wanted[i] > mtu || wanted[i] > PP_MAX_FRAME) continue;
    bool dup = false;
    for (unsigned j = 0; j < n; j++) dup |= sizes[j] == wanted[i];
    if (!dup && n < PP_MAX_SIZES) sizes[n++] = wanted[i];
  }
  return n;
}

static int client_checks(const struct options *o, struct peer_state *ps) {
  uint32_t sizes[PP_MAX_SIZES];
  unsigned nsizes = frame_sizes(ps->t->mtu, sizes);
  struct request reqs[PP_BURST];
  /* One at a time, every size. */
  for (unsigned s = 0; s < nsizes; s++) {
    for (unsigned i = 0; i < o->count; i++) {
      request_init(ps, &reqs[0], 0, sizes[s], PP_DATA);
      int rc = exchange(ps, reqs, 1, false);
      if (rc != 0) return rc;
    }
  }
  /* Bursts of mixed sizes in one send call. */
  for (unsigned b = 0; b < o->count / 8 + 1; b++) {
    for (unsigned i = 0; i < PP_BURST; i++)
      request_init(ps, &reqs[i], i, sizes[(b + i) % nsizes], PP_DATA);
    int rc = exchange(ps, reqs, PP_BURST, false);
    if (rc != 0) return rc;
  }
  /* A frame over the MTU is refused, not truncated. */
  struct rum_tx_frame big = {.to = ps->peer, .iovcnt = 1};
  big.iov[0] = (struct iovec){request_bufs[0], ps->t->mtu + 1};
  int rc = ps->t->ops->send(ps->t, &big, 1);
  if (ps->t->mtu + 1 <= PP_MAX_FRAME && rc != RUM_EMSGSIZE) {
    fprintf(stderr, "client: a frame of mtu+1 bytes gave %d, want RUM_EMSGSIZE\n", rc);
    return RUM_EPROTO;
  }
  printf("client: %u sizes x %u frames and %u bursts of %u checked (sizes up to %u), "
         "%u retransmits\n",
         nsizes, o->count, o->count / 8 + 1, PP_BURST, sizes[nsizes - 1], ps->retransmits);
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int client_bench(const struct options *o, struct peer_state *ps, uint32_t size) {
  uint64_t *rtt = malloc(sizeof *rtt * o->bench);
  if (rtt == NULL) return RUM_ENOMEM;
  unsigned before = ps->retransmits;
  struct request r;
  for (unsigned i = 0; i < o->bench; i++) {
    if (o->gap_us > 0) {
      struct timespec gap = {.tv_sec = o->gap_us / 1000000,
                             .tv_nsec = (long)(o->gap_us % 1000000) * 1000};
      nanosleep(&gap, NULL); /* the server goes idle between requests */
    }
    request_init(ps, &r, 0, size, PP_BENCH);
    uint64_t t0 = rum__now_ns();
    int rc = exchange(ps, &r, 1, true);
    if (rc != 0) {
      free(rtt);
      return rc;
    }
    rtt[i] = rum__now_ns() - t0;
  }
  qsort(rtt, o->bench, sizeof *rtt, cmp_u64);
  const char *driver = o->kind;
  char buf[80] = "";
  if (strcmp(o->kind, "dpdk") == 0 && o->eal != NULL) {
    const char *v = strstr(o->eal, "net_");
    if (v != NULL) {
      size_t n = strcspn(v, ", \"'");
      snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), v);
      size_t len = strlen(buf);
      while (len > 0 && buf[len - 1] >= '0' && buf[len - 1] <= '9') buf[--len] = '\0';
      driver = buf;
    }
  }
  printf(
      "{\"scenario\":\"dpdk_pingpong\",\"transport\":\"%s\",\"driver\":\"%s\",\"payload_bytes\":%u,"
      "\"round_trips\":%u,\"gap_us\":%u,\"median_us\":%.2f,\"p99_us\":%.2f,\"min_us\":%.2f,"
      "\"max_us\":%.2f,\"retransmits\":%u}\n",
      o->kind, driver, size, o->bench, o->gap_us, rtt[o->bench / 2] / 1e3,
      rtt[(size_t)o->bench * 99 / 100] / 1e3, rtt[0] / 1e3, rtt[o->bench - 1] / 1e3,
      ps->retransmits - before);
  fflush(stdout);
  free(rtt);
  return 0;
}

static int run_client(const struct options *o) {
  struct peer_state ps;
  memset(&ps, 0, sizeof ps);
  ps.peer.ipv4 = o->peer_ip;
  ps.peer.port = o->peer_port;
  ps.deadline_ns = rum__now_ns() + (uint64_t)o->timeout_s * 1000000000ull;
  bool ok = true;
  for (unsigned cycle = 0; cycle < o->cycles && ok; cycle++) {
    int rc = open_transport(o, &ps.t);
    if (rc != 0) return rc == RUM_ETRANSPORT ? 77 : 1;
    printf("client: cycle %u, mtu %u\n", cycle, ps.t->mtu);
    rc = client_checks(o, &ps);
    if (rc == 0 && o->bench > 0 && cycle + 1 == o->cycles) {
      rc = client_bench(o, &ps, 64);
      if (rc == 0) rc = client_bench(o, &ps, ps.t->mtu > PP_MAX_FRAME ? PP_MAX_FRAME : ps.t->mtu);
    }
    if (rc == 0 && cycle + 1 == o->cycles) {
      struct request done;
      request_init(&ps, &done, 0, PP_HEADER, PP_DONE);
      rc = exchange(&ps, &done, 1, false);
    }
    if (rc != 0) {
      fprintf(stderr, "client: failed: %s\n", rum_strerror(rc));
      ok = false;
    }
    if (!print_stats("client", ps.t)) ok = false;
    rum__transport_destroy(ps.t);
  }
  printf("client: %s (%u duplicate replies)\n", ok ? "ok" : "FAILED", ps.duplicates);
  return ok ? 0 : 1;
}

/* ---- selftest: error paths and port handling in one process, on net_null ports ---- */

#define EXPECT(cond)                                                                               \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "selftest: %s:%d: failed: %s\n", __FILE__, __LINE__, #cond);                 \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

#if defined(RUM_HAVE_DPDK)
static int open_dpdk(const char *args, uint32_t ip, uint32_t mtu, struct rum_transport **t) {
  struct rum_transport_config cfg = {.kind = "dpdk",
                                     .bind_ipv4 = ip,
                                     .bind_port = 20010,
                                     .mtu = mtu,
                                     .dpdk_args = args,
                                     .fault_spec = ""};
  return rum__transport_open(&cfg, t);
}

/* net_null ports: Tx drops everything, Rx hands out endless 64-byte zero frames. */
static int run_selftest(const char *prefix) {
  uint32_t ip = inet_addr("10.79.0.1");
  struct rum_transport *a = NULL, *b = NULL, *c = NULL;
  char eal[512];
  snprintf(eal, sizeof eal,
           "--no-huge --no-pci -m 64 --file-prefix=%s --vdev=net_null0 "
           "--vdev=net_null1",
           prefix);
  unsetenv("RUM_DPDK_ARGS");
  /* Refused before the EAL is touched, without exiting the process. */
  EXPECT(open_dpdk(eal, 0, 0, &a) == RUM_EINVAL && a == NULL);
  EXPECT(open_dpdk("--no-huge -h", ip, 0, &a) == RUM_EINVAL);
  EXPECT(open_dpdk(NULL, ip, 0, &a) == RUM_ETRANSPORT);
  /* Without port= a transport takes every port; then none is left. */
  struct rum_dpdk_stats st;
  EXPECT(open_dpdk(eal, ip, 0, &a) == 0);
  EXPECT(a->mtu == 1472 && a->local.has_mac && a->local.port == 20010);
  EXPECT(rum__dpdk_get_stats(a, &st) == 0 && st.nports == 2);
  EXPECT(open_dpdk(eal, ip, 0, &c) == RUM_ETRANSPORT);
  EXPECT(open_dpdk("port=net_null1", ip, 0, &c) == RUM_EBUSY);
  rum__transport_destroy(a);
  /* port= names them; a transport without port= takes what is left. The address
   * may come from ip= (which also wins over the caller's, checked below). */
  EXPECT(open_dpdk("port=net_null0", ip, 0, &a) == 0);
  EXPECT(rum__dpdk_get_stats(a, &st) == 0 && st.nports == 1);
  EXPECT(open_dpdk("ip=10.79.0.5", 0, 0, &b) == 0);
  EXPECT(rum__dpdk_get_stats(b, &st) == 0 && st.nports == 1);
  EXPECT(b->local.ipv4 == inet_addr("10.79.0.5"));
  EXPECT(open_dpdk(eal, ip, 0, &c) == RUM_ETRANSPORT);
  EXPECT(open_dpdk("port=net_null0", ip, 0, &c) == RUM_EBUSY);
  EXPECT(open_dpdk("port=net_null1,net_null0", ip, 0, &c) == RUM_EBUSY);
  EXPECT(open_dpdk("port=no_such_port", ip, 0, &c) == RUM_ETRANSPORT);
  EXPECT(open_dpdk("port=net_null0", 0, 0, &c) == RUM_EINVAL); /* no address at all */
  /* Closing gives the port back; it opens again, by name, at another MTU. */
  rum__transport_destroy(b);
  EXPECT(open_dpdk("port=net_null1", ip, 100000, &b) == RUM_EINVAL);
  EXPECT(open_dpdk("port=net_null1", ip, 500, &b) == RUM_EINVAL);
  EXPECT(open_dpdk("port=1", ip, 1000, &b) == 0 && b->mtu == 1000);
  rum__transport_destroy(b);
  /* Jumbo frames need a pool of 4095 9 KiB mbufs, more than -m 64 leaves: an error,
   * after which the port still opens. */
  EXPECT(open_dpdk("port=net_null1", ip, 8972, &b) == RUM_ETRANSPORT && b == NULL);
  /* A larger MTU than the port's pool holds: a new pool replaces the old one. */
  EXPECT(open_dpdk("port=net_null1", ip, 3000, &b) == 0 && b->mtu == 3000);
  static uint8_t jumbo[3000];
  struct rum_tx_frame jf = {.to = {.ipv4 = inet_addr("10.79.0.3"), .port = 1, .has_mac = true},
                            .iovcnt = 1};
  jf.iov[0] = (struct iovec){jumbo, sizeof jumbo};
  EXPECT(b->ops->send(b, &jf, 1) == 1);
  rum__transport_destroy(b);
  EXPECT(open_dpdk("port=net_null1 ip=10.79.0.6", ip, 0, &b) == 0);
  EXPECT(b->local.ipv4 == inet_addr("10.79.0.6"));
  rum__transport_destroy(b);
  EXPECT(open_dpdk("port=net_null1", ip, 0, &b) == 0 && b->mtu == 1472);

  /* Too big is an error; an unknown peer's frame is held and ARP asked for. */
  static uint8_t bytes[2000];
  struct rum_tx_frame f = {.to = {.ipv4 = inet_addr("10.79.0.2"), .port = 20011}, .iovcnt = 2};
  f.iov[0] = (struct iovec){bytes, 1000};
  f.iov[1] = (struct iovec){bytes + 1000, a->mtu - 1000 + 1};
  EXPECT(a->ops->send(a, &f, 1) == RUM_EMSGSIZE);
  f.iov[1].iov_len = 100;
  f.iovcnt = RUM_TX_MAX_IOV + 1;
  EXPECT(a->ops->send(a, &f, 1) == RUM_EINVAL);
  f.iovcnt = 2;
  EXPECT(a->ops->send(a, &f, 1) == 1);
  EXPECT(rum__dpdk_get_stats(a, &st) == 0);
  EXPECT(st.tx_held == 1 && st.tx_arp >= 1);
  /* A peer with a known MAC goes straight out. */
  f.to.has_mac = true;
  memset(f.to.mac, 0x02, 6);
  struct rum_dpdk_stats before = st;
  EXPECT(a->ops->send(a, &f, 1) == 1);
  EXPECT(rum__dpdk_get_stats(a, &st) == 0 && st.tx_held == 1);
  EXPECT(st.tx_frames == before.tx_frames + 1 && st.tx_bytes == before.tx_bytes + 42 + 1100);

  /* Rx garbage (zeroed frames) is counted and dropped, never handed up; wait sees it. */
  struct rum_rx_frame rx[PP_BURST];
  EXPECT(a->ops->wait(a, 1000000) == 1);
  for (int i = 0; i < 10; i++) EXPECT(a->ops->recv(a, rx, PP_BURST) == 0);
  EXPECT(rum__dpdk_get_stats(a, &st) == 0 && st.rx_frames == 0);
  EXPECT(st.rx_ignored + st.rx_bad_length >= 10);
  EXPECT(st.rx_bad_header == 0 && st.rx_bad_checksum == 0);

  rum__transport_destroy(a);
  EXPECT(rum__dpdk_shutdown() == RUM_EBUSY); /* b is still open */
  rum__transport_destroy(b);
  EXPECT(rum__dpdk_shutdown() == 0);
  EXPECT(open_dpdk(eal, ip, 0, &a) == RUM_ETRANSPORT); /* DPDK cannot come back */
  printf("selftest: ok\n");
  return 0;
}

/* A typo is refused before EAL sees it; rte_eal_init failing gives an error, twice,
 * and does not end the process. */
static int run_bad_eal(const char *prefix) {
  uint32_t ip = inet_addr("10.79.0.1");
  struct rum_transport *a = NULL;
  char eal[256];
  snprintf(eal, sizeof eal, "--no-huge --no-pci -m 64 --file-prefix=%s --no-such-eal-option",
           prefix);
  EXPECT(open_dpdk(eal, ip, 0, &a) == RUM_EINVAL && a == NULL);
  snprintf(eal, sizeof eal, "--no-huge --no-pci -m 64 --file-prefix=%s -l 250 --vdev=net_null0",
           prefix);
  EXPECT(open_dpdk(eal, ip, 0, &a) == RUM_ETRANSPORT && a == NULL); /* no CPU 250 */
  EXPECT(open_dpdk(eal, ip, 0, &a) == RUM_ETRANSPORT);
  printf("bad-eal: ok\n");
  return 0;
}
#endif

/* ---- options ---- */

static bool parse_ip(const char *text, uint32_t *out) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) return false;
  *out = a.s_addr;
  return true;
}

static int usage(void) {
  fprintf(stderr,
          "usage: dpdk_pingpong server|client [--kind dpdk|udp] [--eal ARGS] --ip A.B.C.D\n"
          "         [--port N] [--peer A.B.C.D:PORT] [--mtu N] [--count N] [--bench N]\n"
          "         [--cycles N] [--idle-ms N] [--timeout S] [--gap-us N] [--clients N]\n");
  return 2;
}

int main(int argc, char **argv) {
  struct options o = {
      .kind = "dpdk", .count = 100, .cycles = 1, .idle_ms = 500, .timeout_s = 40, .clients = 1};
  if (argc < 2) return usage();
  if (strcmp(argv[1], "selftest") == 0 || strcmp(argv[1], "bad-eal") == 0) {
#if defined(RUM_HAVE_DPDK)
    const char *prefix = argc > 2 ? argv[2] : "rumdpdk-selftest";
    return strcmp(argv[1], "selftest") == 0 ? run_selftest(prefix) : run_bad_eal(prefix);
#else
    return 77;
#endif
  }
  if (strcmp(argv[1], "server") == 0)
    o.server = true;
  else if (strcmp(argv[1], "client") != 0)
    return usage();
  o.port = o.server ? 20001 : 20002;
  static const struct option longopts[] = {{"kind", 1, 0, 'k'},    {"eal", 1, 0, 'e'},
                                           {"ip", 1, 0, 'i'},      {"port", 1, 0, 'p'},
                                           {"peer", 1, 0, 'P'},    {"mtu", 1, 0, 'm'},
                                           {"count", 1, 0, 'c'},   {"bench", 1, 0, 'b'},
                                           {"cycles", 1, 0, 'C'},  {"idle-ms", 1, 0, 'I'},
                                           {"timeout", 1, 0, 't'}, {"gap-us", 1, 0, 'g'},
                                           {"clients", 1, 0, 'n'}, {0, 0, 0, 0}};
  int c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'k': o.kind = optarg; break;
    case 'e': o.eal = optarg; break;
    case 'i':
      if (!parse_ip(optarg, &o.ip)) return usage();
      break;
    case 'p': o.port = (uint16_t)atoi(optarg); break;
    case 'P': {
      char host[64];
      const char *colon = strrchr(optarg, ':');
      if (colon == NULL || (size_t)(colon - optarg) >= sizeof host) return usage();
      snprintf(host, sizeof host, "%.*s", (int)(colon - optarg), optarg);
      if (!parse_ip(host, &o.peer_ip)) return usage();
      o.peer_port = (uint16_t)atoi(colon + 1);
      break;
    }
    case 'm': o.mtu = (uint32_t)atoi(optarg); break;
    case 'c': o.count = (unsigned)atoi(optarg); break;
    case 'b': o.bench = (unsigned)atoi(optarg); break;
    case 'C': o.cycles = (unsigned)atoi(optarg); break;
    case 'I': o.idle_ms = (unsigned)atoi(optarg); break;
    case 't': o.timeout_s = (unsigned)atoi(optarg); break;
    case 'g': o.gap_us = (unsigned)atoi(optarg); break;
    case 'n': o.clients = (unsigned)atoi(optarg); break;
    default: return usage();
    }
  }
  if (o.ip == 0 || (!o.server && (o.peer_ip == 0 || o.peer_port == 0)) || o.count == 0 ||
      o.cycles == 0 || o.clients == 0 || o.clients > PP_MAX_CLIENTS)
    return usage();
  rum__log_set_program(o.server ? "pingpong-server" : "pingpong-client");
  setvbuf(stdout, NULL, _IOLBF, 0);
  return o.server ? run_server(&o) : run_client(&o);
}
