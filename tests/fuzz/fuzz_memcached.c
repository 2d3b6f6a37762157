/* libFuzzer harness for rum-kvs's memcached text protocol parser
 * (apps/kvs/server/mc_proto.c).
 *
 * The input is a client's byte stream, parsed as the server parses it: request
 * after request, skipping the data of a refused value. Every result is checked:
 * progress on every parsed request, keys and values inside the buffer, a value
 * followed by its CRLF unless an error says otherwise, key lengths that the key
 * checks let through within memcached's 250. The stream is then fed again in two
 * pieces, split where the first byte says, and must give the same requests.
 * Violations abort(), so the replay driver (replay_main.c) fails on them too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_proto.h"

#include "kvs_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct mc_req *r, const unsigned char *at, size_t consumed, struct digest *d) {
  mix(d, &r->cmd, sizeof r->cmd);
  mix(d, &r->noreply, sizeof r->noreply);
  if (r->error != NULL) {
    CHECK(strlen(r->error) > 0 && strchr(r->error, '\n') == NULL);
    mix(d, r->error, strlen(r->error));
    mix(d, &r->swallow, sizeof r->swallow);
    return;
  }
  if (r->key.p != NULL) {
    CHECK(inside(r->key.p, r->key.len, at, consumed) && r->key.len <= MC_KEY_MAX);
    mix(d, r->key.p, r->key.len);
  }
  for (int i = 0; i < r->nkeys; i++) {
    CHECK(r->keys[i].len > 0 && inside(r->keys[i].p, r->keys[i].len, at, consumed));
    mix(d, r->keys[i].p, r->keys[i].len);
  }
  if (r->data != NULL) {
    CHECK(inside(r->data, r->data_len + 2, at, consumed));
    CHECK(r->data[r->data_len] == '\r' && r->data[r->data_len + 1] == '\n');
    CHECK(r->data_len <= mc_value_max(r->key.len, r->flags));
    mix(d, r->data, r->data_len);
  }
  mix(d, &r->flags, sizeof r->flags);
  mix(d, &r->exptime, sizeof r->exptime);
  mix(d, &r->cas, sizeof r->cas);
  mix(d, &r->delta, sizeof r->delta);
}

/* Parse buf[0..avail) from *pos on; *swallow carries a refused value's bytes. */
static void run(const unsigned char *buf, size_t avail, size_t *pos, uint64_t *swallow, struct mc_req *r,
                struct digest *d) {
  while (*pos < avail && d->n < MAX_REQUESTS && !d->closed) {
    if (*swallow != 0) {
      size_t n = avail - *pos;
      if (n > *swallow) n = (size_t)*swallow;
      *pos += n;
      *swallow -= n;
      continue;
    }
    size_t consumed, need;
    int rc = mc_parse(buf + *pos, avail - *pos, r, &consumed, &need);
    if (rc == MC_PARSE_INCOMPLETE) {
      CHECK(need > avail - *pos);
      return;
    }
    if (rc == MC_PARSE_CLOSE) {
      d->closed = 1;
      return;
    }
    CHECK(rc == MC_PARSE_OK && consumed > 0 && consumed <= avail - *pos);
    check_request(r, buf + *pos, consumed, d);
    *swallow = r->swallow;
    d->n++;
    *pos += consumed;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const unsigned char *buf = data + 1;
  size_t len = size - 1;
  size_t split = len ? data[0] % (len + 1) : 0;
  struct mc_req r = {0};
  struct digest whole = {0}, pieces = {0};
  size_t pos = 0;
  uint64_t swallow = 0;
  run(buf, len, &pos, &swallow, &r, &whole);
  pos = 0;
  swallow = 0;
  run(buf, split, &pos, &swallow, &r, &pieces);
  run(buf, len, &pos, &swallow, &r, &pieces);
  /* A junk line closes only once more than MC_LINE_MAX bytes sit unparsed, which
   * the split can move; the requests before it must agree. */
  if (!whole.closed && !pieces.closed) CHECK(whole.n == pieces.n && whole.hash == pieces.hash);
  mc_req_free(&r);
  return 0;
}
