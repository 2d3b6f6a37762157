/* rum-bench paxos: the Multi-Paxos core (src/paxos) alone, in one process over a
 * perfect in-memory network, for groups of 1 (no messages: the baseline), 3 and 5
 * replicas in one run. Per group size: decided entries per second of CPU (what the
 * state machines, the codec and the copies cost, without any network), messages per
 * entry, and network hops from proposal to decision at the leader (2 = one round
 * trip: ACCEPT out, ACCEPTED back), with the ratio to the 1-replica baseline.
 * This measures the core, not rumd's write-back, which does not replicate yet. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "paxos/paxos.h"
#include "util/clock.h"

struct net_msg {
  uint8_t from, to;
  size_t len;
  uint8_t *buf;
};

struct net {
  struct rum_paxos *px[RUM_PAXOS_MAX_REPLICAS];
  unsigned n;
  struct net_msg *q, *next;
  size_t nq, nnext, cap;
  uint64_t msgs, decided_at_leader;
};

static size_t snap_read(void *ctx, uint64_t *cursor, uint8_t *buf, size_t cap, bool *done) {
  (void)ctx, (void)cursor, (void)buf, (void)cap;
  *done = true;
  return 0;
}
static void snap_reset(void *ctx) { (void)ctx; }
static void snap_write(void *ctx, uint64_t cursor, const uint8_t *buf, size_t len) {
  (void)ctx, (void)cursor, (void)buf, (void)len;
}

static void drain(struct net *w, unsigned i, int leader) {
  struct rum_paxos_send s;
  while (rum__paxos_pop_send(w->px[i], &s)) {
    if (w->nnext == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 64;
      w->next = realloc(w->next, w->cap * sizeof *w->next);
      w->q = realloc(w->q, w->cap * sizeof *w->q);
    }
    uint8_t *copy = malloc(s.len);
    memcpy(copy, s.buf, s.len);
    w->next[w->nnext++] = (struct net_msg){.from = (uint8_t)i, .to = s.to, .len = s.len, .buf = copy};
    w->msgs++;
  }
  struct rum_paxos_decided d;
  while (rum__paxos_pop_decided(w->px[i], &d))
    if ((int)i == leader && d.tag != 0) w->decided_at_leader++;
}

/* One hop: deliver everything sent in the previous one. */
static void hop(struct net *w, uint64_t now, int leader) {
  struct net_msg *t = w->q;
  w->q = w->next;
  w->next = t;
  w->nq = w->nnext;
  w->nnext = 0;
  for (size_t k = 0; k < w->nq; k++) {
    rum__paxos_receive(w->px[w->q[k].to], now, w->q[k].buf, w->q[k].len);
    drain(w, w->q[k].to, leader);
    free(w->q[k].buf);
  }
}

/* Tick only replica 0 until it leads (the others' clocks stand still, so none of
 * them runs for election); returns the leader or -1. */
static int elect(struct net *w, uint64_t *now) {
  int leader = -1;
  for (unsigned t = 0; t < 5000 && leader != 0; t++, (*now)++) {
    for (unsigned i = 0; i < w->n; i++) {
      rum__paxos_tick(w->px[i], i == 0 ? *now : 0, 0);
      drain(w, i, leader);
    }
    hop(w, *now, leader);
    leader = rum__paxos_leader(w->px[0]);
  }
  for (unsigned h = 0; h < 8 && leader == 0; h++) hop(w, *now, leader); /* the leadership's no-op */
  return leader;
}

/* One group size; prints its JSON line (with the ratio to *base, or sets *base when
 * it is 0). */
static int run(unsigned n, unsigned entries, unsigned value_bytes, unsigned batch, double *base) {
  struct net w = {.n = n};
  struct rum_paxos_config cfg;
  rum__paxos_config_default(&cfg);
  cfg.nreplicas = (uint8_t)n;
  cfg.window = 256;
  cfg.log_capacity = 1024;
  cfg.queue_max = 1024;
  cfg.batch_entries = 16;
  cfg.app = (struct rum_paxos_app){.snapshot_read = snap_read, .snapshot_reset = snap_reset,
                                   .snapshot_write = snap_write};
  for (unsigned i = 0; i < n; i++) {
    cfg.self = (uint8_t)i;
    cfg.incarnation = i + 1;
    if (rum__paxos_create(&cfg, 0, &w.px[i]) != 0) return 1;
  }
  uint64_t now = 0;
  int leader = elect(&w, &now);
  if (leader != 0) {
    fprintf(stderr, "rum-bench paxos: replica 0 did not become leader of %u\n", n);
    return 1;
  }
  uint8_t *value = calloc(1, value_bytes);
  uint64_t msgs = 0, hops = 0, rounds = 0;
  int rc;
  uint64_t t0 = rum__now_ns();
  for (unsigned done = 0; done < entries; done += batch) {
    uint64_t want = w.decided_at_leader + batch, m0 = w.msgs;
    for (unsigned k = 0; k < batch; k++) {
      if ((rc = rum__paxos_propose(w.px[0], value, value_bytes, done + k + 1)) != 0) {
        fprintf(stderr, "rum-bench paxos: propose failed: %d\n", rc);
        return 1;
      }
    }
    rum__paxos_flush(w.px[0]);
    drain(&w, 0, leader);
    while (w.decided_at_leader < want && hops < 100u * entries) {
      hop(&w, now, leader);
      hops++;
    }
    msgs += w.msgs - m0;
    rounds++;
    /* A heartbeat tells the followers the commit; their answers let the log truncate. */
    now += cfg.heartbeat_ticks;
    rum__paxos_tick(w.px[0], now, 0);
    drain(&w, 0, leader);
    hop(&w, now, leader);
    hop(&w, now, leader);
  }
  uint64_t ns = rum__now_ns() - t0;
  double per_s = (double)entries / ((double)ns / 1e9);
  if (*base == 0) *base = per_s;
  printf("{\"scenario\":\"paxos\",\"replicas\":%u,\"entries\":%u,\"value_bytes\":%u,\"batch\":%u,"
         "\"entries_per_s\":%.0f,\"messages_per_entry\":%.3f,\"hops_per_batch\":%.2f,"
         "\"baseline\":\"1 replica\",\"baseline_entries_per_s\":%.0f,\"ratio\":%.3f}\n",
         n, entries, value_bytes, batch, per_s, (double)msgs / entries, (double)hops / (double)rounds, *base,
         per_s / *base);
  fflush(stdout);
  for (unsigned i = 0; i < n; i++) rum__paxos_destroy(w.px[i]);
  for (size_t k = 0; k < w.nnext; k++) free(w.next[k].buf);
  free(w.q);
  free(w.next);
  free(value);
  return per_s > 0 ? 0 : 1;
}

int bench_paxos(int argc, char **argv) {
  unsigned entries = 20000, value_bytes = 4096, batch = 16;
  static const struct option opts[] = {{"entries", required_argument, NULL, 'e'},
                                       {"value-bytes", required_argument, NULL, 'v'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "e:v:b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'e': entries = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'v': value_bytes = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'b': batch = (unsigned)strtoul(optarg, NULL, 10); break;
    default:
      fprintf(c == 'h' ? stdout : stderr,
              "usage: rum-bench paxos [--entries N (20000)] [--value-bytes B (4096)] [--batch K (16)]\n"
              "The Paxos core alone for 1, 3 and 5 replicas over an in-memory network; JSON lines.\n");
      return c == 'h' ? 0 : 2;
    }
  }
  if (entries == 0 || batch == 0 || batch > 256 || value_bytes > RUM_PAXOS_MAX_VALUE) {
    fprintf(stderr, "rum-bench paxos: entries > 0, batch 1..256, value-bytes <= %d\n", RUM_PAXOS_MAX_VALUE);
    return 2;
  }
  double base = 0;
  static const unsigned sizes[] = {1, 3, 5};
  for (unsigned i = 0; i < 3; i++)
    if (run(sizes[i], entries, value_bytes, batch, &base) != 0) return 1;
  return 0;
}
