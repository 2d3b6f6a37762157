/* aws-chunked decoding with per-chunk signature checks (see chunked.h). */
#include "chunked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "errors.h"

enum { ST_HEADER, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_FINAL_CR, ST_FINAL_LF, ST_DONE };

int s3_chunked_init(struct s3_chunked *c, const struct s3_auth *auth) {
  memset(c, 0, sizeof *c);
  c->auth = auth;
  memcpy(c->prev, auth->seed_signature, 65);
  c->sha = EVP_MD_CTX_new();
  if (c->sha == NULL || !EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL)) return S3E_INTERNAL;
  return S3E_OK;
}

void s3_chunked_free(struct s3_chunked *c) {
  EVP_MD_CTX_free(c->sha);
  c->sha = NULL;
}

int s3_chunked_done(const struct s3_chunked *c) { return c->state == ST_DONE; }

/* "hex;chunk-signature=sig" */
static int parse_header(struct s3_chunked *c) {
  c->line[c->linelen] = 0;
  char *semi = strchr(c->line, ';');
  if (semi == NULL || strncmp(semi + 1, "chunk-signature=", 16) != 0 || strlen(semi + 17) != 64) return -1;
  char *end;
  unsigned long long n = strtoull(c->line, &end, 16);
  if (end != semi || end == c->line || n > S3_CHUNK_MAX) return -1;
  memcpy(c->want, semi + 17, 65);
  c->left = n;
  if (!EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL)) return -2;
  return 0;
}

static int verify(struct s3_chunked *c) {
  unsigned char d[32];
  unsigned int dl = 32;
  EVP_DigestFinal_ex(c->sha, d, &dl);
  char sig[65];
  s3_v4_chunk_signature(c->auth, c->prev, d, sig);
  if (CRYPTO_memcmp(sig, c->want, 64) != 0) return S3E_SIG_MISMATCH;
  memcpy(c->prev, sig, 65);
  return S3E_OK;
}

int s3_chunked_feed(struct s3_chunked *c, const unsigned char *p, size_t n, s3_sink_fn sink, void *arg) {
  size_t i = 0;
  while (i < n) {
    switch (c->state) {
    case ST_HEADER: {
      unsigned char ch = p[i++];
      if (ch == '\n') {
        if (c->linelen == 0 || c->line[c->linelen - 1] != '\r') return S3E_INCOMPLETE_BODY;
        c->linelen--;
        int rc = parse_header(c);
        if (rc == -2) return S3E_INTERNAL;
        if (rc != 0) return S3E_INCOMPLETE_BODY;
        c->linelen = 0;
        if (c->left == 0) {
          if (verify(c) != S3E_OK) return S3E_SIG_MISMATCH;
          c->state = ST_FINAL_CR;
        } else {
          c->state = ST_DATA;
        }
      } else {
        if (c->linelen + 1 >= sizeof c->line) return S3E_INCOMPLETE_BODY;
        c->line[c->linelen++] = (char)ch;
      }
      break;
    }
    case ST_DATA: {
      size_t take = n - i < c->left ? n - i : (size_t)c->left;
      EVP_DigestUpdate(c->sha, p + i, take);
      int rc = sink(arg, p + i, take);
      if (rc != 0) return rc;
      c->decoded += take;
      c->left -= take;
      i += take;
      if (c->left == 0) c->state = ST_DATA_CR;
      break;
    }
    case ST_DATA_CR:
    case ST_FINAL_CR:
      if (p[i++] != '\r') return S3E_INCOMPLETE_BODY;
      c->state++;
      break;
    case ST_DATA_LF: {
      if (p[i++] != '\n') return S3E_INCOMPLETE_BODY;
      if (verify(c) != S3E_OK) return S3E_SIG_MISMATCH;
      c->state = ST_HEADER;
      break;
    }
    case ST_FINAL_LF:
      if (p[i++] != '\n') return S3E_INCOMPLETE_BODY;
      c->state = ST_DONE;
      break;
    default:
      return S3E_INCOMPLETE_BODY; /* bytes after the final chunk */
    }
  }
  return S3E_OK;
}
