/* The node failure detector's table: up while heard from within the window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/peers.h"

static void machines3(struct rum_machines *m) {
  memset(m, 0, sizeof *m);
  m->nnodes = 3;
  for (unsigned i = 0; i < 3; i++) {
    m->nodes[i].id = i + 1;
    m->nodes[i].ipv4 = 0x0100007f;
    m->nodes[i].port = (uint16_t)(7000 + i);
    m->nodes[i].weight = 1;
  }
}

static void test_up_down(void **state) {
  (void)state;
  struct rum_machines m;
  machines3(&m);
  struct rum_peers *p;
  assert_int_equal(rum__peers_create(&m, 2, 100, &p), 0);
  assert_false(rum__peers_up(p, 1, 1000)); /* never heard */
  rum__peers_heard(p, 1, 1000);
  rum__peers_heard(p, 2, 1000); /* self: not a peer, ignored */
  assert_true(rum__peers_up(p, 1, 1000));
  assert_true(rum__peers_up(p, 1, 1000 + RUM_PEERS_DOWN_AFTER * 100));
  assert_false(rum__peers_up(p, 1, 1001 + RUM_PEERS_DOWN_AFTER * 100));
  assert_false(rum__peers_up(p, 2, 1000));
  assert_false(rum__peers_up(p, 3, 1000));
  struct rum_msg_stat_resp r;
  memset(&r, 0, sizeof r);
  assert_int_equal(rum__peers_report(p, 1050, &r), 2);
  assert_int_equal(r.peers[0].node_id, 1);
  assert_int_equal(r.peers[0].up, 1);
  assert_int_equal(r.peers[0].last_heard_ms, 50);
  assert_int_equal(r.peers[1].node_id, 3);
  assert_int_equal(r.peers[1].up, 0);
  assert_true(r.peers[1].last_heard_ms == UINT64_MAX);
  /* An older report of a peer does not move its time back. */
  rum__peers_heard(p, 1, 900);
  assert_true(rum__peers_up(p, 1, 1000 + RUM_PEERS_DOWN_AFTER * 100));
  rum__peers_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_up_down)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
