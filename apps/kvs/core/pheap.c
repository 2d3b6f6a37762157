/* The persistent heap: size classes in shared segments, big blocks in their own
 * segment, free lists threaded through the free blocks, all reached by kv_ref. */
#include "pheap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#define PH_MAGIC 0x3150414548564b52ull /* "RKVHEAP1" */

enum {
  PH_VERSION = 1,
  PH_NCLASSES = 55,
  PH_HDR = 8,          /* block header: class index, then the big block's size */
  PH_BIG_CLASS = 0xffff,
  SEG_FREE = 0, SEG_SMALL = 1, SEG_BIG = 2,
};

struct ph_seg {
  uint64_t size;
  uint32_t kind;
  uint32_t pad;
};

struct ph_super {
  uint64_t magic, version;
  uint64_t nsegs;      /* high-water mark of used segment numbers */
  uint64_t cur_seg;    /* small segment being carved (0 = none yet) */
  uint64_t cur_off;
  uint64_t seg_hint;   /* where to start looking for a free segment number */
  uint64_t bytes, blocks;
  uint64_t roots[PH_NROOTS];
  kv_ref free_head[PH_NCLASSES];
  struct ph_seg segs[PH_MAX_SEGS];
};

struct ph_block {
  uint32_t cls;
  uint32_t big_pages; /* for a big block: its segment's size in 4 KiB pages */
};

static uint32_t class_bytes[PH_NCLASSES];

/* Classes: 16..64 by 8, then four per doubling up to PH_BIG_MIN. */
static void classes_init(void) {
  if (class_bytes[0] != 0) return;
  int i = 0;
  for (uint32_t s = 16; s <= 64; s += 8) class_bytes[i++] = s;
  for (uint32_t base = 64; i < PH_NCLASSES; base *= 2)
    for (int q = 1; q <= 4 && i < PH_NCLASSES; q++) class_bytes[i++] = base + base / 4 * q;
}

static int class_of(size_t total) {
  int lo = 0, hi = PH_NCLASSES - 1;
  if (total > class_bytes[hi]) return -1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (class_bytes[mid] >= total) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static void seg_name(const struct ph_heap *h, uint64_t i, char *out, size_t len) {
  snprintf(out, len, "kvs.%s.s%llu", h->name, (unsigned long long)i);
}

/* Create (or, after a crash left one behind, replace) the region of segment i. */
static void *seg_create(struct ph_heap *h, uint64_t i, size_t size) {
  char name[PH_NAME_MAX + 32];
  seg_name(h, i, name, sizeof name);
  void *p = rum_alloc_named(name, size);
  if (p == NULL && errno == EEXIST) {
    void *old = rum_attach(name, NULL);
    if (old != NULL) rum_free(old);
    p = rum_alloc_named(name, size);
  }
  return p;
}

static int pending_has(const struct ph_heap *h, uint64_t i) {
  for (size_t k = 0; k < h->npending; k++)
    if (h->pending[k] == i) return 1;
  return 0;
}

static int64_t seg_take(struct ph_heap *h, size_t size, uint32_t kind) {
  struct ph_super *s = h->super;
  uint64_t start = s->seg_hint ? s->seg_hint : 1;
  for (uint64_t n = 0; n < PH_MAX_SEGS - 1; n++) {
    uint64_t i = 1 + (start - 1 + n) % (PH_MAX_SEGS - 1);
    if (s->segs[i].kind != SEG_FREE || pending_has(h, i)) continue;
    void *p = seg_create(h, i, size);
    if (p == NULL) return -1;
    h->base[i] = p;
    s->segs[i].size = size;
    s->segs[i].kind = kind;
    if (i + 1 > s->nsegs) s->nsegs = i + 1;
    s->seg_hint = i + 1 < PH_MAX_SEGS ? i + 1 : 1;
    return (int64_t)i;
  }
  errno = ENOMEM;
  return -1;
}

static void seg_release(struct ph_heap *h, uint64_t i) {
  if (h->base[i] != NULL) {
    if (h->npending == h->pending_cap) {
      size_t cap = h->pending_cap ? h->pending_cap * 2 : 16;
      uint64_t *p = realloc(h->pending, cap * sizeof *p);
      unsigned char **b = p != NULL ? realloc(h->pending_base, cap * sizeof *b) : NULL;
      if (p != NULL) h->pending = p;
      if (b != NULL) {
        h->pending_base = b;
        h->pending_cap = cap;
      }
    }
    if (h->npending < h->pending_cap) {
      h->pending[h->npending] = i;
      h->pending_base[h->npending++] = h->base[i];
      h->pending_bytes += h->super->segs[i].size;
    } else {
      rum_free(h->base[i]); /* out of memory for the list: free now, as before journaling */
    }
  }
  h->base[i] = NULL;
  h->super->segs[i].kind = SEG_FREE;
  h->super->segs[i].size = 0;
  if (i < h->super->seg_hint || h->super->seg_hint == 0) h->super->seg_hint = i;
}

static int attach_all(struct ph_heap *h, char *err, size_t errlen) {
  struct ph_super *s = h->super;
  for (uint64_t i = 1; i < s->nsegs && i < PH_MAX_SEGS; i++) {
    if (s->segs[i].kind == SEG_FREE) continue;
    char name[PH_NAME_MAX + 32];
    seg_name(h, i, name, sizeof name);
    size_t size = 0;
    h->base[i] = rum_attach(name, &size);
    if (h->base[i] == NULL) {
      snprintf(err, errlen, "store '%s' is damaged: segment region %s is missing (%s)", h->name, name,
               strerror(errno));
      return RUM_EIO;
    }
    if (size < s->segs[i].size) {
      snprintf(err, errlen, "store '%s' is damaged: segment %s has %zu bytes, expected %llu", h->name,
               name, size, (unsigned long long)s->segs[i].size);
      return RUM_EIO;
    }
  }
  return 0;
}

int ph_open(const char *name, struct ph_heap **out, int *created, char *err, size_t errlen) {
  classes_init();
  *created = 0;
  struct ph_heap *h = calloc(1, sizeof *h);
  if (h == NULL) return RUM_ENOMEM;
  h->base = calloc(PH_MAX_SEGS, sizeof *h->base);
  if (h->base == NULL) {
    free(h);
    return RUM_ENOMEM;
  }
  snprintf(h->name, sizeof h->name, "%s", name);
  char meta[PH_NAME_MAX + 32];
  snprintf(meta, sizeof meta, "kvs.%s.meta", name);
  size_t size = 0;
  h->super = rum_attach(meta, &size);
  int rc = 0;
  if (h->super == NULL && errno == ENOENT) {
    h->super = rum_alloc_named(meta, sizeof(struct ph_super));
    if (h->super == NULL) {
      rc = -errno;
      snprintf(err, errlen, "cannot create region %s: %s", meta, strerror(errno));
      goto fail;
    }
    memset(h->super, 0, offsetof(struct ph_super, segs));
    h->super->magic = PH_MAGIC;
    h->super->version = PH_VERSION;
    h->super->nsegs = 1;
    *created = 1;
  } else if (h->super == NULL) {
    rc = -errno;
    snprintf(err, errlen, "cannot attach region %s: %s", meta, strerror(errno));
    goto fail;
  } else if (size < sizeof(struct ph_super) || h->super->magic != PH_MAGIC) {
    rc = RUM_EPROTO;
    snprintf(err, errlen, "region %s is not a rum-kvs store (bad size or magic)", meta);
    goto fail;
  } else if (h->super->version != PH_VERSION) {
    rc = RUM_ENOTSUP;
    snprintf(err, errlen, "store '%s' has layout version %llu; this rum-kvs reads version %d", name,
             (unsigned long long)h->super->version, PH_VERSION);
    goto fail;
  }
  if ((rc = attach_all(h, err, errlen)) != 0) goto fail;
  *out = h;
  return 0;
fail:
  ph_close(h);
  return rc;
}

void ph_synced(struct ph_heap *h) {
  for (size_t k = 0; k < h->npending; k++) rum_free(h->pending_base[k]);
  h->npending = 0;
  h->pending_bytes = 0;
}

int ph_close(struct ph_heap *h) {
  if (h == NULL) return 0;
  int first = 0;
  /* Released segments not yet freed stay on the nodes until a later open syncs:
   * kv_close syncs first, so this is only the failure path. */
  for (size_t k = 0; k < h->npending; k++) rum_detach(h->pending_base[k]);
  free(h->pending);
  free(h->pending_base);
  for (uint64_t i = 1; h->super != NULL && i < h->super->nsegs && i < PH_MAX_SEGS; i++) {
    if (h->base[i] == NULL) continue;
    int rc = rum_detach(h->base[i]);
    if (rc != 0 && first == 0) first = rc;
  }
  if (h->super != NULL) {
    int rc = rum_detach(h->super);
    if (rc != 0 && first == 0) first = rc;
  }
  free(h->base);
  free(h);
  return first;
}

static kv_ref big_alloc(struct ph_heap *h, size_t n) {
  if (n > (size_t)UINT32_MAX * 4096 - 2 * 4096) return KV_NULL;
  size_t size = (n + PH_HDR + 4095) & ~(size_t)4095;
  int64_t i = seg_take(h, size, SEG_BIG);
  if (i < 0) return KV_NULL;
  struct ph_block *b = (struct ph_block *)h->base[i];
  b->cls = PH_BIG_CLASS;
  b->big_pages = (uint32_t)(size / 4096);
  h->super->bytes += size;
  h->super->blocks++;
  return ((kv_ref)i << 32) | PH_HDR;
}

static kv_ref bump(struct ph_heap *h, uint32_t bytes) {
  struct ph_super *s = h->super;
  if (s->cur_seg == 0 || s->cur_off + bytes > PH_SEG_BYTES) {
    int64_t i = seg_take(h, PH_SEG_BYTES, SEG_SMALL);
    if (i < 0) return KV_NULL;
    s->cur_seg = (uint64_t)i;
    s->cur_off = 16; /* offset 0 stays unused so that no block is KV_NULL */
  }
  kv_ref r = (s->cur_seg << 32) | s->cur_off;
  s->cur_off += bytes;
  return r;
}

kv_ref ph_alloc(struct ph_heap *h, size_t n) {
  if (n + PH_HDR >= PH_BIG_MIN) return big_alloc(h, n);
  int c = class_of(n + PH_HDR);
  struct ph_super *s = h->super;
  kv_ref blk = s->free_head[c];
  if (blk != KV_NULL) {
    memcpy(&s->free_head[c], (unsigned char *)ph_ptr(h, blk) + PH_HDR, sizeof(kv_ref));
  } else {
    blk = bump(h, class_bytes[c]);
    if (blk == KV_NULL) return KV_NULL;
  }
  struct ph_block *b = ph_ptr(h, blk);
  b->cls = (uint32_t)c;
  b->big_pages = 0;
  s->bytes += class_bytes[c];
  s->blocks++;
  return blk + PH_HDR;
}

kv_ref ph_zalloc(struct ph_heap *h, size_t n) {
  kv_ref r = ph_alloc(h, n);
  if (r != KV_NULL) memset(ph_ptr(h, r), 0, n);
  return r;
}

void ph_free(struct ph_heap *h, kv_ref r) {
  if (r == KV_NULL) return;
  kv_ref blk = r - PH_HDR;
  struct ph_block *b = ph_ptr(h, blk);
  struct ph_super *s = h->super;
  s->blocks--;
  if (b->cls == PH_BIG_CLASS) {
    s->bytes -= (uint64_t)b->big_pages * 4096;
    seg_release(h, r >> 32);
    return;
  }
  uint32_t c = b->cls;
  s->bytes -= class_bytes[c];
  memcpy((unsigned char *)b + PH_HDR, &s->free_head[c], sizeof(kv_ref));
  s->free_head[c] = blk;
}

size_t ph_usable(struct ph_heap *h, kv_ref r) {
  struct ph_block *b = ph_ptr(h, r - PH_HDR);
  if (b->cls == PH_BIG_CLASS) return (size_t)b->big_pages * 4096 - PH_HDR;
  return class_bytes[b->cls] - PH_HDR;
}

int ph_reset(struct ph_heap *h) {
  struct ph_super *s = h->super;
  for (uint64_t i = 1; i < s->nsegs && i < PH_MAX_SEGS; i++)
    if (s->segs[i].kind != SEG_FREE) seg_release(h, i);
  memset(s->free_head, 0, sizeof s->free_head);
  memset(s->roots, 0, sizeof s->roots);
  s->nsegs = 1;
  s->cur_seg = s->cur_off = 0;
  s->seg_hint = 1;
  s->bytes = s->blocks = 0;
  return 0;
}

uint64_t *ph_root(struct ph_heap *h, int i) { return &h->super->roots[i]; }

void ph_usage(struct ph_heap *h, uint64_t *bytes, uint64_t *blocks, uint64_t *segments) {
  uint64_t n = 0;
  for (uint64_t i = 1; i < h->super->nsegs; i++) n += h->super->segs[i].kind != SEG_FREE;
  *bytes = h->super->bytes;
  *blocks = h->super->blocks;
  *segments = n;
}

void *ph_super_addr(struct ph_heap *h, size_t *len) {
  *len = sizeof(struct ph_super);
  return h->super;
}
