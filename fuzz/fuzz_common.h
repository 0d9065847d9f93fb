/* Shared by the libFuzzer harnesses: one Lua state per process, and a finding reporter.
 * A broken invariant aborts, which libFuzzer records as a crash with its input. */
#ifndef KK_FUZZ_COMMON_H
#define KK_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "../csrc/kk_internal.h"

static void fuzz_fail(const char *what) {
  (void)fprintf(stderr, "klikit fuzz finding: %s\n", what);
  abort();
}

/* A state with the standard libraries and klikit.core loaded (package.loaded["klikit.core"]
 * on top of the stack is popped). */
static lua_State *fuzz_new_state(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) fuzz_fail("luaL_newstate failed");
  luaL_openlibs(L);
  luaL_requiref(L, "klikit.core", luaopen_klikit_core, 0);
  lua_pop(L, 1);
  return L;
}

/* Garbage-collects now and then so a long run measures our code, not Lua's heap growth. */
static void fuzz_settle(lua_State *L, unsigned long *runs) {
  lua_settop(L, 0);
  if (++*runs % 4096 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
}

#endif
