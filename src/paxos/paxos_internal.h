/* Private to src/paxos: the replica's state, shared by the files that implement one
 * part of the protocol each (paxos.c: entry points, log and outputs; paxos_elect.c:
 * phase 1, leases; paxos_replicate.c: phase 2, commit, truncation; paxos_recover.c:
 * catch-up, state transfer, restart empty). */
#ifndef RUM_PAXOS_INTERNAL_H
#define RUM_PAXOS_INTERNAL_H

#include "paxos/paxos.h"

enum { SLOT_EMPTY = 0, SLOT_ACCEPTED = 1, SLOT_DECIDED = 2 };

/* One log cell; the ring holds slot s at ring[s & (cap - 1)] when index == s. */
struct px_slot {
  uint64_t index;
  uint64_t ballot;   /* accepted at (the leader: proposed at) */
  uint64_t origin, tag;
  uint8_t *value;
  uint32_t len;
  uint8_t state;
  uint8_t acks;      /* leader: members that accepted it at the leader's ballot */
  uint64_t sent;     /* leader: tick it was last sent */
};

/* What phase 1 learned about one slot (the candidate's merge). */
struct px_merge {
  bool present, decided;
  uint64_t ballot, origin, tag;
  uint8_t *value;
  uint32_t len;
};

struct px_peer {
  uint64_t incarnation;  /* last seen */
  uint64_t heard;        /* tick of its last message */
  bool heard_ever, has_state;
  uint64_t commit, applied;
  /* candidate: promise from which incarnation, complete (no more entries to ask) */
  bool promised, promise_done;
  uint64_t promise_inc, promise_next, prepare_sent;
  /* leader: the incarnation whose acks count for this ballot; latest echoed tick */
  uint64_t count_inc, echo;
  uint64_t catchup_sent;
  /* recovery: its answer */
  bool rec_replied, rec_voter, rec_leader;
  uint64_t rec_promised, rec_ballot, rec_max;
  /* snapshot source: the transfer to this peer started at applied index pin */
  bool pinned;
  uint64_t pin, pin_tick;
};

struct px_proposal {
  uint8_t *value;
  uint32_t len;
  uint64_t tag;
};

struct px_out {
  uint8_t to;
  uint8_t *buf;
  size_t len;
};

struct rum_paxos {
  struct rum_paxos_config cfg;
  uint8_t role;
  bool voter;
  uint8_t majority;
  uint64_t now, created;
  uint64_t promised;        /* highest ballot promised (or accepted at) */
  uint64_t max_seen;        /* highest ballot seen anywhere (to pick a higher one) */
  int leader;               /* member index of the leader followed, -1 none */
  uint64_t leader_ballot;
  uint64_t leader_commit;   /* highest commit a leader told us */
  uint64_t no_promise_until;/* lease: refuse other ballots before this tick */
  uint64_t election_at;
  uint64_t ballot;          /* candidate / leader: own ballot */
  uint64_t joined_ballot;   /* ballot this incarnation joined at after recovery */
  /* log */
  struct px_slot *ring;
  uint64_t cap;
  uint64_t base;            /* first slot held; all below are applied and dropped */
  uint64_t commit;          /* every slot <= commit is decided */
  uint64_t applied;         /* every slot <= applied was popped */
  uint64_t max_slot;        /* highest slot holding anything */
  /* leader */
  uint64_t next;            /* next slot to assign */
  uint64_t lead_start;      /* reads wait for commit >= this */
  uint64_t lease_until, last_quorum, heartbeat_at, trunc;
  struct px_proposal *queue;
  uint32_t qhead, qlen;
  /* candidate */
  struct px_merge *merge;   /* cap cells for slots merge_first.. */
  uint64_t merge_first, merge_max;
  /* recovery and state transfer */
  uint64_t rec_sent;
  bool snap_active, snap_done;
  /* A replica that has state keeps it whole until a transfer is complete: the pieces
   * wait here as (cursor u64, len u32, bytes) records, then replace it at once. */
  uint8_t *snap_buf;
  size_t snap_len, snap_cap;
  int snap_source;
  uint64_t snap_cursor, snap_index, snap_sync, snap_ballot, snap_heard, snap_sent;
  uint64_t rec_bmax;        /* recovery: highest promise a majority of the others hold */
  /* outputs */
  struct px_out *out;
  size_t out_len, out_cap, out_pos;
  uint64_t *dropped;
  size_t dropped_len, dropped_cap, dropped_pos;
  struct px_peer peers[RUM_PAXOS_MAX_REPLICAS];
  uint64_t rng;
  struct rum_paxos_msg in;  /* the message being handled (big: kept off the stack) */
  struct rum_paxos_msg msg; /* the message being built */
  /* counters */
  uint64_t n_proposals, n_batches, n_elections, n_catchup_bytes, n_snapshot_bytes, n_dropped_msgs,
      n_decided;
};

static inline uint64_t px_round(uint64_t ballot) { return ballot >> 8; }
static inline uint64_t px_make_ballot(uint64_t round, uint8_t self) { return round << 8 | self; }
static inline struct px_slot *px_slot_at(struct rum_paxos *p, uint64_t s) {
  struct px_slot *c = &p->ring[s & (p->cap - 1)];
  return c->state != SLOT_EMPTY && c->index == s ? c : NULL;
}
static inline bool px_in_room(const struct rum_paxos *p, uint64_t s) {
  return s >= p->base && s < p->base + p->cap;
}

/* paxos.c */
void rum__px_send(struct rum_paxos *p, uint8_t to, struct rum_paxos_msg *m);
void rum__px_broadcast(struct rum_paxos *p, struct rum_paxos_msg *m);
void rum__px_msg_init(const struct rum_paxos *p, struct rum_paxos_msg *m, uint8_t type);
int rum__px_store(struct rum_paxos *p, uint64_t s, uint64_t ballot, uint8_t state,
                  const struct rum_paxos_entry *e);
/* The same, taking ownership of value (malloc'd, e->len bytes; freed on failure). */
int rum__px_store_owned(struct rum_paxos *p, uint64_t s, uint64_t ballot, uint8_t state,
                        const struct rum_paxos_entry *e, uint8_t *value);
void rum__px_advance_commit(struct rum_paxos *p);
void rum__px_reset_election(struct rum_paxos *p, uint64_t random);
void rum__px_drop_queue(struct rum_paxos *p);
void rum__px_truncate(struct rum_paxos *p, uint64_t upto);
void rum__px_heard(struct rum_paxos *p, const struct rum_paxos_msg *m);
/* paxos_elect.c */
void rum__px_start_election(struct rum_paxos *p);
void rum__px_on_prepare(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_promise(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_step_down(struct rum_paxos *p);
void rum__px_follow(struct rum_paxos *p, uint8_t leader, uint64_t ballot);
void rum__px_candidate_tick(struct rum_paxos *p);
void rum__px_update_lease(struct rum_paxos *p);
/* paxos_replicate.c */
void rum__px_flush(struct rum_paxos *p);
void rum__px_on_accept(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_accepted(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_leader_tick(struct rum_paxos *p);
void rum__px_learn_commit(struct rum_paxos *p, uint64_t ballot, uint64_t commit);
void rum__px_send_range(struct rum_paxos *p, uint8_t to, uint64_t first, uint64_t end);
/* paxos_recover.c */
void rum__px_recover_tick(struct rum_paxos *p);
void rum__px_on_recover_req(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_recover_resp(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_catchup_req(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_catchup(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_snap_req(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_on_snap_piece(struct rum_paxos *p, const struct rum_paxos_msg *m);
void rum__px_request_catchup(struct rum_paxos *p, int to);
void rum__px_start_snapshot(struct rum_paxos *p, int source);
void rum__px_check_join(struct rum_paxos *p);

#endif
