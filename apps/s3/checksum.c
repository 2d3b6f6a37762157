/* x-amz-checksum-* verification (see checksum.h). */
#include "checksum.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>

static const struct {
  const char *header;
  enum s3_checksum_kind kind;
  unsigned len;
} algorithms[] = {
    {"x-amz-checksum-crc32", S3_CK_CRC32, 4},
    {"x-amz-checksum-sha1", S3_CK_SHA1, 20},
    {"x-amz-checksum-sha256", S3_CK_SHA256, 32},
};

enum s3_err s3_checksum_init(struct s3_checksum *c, const struct s3_request *r, char *msg, size_t msglen) {
  memset(c, 0, sizeof *c);
  if (s3_header(r, "x-amz-checksum-crc32c") || s3_header(r, "x-amz-checksum-crc64nvme")) {
    snprintf(msg, msglen, "CRC32C and CRC64NVME checksums are not supported; use CRC32, SHA1 or SHA256");
    return S3E_NOT_IMPLEMENTED;
  }
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    const char *v = s3_header(r, algorithms[i].header);
    if (v == NULL) continue;
    unsigned char out[48];
    size_t vl = strlen(v);
    int n = vl <= 44 && vl % 4 == 0 ? EVP_DecodeBlock(out, (const unsigned char *)v, (int)vl) : -1;
    if (n >= 0) n -= (vl > 0 && v[vl - 1] == '=') + (vl > 1 && v[vl - 2] == '=');
    if (n != (int)algorithms[i].len) {
      snprintf(msg, msglen, "Value for %s header is invalid.", algorithms[i].header);
      return S3E_INVALID_REQUEST;
    }
    c->kind = algorithms[i].kind;
    c->wantlen = algorithms[i].len;
    memcpy(c->want, out, c->wantlen);
    if (c->kind == S3_CK_CRC32) {
      c->crc = (uint32_t)crc32(0L, Z_NULL, 0);
      return S3E_OK;
    }
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || !EVP_DigestInit_ex(c->md, c->kind == S3_CK_SHA1 ? EVP_sha1() : EVP_sha256(), NULL))
      return S3E_INTERNAL;
    return S3E_OK;
  }
  return S3E_OK;
}

void s3_checksum_update(struct s3_checksum *c, const void *p, size_t n) {
  if (c->kind == S3_CK_CRC32) {
    const unsigned char *b = p;
    while (n > 0) {
      uInt step = n > (1u << 30) ? 1u << 30 : (uInt)n;
      c->crc = (uint32_t)crc32(c->crc, b, step);
      b += step;
      n -= step;
    }
  } else if (c->md) {
    EVP_DigestUpdate(c->md, p, n);
  }
}

enum s3_err s3_checksum_final(struct s3_checksum *c) {
  unsigned char got[32];
  if (c->kind == S3_CK_NONE) return S3E_OK;
  if (c->kind == S3_CK_CRC32) {
    got[0] = (unsigned char)(c->crc >> 24);
    got[1] = (unsigned char)(c->crc >> 16);
    got[2] = (unsigned char)(c->crc >> 8);
    got[3] = (unsigned char)c->crc;
  } else {
    unsigned int l = 32;
    EVP_DigestFinal_ex(c->md, got, &l);
  }
  return memcmp(got, c->want, c->wantlen) == 0 ? S3E_OK : S3E_BAD_DIGEST;
}

void s3_checksum_free(struct s3_checksum *c) {
  EVP_MD_CTX_free(c->md);
  c->md = NULL;
}
