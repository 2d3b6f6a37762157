/* The gateway proper: one request context per HTTP request (MHD's con_cls), the
 * operations that read or write the store, and the response helpers. Everything here
 * runs on MHD's one polling thread, the only thread that touches the store. */
#ifndef RUM_S3_GW_H
#define RUM_S3_GW_H

#include <pthread.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "checksum.h"
#include "chunked.h"
#include "errors.h"
#include "objstore.h"
#include "s3.h"
#include "sig.h"

struct s3_config {
  int port;
  const char *bind;
  const char *machines;
  const char *store;
  const char *domain; /* virtual-host suffix: Host "B.<domain>" addresses bucket B */
  struct s3_keys keys;
  int cache_mb;
  int timeout_s;
  int max_connections;
  int sync_always; /* --sync always: rum_sync() before every acknowledged change */
  int journal_mb;  /* the store's undo journal (kv_open); 0: syncs are not atomic */
};

struct s3_gateway {
  struct s3_config cfg;
  struct s3_store store;
  struct MHD_Daemon *daemon;
  uint64_t next_request_id;
  int dirty; /* --sync everysec: a change waits for the loop's next sync */
  /* Held by the HTTP thread around each callback that may change the store and by
   * the loop's sync: an atomic sync needs no store running while it commits. */
  pthread_mutex_t store_lock;
  int64_t (*now_ms)(void);
  volatile int stop;
};
extern struct s3_gateway gw;

struct s3_ctx;
typedef void (*s3_finish_fn)(struct s3_ctx *c);

enum s3_body_dest { BODY_NONE = 0, BODY_BUFFER, BODY_OBJECT };

struct s3_ctx {
  struct MHD_Connection *conn;
  char *raw_uri;
  struct s3_request req;
  char *bucket; /* decoded, NULL for the service */
  char *key;    /* decoded, NULL at bucket level */
  size_t klen;
  char request_id[20];
  char resource[64];
  int started, responded;
  struct s3_auth auth;
  /* body pipeline: (aws-chunked decoding) -> (SHA-256 check) -> destination */
  enum s3_body_dest dest;
  uint64_t received;        /* payload bytes after decoding */
  uint64_t limit;           /* most payload bytes accepted */
  EVP_MD_CTX *sha;          /* x-amz-content-sha256 check, when signed */
  struct s3_checksum checksum; /* x-amz-checksum-*, when sent */
  struct s3_chunked chunked;
  int chunked_live;
  struct s3_buf buf;        /* BODY_BUFFER */
  struct s3_writer writer;  /* BODY_OBJECT */
  int writer_live;
  enum s3_err body_err;
  s3_finish_fn finish;
  /* operation arguments */
  kv_ref bucket_ref;
  int part_number;
  char upload_member[S3_MAX_KEY + 40];
  size_t upload_member_len;
};

/* http.c */
int s3_http_start(void);
void s3_http_stop(void);
void s3_reply(struct s3_ctx *c, struct MHD_Response *resp, unsigned status);
void s3_reply_xml(struct s3_ctx *c, unsigned status, struct s3_buf *body);
void s3_reply_empty(struct s3_ctx *c, unsigned status);
void s3_reply_error(struct s3_ctx *c, enum s3_err e, const char *msg);
/* Make the store durable before acknowledging a change: S3E_OK or S3E_INTERNAL. */
enum s3_err s3_commit(void);
/* Accept a body into c->buf (at most limit bytes) or a writer, then call finish. */
void s3_expect_buffer(struct s3_ctx *c, size_t limit, s3_finish_fn finish);
int s3_expect_object(struct s3_ctx *c, uint64_t size_hint, s3_finish_fn finish);
/* After the body: did it arrive whole and match its signed hash? */
enum s3_err s3_body_check(struct s3_ctx *c);

/* router.c */
void s3_route(struct s3_ctx *c);
int s3_copy_source(struct s3_ctx *c, kv_ref *obj, enum s3_err *err);

/* ops_bucket.c, ops_list.c, ops_object.c, ops_multipart.c */
void s3_op_list_buckets(struct s3_ctx *c);
void s3_op_create_bucket(struct s3_ctx *c);
void s3_op_delete_bucket(struct s3_ctx *c);
void s3_op_head_bucket(struct s3_ctx *c);
void s3_op_bucket_location(struct s3_ctx *c);
void s3_op_bucket_acl(struct s3_ctx *c);
void s3_op_list_objects(struct s3_ctx *c, int v2);
void s3_op_list_uploads(struct s3_ctx *c);
void s3_op_delete_objects(struct s3_ctx *c);
void s3_op_put_object(struct s3_ctx *c);
void s3_op_copy_object(struct s3_ctx *c);
void s3_op_get_object(struct s3_ctx *c, int head);
void s3_op_delete_object(struct s3_ctx *c);
void s3_op_create_upload(struct s3_ctx *c);
void s3_op_upload_part(struct s3_ctx *c);
void s3_op_upload_part_copy(struct s3_ctx *c);
void s3_op_complete_upload(struct s3_ctx *c);
void s3_op_abort_upload(struct s3_ctx *c);
void s3_op_list_parts(struct s3_ctx *c);

/* ops_object.c, shared with ops_multipart.c: PUT header checks (0, or an error sent),
 * the end of an object body (checks, then *body; 0 or an error sent), copying a range
 * of a body into new chunks (0 or RUM_ENOMEM), a copy source's conditions (0 or -1). */
int s3__check_put_headers(struct s3_ctx *c, uint64_t *size_hint);
int s3__finish_body(struct s3_ctx *c, struct s3_body *body, unsigned char md5[16]);
int s3__copy_body(const struct s3_body *src, uint64_t off, uint64_t len, struct s3_body *out, unsigned char md5[16]);
int s3__copy_conditions(const struct s3_request *r, const struct s3_obj *src);

/* meta.c: stored headers of an object from a request, and back to a response. */
int s3_meta_from_request(const struct s3_request *r, struct s3_buf *meta, enum s3_err *err);
void s3_meta_to_response(struct s3_ctx *c, struct MHD_Response *resp, kv_ref meta);
void s3_etag_quoted(char *out, size_t cap, const char *etag);
void s3_owner_xml(struct s3_buf *b);

#endif
