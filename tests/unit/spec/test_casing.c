/* test_casing.c -- the five naming conventions: parse, check, convert.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct check_case {
    enum gw_casing casing;
    const char *s;
    bool want;
};

static const struct check_case check_cases[] = {
    /* Proper Case, with the Spec's own names and its small words */
    {GW_CASING_PROPER, "Email Link Clicked", true},
    {GW_CASING_PROPER, "Email Marked as Spam", true},
    {GW_CASING_PROPER, "Email Marked As Spam", true},
    {GW_CASING_PROPER, "Product Added to Wishlist", true},
    {GW_CASING_PROPER, "Product Removed from Wishlist", true},
    {GW_CASING_PROPER, "Wishlist Product Added to Cart", true},
    {GW_CASING_PROPER, "Video Ad Started", true},
    {GW_CASING_PROPER, "SMS Delivered", true},
    {GW_CASING_PROPER, "Unsubscribed", true},
    {GW_CASING_PROPER, "3D Model Viewed", true},
    {GW_CASING_PROPER, "Step 2 Completed", true},
    {GW_CASING_PROPER, "Email opened", false},
    {GW_CASING_PROPER, "email opened", false},
    {GW_CASING_PROPER, "as Spam", false},
    {GW_CASING_PROPER, "Email Marked is Spam", false},
    {GW_CASING_PROPER, "Email  Opened", false},
    {GW_CASING_PROPER, " Email Opened", false},
    {GW_CASING_PROPER, "Email Opened ", false},
    {GW_CASING_PROPER, "Email_Opened", false},
    {GW_CASING_PROPER, "OrderCompleted", false},
    {GW_CASING_PROPER, "Order Completed!", false},
    {GW_CASING_PROPER, "", false},
    /* snake_case */
    {GW_CASING_SNAKE, "email_link_clicked", true},
    {GW_CASING_SNAKE, "order_id", true},
    {GW_CASING_SNAKE, "a", true},
    {GW_CASING_SNAKE, "v2_api", true},
    {GW_CASING_SNAKE, "123", true},
    {GW_CASING_SNAKE, "Email_link", false},
    {GW_CASING_SNAKE, "email__link", false},
    {GW_CASING_SNAKE, "_email", false},
    {GW_CASING_SNAKE, "email_", false},
    {GW_CASING_SNAKE, "emailLink", false},
    {GW_CASING_SNAKE, "email link", false},
    {GW_CASING_SNAKE, "email-link", false},
    {GW_CASING_SNAKE, "caf\xc3\xa9", false},
    {GW_CASING_SNAKE, "", false},
    /* camelCase */
    {GW_CASING_CAMEL, "emailLinkClicked", true},
    {GW_CASING_CAMEL, "a", true},
    {GW_CASING_CAMEL, "productID", true},
    {GW_CASING_CAMEL, "orderId2", true},
    {GW_CASING_CAMEL, "EmailLinkClicked", false},
    {GW_CASING_CAMEL, "email_link", false},
    {GW_CASING_CAMEL, "email link", false},
    {GW_CASING_CAMEL, "2fa", false},
    {GW_CASING_CAMEL, "", false},
    /* all lowercase */
    {GW_CASING_LOWER, "email link clicked", true},
    {GW_CASING_LOWER, "email", true},
    {GW_CASING_LOWER, "order 66 shipped", true},
    {GW_CASING_LOWER, "Email link", false},
    {GW_CASING_LOWER, "email  link", false},
    {GW_CASING_LOWER, "email_link", false},
    {GW_CASING_LOWER, "emailLink", false},
    {GW_CASING_LOWER, " email", false},
    {GW_CASING_LOWER, "", false},
    /* Sentence case */
    {GW_CASING_SENTENCE, "Email link clicked", true},
    {GW_CASING_SENTENCE, "Email", true},
    {GW_CASING_SENTENCE, "2fa enabled", true},
    {GW_CASING_SENTENCE, "Email Link Clicked", false},
    {GW_CASING_SENTENCE, "email link clicked", false},
    {GW_CASING_SENTENCE, "Email link Clicked", false},
    {GW_CASING_SENTENCE, "SMS delivered", false},
    {GW_CASING_SENTENCE, "Email  link", false},
    {GW_CASING_SENTENCE, "Email_link", false},
    {GW_CASING_SENTENCE, "", false},
};

/* Each table runs in one process: a process per case (criterion's
 * parameterized tests) cost more than every check together. cr_expect
 * keeps going, so one run still reports every failing case. */
Test(casing, check)
{
    for (size_t i = 0; i < COUNT(check_cases); i++) {
        const struct check_case *c = &check_cases[i];
        cr_expect_eq(gw_casing_check(c->casing, c->s), c->want, "%s(\"%s\") should be %s",
                     gw_casing_name(c->casing), c->s, c->want ? "true" : "false");
    }
}

struct convert_case {
    enum gw_casing casing;
    const char *in;
    const char *want;
};

static const struct convert_case convert_cases[] = {
    {GW_CASING_PROPER, "orders/create", "Orders Create"},
    {GW_CASING_PROPER, "order_completed", "Order Completed"},
    {GW_CASING_PROPER, "orderCompleted", "Order Completed"},
    {GW_CASING_PROPER, "ORDER created", "Order Created"},
    {GW_CASING_PROPER, "email marked as spam", "Email Marked as Spam"},
    {GW_CASING_PROPER, "product_added_to_wishlist", "Product Added to Wishlist"},
    {GW_CASING_PROPER, "PRODUCT REMOVED FROM WISHLIST", "Product Removed from Wishlist"},
    {GW_CASING_PROPER, "to be done", "To Be Done"},
    {GW_CASING_PROPER, "HTMLParser loaded", "Html Parser Loaded"},
    {GW_CASING_PROPER, "  spaced   out  ", "Spaced Out"},
    {GW_CASING_PROPER, "checkout.session.completed", "Checkout Session Completed"},
    {GW_CASING_PROPER, "caf\xc3\xa9_visited", "Caf\xc3\xa9 Visited"},
    {GW_CASING_PROPER, "", ""},
    {GW_CASING_PROPER, "---", ""},
    {GW_CASING_SNAKE, "firstName", "first_name"},
    {GW_CASING_SNAKE, "Order Completed", "order_completed"},
    {GW_CASING_SNAKE, "orders/create", "orders_create"},
    {GW_CASING_SNAKE, "HTMLParser", "html_parser"},
    {GW_CASING_SNAKE, "userID", "user_id"},
    {GW_CASING_SNAKE, "X-Shopify-Topic", "x_shopify_topic"},
    {GW_CASING_SNAKE, "already_snake", "already_snake"},
    {GW_CASING_SNAKE, "Order 2 Shipped", "order_2_shipped"},
    {GW_CASING_CAMEL, "first_name", "firstName"},
    {GW_CASING_CAMEL, "Order Completed", "orderCompleted"},
    {GW_CASING_CAMEL, "ORDER created", "orderCreated"},
    {GW_CASING_CAMEL, "product-id", "productId"},
    {GW_CASING_CAMEL, "alreadyCamel", "alreadyCamel"},
    {GW_CASING_LOWER, "Order Completed", "order completed"},
    {GW_CASING_LOWER, "orderCompleted", "order completed"},
    {GW_CASING_LOWER, "order_completed", "order completed"},
    {GW_CASING_LOWER, "orders/create", "orders create"},
    {GW_CASING_SENTENCE, "order_completed", "Order completed"},
    {GW_CASING_SENTENCE, "Email Link Clicked", "Email link clicked"},
    {GW_CASING_SENTENCE, "emailLinkClicked", "Email link clicked"},
    {GW_CASING_SENTENCE, "ORDER created", "Order created"},
};

Test(casing, convert)
{
    for (size_t i = 0; i < COUNT(convert_cases); i++) {
        const struct convert_case *c = &convert_cases[i];
        char *got = gw_casing_convert(c->casing, c->in);
        cr_expect_str_eq(got, c->want, "%s(\"%s\"): want \"%s\", got \"%s\"",
                         gw_casing_name(c->casing), c->in, c->want, got);
        free(got);
    }
}

/* Into a caller's buffer: the same text, or nothing when it may not fit. */
Test(casing, convert_to)
{
    for (size_t i = 0; i < COUNT(convert_cases); i++) {
        const struct convert_case *c = &convert_cases[i];
        char buf[128];
        cr_assert(gw_casing_convert_to(c->casing, c->in, buf, sizeof(buf)), "%s", c->in);
        cr_expect_str_eq(buf, c->want, "%s(\"%s\")", gw_casing_name(c->casing), c->in);
    }
    char small[8] = "keep";
    cr_expect(gw_casing_convert_to(GW_CASING_SNAKE, "abc", small, sizeof(small)));
    cr_expect_str_eq(small, "abc");
    cr_expect_not(gw_casing_convert_to(GW_CASING_SNAKE, "a_bcd", small, sizeof(small)),
                  "9 bytes may be needed, 8 given");
    cr_expect_str_eq(small, "abc", "nothing written");
    /* the worst case fills the buffer exactly: a separator per byte */
    char four[5];
    cr_expect(gw_casing_convert_to(GW_CASING_PROPER, "aB", four, sizeof(four)));
    cr_expect_str_eq(four, "A B");
}

/* Whatever goes in, what comes out follows the convention it was made for. */
Test(casing, convert_then_check)
{
    static const char *const inputs[] = {
        "orders/create",
        "Order Completed",
        "orderCompleted",
        "ORDER created",
        "first_name",
        "HTMLParser",
        "a",
        "email marked as spam",
        "x-y-z",
        "Step 2 Done",
        "userID",
        "checkout.session.completed",
    };
    static const enum gw_casing all[] = {GW_CASING_PROPER, GW_CASING_SNAKE, GW_CASING_CAMEL,
                                         GW_CASING_LOWER, GW_CASING_SENTENCE};
    for (size_t i = 0; i < COUNT(all); i++) {
        for (size_t j = 0; j < COUNT(inputs); j++) {
            char *got = gw_casing_convert(all[i], inputs[j]);
            cr_expect(gw_casing_check(all[i], got), "%s(\"%s\") = \"%s\" fails its own check",
                      gw_casing_name(all[i]), inputs[j], got);
            free(got);
        }
    }
}

Test(casing, parse_and_name)
{
    static const struct {
        const char *name;
        enum gw_casing want;
    } ok[] = {
        {"Proper Case", GW_CASING_PROPER}, {"proper", GW_CASING_PROPER},
        {"PROPER", GW_CASING_PROPER},      {"snake_case", GW_CASING_SNAKE},
        {"snake", GW_CASING_SNAKE},        {"camelCase", GW_CASING_CAMEL},
        {"camel", GW_CASING_CAMEL},        {"all lowercase", GW_CASING_LOWER},
        {"lower", GW_CASING_LOWER},        {"Sentence case", GW_CASING_SENTENCE},
        {"sentence", GW_CASING_SENTENCE},
    };
    for (size_t i = 0; i < COUNT(ok); i++) {
        enum gw_casing got = GW_CASING_LOWER;
        cr_expect_eq(gw_casing_parse(ok[i].name, &got), GW_OK, "parse \"%s\"", ok[i].name);
        cr_expect_eq(got, ok[i].want, "parse \"%s\"", ok[i].name);
    }
    enum gw_casing out = GW_CASING_CAMEL;
    cr_expect_eq(gw_casing_parse("kebab-case", &out), GW_ERR_INVALID);
    cr_expect_eq(gw_casing_parse("", &out), GW_ERR_INVALID);
    cr_expect_eq(gw_casing_parse(NULL, &out), GW_ERR_INVALID);
    cr_expect_eq(out, GW_CASING_CAMEL, "a failed parse leaves *out alone");
    cr_expect_str_eq(gw_casing_name(GW_CASING_PROPER), "Proper Case");
    cr_expect_str_eq(gw_casing_name(GW_CASING_SNAKE), "snake_case");
    cr_expect_str_eq(gw_casing_name(GW_CASING_CAMEL), "camelCase");
    cr_expect_str_eq(gw_casing_name(GW_CASING_LOWER), "all lowercase");
    cr_expect_str_eq(gw_casing_name(GW_CASING_SENTENCE), "Sentence case");
}
