/* rum-bench rtt: round trip of the RPC layer next to a raw ping-pong over the same
 * transport, in one run. A forked child is the far end: first a raw echo loop, then,
 * told so by a SWITCH frame, an RPC endpoint answering PING on the same transport
 * (one child, forked before the parent opens its end: a DPDK EAL cannot be used by
 * a process forked after it started). Both ends busy-poll, as RUM's do under load. */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "bench.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "util/clock.h"

struct rtt_options {
  const char *transport;
  const char *client_args, *server_args; /* DPDK EAL arguments of each end */
  uint32_t client_ip, server_ip;
  uint16_t port;
  unsigned iterations;
  unsigned payload;
  unsigned inflight;
};

static int open_end(const struct rtt_options *o, bool server, struct rum_transport **out) {
  struct rum_transport_config cfg = {
      .kind = o->transport,
      .bind_ipv4 = server ? o->server_ip : o->client_ip,
      .bind_port = server ? o->port : (uint16_t)(o->port + 1),
      .dpdk_args = server ? o->server_args : o->client_args,
      .fault_spec = "",
  };
  return rum__transport_open(&cfg, out);
}

/* The frame that ends the raw phase (never a valid RUM frame: no RUM magic). */
static const char switch_frame[] = "rum-bench rtt: switch to RPC";

static bool is_switch(const struct rum_rx_frame *f) {
  return f->len == sizeof switch_frame && memcmp(f->data, switch_frame, sizeof switch_frame) == 0;
}

/* Far end, raw: send every frame straight back, until SWITCH. */
static void raw_echo(struct rum_transport *t) {
  struct rum_rx_frame frames[RUM_TRANSPORT_BURST];
  for (;;) {
    int n = t->ops->recv(t, frames, RUM_TRANSPORT_BURST);
    bool done = false;
    for (int i = 0; i < n; i++) {
      if (is_switch(&frames[i])) {
        done = true;
        continue;
      }
      struct rum_tx_frame tx = {.to = frames[i].from, .iovcnt = 1};
      tx.iov[0].iov_base = frames[i].data;
      tx.iov[0].iov_len = frames[i].len;
      (void)t->ops->send(t, &tx, 1);
    }
    if (n > 0) t->ops->release(t, frames, (unsigned)n);
    if (done) return;
  }
}

static void ping_handler(void *ctx, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  (void)ctx;
  size_t len = req->len < sizeof reply->small ? req->len : sizeof reply->small;
  memcpy(reply->small, req->payload, len);
  rum__rpc_reply_small(reply, RUM_MSG_PING, (int)len);
}

static void far_end_child(const struct rtt_options *o) {
  struct rum_transport *t;
  if (open_end(o, true, &t) != 0) _exit(1);
  raw_echo(t);
  struct rum_rpc_config cfg = {.self_id = 1, .session = 0x5e55, .server_slots = 16,
                               .handler = ping_handler, .spin_us = 200};
  struct rum_rpc *rpc;
  if (rum__rpc_create(t, &cfg, &rpc) != 0) _exit(1);
  for (;;) (void)rum__rpc_serve(rpc, 100000000);
}

static pid_t start_child(const struct rtt_options *o, void (*body)(const struct rtt_options *)) {
  pid_t pid = fork();
  if (pid == 0) {
    body(o);
    _exit(0);
  }
  return pid;
}

static void stop_child(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

static struct rum_peer_addr server_addr(const struct rtt_options *o) {
  struct rum_peer_addr a = {.ipv4 = o->server_ip, .port = o->port};
  return a;
}

/* Raw ping-pong; returns 0 and fills samples. */
static int measure_raw(const struct rtt_options *o, struct rum_transport *t, struct bench_samples *s) {
  uint8_t msg[RUM_WIRE_MAX_FRAME];
  memset(msg, 0xab, o->payload + RUM_WIRE_HEADER_SIZE);
  struct rum_tx_frame tx = {.to = server_addr(o), .iovcnt = 1};
  tx.iov[0].iov_base = msg;
  tx.iov[0].iov_len = o->payload + RUM_WIRE_HEADER_SIZE; /* same bytes on the wire as RPC */
  struct rum_rx_frame rx[RUM_TRANSPORT_BURST];
  unsigned warmup = o->iterations / 10 + 10;
  for (unsigned i = 0; i < o->iterations + warmup; i++) {
    uint64_t start = rum__now_ns();
    if (t->ops->send(t, &tx, 1) != 1) return -1;
    int n;
    uint64_t deadline = start + 200000000ull;
    while ((n = t->ops->recv(t, rx, RUM_TRANSPORT_BURST)) == 0) {
      if (rum__now_ns() > deadline) break; /* lost: resend (counts as a slow sample) */
    }
    if (n > 0) t->ops->release(t, rx, (unsigned)n);
    if (n <= 0) {
      i--;
      continue;
    }
    if (i >= warmup) bench_samples_add(s, rum__now_ns() - start);
  }
  return 0;
}

static int measure_rpc(const struct rtt_options *o, struct rum_rpc *rpc, struct bench_samples *s,
                       double *rps) {
  uint8_t req[RUM_WIRE_MAX_FRAME], resp[RUM_WIRE_MAX_FRAME];
  memset(req, 0xcd, o->payload);
  struct rum_rpc_call calls[RUM_RPC_MAX_INFLIGHT];
  for (unsigned i = 0; i < o->inflight; i++) {
    memset(&calls[i], 0, sizeof calls[i]);
    calls[i].to = server_addr(o);
    calls[i].type = RUM_MSG_PING;
    calls[i].req_iovcnt = 1;
    calls[i].req[0].iov_base = req;
    calls[i].req[0].iov_len = o->payload;
    calls[i].resp_iovcnt = 1;
    calls[i].resp[0].iov_base = resp;
    calls[i].resp[0].iov_len = sizeof resp;
  }
  unsigned warmup = o->iterations / 10 + 10;
  for (unsigned i = 0; i < o->iterations + warmup; i++) {
    uint64_t start = rum__now_ns();
    int rc = rum__rpc_call(rpc, calls, 1);
    if (rc != 0) {
      fprintf(stderr, "rum-bench rtt: call failed: %s\n", rum_strerror(rc));
      return -1;
    }
    if (i >= warmup) bench_samples_add(s, rum__now_ns() - start);
  }
  /* Throughput: batches of `inflight` calls in flight at once. */
  unsigned batches = o->iterations / o->inflight + 1;
  uint64_t start = rum__now_ns();
  for (unsigned b = 0; b < batches; b++) {
    int rc = rum__rpc_call(rpc, calls, o->inflight);
    if (rc != 0) {
      fprintf(stderr, "rum-bench rtt: batch failed: %s\n", rum_strerror(rc));
      return -1;
    }
  }
  *rps = (double)batches * o->inflight / ((double)(rum__now_ns() - start) / 1e9);
  return 0;
}

static void rtt_usage(FILE *out) {
  fprintf(out,
          "usage: rum-bench rtt [--transport udp|dpdk] [--iterations N] [--payload BYTES]\n"
          "                     [--inflight N] [--port P] [--client-ip A] [--server-ip A]\n"
          "                     [--client-dpdk-args ARGS] [--server-dpdk-args ARGS]\n"
          "Prints one JSON line: raw transport ping-pong and RPC round trip (median, p99,\n"
          "microseconds), RPC requests/s with N in flight, and rpc/raw median ratio.\n");
}

int bench_rtt(int argc, char **argv) {
  struct rtt_options o = {.transport = "udp", .port = 16100, .iterations = 20000, .payload = 64,
                          .inflight = 16};
  inet_pton(AF_INET, "127.0.0.1", &o.client_ip);
  inet_pton(AF_INET, "127.0.0.1", &o.server_ip);
  static const struct option longopts[] = {
      {"transport", required_argument, 0, 't'}, {"iterations", required_argument, 0, 'n'},
      {"payload", required_argument, 0, 'p'},   {"inflight", required_argument, 0, 'f'},
      {"port", required_argument, 0, 'P'},      {"client-ip", required_argument, 0, 'c'},
      {"server-ip", required_argument, 0, 's'}, {"client-dpdk-args", required_argument, 0, 'C'},
      {"server-dpdk-args", required_argument, 0, 'S'}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (opt) {
    case 't': o.transport = optarg; break;
    case 'n': o.iterations = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'p': o.payload = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'f': o.inflight = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'P': o.port = (uint16_t)strtoul(optarg, NULL, 10); break;
    case 'c': if (inet_pton(AF_INET, optarg, &o.client_ip) != 1) { rtt_usage(stderr); return 2; } break;
    case 's': if (inet_pton(AF_INET, optarg, &o.server_ip) != 1) { rtt_usage(stderr); return 2; } break;
    case 'C': o.client_args = optarg; break;
    case 'S': o.server_args = optarg; break;
    case 'h': rtt_usage(stdout); return 0;
    default: rtt_usage(stderr); return 2;
    }
  }
  if (o.iterations == 0 || o.payload > 1024 || o.inflight == 0 || o.inflight > RUM_RPC_MAX_INFLIGHT) {
    rtt_usage(stderr);
    return 2;
  }
  struct bench_samples raw, rpc_s;
  if (bench_samples_init(&raw, o.iterations) != 0 || bench_samples_init(&rpc_s, o.iterations) != 0)
    return 1;
  int rc = 1;
  struct rum_transport *t = NULL;
  struct rum_rpc *rpc = NULL;
  double rps = 0;
  pid_t child = start_child(&o, far_end_child);
  usleep(300000); /* the child binds its port; a lost first frame is resent anyway */
  if (open_end(&o, false, &t) != 0) goto out;
  fprintf(stderr, "rum-bench rtt: raw %s ping-pong, %u round trips...\n", o.transport, o.iterations);
  if (measure_raw(&o, t, &raw) != 0) goto out;
  /* Sent a few times (a frame may be lost); the child's RPC layer drops the extras. */
  struct rum_tx_frame sw = {.to = server_addr(&o), .iovcnt = 1};
  sw.iov[0] = (struct iovec){(void *)switch_frame, sizeof switch_frame};
  for (int i = 0; i < 3; i++) {
    (void)t->ops->send(t, &sw, 1);
    usleep(1000);
  }
  usleep(300000);
  struct rum_rx_frame stale[RUM_TRANSPORT_BURST]; /* late echoes of the raw phase */
  for (int n; (n = t->ops->recv(t, stale, RUM_TRANSPORT_BURST)) > 0;) t->ops->release(t, stale, (unsigned)n);
  uint64_t session;
  if (getrandom(&session, sizeof session, 0) != sizeof session) session = rum__now_ns();
  struct rum_rpc_config cfg = {.self_id = 1000, .session = session | 1, .spin_us = 500};
  if (rum__rpc_create(t, &cfg, &rpc) != 0) goto out;
  fprintf(stderr, "rum-bench rtt: RPC over %s, %u calls...\n", o.transport, o.iterations);
  if (measure_rpc(&o, rpc, &rpc_s, &rps) != 0) goto out;
  double raw_med = bench_quantile(&raw, 0.5) / 1000, raw_p99 = bench_quantile(&raw, 0.99) / 1000;
  double rpc_med = bench_quantile(&rpc_s, 0.5) / 1000, rpc_p99 = bench_quantile(&rpc_s, 0.99) / 1000;
  printf("{\"scenario\":\"rtt\",\"transport\":\"%s\",\"payload\":%u,\"iterations\":%u,"
         "\"raw_median_us\":%.2f,\"raw_p99_us\":%.2f,\"rpc_median_us\":%.2f,\"rpc_p99_us\":%.2f,"
         "\"rpc_rps\":%.0f,\"inflight\":%u,\"raw_rps\":%.0f,\"ratio\":%.3f,\"goal_ratio_max\":1.2}\n",
         o.transport, o.payload, o.iterations, raw_med, raw_p99, rpc_med, rpc_p99, rps, o.inflight,
         1e6 / raw_med, rpc_med / raw_med);
  fflush(stdout);
  rc = 0;
out:
  stop_child(child);
  rum__rpc_destroy(rpc);
  rum__transport_destroy(t);
  bench_samples_free(&raw);
  bench_samples_free(&rpc_s);
  return rc;
}
