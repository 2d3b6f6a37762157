/* Unit tests of the node's access control (src/server/ownership.c) and per-client
 * quotas (src/server/quota.c) against a real page store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "proto/wire.h"
#include "server/ownership.h"
#include "server/page_store.h"
#include "server/quota.h"

enum { PS = RUM_STORE_PAGE_SIZE, OWNER = 7, SESSION = 0x70, LEASED = 1 };

static struct rum_page_store *store;
static uint64_t named_id;

static int setup(void **state) {
  (void)state;
  struct rum_page_store_config cfg = {.memory_limit = 64ull << 20};
  store = rum__page_store_create(&cfg);
  assert_non_null(store);
  struct rum_store_alloc a = {.id = LEASED, .size = 4 * PS + 1, .reserve = 2 * PS, .owner_id = OWNER,
                              .owner_session = SESSION};
  assert_int_equal(rum__page_store_alloc(store, &a), 0);
  named_id = rum__wire_named_region_id("shared", 6);
  a = (struct rum_store_alloc){.id = named_id, .size = PS, .reserve = PS, .flags = RUM_STORE_F_NAMED,
                               .name = "shared", .name_len = 6, .owner_id = OWNER, .owner_session = SESSION};
  assert_int_equal(rum__page_store_alloc(store, &a), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rum__page_store_destroy(store);
  return 0;
}

static struct rum_rpc_request from(uint32_t sender, uint64_t session) {
  return (struct rum_rpc_request){.type = RUM_MSG_READ, .sender = sender, .session = session};
}

/* The code of the ERROR a refusal left in reply. */
static int refused_with(const struct rum_rpc_reply *reply) {
  assert_int_equal(reply->type, RUM_MSG_ERROR);
  struct rum_msg_error e;
  assert_int_equal(rum__wire_decode_error(reply->iov[0].iov_base, reply->iov[0].iov_len, &e), 0);
  return e.code;
}

static void test_only_the_owner_session_uses_a_leased_region(void **state) {
  (void)state;
  struct rum_access_stats st = {0};
  struct rum_region_info info;
  struct rum_rpc_reply reply = {0};
  struct rum_rpc_request owner = from(OWNER, SESSION), other_session = from(OWNER, SESSION + 1),
                         other_client = from(OWNER + 1, SESSION);
  assert_true(rum__ownership_check(store, &st, 1, &owner, LEASED, "read", &info, &reply));
  assert_int_equal(info.id, LEASED);
  assert_false(rum__ownership_check(store, &st, 1, &other_session, LEASED, "read", &info, &reply));
  assert_int_equal(refused_with(&reply), RUM_EPERM);
  assert_false(rum__ownership_check(store, &st, 1, &other_client, LEASED, "free", &info, &reply));
  assert_int_equal(refused_with(&reply), RUM_EPERM);
  assert_int_equal(st.denied, 2);
  /* A named region: any session. */
  assert_true(rum__ownership_check(store, &st, 1, &other_client, named_id, "write", &info, &reply));
  /* An id the node does not hold. */
  assert_false(rum__ownership_check(store, &st, 1, &owner, 0x999, "read", &info, &reply));
  assert_int_equal(refused_with(&reply), RUM_ENOENT);
  assert_int_equal(st.no_region, 1);
  assert_int_equal(st.denied, 2);
}

static void test_pages_inside_the_region(void **state) {
  (void)state;
  struct rum_access_stats st = {0};
  struct rum_region_info info;
  struct rum_rpc_reply reply = {0};
  assert_int_equal(rum__page_store_lookup(store, LEASED, &info), 0);
  /* 4 pages and one byte: pages 0..4 exist. */
  assert_true(rum__ownership_pages(&st, &info, 0, 5, &reply));
  assert_true(rum__ownership_pages(&st, &info, 4, 1, &reply));
  assert_false(rum__ownership_pages(&st, &info, 5, 1, &reply));
  assert_int_equal(refused_with(&reply), RUM_EINVAL);
  assert_false(rum__ownership_pages(&st, &info, 1, UINT64_MAX, &reply)); /* no wrap-around */
  assert_false(rum__ownership_pages(&st, &info, UINT64_MAX, 2, &reply));
  assert_int_equal(st.out_of_range, 3);
}

static void test_oversized_requests_counted(void **state) {
  (void)state;
  struct rum_access_stats st = {0};
  uint8_t read_req[20] = {0}, write_req[12] = {0};
  uint32_t n = RUM_WIRE_MAX_PAGES + 1;
  memcpy(read_req + 16, &n, 4);
  memcpy(write_req + 8, &n, 4);
  struct rum_rpc_request r = {.type = RUM_MSG_READ, .payload = read_req, .len = sizeof read_req};
  rum__ownership_malformed(&st, &r);
  r = (struct rum_rpc_request){.type = RUM_MSG_WRITE, .payload = write_req, .len = sizeof write_req};
  rum__ownership_malformed(&st, &r);
  r.len = 8; /* too short to hold a count: malformed, not oversized */
  rum__ownership_malformed(&st, &r);
  n = 3;
  memcpy(read_req + 16, &n, 4);
  r = (struct rum_rpc_request){.type = RUM_MSG_READ, .payload = read_req, .len = sizeof read_req};
  rum__ownership_malformed(&st, &r);
  assert_int_equal(st.oversized, 2);
}

static void test_quota(void **state) {
  (void)state;
  struct rum_access_stats st = {0};
  struct rum_rpc_reply reply = {0};
  struct rum_rpc_request owner = from(OWNER, SESSION), other = from(OWNER + 1, 1);
  /* The owner commits 2 pages (LEASED's reservation) + 1 (the named region). */
  assert_int_equal(rum__page_store_owner_bytes(store, OWNER, SESSION), 3 * PS);
  struct rum_quota q = {.bytes = 8 * PS, .node_id = 1};
  assert_true(rum__quota_allows(&q, store, &st, &owner, NULL, 5 * PS, &reply));  /* 8 in all */
  assert_false(rum__quota_allows(&q, store, &st, &owner, NULL, 6 * PS, &reply)); /* 9 */
  assert_int_equal(refused_with(&reply), RUM_EDQUOT);
  struct rum_region_info info;
  assert_int_equal(rum__page_store_lookup(store, LEASED, &info), 0);
  assert_true(rum__quota_allows(&q, store, &st, &owner, &info, 7 * PS, &reply));  /* grow to 7 + 1 */
  assert_false(rum__quota_allows(&q, store, &st, &owner, &info, 8 * PS, &reply));
  assert_true(rum__quota_allows(&q, store, &st, &owner, &info, PS, &reply));      /* shrinking */
  assert_true(rum__quota_allows(&q, store, &st, &other, NULL, 8 * PS, &reply));   /* another session */
  /* Writes: inside the reservation always; past it, only new pages count. */
  uint64_t idx[3] = {0, 1, 2};
  assert_true(rum__quota_allows_write(&q, store, &st, &owner, &info, 2, idx, &reply));
  q.bytes = 3 * PS;
  assert_false(rum__quota_allows_write(&q, store, &st, &owner, &info, 3, idx, &reply));
  assert_int_equal(st.quota, 3);
  struct rum_quota none = {0};
  assert_true(rum__quota_allows(&none, store, &st, &owner, NULL, UINT64_MAX, &reply));
  assert_int_equal(rum__quota_reserve_bytes(PS + 1, 10 * PS), 2 * PS);
  assert_int_equal(rum__quota_reserve_bytes(10 * PS, PS + 1), 2 * PS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_only_the_owner_session_uses_a_leased_region, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pages_inside_the_region, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oversized_requests_counted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
  };
  return cmocka_run_group_tests_name("server.ownership", tests, NULL, NULL);
}
