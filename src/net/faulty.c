/* Fault injection: a transport that wraps another and drops, duplicates and reorders
 * a given fraction of the frames it sends. Tests turn it on for client and nodes
 * with RUM_FAULT_INJECT="drop=0.1,dup=0.1,reorder=0.1[,seed=N]".
 *
 * A reordered frame is copied aside and sent after the next frame (or, if no frame
 * follows soon, at the next recv/wait), so it arrives late but does arrive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "net/transport.h"
#include "proto/wire.h"
#include "util/clock.h"
#include "util/log.h"

enum { FAULTY_HELD_MAX = 8, FAULTY_HOLD_NS = 300000 };

struct held_frame {
  struct rum_peer_addr to;
  uint32_t len;
  uint64_t since_ns;
  uint8_t *bytes; /* RUM_WIRE_MAX_FRAME */
};

struct faulty_transport {
  struct rum_transport base;
  struct rum_transport *inner;
  struct rum_fault_spec spec;
  uint64_t rng;
  unsigned nheld;
  struct held_frame held[FAULTY_HELD_MAX];
  uint64_t dropped, duplicated, reordered;
};

int rum__fault_spec_parse(const char *text, struct rum_fault_spec *out) {
  memset(out, 0, sizeof *out);
  if (text == NULL) return 0;
  const char *p = text;
  while (*p) {
    char name[16];
    size_t n = 0;
    while (*p && *p != '=' && *p != ',' && n < sizeof name - 1) name[n++] = *p++;
    name[n] = '\0';
    if (*p != '=') return RUM_EINVAL;
    p++;
    char *end;
    if (strcmp(name, "seed") == 0) {
      out->seed = strtoull(p, &end, 10);
    } else {
      double v = strtod(p, &end);
      if (end == p || !(v >= 0.0 && v <= 1.0)) return RUM_EINVAL;
      if (strcmp(name, "drop") == 0) out->drop = v;
      else if (strcmp(name, "dup") == 0) out->dup = v;
      else if (strcmp(name, "reorder") == 0) out->reorder = v;
      else return RUM_EINVAL;
    }
    if (end == p) return RUM_EINVAL;
    p = end;
    if (*p == ',') p++;
    else if (*p) return RUM_EINVAL;
  }
  return 0;
}

/* xorshift64*: deterministic for a given seed, no locks (the transport is serialised). */
static double faulty_random(struct faulty_transport *f) {
  f->rng ^= f->rng >> 12;
  f->rng ^= f->rng << 25;
  f->rng ^= f->rng >> 27;
  return (double)((f->rng * 0x2545f4914f6cdd1dull) >> 11) / (double)(1ull << 53);
}

static void faulty_send_held(struct faulty_transport *f, bool all) {
  uint64_t now = rum__now_ns();
  unsigned keep = 0;
  for (unsigned i = 0; i < f->nheld; i++) {
    struct held_frame *h = &f->held[i];
    if (all || now - h->since_ns >= FAULTY_HOLD_NS) {
      struct rum_tx_frame tx = {.to = h->to, .iovcnt = 1};
      tx.iov[0].iov_base = h->bytes;
      tx.iov[0].iov_len = h->len;
      (void)f->inner->ops->send(f->inner, &tx, 1);
    } else {
      struct held_frame tmp = f->held[keep];
      f->held[keep++] = *h;
      *h = tmp;
    }
  }
  f->nheld = keep;
}

static bool faulty_hold(struct faulty_transport *f, const struct rum_tx_frame *frame) {
  if (f->nheld == FAULTY_HELD_MAX) return false;
  struct held_frame *h = &f->held[f->nheld];
  size_t len = 0;
  for (int i = 0; i < frame->iovcnt; i++) {
    if (len + frame->iov[i].iov_len > RUM_WIRE_MAX_FRAME) return false;
    memcpy(h->bytes + len, frame->iov[i].iov_base, frame->iov[i].iov_len);
    len += frame->iov[i].iov_len;
  }
  h->to = frame->to;
  h->len = (uint32_t)len;
  h->since_ns = rum__now_ns();
  f->nheld++;
  return true;
}

static int faulty_send(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n) {
  struct faulty_transport *f = (struct faulty_transport *)t;
  for (unsigned i = 0; i < n; i++) {
    double r = faulty_random(f);
    if (r < f->spec.drop) {
      f->dropped++;
      continue;
    }
    if (faulty_random(f) < f->spec.reorder && faulty_hold(f, &frames[i])) {
      f->reordered++;
      continue;
    }
    int copies = faulty_random(f) < f->spec.dup ? 2 : 1;
    if (copies == 2) f->duplicated++;
    for (int c = 0; c < copies; c++) {
      int rc = f->inner->ops->send(f->inner, &frames[i], 1);
      if (rc < 0) return rc;
    }
    /* A held frame goes out after the frame that overtook it. */
    if (f->nheld) faulty_send_held(f, true);
  }
  return (int)n;
}

static int faulty_recv(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max) {
  struct faulty_transport *f = (struct faulty_transport *)t;
  if (f->nheld) faulty_send_held(f, false);
  return f->inner->ops->recv(f->inner, frames, max);
}

static void faulty_release(struct rum_transport *t, struct rum_rx_frame *frames, unsigned n) {
  struct faulty_transport *f = (struct faulty_transport *)t;
  f->inner->ops->release(f->inner, frames, n);
}

static int faulty_wait(struct rum_transport *t, int64_t timeout_ns) {
  struct faulty_transport *f = (struct faulty_transport *)t;
  /* Never sleep past a held frame's due time. wait may run concurrently with send,
   * so only read nheld here; the frames go out at the next recv. */
  if (__atomic_load_n(&f->nheld, __ATOMIC_RELAXED) && timeout_ns > FAULTY_HOLD_NS)
    timeout_ns = FAULTY_HOLD_NS;
  return f->inner->ops->wait(f->inner, timeout_ns);
}

static void faulty_destroy(struct rum_transport *t) {
  struct faulty_transport *f = (struct faulty_transport *)t;
  RUM_LOG_I("fault injection: dropped %llu, duplicated %llu, reordered %llu frames",
            (unsigned long long)f->dropped, (unsigned long long)f->duplicated,
            (unsigned long long)f->reordered);
  rum__transport_destroy(f->inner);
  for (unsigned i = 0; i < FAULTY_HELD_MAX; i++) free(f->held[i].bytes);
  free(f);
}

static const struct rum_transport_ops faulty_ops = {
    .name = "faulty",
    .send = faulty_send,
    .recv = faulty_recv,
    .release = faulty_release,
    .wait = faulty_wait,
    .destroy = faulty_destroy,
};

int rum__faulty_wrap(struct rum_transport *inner, const char *spec, struct rum_transport **out) {
  *out = NULL;
  struct faulty_transport *f = calloc(1, sizeof *f);
  if (f == NULL) {
    rum__transport_destroy(inner);
    return RUM_ENOMEM;
  }
  if (rum__fault_spec_parse(spec, &f->spec) != 0) {
    RUM_LOG_E("bad fault injection spec '%s' (want drop=P,dup=P,reorder=P,seed=N)", spec);
    free(f);
    rum__transport_destroy(inner);
    return RUM_EINVAL;
  }
  for (unsigned i = 0; i < FAULTY_HELD_MAX; i++) {
    f->held[i].bytes = malloc(RUM_WIRE_MAX_FRAME);
    if (f->held[i].bytes == NULL) {
      f->inner = inner;
      faulty_destroy(&f->base);
      return RUM_ENOMEM;
    }
  }
  f->inner = inner;
  f->rng = f->spec.seed ? f->spec.seed : (rum__now_ns() ^ ((uint64_t)getpid() << 32)) | 1;
  f->base.ops = &faulty_ops;
  f->base.mtu = inner->mtu;
  f->base.local = inner->local;
  *out = &f->base;
  RUM_LOG_I("fault injection on: drop %.3f dup %.3f reorder %.3f", f->spec.drop, f->spec.dup,
            f->spec.reorder);
  return 0;
}
