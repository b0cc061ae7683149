/* test_relay_spool.c -- the relay on its spool: replay at start, a
 * restart, the memory window, a queue in backoff next to others, calls
 * put under other limits.
 * SPDX-License-Identifier: MIT */
#include "relay_fixture.h"

static void put_direct(const char *key, const struct calls *cs)
{
    const char *json[MAX_CALLS];
    size_t len[MAX_CALLS];
    for (size_t i = 0; i < cs->n; i++) {
        json[i] = cs->c[i].json;
        len[i] = cs->c[i].len;
    }
    cr_assert_eq(gw_spool_put(spool, key, mock_upstream_endpoint(mock), json, len, cs->n, NULL),
                 GW_OK);
}

Test(relay, replays_the_spool_at_start_oldest_first, .timeout = 30)
{
    struct calls a;
    struct calls b;
    fill(&a, 4, "oldA", 0);
    fill(&b, 3, "oldB", 0);
    put_direct("wk_A", &a);
    put_direct("wk_B", &b);
    struct gw_relay_opts o = quick_opts();
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 7, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(st.relayed, 7);
    cr_assert_eq(st.submitted, 0);
    cr_assert_eq(mock_upstream_count(mock), 2);
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    cr_assert_str_eq(r0->authorization, "Basic d2tfQTo=", "the oldest head goes first");
    mock_request_free(r0);
    cr_assert_eq(spool_depth(), 0);
}

Test(relay, unsent_calls_survive_a_restart, .timeout = 40)
{
    struct gw_relay_opts o = quick_opts();
    o.timeout_ms = 20000;
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.delay_ms = 60000});
    struct calls cs;
    fill(&cs, 5, "again", 0);
    submit("wk_test", cs.c, 5);
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    cr_assert_eq(gw_relay_stop(relay, 300), 5);
    gw_relay_destroy(relay);
    relay = NULL;
    /* What a restart does: the same spool, a new relay. */
    open_spool(0);
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS));
    stop_and_stats(5000, 0);
    assert_accepted("again", (const int[]){0, 1, 2, 3, 4}, 5);
}

Test(relay, memory_window_pages_calls_in_order, .timeout = 60)
{
    struct calls cs;
    fill(&cs, 60, "page", 100);
    struct gw_relay_opts o = quick_opts();
    o.max_batch_calls = 4;
    o.max_queue_bytes = 6 * cs.c[0].len; /* far less than what is queued */
    relay = gw_relay_create(&o, spool);
    submit("wk_test", cs.c, 60); /* all in the spool before the sender runs */
    cr_assert_eq(gw_relay_start(relay), GW_OK);
    cr_assert(mock_upstream_wait_calls(mock, 60, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    int ids[60];
    for (int i = 0; i < 60; i++) {
        ids[i] = i;
    }
    assert_accepted("page", ids, 60);
    for (size_t i = 0; i < mock_upstream_count(mock); i++) {
        cr_assert_leq(batch_len(i), 4);
    }
    cr_assert_eq(st.memory_calls, 0);
    cr_assert_eq(spool_depth(), 0);
}

Test(relay, a_spilled_queue_refills_in_order, .timeout = 60)
{
    struct calls a;
    struct calls b;
    fill(&a, 50, "spillA", 100);
    fill(&b, 10, "spillB", 100);
    size_t len = a.c[0].len;
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = 48 + 2 * len + 1; /* two calls a batch */
    o.max_queue_bytes = 20 * len;         /* a queue may hold two batches: 4 calls */
    relay = gw_relay_create(&o, spool);
    submit("wk_A", a.c, 25);
    submit("wk_B", b.c, 10);
    submit("wk_A", &a.c[25], 25);
    cr_assert_eq(gw_relay_start(relay), GW_OK);
    cr_assert(mock_upstream_wait_calls(mock, 60, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(st.relayed, 60);
    /* Each key's calls arrive in their order, whatever the spilling. */
    json_object *acc = mock_upstream_accepted_calls(mock);
    int next_a = 0;
    int next_b = 0;
    for (size_t j = 0; j < json_object_array_length(acc); j++) {
        const char *id = message_id(acc, j);
        bool is_a = strncmp(id, "spillA-", 7) == 0;
        int n = (int)strtol(id + 7, NULL, 10);
        cr_assert_eq(n, is_a ? next_a : next_b, "%s out of order", id);
        *(is_a ? &next_a : &next_b) += 1;
    }
    json_object_put(acc);
    cr_assert_eq(next_a, 50);
    cr_assert_eq(next_b, 10);
}

/* Waits (real time, no assertion on it) until the relay counted n
 * failures of cause; false on timeout. */
static bool wait_retried(unsigned cause, uint64_t n)
{
    int64_t until = mock_now_ms() + WAIT_MS;
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    while (st.retried[cause] < n && mock_now_ms() < until) {
        nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
        gw_relay_get_stats(relay, &st);
    }
    return st.retried[cause] >= n;
}

Test(relay, a_queue_in_backoff_does_not_hold_up_the_others, .timeout = 60)
{
    clock_manual(); /* time moves when the test says */
    struct calls slow;
    struct calls fast;
    fill(&slow, 40, "slow", 200);
    fill(&fast, 5, "fast", 0);
    struct gw_relay_opts o = quick_opts();
    o.max_rps = 0;                                  /* no budget: time moves by hand */
    o.max_batch_bytes = 48 + 2 * slow.c[0].len + 1; /* two slow calls per batch */
    o.max_queue_bytes = 8 * slow.c[0].len;          /* the window: 8 slow calls */
    /* wk_slow's first batch (the oldest head) gets a 503 and waits 60 s. */
    mock_upstream_push_reply(mock, (struct mock_reply){.status = 503, .retry_after = "60"});
    relay = gw_relay_create(&o, spool);
    submit("wk_slow", slow.c, 40);
    submit("wk_fast", fast.c, 5);
    cr_assert_eq(gw_relay_start(relay), GW_OK);
    cr_assert(wait_retried(GW_RELAY_RETRY_503, 1), "the relay did not take the 503");
    /* The slow queue's backlog (40 calls) is far over the window; the
     * fast calls behind it in the spool still go, once their flush_ms has
     * passed, while the slow queue waits out its Retry-After. */
    clock_advance_ms(o.flush_ms);
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS), "the fast queue was held up");
    cr_assert(wait_relayed(5, WAIT_MS));
    json_object *acc = mock_upstream_accepted_calls(mock);
    cr_assert_eq(json_object_array_length(acc), 5);
    for (size_t j = 0; j < json_object_array_length(acc); j++) {
        cr_assert_eq(strncmp(message_id(acc, j), "fast-", 5), 0);
    }
    json_object_put(acc);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_leq(st.memory_bytes, o.max_queue_bytes);
    /* Just short of the Retry-After: nothing more goes. Then past it. */
    size_t sent = mock_upstream_count(mock);
    clock_advance_ms(60000 - o.flush_ms - 1);
    cr_assert_eq(mock_upstream_count(mock), sent);
    clock_advance_ms(1);
    cr_assert(mock_upstream_wait_calls(mock, 45, WAIT_MS), "the slow queue did not resume");
    struct mock_request *first = mock_upstream_request(mock, 0);
    struct mock_request *retry = mock_upstream_request(mock, sent);
    cr_assert_eq(first->status, 503);
    cr_assert_str_eq(retry->authorization, first->authorization);
    cr_assert_geq(retry->at_ms - first->at_ms, 60000, "retried %lld ms after the 503",
                  (long long)(retry->at_ms - first->at_ms));
    mock_request_free(first);
    mock_request_free(retry);
    stop_and_stats(5000, 0);
}

Test(relay, too_large_calls_in_the_spool_go_to_the_dead_letters, .timeout = 30)
{
    struct calls cs;
    fill(&cs, 3, "misfit", 0);
    cs.c[1] = make_call(cs.text[1], CALL_SIZE, "misfit", 1, 300);
    put_direct("wk_test", &cs); /* put under larger limits */
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = 48 + cs.c[0].len + 10;
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 2, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    assert_accepted("misfit", (const int[]){0, 2}, 2);
    cr_assert_eq(st.dropped, 1);
    struct dead dl;
    read_dead(&dl);
    cr_assert_eq(dl.n, 1);
    cr_assert(has_message_id(&dl.d[0], "misfit-0001"));
    dead_fini(&dl);
}
