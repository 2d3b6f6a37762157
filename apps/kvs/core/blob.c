/* Blobs: a length and bytes in one heap block, grown geometrically for APPEND. */
#include "kv.h"

#include <string.h>

kv_ref kv_blob_new(struct kv_store *s, const void *data, size_t len) {
  kv_ref b = ph_alloc(s->heap, sizeof(struct kv_blob) + len);
  if (b == KV_NULL) return KV_NULL;
  struct kv_blob *pb = kv_blob(s, b);
  pb->len = (uint32_t)len;
  pb->flags = 0;
  pb->cas = kv_next_cas(s);
  if (len != 0 && data != NULL) memcpy(pb->data, data, len);
  return b;
}

kv_ref kv_blob_resize(struct kv_store *s, kv_ref b, size_t len) {
  struct kv_blob *pb = kv_blob(s, b);
  if (sizeof *pb + len <= ph_usable(s->heap, b)) {
    pb->cas = kv_next_cas(s);
    return b;
  }
  /* Doubling keeps a run of APPENDs linear in the bytes appended. */
  size_t want = len < (1u << 20) ? len * 2 : len + len / 4;
  if (want > KV_MAX_VALUE + 64) want = len;
  kv_ref nb = ph_alloc(s->heap, sizeof *pb + want);
  if (nb == KV_NULL) return KV_NULL;
  pb = kv_blob(s, b);
  struct kv_blob *pn = kv_blob(s, nb);
  pn->len = pb->len;
  pn->flags = pb->flags;
  pn->cas = kv_next_cas(s);
  memcpy(pn->data, pb->data, pb->len);
  ph_free(s->heap, b);
  return nb;
}

void kv_blob_touch(struct kv_store *s, kv_ref b) { kv_blob(s, b)->cas = kv_next_cas(s); }
