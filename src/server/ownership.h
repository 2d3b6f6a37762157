/* Who may touch a region on this node, and the counters of what was refused.
 *
 * A leased region (plain rum_alloc) may be read, written, resized, discarded, copied
 * from or to, and freed only by the client session that allocated it: the request's
 * (sender id, session) must equal the region's owner. A named region may be used by
 * any client session that holds a lease here: its id is derived from its name, so the
 * name is what is shared (the ATTACH goes to the name's home node only, so other nodes
 * holding its chunks cannot tell who attached; any live session is the rule). With a
 * cluster key every frame is authenticated, so the session is one some key holder
 * opened; without a key anyone who can reach the port can claim any session.
 *
 * Every refusal is answered with an ERROR that names the region and the reason and is
 * counted: RUM_EPERM (another session's region), RUM_ENOENT (no such region, e.g. a
 * forged id), RUM_EINVAL (a page past the region's end), RUM_EPROTO (more pages than
 * one READ, WRITE or DISCARD may carry). Pure: no I/O, no clock; called from the
 * handlers' thread only. */
#ifndef RUM_SERVER_OWNERSHIP_H
#define RUM_SERVER_OWNERSHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/rpc.h"
#include "server/page_store.h"

struct rum_access_stats {
  uint64_t denied;       /* a leased region of another session (RUM_EPERM) */
  uint64_t no_region;    /* an id this node does not hold (RUM_ENOENT) */
  uint64_t out_of_range; /* a page index past the region's end (RUM_EINVAL) */
  uint64_t oversized;    /* READ/WRITE/DISCARD of more pages than the wire allows */
  uint64_t quota;        /* refused by --client-quota-mb (RUM_EDQUOT; quota.c counts) */
};

/* May req's session use region `id`? On success fills *info and returns true. Else
 * answers reply with the error, counts it in *st and returns false. what ("read",
 * "free", ...) goes into the error text. */
bool rum__ownership_check(const struct rum_page_store *store, struct rum_access_stats *st,
                          uint32_t node_id, const struct rum_rpc_request *req, uint64_t id,
                          const char *what, struct rum_region_info *info,
                          struct rum_rpc_reply *reply);

/* Are pages [first_page, first_page + npages) inside the region info describes? If not,
 * answers RUM_EINVAL, counts and returns false. */
bool rum__ownership_pages(struct rum_access_stats *st, const struct rum_region_info *info,
                          uint64_t first_page, uint64_t npages, struct rum_rpc_reply *reply);

/* The owner session as REGIONS lists it: the top 32 bits only. A listing is open to
 * anyone who can reach the node, and the full session is what ownership checks. */
uint64_t rum__ownership_listed_session(uint64_t session);

/* A request the codec refused: count it as oversized when it is a READ, WRITE or
 * DISCARD whose page (or range) count field is larger than the wire allows. */
void rum__ownership_malformed(struct rum_access_stats *st, const struct rum_rpc_request *req);

#endif
