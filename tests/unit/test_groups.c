/* Replica groups: one per distinct replica set. Three nodes with R = 3 make one
 * group of all three; with five nodes every chunk's group holds its home and its
 * ring successors, groups have R distinct members, ids do not depend on the order of
 * the machines file, and R = 1 gives one group per node. Bad R is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "cluster/groups.h"
#include "cluster/ring.h"

static void make_nodes(struct rum_machines *m, unsigned n, bool reversed) {
  memset(m, 0, sizeof *m);
  for (unsigned i = 0; i < n; i++) {
    struct rum_node_info *node = &m->nodes[m->nnodes++];
    uint32_t id = reversed ? n - i : i + 1;
    node->id = id;
    snprintf(node->host, sizeof node->host, "127.0.0.1");
    node->ipv4 = 0x0100007f;
    node->port = (uint16_t)(26500 + id);
    node->weight = 1;
  }
}

static void test_three_nodes_one_group(void **state) {
  (void)state;
  struct rum_machines m;
  make_nodes(&m, 3, false);
  struct rum_ring *ring;
  struct rum_groups *g;
  assert_int_equal(rum__ring_build(&m, 0, &ring), 0);
  assert_int_equal(rum__groups_build(ring, 3, &g), 0);
  assert_int_equal(rum__groups_count(g), 1);
  const struct rum_group *only = rum__groups_at(g, 0);
  assert_int_equal(only->nmembers, 3);
  assert_int_equal(only->members[0], 1);
  assert_int_equal(only->members[2], 3);
  for (uint64_t c = 0; c < 100; c++) assert_ptr_equal(rum__groups_of_key(g, rum__ring_chunk_key(9, c)), only);
  assert_int_equal(rum__group_member_index(only, 2), 1);
  assert_int_equal(rum__group_member_index(only, 4), -1);
  rum__groups_destroy(g);
  assert_int_equal(rum__groups_build(ring, 4, &g), RUM_EINVAL);
  assert_int_equal(rum__groups_build(ring, 0, &g), RUM_EINVAL);
  assert_int_equal(rum__groups_build(ring, 1, &g), 0);
  assert_int_equal(rum__groups_count(g), 3);
  rum__groups_destroy(g);
  rum__ring_destroy(ring);
}

static void test_five_nodes_home_and_successors(void **state) {
  (void)state;
  struct rum_machines m, rev;
  make_nodes(&m, 5, false);
  make_nodes(&rev, 5, true);
  struct rum_ring *ring, *ring2;
  struct rum_groups *g, *g2;
  assert_int_equal(rum__ring_build(&m, 0, &ring), 0);
  assert_int_equal(rum__ring_build(&rev, 0, &ring2), 0);
  assert_int_equal(rum__groups_build(ring, 3, &g), 0);
  assert_int_equal(rum__groups_build(ring2, 3, &g2), 0);
  unsigned n = rum__groups_count(g);
  assert_true(n > 1 && n <= 10); /* at most C(5,3) sets of three */
  assert_int_equal(rum__groups_count(g2), n);
  unsigned in_groups[6] = {0};
  for (unsigned i = 0; i < n; i++) {
    const struct rum_group *grp = rum__groups_at(g, i);
    assert_int_equal(grp->nmembers, 3);
    assert_true(grp->members[0] < grp->members[1] && grp->members[1] < grp->members[2]);
    assert_int_equal(grp->id, rum__groups_at(g2, i)->id);
    for (unsigned k = 0; k < 3; k++) in_groups[grp->members[k]]++;
  }
  for (unsigned id = 1; id <= 5; id++) assert_true(in_groups[id] > 0);
  for (uint64_t c = 0; c < 2000; c++) {
    uint64_t key = rum__ring_chunk_key(c / 7 + 1, c % 7);
    uint32_t ids[3];
    assert_int_equal(rum__ring_replicas(ring, key, 3, ids), 3);
    const struct rum_group *grp = rum__groups_of_key(g, key);
    assert_non_null(grp);
    for (unsigned k = 0; k < 3; k++) assert_true(rum__group_member_index(grp, ids[k]) >= 0);
    assert_int_equal(grp->id, rum__groups_of_key(g2, key)->id);
  }
  rum__groups_destroy(g);
  rum__groups_destroy(g2);
  rum__ring_destroy(ring);
  rum__ring_destroy(ring2);
}

/* The redirect a non-leader answers with (groups.h), read back by the client. */
static void test_redirect_text(void **state) {
  (void)state;
  assert_int_equal(rum__group_redirect_leader("node 2 does not lead group 1f now" RUM_GROUP_REDIRECT_KEY "3"), 3);
  assert_int_equal(rum__group_redirect_leader("x" RUM_GROUP_REDIRECT_KEY "65535 more"), 65535);
  assert_int_equal(rum__group_redirect_leader("x" RUM_GROUP_REDIRECT_KEY "0"), 0);
  assert_int_equal(rum__group_redirect_leader("no such region"), 0);
  assert_int_equal(rum__group_redirect_leader(NULL), 0);
  assert_int_equal(rum__group_redirect_leader("x" RUM_GROUP_REDIRECT_KEY "99999999999"), 0); /* past u32 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_three_nodes_one_group),
      cmocka_unit_test(test_five_nodes_home_and_successors),
      cmocka_unit_test(test_redirect_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
