/* libFuzzer harness for rum-kvs's RESP request parser (apps/kvs/server/resp.c).
 *
 * The input is a client's byte stream. It is parsed as the server parses it, one
 * request after another, and every result is checked: consumed bytes within the
 * buffer, every argument inside the buffer (multibulk) or the parser's scratch
 * (inline), `need` beyond what was given when more is asked for. Then the same
 * stream is fed in two pieces, split where the first byte says, and must give the
 * very same requests: the parser keeps no state between calls, so where the bytes
 * arrive in pieces must not matter. Violations abort(), so the replay driver
 * (replay_main.c) fails on them too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#include "kvs_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse buf[0..avail) from *pos on, as far as it goes. Returns 0 when it stopped for
 * more bytes, 1 at an error (the server drops the client). */
static int run(const unsigned char *buf, size_t avail, size_t *pos, int authed, struct resp_req *r,
               struct digest *d) {
  while (*pos < avail && d->n < MAX_REQUESTS) {
    size_t consumed, need;
    const char *err = NULL;
    int rc = resp_parse(buf + *pos, avail - *pos, authed, r, &consumed, &need, &err);
    if (rc == RESP_INCOMPLETE) {
      CHECK(need > avail - *pos);
      return 0;
    }
    if (rc == RESP_ERROR) {
      CHECK(err != NULL && strlen(err) > 0);
      d->error = 1;
      return 1;
    }
    CHECK(rc == RESP_COMPLETE);
    CHECK(consumed > 0 && consumed <= avail - *pos);
    for (int i = 0; i < r->argc; i++) {
      CHECK(inside(r->argv[i], r->argl[i], buf + *pos, consumed) ||
            inside(r->argv[i], r->argl[i], r->scratch, r->scratch_cap));
      mix(d, r->argv[i], r->argl[i]);
    }
    d->n++;
    *pos += consumed;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  int authed = data[0] & 1;
  size_t split = size > 1 ? data[0] % size : 0;
  const unsigned char *buf = data + 1;
  size_t len = size - 1;
  if (split > len) split = len;
  struct resp_req r = {0};
  struct digest whole = {0}, pieces = {0};
  size_t pos = 0;
  run(buf, len, &pos, authed, &r, &whole);
  /* The same bytes arriving in two reads. */
  pos = 0;
  if (run(buf, split, &pos, authed, &r, &pieces) == 0 && pieces.n < MAX_REQUESTS) run(buf, len, &pos, authed, &r, &pieces);
  CHECK(whole.n == pieces.n && whole.error == pieces.error && whole.hash == pieces.hash);
  resp_req_free(&r);
  return 0;
}
