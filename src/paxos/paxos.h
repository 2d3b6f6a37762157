/* Multi-Paxos for one replica group, as a pure state machine.
 *
 * Inputs: received message bytes, ticks (time as a number the caller counts, in any
 * unit; the config's durations are in the same unit), proposals, and random numbers
 * the caller passes in. Outputs: encoded messages to send and decided log entries
 * in order. The core reads no clock, makes no system call, uses no randomness it was
 * not given and keeps no globals; it allocates log values and output buffers with
 * malloc. rumd runs it behind its RPC loop; tests/unit/test_paxos_sim.c runs several
 * of them in one process over a simulated network.
 *
 * The protocol (Lamport, "Paxos Made Simple" section 3, with a stable leader):
 * - A replica that hears no leader for an election timeout becomes a candidate with
 *   a ballot higher than any it saw and runs phase 1 (PREPARE/PROMISE) once for every
 *   slot above its decided prefix. With promises from a majority it leads: it
 *   re-proposes the highest-ballot value reported for each slot (a no-op in gaps)
 *   and then runs only phase 2 (ACCEPT/ACCEPTED), one round trip per batch, with a
 *   window of batches in flight.
 * - The leader holds a lease: followers that accepted its messages promise no other
 *   ballot for lease_ticks after they did, so while a majority keeps answering no
 *   other leader can exist and the leader may serve reads from its own state
 *   (rum__paxos_can_read). A leader that has not heard a majority for lease_ticks
 *   steps down.
 * - A replica that missed decided entries fetches them (CATCHUP); one whose missing
 *   entries were truncated, or that restarted empty, fetches the state in pieces
 *   (SNAP). A replica restarted empty has a new incarnation and votes only once it
 *   has the state (see paxos_recover.c for why that is safe).
 * - Entries every live replica applied are truncated.
 *
 * Application state and the log: entries are applied by the caller in order as
 * rum__paxos_pop_decided returns them. The state transfer copies the caller's state
 * while entries keep being applied (a fuzzy copy) and then replays every entry after
 * the index where it started, so applying an entry must be idempotent over a state
 * that may already contain it or later entries for the same keys (whole-page writes,
 * create-if-absent, delete-if-present and absolute resizes are). A replica restarted
 * empty installs the pieces as they come; one that still has a state (it only fell
 * too far behind) keeps the pieces in memory until the last one arrives and only then
 * replaces its state, so an interrupted transfer never leaves it with half a state.
 * That costs memory of the size of the state while it lasts. */
#ifndef RUM_PAXOS_H
#define RUM_PAXOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paxos/paxos_wire.h"

/* The caller's state, for the state transfer. Called only from inside the core's
 * entry points, never concurrently. */
struct rum_paxos_app {
  void *ctx;
  /* Copy up to cap bytes of the applied state from *cursor (0 = the start) into buf,
   * advance *cursor, set *done at the end. Returns bytes written (0 only when done). */
  size_t (*snapshot_read)(void *ctx, uint64_t *cursor, uint8_t *buf, size_t cap, bool *done);
  /* Drop the whole state: a transfer begins. */
  void (*snapshot_reset)(void *ctx);
  /* Install one piece (from snapshot_read at the given cursor). */
  void (*snapshot_write)(void *ctx, uint64_t cursor, const uint8_t *buf, size_t len);
};

struct rum_paxos_config {
  uint64_t group;           /* carried in every message; others are dropped */
  uint8_t self;             /* this replica's index, < nreplicas */
  uint8_t nreplicas;        /* 1..RUM_PAXOS_MAX_REPLICAS */
  uint64_t incarnation;     /* non-zero, different every time the process starts */
  uint32_t log_capacity;    /* slots held in memory, a power of two >= 2 * window */
  uint32_t window;          /* undecided slots the leader keeps in flight */
  uint32_t batch_entries;   /* entries per ACCEPT, <= RUM_PAXOS_MAX_ENTRIES */
  uint32_t batch_bytes;     /* value bytes per ACCEPT, <= RUM_PAXOS_MAX_VALUE */
  uint32_t queue_max;       /* proposals waiting for a slot */
  uint32_t snapshot_piece;  /* bytes per state piece, <= RUM_PAXOS_MAX_DATA */
  uint64_t heartbeat_ticks; /* leader heartbeat interval */
  uint64_t retransmit_ticks;/* resend an unanswered message after this */
  uint64_t election_ticks;  /* no leader heard for this (+ a random part) -> candidate */
  uint64_t lease_ticks;     /* leader lease; < election_ticks */
  uint64_t live_ticks;      /* a replica not heard for this is not live (truncation) */
  struct rum_paxos_app app;
};

/* Sensible defaults for a tick of one millisecond. */
void rum__paxos_config_default(struct rum_paxos_config *cfg);

struct rum_paxos;

/* Create a replica that has just started empty at tick now: it first asks the
 * others what they hold (recovery) and votes only once it has the state. A group
 * whose members all start empty together bootstraps that way. Returns 0 or
 * RUM_EINVAL (bad config) / RUM_ENOMEM; *out owned by the caller (rum__paxos_destroy). */
int rum__paxos_create(const struct rum_paxos_config *cfg, uint64_t now, struct rum_paxos **out);
void rum__paxos_destroy(struct rum_paxos *p);

/* Advance time to now (never backwards). random is any random number: it spreads
 * election timeouts so that candidates do not collide forever. */
void rum__paxos_tick(struct rum_paxos *p, uint64_t now, uint64_t random);

/* A message received at tick now. Malformed bytes or another group's messages are
 * counted and dropped. buf is only read during the call. */
void rum__paxos_receive(struct rum_paxos *p, uint64_t now, const uint8_t *buf, size_t len);

/* Propose a value (len <= RUM_PAXOS_MAX_VALUE; copied). tag names it for the caller:
 * the decided entry carries (this replica's incarnation, tag). Returns 0,
 * RUM_ENOTLEADER (not the leader: see rum__paxos_leader), RUM_EAGAIN (queue full),
 * RUM_EINVAL. A queued proposal is sent at the next rum__paxos_flush or tick;
 * one the leader drops when it steps down comes out of rum__paxos_pop_dropped. */
int rum__paxos_propose(struct rum_paxos *p, const void *value, size_t len, uint64_t tag);

/* Give the queued proposals slots and send them in batches. Call after a burst of
 * proposals (or rely on the next tick). */
void rum__paxos_flush(struct rum_paxos *p);

/* Outputs. After every call above, drain them: a message is valid until the next
 * call other than these pops. */
struct rum_paxos_send {
  uint8_t to;             /* member index */
  const uint8_t *buf;
  size_t len;
};
bool rum__paxos_pop_send(struct rum_paxos *p, struct rum_paxos_send *out);

struct rum_paxos_decided {
  uint64_t index;         /* log slot, 1, 2, ... */
  uint64_t origin, tag;   /* the proposer's incarnation and tag; 0, 0 for a no-op */
  const uint8_t *value;
  uint32_t len;
};
/* The next decided entry in log order; the caller applies it before calling into the
 * core again (the core counts it applied). */
bool rum__paxos_pop_decided(struct rum_paxos *p, struct rum_paxos_decided *out);
/* The tag of a proposal that will not be proposed (leadership lost before it got a
 * slot); the caller may retry it at the new leader. */
bool rum__paxos_pop_dropped(struct rum_paxos *p, uint64_t *tag);

enum rum_paxos_role {
  RUM_PAXOS_RECOVERING = 0, /* restarted empty: no votes until it has the state */
  RUM_PAXOS_FOLLOWER = 1,
  RUM_PAXOS_CANDIDATE = 2,
  RUM_PAXOS_LEADER = 3,
};

/* The leader this replica knows (member index), or -1. */
int rum__paxos_leader(const struct rum_paxos *p);

/* May this replica answer a read from its applied state at tick now, knowing that no
 * write acknowledged by any leader is missing from it? See the argument at the
 * definition. */
bool rum__paxos_can_read(const struct rum_paxos *p, uint64_t now);

struct rum_paxos_status {
  uint8_t role;
  int8_t leader;          /* -1 unknown */
  bool voter;
  bool has_state;         /* votes and its applied state is whole (no transfer under way) */
  uint64_t ballot;        /* promised */
  uint64_t base, commit, applied, next;
  uint64_t peer_commit[RUM_PAXOS_MAX_REPLICAS]; /* as last reported (leader's view) */
  uint64_t proposals, batches, elections, catchup_bytes, snapshot_bytes;
  uint64_t dropped_msgs, decided;
};
void rum__paxos_status(const struct rum_paxos *p, struct rum_paxos_status *out);

#endif
