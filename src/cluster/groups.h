/* Replica groups: which nodes keep copies of which chunks, and so which Paxos log
 * orders their writes.
 *
 * A chunk's replica set is its home and the next R - 1 distinct nodes clockwise on
 * the ring (ring.h). Every distinct set of R nodes that some chunk maps to is one
 * group, with one Multi-Paxos log (src/paxos) shared by all the chunks that map to
 * it: a write batch costs one round trip however many chunks of the group it
 * touches, the number of logs a node runs is bounded by the ring's points (a few per
 * node in practice: 1 group for 3 nodes with R = 3, at most N*(N-1)*(N-2)/6 sets of 3
 * for N nodes), and a group's members agree on which regions and pages it holds
 * because its region metadata goes through the same log. The members are listed in
 * ascending id order; the group id is a hash of them, the same in every process.
 * Immutable after build, like the ring. */
#ifndef RUM_CLUSTER_GROUPS_H
#define RUM_CLUSTER_GROUPS_H

#include <stdint.h>

#include "cluster/ring.h"

enum { RUM_GROUP_MAX_MEMBERS = 7 }; /* = RUM_PAXOS_MAX_REPLICAS */

struct rum_group {
  uint64_t id;
  unsigned nmembers;
  uint32_t members[RUM_GROUP_MAX_MEMBERS]; /* node ids, ascending */
};

struct rum_groups;

/* Every group of ring (built from m's nodes) for replication r. Returns 0 and *out,
 * RUM_EINVAL (r is 0, above RUM_GROUP_MAX_MEMBERS or above the number of nodes), or
 * RUM_ENOMEM. */
int rum__groups_build(const struct rum_ring *ring, unsigned r, struct rum_groups **out);
void rum__groups_destroy(struct rum_groups *g);

unsigned rum__groups_count(const struct rum_groups *g);
const struct rum_group *rum__groups_at(const struct rum_groups *g, unsigned i);

/* The group of a ring key (rum__ring_chunk_key), never NULL. */
const struct rum_group *rum__groups_of_key(const struct rum_groups *g, uint64_t key);

/* The member index of node_id in group, or -1. */
int rum__group_member_index(const struct rum_group *group, uint32_t node_id);

/* Redirects: a node asked for a group it does not lead answers RUM_ENOTLEADER with
 * an error text ending in RUM_GROUP_REDIRECT_KEY and the id of the node it takes for
 * the leader (0: it knows none). rum__group_redirect_leader reads that id back from an
 * error text, 0 when there is none. */
#define RUM_GROUP_REDIRECT_KEY "; leader=node "
uint32_t rum__group_redirect_leader(const char *errtext);

/* The index of group (one of g's) in 0..count-1. */
unsigned rum__groups_index(const struct rum_groups *g, const struct rum_group *group);

#endif
