/* Per-client memory quotas on a node (rumd --client-quota-mb).
 *
 * A client session may commit at most quota_bytes on this node: the bytes of the
 * regions it allocated here (leased or named), counted as the memory limit counts
 * them, stored pages plus unfilled reservations. An ALLOC or RESIZE that would take
 * it past the quota, and a WRITE or COPY that would store pages past the region's
 * reservation beyond it, are answered RUM_EDQUOT (the client library reports ENOMEM)
 * and change nothing; other sessions are not affected. A quota of 0 means none.
 *
 * Usage is summed over the store's regions when a request could grow it (ALLOC,
 * RESIZE up, or a write past a reservation; O(regions)), not on every request. Pure;
 * called from the handlers' thread only. */
#ifndef RUM_SERVER_QUOTA_H
#define RUM_SERVER_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "net/rpc.h"
#include "server/ownership.h"
#include "server/page_store.h"

struct rum_quota {
  uint64_t bytes;   /* per client session; 0 = no quota */
  uint32_t node_id; /* for error texts */
};

/* May req's session make one region commit `after` bytes? info describes the region
 * as it is (NULL for a new one). Shrinking is always allowed, and so is growing a named
 * region another session created (it counts against its creator). On refusal answers
 * RUM_EDQUOT, counts st->quota and returns false. */
bool rum__quota_allows(const struct rum_quota *q, const struct rum_page_store *store,
                       struct rum_access_stats *st, const struct rum_rpc_request *req,
                       const struct rum_region_info *info, uint64_t after,
                       struct rum_rpc_reply *reply);

/* Bytes a region described by info commits now: max(stored, reserved). */
uint64_t rum__quota_region_bytes(const struct rum_region_info *info);

/* The reservation ALLOC or RESIZE asks for, as the store will round it. */
uint64_t rum__quota_reserve_bytes(uint64_t reserve, uint64_t size);

/* A WRITE of npages pages at index[] into the region info describes: allowed unless
 * the pages it adds (absent ones) take the region past its reservation and its owner
 * past the quota. */
bool rum__quota_allows_write(const struct rum_quota *q, const struct rum_page_store *store,
                             struct rum_access_stats *st, const struct rum_rpc_request *req,
                             const struct rum_region_info *info, uint32_t npages,
                             const uint64_t *index, struct rum_rpc_reply *reply);

#endif
