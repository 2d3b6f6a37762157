/* libFuzzer over rum-s3's request authentication and aws-chunked decoding.
 *
 * Input: "METHOD URI\n" then "name: value\n" header lines, a blank line, then a body.
 * The request goes through query parsing, the V4 canonical request and
 * s3_authenticate (V4 header, presigned, or V2 by what the headers say), which must
 * answer without crashing. The body is fed to the aws-chunked decoder in pieces whose
 * sizes come from the input. Then a round trip: the body's bytes, cut into chunks,
 * are encoded with correct signatures and must decode to exactly themselves however
 * the encoding is split; one flipped signature byte must be refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "s3.h"
#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct s3_keys keys = {"AKFUZZ", "fuzz-secret", "us-east-1"};

struct collect {
  unsigned char *out;
  size_t len, cap;
};

static int sink(void *arg, const unsigned char *p, size_t n) {
  struct collect *c = arg;
  if (c->len + n > c->cap) abort(); /* the decoder delivered more than it was fed */
  memcpy(c->out + c->len, p, n);
  c->len += n;
  return 0;
}

static void parse_request(const char *text, size_t len) {
  struct s3_request r;
  memset(&r, 0, sizeof r);
  char *copy = strndup(text, len);
  if (copy == NULL) return;
  char *save = NULL, *line = strtok_r(copy, "\n", &save);
  char *sp = line ? strchr(line, ' ') : NULL;
  if (sp == NULL) goto out;
  *sp = 0;
  r.method = line;
  r.raw_path = sp + 1;
  char *q = strchr(r.raw_path, '?');
  if (q) *q++ = 0;
  r.raw_query = q ? q : (char *)"";
  while ((line = strtok_r(NULL, "\n", &save)) != NULL && r.nhdr < S3_MAX_HEADERS) {
    char *colon = strchr(line, ':');
    if (colon == NULL) continue;
    *colon = 0;
    for (char *p = line; *p; p++)
      if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    char *v = colon + 1;
    while (*v == ' ') v++;
    r.hdr[r.nhdr].name = line;
    r.hdr[r.nhdr].value = v;
    r.nhdr++;
  }
  if (s3_parse_query(&r) == 0) {
    struct s3_auth a;
    char msg[256];
    enum s3_err e = s3_authenticate(&r, &keys, NULL, 1700000000000LL, &a, msg, sizeof msg);
    if (e >= S3E_COUNT) abort();
    struct s3_buf creq = {0};
    s3_v4_canonical_request(&r, "host;x-amz-date", "UNSIGNED-PAYLOAD", 0, &creq);
    s3_buf_free(&creq);
  }
  s3_request_free_params(&r);
out:
  free(copy);
}

static struct s3_auth fixed_auth(void) {
  struct s3_auth a;
  memset(&a, 0, sizeof a);
  memcpy(a.amz_date, "20231114T221320Z", 17);
  strcpy(a.scope, "20231114/us-east-1/s3/aws4_request");
  for (int i = 0; i < 32; i++) a.signing_key[i] = (unsigned char)(i * 7 + 1);
  memset(a.seed_signature, 'a', 64);
  a.payload = S3_PAYLOAD_STREAMING;
  return a;
}

/* Feed enc to a fresh decoder in pieces of 1 + seed-driven sizes. */
static int decode(const struct s3_auth *a, const unsigned char *enc, size_t n, struct collect *c, unsigned seed) {
  struct s3_chunked d;
  if (s3_chunked_init(&d, a) != S3E_OK) abort();
  int rc = S3E_OK;
  for (size_t i = 0; i < n && rc == S3E_OK;) {
    size_t step = 1 + (seed = seed * 1103515245u + 12345u) % 4096;
    if (step > n - i) step = n - i;
    rc = s3_chunked_feed(&d, enc + i, step, sink, c);
    i += step;
  }
  int done = s3_chunked_done(&d);
  s3_chunked_free(&d);
  return rc == S3E_OK && done ? 0 : rc == S3E_OK ? -1 : rc;
}

static void round_trip(const unsigned char *body, size_t n, unsigned seed) {
  struct s3_auth a = fixed_auth();
  size_t cap = n + 96 * (n + 2); /* chunks may be one byte each */
  unsigned char *enc = malloc(cap);
  struct collect c = {malloc(n + 1), 0, n};
  if (enc == NULL || c.out == NULL) abort();
  size_t el = 0, off = 0;
  char prev[65];
  memcpy(prev, a.seed_signature, 65);
  for (;;) {
    size_t len = n - off < 1 + seed % 97 ? n - off : 1 + seed % 97;
    seed = seed * 31 + 7;
    unsigned char d[32];
    unsigned int dl = 32;
    EVP_Digest(body + off, len, d, &dl, EVP_sha256(), NULL);
    char sig[65];
    s3_v4_chunk_signature(&a, prev, d, sig);
    el += (size_t)snprintf((char *)enc + el, cap - el, "%zx;chunk-signature=%s\r\n", len, sig);
    memcpy(enc + el, body + off, len);
    el += len;
    memcpy(enc + el, "\r\n", 2);
    el += 2;
    memcpy(prev, sig, 65);
    off += len;
    if (len == 0) break;
  }
  if (decode(&a, enc, el, &c, seed) != 0 || c.len != n || memcmp(c.out, body, n) != 0) abort();
  /* Any one flipped signature character is refused. */
  unsigned char *sigpos = memmem(enc, el < 40 ? el : 40, "signature=", 10);
  if (sigpos) {
    sigpos[10 + seed % 64] ^= 1;
    c.len = 0;
    if (decode(&a, enc, el, &c, seed) == 0) abort();
  }
  free(enc);
  free(c.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  const uint8_t *blank = NULL;
  for (size_t i = 0; i + 1 < size; i++)
    if (data[i] == '\n' && data[i + 1] == '\n') {
      blank = data + i;
      break;
    }
  size_t head = blank ? (size_t)(blank - data) : size;
  parse_request((const char *)data, head);
  const uint8_t *body = blank ? blank + 2 : data + size;
  size_t blen = (size_t)(data + size - body);
  struct s3_auth a = fixed_auth();
  struct collect c = {malloc(blen + 1), 0, blen};
  if (c.out == NULL) return 0;
  decode(&a, body, blen, &c, (unsigned)size);
  free(c.out);
  round_trip(body, blen, (unsigned)head);
  return 0;
}
