/* test_validate.c -- one Segment call against the Spec: a table of calls,
 * each with the exact violations (rule and field) it must give.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_WANT 8

/* JSON is written with single quotes to keep the table readable; the test
 * turns them into double quotes before parsing. */
#define INTEG "'integration':{'name':'acme','version':'1.0.0'}"
#define CTX "'context':{" INTEG "}"
#define CALL(fields) "{" fields "," CTX "}"
#define TRACK(ev, props) CALL("'type':'track','userId':'u1','event':'" ev "','properties':" props)
#define IDENTIFY(traits) CALL("'type':'identify','userId':'u1','traits':" traits)
#define GROUP(traits) CALL("'type':'group','userId':'u1','groupId':'g1','traits':" traits)
#define PAGE(fields) CALL("'type':'page','userId':'u1'," fields)
#define SCREEN(fields) CALL("'type':'screen','userId':'u1'," fields)
#define WITH_CTX(ctx) "{'type':'track','userId':'u1','event':'Ticket Created','context':" ctx "}"
#define INTEGRATION(obj) WITH_CTX("{'integration':" obj "}")
#define TS(field, value)                                                                           \
    CALL("'type':'track','userId':'u1','event':'Ticket Created','" field "':" value)
#define CUSTOM(props) TRACK("Ticket Created", props)
#define EVENT(ev) TRACK(ev, "{}")

#define TEN "0123456789"
#define NINETY TEN TEN TEN TEN TEN TEN TEN TEN TEN
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"

/* Option tweaks; a zero field keeps gw_spec_opts_init()'s default. */
#define EV(c) .event_casing = (int)(c) + 1
#define KEY(c) .key_casing = (int)(c) + 1

struct tweak {
    const char *integration;
    int event_casing;
    int key_casing;
    bool anon;
};

struct want {
    const char *rule;
    const char *field;
};

struct vcase {
    const char *name;
    const char *json;
    struct tweak opts;
    struct want want[MAX_WANT]; /* ends at the first rule == NULL */
};

static const struct vcase cases[] = {
    /* ---- valid calls of every type ---- */
    {.name = "track: custom event", .json = CUSTOM("{'ticket_id':'t1','priority':2}")},
    {.name = "track: Order Completed in full",
     .json = TRACK("Order Completed",
                   "{'checkout_id':'c1','order_id':'o1','affiliation':'Shop','subtotal':10,"
                   "'total':12.5,'revenue':10,'shipping':1.5,'tax':1,'discount':0,'coupon':'X',"
                   "'currency':'USD','products':[{'product_id':'p1','sku':'s','category':'c',"
                   "'name':'n','brand':'b','variant':'v','price':9.99,'quantity':1,"
                   "'coupon':'c','position':1,'url':'https://x','image_url':'https://y'}]}")},
    {.name = "track: semantic event, undocumented extras are fine",
     .json = TRACK("Order Completed", "{'order_id':'o1','gift_wrap':true,'note':{'text':'hi'}}")},
    {.name = "track: semantic event, documented properties missing is fine",
     .json = TRACK("Checkout Started", "{}")},
    {.name = "track: documented property null is accepted",
     .json = TRACK("Order Completed", "{'revenue':null,'products':null}")},
    {.name = "track: no properties at all",
     .json = CALL("'type':'track','userId':'u1','event':'Ticket Created'")},
    {.name = "track: every optional common field, valid",
     .json = CALL("'type':'track','userId':'u1','anonymousId':'a1','event':'Ticket Created',"
                  "'messageId':'sg-123','timestamp':'2017-12-15T00:59:29.000Z',"
                  "'sentAt':'2017-12-15T00:59:30Z','originalTimestamp':'2017-12-15T00:59:29+01:00',"
                  "'integrations':{'All':true,'Salesforce':false},'writeKey':'k',"
                  "'receivedAt':'2017-12-15T00:59:31Z','version':2")},
    {.name = "track: optional fields set to null are absent",
     .json = CALL("'type':'track','userId':'u1','event':'Ticket Created','anonymousId':null,"
                  "'timestamp':null,'properties':null,'messageId':null")},
    {.name = "track: Email Opened as SendGrid maps it",
     .json = "{'type':'track','userId':'u1','event':'Email Opened','properties':{'email_id':'m1',"
             "'email_subject':'Hi','campaign_id':'c1','campaign_name':'Spring'},'context':{" INTEG
             ",'ip':'1.2.3.4','user_agent':'Mozilla','traits':{'email':'a@b.co'}}}"},
    {.name = "track: Email Marked as Spam", .json = EVENT("Email Marked as Spam")},
    {.name = "track: Product Added to Wishlist", .json = EVENT("Product Added to Wishlist")},
    {.name = "track: Product Removed from Wishlist",
     .json = EVENT("Product Removed from Wishlist")},
    {.name = "track: Wishlist Product Added to Cart",
     .json = TRACK("Wishlist Product Added to Cart",
                   "{'wishlist_id':'w','cart_id':'c','product_id':'p','price':3}")},
    {.name = "track: Video Playback Started, live stream",
     .json = TRACK("Video Playback Started",
                   "{'session_id':'s','content_asset_ids':['a','b'],'position':0,"
                   "'total_length':null,'livestream':true,'sound':88,'framerate':29.97}")},
    {.name = "track: integer property given as 12.0",
     .json = TRACK("Video Playback Paused", "{'position':12.0,'bitrate':5000}")},
    {.name = "track: Products Searched with a query object",
     .json = TRACK("Products Searched", "{'query':{'q':'blue hotpants'}}")},
    {.name = "track: Products Searched with a query string",
     .json = TRACK("Products Searched", "{'query':'blue hotpants'}")},
    {.name = "track: Product Reviewed rating as number",
     .json = TRACK("Product Reviewed", "{'rating':5}")},
    {.name = "track: Product Reviewed rating as string",
     .json = TRACK("Product Reviewed", "{'rating':'5'}")},
    {.name = "track: Trial Started with dates",
     .json = TRACK("Trial Started", "{'trial_start_date':'2024-01-01','trial_end_date':"
                                    "'2024-01-31T00:00:00Z','trial_plan_name':'Pro'}")},
    {.name = "identify: reserved traits",
     .json = IDENTIFY("{'email':'a@b.co','firstName':'Ada','lastName':'L','age':36,"
                      "'createdAt':'2017-12-15T00:59:29.000Z','birthday':'1990-05-01',"
                      "'address':{'city':'Paris','postalCode':'75001'},'company':{'name':'Acme',"
                      "'id':42,'industry':'x','employee_count':10,'plan':'pro'}}")},
    {.name = "identify: reserved traits in snake_case",
     .json = IDENTIFY("{'first_name':'Ada','last_name':'L','created_at':'2017-12-15'}")},
    {.name = "identify: trait value null", .json = IDENTIFY("{'email':null}")},
    {.name = "identify: no traits", .json = CALL("'type':'identify','userId':'u1'")},
    {.name = "page: reserved properties",
     .json = PAGE("'name':'Home','category':'Docs','properties':{'url':'https://x','path':'/',"
                  "'keywords':['a','b'],'title':'T'}")},
    {.name = "screen: name and properties",
     .json = SCREEN("'name':'Home','properties':{'name':'Home'}")},
    {.name = "group: reserved traits, employees a number",
     .json = GROUP("{'name':'Acme','employees':120,'plan':'pro','createdAt':'2015-01-01'}")},
    {.name = "group: employees as a string (the Spec's own type)",
     .json = GROUP("{'employees':'120'}")},
    {.name = "alias: previousId and userId",
     .json = CALL("'type':'alias','userId':'u1','previousId':'p1'")},
    {.name = "options: integration slug matches",
     .json = EVENT("Ticket Created"),
     .opts = {.integration = "acme"}},

    /* ---- type ---- */
    {.name = "type: missing",
     .json = CALL("'userId':'u1','event':'Ticket Created'"),
     .want = {{"required", "type"}}},
    {.name = "type: not a string",
     .json = CALL("'type':42,'userId':'u1'"),
     .want = {{"type", "type"}}},
    {.name = "type: unknown value",
     .json = CALL("'type':'delete','userId':'u1'"),
     .want = {{"format", "type"}}},
    {.name = "type: capitalized",
     .json = CALL("'type':'Track','userId':'u1'"),
     .want = {{"format", "type"}}},
    {.name = "root: an array", .json = "[1,2]", .want = {{"type", "(root)"}}},
    {.name = "root: a string", .json = "'track'", .want = {{"type", "(root)"}}},
    {.name = "root: empty object",
     .json = "{}",
     .want = {{"required", "type"},
              {"required", "userId"},
              {"integration", "context.integration"}}},

    /* ---- userId and anonymousId ---- */
    {.name = "userId: missing",
     .json = CALL("'type':'track','event':'Ticket Created'"),
     .want = {{"required", "userId"}}},
    {.name = "userId: empty",
     .json = CALL("'type':'identify','userId':''"),
     .want = {{"required", "userId"}}},
    {.name = "userId: null",
     .json = CALL("'type':'identify','userId':null"),
     .want = {{"required", "userId"}}},
    {.name = "userId: a number",
     .json = CALL("'type':'identify','userId':123"),
     .want = {{"type", "userId"}}},
    {.name = "userId: anonymousId alone is not enough by default",
     .json = CALL("'type':'identify','anonymousId':'a1'"),
     .want = {{"required", "userId"}}},
    {.name = "anonymous: anonymousId alone",
     .json = CALL("'type':'identify','anonymousId':'a1'"),
     .opts = {.anon = true}},
    {.name = "anonymous: userId alone",
     .json = CALL("'type':'identify','userId':'u1'"),
     .opts = {.anon = true}},
    {.name = "anonymous: neither",
     .json = CALL("'type':'identify'"),
     .opts = {.anon = true},
     .want = {{"required", "userId"}}},
    {.name = "anonymous: anonymousId empty",
     .json = CALL("'type':'identify','anonymousId':''"),
     .opts = {.anon = true},
     .want = {{"required", "anonymousId"}}},
    {.name = "anonymous: anonymousId a number",
     .json = CALL("'type':'identify','anonymousId':5"),
     .opts = {.anon = true},
     .want = {{"type", "anonymousId"}}},
    {.name = "anonymous: userId present but empty",
     .json = CALL("'type':'identify','userId':'','anonymousId':'a1'"),
     .opts = {.anon = true},
     .want = {{"required", "userId"}}},
    {.name = "anonymousId: a number next to a userId",
     .json = CALL("'type':'identify','userId':'u1','anonymousId':7"),
     .want = {{"type", "anonymousId"}}},
    {.name = "alias: userId required even when anonymous calls are allowed",
     .json = CALL("'type':'alias','anonymousId':'a1','previousId':'p1'"),
     .opts = {.anon = true},
     .want = {{"required", "userId"}}},

    /* ---- per call type ---- */
    {.name = "alias: previousId missing",
     .json = CALL("'type':'alias','userId':'u1'"),
     .want = {{"required", "previousId"}}},
    {.name = "alias: previousId a number",
     .json = CALL("'type':'alias','userId':'u1','previousId':7"),
     .want = {{"type", "previousId"}}},
    {.name = "alias: previousId empty",
     .json = CALL("'type':'alias','userId':'u1','previousId':''"),
     .want = {{"required", "previousId"}}},
    {.name = "group: groupId missing",
     .json = CALL("'type':'group','userId':'u1'"),
     .want = {{"required", "groupId"}}},
    {.name = "group: groupId a number",
     .json = CALL("'type':'group','userId':'u1','groupId':42"),
     .want = {{"type", "groupId"}}},
    {.name = "group: groupId empty",
     .json = CALL("'type':'group','userId':'u1','groupId':''"),
     .want = {{"required", "groupId"}}},
    {.name = "track: event missing",
     .json = CALL("'type':'track','userId':'u1'"),
     .want = {{"required", "event"}}},
    {.name = "track: event empty", .json = EVENT(""), .want = {{"required", "event"}}},
    {.name = "track: event a number",
     .json = CALL("'type':'track','userId':'u1','event':5"),
     .want = {{"type", "event"}}},
    {.name = "track: properties a string",
     .json = TRACK("Ticket Created", "'x'"),
     .want = {{"type", "properties"}}},
    {.name = "track: properties an array",
     .json = TRACK("Ticket Created", "[]"),
     .want = {{"type", "properties"}}},
    {.name = "identify: traits an array",
     .json = CALL("'type':'identify','userId':'u1','traits':[1]"),
     .want = {{"type", "traits"}}},
    {.name = "page: name a number", .json = PAGE("'name':5"), .want = {{"type", "name"}}},
    {.name = "page: category a number",
     .json = PAGE("'category':5"),
     .want = {{"type", "category"}}},
    {.name = "page: keywords a string",
     .json = PAGE("'properties':{'keywords':'a,b'}"),
     .want = {{"type", "properties.keywords"}}},
    {.name = "page: a keyword not a string",
     .json = PAGE("'properties':{'keywords':['a',2]}"),
     .want = {{"type", "properties.keywords[1]"}}},
    {.name = "page: url a number",
     .json = PAGE("'properties':{'url':5}"),
     .want = {{"type", "properties.url"}}},
    {.name = "page: properties a string",
     .json = PAGE("'properties':'x'"),
     .want = {{"type", "properties"}}},
    {.name = "screen: name a number", .json = SCREEN("'name':5"), .want = {{"type", "name"}}},
    {.name = "screen: properties.name a number",
     .json = SCREEN("'properties':{'name':5}"),
     .want = {{"type", "properties.name"}}},

    /* ---- messageId ---- */
    {.name = "messageId: 99 characters", .json = TS("messageId", "'" NINETY "012345678'")},
    {.name = "messageId: 99 two-byte characters",
     .json =
         TS("messageId", "'" E10 E10 E10 E10 E10 E10 E10 E10 E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9'")},
    {.name = "messageId: 100 characters",
     .json = TS("messageId", "'" NINETY TEN "'"),
     .want = {{"size", "messageId"}}},
    {.name = "messageId: empty", .json = TS("messageId", "''"), .want = {{"format", "messageId"}}},
    {.name = "messageId: a number", .json = TS("messageId", "12"), .want = {{"type", "messageId"}}},

    /* ---- timestamps ---- */
    {.name = "timestamp: Z", .json = TS("timestamp", "'2017-12-15T00:59:29Z'")},
    {.name = "timestamp: offset with colon",
     .json = TS("timestamp", "'2017-12-15T00:59:29+01:00'")},
    {.name = "timestamp: offset without colon, microseconds",
     .json = TS("timestamp", "'2017-12-15T00:59:29.123456-0500'")},
    {.name = "timestamp: leap day", .json = TS("timestamp", "'2024-02-29T12:00:00Z'")},
    {.name = "timestamp: leap day of 2000", .json = TS("timestamp", "'2000-02-29T12:00:00Z'")},
    {.name = "timestamp: leap second", .json = TS("timestamp", "'2016-12-31T23:59:60Z'")},
    {.name = "timestamp: month 13",
     .json = TS("timestamp", "'2017-13-01T00:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: month 00",
     .json = TS("timestamp", "'2017-00-01T00:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: Feb 29 in 2017",
     .json = TS("timestamp", "'2017-02-29T00:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: Feb 29 in 1900",
     .json = TS("timestamp", "'1900-02-29T00:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: April 31",
     .json = TS("timestamp", "'2017-04-31T00:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: hour 24",
     .json = TS("timestamp", "'2017-12-15T24:00:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: minute 60",
     .json = TS("timestamp", "'2017-12-15T00:60:00Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: no time zone",
     .json = TS("timestamp", "'2017-12-15T00:59:29'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: date only",
     .json = TS("timestamp", "'2017-12-15'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: space instead of T",
     .json = TS("timestamp", "'2017-12-15 00:59:29Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: empty fraction",
     .json = TS("timestamp", "'2017-12-15T00:59:29.Z'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: offset hour 25",
     .json = TS("timestamp", "'2017-12-15T00:59:29+25:00'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: trailing text",
     .json = TS("timestamp", "'2017-12-15T00:59:29Zx'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: epoch seconds as a string",
     .json = TS("timestamp", "'1513299569'"),
     .want = {{"format", "timestamp"}}},
    {.name = "timestamp: epoch seconds as a number",
     .json = TS("timestamp", "1513299569"),
     .want = {{"type", "timestamp"}}},
    {.name = "sentAt: malformed",
     .json = TS("sentAt", "'yesterday'"),
     .want = {{"format", "sentAt"}}},
    {.name = "originalTimestamp: malformed",
     .json = TS("originalTimestamp", "'2017-12-15T00:59'"),
     .want = {{"format", "originalTimestamp"}}},

    /* ---- context and context.integration ---- */
    {.name = "context: missing",
     .json = "{'type':'track','userId':'u1','event':'Ticket Created'}",
     .want = {{"integration", "context.integration"}}},
    {.name = "context: a string",
     .json = WITH_CTX("'x'"),
     .want = {{"type", "context"}, {"integration", "context.integration"}}},
    {.name = "context: integration missing",
     .json = WITH_CTX("{'ip':'1.2.3.4'}"),
     .want = {{"integration", "context.integration"}}},
    {.name = "integration: a string",
     .json = INTEGRATION("'acme'"),
     .want = {{"integration", "context.integration"}}},
    {.name = "integration: name missing",
     .json = INTEGRATION("{'version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: name a number",
     .json = INTEGRATION("{'name':5,'version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: name with a space",
     .json = INTEGRATION("{'name':'Acme Tool','version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: name with capitals",
     .json = INTEGRATION("{'name':'SendGrid','version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: name starts with a hyphen",
     .json = INTEGRATION("{'name':'-acme','version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: name ends with a hyphen",
     .json = INTEGRATION("{'name':'acme-','version':'1.0.0'}"),
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: slug with hyphen and digit",
     .json = INTEGRATION("{'name':'my-tool-2','version':'1.0.0'}")},
    {.name = "integration: name is not this source's",
     .json = EVENT("Ticket Created"),
     .opts = {.integration = "sendgrid"},
     .want = {{"integration", "context.integration.name"}}},
    {.name = "integration: version missing",
     .json = INTEGRATION("{'name':'acme'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: version 1.0",
     .json = INTEGRATION("{'name':'acme','version':'1.0'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: version v1.0.0",
     .json = INTEGRATION("{'name':'acme','version':'v1.0.0'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: version with a leading zero",
     .json = INTEGRATION("{'name':'acme','version':'01.0.0'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: pre-release with a leading zero",
     .json = INTEGRATION("{'name':'acme','version':'1.0.0-01'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: empty build metadata",
     .json = INTEGRATION("{'name':'acme','version':'1.0.0+'}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: version a number",
     .json = INTEGRATION("{'name':'acme','version':1}"),
     .want = {{"integration", "context.integration.version"}}},
    {.name = "integration: pre-release and build",
     .json = INTEGRATION("{'name':'acme','version':'1.0.0-beta.1+build.5'}")},
    {.name = "integration: name and version both wrong",
     .json = INTEGRATION("{'name':'Acme','version':'one'}"),
     .want = {{"integration", "context.integration.name"},
              {"integration", "context.integration.version"}}},
    {.name = "context: ip a number",
     .json = WITH_CTX("{" INTEG ",'ip':123}"),
     .want = {{"type", "context.ip"}}},
    {.name = "context: direct a string",
     .json = WITH_CTX("{" INTEG ",'direct':'yes'}"),
     .want = {{"type", "context.direct"}}},
    {.name = "context: groupId a number",
     .json = WITH_CTX("{" INTEG ",'groupId':7}"),
     .want = {{"type", "context.groupId"}}},
    {.name = "context: device a string",
     .json = WITH_CTX("{" INTEG ",'device':'iPhone'}"),
     .want = {{"type", "context.device"}}},
    {.name = "context: traits a string",
     .json = WITH_CTX("{" INTEG ",'traits':'x'}"),
     .want = {{"type", "context.traits"}}},
    {.name = "context: traits.email a number",
     .json = WITH_CTX("{" INTEG ",'traits':{'email':5}}"),
     .want = {{"type", "context.traits.email"}}},
    {.name = "context: traits key not snake_case",
     .json = WITH_CTX("{" INTEG ",'traits':{'First Name':'Ada'}}"),
     .want = {{"casing", "context.traits.First Name"}}},
    {.name = "context: Spec camelCase names pass",
     .json = WITH_CTX("{" INTEG ",'userAgent':'x','groupId':'g','traits':{'firstName':'Ada',"
                      "'userAgent':'y'},'device':{'advertisingId':'a'}}")},
    {.name = "integrations: a string",
     .json = CALL("'type':'identify','userId':'u1','integrations':'all'"),
     .want = {{"type", "integrations"}}},

    /* ---- event names and the event convention ---- */
    {.name = "event casing: Proper Case custom event", .json = EVENT("Repository Starred")},
    {.name = "event casing: sentence case name",
     .json = EVENT("Ticket created"),
     .want = {{"casing", "event"}}},
    {.name = "event casing: lowercase name",
     .json = EVENT("ticket created"),
     .want = {{"casing", "event"}}},
    {.name = "event casing: snake_case name",
     .json = EVENT("ticket_created"),
     .want = {{"casing", "event"}}},
    {.name = "event casing: PascalCase word",
     .json = EVENT("TicketCreated"),
     .want = {{"casing", "event"}}},
    {.name = "event casing: partner topic as is",
     .json = EVENT("orders/create"),
     .want = {{"casing", "event"}}},
    {.name = "event casing: Email opened is both wrong case and a Spec name",
     .json = EVENT("Email opened"),
     .want = {{"casing", "event"}, {"semantic", "event"}}},
    {.name = "event casing: snake_case convention",
     .json = EVENT("ticket_created"),
     .opts = {EV(GW_CASING_SNAKE)}},
    {.name = "event casing: snake_case convention, Proper Case name",
     .json = EVENT("Ticket Created"),
     .opts = {EV(GW_CASING_SNAKE)},
     .want = {{"casing", "event"}}},
    {.name = "event casing: snake_case convention, Spec name passes",
     .json = EVENT("Order Completed"),
     .opts = {EV(GW_CASING_SNAKE)}},
    {.name = "event casing: snake_case convention, Spec name in snake_case",
     .json = EVENT("order_completed"),
     .opts = {EV(GW_CASING_SNAKE)},
     .want = {{"semantic", "event"}}},
    {.name = "event casing: camelCase convention",
     .json = EVENT("ticketCreated"),
     .opts = {EV(GW_CASING_CAMEL)}},
    {.name = "event casing: camelCase convention, snake_case name",
     .json = EVENT("ticket_created"),
     .opts = {EV(GW_CASING_CAMEL)},
     .want = {{"casing", "event"}}},
    {.name = "event casing: lowercase convention",
     .json = EVENT("ticket created"),
     .opts = {EV(GW_CASING_LOWER)}},
    {.name = "event casing: lowercase convention, Proper Case name",
     .json = EVENT("Ticket Created"),
     .opts = {EV(GW_CASING_LOWER)},
     .want = {{"casing", "event"}}},
    {.name = "event casing: Sentence case convention",
     .json = EVENT("Ticket created"),
     .opts = {EV(GW_CASING_SENTENCE)}},
    {.name = "event casing: Sentence case convention, Proper Case name",
     .json = EVENT("Ticket Created"),
     .opts = {EV(GW_CASING_SENTENCE)},
     .want = {{"casing", "event"}}},
    {.name = "event casing: Sentence case convention, Spec name passes",
     .json = EVENT("Email Link Clicked"),
     .opts = {EV(GW_CASING_SENTENCE)}},

    /* ---- near-miss Spec names: true positives ---- */
    {.name = "near: Email Open", .json = EVENT("Email Open"), .want = {{"semantic", "event"}}},
    {.name = "near: Email Link Click",
     .json = EVENT("Email Link Click"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Order Complete",
     .json = EVENT("Order Complete"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Order Canceled (one l)",
     .json = EVENT("Order Canceled"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Order Cancel", .json = EVENT("Order Cancel"), .want = {{"semantic", "event"}}},
    {.name = "near: Products Added",
     .json = EVENT("Products Added"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Unsubscribe", .json = EVENT("Unsubscribe"), .want = {{"semantic", "event"}}},
    {.name = "near: Check Out Started",
     .json = EVENT("Check Out Started"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Email Markd as Spam",
     .json = EVENT("Email Markd as Spam"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Email Marked As Spam",
     .json = EVENT("Email Marked As Spam"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Sign Up", .json = EVENT("Sign Up"), .want = {{"semantic", "event"}}},
    {.name = "near: Video Content Play",
     .json = EVENT("Video Content Play"),
     .want = {{"semantic", "event"}}},
    {.name = "near: Experiment Viewd",
     .json = EVENT("Experiment Viewd"),
     .want = {{"semantic", "event"}}},
    {.name = "near: camelCase orderCompleted",
     .json = EVENT("orderCompleted"),
     .want = {{"casing", "event"}, {"semantic", "event"}}},

    /* ---- near-miss Spec names: false positives that must stay quiet ---- */
    {.name = "not near: Order Created", .json = EVENT("Order Created")},
    {.name = "not near: Account Updated", .json = EVENT("Account Updated")},
    {.name = "not near: Card Viewed", .json = EVENT("Card Viewed")},
    {.name = "not near: Car Viewed", .json = EVENT("Car Viewed")},
    {.name = "not near: Subscribed", .json = EVENT("Subscribed")},
    {.name = "not near: Email Deferred", .json = EVENT("Email Deferred")},
    {.name = "not near: Email Dropped", .json = EVENT("Email Dropped")},
    {.name = "not near: Message Seen", .json = EVENT("Message Seen")},
    {.name = "not near: SMS Delivered", .json = EVENT("SMS Delivered")},
    {.name = "not near: Checkout Completed", .json = EVENT("Checkout Completed")},
    {.name = "not near: Issue Opened", .json = EVENT("Issue Opened")},
    {.name = "not near: Application Reinstalled", .json = EVENT("Application Reinstalled")},
    {.name = "not near: Signed On", .json = EVENT("Signed On")},
    {.name = "not near: Order Shipped", .json = EVENT("Order Shipped")},

    /* ---- key conventions ---- */
    {.name = "keys: camelCase property",
     .json = CUSTOM("{'ticketId':'t1'}"),
     .want = {{"casing", "properties.ticketId"}}},
    {.name = "keys: property with a space",
     .json = CUSTOM("{'Ticket ID':'t1'}"),
     .want = {{"casing", "properties.Ticket ID"}}},
    {.name = "keys: property with a dot is bracketed",
     .json = CUSTOM("{'a.b':1}"),
     .want = {{"casing", "properties[\"a.b\"]"}}},
    {.name = "keys: nested object",
     .json = CUSTOM("{'meta':{'SourceName':'x'}}"),
     .want = {{"casing", "properties.meta.SourceName"}}},
    {.name = "keys: array of objects",
     .json = CUSTOM("{'items':[{'item_id':'a'},{'itemId':'b'}]}"),
     .want = {{"casing", "properties.items[1].itemId"}}},
    {.name = "keys: array of arrays",
     .json = CUSTOM("{'grid':[[{'cellId':1}]]}"),
     .want = {{"casing", "properties.grid[0][0].cellId"}}},
    {.name = "keys: product field in a semantic event",
     .json = TRACK("Order Completed", "{'products':[{'productId':'p'}]}"),
     .want = {{"casing", "properties.products[0].productId"}}},
    {.name = "keys: camelCase convention",
     .json = CUSTOM("{'ticketId':'t1','meta':{'sourceName':'x'}}"),
     .opts = {KEY(GW_CASING_CAMEL)}},
    {.name = "keys: camelCase convention, snake_case key",
     .json = CUSTOM("{'ticket_id':'t1'}"),
     .opts = {KEY(GW_CASING_CAMEL)},
     .want = {{"casing", "properties.ticket_id"}}},
    {.name = "keys: camelCase convention, Spec properties pass",
     .json = TRACK("Order Completed",
                   "{'order_id':'o','products':[{'product_id':'p','image_url':'u'}]}"),
     .opts = {KEY(GW_CASING_CAMEL)}},
    {.name = "keys: camelCase convention, reserved trait in snake_case",
     .json = IDENTIFY("{'first_name':'Ada','planTier':'pro'}"),
     .opts = {KEY(GW_CASING_CAMEL)}},
    {.name = "keys: camelCase convention, custom trait in snake_case",
     .json = IDENTIFY("{'plan_tier':'pro'}"),
     .opts = {KEY(GW_CASING_CAMEL)},
     .want = {{"casing", "traits.plan_tier"}}},
    {.name = "keys: lowercase convention",
     .json = CUSTOM("{'ticket id':'t1'}"),
     .opts = {KEY(GW_CASING_LOWER)}},
    {.name = "keys: Copilot camelCase ids on their event",
     .json = TRACK("Message Sent", "{'conversationId':'c','messageId':'m','message_body':'hi'}")},
    {.name = "keys: Copilot camelCase ids on a custom event",
     .json = CUSTOM("{'conversationId':'c'}"),
     .want = {{"casing", "properties.conversationId"}}},
    {.name = "keys: Video Quality Updated camelCase properties",
     .json = TRACK("Video Quality Updated", "{'startupTime':1.5,'droppedFrames':2}")},
    {.name = "keys: traits, reserved camelCase passes",
     .json = IDENTIFY("{'firstName':'Ada','createdAt':'2020-01-01','address':{'postalCode':'1'}}")},
    {.name = "keys: traits, custom camelCase",
     .json = IDENTIFY("{'planTier':'pro'}"),
     .want = {{"casing", "traits.planTier"}}},
    {.name = "keys: traits, reserved name in PascalCase",
     .json = IDENTIFY("{'FirstName':'Ada'}"),
     .want = {{"casing", "traits.FirstName"}}},
    {.name = "keys: group traits",
     .json = GROUP("{'employeeCount':5}"),
     .want = {{"casing", "traits.employeeCount"}}},
    {.name = "keys: page properties",
     .json = PAGE("'properties':{'pageType':'x'}"),
     .want = {{"casing", "properties.pageType"}}},

    /* ---- semantic event property types ---- */
    {.name = "types: revenue a numeric string",
     .json = TRACK("Order Completed", "{'revenue':'12.5'}"),
     .want = {{"type", "properties.revenue"}}},
    {.name = "types: total a boolean",
     .json = TRACK("Order Completed", "{'total':true}"),
     .want = {{"type", "properties.total"}}},
    {.name = "types: products a string",
     .json = TRACK("Order Completed", "{'products':'p1,p2'}"),
     .want = {{"type", "properties.products"}}},
    {.name = "types: products an object",
     .json = TRACK("Order Completed", "{'products':{'product_id':'p'}}"),
     .want = {{"type", "properties.products"}}},
    {.name = "types: a product not an object",
     .json = TRACK("Order Completed", "{'products':[{'price':1},'p2']}"),
     .want = {{"type", "properties.products[1]"}}},
    {.name = "types: a product null",
     .json = TRACK("Cart Viewed", "{'products':[null]}"),
     .want = {{"type", "properties.products[0]"}}},
    {.name = "types: product price a string",
     .json = TRACK("Order Completed", "{'products':[{'price':9},{'price':9},{'price':'9.99'}]}"),
     .want = {{"type", "properties.products[2].price"}}},
    {.name = "types: product quantity a string",
     .json = TRACK("Checkout Started", "{'products':[{'quantity':'2'}]}"),
     .want = {{"type", "properties.products[0].quantity"}}},
    {.name = "types: several at once",
     .json = TRACK("Order Completed", "{'revenue':'1','tax':'2','products':[{'price':'3'}]}"),
     .want = {{"type", "properties.revenue"},
              {"type", "properties.tax"},
              {"type", "properties.products[0].price"}}},
    {.name = "types: Order Refunded total",
     .json = TRACK("Order Refunded", "{'total':'x'}"),
     .want = {{"type", "properties.total"}}},
    {.name = "types: Order Cancelled product price",
     .json = TRACK("Order Cancelled", "{'products':[{'price':'x'}]}"),
     .want = {{"type", "properties.products[0].price"}}},
    {.name = "types: custom event revenue (reserved track property)",
     .json = CUSTOM("{'revenue':'12'}"),
     .want = {{"type", "properties.revenue"}}},
    {.name = "types: custom event currency",
     .json = CUSTOM("{'currency':5}"),
     .want = {{"type", "properties.currency"}}},
    {.name = "types: Product Viewed flat price",
     .json = TRACK("Product Viewed", "{'price':'1'}"),
     .want = {{"type", "properties.price"}}},
    {.name = "types: Product List Filtered filter value",
     .json = TRACK("Product List Filtered", "{'filters':[{'type':'color','value':5}]}"),
     .want = {{"type", "properties.filters[0].value"}}},
    {.name = "types: Products Searched query a number",
     .json = TRACK("Products Searched", "{'query':5}"),
     .want = {{"type", "properties.query"}}},
    {.name = "types: Cart Shared product_id a number",
     .json = TRACK("Cart Shared", "{'products':[{'product_id':5}]}"),
     .want = {{"type", "properties.products[0].product_id"}}},
    {.name = "types: Checkout Step Viewed step a string",
     .json = TRACK("Checkout Step Viewed", "{'step':'2'}"),
     .want = {{"type", "properties.step"}}},
    {.name = "types: Promotion Viewed position is a string there",
     .json = TRACK("Promotion Viewed", "{'position':2}"),
     .want = {{"type", "properties.position"}}},
    {.name = "types: Coupon Applied discount",
     .json = TRACK("Coupon Applied", "{'discount':'5'}"),
     .want = {{"type", "properties.discount"}}},
    {.name = "types: Email Link Clicked link_url",
     .json = TRACK("Email Link Clicked", "{'link_url':5}"),
     .want = {{"type", "properties.link_url"}}},
    {.name = "types: Unsubscribed list_id",
     .json = TRACK("Unsubscribed", "{'list_id':5}"),
     .want = {{"type", "properties.list_id"}}},
    {.name = "types: Live Chat conversation_duration",
     .json = TRACK("Live Chat Conversation Ended", "{'conversation_duration':'60'}"),
     .want = {{"type", "properties.conversation_duration"}}},
    {.name = "types: Experiment Viewed experiment_id",
     .json = TRACK("Experiment Viewed", "{'experiment_id':5}"),
     .want = {{"type", "properties.experiment_id"}}},
    {.name = "types: Video position not an integer",
     .json = TRACK("Video Playback Paused", "{'position':12.5}"),
     .want = {{"type", "properties.position"}}},
    {.name = "types: Video full_screen a string",
     .json = TRACK("Video Playback Resumed", "{'full_screen':'true'}"),
     .want = {{"type", "properties.full_screen"}}},
    {.name = "types: Video content_asset_ids item",
     .json = TRACK("Video Playback Started", "{'content_asset_ids':['a',1]}"),
     .want = {{"type", "properties.content_asset_ids[1]"}}},
    {.name = "types: Video ad_asset_id as an array of strings",
     .json = TRACK("Video Playback Paused", "{'ad_asset_id':['a','b']}")},
    {.name = "types: Video ad_asset_id a number",
     .json = TRACK("Video Playback Paused", "{'ad_asset_id':5}"),
     .want = {{"type", "properties.ad_asset_id"}}},
    {.name = "types: Video airdate not a date",
     .json = TRACK("Video Content Started", "{'airdate':'yesterday'}"),
     .want = {{"format", "properties.airdate"}}},
    {.name = "types: Video Ad content.title",
     .json = TRACK("Video Ad Started", "{'content':{'title':5}}"),
     .want = {{"type", "properties.content.title"}}},
    {.name = "types: Video keywords a string",
     .json = TRACK("Video Content Playing", "{'keywords':'a'}"),
     .want = {{"type", "properties.keywords"}}},
    {.name = "types: Application Opened from_background",
     .json = TRACK("Application Opened", "{'from_background':'false'}"),
     .want = {{"type", "properties.from_background"}}},
    {.name = "types: Application Installed build a number",
     .json = TRACK("Application Installed", "{'build':42}"),
     .want = {{"type", "properties.build"}}},
    {.name = "types: Install Attributed campaign.source",
     .json = TRACK("Install Attributed", "{'campaign':{'source':1}}"),
     .want = {{"type", "properties.campaign.source"}}},
    {.name = "types: Push Notification Tapped campaign a string",
     .json = TRACK("Push Notification Tapped", "{'campaign':'x'}"),
     .want = {{"type", "properties.campaign"}}},
    {.name = "types: Trial Started date a number",
     .json = TRACK("Trial Started", "{'trial_start_date':1513299569}"),
     .want = {{"type", "properties.trial_start_date"}}},
    {.name = "types: Trial Ended date malformed",
     .json = TRACK("Trial Ended", "{'trial_end_date':'soon'}"),
     .want = {{"format", "properties.trial_end_date"}}},
    {.name = "types: Signed Up email",
     .json = TRACK("Signed Up", "{'email':5}"),
     .want = {{"type", "properties.email"}}},
    {.name = "types: Account Created account_name",
     .json = TRACK("Account Created", "{'account_name':5}"),
     .want = {{"type", "properties.account_name"}}},
    {.name = "types: Feedback Submitted rating a string",
     .json = TRACK("Feedback Submitted", "{'rating':'5'}"),
     .want = {{"type", "properties.rating"}}},

    /* ---- reserved traits ---- */
    {.name = "traits: email a number",
     .json = IDENTIFY("{'email':5}"),
     .want = {{"type", "traits.email"}}},
    {.name = "traits: age a numeric string",
     .json = IDENTIFY("{'age':'36'}"),
     .want = {{"type", "traits.age"}}},
    {.name = "traits: phone a number",
     .json = IDENTIFY("{'phone':15551234567}"),
     .want = {{"type", "traits.phone"}}},
    {.name = "traits: address a string",
     .json = IDENTIFY("{'address':'1 Main St'}"),
     .want = {{"type", "traits.address"}}},
    {.name = "traits: company a string",
     .json = IDENTIFY("{'company':'Acme'}"),
     .want = {{"type", "traits.company"}}},
    {.name = "traits: company.employee_count a string",
     .json = IDENTIFY("{'company':{'employee_count':'10'}}"),
     .want = {{"type", "traits.company.employee_count"}}},
    {.name = "traits: createdAt epoch seconds",
     .json = IDENTIFY("{'createdAt':1513299569}"),
     .want = {{"type", "traits.createdAt"}}},
    {.name = "traits: createdAt not ISO-8601",
     .json = IDENTIFY("{'createdAt':'last week'}"),
     .want = {{"format", "traits.createdAt"}}},
    {.name = "traits: created_at checked as createdAt",
     .json = IDENTIFY("{'created_at':'12/15/2017'}"),
     .want = {{"format", "traits.created_at"}}},
    {.name = "traits: birthday month 13",
     .json = IDENTIFY("{'birthday':'1990-13-01'}"),
     .want = {{"format", "traits.birthday"}}},
    {.name = "traits: wrong case and wrong type",
     .json = IDENTIFY("{'First_Name':5}"),
     .want = {{"casing", "traits.First_Name"}, {"type", "traits.First_Name"}}},
    {.name = "group traits: employees a boolean",
     .json = GROUP("{'employees':true}"),
     .want = {{"type", "traits.employees"}}},
    {.name = "group traits: plan a number",
     .json = GROUP("{'plan':5}"),
     .want = {{"type", "traits.plan"}}},
    {.name = "group traits: createdAt malformed",
     .json = GROUP("{'createdAt':'2015-02-30'}"),
     .want = {{"format", "traits.createdAt"}}},
    {.name = "group traits: website a number",
     .json = GROUP("{'website':5}"),
     .want = {{"type", "traits.website"}}},
    {.name = "group: traits a string", .json = GROUP("'x'"), .want = {{"type", "traits"}}},

    /* ---- fields that belong to no call ---- */
    {.name = "unplanned: email at the top of a track",
     .json = CALL("'type':'track','userId':'u1','event':'Ticket Created','email':'a@b.co'"),
     .want = {{"unplanned", "email"}}},
    {.name = "unplanned: properties on identify",
     .json = CALL("'type':'identify','userId':'u1','properties':{}"),
     .want = {{"unplanned", "properties"}}},
    {.name = "unplanned: traits on track",
     .json = CALL("'type':'track','userId':'u1','event':'Ticket Created','traits':{}"),
     .want = {{"unplanned", "traits"}}},
    {.name = "unplanned: traits on alias",
     .json = CALL("'type':'alias','userId':'u1','previousId':'p','traits':{}"),
     .want = {{"unplanned", "traits"}}},
    {.name = "unplanned: not reported when the type is unknown",
     .json = CALL("'type':'delete','userId':'u1','email':'x'"),
     .want = {{"format", "type"}}},

    /* ---- everything at once ---- */
    {.name = "many: every kind of mistake in one track",
     .json = "{'type':'track','event':'order completed','properties':{'Revenue':'x'},"
             "'timestamp':'now','messageId':'','extra':1}",
     .want = {{"required", "userId"},
              {"format", "messageId"},
              {"format", "timestamp"},
              {"integration", "context.integration"},
              {"casing", "event"},
              {"semantic", "event"},
              {"casing", "properties.Revenue"},
              {"unplanned", "extra"}}},
    {.name = "many: identify with bad id, context and traits",
     .json = "{'type':'identify','userId':5,'context':{'integration':{'name':'Acme'},"
             "'ip':[1]},'traits':{'age':'x','Plan':'pro'}}",
     .want = {{"type", "userId"},
              {"integration", "context.integration.name"},
              {"integration", "context.integration.version"},
              {"type", "context.ip"},
              {"type", "traits.age"},
              {"casing", "traits.Plan"}}},
};

/* The validator's violations appended to out (a JSON array) in their JSON
 * form, the one answers and reports use; returns how many. */
static size_t validate_json(const struct gw_spec_opts *opts, json_object *call, size_t index,
                            json_object *out)
{
    struct gw_violations found = {0};
    size_t n = gw_spec_validate(opts, call, index, &found);
    for (size_t i = 0; i < found.n; i++) {
        json_object_array_add(out, gw_violation_json(&found.v[i]));
    }
    gw_violations_fini(&found);
    return n;
}

static size_t check_size_json(size_t len, size_t index, const char *event, json_object *out)
{
    struct gw_violations found = {0};
    size_t n = gw_spec_check_size(len, index, event, &found);
    for (size_t i = 0; i < found.n; i++) {
        json_object_array_add(out, gw_violation_json(&found.v[i]));
    }
    gw_violations_fini(&found);
    return n;
}

static json_object *parse_case(const char *text)
{
    char *s = strdup(text);
    cr_assert_not_null(s);
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    json_object *o = json_tokener_parse(s);
    free(s);
    return o;
}

static void apply_tweak(struct gw_spec_opts *opts, const struct tweak *t)
{
    gw_spec_opts_init(opts);
    opts->integration = t->integration;
    opts->allow_anonymous = t->anon;
    if (t->event_casing > 0) {
        opts->event_casing = (enum gw_casing)(t->event_casing - 1);
    }
    if (t->key_casing > 0) {
        opts->key_casing = (enum gw_casing)(t->key_casing - 1);
    }
}

static const char *str_of(json_object *v, const char *key)
{
    json_object *m = NULL;
    return json_object_object_get_ex(v, key, &m) ? json_object_get_string(m) : "";
}

/* Checks one case of the table; every mismatch is reported with the case's
 * name, and the next case runs all the same. */
static void check_case(const struct vcase *c)
{
    json_object *call = parse_case(c->json);
    if (call == NULL && strcmp(c->json, "null") != 0) {
        cr_expect_fail("[%s] the case's JSON does not parse", c->name);
        return;
    }
    struct gw_spec_opts opts;
    apply_tweak(&opts, &c->opts);
    json_object *out = json_object_new_array();
    size_t n = validate_json(&opts, call, 7, out);
    const char *got = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY);

    size_t want_n = 0;
    while (want_n < MAX_WANT && c->want[want_n].rule != NULL) {
        want_n++;
    }
    cr_expect_eq(n, json_object_array_length(out), "[%s] return value and array disagree", c->name);
    cr_expect_eq(n, want_n, "[%s] want %zu violations, got %zu:\n%s", c->name, want_n, n, got);

    bool used[64] = {false};
    for (size_t w = 0; w < want_n; w++) {
        bool found = false;
        for (size_t j = 0; j < n && j < COUNT(used) && !found; j++) {
            json_object *v = json_object_array_get_idx(out, j);
            if (!used[j] && strcmp(str_of(v, "rule"), c->want[w].rule) == 0 &&
                strcmp(str_of(v, "field"), c->want[w].field) == 0) {
                used[j] = found = true;
            }
        }
        cr_expect(found, "[%s] missing violation {rule: %s, field: %s}; got:\n%s", c->name,
                  c->want[w].rule, c->want[w].field, got);
    }
    for (size_t j = 0; j < n; j++) {
        json_object *v = json_object_array_get_idx(out, j);
        json_object *index = NULL;
        cr_expect(json_object_object_get_ex(v, "index", &index) && json_object_get_int(index) == 7,
                  "[%s] violation %zu has no index 7", c->name, j);
        cr_expect(strlen(str_of(v, "message")) > 10, "[%s] violation %zu has no message", c->name,
                  j);
        cr_expect(strlen(str_of(v, "event")) > 0, "[%s] violation %zu has no event", c->name, j);
    }
    json_object_put(out);
    json_object_put(call);
}

/* The whole table in one process: a process per case (criterion's
 * parameterized tests) cost 25 ms each, the checks themselves microseconds.
 * cr_expect keeps going, so one run still reports every failing case. */
Test(validate, table)
{
    for (size_t i = 0; i < COUNT(cases); i++) {
        check_case(&cases[i]);
    }
}

/* ---- Shape and wording of violations ---- */

static json_object *run(const char *text, const struct gw_spec_opts *opts, size_t index)
{
    json_object *call = parse_case(text);
    json_object *out = json_object_new_array();
    validate_json(opts, call, index, out);
    json_object_put(call);
    return out;
}

static const char *field_of(json_object *out, size_t i, const char *key)
{
    return str_of(json_object_array_get_idx(out, i), key);
}

Test(validate, messages_name_the_fix)
{
    json_object *out = run(CALL("'type':'track','event':'Email opened'"), NULL, 0);
    cr_assert_eq(json_object_array_length(out), 3);
    cr_expect_str_eq(
        field_of(out, 0, "message"),
        "userId is required: map the customer's own id (the partner rule of the Spec)");
    cr_expect_str_eq(field_of(out, 1, "message"),
                     "event name 'Email opened' is not in Proper Case");
    cr_expect_str_eq(field_of(out, 2, "message"),
                     "'Email opened' is close to the Spec event 'Email Opened'; use the Spec name");
    json_object_put(out);

    out = run(EVENT("Email Open"), NULL, 0);
    cr_assert_eq(json_object_array_length(out), 1);
    cr_expect_str_eq(field_of(out, 0, "message"),
                     "'Email Open' is close to the Spec event 'Email Opened'; use the Spec name");
    json_object_put(out);

    out = run(TRACK("Order Completed", "{'products':[{'price':'9.99'}]}"), NULL, 0);
    cr_assert_eq(json_object_array_length(out), 1);
    cr_expect_str_eq(field_of(out, 0, "message"),
                     "properties.products[0].price must be a number, not a string "
                     "(the Spec event 'Order Completed')");
    json_object_put(out);
}

Test(validate, near_miss_names_the_intended_event)
{
    static const struct {
        const char *name;
        const char *spec;
    } pairs[] = {
        {"Order Canceled", "Order Cancelled"},
        {"Email Link Click", "Email Link Clicked"},
        {"Sign Up", "Signed Up"},
        {"Check Out Started", "Checkout Started"},
        {"Products Added", "Product Added"},
        {"Unsubscribe", "Unsubscribed"},
    };
    for (size_t i = 0; i < COUNT(pairs); i++) {
        char json[256];
        snprintf(json, sizeof(json), EVENT("%s"), pairs[i].name);
        json_object *out = run(json, NULL, 0);
        char want[160];
        snprintf(want, sizeof(want), "'%s' is close to the Spec event '%s'; use the Spec name",
                 pairs[i].name, pairs[i].spec);
        cr_expect_eq(json_object_array_length(out), 1, "%s", pairs[i].name);
        cr_expect_str_eq(field_of(out, 0, "message"), want);
        json_object_put(out);
    }
}

Test(validate, violation_shape_and_event)
{
    json_object *out = run(TRACK("Ticket Created", "{'Bad Key':1}"), NULL, 41);
    cr_assert_eq(json_object_array_length(out), 1);
    json_object *v = json_object_array_get_idx(out, 0);
    cr_expect_eq(json_object_object_length(v), 5);
    cr_expect_eq(json_object_get_int(json_object_object_get(v, "index")), 41);
    cr_expect_str_eq(field_of(out, 0, "event"), "Ticket Created");
    cr_expect_str_eq(field_of(out, 0, "field"), "properties.Bad Key");
    cr_expect_str_eq(field_of(out, 0, "rule"), "casing");
    cr_expect_str_eq(field_of(out, 0, "message"), "property key 'Bad Key' is not in snake_case");
    json_object_put(out);

    out = run(CALL("'type':'identify','userId':''"), NULL, 0);
    cr_expect_str_eq(field_of(out, 0, "event"), "identify");
    json_object_put(out);
    out = run(CALL("'type':'track','userId':'u1'"), NULL, 0);
    cr_expect_str_eq(field_of(out, 0, "event"), "track");
    json_object_put(out);
    out = run(CALL("'userId':'u1'"), NULL, 0);
    cr_expect_str_eq(field_of(out, 0, "event"), "unknown");
    json_object_put(out);
}

Test(validate, appends_and_counts)
{
    json_object *out = json_object_new_array();
    json_object *bad = parse_case("{'type':'track'}");
    json_object *good = parse_case(EVENT("Ticket Created"));
    size_t first = validate_json(NULL, bad, 0, out);
    size_t second = validate_json(NULL, good, 1, out);
    size_t third = validate_json(NULL, bad, 2, out);
    cr_expect_eq(first, 3);
    cr_expect_eq(second, 0);
    cr_expect_eq(third, 3);
    cr_expect_eq(json_object_array_length(out), 6);
    cr_expect_eq(
        json_object_get_int(json_object_object_get(json_object_array_get_idx(out, 5), "index")), 2);
    json_object_put(bad);
    json_object_put(good);
    json_object_put(out);
}

Test(validate, long_values_are_clipped_in_messages)
{
    char name[1200];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char json[1400];
    snprintf(json, sizeof(json), EVENT("%s"), name);
    json_object *out = run(json, NULL, 0);
    cr_assert_eq(json_object_array_length(out), 1);
    const char *msg = field_of(out, 0, "message");
    cr_expect_lt(strlen(msg), 200, "message of %zu bytes", strlen(msg));
    cr_expect_not_null(strstr(msg, "..."));
    cr_expect_eq(strlen(field_of(out, 0, "event")), sizeof(name) - 1, "E is the whole name");
    json_object_put(out);
}

Test(validate, deep_nesting_is_bounded)
{
    json_object *call = parse_case(EVENT("Ticket Created"));
    json_object *props = json_object_new_object();
    json_object *leaf = props;
    for (int i = 0; i < 200; i++) {
        json_object *next = json_object_new_object();
        json_object_object_add(leaf, "Deep", next);
        leaf = next;
    }
    json_object_object_add(call, "properties", props);
    json_object *out = json_object_new_array();
    size_t n = validate_json(NULL, call, 0, out);
    cr_expect_gt(n, 0);
    cr_expect_leq(n, 40, "the walk stops at a fixed depth (%zu)", n);
    json_object_put(out);
    json_object_put(call);
}

Test(validate, opts_defaults)
{
    struct gw_spec_opts o;
    memset(&o, 0xff, sizeof(o));
    gw_spec_opts_init(&o);
    cr_expect_null(o.integration);
    cr_expect_eq(o.event_casing, GW_CASING_PROPER);
    cr_expect_eq(o.key_casing, GW_CASING_SNAKE);
    cr_expect_eq(o.allow_anonymous, false);
}

Test(validate, size_limit)
{
    json_object *out = json_object_new_array();
    cr_expect_eq(check_size_json(0, 0, "Email Opened", out), 0);
    cr_expect_eq(check_size_json(GW_SPEC_MAX_CALL_BYTES, 0, "Email Opened", out), 0);
    cr_expect_eq(json_object_array_length(out), 0);
    cr_expect_eq(check_size_json(GW_SPEC_MAX_CALL_BYTES + 1, 3, "Email Opened", out), 1);
    cr_expect_eq(check_size_json(1000000, 4, NULL, out), 1);
    cr_assert_eq(json_object_array_length(out), 2);
    cr_expect_str_eq(field_of(out, 0, "rule"), "size");
    cr_expect_str_eq(field_of(out, 0, "field"), "(root)");
    cr_expect_str_eq(field_of(out, 0, "event"), "Email Opened");
    cr_expect_str_eq(
        field_of(out, 0, "message"),
        "the call is 32001 bytes serialized; Segment takes at most 32000 bytes per call");
    cr_expect_eq(
        json_object_get_int(json_object_object_get(json_object_array_get_idx(out, 0), "index")), 3);
    cr_expect_str_eq(field_of(out, 1, "event"), "unknown");
    json_object_put(out);
}
