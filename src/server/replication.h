/* A node's replica groups at run time: one Multi-Paxos core (src/paxos) per group the
 * node belongs to, their messages carried between nodes as RUM_MSG_PAXOS requests over
 * the node's reliable RPC endpoint, ticked from the node's loop.
 *
 * A RUM_MSG_PAXOS payload is the group id (u64 little-endian) followed by one encoded
 * Paxos message; its response is empty. Sends go out without waiting (rum__rpc_start)
 * from a fixed pool; when the pool is full a message is dropped, which Paxos survives
 * like any loss. Received messages are queued by rum__replication_deliver (from the
 * RPC handler, which may not call into the endpoint) and handled at the next poll.
 *
 * Thread safety: everything runs on the thread that drives the endpoint (rumd's loop);
 * the handler that calls rum__replication_deliver runs on it too. */
#ifndef RUM_SERVER_REPLICATION_H
#define RUM_SERVER_REPLICATION_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/groups.h"
#include "cluster/machines.h"
#include "net/rpc.h"
#include "paxos/paxos.h"

enum {
  RUM_REPL_SEND_SLOTS = 64,     /* Paxos messages in flight from one node */
  RUM_REPL_SEND_PER_PEER = 12,  /* of them to one member of one group */
  RUM_REPL_SEND_TIMEOUT_MS = 200,
  RUM_REPL_GROUP_ID_SIZE = 8,
};

struct rum_replication_config {
  uint32_t self_id;
  const struct rum_machines *machines; /* borrowed; outlives the replication */
  const struct rum_groups *groups;     /* borrowed; outlives the replication */
  struct rum_rpc *rpc;                 /* borrowed */
  uint64_t incarnation;                /* non-zero, new at every start */
  /* Durations (in ms), window, batches; group, self, nreplicas, incarnation and app
   * are filled in per group. */
  const struct rum_paxos_config *paxos;
  /* The application: its state-transfer callbacks for group g, and the decided
   * entries of g in order (apply before returning). */
  struct rum_paxos_app (*app_for)(void *ctx, const struct rum_group *g);
  void (*apply)(void *ctx, const struct rum_group *g, const struct rum_paxos_decided *d);
  /* Optional: the tag of a proposal of this node that will not be decided here (its
   * leadership ended before the proposal got a slot). */
  void (*dropped)(void *ctx, const struct rum_group *g, uint64_t tag);
  void *ctx;
};

struct rum_replication_stats {
  uint64_t sent, send_drops, received, bad_received;
};

struct rum_replication;

/* Create the cores of every group self_id belongs to, empty (each recovers from its
 * group as paxos.h describes). Returns 0, RUM_EINVAL or RUM_ENOMEM. */
int rum__replication_create(const struct rum_replication_config *cfg, uint64_t now_ms,
                            struct rum_replication **out);
void rum__replication_destroy(struct rum_replication *r);

/* A RUM_MSG_PAXOS payload received (copied; handled at the next poll). */
void rum__replication_deliver(struct rum_replication *r, const uint8_t *payload, uint32_t len);

/* Handle what arrived, tick every core, send their messages, finish sends. */
void rum__replication_poll(struct rum_replication *r, uint64_t now_ms, uint64_t random);

/* Propose a value in group i (0..count-1) and send it at once. As rum__paxos_propose. */
int rum__replication_propose(struct rum_replication *r, unsigned i, const void *value, size_t len, uint64_t tag);

unsigned rum__replication_count(const struct rum_replication *r);
/* The index (0..count-1) of the group with this id among this node's, or -1. */
int rum__replication_find(const struct rum_replication *r, uint64_t group_id);
/* rum__paxos_can_read of group i at now_ms. */
bool rum__replication_can_read(const struct rum_replication *r, unsigned i, uint64_t now_ms);
const struct rum_group *rum__replication_group(const struct rum_replication *r, unsigned i);
/* The node id group i's core takes for its leader, or 0 when none is known. */
uint32_t rum__replication_leader(const struct rum_replication *r, unsigned i);
void rum__replication_status(const struct rum_replication *r, unsigned i, struct rum_paxos_status *out);
void rum__replication_stats(const struct rum_replication *r, struct rum_replication_stats *out);

#endif
