/* Unit test of rum-s3's socket-free parts against AWS's published examples: the
 * Signature V4 "GET Object" example and the aws-chunked "PUT Object" example of the
 * S3 API reference (same keys, dates and expected signatures), plus dates, names and
 * URL coding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "s3.h"
#include "sig.h"

static int failures;
#define CHECK(c)                                                      \
  do {                                                                \
    if (!(c)) {                                                       \
      fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c);   \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static const struct s3_keys aws_example = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                           "us-east-1"};

static void add(struct s3_request *r, const char *n, const char *v) {
  r->hdr[r->nhdr].name = (char *)n;
  r->hdr[r->nhdr].value = (char *)v;
  r->nhdr++;
}

static void get_object_example(void) {
  struct s3_request r = {.method = "GET", .raw_path = (char *)"/test.txt", .raw_query = (char *)""};
  add(&r, "host", "examplebucket.s3.amazonaws.com");
  add(&r, "range", "bytes=0-9");
  add(&r, "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  add(&r, "x-amz-date", "20130524T000000Z");
  add(&r, "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  struct s3_auth a;
  char msg[256];
  int64_t t = s3_parse_date("20130524T000000Z");
  CHECK(t == 1369353600000LL);
  CHECK(s3_authenticate(&r, &aws_example, "examplebucket", t + 1000, &a, msg, sizeof msg) == S3E_OK);
  CHECK(a.payload == S3_PAYLOAD_SHA256);
  CHECK(s3_authenticate(&r, &aws_example, "examplebucket", t + 16 * 60 * 1000, &a, msg, sizeof msg) == S3E_SKEWED);
  struct s3_keys wrong = aws_example;
  wrong.secret_key = "nope";
  CHECK(s3_authenticate(&r, &wrong, "examplebucket", t, &a, msg, sizeof msg) == S3E_SIG_MISMATCH);
  r.hdr[1].value = (char *)"bytes=0-10"; /* a signed header changed */
  CHECK(s3_authenticate(&r, &aws_example, "examplebucket", t, &a, msg, sizeof msg) == S3E_SIG_MISMATCH);
}

static int collect(void *arg, const unsigned char *p, size_t n) {
  size_t *total = arg;
  for (size_t i = 0; i < n; i++)
    if (p[i] != 'a') return S3E_INTERNAL;
  *total += n;
  return 0;
}

static void chunked_example(void) {
  struct s3_request r = {.method = "PUT", .raw_path = (char *)"/examplebucket/chunkObject.txt",
                         .raw_query = (char *)""};
  add(&r, "host", "s3.amazonaws.com");
  add(&r, "x-amz-date", "20130524T000000Z");
  add(&r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
  add(&r, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  add(&r, "content-encoding", "aws-chunked");
  add(&r, "x-amz-decoded-content-length", "66560");
  add(&r, "content-length", "66824");
  add(&r, "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class,"
      "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  struct s3_auth a;
  char msg[256];
  CHECK(s3_authenticate(&r, &aws_example, NULL, s3_parse_date("20130524T000000Z"), &a, msg, sizeof msg) == S3E_OK);
  CHECK(a.payload == S3_PAYLOAD_STREAMING);
  static const char *sigs[] = {"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                               "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                               "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};
  static const size_t lens[] = {65536, 1024, 0};
  struct s3_buf body = {0};
  for (int i = 0; i < 3; i++) {
    s3_buf_printf(&body, "%zx;chunk-signature=%s\r\n", lens[i], sigs[i]);
    for (size_t k = 0; k < lens[i]; k++) s3_buf_put(&body, "a", 1);
    s3_buf_puts(&body, "\r\n");
  }
  CHECK(body.len == 66824);
  for (size_t step = 1; step <= 70000; step = step * 7 + 3) {
    struct s3_chunked d;
    size_t total = 0;
    int rc = s3_chunked_init(&d, &a);
    for (size_t i = 0; i < body.len && rc == S3E_OK; i += step)
      rc = s3_chunked_feed(&d, (unsigned char *)body.data + i, body.len - i < step ? body.len - i : step, collect,
                           &total);
    CHECK(rc == S3E_OK && s3_chunked_done(&d) && total == 66560);
    s3_chunked_free(&d);
  }
  body.data[70] ^= 1; /* the first chunk's signature */
  struct s3_chunked d;
  size_t total = 0;
  s3_chunked_init(&d, &a);
  CHECK(s3_chunked_feed(&d, (unsigned char *)body.data, body.len, collect, &total) == S3E_SIG_MISMATCH);
  CHECK(total == 65536); /* the bad chunk's data was passed on; the caller drops it */
  s3_chunked_free(&d);
  s3_buf_free(&body);
}

static void names_and_dates(void) {
  CHECK(s3_bucket_name_ok("my-bucket.1"));
  CHECK(!s3_bucket_name_ok("My-Bucket"));
  CHECK(!s3_bucket_name_ok("ab"));
  CHECK(!s3_bucket_name_ok("a..b"));
  CHECK(!s3_bucket_name_ok("-abc"));
  CHECK(!s3_bucket_name_ok("10.0.0.1"));
  CHECK(!s3_bucket_name_ok("xn--abc"));
  CHECK(s3_key_ok("dir/\xc3\xbc", 6));
  CHECK(!s3_key_ok("\xc3", 1));
  CHECK(!s3_key_ok("\xc0\x80", 2));
  CHECK(s3_parse_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777000LL);
  CHECK(s3_parse_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777000LL);
  CHECK(s3_parse_date("Sun Nov  6 08:49:37 1994") == 784111777000LL);
  CHECK(s3_parse_date("Sun, 06 Nov 1994 08:49:37 +0000") == 784111777000LL);
  CHECK(s3_parse_date("yesterday") == -1);
  char d[32];
  s3_http_date(d, 784111777000LL);
  CHECK(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
  s3_iso_date(d, 784111777123LL);
  CHECK(strcmp(d, "1994-11-06T08:49:37.123Z") == 0);
  char out[32];
  CHECK(s3_url_decode(out, "a%20b+c%2F", 10, 1) == 6 && strcmp(out, "a b c/") == 0);
  CHECK(s3_url_decode(out, "a%2", 3, 0) == -1);
  CHECK(s3_url_decode(out, "%00", 3, 0) == -1);
  struct s3_buf b = {0};
  s3_buf_uri(&b, "a b/ü~", 7, 1);
  CHECK(strcmp(b.data, "a%20b/%C3%BC~") == 0);
  s3_buf_free(&b);
  s3_buf_xml(&b, "<a&'\">\r", 7);
  CHECK(strcmp(b.data, "&lt;a&amp;&apos;&quot;&gt;&#xD;") == 0);
  s3_buf_free(&b);
}

int main(void) {
  get_object_example();
  chunked_example();
  names_and_dates();
  if (failures) fprintf(stderr, "test_s3_proto: %d failure(s)\n", failures);
  else printf("test_s3_proto: all passed\n");
  return failures ? 1 : 0;
}
