/* rumctl output: human tables, or one JSON document for scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rumctl.h"

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void human_bytes(uint64_t b, char *out, size_t len) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)b;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int peers_up(const struct rum_node_status *s) {
  int up = 0;
  for (uint32_t i = 0; i < s->npeers; i++) up += s->peers[i].up ? 1 : 0;
  return up;
}

void print_status(const struct node_result *nodes, int n, bool json) {
  if (json) {
    printf("{\"nodes\":[");
    for (int i = 0; i < n; i++) {
      const struct rum_node_status *s = &nodes[i].status;
      printf("%s{\"id\":%" PRIu32 ",\"host\":", i ? "," : "", s->id);
      json_string(s->host);
      printf(",\"port\":%u,\"up\":%s", s->port, nodes[i].rc == 0 ? "true" : "false");
      if (nodes[i].rc == 0) {
        printf(",\"memory_used\":%" PRIu64 ",\"memory_limit\":%" PRIu64 ",\"regions\":%" PRIu64
               ",\"named_regions\":%" PRIu64 ",\"clients\":%" PRIu64 ",\"uptime_ms\":%" PRIu64
               ",\"incarnation\":%" PRIu64 ",\"peers\":[",
               s->memory_used, s->memory_limit, s->regions, s->named_regions, s->clients,
               s->uptime_ms, s->incarnation);
        for (uint32_t p = 0; p < s->npeers; p++)
          printf("%s{\"id\":%" PRIu32 ",\"up\":%s}", p ? "," : "", s->peers[p].id,
                 s->peers[p].up ? "true" : "false");
        printf("]");
      } else {
        printf(",\"error\":");
        json_string(rum_strerror(nodes[i].rc));
      }
      printf("}");
    }
    printf("]}\n");
    return;
  }
  printf("%-5s %-22s %-5s %-22s %-8s %-8s %-8s %s\n", "NODE", "ADDRESS", "STATE", "MEMORY USED/LIMIT",
         "REGIONS", "NAMED", "CLIENTS", "PEERS UP");
  for (int i = 0; i < n; i++) {
    const struct rum_node_status *s = &nodes[i].status;
    char addr[96];
    snprintf(addr, sizeof addr, "%s:%u", s->host, s->port);
    if (nodes[i].rc != 0) {
      printf("%-5" PRIu32 " %-22s %-5s (%s)\n", s->id, addr, "down", rum_strerror(nodes[i].rc));
      continue;
    }
    char used[32], limit[32], mem[80];
    human_bytes(s->memory_used, used, sizeof used);
    human_bytes(s->memory_limit, limit, sizeof limit);
    snprintf(mem, sizeof mem, "%s / %s", used, limit);
    printf("%-5" PRIu32 " %-22s %-5s %-22s %-8" PRIu64 " %-8" PRIu64 " %-8" PRIu64 " %d/%" PRIu32 "\n",
           s->id, addr, "up", mem, s->regions, s->named_regions, s->clients, peers_up(s), s->npeers);
  }
}

void print_stats(const struct node_result *node, bool json) {
  const struct rum_node_status *s = &node->status;
  const struct {
    const char *name;
    uint64_t value;
  } counters[] = {
      {"bytes_in", s->bytes_in},       {"bytes_out", s->bytes_out}, {"retransmits", s->retransmits},
      {"drops", s->drops},             {"auth_drops", s->auth_drops}, {"reclaims", s->reclaims},
      {"errors", s->errors},           {"access_denied", s->access_denied},
      {"no_region", s->no_region},     {"out_of_range", s->out_of_range},
      {"oversized", s->oversized},     {"quota_denied", s->quota_denied},
      {"memory_used", s->memory_used},
      {"memory_limit", s->memory_limit}, {"regions", s->regions}, {"clients", s->clients},
      {"uptime_ms", s->uptime_ms},
  };
  size_t ncounters = sizeof counters / sizeof counters[0];
  if (json) {
    printf("{\"id\":%" PRIu32 ",\"requests\":{", s->id);
    bool first = true;
    for (int t = 0; t < RUM_ADMIN_REQUEST_TYPES; t++) {
      const char *name = rum_admin_request_name(t);
      if (name == NULL) continue;
      printf("%s\"%s\":%" PRIu64, first ? "" : ",", name, s->requests[t]);
      first = false;
    }
    printf("}");
    for (size_t i = 0; i < ncounters; i++) printf(",\"%s\":%" PRIu64, counters[i].name, counters[i].value);
    printf("}\n");
    return;
  }
  printf("node %" PRIu32 " (%s:%u)\nrequests:\n", s->id, s->host, s->port);
  for (int t = 0; t < RUM_ADMIN_REQUEST_TYPES; t++) {
    const char *name = rum_admin_request_name(t);
    if (name != NULL) printf("  %-12s %" PRIu64 "\n", name, s->requests[t]);
  }
  for (size_t i = 0; i < ncounters; i++) printf("%-14s %" PRIu64 "\n", counters[i].name, counters[i].value);
}

void print_regions_begin(bool json) {
  if (json) printf("{\"regions\":[");
  else printf("%-5s %-18s %-14s %-14s %-6s %s\n", "NODE", "REGION", "SIZE", "STORED", "KIND", "NAME/OWNER");
}

void print_region(uint32_t node_id, const struct rum_region_info *r, bool json, bool first) {
  if (json) {
    printf("%s{\"node\":%" PRIu32 ",\"region\":\"%016" PRIx64 "\",\"size\":%" PRIu64
           ",\"bytes_stored\":%" PRIu64 ",\"named\":%s,\"pinned\":%s,\"owner_session\":\"%016" PRIx64
           "\",\"name\":",
           first ? "" : ",", node_id, r->region_id, r->size, r->bytes_stored, r->named ? "true" : "false",
           r->pinned ? "true" : "false", r->owner_session);
    json_string(r->name);
    printf("}");
    return;
  }
  char owner[64];
  /* Nodes report only the session's top half (the rest would let anyone who can list
   * regions act as their owner): it matches the start of the id the client logs. */
  snprintf(owner, sizeof owner, "client %" PRIu32 " session %08" PRIx64 "...", r->owner_id,
           r->owner_session >> 32);
  printf("%-5" PRIu32 " %016" PRIx64 "   %-14" PRIu64 " %-14" PRIu64 " %-6s %s\n", node_id, r->region_id,
         r->size, r->bytes_stored, r->named ? "named" : (r->pinned ? "pinned" : "leased"),
         r->named ? r->name : owner);
}

void print_regions_unreachable(uint32_t node_id, int rc, bool json, bool first) {
  if (json) {
    printf("%s{\"node\":%" PRIu32 ",\"error\":", first ? "" : ",", node_id);
    json_string(rum_strerror(rc));
    printf("}");
  } else {
    printf("%-5" PRIu32 " (unreachable: %s)\n", node_id, rum_strerror(rc));
  }
}

void print_regions_end(bool json, size_t count) {
  if (json) printf("],\"count\":%zu}\n", count);
  else printf("%zu regions\n", count);
}
