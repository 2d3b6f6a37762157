/* Connection and server commands: PING ... HELLO, INFO, CONFIG, COMMAND, SAVE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <rum/rum.h>

#include "cmds.h"

#define S srv.store
#define KVS_VERSION "7.0.15"

void cmd_ping(struct client *c) {
  if (c->argc > 2) return add_errorf(c, "wrong number of arguments for '%s' command", "ping");
  if (c->argc == 2) add_bulk(c, c->argv[1], c->argl[1]);
  else add_simple(c, "PONG");
}

void cmd_echo(struct client *c) { add_bulk(c, c->argv[1], c->argl[1]); }

void cmd_quit(struct client *c) {
  add_ok(c);
  c->close_asap = 1;
}

void cmd_select(struct client *c) {
  long long id;
  if (arg_ll(c, 1, &id) != 0) return;
  if (id != 0) return add_error(c, "DB index is out of range");
  add_ok(c);
}

static int check_password(struct client *c, int i) {
  const char *pw = srv.cfg.requirepass;
  if (pw != NULL && strlen(pw) == c->argl[i] && memcmp(pw, c->argv[i], c->argl[i]) == 0) {
    c->authed = 1;
    return 0;
  }
  add_error(c, "-WRONGPASS invalid username-password pair or user is disabled.");
  return -1;
}

void cmd_auth(struct client *c) {
  if (c->argc > 3) return add_syntax(c);
  if (c->argc == 2 && srv.cfg.requirepass == NULL)
    return add_error(c, "AUTH <password> called without any password configured for the default user. "
                        "Are you sure your configuration is correct?");
  if (c->argc == 3 && !arg_eq(c, 1, "default"))
    return add_error(c, "-WRONGPASS invalid username-password pair or user is disabled.");
  if (srv.cfg.requirepass == NULL) {
    c->authed = 1;
    return add_ok(c);
  }
  if (check_password(c, c->argc - 1) == 0) add_ok(c);
}

void cmd_hello(struct client *c) {
  long long ver = 0;
  int j = 1;
  if (c->argc >= 2) {
    if (parse_ll_buf(c->argv[1], c->argl[1], &ver) != 0)
      return add_error(c, "Protocol version is not an integer or out of range");
    j = 2;
    if (ver < 2 || ver > 3) return add_error(c, "-NOPROTO unsupported protocol version");
  }
  const unsigned char *name = NULL;
  size_t namelen = 0;
  for (; j < c->argc; j++) {
    int more = c->argc - j - 1;
    if (arg_eq(c, j, "auth") && more >= 2) {
      if (!(c->argl[j + 1] == 7 && strncasecmp((const char *)c->argv[j + 1], "default", 7) == 0) ||
          (srv.cfg.requirepass != NULL && check_password(c, j + 2) != 0)) {
        if (!(c->argl[j + 1] == 7 && strncasecmp((const char *)c->argv[j + 1], "default", 7) == 0))
          add_error(c, "-WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      c->authed = 1;
      j += 2;
    } else if (arg_eq(c, j, "setname") && more >= 1) {
      name = c->argv[j + 1];
      namelen = c->argl[j + 1];
      j++;
    } else {
      return add_errorf(c, "Syntax error in HELLO option '%.*s'", (int)c->argl[j], (const char *)c->argv[j]);
    }
  }
  if (srv.cfg.requirepass != NULL && !c->authed)
    return add_error(c, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                        "select the RESP protocol version at the same time");
  if (name != NULL) snprintf(c->name, sizeof c->name, "%.*s", (int)namelen, (const char *)name);
  if (ver) c->proto = (int)ver;
  add_map(c, 7);
  add_bulk_str(c, "server");
  add_bulk_str(c, "redis");
  add_bulk_str(c, "version");
  add_bulk_str(c, KVS_VERSION);
  add_bulk_str(c, "proto");
  add_int(c, c->proto);
  add_bulk_str(c, "id");
  add_int(c, (long long)c->id);
  add_bulk_str(c, "mode");
  add_bulk_str(c, "standalone");
  add_bulk_str(c, "role");
  add_bulk_str(c, "master");
  add_bulk_str(c, "modules");
  add_array(c, 0);
}

void cmd_reset(struct client *c) {
  discard_multi(c);
  c->proto = 2;
  c->authed = srv.cfg.requirepass == NULL;
  c->name[0] = 0;
  add_simple(c, "RESET");
}

void cmd_client(struct client *c) {
  if (arg_eq(c, 1, "id") && c->argc == 2) return add_int(c, (long long)c->id);
  if (arg_eq(c, 1, "getname") && c->argc == 2) {
    if (c->name[0] == 0) return add_null(c);
    return add_bulk_str(c, c->name);
  }
  if (arg_eq(c, 1, "setname") && c->argc == 3) {
    for (size_t i = 0; i < c->argl[2]; i++)
      if (c->argv[2][i] <= ' ' || c->argv[2][i] > '~')
        return add_error(c, "Client names cannot contain spaces, newlines or special characters.");
    snprintf(c->name, sizeof c->name, "%.*s", (int)c->argl[2], (const char *)c->argv[2]);
    return add_ok(c);
  }
  if (arg_eq(c, 1, "info") && c->argc == 2) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "id=%llu addr=%s name=%s db=0 resp=%d\n", (unsigned long long)c->id,
                     c->addr, c->name, c->proto);
    return add_verbatim(c, buf, (size_t)n);
  }
  add_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
             (int)c->argl[1], (const char *)c->argv[1]);
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (*len + (size_t)n < *cap) {
      *len += (size_t)n;
      return;
    }
    char *p = realloc(*buf, *cap * 2);
    if (p == NULL) return;
    *buf = p;
    *cap *= 2;
  }
}

static int want(const char *section, const char *name) {
  return section == NULL || strcasecmp(section, name) == 0 || strcasecmp(section, "all") == 0 ||
         strcasecmp(section, "everything") == 0 || strcasecmp(section, "default") == 0;
}

static const char *sync_name(enum kvs_sync s) {
  return s == KVS_SYNC_ALWAYS ? "always" : s == KVS_SYNC_EVERYSEC ? "everysec" : "no";
}

void cmd_info(struct client *c) {
  char section[32] = "";
  if (c->argc > 2) return add_syntax(c);
  if (c->argc == 2) snprintf(section, sizeof section, "%.*s", (int)c->argl[1], (const char *)c->argv[1]);
  const char *sec = c->argc == 2 ? section : NULL;
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  if (buf == NULL) return add_oom(c);
  buf[0] = 0;
  int64_t now = srv.now_ms;
  if (want(sec, "server"))
    append(&buf, &len, &cap,
           "# Server\r\nredis_version:%s\r\nrum_kvs_store:%s\r\nredis_mode:standalone\r\nos:Linux\r\n"
           "process_id:%d\r\ntcp_port:%d\r\nuptime_in_seconds:%lld\r\nhz:%d\r\n\r\n",
           KVS_VERSION, srv.cfg.store, (int)getpid(), srv.cfg.port, (long long)(now - srv.start_ms) / 1000, KVS_HZ);
  if (want(sec, "clients"))
    append(&buf, &len, &cap, "# Clients\r\nconnected_clients:%d\r\nmaxclients:%d\r\n\r\n", srv.nclients,
           srv.cfg.maxclients);
  if (want(sec, "memory")) {
    uint64_t bytes, blocks, segs;
    ph_usage(S->heap, &bytes, &blocks, &segs);
    struct rum_stats rs = {0};
    rum_stats(&rs);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    append(&buf, &len, &cap,
           "# Memory\r\nused_memory:%llu\r\nused_memory_rss:%lld\r\nrum_heap_blocks:%llu\r\n"
           "rum_heap_segments:%llu\r\nrum_cache_pages:%llu\r\nrum_cache_capacity_pages:%llu\r\n"
           "maxmemory:0\r\nlazyfree_pending_objects:%llu\r\n\r\n",
           (unsigned long long)bytes, (long long)ru.ru_maxrss * 1024, (unsigned long long)blocks,
           (unsigned long long)segs, (unsigned long long)rs.cache_pages, (unsigned long long)rs.cache_capacity,
           (unsigned long long)kv_lazyfree_pending(S));
  }
  if (want(sec, "persistence"))
    append(&buf, &len, &cap,
           "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:%llu\r\nrdb_last_save_time:%lld\r\n"
           "rum_sync:%s\r\nrum_last_sync_error:%d\r\naof_enabled:0\r\n\r\n",
           (unsigned long long)(srv.dirty - srv.save_dirty), (long long)srv.last_save_ms / 1000,
           sync_name(srv.cfg.sync), srv.sync_error);
  if (want(sec, "stats")) {
    struct rum_stats rs = {0};
    rum_stats(&rs);
    append(&buf, &len, &cap,
           "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
           "rejected_connections:%llu\r\nexpired_keys:%llu\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
           "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\nrum_faults:%llu\r\n"
           "rum_evictions:%llu\r\nrum_writebacks:%llu\r\n\r\n",
           (unsigned long long)srv.stats.connections, (unsigned long long)srv.stats.commands,
           (unsigned long long)srv.stats.rejected, (unsigned long long)S->expired,
           (unsigned long long)srv.stats.hits, (unsigned long long)srv.stats.misses,
           (unsigned long long)srv.stats.net_in, (unsigned long long)srv.stats.net_out,
           (unsigned long long)rs.faults, (unsigned long long)rs.evictions, (unsigned long long)rs.writebacks);
  }
  if (want(sec, "replication"))
    append(&buf, &len, &cap, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n");
  if (want(sec, "keyspace")) {
    append(&buf, &len, &cap, "# Keyspace\r\n");
    if (kv_dbsize(S) > 0)
      append(&buf, &len, &cap, "db0:keys=%llu,expires=%llu,avg_ttl=0\r\n", (unsigned long long)kv_dbsize(S),
             (unsigned long long)kv_nexpires(S));
  }
  while (len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\r' && len >= 4 && buf[len - 3] == '\n') len -= 2;
  add_verbatim(c, buf, len);
  free(buf);
}

void cmd_dbsize(struct client *c) { add_int(c, (long long)kv_dbsize(S)); }

static void flush_generic(struct client *c) {
  if (c->argc > 2 || (c->argc == 2 && !arg_eq(c, 1, "async") && !arg_eq(c, 1, "sync"))) return add_syntax(c);
  int rc = kv_flush(S);
  db_touched_all();
  if (rc != 0) return add_errorf(c, "flush failed: %s", rum_strerror(rc));
  add_ok(c);
}

void cmd_flushdb(struct client *c) { flush_generic(c); }
void cmd_flushall(struct client *c) { flush_generic(c); }

void cmd_save(struct client *c) {
  int rc = do_sync();
  if (rc != 0) return add_errorf(c, "rum_sync failed: %s", rum_strerror(rc));
  srv.last_save_ms = srv.now_ms;
  srv.save_dirty = srv.dirty;
  add_ok(c);
}

void cmd_bgsave(struct client *c) {
  if (c->argc > 2 || (c->argc == 2 && !arg_eq(c, 1, "schedule"))) return add_syntax(c);
  /* The data is already in place on the nodes; saving is writing back the dirty
   * pages, which is quick enough to do at once rather than in a child. */
  int rc = do_sync();
  if (rc != 0) return add_errorf(c, "rum_sync failed: %s", rum_strerror(rc));
  srv.last_save_ms = srv.now_ms;
  srv.save_dirty = srv.dirty;
  add_simple(c, "Background saving started");
}

void cmd_lastsave(struct client *c) { add_int(c, (long long)(srv.last_save_ms / 1000)); }

void cmd_time(struct client *c) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  char a[32], b[32];
  int na = snprintf(a, sizeof a, "%ld", (long)tv.tv_sec), nb = snprintf(b, sizeof b, "%ld", (long)tv.tv_usec);
  add_array(c, 2);
  add_bulk(c, a, (size_t)na);
  add_bulk(c, b, (size_t)nb);
}

void cmd_shutdown(struct client *c) {
  for (int j = 1; j < c->argc; j++) {
    if (arg_eq(c, j, "nosave"))
      return add_error(c, "SHUTDOWN NOSAVE is not supported: rum-kvs keeps its data on the memory nodes and "
                          "always writes back on shutdown");
    if (!arg_eq(c, j, "save") && !arg_eq(c, j, "now") && !arg_eq(c, j, "force")) return add_syntax(c);
  }
  srv.stop = 1;
  c->close_asap = 1;
}

static int has_flag(const struct kvs_command *cmd, const char *flag) {
  size_t n = strlen(flag);
  for (const char *p = cmd->flags; (p = strstr(p, flag)) != NULL; p += n)
    if ((p == cmd->flags || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
  return 0;
}

/* ACL categories as Redis 7.0 lists them: for the data types and the generic key
 * commands read or write, the type (or keyspace), fast or slow; otherwise the group. */
static void command_categories(struct client *c, const struct kvs_command *cmd) {
  static const char *const types[][2] = {{"string", "@string"}, {"hash", "@hash"}, {"list", "@list"},
                                         {"set", "@set"}, {"sorted_set", "@sortedset"}};
  const char *type = NULL;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(cmd->group, types[i][0])) type = types[i][1];
  const char *rw = has_flag(cmd, "write") ? "@write" : has_flag(cmd, "readonly") ? "@read" : NULL;
  const char *speed = has_flag(cmd, "fast") ? "@fast" : "@slow";
  if (rw != NULL && (type != NULL || !strcmp(cmd->group, "generic"))) {
    add_set(c, 3);
    if (type == NULL) add_simple(c, "@keyspace");
    add_simple(c, rw);
    if (type != NULL) add_simple(c, type);
    add_simple(c, speed);
    return;
  }
  char cat[48];
  snprintf(cat, sizeof cat, "@%s", cmd->group);
  add_set(c, 1);
  add_simple(c, cat);
}

/* One COMMAND reply entry, Redis 7.0's ten fields (the last four empty). */
static void command_entry(struct client *c, const struct kvs_command *cmd) {
  add_array(c, 10);
  add_bulk_str(c, cmd->name);
  add_int(c, cmd->arity);
  int nflags = 0;
  char flags[128];
  snprintf(flags, sizeof flags, "%s", cmd->flags);
  for (char *t = strtok(flags, " "); t != NULL; t = strtok(NULL, " ")) nflags++;
  add_set(c, nflags);
  snprintf(flags, sizeof flags, "%s", cmd->flags);
  for (char *t = strtok(flags, " "); t != NULL; t = strtok(NULL, " ")) add_simple(c, t);
  add_int(c, cmd->first);
  add_int(c, cmd->last);
  add_int(c, cmd->step);
  command_categories(c, cmd);
  add_set(c, 0);
  add_array(c, 0);
  add_array(c, 0);
}

void cmd_command(struct client *c) {
  if (c->argc == 1) {
    add_array(c, command_count());
    for (int i = 0; i < command_count(); i++) command_entry(c, command_at(i));
    return;
  }
  if (arg_eq(c, 1, "count") && c->argc == 2) return add_int(c, command_count());
  if (arg_eq(c, 1, "info")) {
    add_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
      const struct kvs_command *cmd = command_lookup(c->argv[i], c->argl[i]);
      if (cmd == NULL) add_null_array(c);
      else command_entry(c, cmd);
    }
    return;
  }
  if (arg_eq(c, 1, "docs")) {
    /* No documentation strings are kept: redis-cli then uses its built-in hints. */
    return add_map(c, 0);
  }
  if (arg_eq(c, 1, "list") && c->argc == 2) {
    add_array(c, command_count());
    for (int i = 0; i < command_count(); i++) add_bulk_str(c, command_at(i)->name);
    return;
  }
  add_errorf(c, "unknown subcommand '%.*s'. Try COMMAND HELP.", (int)c->argl[1], (const char *)c->argv[1]);
}

/* CONFIG: the parameters clients ask about. Settable ones change the running server. */
struct param {
  const char *name;
  int settable;
};
static const struct param params[] = {
    {"appendfsync", 1}, {"maxclients", 1}, {"requirepass", 1}, {"save", 0},    {"appendonly", 0},
    {"port", 0},        {"bind", 0},       {"databases", 0},   {"maxmemory", 0}, {"timeout", 0},
    {"proto-max-bulk-len", 0}, {"client-query-buffer-limit", 0}, {"hz", 0},
};
enum { NPARAMS = sizeof params / sizeof params[0] };

static void param_value(int i, char *out, size_t len) {
  const char *n = params[i].name;
  if (!strcmp(n, "appendfsync")) snprintf(out, len, "%s", sync_name(srv.cfg.sync));
  else if (!strcmp(n, "maxclients")) snprintf(out, len, "%d", srv.cfg.maxclients);
  else if (!strcmp(n, "requirepass")) snprintf(out, len, "%s", srv.cfg.requirepass ? srv.cfg.requirepass : "");
  else if (!strcmp(n, "save") || !strcmp(n, "bind")) snprintf(out, len, "%s", !strcmp(n, "bind") ? srv.cfg.bind : "");
  else if (!strcmp(n, "appendonly")) snprintf(out, len, "no");
  else if (!strcmp(n, "port")) snprintf(out, len, "%d", srv.cfg.port);
  else if (!strcmp(n, "databases")) snprintf(out, len, "1");
  else if (!strcmp(n, "maxmemory") || !strcmp(n, "timeout")) snprintf(out, len, "0");
  else if (!strcmp(n, "proto-max-bulk-len")) snprintf(out, len, "%d", RESP_MAX_BULK);
  else if (!strcmp(n, "client-query-buffer-limit")) snprintf(out, len, "%u", KVS_QUERY_LIMIT);
  else snprintf(out, len, "%d", KVS_HZ);
}

static void config_get(struct client *c) {
  size_t at = add_deferred_len(c);
  long long n = 0;
  char used[NPARAMS] = {0};
  for (int a = 2; a < c->argc; a++) {
    for (int i = 0; i < NPARAMS; i++) {
      if (used[i] || !glob_match(c->argv[a], c->argl[a], (const unsigned char *)params[i].name,
                                 strlen(params[i].name), 1))
        continue;
      used[i] = 1;
      char v[64];
      param_value(i, v, sizeof v);
      add_bulk_str(c, params[i].name);
      add_bulk_str(c, v);
      n++;
    }
  }
  set_deferred_map(c, at, n);
}

static char *requirepass_copy;

static int config_set_one(struct client *c, int a) {
  char name[64], value[256];
  snprintf(name, sizeof name, "%.*s", (int)c->argl[a], (const char *)c->argv[a]);
  snprintf(value, sizeof value, "%.*s", (int)c->argl[a + 1], (const char *)c->argv[a + 1]);
  int i;
  for (i = 0; i < NPARAMS; i++)
    if (!strcasecmp(params[i].name, name)) break;
  if (i == NPARAMS) return add_errorf(c, "Unknown option or number of arguments for CONFIG SET - '%s'", name), -1;
  if (!params[i].settable)
    return add_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - can't set immutable config",
                      name), -1;
  if (!strcasecmp(name, "appendfsync")) {
    if (!strcasecmp(value, "always")) srv.cfg.sync = KVS_SYNC_ALWAYS;
    else if (!strcasecmp(value, "everysec")) srv.cfg.sync = KVS_SYNC_EVERYSEC;
    else if (!strcasecmp(value, "no")) srv.cfg.sync = KVS_SYNC_NO;
    else return add_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - argument(s) must be one of the following: always, everysec, no", name), -1;
  } else if (!strcasecmp(name, "maxclients")) {
    long long v;
    if (parse_ll_buf(c->argv[a + 1], c->argl[a + 1], &v) != 0 || v < 1 || v > 1000000)
      return add_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - argument couldn't be parsed into an integer", name), -1;
    srv.cfg.maxclients = (int)v;
  } else {
    free(requirepass_copy);
    requirepass_copy = value[0] ? strdup(value) : NULL;
    srv.cfg.requirepass = requirepass_copy;
  }
  return 0;
}

void cmd_config(struct client *c) {
  if (arg_eq(c, 1, "get")) {
    if (c->argc < 3) return add_errorf(c, "wrong number of arguments for 'config|get' command");
    return config_get(c);
  }
  if (arg_eq(c, 1, "set")) {
    if (c->argc < 4 || c->argc % 2 != 0) return add_errorf(c, "wrong number of arguments for 'config|set' command");
    for (int a = 2; a < c->argc; a += 2)
      if (config_set_one(c, a) != 0) return;
    return add_ok(c);
  }
  if (arg_eq(c, 1, "resetstat") && c->argc == 2) {
    memset(&srv.stats, 0, sizeof srv.stats);
    return add_ok(c);
  }
  add_errorf(c, "unknown subcommand '%.*s'. Try CONFIG HELP.", (int)c->argl[1], (const char *)c->argv[1]);
}
