/* rumctl: output of each command, as a table or as JSON. */
#ifndef RUMCTL_H
#define RUMCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <rum/rum_admin.h>

/* One node's answer (ok = 0) or its error code. */
struct node_result {
  int rc;
  struct rum_node_status status;
};

void print_status(const struct node_result *nodes, int n, bool json);
void print_stats(const struct node_result *node, bool json);
void print_regions_begin(bool json);
void print_region(uint32_t node_id, const struct rum_region_info *r, bool json, bool first);
void print_regions_unreachable(uint32_t node_id, int rc, bool json, bool first);
void print_regions_end(bool json, size_t count);

#endif
