/* The memory node's request handlers: one rum_rpc_handler_fn that decodes each request
 * with the wire.h codecs, checks the sender's lease, runs it against the page store and
 * encodes the reply. Every malformed or refused request is answered with an ERROR
 * (a RUM_E* code and a text saying what was wrong); nothing a peer sends can crash it.
 *
 * READ replies are zero-copy when the transport allows: the reply's iov entries point
 * at the stored pages, and at one shared page of zeros for pages never written. The
 * RPC endpoint sends them before it runs the next request, so they stay valid.
 *
 * Thread safety: the RPC endpoint calls the handler with its I/O lock held, one request
 * at a time; everything else here must be called from the same thread as
 * rum__rpc_serve() (rumd's loop), never from inside the handler. */
#ifndef RUM_SERVER_HANDLERS_H
#define RUM_SERVER_HANDLERS_H

#include <stdint.h>

#include "net/rpc.h"
#include "proto/wire.h"
#include "server/lease.h"
#include "server/ownership.h"
#include "server/page_store.h"
#include "server/peers.h"
#include "server/replicated.h"

struct rum_server_config {
  uint32_t node_id;
  uint64_t incarnation;         /* changes with every start of the node */
  uint32_t mtu;                 /* frame size announced in HELLO replies */
  struct rum_page_store *store; /* borrowed; must outlive the server */
  struct rum_lease_table *leases; /* borrowed; must outlive the server */
  struct rum_peers *peers;      /* borrowed, may be NULL: node heartbeats feed it */
  uint64_t client_quota_bytes;  /* per client session on this node; 0 = none (quota.h) */
  /* Milliseconds on a monotonic clock; NULL = CLOCK_MONOTONIC. Tests pass their own. */
  uint64_t (*clock_ms)(void *ctx);
  void *clock_ctx;
};

/* Per request type, since the start. */
struct rum_server_stats {
  uint64_t requests[RUM_MSG_TYPE_MAX + 1];
  uint64_t errors[RUM_MSG_TYPE_MAX + 1];    /* ERROR replies sent */
  uint64_t bytes_in[RUM_MSG_TYPE_MAX + 1];  /* request payload bytes */
  uint64_t bytes_out[RUM_MSG_TYPE_MAX + 1]; /* reply payload bytes */
  uint64_t requests_total, errors_total;
  uint64_t lease_rejects;                   /* requests refused with RUM_ELEASE */
  uint64_t read_copies;                     /* READ replies that could not be zero-copy */
  struct rum_access_stats access;           /* refused by ownership.c and quota.c */
};

struct rum_server;

/* Returns 0 and *out, RUM_EINVAL (no store or leases) or RUM_ENOMEM. */
int rum__server_create(const struct rum_server_config *cfg, struct rum_server **out);
void rum__server_destroy(struct rum_server *server);

/* The rum_rpc_handler_fn: pass the server as handler_ctx. */
void rum__server_handle(void *ctx, const struct rum_rpc_request *req, struct rum_rpc_reply *reply);

/* Tell the server about its endpoint once created (the endpoint needs the handler
 * first). Used for the frame size, which decides whether READ replies can be zero-copy. */
void rum__server_attach_rpc(struct rum_server *server, struct rum_rpc *rpc);

/* Replicated page writes (replication > 1; replicated.h), borrowed; NULL = R = 1. */
void rum__server_attach_replicated(struct rum_server *server, struct rum_replicated *rr);

/* The handler runs under the endpoint's lock and so cannot ask rum__rpc_stats() itself:
 * the loop hands it a fresh copy after each rum__rpc_serve(), which STAT replies report. */
void rum__server_set_rpc_stats(struct rum_server *server, const struct rum_rpc_stats *stats);

void rum__server_stats(const struct rum_server *server, struct rum_server_stats *out);

/* Text name of a message type ("ALLOC"), "?" for unknown ones. */
const char *rum__server_type_name(unsigned type);

#endif
