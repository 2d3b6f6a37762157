/* S3 error table and the error document. */
#include "errors.h"

#include <string.h>

struct s3_err_info {
  int status;
  const char *code, *message;
};

#define S3_ERR_ROW(name, st, c, m) {st, c, m},
static const struct s3_err_info table[] = {S3_ERRORS(S3_ERR_ROW)};
#undef S3_ERR_ROW

static const struct s3_err_info *info(enum s3_err e) {
  return (unsigned)e < S3E_COUNT ? &table[e] : &table[S3E_INTERNAL];
}

int s3_err_status(enum s3_err e) { return info(e)->status; }
const char *s3_err_code(enum s3_err e) { return info(e)->code; }
const char *s3_err_message(enum s3_err e) { return info(e)->message; }

void s3_error_xml(struct s3_buf *b, enum s3_err e, const char *msg, const char *resource,
                  const char *request_id) {
  const char *m = msg != NULL && msg[0] ? msg : info(e)->message;
  s3_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
  s3_buf_puts(b, info(e)->code);
  s3_buf_puts(b, "</Code><Message>");
  s3_buf_xml(b, m, strlen(m));
  s3_buf_puts(b, "</Message>");
  if (resource != NULL) {
    s3_buf_puts(b, "<Resource>");
    s3_buf_xml(b, resource, strlen(resource));
    s3_buf_puts(b, "</Resource>");
  }
  s3_buf_puts(b, "<RequestId>");
  s3_buf_puts(b, request_id ? request_id : "");
  s3_buf_puts(b, "</RequestId></Error>");
}
