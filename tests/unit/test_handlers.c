/* Node handlers without a network: requests built with the wire codecs go straight into
 * rum__server_handle(), replies are decoded back. Time is a variable the test moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "server/handlers.h"
#include "server/lease.h"
#include "server/page_store.h"

enum { PS = RUM_PAGE_SIZE, CLIENT = 77, SESSION = 0x1234, LEASE_MS = 1000 };

struct env {
  struct rum_page_store *store;
  struct rum_lease_table *leases;
  struct rum_server *server;
  uint64_t now;
  struct rum_rpc_reply reply;
  uint8_t flat[RUM_WIRE_MAX_MSG];
  size_t flat_len;
};

static uint64_t fake_clock(void *ctx) { return ((struct env *)ctx)->now; }

static struct env *env_new(uint64_t memory_limit) {
  struct env *e = calloc(1, sizeof *e);
  struct rum_page_store_config pc = {.memory_limit = memory_limit};
  e->store = rum__page_store_create(&pc);
  struct rum_lease_config lc = {.lease_ms = LEASE_MS, .store = e->store};
  assert_int_equal(rum__lease_create(&lc, &e->leases), 0);
  struct rum_server_config sc = {.node_id = 3, .incarnation = 99, .mtu = 1472, .store = e->store,
                                 .leases = e->leases, .clock_ms = fake_clock, .clock_ctx = e};
  e->now = 1000;
  assert_int_equal(rum__server_create(&sc, &e->server), 0);
  return e;
}

static void env_free(struct env *e) {
  rum__server_destroy(e->server);
  rum__lease_destroy(e->leases);
  rum__page_store_destroy(e->store);
  free(e);
}

/* Run one request; returns the reply type and leaves the reply bytes in e->flat. */
static uint8_t request_from(struct env *e, uint8_t type, uint32_t sender, uint64_t session,
                            const void *payload, size_t len) {
  static uint64_t seq;
  struct rum_rpc_request req = {.type = type, .sender = sender, .session = session, .seq = ++seq,
                                .payload = payload, .len = (uint32_t)len};
  memset(&e->reply, 0xee, sizeof e->reply); /* the handler must set what it uses */
  e->reply.type = type;
  e->reply.iovcnt = 0;
  rum__server_handle(e->server, &req, &e->reply);
  assert_true(e->reply.iovcnt >= 0 && e->reply.iovcnt <= RUM_RPC_MAX_RESP_IOV);
  e->flat_len = 0;
  for (int i = 0; i < e->reply.iovcnt; i++) {
    assert_true(e->flat_len + e->reply.iov[i].iov_len <= sizeof e->flat);
    memcpy(e->flat + e->flat_len, e->reply.iov[i].iov_base, e->reply.iov[i].iov_len);
    e->flat_len += e->reply.iov[i].iov_len;
  }
  assert_true(e->reply.type == type || e->reply.type == RUM_MSG_ERROR);
  return e->reply.type;
}

static uint8_t request(struct env *e, uint8_t type, const void *payload, size_t len) {
  return request_from(e, type, CLIENT, SESSION, payload, len);
}

/* The code of the ERROR in e->flat. */
static int error_code(struct env *e) {
  struct rum_msg_error m;
  assert_int_equal(rum__wire_decode_error(e->flat, e->flat_len, &m), 0);
  assert_true(m.text_len > 0);
  return m.code;
}

static int do_alloc_from(struct env *e, uint32_t sender, uint64_t session, uint64_t id, uint64_t size,
                         const char *name) {
  struct rum_msg_alloc_req m = {.region_id = id, .size = size};
  if (name != NULL) {
    m.flags = RUM_REGION_F_NAMED;
    m.name = name;
    m.name_len = (uint16_t)strlen(name);
    m.region_id = rum__wire_named_region_id(name, m.name_len);
  }
  uint8_t buf[512];
  int n = rum__wire_encode_alloc_req(buf, sizeof buf, &m);
  assert_true(n > 0);
  if (request_from(e, RUM_MSG_ALLOC, sender, session, buf, (size_t)n) == RUM_MSG_ERROR) return error_code(e);
  struct rum_msg_alloc_resp r;
  assert_int_equal(rum__wire_decode_alloc_resp(e->flat, e->flat_len, &r), 0);
  assert_int_equal(r.region_id, m.region_id);
  assert_int_equal(r.size, size);
  return 0;
}

static int do_alloc(struct env *e, uint64_t id, uint64_t size) {
  return do_alloc_from(e, CLIENT, SESSION, id, size, NULL);
}

static int do_write(struct env *e, uint64_t id, uint32_t n, const uint64_t *idx, const uint8_t *data) {
  static uint8_t buf[RUM_WIRE_MAX_MSG];
  struct rum_msg_write_req m = {.region_id = id, .npages = n};
  memcpy(m.page_index, idx, n * sizeof *idx);
  int fixed = rum__wire_encode_write_req_fixed(buf, sizeof buf, &m);
  assert_true(fixed > 0);
  memcpy(buf + fixed, data, (size_t)n * PS);
  if (request(e, RUM_MSG_WRITE, buf, (size_t)fixed + (size_t)n * PS) == RUM_MSG_ERROR) return error_code(e);
  struct rum_msg_write_resp r;
  assert_int_equal(rum__wire_decode_write_resp(e->flat, e->flat_len, &r), 0);
  assert_int_equal(r.npages, n);
  return 0;
}

/* READ; on success the page bytes are at *pages (inside e->flat). */
static int do_read(struct env *e, uint64_t id, uint64_t first, uint32_t n, const uint8_t **pages) {
  struct rum_msg_read_req m = {.region_id = id, .first_page = first, .npages = n};
  uint8_t buf[64];
  int len = rum__wire_encode_read_req(buf, sizeof buf, &m);
  assert_true(len > 0);
  if (request(e, RUM_MSG_READ, buf, (size_t)len) == RUM_MSG_ERROR) return error_code(e);
  struct rum_msg_read_resp r;
  assert_int_equal(rum__wire_decode_read_resp(e->flat, e->flat_len, &r), 0);
  assert_int_equal(r.npages, n);
  assert_int_equal(r.first_page, first);
  *pages = r.data;
  return 0;
}

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 7 + (i >> 12));
}

static void test_alloc_write_read(void **state) {
  (void)state;
  struct env *e = env_new(1 << 24);
  assert_int_equal(do_alloc(e, 5, 100 * PS), 0);
  assert_int_equal(do_alloc(e, 5, 100 * PS), 0);                       /* a retry */
  assert_int_equal(do_alloc_from(e, CLIENT, SESSION + 1, 5, 100 * PS, NULL), RUM_EEXIST);
  uint8_t *data = malloc(4 * PS);
  fill(data, 4 * PS, 1);
  uint64_t idx[4] = {10, 11, 12, 40};
  assert_int_equal(do_write(e, 5, 4, idx, data), 0);
  const uint8_t *got;
  assert_int_equal(do_read(e, 5, 10, 3, &got), 0);
  assert_memory_equal(got, data, 3 * PS);
  /* Zero-copy: the reply points at the stored pages and the shared zero page. */
  assert_int_equal(do_read(e, 5, 39, 3, &got), 0);
  assert_int_equal(e->reply.iovcnt, 4);
  assert_ptr_equal(e->reply.iov[1].iov_base, rum__page_store_zero_page());
  assert_ptr_not_equal(e->reply.iov[2].iov_base, rum__page_store_zero_page());
  assert_memory_equal(got + PS, data + 3 * PS, PS);
  for (size_t i = 0; i < PS; i++) assert_int_equal(got[i] | got[2 * PS + i], 0);
  /* Out of range and unknown regions. */
  assert_int_equal(do_read(e, 5, 99, 2, &got), RUM_EINVAL);
  assert_int_equal(do_read(e, 6, 0, 1, &got), RUM_ENOENT);
  uint64_t past = 100;
  assert_int_equal(do_write(e, 5, 1, &past, data), RUM_EINVAL);
  assert_int_equal(do_write(e, 6, 1, idx, data), RUM_ENOENT);
  free(data);
  env_free(e);
}

static void test_memory_full(void **state) {
  (void)state;
  struct env *e = env_new(3 * PS);
  assert_int_equal(do_alloc(e, 1, 10 * PS), 0);
  uint8_t data[4 * PS];
  fill(data, sizeof data, 9);
  uint64_t idx[4] = {0, 1, 2, 3};
  assert_int_equal(do_write(e, 1, 4, idx, data), RUM_ENOSPC);
  assert_int_equal(do_write(e, 1, 3, idx, data), 0);
  assert_int_equal(do_write(e, 1, 1, idx + 3, data), RUM_ENOSPC);
  const uint8_t *got;
  assert_int_equal(do_read(e, 1, 0, 4, &got), 0);
  assert_memory_equal(got, data, 3 * PS);
  env_free(e);
}

static void test_free_resize_copy(void **state) {
  (void)state;
  struct env *e = env_new(1 << 24);
  assert_int_equal(do_alloc(e, 1, 8 * PS), 0);
  assert_int_equal(do_alloc(e, 2, 16 * PS), 0);
  uint8_t data[8 * PS];
  fill(data, sizeof data, 3);
  uint64_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  assert_int_equal(do_write(e, 1, 8, idx, data), 0);
  uint8_t buf[64];
  struct rum_msg_copy_req c = {.src_region = 1, .dst_region = 2, .first_page = 0, .npages = 8};
  int n = rum__wire_encode_copy_req(buf, sizeof buf, &c);
  assert_int_equal(request(e, RUM_MSG_COPY, buf, (size_t)n), RUM_MSG_COPY);
  const uint8_t *got;
  assert_int_equal(do_read(e, 2, 0, 8, &got), 0);
  assert_memory_equal(got, data, 8 * PS);
  c.npages = 9; /* past the end of region 1 */
  n = rum__wire_encode_copy_req(buf, sizeof buf, &c);
  assert_int_equal(request(e, RUM_MSG_COPY, buf, (size_t)n), RUM_MSG_ERROR);
  assert_int_equal(error_code(e), RUM_EINVAL);
  struct rum_msg_resize_req rz = {.region_id = 2, .new_size = 4 * PS};
  n = rum__wire_encode_resize_req(buf, sizeof buf, &rz);
  assert_int_equal(request(e, RUM_MSG_RESIZE, buf, (size_t)n), RUM_MSG_RESIZE);
  assert_int_equal(do_read(e, 2, 4, 1, &got), RUM_EINVAL);
  struct rum_msg_free_req f = {.region_id = 1};
  n = rum__wire_encode_free_req(buf, sizeof buf, &f);
  assert_int_equal(request(e, RUM_MSG_FREE, buf, (size_t)n), RUM_MSG_FREE);
  assert_int_equal(request(e, RUM_MSG_FREE, buf, (size_t)n), RUM_MSG_ERROR);
  assert_int_equal(error_code(e), RUM_ENOENT);
  env_free(e);
}

static void test_named_attach_and_regions(void **state) {
  (void)state;
  struct env *e = env_new(1 << 24);
  assert_int_equal(do_alloc_from(e, CLIENT, SESSION, 0, 3 * PS, "kvs.root"), 0);
  assert_int_equal(do_alloc_from(e, CLIENT + 1, 9, 0, 3 * PS, "kvs.root"), RUM_EEXIST);
  assert_int_equal(do_alloc(e, 1, PS), 0);
  uint8_t buf[300];
  struct rum_msg_attach_req a = {.name = "kvs.root", .name_len = 8};
  int n = rum__wire_encode_attach_req(buf, sizeof buf, &a);
  assert_int_equal(request(e, RUM_MSG_ATTACH, buf, (size_t)n), RUM_MSG_ATTACH);
  struct rum_msg_attach_resp ar;
  assert_int_equal(rum__wire_decode_attach_resp(e->flat, e->flat_len, &ar), 0);
  assert_int_equal(ar.region_id, rum__wire_named_region_id("kvs.root", 8));
  assert_int_equal(ar.size, 3 * PS);
  a.name = "kvs.nope";
  n = rum__wire_encode_attach_req(buf, sizeof buf, &a);
  assert_int_equal(request(e, RUM_MSG_ATTACH, buf, (size_t)n), RUM_MSG_ERROR);
  assert_int_equal(error_code(e), RUM_ENOENT);
  static struct rum_msg_regions_resp rr;
  struct rum_msg_regions_req q = {.flags = 0, .start = 0};
  n = rum__wire_encode_regions_req(buf, sizeof buf, &q);
  assert_int_equal(request(e, RUM_MSG_REGIONS, buf, (size_t)n), RUM_MSG_REGIONS);
  assert_int_equal(rum__wire_decode_regions_resp(e->flat, e->flat_len, &rr), 0);
  assert_int_equal(rr.total, 2);
  assert_int_equal(rr.count, 2);
  q.flags = RUM_REGION_F_NAMED;
  n = rum__wire_encode_regions_req(buf, sizeof buf, &q);
  assert_int_equal(request(e, RUM_MSG_REGIONS, buf, (size_t)n), RUM_MSG_REGIONS);
  assert_int_equal(rum__wire_decode_regions_resp(e->flat, e->flat_len, &rr), 0);
  assert_int_equal(rr.count, 1);
  assert_string_equal(rr.entries[0].name, "kvs.root");
  assert_int_equal(rr.entries[0].owner_session, 0);
  /* 40 regions: the listing comes in pages of RUM_WIRE_MAX_REGIONS_LIST. */
  for (uint64_t i = 10; i < 50; i++) assert_int_equal(do_alloc(e, i, PS), 0);
  q.flags = 0;
  n = rum__wire_encode_regions_req(buf, sizeof buf, &q);
  assert_int_equal(request(e, RUM_MSG_REGIONS, buf, (size_t)n), RUM_MSG_REGIONS);
  assert_int_equal(rum__wire_decode_regions_resp(e->flat, e->flat_len, &rr), 0);
  assert_int_equal(rr.total, 42);
  assert_int_equal(rr.count, RUM_WIRE_MAX_REGIONS_LIST);
  q.start = RUM_WIRE_MAX_REGIONS_LIST;
  n = rum__wire_encode_regions_req(buf, sizeof buf, &q);
  assert_int_equal(request(e, RUM_MSG_REGIONS, buf, (size_t)n), RUM_MSG_REGIONS);
  assert_int_equal(rum__wire_decode_regions_resp(e->flat, e->flat_len, &rr), 0);
  assert_int_equal(rr.count, 42 - RUM_WIRE_MAX_REGIONS_LIST);
  env_free(e);
}

static void test_hello_stat_ping(void **state) {
  (void)state;
  struct env *e = env_new(1 << 24);
  uint8_t buf[64];
  struct rum_msg_hello_req h = {.proto_version = RUM_WIRE_VERSION, .flags = RUM_HELLO_F_CLIENT,
                                .mtu = 1472, .lease_ms = 2000};
  int n = rum__wire_encode_hello_req(buf, sizeof buf, &h);
  assert_int_equal(request(e, RUM_MSG_HELLO, buf, (size_t)n), RUM_MSG_HELLO);
  struct rum_msg_hello_resp hr;
  assert_int_equal(rum__wire_decode_hello_resp(e->flat, e->flat_len, &hr), 0);
  assert_int_equal(hr.node_id, 3);
  assert_int_equal(hr.lease_ms, 2000);
  assert_int_equal(hr.incarnation, 99);
  assert_int_equal(hr.memory_limit, 1 << 24);
  h.proto_version = 7;
  n = rum__wire_encode_hello_req(buf, sizeof buf, &h);
  assert_int_equal(request(e, RUM_MSG_HELLO, buf, (size_t)n), RUM_MSG_ERROR);
  assert_int_equal(error_code(e), RUM_EPROTO);
  assert_int_equal(request(e, RUM_MSG_PING, NULL, 0), RUM_MSG_PING);
  assert_int_equal(e->flat_len, 0);
  assert_int_equal(do_alloc(e, 1, PS), 0);
  struct rum_rpc_stats rs = {.bytes_in = 1234, .duplicates = 5};
  rum__server_set_rpc_stats(e->server, &rs);
  e->now += 500;
  assert_int_equal(request(e, RUM_MSG_STAT, NULL, 0), RUM_MSG_STAT);
  static struct rum_msg_stat_resp sr;
  assert_int_equal(rum__wire_decode_stat_resp(e->flat, e->flat_len, &sr), 0);
  assert_int_equal(sr.node_id, 3);
  assert_int_equal(sr.uptime_ms, 500);
  assert_int_equal(sr.regions, 1);
  assert_int_equal(sr.clients, 1);
  assert_int_equal(sr.requests[RUM_MSG_HELLO], 2);
  assert_int_equal(sr.requests[RUM_MSG_ALLOC], 1);
  assert_int_equal(sr.requests[RUM_MSG_STAT], 1);
  assert_int_equal(sr.errors, 1);
  assert_int_equal(sr.bytes_in, 1234);
  assert_int_equal(sr.retransmits, 5);
  env_free(e);
}

static void test_expired_lease(void **state) {
  (void)state;
  struct env *e = env_new(1 << 24);
  assert_int_equal(do_alloc(e, 1, PS), 0);
  assert_int_equal(do_alloc_from(e, CLIENT, SESSION, 0, PS, "stays"), 0);
  e->now += LEASE_MS + 1;
  assert_int_equal(rum__lease_tick(e->leases, e->now), 1);
  const uint8_t *got;
  assert_int_equal(do_read(e, 1, 0, 1, &got), RUM_ELEASE);
  assert_int_equal(do_alloc(e, 2, PS), RUM_ELEASE);
  /* A heartbeat is answered, saying the lease is gone. */
  uint8_t buf[32];
  struct rum_msg_heartbeat_req hb = {.flags = RUM_HELLO_F_CLIENT};
  int n = rum__wire_encode_heartbeat_req(buf, sizeof buf, &hb);
  assert_int_equal(request(e, RUM_MSG_HEARTBEAT, buf, (size_t)n), RUM_MSG_HEARTBEAT);
  struct rum_msg_heartbeat_resp hr;
  assert_int_equal(rum__wire_decode_heartbeat_resp(e->flat, e->flat_len, &hr), 0);
  assert_int_equal(hr.lease_valid, 0);
  /* Another client reads the named region, which survived. */
  assert_int_equal(rum__page_store_lookup_name(e->store, "stays", 5, &(struct rum_region_info){0}), 0);
  hb.flags = RUM_HELLO_F_CLIENT;
  assert_int_equal(request_from(e, RUM_MSG_HEARTBEAT, CLIENT + 1, 5, buf, (size_t)n), RUM_MSG_HEARTBEAT);
  assert_int_equal(rum__wire_decode_heartbeat_resp(e->flat, e->flat_len, &hr), 0);
  assert_int_equal(hr.lease_valid, 1);
  assert_int_equal(hr.lease_ms, LEASE_MS);
  env_free(e);
}

/* Anything at all, of any type and length, gets a well-formed reply and no crash. */
static void test_garbage_never_crashes(void **state) {
  (void)state;
  struct env *e = env_new(1 << 22);
  assert_int_equal(do_alloc(e, 1, 64 * PS), 0);
  static uint8_t junk[RUM_WIRE_MAX_MSG];
  uint64_t x = 88172645463325252ull;
  unsigned errors = 0;
  for (int iter = 0; iter < 20000; iter++) {
    size_t len;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    switch (x % 4) {
    case 0: len = x % 16; break;
    case 1: len = x % 64; break;
    case 2: len = x % 600; break;
    default: len = x % sizeof junk; break;
    }
    for (size_t i = 0; i < len; i += 8) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      memcpy(junk + i, &x, len - i < 8 ? len - i : 8);
    }
    /* Small region ids and counts now and then, so decoders get past the first fields. */
    if (len >= 8 && iter % 3 == 0) memset(junk, 0, 7);
    uint8_t type = (uint8_t)(iter % (RUM_MSG_TYPE_MAX + 3));
    if (request(e, type, junk, len) == RUM_MSG_ERROR) {
      struct rum_msg_error m;
      assert_int_equal(rum__wire_decode_error(e->flat, e->flat_len, &m), 0);
      assert_true(m.code < 0);
      errors++;
    }
  }
  assert_true(errors > 15000);
  struct rum_server_stats st;
  rum__server_stats(e->server, &st);
  assert_int_equal(st.errors_total, errors);
  env_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_write_read),
      cmocka_unit_test(test_memory_full),
      cmocka_unit_test(test_free_resize_copy),
      cmocka_unit_test(test_named_attach_and_regions),
      cmocka_unit_test(test_hello_stat_ping),
      cmocka_unit_test(test_expired_lease),
      cmocka_unit_test(test_garbage_never_crashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
