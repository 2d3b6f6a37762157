/* The `rum` Lua module: a look at the RUM client from inside the script.
 *
 *   local rum = require "rum"
 *   rum.stats()  -> table of this process's client counters (struct rum_stats)
 *   rum.heap()   -> table of the Lua heap as the allocator sees it: bytes, peak,
 *                   allocations, frees, resizes, failures; and lua_bytes, Lua's own
 *                   count (collectgarbage("count") * 1024) read at the same moment,
 *                   which equals bytes
 *   rum.sync()   -> true, or nil + message: write every dirty page back now
 *
 * It is loaded through package.preload so that the set of globals is the same as
 * lua5.4's. */
#include <lauxlib.h>
#include <rum/rum.h>

#include "rum_lua.h"

static void set_counter(lua_State *L, const char *name, uint64_t value)
{
  lua_pushinteger(L, (lua_Integer)value);
  lua_setfield(L, -2, name);
}

static int lua_rum_stats(lua_State *L)
{
  struct rum_stats st;
  int err = rum_stats(&st);

  if (err < 0)
    return luaL_error(L, "rum.stats: %s", rum_strerror(err));
  lua_createtable(L, 0, 15);
  set_counter(L, "faults", st.faults);
  set_counter(L, "read_faults", st.read_faults);
  set_counter(L, "write_faults", st.write_faults);
  set_counter(L, "hits", st.hits);
  set_counter(L, "zero_fills", st.zero_fills);
  set_counter(L, "evictions", st.evictions);
  set_counter(L, "writebacks", st.writebacks);
  set_counter(L, "readahead", st.readahead);
  set_counter(L, "bytes_in", st.bytes_in);
  set_counter(L, "bytes_out", st.bytes_out);
  set_counter(L, "rpcs", st.rpcs);
  set_counter(L, "retries", st.retries);
  set_counter(L, "cache_pages", st.cache_pages);
  set_counter(L, "cache_capacity", st.cache_capacity);
  set_counter(L, "regions", st.regions);
  return 1;
}

static int lua_rum_heap(lua_State *L)
{
  void *ud;
  const struct rum_lua_heap *heap;

  if (lua_getallocf(L, &ud) != rum_lua_alloc)
    return luaL_error(L, "rum.heap: this state does not allocate from RUM");
  heap = ud;
  lua_createtable(L, 0, 7);
  /* Both counts are read together, after the table exists and before anything
   * else can allocate, so that they describe the same heap. */
  size_t bytes = heap->bytes_in_use;
  size_t lua_bytes = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
  set_counter(L, "bytes", bytes);
  set_counter(L, "lua_bytes", lua_bytes);
  set_counter(L, "peak", heap->peak_bytes);
  set_counter(L, "allocations", heap->allocations);
  set_counter(L, "frees", heap->frees);
  set_counter(L, "resizes", heap->resizes);
  set_counter(L, "failures", heap->failures);
  return 1;
}

static int lua_rum_sync(lua_State *L)
{
  int err = rum_sync();

  if (err < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, rum_strerror(err));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int open_rumlib(lua_State *L)
{
  static const luaL_Reg functions[] = {
      {"stats", lua_rum_stats},
      {"heap", lua_rum_heap},
      {"sync", lua_rum_sync},
      {NULL, NULL},
  };

  luaL_newlib(L, functions);
  return 1;
}

void rum_lua_preload_rumlib(lua_State *L)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open_rumlib);
  lua_setfield(L, -2, "rum");
  lua_pop(L, 1);
}
