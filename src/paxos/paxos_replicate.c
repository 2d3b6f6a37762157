/* Phase 2 (Paxos Made Simple, 2.2 steps 2a/2b) with a stable leader: proposals get
 * consecutive slots, go out in batches of several entries per ACCEPT with a window of
 * undecided slots in flight, and are decided once a majority of the incarnations that
 * promised this ballot accepted them. Commit learning, heartbeats, truncation. */
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos_internal.h"

static void count_ack(struct rum_paxos *p, struct px_slot *c, uint8_t member) {
  c->acks |= (uint8_t)(1u << member);
  if (c->state == SLOT_ACCEPTED && c->ballot == p->ballot &&
      (unsigned)__builtin_popcount(c->acks) >= p->majority)
    c->state = SLOT_DECIDED;
}

static void accept_msg_init(struct rum_paxos *p, struct rum_paxos_msg *m, uint64_t first) {
  rum__px_msg_init(p, m, RUM_PAXOS_ACCEPT);
  m->ballot = p->ballot;
  m->first = first;
  m->applied = p->trunc;
  m->echo = p->now;
}

/* Send slots [first, end) to one member in as few ACCEPTs as the batch limits allow.
 * Returns the number of messages. */
static unsigned send_range(struct rum_paxos *p, uint8_t to, uint64_t first, uint64_t end) {
  struct rum_paxos_msg *m = &p->msg;
  unsigned nmsgs = 0;
  size_t bytes = 0;
  if (first < p->base) first = p->base;
  accept_msg_init(p, m, first);
  for (uint64_t s = first; s < end; s++) {
    struct px_slot *c = px_slot_at(p, s);
    bool full = m->nentries == p->cfg.batch_entries ||
                (m->nentries > 0 && c != NULL && bytes + c->len > p->cfg.batch_bytes);
    if (c == NULL || full) {
      if (m->nentries > 0) {
        rum__px_send(p, to, m);
        nmsgs++;
      }
      accept_msg_init(p, m, c == NULL ? s + 1 : s);
      bytes = 0;
      if (c == NULL) continue;
    }
    m->entries[m->nentries++] = (struct rum_paxos_entry){
        .ballot = c->ballot, .origin = c->origin, .tag = c->tag, .len = c->len, .value = c->value,
        .flags = c->state == SLOT_DECIDED ? RUM_PAXOS_ENTRY_DECIDED : 0};
    bytes += c->len;
  }
  if (m->nentries > 0) {
    rum__px_send(p, to, m);
    nmsgs++;
  }
  return nmsgs;
}

void rum__px_send_range(struct rum_paxos *p, uint8_t to, uint64_t first, uint64_t end) {
  send_range(p, to, first, end);
}

void rum__px_flush(struct rum_paxos *p) {
  uint64_t start = p->next;
  while (p->qlen > 0 && p->next < p->commit + 1 + p->cfg.window && px_in_room(p, p->next)) {
    struct px_proposal *q = &p->queue[p->qhead];
    struct rum_paxos_entry e = {.origin = p->cfg.incarnation, .tag = q->tag, .len = q->len,
                                .value = q->value};
    /* The queued copy moves into the log. */
    if (rum__px_store_owned(p, p->next, p->ballot, SLOT_ACCEPTED, &e, q->value) != 0) {
      q->value = NULL; /* freed by the store; the proposal is lost like a dropped packet */
      p->qhead = (p->qhead + 1) % p->cfg.queue_max;
      p->qlen--;
      break;
    }
    struct px_slot *c = px_slot_at(p, p->next);
    c->sent = p->now;
    count_ack(p, c, p->cfg.self);
    p->qhead = (p->qhead + 1) % p->cfg.queue_max;
    p->qlen--;
    p->next++;
  }
  if (p->next == start) return;
  unsigned batches = 0;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    if (i != p->cfg.self) batches = send_range(p, i, start, p->next);
  p->n_batches += batches > 0 ? batches : 1;
  rum__px_advance_commit(p);
}

/* Every slot up to commit that this replica accepted at the ballot of the leader
 * that says so is decided with that value: a leader proposes one value per slot at
 * its ballot, and only decided values below its commit. */
void rum__px_learn_commit(struct rum_paxos *p, uint64_t ballot, uint64_t commit) {
  if (commit > p->leader_commit) p->leader_commit = commit;
  for (uint64_t s = p->commit + 1; s <= commit; s++) {
    struct px_slot *c = px_slot_at(p, s);
    if (c == NULL || (c->state == SLOT_ACCEPTED && c->ballot != ballot)) break;
    c->state = SLOT_DECIDED;
    rum__px_advance_commit(p);
  }
}

/* Store the entries of an ACCEPT at its ballot; returns how many consecutive slots
 * from m->first are now accepted (or already decided) here. */
static uint64_t store_entries(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  uint64_t stored = 0;
  for (unsigned i = 0; i < m->nentries; i++) {
    uint64_t s = m->first + i;
    const struct rum_paxos_entry *e = &m->entries[i];
    if (s > p->commit && s >= p->base) {
      uint8_t state = (e->flags & RUM_PAXOS_ENTRY_DECIDED) ? SLOT_DECIDED : SLOT_ACCEPTED;
      if (!px_in_room(p, s) || rum__px_store(p, s, m->ballot, state, e) != 0) break;
    }
    stored++;
  }
  rum__px_advance_commit(p);
  return stored;
}

void rum__px_on_accept(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!p->voter) {
    /* Restarted and installed the state, not yet caught up: keep what the leader
     * sends (it may decide it) but answer nothing, it cannot vote yet. */
    if (p->snap_done && !p->snap_active && m->ballot >= p->promised) {
      p->promised = m->ballot;
      p->leader = m->from;
      store_entries(p, m);
      rum__px_learn_commit(p, m->ballot, m->commit);
      rum__px_check_join(p);
    }
    return;
  }
  struct rum_paxos_msg *r = &p->msg;
  if (m->ballot < p->promised) {
    rum__px_msg_init(p, r, RUM_PAXOS_ACCEPTED);
    r->ballot = p->promised;
    r->first = m->first;
    rum__px_send(p, m->from, r);
    return;
  }
  p->promised = m->ballot;
  if (p->role != RUM_PAXOS_FOLLOWER || p->leader != (int)m->from || p->leader_ballot != m->ballot)
    rum__px_follow(p, m->from, m->ballot);
  p->no_promise_until = p->now + p->cfg.lease_ticks;
  rum__px_reset_election(p, m->echo);
  uint64_t stored = store_entries(p, m);
  rum__px_learn_commit(p, m->ballot, m->commit);
  rum__px_truncate(p, m->applied);
  rum__px_msg_init(p, r, RUM_PAXOS_ACCEPTED);
  r->flags |= RUM_PAXOS_F_OK;
  r->ballot = m->ballot;
  r->first = m->first;
  r->extra = stored;
  r->echo = m->echo;
  r->extra2 = p->joined_ballot;
  rum__px_send(p, m->from, r);
  if (p->commit < p->leader_commit && !p->snap_active) rum__px_request_catchup(p, m->from);
}

void rum__px_on_accepted(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!(m->flags & RUM_PAXOS_F_OK)) {
    if (m->ballot > p->ballot && p->role == RUM_PAXOS_LEADER) rum__px_step_down(p);
    return;
  }
  if (p->role != RUM_PAXOS_LEADER || m->ballot != p->ballot) return;
  struct px_peer *q = &p->peers[m->from];
  if (q->count_inc != m->incarnation) {
    /* Acks count only from the incarnation that promised this ballot, or from one
     * that restarted empty and joined at exactly this ballot (paxos_recover.c). */
    if (m->extra2 != p->ballot || (m->flags & RUM_PAXOS_F_NOSTATE)) return;
    q->count_inc = m->incarnation;
  }
  if (m->echo > q->echo && m->echo <= p->now) q->echo = m->echo;
  uint64_t lo = m->first > p->commit + 1 ? m->first : p->commit + 1;
  uint64_t hi = p->next;
  if (m->first >= p->next) hi = lo;
  else if (m->extra < p->next - m->first) hi = m->first + m->extra;
  for (uint64_t s = lo; s < hi; s++) {
    struct px_slot *c = px_slot_at(p, s);
    if (c != NULL) count_ack(p, c, m->from);
  }
  rum__px_advance_commit(p);
  rum__px_update_lease(p);
}

/* Resend, per member, the undecided slots it has not acknowledged for a while. */
static void retransmit(struct rum_paxos *p) {
  bool any = false;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    if (i == p->cfg.self) continue;
    uint64_t run = 0;
    for (uint64_t s = p->commit + 1; s <= p->next; s++) {
      struct px_slot *c = s < p->next ? px_slot_at(p, s) : NULL;
      bool due = c != NULL && c->state == SLOT_ACCEPTED && !(c->acks & (1u << i)) &&
                 p->now - c->sent >= p->cfg.retransmit_ticks;
      if (due && run == 0) run = s;
      if (!due && run != 0) {
        send_range(p, i, run, s);
        run = 0;
        any = true;
      }
    }
  }
  if (!any) return;
  for (uint64_t s = p->commit + 1; s < p->next; s++) {
    struct px_slot *c = px_slot_at(p, s);
    if (c != NULL && p->now - c->sent >= p->cfg.retransmit_ticks) c->sent = p->now;
  }
}

/* The truncation point: the least applied index among live members with state. A
 * member silent for live_ticks no longer holds it back; if it returns it gets the
 * state by transfer. */
static uint64_t truncation_point(struct rum_paxos *p) {
  uint64_t t = p->applied;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    const struct px_peer *q = &p->peers[i];
    if (i == p->cfg.self || !q->heard_ever || !q->has_state || p->now - q->heard >= p->cfg.live_ticks)
      continue;
    if (q->applied < t) t = q->applied;
  }
  return t;
}

void rum__px_leader_tick(struct rum_paxos *p) {
  rum__px_update_lease(p);
  if (p->majority > 1 && p->now - p->last_quorum > p->cfg.lease_ticks) {
    rum__px_step_down(p); /* no majority answered for a whole lease */
    return;
  }
  rum__px_flush(p);
  retransmit(p);
  p->trunc = truncation_point(p);
  rum__px_truncate(p, p->trunc);
  if (p->now >= p->heartbeat_at) {
    struct rum_paxos_msg *m = &p->msg;
    accept_msg_init(p, m, p->next);
    rum__px_broadcast(p, m);
    p->heartbeat_at = p->now + p->cfg.heartbeat_ticks;
  }
}
