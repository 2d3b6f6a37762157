/* Page store: regions, sparse pages, the memory limit, resize, copy, listing, reclaim,
 * and a randomized comparison against a plain model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "server/page_store.h"

enum { PS = RUM_STORE_PAGE_SIZE };

static struct rum_page_store *make_store(uint64_t limit) {
  struct rum_page_store_config cfg = {.memory_limit = limit};
  struct rum_page_store *s = rum__page_store_create(&cfg);
  assert_non_null(s);
  return s;
}

static int alloc_plain(struct rum_page_store *s, uint64_t id, uint64_t size, uint32_t owner,
                       uint64_t session) {
  struct rum_store_alloc a = {.id = id, .size = size, .owner_id = owner, .owner_session = session};
  return rum__page_store_alloc(s, &a);
}

static int alloc_named(struct rum_page_store *s, uint64_t id, const char *name, uint64_t size,
                       uint32_t owner, uint64_t session) {
  struct rum_store_alloc a = {.id = id, .size = size, .flags = RUM_STORE_F_NAMED, .name = name,
                              .name_len = strlen(name), .owner_id = owner, .owner_session = session};
  return rum__page_store_alloc(s, &a);
}

/* A page whose bytes say which region, page and version they belong to. */
static void fill_page(uint8_t *p, uint64_t region, uint64_t page, uint32_t version) {
  uint64_t x = region * 0x9e3779b97f4a7c15ull ^ page * 0xc2b2ae3d27d4eb4full ^ version;
  for (size_t i = 0; i < PS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (uint8_t)(x | 1); /* never all zero */
  }
}

static int write_one(struct rum_page_store *s, uint64_t id, uint64_t page, const uint8_t *bytes) {
  return rum__page_store_write(s, id, 1, &page, bytes);
}

static const uint8_t *read_one(struct rum_page_store *s, uint64_t id, uint64_t page) {
  const uint8_t *p = NULL;
  assert_int_equal(rum__page_store_read(s, id, page, 1, &p), 0);
  return p;
}

static uint64_t used(struct rum_page_store *s) {
  struct rum_page_store_stats st;
  rum__page_store_stats(s, &st);
  return st.memory_used;
}

static void test_alloc_lookup_free(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 20);
  struct rum_region_info info;
  assert_int_equal(alloc_plain(s, 7, 10000, 1, 100), 0);
  assert_int_equal(rum__page_store_lookup(s, 7, &info), 0);
  assert_int_equal(info.id, 7);
  assert_int_equal(info.size, 10000);
  assert_int_equal(info.owner_id, 1);
  assert_int_equal(info.owner_session, 100);
  assert_int_equal(info.bytes_stored, 0);
  assert_string_equal(info.name, "");
  /* The same allocation again from the same session is a retry. */
  assert_int_equal(alloc_plain(s, 7, 10000, 1, 100), RUM_STORE_ALLOC_RETRIED);
  /* Anything else with that id is taken. */
  assert_int_equal(alloc_plain(s, 7, 10000, 1, 101), RUM_EEXIST);
  assert_int_equal(alloc_plain(s, 7, 20000, 1, 100), RUM_EEXIST);
  assert_int_equal(alloc_plain(s, 7, 10000, 2, 100), RUM_EEXIST);
  assert_int_equal(rum__page_store_lookup(s, 8, &info), RUM_ENOENT);
  assert_int_equal(rum__page_store_free(s, 7), 0);
  assert_int_equal(rum__page_store_free(s, 7), RUM_ENOENT);
  assert_int_equal(rum__page_store_lookup(s, 7, &info), RUM_ENOENT);
  /* Bad flags and names. */
  struct rum_store_alloc a = {.id = 9, .size = 1, .flags = 0x80};
  assert_int_equal(rum__page_store_alloc(s, &a), RUM_EINVAL);
  a.flags = RUM_STORE_F_NAMED; /* named without a name */
  assert_int_equal(rum__page_store_alloc(s, &a), RUM_EINVAL);
  a.flags = 0;
  a.name = "x";
  a.name_len = 1; /* a name without the flag */
  assert_int_equal(rum__page_store_alloc(s, &a), RUM_EINVAL);
  char longname[RUM_STORE_NAME_MAX + 2];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(alloc_named(s, 10, longname, 1, 1, 1), RUM_EINVAL);
  longname[RUM_STORE_NAME_MAX] = '\0';
  assert_int_equal(alloc_named(s, 10, longname, 1, 1, 1), 0);
  assert_int_equal(rum__page_store_lookup_name(s, longname, RUM_STORE_NAME_MAX, &info), 0);
  assert_int_equal(info.name_len, RUM_STORE_NAME_MAX);
  assert_string_equal(info.name, longname);
  rum__page_store_destroy(s);
}

static void test_named(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 20);
  struct rum_region_info info;
  assert_int_equal(alloc_named(s, 1ull << 63 | 5, "kvs.table", 8192, 3, 33), 0);
  assert_int_equal(rum__page_store_lookup_name(s, "kvs.table", 9, &info), 0);
  assert_int_equal(info.id, 1ull << 63 | 5);
  assert_int_equal(info.flags, RUM_STORE_F_NAMED);
  assert_int_equal(rum__page_store_lookup_name(s, "kvs.tabl", 8, &info), RUM_ENOENT);
  assert_int_equal(rum__page_store_lookup_name(s, "kvs.table2", 10, &info), RUM_ENOENT);
  /* The same name under another id, or by another process, is taken. */
  assert_int_equal(alloc_named(s, 1ull << 63 | 6, "kvs.table", 8192, 3, 33), RUM_EEXIST);
  assert_int_equal(alloc_named(s, 1ull << 63 | 5, "kvs.table", 8192, 4, 44), RUM_EEXIST);
  /* Even by the same session: creating a name twice is EEXIST (retransmissions are
   * the RPC layer's business and never reach the store). */
  assert_int_equal(alloc_named(s, 1ull << 63 | 5, "kvs.table", 8192, 3, 33), RUM_EEXIST);
  /* Many names: the tables grow and every one is still found. */
  char name[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "n%d", i);
    assert_int_equal(alloc_named(s, 1000 + (uint64_t)i, name, 4096, 1, 1), 0);
  }
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "n%d", i);
    assert_int_equal(rum__page_store_lookup_name(s, name, strlen(name), &info), 0);
    assert_int_equal(info.id, 1000 + (uint64_t)i);
  }
  for (int i = 0; i < 2000; i += 2) assert_int_equal(rum__page_store_free(s, 1000 + (uint64_t)i), 0);
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "n%d", i);
    assert_int_equal(rum__page_store_lookup_name(s, name, strlen(name), &info), i % 2 ? 0 : RUM_ENOENT);
  }
  /* A freed name can be taken again. */
  assert_int_equal(alloc_named(s, 99999, "n0", 4096, 9, 9), 0);
  struct rum_page_store_stats st;
  rum__page_store_stats(s, &st);
  assert_int_equal(st.named_regions, 1 + 1000 + 1);
  rum__page_store_destroy(s);
}

static void test_sparse_reads_zero(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 20);
  /* A 1 TiB region costs nothing until written. */
  assert_int_equal(alloc_plain(s, 1, 1ull << 40, 1, 1), 0);
  const uint8_t *pages[64];
  assert_int_equal(rum__page_store_read(s, 1, (1ull << 28) - 64, 64, pages), 0);
  for (int i = 0; i < 64; i++) assert_ptr_equal(pages[i], rum__page_store_zero_page());
  for (size_t i = 0; i < PS; i++) assert_int_equal(rum__page_store_zero_page()[i], 0);
  assert_int_equal(used(s), 0);
  /* Past the end, or wrapping around, is refused. */
  assert_int_equal(rum__page_store_read(s, 1, (1ull << 28) - 63, 64, pages), RUM_EINVAL);
  assert_int_equal(rum__page_store_read(s, 1, UINT64_MAX, 2, pages), RUM_EINVAL);
  assert_int_equal(rum__page_store_read(s, 2, 0, 1, pages), RUM_ENOENT);
  /* A region whose size is not a page multiple still has its last page. */
  assert_int_equal(alloc_plain(s, 2, PS + 1, 1, 1), 0);
  assert_int_equal(rum__page_store_read(s, 2, 0, 2, pages), 0);
  assert_int_equal(rum__page_store_read(s, 2, 0, 3, pages), RUM_EINVAL);
  rum__page_store_destroy(s);
}

static void test_write_read_roundtrip(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(64ull << 20);
  assert_int_equal(alloc_plain(s, 42, 1000 * PS, 1, 1), 0);
  /* A batch of 64 pages in scattered order, spanning several blocks. */
  uint64_t idx[RUM_STORE_MAX_BATCH];
  uint8_t *data = malloc((size_t)RUM_STORE_MAX_BATCH * PS);
  for (int i = 0; i < RUM_STORE_MAX_BATCH; i++) {
    idx[i] = (uint64_t)(i * 37 % 997);
    fill_page(data + (size_t)i * PS, 42, idx[i], 1);
  }
  assert_int_equal(rum__page_store_write(s, 42, RUM_STORE_MAX_BATCH, idx, data), 0);
  assert_int_equal(used(s), (uint64_t)RUM_STORE_MAX_BATCH * PS);
  uint8_t expect[PS];
  for (int i = 0; i < RUM_STORE_MAX_BATCH; i++) {
    fill_page(expect, 42, idx[i], 1);
    assert_memory_equal(read_one(s, 42, idx[i]), expect, PS);
  }
  /* Pages nobody wrote still read as zeros. */
  assert_ptr_equal(read_one(s, 42, 1), rum__page_store_zero_page());
  /* Overwrite in place: no new memory. */
  fill_page(expect, 42, 0, 2);
  assert_int_equal(write_one(s, 42, 0, expect), 0);
  assert_memory_equal(read_one(s, 42, 0), expect, PS);
  assert_int_equal(used(s), (uint64_t)RUM_STORE_MAX_BATCH * PS);
  /* An index past the end fails and changes nothing. */
  uint64_t bad[2] = {5, 1000};
  assert_int_equal(rum__page_store_write(s, 42, 2, bad, data), RUM_EINVAL);
  assert_ptr_equal(read_one(s, 42, 5), rum__page_store_zero_page());
  assert_int_equal(rum__page_store_write(s, 42, 0, bad, data), RUM_EINVAL);
  assert_int_equal(rum__page_store_write(s, 42, RUM_STORE_MAX_BATCH + 1, idx, data), RUM_EINVAL);
  assert_int_equal(rum__page_store_write(s, 43, 1, bad, data), RUM_ENOENT);
  struct rum_region_info info;
  assert_int_equal(rum__page_store_lookup(s, 42, &info), 0);
  assert_int_equal(info.bytes_stored, (uint64_t)RUM_STORE_MAX_BATCH * PS);
  free(data);
  rum__page_store_destroy(s);
}

static void test_repeated_index_last_wins(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(2 * PS);
  assert_int_equal(alloc_plain(s, 1, 100 * PS, 1, 1), 0);
  uint8_t data[4 * PS];
  uint64_t idx[4] = {3, 3, 3, 3};
  fill_page(data, 1, 3, 1);
  memset(data + PS, 0, PS);
  fill_page(data + 2 * PS, 1, 3, 3);
  fill_page(data + 3 * PS, 1, 3, 4);
  assert_int_equal(rum__page_store_write(s, 1, 4, idx, data), 0);
  assert_memory_equal(read_one(s, 1, 3), data + 3 * PS, PS);
  assert_int_equal(used(s), PS);
  /* Ends with zeros: the page is gone. */
  uint8_t data2[2 * PS];
  fill_page(data2, 1, 3, 5);
  memset(data2 + PS, 0, PS);
  assert_int_equal(rum__page_store_write(s, 1, 2, idx, data2), 0);
  assert_ptr_equal(read_one(s, 1, 3), rum__page_store_zero_page());
  assert_int_equal(used(s), 0);
  struct rum_page_store_stats st;
  rum__page_store_stats(s, &st);
  assert_int_equal(st.blocks, 0);
  rum__page_store_destroy(s);
}

static void test_zero_pages_stay_sparse(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 20);
  assert_int_equal(alloc_plain(s, 1, 64 * PS, 1, 1), 0);
  uint8_t zero[PS] = {0}, page[PS];
  assert_int_equal(write_one(s, 1, 9, zero), 0);
  assert_int_equal(used(s), 0);
  fill_page(page, 1, 9, 1);
  assert_int_equal(write_one(s, 1, 9, page), 0);
  assert_int_equal(used(s), PS);
  /* A page that is zero except its last byte is kept. */
  uint8_t almost[PS] = {0};
  almost[PS - 1] = 1;
  assert_int_equal(write_one(s, 1, 10, almost), 0);
  assert_int_equal(used(s), 2 * PS);
  assert_int_equal(write_one(s, 1, 9, zero), 0);
  assert_int_equal(used(s), PS);
  assert_ptr_equal(read_one(s, 1, 9), rum__page_store_zero_page());
  assert_memory_equal(read_one(s, 1, 10), almost, PS);
  rum__page_store_destroy(s);
}

static void test_memory_limit(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(10 * PS + 100); /* room for 10 pages */
  assert_int_equal(alloc_plain(s, 1, 100 * PS, 1, 1), 0);
  assert_int_equal(alloc_plain(s, 2, 100 * PS, 1, 1), 0);
  uint8_t data[8 * PS];
  uint64_t idx[8];
  for (int i = 0; i < 8; i++) {
    idx[i] = (uint64_t)i;
    fill_page(data + i * PS, 1, idx[i], 1);
  }
  assert_int_equal(rum__page_store_write(s, 1, 8, idx, data), 0);
  /* 8 more would need 16 pages: refused, nothing written. */
  for (int i = 0; i < 8; i++) idx[i] = (uint64_t)(20 + i);
  assert_int_equal(rum__page_store_write(s, 1, 8, idx, data), RUM_ENOSPC);
  assert_int_equal(used(s), 8 * PS);
  for (int i = 0; i < 8; i++) assert_ptr_equal(read_one(s, 1, idx[i]), rum__page_store_zero_page());
  /* A mixed batch (overwrites plus too many new pages) changes nothing either. */
  uint64_t mixed[4] = {0, 1, 50, 51};
  uint64_t mixed3[3] = {50, 51, 52};
  uint8_t new_bytes[4 * PS];
  for (int i = 0; i < 4; i++) fill_page(new_bytes + i * PS, 9, 9, (uint32_t)i);
  assert_int_equal(rum__page_store_write(s, 1, 3, mixed3, new_bytes), RUM_ENOSPC);
  assert_int_equal(rum__page_store_write(s, 1, 4, mixed, new_bytes), 0); /* 2 new: fits */
  assert_int_equal(used(s), 10 * PS);
  uint8_t expect[PS];
  fill_page(expect, 1, 2, 1);
  assert_memory_equal(read_one(s, 1, 2), expect, PS);
  /* Full: overwriting stored pages still works; a new page in any region does not. */
  assert_int_equal(write_one(s, 1, 0, new_bytes + 3 * PS), 0);
  assert_int_equal(write_one(s, 2, 0, new_bytes), RUM_ENOSPC);
  /* Zero writes free room even when full. */
  uint8_t zero[PS] = {0};
  assert_int_equal(write_one(s, 1, 0, zero), 0);
  assert_int_equal(write_one(s, 2, 0, new_bytes), 0);
  /* Freeing a region gives its memory back. */
  assert_int_equal(rum__page_store_free(s, 1), 0);
  assert_int_equal(used(s), PS);
  for (int i = 0; i < 8; i++) idx[i] = (uint64_t)i + 1;
  assert_int_equal(rum__page_store_write(s, 2, 8, idx, data), 0);
  assert_int_equal(used(s), 9 * PS);
  rum__page_store_destroy(s);
}

static void test_resize(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 24);
  assert_int_equal(alloc_plain(s, 1, 100 * PS, 1, 1), 0);
  uint8_t page[PS], expect[PS];
  for (uint64_t i = 0; i < 100; i++) {
    fill_page(page, 1, i, 1);
    assert_int_equal(write_one(s, 1, i, page), 0);
  }
  /* Shrink to 10.5 pages: pages 11.. are freed, page 10 keeps its first half. */
  assert_int_equal(rum__page_store_resize(s, 1, 10 * PS + PS / 2, 0), 0);
  assert_int_equal(used(s), 11 * PS);
  const uint8_t *p;
  assert_int_equal(rum__page_store_read(s, 1, 11, 1, &p), RUM_EINVAL);
  fill_page(expect, 1, 10, 1);
  memset(expect + PS / 2, 0, PS / 2);
  assert_memory_equal(read_one(s, 1, 10), expect, PS);
  /* Grow again: the new pages read as zeros, old ones are intact. */
  assert_int_equal(rum__page_store_resize(s, 1, 1000 * PS, 0), 0);
  for (uint64_t i = 11; i < 1000; i++) assert_ptr_equal(read_one(s, 1, i), rum__page_store_zero_page());
  for (uint64_t i = 0; i < 10; i++) {
    fill_page(expect, 1, i, 1);
    assert_memory_equal(read_one(s, 1, i), expect, PS);
  }
  struct rum_region_info info;
  assert_int_equal(rum__page_store_lookup(s, 1, &info), 0);
  assert_int_equal(info.size, 1000 * PS);
  /* Shrink a huge sparse region quickly (walks its blocks, not its range). */
  assert_int_equal(alloc_plain(s, 2, 1ull << 50, 1, 1), 0);
  fill_page(page, 2, 5, 1);
  assert_int_equal(write_one(s, 2, (1ull << 38) - 1, page), 0);
  assert_int_equal(write_one(s, 2, 5, page), 0);
  assert_int_equal(rum__page_store_resize(s, 2, 6 * PS, 0), 0);
  assert_memory_equal(read_one(s, 2, 5), page, PS);
  assert_int_equal(used(s), 12 * PS);
  assert_int_equal(rum__page_store_resize(s, 2, 0, 0), 0);
  assert_int_equal(used(s), 11 * PS);
  assert_int_equal(rum__page_store_resize(s, 3, 0, 0), RUM_ENOENT);
  rum__page_store_destroy(s);
}

static void test_copy(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(40 * PS);
  assert_int_equal(alloc_plain(s, 1, 20 * PS, 1, 1), 0);
  assert_int_equal(alloc_plain(s, 2, 40 * PS, 1, 1), 0);
  uint8_t page[PS], expect[PS];
  for (uint64_t i = 0; i < 20; i += 2) { /* src holds the even pages */
    fill_page(page, 1, i, 1);
    assert_int_equal(write_one(s, 1, i, page), 0);
  }
  for (uint64_t i = 0; i < 20; i += 3) { /* dst holds every third page */
    fill_page(page, 2, i, 1);
    assert_int_equal(write_one(s, 2, i, page), 0);
  }
  fill_page(page, 2, 30, 1);
  assert_int_equal(write_one(s, 2, 30, page), 0);
  assert_int_equal(rum__page_store_copy(s, 1, 2, 0, 20), 0);
  for (uint64_t i = 0; i < 20; i++) {
    if (i % 2 == 0) {
      fill_page(expect, 1, i, 1);
      assert_memory_equal(read_one(s, 2, i), expect, PS);
    } else {
      assert_ptr_equal(read_one(s, 2, i), rum__page_store_zero_page());
    }
  }
  fill_page(expect, 2, 30, 1); /* outside the range: untouched */
  assert_memory_equal(read_one(s, 2, 30), expect, PS);
  assert_int_equal(used(s), (10 + 10 + 1) * PS);
  /* The copy is a copy: changing src afterwards leaves dst alone. */
  fill_page(page, 1, 0, 9);
  assert_int_equal(write_one(s, 1, 0, page), 0);
  fill_page(expect, 1, 0, 1);
  assert_memory_equal(read_one(s, 2, 0), expect, PS);
  /* Bounds: both regions must span the range. */
  assert_int_equal(rum__page_store_copy(s, 1, 2, 0, 21), RUM_EINVAL);
  assert_int_equal(rum__page_store_copy(s, 2, 1, 10, 11), RUM_EINVAL);
  assert_int_equal(rum__page_store_copy(s, 1, 2, UINT64_MAX, 2), RUM_EINVAL);
  assert_int_equal(rum__page_store_copy(s, 1, 9, 0, 1), RUM_ENOENT);
  assert_int_equal(rum__page_store_copy(s, 1, 1, 0, 20), 0);
  /* Not enough room for the pages dst lacks: nothing changes. */
  assert_int_equal(alloc_plain(s, 3, 20 * PS, 1, 1), 0);
  fill_page(page, 3, 2, 1);
  assert_int_equal(write_one(s, 3, 3, page), 0); /* used: 22 of 40 */
  assert_int_equal(alloc_plain(s, 4, 40 * PS, 1, 1), 0);
  assert_int_equal(rum__page_store_copy(s, 2, 4, 0, 40), 0); /* 11 pages: 33 used */
  assert_int_equal(rum__page_store_copy(s, 1, 3, 0, 20), RUM_ENOSPC); /* needs 10 */
  assert_int_equal(used(s), 33 * PS);
  assert_memory_equal(read_one(s, 3, 3), page, PS);
  assert_ptr_equal(read_one(s, 3, 0), rum__page_store_zero_page());
  rum__page_store_destroy(s);
}

static void test_copy_huge_sparse(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 20);
  assert_int_equal(alloc_plain(s, 1, 1ull << 50, 1, 1), 0);
  assert_int_equal(alloc_plain(s, 2, 1ull << 51, 1, 1), 0);
  uint8_t page[PS];
  uint64_t far = (1ull << 38) - 3;
  fill_page(page, 1, far, 1);
  assert_int_equal(write_one(s, 1, far, page), 0);
  assert_int_equal(write_one(s, 2, 77, page), 0);
  /* 2^38 pages of range: must walk blocks, not pages (this would take hours). */
  assert_int_equal(rum__page_store_copy(s, 1, 2, 0, 1ull << 38), 0);
  assert_memory_equal(read_one(s, 2, far), page, PS);
  assert_ptr_equal(read_one(s, 2, 77), rum__page_store_zero_page());
  assert_int_equal(used(s), 2 * PS);
  rum__page_store_destroy(s);
}

static void test_list_and_reclaim(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1 << 24);
  uint8_t page[PS];
  fill_page(page, 0, 0, 0);
  for (uint64_t i = 1; i <= 10; i++) {
    assert_int_equal(alloc_plain(s, i, 4 * PS, (uint32_t)(i % 2 ? 100 : 200), i % 2 ? 1 : 2), 0);
    assert_int_equal(write_one(s, i, 0, page), 0);
  }
  char name[8];
  for (uint64_t i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "nm%d", (int)i);
    assert_int_equal(alloc_named(s, (1ull << 63) + i, name, PS, 100, 1), 0);
    assert_int_equal(write_one(s, (1ull << 63) + i, 0, page), 0);
  }
  struct rum_region_info out[32];
  size_t total = 0;
  assert_int_equal(rum__page_store_list(s, 0, 0, out, 32, &total), 13);
  assert_int_equal(total, 13);
  assert_int_equal(rum__page_store_list(s, RUM_STORE_F_NAMED, 0, out, 32, &total), 3);
  assert_int_equal(total, 3);
  for (int i = 0; i < 3; i++) {
    assert_true(out[i].flags & RUM_STORE_F_NAMED);
    assert_int_equal(out[i].bytes_stored, PS);
  }
  /* Paging through the listing sees every region once. */
  uint64_t seen = 0;
  for (size_t start = 0; start < 13; start += 4) {
    size_t n = rum__page_store_list(s, 0, start, out, 4, &total);
    assert_int_equal(n, start + 4 <= 13 ? 4 : 13 - start);
    for (size_t i = 0; i < n; i++) seen ^= out[i].id;
  }
  uint64_t expect = 0;
  for (uint64_t i = 1; i <= 10; i++) expect ^= i;
  for (uint64_t i = 0; i < 3; i++) expect ^= (1ull << 63) + i;
  assert_int_equal(seen, expect);
  assert_int_equal(rum__page_store_list(s, 0, 13, out, 4, &total), 0);
  /* Reclaim client (100, 1): its 5 plain regions go, its named ones stay. */
  assert_int_equal(rum__page_store_count_owner(s, 100, 1), 8);
  uint64_t bytes = 0;
  assert_int_equal(rum__page_store_reclaim_owner(s, 100, 1, &bytes), 5);
  assert_int_equal(bytes, 5 * PS);
  assert_int_equal(rum__page_store_count_owner(s, 100, 1), 3);
  assert_int_equal(rum__page_store_reclaim_owner(s, 100, 1, &bytes), 0);
  assert_int_equal(bytes, 0);
  struct rum_region_info info;
  for (uint64_t i = 1; i <= 10; i++)
    assert_int_equal(rum__page_store_lookup(s, i, &info), i % 2 ? RUM_ENOENT : 0);
  assert_int_equal(rum__page_store_list(s, 0, 0, out, 32, &total), 8);
  assert_int_equal(used(s), 8 * PS);
  rum__page_store_destroy(s);
}

static void test_region_limit(void **state) {
  (void)state;
  struct rum_page_store_config cfg = {.memory_limit = 1 << 20, .max_regions = 3};
  struct rum_page_store *s = rum__page_store_create(&cfg);
  for (uint64_t i = 0; i < 3; i++) assert_int_equal(alloc_plain(s, i, 1, 1, 1), 0);
  assert_int_equal(alloc_plain(s, 3, 1, 1, 1), RUM_ENOSPC);
  assert_int_equal(alloc_plain(s, 2, 1, 1, 1), RUM_STORE_ALLOC_RETRIED);
  assert_int_equal(rum__page_store_free(s, 0), 0);
  assert_int_equal(alloc_plain(s, 3, 1, 1, 1), 0);
  rum__page_store_destroy(s);
}

/* Per-page bookkeeping must stay under 1% of the page size for densely written regions.
 * Sparse writes (one page per block) cost more per page; printed for the record. */
static void test_metadata_overhead(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(1ull << 32);
  enum { N = 16384 };
  assert_int_equal(alloc_plain(s, 1, (uint64_t)N * PS, 1, 1), 0);
  uint8_t *data = malloc((size_t)RUM_STORE_MAX_BATCH * PS);
  uint64_t idx[RUM_STORE_MAX_BATCH];
  for (int i = 0; i < RUM_STORE_MAX_BATCH; i++) fill_page(data + (size_t)i * PS, 1, (uint64_t)i, 1);
  for (uint64_t base = 0; base < N; base += RUM_STORE_MAX_BATCH) {
    for (int i = 0; i < RUM_STORE_MAX_BATCH; i++) idx[i] = base + (uint64_t)i;
    assert_int_equal(rum__page_store_write(s, 1, RUM_STORE_MAX_BATCH, idx, data), 0);
  }
  struct rum_page_store_stats st;
  rum__page_store_stats(s, &st);
  assert_int_equal(st.pages, N);
  double per_page = (double)st.metadata_bytes / (double)st.pages;
  print_message("dense: %.1f metadata bytes per page (%.2f%% of the page)\n", per_page,
                100.0 * per_page / PS);
  assert_true(per_page < 0.01 * PS);
  rum__page_store_destroy(s);

  s = make_store(1ull << 32);
  assert_int_equal(alloc_plain(s, 1, (uint64_t)N * PS * RUM_STORE_BLOCK_PAGES, 1, 1), 0);
  for (uint64_t i = 0; i < N / 16; i++) assert_int_equal(write_one(s, 1, i * RUM_STORE_BLOCK_PAGES, data), 0);
  rum__page_store_stats(s, &st);
  per_page = (double)st.metadata_bytes / (double)st.pages;
  print_message("sparse (1 page per block): %.1f bytes per page (%.2f%%)\n", per_page,
                100.0 * per_page / PS);
  assert_true(per_page < 0.1 * PS);
  free(data);
  rum__page_store_destroy(s);
}

/* ---- randomized comparison against a plain model ---- */

enum { M_REGIONS = 6, M_PAGES = 80, M_LIMIT_PAGES = 60 };
struct model {
  bool exists[M_REGIONS];
  uint64_t size[M_REGIONS];
  uint32_t version[M_REGIONS][M_PAGES]; /* 0: zeros */
};

static uint64_t rng_state;
static unsigned enospc_seen; /* the limit path must be exercised too */
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static uint64_t model_used(const struct model *m) {
  uint64_t n = 0;
  for (int r = 0; r < M_REGIONS; r++)
    for (int p = 0; p < M_PAGES; p++) n += m->exists[r] && m->version[r][p] != 0;
  return n * PS;
}

static void model_check(struct rum_page_store *s, const struct model *m) {
  uint8_t expect[PS];
  for (int r = 0; r < M_REGIONS; r++) {
    struct rum_region_info info;
    if (!m->exists[r]) {
      assert_int_equal(rum__page_store_lookup(s, (uint64_t)r, &info), RUM_ENOENT);
      continue;
    }
    assert_int_equal(rum__page_store_lookup(s, (uint64_t)r, &info), 0);
    assert_int_equal(info.size, m->size[r]);
    uint64_t np = m->size[r] / PS;
    for (uint64_t p = 0; p < np; p++) {
      const uint8_t *got = read_one(s, (uint64_t)r, p);
      if (m->version[r][p] == 0) {
        assert_ptr_equal(got, rum__page_store_zero_page());
      } else {
        fill_page(expect, 0, p, m->version[r][p]); /* copies keep page and version */
        assert_memory_equal(got, expect, PS);
      }
    }
  }
  assert_int_equal(used(s), model_used(m));
  assert_true(used(s) <= (uint64_t)M_LIMIT_PAGES * PS);
}

static void random_step(struct rum_page_store *s, struct model *m, uint32_t step) {
  int r = (int)(rng() % M_REGIONS);
  uint64_t op = rng() % 10;
  if (!m->exists[r]) {
    uint64_t np = 1 + rng() % M_PAGES;
    assert_int_equal(alloc_plain(s, (uint64_t)r, np * PS, 1, 1), 0);
    m->exists[r] = true;
    m->size[r] = np * PS;
    memset(m->version[r], 0, sizeof m->version[r]);
    return;
  }
  uint64_t np = m->size[r] / PS;
  if (op < 5) { /* a batch write, sometimes with zero pages and repeats */
    uint32_t n = 1 + (uint32_t)(rng() % 20);
    uint64_t idx[20];
    uint32_t ver[20];
    uint8_t *data = malloc((size_t)n * PS);
    struct model after = *m;
    for (uint32_t i = 0; i < n; i++) {
      idx[i] = rng() % np;
      ver[i] = rng() % 4 == 0 ? 0 : step * 32 + i + 1;
      if (ver[i]) fill_page(data + (size_t)i * PS, 0, idx[i], ver[i]);
      else memset(data + (size_t)i * PS, 0, PS);
      after.version[r][idx[i]] = ver[i];
    }
    /* The store refuses when the distinct absent pages written with data do not fit. */
    uint64_t needed = 0;
    for (uint32_t i = 0; i < n; i++) {
      bool first_nonzero = ver[i] != 0 && m->version[r][idx[i]] == 0;
      for (uint32_t j = 0; j < i && first_nonzero; j++)
        if (idx[j] == idx[i] && ver[j] != 0) first_nonzero = false;
      needed += first_nonzero;
    }
    int rc = rum__page_store_write(s, (uint64_t)r, n, idx, data);
    if (model_used(m) + needed * PS <= (uint64_t)M_LIMIT_PAGES * PS) {
      assert_int_equal(rc, 0);
      *m = after;
    } else {
      assert_int_equal(rc, RUM_ENOSPC);
      enospc_seen++;
    }
    free(data);
  } else if (op < 7) { /* resize */
    uint64_t nn = 1 + rng() % M_PAGES;
    assert_int_equal(rum__page_store_resize(s, (uint64_t)r, nn * PS, 0), 0);
    for (uint64_t p = nn; p < M_PAGES; p++) m->version[r][p] = 0;
    m->size[r] = nn * PS;
  } else if (op < 9) { /* copy from another region */
    int src = (int)(rng() % M_REGIONS);
    if (!m->exists[src]) return;
    uint64_t common = (m->size[src] < m->size[r] ? m->size[src] : m->size[r]) / PS;
    uint64_t first = rng() % common, n = rng() % (common - first + 1);
    struct model after = *m;
    for (uint64_t p = first; p < first + n; p++) after.version[r][p] = m->version[src][p];
    uint64_t needed = 0;
    for (uint64_t p = first; p < first + n && src != r; p++)
      needed += m->version[src][p] != 0 && m->version[r][p] == 0;
    int rc = rum__page_store_copy(s, (uint64_t)src, (uint64_t)r, first, n);
    if (model_used(m) + needed * PS <= (uint64_t)M_LIMIT_PAGES * PS) {
      assert_int_equal(rc, 0);
      *m = after;
    } else {
      assert_int_equal(rc, RUM_ENOSPC);
      enospc_seen++;
    }
  } else {
    assert_int_equal(rum__page_store_free(s, (uint64_t)r), 0);
    m->exists[r] = false;
  }
}

static void test_random_against_model(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 8; seed++) {
    rng_state = seed * 0x9e3779b97f4a7c15ull;
    struct rum_page_store *s = make_store((uint64_t)M_LIMIT_PAGES * PS);
    struct model *m = calloc(1, sizeof *m);
    for (uint32_t step = 1; step <= 600; step++) {
      random_step(s, m, step);
      if (step % 50 == 0) model_check(s, m);
    }
    model_check(s, m);
    free(m);
    rum__page_store_destroy(s);
  }
  print_message("%u writes or copies refused for the limit\n", enospc_seen);
  assert_true(enospc_seen > 0);
}

/* A reservation is committed at allocation: it fails there when the node cannot hold
 * it, and once granted, writes inside it succeed however full the node is. */
static void test_reservations(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(10 * PS);
  uint8_t page[PS];
  fill_page(page, 1, 0, 1);
  struct rum_store_alloc a = {.id = 1, .size = 6 * PS, .reserve = 6 * PS, .owner_id = 1, .owner_session = 1};
  assert_int_equal(rum__page_store_alloc(s, &a), 0);
  assert_int_equal(used(s), 6 * PS); /* committed, though nothing is stored */
  a = (struct rum_store_alloc){.id = 2, .size = 5 * PS, .reserve = 5 * PS, .owner_id = 1, .owner_session = 1};
  assert_int_equal(rum__page_store_alloc(s, &a), RUM_ENOSPC); /* 6 + 5 > 10 */
  a.reserve = 4 * PS;
  assert_int_equal(rum__page_store_alloc(s, &a), 0); /* 6 + 4 = 10: full */
  /* Region 2 writes past its reservation: no room. Region 1 inside its own: fine. */
  for (uint64_t i = 0; i < 4; i++) assert_int_equal(write_one(s, 2, i, page), 0);
  assert_int_equal(write_one(s, 2, 4, page), RUM_ENOSPC);
  for (uint64_t i = 0; i < 6; i++) assert_int_equal(write_one(s, 1, i, page), 0);
  assert_int_equal(used(s), 10 * PS);
  /* Growing a reservation needs free memory; freeing a region returns it all. */
  assert_int_equal(rum__page_store_resize(s, 2, 5 * PS, 5 * PS), RUM_ENOSPC);
  assert_int_equal(rum__page_store_free(s, 1), 0);
  assert_int_equal(used(s), 4 * PS);
  assert_int_equal(rum__page_store_resize(s, 2, 5 * PS, 5 * PS), 0);
  assert_int_equal(used(s), 5 * PS);
  assert_int_equal(write_one(s, 2, 4, page), 0);
  /* A reservation larger than the region is capped at its size. */
  a = (struct rum_store_alloc){.id = 3, .size = PS, .reserve = 100 * PS, .owner_id = 1, .owner_session = 1};
  assert_int_equal(rum__page_store_alloc(s, &a), 0);
  assert_int_equal(used(s), 6 * PS);
  rum__page_store_destroy(s);
}

/* DISCARD drops stored pages (they read as zeros again) but keeps the reservation, so
 * that writing them again cannot fail; an unreserved region's memory goes back. */
static void test_discard(void **state) {
  (void)state;
  struct rum_page_store *s = make_store(10 * PS);
  uint8_t page[PS];
  struct rum_store_alloc a = {.id = 1, .size = 6 * PS, .reserve = 6 * PS, .owner_id = 1, .owner_session = 1};
  assert_int_equal(rum__page_store_alloc(s, &a), 0);
  assert_int_equal(alloc_plain(s, 2, 4 * PS, 1, 1), 0);
  for (uint64_t i = 0; i < 6; i++) {
    fill_page(page, 1, i, 1);
    assert_int_equal(write_one(s, 1, i, page), 0);
  }
  for (uint64_t i = 0; i < 4; i++) assert_int_equal(write_one(s, 2, i, page), 0);
  assert_int_equal(used(s), 10 * PS);
  assert_int_equal(rum__page_store_discard(s, 1, 1, 3), 0);
  assert_int_equal(used(s), 10 * PS); /* region 1 keeps its reservation */
  for (uint64_t i = 1; i < 4; i++) assert_ptr_equal(read_one(s, 1, i), rum__page_store_zero_page());
  fill_page(page, 1, 4, 1);
  assert_memory_equal(read_one(s, 1, 4), page, PS);
  assert_int_equal(rum__page_store_discard(s, 2, 0, 4), 0);
  assert_int_equal(used(s), 6 * PS); /* region 2 had none: its pages are free memory */
  struct rum_page_store_stats st;
  rum__page_store_stats(s, &st);
  assert_int_equal(st.memory_stored, 3 * PS);
  /* Past the end, or an unknown region: refused, nothing changed. */
  assert_int_equal(rum__page_store_discard(s, 1, 5, 2), RUM_EINVAL);
  assert_int_equal(rum__page_store_discard(s, 1, UINT64_MAX, 2), RUM_EINVAL);
  assert_int_equal(rum__page_store_discard(s, 3, 0, 1), RUM_ENOENT);
  fill_page(page, 1, 5, 1);
  assert_memory_equal(read_one(s, 1, 5), page, PS);
  for (uint64_t i = 1; i < 4; i++) assert_int_equal(write_one(s, 1, i, page), 0); /* inside the reservation */
  rum__page_store_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_lookup_free),
      cmocka_unit_test(test_named),
      cmocka_unit_test(test_reservations),
      cmocka_unit_test(test_discard),
      cmocka_unit_test(test_sparse_reads_zero),
      cmocka_unit_test(test_write_read_roundtrip),
      cmocka_unit_test(test_repeated_index_last_wins),
      cmocka_unit_test(test_zero_pages_stay_sparse),
      cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_resize),
      cmocka_unit_test(test_copy),
      cmocka_unit_test(test_copy_huge_sparse),
      cmocka_unit_test(test_list_and_reclaim),
      cmocka_unit_test(test_region_limit),
      cmocka_unit_test(test_metadata_overhead),
      cmocka_unit_test(test_random_against_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
