/* klikit.core: the C half of klikit. Transport (libcurl), envelope decoding (a
 * single-pass JSON decoder; a private lua-cjson instance for the reference path) and pure
 * helpers. No retry, pagination or endpoint policy here:
 * that lives in Lua so other transports (OpenResty cosockets) can reuse it. */
#include <stdlib.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#if defined(__GNUC__)
#define KK_EXPORT __attribute__((visibility("default")))
#else
#define KK_EXPORT
#endif

static int curl_ready = 0;

/* curl_global_init exactly once per process; embedders that already initialised
 * libcurl can opt out with KLIKIT_NO_CURL_INIT (as Lua-cURL's LCURL_NO_INIT). */
static void init_curl_once(lua_State *L) {
  if (curl_ready) return;
  if (getenv("KLIKIT_NO_CURL_INIT") == NULL && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    luaL_error(L, "klikit.core: curl_global_init failed");
  curl_ready = 1;
}

/* Pushes a private cjson.safe instance's decode function, configured strictly. */
static void push_private_decoder(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson.safe");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);           /* a private instance: our settings never leak to the host's */
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, 201); /* kk_envelope.c refuses deeper bodies first */
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode_invalid_numbers");
  lua_pushboolean(L, 0);       /* no NaN, Infinity or hex numbers */
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode");
  lua_replace(L, -3);
  lua_pop(L, 1);
}

KK_EXPORT int luaopen_klikit_core(lua_State *L) {
  curl_version_info_data *info;
  init_curl_once(L);
  info = curl_version_info(CURLVERSION_NOW);

  lua_newtable(L);
  kk_helpers_register(L);
  kk_url_register(L);
  kk_headers_register(L);
  kk_files_register(L);
  kk_crypto_register(L);

  kk_transport_open(L);
  lua_setfield(L, -2, "new_transport");
  kk_multi_open(L);
  lua_setfield(L, -2, "new_multi");

  kk_fields_register(L);
  push_private_decoder(L);
  kk_json_open(L);
  kk_envelope_open(L);

  lua_pushlightuserdata(L, NULL); /* the same value as cjson.null */
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, KK_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, info && info->version ? info->version : "unknown");
  lua_setfield(L, -2, "curl_version");
  lua_pushstring(L, info && info->ssl_version ? info->ssl_version : "none");
  lua_setfield(L, -2, "ssl_version");
  lua_pushboolean(L, info && (info->features & CURL_VERSION_ASYNCHDNS));
  lua_setfield(L, -2, "async_dns");
  return 1;
}
