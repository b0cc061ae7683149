/* catalog.c -- the Spec's semantic events and reserved fields as data, with
 * the lookups over them (exact, folded, and near-miss event names).
 * SPDX-License-Identifier: MIT */
#include "catalog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../mem.h"
#include "names.h"
#include "spec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
#define F(n, t) {n, GW_CATALOG_##t, NULL}
#define NEST(n, t, list) {n, GW_CATALOG_##t, list}
#define END {NULL, GW_CATALOG_STRING, NULL}
/* clang-format on */

/* clang-format off */
/* ---- Common fields, reserved properties and traits (spec/common, track,
 * page, screen, identify, group). ---- */

const struct gw_catalog_field gw_catalog_track_props[] = {
    F("revenue", NUMBER), F("currency", STRING), F("value", NUMBER), END};

const struct gw_catalog_field gw_catalog_page_props[] = {
    F("name", STRING), F("path", STRING), F("referrer", STRING), F("search", STRING),
    F("title", STRING), F("url", STRING), F("keywords", STRINGS), END};

const struct gw_catalog_field gw_catalog_screen_props[] = {F("name", STRING), END};

/* The Spec lists the members of address (city, country, postalCode, state,
 * street) without types, so they are left untyped here. company.id is typed
 * "String/Number" by the Spec itself. */
static const struct gw_catalog_field company[] = {
    F("name", STRING), F("id", STRING_OR_NUMBER), F("industry", STRING),
    F("employee_count", NUMBER), F("plan", STRING), END};

const struct gw_catalog_field gw_catalog_identify_traits[] = {
    F("address", OBJECT), F("age", NUMBER), F("avatar", STRING), F("birthday", DATE),
    NEST("company", OBJECT, company), F("createdAt", DATE), F("description", STRING),
    F("email", STRING), F("firstName", STRING), F("gender", STRING), F("id", STRING),
    F("lastName", STRING), F("name", STRING), F("phone", STRING), F("title", STRING),
    F("username", STRING), F("website", STRING), END};

/* [conflict] The group table types employees as String while every example
 * sends a number; a head count is a number, so take both. */
const struct gw_catalog_field gw_catalog_group_traits[] = {
    F("address", OBJECT), F("avatar", STRING), F("createdAt", DATE), F("description", STRING),
    F("email", STRING), F("employees", STRING_OR_NUMBER), F("id", STRING), F("industry", STRING),
    F("name", STRING), F("phone", STRING), F("website", STRING), F("plan", STRING), END};

/* context.integration is checked on its own (rule "integration").
 * [conflict] The Email page types context.ip as Object for two events and
 * String for the others; common.md and every library send a string. */
const struct gw_catalog_field gw_catalog_context_fields[] = {
    F("active", BOOLEAN), F("app", OBJECT), F("campaign", OBJECT), F("device", OBJECT),
    F("ip", STRING), F("library", OBJECT), F("locale", STRING), F("location", OBJECT),
    F("network", OBJECT), F("os", OBJECT), F("page", OBJECT), F("referrer", OBJECT),
    F("screen", OBJECT), F("timezone", STRING), F("groupId", STRING), F("traits", OBJECT),
    F("userAgent", STRING), F("userAgentData", OBJECT), F("channel", STRING), F("direct", BOOLEAN),
    END};

/* The Spec's own camelCase names: reserved traits and their members, and
 * context fields that also turn up as keys of traits and properties. */
static const char *const spec_keys[] = {
    "firstName", "lastName", "createdAt",   "postalCode",    "userAgent",         "userAgentData",
    "groupId",   "userId",   "anonymousId", "advertisingId", "adTrackingEnabled",
};

/* ---- E-commerce v2 ---- */

#define PRODUCT_CORE                                                                               \
    F("product_id", STRING), F("sku", STRING), F("category", STRING), F("name", STRING),           \
        F("brand", STRING), F("variant", STRING), F("price", NUMBER), F("url", STRING),            \
        F("image_url", STRING)
#define PRODUCT_FIELDS                                                                             \
    PRODUCT_CORE, F("quantity", NUMBER), F("coupon", STRING), F("position", NUMBER)

static const struct gw_catalog_field product[] = {PRODUCT_FIELDS, END};
static const struct gw_catalog_field filter[] = {F("type", STRING), F("value", STRING), END};
static const struct gw_catalog_field shared_item[] = {F("product_id", STRING), END};

#define PRODUCTS NEST("products", OBJECTS, product)
#define ORDER_AMOUNTS                                                                              \
    F("affiliation", STRING), F("total", NUMBER), F("revenue", NUMBER), F("shipping", NUMBER),     \
        F("tax", NUMBER), F("discount", NUMBER), F("coupon", STRING), F("currency", STRING),       \
        PRODUCTS

/* "String or Object" in the Spec's table. */
static const struct gw_catalog_field products_searched[] = {F("query", STRING_OR_OBJECT), END};
static const struct gw_catalog_field product_list_viewed[] = {
    F("list_id", STRING), F("category", STRING), PRODUCTS, END};
static const struct gw_catalog_field product_list_filtered[] = {
    F("list_id", STRING), F("category", STRING), NEST("filters", OBJECTS, filter),
    NEST("sorts", OBJECTS, filter), PRODUCTS, END};
/* position is a String here, a Number in products: as the Spec says. */
static const struct gw_catalog_field promotion[] = {
    F("promotion_id", STRING), F("creative", STRING), F("name", STRING), F("position", STRING),
    END};
static const struct gw_catalog_field product_clicked[] = {PRODUCT_FIELDS, END};
static const struct gw_catalog_field product_viewed[] = {
    PRODUCT_FIELDS, F("currency", STRING), F("value", NUMBER), END};
static const struct gw_catalog_field product_in_cart[] = {
    F("cart_id", STRING), PRODUCT_FIELDS, END};
static const struct gw_catalog_field cart_viewed[] = {F("cart_id", STRING), PRODUCTS, END};
static const struct gw_catalog_field checkout_started[] = {
    F("order_id", STRING), F("value", NUMBER), ORDER_AMOUNTS, END};
static const struct gw_catalog_field checkout_step[] = {
    F("checkout_id", STRING), F("step", NUMBER), F("shipping_method", STRING),
    F("payment_method", STRING), END};
static const struct gw_catalog_field payment_info[] = {
    F("checkout_id", STRING), F("order_id", STRING), F("step", NUMBER),
    F("shipping_method", STRING), F("payment_method", STRING), END};
/* Order Refunded takes "the same properties as Order Completed". */
static const struct gw_catalog_field order_completed[] = {
    F("checkout_id", STRING), F("order_id", STRING), F("subtotal", NUMBER), ORDER_AMOUNTS, END};
/* Order Cancelled takes the same set as Order Updated. */
static const struct gw_catalog_field order_updated[] = {F("order_id", STRING), ORDER_AMOUNTS, END};
static const struct gw_catalog_field coupon_entered[] = {
    F("order_id", STRING), F("cart_id", STRING), F("coupon_id", STRING), END};
static const struct gw_catalog_field coupon_applied[] = {
    F("order_id", STRING), F("cart_id", STRING), F("coupon_id", STRING), F("coupon_name", STRING),
    F("discount", NUMBER), END};
static const struct gw_catalog_field coupon_denied[] = {
    F("order_id", STRING), F("cart_id", STRING), F("coupon_id", STRING), F("coupon_name", STRING),
    F("reason", STRING), END};
static const struct gw_catalog_field wishlist[] = {
    F("wishlist_id", STRING), F("wishlist_name", STRING), PRODUCT_FIELDS, END};
static const struct gw_catalog_field wishlist_to_cart[] = {
    F("wishlist_id", STRING), F("wishlist_name", STRING), F("cart_id", STRING), PRODUCT_FIELDS,
    END};
static const struct gw_catalog_field product_shared[] = {
    F("share_via", STRING), F("share_message", STRING), F("recipient", STRING), PRODUCT_CORE, END};
static const struct gw_catalog_field cart_shared[] = {
    F("share_via", STRING), F("share_message", STRING), F("recipient", STRING),
    F("cart_id", STRING), NEST("products", OBJECTS, shared_item), END};
/* The Spec types even rating as String, while its Copilot sibling (Feedback
 * Submitted) types rating Number; a number is unambiguous, so both are
 * taken. */
static const struct gw_catalog_field product_reviewed[] = {
    F("product_id", STRING), F("review_id", STRING), F("review_body", STRING),
    F("rating", STRING_OR_NUMBER), END};

/* ---- Email, Live Chat, A/B Testing ---- */

#define EMAIL_FIELDS                                                                               \
    F("email_id", STRING), F("email_subject", STRING), F("campaign_id", STRING),                   \
        F("campaign_name", STRING)

static const struct gw_catalog_field email[] = {EMAIL_FIELDS, END};
static const struct gw_catalog_field email_link[] = {
    EMAIL_FIELDS, F("link_id", STRING), F("link_url", STRING), END};
static const struct gw_catalog_field unsubscribed[] = {
    EMAIL_FIELDS, F("list_id", STRING), F("list_name", STRING), END};
static const struct gw_catalog_field live_chat[] = {
    F("agent_id", STRING), F("agent_name", STRING), F("agent_username", STRING),
    F("conversation_id", STRING), F("conversation_duration", NUMBER), F("message_id", STRING), END};
static const struct gw_catalog_field experiment[] = {
    F("experiment_id", STRING), F("experiment_name", STRING), F("variation_id", STRING),
    F("variation_name", STRING), END};

/* ---- Video ---- */

#define PLAYBACK_FIELDS                                                                            \
    F("session_id", STRING), F("content_asset_id", STRING), F("content_pod_id", STRING),           \
        F("ad_asset_id", STRING_OR_STRINGS), F("ad_pod_id", STRING_OR_STRINGS),                    \
        F("ad_type", STRING), F("position", INTEGER), F("total_length", INTEGER),                  \
        F("bitrate", INTEGER), F("framerate", NUMBER), F("video_player", STRING),                  \
        F("sound", INTEGER), F("full_screen", BOOLEAN), F("ad_enabled", BOOLEAN),                  \
        F("quality", STRING), F("livestream", BOOLEAN)
#define CONTENT_FIELDS                                                                             \
    F("session_id", STRING), F("asset_id", STRING), F("pod_id", STRING), F("title", STRING),       \
        F("description", STRING), F("keywords", STRINGS), F("season", STRING),                     \
        F("episode", STRING), F("genre", STRING), F("program", STRING), F("publisher", STRING),    \
        F("position", INTEGER), F("total_length", INTEGER), F("channel", STRING),                  \
        F("full_episode", BOOLEAN), F("livestream", BOOLEAN), F("airdate", DATE),                  \
        F("bitrate", INTEGER), F("framerate", NUMBER)

static const struct gw_catalog_field playback[] = {PLAYBACK_FIELDS, END};
static const struct gw_catalog_field playback_started[] = {
    PLAYBACK_FIELDS, F("content_asset_ids", STRINGS), F("content_pod_ids", STRINGS), END};
static const struct gw_catalog_field playback_interrupted[] = {
    PLAYBACK_FIELDS, F("method", STRING), END};
static const struct gw_catalog_field content[] = {CONTENT_FIELDS, END};
static const struct gw_catalog_field video_ad[] = {
    F("session_id", STRING), F("asset_id", STRING), F("pod_id", STRING), F("pod_position", INTEGER),
    F("pod_length", INTEGER), F("type", STRING), F("title", STRING), F("publisher", STRING),
    F("position", INTEGER), F("total_length", INTEGER), F("load_type", STRING),
    NEST("content", OBJECT, content), F("quartile", INTEGER), END};
static const struct gw_catalog_field video_quality[] = {
    F("bitrate", INTEGER), F("framerate", NUMBER), F("startupTime", NUMBER),
    F("droppedFrames", NUMBER), END};

/* ---- Mobile ---- */

static const struct gw_catalog_field none[] = {END};
static const struct gw_catalog_field app_installed[] = {
    F("version", STRING), F("build", STRING), END};
static const struct gw_catalog_field app_opened[] = {
    F("from_background", BOOLEAN), F("url", STRING), F("referring_application", STRING),
    F("version", STRING), F("build", STRING), END};
static const struct gw_catalog_field app_updated[] = {
    F("previous_version", STRING), F("previous_build", STRING), F("version", STRING),
    F("build", STRING), END};
static const struct gw_catalog_field attribution_campaign[] = {
    F("source", STRING), F("name", STRING), F("medium", STRING), F("content", STRING),
    F("ad_creative", STRING), F("ad_group", STRING), END};
static const struct gw_catalog_field install_attributed[] = {
    F("provider", STRING), NEST("campaign", OBJECT, attribution_campaign), END};
static const struct gw_catalog_field push_campaign[] = {
    F("name", STRING), F("medium", STRING), F("content", STRING), F("source", STRING), END};
static const struct gw_catalog_field push_received[] = {
    NEST("campaign", OBJECT, push_campaign), END};
static const struct gw_catalog_field push_action[] = {
    F("action", STRING), NEST("campaign", OBJECT, push_campaign), END};
static const struct gw_catalog_field deep_link[] = {F("provider", STRING), F("url", STRING), END};

/* ---- B2B SaaS (every event also takes context.groupId) ---- */

static const struct gw_catalog_field account[] = {F("account_name", STRING), END};
static const struct gw_catalog_field signed_up[] = {
    F("type", STRING), F("first_name", STRING), F("last_name", STRING), F("email", STRING),
    F("phone", STRING), F("username", STRING), F("title", STRING), END};
static const struct gw_catalog_field username[] = {F("username", STRING), END};
static const struct gw_catalog_field invite_sent[] = {
    F("invitee_email", STRING), F("invitee_first_name", STRING), F("invitee_last_name", STRING),
    F("invitee_role", STRING), END};
static const struct gw_catalog_field account_added_user[] = {F("role", STRING), END};
static const struct gw_catalog_field trial[] = {
    F("trial_start_date", DATE), F("trial_end_date", DATE), F("trial_plan_name", STRING), END};

/* ---- AI Copilot (camelCase ids, as the Spec writes them) ---- */

static const struct gw_catalog_field copilot_started[] = {F("conversationId", STRING), END};
static const struct gw_catalog_field copilot_message[] = {
    F("conversationId", STRING), F("messageId", STRING), F("message_body", STRING),
    F("role", STRING), END};
static const struct gw_catalog_field copilot_ended[] = {
    F("conversationId", STRING), F("message_count", NUMBER), END};
static const struct gw_catalog_field copilot_action[] = {
    F("conversationId", STRING), F("messageId", STRING), F("type", STRING), F("action", STRING),
    F("role", STRING), END};
static const struct gw_catalog_field copilot_media[] = {
    F("conversationId", STRING), F("messageId", STRING), F("type", STRING), F("sub_type", STRING),
    F("role", STRING), END};
static const struct gw_catalog_field copilot_component[] = {
    F("conversationId", STRING), F("messageId", STRING), F("type", STRING), END};
static const struct gw_catalog_field copilot_feedback[] = {
    F("conversationId", STRING), F("messageId", STRING), F("rating", NUMBER), END};

static const struct gw_catalog_event events[] = {
    {"Products Searched", "E-commerce", products_searched},
    {"Product List Viewed", "E-commerce", product_list_viewed},
    {"Product List Filtered", "E-commerce", product_list_filtered},
    {"Promotion Viewed", "E-commerce", promotion},
    {"Promotion Clicked", "E-commerce", promotion},
    {"Product Clicked", "E-commerce", product_clicked},
    {"Product Viewed", "E-commerce", product_viewed},
    {"Product Added", "E-commerce", product_in_cart},
    {"Product Removed", "E-commerce", product_in_cart},
    {"Cart Viewed", "E-commerce", cart_viewed},
    {"Checkout Started", "E-commerce", checkout_started},
    {"Checkout Step Viewed", "E-commerce", checkout_step},
    {"Checkout Step Completed", "E-commerce", checkout_step},
    {"Payment Info Entered", "E-commerce", payment_info},
    {"Order Completed", "E-commerce", order_completed},
    {"Order Updated", "E-commerce", order_updated},
    {"Order Refunded", "E-commerce", order_completed},
    {"Order Cancelled", "E-commerce", order_updated},
    {"Coupon Entered", "E-commerce", coupon_entered},
    {"Coupon Applied", "E-commerce", coupon_applied},
    {"Coupon Denied", "E-commerce", coupon_denied},
    {"Coupon Removed", "E-commerce", coupon_applied},
    {"Product Added to Wishlist", "E-commerce", wishlist},
    {"Product Removed from Wishlist", "E-commerce", wishlist},
    {"Wishlist Product Added to Cart", "E-commerce", wishlist_to_cart},
    {"Product Shared", "E-commerce", product_shared},
    {"Cart Shared", "E-commerce", cart_shared},
    {"Product Reviewed", "E-commerce", product_reviewed},

    {"Email Bounced", "Email", email},
    {"Email Delivered", "Email", email},
    {"Email Link Clicked", "Email", email_link},
    {"Email Marked as Spam", "Email", email},
    {"Email Opened", "Email", email},
    {"Unsubscribed", "Email", unsubscribed},

    {"Live Chat Conversation Started", "Live Chat", live_chat},
    {"Live Chat Conversation Ended", "Live Chat", live_chat},
    {"Live Chat Message Sent", "Live Chat", live_chat},
    {"Live Chat Message Received", "Live Chat", live_chat},

    {"Experiment Viewed", "A/B Testing", experiment},

    {"Video Playback Started", "Video", playback_started},
    {"Video Playback Paused", "Video", playback},
    {"Video Playback Interrupted", "Video", playback_interrupted},
    {"Video Playback Buffer Started", "Video", playback},
    {"Video Playback Buffer Completed", "Video", playback},
    {"Video Playback Seek Started", "Video", playback},
    {"Video Playback Seek Completed", "Video", playback},
    {"Video Playback Resumed", "Video", playback},
    {"Video Playback Completed", "Video", playback},
    {"Video Playback Exited", "Video", playback},
    {"Video Content Started", "Video", content},
    {"Video Content Playing", "Video", content},
    {"Video Content Completed", "Video", content},
    {"Video Ad Started", "Video", video_ad},
    {"Video Ad Playing", "Video", video_ad},
    {"Video Ad Completed", "Video", video_ad},
    {"Video Quality Updated", "Video", video_quality},

    {"Application Installed", "Mobile", app_installed},
    {"Application Opened", "Mobile", app_opened},
    {"Application Backgrounded", "Mobile", none},
    {"Application Foregrounded", "Mobile", none},
    {"Application Updated", "Mobile", app_updated},
    {"Application Uninstalled", "Mobile", none},
    {"Application Crashed", "Mobile", none},
    {"Install Attributed", "Mobile", install_attributed},
    {"Push Notification Received", "Mobile", push_received},
    {"Push Notification Tapped", "Mobile", push_action},
    {"Push Notification Bounced", "Mobile", push_action},
    {"Deep Link Opened", "Mobile", deep_link},
    {"Deep Link Clicked", "Mobile", deep_link},

    {"Account Created", "B2B SaaS", account},
    {"Account Deleted", "B2B SaaS", account},
    {"Signed Up", "B2B SaaS", signed_up},
    {"Signed In", "B2B SaaS", username},
    {"Signed Out", "B2B SaaS", username},
    {"Invite Sent", "B2B SaaS", invite_sent},
    {"Account Added User", "B2B SaaS", account_added_user},
    {"Account Removed User", "B2B SaaS", none},
    {"Trial Started", "B2B SaaS", trial},
    {"Trial Ended", "B2B SaaS", trial},

    {"Conversation Started", "AI Copilot", copilot_started},
    {"Message Sent", "AI Copilot", copilot_message},
    {"Message Received", "AI Copilot", copilot_message},
    {"Conversation Ended", "AI Copilot", copilot_ended},
    {"Action Invoked", "AI Copilot", copilot_action},
    {"Media Generated", "AI Copilot", copilot_media},
    {"Component Loaded", "AI Copilot", copilot_component},
    {"Feedback Submitted", "AI Copilot", copilot_feedback},
};
/* clang-format on */

/* ---- Lookups ---- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Every field list, event name and Spec key, hashed once: the exact names,
 * and the field names folded as traits compare them. A table stays under
 * half full; the catalog holds about 700 names. */
#define INDEX_SLOTS 2048

static struct gw_name_slot exact_slots[INDEX_SLOTS];
static struct gw_name_slot fold_slots[INDEX_SLOTS];
static struct gw_names exact_ix = {exact_slots, INDEX_SLOTS, 0, false};
static struct gw_names fold_ix = {fold_slots, INDEX_SLOTS, 0, true};
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static atomic_bool index_built; /* set once build_index() is done: skips pthread_once */

static void index_list(const struct gw_catalog_field *list)
{
    for (const struct gw_catalog_field *f = list; f->name != NULL; f++) {
        uint32_t at = (uint32_t)(f - list);
        /* false: a name already listed, and the first one wins, as in a scan */
        (void)gw_names_put(&exact_ix, list, f->name, strlen(f->name), at);
        (void)gw_names_put(&fold_ix, list, f->name, strlen(f->name), at);
        if (f->nested != NULL) {
            index_list(f->nested);
        }
    }
}

static void build_index(void)
{
    static const struct gw_catalog_field *const lists[] = {
        gw_catalog_track_props,     gw_catalog_page_props,   gw_catalog_screen_props,
        gw_catalog_identify_traits, gw_catalog_group_traits, gw_catalog_context_fields,
    };
    for (size_t i = 0; i < COUNT(lists); i++) {
        index_list(lists[i]);
    }
    for (size_t i = 0; i < COUNT(events); i++) {
        GW_ASSERT(
            gw_names_put(&exact_ix, events, events[i].name, strlen(events[i].name), (uint32_t)i));
        index_list(events[i].props);
    }
    for (size_t i = 0; i < COUNT(spec_keys); i++) {
        GW_ASSERT(
            gw_names_put(&exact_ix, spec_keys, spec_keys[i], strlen(spec_keys[i]), (uint32_t)i));
    }
    atomic_store_explicit(&index_built, true, memory_order_release);
}

static void index_ready(void)
{
    if (!atomic_load_explicit(&index_built, memory_order_acquire)) {
        GW_ASSERT(pthread_once(&index_once, build_index) == 0);
    }
}

const struct gw_catalog_event *gw_catalog_event_find(const char *name)
{
    struct gw_name_key k;
    index_ready();
    gw_name_key(&k, name, false);
    const struct gw_name_slot *s = gw_names_get(&exact_ix, events, &k);
    return s != NULL ? &events[s->value] : NULL;
}

/* Equal ignoring case and every occurrence of the character skip. */
static bool equal_skipping(const char *a, const char *b, char skip)
{
    for (;;) {
        while (*a == skip) {
            a++;
        }
        while (*b == skip) {
            b++;
        }
        if (lower(*a) != lower(*b)) {
            return false;
        }
        if (*a == '\0') {
            return true;
        }
        a++;
        b++;
    }
}

const struct gw_catalog_field *gw_catalog_field_get(const struct gw_catalog_field *list,
                                                    const struct gw_name_key *key, bool fold)
{
    if (list == NULL) {
        return NULL;
    }
    index_ready();
    const struct gw_name_slot *s = gw_names_get(fold ? &fold_ix : &exact_ix, list, key);
    return s != NULL ? &list[s->value] : NULL;
}

const struct gw_catalog_field *gw_catalog_field_find(const struct gw_catalog_field *list,
                                                     const char *key, bool fold)
{
    struct gw_name_key k;
    gw_name_key(&k, key, fold);
    return gw_catalog_field_get(list, &k, fold);
}

bool gw_catalog_spec_key(const struct gw_name_key *key)
{
    index_ready();
    return gw_names_get(&exact_ix, spec_keys, key) != NULL;
}

bool gw_catalog_is_spec_key(const char *key)
{
    struct gw_name_key k;
    gw_name_key(&k, key, false);
    return gw_catalog_spec_key(&k);
}

static bool is_integer(json_object *val)
{
    if (json_object_is_type(val, json_type_int)) {
        return true;
    }
    if (!json_object_is_type(val, json_type_double)) {
        return false;
    }
    double d = json_object_get_double(val);
    return d > -9.0e18 && d < 9.0e18 && (double)(int64_t)d == d;
}

bool gw_catalog_type_ok(enum gw_catalog_type t, json_object *val)
{
    enum json_type jt = json_object_get_type(val);
    bool str = jt == json_type_string;
    bool num = jt == json_type_int || jt == json_type_double;
    switch (t) {
    case GW_CATALOG_STRING:
    case GW_CATALOG_DATE:
        return str;
    case GW_CATALOG_NUMBER:
        return num;
    case GW_CATALOG_INTEGER:
        return is_integer(val);
    case GW_CATALOG_BOOLEAN:
        return jt == json_type_boolean;
    case GW_CATALOG_OBJECT:
        return jt == json_type_object;
    case GW_CATALOG_ARRAY:
    case GW_CATALOG_OBJECTS:
    case GW_CATALOG_STRINGS:
        return jt == json_type_array;
    case GW_CATALOG_STRING_OR_NUMBER:
        return str || num;
    case GW_CATALOG_STRING_OR_OBJECT:
        return str || jt == json_type_object;
    case GW_CATALOG_STRING_OR_STRINGS:
        return str || jt == json_type_array;
    }
    return false;
}

bool gw_catalog_item_type(const struct gw_catalog_field *f, enum gw_catalog_type *out)
{
    if (f == NULL) {
        return false;
    }
    if (f->type == GW_CATALOG_OBJECTS) {
        *out = GW_CATALOG_OBJECT;
        return true;
    }
    if (f->type == GW_CATALOG_STRINGS || f->type == GW_CATALOG_STRING_OR_STRINGS) {
        *out = GW_CATALOG_STRING;
        return true;
    }
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits. */
static bool digits(const char *s, size_t n, int *out)
{
    int val = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
        val = val * 10 + (s[i] - '0');
    }
    *out = val;
    return true;
}

static int days_in(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* YYYY-MM-DD; returns the length read, 0 when it is not a real date. */
static size_t parse_date(const char *s)
{
    int y, m, d;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d)) {
        return 0;
    }
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in(y, m) ? 10 : 0;
}

/* HH:MM:SS with an optional fraction; 60 seconds is a leap second. */
static size_t parse_time(const char *s)
{
    int h, mi, sec;
    if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' ||
        !digits(s + 6, 2, &sec) || h > 23 || mi > 59 || sec > 60) {
        return 0;
    }
    size_t n = 8;
    if (s[n] == '.') {
        size_t f = strspn(s + n + 1, "0123456789");
        n = f > 0 ? n + 1 + f : 0;
    }
    return n;
}

/* Z, or +HH, +HHMM, +HH:MM (and -). */
static size_t parse_zone(const char *s)
{
    int h, m = 0;
    if (s[0] == 'Z' || s[0] == 'z') {
        return 1;
    }
    if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &h) || h > 23) {
        return 0;
    }
    size_t n = 3 + (s[3] == ':');
    if (s[n] == '\0') {
        return s[3] == ':' ? 0 : n;
    }
    return digits(s + n, 2, &m) && m <= 59 ? n + 2 : 0;
}

bool gw_catalog_date_ok(const char *s, bool strict)
{
    size_t n = parse_date(s);
    if (n == 0) {
        return false;
    }
    if (s[n] == '\0') {
        return !strict;
    }
    if (s[n] != 'T' && s[n] != 't') {
        return false;
    }
    s += n + 1;
    n = parse_time(s);
    if (n == 0) {
        return false;
    }
    s += n;
    if (*s == '\0') {
        return !strict;
    }
    n = parse_zone(s);
    return n > 0 && s[n] == '\0';
}

const char *gw_catalog_type_name(enum gw_catalog_type t)
{
    static const char *const names[] = {
        [GW_CATALOG_STRING] = "a string",
        [GW_CATALOG_NUMBER] = "a number",
        [GW_CATALOG_INTEGER] = "an integer",
        [GW_CATALOG_BOOLEAN] = "a boolean",
        [GW_CATALOG_OBJECT] = "an object",
        [GW_CATALOG_ARRAY] = "an array",
        [GW_CATALOG_OBJECTS] = "an array of objects",
        [GW_CATALOG_STRINGS] = "an array of strings",
        [GW_CATALOG_DATE] = "an ISO-8601 date string",
        [GW_CATALOG_STRING_OR_NUMBER] = "a string or a number",
        [GW_CATALOG_STRING_OR_OBJECT] = "a string or an object",
        [GW_CATALOG_STRING_OR_STRINGS] = "a string or an array of strings",
    };
    return (size_t)t < COUNT(names) ? names[t] : "a value";
}

/* ---- Near-miss event names ----
 * Names are compared word by word, ignoring case. Equal words cost 0; a word
 * that is the other plus an inflection ("Open"/"Opened", "Product"/
 * "Products", "Cancel"/"Cancelled") costs 1; a typo of one edit (a
 * substitution, insertion, deletion or swap of neighbours: Damerau) between
 * words of at least 5 letters ("Canceled"/"Cancelled") costs 1; anything
 * else rejects. A name is near when it has as many words as the Spec name
 * and costs at most 2, or when both spell the same letters once spaces are
 * dropped ("Check Out Started"). Short words never count as typos, so
 * "Card Viewed" is not "Cart Viewed". Names must start with the same letter:
 * that skips most of the table at once and gives up only typos in the very
 * first letter. */

#define NEAR_MAX_COST 2
#define NEAR_REJECT (NEAR_MAX_COST + 1)
#define NEAR_TYPO_MIN 5

static bool ci_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

static bool joined_equal(const char *a, const char *b)
{
    return equal_skipping(a, b, ' ');
}

static size_t word_count(const char *s)
{
    size_t n = 1;
    for (; *s != '\0'; s++) {
        n += *s == ' ';
    }
    return n;
}

/* True when w (n bytes) is s (sn bytes) plus an English inflection. */
static bool inflected(const char *s, size_t sn, const char *w, size_t n)
{
    static const char *const tails[] = {"s", "es", "d", "ed", "ing"};
    if (sn == 0 || n <= sn || !ci_equal(s, w, sn)) {
        return false;
    }
    const char *tail = w + sn;
    size_t tn = n - sn;
    for (size_t i = 0; i < COUNT(tails); i++) {
        if (strlen(tails[i]) == tn && ci_equal(tails[i], tail, tn)) {
            return true;
        }
    }
    /* A doubled final consonant: "cancel" + "led", "ship" + "ped". */
    return tn == 3 && ci_equal(tail, s + sn - 1, 1) && ci_equal(tail + 1, "ed", 2);
}

/* True when a and b (which differ) are one Damerau edit apart. */
static bool one_edit(const char *a, size_t an, const char *b, size_t bn)
{
    if (an < bn) {
        return one_edit(b, bn, a, an);
    }
    size_t i = 0;
    while (i < bn && lower(a[i]) == lower(b[i])) {
        i++;
    }
    if (an == bn + 1) {
        return ci_equal(a + i + 1, b + i, bn - i);
    }
    if (an != bn || i == an) {
        return false;
    }
    if (ci_equal(a + i + 1, b + i + 1, an - i - 1)) {
        return true;
    }
    return i + 1 < an && lower(a[i]) == lower(b[i + 1]) && lower(a[i + 1]) == lower(b[i]) &&
           ci_equal(a + i + 2, b + i + 2, an - i - 2);
}

static size_t word_cost(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && ci_equal(a, b, an)) {
        return 0;
    }
    if (inflected(a, an, b, bn) || inflected(b, bn, a, an)) {
        return 1;
    }
    if (an >= NEAR_TYPO_MIN && bn >= NEAR_TYPO_MIN && one_edit(a, an, b, bn)) {
        return 1;
    }
    return NEAR_REJECT;
}

/* in is lower case, words separated by one space, as is spec (any case). */
static size_t name_cost(const char *in, const char *spec)
{
    if (joined_equal(in, spec)) {
        return 0;
    }
    if (word_count(in) != word_count(spec)) {
        return NEAR_REJECT;
    }
    size_t total = 0;
    while (*in != '\0' && total <= NEAR_MAX_COST) {
        size_t an = strcspn(in, " ");
        size_t bn = strcspn(spec, " ");
        total += word_cost(in, an, spec, bn);
        in += an + (in[an] == ' ');
        spec += bn + (spec[bn] == ' ');
    }
    return total;
}

const struct gw_catalog_event *gw_catalog_event_near(const char *name)
{
    char buf[256]; /* the heap only for names over 127 bytes */
    char *in = gw_casing_convert_to(GW_CASING_LOWER, name, buf, sizeof(buf))
                   ? buf
                   : gw_casing_convert(GW_CASING_LOWER, name);
    size_t in_words = word_count(in);
    size_t in_letters = strlen(in) - (in_words - 1);
    const struct gw_catalog_event *best = NULL;
    size_t best_cost = NEAR_REJECT;
    for (size_t i = 0; i < COUNT(events) && in[0] != '\0'; i++) {
        const char *spec = events[i].name;
        if (lower(spec[0]) != in[0]) {
            continue;
        }
        size_t words = word_count(spec);
        /* Most names differ in both counts; then neither rule can match. */
        if (words != in_words && strlen(spec) - (words - 1) != in_letters) {
            continue;
        }
        size_t cost = name_cost(in, spec);
        if (cost < best_cost) {
            best = &events[i];
            best_cost = cost;
        }
    }
    if (in != buf) {
        free(in);
    }
    return best;
}
