/* Pure helpers for webhook signatures: HMAC-SHA256 through OpenSSL's libcrypto (the library
 * libcurl's OpenSSL build already loads) and a comparison whose time does not depend on
 * where two strings differ.
 *
 *   hex = core.hmac_sha256_hex(key, message)   -- 64 lowercase hex digits
 *   same = core.timing_safe_equal(a, b)        -- equal lengths: time independent of content */
#include <string.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kk_compat.h"
#include "kk_internal.h"

static int crypto_hmac_sha256_hex(lua_State *L) {
  size_t klen, mlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  size_t i;
  char hex[2 * EVP_MAX_MD_SIZE];
  static const char digits[] = "0123456789abcdef";
  if (klen > 0x7fffffff) return luaL_argerror(L, 1, "key too long");
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, digest, &dlen) == NULL ||
      dlen > EVP_MAX_MD_SIZE)
    return luaL_error(L, "klikit.core: HMAC-SHA256 failed");
  for (i = 0; i < dlen; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 0x0f];
  }
  OPENSSL_cleanse(digest, sizeof digest);
  lua_pushlstring(L, hex, 2 * (size_t)dlen);
  return 1;
}

static int crypto_timing_safe_equal(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  /* lengths are public (a signature has one length); contents are compared in full */
  lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
  return 1;
}

void kk_crypto_register(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"hmac_sha256_hex", crypto_hmac_sha256_hex},
      {"timing_safe_equal", crypto_timing_safe_equal},
      {NULL, NULL},
  };
  kk_setfuncs(L, fns, 0);
}
