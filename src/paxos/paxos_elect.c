/* Phase 1 (Paxos Made Simple, 2.2 steps 1a/1b) run once per leadership for every slot
 * above the candidate's decided prefix, the leader's lease, and stepping down. */
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos_internal.h"

static void merge_clear(struct rum_paxos *p) {
  for (uint64_t i = 0; i < p->cap; i++) {
    free(p->merge[i].value);
    memset(&p->merge[i], 0, sizeof p->merge[i]);
  }
}

/* Keep (ballot, value) for slot s when it beats what the merge holds: a decided value
 * always, else the one accepted at the highest ballot (step 2a's rule). */
static void merge_put(struct rum_paxos *p, uint64_t s, const struct rum_paxos_entry *e, bool decided) {
  if (s < p->merge_first || s >= p->base + p->cap) return;
  struct px_merge *c = &p->merge[s & (p->cap - 1)];
  if (c->decided || (!decided && c->present && c->ballot >= e->ballot)) return;
  uint8_t *value = NULL;
  if (e->len > 0) {
    value = malloc(e->len);
    if (value == NULL) return; /* this candidacy then fails to lead: it times out */
    memcpy(value, e->value, e->len);
  }
  free(c->value);
  *c = (struct px_merge){.present = true, .decided = decided, .ballot = e->ballot,
                         .origin = e->origin, .tag = e->tag, .value = value, .len = e->len};
  if (s > p->merge_max) p->merge_max = s;
}

static void send_prepare(struct rum_paxos *p, uint8_t to, uint64_t first) {
  struct rum_paxos_msg *m = &p->msg;
  rum__px_msg_init(p, m, RUM_PAXOS_PREPARE);
  m->ballot = p->ballot;
  m->first = first;
  m->extra = p->base + p->cap;
  rum__px_send(p, to, m);
  p->peers[to].prepare_sent = p->now;
}

static void become_leader(struct rum_paxos *p);

static void check_phase1(struct rum_paxos *p) {
  unsigned done = 1; /* itself */
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    if (i != p->cfg.self && p->peers[i].promise_done) done++;
  if (done >= p->majority) become_leader(p);
}

void rum__px_start_election(struct rum_paxos *p) {
  uint64_t top = p->promised > p->max_seen ? p->promised : p->max_seen;
  rum__px_drop_queue(p);
  /* Room for every slot the others may report: what is applied here need not stay. */
  rum__px_truncate(p, p->applied);
  p->ballot = px_make_ballot(px_round(top) + 1, p->cfg.self);
  p->promised = p->max_seen = p->ballot;
  p->role = RUM_PAXOS_CANDIDATE;
  p->leader = -1;
  p->n_elections++;
  rum__px_reset_election(p, 0);
  merge_clear(p);
  p->merge_first = p->commit + 1;
  p->merge_max = p->commit;
  /* Its own accepted values are one of the majority's reports. */
  for (uint64_t s = p->merge_first; s <= p->max_slot && s < p->base + p->cap; s++) {
    struct px_slot *c = px_slot_at(p, s);
    if (c == NULL) continue;
    struct rum_paxos_entry e = {.ballot = c->ballot, .origin = c->origin, .tag = c->tag,
                                .len = c->len, .value = c->value};
    merge_put(p, s, &e, c->state == SLOT_DECIDED);
  }
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    struct px_peer *q = &p->peers[i];
    q->promised = q->promise_done = false;
    q->promise_next = p->merge_first;
    if (i != p->cfg.self) send_prepare(p, i, p->merge_first);
  }
  check_phase1(p);
}

void rum__px_candidate_tick(struct rum_paxos *p) {
  if (p->now >= p->election_at) {
    rum__px_start_election(p);
    return;
  }
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    struct px_peer *q = &p->peers[i];
    if (i != p->cfg.self && !q->promise_done && p->now - q->prepare_sent >= p->cfg.retransmit_ticks)
      send_prepare(p, i, q->promise_next);
  }
}

/* The accepted entries from slot first, as many as one message holds. */
static void fill_promise(struct rum_paxos *p, struct rum_paxos_msg *r, uint64_t first) {
  size_t bytes = 0;
  uint64_t s = first;
  while (s <= p->max_slot && r->nentries < RUM_PAXOS_MAX_ENTRIES) {
    struct px_slot *c = px_slot_at(p, s);
    struct rum_paxos_entry *e = &r->entries[r->nentries];
    memset(e, 0, sizeof *e);
    if (c != NULL) {
      if (r->nentries > 0 && bytes + c->len > p->cfg.batch_bytes) break;
      *e = (struct rum_paxos_entry){.ballot = c->ballot, .origin = c->origin, .tag = c->tag,
                                    .len = c->len, .value = c->value,
                                    .flags = c->state == SLOT_DECIDED ? RUM_PAXOS_ENTRY_DECIDED : 0};
      bytes += c->len;
    }
    r->nentries++;
    s++;
  }
  if (s <= p->max_slot) r->flags |= RUM_PAXOS_F_MORE;
}

void rum__px_on_prepare(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!p->voter) return; /* restarted empty: it votes only once it has the state */
  struct rum_paxos_msg *r = &p->msg;
  rum__px_msg_init(p, r, RUM_PAXOS_PROMISE);
  r->ballot = p->promised;
  if (m->ballot > p->promised) {
    /* The lease (see rum__paxos_can_read): no promise to anyone else while the leader
     * we answered may still count on us, or while we lead with a lease ourselves. */
    bool leased = p->now < p->no_promise_until && (int)m->from != p->leader;
    if (leased || (p->role == RUM_PAXOS_LEADER && p->now < p->lease_until)) {
      rum__px_send(p, m->from, r);
      return;
    }
    if (p->role == RUM_PAXOS_LEADER || p->role == RUM_PAXOS_CANDIDATE) rum__px_step_down(p);
    p->promised = m->ballot;
    p->leader = -1;
    rum__px_reset_election(p, m->ballot);
  } else if (m->ballot < p->promised) {
    rum__px_send(p, m->from, r);
    return;
  }
  r->ballot = m->ballot;
  r->flags |= RUM_PAXOS_F_OK;
  r->first = m->first;
  r->extra = p->max_slot;
  if (m->first < p->base)
    r->flags |= RUM_PAXOS_F_SNAP;
  else if (p->max_slot >= m->extra)
    r->flags |= RUM_PAXOS_F_LAG;
  else
    fill_promise(p, r, m->first);
  rum__px_send(p, m->from, r);
}

void rum__px_on_promise(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (p->role != RUM_PAXOS_CANDIDATE || m->ballot != p->ballot || !(m->flags & RUM_PAXOS_F_OK))
    return; /* a refusal: max_seen took its ballot; the next candidacy goes higher */
  if (m->flags & (RUM_PAXOS_F_SNAP | RUM_PAXOS_F_LAG)) {
    /* It decided or accepted what this log cannot hold: catch up before leading. */
    rum__px_step_down(p);
    if (m->commit > p->leader_commit) p->leader_commit = m->commit;
    rum__px_request_catchup(p, m->from);
    return;
  }
  struct px_peer *q = &p->peers[m->from];
  if (q->promised && q->promise_inc != m->incarnation) q->promise_next = p->merge_first;
  if ((q->promise_done && q->promise_inc == m->incarnation) || m->first != q->promise_next) return;
  if ((m->flags & RUM_PAXOS_F_MORE) && m->nentries == 0) return;
  for (unsigned i = 0; i < m->nentries; i++) {
    const struct rum_paxos_entry *e = &m->entries[i];
    if (e->ballot != 0 || (e->flags & RUM_PAXOS_ENTRY_DECIDED))
      merge_put(p, m->first + i, e, (e->flags & RUM_PAXOS_ENTRY_DECIDED) != 0);
  }
  q->promised = true;
  q->promise_inc = m->incarnation;
  if (m->flags & RUM_PAXOS_F_MORE) {
    q->promise_next = m->first + m->nentries;
    send_prepare(p, m->from, q->promise_next);
    return;
  }
  q->promise_done = true;
  check_phase1(p);
}

/* Phase 1 is done: propose, at this ballot, the merged value of every slot above the
 * decided prefix (a no-op where nobody reported one), then one no-op that starts
 * this leadership's own slots. */
static void become_leader(struct rum_paxos *p) {
  p->role = RUM_PAXOS_LEADER;
  p->leader = p->cfg.self;
  p->leader_ballot = p->ballot;
  uint64_t first = p->commit + 1;
  for (uint64_t s = first; s <= p->merge_max; s++) {
    struct px_merge *c = &p->merge[s & (p->cap - 1)];
    struct rum_paxos_entry e = {.origin = c->origin, .tag = c->tag, .len = c->len, .value = c->value};
    if (s <= p->commit) continue;
    if (!c->present) e = (struct rum_paxos_entry){0};
    rum__px_store(p, s, p->ballot, c->decided ? SLOT_DECIDED : SLOT_ACCEPTED, &e);
  }
  p->next = p->merge_max + 1 > first ? p->merge_max + 1 : first;
  if (px_in_room(p, p->next)) {
    struct rum_paxos_entry noop = {0};
    rum__px_store(p, p->next, p->ballot, SLOT_ACCEPTED, &noop);
    p->next++;
  }
  p->lead_start = p->next - 1;
  merge_clear(p);
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    struct px_peer *q = &p->peers[i];
    q->count_inc = i == p->cfg.self ? p->cfg.incarnation : q->promise_done ? q->promise_inc : 0;
    q->echo = 0;
  }
  for (uint64_t s = first; s < p->next; s++) {
    struct px_slot *c = px_slot_at(p, s);
    if (c == NULL) continue;
    c->acks = (uint8_t)(1u << p->cfg.self);
    c->sent = p->now;
    if (c->state == SLOT_ACCEPTED && p->majority == 1) c->state = SLOT_DECIDED;
  }
  rum__px_advance_commit(p);
  p->lease_until = 0;
  p->last_quorum = p->now;
  p->heartbeat_at = p->now + p->cfg.heartbeat_ticks;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    if (i != p->cfg.self) rum__px_send_range(p, i, first, p->next);
}

void rum__px_step_down(struct rum_paxos *p) {
  rum__px_drop_queue(p);
  merge_clear(p);
  if (p->role == RUM_PAXOS_LEADER || p->role == RUM_PAXOS_CANDIDATE) p->role = RUM_PAXOS_FOLLOWER;
  p->leader = -1;
  p->lease_until = 0;
  rum__px_reset_election(p, p->ballot);
}

void rum__px_follow(struct rum_paxos *p, uint8_t leader, uint64_t ballot) {
  if (p->role == RUM_PAXOS_LEADER || p->role == RUM_PAXOS_CANDIDATE) rum__px_step_down(p);
  p->leader = leader;
  p->leader_ballot = ballot;
}

/* The lease runs from the send tick of the newest message a majority answered (the
 * majority-th largest echo, this leader's own being now). */
void rum__px_update_lease(struct rum_paxos *p) {
  uint64_t echo[RUM_PAXOS_MAX_REPLICAS];
  unsigned n = 0;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++)
    echo[n++] = i == p->cfg.self ? p->now : p->peers[i].echo;
  for (unsigned i = 1; i < n; i++) /* insertion sort, descending; n <= 7 */
    for (unsigned j = i; j > 0 && echo[j] > echo[j - 1]; j--) {
      uint64_t t = echo[j];
      echo[j] = echo[j - 1];
      echo[j - 1] = t;
    }
  uint64_t e = echo[p->majority - 1];
  if (e == 0) return;
  if (e > p->last_quorum) p->last_quorum = e;
  uint64_t until = e + p->cfg.lease_ticks - p->cfg.lease_ticks / 4;
  if (until > p->lease_until) p->lease_until = until;
}
