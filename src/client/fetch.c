/* Page reads and writes against the memory nodes: the half of the remote the page
 * cache calls, often from inside the fault handler. Nothing here allocates or takes
 * a lock other than the RPC layer's spinlocks; buffers are the caller's or the
 * preallocated staging areas.
 *
 * A READ covers one node's pages: a run of pages is split where the chunk's home
 * changes, and the pieces go out as concurrent calls of one rum__rpc_call, or of one
 * RPC batch left in flight (read-ahead: rum__net_fetch_start, finished when the
 * program reaches those pages). Write-back
 * groups pages per (node, region) into WRITE messages, all in flight at once. */
#include <sched.h>
#include <string.h>
#include <time.h>

#include "client/remote.h"
#include "proto/le.h"
#include "util/log.h"

_Static_assert((int)RUM_CHUNK_PAGES == (int)RUM_RING_CHUNK_PAGES, "client and nodes agree on chunks");

/* With replication > 1 a chunk's reads and writes go to its group's leader as this
 * client knows it (pinning does not apply: every member keeps the chunk). */
static const struct rum_group *chunk_group(const struct rum_net *net, const struct rum_region *r, uint64_t chunk) {
  return rum__groups_of_key(net->groups, rum__ring_chunk_key(r->id, chunk));
}

uint32_t rum__net_chunk_home(const struct rum_net *net, const struct rum_region *r, uint64_t chunk) {
  if (net->groups != NULL) {
    const struct rum_group *g = chunk_group(net, r, chunk);
    uint32_t hint = atomic_load_explicit(&net->leader_hint[rum__groups_index(net->groups, g)], memory_order_relaxed);
    return hint != 0 ? hint : g->members[0];
  }
  if (r->pinned_node >= 0) return (uint32_t)r->pinned_node;
  return rum__ring_lookup(net->ring, rum__ring_chunk_key(r->id, chunk));
}

unsigned rum__net_chunk_replicas(const struct rum_net *net, const struct rum_region *r, uint64_t chunk, uint32_t *ids) {
  if (net->groups == NULL) {
    ids[0] = rum__net_chunk_home(net, r, chunk);
    return 1;
  }
  const struct rum_group *g = chunk_group(net, r, chunk);
  memcpy(ids, g->members, g->nmembers * sizeof *ids);
  return g->nmembers;
}

/* replication > 1: a call to node for page of r failed with rc. Move the chunk's
 * leader hint to the leader the node named, else (no leader named, no answer) to the
 * member after node; a busy leader (RUM_EAGAIN) keeps it. Returns whether trying
 * again may succeed. */
static bool reroute(struct rum_net *net, const struct rum_region *r, uint64_t page, uint32_t node, int rc,
                    const char *errtext) {
  if (net->groups == NULL || (rc != RUM_ENOTLEADER && rc != RUM_ETIMEDOUT && rc != RUM_EAGAIN)) return false;
  if (rc == RUM_EAGAIN) return true; /* the leader is busy: the same node again */
  const struct rum_group *g = chunk_group(net, r, page >> RUM_CHUNK_SHIFT);
  uint32_t next = rc == RUM_ENOTLEADER ? rum__group_redirect_leader(errtext) : 0;
  if (next == 0 || next == node) {
    int k = rum__group_member_index(g, node);
    next = g->members[(unsigned)(k + 1) % g->nmembers];
  }
  uint32_t expected = node;
  _Atomic uint32_t *hint = &net->leader_hint[rum__groups_index(net->groups, g)];
  if (!atomic_compare_exchange_strong(hint, &expected, next) && expected == 0 && node == g->members[0])
    atomic_compare_exchange_strong(hint, &expected, next);
  return true;
}

/* Between re-routed attempts: give an election time (nanosleep is signal safe). */
static void reroute_pause(unsigned attempt) {
  struct timespec ts = {0, attempt < 3 ? 2000000L : 20000000L};
  nanosleep(&ts, NULL);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct rum_net_node *rum__net_node(struct rum_net *net, uint32_t id) {
  if (id > RUM_NODE_ID_MAX || net->index_of[id] == 0) return NULL;
  return &net->nodes[net->index_of[id] - 1];
}

static void call_init(struct rum_rpc_call *c, const struct rum_net_node *node, uint8_t type) {
  memset(c, 0, offsetof(struct rum_rpc_call, status));
  c->to = node->addr;
  c->type = type;
}

/* Build op's READs for pages [first, first + npages) of r into dst: one per run of
 * chunks homed on one node. Returns 0 or RUM_E* with *err. */
static int fetch_prepare(struct rum_net *net, struct rum_fetch_op *op, struct rum_region *r, uint64_t first,
                         uint32_t npages, uint8_t *dst, struct rum_store_error *err) {
  unsigned n = 0;
  op->region_id = r->id;
  op->first = first;
  op->region = r;
  op->dst = dst;
  op->npages = npages;
  for (uint64_t p = first; p < first + npages;) {
    uint64_t chunk_end = ((p >> RUM_CHUNK_SHIFT) + 1) << RUM_CHUNK_SHIFT;
    uint64_t end = chunk_end < first + npages ? chunk_end : first + npages;
    uint32_t home = rum__net_chunk_home(net, r, p >> RUM_CHUNK_SHIFT);
    /* With replication > 1 one READ stays in one group: a redirect names its leader. */
    bool same_group = net->groups == NULL ||
                      (n > 0 && chunk_group(net, r, op->starts[n - 1] >> RUM_CHUNK_SHIFT) ==
                                    chunk_group(net, r, p >> RUM_CHUNK_SHIFT));
    if (n > 0 && op->homes[n - 1] == home && same_group) {
      op->counts[n - 1] += (uint32_t)(end - p); /* next chunk on the same node: one READ */
    } else {
      op->homes[n] = home;
      op->starts[n] = p;
      op->counts[n] = (uint32_t)(end - p);
      n++;
    }
    p = end;
  }
  op->n = n;
  for (unsigned i = 0; i < n; i++) {
    struct rum_net_node *node = rum__net_node(net, op->homes[i]);
    if (node == NULL) {
      err->node_id = op->homes[i];
      err->code = RUM_ECONFIG;
      return RUM_ECONFIG;
    }
    struct rum_msg_read_req m = {.region_id = r->id, .first_page = op->starts[i], .npages = op->counts[i]};
    int len = rum__wire_encode_read_req(op->req[i], sizeof op->req[i], &m);
    if (len < 0) return len;
    struct rum_rpc_call *c = &op->calls[i];
    call_init(c, node, RUM_MSG_READ);
    if (net->groups != NULL) c->timeout_ms = RUM_NET_REPL_CALL_MS;
    c->req_iovcnt = 1;
    c->req[0] = (struct iovec){op->req[i], (size_t)len};
    c->resp_iovcnt = 2;
    c->resp[0] = (struct iovec){op->fixed[i], RUM_WIRE_READ_RESP_FIXED};
    c->resp[1] = (struct iovec){dst + (op->starts[i] - first) * RUM_PAGE_SIZE, (size_t)op->counts[i] * RUM_PAGE_SIZE};
  }
  return 0;
}

/* Check op's finished READs: each answered exactly the pages asked. */
static int fetch_check(const struct rum_fetch_op *op, struct rum_store_error *err) {
  for (unsigned i = 0; i < op->n; i++) {
    const struct rum_rpc_call *c = &op->calls[i];
    int rc = c->status;
    if (rc == 0 && (c->resp_len != RUM_WIRE_READ_RESP_FIXED + (size_t)op->counts[i] * RUM_PAGE_SIZE ||
                    rum__get_u64(op->fixed[i]) != op->region_id || rum__get_u64(op->fixed[i] + 8) != op->starts[i] ||
                    rum__get_u32(op->fixed[i] + 16) != op->counts[i]))
      rc = RUM_EPROTO;
    if (rc != 0) {
      err->node_id = op->homes[i];
      err->code = rc;
      return rc;
    }
  }
  return 0;
}

/* Whether op's failed READs may succeed at other nodes (their hints moved). */
static bool fetch_reroute(struct rum_net *net, struct rum_fetch_op *op) {
  bool again = false;
  for (unsigned i = 0; i < op->n; i++)
    if (op->calls[i].status != 0)
      again |= reroute(net, op->region, op->starts[i], op->homes[i], op->calls[i].status, op->calls[i].errtext);
  return again;
}

int rum__net_fetch(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages, uint8_t *dst,
                   struct rum_store_error *err) {
  struct rum_net *net = ctx;
  struct rum_fetch_op op; /* the batch part stays unused: rum__rpc_call has its own */
  uint64_t deadline = net->groups != NULL ? now_ms() + RUM_NET_REPL_RETRY_MS : 0;
  for (unsigned attempt = 0;; attempt++) {
    int rc = fetch_prepare(net, &op, r, first, npages, dst, err);
    if (rc != 0) return rc;
    rum__rpc_call(net->rpc, op.calls, op.n);
    rc = fetch_check(&op, err);
    if (rc == 0 || !fetch_reroute(net, &op) || now_ms() > deadline) return rc;
    reroute_pause(attempt);
  }
}

int rum__net_fetchv(void *ctx, struct rum_fetch_piece *pieces, unsigned n, struct rum_store_error *err) {
  struct rum_net *net = ctx;
  if (n > RUM_WIRE_MAX_PAGES) return RUM_EINVAL;
  struct rum_rpc_call calls[RUM_WIRE_MAX_PAGES];
  uint8_t req[RUM_WIRE_MAX_PAGES][RUM_NET_READ_REQ_BYTES];
  uint8_t fixed[RUM_WIRE_MAX_PAGES][RUM_WIRE_READ_RESP_FIXED];
  uint32_t homes[RUM_WIRE_MAX_PAGES];
  unsigned idx[RUM_WIRE_MAX_PAGES], ncalls = 0;
  int first_rc = 0;
  for (unsigned i = 0; i < n; i++) {
    struct rum_fetch_piece *pc = &pieces[i];
    pc->status = 0;
    homes[i] = rum__net_chunk_home(net, pc->r, pc->first >> RUM_CHUNK_SHIFT);
    struct rum_net_node *node = rum__net_node(net, homes[i]);
    struct rum_msg_read_req m = {.region_id = pc->r->id, .first_page = pc->first, .npages = pc->npages};
    int len = node == NULL ? RUM_ECONFIG : rum__wire_encode_read_req(req[ncalls], sizeof req[ncalls], &m);
    if (len < 0) {
      pc->status = len;
      if (first_rc == 0) {
        first_rc = len;
        err->node_id = homes[i];
        err->code = len;
      }
      continue;
    }
    struct rum_rpc_call *c = &calls[ncalls];
    call_init(c, node, RUM_MSG_READ);
    c->req_iovcnt = 1;
    c->req[0] = (struct iovec){req[ncalls], (size_t)len};
    c->resp_iovcnt = 2;
    c->resp[0] = (struct iovec){fixed[ncalls], RUM_WIRE_READ_RESP_FIXED};
    c->resp[1] = (struct iovec){pc->dst, (size_t)pc->npages * RUM_PAGE_SIZE};
    idx[ncalls++] = i;
  }
  if (ncalls > 0) rum__rpc_call(net->rpc, calls, ncalls);
  for (unsigned k = 0; k < ncalls; k++) {
    const struct rum_rpc_call *c = &calls[k];
    struct rum_fetch_piece *pc = &pieces[idx[k]];
    int rc = c->status;
    if (rc == 0 && (c->resp_len != RUM_WIRE_READ_RESP_FIXED + (size_t)pc->npages * RUM_PAGE_SIZE ||
                    rum__get_u64(fixed[k]) != pc->r->id || rum__get_u64(fixed[k] + 8) != pc->first ||
                    rum__get_u32(fixed[k] + 16) != pc->npages))
      rc = RUM_EPROTO;
    pc->status = rc;
    if (rc != 0 && first_rc == 0) {
      first_rc = rc;
      err->node_id = homes[idx[k]];
      err->code = rc;
    }
  }
  return first_rc;
}

struct rum_fetch_op *rum__net_fetch_start(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages,
                                          uint8_t *dst) {
  struct rum_net *net = ctx;
  struct rum_fetch_op *op = NULL;
  for (unsigned i = 0; i < RUM_NET_FETCH_OPS && op == NULL; i++) {
    struct rum_fetch_op *o = &net->fetch_ops[i];
    if (!atomic_load_explicit(&o->busy, memory_order_relaxed) &&
        !atomic_exchange_explicit(&o->busy, true, memory_order_acquire))
      op = o;
  }
  if (op == NULL) return NULL;
  struct rum_store_error err;
  if (fetch_prepare(net, op, r, first, npages, dst, &err) != 0) {
    atomic_store_explicit(&op->busy, false, memory_order_release);
    return NULL; /* the synchronous fetch will report it */
  }
  rum__rpc_start(net->rpc, &op->batch, op->calls, op->n);
  return op;
}

int rum__net_fetch_finish(void *ctx, struct rum_fetch_op *op, bool wait, struct rum_store_error *err) {
  struct rum_net *net = ctx;
  if (wait) {
    rum__rpc_wait(net->rpc, &op->batch);
  } else if (rum__rpc_poll(net->rpc, &op->batch) == 0) {
    return 1;
  }
  int rc = fetch_check(op, err);
  if (rc != 0 && fetch_reroute(net, op)) /* replication > 1: the new leader, at once */
    rc = rum__net_fetch(net, op->region, op->first, op->npages, op->dst, err);
  atomic_store_explicit(&op->busy, false, memory_order_release);
  return rc;
}

static unsigned staging_take(struct rum_net *net) {
  for (;;) {
    for (unsigned i = 0; i < RUM_NET_STAGING; i++)
      if (!atomic_load_explicit(&net->staging_busy[i], memory_order_relaxed) &&
          !atomic_exchange_explicit(&net->staging_busy[i], true, memory_order_acquire))
        return i;
    sched_yield();
  }
}

static int store_once(struct rum_net *net, struct rum_net_staging *st, const struct rum_page_io *pages, unsigned n,
                      struct rum_store_error *err, bool *again);

int rum__net_store(void *ctx, const struct rum_page_io *pages, unsigned n, struct rum_store_error *err) {
  struct rum_net *net = ctx;
  if (n == 0) return 0;
  if (n > RUM_WIRE_MAX_PAGES) return RUM_EINVAL;
  unsigned si = staging_take(net);
  struct rum_net_staging *st = &net->staging[si];
  uint64_t deadline = net->groups != NULL ? now_ms() + RUM_NET_REPL_RETRY_MS : 0;
  int rc;
  /* Whole-page writes: sending a batch again (all of it, also what succeeded) is harmless. */
  for (unsigned attempt = 0;; attempt++) {
    bool again = false;
    rc = store_once(net, st, pages, n, err, &again);
    if (rc == 0 || !again || now_ms() > deadline) break;
    reroute_pause(attempt);
  }
  atomic_store_explicit(&net->staging_busy[si], false, memory_order_release);
  return rc;
}

/* One attempt of rum__net_store: a WRITE per (node, region, group). */
static int store_once(struct rum_net *net, struct rum_net_staging *st, const struct rum_page_io *pages, unsigned n,
                      struct rum_store_error *err, bool *again) {
  uint32_t homes[RUM_WIRE_MAX_PAGES];
  const struct rum_group *groups[RUM_WIRE_MAX_PAGES] = {NULL};
  bool taken[RUM_WIRE_MAX_PAGES] = {false};
  for (unsigned i = 0; i < n; i++) {
    homes[i] = rum__net_chunk_home(net, pages[i].region, pages[i].page >> RUM_CHUNK_SHIFT);
    if (net->groups != NULL) groups[i] = chunk_group(net, pages[i].region, pages[i].page >> RUM_CHUNK_SHIFT);
  }
  /* Group: each call takes every not yet taken page of the first free page's
   * (node, region); page order within a group stays ascending. */
  unsigned ncalls = 0, used = 0;
  uint32_t call_home[RUM_NET_MAX_CALLS];
  unsigned call_first[RUM_NET_MAX_CALLS];
  int rc = 0;
  for (unsigned i = 0; i < n && rc == 0; i++) {
    if (taken[i]) continue;
    struct rum_net_node *node = rum__net_node(net, homes[i]);
    if (node == NULL) {
      rc = RUM_ECONFIG;
      err->node_id = homes[i];
      break;
    }
    struct rum_msg_write_req m = {.region_id = pages[i].region->id, .npages = 0};
    uint8_t *data = st->data + (size_t)used * RUM_PAGE_SIZE;
    for (unsigned j = i; j < n; j++) {
      if (taken[j] || homes[j] != homes[i] || pages[j].region != pages[i].region || groups[j] != groups[i])
        continue;
      taken[j] = true;
      m.page_index[m.npages] = pages[j].page;
      memcpy(data + (size_t)m.npages * RUM_PAGE_SIZE, pages[j].data, RUM_PAGE_SIZE);
      m.npages++;
    }
    int len = rum__wire_encode_write_req_fixed(st->fixed[ncalls], sizeof st->fixed[ncalls], &m);
    if (len < 0) {
      rc = len;
      break;
    }
    struct rum_rpc_call *c = &st->calls[ncalls];
    call_init(c, node, RUM_MSG_WRITE);
    if (net->groups != NULL) c->timeout_ms = RUM_NET_REPL_CALL_MS;
    c->req_iovcnt = 2;
    c->req[0] = (struct iovec){st->fixed[ncalls], (size_t)len};
    c->req[1] = (struct iovec){data, (size_t)m.npages * RUM_PAGE_SIZE};
    c->resp_iovcnt = 1;
    c->resp[0] = (struct iovec){st->fixed[ncalls], 16}; /* the reply is a page count */
    call_first[ncalls] = i;
    call_home[ncalls++] = homes[i];
    used += m.npages;
  }
  if (rc == 0) {
    rum__rpc_call(net->rpc, st->calls, ncalls);
    for (unsigned i = 0; i < ncalls; i++) {
      if (st->calls[i].status == 0) continue;
      const struct rum_page_io *p = &pages[call_first[i]];
      *again |= reroute(net, p->region, p->page, call_home[i], st->calls[i].status, st->calls[i].errtext);
      if (rc == 0) {
        rc = st->calls[i].status;
        err->node_id = call_home[i];
      }
    }
  }
  err->code = rc;
  return rc;
}

static int one_call(struct rum_net *net, struct rum_rpc_call *c, uint32_t node_id) {
  struct rum_net_node *node = rum__net_node(net, node_id);
  if (node == NULL) return RUM_EINVAL;
  c->to = node->addr;
  return rum__rpc_call(net->rpc, c, 1);
}

int rum__net_read_node(struct rum_net *net, uint32_t node, uint64_t region, uint64_t first, uint32_t npages,
                       uint8_t *dst) {
  uint8_t req[RUM_NET_READ_REQ_BYTES], fixed[RUM_WIRE_READ_RESP_FIXED];
  struct rum_msg_read_req m = {.region_id = region, .first_page = first, .npages = npages};
  int len = rum__wire_encode_read_req(req, sizeof req, &m);
  if (len < 0) return len;
  struct rum_rpc_call c;
  memset(&c, 0, sizeof c);
  c.type = RUM_MSG_READ;
  c.req_iovcnt = 1;
  c.req[0] = (struct iovec){req, (size_t)len};
  c.resp_iovcnt = 2;
  c.resp[0] = (struct iovec){fixed, sizeof fixed};
  c.resp[1] = (struct iovec){dst, (size_t)npages * RUM_PAGE_SIZE};
  int rc = one_call(net, &c, node);
  if (rc == 0 && c.resp_len != sizeof fixed + (size_t)npages * RUM_PAGE_SIZE) rc = RUM_EPROTO;
  return rc;
}

int rum__net_write_node(struct rum_net *net, uint32_t node, uint64_t region, uint64_t first, uint32_t npages,
                        const uint8_t *src) {
  uint8_t fixed[12 + 8 * RUM_WIRE_MAX_PAGES], resp[16];
  struct rum_msg_write_req m = {.region_id = region, .npages = npages};
  for (uint32_t i = 0; i < npages; i++) m.page_index[i] = first + i;
  int len = rum__wire_encode_write_req_fixed(fixed, sizeof fixed, &m);
  if (len < 0) return len;
  struct rum_rpc_call c;
  memset(&c, 0, sizeof c);
  c.type = RUM_MSG_WRITE;
  c.req_iovcnt = 2;
  c.req[0] = (struct iovec){fixed, (size_t)len};
  c.req[1] = (struct iovec){(void *)src, (size_t)npages * RUM_PAGE_SIZE};
  c.resp_iovcnt = 1;
  c.resp[0] = (struct iovec){resp, sizeof resp};
  return one_call(net, &c, node);
}

void rum__net_stats(void *ctx, struct rum_stats *out) {
  struct rum_net *net = ctx;
  struct rum_rpc_stats s;
  rum__rpc_stats(net->rpc, &s);
  out->bytes_in = s.bytes_in;
  out->bytes_out = s.bytes_out;
  out->rpcs = s.calls;
  out->retries = s.retransmits;
}
