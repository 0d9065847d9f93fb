/* Private Lua 5.1/LuaJIT <-> 5.4 shims. Everything here is static or a macro so the
 * module never exports a symbol that could collide with the host Lua (LuaJIT #325). */
#ifndef KK_COMPAT_H
#define KK_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 502
static inline void kk_setfuncs(lua_State *L, const luaL_Reg *reg, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; reg->name != NULL; reg++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, reg->func, nup);
    lua_setfield(L, -(nup + 2), reg->name);
  }
  lua_pop(L, nup);
}
#define kk_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define kk_rawlen(L, i) lua_objlen((L), (i))
#else
#define kk_setfuncs(L, reg, nup) luaL_setfuncs((L), (reg), (nup))
#if LUA_VERSION_NUM >= 504
#define kk_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 0)
#else
#define kk_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif
#define kk_rawlen(L, i) lua_rawlen((L), (i))
#endif

#endif
