/* Replica groups (groups.h): the distinct replica sets the ring's points yield, sorted
 * by id so that a key's group is found by bisection. */
#include "cluster/groups.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <rum/rum_errors.h>

#include "proto/le.h"

struct rum_groups {
  const struct rum_ring *ring;
  unsigned r;
  unsigned ngroups;
  struct rum_group groups[];
};

static int u32_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int group_cmp(const void *a, const void *b) {
  const struct rum_group *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

/* The replica set of key as a group: members sorted, id hashed from them. */
static void group_of(const struct rum_ring *ring, unsigned r, uint64_t key, struct rum_group *out) {
  memset(out, 0, sizeof *out);
  out->nmembers = rum__ring_replicas(ring, key, r, out->members);
  qsort(out->members, out->nmembers, sizeof out->members[0], u32_cmp);
  uint8_t buf[4 * RUM_GROUP_MAX_MEMBERS];
  for (unsigned i = 0; i < out->nmembers; i++) rum__put_u32(buf + 4 * i, out->members[i]);
  out->id = XXH3_64bits(buf, 4 * out->nmembers);
}

int rum__groups_build(const struct rum_ring *ring, unsigned r, struct rum_groups **out) {
  size_t npoints = rum__ring_npoints(ring);
  uint32_t probe[RUM_GROUP_MAX_MEMBERS];
  if (r == 0 || r > RUM_GROUP_MAX_MEMBERS || rum__ring_replicas(ring, 0, r, probe) < r) return RUM_EINVAL;
  struct rum_groups *g = malloc(sizeof *g + npoints * sizeof g->groups[0]);
  if (g == NULL) return RUM_ENOMEM;
  g->ring = ring;
  g->r = r;
  for (size_t i = 0; i < npoints; i++) group_of(ring, r, rum__ring_point_hash(ring, i), &g->groups[i]);
  qsort(g->groups, npoints, sizeof g->groups[0], group_cmp);
  unsigned n = 0;
  for (size_t i = 0; i < npoints; i++)
    if (n == 0 || g->groups[n - 1].id != g->groups[i].id) g->groups[n++] = g->groups[i];
  g->ngroups = n;
  *out = g;
  return 0;
}

void rum__groups_destroy(struct rum_groups *g) { free(g); }

unsigned rum__groups_count(const struct rum_groups *g) { return g->ngroups; }

const struct rum_group *rum__groups_at(const struct rum_groups *g, unsigned i) {
  return i < g->ngroups ? &g->groups[i] : NULL;
}

const struct rum_group *rum__groups_of_key(const struct rum_groups *g, uint64_t key) {
  struct rum_group want;
  group_of(g->ring, g->r, key, &want);
  const struct rum_group *hit = bsearch(&want, g->groups, g->ngroups, sizeof want, group_cmp);
  /* Every key belongs to some point, whose set was enumerated: hit is never NULL. */
  return hit;
}

int rum__group_member_index(const struct rum_group *group, uint32_t node_id) {
  for (unsigned i = 0; i < group->nmembers; i++)
    if (group->members[i] == node_id) return (int)i;
  return -1;
}

uint32_t rum__group_redirect_leader(const char *errtext) {
  const char *at = errtext != NULL ? strstr(errtext, RUM_GROUP_REDIRECT_KEY) : NULL;
  if (at == NULL) return 0;
  uint64_t v = 0; /* by hand: the client reads it in its fault handler */
  for (const char *c = at + strlen(RUM_GROUP_REDIRECT_KEY); *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++)
    v = v * 10 + (uint64_t)(*c - '0');
  return v <= UINT32_MAX ? (uint32_t)v : 0;
}

unsigned rum__groups_index(const struct rum_groups *g, const struct rum_group *group) {
  return (unsigned)(group - g->groups);
}
