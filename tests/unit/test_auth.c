/* test_auth.c -- Basic credentials as Segment's libraries and curl send them.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"

/* "Basic " + base64(plain), encoded by OpenSSL, not by the code under test. */
static char *basic(const char *scheme, const char *plain)
{
    static char header[8192];
    unsigned char b64[6000];
    cr_assert_lt(strlen(plain), 4000u);
    EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)strlen(plain));
    cr_assert_lt(snprintf(header, sizeof(header), "%s%s", scheme, b64), (int)sizeof(header));
    return header;
}

static void expect(const char *header, const char *user, const char *password)
{
    char *u = NULL;
    char *p = NULL;
    cr_assert_eq(gw_auth_basic(header, &u, &p), GW_OK, "%s", header);
    cr_expect_str_eq(u, user, "%s", header);
    cr_expect_str_eq(p, password, "%s", header);
    free(u);
    free(p);
}

static void refuse(const char *header, enum gw_rc want)
{
    char *u = NULL;
    char *p = NULL;
    cr_expect_eq(gw_auth_basic(header, &u, &p), want, "%s", header ? header : "(null)");
    cr_expect_null(u, "nothing written on error");
    cr_expect_null(p);
}

Test(auth, write_key_with_the_colon_as_the_libraries_send_it)
{
    expect(basic("Basic ", "wk_live_123:"), "wk_live_123", "");
    /* analytics-node's own header for writeKey "wk_node" */
    expect("Basic d2tfbm9kZTo=", "wk_node", "");
}

Test(auth, write_key_without_the_colon)
{
    expect(basic("Basic ", "wk_live_123"), "wk_live_123", "");
    expect(basic("Basic ", "a"), "a", "");
    expect(basic("Basic ", "ab"), "ab", "");
}

Test(auth, user_and_password)
{
    expect(basic("Basic ", "key:secret"), "key", "secret");
    expect(basic("Basic ", "key:sec:ret"), "key", "sec:ret");
}

Test(auth, scheme_in_any_case_and_blanks)
{
    expect(basic("basic ", "wk:"), "wk", "");
    expect(basic("BASIC\t", "wk:"), "wk", "");
    expect(basic("  Basic   ", "wk"), "wk", "");
    char h[64];
    cr_assert_gt(snprintf(h, sizeof(h), "%s  ", basic("Basic ", "wk:")), 0);
    expect(h, "wk", "");
}

Test(auth, no_basic_credentials)
{
    refuse(NULL, GW_ERR_NOT_FOUND);
    refuse("", GW_ERR_NOT_FOUND);
    refuse("Bearer d2s6", GW_ERR_NOT_FOUND);
    refuse("Basicd2s6", GW_ERR_NOT_FOUND);
    refuse("Basic", GW_ERR_NOT_FOUND);
}

Test(auth, malformed_base64_is_invalid)
{
    refuse("Basic ", GW_ERR_INVALID);
    refuse("Basic d2s", GW_ERR_INVALID);       /* unpadded */
    refuse("Basic d2s6=", GW_ERR_INVALID);     /* length */
    refuse("Basic d2=6", GW_ERR_INVALID);      /* padding inside */
    refuse("Basic d2s6 d2s6", GW_ERR_INVALID); /* two words */
    refuse("Basic d2_6", GW_ERR_INVALID);      /* base64url */
    refuse("Basic !!!!", GW_ERR_INVALID);
}

Test(auth, empty_or_odd_credentials_are_invalid)
{
    refuse(basic("Basic ", ":"), GW_ERR_INVALID);
    refuse(basic("Basic ", ":secret"), GW_ERR_INVALID);
    refuse(basic("Basic ", "wk\n:"), GW_ERR_INVALID);
    refuse("Basic d2sAOg==", GW_ERR_INVALID); /* "wk\0:" */
}

Test(auth, long_credentials_are_capped)
{
    char *key = malloc(3500);
    memset(key, 'k', 3499);
    key[3499] = '\0';
    refuse(basic("Basic ", key), GW_ERR_TOO_LARGE);
    key[3000] = '\0';
    expect(basic("Basic ", key), key, "");
    free(key);
}
