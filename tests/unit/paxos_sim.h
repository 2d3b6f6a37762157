/* A deterministic simulator for src/paxos: N replicas in one process over a network
 * that loses, duplicates, delays and reorders messages and can be partitioned, with
 * crashes and restarts with empty memory. Everything that varies comes from one seed,
 * so a run replays exactly. Included by tests/unit/test_paxos*.c.
 *
 * The replicated application is a table of KEYS 64-bit cells; an entry (key u32,
 * value u64) overwrites one cell, which is idempotent as paxos.h requires. The
 * checker records, for every log slot, the first value any replica applied there and
 * fails when another replica applies something else (agreement), when a replica
 * applies slots out of order (prefix), and at the end when an acknowledged proposal
 * is missing or a replica's table differs from the one the recorded log yields. */
#ifndef RUM_TEST_PAXOS_SIM_H
#define RUM_TEST_PAXOS_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "paxos/paxos.h"
#include "proto/le.h"

enum { SIM_MAXN = 5, SIM_KEYS = 32, SIM_VALUE = 12, SIM_LATE_TICKS = 600 };

struct sim_node {
  struct sim *sim;
  uint8_t index;
  struct rum_paxos *px; /* NULL while down */
  uint64_t incarnation;
  uint64_t table[SIM_KEYS];
  uint64_t last_applied;
  bool reset_seen;      /* a state transfer began: the next slot may jump */
  uint64_t up_at;       /* when down: the tick it restarts */
  int64_t clock_offset;    /* its own clock: offset + now * rate_ppm / 1e6 */
  uint64_t rate_ppm;
  unsigned restarts;
};

struct sim_packet {
  uint64_t at, order;
  uint8_t from, to;
  uint32_t len;
  uint8_t *buf;
};

struct sim_record {
  bool set;
  uint64_t origin, tag;
  uint32_t len;
  uint8_t value[SIM_VALUE];
};

struct sim_acked {
  uint64_t tag, index;
};

struct sim {
  uint64_t seed, rng, now, order;
  unsigned n;
  struct sim_node nodes[SIM_MAXN];
  struct sim_packet *packets;
  size_t npackets, cap_packets;
  bool cut[SIM_MAXN][SIM_MAXN];
  unsigned drop_pct, dup_pct, max_delay;
  unsigned late_permille;  /* messages held back up to LATE_TICKS: old news arriving late */
  struct sim_record *log;
  uint64_t log_cap, log_max;
  struct sim_acked *acked;
  size_t nacked, cap_acked;
  uint64_t next_tag;
  struct rum_paxos_config cfg;
  char failure[512];
  uint64_t stat_elections, stat_snapshot_bytes, stat_catchup_bytes, stat_restarts;
  bool trace;              /* RUM_PAXOS_SIM_TRACE set: print what happens */
  uint8_t last_role[SIM_MAXN];
};

static inline uint64_t sim_rand(struct sim *s) { /* splitmix64 */
  uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* A replica's own tick counter at simulated time now: clocks start anywhere and run
 * at slightly different rates, as the lease argument allows (drift well inside its
 * margin). */
static inline uint64_t sim_clock(const struct sim_node *nd, uint64_t now) {
  return (uint64_t)(nd->clock_offset + (int64_t)(now * nd->rate_ppm / 1000000));
}

/* From now on run nd's clock at rate_ppm, continuing from where it is. */
static inline void sim_set_rate(struct sim_node *nd, uint64_t now, uint64_t rate_ppm) {
  int64_t at = (int64_t)sim_clock(nd, now);
  nd->rate_ppm = rate_ppm;
  nd->clock_offset = at - (int64_t)(now * rate_ppm / 1000000);
}

static inline bool sim_chance(struct sim *s, unsigned pct) { return sim_rand(s) % 100 < pct; }

static inline void sim_fail(struct sim *s, const char *fmt, ...) {
  if (s->failure[0] != '\0') return;
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(s->failure, sizeof s->failure, "tick %llu: ", (unsigned long long)s->now);
  vsnprintf(s->failure + n, sizeof s->failure - (size_t)n, fmt, ap);
  va_end(ap);
}

/* ---- The application's state transfer: pairs (key u32, value u64) ---- */

static inline size_t sim_snapshot_read(void *ctx, uint64_t *cursor, uint8_t *buf, size_t cap, bool *done) {
  struct sim_node *nd = ctx;
  size_t len = 0;
  while (*cursor < SIM_KEYS && cap - len >= 12) {
    rum__put_u32(buf + len, (uint32_t)*cursor);
    rum__put_u64(buf + len + 4, nd->table[*cursor]);
    len += 12;
    (*cursor)++;
  }
  *done = *cursor >= SIM_KEYS;
  return len;
}
static inline void sim_snapshot_reset(void *ctx) {
  struct sim_node *nd = ctx;
  memset(nd->table, 0, sizeof nd->table);
  nd->reset_seen = true;
}
static inline void sim_snapshot_write(void *ctx, uint64_t cursor, const uint8_t *buf, size_t len) {
  struct sim_node *nd = ctx;
  (void)cursor;
  for (size_t off = 0; off + 12 <= len; off += 12) {
    uint32_t key = rum__get_u32(buf + off);
    if (key < SIM_KEYS) nd->table[key] = rum__get_u64(buf + off + 4);
  }
}

/* ---- Outputs of one replica ---- */

static inline void sim_record(struct sim *s, struct sim_node *nd, const struct rum_paxos_decided *d) {
  if (d->index >= s->log_cap) {
    uint64_t cap = s->log_cap ? s->log_cap * 2 : 1024;
    while (cap <= d->index) cap *= 2;
    s->log = realloc(s->log, cap * sizeof *s->log);
    memset(s->log + s->log_cap, 0, (cap - s->log_cap) * sizeof *s->log);
    s->log_cap = cap;
  }
  struct sim_record *r = &s->log[d->index];
  if (d->len > SIM_VALUE) {
    sim_fail(s, "replica %u: slot %llu has a %u-byte value", nd->index,
             (unsigned long long)d->index, d->len);
    return;
  }
  if (s->trace)
    fprintf(stderr, "%6llu r%u applies slot %llu tag %llu\n", (unsigned long long)s->now, nd->index,
            (unsigned long long)d->index, (unsigned long long)d->tag);
  if (!r->set) {
    *r = (struct sim_record){.set = true, .origin = d->origin, .tag = d->tag, .len = d->len};
    if (d->len > 0) memcpy(r->value, d->value, d->len);
    if (d->index > s->log_max) s->log_max = d->index;
  } else if (r->origin != d->origin || r->tag != d->tag || r->len != d->len ||
             (d->len > 0 && memcmp(r->value, d->value, d->len) != 0)) {
    sim_fail(s, "agreement: replica %u decided tag %llu at slot %llu, another decided tag %llu",
             nd->index, (unsigned long long)d->tag, (unsigned long long)d->index,
             (unsigned long long)r->tag);
  }
}

static inline void sim_apply(struct sim *s, struct sim_node *nd, const struct rum_paxos_decided *d) {
  if (!nd->reset_seen && d->index != nd->last_applied + 1)
    sim_fail(s, "prefix: replica %u applied slot %llu after %llu", nd->index,
             (unsigned long long)d->index, (unsigned long long)nd->last_applied);
  if (nd->reset_seen && d->index <= nd->last_applied && nd->last_applied != 0 && d->index == 0)
    sim_fail(s, "replica %u applied slot 0", nd->index);
  nd->reset_seen = false;
  nd->last_applied = d->index;
  sim_record(s, nd, d);
  if (d->len == SIM_VALUE) nd->table[rum__get_u32(d->value) % SIM_KEYS] = rum__get_u64(d->value + 4);
  if (d->origin == nd->incarnation && d->tag != 0) {
    if (s->nacked == s->cap_acked) {
      s->cap_acked = s->cap_acked ? s->cap_acked * 2 : 256;
      s->acked = realloc(s->acked, s->cap_acked * sizeof *s->acked);
    }
    s->acked[s->nacked++] = (struct sim_acked){.tag = d->tag, .index = d->index};
  }
}

static inline void sim_enqueue(struct sim *s, uint8_t from, const struct rum_paxos_send *m) {
  unsigned copies = 1 + (s->dup_pct && sim_chance(s, s->dup_pct));
  for (unsigned c = 0; c < copies; c++) {
    if (s->cut[from][m->to] || (s->drop_pct && sim_chance(s, s->drop_pct))) continue;
    if (s->npackets == s->cap_packets) {
      s->cap_packets = s->cap_packets ? s->cap_packets * 2 : 256;
      s->packets = realloc(s->packets, s->cap_packets * sizeof *s->packets);
    }
    uint8_t *buf = malloc(m->len);
    memcpy(buf, m->buf, m->len);
    uint64_t delay = 1 + sim_rand(s) % s->max_delay;
    if (s->late_permille && sim_rand(s) % 1000 < s->late_permille) delay += sim_rand(s) % SIM_LATE_TICKS;
    s->packets[s->npackets++] = (struct sim_packet){
        .at = s->now + delay, .order = s->order++, .from = from,
        .to = m->to, .len = (uint32_t)m->len, .buf = buf};
  }
}

static inline void sim_drain(struct sim *s, struct sim_node *nd) {
  struct rum_paxos_send m;
  while (rum__paxos_pop_send(nd->px, &m)) sim_enqueue(s, nd->index, &m);
  struct rum_paxos_decided d;
  while (rum__paxos_pop_decided(nd->px, &d)) sim_apply(s, nd, &d);
  uint64_t tag;
  while (rum__paxos_pop_dropped(nd->px, &tag)) {
  }
}

/* ---- Replicas coming and going ---- */

static inline void sim_start(struct sim *s, struct sim_node *nd) {
  struct rum_paxos_config cfg = s->cfg;
  cfg.self = nd->index;
  cfg.nreplicas = (uint8_t)s->n;
  nd->incarnation = ((uint64_t)nd->index << 32) | (uint64_t)(nd->restarts + 1);
  cfg.incarnation = nd->incarnation;
  cfg.app = (struct rum_paxos_app){.ctx = nd, .snapshot_read = sim_snapshot_read,
                                   .snapshot_reset = sim_snapshot_reset,
                                   .snapshot_write = sim_snapshot_write};
  memset(nd->table, 0, sizeof nd->table);
  nd->last_applied = 0;
  nd->reset_seen = false;
  if (s->trace) fprintf(stderr, "%6llu r%u starts empty\n", (unsigned long long)s->now, nd->index);
  if (rum__paxos_create(&cfg, sim_clock(nd, s->now), &nd->px) != 0) sim_fail(s, "create failed");
}

static inline void sim_crash(struct sim *s, struct sim_node *nd, uint64_t down_ticks) {
  struct rum_paxos_status st;
  rum__paxos_status(nd->px, &st);
  s->stat_elections += st.elections;
  s->stat_snapshot_bytes += st.snapshot_bytes;
  s->stat_catchup_bytes += st.catchup_bytes;
  rum__paxos_destroy(nd->px);
  if (s->trace) fprintf(stderr, "%6llu r%u crashes\n", (unsigned long long)s->now, nd->index);
  nd->px = NULL;
  nd->restarts++;
  nd->up_at = s->now + down_ticks;
  s->stat_restarts++;
}

/* Members that lack their state: down, or up but not yet voting again. */
static inline unsigned sim_stateless(struct sim *s) {
  unsigned k = 0;
  for (unsigned i = 0; i < s->n; i++) {
    struct rum_paxos_status st;
    if (s->nodes[i].px == NULL) {
      k++;
      continue;
    }
    rum__paxos_status(s->nodes[i].px, &st);
    if (!st.has_state) k++;
  }
  return k;
}

/* The replica that leads at the highest ballot, or -1. */
static inline int sim_leader(struct sim *s) {
  int found = -1;
  uint64_t best = 0;
  for (unsigned i = 0; i < s->n; i++) {
    struct rum_paxos_status st;
    if (s->nodes[i].px == NULL) continue;
    rum__paxos_status(s->nodes[i].px, &st);
    if (st.role == RUM_PAXOS_LEADER && (found < 0 || st.ballot > best)) {
      found = (int)i;
      best = st.ballot;
    }
  }
  return found;
}

static inline void sim_init(struct sim *s, uint64_t seed, unsigned n) {
  memset(s, 0, sizeof *s);
  s->seed = seed;
  s->rng = seed * 0x2545f4914f6cdd1dull + n;
  s->n = n;
  s->max_delay = 3;
  s->now = 1;
  s->trace = getenv("RUM_PAXOS_SIM_TRACE") != NULL;
  rum__paxos_config_default(&s->cfg);
  s->cfg.group = 7;
  s->cfg.log_capacity = 64;
  s->cfg.window = 8;
  s->cfg.batch_entries = 4;
  s->cfg.batch_bytes = 64;
  s->cfg.queue_max = 16;
  s->cfg.snapshot_piece = 60; /* five cells a piece: a transfer takes several */
  s->cfg.heartbeat_ticks = 10;
  s->cfg.retransmit_ticks = 15;
  s->cfg.election_ticks = 150;
  s->cfg.lease_ticks = 100;
  s->cfg.live_ticks = 300;
  for (unsigned i = 0; i < n; i++) {
    s->nodes[i].sim = s;
    s->nodes[i].index = (uint8_t)i;
    s->nodes[i].rate_ppm = 1000000;
    sim_start(s, &s->nodes[i]);
  }
}

static inline void sim_free(struct sim *s) {
  for (unsigned i = 0; i < s->n; i++) rum__paxos_destroy(s->nodes[i].px);
  for (size_t i = 0; i < s->npackets; i++) free(s->packets[i].buf);
  free(s->packets);
  free(s->log);
  free(s->acked);
}

/* One tick: deliver what is due (in send order among equal ticks), then tick all. */
static inline void sim_step(struct sim *s) {
  size_t keep = 0, due = 0;
  struct sim_packet *ready = NULL;
  for (size_t i = 0; i < s->npackets; i++)
    if (s->packets[i].at <= s->now) due++;
  if (due > 0) ready = malloc(due * sizeof *ready);
  due = 0;
  for (size_t i = 0; i < s->npackets; i++) {
    if (s->packets[i].at <= s->now) ready[due++] = s->packets[i];
    else s->packets[keep++] = s->packets[i];
  }
  s->npackets = keep;
  for (size_t i = 0; i < due; i++) {
    struct sim_node *nd = &s->nodes[ready[i].to];
    if (nd->px != NULL && !s->cut[ready[i].from][ready[i].to]) {
      rum__paxos_receive(nd->px, sim_clock(nd, s->now), ready[i].buf, ready[i].len);
      sim_drain(s, nd);
    }
    free(ready[i].buf);
  }
  free(ready);
  /* Read safety: at most one replica may serve reads at any tick. */
  unsigned readers = 0;
  for (unsigned i = 0; i < s->n; i++)
    if (s->nodes[i].px != NULL && rum__paxos_can_read(s->nodes[i].px, sim_clock(&s->nodes[i], s->now)))
      readers++;
  if (readers > 1) sim_fail(s, "lease: %u replicas may serve reads at once", readers);
  for (unsigned i = 0; i < s->n; i++) {
    struct sim_node *nd = &s->nodes[i];
    if (nd->px == NULL && nd->up_at <= s->now && nd->up_at != 0) sim_start(s, nd);
    if (nd->px == NULL) continue;
    rum__paxos_tick(nd->px, sim_clock(nd, s->now), sim_rand(s));
    sim_drain(s, nd);
    if (s->trace) {
      struct rum_paxos_status st;
      rum__paxos_status(nd->px, &st);
      if (st.role != s->last_role[i])
        fprintf(stderr, "%6llu r%u role %u ballot %llx commit %llu voter %d\n", (unsigned long long)s->now, i,
                st.role, (unsigned long long)st.ballot, (unsigned long long)st.commit, st.voter);
      s->last_role[i] = st.role;
    }
  }
  s->now++;
}

/* Propose one cell write at whoever leads (if anyone). */
/* Give every replica its own clock start and a rate within +-drift_ppm. */
static inline void sim_drift(struct sim *s, unsigned drift_ppm) {
  for (unsigned i = 0; i < s->n; i++) {
    s->nodes[i].clock_offset = (int64_t)(sim_rand(s) % 1000000);
    s->nodes[i].rate_ppm = 1000000 - drift_ppm + sim_rand(s) % (2 * drift_ppm + 1);
  }
}

static inline void sim_propose(struct sim *s) {
  int l = sim_leader(s);
  if (l < 0) return;
  struct sim_node *nd = &s->nodes[l];
  uint8_t v[SIM_VALUE];
  uint64_t tag = ++s->next_tag;
  rum__put_u32(v, (uint32_t)(sim_rand(s) % SIM_KEYS));
  rum__put_u64(v + 4, tag);
  if (rum__paxos_propose(nd->px, v, sizeof v, tag) == 0) {
    rum__paxos_flush(nd->px);
    sim_drain(s, nd);
  }
}

/* The table the recorded log yields after slots 1..upto. */
static inline bool sim_reference(struct sim *s, uint64_t upto, uint64_t table[SIM_KEYS]) {
  memset(table, 0, SIM_KEYS * sizeof table[0]);
  for (uint64_t i = 1; i <= upto; i++) {
    if (i >= s->log_cap || !s->log[i].set) return false;
    if (s->log[i].len == SIM_VALUE)
      table[rum__get_u32(s->log[i].value) % SIM_KEYS] = rum__get_u64(s->log[i].value + 4);
  }
  return true;
}

#endif
