/* test_cors.c -- the origins api.cors_origins allows, and the headers of
 * their answers.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cors.h"

static void collect(void *arg, const char *name, const char *value)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s: %s\n", name, value);
}

Test(cors, only_listed_origins_exactly)
{
    struct gw_config cfg;
    gw_config_init(&cfg);
    char *list[] = {"https://app.example.com", "http://127.0.0.1:3000"};
    cfg.api_cors_origins = list;
    cfg.n_api_cors_origins = 2;
    char out[GW_CORS_ORIGIN_MAX] = "";
    cr_expect(gw_cors_allowed(&cfg, "https://app.example.com", out, sizeof(out)));
    cr_expect_str_eq(out, "https://app.example.com");
    out[0] = '\0';
    static const char *const refused[] = {"https://app.example.com.evil.net",
                                          "https://APP.example.com", "https://app.example.com/",
                                          "http://app.example.com", "null", ""};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_expect(!gw_cors_allowed(&cfg, refused[i], out, sizeof(out)), "%s", refused[i]);
    }
    cr_expect(!gw_cors_allowed(&cfg, NULL, out, sizeof(out)));
    cr_expect_str_eq(out, "", "untouched when refused");
    cfg.api_cors_origins = NULL;
    cfg.n_api_cors_origins = 0;
    cr_expect(!gw_cors_allowed(&cfg, "https://app.example.com", out, sizeof(out)),
              "no list: no origin");
    gw_config_fini(&cfg);
}

Test(cors, headers_of_answers_and_preflights)
{
    char got[1024] = "";
    gw_cors_headers("", false, collect, got);
    cr_expect_str_eq(got, "Vary: Origin\n", "an origin not allowed: no CORS header");
    got[0] = '\0';
    gw_cors_headers("https://app.example.com", false, collect, got);
    cr_expect_str_eq(got, "Vary: Origin\nAccess-Control-Allow-Origin: https://app.example.com\n");
    got[0] = '\0';
    gw_cors_headers("https://app.example.com", true, collect, got);
    cr_expect_not_null(strstr(got, "Access-Control-Allow-Methods: POST, OPTIONS\n"), "%s", got);
    cr_expect_not_null(strstr(got, "Authorization"), "%s", got);
    cr_expect_not_null(strstr(got, "X-Retry-Count"), "%s", got);
    cr_expect_not_null(strstr(got, "Access-Control-Max-Age: "), "%s", got);
}
