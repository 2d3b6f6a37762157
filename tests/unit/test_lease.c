/* Leases: time is stepped by hand; regions live in a real page store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "server/lease.h"
#include "server/page_store.h"

struct fixture {
  struct rum_page_store *store;
  struct rum_lease_table *lt;
  unsigned forgotten;
  uint64_t last_forgotten;
};

static void on_forget(void *ctx, uint32_t sender, uint64_t session) {
  struct fixture *f = ctx;
  (void)sender;
  f->forgotten++;
  f->last_forgotten = session;
}

static struct fixture *fixture_new(unsigned max_sessions, unsigned max_expired) {
  static struct fixture f;
  memset(&f, 0, sizeof f);
  struct rum_page_store_config pc = {.memory_limit = 1 << 24};
  f.store = rum__page_store_create(&pc);
  assert_non_null(f.store);
  struct rum_lease_config lc = {.lease_ms = 1000, .max_sessions = max_sessions,
                                .max_expired = max_expired, .store = f.store,
                                .forget = on_forget, .forget_ctx = &f};
  assert_int_equal(rum__lease_create(&lc, &f.lt), 0);
  return &f;
}

static void fixture_free(struct fixture *f) {
  rum__lease_destroy(f->lt);
  rum__page_store_destroy(f->store);
}

static void give_region(struct fixture *f, uint64_t id, uint32_t sender, uint64_t session,
                        const char *name) {
  uint8_t page[RUM_STORE_PAGE_SIZE];
  memset(page, 0xab, sizeof page);
  struct rum_store_alloc a = {.id = id, .size = 4 * RUM_STORE_PAGE_SIZE, .owner_id = sender,
                              .owner_session = session};
  if (name != NULL) {
    a.flags = RUM_STORE_F_NAMED;
    a.name = name;
    a.name_len = strlen(name);
  }
  assert_int_equal(rum__page_store_alloc(f->store, &a), 0);
  uint64_t idx = 1;
  assert_int_equal(rum__page_store_write(f->store, id, 1, &idx, page), 0);
}

static bool region_exists(struct fixture *f, uint64_t id) {
  struct rum_region_info info;
  return rum__page_store_lookup(f->store, id, &info) == 0;
}

static void test_silent_client_is_reclaimed(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  /* Client A (id 5, session 50) and client B (id 6, session 60) both hold regions. */
  assert_int_equal(rum__lease_touch(f->lt, 5, 50, 10000), 0);
  assert_int_equal(rum__lease_touch(f->lt, 6, 60, 10000), 0);
  give_region(f, 1, 5, 50, NULL);
  give_region(f, 2, 5, 50, NULL);
  give_region(f, 3, 5, 50, "a.named");
  give_region(f, 4, 6, 60, NULL);
  /* B keeps talking, A goes silent. Exactly lease_ms of silence is still fine. */
  for (uint64_t t = 10000; t <= 11000; t += 250) {
    assert_int_equal(rum__lease_touch(f->lt, 6, 60, t), 0);
    assert_int_equal(rum__lease_tick(f->lt, t), 0);
  }
  assert_true(region_exists(f, 1));
  assert_int_equal(rum__lease_touch(f->lt, 6, 60, 11001), 0);
  assert_int_equal(rum__lease_tick(f->lt, 11001), 1);
  /* A's plain regions are gone, its named one and B's stay. */
  assert_false(region_exists(f, 1));
  assert_false(region_exists(f, 2));
  assert_true(region_exists(f, 3));
  assert_true(region_exists(f, 4));
  assert_int_equal(f->forgotten, 1);
  assert_int_equal(f->last_forgotten, 50);
  struct rum_lease_stats st;
  rum__lease_stats(f->lt, &st);
  assert_int_equal(st.expirations, 1);
  assert_int_equal(st.reclaimed_regions, 2);
  assert_int_equal(st.reclaimed_bytes, 2 * RUM_STORE_PAGE_SIZE);
  assert_int_equal(st.active, 1);
  assert_int_equal(st.remembered, 1);
  /* A comes back: a clear error, every time, and its lease is not renewed. */
  assert_int_equal(rum__lease_touch(f->lt, 5, 50, 11002), RUM_ELEASE);
  assert_int_equal(rum__lease_touch(f->lt, 5, 50, 11003), RUM_ELEASE);
  assert_int_equal(rum__lease_hello(f->lt, 5, 50, false, 0, 11004, NULL), RUM_ELEASE);
  assert_true(rum__lease_is_expired(f->lt, 5, 50));
  rum__lease_stats(f->lt, &st);
  assert_int_equal(st.rejected, 3);
  assert_int_equal(st.active, 1);
  /* The same client id with a new session (a restarted process) is welcome. */
  assert_int_equal(rum__lease_touch(f->lt, 5, 51, 11005), 0);
  /* Ticking on does not expire it again or touch B while B talks. */
  assert_int_equal(rum__lease_tick(f->lt, 11500), 0);
  fixture_free(f);
}

static void test_session_without_regions_is_forgotten(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  assert_int_equal(rum__lease_touch(f->lt, 7, 70, 0), 0);
  give_region(f, 9, 7, 70, "only.named");
  assert_int_equal(rum__lease_tick(f->lt, 5000), 1);
  assert_int_equal(f->forgotten, 1);
  /* It lost nothing, so it is not remembered: it starts a fresh lease. */
  assert_false(rum__lease_is_expired(f->lt, 7, 70));
  assert_int_equal(rum__lease_touch(f->lt, 7, 70, 5001), 0);
  assert_true(region_exists(f, 9));
  fixture_free(f);
}

static void test_nodes_never_expire(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  uint32_t granted = 0;
  assert_int_equal(rum__lease_hello(f->lt, 2, 20, true, 0, 0, &granted), 0);
  assert_int_equal(granted, 1000);
  assert_int_equal(rum__lease_touch(f->lt, 3, 30, 0), 0);
  assert_int_equal(rum__lease_tick(f->lt, 1000000), 1); /* the client only */
  assert_int_equal(rum__lease_touch(f->lt, 2, 20, 1000001), 0);
  struct rum_lease_stats st;
  rum__lease_stats(f->lt, &st);
  assert_int_equal(st.active, 1);
  assert_int_equal(st.clients, 0);
  fixture_free(f);
}

static void test_requested_lease(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  uint32_t granted = 0;
  assert_int_equal(rum__lease_hello(f->lt, 1, 10, false, 3000, 0, &granted), 0);
  assert_int_equal(granted, 3000);
  assert_int_equal(rum__lease_granted(f->lt, 1, 10), 3000);
  assert_int_equal(rum__lease_hello(f->lt, 2, 20, false, 1, 0, &granted), 0);
  assert_int_equal(granted, RUM_LEASE_MIN_MS);
  assert_int_equal(rum__lease_hello(f->lt, 3, 30, false, UINT32_MAX, 0, &granted), 0);
  assert_int_equal(granted, RUM_LEASE_MAX_MS);
  assert_int_equal(rum__lease_granted(f->lt, 9, 90), 1000); /* unknown: the default */
  give_region(f, 1, 1, 10, NULL);
  give_region(f, 2, 2, 20, NULL);
  assert_int_equal(rum__lease_tick(f->lt, 101), 1); /* 2/20's 100 ms lease ran out */
  assert_false(region_exists(f, 2));
  assert_int_equal(rum__lease_tick(f->lt, 2999), 0);
  assert_true(region_exists(f, 1));
  assert_int_equal(rum__lease_tick(f->lt, 3001), 1);
  assert_false(region_exists(f, 1));
  fixture_free(f);
}

static void test_clock_going_back_is_harmless(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  assert_int_equal(rum__lease_touch(f->lt, 1, 10, 5000), 0);
  give_region(f, 1, 1, 10, NULL);
  assert_int_equal(rum__lease_touch(f->lt, 1, 10, 4000), 0); /* older time: ignored */
  assert_int_equal(rum__lease_tick(f->lt, 100), 0);           /* no underflow */
  assert_int_equal(rum__lease_tick(f->lt, 5900), 0);
  assert_true(region_exists(f, 1));
  assert_int_equal(rum__lease_tick(f->lt, 6001), 1);
  fixture_free(f);
}

static void test_tables_are_bounded(void **state) {
  (void)state;
  struct fixture *f = fixture_new(4, 3);
  for (uint64_t s = 1; s <= 4; s++) assert_int_equal(rum__lease_touch(f->lt, 1, s, 0), 0);
  assert_int_equal(rum__lease_touch(f->lt, 1, 5, 0), RUM_EAGAIN);
  /* Known sessions still renew when the table is full. */
  assert_int_equal(rum__lease_touch(f->lt, 1, 4, 10), 0);
  for (uint64_t s = 1; s <= 4; s++) give_region(f, s, 1, s, NULL);
  assert_int_equal(rum__lease_tick(f->lt, 1005), 3); /* 1..3; session 4 was heard at 10 */
  assert_int_equal(rum__lease_tick(f->lt, 1011), 1);
  /* Four expired, three remembered: the oldest expiry is forgotten first. */
  struct rum_lease_stats st;
  rum__lease_stats(f->lt, &st);
  assert_int_equal(st.remembered, 3);
  unsigned remembered = 0;
  for (uint64_t s = 1; s <= 4; s++) remembered += rum__lease_is_expired(f->lt, 1, s);
  assert_int_equal(remembered, 3);
  assert_true(rum__lease_is_expired(f->lt, 1, 4)); /* the newest is kept */
  /* Room again for new sessions. */
  for (uint64_t s = 10; s < 14; s++) assert_int_equal(rum__lease_touch(f->lt, 1, s, 2000), 0);
  assert_int_equal(rum__lease_touch(f->lt, 1, 14, 2000), RUM_EAGAIN);
  fixture_free(f);
}

static void test_many_sessions(void **state) {
  (void)state;
  struct fixture *f = fixture_new(0, 0);
  /* 2000 clients; the even ones stop talking at t=0, the odd ones keep on. */
  for (uint32_t c = 0; c < 2000; c++) {
    assert_int_equal(rum__lease_touch(f->lt, c, 1000 + c, 0), 0);
    give_region(f, c + 1, c, 1000 + c, NULL);
  }
  for (uint64_t t = 500; t <= 3000; t += 500) {
    for (uint32_t c = 1; c < 2000; c += 2) assert_int_equal(rum__lease_touch(f->lt, c, 1000 + c, t), 0);
    rum__lease_tick(f->lt, t);
  }
  for (uint32_t c = 0; c < 2000; c++) {
    assert_int_equal(region_exists(f, c + 1), c % 2 == 1);
    assert_int_equal(rum__lease_touch(f->lt, c, 1000 + c, 3001), c % 2 ? 0 : RUM_ELEASE);
  }
  assert_int_equal(f->forgotten, 1000);
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_silent_client_is_reclaimed),
      cmocka_unit_test(test_session_without_regions_is_forgotten),
      cmocka_unit_test(test_nodes_never_expire),
      cmocka_unit_test(test_requested_lease),
      cmocka_unit_test(test_clock_going_back_is_harmless),
      cmocka_unit_test(test_tables_are_bounded),
      cmocka_unit_test(test_many_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
