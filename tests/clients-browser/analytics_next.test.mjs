// The real @segment/analytics-next in headless Chromium, on a page served
// from another loopback port, its Segment.io destination pointed at
// sourcegate by inline cdnSettings (no CDN asked): anonymous page and track
// calls and an identify reach the Segment stand-in, with the default
// delivery (POST /v1/p, /v1/t, /v1/i, text/plain, CORS preflight asking for
// Authorization) and with batching (POST /v1/b).
// SPDX-License-Identifier: MIT
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeSpool, receivedCalls, startSourcegate, startStandIn, stopSourcegate, until,
} from '../node/daemon.mjs';
import { bundlePage, launchBrowser, loopback, runPage, startPageServer } from './harness.mjs';

const INTEGRATION = { name: 'acme', version: '1.0.0' };
const basic = (s) => `Basic ${Buffer.from(s).toString('base64')}`;
let out;
let pages;
let browser;

before(async () => {
  out = process.env.GW_BROWSER_OUT || mkdtempSync(join(tmpdir(), 'gwtest-ajs-'));
  pages = await startPageServer(await bundlePage(out));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  pages?.server.close();
  if (!process.env.GW_BROWSER_OUT) rmSync(out, { recursive: true, force: true });
});

// The access log lines of the daemon for one method.
function accessLines(log, method) {
  return log.split('\n').filter((l) => l.includes('"module":"access"'))
    .map((l) => JSON.parse(l)).filter((e) => e.method === method);
}

for (const strategy of ['standard', 'batching']) {
  test(`analytics-next (${strategy}) calls from a page reach the stand-in`, { timeout: 90000 },
    async () => {
      const origin = new URL(pages.url).origin;
      const standIn = await startStandIn();
      const spool = makeSpool();
      const config = ['api:', '  integration: { name: acme, version: 1.0.0 }',
        `  cors_origins: ["${origin}"]`, '  allow_anonymous: true', ''].join('\n');
      const daemon = await startSourcegate(`http://127.0.0.1:${standIn.port}/v1`, spool.dir,
        { config });
      try {
        const r = await runPage(browser, pages.url, { writeKey: 'wk_browser',
          apiHost: `127.0.0.1:${daemon.port}/v1`, strategy });
        assert.deepEqual(r.results.map((x) => x.failed), [null, null, null],
          `delivered: ${JSON.stringify(r.results)} ${r.errors.join('; ')}`);
        const posts = new Set(r.seen.filter((s) => s.method === 'POST')
          .map((s) => new URL(s.url).pathname));
        assert.deepEqual([...posts].sort(), strategy === 'batching' ? ['/v1/b'] : ['/v1/i', '/v1/p', '/v1/t']);
        assert.ok(r.seen.every((s) => !s.url || loopback(s.url)), 'nothing left loopback');

        assert.ok(await until(() => receivedCalls(standIn).length >= 3, 10000),
          'the three calls reach the stand-in');
        const calls = receivedCalls(standIn);
        const byType = Object.fromEntries(calls.map((c) => [c.type, c]));
        assert.deepEqual(Object.keys(byType).sort(), ['identify', 'page', 'track']);
        assert.equal(byType.page.name, 'Pricing');
        assert.equal(byType.track.event, 'Order Completed');
        assert.equal(byType.track.properties.revenue, 12.5);
        assert.equal(byType.identify.userId, 'user-1');
        assert.equal(byType.identify.traits.firstName, 'Ada');
        for (const c of [byType.page, byType.track]) {
          assert.ok(!c.userId, 'sent anonymous');
          assert.equal(c.anonymousId, r.anonymousId);
        }
        for (const c of calls) {
          assert.deepEqual(c.context.integration, INTEGRATION);
          assert.equal(c.context.library.name, 'analytics.js');
          assert.equal(c.writeKey, undefined, 'write key taken out of the calls');
        }
        for (const q of standIn.requests) assert.equal(q.auth, basic('wk_browser:'));
        // the browser asked before each cross-origin POST, and was let through
        const preflights = accessLines(daemon.log(), 'OPTIONS');
        assert.ok(preflights.length >= 1, 'the CORS preflight reached the daemon');
        for (const p of preflights) assert.ok(p.status >= 200 && p.status < 300, JSON.stringify(p));
      } finally {
        await stopSourcegate(daemon.proc);
        spool.remove();
        standIn.server.close();
      }
    });
}
