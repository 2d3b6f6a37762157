/* The event loop: epoll over the listening sockets and the clients, pipelined
 * request processing with bounded buffers, group commit for --sync always, and the
 * timer (active expiry, rehashing, everysec write-back, the lock's heartbeat). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rum/rum.h>

#include "server.h"

enum { MAX_EVENTS = 256, EXPIRE_BUCKETS = 64, REHASH_STEPS = 100, TIMER_BUDGET_MS = 2 };

static void update_events(struct client *c) {
  struct epoll_event ev = {.data.fd = c->fd};
  ev.events = (c->paused || c->close_asap ? 0 : EPOLLIN) | (c->want_write ? EPOLLOUT : 0);
  epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void client_close(struct client *c) {
  epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  srv.by_fd[c->fd] = NULL;
  srv.nclients--;
  discard_multi(c);
  resp_req_free(&c->req);
  mc_client_free(c);
  free(c->ibuf);
  free(c->out.p);
  c->fd = -1; /* still on the pending list until the end of the turn */
  if (!c->pending) free(c);
}

static void mark_pending(struct client *c) {
  if (c->pending) return;
  c->pending = 1;
  c->next_pending = srv.pending;
  srv.pending = c;
}

static void compact_input(struct client *c) {
  if (c->ipos == 0) return;
  if (c->ipos == c->ilen) {
    c->ipos = c->ilen = 0;
    c->need = 0;
    return;
  }
  if (c->ipos < (1u << 20) && c->ipos * 2 < c->ilen) return;
  memmove(c->ibuf, c->ibuf + c->ipos, c->ilen - c->ipos);
  c->ilen -= c->ipos;
  c->need = c->need > c->ipos ? c->need - c->ipos : 0;
  c->ipos = 0;
}

/* Before running the requests that arrived in one loop turn, bring the pages their
 * keys will touch into the cache in a few batched round trips (kv_prefetch) rather
 * than up to three faults per command, each a round trip to a node taken one after
 * another. The complete requests waiting in each client's input are parsed once more
 * for this (into a request of their own); keys come from the command table's key
 * positions. The keys point into the clients' input buffers, which stay put until
 * the requests run. Only for two or more commands: one gains nothing over its own
 * faults. */
enum { PREFETCH_KEYS = 2048 };
static struct {
  struct resp_req scan;
  const unsigned char *keys[PREFETCH_KEYS];
  size_t klens[PREFETCH_KEYS];
  int nk, ncmd;
  int limit; /* keys per prefetch: their pages (up to three each) must stay in the cache */
} pf;

static void prefetch_init(void) {
  struct rum_stats st;
  uint64_t cap = rum_stats(&st) == 0 ? st.cache_capacity / 8 : 0;
  pf.limit = cap < 16 ? 16 : cap > PREFETCH_KEYS ? PREFETCH_KEYS : (int)cap;
}

static void prefetch_collect(struct client *c) {
  if (c->memcached || c->close_asap) return;
  int authed = srv.cfg.requirepass == NULL || c->authed;
  uintptr_t lo = (uintptr_t)c->ibuf, hi = lo + c->ilen;
  for (size_t pos = c->ipos; pos < c->ilen && pf.nk < pf.limit;) {
    size_t consumed, need;
    const char *err = NULL;
    if (resp_parse(c->ibuf + pos, c->ilen - pos, authed, &pf.scan, &consumed, &need, &err) != RESP_COMPLETE) break;
    pos += consumed;
    pf.ncmd++;
    if (pf.scan.argc < 2) continue;
    const struct kvs_command *cmd = command_lookup(pf.scan.argv[0], pf.scan.argl[0]);
    if (cmd == NULL || cmd->first <= 0 || cmd->first >= pf.scan.argc) continue;
    int last = cmd->last < 0 ? pf.scan.argc + cmd->last : cmd->last;
    if (last >= pf.scan.argc) last = pf.scan.argc - 1;
    int step = cmd->step > 0 ? cmd->step : 1;
    for (int i = cmd->first; i <= last && pf.nk < pf.limit; i += step) {
      uintptr_t a = (uintptr_t)pf.scan.argv[i];
      if (a < lo || a >= hi) continue; /* an inline request's unquoted copy: gone at the next parse */
      pf.keys[pf.nk] = pf.scan.argv[i];
      pf.klens[pf.nk++] = pf.scan.argl[i];
    }
  }
}

static void prefetch_run(void) {
  if (pf.ncmd >= 2 && pf.nk > 0) kv_prefetch(srv.store, pf.keys, pf.klens, pf.nk);
  pf.nk = pf.ncmd = 0;
}

static void process_resp(struct client *c) {
  while (!c->close_asap && c->out.len - c->out.off < KVS_OUT_PAUSE && c->ipos < c->ilen) {
    if (c->need > c->ilen) break;
    size_t consumed, need;
    const char *err = NULL;
    int authed = srv.cfg.requirepass == NULL || c->authed;
    int rc = resp_parse(c->ibuf + c->ipos, c->ilen - c->ipos, authed, &c->req, &consumed, &need, &err);
    if (rc == RESP_INCOMPLETE) {
      c->need = c->ipos + need;
      break;
    }
    if (rc == RESP_ERROR) {
      add_error(c, err);
      c->close_asap = 1;
      break;
    }
    c->ipos += consumed;
    c->need = 0;
    if (c->req.argc == 0) continue;
    c->argc = c->req.argc;
    c->argv = c->req.argv;
    c->argl = c->req.argl;
    process_command(c);
  }
}

/* Pausing stops reading the client (EPOLLIN off) until its output drains. */
static void set_paused(struct client *c, int paused) {
  if (paused == c->paused) return;
  if (paused) c->out_ms = srv.now_ms;
  c->paused = paused;
  update_events(c);
}

static void process_input(struct client *c) {
  if (c->memcached) mc_process_input(c);
  else process_resp(c);
  compact_input(c);
  set_paused(c, c->out.len - c->out.off >= KVS_OUT_PAUSE);
  if (c->out.len > c->out.off || c->close_asap) mark_pending(c);
}

/* Read what c sent; 1 when it has new input to run, 0 when nothing came or c was
 * closed. */
static int read_input(struct client *c) {
  size_t want = KVS_READ_CHUNK;
  if (c->need > c->ilen && c->need - c->ilen > want) want = c->need - c->ilen;
  if (c->ilen + want > KVS_QUERY_LIMIT + (size_t)KVS_READ_CHUNK) {
    fprintf(stderr, "rum-kvs: closing client %s: query buffer over %u bytes\n", c->addr, KVS_QUERY_LIMIT);
    client_close(c);
    return 0;
  }
  if (c->ilen + want > c->icap) {
    size_t cap = c->icap ? c->icap : KVS_READ_CHUNK;
    while (cap < c->ilen + want) cap *= 2;
    unsigned char *p = realloc(c->ibuf, cap);
    if (p == NULL) {
      client_close(c);
      return 0;
    }
    c->ibuf = p;
    c->icap = cap;
  }
  ssize_t n = read(c->fd, c->ibuf + c->ilen, c->icap - c->ilen);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    client_close(c);
    return 0;
  }
  if (n < 0) return 0;
  c->ilen += (size_t)n;
  srv.stats.net_in += (uint64_t)n;
  c->last_ms = srv.now_ms;
  return 1;
}

/* Write what is queued. Returns -1 when the client was closed. */
static int client_write(struct client *c) {
  while (c->out.off < c->out.len) {
    ssize_t n = write(c->fd, c->out.p + c->out.off, c->out.len - c->out.off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      client_close(c);
      return -1;
    }
    c->out.off += (size_t)n;
    c->out_ms = srv.now_ms;
    srv.stats.net_out += (uint64_t)n;
  }
  if (c->out.off == c->out.len) {
    c->out.off = c->out.len = 0;
    if (c->out.cap > (1u << 20)) { /* give a burst's memory back */
      free(c->out.p);
      c->out.p = NULL;
      c->out.cap = 0;
    }
    if (c->close_asap) {
      client_close(c);
      return -1;
    }
  }
  int want = c->out.off < c->out.len;
  int paused = c->out.len - c->out.off >= KVS_OUT_PAUSE;
  if (want != c->want_write || paused != c->paused) {
    c->want_write = want;
    set_paused(c, paused);
    update_events(c);
  }
  return 0;
}

int do_sync(void) {
  int rc = kv_sync(srv.store);
  srv.last_sync_ms = now_ms();
  if (rc != 0) {
    srv.sync_error = rc;
    fprintf(stderr, "rum-kvs: rum_sync failed: %s\n", rum_strerror(rc));
    return rc;
  }
  srv.synced_dirty = srv.dirty;
  return 0;
}

/* End of a loop turn: make the turn's changes durable when --sync always asks, then
 * send. A failed sync must not acknowledge: those clients are disconnected. */
static void flush_pending(void) {
  int durable = 1;
  /* Not only when a command said it changed something (srv.dirty): a change that
   * missed saying so must not be acknowledged before it is durable. A sync with
   * nothing dirty costs no round trip. */
  if (srv.cfg.sync == KVS_SYNC_ALWAYS && (srv.dirty != srv.synced_dirty || srv.pending != NULL))
    durable = do_sync() == 0;
  /* Any policy: end the epoch before it outgrows the journal (a sync past that would
   * not be atomic) or freed values pile up waiting for one. */
  else if (srv.dirty != srv.synced_dirty && kv_sync_wanted(srv.store)) do_sync();
  struct client *c = srv.pending;
  srv.pending = NULL;
  while (c != NULL) {
    struct client *next = c->next_pending;
    c->pending = 0;
    if (c->fd < 0) free(c);
    else if (!durable) client_close(c);
    else client_write(c);
    c = next;
  }
}

static void accept_clients(int lfd, int memcached) {
  for (;;) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    srv.stats.connections++;
    if (srv.nclients >= srv.cfg.maxclients || fd >= srv.by_fd_cap) {
      static const char full[] = "-ERR max number of clients reached\r\n";
      if (write(fd, full, sizeof full - 1) < 0) { /* the client is dropped either way */ }
      close(fd);
      srv.stats.rejected++;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->id = ++srv.next_id;
    c->proto = 2;
    c->memcached = memcached;
    c->authed = srv.cfg.requirepass == NULL || memcached;
    c->created_ms = c->last_ms = srv.now_ms;
    if (memcached) mc_client_init(c);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa.ss_family == AF_INET) {
      struct sockaddr_in *in = (struct sockaddr_in *)&sa;
      inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
      port = ntohs(in->sin_port);
    } else if (sa.ss_family == AF_INET6) {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
      port = ntohs(in6->sin6_port);
    }
    snprintf(c->addr, sizeof c->addr, "%s:%d", host, port);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      mc_client_free(c);
      free(c);
      continue;
    }
    srv.by_fd[fd] = c;
    srv.nclients++;
  }
}

/* A client that sends requests but never reads the replies is paused when its
 * output reaches KVS_OUT_PAUSE; one that then takes nothing for KVS_OUT_STALL_MS is
 * dropped, so that its memory comes back. */
static void drop_stalled_clients(int64_t now) {
  for (int fd = 0; fd < srv.by_fd_cap; fd++) {
    struct client *c = srv.by_fd[fd];
    if (c == NULL || !c->paused || now - c->out_ms < KVS_OUT_STALL_MS) continue;
    fprintf(stderr, "rum-kvs: closing client %s: %zu bytes of replies unread for %d ms\n", c->addr,
            c->out.len - c->out.off, KVS_OUT_STALL_MS);
    client_close(c);
  }
}

static void timer_tick(void) {
  int64_t now = srv.now_ms = now_ms();
  int64_t deadline = now + TIMER_BUDGET_MS;
  /* Active expiry, bounded: sweep buckets until a pass finds few expired keys or the
   * time budget is spent. */
  while (kv_expire_sweep(srv.store, now, EXPIRE_BUCKETS) > 8 && now_ms() < deadline) {
  }
  if (kv_expire_sweep(srv.store, now, 0) == 0 && srv.store->expired) { /* counted in kv */ }
  while (kv_rehash_step(srv.store, REHASH_STEPS) && now_ms() < deadline) {
  }
  lazyfree_tick(now);
  if (srv.cfg.sync == KVS_SYNC_EVERYSEC && srv.dirty != srv.synced_dirty && now - srv.last_sync_ms >= 1000)
    do_sync();
  mc_timer();
  if (now - srv.last_beat_ms >= 1000) {
    drop_stalled_clients(now);
    int rc = kv_lock_heartbeat(srv.store->lock);
    if (rc != 0) fprintf(stderr, "rum-kvs: lock heartbeat failed: %s\n", rum_strerror(rc));
    srv.last_beat_ms = now;
  }
}

static int watch_listener(int fd) {
  if (fd < 0) return 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  return epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev);
}

int net_run(void) {
  srv.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (srv.epfd < 0 || watch_listener(srv.listen_fd) != 0 || watch_listener(srv.mc_listen_fd) != 0) {
    perror("rum-kvs: epoll");
    return -1;
  }
  struct epoll_event events[MAX_EVENTS];
  int read_fds[MAX_EVENTS];
  prefetch_init();
  int64_t next_tick = now_ms();
  while (!srv.stop) {
    int64_t now = now_ms();
    int timeout = next_tick > now ? (int)(next_tick - now) : 0;
    int n = epoll_wait(srv.epfd, events, MAX_EVENTS, timeout);
    srv.now_ms = now_ms();
    /* Read every client first, prefetch the keys of all their requests together,
     * then run them (prefetch_collect). */
    int nread = 0;
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == srv.listen_fd || fd == srv.mc_listen_fd) {
        accept_clients(fd, fd == srv.mc_listen_fd);
        continue;
      }
      struct client *c = fd < srv.by_fd_cap ? srv.by_fd[fd] : NULL;
      if (c == NULL) continue;
      if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN)) {
        client_close(c);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (client_write(c) != 0) continue;
        if (!c->paused) process_input(c); /* run what waited while the output drained */
      }
      if ((events[i].events & EPOLLIN) && srv.by_fd[fd] == c && !c->paused && read_input(c)) read_fds[nread++] = fd;
    }
    /* In groups of clients whose keys' pages fit the cache together. */
    for (int g = 0; g < nread;) {
      int end = g;
      while (end < nread && pf.nk < pf.limit) {
        if (srv.by_fd[read_fds[end]] != NULL) prefetch_collect(srv.by_fd[read_fds[end]]);
        end++;
      }
      prefetch_run();
      for (; g < end; g++) {
        struct client *c = srv.by_fd[read_fds[g]];
        if (c != NULL && !c->paused) process_input(c);
      }
    }
    flush_pending();
    if (srv.now_ms >= next_tick) {
      timer_tick();
      next_tick = srv.now_ms + 1000 / KVS_HZ;
    }
  }
  /* Stopping: answer what is queued, then close every client. */
  flush_pending();
  for (int fd = 0; fd < srv.by_fd_cap; fd++)
    if (srv.by_fd[fd] != NULL) client_close(srv.by_fd[fd]);
  flush_pending();
  return 0;
}
