/* Decoder of the aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD):
 *   hex-size;chunk-signature=64hex CRLF data CRLF ... 0;chunk-signature=64hex CRLF CRLF
 * fed in arbitrary pieces, every chunk's signature checked (chained from the seed
 * signature) at the chunk's end. Data is handed on as it arrives, so no chunk is held
 * in memory; a signature that does not match fails the feed, and the caller must then
 * drop everything it was given (rum-s3 writes into chunks that become an object only
 * after the whole body has checked, and frees them otherwise). */
#ifndef RUM_S3_CHUNKED_H
#define RUM_S3_CHUNKED_H

#include <openssl/evp.h>

#include "sig.h"

enum { S3_CHUNK_LINE_MAX = 160, S3_CHUNK_MAX = 64u << 20 };

struct s3_chunked {
  const struct s3_auth *auth;
  int state;
  char line[S3_CHUNK_LINE_MAX];
  size_t linelen;
  uint64_t left;    /* data bytes left in the current chunk */
  uint64_t decoded; /* data bytes delivered */
  char prev[65];    /* previous signature in the chain */
  char want[65];    /* signature announced for the current chunk */
  EVP_MD_CTX *sha;
};

typedef int (*s3_sink_fn)(void *arg, const unsigned char *p, size_t n);

/* 0, or S3E_INTERNAL when out of memory (s3_chunked_free in every case). */
int s3_chunked_init(struct s3_chunked *c, const struct s3_auth *auth);
/* Feed n body bytes; chunk data goes to sink (which returns 0 or an s3_err to stop).
 * Returns S3E_OK, S3E_SIG_MISMATCH, S3E_INCOMPLETE_BODY for bad framing, or the
 * sink's error. After an error the data already delivered must be discarded. */
int s3_chunked_feed(struct s3_chunked *c, const unsigned char *p, size_t n, s3_sink_fn sink, void *arg);
/* 1 once the final zero-length chunk has been read and checked. */
int s3_chunked_done(const struct s3_chunked *c);
void s3_chunked_free(struct s3_chunked *c);

#endif
