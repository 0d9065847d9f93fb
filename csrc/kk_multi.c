/* Many transfers at once on one thread, over libcurl's multi interface: each transfer runs
 * on its own transport's easy handle, set up and answered by kk_transfer.c exactly as a
 * blocking transport:request is. Mechanism only (add, perform, collect): which coroutine
 * waits for which transfer, sleeps and errors are lua/klikit/transport/multi.lua's.
 *
 *   m = core.new_multi()
 *   m:add(transport, req)   -- starts req (the table transport:request takes) on the
 *                           -- transport's handle; raises on bad input as request does, and
 *                           -- when the transport is already in a multi transfer
 *   m:perform(max_wait)     -- drives the transfers for at most max_wait seconds (default 0),
 *                           -- returning once one is done or none is in flight:
 *                           -- { { transport = t, resp = {...} }
 *                           --   | { transport = t, err = { code, message, curl_code, trace } }, ... }
 *   m:remove(transport)     -- drops its transfer, never reported -> true | false (not in m)
 *   m:pending()             -- transfers added and not yet reported
 *   m:close()               -- drops every transfer; idempotent; also __gc / __close
 *
 * A transport in flight is kept alive by a registry ref (the Lua side may drop it). Closing
 * it meanwhile takes its handle out of libcurl's multi at once (before the handle is freed);
 * the next perform reports it as a network_error, so whoever waits for it hears back.
 * The multi's connections are shared by all its transports, one transfer at a time each
 * (no HTTP/2 multiplexing, as on a blocking handle); kk_stray.c keeps stray bytes one
 * transfer left on a connection from becoming another's answer. */
#include <time.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_MULTI_MT "klikit.core.multi"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static kk_multi *check_multi(lua_State *L) {
  kk_multi *m = (kk_multi *)luaL_checkudata(L, 1, KK_MULTI_MT);
  if (m->m == NULL) luaL_error(L, "klikit.core: multi is closed");
  return m;
}

/* Takes t out of m (and its handle out of libcurl's multi) and releases the registry ref;
 * no Lua allocation, so the bookkeeping can never be left half done. */
static void unlink_transport(lua_State *L, kk_multi *m, kk_transport *t) {
  if (t->curl) curl_multi_remove_handle(m->m, t->curl);
  if (t->mprev) t->mprev->mnext = t->mnext;
  else m->head = t->mnext;
  if (t->mnext) t->mnext->mprev = t->mprev;
  t->mprev = t->mnext = NULL;
  if (t->cancelled) m->cancelled--;
  t->cancelled = 0;
  t->multi = NULL;
  m->count--;
  luaL_unref(L, LUA_REGISTRYINDEX, t->mref);
  t->mref = LUA_NOREF;
}

void kk_multi_cancel(kk_transport *t) {
  if (t->curl) curl_multi_remove_handle(t->multi->m, t->curl);
  t->cancelled = 1;
  t->multi->cancelled++;
}

static int multi_add(lua_State *L) {
  kk_multi *m = check_multi(L);
  kk_transport *t = kk_check_transport(L, 2);
  CURLMcode mc;
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  if (t->multi) return luaL_error(L, "klikit.core: transport is busy in a multi transfer");
  /* raises on bad input; what it allocated stays on t (freed by the next setup or close) */
  kk_transfer_setup(L, t, 3, 1);
  lua_pushvalue(L, 2);
  t->mref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->multi = m; /* the callbacks find the multi through it */
  kk_stray_watch(t);
  mc = curl_multi_add_handle(m->m, t->curl);
  if (mc != CURLM_OK) {
    t->multi = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, t->mref);
    t->mref = LUA_NOREF;
    kk_transfer_discard(t);
    return luaL_error(L, "klikit.core: curl_multi_add_handle: %s", curl_multi_strerror(mc));
  }
  t->mprev = NULL;
  t->mnext = m->head;
  if (m->head) m->head->mprev = t;
  m->head = t;
  m->count++;
  return 0;
}

/* Turns the 5 failure values on top (nil, code, message, curl_code, trace) into the err
 * table transport.curl returns, set on the entry below them. */
static void set_err(lua_State *L) {
  static const char *const names[] = {"code", "message", "curl_code", "trace"};
  int top = lua_gettop(L), i;
  lua_createtable(L, 0, 4);
  for (i = 0; i < 4; i++) {
    lua_pushvalue(L, top - 3 + i);
    lua_setfield(L, -2, names[i]);
  }
  lua_setfield(L, top - 5, "err");
  lua_settop(L, top - 5);
}

/* Pushes an entry { transport = the userdata of t } for t, which leaves m first. */
static void push_entry(lua_State *L, kk_multi *m, kk_transport *t) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->mref); /* held on the stack once unref'd */
  unlink_transport(L, m, t);
  lua_createtable(L, 0, 2);
  lua_insert(L, -2);
  lua_setfield(L, -2, "transport");
}

/* Appends libcurl's finished transfers to the list at index res; returns the new count. */
static int collect_done(lua_State *L, kk_multi *m, int res, int n) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m->m, &left)) != NULL) {
    kk_transport *t = m->head;
    kk_outcome o;
    if (msg->msg != CURLMSG_DONE) continue;
    while (t && t->curl != msg->easy_handle) t = t->mnext;
    if (t == NULL) continue; /* not ours: cannot happen, nothing else adds handles */
    if (kk_stray_restarted(m, t, msg->data.result)) continue;
    /* libcurl's info first: msg dies with the removal, and the connection the transfer
     * used is only found while the handle is in the multi */
    kk_transfer_finish(t, msg->data.result, &o);
    push_entry(L, m, t);
    if (kk_transfer_push(L, t, &o) == 1) lua_setfield(L, -2, "resp");
    else set_err(L);
    lua_rawseti(L, res, ++n);
  }
  return n;
}

static int collect_cancelled(lua_State *L, kk_multi *m, int res, int n) {
  kk_transport *t = m->head, *next;
  while (m->cancelled > 0 && t) {
    next = t->mnext;
    if (t->cancelled) {
      push_entry(L, m, t);
      kk_transfer_discard(t);
      lua_createtable(L, 0, 2);
      lua_pushliteral(L, "network_error");
      lua_setfield(L, -2, "code");
      lua_pushliteral(L, "the transport was closed while its request was in flight");
      lua_setfield(L, -2, "message");
      lua_setfield(L, -2, "err");
      lua_rawseti(L, res, ++n);
    }
    t = next;
  }
  return n;
}

static int multi_perform(lua_State *L) {
  kk_multi *m = check_multi(L);
  lua_Number wait = luaL_optnumber(L, 2, 0);
  double deadline;
  int n = 0;
  if (!(wait >= 0) || wait > 86400) return luaL_argerror(L, 2, "seconds must be in [0, 86400]");
  lua_settop(L, 2);
  lua_newtable(L);
  deadline = now() + (double)wait;
  for (;;) {
    int running, ms;
    double left;
    CURLMcode mc = curl_multi_perform(m->m, &running);
    if (mc != CURLM_OK) return luaL_error(L, "klikit.core: curl_multi_perform: %s", curl_multi_strerror(mc));
    n = collect_done(L, m, 3, n);
    n = collect_cancelled(L, m, 3, n);
    if (n > 0 || m->count == 0) break;
    left = deadline - now();
    if (left <= 0) break;
    ms = (int)(left * 1000.0) + 1; /* never a busy loop of 0 ms waits */
    /* libcurl shortens the wait to its own next timeout, so request timeouts stay exact */
#if LIBCURL_VERSION_NUM >= 0x074200
    mc = curl_multi_poll(m->m, NULL, 0, ms, NULL);
#else
    mc = curl_multi_wait(m->m, NULL, 0, ms, NULL);
#endif
    if (mc != CURLM_OK) return luaL_error(L, "klikit.core: curl_multi_poll: %s", curl_multi_strerror(mc));
  }
  return 1;
}

static int multi_remove(lua_State *L) {
  kk_multi *m = check_multi(L);
  kk_transport *t = (kk_transport *)luaL_checkudata(L, 2, KK_TRANSPORT_MT);
  if (t->multi != m) {
    lua_pushboolean(L, 0);
    return 1;
  }
  unlink_transport(L, m, t);
  kk_transfer_discard(t);
  lua_pushboolean(L, 1);
  return 1;
}

static int multi_pending(lua_State *L) {
  kk_multi *m = (kk_multi *)luaL_checkudata(L, 1, KK_MULTI_MT);
  lua_pushinteger(L, (lua_Integer)m->count);
  return 1;
}

/* Also the __gc: every transfer is dropped (handles removed before the multi goes, as
 * libcurl wants), and the transports, no longer referenced, can be collected. Safe in
 * either order with a transport's own __gc when the Lua state closes: whichever runs
 * first unlinks the pair. */
static int multi_close(lua_State *L) {
  kk_multi *m = (kk_multi *)luaL_checkudata(L, 1, KK_MULTI_MT);
  while (m->head) {
    kk_transport *t = m->head;
    unlink_transport(L, m, t);
    kk_transfer_discard(t);
  }
  if (m->m) curl_multi_cleanup(m->m);
  m->m = NULL;
  return 0;
}

static int multi_tostring(lua_State *L) {
  kk_multi *m = (kk_multi *)luaL_checkudata(L, 1, KK_MULTI_MT);
  if (m->m == NULL) lua_pushliteral(L, "klikit.core.multi (closed)");
  else lua_pushfstring(L, "klikit.core.multi (%d pending)", m->count);
  return 1;
}

static int multi_new(lua_State *L) {
  kk_multi *m = (kk_multi *)kk_newuserdata(L, sizeof *m);
  m->m = NULL;
  m->head = NULL;
  m->count = m->cancelled = m->nsocks = m->next_sock = 0;
  luaL_getmetatable(L, KK_MULTI_MT);
  lua_setmetatable(L, -2);
  m->m = curl_multi_init();
  if (m->m == NULL) return luaL_error(L, "klikit.core: curl_multi_init failed");
  curl_multi_setopt(m->m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
  return 1;
}

void kk_multi_open(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"add", multi_add},         {"perform", multi_perform}, {"remove", multi_remove},
      {"pending", multi_pending}, {"close", multi_close},     {NULL, NULL},
  };
  kk_class_register(L, KK_MULTI_MT, methods, multi_close, multi_tostring);
  lua_pushcfunction(L, multi_new);
}
