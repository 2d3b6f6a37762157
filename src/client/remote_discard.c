/* DISCARD: tell the nodes that page ranges of a region (freed heap blocks) hold
 * nothing any more, so that their memory follows what the program has live.
 *
 * Runs on the heap's maintenance thread, never on an allocating thread's path. A
 * range is cut at chunk boundaries, each piece goes to its chunk's home, and the
 * pieces bound for one node share DISCARD messages; one round of messages goes out to
 * all nodes at once. */
#include <stdlib.h>
#include <string.h>

#include "client/remote.h"
#include "util/log.h"

enum { DISCARD_MSG = 12 + 12 * RUM_WIRE_MAX_DISCARD_RANGES };

struct discard_batch {
  struct rum_msg_discard_req req[RUM_MAX_NODES]; /* by node index */
  uint8_t payload[RUM_MAX_NODES][DISCARD_MSG];
  struct rum_rpc_call calls[RUM_MAX_NODES];
  uint8_t resp[RUM_MAX_NODES][64];
};

/* Send every non-empty message of b; reset them. A node that no longer knows the
 * region (reclaimed, or a shrink left it without chunks there) has nothing to drop. */
static int batch_send(struct rum_net *net, struct discard_batch *b) {
  unsigned n = 0, which[RUM_MAX_NODES];
  int rc = 0;
  for (unsigned i = 0; i < net->nnodes; i++) {
    if (b->req[i].nranges == 0) continue;
    int len = rum__wire_encode_discard_req(b->payload[n], DISCARD_MSG, &b->req[i]);
    b->req[i].nranges = 0;
    if (len < 0) {
      rc = len;
      continue;
    }
    struct rum_rpc_call *c = &b->calls[n];
    memset(c, 0, sizeof(*c));
    c->to = net->nodes[i].addr;
    c->type = RUM_MSG_DISCARD;
    c->req_iovcnt = 1;
    c->req[0] = (struct iovec){b->payload[n], (size_t)len};
    c->resp_iovcnt = 1;
    c->resp[0] = (struct iovec){b->resp[n], sizeof b->resp[n]};
    which[n++] = i;
  }
  if (n == 0) return rc;
  rum__rpc_call(net->rpc, b->calls, n);
  for (unsigned k = 0; k < n; k++) {
    int st = b->calls[k].status;
    if (st == 0 || st == RUM_ENOENT) continue;
    RUM_LOG_D("DISCARD on node %u: %s (%s)", net->nodes[which[k]].id, rum_strerror(st), b->calls[k].errtext);
    if (rc == 0) rc = st;
  }
  return rc;
}

/* Add pages [first, first + n) (inside one chunk) for node index i, merging with the
 * message's last range when they touch. Sends the batch first when that message is
 * full. */
static int batch_add(struct rum_net *net, struct discard_batch *b, unsigned i, uint64_t first, uint64_t n) {
  struct rum_msg_discard_req *m = &b->req[i];
  if (m->nranges > 0) {
    uint64_t end = m->ranges[m->nranges - 1].first_page + m->ranges[m->nranges - 1].npages;
    if (end == first && m->ranges[m->nranges - 1].npages + n <= UINT32_MAX) {
      m->ranges[m->nranges - 1].npages += (uint32_t)n;
      return 0;
    }
  }
  int rc = 0;
  if (m->nranges == RUM_WIRE_MAX_DISCARD_RANGES) rc = batch_send(net, b);
  m->ranges[m->nranges].first_page = first;
  m->ranges[m->nranges].npages = (uint32_t)n;
  m->nranges++;
  return rc;
}

int rum__net_region_discard(void *ctx, struct rum_region *r, const struct rum_page_range *ranges, unsigned n) {
  struct rum_net *net = ctx;
  if (atomic_load(&r->lost)) return 0; /* its nodes dropped it already */
  struct discard_batch *b = calloc(1, sizeof(*b));
  if (b == NULL) return RUM_ENOMEM;
  for (unsigned i = 0; i < net->nnodes; i++) b->req[i].region_id = r->id;
  int rc = 0;
  for (unsigned k = 0; k < n; k++) {
    uint64_t p = ranges[k].first, end = ranges[k].first + ranges[k].npages;
    while (p < end) {
      uint64_t chunk = p / RUM_CHUNK_PAGES;
      uint64_t piece_end = (chunk + 1) * RUM_CHUNK_PAGES < end ? (chunk + 1) * RUM_CHUNK_PAGES : end;
      uint32_t ids[RUM_GROUP_MAX_MEMBERS]; /* replication > 1: every replica, not through the log */
      unsigned nids = rum__net_chunk_replicas(net, r, chunk, ids);
      for (unsigned h = 0; h < nids; h++) {
        if (ids[h] > RUM_NODE_ID_MAX || net->index_of[ids[h]] == 0) continue;
        int e = batch_add(net, b, net->index_of[ids[h]] - 1u, p, piece_end - p);
        if (e != 0 && rc == 0) rc = e;
      }
      p = piece_end;
    }
  }
  int e = batch_send(net, b);
  if (e != 0 && rc == 0) rc = e;
  free(b);
  return rc;
}
