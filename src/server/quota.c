/* Per-client memory quotas (see quota.h). */
#include "server/quota.h"

#include <rum/rum_errors.h>

uint64_t rum__quota_region_bytes(const struct rum_region_info *info) {
  return info->bytes_stored > info->reserved ? info->bytes_stored : info->reserved;
}

uint64_t rum__quota_reserve_bytes(uint64_t reserve, uint64_t size) {
  uint64_t b = reserve < size ? reserve : size;
  return (b / RUM_STORE_PAGE_SIZE + (b % RUM_STORE_PAGE_SIZE != 0)) * RUM_STORE_PAGE_SIZE;
}

bool rum__quota_allows(const struct rum_quota *q, const struct rum_page_store *store,
                       struct rum_access_stats *st, const struct rum_rpc_request *req,
                       const struct rum_region_info *info, uint64_t after,
                       struct rum_rpc_reply *reply) {
  if (q->bytes == 0) return true;
  /* A named region another session created counts against that session, not this one. */
  if (info != NULL && (info->owner_id != req->sender || info->owner_session != req->session)) return true;
  uint64_t before = info != NULL ? rum__quota_region_bytes(info) : 0;
  if (after <= before) return true;
  uint64_t used = rum__page_store_owner_bytes(store, req->sender, req->session);
  uint64_t others = used >= before ? used - before : 0; /* used includes this region's bytes */
  if (after <= q->bytes && others <= q->bytes - after) return true;
  st->quota++;
  rum__rpc_reply_error(reply, RUM_EDQUOT,
                       "client %u session %016llx would commit %llu bytes on node %u, past its "
                       "quota of %llu MiB (--client-quota-mb)",
                       req->sender, (unsigned long long)req->session,
                       (unsigned long long)(others + after), q->node_id,
                       (unsigned long long)(q->bytes >> 20));
  return false;
}

bool rum__quota_allows_write(const struct rum_quota *q, const struct rum_page_store *store,
                             struct rum_access_stats *st, const struct rum_rpc_request *req,
                             const struct rum_region_info *info, uint32_t npages,
                             const uint64_t *index, struct rum_rpc_reply *reply) {
  if (q->bytes == 0) return true;
  /* Within the reservation, a write can never raise what the region commits. */
  if (info->bytes_stored + (uint64_t)npages * RUM_STORE_PAGE_SIZE <= info->reserved) return true;
  uint64_t added = 0;
  const uint8_t *page;
  for (uint32_t i = 0; i < npages; i++) {
    if (rum__page_store_read(store, info->id, index[i], 1, &page) == 0 && page == rum__page_store_zero_page())
      added += RUM_STORE_PAGE_SIZE;
  }
  uint64_t stored_after = info->bytes_stored + added;
  uint64_t after = stored_after > info->reserved ? stored_after : info->reserved;
  return rum__quota_allows(q, store, st, req, info, after, reply);
}
