/* test_buf.c -- the bounded buffer.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

Test(buf, appends_within_the_cap)
{
    struct gw_buf b;
    gw_buf_init(&b, 10);
    cr_expect_str_eq(gw_buf_str(&b), "");
    cr_assert_eq(gw_buf_adds(&b, "hello"), GW_OK);
    cr_assert_eq(gw_buf_printf(&b, "%d%s", 42, "!"), GW_OK);
    cr_expect_str_eq(gw_buf_str(&b), "hello42!");
    cr_expect_eq(gw_buf_adds(&b, "abc"), GW_ERR_TOO_LARGE);
    cr_expect_str_eq(gw_buf_str(&b), "hello42!", "a refused append leaves the content");
    cr_expect_eq(gw_buf_adds(&b, "ab"), GW_OK);
    char *s = gw_buf_detach(&b);
    cr_expect_str_eq(s, "hello42!ab");
    cr_expect_eq(b.len, 0);
    free(s);
    gw_buf_fini(&b);
    gw_buf_fini(&b);
}

Test(buf, printf_longer_than_the_stack_buffer)
{
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(gw_buf_printf(&b, "[%s]", big), GW_OK);
    cr_expect_eq(b.len, 1001);
    gw_buf_fini(&b);
}

/* Appends and room are checked inline while the capacity allows: the
 * limit still holds there, to the byte. */
Test(buf, the_limit_holds_where_capacity_is_left)
{
    struct gw_buf b;
    gw_buf_init(&b, 20);
    cr_assert_eq(gw_buf_adds(&b, "0123456789"), GW_OK);
    cr_assert_gt(b.cap, 21, "room left past the limit");
    cr_expect_eq(gw_buf_room(&b, 11), GW_ERR_TOO_LARGE);
    cr_expect_eq(gw_buf_room(&b, 10), GW_OK);
    cr_expect_eq(gw_buf_add(&b, "abcdefghijk", 11), GW_ERR_TOO_LARGE);
    cr_expect_eq(b.len, 10);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(gw_buf_add(&b, "z", 1), GW_OK);
    }
    cr_expect_eq(gw_buf_add(&b, "z", 1), GW_ERR_TOO_LARGE);
    cr_expect_str_eq(gw_buf_str(&b), "0123456789zzzzzzzzzz");
    gw_buf_fini(&b);
}
