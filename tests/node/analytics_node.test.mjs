// The real @segment/analytics-node pointed at sourcegate by its `host`
// option: its calls are validated and reach a Segment stand-in; with
// api.on_invalid: reject, a call that breaks the Spec is refused (422, the
// library sees it) and never reaches it. The default, quarantine, is tested
// with the other clients in segment_clients.test.mjs.
// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { makeSpool, startSourcegate, startStandIn, stopSourcegate, until } from './daemon.mjs';

test('analytics-node calls arrive validated at the stand-in', { timeout: 60000 }, async () => {
  const standIn = await startStandIn();
  const spool = makeSpool();
  const { proc, port } = await startSourcegate(`http://127.0.0.1:${standIn.port}/v1`, spool.dir,
    { config: 'api:\n  on_invalid: reject\n' });
  try {
    const integration = { name: 'acme', version: '1.0.0' };
    const analytics = new Analytics({
      writeKey: 'wk_node', host: `http://127.0.0.1:${port}`, flushAt: 3, flushInterval: 200,
      maxRetries: 0,
    });
    const errors = [];
    analytics.on('error', (e) => errors.push(e));
    const sent = (fn, params) => new Promise((resolve) => fn.call(analytics, params,
      (err, ctx) => resolve({ err, ctx })));
    const results = await Promise.all([
      sent(analytics.track, { userId: 'user-1', event: 'Order Completed',
        properties: { order_id: 'o-1', revenue: 12.5, currency: 'USD' }, context: { integration } }),
      sent(analytics.identify, { userId: 'user-1', traits: { email: 'ada@example.com',
        firstName: 'Ada' }, context: { integration } }),
      sent(analytics.page, { userId: 'user-1', name: 'Pricing', properties: { path: '/pricing' },
        context: { integration } }),
    ]);
    for (const r of results) assert.equal(r.err, undefined, String(r.err));
    assert.ok(await until(() => standIn.requests.reduce((n, q) => n + q.body.batch.length, 0) >= 3,
      10000), 'the three calls reach the stand-in');

    // A call that breaks the Spec: sourcegate answers 422, the library
    // reports the failure, and nothing of it leaves.
    const bad = await sent(analytics.track, { userId: 'user-2', event: 'order completed',
      properties: { revenue: '12.5' }, context: { integration } });
    await analytics.closeAndFlush({ timeout: 5000 });
    assert.ok(bad.err || errors.length > 0, 'the library saw the refusal');

    const calls = standIn.requests.flatMap((q) => q.body.batch);
    assert.equal(calls.length, 3, JSON.stringify(calls));
    for (const q of standIn.requests) {
      assert.equal(q.path, '/v1/batch');
      assert.equal(q.auth, `Basic ${Buffer.from('wk_node:').toString('base64')}`);
      assert.ok(!JSON.stringify(q.body).includes('wk_node'), 'write key kept out of the calls');
    }
    const byType = Object.fromEntries(calls.map((c) => [c.type, c]));
    assert.equal(byType.track.event, 'Order Completed');
    assert.equal(byType.track.properties.revenue, 12.5);
    assert.equal(byType.identify.traits.firstName, 'Ada');
    assert.equal(byType.page.name, 'Pricing');
    for (const c of calls) {
      assert.equal(c.userId, 'user-1');
      assert.match(c.messageId, /.+/);
      assert.equal(c.context.library.name, '@segment/analytics-node');
      assert.deepEqual(c.context.integration, integration);
    }
  } finally {
    await stopSourcegate(proc);
    spool.remove();
    standIn.server.close();
  }
});
