/* Lists: a ring buffer of blob refs, doubled when full. Pushes and pops at either end
 * are O(1); inserting or removing inside shifts the elements after it. */
#include "kv.h"

#include <string.h>

#define L(s, l) ((struct kv_list *)kv_at((s), (l)))

kv_ref kv_list_new(struct kv_store *s) { return ph_zalloc(s->heap, sizeof(struct kv_list)); }

static kv_ref *ring(struct kv_store *s, struct kv_list *l) { return kv_at(s, l->arr); }

kv_ref *kv_list_slot(struct kv_store *s, kv_ref lr, uint64_t i) {
  struct kv_list *l = L(s, lr);
  return &ring(s, l)[(l->head + i) % l->cap];
}

static int grow(struct kv_store *s, kv_ref lr) {
  struct kv_list *l = L(s, lr);
  if (l->len < l->cap) return 0;
  uint64_t cap = l->cap ? l->cap * 2 : 4;
  kv_ref na = ph_alloc(s->heap, cap * sizeof(kv_ref));
  if (na == KV_NULL) return RUM_ENOMEM;
  l = L(s, lr);
  kv_ref *dst = kv_at(s, na);
  for (uint64_t i = 0; i < l->len; i++) dst[i] = *kv_list_slot(s, lr, i);
  ph_free(s->heap, l->arr);
  l->arr = na;
  l->cap = cap;
  l->head = 0;
  return 0;
}

int kv_list_push(struct kv_store *s, kv_ref lr, int tail, kv_ref blob) {
  int rc = grow(s, lr);
  if (rc != 0) return rc;
  struct kv_list *l = L(s, lr);
  if (!tail) l->head = (l->head + l->cap - 1) % l->cap;
  l->len++;
  *kv_list_slot(s, lr, tail ? l->len - 1 : 0) = blob;
  return 0;
}

kv_ref kv_list_pop(struct kv_store *s, kv_ref lr, int tail) {
  struct kv_list *l = L(s, lr);
  if (l->len == 0) return KV_NULL;
  kv_ref b = *kv_list_slot(s, lr, tail ? l->len - 1 : 0);
  if (!tail) l->head = (l->head + 1) % l->cap;
  l->len--;
  return b;
}

int kv_list_insert(struct kv_store *s, kv_ref lr, uint64_t i, kv_ref blob) {
  int rc = kv_list_push(s, lr, 1, blob);
  if (rc != 0) return rc;
  struct kv_list *l = L(s, lr);
  for (uint64_t j = l->len - 1; j > i; j--) *kv_list_slot(s, lr, j) = *kv_list_slot(s, lr, j - 1);
  *kv_list_slot(s, lr, i) = blob;
  return 0;
}

kv_ref kv_list_remove(struct kv_store *s, kv_ref lr, uint64_t i) {
  struct kv_list *l = L(s, lr);
  kv_ref b = *kv_list_slot(s, lr, i);
  for (uint64_t j = i; j + 1 < l->len; j++) *kv_list_slot(s, lr, j) = *kv_list_slot(s, lr, j + 1);
  l->len--;
  return b;
}

void kv_list_free(struct kv_store *s, kv_ref lr) {
  struct kv_list *l = L(s, lr);
  for (uint64_t i = 0; i < l->len; i++) ph_free(s->heap, *kv_list_slot(s, lr, i));
  ph_free(s->heap, l->arr);
  ph_free(s->heap, lr);
}
