/* Buckets, objects and multipart uploads in the rum-kvs core (kv.h) on RUM.
 *
 * Layout: the keyspace key "s3:buckets" is a sorted set (kv_zset, all scores 0, so
 * ordered by name) whose member entries carry a struct s3_bucket in their val. A
 * bucket holds two more sorted sets: objects by key (val: struct s3_obj) and
 * multipart uploads by "key\0uploadId" (val: struct s3_upload, whose parts are a
 * sorted set by 4-byte big-endian part number, val: struct s3_part).
 *
 * Object data is a list of chunks (kv_blob, at most S3_CHUNK_DATA bytes each, sized to
 * fill one heap size class) with their offsets, so a range read binary-searches the
 * chunk and a body never has to be in one piece anywhere. Completing a multipart
 * upload moves the parts' chunks into the object without copying data.
 *
 * Single-threaded like the core. Objects being streamed to a client are pinned: a
 * delete or overwrite then unlinks the object at once and frees its chunks when the
 * last reader is done. */
#ifndef RUM_S3_OBJSTORE_H
#define RUM_S3_OBJSTORE_H

#include <stdint.h>

#include <openssl/evp.h>

#include "../kvs/core/kv.h"

enum {
  S3_CHUNK_DATA = (224u << 10) - 16, /* + blob and block headers = the 224 KiB class */
  S3_ETAG_MAX = 48,
};

struct s3_chunkref {
  uint64_t off; /* offset of the chunk's first byte in the object */
  kv_ref blob;  /* struct kv_blob */
};

struct s3_bucket {
  int64_t created_ms;
  kv_ref objects; /* kv_zset: key -> struct s3_obj */
  kv_ref uploads; /* kv_zset: key\0uploadId -> struct s3_upload */
};

/* Body shared by objects and parts. */
struct s3_body {
  uint64_t size;
  kv_ref chunks; /* struct s3_chunkref[nchunks] */
  uint64_t nchunks;
};

struct s3_obj {
  struct s3_body body;
  int64_t mtime_ms;
  kv_ref meta; /* kv_blob of "name\0value\0" pairs (content-type, x-amz-meta-*, ...) */
  char etag[S3_ETAG_MAX]; /* hex MD5, or hex-N for multipart; no quotes */
};

struct s3_upload {
  int64_t initiated_ms;
  kv_ref meta;
  kv_ref parts; /* kv_zset: be32 part number -> struct s3_part */
};

struct s3_part {
  struct s3_body body;
  int64_t mtime_ms;
  unsigned char md5[16];
};

struct s3_store {
  struct kv_store *kv;
  kv_ref buckets; /* the "s3:buckets" zset */
  struct s3_pin *pins;
};

int s3s_open(const char *name, size_t journal_bytes, struct s3_store *st, char *err, size_t errlen);
int s3s_close(struct s3_store *st);

static inline void *s3s_at(struct s3_store *st, kv_ref r) { return kv_at(st->kv, r); }

/* Sorted-set helpers: count, the member entry at rank i, and the first rank >= key
 * (> key when exclusive). */
uint64_t s3s_count(struct s3_store *st, kv_ref zset);
struct pd_entry *s3s_rank(struct s3_store *st, kv_ref zset, uint64_t i, kv_ref *val);
uint64_t s3s_lower(struct s3_store *st, kv_ref zset, const void *key, size_t klen, int exclusive);
/* The member's val (KV_NULL when absent). */
kv_ref s3s_get(struct s3_store *st, kv_ref zset, const void *key, size_t klen);

/* Buckets. create: 0, 1 when it exists already, RUM_ENOMEM. delete: 0, RUM_ENOENT,
 * RUM_EBUSY when not empty (objects or uploads). */
kv_ref s3s_bucket(struct s3_store *st, const char *name);
int s3s_bucket_create(struct s3_store *st, const char *name, int64_t now_ms);
int s3s_bucket_delete(struct s3_store *st, const char *name);

/* Writing a body in pieces. init takes a hint of the final size (0 unknown) so a
 * small body gets a small chunk. finish hands the chunks to *out; abort frees them. */
struct s3_writer {
  struct s3_store *st;
  struct s3_body body;
  uint64_t cap;      /* chunk array capacity */
  kv_ref cur;        /* chunk being filled */
  uint64_t cur_len, cur_cap, hint;
  EVP_MD_CTX *md5;
};
int s3w_init(struct s3_writer *w, struct s3_store *st, uint64_t size_hint);
int s3w_write(struct s3_writer *w, const void *p, size_t n); /* 0 or RUM_ENOMEM */
int s3w_finish(struct s3_writer *w, struct s3_body *out, unsigned char md5[16]);
void s3w_abort(struct s3_writer *w);

/* Copy [off, off+n) of body into dst. */
void s3s_read(struct s3_store *st, const struct s3_body *b, uint64_t off, void *dst, size_t n);
void s3s_body_free(struct s3_store *st, struct s3_body *b);

/* Objects. put replaces any object under key (freeing or dooming the old one). */
kv_ref s3s_obj_new(struct s3_store *st, const struct s3_body *body, int64_t mtime_ms, const char *etag,
                   const void *meta, size_t metalen);
int s3s_obj_put(struct s3_store *st, kv_ref bucket, const char *key, size_t klen, kv_ref obj);
int s3s_obj_delete(struct s3_store *st, kv_ref bucket, const char *key, size_t klen); /* 1 if it existed */
void s3s_obj_free(struct s3_store *st, kv_ref obj);

/* Pins: an object stays allocated while pinned even if deleted meanwhile. */
void s3s_pin(struct s3_store *st, kv_ref obj);
void s3s_unpin(struct s3_store *st, kv_ref obj);

/* Multipart uploads. */
kv_ref s3s_upload_create(struct s3_store *st, kv_ref bucket, const char *member, size_t mlen, int64_t now_ms,
                         const void *meta, size_t metalen);
void s3s_upload_delete(struct s3_store *st, kv_ref bucket, const char *member, size_t mlen);
int s3s_part_put(struct s3_store *st, kv_ref upload, int number, const struct s3_body *body,
                 const unsigned char md5[16], int64_t now_ms);

/* Meta blob access: iterate "name\0value\0" pairs. */
const char *s3s_meta_get(struct s3_store *st, kv_ref meta, const char *name);

#endif
