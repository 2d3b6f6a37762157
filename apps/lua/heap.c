/* The Lua heap on RUM memory: the allocator, and the panic and warning functions
 * that luaL_newstate() would have installed had we let it allocate with malloc. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <rum/rum.h>

#include "rum_lua.h"

/* Lua's allocator contract (manual §4.6, lua_Alloc):
 *  - ptr == NULL: a new block is wanted; osize then is not a size but the type tag of
 *    the object being created (LUA_TSTRING, LUA_TTABLE, ... or 0), so it must not be
 *    counted as bytes the block had.
 *  - nsize == 0: free ptr (which may be NULL) and return NULL.
 *  - otherwise behave like realloc(ptr, nsize), keeping min(osize, nsize) bytes, and
 *    return NULL only if the request cannot be met; Lua then runs an emergency
 *    collection and tries once more before raising a memory error.
 * Lua counts every block's size itself (collectgarbage("count")); the counters here
 * follow the same rule, so they agree with it to the byte. */
void *rum_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  struct rum_lua_heap *heap = ud;
  size_t old_bytes = ptr != NULL ? osize : 0;
  void *block;

  if (nsize == 0) {
    if (ptr != NULL) {
      rum_free(ptr);
      heap->bytes_in_use -= old_bytes;
      heap->frees++;
    }
    return NULL;
  }
  block = rum_realloc(ptr, nsize);
  if (block == NULL) {
    /* A block that is to shrink still holds nsize bytes where it is: keeping it
     * meets the request, and Lua's shrinking paths are better off not failing. */
    if (ptr != NULL && nsize <= osize) {
      heap->bytes_in_use -= osize - nsize;
      heap->resizes++;
      return ptr;
    }
    heap->failures++;
    return NULL;
  }
  if (ptr == NULL)
    heap->allocations++;
  else
    heap->resizes++;
  heap->bytes_in_use = heap->bytes_in_use - old_bytes + nsize;
  if (heap->bytes_in_use > heap->peak_bytes)
    heap->peak_bytes = heap->bytes_in_use;
  return block;
}

/* An error outside any protected call: say what it was; Lua aborts when we return. */
static int on_panic(lua_State *L)
{
  const char *msg = NULL;

  if (lua_type(L, -1) == LUA_TSTRING)
    msg = lua_tostring(L, -1);
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
          msg != NULL ? msg : "error object is not a string");
  fflush(stderr);
  return 0;
}

/* warn() semantics of lua5.4: a message of one piece that starts with '@' is a
 * control message ("@on", "@off"; others are ignored); any other message is printed
 * as "Lua warning: " + its pieces + newline when warnings are on. Pieces sent with
 * tocont set are continued by the next call, which is never a control message. */
static void on_warning(void *ud, const char *msg, int tocont)
{
  struct rum_lua_warn *warn = ud;

  if (warn->continuing) {
    fputs(msg, stderr);
    if (!tocont) {
      fputs("\n", stderr);
      warn->continuing = 0;
    }
    fflush(stderr);
    return;
  }
  if (!tocont && msg[0] == '@') {
    if (strcmp(msg + 1, "on") == 0)
      warn->enabled = 1;
    else if (strcmp(msg + 1, "off") == 0)
      warn->enabled = 0;
    return;
  }
  if (!warn->enabled)
    return;
  fputs("Lua warning: ", stderr);
  fputs(msg, stderr);
  if (tocont)
    warn->continuing = 1;
  else
    fputs("\n", stderr);
  fflush(stderr);
}

lua_State *rum_lua_newstate(struct rum_lua_heap *heap, struct rum_lua_warn *warn)
{
  lua_State *L;

  memset(heap, 0, sizeof(*heap));
  memset(warn, 0, sizeof(*warn));
  L = lua_newstate(rum_lua_alloc, heap);
  if (L == NULL)
    return NULL;
  lua_atpanic(L, on_panic);
  lua_setwarnf(L, on_warning, warn);
  return L;
}
