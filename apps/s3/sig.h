/* Request authentication: AWS Signature Version 4 (Authorization header and presigned
 * query), the aws-chunked per-chunk signatures, and Signature Version 2 (header and
 * query). Works on a parsed struct s3_request only; the time is an argument. */
#ifndef RUM_S3_SIG_H
#define RUM_S3_SIG_H

#include "errors.h"
#include "s3.h"

struct s3_keys {
  const char *access_key, *secret_key, *region;
};

enum s3_payload {
  S3_PAYLOAD_UNSIGNED = 0,  /* UNSIGNED-PAYLOAD, V2, or a presigned URL */
  S3_PAYLOAD_SHA256 = 1,    /* the body must hash to auth.payload_sha256 */
  S3_PAYLOAD_STREAMING = 2, /* aws-chunked, each chunk signed */
};

struct s3_auth {
  int version; /* 2 or 4 */
  enum s3_payload payload;
  unsigned char payload_sha256[32];
  unsigned char signing_key[32]; /* V4: derived key, for chunk signatures */
  char seed_signature[65];       /* V4: the request's signature */
  char amz_date[17];             /* V4: yyyymmddThhmmssZ */
  char scope[96];                /* V4: date/region/s3/aws4_request */
};

/* Check r's signature against keys at now_ms. vhost_bucket is the bucket taken from
 * the Host header for virtual-host addressing (NULL for path style): V2 signs it as
 * part of the resource. On success fills *a and returns S3E_OK; otherwise an error
 * with a detail in msg. */
enum s3_err s3_authenticate(const struct s3_request *r, const struct s3_keys *keys, const char *vhost_bucket,
                            int64_t now_ms, struct s3_auth *a, char *msg, size_t msglen);

/* The V4 canonical request and string to sign of r (exposed for tests and the fuzz
 * target). signed_headers is the ';'-list, payload the hash line. 0, or -1 when a
 * signed header is missing or memory ran out. */
int s3_v4_canonical_request(const struct s3_request *r, const char *signed_headers, const char *payload,
                            int presigned, struct s3_buf *out);

/* Signature of one aws-chunked chunk whose data hashes to data_sha256, chained after
 * prev (the seed signature or the previous chunk's). out: 64 hex + NUL. */
void s3_v4_chunk_signature(const struct s3_auth *a, const char *prev, const unsigned char data_sha256[32],
                           char out[65]);

#endif
