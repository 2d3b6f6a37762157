/* librum's internal entry points for librum-preload (src/preload), which puts an
 * unmodified program's heap in grid memory: the arena's bounds (to tell grid pointers
 * from local ones), fork support, a teardown that skips write-back, and chaining the
 * program's own handlers for the fault signal behind RUM's. Nothing here is public. */
#ifndef RUM_CLIENT_HOOKS_H
#define RUM_CLIENT_HOOKS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct rum_client;

/* The process-wide client rum_init() made, or NULL (init.c). */
struct rum_client *rum__client_current(void);
/* Forget the process-wide client without touching it or the network: a forked child
 * must neither free its parent's regions at exit nor use the parent's sockets.
 * Afterwards rum_shutdown() and every RUM call act as before rum_init(). */
void rum__client_forget(void);
/* rum_shutdown(), dropping dirty pages instead of writing them back: for leased
 * memory of a program that is exiting, write-back is pure waste. */
int rum__shutdown_discarding(void);

/* The arena: every grid pointer lies in [*base, *base + *len). */
void rum__client_arena(struct rum_client *cl, uint8_t **base, uint64_t *len);

/* pthread_atfork around a fork: take (prepare) and release (parent, child) the
 * heap's arena locks, so that the child finds the heap's bookkeeping consistent. */
void rum__client_fork_lock(struct rum_client *cl, bool lock);
/* In a forked child (one thread, no network): make the grid memory the child can
 * keep using its own. Pages resident at the fork stay readable and writable, and
 * private to the child (the sigsegv backend's shared arena is copied); every other
 * arena page becomes PROT_NONE, so that a touch raises SIGSEGV (the preload's child
 * handler refuses it with a message) instead of reading zeros. Returns 0 or a
 * negative errno (then the whole arena is PROT_NONE). */
int rum__client_isolate_after_fork(struct rum_client *cl);
/* Usable bytes at a grid pointer, without any lock the fork may have left taken
 * other than the arena locks (which rum__client_fork_lock handled). */
size_t rum__client_block_size(struct rum_client *cl, void *ptr);

/* The program asked sigaction(sig, act, old). When sig is the signal RUM's fault
 * handler owns, act (if not NULL) becomes the handler RUM passes faults outside grid
 * memory to, *old (if not NULL) gets the one it replaces, and 1 is returned; else 0
 * (the caller does the real sigaction). */
int rum__fault_chain(int sig, const struct sigaction *act, struct sigaction *old);
/* The signal RUM's fault handler owns (SIGBUS or SIGSEGV), 0 when none is installed. */
int rum__fault_signal(void);

#endif
