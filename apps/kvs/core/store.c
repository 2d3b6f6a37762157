/* The keyspace: open a store (lock, heap, root dict), typed entries, expiry. */
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <rum/rum.h>

#define KV_ROOT_MAGIC 0x324f4f52564b5552ull /* "RUKVROO2": blobs carry flags and cas */
#define KV_ROOT_MAGIC_V1 0x314f4f52564b5552ull
enum { ROOT_MAGIC = 0, ROOT_KEYS = 1, ROOT_CAS = 3 }; /* and KV_ROOT_GARBAGE = 2 (kv.h) */

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > PH_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (name[i] < 0x21 || name[i] > 0x7e) return 0;
  return 1;
}

static int make_root(struct kv_store *s) {
  kv_ref keys = pd_create(s->heap);
  if (keys == KV_NULL) return RUM_ENOMEM;
  *ph_root(s->heap, ROOT_KEYS) = keys;
  *ph_root(s->heap, ROOT_MAGIC) = KV_ROOT_MAGIC;
  s->keys = keys;
  return 0;
}

int kv_sync(struct kv_store *s) {
  int rc = rum_sync();
  if (rc == 0) ph_synced(s->heap);
  return rc;
}

int kv_sync_wanted(struct kv_store *s) {
  if (s->heap->pending_bytes >= KV_PENDING_SYNC_BYTES) return 1;
  if (!s->journaled) return 0;
  struct rum_stats st;
  return rum_stats(&st) == 0 && st.journal_used * 2 >= st.journal_slots;
}

int kv_open(const char *name, size_t journal_bytes, struct kv_store **out, char *err, size_t errlen) {
  if (!valid_name(name)) {
    snprintf(err, errlen, "bad store name '%s': use 1..%d printable ASCII characters, no spaces", name,
             PH_NAME_MAX);
    return RUM_EINVAL;
  }
  struct kv_store *s = calloc(1, sizeof *s);
  if (s == NULL) return RUM_ENOMEM;
  int rc = kv_lock_acquire(name, &s->lock, err, errlen);
  if (rc != 0) goto fail;
  if (journal_bytes > 0) {
    /* Under the lock: only the store's one writer may finish what a dead one left. */
    char jname[PH_NAME_MAX + 32];
    snprintf(jname, sizeof jname, "kvs.%s.journal", name);
    if ((rc = rum_journal_open(jname, journal_bytes)) != 0) {
      snprintf(err, errlen, "cannot open the journal %s of store '%s': %s", jname, name, rum_strerror(rc));
      goto fail;
    }
    s->journaled = 1;
  }
  rc = ph_open(name, &s->heap, &s->created, err, errlen);
  if (rc != 0) goto fail;
  if (*ph_root(s->heap, ROOT_MAGIC) == KV_ROOT_MAGIC_V1) {
    snprintf(err, errlen, "store '%s' was written by an older rum-kvs (8-byte blob headers); "
             "dump it with that version and load it into a new store", name);
    rc = RUM_EINVAL;
    goto fail;
  }
  if (*ph_root(s->heap, ROOT_MAGIC) != KV_ROOT_MAGIC) {
    /* Written back at once: a crash before the first sync (likely with --sync no)
     * must leave an empty store behind, not a region without its magic. */
    if ((rc = make_root(s)) != 0 || (rc = kv_sync(s)) != 0) {
      snprintf(err, errlen, "cannot create the keyspace of store '%s': %s", name, rum_strerror(rc));
      goto fail;
    }
  } else {
    s->keys = *ph_root(s->heap, ROOT_KEYS);
  }
  *out = s;
  return 0;
fail:
  if (s->heap != NULL) ph_close(s->heap);
  if (s->journaled) rum_journal_close();
  kv_lock_release(s->lock);
  free(s);
  return rc;
}

int kv_close(struct kv_store *s) {
  int rc = kv_sync(s);
  int rc2 = ph_close(s->heap);
  if (rc == 0) rc = rc2;
  if (s->journaled) {
    rc2 = rum_journal_close();
    if (rc == 0) rc = rc2;
  }
  /* Release the lock only once the data is on the nodes: a successor must not start
   * from a store whose last writes are still in flight. */
  if (rc == 0) kv_lock_release(s->lock);
  else rum_detach(s->lock);
  free(s);
  return rc;
}

void kv_hash_free(struct kv_store *s, kv_ref d);

static void free_member_blob(struct ph_heap *h, struct pd_entry *e, void *arg) {
  (void)arg;
  ph_free(h, e->val);
}

void kv_hash_free(struct kv_store *s, kv_ref d) { pd_destroy(s->heap, d, free_member_blob, NULL); }

void kv_value_free(struct kv_store *s, uint8_t type, kv_ref val) {
  if (val == KV_NULL) return;
  if (type != KV_STRING && kv_value_elements(s, type, val) > KV_LAZYFREE_MIN && kv_lazyfree_push(s, type, val) == 0)
    return;
  switch (type) {
  case KV_STRING: ph_free(s->heap, val); break;
  case KV_LIST: kv_list_free(s, val); break;
  case KV_SET: pd_destroy(s->heap, val, NULL, NULL); break;
  case KV_HASH: kv_hash_free(s, val); break;
  case KV_ZSET: kv_zset_free(s, val); break;
  default: break;
  }
}

static void drop_entry(struct kv_store *s, kv_ref e) {
  struct pd_entry *pe = kv_entry(s, e);
  if (pe->aux != 0) ((struct pd_dict *)kv_at(s, s->keys))->naux--;
  kv_value_free(s, pe->type, pe->val);
  ph_free(s->heap, e);
}

int kv_delete(struct kv_store *s, const void *key, size_t klen) {
  kv_ref e = pd_unlink(s->heap, s->keys, key, klen);
  if (e == KV_NULL) return 0;
  drop_entry(s, e);
  pd_maybe_shrink(s->heap, s->keys);
  return 1;
}

kv_ref kv_lookup(struct kv_store *s, const void *key, size_t klen, int64_t now_ms) {
  kv_ref e = pd_find(s->heap, s->keys, key, klen);
  if (e == KV_NULL) return KV_NULL;
  struct pd_entry *pe = kv_entry(s, e);
  if (pe->aux != 0 && pe->aux <= now_ms) {
    kv_delete(s, key, klen);
    s->expired++;
    return KV_NULL;
  }
  return e;
}

void kv_prefetch(struct kv_store *s, const unsigned char *const *keys, const size_t *klens, int n) {
  kv_ref ents[PD_PREFETCH_MAX];
  struct iovec iov[PD_PREFETCH_MAX];
  for (int off = 0; off < n; off += PD_PREFETCH_MAX) {
    int m = n - off < PD_PREFETCH_MAX ? n - off : PD_PREFETCH_MAX;
    pd_prefetch(s->heap, s->keys, keys + off, klens + off, m, ents);
    int ni = 0;
    for (int i = 0; i < m; i++) {
      if (ents[i] == KV_NULL) continue;
      struct pd_entry *pe = kv_entry(s, ents[i]);
      /* A string's header and first bytes: all of a small value, the length of a big one. */
      if (pe->type == KV_STRING && pe->val != KV_NULL)
        iov[ni++] = (struct iovec){kv_at(s, pe->val), sizeof(struct kv_blob) + 112};
    }
    if (ni > 0) (void)rum_prefetchv(iov, ni);
  }
}

void kv_set_expire(struct kv_store *s, kv_ref e, int64_t when_ms) {
  struct pd_entry *pe = kv_entry(s, e);
  struct pd_dict *d = kv_at(s, s->keys);
  if (pe->aux != 0) d->naux--;
  pe->aux = when_ms;
  if (when_ms != 0) d->naux++;
}

kv_ref kv_put(struct kv_store *s, const void *key, size_t klen, uint8_t type, kv_ref val, int keep_ttl) {
  int existed = 0;
  kv_ref e = pd_add(s->heap, s->keys, key, klen, &existed);
  if (e == KV_NULL) return KV_NULL;
  struct pd_entry *pe = kv_entry(s, e);
  if (existed) {
    kv_value_free(s, pe->type, pe->val);
    if (!keep_ttl) kv_set_expire(s, e, 0);
  }
  pe->type = type;
  pe->val = val;
  return e;
}

uint64_t kv_next_cas(struct kv_store *s) { return ++*ph_root(s->heap, ROOT_CAS); }

uint64_t kv_dbsize(struct kv_store *s) { return pd_count(s->heap, s->keys); }
uint64_t kv_nexpires(struct kv_store *s) { return ((struct pd_dict *)kv_at(s, s->keys))->naux; }

int kv_flush(struct kv_store *s) {
  /* Dropping every segment is both faster than freeing key by key and hands the pages
   * back to the nodes. */
  uint64_t cas = *ph_root(s->heap, ROOT_CAS); /* CAS numbers are never reused */
  int rc = ph_reset(s->heap);
  if (rc != 0) return rc;
  *ph_root(s->heap, ROOT_CAS) = cas;
  s->sweep_cursor = 0;
  return make_root(s);
}

struct sweep {
  struct kv_store *s;
  int64_t now;
  int removed;
  kv_ref victims[64];
  int nvictims;
};

static void sweep_visit(struct ph_heap *h, kv_ref e, void *arg) {
  struct sweep *w = arg;
  struct pd_entry *pe = ph_ptr(h, e);
  if (pe->aux != 0 && pe->aux <= w->now && w->nvictims < 64) w->victims[w->nvictims++] = e;
}

int kv_expire_sweep(struct kv_store *s, int64_t now_ms, int max_buckets) {
  if (kv_nexpires(s) == 0) return 0;
  struct sweep w = {.s = s, .now = now_ms};
  for (int i = 0; i < max_buckets; i++) {
    w.nvictims = 0;
    s->sweep_cursor = pd_scan(s->heap, s->keys, s->sweep_cursor, sweep_visit, &w);
    for (int v = 0; v < w.nvictims; v++) {
      struct pd_entry *pe = kv_entry(s, w.victims[v]);
      /* The key bytes live in the entry being freed: delete through a copy. */
      unsigned char small[256];
      size_t klen = pe->klen;
      unsigned char *key = klen <= sizeof small ? small : malloc(klen);
      if (key == NULL) continue;
      memcpy(key, pe->key, klen);
      w.removed += kv_delete(s, key, klen);
      if (key != small) free(key);
    }
    if (s->sweep_cursor == 0) break;
  }
  s->expired += (uint64_t)w.removed;
  return w.removed;
}

int kv_rehash_step(struct kv_store *s, int n) { return pd_rehash(s->heap, s->keys, n); }

int kv_rename(struct kv_store *s, const void *src, size_t slen, const void *dst, size_t dlen) {
  kv_ref e = pd_find(s->heap, s->keys, src, slen);
  if (e == KV_NULL) return 0;
  struct pd_entry *pe = kv_entry(s, e);
  uint8_t type = pe->type;
  kv_ref val = pe->val;
  int64_t when = pe->aux;
  /* Take the value out of the old entry first so that deleting it frees nothing. */
  pe->val = KV_NULL;
  kv_ref ne = kv_put(s, dst, dlen, type, val, 0);
  if (ne == KV_NULL) {
    pe->val = val;
    return RUM_ENOMEM;
  }
  kv_delete(s, src, slen);
  kv_set_expire(s, ne, when);
  return 1;
}
