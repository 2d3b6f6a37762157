/* Allocation: rum_alloc / rum_calloc / rum_realloc / rum_free / rum_alloc_on /
 * rum_usable_size on an explicit client, and the region life cycle behind them.
 *
 * Sizes up to RUM_HEAP_EXTENT_MAX come from the heap (heap.c: slabs and blocks carved
 * out of heap regions, no round trip); larger ones are regions of their own with
 * twice their size of virtual room reserved, so that a growing realloc usually only
 * tells the nodes the new size (RESIZE) and keeps the pointer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "util/log.h"

int rum__client_region_new(struct rum_client *cl, const struct rum_region_spec *spec,
                           struct rum_region **out) {
  struct rum_region *r;
  pthread_rwlock_wrlock(&cl->regions_lock);
  int rc = rum__region_table_carve(&cl->table, spec->npages, spec->reserved_pages, &r);
  if (rc != 0) goto out;
  r->id = spec->id;
  r->kind = spec->kind;
  r->wire_flags = spec->wire_flags;
  r->pinned_node = spec->pinned_node;
  r->fresh = spec->fresh;
  r->user_size = spec->size != 0 ? spec->size : spec->npages * RUM_PAGE_SIZE;
  if (spec->name != NULL) {
    r->name = strdup(spec->name);
    if (r->name == NULL) {
      rc = RUM_ENOMEM;
      goto err_release;
    }
  }
  rc = cl->fault->ops->map_region(cl->fault, r->base, r->reserved_pages * RUM_PAGE_SIZE);
  if (rc != 0) {
    RUM_LOG_E("mapping a region of %llu pages: %s", (unsigned long long)r->reserved_pages, strerror(-rc));
    rc = RUM_ENOMEM;
    goto err_release;
  }
  if (spec->register_remote) {
    rc = cl->remote.region_create(cl->remote_ctx, r, spec->name, spec->name ? strlen(spec->name) : 0);
    if (rc != 0) goto err_unmap;
  }
  *out = r;
  goto out;
err_unmap:
  cl->fault->ops->unmap_region(cl->fault, r->base, r->reserved_pages * RUM_PAGE_SIZE);
err_release:
  rum__region_table_release(&cl->table, r);
out:
  pthread_rwlock_unlock(&cl->regions_lock);
  return rc;
}

void rum__client_region_drop(struct rum_client *cl, struct rum_region *r, bool destroy_remote) {
  pthread_rwlock_wrlock(&cl->regions_lock);
  rum__cache_discard(cl->cache, r, 0, r->reserved_pages, true);
  /* A lost region is gone from its nodes already (and they refuse this session). */
  if (destroy_remote && !atomic_load(&r->lost)) {
    int rc = cl->remote.region_destroy(cl->remote_ctx, r, r->name, r->name ? strlen(r->name) : 0);
    if (rc != 0)
      RUM_LOG_W("freeing region %#llx on its nodes: %s (their lease reclaim will free it)",
                (unsigned long long)r->id, rum_strerror(rc));
  }
  cl->fault->ops->unmap_region(cl->fault, r->base, r->reserved_pages * RUM_PAGE_SIZE);
  rum__region_table_release(&cl->table, r);
  pthread_rwlock_unlock(&cl->regions_lock);
}

int rum__client_region_resize(struct rum_client *cl, struct rum_region *r, uint64_t npages, uint64_t size) {
  pthread_rwlock_wrlock(&cl->regions_lock);
  uint64_t old = atomic_load(&r->npages), old_size = r->user_size;
  if (npages < old) rum__cache_discard(cl->cache, r, npages, old - npages, true);
  atomic_store(&r->npages, npages);
  r->user_size = size; /* the nodes record the exact size (rum_attach reports it) */
  int rc = cl->remote.region_resize(cl->remote_ctx, r, old);
  if (rc != 0) {
    atomic_store(&r->npages, old);
    r->user_size = old_size;
  }
  pthread_rwlock_unlock(&cl->regions_lock);
  return rc;
}

/* Virtual room for a large region: eight times its size up to 4 GiB of room, at least
 * twice it, so that a buffer growing by realloc keeps its pointer and never copies
 * (only RESIZE messages) until it is eight times as big. Room costs address space
 * only: the region's page-state arrays are backed lazily. */
static uint64_t room_for(uint64_t npages) {
  enum { ROOM_CAP_PAGES = 1u << 20 }; /* 4 GiB */
  uint64_t room = npages * 8;
  if (room > ROOM_CAP_PAGES) room = npages * 2 > ROOM_CAP_PAGES ? npages * 2 : ROOM_CAP_PAGES;
  return room < npages + RUM_CHUNK_PAGES ? npages + RUM_CHUNK_PAGES : room;
}

static struct rum_region *large_new(struct rum_client *cl, size_t size, int32_t pinned, int *err) {
  if (size > cl->table.arena_bytes / 4) {
    *err = RUM_ENOMEM;
    return NULL;
  }
  uint64_t npages = rum__pages_for(size);
  struct rum_region_spec spec = {
      .id = rum__client_new_region_id(cl),
      .npages = npages,
      .reserved_pages = room_for(npages),
      .size = size,
      .kind = RUM_REGION_LARGE,
      .wire_flags = pinned >= 0 ? RUM_REGION_F_PINNED : 0,
      .pinned_node = pinned,
      .fresh = true,
      .register_remote = true,
  };
  struct rum_region *r = NULL;
  *err = rum__client_region_new(cl, &spec, &r);
  return *err != 0 ? NULL : r;
}

void *rum__client_alloc(struct rum_client *cl, size_t size, bool zero) {
  int err = 0;
  if (size <= RUM_HEAP_EXTENT_MAX) {
    bool zeroed;
    void *p = rum__heap_alloc(&cl->heap, size, &zeroed, &err);
    if (p == NULL) {
      errno = rum__errno_of(err);
      return NULL;
    }
    if (zero && !zeroed) memset(p, 0, size);
    atomic_fetch_add_explicit(&cl->bytes_requested, size, memory_order_relaxed);
    return p;
  }
  struct rum_region *r = large_new(cl, size, -1, &err);
  if (r == NULL) {
    errno = rum__errno_of(err);
    return NULL;
  }
  atomic_fetch_add_explicit(&cl->bytes_requested, size, memory_order_relaxed);
  return r->base; /* a fresh region reads as zeros */
}

void *rum__client_alloc_on(struct rum_client *cl, int node_id, size_t size) {
  if (node_id < 0 || !cl->remote.node_exists(cl->remote_ctx, (uint32_t)node_id)) {
    errno = EINVAL;
    return NULL;
  }
  if (cl->remote.can_pin != NULL && !cl->remote.can_pin(cl->remote_ctx)) {
    errno = ENOTSUP; /* refused, not placed elsewhere in silence */
    return NULL;
  }
  int err;
  struct rum_region *r = large_new(cl, size == 0 ? 1 : size, node_id, &err);
  if (r == NULL) {
    errno = rum__errno_of(err);
    return NULL;
  }
  return r->base;
}

/* The region ptr is the start of (for regions) or lies in (for heap blocks), or NULL. */
static struct rum_region *owner_of(struct rum_client *cl, void *ptr, const char *what) {
  struct rum_region *r = rum__region_table_lookup(&cl->table, ptr);
  if (r != NULL && (r->kind == RUM_REGION_HEAP || ptr == r->base)) return r;
  RUM_LOG_W("%s(%p): not a pointer RUM returned; ignored", what, ptr);
  return NULL;
}

void rum__client_free(struct rum_client *cl, void *ptr) {
  if (ptr == NULL) return;
  struct rum_region *r = owner_of(cl, ptr, "rum_free");
  if (r == NULL) return;
  if (r->kind == RUM_REGION_HEAP) {
    rum__heap_free(&cl->heap, r, ptr);
    return;
  }
  if (r->kind == RUM_REGION_NAMED) {
    pthread_mutex_lock(&cl->named_lock);
    for (size_t i = 0; i < cl->nnamed; i++)
      if (cl->named[i] == r) cl->named[i] = cl->named[--cl->nnamed];
    pthread_mutex_unlock(&cl->named_lock);
  }
  rum__client_region_drop(cl, r, true);
}

size_t rum__client_usable_size(struct rum_client *cl, void *ptr) {
  if (ptr == NULL) return 0;
  struct rum_region *r = rum__region_table_lookup(&cl->table, ptr);
  if (r == NULL) return 0;
  if (r->kind == RUM_REGION_HEAP) return rum__heap_usable(&cl->heap, r, ptr);
  if (ptr != r->base) return 0;
  return atomic_load(&r->npages) * RUM_PAGE_SIZE;
}

/* Move a large region to a bigger one. When most of it is in the cache, copy it
 * locally: writing it back, copying on the nodes and fetching it all again would
 * cost three transfers of the data where a memcpy costs none. Otherwise write back,
 * copy on the nodes (no page travels), drop the old. */
static void *move_large(struct rum_client *cl, struct rum_region *r, size_t size) {
  uint64_t npages = atomic_load(&r->npages);
  if (atomic_load(&r->nresident) * 2 >= npages) {
    size_t old_size = r->user_size ? r->user_size : npages * RUM_PAGE_SIZE;
    int err = 0;
    struct rum_region *n = large_new(cl, size, r->pinned_node, &err);
    if (n == NULL) {
      errno = rum__errno_of(err);
      return NULL;
    }
    memcpy(n->base, r->base, old_size < size ? old_size : size);
    rum__client_region_drop(cl, r, true);
    return n->base;
  }
  int err = rum__cache_flush(cl->cache, r, 0, npages);
  if (err != 0) {
    errno = rum__errno_of(err);
    return NULL;
  }
  struct rum_region *n = large_new(cl, size, r->pinned_node, &err);
  if (n == NULL) {
    errno = rum__errno_of(err);
    return NULL;
  }
  uint64_t copy = atomic_load(&r->npages);
  if (copy > atomic_load(&n->npages)) copy = atomic_load(&n->npages);
  err = cl->remote.region_copy(cl->remote_ctx, r, n, copy);
  if (err != 0) {
    rum__client_region_drop(cl, n, true);
    errno = rum__errno_of(err);
    return NULL;
  }
  for (uint64_t p = 0; p < copy; p++) atomic_fetch_or(&n->state[p], RUM_PAGE_STORED);
  rum__client_region_drop(cl, r, true);
  return n->base;
}

/* Move a block to a new one of `size` bytes. A shrink never fails: when no new block
 * can be had (the nodes are full), the old one, big enough, stays where it is. Lua and
 * other callers treat a failed shrink as fatal, and memory freed a moment ago may not
 * have been handed back to the nodes yet. */
static void *move_object(struct rum_client *cl, void *ptr, size_t old_size, size_t size) {
  int saved_errno = errno;
  void *n = rum__client_alloc(cl, size, false);
  if (n == NULL && size <= old_size) {
    errno = saved_errno;
    return ptr;
  }
  if (n == NULL) return NULL;
  memcpy(n, ptr, old_size < size ? old_size : size);
  rum__client_free(cl, ptr);
  return n;
}

/* A heap block: a slab object keeps its place within its size class; a larger block
 * grows or shrinks in place when its span allows, and otherwise moves (to a slab, a
 * bigger span, or a region of its own past RUM_HEAP_EXTENT_MAX). */
static void *realloc_heap_block(struct rum_client *cl, struct rum_region *r, void *ptr, size_t size) {
  size_t usable;
  if (rum__heap_is_small(&cl->heap, r, ptr, &usable)) {
    if (usable == 0) {
      errno = EINVAL;
      return NULL;
    }
    if (rum__slab_class_of(size) == rum__slab_class_of(usable)) return ptr;
    return move_object(cl, ptr, usable, size);
  }
  usable = rum__heap_usable(&cl->heap, r, ptr);
  if (usable == 0) {
    errno = EINVAL;
    return NULL;
  }
  if (size > RUM_SLAB_MAX / 2 && size <= RUM_HEAP_EXTENT_MAX) {
    int rc = rum__heap_resize_in_place(&cl->heap, r, ptr, size);
    if (rc == 0) return ptr;
    if (rc != RUM_ENOMEM) {
      errno = rum__errno_of(rc);
      return NULL;
    }
  }
  return move_object(cl, ptr, usable, size);
}

void *rum__client_realloc(struct rum_client *cl, void *ptr, size_t size) {
  if (ptr == NULL) return rum__client_alloc(cl, size, false);
  if (size == 0) {
    rum__client_free(cl, ptr);
    return NULL;
  }
  struct rum_region *r = owner_of(cl, ptr, "rum_realloc");
  if (r == NULL) {
    errno = EINVAL;
    return NULL;
  }
  /* Larger than any region can be (rum_alloc's limit): fail before touching the
   * block, which stays as it was. */
  if (size > cl->table.arena_bytes / 4) {
    errno = ENOMEM;
    return NULL;
  }
  if (atomic_load(&r->lost)) {
    errno = EIO;
    return NULL;
  }
  if (r->kind == RUM_REGION_HEAP) return realloc_heap_block(cl, r, ptr, size);
  uint64_t new_npages = rum__pages_for(size);
  if (r->kind == RUM_REGION_LARGE && r->pinned_node < 0 && size <= RUM_SLAB_MAX / 2)
    return move_object(cl, ptr, (size_t)atomic_load(&r->npages) * RUM_PAGE_SIZE, size);
  if (new_npages <= r->reserved_pages) {
    int err = rum__client_region_resize(cl, r, new_npages, size);
    if (err != 0) {
      errno = rum__errno_of(err);
      return NULL;
    }
    return ptr;
  }
  if (r->kind == RUM_REGION_NAMED) {
    errno = ENOMEM; /* a named region's id is its name's: it cannot move */
    return NULL;
  }
  return move_large(cl, r, size);
}
