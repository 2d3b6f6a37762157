/* Buckets, objects, uploads and chunked bodies on the rum-kvs core (see objstore.h). */
#include "objstore.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#define BUCKETS_KEY "s3:buckets"
#define ZS(st, z) ((struct kv_zset *)s3s_at((st), (z)))

struct s3_pin {
  struct s3_pin *next;
  kv_ref obj;
  int count;
  int doomed; /* deleted while pinned: free at the last unpin */
};

int s3s_open(const char *name, size_t journal_bytes, struct s3_store *st, char *err, size_t errlen) {
  memset(st, 0, sizeof *st);
  int rc = kv_open(name, journal_bytes, &st->kv, err, errlen);
  if (rc != 0) return rc;
  kv_ref e = kv_lookup(st->kv, BUCKETS_KEY, strlen(BUCKETS_KEY), 0);
  if (e != KV_NULL && kv_entry(st->kv, e)->type == KV_ZSET) {
    st->buckets = kv_entry(st->kv, e)->val;
    return 0;
  }
  kv_ref z = kv_zset_new(st->kv);
  if (z == KV_NULL || kv_put(st->kv, BUCKETS_KEY, strlen(BUCKETS_KEY), KV_ZSET, z, 0) == KV_NULL) {
    snprintf(err, errlen, "store '%s': no room for the bucket list", name);
    kv_close(st->kv);
    return RUM_ENOMEM;
  }
  st->buckets = z;
  return 0;
}

int s3s_close(struct s3_store *st) {
  while (st->pins) {
    struct s3_pin *p = st->pins;
    st->pins = p->next;
    if (p->doomed) s3s_obj_free(st, p->obj);
    free(p);
  }
  return kv_close(st->kv);
}

uint64_t s3s_count(struct s3_store *st, kv_ref z) { return ZS(st, z)->len; }

struct pd_entry *s3s_rank(struct s3_store *st, kv_ref z, uint64_t i, kv_ref *val) {
  struct kv_znode *n = kv_znode(st->kv, kv_zset_node_at(st->kv, z, i));
  if (val != NULL) *val = n->user;
  return kv_entry(st->kv, n->ent);
}

uint64_t s3s_lower(struct s3_store *st, kv_ref z, const void *key, size_t klen, int exclusive) {
  return kv_zset_lower_lex(st->kv, z, key, klen, exclusive);
}

kv_ref s3s_get(struct s3_store *st, kv_ref z, const void *key, size_t klen) {
  kv_ref *val = kv_zset_user(st->kv, z, key, klen);
  return val ? *val : KV_NULL;
}

/* Add key to zset z with val; the old val (if any) is returned in *old. */
static int zput(struct s3_store *st, kv_ref z, const void *key, size_t klen, kv_ref val, kv_ref *old) {
  int added = 0;
  if (kv_zset_set(st->kv, z, key, klen, 0.0, &added) != 0) return RUM_ENOMEM;
  kv_ref *slot = kv_zset_user(st->kv, z, key, klen);
  *old = added ? KV_NULL : *slot;
  *slot = val;
  return 0;
}

kv_ref s3s_bucket(struct s3_store *st, const char *name) { return s3s_get(st, st->buckets, name, strlen(name)); }

int s3s_bucket_create(struct s3_store *st, const char *name, int64_t now_ms) {
  if (s3s_bucket(st, name) != KV_NULL) return 1;
  kv_ref b = ph_zalloc(st->kv->heap, sizeof(struct s3_bucket));
  kv_ref objs = kv_zset_new(st->kv), ups = kv_zset_new(st->kv);
  kv_ref old;
  if (b == KV_NULL || objs == KV_NULL || ups == KV_NULL || zput(st, st->buckets, name, strlen(name), b, &old)) {
    if (objs) kv_zset_free(st->kv, objs);
    if (ups) kv_zset_free(st->kv, ups);
    ph_free(st->kv->heap, b);
    return RUM_ENOMEM;
  }
  struct s3_bucket *pb = s3s_at(st, b);
  pb->created_ms = now_ms;
  pb->objects = objs;
  pb->uploads = ups;
  return 0;
}

int s3s_bucket_delete(struct s3_store *st, const char *name) {
  kv_ref b = s3s_bucket(st, name);
  if (b == KV_NULL) return RUM_ENOENT;
  struct s3_bucket *pb = s3s_at(st, b);
  if (s3s_count(st, pb->objects) || s3s_count(st, pb->uploads)) return RUM_EBUSY;
  kv_zset_free(st->kv, pb->objects);
  kv_zset_free(st->kv, pb->uploads);
  kv_zset_remove(st->kv, st->buckets, name, strlen(name));
  ph_free(st->kv->heap, b);
  return 0;
}

/* ---- bodies ---- */

int s3w_init(struct s3_writer *w, struct s3_store *st, uint64_t size_hint) {
  memset(w, 0, sizeof *w);
  w->st = st;
  w->hint = size_hint;
  w->md5 = EVP_MD_CTX_new();
  if (w->md5 == NULL || !EVP_DigestInit_ex(w->md5, EVP_md5(), NULL)) {
    EVP_MD_CTX_free(w->md5);
    w->md5 = NULL;
    return RUM_ENOMEM;
  }
  return 0;
}

/* Append the filled current chunk to the array. */
static int seal(struct s3_writer *w) {
  struct ph_heap *h = w->st->kv->heap;
  if (w->cur == KV_NULL) return 0;
  if (w->body.nchunks == w->cap) {
    uint64_t cap = w->cap ? w->cap * 2 : 8;
    kv_ref na = ph_alloc(h, cap * sizeof(struct s3_chunkref));
    if (na == KV_NULL) return RUM_ENOMEM;
    if (w->body.nchunks)
      memcpy(ph_ptr(h, na), ph_ptr(h, w->body.chunks), w->body.nchunks * sizeof(struct s3_chunkref));
    ph_free(h, w->body.chunks);
    w->body.chunks = na;
    w->cap = cap;
  }
  struct kv_blob *bl = ph_ptr(h, w->cur);
  bl->len = w->cur_len;
  struct s3_chunkref *a = ph_ptr(h, w->body.chunks);
  a[w->body.nchunks].off = w->body.size - w->cur_len;
  a[w->body.nchunks].blob = w->cur;
  w->body.nchunks++;
  w->cur = KV_NULL;
  return 0;
}

int s3w_write(struct s3_writer *w, const void *p, size_t n) {
  const unsigned char *src = p;
  EVP_DigestUpdate(w->md5, p, n);
  while (n > 0) {
    if (w->cur == KV_NULL) {
      uint64_t left = w->hint > w->body.size ? w->hint - w->body.size : 0;
      uint64_t want = left && left < S3_CHUNK_DATA ? left : S3_CHUNK_DATA;
      if (want < n && n < S3_CHUNK_DATA) want = S3_CHUNK_DATA;
      w->cur = kv_blob_new(w->st->kv, NULL, want);
      if (w->cur == KV_NULL) return RUM_ENOMEM;
      /* Fetch the chunk's pages in one burst rather than one fault at a time. */
      rum_prefetch(kv_blob(w->st->kv, w->cur)->data, (size_t)want);
      w->cur_len = 0;
      w->cur_cap = want;
    }
    size_t take = n < w->cur_cap - w->cur_len ? n : (size_t)(w->cur_cap - w->cur_len);
    memcpy(kv_blob(w->st->kv, w->cur)->data + w->cur_len, src, take);
    w->cur_len += take;
    w->body.size += take;
    src += take;
    n -= take;
    if (w->cur_len == w->cur_cap && seal(w) != 0) return RUM_ENOMEM;
  }
  return 0;
}

int s3w_finish(struct s3_writer *w, struct s3_body *out, unsigned char md5[16]) {
  if (w->cur != KV_NULL && w->cur_len < w->cur_cap / 2) {
    /* A short last chunk moves to a block of its size. */
    kv_ref small = kv_blob_new(w->st->kv, kv_blob(w->st->kv, w->cur)->data, w->cur_len);
    if (small != KV_NULL) {
      ph_free(w->st->kv->heap, w->cur);
      w->cur = small;
    }
  }
  if (seal(w) != 0) return RUM_ENOMEM;
  unsigned int ml = 16;
  EVP_DigestFinal_ex(w->md5, md5, &ml);
  EVP_MD_CTX_free(w->md5);
  w->md5 = NULL;
  *out = w->body;
  memset(&w->body, 0, sizeof w->body);
  return 0;
}

void s3w_abort(struct s3_writer *w) {
  if (w->cur != KV_NULL) ph_free(w->st->kv->heap, w->cur);
  w->cur = KV_NULL;
  s3s_body_free(w->st, &w->body);
  EVP_MD_CTX_free(w->md5);
  w->md5 = NULL;
}

void s3s_body_free(struct s3_store *st, struct s3_body *b) {
  struct ph_heap *h = st->kv->heap;
  if (b->chunks != KV_NULL) {
    struct s3_chunkref *a = ph_ptr(h, b->chunks);
    for (uint64_t i = 0; i < b->nchunks; i++) ph_free(h, a[i].blob);
    ph_free(h, b->chunks);
  }
  memset(b, 0, sizeof *b);
}

void s3s_read(struct s3_store *st, const struct s3_body *b, uint64_t off, void *dst, size_t n) {
  if (n == 0 || b->nchunks == 0) return; /* an empty body has no chunk table */
  struct ph_heap *h = st->kv->heap;
  const struct s3_chunkref *a = ph_ptr(h, b->chunks);
  uint64_t lo = 0, hi = b->nchunks; /* last chunk with a[i].off <= off */
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (a[mid].off <= off) lo = mid;
    else hi = mid;
  }
  unsigned char *d = dst;
  for (uint64_t i = lo; n > 0 && i < b->nchunks; i++) {
    struct kv_blob *bl = ph_ptr(h, a[i].blob);
    /* Entering a chunk: ask for it and the next one in bursts (read-ahead). */
    if (off == a[i].off || i == lo) {
      rum_prefetch(bl->data + (off - a[i].off), (size_t)(bl->len - (off - a[i].off)));
      /* The next chunk's length is not read here (that would fault now): a chunk is
       * at most S3_CHUNK_DATA, and a prefetch past a short one is only a hint. */
      if (i + 1 < b->nchunks) rum_prefetch(ph_ptr(h, a[i + 1].blob), S3_CHUNK_DATA + sizeof(struct kv_blob));
    }
    uint64_t in = off - a[i].off;
    size_t take = bl->len - in < n ? (size_t)(bl->len - in) : n;
    memcpy(d, bl->data + in, take);
    d += take;
    off += take;
    n -= take;
  }
}

/* ---- objects ---- */

kv_ref s3s_obj_new(struct s3_store *st, const struct s3_body *body, int64_t mtime_ms, const char *etag,
                   const void *meta, size_t metalen) {
  kv_ref o = ph_zalloc(st->kv->heap, sizeof(struct s3_obj));
  kv_ref m = kv_blob_new(st->kv, meta, metalen);
  if (o == KV_NULL || m == KV_NULL) {
    ph_free(st->kv->heap, o);
    ph_free(st->kv->heap, m);
    return KV_NULL;
  }
  struct s3_obj *po = s3s_at(st, o);
  po->body = *body;
  po->mtime_ms = mtime_ms;
  po->meta = m;
  snprintf(po->etag, sizeof po->etag, "%s", etag);
  return o;
}

void s3s_obj_free(struct s3_store *st, kv_ref o) {
  struct s3_obj *po = s3s_at(st, o);
  s3s_body_free(st, &po->body);
  ph_free(st->kv->heap, po->meta);
  ph_free(st->kv->heap, o);
}

static struct s3_pin *find_pin(struct s3_store *st, kv_ref o) {
  for (struct s3_pin *p = st->pins; p; p = p->next)
    if (p->obj == o) return p;
  return NULL;
}

/* An object leaving the index: freed now, or when its last reader unpins it. */
static void retire(struct s3_store *st, kv_ref o) {
  struct s3_pin *p = find_pin(st, o);
  if (p) p->doomed = 1;
  else s3s_obj_free(st, o);
}

void s3s_pin(struct s3_store *st, kv_ref o) {
  struct s3_pin *p = find_pin(st, o);
  if (p == NULL) {
    p = calloc(1, sizeof *p);
    if (p == NULL) return; /* unpinned reads of a deleted object would see freed chunks: see unpin */
    p->obj = o;
    p->next = st->pins;
    st->pins = p;
  }
  p->count++;
}

void s3s_unpin(struct s3_store *st, kv_ref o) {
  for (struct s3_pin **pp = &st->pins; *pp; pp = &(*pp)->next) {
    struct s3_pin *p = *pp;
    if (p->obj != o) continue;
    if (--p->count > 0) return;
    *pp = p->next;
    if (p->doomed) s3s_obj_free(st, o);
    free(p);
    return;
  }
}

int s3s_obj_put(struct s3_store *st, kv_ref bucket, const char *key, size_t klen, kv_ref obj) {
  struct s3_bucket *b = s3s_at(st, bucket);
  kv_ref old;
  if (zput(st, b->objects, key, klen, obj, &old) != 0) return RUM_ENOMEM;
  if (old != KV_NULL) retire(st, old);
  return 0;
}

int s3s_obj_delete(struct s3_store *st, kv_ref bucket, const char *key, size_t klen) {
  struct s3_bucket *b = s3s_at(st, bucket);
  kv_ref o = s3s_get(st, b->objects, key, klen);
  if (o == KV_NULL) return 0;
  kv_zset_remove(st->kv, b->objects, key, klen);
  retire(st, o);
  return 1;
}

const char *s3s_meta_get(struct s3_store *st, kv_ref meta, const char *name) {
  struct kv_blob *m = kv_blob(st->kv, meta);
  const char *p = (const char *)m->data, *end = p + m->len;
  while (p < end) {
    const char *v = p + strlen(p) + 1;
    if (v >= end) return NULL;
    if (strcmp(p, name) == 0) return v;
    p = v + strlen(v) + 1;
  }
  return NULL;
}

/* ---- uploads ---- */

kv_ref s3s_upload_create(struct s3_store *st, kv_ref bucket, const char *mem, size_t mlen, int64_t now_ms,
                         const void *meta, size_t metalen) {
  struct ph_heap *h = st->kv->heap;
  kv_ref u = ph_zalloc(h, sizeof(struct s3_upload));
  kv_ref m = kv_blob_new(st->kv, meta, metalen);
  kv_ref parts = kv_zset_new(st->kv);
  kv_ref old;
  if (u == KV_NULL || m == KV_NULL || parts == KV_NULL ||
      zput(st, ((struct s3_bucket *)s3s_at(st, bucket))->uploads, mem, mlen, u, &old) != 0) {
    ph_free(h, u);
    ph_free(h, m);
    if (parts) kv_zset_free(st->kv, parts);
    return KV_NULL;
  }
  struct s3_upload *pu = s3s_at(st, u);
  pu->initiated_ms = now_ms;
  pu->meta = m;
  pu->parts = parts;
  return u;
}

void s3s_upload_delete(struct s3_store *st, kv_ref bucket, const char *mem, size_t mlen) {
  struct s3_bucket *b = s3s_at(st, bucket);
  kv_ref u = s3s_get(st, b->uploads, mem, mlen);
  if (u == KV_NULL) return;
  struct s3_upload *pu = s3s_at(st, u);
  for (uint64_t i = 0; i < s3s_count(st, pu->parts); i++) {
    kv_ref pr;
    s3s_rank(st, pu->parts, i, &pr);
    s3s_body_free(st, &((struct s3_part *)s3s_at(st, pr))->body);
    ph_free(st->kv->heap, pr);
  }
  kv_zset_free(st->kv, pu->parts);
  ph_free(st->kv->heap, pu->meta);
  kv_zset_remove(st->kv, b->uploads, mem, mlen);
  ph_free(st->kv->heap, u);
}

int s3s_part_put(struct s3_store *st, kv_ref upload, int number, const struct s3_body *body,
                 const unsigned char md5[16], int64_t now_ms) {
  kv_ref p = ph_zalloc(st->kv->heap, sizeof(struct s3_part));
  if (p == KV_NULL) return RUM_ENOMEM;
  struct s3_part *pp = s3s_at(st, p);
  pp->body = *body;
  pp->mtime_ms = now_ms;
  memcpy(pp->md5, md5, 16);
  unsigned char be[4] = {(unsigned char)(number >> 24), (unsigned char)(number >> 16), (unsigned char)(number >> 8),
                         (unsigned char)number};
  kv_ref old;
  struct s3_upload *pu = s3s_at(st, upload);
  if (zput(st, pu->parts, be, 4, p, &old) != 0) {
    ph_free(st->kv->heap, p);
    return RUM_ENOMEM;
  }
  if (old != KV_NULL) {
    s3s_body_free(st, &((struct s3_part *)s3s_at(st, old))->body);
    ph_free(st->kv->heap, old);
  }
  return 0;
}
