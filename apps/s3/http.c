/* libmicrohttpd glue: a request context per request, headers and the raw URI taken
 * from MHD (the URI before MHD decodes it, which Signature V4 needs), the body
 * pipeline (aws-chunked -> SHA-256 -> buffer or object writer), and responses.
 *
 * MHD runs one polling thread of its own (epoll), and every callback runs on it: that
 * thread alone touches the store (main.c's thread only beats the lock and syncs). MHD answers Expect: 100-continue itself once the
 * first call returns without a response, decodes chunked transfer coding, keeps
 * connections alive, and bounds each connection's header memory (431 beyond it). */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#include "gw.h"

static void ctx_free(struct s3_ctx *c) {
  if (c->writer_live) s3w_abort(&c->writer);
  if (c->chunked_live) s3_chunked_free(&c->chunked);
  EVP_MD_CTX_free(c->sha);
  s3_checksum_free(&c->checksum);
  s3_buf_free(&c->buf);
  s3_request_free_params(&c->req);
  for (int i = 0; i < c->req.nhdr; i++) {
    free(c->req.hdr[i].name);
    free(c->req.hdr[i].value);
  }
  free(c->req.raw_path);
  free(c->raw_uri);
  free(c->bucket);
  free(c->key);
  free(c);
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls;
  (void)conn;
  struct s3_ctx *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->raw_uri = strdup(uri);
  if (c->raw_uri == NULL) {
    free(c);
    return NULL;
  }
  return c;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  pthread_mutex_lock(&gw.store_lock);
  if (*con_cls) ctx_free(*con_cls);
  *con_cls = NULL;
  pthread_mutex_unlock(&gw.store_lock);
}

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  struct s3_ctx *c = cls;
  if (c->req.nhdr == S3_MAX_HEADERS) {
    c->body_err = S3E_BAD_REQUEST;
    return MHD_NO;
  }
  size_t kl = strlen(key);
  const char *v = value ? value : "";
  while (*v == ' ' || *v == '\t') v++;
  size_t vl = strlen(v);
  while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
  char *n = malloc(kl + 1), *val = malloc(vl + 1);
  if (n == NULL || val == NULL) {
    free(n);
    free(val);
    c->body_err = S3E_INTERNAL;
    return MHD_NO;
  }
  for (size_t i = 0; i <= kl; i++) n[i] = (char)tolower((unsigned char)key[i]);
  memcpy(val, v, vl);
  val[vl] = 0;
  c->req.hdr[c->req.nhdr].name = n;
  c->req.hdr[c->req.nhdr].value = val;
  c->req.nhdr++;
  return MHD_YES;
}

void s3_reply(struct s3_ctx *c, struct MHD_Response *resp, unsigned status) {
  if (resp == NULL) return;
  MHD_add_response_header(resp, "x-amz-request-id", c->request_id);
  MHD_add_response_header(resp, "Server", "RUM-S3");
  MHD_queue_response(c->conn, status, resp);
  MHD_destroy_response(resp);
  c->responded = 1;
}

void s3_reply_xml(struct s3_ctx *c, unsigned status, struct s3_buf *body) {
  if (body->oom) {
    s3_buf_free(body);
    s3_reply_error(c, S3E_INTERNAL, "out of memory building the reply");
    return;
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(body->len, body->data ? body->data : (char *)"", MHD_RESPMEM_MUST_COPY);
  s3_buf_free(body);
  if (r == NULL) return;
  MHD_add_response_header(r, "Content-Type", "application/xml");
  s3_reply(c, r, status);
}

void s3_reply_empty(struct s3_ctx *c, unsigned status) {
  s3_reply(c, MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT), status);
}

void s3_reply_error(struct s3_ctx *c, enum s3_err e, const char *msg) {
  struct s3_buf b = {0};
  if (strcmp(c->req.method, "HEAD") != 0) s3_error_xml(&b, e, msg, c->resource, c->request_id);
  s3_reply_xml(c, (unsigned)s3_err_status(e), &b);
}

enum s3_err s3_commit(void) {
  if (!gw.cfg.sync_always) {
    __atomic_store_n(&gw.dirty, 1, __ATOMIC_RELEASE);
    return S3E_OK;
  }
  return kv_sync(gw.store.kv) == 0 ? S3E_OK : S3E_INTERNAL;
}

static int prepare_body(struct s3_ctx *c) {
  char msg[160];
  enum s3_err e = s3_checksum_init(&c->checksum, &c->req, msg, sizeof msg);
  if (e != S3E_OK) {
    s3_reply_error(c, e, msg);
    return 1;
  }
  if (c->auth.payload == S3_PAYLOAD_SHA256) {
    c->sha = EVP_MD_CTX_new();
    if (c->sha == NULL || !EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL)) return -1;
  } else if (c->auth.payload == S3_PAYLOAD_STREAMING) {
    c->chunked_live = 1;
    if (s3_chunked_init(&c->chunked, &c->auth) != S3E_OK) return -1;
  }
  return 0;
}

void s3_expect_buffer(struct s3_ctx *c, size_t limit, s3_finish_fn finish) {
  c->dest = BODY_BUFFER;
  c->limit = limit;
  c->finish = finish;
  int rc = prepare_body(c);
  if (rc < 0) s3_reply_error(c, S3E_INTERNAL, NULL);
}

int s3_expect_object(struct s3_ctx *c, uint64_t size_hint, s3_finish_fn finish) {
  c->dest = BODY_OBJECT;
  c->limit = S3_MAX_PUT;
  c->finish = finish;
  int rc = prepare_body(c);
  if (rc > 0) return -1;
  if (rc < 0 || s3w_init(&c->writer, &gw.store, size_hint) != 0) {
    s3_reply_error(c, S3E_INTERNAL, NULL);
    return -1;
  }
  c->writer_live = 1;
  return 0;
}

/* Decoded payload bytes: hash, then to the destination. */
static int payload_sink(void *arg, const unsigned char *p, size_t n) {
  struct s3_ctx *c = arg;
  if (c->received + n > c->limit) return c->dest == BODY_OBJECT ? S3E_ENTITY_TOO_LARGE : S3E_MALFORMED_XML;
  c->received += n;
  if (c->sha) EVP_DigestUpdate(c->sha, p, n);
  s3_checksum_update(&c->checksum, p, n);
  if (c->dest == BODY_BUFFER) {
    s3_buf_put(&c->buf, p, n);
    if (c->buf.oom) return S3E_INTERNAL;
  } else if (c->dest == BODY_OBJECT) {
    if (s3w_write(&c->writer, p, n) != 0) return S3E_NO_SPACE;
  }
  return S3E_OK;
}

static void feed(struct s3_ctx *c, const char *data, size_t n) {
  if (c->body_err != S3E_OK || c->responded) return; /* the rest is read and dropped */
  int rc = c->chunked_live ? s3_chunked_feed(&c->chunked, (const unsigned char *)data, n, payload_sink, c)
                           : payload_sink(c, (const unsigned char *)data, n);
  if (rc != S3E_OK) {
    c->body_err = (enum s3_err)rc;
    /* Give the chunks back now rather than when the client finally stops sending. */
    if (c->writer_live) s3w_abort(&c->writer);
    c->writer_live = 0;
  }
}

enum s3_err s3_body_check(struct s3_ctx *c) {
  if (c->body_err != S3E_OK) return c->body_err;
  if (c->chunked_live) {
    if (!s3_chunked_done(&c->chunked)) return S3E_INCOMPLETE_BODY;
    const char *dl = s3_header(&c->req, "x-amz-decoded-content-length");
    if (dl && strtoull(dl, NULL, 10) != c->received) return S3E_INCOMPLETE_BODY;
  }
  if (c->sha) {
    unsigned char d[32];
    unsigned int dl = 32;
    EVP_DigestFinal_ex(c->sha, d, &dl);
    if (memcmp(d, c->auth.payload_sha256, 32) != 0) return S3E_SHA_MISMATCH;
  }
  if (c->dest == BODY_BUFFER) {
    /* Content-MD5 of an XML body (an object's is checked against the writer's MD5). */
    const char *h = s3_header(&c->req, "content-md5");
    unsigned char want[20], got[16];
    if (h && (strlen(h) != 24 || EVP_DecodeBlock(want, (const unsigned char *)h, 24) != 18)) return S3E_INVALID_DIGEST;
    unsigned int gl = 16;
    if (h && (!EVP_Digest(c->buf.data ? c->buf.data : "", c->buf.len, got, &gl, EVP_md5(), NULL) ||
              memcmp(want, got, 16) != 0))
      return S3E_BAD_DIGEST;
  }
  return s3_checksum_final(&c->checksum);
}

/* raw_uri -> raw_path + raw_query (the path string owns both halves). */
static int split_uri(struct s3_ctx *c) {
  c->req.raw_path = strdup(c->raw_uri);
  if (c->req.raw_path == NULL) return -1;
  char *q = strchr(c->req.raw_path, '?');
  if (q) *q++ = 0;
  c->req.raw_query = q ? q : c->req.raw_path + strlen(c->req.raw_path);
  return 0;
}

static enum MHD_Result access_locked(struct MHD_Connection *conn, const char *method, const char *upload_data,
                                     size_t *upload_data_size, void **con_cls);

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  (void)cls;
  (void)url;
  (void)version;
  pthread_mutex_lock(&gw.store_lock);
  enum MHD_Result r = access_locked(conn, method, upload_data, upload_data_size, con_cls);
  pthread_mutex_unlock(&gw.store_lock);
  return r;
}

static enum MHD_Result access_locked(struct MHD_Connection *conn, const char *method, const char *upload_data,
                                     size_t *upload_data_size, void **con_cls) {
  struct s3_ctx *c = *con_cls;
  if (c == NULL) return MHD_NO; /* out of memory in uri_log_cb: drop the connection */
  if (!c->started) {
    c->started = 1;
    c->conn = conn;
    c->req.method = method;
    snprintf(c->request_id, sizeof c->request_id, "%016llX", (unsigned long long)++gw.next_request_id);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, header_cb, c);
    if (c->body_err != S3E_OK || split_uri(c) != 0) {
      s3_reply_error(c, c->body_err != S3E_OK ? c->body_err : S3E_INTERNAL, "too many headers");
      return MHD_YES;
    }
    s3_route(c);
    if (!c->responded && c->finish == NULL) s3_reply_error(c, S3E_INTERNAL, "no handler");
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    feed(c, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (!c->responded) c->finish(c);
  return MHD_YES;
}

int s3_http_start(void) {
  char ps[16];
  snprintf(ps, sizeof ps, "%d", gw.cfg.port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
  int rc = getaddrinfo(gw.cfg.bind, ps, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "rum-s3: cannot resolve --bind %s: %s\n", gw.cfg.bind, gai_strerror(rc));
    return -1;
  }
  unsigned flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO | (res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  gw.daemon = MHD_start_daemon(
      flags, (uint16_t)gw.cfg.port, NULL, NULL, access_cb, NULL, MHD_OPTION_SOCK_ADDR, res->ai_addr,
      MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64u << 10), MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)gw.cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)gw.cfg.timeout_s,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u, MHD_OPTION_END);
  freeaddrinfo(res);
  if (gw.daemon == NULL) {
    fprintf(stderr, "rum-s3: cannot listen on %s:%d (in use, or a bad address)\n", gw.cfg.bind, gw.cfg.port);
    return -1;
  }
  return 0;
}

void s3_http_stop(void) {
  if (gw.daemon) MHD_stop_daemon(gw.daemon);
  gw.daemon = NULL;
}
