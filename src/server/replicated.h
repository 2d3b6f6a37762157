/* Replicated page writes in rumd (replication=R > 1 in machines.csv).
 *
 * Every chunk belongs to one replica group (cluster/groups.h) whose members all hold
 * the region; the group's Multi-Paxos log (server/replication.h) orders its page
 * writes. A WRITE arriving at the group's leader is checked as on R = 1 (ownership,
 * quota), handed off as a log entry (the WRITE payload itself) and answered only once
 * that entry is decided, i.e. a majority of the group accepted it; every member
 * applies decided entries to its page store in log order. A node that is not the
 * leader answers RUM_ENOTLEADER with a redirect (groups.h) naming the leader it knows.
 * A READ is served only by a leader whose lease holds (rum__paxos_can_read), so it
 * never misses a write acknowledged by any leader; other nodes redirect.
 *
 * Not through the log yet: region metadata (ALLOC, FREE, RESIZE, ATTACH by name) goes
 * to every member directly from the client, as on R = 1; DISCARD and COPY likewise
 * (COPY is refused on R > 1: the client copies through READ and WRITE). A node
 * restarted empty gets no page state from its group yet (the state transfer of the
 * page store is not written): restart a killed node only after the rest of the cluster.
 *
 * Threading: the handler side (rum__replicated_write, _read_refused, _deliver) runs
 * inside the RPC handler; rum__replicated_poll on the loop thread, outside it. */
#ifndef RUM_SERVER_REPLICATED_H
#define RUM_SERVER_REPLICATED_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/machines.h"
#include "net/rpc.h"
#include "proto/wire.h"
#include "server/page_store.h"

enum {
  RUM_REPLD_PENDING = 1024,        /* writes awaiting their decision on one node */
  RUM_REPLD_PENDING_MS = 10000,    /* one not decided by then is answered RUM_ETIMEDOUT */
  RUM_REPLD_HEARTBEAT_MS = 25,     /* Paxos timing in rumd (replicated.c says why) */
  RUM_REPLD_LEASE_MS = 600,
  RUM_REPLD_ELECTION_MS = 800,
};

struct rum_replicated_config {
  uint32_t self_id;
  const struct rum_machines *machines; /* borrowed; replication > 1 */
  struct rum_page_store *store;        /* borrowed */
  struct rum_rpc *rpc;                 /* borrowed */
  uint64_t incarnation;                /* non-zero, new at every start */
};

struct rum_replicated_stats {
  uint64_t proposed, applied, apply_errors, redirects, answered, expired;
};

struct rum_replicated;

/* Returns 0, RUM_EINVAL or RUM_ENOMEM. */
int rum__replicated_create(const struct rum_replicated_config *cfg, uint64_t now_ms, struct rum_replicated **out);
void rum__replicated_destroy(struct rum_replicated *rr);

/* Handler side. A checked WRITE (m decoded from req): proposes it (deferred reply) or
 * answers a redirect or an error. Always fills *reply. */
void rum__replicated_write(struct rum_replicated *rr, const struct rum_rpc_request *req,
                           const struct rum_msg_write_req *m, struct rum_rpc_reply *reply);
/* A READ of pages [first, first + npages) of region: true when this node may not serve
 * it now (then *reply holds the redirect or error). */
bool rum__replicated_read_refused(struct rum_replicated *rr, uint64_t region, uint64_t first, uint32_t npages,
                                  struct rum_rpc_reply *reply);
/* A RUM_MSG_PAXOS payload. */
void rum__replicated_deliver(struct rum_replicated *rr, const uint8_t *payload, uint32_t len);

/* Loop side: propose what the handler queued, run the groups, answer decided writes. */
void rum__replicated_poll(struct rum_replicated *rr, uint64_t now_ms, uint64_t random);

/* A member restarted empty into a group that holds pages: rumd stops (replicated.h). */
bool rum__replicated_lost_state(const struct rum_replicated *rr);

void rum__replicated_stats(const struct rum_replicated *rr, struct rum_replicated_stats *out);
/* One line per group of this node (members, role, leader, ballot, applied) into buf. */
void rum__replicated_describe(const struct rum_replicated *rr, char *buf, size_t cap);

#endif
