/* What Lua's io library cannot do, for checkpoint files: write a file atomically and
 * durably (temp file, fsync, rename, fsync of the directory), hold an advisory lock that
 * the kernel releases when the process dies (even by SIGKILL), and tell a terminal.
 * Mechanism only; what is written and when is the caller's.
 *
 *   ok, err = core.write_atomic(path, bytes)
 *   lock, err = core.lock(path)       -- flock(LOCK_EX | LOCK_NB) on path (created 0600)
 *   lock:unlock()                     -- idempotent; also __gc
 *   path, err = core.realpath(path)   -- symlinks resolved; a missing last component is kept
 *   core.isatty(fd)                   -- 0 stdin, 1 stdout, 2 stderr */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_LOCK_MT "klikit.core.lock"

static int push_errno(lua_State *L, const char *what, const char *path) {
  int e = errno;
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(e));
  return 2;
}

/* Writes all of buf to fd; 0 ok, -1 with errno. */
static int write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The directory part of path ("." when there is none), into out. */
static void dir_of(const char *path, char *out, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) (void)snprintf(out, cap, ".");
  else if (slash == path) (void)snprintf(out, cap, "/");
  else (void)snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static int files_write_atomic(lua_State *L) {
  size_t n, plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *data = luaL_checklstring(L, 2, &n);
  char tmp[4096], dir[4096];
  int fd, dfd;
  if (plen == 0 || plen > 4000 || strlen(path) != plen) return luaL_argerror(L, 1, "not a usable path");
  (void)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return push_errno(L, "cannot create", tmp);
  if (write_all(fd, data, n) != 0 || fsync(fd) != 0) {
    int e = errno;
    (void)close(fd);
    (void)unlink(tmp);
    errno = e;
    return push_errno(L, "cannot write", tmp);
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    (void)unlink(tmp);
    errno = e;
    return push_errno(L, "cannot replace", path);
  }
  dir_of(path, dir, sizeof dir);
  dfd = open(dir, O_RDONLY | O_CLOEXEC);
  if (dfd >= 0) { /* the rename itself reaches the disk */
    (void)fsync(dfd);
    (void)close(dfd);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int lock_release(lua_State *L) {
  int *fd = (int *)luaL_checkudata(L, 1, KK_LOCK_MT);
  if (*fd >= 0) {
    (void)flock(*fd, LOCK_UN);
    (void)close(*fd);
    *fd = -1;
  }
  return 0;
}

static int files_lock(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  int *slot, fd;
  if (plen == 0 || strlen(path) != plen) return luaL_argerror(L, 1, "not a usable path");
  slot = (int *)kk_newuserdata(L, sizeof(int));
  *slot = -1;
  luaL_getmetatable(L, KK_LOCK_MT);
  lua_setmetatable(L, -2);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return push_errno(L, "cannot open", path);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    (void)close(fd);
    lua_pushnil(L);
    if (e == EWOULDBLOCK) lua_pushfstring(L, "%s is locked by another process", path);
    else lua_pushfstring(L, "cannot lock %s: %s", path, strerror(e));
    return 2;
  }
  *slot = fd;
  return 1;
}

/* The canonical path (every symlink resolved), so that one file has one lock whatever
 * name it is reached by. A file that does not exist yet: its directory resolved, its name
 * kept (a dangling symlink is refused rather than followed somewhere unexpected). */
static int files_realpath(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  char resolved[PATH_MAX], dir[4096];
  const char *slash, *base;
  struct stat st;
  if (plen == 0 || plen > 4000 || strlen(path) != plen) return luaL_argerror(L, 1, "not a usable path");
  if (realpath(path, resolved) != NULL) {
    lua_pushstring(L, resolved);
    return 1;
  }
  if (errno != ENOENT) return push_errno(L, "cannot resolve", path);
  if (lstat(path, &st) == 0) { /* there, yet not resolvable: a dangling symlink */
    lua_pushnil(L);
    lua_pushfstring(L, "%s is a symlink to a file that does not exist", path);
    return 2;
  }
  dir_of(path, dir, sizeof dir);
  slash = strrchr(path, '/');
  base = slash ? slash + 1 : path;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s names a directory, not a file", path);
    return 2;
  }
  if (realpath(dir, resolved) == NULL) return push_errno(L, "cannot resolve the directory of", path);
  lua_pushfstring(L, "%s%s%s", resolved, strcmp(resolved, "/") == 0 ? "" : "/", base);
  return 1;
}

static int files_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

void kk_files_register(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"write_atomic", files_write_atomic},
      {"lock", files_lock},
      {"realpath", files_realpath},
      {"isatty", files_isatty},
      {NULL, NULL},
  };
  if (luaL_newmetatable(L, KK_LOCK_MT)) {
    lua_newtable(L);
    lua_pushcfunction(L, lock_release);
    lua_setfield(L, -2, "unlock");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lock_release);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  kk_setfuncs(L, fns, 0);
}
