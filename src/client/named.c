/* Named regions: rum_alloc_named / rum_attach / rum_detach on an explicit client.
 *
 * A named region's id is derived from its name (rum__wire_named_region_id), its
 * chunks are placed like any region's by (id, chunk), and the name's home node (the
 * ring's choice for the name) knows the name, so any later process can find it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/journal.h"
#include "util/log.h"

static bool name_ok(const char *name) {
  return name != NULL && rum__wire_name_valid(name, strnlen(name, RUM_NAME_MAX + 1));
}

static struct rum_region *find_attached(struct rum_client *cl, const char *name) {
  for (size_t i = 0; i < cl->nnamed; i++)
    if (strcmp(cl->named[i]->name, name) == 0) return cl->named[i];
  return NULL;
}

bool rum__client_named_attached(struct rum_client *cl, const char *name) {
  pthread_mutex_lock(&cl->named_lock);
  bool found = find_attached(cl, name) != NULL;
  pthread_mutex_unlock(&cl->named_lock);
  return found;
}

static int remember(struct rum_client *cl, struct rum_region *r) {
  if (cl->nnamed == cl->named_cap) {
    size_t cap = cl->named_cap ? cl->named_cap * 2 : 8;
    struct rum_region **n = realloc(cl->named, cap * sizeof(*n));
    if (n == NULL) return RUM_ENOMEM;
    cl->named = n;
    cl->named_cap = cap;
  }
  cl->named[cl->nnamed++] = r;
  return 0;
}

static void forget(struct rum_client *cl, struct rum_region *r) {
  for (size_t i = 0; i < cl->nnamed; i++)
    if (cl->named[i] == r) {
      cl->named[i] = cl->named[--cl->nnamed];
      return;
    }
}

/* Map the named region spec describes and remember it as attached; named_lock held.
 * If it cannot be remembered it is unmapped again (and destroyed on the nodes when
 * this call created it there). Returns 0 and *out, or RUM_E*. */
static int open_named(struct rum_client *cl, const struct rum_region_spec *spec, struct rum_region **out) {
  int rc = rum__client_region_new(cl, spec, out);
  if (rc != 0) return rc;
  rc = remember(cl, *out);
  if (rc != 0) {
    rum__client_region_drop(cl, *out, spec->register_remote);
    *out = NULL;
  }
  return rc;
}

void *rum__client_alloc_named(struct rum_client *cl, const char *name, size_t size) {
  if (!name_ok(name) || size == 0 || size > cl->table.arena_bytes / 4) {
    errno = size > cl->table.arena_bytes / 4 ? ENOMEM : EINVAL;
    return NULL;
  }
  pthread_mutex_lock(&cl->named_lock);
  struct rum_region *r = NULL;
  int rc = RUM_EEXIST;
  if (find_attached(cl, name) != NULL) goto out;
  uint64_t npages = rum__pages_for(size);
  struct rum_region_spec spec = {
      .id = rum__wire_named_region_id(name, strlen(name)),
      .npages = npages,
      .reserved_pages = npages * 2,
      .size = size,
      .kind = RUM_REGION_NAMED,
      .wire_flags = RUM_REGION_F_NAMED,
      .pinned_node = -1,
      .fresh = true,
      .register_remote = true,
      .name = name,
  };
  rc = open_named(cl, &spec, &r);
  if (rc == 0) {
    /* Made in the journal's current epoch: there is nothing of it to undo. */
    struct rum_journal *j = atomic_load(&cl->cache->journal);
    r->born_tag = j != NULL ? j->tag : 0;
  }
out:
  pthread_mutex_unlock(&cl->named_lock);
  if (rc != 0) {
    errno = rum__errno_of(rc);
    return NULL;
  }
  return r->base;
}

void *rum__client_attach(struct rum_client *cl, const char *name, size_t *size_out) {
  if (!name_ok(name)) {
    errno = EINVAL;
    return NULL;
  }
  pthread_mutex_lock(&cl->named_lock);
  struct rum_region *r = find_attached(cl, name);
  int rc = 0;
  if (r != NULL) goto out;
  uint64_t id, size;
  uint32_t flags;
  rc = cl->remote.attach(cl->remote_ctx, name, strlen(name), &id, &size, &flags);
  if (rc != 0) goto out;
  uint64_t npages = rum__pages_for(size);
  struct rum_region_spec spec = {
      .id = id,
      .npages = npages,
      .reserved_pages = npages * 2,
      .size = size,
      .kind = RUM_REGION_NAMED,
      .wire_flags = flags | RUM_REGION_F_NAMED,
      .pinned_node = -1,
      .fresh = false, /* its bytes are on the nodes: every page is fetched */
      .register_remote = false,
      .name = name,
  };
  rc = open_named(cl, &spec, &r);
out:
  pthread_mutex_unlock(&cl->named_lock);
  if (rc != 0) {
    errno = rum__errno_of(rc);
    return NULL;
  }
  if (size_out != NULL) *size_out = (size_t)r->user_size;
  return r->base;
}

int rum__client_detach(struct rum_client *cl, void *ptr) {
  struct rum_region *r = ptr != NULL ? rum__region_table_lookup(&cl->table, ptr) : NULL;
  if (r == NULL || r->kind != RUM_REGION_NAMED || ptr != r->base) return RUM_EINVAL;
  int rc = rum__cache_flush(cl->cache, r, 0, atomic_load(&r->npages));
  if (rc != 0) return rc; /* keep it attached: the dirty pages are still here */
  pthread_mutex_lock(&cl->named_lock);
  forget(cl, r);
  pthread_mutex_unlock(&cl->named_lock);
  rum__client_region_drop(cl, r, false);
  return 0;
}
