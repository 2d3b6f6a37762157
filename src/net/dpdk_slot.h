/* Slots for the dpdk transport's slot=PATH:N argument (dpdk_args.h): processes that
 * share one set of DPDK arguments, such as a client and the helper processes it
 * starts, each need devices of their own (a memif interface has one peer). Slot s is
 * taken while a process holds an flock on the file PATH.s; the lock goes with the
 * process (its descriptor is close-on-exec, and the kernel drops it at exit), so a
 * crashed process never keeps a slot. No DPDK here: unit tested on its own. */
#ifndef RUM_NET_DPDK_SLOT_H
#define RUM_NET_DPDK_SLOT_H

struct rum_dpdk_slot {
  unsigned number; /* 1..count; 0 = none taken */
  int fd;          /* holds the lock; -1 = none */
};

/* Take the first of slots 1..count that no other open file holds locked (creating
 * PATH.N as needed). Returns 0 with *out filled, or RUM_ETRANSPORT: a file cannot be
 * opened or locked, or every slot is taken (the reason is logged). */
int rum__dpdk_slot_take(const char *path, unsigned count, struct rum_dpdk_slot *out);

/* Give the slot back (unlock, close). Harmless on a slot not taken. */
void rum__dpdk_slot_release(struct rum_dpdk_slot *slot);

#endif
