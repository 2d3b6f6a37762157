/* Region access control on the node (see ownership.h). */
#include "server/ownership.h"

#include <string.h>

#include <rum/rum_errors.h>

#include "proto/wire.h"

static uint64_t region_pages(uint64_t size) {
  return size / RUM_PAGE_SIZE + (size % RUM_PAGE_SIZE != 0);
}

bool rum__ownership_check(const struct rum_page_store *store, struct rum_access_stats *st,
                          uint32_t node_id, const struct rum_rpc_request *req, uint64_t id,
                          const char *what, struct rum_region_info *info,
                          struct rum_rpc_reply *reply) {
  if (rum__page_store_lookup(store, id, info) != 0) {
    st->no_region++;
    rum__rpc_reply_error(reply, RUM_ENOENT, "no region %016llx on node %u", (unsigned long long)id,
                         node_id);
    return false;
  }
  if (info->flags & RUM_STORE_F_NAMED) return true;
  if (info->owner_id == req->sender && info->owner_session == req->session) return true;
  st->denied++;
  rum__rpc_reply_error(reply, RUM_EPERM,
                       "region %016llx on node %u belongs to another client session: client %u "
                       "session %016llx may not %s it",
                       (unsigned long long)id, node_id, req->sender,
                       (unsigned long long)req->session, what);
  return false;
}

bool rum__ownership_pages(struct rum_access_stats *st, const struct rum_region_info *info,
                          uint64_t first_page, uint64_t npages, struct rum_rpc_reply *reply) {
  uint64_t limit = region_pages(info->size);
  if (first_page <= limit && npages <= limit - first_page) return true;
  st->out_of_range++;
  rum__rpc_reply_error(reply, RUM_EINVAL,
                       "pages %llu..%llu are past the end of region %016llx (%llu bytes, %llu pages)",
                       (unsigned long long)first_page,
                       (unsigned long long)(first_page + (npages ? npages - 1 : 0)),
                       (unsigned long long)info->id, (unsigned long long)info->size,
                       (unsigned long long)limit);
  return false;
}

uint64_t rum__ownership_listed_session(uint64_t session) { return session & ~(uint64_t)UINT32_MAX; }

static uint32_t le32_at(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void rum__ownership_malformed(struct rum_access_stats *st, const struct rum_rpc_request *req) {
  /* Where the count sits: READ region u64, first u64, npages u32; WRITE region u64,
   * npages u32; DISCARD region u64, nranges u32 (wire.h). */
  size_t at;
  uint32_t max;
  switch (req->type) {
  case RUM_MSG_READ: at = 16; max = RUM_WIRE_MAX_PAGES; break;
  case RUM_MSG_WRITE: at = 8; max = RUM_WIRE_MAX_PAGES; break;
  case RUM_MSG_DISCARD: at = 8; max = RUM_WIRE_MAX_DISCARD_RANGES; break;
  default: return;
  }
  if (req->payload != NULL && req->len >= at + 4 && le32_at(req->payload + at) > max) st->oversized++;
}
