/* RPC layer over an in-process fake transport whose links can drop, duplicate and
 * reorder frames deterministically (seeded), so every scenario replays exactly. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rum/rum_errors.h>

#include "net/rpc.h"
#include "proto/le.h"
#include "proto/wire.h"
#include "util/clock.h"

/* ---- Fake transport: a pair of endpoints joined by two queues ---- */

enum { QUEUE_CAP = 4096 };

struct fake_frame {
  uint32_t len;
  struct rum_peer_addr from;
  uint8_t *bytes;
};

struct fake_queue {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  unsigned head, count;
  struct fake_frame frames[QUEUE_CAP];
};

struct fake_link {
  double drop, dup, reorder;
  uint64_t rng;
  uint64_t sent, dropped;
};

struct fake_transport {
  struct rum_transport base;
  struct fake_queue *in, *out;
  struct fake_link *link; /* applied to what this end sends */
  struct fake_frame held; /* frames received and not yet released */
  uint8_t *rx_bytes[RUM_TRANSPORT_BURST];
  unsigned outstanding;
};

static double link_random(struct fake_link *l) {
  l->rng = l->rng * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(l->rng >> 11) / (double)(1ull << 53);
}

static void queue_push(struct fake_queue *q, const uint8_t *bytes, uint32_t len,
                       const struct rum_peer_addr *from, bool front) {
  pthread_mutex_lock(&q->lock);
  if (q->count < QUEUE_CAP) {
    unsigned slot = front ? (q->head + QUEUE_CAP - 1) % QUEUE_CAP : (q->head + q->count) % QUEUE_CAP;
    if (front) q->head = slot;
    q->frames[slot].bytes = malloc(len);
    memcpy(q->frames[slot].bytes, bytes, len);
    q->frames[slot].len = len;
    q->frames[slot].from = *from;
    q->count++;
    pthread_cond_broadcast(&q->cond);
  }
  pthread_mutex_unlock(&q->lock);
}

static int fake_send(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n) {
  struct fake_transport *f = (struct fake_transport *)t;
  for (unsigned i = 0; i < n; i++) {
    uint8_t buf[RUM_WIRE_MAX_FRAME];
    uint32_t len = 0;
    for (int k = 0; k < frames[i].iovcnt; k++) {
      memcpy(buf + len, frames[i].iov[k].iov_base, frames[i].iov[k].iov_len);
      len += (uint32_t)frames[i].iov[k].iov_len;
    }
    assert_true(len <= t->mtu);
    f->link->sent++;
    if (link_random(f->link) < f->link->drop) {
      f->link->dropped++;
      continue;
    }
    /* Reorder: put the frame at the front of the queue, ahead of earlier ones. */
    bool front = link_random(f->link) < f->link->reorder;
    queue_push(f->out, buf, len, &t->local, front);
    if (link_random(f->link) < f->link->dup) queue_push(f->out, buf, len, &t->local, false);
  }
  return (int)n;
}

static int fake_recv(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max) {
  struct fake_transport *f = (struct fake_transport *)t;
  struct fake_queue *q = f->in;
  pthread_mutex_lock(&q->lock);
  unsigned n = 0;
  while (n < max && q->count > 0) {
    struct fake_frame *src = &q->frames[q->head];
    q->head = (q->head + 1) % QUEUE_CAP;
    q->count--;
    frames[n].data = src->bytes;
    frames[n].len = src->len;
    frames[n].from = src->from;
    frames[n].cookie = 0;
    n++;
  }
  pthread_mutex_unlock(&q->lock);
  return (int)n;
}

static void fake_release(struct rum_transport *t, struct rum_rx_frame *frames, unsigned n) {
  (void)t;
  for (unsigned i = 0; i < n; i++) free(frames[i].data);
}

static int fake_wait(struct rum_transport *t, int64_t timeout_ns) {
  struct fake_transport *f = (struct fake_transport *)t;
  struct fake_queue *q = f->in;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += timeout_ns % 1000000000;
  deadline.tv_sec += timeout_ns / 1000000000 + deadline.tv_nsec / 1000000000;
  deadline.tv_nsec %= 1000000000;
  pthread_mutex_lock(&q->lock);
  while (q->count == 0) {
    if (pthread_cond_timedwait(&q->cond, &q->lock, &deadline) != 0) break;
  }
  int ready = q->count > 0;
  pthread_mutex_unlock(&q->lock);
  return ready;
}

static void fake_destroy(struct rum_transport *t) { free(t); }

static const struct rum_transport_ops fake_ops = {
    .name = "fake", .send = fake_send, .recv = fake_recv, .release = fake_release,
    .wait = fake_wait, .destroy = fake_destroy,
};

static struct fake_queue *queue_new(void) {
  struct fake_queue *q = calloc(1, sizeof *q);
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->cond, NULL);
  return q;
}

static void queue_free(struct fake_queue *q) {
  while (q->count) {
    free(q->frames[q->head].bytes);
    q->head = (q->head + 1) % QUEUE_CAP;
    q->count--;
  }
  free(q);
}

/* ---- Fixture: a client endpoint and a server endpoint with a serving thread ---- */

struct fixture {
  struct fake_queue *to_server, *to_client;
  struct fake_link client_link, server_link;
  struct fake_transport *ct, *st;
  struct rum_rpc *client, *server;
  pthread_t thread;
  volatile bool stop;
  bool serving;
  unsigned alloc_runs[4096]; /* how often the handler ran each ALLOC id */
  unsigned free_runs[4096];  /* the same for FREE, which the handler defers */
  struct rum_rpc_deferred pending[256];
  uint32_t pending_id[256];
  unsigned npending;
  int handler_delay_error;
};

/* Test handler: PING echoes; ALLOC counts runs of its id (must be once each) and
 * answers 8 bytes; READ answers npages pages of a pattern; STAT answers an error. */
static void test_handler(void *ctx, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct fixture *fx = ctx;
  static uint8_t big[RUM_WIRE_MAX_MSG];
  switch (req->type) {
  case RUM_MSG_PING:
    memcpy(big, req->payload, req->len);
    reply->type = RUM_MSG_PING;
    reply->iovcnt = 1;
    reply->iov[0].iov_base = big;
    reply->iov[0].iov_len = req->len;
    break;
  case RUM_MSG_ALLOC: {
    uint32_t id = rum__get_u32(req->payload);
    fx->alloc_runs[id % 4096]++;
    rum__put_u64(reply->small, (uint64_t)id * 3);
    rum__rpc_reply_small(reply, RUM_MSG_ALLOC, 8);
    break;
  }
  case RUM_MSG_FREE: {
    uint32_t id = rum__get_u32(req->payload);
    fx->free_runs[id % 4096]++;
    if (fx->npending < 256) {
      fx->pending_id[fx->npending] = id;
      rum__rpc_defer(req, reply, &fx->pending[fx->npending++]);
    } else {
      rum__rpc_reply_error(reply, RUM_EBUSY, "too many deferred");
    }
    break;
  }
  case RUM_MSG_READ: {
    uint32_t nbytes = rum__get_u32(req->payload);
    uint32_t seed = rum__get_u32(req->payload + 4);
    for (uint32_t i = 0; i < nbytes; i++) big[i] = (uint8_t)(i * 31 + seed);
    reply->type = RUM_MSG_READ;
    reply->iovcnt = 1;
    reply->iov[0].iov_base = big;
    reply->iov[0].iov_len = nbytes;
    break;
  }
  default:
    rum__rpc_reply_error(reply, RUM_ENOSPC, "node full (%d)", 42);
    break;
  }
}

/* Deferred FREEs are answered from the loop, every other turn (so that callers
 * retransmit while their answer is pending). */
static void *serve_thread(void *arg) {
  struct fixture *fx = arg;
  unsigned turn = 0;
  while (!fx->stop) {
    (void)rum__rpc_serve(fx->server, 2000000);
    if (turn++ % 2 == 0) continue;
    for (unsigned i = 0; i < fx->npending; i++) {
      struct rum_rpc_reply reply = {.type = RUM_MSG_FREE};
      rum__put_u64(reply.small, (uint64_t)fx->pending_id[i] * 5);
      rum__rpc_reply_small(&reply, RUM_MSG_FREE, 8);
      assert_int_equal(rum__rpc_answer(fx->server, &fx->pending[i], &reply), 0);
    }
    fx->npending = 0;
  }
  return NULL;
}

static struct fake_transport *fake_new(struct fake_queue *in, struct fake_queue *out,
                                       struct fake_link *link, uint16_t port, uint32_t mtu) {
  struct fake_transport *f = calloc(1, sizeof *f);
  f->base.ops = &fake_ops;
  f->base.mtu = mtu;
  f->base.local.ipv4 = 0x0100007f;
  f->base.local.port = port;
  f->in = in;
  f->out = out;
  f->link = link;
  return f;
}

static struct fixture *fixture_new(uint32_t mtu, double drop, double dup, double reorder,
                                   const struct rum_wire_key *ckey, const struct rum_wire_key *skey,
                                   bool serve) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->to_server = queue_new();
  fx->to_client = queue_new();
  fx->client_link = (struct fake_link){drop, dup, reorder, 12345, 0, 0};
  fx->server_link = (struct fake_link){drop, dup, reorder, 67890, 0, 0};
  fx->ct = fake_new(fx->to_client, fx->to_server, &fx->client_link, 5000, mtu);
  fx->st = fake_new(fx->to_server, fx->to_client, &fx->server_link, 6000, mtu);
  struct rum_rpc_config ccfg = {.self_id = 100, .session = 0xc1, .key = ckey,
                               /* valgrind runs 20-50x slower: lossy calls need longer */
                               .timeout_ms = getenv("RUM_UNDER_VALGRIND") ? 30000 : 2000,
                                .min_rto_us = 200, .spin_us = 20};
  struct rum_rpc_config scfg = {.self_id = 1, .session = 0x51, .key = skey, .server_slots = 8,
                                .server_sessions = 16, .handler = test_handler, .handler_ctx = fx};
  assert_int_equal(rum__rpc_create(&fx->ct->base, &ccfg, &fx->client), 0);
  assert_int_equal(rum__rpc_create(&fx->st->base, &scfg, &fx->server), 0);
  if (serve) {
    fx->serving = true;
    assert_int_equal(pthread_create(&fx->thread, NULL, serve_thread, fx), 0);
  }
  return fx;
}

static void fixture_free(struct fixture *fx) {
  fx->stop = true;
  if (fx->serving) pthread_join(fx->thread, NULL);
  rum__rpc_destroy(fx->client);
  rum__rpc_destroy(fx->server);
  fake_destroy(&fx->ct->base);
  fake_destroy(&fx->st->base);
  queue_free(fx->to_server);
  queue_free(fx->to_client);
  free(fx);
}

static void call_setup(struct rum_rpc_call *c, const struct fixture *fx, uint8_t type, void *req,
                       size_t req_len, void *resp, size_t resp_len) {
  memset(c, 0, sizeof *c);
  c->to = fx->st->base.local;
  c->type = type;
  c->req_iovcnt = 1;
  c->req[0].iov_base = req;
  c->req[0].iov_len = req_len;
  c->resp_iovcnt = 1;
  c->resp[0].iov_base = resp;
  c->resp[0].iov_len = resp_len;
}

/* ---- Scenarios ---- */

static void test_echo(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(65000, 0, 0, 0, NULL, NULL, true);
  char req[] = "hello, node";
  char resp[64] = {0};
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_PING, req, sizeof req, resp, sizeof resp);
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), 0);
  assert_int_equal(c.resp_len, sizeof req);
  assert_string_equal(resp, req);
  /* No loss, so at most a retransmission or two: a loaded machine (or valgrind, 20-50x
   * slower) can make the first round trip outlast the initial timeout, but a client
   * that resent without waiting for its timeout would pile up far more. */
  if (getenv("RUM_UNDER_VALGRIND") == NULL) assert_true(c.retries <= 2);
  fixture_free(fx);
}

/* A 200 KiB request and response over a 1500-byte MTU, the response scattered into
 * page-sized buffers as the page cache does. */
static void test_segmentation(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(1500, 0, 0, 0, NULL, NULL, true);
  enum { N = 200 * 1024 };
  uint8_t *req = malloc(N), *resp = malloc(N + 4096);
  for (int i = 0; i < N; i++) req[i] = (uint8_t)(i ^ (i >> 8));
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_PING, req, N, NULL, 0);
  c.resp_iovcnt = 0;
  for (size_t off = 0; off < N + 4096; off += 4096) {
    c.resp[c.resp_iovcnt].iov_base = resp + off;
    c.resp[c.resp_iovcnt].iov_len = 4096;
    c.resp_iovcnt++;
  }
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), 0);
  assert_int_equal(c.resp_len, N);
  assert_memory_equal(resp, req, N);
  free(req);
  free(resp);
  fixture_free(fx);
}

static void test_response_too_large(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(65000, 0, 0, 0, NULL, NULL, true);
  uint8_t req[8] = {0};
  rum__put_u32(req, 10000);
  uint8_t resp[100];
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_READ, req, sizeof req, resp, sizeof resp);
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), RUM_EMSGSIZE);
  fixture_free(fx);
}

static void test_error_reply(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(65000, 0, 0, 0, NULL, NULL, true);
  uint8_t resp[16];
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_STAT, NULL, 0, resp, sizeof resp);
  c.req_iovcnt = 0;
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), RUM_ENOSPC);
  assert_string_equal(c.errtext, "node full (42)");
  fixture_free(fx);
}

/* Many calls in flight at once, under 20% drop, 20% duplication and 20% reordering:
 * every answer right, and every non-idempotent request ran exactly once. */
static void lossy_many(uint32_t mtu, uint32_t resp_bytes) {
  struct fixture *fx = fixture_new(mtu, 0.2, 0.2, 0.2, NULL, NULL, true);
  enum { CALLS = 64, ROUNDS = 8 };
  static struct rum_rpc_call calls[CALLS];
  static uint8_t reqs[CALLS][8];
  static uint64_t answers[CALLS];
  static uint8_t big[CALLS][20000];
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < CALLS; i++) {
      uint32_t id = (uint32_t)(round * CALLS + i);
      if (resp_bytes == 0) {
        rum__put_u32(reqs[i], id);
        call_setup(&calls[i], fx, RUM_MSG_ALLOC, reqs[i], 4, &answers[i], 8);
      } else {
        rum__put_u32(reqs[i], resp_bytes);
        rum__put_u32(reqs[i] + 4, id);
        call_setup(&calls[i], fx, RUM_MSG_READ, reqs[i], 8, big[i], sizeof big[i]);
      }
    }
    assert_int_equal(rum__rpc_call(fx->client, calls, CALLS), 0);
    for (int i = 0; i < CALLS; i++) {
      uint32_t id = (uint32_t)(round * CALLS + i);
      if (resp_bytes == 0) {
        assert_int_equal(answers[i], (uint64_t)id * 3);
      } else {
        assert_int_equal(calls[i].resp_len, resp_bytes);
        for (uint32_t k = 0; k < resp_bytes; k++) assert_int_equal(big[i][k], (uint8_t)(k * 31 + id));
      }
    }
  }
  if (resp_bytes == 0) {
    for (int id = 0; id < CALLS * ROUNDS; id++) assert_int_equal(fx->alloc_runs[id], 1);
  }
  struct rum_rpc_stats cs, ss;
  rum__rpc_stats(fx->client, &cs);
  rum__rpc_stats(fx->server, &ss);
  assert_true(cs.retransmits > 0);
  assert_true(ss.duplicates > 0);
  fixture_free(fx);
}

/* Deferred answers under loss: each deferred request ran once and got its answer. */
static void test_deferred_reply(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(1500, 0.2, 0.2, 0.2, NULL, NULL, true);
  enum { CALLS = 32, ROUNDS = 4 };
  static struct rum_rpc_call calls[CALLS];
  static uint8_t reqs[CALLS][4];
  static uint64_t answers[CALLS];
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < CALLS; i++) {
      rum__put_u32(reqs[i], (uint32_t)(round * CALLS + i));
      call_setup(&calls[i], fx, RUM_MSG_FREE, reqs[i], 4, &answers[i], 8);
    }
    assert_int_equal(rum__rpc_call(fx->client, calls, CALLS), 0);
    for (int i = 0; i < CALLS; i++) assert_int_equal(answers[i], (uint64_t)(round * CALLS + i) * 5);
  }
  for (int id = 0; id < CALLS * ROUNDS; id++) assert_int_equal(fx->free_runs[id], 1);
  fixture_free(fx);
}

static void test_lossy_exactly_once(void **state) {
  (void)state;
  lossy_many(65000, 0);
}

static void test_lossy_fragmented(void **state) {
  (void)state;
  lossy_many(1500, 12000);
}

struct thread_arg {
  struct fixture *fx;
  int index;
  int failures;
};

static void *caller_thread(void *p) {
  struct thread_arg *a = p;
  for (int i = 0; i < 200; i++) {
    uint8_t req[8];
    rum__put_u32(req, 3000);
    rum__put_u32(req + 4, (uint32_t)(a->index * 1000 + i));
    uint8_t resp[3000];
    struct rum_rpc_call c;
    call_setup(&c, a->fx, RUM_MSG_READ, req, 8, resp, sizeof resp);
    if (rum__rpc_call(a->fx->client, &c, 1) != 0) {
      a->failures++;
      continue;
    }
    for (int k = 0; k < 3000; k++) {
      if (resp[k] != (uint8_t)(k * 31 + a->index * 1000 + i)) {
        a->failures++;
        break;
      }
    }
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(1500, 0.05, 0.05, 0.05, NULL, NULL, true);
  pthread_t threads[4];
  struct thread_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (struct thread_arg){fx, i, 0};
    pthread_create(&threads[i], NULL, caller_thread, &args[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  fixture_free(fx);
}

static void test_timeout(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(65000, 0, 0, 0, NULL, NULL, false); /* nobody serves */
  char resp[8];
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_PING, "x", 1, resp, sizeof resp);
  c.timeout_ms = 300;
  uint64_t start = rum__now_ns();
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), RUM_ETIMEDOUT);
  uint64_t took_ms = (rum__now_ns() - start) / 1000000;
  assert_true(took_ms >= 300 && took_ms < 2000);
  assert_true(c.retries > 0);
  fixture_free(fx);
}

/* Batches in flight without a waiting thread (read-ahead): started, then finished by
 * polling, by another call driving the endpoint meanwhile, or by waiting, under loss. */
static void test_batch_start_poll_wait(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(1500, 0.1, 0.1, 0.1, NULL, NULL, true);
  enum { N = 6, BYTES = 9000 };
  static struct rum_rpc_call calls[N];
  static uint8_t reqs[N][8], resp[N][BYTES];
  static struct rum_rpc_batch batch;
  for (int round = 0; round < 30; round++) {
    for (int i = 0; i < N; i++) {
      rum__put_u32(reqs[i], BYTES);
      rum__put_u32(reqs[i] + 4, (uint32_t)(round * N + i));
      call_setup(&calls[i], fx, RUM_MSG_READ, reqs[i], 8, resp[i], BYTES);
    }
    rum__rpc_start(fx->client, &batch, calls, N);
    assert_int_equal(batch.started, N); /* every call went out at once */
    int mode = round % 3;
    if (mode == 0) {
      /* Poll until done, with a deadline. */
      uint64_t deadline = rum__now_ns() + 5000000000ull;
      while (rum__rpc_poll(fx->client, &batch) == 0) assert_true(rum__now_ns() < deadline);
    } else if (mode == 1) {
      /* Another call drives the endpoint and completes the batch's calls too. */
      char ping[8] = "ping", pong[8];
      struct rum_rpc_call c;
      call_setup(&c, fx, RUM_MSG_PING, ping, sizeof ping, pong, sizeof pong);
      assert_int_equal(rum__rpc_call(fx->client, &c, 1), 0);
      assert_int_equal(rum__rpc_wait(fx->client, &batch), 0);
    } else {
      assert_int_equal(rum__rpc_wait(fx->client, &batch), 0);
    }
    assert_int_equal(batch.finished, N);
    assert_int_equal(rum__rpc_poll(fx->client, &batch), 1); /* finished stays finished */
    for (int i = 0; i < N; i++) {
      assert_int_equal(calls[i].status, 0);
      assert_int_equal(calls[i].resp_len, BYTES);
      for (int k = 0; k < BYTES; k++) assert_int_equal(resp[i][k], (uint8_t)(k * 31 + round * N + i));
    }
  }
  /* Every slot was given back: a full window of calls still fits afterwards. */
  static struct rum_rpc_call many[RUM_RPC_MAX_INFLIGHT];
  static uint64_t answers[RUM_RPC_MAX_INFLIGHT];
  static uint8_t ids[RUM_RPC_MAX_INFLIGHT][4];
  for (int i = 0; i < RUM_RPC_MAX_INFLIGHT; i++) {
    rum__put_u32(ids[i], (uint32_t)(1000 + i));
    call_setup(&many[i], fx, RUM_MSG_ALLOC, ids[i], 4, &answers[i], 8);
  }
  rum__rpc_start(fx->client, &batch, many, RUM_RPC_MAX_INFLIGHT);
  assert_int_equal(batch.started, RUM_RPC_MAX_INFLIGHT);
  assert_int_equal(rum__rpc_wait(fx->client, &batch), 0);
  for (int i = 0; i < RUM_RPC_MAX_INFLIGHT; i++) assert_int_equal(answers[i], (uint64_t)(1000 + i) * 3);
  fixture_free(fx);
}

/* A batch to a node that never answers times out when waited for, like a call. */
static void test_batch_timeout(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(65000, 0, 0, 0, NULL, NULL, false);
  char resp[8];
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_PING, "x", 1, resp, sizeof resp);
  c.timeout_ms = 200;
  struct rum_rpc_batch b;
  rum__rpc_start(fx->client, &b, &c, 1);
  assert_int_equal(rum__rpc_poll(fx->client, &b), 0);
  assert_int_equal(rum__rpc_wait(fx->client, &b), RUM_ETIMEDOUT);
  assert_int_equal(c.status, RUM_ETIMEDOUT);
  fixture_free(fx);
}

static void test_mac(void **state) {
  (void)state;
  uint8_t raw1[RUM_WIRE_KEY_SIZE], raw2[RUM_WIRE_KEY_SIZE];
  for (int i = 0; i < RUM_WIRE_KEY_SIZE; i++) {
    raw1[i] = (uint8_t)i;
    raw2[i] = (uint8_t)(i + 1);
  }
  struct rum_wire_key k1, k2;
  rum__wire_key_init(&k1, raw1);
  rum__wire_key_init(&k2, raw2);
  /* Same key: works. */
  struct fixture *fx = fixture_new(65000, 0, 0, 0, &k1, &k1, true);
  char resp[8];
  struct rum_rpc_call c;
  call_setup(&c, fx, RUM_MSG_PING, "abc", 3, resp, sizeof resp);
  assert_int_equal(rum__rpc_call(fx->client, &c, 1), 0);
  fixture_free(fx);
  /* Wrong key, or none: dropped and counted, the call times out. */
  for (int variant = 0; variant < 2; variant++) {
    fx = fixture_new(65000, 0, 0, 0, variant == 0 ? &k2 : NULL, &k1, true);
    call_setup(&c, fx, RUM_MSG_PING, "abc", 3, resp, sizeof resp);
    c.timeout_ms = 100;
    assert_int_equal(rum__rpc_call(fx->client, &c, 1), RUM_ETIMEDOUT);
    struct rum_rpc_stats ss;
    rum__rpc_stats(fx->server, &ss);
    assert_true(ss.auth_drops > 0);
    assert_int_equal(ss.requests, 0);
    fixture_free(fx);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo),
      cmocka_unit_test(test_segmentation),
      cmocka_unit_test(test_response_too_large),
      cmocka_unit_test(test_error_reply),
      cmocka_unit_test(test_lossy_exactly_once),
      cmocka_unit_test(test_deferred_reply),
      cmocka_unit_test(test_lossy_fragmented),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_batch_start_poll_wait),
      cmocka_unit_test(test_batch_timeout),
      cmocka_unit_test(test_mac),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
