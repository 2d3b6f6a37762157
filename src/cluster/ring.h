/* Consistent-hash ring with virtual nodes and weights.
 *
 * Each node gets weight * vnodes points on a 64-bit ring (xxHash3 of node id and
 * point index). A key belongs to the first point at or after its hash; its replica
 * set is that node and the next distinct nodes clockwise. Chunks of a region are
 * placed by rum__ring_chunk_key(region id, chunk index), so one region spreads over
 * many nodes; adding a node moves about 1/N of the keys. Immutable after build:
 * lookups are lock-free and safe in signal context. */
#ifndef RUM_CLUSTER_RING_H
#define RUM_CLUSTER_RING_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/machines.h"

/* 256 points per unit of weight: measured over 100 random 3-node id sets, 64 points
 * left the fullest node at up to 1.33x its fair share, 256 at 1.19x (1024: 1.07x). */
enum { RUM_RING_DEFAULT_VNODES = 256 };
/* Pages per chunk: page p of a region is in chunk p / RUM_RING_CHUNK_PAGES (the
 * client's RUM_CHUNK_PAGES; nodes need it to find a page's replica group). */
enum { RUM_RING_CHUNK_PAGES = 64 };

struct rum_ring;

/* Build the ring of m's nodes with vnodes points per unit of weight (0 = default).
 * Returns 0 and *out, RUM_EINVAL (no nodes), or RUM_ENOMEM. */
int rum__ring_build(const struct rum_machines *m, unsigned vnodes, struct rum_ring **out);
void rum__ring_destroy(struct rum_ring *r);

/* The node id owning key. */
uint32_t rum__ring_lookup(const struct rum_ring *r, uint64_t key);

/* Up to n distinct node ids for key, home first. Returns how many were written
 * (min(n, number of nodes)). */
unsigned rum__ring_replicas(const struct rum_ring *r, uint64_t key, unsigned n, uint32_t *ids);

/* The ring's points, for enumerating every replica set (groups.c): a key equal to
 * point i's hash belongs to point i. */
size_t rum__ring_npoints(const struct rum_ring *r);
uint64_t rum__ring_point_hash(const struct rum_ring *r, size_t i);

/* The ring key of a region's chunk, and of a name. */
uint64_t rum__ring_chunk_key(uint64_t region_id, uint64_t chunk_index);
uint64_t rum__ring_name_key(const char *name, size_t len);

#endif
