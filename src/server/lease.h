/* Client leases: who has been heard from lately, and what happens to those who have not.
 *
 * Every request from a client session (sender id + session) renews its lease. A
 * session silent for longer than its lease is expired by rum__lease_tick(): its
 * un-named regions are freed from the page store (named regions are permanent), the
 * reclaim is logged, and the forget callback tells the RPC layer to drop the session's
 * de-duplication state. A session that lost regions that way is remembered (in a
 * bounded table, oldest forgotten first) so that when it comes back its requests get
 * RUM_ELEASE instead of silently finding its memory gone or reused. A session that held
 * no regions here is simply forgotten: it lost nothing, so it starts afresh.
 *
 * Sessions that said they are memory nodes (HELLO or HEARTBEAT with the node flag) own
 * no regions and never expire.
 *
 * Time is an argument (milliseconds on any monotonic clock): lease.c reads no clock,
 * so tests step time by hand. Not thread safe: the node calls it from its one loop. */
#ifndef RUM_SERVER_LEASE_H
#define RUM_SERVER_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "server/page_store.h"

enum {
  RUM_LEASE_DEFAULT_MS = 5000,
  RUM_LEASE_MIN_MS = 100,          /* shortest lease granted to a client that asks */
  RUM_LEASE_MAX_MS = 3600 * 1000,  /* longest */
  RUM_LEASE_DEFAULT_SESSIONS = 65536,
  RUM_LEASE_DEFAULT_EXPIRED = 4096,
};

/* Called for every session that expires (regions or not), after its regions were
 * reclaimed. */
typedef void (*rum_lease_forget_fn)(void *ctx, uint32_t sender, uint64_t session);

struct rum_lease_config {
  uint32_t lease_ms;          /* default lease; 0 = RUM_LEASE_DEFAULT_MS */
  unsigned max_sessions;      /* live sessions tracked; 0 = RUM_LEASE_DEFAULT_SESSIONS */
  unsigned max_expired;       /* expired sessions remembered; 0 = RUM_LEASE_DEFAULT_EXPIRED */
  struct rum_page_store *store; /* whose regions are reclaimed (borrowed, must outlive) */
  rum_lease_forget_fn forget; /* may be NULL */
  void *forget_ctx;
};

struct rum_lease_table;

/* Returns 0 and *out, RUM_EINVAL (no store) or RUM_ENOMEM. All memory is allocated here. */
int rum__lease_create(const struct rum_lease_config *cfg, struct rum_lease_table **out);
void rum__lease_destroy(struct rum_lease_table *lt);

/* A request from (sender, session) arrived at now_ms: renew its lease, starting one if
 * the session is new. Returns 0; RUM_ELEASE if the session expired earlier (nothing is
 * renewed); RUM_EAGAIN if the session is new and max_sessions are tracked already. */
int rum__lease_touch(struct rum_lease_table *lt, uint32_t sender, uint64_t session,
                     uint64_t now_ms);

/* The session said hello or heartbeated: is_node exempts it from expiry; want_ms (0 =
 * the default) is the lease it asks for, clamped to [RUM_LEASE_MIN_MS, RUM_LEASE_MAX_MS].
 * Renews like rum__lease_touch() and returns the same codes; *granted_ms (if not NULL)
 * receives the lease now in force. */
int rum__lease_hello(struct rum_lease_table *lt, uint32_t sender, uint64_t session,
                     bool is_node, uint32_t want_ms, uint64_t now_ms, uint32_t *granted_ms);

/* The lease in force for a session (the default for an unknown one). */
uint32_t rum__lease_granted(const struct rum_lease_table *lt, uint32_t sender, uint64_t session);

/* True if the session is remembered as expired. */
bool rum__lease_is_expired(const struct rum_lease_table *lt, uint32_t sender, uint64_t session);

/* Expire every client session silent for longer than its lease at now_ms (see above).
 * Returns the number of sessions expired. */
unsigned rum__lease_tick(struct rum_lease_table *lt, uint64_t now_ms);

struct rum_lease_stats {
  uint64_t active;            /* sessions tracked now */
  uint64_t clients;           /* of those, not nodes */
  uint64_t remembered;        /* expired sessions remembered now */
  uint64_t expirations;       /* sessions expired so far */
  uint64_t reclaimed_regions; /* regions freed by expiry so far */
  uint64_t reclaimed_bytes;
  uint64_t rejected;          /* requests answered RUM_ELEASE */
};
void rum__lease_stats(const struct rum_lease_table *lt, struct rum_lease_stats *out);

#endif
