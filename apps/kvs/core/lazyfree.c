/* Freeing large values a little at a time (Redis's lazyfree, without a thread).
 *
 * Freeing a hash of 300k fields touches every entry and value block; with the data
 * beyond the cache that is a page fetch each, and a DEL that did it at once stalled
 * the server for many seconds (long enough to lose the store's lock). A deleted or
 * overwritten hash, list, set or sorted set of more than KV_LAZYFREE_MIN elements
 * goes instead on a garbage list kept in the heap (root slot KV_ROOT_GARBAGE, so a
 * restart carries on freeing it), and the server's timer frees it in bounded steps. */
#include "kv.h"

#include <string.h>

struct kv_garbage {
  kv_ref next;
  uint64_t type;
  kv_ref val;
  uint64_t cursor; /* dict buckets already freed */
};

static uint64_t *garbage_head(struct kv_store *s) { return ph_root(s->heap, KV_ROOT_GARBAGE); }

uint64_t kv_value_elements(struct kv_store *s, uint8_t type, kv_ref val) {
  switch (type) {
  case KV_LIST: return ((struct kv_list *)kv_at(s, val))->len;
  case KV_SET:
  case KV_HASH: return pd_count(s->heap, val);
  case KV_ZSET: return ((struct kv_zset *)kv_at(s, val))->len;
  default: return 1;
  }
}

int kv_lazyfree_push(struct kv_store *s, uint8_t type, kv_ref val) {
  kv_ref g = ph_alloc(s->heap, sizeof(struct kv_garbage));
  if (g == KV_NULL) return RUM_ENOMEM;
  struct kv_garbage *pg = kv_at(s, g);
  pg->type = type;
  pg->val = val;
  pg->cursor = 0;
  pg->next = *garbage_head(s);
  *garbage_head(s) = g;
  return 0;
}

static void free_blob_val(struct ph_heap *h, struct pd_entry *e, void *arg) {
  (void)arg;
  ph_free(h, e->val);
}

/* Free up to budget elements of g's value; 1 while some remain. */
static int step_one(struct kv_store *s, struct kv_garbage *g, uint64_t budget) {
  if (g->type == KV_LIST) {
    struct kv_list *l = kv_at(s, g->val);
    while (budget-- > 0 && l->len > 0) ph_free(s->heap, kv_list_pop(s, g->val, 1));
    if (l->len > 0) return 1;
    ph_free(s->heap, l->arr);
    ph_free(s->heap, g->val);
    return 0;
  }
  if (g->type == KV_SET || g->type == KV_HASH)
    return pd_destroy_step(s->heap, g->val, &g->cursor, g->type == KV_HASH ? free_blob_val : NULL, NULL, budget);
  /* Sorted set: the skip list's nodes from the front, then the dict. */
  struct kv_zset *z = kv_at(s, g->val);
  struct kv_znode *head = kv_znode(s, z->head);
  while (budget > 0 && head->lv[0].fwd != KV_NULL) {
    kv_ref n = head->lv[0].fwd;
    head->lv[0].fwd = kv_znode(s, n)->lv[0].fwd;
    ph_free(s->heap, n);
    budget--;
  }
  if (head->lv[0].fwd != KV_NULL) return 1;
  if (pd_destroy_step(s->heap, z->dict, &g->cursor, NULL, NULL, budget)) return 1;
  ph_free(s->heap, z->head);
  ph_free(s->heap, g->val);
  return 0;
}

int kv_lazyfree_step(struct kv_store *s, uint64_t budget) {
  kv_ref g = *garbage_head(s);
  if (g == KV_NULL) return 0;
  struct kv_garbage *pg = kv_at(s, g);
  if (step_one(s, pg, budget)) return 1;
  *garbage_head(s) = pg->next;
  ph_free(s->heap, g);
  return *garbage_head(s) != KV_NULL;
}

uint64_t kv_lazyfree_pending(struct kv_store *s) {
  uint64_t n = 0;
  for (kv_ref g = *garbage_head(s); g != KV_NULL; g = ((struct kv_garbage *)kv_at(s, g))->next) n++;
  return n;
}
