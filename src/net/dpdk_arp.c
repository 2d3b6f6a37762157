/* The dpdk transport's ARP cache (see dpdk_arp.h). */
#include "net/dpdk_arp.h"

#include <string.h>

void rum__dpdk_arp_init(struct rum_dpdk_arp_table *t, rum_dpdk_arp_drop_fn drop, void *drop_ctx) {
  memset(t, 0, sizeof *t);
  t->drop = drop;
  t->drop_ctx = drop_ctx;
}

static void drop_frame(struct rum_dpdk_arp_table *t, void *frame) {
  t->held_dropped++;
  if (t->drop != NULL) t->drop(t->drop_ctx, frame);
}

static void entry_reset(struct rum_dpdk_arp_table *t, struct rum_dpdk_arp_entry *e) {
  for (unsigned i = 0; i < e->nheld; i++) drop_frame(t, e->held[i]);
  memset(e, 0, sizeof *e);
}

void rum__dpdk_arp_clear(struct rum_dpdk_arp_table *t) {
  for (unsigned i = 0; i < RUM_DPDK_ARP_ENTRIES; i++) entry_reset(t, &t->entries[i]);
  t->last_hit = 0;
}

struct rum_dpdk_arp_entry *rum__dpdk_arp_find(struct rum_dpdk_arp_table *t, uint32_t ipv4) {
  struct rum_dpdk_arp_entry *e = &t->entries[t->last_hit];
  if (e->state != RUM_DPDK_ARP_FREE && e->ipv4 == ipv4) return e;
  for (unsigned i = 0; i < RUM_DPDK_ARP_ENTRIES; i++) {
    e = &t->entries[i];
    if (e->state != RUM_DPDK_ARP_FREE && e->ipv4 == ipv4) {
      t->last_hit = i;
      return e;
    }
  }
  return NULL;
}

/* A free entry, or the least recently used one emptied. */
static struct rum_dpdk_arp_entry *entry_claim(struct rum_dpdk_arp_table *t, uint32_t ipv4) {
  struct rum_dpdk_arp_entry *victim = &t->entries[0];
  for (unsigned i = 0; i < RUM_DPDK_ARP_ENTRIES; i++) {
    struct rum_dpdk_arp_entry *e = &t->entries[i];
    if (e->state == RUM_DPDK_ARP_FREE) {
      victim = e;
      break;
    }
    if (e->used_ns < victim->used_ns) victim = e;
  }
  entry_reset(t, victim);
  victim->ipv4 = ipv4;
  victim->state = RUM_DPDK_ARP_PENDING;
  t->last_hit = (unsigned)(victim - t->entries);
  return victim;
}

struct rum_dpdk_arp_entry *rum__dpdk_arp_lookup(struct rum_dpdk_arp_table *t, uint32_t ipv4,
                                                uint64_t now_ns, bool *send_request) {
  struct rum_dpdk_arp_entry *e = rum__dpdk_arp_find(t, ipv4);
  if (e == NULL) e = entry_claim(t, ipv4);
  e->used_ns = now_ns;
  bool due;
  if (e->state == RUM_DPDK_ARP_PENDING)
    due = e->requested_ns == 0 || now_ns - e->requested_ns >= RUM_DPDK_ARP_RETRY_NS;
  else
    due = now_ns - e->confirmed_ns >= RUM_DPDK_ARP_REFRESH_NS &&
        (e->requested_ns == 0 || now_ns - e->requested_ns >= RUM_DPDK_ARP_REFRESH_NS);
  if (due) e->requested_ns = now_ns;
  *send_request = due;
  return e;
}

void rum__dpdk_arp_hold(struct rum_dpdk_arp_table *t, struct rum_dpdk_arp_entry *e, void *frame) {
  if (e->nheld == RUM_DPDK_ARP_HOLD) {
    /* Keep the newest frames: they are the latest retransmissions. */
    drop_frame(t, e->held[0]);
    memmove(&e->held[0], &e->held[1], sizeof e->held[0] * (RUM_DPDK_ARP_HOLD - 1));
    e->nheld--;
  }
  e->held[e->nheld++] = frame;
}

struct rum_dpdk_arp_entry *rum__dpdk_arp_learn(struct rum_dpdk_arp_table *t, uint32_t ipv4,
                                               const uint8_t mac[RUM_DPDK_MAC_LEN], unsigned link,
                                               uint64_t now_ns, bool create) {
  struct rum_dpdk_arp_entry *e = rum__dpdk_arp_find(t, ipv4);
  if (e == NULL) {
    if (!create) return NULL;
    e = entry_claim(t, ipv4);
  }
  memcpy(e->mac, mac, RUM_DPDK_MAC_LEN);
  e->link = (uint8_t)link;
  e->state = RUM_DPDK_ARP_RESOLVED;
  e->confirmed_ns = now_ns;
  e->requested_ns = 0;
  e->used_ns = now_ns;
  return e;
}

unsigned rum__dpdk_arp_take_held(struct rum_dpdk_arp_entry *e, void **out) {
  unsigned n = e->nheld;
  memcpy(out, e->held, sizeof e->held[0] * n);
  e->nheld = 0;
  return n;
}
