/* The public API (rum.h): one process-wide client behind a static pointer, created by
 * rum_init() and torn down by rum_shutdown() (also at exit). Each call forwards to
 * the rum__client_* function on that client. */
#include <errno.h>
#include <stdlib.h>

#include <rum/rum.h>

#include "client/client.h"
#include "client/hooks.h"
#include "client/remote.h"
#include "util/log.h"

static struct rum_client *_Atomic g_client;
static struct rum_net *g_net;
static bool g_atexit_registered;

static void at_exit(void) { rum_shutdown(); }

int rum_init(const char *machines_csv) {
  if (atomic_load(&g_client) != NULL) return RUM_EBUSY;
  struct rum_net *net;
  int rc = rum__net_open(machines_csv, &net);
  if (rc != 0) return rc;
  struct rum_client_config cfg = {0};
  struct rum_client *cl;
  rc = rum__client_create(&cfg, &rum__net_remote_ops, net, &cl);
  if (rc != 0) {
    RUM_LOG_E("rum_init: cannot set up the client: %s", rum_strerror(rc));
    rum__net_close(net);
    return rc;
  }
  net->client = cl;
  rc = rum__net_heartbeat_start(net);
  if (rc != 0) {
    rum__client_destroy(cl);
    rum__net_close(net);
    return rc;
  }
  g_net = net;
  atomic_store(&g_client, cl);
  if (!g_atexit_registered) {
    atexit(at_exit);
    g_atexit_registered = true;
  }
  return 0;
}

int rum_shutdown(void) {
  struct rum_client *cl = atomic_exchange(&g_client, NULL);
  if (cl == NULL) return 0;
  /* Heartbeats stop last: freeing the regions needs the lease. */
  int rc = rum__client_destroy(cl);
  rum__net_close(g_net);
  g_net = NULL;
  return rc;
}

struct rum_client *rum__client_current(void) { return atomic_load(&g_client); }

void rum__client_forget(void) {
  atomic_store(&g_client, NULL);
  g_net = NULL;
}

int rum__shutdown_discarding(void) {
  struct rum_client *cl = atomic_load(&g_client);
  if (cl != NULL) cl->discard_at_destroy = true;
  return rum_shutdown();
}

static struct rum_client *client_or_errno(void) {
  struct rum_client *cl = atomic_load(&g_client);
  if (cl == NULL) {
    RUM_LOG_E("RUM call before rum_init()");
    errno = EINVAL;
  }
  return cl;
}

void *rum_alloc(size_t size) {
  struct rum_client *cl = client_or_errno();
  return cl != NULL ? rum__client_alloc(cl, size, false) : NULL;
}

void *rum_calloc(size_t n, size_t size) {
  struct rum_client *cl = client_or_errno();
  if (cl == NULL) return NULL;
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return rum__client_alloc(cl, total, true);
}

void *rum_realloc(void *ptr, size_t size) {
  struct rum_client *cl = client_or_errno();
  return cl != NULL ? rum__client_realloc(cl, ptr, size) : NULL;
}

void rum_free(void *ptr) {
  struct rum_client *cl = atomic_load(&g_client);
  if (cl != NULL && ptr != NULL) rum__client_free(cl, ptr);
}

void *rum_alloc_on(int node_id, size_t size) {
  struct rum_client *cl = client_or_errno();
  return cl != NULL ? rum__client_alloc_on(cl, node_id, size) : NULL;
}

int rum_sync(void) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_sync(cl) : RUM_ENOTINIT;
}

int rum_flush(void *ptr, size_t len) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_flush(cl, ptr, len) : RUM_ENOTINIT;
}

int rum_refresh(void *ptr, size_t len) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_refresh(cl, ptr, len) : RUM_ENOTINIT;
}

int rum_prefetch(void *ptr, size_t len) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_prefetch(cl, ptr, len) : RUM_ENOTINIT;
}

int rum_prefetchv(const struct iovec *iov, int n) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_prefetchv(cl, iov, n) : RUM_ENOTINIT;
}

size_t rum_usable_size(void *ptr) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_usable_size(cl, ptr) : 0;
}

int rum_stats(struct rum_stats *out) {
  if (out == NULL) return RUM_EINVAL;
  struct rum_client *cl = atomic_load(&g_client);
  if (cl == NULL) return RUM_ENOTINIT;
  rum__client_stats(cl, out);
  return 0;
}

void *rum_alloc_named(const char *name, size_t size) {
  struct rum_client *cl = client_or_errno();
  return cl != NULL ? rum__client_alloc_named(cl, name, size) : NULL;
}

void *rum_attach(const char *name, size_t *size_out) {
  struct rum_client *cl = client_or_errno();
  return cl != NULL ? rum__client_attach(cl, name, size_out) : NULL;
}

int rum_detach(void *ptr) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_detach(cl, ptr) : RUM_ENOTINIT;
}

int rum_journal_open(const char *name, size_t bytes) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_journal_open(cl, name, bytes) : RUM_ENOTINIT;
}

int rum_journal_close(void) {
  struct rum_client *cl = atomic_load(&g_client);
  return cl != NULL ? rum__client_journal_close(cl) : RUM_ENOTINIT;
}
