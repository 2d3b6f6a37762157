#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rum/rum_errors.h>

#include "bench.h"
#include "bench_raw.h"
#include "cluster/machines.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "util/clock.h"

static int raw_call(struct rum_rpc *rpc, const struct rum_peer_addr *to, uint8_t type, struct iovec *req,
                    int nreq, void *resp, size_t resp_len) {
  struct rum_rpc_call c;
  memset(&c, 0, sizeof c);
  c.to = *to;
  c.type = type;
  c.req_iovcnt = nreq;
  for (int i = 0; i < nreq; i++) c.req[i] = req[i];
  c.resp_iovcnt = 1;
  c.resp[0].iov_base = resp;
  c.resp[0].iov_len = resp_len;
  int rc = rum__rpc_call(rpc, &c, 1);
  if (rc != 0) fprintf(stderr, "rum-bench: raw RPC type %u: %s %s\n", type, rum_strerror(rc), c.errtext);
  return rc;
}

int bench_raw_read_rtt(const char *machines, unsigned iterations, struct bench_raw_result *out) {
  static struct rum_machines m;
  char err[512];
  if (machines == NULL) machines = getenv("RUM_MACHINES");
  if (machines == NULL) machines = "machines.csv";
  if (rum__machines_load(machines, &m, err, sizeof err) != 0) {
    fprintf(stderr, "rum-bench: %s\n", err);
    return 1;
  }
  struct rum_wire_key key;
  bool keyed = false;
  if (m.key_file[0]) {
    uint8_t raw[RUM_WIRE_KEY_SIZE];
    if (rum__machines_load_key(m.key_file, raw, err, sizeof err) != 0) {
      fprintf(stderr, "rum-bench: %s\n", err);
      return 1;
    }
    rum__wire_key_init(&key, raw);
    keyed = true;
  }
  struct rum_transport_config tcfg = {.mtu = m.mtu};
  struct rum_transport *t;
  if (rum__transport_open(&tcfg, &t) != 0) return 1;
  uint64_t session = 0;
  if (getrandom(&session, sizeof session, 0) != sizeof session) session = rum__now_ns();
  struct rum_rpc_config rcfg = {.self_id = 0xbe0c, .session = session | 1, .key = keyed ? &key : NULL};
  struct rum_rpc *rpc;
  if (rum__rpc_create(t, &rcfg, &rpc) != 0) return 1;
  /* One one-page region on every node, read round-robin: a striped region's cold
   * faults go to all nodes in turn, so the baseline does too. */
  unsigned nn = m.nnodes;
  struct rum_peer_addr to[RUM_MAX_NODES];
  for (unsigned k = 0; k < nn; k++) to[k] = (struct rum_peer_addr){.ipv4 = m.nodes[k].ipv4, .port = m.nodes[k].port};
  int status = 1;
  uint64_t region = (session >> 1) & ~(1ull << 63);
  uint8_t buf[64], resp[RUM_WIRE_READ_RESP_FIXED + RUM_PAGE_SIZE];
  static uint8_t page[RUM_PAGE_SIZE];
  memset(page, 0x5a, sizeof page);
  struct iovec iov[2] = {{buf, 0}, {page, sizeof page}};
  unsigned allocated = 0;
  struct bench_samples s = {0};
  for (; allocated < nn; allocated++) {
    struct rum_msg_alloc_req a = {.region_id = region, .size = RUM_PAGE_SIZE, .reserve = RUM_PAGE_SIZE};
    iov[0].iov_len = (size_t)rum__wire_encode_alloc_req(buf, sizeof buf, &a);
    if (raw_call(rpc, &to[allocated], RUM_MSG_ALLOC, iov, 1, resp, sizeof resp) != 0) goto out;
    struct rum_msg_write_req w = {.region_id = region, .npages = 1, .page_index = {0}};
    iov[0].iov_len = (size_t)rum__wire_encode_write_req_fixed(buf, sizeof buf, &w);
    if (raw_call(rpc, &to[allocated], RUM_MSG_WRITE, iov, 2, resp, sizeof resp) != 0) goto out;
  }
  bench_samples_init(&s, iterations);
  struct rum_msg_read_req r = {.region_id = region, .first_page = 0, .npages = 1};
  iov[0].iov_len = (size_t)rum__wire_encode_read_req(buf, sizeof buf, &r);
  for (unsigned i = 0; i < iterations + 100; i++) {
    uint64_t t0 = rum__now_ns();
    if (raw_call(rpc, &to[i % nn], RUM_MSG_READ, iov, 1, resp, sizeof resp) != 0) goto out;
    if (i >= 100) bench_samples_add(&s, rum__now_ns() - t0);
  }
  out->median_us = bench_quantile(&s, 0.5) / 1000;
  out->p99_us = bench_quantile(&s, 0.99) / 1000;
  status = 0;
out:
  bench_samples_free(&s);
  for (unsigned k = 0; k < allocated; k++) {
    struct rum_msg_free_req f = {.region_id = region};
    iov[0].iov_len = (size_t)rum__wire_encode_free_req(buf, sizeof buf, &f);
    (void)raw_call(rpc, &to[k], RUM_MSG_FREE, iov, 1, resp, sizeof resp);
  }
  rum__rpc_destroy(rpc);
  rum__transport_destroy(t);
  return status;
}
