/* machines.csv: what a good file yields, and for each kind of mistake a message that
 * sends the person editing the file to the right line and field. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <rum/rum_errors.h>

#include "cluster/machines.h"

static struct rum_machines m;
static char err[RUM_MACHINES_ERR_MAX];
static char tmpdir[64];

static int parse(const char *text) {
  return rum__machines_parse(text, strlen(text), "m.csv", &m, err, sizeof err);
}

/* The text must fail with a message starting "m.csv:LINE: field FIELD: " and
 * containing what (when not NULL). */
static void expect_error(const char *text, unsigned line, const char *field, const char *what) {
  char prefix[128];
  assert_int_equal(parse(text), RUM_ECONFIG);
  snprintf(prefix, sizeof prefix, "m.csv:%u: field %s: ", line, field);
  if (strncmp(err, prefix, strlen(prefix)) != 0)
    fail_msg("expected a message starting '%s', got '%s'", prefix, err);
  if (what != NULL && strstr(err, what) == NULL)
    fail_msg("expected '%s' in '%s'", what, err);
  assert_int_equal(m.nnodes, 0); /* nothing half-parsed is left behind */
}

/* ---- good files ---- */

static void test_minimal_file(void **state) {
  (void)state;
  assert_int_equal(parse("1,127.0.0.1,7001"), 0); /* no final newline */
  assert_int_equal(m.nnodes, 1);
  assert_int_equal(m.nodes[0].id, 1);
  assert_string_equal(m.nodes[0].host, "127.0.0.1");
  assert_int_equal(m.nodes[0].ipv4, htonl(0x7f000001));
  assert_int_equal(m.nodes[0].port, 7001);
  assert_false(m.nodes[0].has_mac);
  assert_string_equal(m.nodes[0].dpdk_dev, "");
  assert_int_equal(m.nodes[0].weight, 1);
  assert_int_equal(m.nodes[0].line, 1);
  assert_string_equal(m.key_file, "");
  assert_int_equal(m.replication, 0);
  assert_string_equal(m.transport, "");
}

static void test_full_file(void **state) {
  (void)state;
  const char *text =
      "# RUM test cluster\n"
      "\n"
      "id,host,port,mac,dpdk_dev,weight\n"
      "replication = 2\n"
      "lease_ms=3000   # three seconds\n"
      "heartbeat_ms=500\n"
      "mtu=9000\n"
      "transport=dpdk\n"
      "key_file=keys/cluster.key\n"
      "  1 , 10.0.0.1 , 7001 # first\n"
      "2,10.0.0.2,7001,AA:bb:0c:dd:ee:0F,net_memif0,3\n"
      "3,localhost,7003,,,\n"
      "4,10.0.0.4,7004,,0000:03:00.0\n"
      "5,10.0.0.5,7005,,,1000\n";
  assert_int_equal(parse(text), 0);
  assert_int_equal(m.nnodes, 5);
  assert_int_equal(m.replication, 2);
  assert_int_equal(m.lease_ms, 3000);
  assert_int_equal(m.heartbeat_ms, 500);
  assert_int_equal(m.mtu, 9000);
  assert_string_equal(m.transport, "dpdk");
  assert_string_equal(m.key_file, "keys/cluster.key"); /* parse does not resolve it */

  assert_int_equal(m.nodes[0].id, 1);
  assert_string_equal(m.nodes[0].host, "10.0.0.1");
  assert_int_equal(m.nodes[0].line, 10);

  const struct rum_node_info *n2 = rum__machines_find(&m, 2);
  assert_non_null(n2);
  assert_true(n2->has_mac);
  static const uint8_t mac[6] = {0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x0f};
  assert_memory_equal(n2->mac, mac, 6);
  assert_string_equal(n2->dpdk_dev, "net_memif0");
  assert_int_equal(n2->weight, 3);

  const struct rum_node_info *n3 = rum__machines_find(&m, 3);
  assert_string_equal(n3->host, "localhost");
  assert_int_equal(n3->ipv4, htonl(0x7f000001));
  assert_false(n3->has_mac);
  assert_int_equal(n3->weight, 1); /* empty columns keep the defaults */
  assert_string_equal(rum__machines_find(&m, 4)->dpdk_dev, "0000:03:00.0");
  assert_int_equal(rum__machines_find(&m, 5)->weight, 1000);
  assert_null(rum__machines_find(&m, 6));
}

static void test_crlf_and_bom(void **state) {
  (void)state;
  const char *text = "\xef\xbb\xbf# made on Windows\r\nid,host,port\r\nlease_ms=100\r\n"
                     "1,127.0.0.1,7001\r\n2,127.0.0.1,7002,,,2\r\n\r\n";
  assert_int_equal(parse(text), 0);
  assert_int_equal(m.nnodes, 2);
  assert_int_equal(m.lease_ms, 100);
  assert_int_equal(m.nodes[1].port, 7002);
  assert_int_equal(m.nodes[1].weight, 2);
  assert_int_equal(m.nodes[1].line, 5);
}

static void test_limits_accepted(void **state) {
  (void)state;
  assert_int_equal(parse("0,127.0.0.1,1\n65535,127.0.0.1,65535,,,1\n"), 0);
  assert_int_equal(m.nodes[0].id, 0);
  assert_int_equal(m.nodes[1].id, RUM_NODE_ID_MAX);
  assert_int_equal(m.nodes[1].port, 65535);

  char text[RUM_MAX_NODES * 32];
  size_t len = 0;
  for (int i = 0; i < RUM_MAX_NODES; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%d,127.0.0.1,%d\n", i + 1, 7000 + i);
  assert_int_equal(rum__machines_parse(text, len, "m.csv", &m, err, sizeof err), 0);
  assert_int_equal(m.nnodes, RUM_MAX_NODES);
}

/* Only len bytes are read: the parser must not run past the buffer looking for a NUL. */
static void test_buffer_not_terminated(void **state) {
  (void)state;
  const char text[] = "1,127.0.0.1,7001\n2,127.0.0.1,7002x";
  assert_int_equal(rum__machines_parse(text, sizeof text - 2, "m.csv", &m, err, sizeof err), 0);
  assert_int_equal(m.nnodes, 2);
  assert_int_equal(m.nodes[1].port, 7002);
}

/* ---- one test per mistake ---- */

static void test_error_bad_id(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001\nx2,127.0.0.1,7002\n", 2, "id", "'x2'");
  expect_error("-1,127.0.0.1,7001\n", 1, "id", "not a decimal number");
  expect_error(",127.0.0.1,7001\n", 1, "id", "missing");
}

static void test_error_id_too_large(void **state) {
  (void)state;
  expect_error("# c\n65536,127.0.0.1,7001\n", 2, "id", "65535");
  expect_error("99999999999999999999999,127.0.0.1,7001\n", 1, "id", "larger");
}

static void test_error_bad_host(void **state) {
  (void)state;
  expect_error("1,example.com,7001\n", 1, "host", "'example.com'");
  expect_error("1,10.0.0,7001\n", 1, "host", "IPv4");
  expect_error("1,10.0.0.256,7001\n", 1, "host", NULL);
  expect_error("1,,7001\n", 1, "host", "missing");
  expect_error("1\n", 1, "host", "missing");
  expect_error("1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,1\n", 1,
               "host", "too long");
}

static void test_error_bad_port(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,0\n", 1, "port", "'0'");
  expect_error("1,127.0.0.1,65536\n", 1, "port", "1..65535");
  expect_error("1,127.0.0.1,70x\n", 1, "port", NULL);
  expect_error("1,127.0.0.1\n", 1, "port", "missing");
  expect_error("1,127.0.0.1,\n", 1, "port", "missing");
}

static void test_error_bad_mac(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001,aa:bb:cc:dd:ee\n", 1, "mac", "aa:bb:cc:dd:ee:ff");
  expect_error("1,127.0.0.1,7001,aa:bb:cc:dd:ee:fg\n", 1, "mac", NULL);
  expect_error("1,127.0.0.1,7001,aa-bb-cc-dd-ee-ff\n", 1, "mac", NULL);
}

static void test_error_bad_weight(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001,,,0\n", 1, "weight", "1..1000");
  expect_error("1,127.0.0.1,7001,,,1001\n", 1, "weight", "'1001'");
  expect_error("1,127.0.0.1,7001,,,1.5\n", 1, "weight", NULL);
}

static void test_error_too_many_columns(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001,,,1,extra\n", 1, "#7", "too many columns");
}

static void test_error_too_many_nodes(void **state) {
  (void)state;
  char text[(RUM_MAX_NODES + 1) * 32];
  size_t len = 0;
  for (int i = 0; i <= RUM_MAX_NODES; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%d,127.0.0.1,%d\n", i + 1, 7000 + i);
  expect_error(text, RUM_MAX_NODES + 1, "id", "too many nodes");
}

static void test_error_unknown_setting(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001\nreplicas=3\n", 2, "replicas", "unknown setting");
  expect_error("=3\n1,127.0.0.1,7001\n", 1, "(setting name)", "missing");
}

static void test_error_bad_setting_value(void **state) {
  (void)state;
  expect_error("replication=0\n1,127.0.0.1,7001\n", 1, "replication", "'0'");
  expect_error("1,127.0.0.1,7001\nreplication=3\n2,127.0.0.1,7002\n", 2, "replication",
               "3 needs at least 3 memory nodes");
  expect_error("lease_ms=soon\n1,127.0.0.1,7001\n", 1, "lease_ms", "'soon'");
  expect_error("heartbeat_ms=\n1,127.0.0.1,7001\n", 1, "heartbeat_ms", "missing value");
  expect_error("mtu=100\n1,127.0.0.1,7001\n", 1, "mtu", "576");
  expect_error("transport=tcp\n1,127.0.0.1,7001\n", 1, "transport", "udp or dpdk");
  expect_error("lease_ms=100\nlease_ms=200\n1,127.0.0.1,7001\n", 2, "lease_ms",
               "first on line 1");
  expect_error("lease_ms=100\nheartbeat_ms=100\n1,127.0.0.1,7001\n", 2, "heartbeat_ms",
               "shorter than lease_ms");
}

static void test_error_duplicate_id(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001\n2,127.0.0.1,7002\n\n2,127.0.0.1,7003\n", 4, "id",
               "node id 2 is already used on line 2");
}

static void test_error_duplicate_host_port(void **state) {
  (void)state;
  /* localhost and 127.0.0.1 are one address. */
  expect_error("1,127.0.0.1,7001\n2,localhost,7001\n", 2, "port",
               "localhost:7001 is already used by node 1 on line 1");
  assert_int_equal(parse("1,127.0.0.1,7001\n2,127.0.0.2,7001\n"), 0); /* other host: fine */
}

static void test_error_no_nodes(void **state) {
  (void)state;
  expect_error("", 1, "id", "no nodes");
  expect_error("# only a comment\nid,host,port\nlease_ms=5\n", 3, "id", "no nodes");
  assert_int_equal(rum__machines_parse(NULL, 0, "m.csv", &m, err, sizeof err), RUM_ECONFIG);
}

static void test_error_control_characters(void **state) {
  (void)state;
  const char text[] = "1,127.0.0.1,7001\n2,127.0\0.0.1,7002\n";
  assert_int_equal(rum__machines_parse(text, sizeof text - 1, "m.csv", &m, err, sizeof err),
                   RUM_ECONFIG);
  assert_non_null(strstr(err, "m.csv:2: field host: contains control character 0x00"));
  expect_error("1,127.0.0.1,70\r01\n", 1, "port", "control character 0x0d");
}

/* A header is only a header before the first node. */
static void test_error_header_after_nodes(void **state) {
  (void)state;
  expect_error("1,127.0.0.1,7001\nid,host,port\n", 2, "id", "'id'");
}

static void test_small_error_buffer(void **state) {
  (void)state;
  char small[12];
  memset(small, 'x', sizeof small);
  assert_int_equal(rum__machines_parse("1,127.0.0.1,0", 13, "m.csv", &m, small, sizeof small),
                   RUM_ECONFIG);
  assert_int_equal(small[sizeof small - 1], '\0');
  assert_int_equal(rum__machines_parse("1,127.0.0.1,0", 13, "m.csv", &m, NULL, 0), RUM_ECONFIG);
}

/* ---- files ---- */

static void write_file(const char *name, const void *data, size_t len) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
}

static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

static int setup_dir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/rum-test-machines-XXXXXX");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_dir(void **state) {
  (void)state;
  DIR *d = opendir(tmpdir);
  if (d == NULL)
    return 0;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(tmpdir);
  return 0;
}

static void test_load_resolves_key_file(void **state) {
  (void)state;
  char path[256], want[512];
  write_text("machines.csv", "key_file=cluster.key\n1,127.0.0.1,7001\n");
  snprintf(path, sizeof path, "%s/machines.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), 0);
  assert_int_equal(m.nnodes, 1);
  snprintf(want, sizeof want, "%s/cluster.key", tmpdir);
  assert_string_equal(m.key_file, want);

  /* An absolute key_file is kept as written. */
  write_text("abs.csv", "key_file=/etc/rum/key\n1,127.0.0.1,7001\n");
  snprintf(path, sizeof path, "%s/abs.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), 0);
  assert_string_equal(m.key_file, "/etc/rum/key");
}

/* A csv named relative to the working directory still yields an absolute key path. */
static void test_load_relative_csv_path(void **state) {
  (void)state;
  char old[PATH_MAX], want[PATH_MAX + 32];
  assert_non_null(getcwd(old, sizeof old));
  write_text("rel.csv", "key_file=sub/k\n1,127.0.0.1,7001\n");
  assert_int_equal(chdir(tmpdir), 0);
  char real[PATH_MAX];
  assert_non_null(getcwd(real, sizeof real));
  int rc1 = rum__machines_load("rel.csv", &m, err, sizeof err);
  char got1[RUM_MACHINES_PATH_MAX];
  snprintf(got1, sizeof got1, "%s", m.key_file);
  assert_int_equal(chdir("/tmp"), 0);
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "./%s/rel.csv", tmpdir + strlen("/tmp/"));
  int rc2 = rum__machines_load(rel, &m, err, sizeof err);
  assert_int_equal(chdir(old), 0);

  assert_int_equal(rc1, 0);
  snprintf(want, sizeof want, "%s/sub/k", real);
  assert_string_equal(got1, want);
  assert_int_equal(rc2, 0);
  assert_true(m.key_file[0] == '/');
  assert_non_null(strstr(m.key_file, tmpdir + strlen("/tmp/")));
  assert_null(strstr(m.key_file, "/./"));
}

static void test_load_errors_name_the_file(void **state) {
  (void)state;
  char path[256], prefix[300];
  snprintf(path, sizeof path, "%s/missing.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), RUM_ENOENT);
  assert_non_null(strstr(err, path));

  write_text("bad.csv", "1,127.0.0.1,7001\n1,127.0.0.1,7002\n");
  snprintf(path, sizeof path, "%s/bad.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), RUM_ECONFIG);
  snprintf(prefix, sizeof prefix, "%s:2: field id: ", path);
  assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
  assert_int_equal(m.nnodes, 0);

  assert_int_equal(rum__machines_load(tmpdir, &m, err, sizeof err), RUM_ECONFIG); /* a dir */
}

static void test_key_hex(void **state) {
  (void)state;
  uint8_t key[32], want[32];
  char path[256];
  for (int i = 0; i < 32; i++)
    want[i] = (uint8_t)(i * 7 + 1);
  char hex[80] = "  \n";
  for (int i = 0; i < 32; i++)
    snprintf(hex + 3 + 2 * i, 3, i % 2 ? "%02X" : "%02x", want[i]);
  strcat(hex, "\r\n\t");
  write_text("hex.key", hex);
  snprintf(path, sizeof path, "%s/hex.key", tmpdir);
  assert_int_equal(rum__machines_load_key(path, key, err, sizeof err), 0);
  assert_memory_equal(key, want, 32);
}

static void test_key_raw(void **state) {
  (void)state;
  uint8_t key[32], want[32];
  char path[256];
  for (int i = 0; i < 32; i++)
    want[i] = (uint8_t)(i == 3 ? '\n' : i == 4 ? 0 : 255 - i); /* whitespace and NUL are key bytes */
  write_file("raw.key", want, 32);
  snprintf(path, sizeof path, "%s/raw.key", tmpdir);
  assert_int_equal(rum__machines_load_key(path, key, err, sizeof err), 0);
  assert_memory_equal(key, want, 32);
}

static void expect_bad_key(const char *name, const void *data, size_t len, const char *what) {
  uint8_t key[32];
  char path[256];
  memset(key, 0x5a, sizeof key);
  write_file(name, data, len);
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  assert_int_equal(rum__machines_load_key(path, key, err, sizeof err), RUM_ECONFIG);
  assert_non_null(strstr(err, path));
  if (strstr(err, what) == NULL)
    fail_msg("expected '%s' in '%s'", what, err);
  static const uint8_t zero[32];
  assert_memory_equal(key, zero, 32); /* no partial key is left for the caller to use */
}

static void test_key_bad(void **state) {
  (void)state;
  char hex[70];
  memset(hex, 'a', sizeof hex);
  expect_bad_key("short.key", hex, 63, "63 bytes");
  expect_bad_key("long.key", hex, 65, "64 hex digits");
  expect_bad_key("raw33.key", hex, 33, "33 bytes");
  hex[10] = 'g';
  expect_bad_key("nothex.key", hex, 64, "64 hex digits");
  memcpy(hex, "aa aa", 5); /* space inside */
  expect_bad_key("space.key", hex, 64, "64 hex digits");
  expect_bad_key("empty.key", "", 0, "0 bytes");
  char big[5000];
  memset(big, 'a', sizeof big);
  expect_bad_key("big.key", big, sizeof big, "over 4096 bytes");

  uint8_t key[32];
  char path[256];
  snprintf(path, sizeof path, "%s/none.key", tmpdir);
  assert_int_equal(rum__machines_load_key(path, key, err, sizeof err), RUM_ECONFIG);
  assert_non_null(strstr(err, path));
  assert_int_equal(rum__machines_load_key("", key, err, sizeof err), RUM_ENOENT);
  assert_int_equal(rum__machines_load_key(NULL, key, err, sizeof err), RUM_ENOENT);
}

/* load + load_key together, as rum_init and rumd use them. */
static void test_load_then_key(void **state) {
  (void)state;
  uint8_t key[32];
  char path[256];
  write_text("c.key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
  write_text("c.csv", "key_file=./c.key\n1,127.0.0.1,7001\n");
  snprintf(path, sizeof path, "%s/c.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), 0);
  assert_int_equal(rum__machines_load_key(m.key_file, key, err, sizeof err), 0);
  assert_int_equal(key[0], 0x00);
  assert_int_equal(key[1], 0x11);
  assert_int_equal(key[31], 0xff);

  write_text("nokey.csv", "1,127.0.0.1,7001\n");
  snprintf(path, sizeof path, "%s/nokey.csv", tmpdir);
  assert_int_equal(rum__machines_load(path, &m, err, sizeof err), 0);
  assert_int_equal(rum__machines_load_key(m.key_file, key, err, sizeof err), RUM_ENOENT);
}

int main(void) {
  const struct CMUnitTest parse_tests[] = {
      cmocka_unit_test(test_minimal_file),
      cmocka_unit_test(test_full_file),
      cmocka_unit_test(test_crlf_and_bom),
      cmocka_unit_test(test_limits_accepted),
      cmocka_unit_test(test_buffer_not_terminated),
      cmocka_unit_test(test_error_bad_id),
      cmocka_unit_test(test_error_id_too_large),
      cmocka_unit_test(test_error_bad_host),
      cmocka_unit_test(test_error_bad_port),
      cmocka_unit_test(test_error_bad_mac),
      cmocka_unit_test(test_error_bad_weight),
      cmocka_unit_test(test_error_too_many_columns),
      cmocka_unit_test(test_error_too_many_nodes),
      cmocka_unit_test(test_error_unknown_setting),
      cmocka_unit_test(test_error_bad_setting_value),
      cmocka_unit_test(test_error_duplicate_id),
      cmocka_unit_test(test_error_duplicate_host_port),
      cmocka_unit_test(test_error_no_nodes),
      cmocka_unit_test(test_error_control_characters),
      cmocka_unit_test(test_error_header_after_nodes),
      cmocka_unit_test(test_small_error_buffer),
  };
  const struct CMUnitTest file_tests[] = {
      cmocka_unit_test(test_load_resolves_key_file),
      cmocka_unit_test(test_load_relative_csv_path),
      cmocka_unit_test(test_load_errors_name_the_file),
      cmocka_unit_test(test_key_hex),
      cmocka_unit_test(test_key_raw),
      cmocka_unit_test(test_key_bad),
      cmocka_unit_test(test_load_then_key),
  };
  int failed = cmocka_run_group_tests_name("parse", parse_tests, NULL, NULL);
  failed += cmocka_run_group_tests_name("files", file_tests, setup_dir, teardown_dir);
  return failed;
}
