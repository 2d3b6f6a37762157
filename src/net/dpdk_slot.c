/* Slots for processes sharing DPDK arguments (see dpdk_slot.h). */
#include "net/dpdk_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "util/log.h"

int rum__dpdk_slot_take(const char *path, unsigned count, struct rum_dpdk_slot *out) {
  out->number = 0;
  out->fd = -1;
  for (unsigned s = 1; s <= count; s++) {
    char file[PATH_MAX];
    if (snprintf(file, sizeof file, "%s.%u", path, s) >= (int)sizeof file) {
      RUM_LOG_E("dpdk transport: slot path %s is too long", path);
      return RUM_ETRANSPORT;
    }
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      RUM_LOG_E("dpdk transport: cannot open the slot file %s: %s", file, strerror(errno));
      return RUM_ETRANSPORT;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      out->number = s;
      out->fd = fd;
      RUM_LOG_I("dpdk: took slot %u of %u (%s)", s, count, file);
      return 0;
    }
    int err = errno;
    close(fd);
    if (err != EWOULDBLOCK) {
      RUM_LOG_E("dpdk transport: cannot lock the slot file %s: %s", file, strerror(err));
      return RUM_ETRANSPORT;
    }
  }
  RUM_LOG_E("dpdk transport: all %u slots of %s are taken by other processes (give the cluster "
            "more client interfaces, e.g. rum-cluster start --memif-clients)",
            count, path);
  return RUM_ETRANSPORT;
}

void rum__dpdk_slot_release(struct rum_dpdk_slot *slot) {
  if (slot->fd >= 0) close(slot->fd); /* drops the flock */
  slot->fd = -1;
  slot->number = 0;
}
