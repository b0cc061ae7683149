// Real Segment clients, with their calls unchanged, pointed at sourcegate's
// Segment-shaped endpoints: @segment/analytics-node with plain calls (the
// daemon stamps the configured context.integration), a flush holding one
// call that breaks the Spec (the rest are relayed, that one dead-lettered
// and listed in the answer), @rudderstack/rudder-sdk-node with its default
// gzip, and curl: gzip and deflate bodies, a gzip bomb, Basic auth without
// the colon, analytics-ruby's /v1/import, and the client's sentAt kept.
// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Analytics, FetchHTTPClient } from '@segment/analytics-node';
import Rudder from '@rudderstack/rudder-sdk-node';
import {
  deadLetters, makeSpool, memoryKiB, receivedCalls, startSourcegate, startStandIn,
  stopSourcegate, until,
} from './daemon.mjs';

const INTEGRATION = { name: 'acme', version: '1.0.0' };
const CONFIG = 'api:\n  integration: { name: acme, version: 1.0.0 }\n';
const basic = (s) => `Basic ${Buffer.from(s).toString('base64')}`;

// One daemon and one stand-in per test; fn gets {standIn, port, spool, proc}.
async function withDaemon(fn, options = { config: CONFIG }) {
  const standIn = await startStandIn();
  const spool = makeSpool();
  const daemon = await startSourcegate(`http://127.0.0.1:${standIn.port}/v1`, spool.dir, options);
  try {
    await fn({ standIn, port: daemon.port, spool: spool.dir, proc: daemon.proc });
  } finally {
    await stopSourcegate(daemon.proc);
    spool.remove();
    standIn.server.close();
  }
}

// The six call types as a partner's code makes them: no context.integration.
function sixCalls(analytics, userId) {
  analytics.track({ userId, event: 'Order Completed',
    properties: { order_id: 'o-1', revenue: 12.5, currency: 'USD' } });
  analytics.identify({ userId, traits: { email: 'ada@example.com', firstName: 'Ada' } });
  analytics.page({ userId, name: 'Pricing', properties: { path: '/pricing' } });
  analytics.screen({ userId, name: 'Home' });
  analytics.group({ userId, groupId: 'g-1', traits: { name: 'Acme Inc' } });
  analytics.alias({ userId, previousId: 'anon-1' });
}

// The list of refused calls in a 200 answer: the array whose entries carry
// {index, event, field, rule, message}.
function refusedIn(answer) {
  return Object.values(answer).find((v) => Array.isArray(v) && v.length > 0
    && v.every((e) => e && typeof e === 'object' && 'index' in e && 'rule' in e)) || [];
}

async function curlPost(url, file, headers) {
  const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '--data-binary', `@${file}`];
  for (const h of headers) args.push('-H', h);
  // a server may answer (413) before it has read the whole body: curl then
  // exits non-zero after printing the answer, which is what counts here
  const { stdout } = await promisify(execFile)('curl', [...args, url])
    .catch((e) => (typeof e.stdout === 'string' && /\n\d{3}$/.test(e.stdout) ? e : Promise.reject(e)));
  const nl = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl) };
}

test('analytics-node plain calls arrive stamped with the configured integration',
  { timeout: 60000 }, () => withDaemon(async ({ standIn, port }) => {
    const analytics = new Analytics({ writeKey: 'wk_node', host: `http://127.0.0.1:${port}`,
      flushAt: 6, flushInterval: 200, maxRetries: 0 });
    const errors = [];
    analytics.on('error', (e) => errors.push(e));
    sixCalls(analytics, 'user-1');
    await analytics.closeAndFlush({ timeout: 10000 });
    assert.deepEqual(errors, [], 'the library saw no failure');
    assert.ok(await until(() => receivedCalls(standIn).length >= 6, 10000),
      'the six calls reach the stand-in');
    const calls = receivedCalls(standIn);
    assert.deepEqual(calls.map((c) => c.type).sort(),
      ['alias', 'group', 'identify', 'page', 'screen', 'track']);
    for (const c of calls) {
      assert.deepEqual(c.context.integration, INTEGRATION, `${c.type} stamped`);
      assert.equal(c.context.library.name, '@segment/analytics-node', 'the library kept');
      assert.equal(c.userId, 'user-1');
    }
    for (const q of standIn.requests) assert.equal(q.auth, basic('wk_node:'));
  }));

test('one bad call in a flush: the six good ones arrive, the bad one is dead-lettered and listed',
  { timeout: 60000 }, () => withDaemon(async ({ standIn, port, spool }) => {
    const answers = [];
    const httpClient = new FetchHTTPClient(async (url, init) => {
      const res = await fetch(url, init);
      answers.push({ status: res.status, body: await res.clone().json() });
      return res;
    });
    const analytics = new Analytics({ writeKey: 'wk_node', host: `http://127.0.0.1:${port}`,
      flushAt: 7, flushInterval: 5000, maxRetries: 0, httpClient });
    const sent = [];
    const done = (ctx) => sent.push(ctx);
    sixCalls({
      track: (p) => analytics.track(p, (e, ctx) => done(ctx)),
      identify: (p) => analytics.identify(p, (e, ctx) => done(ctx)),
      page: (p) => analytics.page(p, (e, ctx) => done(ctx)),
      screen: (p) => analytics.screen(p, (e, ctx) => done(ctx)),
      group: (p) => analytics.group(p, (e, ctx) => done(ctx)),
      alias: (p) => analytics.alias(p, (e, ctx) => done(ctx)),
    }, 'user-2');
    let badId = null;
    analytics.track({ userId: 'user-2', event: 'order completed', properties: { order_id: 'o-2' } },
      (e, ctx) => { badId = ctx.event.messageId; done(ctx); });
    await analytics.closeAndFlush({ timeout: 10000 });

    assert.equal(answers.length, 1, 'one flush of seven calls');
    assert.equal(answers[0].status, 200, JSON.stringify(answers[0].body));
    const refused = refusedIn(answers[0].body);
    assert.ok(refused.length >= 1, JSON.stringify(answers[0].body));
    for (const v of refused) {
      assert.equal(v.index, 6, 'only the seventh call is refused');
      assert.equal(v.event, 'order completed');
      for (const k of ['field', 'rule', 'message']) assert.equal(typeof v[k], 'string', k);
    }
    assert.ok(refused.some((v) => v.field === 'event'), 'the event name is what is wrong');
    assert.ok(!JSON.stringify(answers[0].body).includes('wk_node'), 'no write key in the answer');

    assert.equal(sent.length, 7, 'every callback ran');
    assert.ok(await until(() => receivedCalls(standIn).length >= 6, 10000), 'the six arrive');
    const calls = receivedCalls(standIn);
    assert.equal(calls.length, 6, JSON.stringify(calls.map((c) => c.event || c.type)));
    assert.ok(calls.every((c) => c.event !== 'order completed' && c.messageId !== badId));

    const dead = deadLetters(spool);
    const mine = dead.filter((d) => d.body.includes(badId));
    assert.equal(mine.length, 1, `the bad call is a dead letter: ${JSON.stringify(dead)}`);
    const good = calls.map((c) => c.messageId);
    assert.ok(dead.every((d) => good.every((id) => !d.body.includes(id))),
      'no good call is a dead letter');
    assert.ok(dead.every((d) => !d.body.includes('wk_node') && !(d.reason || '').includes('wk_node')),
      'no write key in the dead letters');
  }));

test('rudder-sdk-node with its defaults (gzip) reaches the stand-in', { timeout: 60000 },
  () => withDaemon(async ({ standIn, port }) => {
    const failures = [];
    const rudder = new Rudder('wk_rudder', { dataPlaneUrl: `http://127.0.0.1:${port}`, flushAt: 6,
      flushInterval: 200, retryCount: 0, errorHandler: (e) => failures.push(String(e)),
      logLevel: 'error' });
    sixCalls(rudder, 'user-3');
    await rudder.flush();
    assert.ok(await until(() => receivedCalls(standIn).length >= 6, 10000),
      `the six calls reach the stand-in (${failures.join('; ')})`);
    const calls = receivedCalls(standIn);
    assert.deepEqual(calls.map((c) => c.type).sort(),
      ['alias', 'group', 'identify', 'page', 'screen', 'track']);
    for (const c of calls) {
      assert.equal(c.userId, 'user-3');
      assert.equal(c.context.library.name, 'analytics-node', 'rudder names itself so');
      assert.deepEqual(c.context.integration, INTEGRATION);
      assert.match(c.originalTimestamp, /^\d{4}-/, 'the client clock kept');
    }
    for (const q of standIn.requests) assert.equal(q.auth, basic('wk_rudder:'));
  }));

// A batch whose client clock is ten seconds ahead of its calls' clocks:
// Segment corrects with timestamp = receivedAt - (sentAt - originalTimestamp),
// so that difference must survive the relay.
function skewedBatch(tag) {
  return {
    batch: ['Order Completed', 'Product Viewed'].map((event, i) => ({
      type: 'track', userId: `user-${tag}`, event, messageId: `${tag}-${i}`,
      properties: { order_id: `o-${tag}`, product_id: `p-${i}` },
      originalTimestamp: '2026-12-01T10:00:00.000Z',
    })),
    sentAt: '2026-12-01T10:00:10.000Z',
  };
}

function clientSkewMs(call, batch) {
  return Date.parse(call.sentAt ?? batch.sentAt) - Date.parse(call.originalTimestamp);
}

test('curl: gzip and deflate bodies arrive, with the client sentAt kept', { timeout: 60000 },
  () => withDaemon(async ({ standIn, port, spool }) => {
    const bodies = {
      gzip: zlib.gzipSync(JSON.stringify(skewedBatch('gz'))),
      deflate: zlib.deflateSync(JSON.stringify(skewedBatch('zl'))),
    };
    for (const [coding, bytes] of Object.entries(bodies)) {
      const file = join(spool, '..', `batch.${coding}`);
      writeFileSync(file, bytes);
      const r = await curlPost(`http://127.0.0.1:${port}/v1/batch`, file, [
        'Content-Type: application/json', `Content-Encoding: ${coding}`,
        `Authorization: ${basic('wk_curl:')}`]);
      assert.equal(r.status, 200, `${coding}: ${r.body}`);
    }
    assert.ok(await until(() => receivedCalls(standIn).length >= 4, 10000), 'four calls arrive');
    for (const q of standIn.requests) {
      for (const call of q.body.batch) {
        assert.equal(clientSkewMs(call, q.body), 10000, `sentAt - originalTimestamp of ${call.messageId}`);
      }
    }
    assert.deepEqual(receivedCalls(standIn).map((c) => c.messageId).sort(),
      ['gz-0', 'gz-1', 'zl-0', 'zl-1']);
  }));

test('curl: a gzip bomb is refused with 413 and the daemon stays small', { timeout: 60000 },
  () => withDaemon(async ({ standIn, port, spool, proc }) => {
    // valid JSON once inflated: 100 MiB of blanks inside a batch
    const pad = Buffer.alloc(100 * 1024 * 1024, 0x20);
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('{"batch":['), pad,
      Buffer.from('{"type":"track","userId":"u","event":"Order Completed"}]}')]), { level: 9 });
    assert.ok(bomb.length < 512 * 1024, `small on the wire: ${bomb.length}`);
    const file = join(spool, '..', 'bomb.gz');
    writeFileSync(file, bomb);
    const before = memoryKiB(proc.pid);
    const r = await curlPost(`http://127.0.0.1:${port}/v1/batch`, file, [
      'Content-Type: application/json', 'Content-Encoding: gzip',
      `Authorization: ${basic('wk_curl:')}`]);
    assert.equal(r.status, 413, r.body);
    assert.equal(JSON.parse(r.body).error, 'payload_too_large');
    const after = memoryKiB(proc.pid);
    assert.ok(after.peak - before.rss < 32 * 1024,
      `peak RSS grew ${after.peak - before.rss} KiB for a 100 MiB bomb`);

    // still serving, and nothing of the bomb went on
    const ok = join(spool, '..', 'ok.json');
    writeFileSync(ok, JSON.stringify(skewedBatch('after')));
    const r2 = await curlPost(`http://127.0.0.1:${port}/v1/batch`, ok, [
      'Content-Type: application/json', `Authorization: ${basic('wk_curl:')}`]);
    assert.equal(r2.status, 200, r2.body);
    assert.ok(await until(() => receivedCalls(standIn).length >= 2, 10000));
    assert.deepEqual(receivedCalls(standIn).map((c) => c.messageId).sort(), ['after-0', 'after-1']);
  }));

test('curl: Basic auth without the colon, and /v1/import as analytics-ruby sends it',
  { timeout: 60000 }, () => withDaemon(async ({ standIn, port, spool }) => {
    const file = join(spool, '..', 'import.json');
    writeFileSync(file, JSON.stringify(skewedBatch('rb')));
    const r = await curlPost(`http://127.0.0.1:${port}/v1/import`, file, [
      'Content-Type: application/json', `Authorization: ${basic('wk_nocolon')}`]);
    assert.equal(r.status, 200, r.body);
    assert.ok(await until(() => receivedCalls(standIn).length >= 2, 10000));
    assert.deepEqual(receivedCalls(standIn).map((c) => c.messageId).sort(), ['rb-0', 'rb-1']);
    for (const q of standIn.requests) {
      assert.equal(q.path, '/v1/batch');
      assert.equal(q.auth, basic('wk_nocolon:'), 'relayed with the write key');
    }
  }));
