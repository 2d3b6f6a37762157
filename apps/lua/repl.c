/* The interactive prompt, with the behaviour of lua5.4's:
 *  - a line is first tried as an expression ("return <line>;"), so `1+1` prints 2;
 *  - otherwise as a statement; while it is incomplete (the syntax error is at
 *    <eof>) more lines are read with the second prompt and joined to it;
 *  - results are printed with the global `print`; errors are printed without the
 *    program name in front;
 *  - _PROMPT and _PROMPT2, when set, are the prompts (through tostring);
 *  - a first line starting with '=' means "return ..." (Lua 5.2 habit).
 * Line editing and history come from GNU readline when it was found at build time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "rum_lua.h"

#ifdef RUM_LUA_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#define PROMPT_FIRST "> "
#define PROMPT_MORE ">> "

/* Reads one line with the prompt shown; NULL at end of input. The caller frees the
 * line with free(). The trailing newline is removed. */
static char *read_raw_line(const char *prompt)
{
#ifdef RUM_LUA_HAVE_READLINE
  return readline(prompt);
#else
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;

  fputs(prompt, stdout);
  fflush(stdout);
  len = getline(&line, &cap, stdin);
  if (len < 0) {
    free(line);
    return NULL;
  }
  if (len > 0 && line[len - 1] == '\n')
    line[len - 1] = '\0';
  return line;
#endif
}

static void remember(const char *statement)
{
#ifdef RUM_LUA_HAVE_READLINE
  if (statement[0] != '\0')
    add_history(statement);
#else
  (void)statement;
#endif
}

/* Pushes the next line of input; returns 0 (pushing nothing) at end of input. */
static int push_line(lua_State *L, int first)
{
  const char *global = first ? "_PROMPT" : "_PROMPT2";
  const char *prompt;
  char *line;

  if (lua_getglobal(L, global) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushstring(L, first ? PROMPT_FIRST : PROMPT_MORE);
  } else {
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
  }
  prompt = lua_tostring(L, -1);
  line = read_raw_line(prompt);
  lua_pop(L, 1);
  if (line == NULL)
    return 0;
  if (first && line[0] == '=')
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return 1;
}

/* A syntax error at <eof> means the statement goes on in the next line. */
static int is_incomplete(lua_State *L, int status)
{
  static const char eof_mark[] = "<eof>";
  const size_t mark_len = sizeof(eof_mark) - 1;
  size_t len;
  const char *msg;

  if (status != LUA_ERRSYNTAX)
    return 0;
  msg = lua_tolstring(L, -1, &len);
  return msg != NULL && len >= mark_len && strcmp(msg + len - mark_len, eof_mark) == 0;
}

/* With the line at the top: compile "return <line>;". On success the function
 * replaces the line. On failure the stack is as before. */
static int load_as_expression(lua_State *L)
{
  const char *line = lua_tostring(L, -1);
  const char *code = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");

  if (status != LUA_OK) {
    lua_pop(L, 2); /* the error and the code */
    return status;
  }
  remember(line);
  lua_remove(L, -2); /* the code */
  lua_remove(L, -2); /* the line */
  return LUA_OK;
}

/* With the line at the top (the only thing on the stack): compile it as a
 * statement, reading more lines while it is incomplete. Leaves the function or the
 * error message in place of the line. */
static int load_as_statement(lua_State *L)
{
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, code, len, "=stdin");

    if (!is_incomplete(L, status) || !push_line(L, 0)) {
      remember(code);
      lua_remove(L, 1);
      return status;
    }
    lua_remove(L, -2); /* the "<eof>" message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Leaves one value on an empty stack: the compiled chunk or an error message.
 * Returns -1 at end of input, else the load status. */
static int load_chunk(lua_State *L)
{
  lua_settop(L, 0);
  if (!push_line(L, 1))
    return -1;
  if (load_as_expression(L) == LUA_OK)
    return LUA_OK;
  return load_as_statement(L);
}

/* Print whatever the chunk returned with the global `print`. */
static void print_results(lua_State *L)
{
  int n = lua_gettop(L);

  if (n == 0)
    return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    rum_lua_message(NULL, lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
}

void rum_lua_repl(lua_State *L)
{
  int status;

#ifdef RUM_LUA_HAVE_READLINE
  rl_readline_name = "rum-lua";
#endif
  while ((status = load_chunk(L)) != -1) {
    if (status == LUA_OK)
      status = rum_lua_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(L);
    else
      rum_lua_report(L, NULL, status);
  }
  lua_settop(L, 0);
  fputs("\n", stdout);
  fflush(stdout);
}
