/* The flexible checksums newer SDKs send instead of Content-MD5: one of the
 * x-amz-checksum-crc32 / -sha1 / -sha256 headers (base64) is checked against the body.
 * CRC32C and CRC64NVME are refused (NotImplemented) rather than taken unchecked. */
#ifndef RUM_S3_CHECKSUM_H
#define RUM_S3_CHECKSUM_H

#include <stdint.h>

#include <openssl/evp.h>

#include "errors.h"
#include "s3.h"

enum s3_checksum_kind { S3_CK_NONE = 0, S3_CK_CRC32, S3_CK_SHA1, S3_CK_SHA256 };

struct s3_checksum {
  enum s3_checksum_kind kind;
  uint32_t crc;
  EVP_MD_CTX *md;
  unsigned char want[32];
  unsigned wantlen;
};

/* From r's headers. S3E_OK (kind NONE when there is none), S3E_INVALID_REQUEST for a
 * malformed value, S3E_NOT_IMPLEMENTED for an algorithm not checked here. */
enum s3_err s3_checksum_init(struct s3_checksum *c, const struct s3_request *r, char *msg, size_t msglen);
void s3_checksum_update(struct s3_checksum *c, const void *p, size_t n);
/* S3E_OK or S3E_BAD_DIGEST. */
enum s3_err s3_checksum_final(struct s3_checksum *c);
void s3_checksum_free(struct s3_checksum *c);

#endif
