/* Pure helpers exposed to Lua: base64 (for HTTP Basic auth) and UUIDv4 (for
 * Idempotency-Key) drawn from the OS random source, never from math.random. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64(s) -> standard, padded base64 of the bytes of s. */
static int helper_base64(lua_State *L) {
  size_t n, i;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = ((unsigned)s[i] << 16) | ((unsigned)s[i + 1] << 8) | s[i + 2];
    luaL_addchar(&b, b64_alphabet[(v >> 18) & 63]);
    luaL_addchar(&b, b64_alphabet[(v >> 12) & 63]);
    luaL_addchar(&b, b64_alphabet[(v >> 6) & 63]);
    luaL_addchar(&b, b64_alphabet[v & 63]);
  }
  if (i < n) {
    unsigned v = (unsigned)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
    luaL_addchar(&b, b64_alphabet[(v >> 18) & 63]);
    luaL_addchar(&b, b64_alphabet[(v >> 12) & 63]);
    luaL_addchar(&b, i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=');
    luaL_addchar(&b, '=');
  }
  luaL_pushresult(&b);
  return 1;
}

/* Fills buf with n bytes from the kernel; 0 on success. */
static int os_random(unsigned char *buf, size_t n) {
  size_t got = 0;
#if defined(__linux__)
  while (got < n) {
    ssize_t r = getrandom(buf + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += (size_t)r;
  }
  if (got == n) return 0;
#endif
  {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while (got < n) {
      ssize_t r = read(fd, buf + got, n - got);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        close(fd);
        return -1;
      }
      got += (size_t)r;
    }
    close(fd);
  }
  return 0;
}

/* uuid4() -> "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", or raises if the OS has no randomness. */
static int helper_uuid4(lua_State *L) {
  unsigned char r[16];
  char out[37];
  static const char hex[] = "0123456789abcdef";
  int i, o = 0;
  if (os_random(r, sizeof r) != 0) return luaL_error(L, "klikit.core: no OS randomness available");
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[r[i] >> 4];
    out[o++] = hex[r[i] & 15];
  }
  out[o] = '\0';
  lua_pushlstring(L, out, 36);
  return 1;
}

/* monotonic() -> seconds from an arbitrary start, never going backwards (for deadlines). */
static int helper_monotonic(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* sleep(seconds): blocks the thread (the default for retries outside OpenResty). */
static int helper_sleep(lua_State *L) {
  lua_Number secs = luaL_checknumber(L, 1);
  struct timespec req, rem;
  if (!(secs >= 0) || secs > 86400) return luaL_argerror(L, 1, "seconds must be in [0, 86400]");
  req.tv_sec = (time_t)secs;
  req.tv_nsec = (long)((secs - (lua_Number)req.tv_sec) * 1e9);
  while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
  return 0;
}

void kk_helpers_register(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"base64", helper_base64},
      {"uuid4", helper_uuid4},
      {"monotonic", helper_monotonic},
      {"sleep", helper_sleep},
      {NULL, NULL},
  };
  kk_setfuncs(L, fns, 0);
}

void kk_class_register(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                       lua_CFunction tostring) {
  if (luaL_newmetatable(L, name)) {
    lua_newtable(L);
    kk_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}
