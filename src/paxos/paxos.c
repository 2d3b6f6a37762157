/* The replica's entry points, its log ring and its outputs. The protocol steps live in
 * paxos_elect.c (phase 1 and leases), paxos_replicate.c (phase 2) and
 * paxos_recover.c (catch-up, state transfer, restarting empty). */
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "paxos/paxos_internal.h"

void rum__paxos_config_default(struct rum_paxos_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->nreplicas = 1;
  cfg->incarnation = 1;
  cfg->log_capacity = 1024;
  cfg->window = 64;
  cfg->batch_entries = 16;
  cfg->batch_bytes = 256 * 1024;
  cfg->queue_max = 256;
  cfg->snapshot_piece = 64 * 1024;
  cfg->heartbeat_ticks = 20;
  cfg->retransmit_ticks = 30;
  cfg->election_ticks = 300;
  cfg->lease_ticks = 200;
  cfg->live_ticks = 1000;
}

static bool config_ok(const struct rum_paxos_config *c) {
  return c->nreplicas >= 1 && c->nreplicas <= RUM_PAXOS_MAX_REPLICAS && c->self < c->nreplicas &&
         c->incarnation != 0 && c->window >= 1 && c->log_capacity >= 2 * c->window &&
         (c->log_capacity & (c->log_capacity - 1)) == 0 && c->batch_entries >= 1 &&
         c->batch_entries <= RUM_PAXOS_MAX_ENTRIES && c->batch_bytes >= 1 &&
         c->batch_bytes <= RUM_PAXOS_MAX_VALUE && c->queue_max >= 1 && c->snapshot_piece >= 1 &&
         c->snapshot_piece <= RUM_PAXOS_MAX_DATA && c->heartbeat_ticks >= 1 &&
         c->heartbeat_ticks < c->lease_ticks && c->lease_ticks < c->election_ticks &&
         c->retransmit_ticks >= 1 && c->live_ticks >= c->lease_ticks &&
         c->app.snapshot_read != NULL && c->app.snapshot_reset != NULL &&
         c->app.snapshot_write != NULL;
}

int rum__paxos_create(const struct rum_paxos_config *cfg, uint64_t now, struct rum_paxos **out) {
  if (cfg == NULL || out == NULL || !config_ok(cfg)) return RUM_EINVAL;
  struct rum_paxos *p = calloc(1, sizeof *p);
  if (p == NULL) return RUM_ENOMEM;
  p->cfg = *cfg;
  p->cap = cfg->log_capacity;
  p->ring = calloc(p->cap, sizeof *p->ring);
  p->merge = calloc(p->cap, sizeof *p->merge);
  p->queue = calloc(cfg->queue_max, sizeof *p->queue);
  if (p->ring == NULL || p->merge == NULL || p->queue == NULL) {
    rum__paxos_destroy(p);
    return RUM_ENOMEM;
  }
  p->majority = (uint8_t)(cfg->nreplicas / 2 + 1);
  p->role = RUM_PAXOS_RECOVERING;
  p->now = p->created = now;
  p->leader = -1;
  p->snap_source = -1;
  p->base = 1;
  /* A restarted replica may have granted a lease before it crashed and forgotten it:
   * it promises nothing to anyone for one lease from its start (paxos_elect.c). */
  p->no_promise_until = now + cfg->lease_ticks;
  p->election_at = now + cfg->election_ticks;
  *out = p;
  return 0;
}

static void out_reset(struct rum_paxos *p) {
  for (size_t i = 0; i < p->out_len; i++) free(p->out[i].buf);
  p->out_len = p->out_pos = 0;
}

void rum__paxos_destroy(struct rum_paxos *p) {
  if (p == NULL) return;
  out_reset(p);
  free(p->out);
  free(p->dropped);
  free(p->snap_buf);
  if (p->ring != NULL)
    for (uint64_t i = 0; i < p->cap; i++) free(p->ring[i].value);
  if (p->merge != NULL)
    for (uint64_t i = 0; i < p->cap; i++) free(p->merge[i].value);
  if (p->queue != NULL)
    for (uint32_t i = 0; i < p->qlen; i++) free(p->queue[(p->qhead + i) % p->cfg.queue_max].value);
  free(p->ring);
  free(p->merge);
  free(p->queue);
  free(p);
}

/* ---- Outputs ---- */

void rum__px_msg_init(const struct rum_paxos *p, struct rum_paxos_msg *m, uint8_t type) {
  memset(m, 0, offsetof(struct rum_paxos_msg, entries));
  m->type = type;
  m->from = p->cfg.self;
  m->group = p->cfg.group;
  m->incarnation = p->cfg.incarnation;
  m->commit = p->commit;
  m->applied = p->applied;
  if (!p->voter || p->snap_active) m->flags |= RUM_PAXOS_F_NOSTATE;
}

/* Encode and queue. A message that cannot be encoded or allocated is dropped like a
 * lost packet: the protocol retransmits. */
void rum__px_send(struct rum_paxos *p, uint8_t to, struct rum_paxos_msg *m) {
  if (to == p->cfg.self || to >= p->cfg.nreplicas) return;
  m->to = to;
  if (p->out_len == p->out_cap) {
    size_t cap = p->out_cap ? p->out_cap * 2 : 16;
    struct px_out *n = realloc(p->out, cap * sizeof *n);
    if (n == NULL) return;
    p->out = n;
    p->out_cap = cap;
  }
  size_t size = rum__paxos_msg_size(m);
  uint8_t *buf = malloc(size);
  if (buf == NULL) return;
  int len = rum__paxos_msg_encode(m, buf, size);
  if (len < 0) {
    free(buf);
    return;
  }
  p->out[p->out_len++] = (struct px_out){.to = to, .buf = buf, .len = (size_t)len};
}

void rum__px_broadcast(struct rum_paxos *p, struct rum_paxos_msg *m) {
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    if (i != p->cfg.self) rum__px_send(p, i, m);
}

bool rum__paxos_pop_send(struct rum_paxos *p, struct rum_paxos_send *out) {
  if (p->out_pos >= p->out_len) return false;
  const struct px_out *o = &p->out[p->out_pos++];
  *out = (struct rum_paxos_send){.to = o->to, .buf = o->buf, .len = o->len};
  return true;
}

bool rum__paxos_pop_decided(struct rum_paxos *p, struct rum_paxos_decided *out) {
  /* While a transfer rewrites the state nothing is applied; the log restarts after it. */
  if (p->snap_active || p->applied >= p->commit) return false;
  struct px_slot *c = px_slot_at(p, p->applied + 1);
  if (c == NULL || c->state != SLOT_DECIDED) return false;
  *out = (struct rum_paxos_decided){
      .index = c->index, .origin = c->origin, .tag = c->tag, .value = c->value, .len = c->len};
  p->applied++;
  return true;
}

bool rum__paxos_pop_dropped(struct rum_paxos *p, uint64_t *tag) {
  if (p->dropped_pos >= p->dropped_len) {
    p->dropped_len = p->dropped_pos = 0;
    return false;
  }
  *tag = p->dropped[p->dropped_pos++];
  return true;
}

/* ---- The log ---- */

int rum__px_store(struct rum_paxos *p, uint64_t s, uint64_t ballot, uint8_t state,
                  const struct rum_paxos_entry *e) {
  uint8_t *value = NULL;
  if (px_in_room(p, s) && e->len > 0) {
    value = malloc(e->len);
    if (value == NULL) return RUM_ENOMEM;
    memcpy(value, e->value, e->len);
  }
  return rum__px_store_owned(p, s, ballot, state, e, value);
}

int rum__px_store_owned(struct rum_paxos *p, uint64_t s, uint64_t ballot, uint8_t state,
                        const struct rum_paxos_entry *e, uint8_t *value) {
  if (!px_in_room(p, s)) {
    free(value);
    return RUM_EINVAL;
  }
  struct px_slot *c = &p->ring[s & (p->cap - 1)];
  if (c->state == SLOT_DECIDED && c->index == s) { /* decided never changes */
    free(value);
    return 0;
  }
  free(c->value);
  *c = (struct px_slot){.index = s, .ballot = ballot, .origin = e->origin, .tag = e->tag,
                        .value = value, .len = e->len, .state = state};
  if (s > p->max_slot) p->max_slot = s;
  return 0;
}

void rum__px_advance_commit(struct rum_paxos *p) {
  for (;;) {
    struct px_slot *c = px_slot_at(p, p->commit + 1);
    if (c == NULL || c->state != SLOT_DECIDED) break;
    p->commit++;
    p->n_decided++;
  }
}

/* Drop slots up to upto (never past what was applied here). */
void rum__px_truncate(struct rum_paxos *p, uint64_t upto) {
  if (upto > p->applied) upto = p->applied;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    const struct px_peer *q = &p->peers[i];
    /* A state transfer in progress replays the entries after its start from here. */
    if (q->pinned && p->now - q->pin_tick < p->cfg.live_ticks && q->pin < upto) upto = q->pin;
  }
  while (p->base <= upto) {
    struct px_slot *c = &p->ring[p->base & (p->cap - 1)];
    if (c->index == p->base) {
      free(c->value);
      memset(c, 0, sizeof *c);
    }
    p->base++;
  }
  if (p->max_slot + 1 < p->base) p->max_slot = p->base - 1;
}

void rum__px_reset_election(struct rum_paxos *p, uint64_t random) {
  p->rng ^= random;
  p->rng ^= p->rng << 13; /* xorshift64: spread the caller's random numbers */
  p->rng ^= p->rng >> 7;
  p->rng ^= p->rng << 17;
  p->election_at = p->now + p->cfg.election_ticks + p->rng % p->cfg.election_ticks;
}

void rum__px_drop_queue(struct rum_paxos *p) {
  while (p->qlen > 0) {
    struct px_proposal *q = &p->queue[p->qhead];
    free(q->value);
    if (p->dropped_len == p->dropped_cap) {
      size_t cap = p->dropped_cap ? p->dropped_cap * 2 : 16;
      uint64_t *n = realloc(p->dropped, cap * sizeof *n);
      if (n != NULL) {
        p->dropped = n;
        p->dropped_cap = cap;
      }
    }
    if (p->dropped_len < p->dropped_cap) p->dropped[p->dropped_len++] = q->tag;
    p->qhead = (p->qhead + 1) % p->cfg.queue_max;
    p->qlen--;
  }
}

void rum__px_heard(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  struct px_peer *q = &p->peers[m->from];
  if (q->heard_ever && q->incarnation != m->incarnation) {
    /* It restarted: whatever it promised or was being sent is gone. */
    q->promised = q->promise_done = q->pinned = q->rec_replied = false;
  }
  q->incarnation = m->incarnation;
  q->heard = p->now;
  q->heard_ever = true;
  q->has_state = (m->flags & RUM_PAXOS_F_NOSTATE) == 0;
  q->commit = m->commit;
  if (m->type != RUM_PAXOS_ACCEPT) q->applied = m->applied;
  if (m->ballot > p->max_seen) p->max_seen = m->ballot;
}

/* ---- Entry points ---- */

void rum__paxos_tick(struct rum_paxos *p, uint64_t now, uint64_t random) {
  out_reset(p);
  if (now > p->now) p->now = now;
  p->rng ^= random;
  rum__px_recover_tick(p);
  switch (p->role) {
  case RUM_PAXOS_FOLLOWER:
    if (p->now >= p->election_at && !p->snap_active) {
      rum__px_start_election(p);
    } else if (p->leader >= 0 && p->commit < p->leader_commit) {
      rum__px_request_catchup(p, p->leader);
    }
    break;
  case RUM_PAXOS_CANDIDATE: rum__px_candidate_tick(p); break;
  case RUM_PAXOS_LEADER: rum__px_leader_tick(p); break;
  default: break;
  }
}

void rum__paxos_receive(struct rum_paxos *p, uint64_t now, const uint8_t *buf, size_t len) {
  out_reset(p);
  if (now > p->now) p->now = now;
  struct rum_paxos_msg *m = &p->in;
  if (rum__paxos_msg_decode(buf, len, m) != 0 || m->group != p->cfg.group ||
      m->from >= p->cfg.nreplicas || m->from == p->cfg.self || m->to != p->cfg.self ||
      m->incarnation == 0) {
    p->n_dropped_msgs++;
    return;
  }
  rum__px_heard(p, m);
  switch (m->type) {
  case RUM_PAXOS_PREPARE: rum__px_on_prepare(p, m); break;
  case RUM_PAXOS_PROMISE: rum__px_on_promise(p, m); break;
  case RUM_PAXOS_ACCEPT: rum__px_on_accept(p, m); break;
  case RUM_PAXOS_ACCEPTED: rum__px_on_accepted(p, m); break;
  case RUM_PAXOS_CATCHUP_REQ: rum__px_on_catchup_req(p, m); break;
  case RUM_PAXOS_CATCHUP: rum__px_on_catchup(p, m); break;
  case RUM_PAXOS_SNAP_REQ: rum__px_on_snap_req(p, m); break;
  case RUM_PAXOS_SNAP_PIECE: rum__px_on_snap_piece(p, m); break;
  case RUM_PAXOS_RECOVER_REQ: rum__px_on_recover_req(p, m); break;
  case RUM_PAXOS_RECOVER_RESP: rum__px_on_recover_resp(p, m); break;
  default: p->n_dropped_msgs++; break;
  }
}

int rum__paxos_propose(struct rum_paxos *p, const void *value, size_t len, uint64_t tag) {
  if (len > RUM_PAXOS_MAX_VALUE || (len > 0 && value == NULL)) return RUM_EINVAL;
  if (p->role != RUM_PAXOS_LEADER) return RUM_ENOTLEADER;
  if (p->qlen == p->cfg.queue_max) return RUM_EAGAIN;
  uint8_t *copy = NULL;
  if (len > 0) {
    copy = malloc(len);
    if (copy == NULL) return RUM_ENOMEM;
    memcpy(copy, value, len);
  }
  p->queue[(p->qhead + p->qlen) % p->cfg.queue_max] =
      (struct px_proposal){.value = copy, .len = (uint32_t)len, .tag = tag};
  p->qlen++;
  p->n_proposals++;
  return 0;
}

void rum__paxos_flush(struct rum_paxos *p) {
  out_reset(p);
  if (p->role == RUM_PAXOS_LEADER) rum__px_flush(p);
}

int rum__paxos_leader(const struct rum_paxos *p) {
  return p->role == RUM_PAXOS_LEADER ? p->cfg.self : p->leader;
}

/* Read safety. A read answered from this replica's applied state sees every write
 * any leader acknowledged, when:
 * 1. This replica leads, with phase 1 done at its ballot b: every value decided at a
 *    lower ballot was reported by some member of its phase-1 majority (majorities
 *    intersect), so it is in this log at or below lead_start.
 * 2. commit >= lead_start and everything decided was applied: the state holds all of
 *    those and every write this leader acknowledged itself (it acknowledges only
 *    decided entries, and the caller applies before answering).
 * 3. now < lease_until: lease_until is lease_ticks minus a margin after the send time
 *    of a heartbeat or ACCEPT that a majority answered; each of those replicas
 *    refuses to promise any other ballot for lease_ticks after it received it
 *    (no_promise_until), which is later than that send time. A new leader needs a
 *    majority of promises, which would include one of them, so none can exist yet
 *    and no write was acknowledged elsewhere after ours. The margin covers clock-rate
 *    drift between the replicas' tick counters; a replica restarted empty does not
 *    remember the leases it granted, so it promises nothing for lease_ticks from its
 *    start (rum__paxos_create). */
bool rum__paxos_can_read(const struct rum_paxos *p, uint64_t now) {
  return p->role == RUM_PAXOS_LEADER && now < p->lease_until && p->commit >= p->lead_start &&
         p->applied == p->commit;
}

void rum__paxos_status(const struct rum_paxos *p, struct rum_paxos_status *out) {
  memset(out, 0, sizeof *out);
  out->role = p->role;
  out->leader = (int8_t)rum__paxos_leader(p);
  out->voter = p->voter;
  out->has_state = p->voter;
  out->ballot = p->promised;
  out->base = p->base;
  out->commit = p->commit;
  out->applied = p->applied;
  out->next = p->role == RUM_PAXOS_LEADER ? p->next : p->max_slot + 1;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    out->peer_commit[i] = i == p->cfg.self ? p->commit : p->peers[i].commit;
  out->proposals = p->n_proposals;
  out->batches = p->n_batches;
  out->elections = p->n_elections;
  out->catchup_bytes = p->n_catchup_bytes;
  out->snapshot_bytes = p->n_snapshot_bytes;
  out->dropped_msgs = p->n_dropped_msgs;
  out->decided = p->n_decided;
}
