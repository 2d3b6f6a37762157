/* rpc_client_test: drives real rumd nodes through the RPC layer and the wire codecs,
 * the way the client library will, and checks every byte that comes back.
 *
 *   rpc_client_test SCENARIO --port P [--timeout MS] [--key-file PATH]
 *                   [--transport udp|dpdk --dpdk-args "EAL args" --bind A.B.C.D]
 *
 * The cluster comes from $RUM_MACHINES (with_cluster.sh sets it, and RUM_CLUSTER_DIR
 * for the node pid files). P is the client's own UDP port (and P+1 for a second
 * endpoint). Scenarios:
 *   roundtrip  allocate regions on every node, write, read back, overwrite, free
 *   kill       SIGKILL node 2 mid-run: its calls fail with RUM_ETIMEDOUT, others go on
 *   dup-alloc  a duplicated ALLOC frame runs once; a retried ALLOC succeeds once
 *   memlimit   (nodes started with --memory-mb 1) writes past the limit get RUM_ENOSPC
 *   lease      (nodes started with --lease-ms 300) a silent client loses its regions
 *   key        (nodes started with --key-file) keyed clients work, others are ignored
 * Run roundtrip with RUM_FAULT_INJECT set for both sides to test under loss. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rum/rum.h>

#include "cluster/machines.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "util/clock.h"

#define TEST_PROGRAM "rpc_client_test"
#include "check.h"

enum { PS = RUM_PAGE_SIZE, CLIENT_ID = 4242 };


/* ---- an endpoint and the calls the client library will make ---- */

struct client {
  struct rum_transport *t;
  struct rum_rpc *rpc;
  struct rum_wire_key key;
  uint64_t session;
  uint64_t retries; /* over all calls */
};

static struct rum_machines machines;
static uint32_t timeout_ms = 3000;
static const char *transport_kind = "udp";
static const char *dpdk_args;
static uint32_t bind_ipv4; /* network order; 0 = 127.0.0.1 */

static struct rum_peer_addr node_addr(unsigned index) {
  struct rum_peer_addr a = {.ipv4 = machines.nodes[index].ipv4, .port = machines.nodes[index].port};
  return a;
}

static void client_open(struct client *c, uint16_t port, const uint8_t *key) {
  memset(c, 0, sizeof *c);
  struct rum_transport_config tc = {.kind = transport_kind, .bind_ipv4 = bind_ipv4 ? bind_ipv4 : htonl(INADDR_LOOPBACK),
                                    .bind_port = port, .dpdk_args = dpdk_args};
  int rc = rum__transport_open(&tc, &c->t);
  CHECK(rc == 0, "cannot open a udp transport on port %u: %s", port, rum_strerror(rc));
  CHECK(getrandom(&c->session, sizeof c->session, 0) == sizeof c->session, "getrandom");
  c->session |= 1;
  if (key != NULL) rum__wire_key_init(&c->key, key);
  struct rum_rpc_config cfg = {.self_id = CLIENT_ID, .session = c->session, .key = key ? &c->key : NULL,
                               .timeout_ms = timeout_ms};
  rc = rum__rpc_create(c->t, &cfg, &c->rpc);
  CHECK(rc == 0, "rum__rpc_create: %s", rum_strerror(rc));
}

static void client_close(struct client *c) {
  rum__rpc_destroy(c->rpc);
  rum__transport_destroy(c->t);
}

/* One prepared call: request bytes in req_buf, response into resp pieces. */
struct op {
  struct rum_rpc_call call;
  uint8_t req_buf[512];
  uint8_t resp_buf[RUM_WIRE_MAX_NODES_LIST * 16 + 512];
};

static void op_init(struct op *o, unsigned node, uint8_t type, int req_len) {
  memset(&o->call, 0, sizeof o->call);
  o->call.to = node_addr(node);
  o->call.type = type;
  o->call.req_iovcnt = req_len > 0 ? 1 : 0;
  o->call.req[0].iov_base = o->req_buf;
  o->call.req[0].iov_len = req_len > 0 ? (size_t)req_len : 0;
  o->call.resp_iovcnt = 1;
  o->call.resp[0].iov_base = o->resp_buf;
  o->call.resp[0].iov_len = sizeof o->resp_buf;
}

static int run(struct client *c, struct op *ops, unsigned n) {
  struct rum_rpc_call calls[8];
  CHECK(n <= 8, "too many calls at once");
  for (unsigned i = 0; i < n; i++) calls[i] = ops[i].call;
  int rc = rum__rpc_call(c->rpc, calls, n);
  for (unsigned i = 0; i < n; i++) {
    ops[i].call = calls[i];
    c->retries += calls[i].retries;
  }
  return rc;
}

static int call_one(struct client *c, struct op *o) { return run(c, o, 1); }

static int do_alloc(struct client *c, unsigned node, uint64_t id, uint64_t size, const char *name) {
  struct op o;
  struct rum_msg_alloc_req m = {.region_id = id, .size = size};
  if (name != NULL) {
    m.flags = RUM_REGION_F_NAMED;
    m.name = name;
    m.name_len = (uint16_t)strlen(name);
    m.region_id = rum__wire_named_region_id(name, m.name_len);
  }
  int len = rum__wire_encode_alloc_req(o.req_buf, sizeof o.req_buf, &m);
  CHECK(len > 0, "encode alloc");
  op_init(&o, node, RUM_MSG_ALLOC, len);
  int rc = call_one(c, &o);
  if (rc != 0) return rc;
  struct rum_msg_alloc_resp r;
  CHECK(rum__wire_decode_alloc_resp(o.resp_buf, o.call.resp_len, &r) == 0, "alloc reply");
  CHECK(r.region_id == m.region_id && r.size == size, "alloc reply fields");
  return 0;
}

static int do_free(struct client *c, unsigned node, uint64_t id) {
  struct op o;
  struct rum_msg_free_req m = {.region_id = id};
  op_init(&o, node, RUM_MSG_FREE, rum__wire_encode_free_req(o.req_buf, sizeof o.req_buf, &m));
  return call_one(c, &o);
}

static void do_stat(struct client *c, unsigned node, struct rum_msg_stat_resp *out) {
  struct op o;
  op_init(&o, node, RUM_MSG_STAT, 0);
  int rc = call_one(c, &o);
  CHECK(rc == 0, "STAT of node %u: %s (%s)", machines.nodes[node].id, rum_strerror(rc), o.call.errtext);
  CHECK(rum__wire_decode_stat_resp(o.resp_buf, o.call.resp_len, out) == 0, "stat reply");
}

/* A page's bytes: a function of region, page and version; version 0 = never written. */
static void pattern(uint8_t *p, uint64_t region, uint64_t page, uint32_t version) {
  uint64_t x = (region * 0x9e3779b97f4a7c15ull) ^ (page << 20) ^ version ^ 0x5bd1e995;
  for (size_t i = 0; i < PS; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    memcpy(p + i, &x, 8);
  }
  if (version == 0) memset(p, 0, PS);
}

/* WRITE and READ for several nodes at once: one call per node, all in flight together. */
struct page_io {
  struct rum_rpc_call call;
  uint8_t fixed[RUM_WIRE_READ_RESP_FIXED + 8 * RUM_WIRE_MAX_PAGES + 16];
  uint8_t reply[64];
  uint8_t *data; /* npages * PS */
};

static int write_pages(struct client *c, unsigned nnodes, const unsigned *nodes, const uint64_t *ids,
                       uint64_t first, uint32_t npages, uint32_t version, struct page_io *io) {
  struct rum_rpc_call calls[8];
  for (unsigned k = 0; k < nnodes; k++) {
    struct rum_msg_write_req m = {.region_id = ids[k], .npages = npages};
    for (uint32_t i = 0; i < npages; i++) {
      m.page_index[i] = first + i;
      pattern(io[k].data + (size_t)i * PS, ids[k], first + i, version);
    }
    int fixed = rum__wire_encode_write_req_fixed(io[k].fixed, sizeof io[k].fixed, &m);
    CHECK(fixed > 0, "encode write");
    struct rum_rpc_call *call = &calls[k];
    memset(call, 0, sizeof *call);
    call->to = node_addr(nodes[k]);
    call->type = RUM_MSG_WRITE;
    call->req_iovcnt = 2;
    call->req[0] = (struct iovec){io[k].fixed, (size_t)fixed};
    call->req[1] = (struct iovec){io[k].data, (size_t)npages * PS};
    call->resp_iovcnt = 1;
    call->resp[0] = (struct iovec){io[k].reply, sizeof io[k].reply};
  }
  int rc = rum__rpc_call(c->rpc, calls, nnodes);
  for (unsigned k = 0; k < nnodes; k++) {
    c->retries += calls[k].retries;
    io[k].call = calls[k];
    if (calls[k].status != 0) continue;
    struct rum_msg_write_resp r;
    CHECK(rum__wire_decode_write_resp(io[k].reply, calls[k].resp_len, &r) == 0 && r.npages == npages,
          "write reply");
  }
  return rc;
}

static int read_pages(struct client *c, unsigned nnodes, const unsigned *nodes, const uint64_t *ids,
                      uint64_t first, uint32_t npages, struct page_io *io) {
  struct rum_rpc_call calls[8];
  for (unsigned k = 0; k < nnodes; k++) {
    struct rum_msg_read_req m = {.region_id = ids[k], .first_page = first, .npages = npages};
    uint8_t *req = io[k].reply; /* the request is small; its buffer is free until the reply */
    int len = rum__wire_encode_read_req(req, sizeof io[k].reply, &m);
    CHECK(len > 0, "encode read");
    struct rum_rpc_call *call = &calls[k];
    memset(call, 0, sizeof *call);
    call->to = node_addr(nodes[k]);
    call->type = RUM_MSG_READ;
    call->req_iovcnt = 1;
    call->req[0] = (struct iovec){req, (size_t)len};
    call->resp_iovcnt = 2;
    call->resp[0] = (struct iovec){io[k].fixed, RUM_WIRE_READ_RESP_FIXED};
    call->resp[1] = (struct iovec){io[k].data, (size_t)npages * PS};
  }
  int rc = rum__rpc_call(c->rpc, calls, nnodes);
  for (unsigned k = 0; k < nnodes; k++) {
    c->retries += calls[k].retries;
    io[k].call = calls[k];
    if (calls[k].status != 0) continue;
    CHECK(calls[k].resp_len == RUM_WIRE_READ_RESP_FIXED + npages * PS, "read reply length %u",
          calls[k].resp_len);
    CHECK(rum__wire_encode_read_resp_fixed(io[k].reply, sizeof io[k].reply,
                                           &(struct rum_msg_read_resp){.region_id = ids[k], .first_page = first,
                                                                       .npages = npages}) ==
              RUM_WIRE_READ_RESP_FIXED,
          "encode expected read reply");
    CHECK(memcmp(io[k].reply, io[k].fixed, RUM_WIRE_READ_RESP_FIXED) == 0, "read reply header");
  }
  return rc;
}

/* Compare what a READ returned with what the pages should hold. */
static void verify(const uint8_t *data, uint64_t region, uint64_t first, uint32_t npages,
                   const uint32_t *versions) {
  uint8_t expect[PS];
  for (uint32_t i = 0; i < npages; i++) {
    pattern(expect, region, first + i, versions[first + i]);
    const uint8_t *got = data + (size_t)i * PS;
    if (memcmp(got, expect, PS) != 0) {
      size_t at = 0;
      while (got[at] == expect[at]) at++;
      CHECK(0, "region %016" PRIx64 " page %" PRIu64 " differs at byte %zu (got %02x, want %02x, version %u)",
            region, first + i, at, got[at], expect[at], versions[first + i]);
    }
  }
}

static void io_alloc(struct page_io *io, unsigned n) {
  for (unsigned k = 0; k < n; k++) {
    io[k].data = malloc((size_t)RUM_WIRE_MAX_PAGES * PS);
    CHECK(io[k].data != NULL, "malloc");
  }
}

/* ---- scenarios ---- */

enum { RT_REGIONS = 3, RT_PAGES = 300 };

static void scenario_roundtrip(struct client *c) {
  unsigned n = machines.nnodes;
  CHECK(n >= 1 && n <= 8, "roundtrip wants 1..8 nodes");
  unsigned nodes[8];
  uint64_t ids[8];
  struct page_io io[8];
  io_alloc(io, n);
  static uint32_t versions[8][RT_PAGES + 1];
  uint64_t allocs[8] = {0};
  struct rum_msg_stat_resp before[8], after;
  for (unsigned k = 0; k < n; k++) {
    nodes[k] = k;
    do_stat(c, k, &before[k]);
  }
  uint64_t checked = 0;
  for (unsigned r = 0; r < RT_REGIONS; r++) {
    memset(versions, 0, sizeof versions);
    uint64_t size = (uint64_t)RT_PAGES * PS + 123; /* the last page is partial */
    for (unsigned k = 0; k < n; k++) {
      ids[k] = ((uint64_t)machines.nodes[k].id << 32) | (r + 1);
      int rc = do_alloc(c, k, ids[k], size, NULL);
      CHECK(rc == 0, "ALLOC on node %u: %s", machines.nodes[k].id, rum_strerror(rc));
      allocs[k]++;
    }
    /* Write every page but each 7th, in batches of 1..64 pages. */
    for (uint64_t p = 0; p <= RT_PAGES;) {
      uint32_t batch = 1 + (uint32_t)((p * 31 + r * 7) % RUM_WIRE_MAX_PAGES);
      if (p + batch > RT_PAGES + 1) batch = (uint32_t)(RT_PAGES + 1 - p);
      if (p % 7 == 3) {
        p++;
        continue;
      }
      if (batch > 1 && (p + batch - 1) % 7 == 3) batch--; /* leave holes */
      int rc = write_pages(c, n, nodes, ids, p, batch, r + 1, io);
      CHECK(rc == 0, "WRITE of pages %" PRIu64 "+%u: %s (%s)", p, batch, rum_strerror(rc), io[0].call.errtext);
      for (uint32_t i = 0; i < batch; i++)
        for (unsigned k = 0; k < n; k++) versions[k][p + i] = r + 1;
      p += batch;
    }
    /* Overwrite a few pages with a new version. */
    for (unsigned k = 0; k < n; k++) {
      CHECK(write_pages(c, 1, &nodes[k], &ids[k], 100 + k, 5, 100 + r, &io[k]) == 0, "overwrite");
      for (uint32_t i = 0; i < 5; i++) versions[k][100 + k + i] = 100 + r;
    }
    /* Read everything back in batches of 1, 13 and 64 pages, every node at once. */
    static const uint32_t sizes[] = {1, 13, 64};
    for (unsigned s = 0; s < 3; s++) {
      for (uint64_t p = 0; p <= RT_PAGES; p += sizes[s]) {
        uint32_t batch = sizes[s];
        if (p + batch > RT_PAGES + 1) batch = (uint32_t)(RT_PAGES + 1 - p);
        int rc = read_pages(c, n, nodes, ids, p, batch, io);
        CHECK(rc == 0, "READ of pages %" PRIu64 "+%u: %s (%s)", p, batch, rum_strerror(rc), io[0].call.errtext);
        for (unsigned k = 0; k < n; k++) verify(io[k].data, ids[k], p, batch, versions[k]);
        checked += (uint64_t)batch * n;
      }
    }
    /* Past the end is refused with a reason. */
    int rc = read_pages(c, 1, nodes, ids, RT_PAGES, 2, io);
    CHECK(rc == RUM_EINVAL, "READ past the end: %s", rum_strerror(rc));
    for (unsigned k = 0; k < n; k++) {
      rc = do_free(c, k, ids[k]);
      CHECK(rc == 0, "FREE on node %u: %s", machines.nodes[k].id, rum_strerror(rc));
    }
    rc = read_pages(c, 1, nodes, ids, 0, 1, io);
    CHECK(rc == RUM_ENOENT, "READ after FREE: %s", rum_strerror(rc));
  }
  /* However often the network made us retry, each ALLOC ran exactly once. */
  for (unsigned k = 0; k < n; k++) {
    do_stat(c, k, &after);
    uint64_t ran = after.requests[RUM_MSG_ALLOC] - before[k].requests[RUM_MSG_ALLOC];
    CHECK(ran == allocs[k], "node %u ran %" PRIu64 " ALLOCs for %" PRIu64 " calls", machines.nodes[k].id, ran,
          allocs[k]);
    CHECK(after.regions == before[k].regions, "node %u keeps regions after FREE", machines.nodes[k].id);
    say("node %u: %" PRIu64 " requests, %" PRIu64 " duplicates seen, %" PRIu64 " frames dropped",
        machines.nodes[k].id, after.requests[RUM_MSG_READ] + after.requests[RUM_MSG_WRITE], after.retransmits,
        after.drops);
  }
  say("roundtrip: %" PRIu64 " pages compared byte for byte on %u nodes, %" PRIu64 " retransmissions", checked, n,
      c->retries);
  for (unsigned k = 0; k < n; k++) free(io[k].data);
}

static pid_t node_pid(unsigned id) {
  const char *dir = getenv("RUM_CLUSTER_DIR");
  CHECK(dir != NULL, "RUM_CLUSTER_DIR is not set (run under with_cluster.sh)");
  char path[512];
  snprintf(path, sizeof path, "%s/node-%u.pid", dir, id);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL, "cannot open %s: %s", path, strerror(errno));
  int pid = 0;
  CHECK(fscanf(f, "%d", &pid) == 1 && pid > 0, "bad pid file %s", path);
  fclose(f);
  return (pid_t)pid;
}

static void scenario_kill(struct client *c) {
  CHECK(machines.nnodes >= 3, "kill wants 3 nodes");
  unsigned nodes[3] = {0, 1, 2};
  uint64_t ids[3];
  struct page_io io[3];
  io_alloc(io, 3);
  static uint32_t versions[3][64];
  for (unsigned k = 0; k < 3; k++) {
    ids[k] = 0x1000 + k;
    CHECK(do_alloc(c, k, ids[k], 64 * PS, NULL) == 0, "alloc");
    for (unsigned p = 0; p < 64; p++) versions[k][p] = 1;
  }
  CHECK(write_pages(c, 3, nodes, ids, 0, 64, 1, io) == 0, "write");
  CHECK(read_pages(c, 3, nodes, ids, 0, 64, io) == 0, "read");
  for (unsigned k = 0; k < 3; k++) verify(io[k].data, ids[k], 0, 64, versions[k]);
  pid_t victim = node_pid(machines.nodes[1].id);
  say("killing node %u (pid %d) with SIGKILL", machines.nodes[1].id, (int)victim);
  CHECK(kill(victim, SIGKILL) == 0, "kill: %s", strerror(errno));
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%d/status", (int)victim);
  for (int i = 0; i < 200; i++) { /* wait until it is gone (or a zombie) */
    FILE *f = fopen(proc, "r");
    if (f == NULL) break;
    char line[128];
    bool zombie = false;
    while (fgets(line, sizeof line, f))
      if (strncmp(line, "State:", 6) == 0 && strchr(line, 'Z') != NULL) zombie = true;
    fclose(f);
    if (zombie) break;
    usleep(10000);
  }
  /* All three at once: the dead node's call times out, the others answer. */
  uint64_t t0 = rum__now_ns();
  int rc = read_pages(c, 3, nodes, ids, 0, 64, io);
  uint64_t ms = (rum__now_ns() - t0) / 1000000;
  CHECK(rc == RUM_ETIMEDOUT, "a call to the killed node gave %s", rum_strerror(rc));
  CHECK(io[1].call.status == RUM_ETIMEDOUT, "node 2's call: %s", rum_strerror(io[1].call.status));
  CHECK(io[0].call.status == 0 && io[2].call.status == 0, "live nodes: %s / %s", rum_strerror(io[0].call.status),
        rum_strerror(io[2].call.status));
  verify(io[0].data, ids[0], 0, 64, versions[0]);
  verify(io[2].data, ids[2], 0, 64, versions[2]);
  CHECK(ms >= timeout_ms * 9 / 10 && ms <= timeout_ms + 1500, "timed out after %" PRIu64 " ms, timeout %u", ms,
        timeout_ms);
  say("call to the killed node failed with RUM_ETIMEDOUT after %" PRIu64 " ms (%s)", ms, io[1].call.errtext);
  /* And again alone: no hang, same error. */
  t0 = rum__now_ns();
  rc = do_alloc(c, 1, 0x2000, PS, NULL);
  ms = (rum__now_ns() - t0) / 1000000;
  CHECK(rc == RUM_ETIMEDOUT && ms <= timeout_ms + 1500, "alloc on the dead node: %s after %" PRIu64 " ms",
        rum_strerror(rc), ms);
  for (unsigned k = 0; k < 3; k++) free(io[k].data);
}

/* Send one ALLOC frame twice with the same seq on a plain socket: one region, one run,
 * two identical answers. */
static void scenario_dup_alloc(struct client *c, uint16_t raw_port) {
  unsigned node = 0;
  struct rum_msg_stat_resp before, after;
  do_stat(c, node, &before);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0, "socket");
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(raw_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  CHECK(bind(fd, (struct sockaddr *)&me, sizeof me) == 0, "bind %u: %s", raw_port, strerror(errno));
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(machines.nodes[node].port),
                           .sin_addr.s_addr = machines.nodes[node].ipv4};
  uint8_t frame[RUM_WIRE_HEADER_SIZE + 64];
  struct rum_msg_alloc_req m = {.region_id = 0x777, .size = 10 * PS};
  int len = rum__wire_encode_alloc_req(frame + RUM_WIRE_HEADER_SIZE, 64, &m);
  struct rum_wire_header h = {.type = RUM_MSG_ALLOC, .sender = CLIENT_ID + 1, .frag_count = 1,
                              .session = 0xd00d, .seq = 1, .msg_len = (uint32_t)len,
                              .payload_len = (uint32_t)len};
  CHECK(rum__wire_frame_seal(frame, RUM_WIRE_HEADER_SIZE + (size_t)len, &h, NULL) == 0, "seal");
  unsigned answers = 0;
  for (int round = 0; round < 3; round++) { /* the original and two duplicates */
    CHECK(sendto(fd, frame, RUM_WIRE_HEADER_SIZE + (size_t)len, 0, (struct sockaddr *)&to, sizeof to) > 0,
          "sendto");
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 2000) != 1) continue;
    uint8_t in[2048];
    ssize_t got = recv(fd, in, sizeof in, 0);
    struct rum_wire_header rh;
    CHECK(got > 0 && rum__wire_frame_open(in, (size_t)got, &rh, NULL) == 0, "reply frame");
    CHECK(rh.type == RUM_MSG_ALLOC && (rh.flags & RUM_WIRE_F_RESPONSE) && rh.seq == 1,
          "reply type %u flags %x seq %" PRIu64, rh.type, rh.flags, rh.seq);
    struct rum_msg_alloc_resp r;
    CHECK(rum__wire_decode_alloc_resp(in + RUM_WIRE_HEADER_SIZE, rh.payload_len, &r) == 0 && r.region_id == 0x777,
          "alloc reply");
    answers++;
  }
  close(fd);
  CHECK(answers == 3, "%u answers to 3 copies", answers);
  /* The node's RPC-level counters reach STAT after its loop's current slice. */
  uint64_t t0 = rum__now_ns();
  do {
    do_stat(c, node, &after);
  } while (after.retransmits - before.retransmits < 2 && rum__now_ns() - t0 < 2000000000ull && !usleep(10000));
  CHECK(after.requests[RUM_MSG_ALLOC] - before.requests[RUM_MSG_ALLOC] == 1, "ALLOC ran %" PRIu64 " times",
        after.requests[RUM_MSG_ALLOC] - before.requests[RUM_MSG_ALLOC]);
  /* At least our two copies (our own endpoint may have retransmitted a STAT, too). */
  CHECK(after.retransmits - before.retransmits >= 2, "%" PRIu64 " duplicates counted",
        after.retransmits - before.retransmits);
  CHECK(after.regions == before.regions + 1, "regions %" PRIu64 " -> %" PRIu64, before.regions, after.regions);
  /* The same ALLOC again as a new request from the same session (a client retrying
   * after a timeout) succeeds; from another session the id is taken. */
  CHECK(do_alloc(c, node, 0x778, 10 * PS, NULL) == 0, "alloc");
  CHECK(do_alloc(c, node, 0x778, 10 * PS, NULL) == 0, "retried alloc");
  CHECK(do_alloc(c, node, 0x778, 11 * PS, NULL) == RUM_EEXIST, "alloc with another size");
  CHECK(do_alloc(c, node, 0x777, 10 * PS, NULL) == RUM_EEXIST, "another session's id");
  CHECK(do_alloc(c, node, 0, PS, "dup.named") == 0, "named alloc");
  CHECK(do_alloc(c, node, 0, PS, "dup.named") == RUM_EEXIST, "a second named alloc is EEXIST");
  say("dup-alloc: 3 copies of one ALLOC frame ran once and were answered 3 times");
}

static void scenario_memlimit(struct client *c) {
  unsigned node = 0;
  struct page_io io[1];
  io_alloc(io, 1);
  static uint32_t versions[1000];
  uint64_t id = 0x4000;
  CHECK(do_alloc(c, node, id, 1000 * PS, NULL) == 0, "alloc");
  struct rum_msg_stat_resp st;
  do_stat(c, node, &st);
  CHECK(st.memory_limit == 1 << 20, "memory limit %" PRIu64 " (start the nodes with --memory-mb 1)",
        st.memory_limit);
  uint64_t limit_pages = st.memory_limit / PS;
  for (uint64_t p = 0; p < limit_pages; p += 64) {
    CHECK(write_pages(c, 1, &node, &id, p, 64, 1, io) == 0, "write below the limit: %s", io[0].call.errtext);
    for (unsigned i = 0; i < 64; i++) versions[p + i] = 1;
  }
  int rc = write_pages(c, 1, &node, &id, limit_pages, 1, 1, io);
  CHECK(rc == RUM_ENOSPC, "write past the limit: %s", rum_strerror(rc));
  CHECK(strstr(io[0].call.errtext, "full") != NULL, "error text '%s'", io[0].call.errtext);
  say("past the limit: %s (%s)", rum_strerror(rc), io[0].call.errtext);
  /* A batch that only partly fits changes nothing. */
  rc = write_pages(c, 1, &node, &id, limit_pages - 2, 4, 2, io);
  CHECK(rc == RUM_ENOSPC, "straddling write: %s", rum_strerror(rc));
  CHECK(write_pages(c, 1, &node, &id, 0, 1, 3, io) == 0, "overwrite when full");
  versions[0] = 3;
  do_stat(c, node, &st);
  CHECK(st.memory_used == st.memory_limit, "used %" PRIu64, st.memory_used);
  for (uint64_t p = 0; p < limit_pages + 64; p += 64) {
    CHECK(read_pages(c, 1, &node, &id, p, 64, io) == 0, "read");
    verify(io[0].data, id, p, 64, versions);
  }
  CHECK(do_free(c, node, id) == 0, "free");
  CHECK(do_alloc(c, node, id + 1, 64 * PS, NULL) == 0, "alloc");
  CHECK(write_pages(c, 1, &node, &(uint64_t){id + 1}, 0, 64, 1, io) == 0, "write after free");
  free(io[0].data);
}

static void scenario_lease(struct client *c, uint16_t port2) {
  unsigned node = 0;
  struct page_io io[1];
  io_alloc(io, 1);
  uint64_t id = 0x5000;
  uint64_t named = rum__wire_named_region_id("lease.keep", 10);
  CHECK(do_alloc(c, node, id, 8 * PS, NULL) == 0, "alloc");
  CHECK(do_alloc(c, node, 0, 8 * PS, "lease.keep") == 0, "named alloc");
  CHECK(write_pages(c, 1, &node, &id, 0, 8, 1, io) == 0, "write");
  CHECK(write_pages(c, 1, &node, &named, 0, 8, 1, io) == 0, "write named");
  /* Fall silent; another client watches the node until it reclaims. */
  struct client other;
  client_open(&other, port2, NULL);
  struct rum_msg_stat_resp st;
  uint64_t t0 = rum__now_ns();
  do {
    usleep(50000);
    do_stat(&other, node, &st);
  } while (st.reclaims == 0 && rum__now_ns() - t0 < 10ull * 1000000000);
  CHECK(st.reclaims == 1, "%" PRIu64 " regions reclaimed", st.reclaims);
  say("the node reclaimed the silent client's region after %" PRIu64 " ms",
      (rum__now_ns() - t0) / 1000000);
  /* The silent client hears why its memory is gone. */
  int rc = read_pages(c, 1, &node, &id, 0, 1, io);
  CHECK(rc == RUM_ELEASE, "read by the expired client: %s", rum_strerror(rc));
  say("expired client: %s (%s)", rum_strerror(rc), io[0].call.errtext);
  CHECK(do_alloc(c, node, 0x5001, PS, NULL) == RUM_ELEASE, "alloc by the expired client");
  /* The named region survived, bytes intact; the plain one is gone. */
  static uint32_t versions[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(read_pages(&other, 1, &node, &named, 0, 8, io) == 0, "read named");
  verify(io[0].data, named, 0, 8, versions);
  CHECK(read_pages(&other, 1, &node, &id, 0, 1, io) == RUM_ENOENT, "reclaimed region still there");
  client_close(&other);
  free(io[0].data);
}

static void scenario_key(struct client *keyed, uint16_t port2) {
  unsigned node = 0;
  struct page_io io[1];
  io_alloc(io, 1);
  uint64_t id = 0x6000;
  static uint32_t versions[4] = {1, 1, 1, 1};
  CHECK(do_alloc(keyed, node, id, 4 * PS, NULL) == 0, "keyed alloc");
  CHECK(write_pages(keyed, 1, &node, &id, 0, 4, 1, io) == 0, "keyed write");
  CHECK(read_pages(keyed, 1, &node, &id, 0, 4, io) == 0, "keyed read");
  verify(io[0].data, id, 0, 4, versions);
  struct client plain;
  client_open(&plain, port2, NULL);
  struct op o;
  op_init(&o, node, RUM_MSG_PING, 0);
  o.call.timeout_ms = 300;
  int rc = call_one(&plain, &o);
  CHECK(rc == RUM_ETIMEDOUT, "a client without the key got %s", rum_strerror(rc));
  client_close(&plain);
  struct rum_msg_stat_resp st;
  uint64_t t0 = rum__now_ns();
  do {
    do_stat(keyed, node, &st);
  } while (st.auth_drops == 0 && rum__now_ns() - t0 < 2000000000ull && !usleep(10000));
  CHECK(st.auth_drops > 0, "no frames dropped for a bad MAC");
  say("key: keyed client served, unkeyed one ignored (%" PRIu64 " frames dropped)", st.auth_drops);
  free(io[0].data);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: rpc_client_test roundtrip|kill|dup-alloc|memlimit|lease|key --port P "
                    "[--timeout MS] [--key-file PATH] [--transport udp|dpdk] [--dpdk-args ARGS] [--bind ADDR]\n");
    return 2;
  }
  const char *scenario = argv[1];
  unsigned port = 0;
  const char *key_file = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) port = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--timeout") == 0) timeout_ms = (uint32_t)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--key-file") == 0) key_file = argv[i + 1];
    else if (strcmp(argv[i], "--transport") == 0) transport_kind = argv[i + 1];
    else if (strcmp(argv[i], "--dpdk-args") == 0) dpdk_args = argv[i + 1];
    else if (strcmp(argv[i], "--bind") == 0) CHECK(inet_pton(AF_INET, argv[i + 1], &bind_ipv4) == 1, "bad --bind");
    else CHECK(0, "unknown argument %s", argv[i]);
  }
  CHECK(port > 0 && port < 65535, "--port P is required");
  const char *path = getenv("RUM_MACHINES");
  CHECK(path != NULL, "RUM_MACHINES is not set (run under with_cluster.sh)");
  char err[RUM_MACHINES_ERR_MAX];
  int rc = rum__machines_load(path, &machines, err, sizeof err);
  CHECK(rc == 0, "%s", err);
  uint8_t key[RUM_WIRE_KEY_SIZE];
  if (key_file != NULL) CHECK(rum__machines_load_key(key_file, key, err, sizeof err) == 0, "%s", err);
  const char *faults = getenv("RUM_FAULT_INJECT");
  say("%s against %u nodes from %s, timeout %u ms%s%s", scenario, machines.nnodes, path, timeout_ms,
      faults ? ", faults " : "", faults ? faults : "");
  struct client c;
  client_open(&c, (uint16_t)port, key_file ? key : NULL);
  if (strcmp(scenario, "roundtrip") == 0) scenario_roundtrip(&c);
  else if (strcmp(scenario, "kill") == 0) scenario_kill(&c);
  else if (strcmp(scenario, "dup-alloc") == 0) scenario_dup_alloc(&c, (uint16_t)(port + 1));
  else if (strcmp(scenario, "memlimit") == 0) scenario_memlimit(&c);
  else if (strcmp(scenario, "lease") == 0) scenario_lease(&c, (uint16_t)(port + 1));
  else if (strcmp(scenario, "key") == 0) scenario_key(&c, (uint16_t)(port + 1));
  else CHECK(0, "unknown scenario %s", scenario);
  client_close(&c);
  say("PASS %s", scenario);
  return 0;
}
