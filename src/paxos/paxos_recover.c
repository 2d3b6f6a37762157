/* Catch-up of decided entries, state transfer in bounded pieces, and the return of a
 * replica that restarted empty.
 *
 * Why a replica that forgot everything may vote again (memory nodes keep nothing
 * across a restart). Call the old life A1 and the new one A2; they have different
 * incarnations. The danger is that A2 contradicts what A1 promised or accepted. Two
 * rules make that impossible, assuming (as Paxos does for crashes) that at most a
 * minority of the group lacks its state at any time:
 *
 * 1. Phase-2 acks count only from the incarnation whose promise the leader merged in
 *    its phase 1 (paxos_replicate.c). A ballot whose phase 1 used A1's promise can
 *    therefore not be decided with A2's help: A2 never promised it.
 *
 * 2. A2 votes only after it (a) heard from ceil(n/2) other members that have state,
 *    and took bmax, the highest ballot they promised; (b) copied the whole state,
 *    plus every slot assigned so far, from a leader whose phase 1 is done at a ballot
 *    b_src >= bmax; it then joins at b_src. Take any value v decided at ballot b with
 *    A1 among the acceptors. Ballot b's phase-1 majority had at least floor(n/2)
 *    members besides A1, all of which promised b before A1 accepted, so before A2
 *    started; ceil(n/2) of the other n - 1 members must include one of them, hence
 *    bmax >= b and b_src >= b. A leader at b_src >= b holds v in its log or state
 *    (it proposed v itself at b, or its own phase 1 learned v), so A2 holds v before
 *    it first answers a PREPARE. And A2, having promised b_src, accepts nothing
 *    below b_src, where (rule 1) nothing decided can depend on A1's old promises.
 *
 * When no member that answered has ever promised anything (bmax == 0), nothing was
 * ever decided with A1: A2 joins with an empty state. A group whose members all
 * start together bootstraps that way; so does a group that lost a majority of its
 * members' memory, where no protocol could keep what they held.
 *
 * The state transfer is fuzzy: pieces are read from the source's live state while it
 * keeps applying entries, and the receiver then replays every entry after the
 * source's applied index at the first piece (paxos.h says why that converges). The
 * source keeps those entries (a pin) until the receiver votes. */
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos_internal.h"
#include "proto/le.h"

static void join(struct rum_paxos *p, uint64_t ballot) {
  p->voter = true;
  p->role = RUM_PAXOS_FOLLOWER;
  p->joined_ballot = ballot;
  if (ballot > p->promised) p->promised = ballot;
  p->snap_done = false;
  rum__px_reset_election(p, p->cfg.incarnation);
}

static void restart_recovery(struct rum_paxos *p) {
  p->snap_active = p->snap_done = false;
  p->snap_len = 0;
  p->snap_source = -1;
  p->rec_sent = 0;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) p->peers[i].rec_replied = false;
}

void rum__px_check_join(struct rum_paxos *p) {
  if (p->role == RUM_PAXOS_RECOVERING && p->snap_done && !p->snap_active && p->commit >= p->snap_sync)
    join(p, p->snap_ballot);
}

void rum__px_request_catchup(struct rum_paxos *p, int to) {
  if (to < 0 || to == p->cfg.self) return;
  struct px_peer *q = &p->peers[to];
  if (q->catchup_sent != 0 && p->now - q->catchup_sent < p->cfg.retransmit_ticks) return;
  struct rum_paxos_msg *m = &p->msg;
  rum__px_msg_init(p, m, RUM_PAXOS_CATCHUP_REQ);
  m->first = p->commit + 1;
  rum__px_send(p, (uint8_t)to, m);
  q->catchup_sent = p->now;
}

static void send_snap_req(struct rum_paxos *p) {
  struct rum_paxos_msg *m = &p->msg;
  rum__px_msg_init(p, m, RUM_PAXOS_SNAP_REQ);
  m->echo = p->snap_cursor;
  if (p->snap_cursor == 0) m->flags |= RUM_PAXOS_F_START;
  rum__px_send(p, (uint8_t)p->snap_source, m);
  p->snap_sent = p->now;
}

void rum__px_start_snapshot(struct rum_paxos *p, int source) {
  p->snap_active = true;
  p->snap_done = false;
  p->snap_source = source;
  p->snap_cursor = 0;
  p->snap_index = 0;
  p->snap_heard = p->now;
  send_snap_req(p);
}

void rum__px_recover_tick(struct rum_paxos *p) {
  if (p->role == RUM_PAXOS_RECOVERING && p->cfg.nreplicas == 1) {
    join(p, 0);
    return;
  }
  if (p->snap_active) {
    if (p->now - p->snap_heard > p->cfg.election_ticks) {
      /* The source went quiet: start over (from the recovery question if empty). */
      p->snap_active = false;
      p->snap_len = 0;
      if (p->role == RUM_PAXOS_RECOVERING) restart_recovery(p);
    } else if (p->now - p->snap_sent >= p->cfg.retransmit_ticks) {
      send_snap_req(p);
    }
    return;
  }
  if (p->role != RUM_PAXOS_RECOVERING) return;
  if (p->snap_done) {
    rum__px_check_join(p);
    if (p->role == RUM_PAXOS_RECOVERING) {
      if (p->now - p->snap_heard > p->cfg.election_ticks) restart_recovery(p);
      else rum__px_request_catchup(p, p->leader >= 0 ? p->leader : p->snap_source);
    }
    return;
  }
  if (p->rec_sent == 0 || p->now - p->rec_sent >= p->cfg.retransmit_ticks) {
    struct rum_paxos_msg *m = &p->msg;
    rum__px_msg_init(p, m, RUM_PAXOS_RECOVER_REQ);
    rum__px_broadcast(p, m);
    p->rec_sent = p->now;
  }
}

void rum__px_on_recover_req(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  struct rum_paxos_msg *r = &p->msg;
  rum__px_msg_init(p, r, RUM_PAXOS_RECOVER_RESP);
  r->ballot = p->promised;
  /* A voter fetching state still remembers every promise: it counts for bmax. */
  if (p->voter) r->flags |= RUM_PAXOS_F_VOTER;
  if (p->role == RUM_PAXOS_LEADER) {
    r->flags |= RUM_PAXOS_F_LEADER;
    r->extra = p->ballot;
  }
  r->first = p->max_slot;
  rum__px_send(p, m->from, r);
}

void rum__px_on_recover_resp(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (p->role != RUM_PAXOS_RECOVERING || p->snap_active || p->snap_done) return;
  struct px_peer *q = &p->peers[m->from];
  q->rec_replied = true;
  q->rec_voter = (m->flags & RUM_PAXOS_F_VOTER) != 0;
  q->rec_promised = m->ballot;
  q->rec_leader = (m->flags & RUM_PAXOS_F_LEADER) != 0;
  q->rec_ballot = m->extra;
  q->rec_max = m->first;
  unsigned replied = 0, voters = 0;
  uint64_t bmax = 0, held = 0;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    const struct px_peer *o = &p->peers[i];
    if (i == p->cfg.self || !o->rec_replied) continue;
    replied++;
    if (o->rec_max > held) held = o->rec_max;
    if (o->rec_voter) {
      voters++;
      if (o->rec_promised > bmax) bmax = o->rec_promised;
    }
  }
  unsigned need = (p->cfg.nreplicas + 1) / 2;
  if (voters < need) {
    /* Fewer than ceil(n/2) others have state: the group is starting (or lost more
     * than a minority, where nothing can be promised). Join empty only if no member
     * holds a single log entry: candidacies alone decide nothing. */
    if (replied == p->cfg.nreplicas - 1u && held == 0) join(p, 0);
    return;
  }
  if (bmax == 0) {
    join(p, 0);
    return;
  }
  p->rec_bmax = bmax;
  for (uint8_t i = 0; i < p->cfg.nreplicas; i++) {
    const struct px_peer *o = &p->peers[i];
    if (i != p->cfg.self && o->rec_replied && o->rec_leader && o->rec_ballot >= bmax) {
      rum__px_start_snapshot(p, i);
      return;
    }
  }
}

void rum__px_on_catchup_req(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!p->voter || p->snap_active) return;
  struct px_peer *q = &p->peers[m->from];
  if (q->pinned) q->pin_tick = p->now;
  struct rum_paxos_msg *r = &p->msg;
  rum__px_msg_init(p, r, RUM_PAXOS_CATCHUP);
  r->first = m->first;
  if (m->first < p->base) {
    r->flags |= RUM_PAXOS_F_SNAP;
  } else {
    size_t bytes = 0;
    for (uint64_t s = m->first; s <= p->commit && r->nentries < RUM_PAXOS_MAX_ENTRIES; s++) {
      struct px_slot *c = px_slot_at(p, s);
      if (c == NULL || c->state != SLOT_DECIDED) break;
      if (r->nentries > 0 && bytes + c->len > p->cfg.batch_bytes) break;
      r->entries[r->nentries++] = (struct rum_paxos_entry){
          .ballot = c->ballot, .origin = c->origin, .tag = c->tag, .len = c->len,
          .value = c->value, .flags = RUM_PAXOS_ENTRY_DECIDED};
      bytes += c->len;
    }
    p->n_catchup_bytes += bytes;
  }
  rum__px_send(p, m->from, r);
}

void rum__px_on_catchup(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (m->flags & RUM_PAXOS_F_SNAP) {
    if (p->role == RUM_PAXOS_RECOVERING) {
      if (p->snap_done) restart_recovery(p); /* the entries to replay are gone */
    } else if (!p->snap_active) {
      rum__px_start_snapshot(p, m->from);
    }
    return;
  }
  if (p->snap_active || (p->role == RUM_PAXOS_RECOVERING && !p->snap_done)) return;
  if (m->commit > p->leader_commit) p->leader_commit = m->commit;
  bool progress = false;
  for (unsigned i = 0; i < m->nentries; i++) {
    uint64_t s = m->first + i;
    const struct rum_paxos_entry *e = &m->entries[i];
    if (!(e->flags & RUM_PAXOS_ENTRY_DECIDED)) break;
    if (s <= p->commit || s < p->base) continue;
    if (!px_in_room(p, s) || rum__px_store(p, s, e->ballot, SLOT_DECIDED, e) != 0) break;
    p->n_catchup_bytes += e->len;
    progress = true;
  }
  rum__px_advance_commit(p);
  if (progress) p->snap_heard = p->now;
  if (progress && p->commit < p->leader_commit) {
    p->peers[m->from].catchup_sent = 0; /* more to fetch: ask again at once */
    rum__px_request_catchup(p, m->from);
  }
  rum__px_check_join(p);
}

void rum__px_on_snap_req(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!p->voter || p->snap_active) return;
  struct px_peer *q = &p->peers[m->from];
  if (m->flags & RUM_PAXOS_F_START) {
    q->pinned = true;
    q->pin = p->applied;
  } else if (!q->pinned) {
    return; /* a transfer this incarnation never started: the receiver times out */
  }
  q->pin_tick = p->now;
  uint8_t *buf = malloc(p->cfg.snapshot_piece);
  if (buf == NULL) return;
  uint64_t cursor = m->echo;
  bool done = false;
  size_t len = p->cfg.app.snapshot_read(p->cfg.app.ctx, &cursor, buf, p->cfg.snapshot_piece, &done);
  if (len > p->cfg.snapshot_piece) len = p->cfg.snapshot_piece;
  struct rum_paxos_msg *r = &p->msg;
  rum__px_msg_init(p, r, RUM_PAXOS_SNAP_PIECE);
  r->echo = m->echo;
  r->extra2 = cursor;
  r->extra = q->pin;
  r->first = p->role == RUM_PAXOS_LEADER ? p->next - 1 : p->max_slot;
  r->ballot = p->role == RUM_PAXOS_LEADER ? p->ballot : 0;
  if (done) r->flags |= RUM_PAXOS_F_DONE;
  r->data = buf;
  r->data_len = (uint32_t)len;
  rum__px_send(p, m->from, r);
  p->n_snapshot_bytes += len;
  p->n_catchup_bytes += len;
  free(buf);
}

static bool keep_piece(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  size_t need = p->snap_len + 12 + m->data_len;
  if (need > p->snap_cap) {
    size_t cap = p->snap_cap ? p->snap_cap : 4096;
    while (cap < need) cap *= 2;
    uint8_t *n = realloc(p->snap_buf, cap);
    if (n == NULL) return false;
    p->snap_buf = n;
    p->snap_cap = cap;
  }
  rum__put_u64(p->snap_buf + p->snap_len, m->echo);
  rum__put_u32(p->snap_buf + p->snap_len + 8, m->data_len);
  memcpy(p->snap_buf + p->snap_len + 12, m->data, m->data_len);
  p->snap_len = need;
  return true;
}

/* A replica with state replaces it only now that the whole transfer is here. */
static void write_kept_pieces(struct rum_paxos *p) {
  p->cfg.app.snapshot_reset(p->cfg.app.ctx);
  for (size_t off = 0; off + 12 <= p->snap_len;) {
    uint32_t len = rum__get_u32(p->snap_buf + off + 8);
    p->cfg.app.snapshot_write(p->cfg.app.ctx, rum__get_u64(p->snap_buf + off), p->snap_buf + off + 12, len);
    off += 12 + (size_t)len;
  }
  free(p->snap_buf);
  p->snap_buf = NULL;
  p->snap_len = p->snap_cap = 0;
}

/* The last piece arrived: the state is that of slot snap_index plus some later
 * entries; the log restarts after snap_index and every later entry is replayed. */
static void install(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  uint64_t s0 = p->snap_index;
  if (p->role != RUM_PAXOS_RECOVERING) write_kept_pieces(p);
  for (uint64_t i = 0; i < p->cap; i++) {
    struct px_slot *c = &p->ring[i];
    if (c->state != SLOT_EMPTY && c->index <= s0) {
      free(c->value);
      memset(c, 0, sizeof *c);
    }
  }
  p->base = s0 + 1;
  p->commit = p->applied = s0;
  if (p->max_slot < s0) p->max_slot = s0;
  if (p->leader_commit < s0) p->leader_commit = s0;
  p->snap_active = false;
  rum__px_advance_commit(p);
  if (p->role == RUM_PAXOS_RECOVERING) {
    p->snap_done = true;
    p->snap_sync = m->first;
    p->snap_ballot = m->ballot;
    if (m->first > p->leader_commit) p->leader_commit = m->first;
    rum__px_check_join(p);
  }
  p->peers[m->from].catchup_sent = 0;
  if (p->commit < p->leader_commit) rum__px_request_catchup(p, m->from);
}

void rum__px_on_snap_piece(struct rum_paxos *p, const struct rum_paxos_msg *m) {
  if (!p->snap_active || (int)m->from != p->snap_source || m->echo != p->snap_cursor) return;
  if (m->echo == 0) {
    if (m->extra + 1 < p->base) {
      /* The source applied less than this replica already dropped: installing its
       * state would leave slots this acceptor accepted unreported (a hole under
       * base). Keep the state; the next catch-up finds a better source. */
      p->snap_active = false;
      return;
    }
    p->snap_index = m->extra;
    p->snap_len = 0;
    if (p->role == RUM_PAXOS_RECOVERING) p->cfg.app.snapshot_reset(p->cfg.app.ctx);
  } else if (m->extra != p->snap_index) {
    p->snap_active = false; /* the source restarted the transfer: so do we */
    p->snap_len = 0;
    if (p->role == RUM_PAXOS_RECOVERING) restart_recovery(p);
    return;
  }
  p->snap_heard = p->now;
  if (p->role == RUM_PAXOS_RECOVERING)
    p->cfg.app.snapshot_write(p->cfg.app.ctx, m->echo, m->data, m->data_len);
  else if (!keep_piece(p, m)) {
    p->snap_active = false; /* out of memory: keep the state we have */
    p->snap_len = 0;
    return;
  }
  p->n_snapshot_bytes += m->data_len;
  if (!(m->flags & RUM_PAXOS_F_DONE)) {
    p->snap_cursor = m->extra2;
    send_snap_req(p);
    return;
  }
  /* Rule 2 (b) above: only a leader at a ballot >= bmax may hand an empty replica
   * its state. */
  if (p->role == RUM_PAXOS_RECOVERING && (m->ballot == 0 || m->ballot < p->rec_bmax)) {
    restart_recovery(p);
    return;
  }
  install(p, m);
}
