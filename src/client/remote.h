/* The client's network side: the memory nodes as the client sees them, one RPC
 * endpoint, the ring, and the struct rum_remote_ops built on them (fetch.c: page
 * reads and writes, signal safe; remote_regions.c: region life cycle; heartbeat_client.c:
 * leases). */
#ifndef RUM_CLIENT_REMOTE_H
#define RUM_CLIENT_REMOTE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"
#include "cluster/groups.h"
#include "cluster/machines.h"
#include "cluster/ring.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "util/ticker.h"

enum {
  RUM_NET_STAGING = 8, /* write-back staging buffers (a WRITE batch each) */
  RUM_NET_MAX_CALLS = RUM_WIRE_MAX_PAGES,
  RUM_NET_FETCH_OPS = 16, /* page reads in flight without a waiting thread */
  RUM_NET_READ_PIECES = RUM_WIRE_MAX_PAGES / RUM_CHUNK_PAGES + 1,
  RUM_NET_READ_REQ_BYTES = 32,
  /* replication > 1: a READ or WRITE not answered in this long goes to the chunk's
   * next replica; one refused or unanswered keeps being re-routed this long in all. */
  RUM_NET_REPL_CALL_MS = 700,
  RUM_NET_REPL_RETRY_MS = 15000,
};

/* One page read of up to RUM_WIRE_MAX_PAGES: a READ per run of chunks on one node, all
 * in flight at once. The asynchronous ones (read-ahead) live in a preallocated pool. */
struct rum_fetch_op {
  _Atomic bool busy;  /* pool entry taken */
  uint64_t region_id, first;
  struct rum_region *region; /* for a synchronous retry (replication > 1) */
  uint8_t *dst;
  uint32_t npages;
  unsigned n;         /* READs */
  uint32_t homes[RUM_NET_READ_PIECES], counts[RUM_NET_READ_PIECES];
  uint64_t starts[RUM_NET_READ_PIECES];
  uint8_t req[RUM_NET_READ_PIECES][RUM_NET_READ_REQ_BYTES];
  uint8_t fixed[RUM_NET_READ_PIECES][RUM_WIRE_READ_RESP_FIXED];
  struct rum_rpc_call calls[RUM_NET_READ_PIECES];
  struct rum_rpc_batch batch;
};

struct rum_net_node {
  uint32_t id;
  struct rum_peer_addr addr;
  bool up;                  /* answered HELLO */
  uint32_t lease_ms;        /* granted */
  uint64_t incarnation;     /* from HELLO; a change means the node restarted */
  _Atomic uint64_t nregions; /* this client's regions with a chunk here */
  _Atomic int lease_lost;
};

/* A write-back staging area: page bytes gathered contiguously per WRITE, the fixed
 * parts, and the call array (too big for a signal handler's stack). */
struct rum_net_staging {
  uint8_t data[RUM_WIRE_MAX_PAGES * RUM_PAGE_SIZE];
  uint8_t fixed[RUM_NET_MAX_CALLS][12 + 8 * RUM_WIRE_MAX_PAGES];
  struct rum_rpc_call calls[RUM_NET_MAX_CALLS];
};

struct rum_net {
  struct rum_machines machines;
  struct rum_ring *ring;
  /* replication > 1 (else NULL): the replica groups, and per group the node this
   * client takes for its leader (0: none yet; its first member is tried). */
  struct rum_groups *groups;
  _Atomic uint32_t *leader_hint;
  struct rum_transport *transport;
  struct rum_rpc *rpc;
  struct rum_wire_key key;
  bool has_key;
  uint32_t self_id;
  uint64_t session;
  struct rum_net_node nodes[RUM_MAX_NODES];
  unsigned nnodes;
  uint8_t index_of[RUM_NODE_ID_MAX + 1]; /* node id -> index + 1 */
  struct rum_net_staging *staging;       /* RUM_NET_STAGING, mmap'ed */
  _Atomic bool staging_busy[RUM_NET_STAGING];
  struct rum_fetch_op *fetch_ops;        /* RUM_NET_FETCH_OPS, mmap'ed */
  struct rum_client *client;             /* for marking regions lost */
  /* Heartbeats. */
  struct rum_ticker heartbeat;
  uint32_t heartbeat_ms;
};

/* Open: load machines (path, NULL = $RUM_MACHINES, then ./machines.csv), key, open the
 * transport, create the endpoint, HELLO every node (RUM_ETIMEDOUT when none answers),
 * build the ring. Returns 0 and *out or RUM_E* with a logged reason. */
int rum__net_open(const char *machines_path, struct rum_net **out);
void rum__net_close(struct rum_net *net);

/* The remote ops over net (ctx = net). */
extern const struct rum_remote_ops rum__net_remote_ops;

/* Home node id of a region's chunk. Lock-free, signal safe. */
uint32_t rum__net_chunk_home(const struct rum_net *net, const struct rum_region *r, uint64_t chunk);
/* Every node keeping a copy of a region's chunk (its group's members with
 * replication > 1, else the home), into ids[RUM_GROUP_MAX_MEMBERS]; returns how many. */
unsigned rum__net_chunk_replicas(const struct rum_net *net, const struct rum_region *r, uint64_t chunk, uint32_t *ids);
/* The node entry for an id, or NULL. */
struct rum_net_node *rum__net_node(struct rum_net *net, uint32_t id);
/* Whether r has a chunk homed on node (or the node is its name's home). */
bool rum__net_region_homes(void *net, const struct rum_region *r, uint32_t node);

/* DISCARD page ranges of r on their homes (remote_discard.c; struct rum_remote_ops). */
int rum__net_region_discard(void *ctx, struct rum_region *r, const struct rum_page_range *ranges, unsigned n);

/* Page I/O (fetch.c): the rum_store_ops half of the remote. */
int rum__net_fetch(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages, uint8_t *dst,
                   struct rum_store_error *err);
int rum__net_store(void *ctx, const struct rum_page_io *pages, unsigned n, struct rum_store_error *err);
/* The asynchronous read (struct rum_store_ops fetch_start / fetch_finish). */
struct rum_fetch_op *rum__net_fetch_start(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages,
                                          uint8_t *dst);
int rum__net_fetch_finish(void *ctx, struct rum_fetch_op *op, bool wait, struct rum_store_error *err);
/* Every piece as one READ, all in one rum__rpc_call (rum_store_ops.fetchv). */
int rum__net_fetchv(void *ctx, struct rum_fetch_piece *pieces, unsigned n, struct rum_store_error *err);
/* Read / write pages of one region on one node, normal context (copy path). */
int rum__net_read_node(struct rum_net *net, uint32_t node, uint64_t region, uint64_t first, uint32_t npages,
                       uint8_t *dst);
int rum__net_write_node(struct rum_net *net, uint32_t node, uint64_t region, uint64_t first, uint32_t npages,
                        const uint8_t *src);
void rum__net_stats(void *ctx, struct rum_stats *out);

/* Heartbeats (heartbeat_client.c). */
int rum__net_heartbeat_start(struct rum_net *net);
void rum__net_heartbeat_stop(struct rum_net *net);
/* One round now: HEARTBEAT every node holding regions of ours. Returns the number of
 * nodes whose lease was found expired. */
int rum__net_heartbeat_round(struct rum_net *net);

#endif
