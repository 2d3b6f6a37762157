/* Region life cycle against the memory nodes: ALLOC / FREE / RESIZE / COPY / ATTACH.
 * Normal context only. A region is registered on every node that homes one of its
 * chunks (and, for a named region, on its name's home node first, which decides
 * whether the name is taken); the calls to the nodes go out together. */
#include <stdlib.h>
#include <string.h>

#include "client/remote.h"
#include "util/log.h"

enum { SMALL_MSG = 320 };

struct node_set {
  uint32_t ids[RUM_MAX_NODES];
  unsigned n;
};

static void set_add(struct node_set *s, uint32_t id) {
  for (unsigned i = 0; i < s->n; i++)
    if (s->ids[i] == id) return;
  if (s->n < RUM_MAX_NODES) s->ids[s->n++] = id;
}

static bool set_has(const struct node_set *s, uint32_t id) {
  for (unsigned i = 0; i < s->n; i++)
    if (s->ids[i] == id) return true;
  return false;
}

/* The nodes homing chunks [0, nchunks) of r, stopping early once every node is in. */
static void homes_of(struct rum_net *net, const struct rum_region *r, uint64_t npages, struct node_set *s) {
  s->n = 0;
  uint64_t nchunks = (npages + RUM_CHUNK_PAGES - 1) / RUM_CHUNK_PAGES;
  if (nchunks == 0) nchunks = 1;
  for (uint64_t c = 0; c < nchunks && s->n < net->nnodes; c++) {
    uint32_t ids[RUM_GROUP_MAX_MEMBERS];
    unsigned k = rum__net_chunk_replicas(net, r, c, ids);
    for (unsigned i = 0; i < k; i++) set_add(s, ids[i]);
  }
}

static uint32_t name_home(struct rum_net *net, const char *name, size_t len) {
  return rum__ring_lookup(net->ring, rum__ring_name_key(name, len));
}

static uint64_t mask_of(struct rum_net *net, const struct node_set *s) {
  uint64_t mask = 0;
  for (unsigned i = 0; i < s->n; i++)
    if (s->ids[i] <= RUM_NODE_ID_MAX && net->index_of[s->ids[i]] != 0) mask |= 1ull << (net->index_of[s->ids[i]] - 1);
  return mask;
}

/* The nodes r is registered on: what this client recorded, else (attached regions)
 * the homes of its first npages pages and its name's home. */
static void registered_on(struct rum_net *net, const struct rum_region *r, uint64_t npages, struct node_set *s) {
  uint64_t mask = atomic_load(&r->remote_nodes);
  if (mask == 0) {
    homes_of(net, r, npages, s);
    if (r->name != NULL) set_add(s, name_home(net, r->name, strlen(r->name)));
    return;
  }
  s->n = 0;
  for (unsigned i = 0; i < net->nnodes; i++)
    if (mask & (1ull << i)) set_add(s, net->nodes[i].id);
}

bool rum__net_region_homes(void *ctx, const struct rum_region *r, uint32_t node) {
  struct node_set s;
  homes_of(ctx, r, atomic_load(&r->npages), &s);
  return set_has(&s, node);
}

/* The bytes of r's first npages pages that each node homes, by node index: what
 * ALLOC and RESIZE ask that node to reserve, so that a full node says so when the
 * memory is allocated rather than when it is written back. */
static void shares_of(struct rum_net *net, const struct rum_region *r, uint64_t npages,
                      uint64_t share[RUM_MAX_NODES]) {
  memset(share, 0, sizeof(uint64_t) * RUM_MAX_NODES);
  for (uint64_t first = 0; first < npages; first += RUM_CHUNK_PAGES) {
    uint32_t ids[RUM_GROUP_MAX_MEMBERS]; /* every replica keeps the chunk */
    unsigned k = rum__net_chunk_replicas(net, r, first / RUM_CHUNK_PAGES, ids);
    uint64_t pages = npages - first < RUM_CHUNK_PAGES ? npages - first : RUM_CHUNK_PAGES;
    for (unsigned i = 0; i < k; i++)
      if (ids[i] <= RUM_NODE_ID_MAX && net->index_of[ids[i]] != 0) share[net->index_of[ids[i]] - 1] += pages * RUM_PAGE_SIZE;
  }
}

static uint64_t share_of(struct rum_net *net, const uint64_t share[RUM_MAX_NODES], uint32_t id) {
  return id <= RUM_NODE_ID_MAX && net->index_of[id] != 0 ? share[net->index_of[id] - 1] : 0;
}

/* Send one small request to every node in s at once, payload i to node s->ids[i]
 * (stride bytes apart; stride 0: the same payload for all). Each call's status is
 * in calls[i]. Returns the first error. */
static int to_each(struct rum_net *net, const struct node_set *s, uint8_t type, const uint8_t *payload,
                   size_t stride, const size_t *lens, size_t len, struct rum_rpc_call *calls,
                   uint8_t (*resp)[64]) {
  for (unsigned i = 0; i < s->n; i++) {
    memset(&calls[i], 0, sizeof calls[i]);
    struct rum_net_node *node = rum__net_node(net, s->ids[i]);
    if (node == NULL) {
      for (unsigned k = 0; k < s->n; k++) calls[k].status = RUM_EINVAL; /* nothing was sent */
      return RUM_EINVAL;
    }
    calls[i].to = node->addr;
    calls[i].type = type;
    calls[i].req_iovcnt = 1;
    calls[i].req[0] = (struct iovec){(void *)(payload + i * stride), lens != NULL ? lens[i] : len};
    calls[i].resp_iovcnt = 1;
    calls[i].resp[0] = (struct iovec){resp[i], 64};
  }
  return s->n > 0 ? rum__rpc_call(net->rpc, calls, s->n) : 0;
}

static int to_all(struct rum_net *net, const struct node_set *s, uint8_t type, const uint8_t *payload,
                  size_t len, struct rum_rpc_call *calls, uint8_t (*resp)[64]) {
  return to_each(net, s, type, payload, 0, NULL, len, calls, resp);
}

static void count_regions(struct rum_net *net, const struct node_set *s, int delta) {
  for (unsigned i = 0; i < s->n; i++) {
    struct rum_net_node *node = rum__net_node(net, s->ids[i]);
    if (node != NULL) atomic_fetch_add(&node->nregions, (uint64_t)(int64_t)delta);
  }
}

static int free_on(struct rum_net *net, const struct node_set *s, uint64_t id) {
  uint8_t payload[16];
  struct rum_msg_free_req m = {.region_id = id};
  int len = rum__wire_encode_free_req(payload, sizeof payload, &m);
  if (len < 0) return len;
  struct rum_rpc_call *calls = malloc(sizeof(*calls) * RUM_MAX_NODES);
  uint8_t(*resp)[64] = malloc(64 * RUM_MAX_NODES);
  int rc = calls && resp ? to_all(net, s, RUM_MSG_FREE, payload, (size_t)len, calls, resp) : RUM_ENOMEM;
  if (rc != 0 && calls != NULL) {
    rc = 0; /* a node that no longer knows the region has nothing to free */
    for (unsigned i = 0; i < s->n; i++)
      if (calls[i].status != 0 && calls[i].status != RUM_ENOENT && rc == 0) rc = calls[i].status;
  }
  free(calls);
  free(resp);
  return rc;
}

/* ALLOC r with its exact size in bytes (r->user_size): nodes round up to pages for
 * storage, and rum_attach must report the size asked at rum_alloc_named. Nodes that
 * answered go to done; with exists set, nodes answering EEXIST go there instead of
 * failing the call (a resize meeting a registration it made before a shrink). */
static int alloc_on(struct rum_net *net, const struct node_set *s, const struct rum_region *r,
                    const char *name, size_t name_len, struct node_set *done, struct node_set *exists) {
  uint64_t share[RUM_MAX_NODES];
  shares_of(net, r, atomic_load(&r->npages), share);
  uint8_t(*payload)[SMALL_MSG] = malloc(SMALL_MSG * RUM_MAX_NODES);
  size_t lens[RUM_MAX_NODES];
  struct rum_rpc_call *calls = malloc(sizeof(*calls) * RUM_MAX_NODES);
  uint8_t(*resp)[64] = malloc(64 * RUM_MAX_NODES);
  int rc = calls && resp && payload ? 0 : RUM_ENOMEM;
  for (unsigned i = 0; rc == 0 && i < s->n; i++) {
    struct rum_msg_alloc_req m = {
        .region_id = r->id, .size = r->user_size, .reserve = share_of(net, share, s->ids[i]),
        .flags = r->wire_flags, .name_len = (uint16_t)name_len, .name = name,
    };
    int len = rum__wire_encode_alloc_req(payload[i], SMALL_MSG, &m);
    if (len < 0) rc = len;
    else lens[i] = (size_t)len;
  }
  if (rc != 0) {
    free(payload);
    free(calls);
    free(resp);
    return rc;
  }
  rc = to_each(net, s, RUM_MSG_ALLOC, payload[0], SMALL_MSG, lens, 0, calls, resp);
  int first_error = calls == NULL || resp == NULL ? rc : 0;
  for (unsigned i = 0; calls != NULL && resp != NULL && i < s->n; i++) {
    if (calls[i].status == 0) {
      set_add(done, s->ids[i]);
    } else if (calls[i].status == RUM_EEXIST && exists != NULL) {
      set_add(exists, s->ids[i]);
    } else {
      RUM_LOG_D("ALLOC of region %#llx on node %u: %s (%s)", (unsigned long long)r->id, s->ids[i],
                rum_strerror(calls[i].status), calls[i].errtext);
      if (first_error == 0) first_error = calls[i].status;
    }
  }
  free(payload);
  free(calls);
  free(resp);
  return first_error;
}

static int net_region_create(void *ctx, struct rum_region *r, const char *name, size_t name_len) {
  struct rum_net *net = ctx;
  struct node_set homes, done = {.n = 0};
  homes_of(net, r, atomic_load(&r->npages), &homes);
  for (unsigned i = 0; i < homes.n; i++) {
    struct rum_net_node *node = rum__net_node(net, homes.ids[i]);
    if (node != NULL && atomic_load(&node->lease_lost)) return RUM_ELEASE;
  }
  int rc = 0;
  if (name != NULL) {
    /* The name's home decides: EEXIST there means the name is taken. */
    struct node_set first = {.n = 0};
    set_add(&first, name_home(net, name, name_len));
    rc = alloc_on(net, &first, r, name, name_len, &done, NULL);
    if (rc != 0) return rc;
    struct node_set rest = {.n = 0};
    for (unsigned i = 0; i < homes.n; i++)
      if (!set_has(&first, homes.ids[i])) set_add(&rest, homes.ids[i]);
    homes = rest;
  }
  rc = alloc_on(net, &homes, r, name, name_len, &done, NULL);
  if (rc != 0) {
    free_on(net, &done, r->id); /* nothing half-registered stays behind */
    return rc;
  }
  atomic_store(&r->remote_nodes, mask_of(net, &done));
  if (r->kind != RUM_REGION_NAMED) count_regions(net, &done, 1);
  return 0;
}

static int net_region_destroy(void *ctx, struct rum_region *r, const char *name, size_t name_len) {
  struct rum_net *net = ctx;
  struct node_set where, homes;
  /* Every node it was registered on, also those a shrink left without a chunk. */
  registered_on(net, r, atomic_load(&r->npages), &where);
  if (r->kind != RUM_REGION_NAMED) count_regions(net, &where, -1);
  homes_of(net, r, atomic_load(&r->npages), &homes);
  for (unsigned i = 0; i < homes.n; i++) set_add(&where, homes.ids[i]);
  if (name != NULL) set_add(&where, name_home(net, name, name_len));
  return free_on(net, &where, r->id);
}

/* RESIZE r to r->user_size on the nodes of s; nodes that do not know it (any more)
 * are fine. Returns the first other error. */
static int resize_on(struct rum_net *net, const struct node_set *s, const struct rum_region *r) {
  enum { RESIZE_MSG = 32 };
  uint64_t share[RUM_MAX_NODES];
  shares_of(net, r, atomic_load(&r->npages), share);
  uint8_t payload[RUM_MAX_NODES][RESIZE_MSG];
  size_t lens[RUM_MAX_NODES];
  for (unsigned i = 0; i < s->n; i++) {
    struct rum_msg_resize_req m = {.region_id = r->id, .new_size = r->user_size,
                                   .reserve = share_of(net, share, s->ids[i])};
    int len = rum__wire_encode_resize_req(payload[i], RESIZE_MSG, &m);
    if (len < 0) return len;
    lens[i] = (size_t)len;
  }
  struct rum_rpc_call *calls = malloc(sizeof(*calls) * RUM_MAX_NODES);
  uint8_t(*resp)[64] = malloc(64 * RUM_MAX_NODES);
  int rc = calls && resp ? to_each(net, s, RUM_MSG_RESIZE, payload[0], RESIZE_MSG, lens, 0, calls, resp)
                         : RUM_ENOMEM;
  if (rc != 0 && calls != NULL && resp != NULL) {
    rc = 0;
    for (unsigned i = 0; i < s->n; i++)
      if (calls[i].status != 0 && calls[i].status != RUM_ENOENT && rc == 0) rc = calls[i].status;
  }
  free(calls);
  free(resp);
  return rc;
}

/* Register r on the nodes that home its new chunks and do not hold it yet, then
 * tell every node holding it the new size. A node may hold it from before a shrink
 * (this client's record says so; an attached region's record is rebuilt from the
 * ALLOC answers: EEXIST means it is there already). */
static int net_region_resize(void *ctx, struct rum_region *r, uint64_t old_npages) {
  struct rum_net *net = ctx;
  uint64_t npages = atomic_load(&r->npages);
  struct node_set have, after, added = {.n = 0}, done = {.n = 0}, exists = {.n = 0};
  registered_on(net, r, old_npages, &have);
  homes_of(net, r, npages, &after);
  for (unsigned i = 0; i < after.n; i++)
    if (!set_has(&have, after.ids[i])) set_add(&added, after.ids[i]);
  int rc = 0;
  if (added.n > 0) {
    rc = alloc_on(net, &added, r, r->name, r->name ? strlen(r->name) : 0, &done, &exists);
    if (rc != 0) {
      free_on(net, &done, r->id);
      RUM_LOG_W("resizing region %#llx: %s", (unsigned long long)r->id, rum_strerror(rc));
      return rc;
    }
    if (r->kind != RUM_REGION_NAMED) count_regions(net, &done, 1);
  }
  uint64_t before_mask = mask_of(net, &have);
  for (unsigned i = 0; i < exists.n; i++) set_add(&have, exists.ids[i]);
  rc = resize_on(net, &have, r);
  atomic_store(&r->remote_nodes, before_mask | mask_of(net, &done) | mask_of(net, &exists));
  if (rc != 0) RUM_LOG_W("resizing region %#llx: %s", (unsigned long long)r->id, rum_strerror(rc));
  return rc;
}

/* replication > 1: pages [first, first + n) (one chunk) of src into dst through the
 * groups' leaders, re-routed like page I/O (fetch.c). */
static int copy_replicated(struct rum_net *net, struct rum_region *src, struct rum_region *dst, uint64_t first,
                           uint32_t n, uint8_t *buf) {
  struct rum_store_error err = {0, 0};
  int rc = rum__net_fetch(net, src, first, n, buf, &err);
  if (rc != 0) return rc;
  struct rum_page_io io[RUM_CHUNK_PAGES];
  for (uint32_t i = 0; i < n; i++)
    io[i] = (struct rum_page_io){.region = dst, .page = first + i, .data = buf + (size_t)i * RUM_PAGE_SIZE};
  return rum__net_store(net, io, n, &err);
}

/* COPY where a chunk's source and destination homes are one node; elsewhere read the
 * pages from one and write them to the other (never through the page cache). */
static int net_region_copy(void *ctx, struct rum_region *src, struct rum_region *dst, uint64_t npages) {
  struct rum_net *net = ctx;
  uint8_t *buf = malloc(RUM_CHUNK_PAGES * RUM_PAGE_SIZE);
  if (buf == NULL) return RUM_ENOMEM;
  int rc = 0;
  uint64_t copied_node_side = 0;
  for (uint64_t c = 0; c * RUM_CHUNK_PAGES < npages && rc == 0;) {
    uint64_t first = c * RUM_CHUNK_PAGES;
    uint32_t hs = rum__net_chunk_home(net, src, c), hd = rum__net_chunk_home(net, dst, c);
    if (hs == hd && net->groups == NULL) { /* COPY is not replicated: R > 1 reads and writes */
      /* Merge following chunks on the same node pair into one COPY. */
      uint64_t end_chunk = c + 1;
      while (end_chunk * RUM_CHUNK_PAGES < npages && rum__net_chunk_home(net, src, end_chunk) == hs &&
             rum__net_chunk_home(net, dst, end_chunk) == hs)
        end_chunk++;
      uint64_t last = end_chunk * RUM_CHUNK_PAGES < npages ? end_chunk * RUM_CHUNK_PAGES : npages;
      uint8_t payload[48], resp[16];
      struct rum_msg_copy_req m = {.src_region = src->id, .dst_region = dst->id, .first_page = first,
                                   .npages = last - first};
      int len = rum__wire_encode_copy_req(payload, sizeof payload, &m);
      if (len < 0) {
        rc = len;
        break;
      }
      struct rum_rpc_call call;
      memset(&call, 0, sizeof call);
      call.to = rum__net_node(net, hs)->addr;
      call.type = RUM_MSG_COPY;
      call.req_iovcnt = 1;
      call.req[0] = (struct iovec){payload, (size_t)len};
      call.resp_iovcnt = 1;
      call.resp[0] = (struct iovec){resp, sizeof resp};
      rc = rum__rpc_call(net->rpc, &call, 1);
      copied_node_side += last - first;
      c = end_chunk;
      continue;
    }
    uint64_t n = npages - first < RUM_CHUNK_PAGES ? npages - first : RUM_CHUNK_PAGES;
    if (net->groups != NULL) {
      rc = copy_replicated(net, src, dst, first, (uint32_t)n, buf);
    } else {
      rc = rum__net_read_node(net, hs, src->id, first, (uint32_t)n, buf);
      if (rc == 0) rc = rum__net_write_node(net, hd, dst->id, first, (uint32_t)n, buf);
    }
    c++;
  }
  free(buf);
  RUM_LOG_D("moved region %#llx -> %#llx: %llu of %llu pages copied on the nodes", (unsigned long long)src->id,
            (unsigned long long)dst->id, (unsigned long long)copied_node_side, (unsigned long long)npages);
  return rc;
}

static int net_attach(void *ctx, const char *name, size_t name_len, uint64_t *id, uint64_t *size,
                      uint32_t *flags) {
  struct rum_net *net = ctx;
  uint8_t payload[SMALL_MSG], resp[64];
  struct rum_msg_attach_req m = {.name_len = (uint16_t)name_len, .name = name};
  int len = rum__wire_encode_attach_req(payload, sizeof payload, &m);
  if (len < 0) return len;
  struct rum_net_node *node = rum__net_node(net, name_home(net, name, name_len));
  if (node == NULL) return RUM_EINVAL;
  struct rum_rpc_call call;
  memset(&call, 0, sizeof call);
  call.to = node->addr;
  call.type = RUM_MSG_ATTACH;
  call.req_iovcnt = 1;
  call.req[0] = (struct iovec){payload, (size_t)len};
  call.resp_iovcnt = 1;
  call.resp[0] = (struct iovec){resp, sizeof resp};
  int rc = rum__rpc_call(net->rpc, &call, 1);
  if (rc != 0) return rc;
  struct rum_msg_attach_resp r;
  if (rum__wire_decode_attach_resp(resp, call.resp_len, &r) != 0) return RUM_EPROTO;
  *id = r.region_id;
  *size = r.size;
  *flags = r.flags;
  return 0;
}

static bool net_node_exists(void *ctx, uint32_t node_id) { return rum__net_node(ctx, node_id) != NULL; }

static bool net_can_pin(void *ctx) { return ((struct rum_net *)ctx)->groups == NULL; }

const struct rum_remote_ops rum__net_remote_ops = {
    .pages = {rum__net_fetch, rum__net_store, rum__net_fetch_start, rum__net_fetch_finish, rum__net_fetchv},
    .region_create = net_region_create,
    .region_destroy = net_region_destroy,
    .region_resize = net_region_resize,
    .region_copy = net_region_copy,
    .region_discard = rum__net_region_discard,
    .attach = net_attach,
    .node_exists = net_node_exists,
    .can_pin = net_can_pin,
    .stats = rum__net_stats,
};
