/* The region table: carving aligned ranges, O(1) lookup of any address to its region,
 * release and reuse of ranges and slots, exhaustion. The arena here is a made-up
 * address range: the table never touches the memory it maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include <rum/rum_errors.h>

#include "client/region_table.h"

#define FAKE_BASE ((uint8_t *)(uintptr_t)0x200000000000ull)

static struct rum_region_table t;

static int setup(void **state) {
  (void)state;
  return rum__region_table_init(&t, FAKE_BASE, 1ull << 30); /* 1 GiB = 16384 granules */
}

static int teardown(void **state) {
  (void)state;
  rum__region_table_uninit(&t);
  return 0;
}

static void test_carve_aligned_and_lookup(void **state) {
  (void)state;
  struct rum_region *a, *b;
  assert_int_equal(rum__region_table_carve(&t, 1, 1, &a), 0);
  assert_int_equal(rum__region_table_carve(&t, 100, 300, &b), 0);
  assert_int_equal((uintptr_t)a->base % RUM_GRANULE, 0);
  assert_int_equal((uintptr_t)b->base % RUM_GRANULE, 0);
  assert_int_equal(a->reserved_pages, RUM_GRANULE / RUM_PAGE_SIZE); /* rounded up to a granule */
  assert_int_equal(b->reserved_pages, 304);
  assert_int_equal(atomic_load(&b->npages), 100);
  assert_true(b->base >= a->base + RUM_GRANULE);
  assert_ptr_equal(rum__region_table_lookup(&t, a->base), a);
  assert_ptr_equal(rum__region_table_lookup(&t, a->base + RUM_GRANULE - 1), a);
  assert_ptr_equal(rum__region_table_lookup(&t, b->base + 150 * RUM_PAGE_SIZE), b); /* in the room */
  assert_ptr_equal(rum__region_table_lookup(&t, b->base + 304 * RUM_PAGE_SIZE - 1), b);
  assert_null(rum__region_table_lookup(&t, b->base + 304 * RUM_PAGE_SIZE));
  assert_null(rum__region_table_lookup(&t, FAKE_BASE - 1));
  assert_null(rum__region_table_lookup(&t, FAKE_BASE + (1ull << 30)));
  assert_null(rum__region_table_lookup(&t, NULL));
  assert_int_equal(atomic_load(&t.nregions), 2);
  /* Page states start ABSENT and not stored; the state array covers the room. */
  assert_int_equal(rum__page_load(b, 303), RUM_PAGE_ABSENT);
  assert_true(rum__page_cas(b, 303, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL));
  assert_false(rum__page_cas(b, 303, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL));
  rum__page_set(b, 303, RUM_PAGE_CLEAN, true);
  assert_int_equal(rum__page_load(b, 303), RUM_PAGE_CLEAN | RUM_PAGE_STORED);
  assert_true(rum__page_cas(b, 303, RUM_PAGE_CLEAN, RUM_PAGE_DIRTY, NULL)); /* flags kept */
  assert_int_equal(rum__page_load(b, 303), RUM_PAGE_DIRTY | RUM_PAGE_STORED);
}

static void test_release_reuses_range_and_slot(void **state) {
  (void)state;
  struct rum_region *a, *b, *c, *d;
  assert_int_equal(rum__region_table_carve(&t, 16, 16, &a), 0);
  assert_int_equal(rum__region_table_carve(&t, 16, 16, &b), 0);
  assert_int_equal(rum__region_table_carve(&t, 16, 16, &c), 0);
  uint8_t *a_base = a->base, *b_base = b->base;
  uint32_t b_slot = b->slot;
  rum__region_table_release(&t, b);
  assert_null(rum__region_table_lookup(&t, b_base));
  assert_int_equal(rum__region_table_carve(&t, 16, 16, &d), 0);
  assert_ptr_equal(d->base, b_base); /* first fit takes the hole */
  assert_int_equal(d->slot, b_slot);
  assert_ptr_equal(rum__region_table_lookup(&t, b_base), d);
  /* Freed neighbours merge: a and d released, a region of both sizes fits there. */
  rum__region_table_release(&t, a);
  rum__region_table_release(&t, d);
  struct rum_region *e;
  assert_int_equal(rum__region_table_carve(&t, 32, 32, &e), 0);
  assert_ptr_equal(e->base, a_base);
  rum__region_table_release(&t, e);
  rum__region_table_release(&t, c);
  assert_int_equal(atomic_load(&t.nregions), 0);
  assert_int_equal(t.nextents, 1); /* everything merged back into one free range */
}

static void test_exhaustion(void **state) {
  (void)state;
  struct rum_region *big, *r;
  uint64_t arena_pages = (1ull << 30) / RUM_PAGE_SIZE;
  assert_int_equal(rum__region_table_carve(&t, arena_pages + 1, 0, &r), RUM_ENOMEM);
  assert_int_equal(rum__region_table_carve(&t, arena_pages, 0, &big), 0);
  assert_int_equal(rum__region_table_carve(&t, 1, 1, &r), RUM_ENOMEM);
  rum__region_table_release(&t, big);
  assert_int_equal(rum__region_table_carve(&t, 1, 1, &r), 0);
}

static int count_each(void *ctx, struct rum_region *r) {
  (void)r;
  ++*(int *)ctx;
  return 0;
}

static void test_many_regions_snapshot(void **state) {
  (void)state;
  enum { N = 5000 };
  struct rum_region **rs = malloc(N * sizeof(*rs));
  for (int i = 0; i < N; i++) assert_int_equal(rum__region_table_carve(&t, 1, 1, &rs[i]), 0);
  for (int i = 0; i < N; i += 2) rum__region_table_release(&t, rs[i]);
  int n = 0;
  rum__region_table_each(&t, count_each, &n);
  assert_int_equal(n, N / 2);
  struct rum_region *snap[N];
  assert_int_equal(rum__region_table_snapshot(&t, snap, N), N / 2);
  for (int i = 1; i < N; i += 2) assert_ptr_equal(rum__region_table_lookup(&t, rs[i]->base + 5), rs[i]);
  for (int i = 1; i < N; i += 2) rum__region_table_release(&t, rs[i]);
  free(rs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_carve_aligned_and_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_release_reuses_range_and_slot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_regions_snapshot, setup, teardown),
  };
  return cmocka_run_group_tests_name("client.region_table", tests, NULL, NULL);
}
