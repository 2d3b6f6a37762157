/* Consistent-hash ring: a sorted array of points, searched by bisection.
 *
 * Every process of the cluster must place a chunk on the same node, so everything that
 * decides placement is a pure function of the node list: point hashes are XXH3 of
 * little-endian (node id, point index), ties are broken by node id, and the order of
 * the lines in machines.csv does not matter. A node's points for weight w are a prefix
 * of its points for weight w + 1, so raising a weight only takes keys, never shuffles
 * them between other nodes.
 *
 * After rum__ring_build returns, the ring is never written again; lookups only read,
 * take no lock and allocate nothing, which is what lets the fault handler call them. */
#include "cluster/ring.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <rum/rum_errors.h>

#include "proto/le.h"

enum {
  RING_WEIGHT_MAX = 1000,       /* as machines.h allows */
  RING_MAX_POINTS = 1 << 22,    /* 64 MiB of points; more would only waste memory */
};

struct rum_ring_point {
  uint64_t hash;
  uint32_t node;    /* index into ids[] */
  uint32_t index;   /* the point's index within its node, for a total order */
};

struct rum_ring {
  unsigned nnodes;
  size_t npoints;
  uint32_t ids[RUM_MAX_NODES];
  struct rum_ring_point points[];
};

_Static_assert(RUM_MAX_NODES <= 64, "rum__ring_replicas keeps the nodes seen in a uint64_t");

static uint64_t point_hash(uint32_t node_id, uint32_t index) {
  uint8_t buf[8];
  rum__put_u32(buf, node_id);
  rum__put_u32(buf + 4, index);
  return XXH3_64bits(buf, sizeof buf);
}

static int point_cmp(const void *a, const void *b) {
  const struct rum_ring_point *x = a, *y = b;
  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  if (x->node != y->node) /* ids[] is sorted, so this orders by node id */
    return x->node < y->node ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

static int id_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : (x > y);
}

/* Node ids sorted, checked for duplicates, and the total number of points. */
static int plan(const struct rum_machines *m, unsigned vnodes, uint32_t ids[RUM_MAX_NODES],
                size_t *npoints) {
  size_t total = 0;
  if (m == NULL || m->nnodes == 0 || m->nnodes > RUM_MAX_NODES)
    return RUM_EINVAL;
  for (unsigned i = 0; i < m->nnodes; i++) {
    uint32_t w = m->nodes[i].weight;
    if (w < 1 || w > RING_WEIGHT_MAX)
      return RUM_EINVAL;
    if ((uint64_t)w * vnodes > RING_MAX_POINTS - total)
      return RUM_EINVAL;
    total += (size_t)w * vnodes;
    ids[i] = m->nodes[i].id;
  }
  qsort(ids, m->nnodes, sizeof ids[0], id_cmp);
  for (unsigned i = 1; i < m->nnodes; i++)
    if (ids[i] == ids[i - 1])
      return RUM_EINVAL; /* one node twice would own two shares and replicate to itself */
  *npoints = total;
  return 0;
}

int rum__ring_build(const struct rum_machines *m, unsigned vnodes, struct rum_ring **out) {
  uint32_t ids[RUM_MAX_NODES];
  size_t npoints;
  if (vnodes == 0)
    vnodes = RUM_RING_DEFAULT_VNODES;
  int rc = plan(m, vnodes, ids, &npoints);
  if (rc < 0)
    return rc;

  struct rum_ring *r = malloc(sizeof *r + npoints * sizeof r->points[0]);
  if (r == NULL)
    return RUM_ENOMEM;
  memset(r, 0, sizeof *r);
  r->nnodes = m->nnodes;
  r->npoints = npoints;
  memcpy(r->ids, ids, m->nnodes * sizeof ids[0]);

  size_t k = 0;
  for (unsigned n = 0; n < r->nnodes; n++) {
    const struct rum_node_info *node = rum__machines_find(m, r->ids[n]);
    uint32_t count = node->weight * vnodes;
    for (uint32_t i = 0; i < count; i++)
      r->points[k++] = (struct rum_ring_point){point_hash(node->id, i), n, i};
  }
  qsort(r->points, r->npoints, sizeof r->points[0], point_cmp);
  *out = r;
  return 0;
}

void rum__ring_destroy(struct rum_ring *r) { free(r); }

/* The first point whose hash is >= key, wrapping past the top of the ring to 0. */
static size_t successor(const struct rum_ring *r, uint64_t key) {
  size_t lo = 0, hi = r->npoints;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->points[mid].hash < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == r->npoints ? 0 : lo;
}

uint32_t rum__ring_lookup(const struct rum_ring *r, uint64_t key) {
  return r->ids[r->points[successor(r, key)].node];
}

unsigned rum__ring_replicas(const struct rum_ring *r, uint64_t key, unsigned n, uint32_t *ids) {
  unsigned want = n < r->nnodes ? n : r->nnodes;
  unsigned found = 0;
  uint64_t seen = 0;
  size_t p = successor(r, key);
  /* Every node has at least one point, so one lap of the ring finds them all. */
  for (size_t step = 0; step < r->npoints && found < want; step++) {
    uint32_t node = r->points[p].node;
    if ((seen & (UINT64_C(1) << node)) == 0) {
      seen |= UINT64_C(1) << node;
      ids[found++] = r->ids[node];
    }
    p = p + 1 == r->npoints ? 0 : p + 1;
  }
  return found;
}

size_t rum__ring_npoints(const struct rum_ring *r) { return r->npoints; }
uint64_t rum__ring_point_hash(const struct rum_ring *r, size_t i) { return r->points[i].hash; }

uint64_t rum__ring_chunk_key(uint64_t region_id, uint64_t chunk_index) {
  uint8_t buf[16];
  rum__put_u64(buf, region_id);
  rum__put_u64(buf + 8, chunk_index);
  return XXH3_64bits(buf, sizeof buf);
}

uint64_t rum__ring_name_key(const char *name, size_t len) { return XXH3_64bits(name, len); }
