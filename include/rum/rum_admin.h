/* RUM administration: ask memory nodes about themselves. Used by rumctl; needs no
 * rum_init() and holds no regions, so it works beside (or without) a running program.
 *
 * Thread safety: one struct rum_admin per thread. Errors: negative RUM_E* codes. */
#ifndef RUM_RUM_ADMIN_H
#define RUM_RUM_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include <rum/rum_errors.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { RUM_ADMIN_MAX_PEERS = 64, RUM_ADMIN_REQUEST_TYPES = 16 };

struct rum_node_status {
  uint32_t id;
  char host[64];
  uint16_t port;
  uint64_t incarnation;
  uint64_t uptime_ms;
  uint64_t memory_limit, memory_used;   /* bytes */
  uint64_t regions, named_regions, clients;
  uint64_t requests[RUM_ADMIN_REQUEST_TYPES]; /* by message type; rum_admin_request_name() */
  uint64_t bytes_in, bytes_out;
  uint64_t retransmits;  /* duplicate requests received (peers' retransmissions) */
  uint64_t drops, auth_drops, reclaims, errors;
  /* Requests refused by the node's access control: another session's region, an unknown
   * region id, a page past a region's end, more pages than one message may carry, the
   * client's memory quota (rumd --client-quota-mb). */
  uint64_t access_denied, no_region, out_of_range, oversized, quota_denied;
  uint32_t npeers;
  struct {
    uint32_t id;
    uint32_t up;
    uint64_t last_heard_ms; /* UINT64_MAX if never heard */
  } peers[RUM_ADMIN_MAX_PEERS];
};

struct rum_region_info {
  uint64_t region_id;
  uint64_t size;
  uint64_t bytes_stored;  /* bytes of pages this node holds for it */
  uint64_t owner_session; /* top 32 bits of the owner session (the rest withheld); 0 for named regions */
  uint32_t owner_id;
  int named;
  int pinned;
  char name[256];
};

struct rum_admin;

/* Read machines_csv (NULL: $RUM_MACHINES, then ./machines.csv) and open an endpoint.
 * On RUM_ECONFIG, err (if not NULL) receives the parser's message. */
RUM_API int rum_admin_open(const char *machines_csv, struct rum_admin **out, char *err, size_t errlen);
RUM_API void rum_admin_close(struct rum_admin *a);

/* Nodes listed in the file: count, and the id at index i (0-based). */
RUM_API int rum_admin_node_count(const struct rum_admin *a);
RUM_API int rum_admin_node_id(const struct rum_admin *a, int index, uint32_t *id);
/* host and port of node id as written in the file. */
RUM_API int rum_admin_node_address(const struct rum_admin *a, uint32_t id, char *host, size_t hostlen,
                           uint16_t *port);

/* STAT one node, waiting at most timeout_ms. Returns 0, RUM_ENOENT (no such node in
 * the file), RUM_ETIMEDOUT (unreachable) or another RUM_E* code. */
RUM_API int rum_admin_stat(struct rum_admin *a, uint32_t node_id, int timeout_ms, struct rum_node_status *out);

/* List the regions node_id holds (named only if named_only), up to max entries into
 * out; *total receives how many the node has. Returns the count written or RUM_E*. */
RUM_API int rum_admin_regions(struct rum_admin *a, uint32_t node_id, int named_only, int timeout_ms,
                      struct rum_region_info *out, size_t max, size_t *total);

/* Name of a message type index of rum_node_status.requests ("read", "write", ...),
 * NULL for unused indexes. */
RUM_API const char *rum_admin_request_name(int type);

#ifdef __cplusplus
}
#endif
#endif
