// Where the debugger is served: on a loopback main listener; not on any
// other unless admin.listen is set, and there behind admin.token when set.
// Also: the event stream resumes by Last-Event-ID, and no credential of a
// request reaches the admin answers.
// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, ROOT, startDaemon, startStandIn, stopDaemon, until, example, post } from './support.mjs';

const ADMIN_LINE = /debugger and admin endpoints on [^ ]*:(\d+)/;

// Reads an event stream until `count` events came, then closes it.
function readEvents(url, headers, count) {
  return new Promise((resolve, reject) => {
    const events = [];
    const req = http.get(url, { headers }, (res) => {
      let buf = '';
      res.on('data', (c) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (id && data) events.push({ id: Number(id[1]), data: JSON.parse(data[1]) });
          if (events.length >= count) { req.destroy(); resolve({ status: res.statusCode, events }); }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, events }));
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve({ events }) : reject(e)));
    req.setTimeout(10000, () => { req.destroy(); reject(new Error('no events')); });
  });
}

test('on a loopback listener the page and the admin routes are served', { timeout: 60000 }, async () => {
  const { proc, port } = await startDaemon(['--listen', '127.0.0.1:0', '--dry-run']);
  const base = `http://127.0.0.1:${port}`;
  try {
    const page = await fetch(`${base}/debugger`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.match(await page.text(), /sourcegate debugger/);
    const body = example('examples/sendgrid/open.json');
    // a write key in the URL (Basic auth) and a cookie: neither may show
    for (let i = 0; i < 3; i++) {
      const r = await post(base, '/webhooks/sendgrid', body,
        { Authorization: 'Basic ' + Buffer.from('wk_live_SECRET:').toString('base64'), Cookie: 'session=COOKIE' });
      assert.equal(r.status, 200);
    }
    const detail = await (await fetch(`${base}/admin/requests/2`)).text();
    assert.doesNotMatch(detail, /wk_live_SECRET|COOKIE|Authorization|d2tfbGl2ZV9TRUNSRVQ6/);
    assert.match(detail, /"write_key":"[0-9a-f]{8}"/);
    assert.match(detail, /"event":"Email Opened"/);
    // resume: after id 1 the stream starts at 2
    const s = await readEvents(`${base}/admin/events`, { 'Last-Event-ID': '1' }, 2);
    assert.deepEqual(s.events.map((e) => e.id), [2, 3]);
    assert.equal(s.events[0].data.source, 'sendgrid');
    assert.equal(s.events[0].data.status, 200);
    // what a proxy on this host forwards is not served the debugger
    for (const h of [{ 'X-Forwarded-For': '203.0.113.7' }, { Forwarded: 'for=203.0.113.7' }]) {
      assert.equal((await fetch(`${base}/admin/stats`, { headers: h })).status, 404);
      assert.equal((await fetch(`${base}/debugger`, { headers: h })).status, 404);
    }
  } finally {
    assert.equal(await stopDaemon(proc), 0);
  }
});

test('on a wildcard listener without admin.listen nothing of it is served', { timeout: 60000 }, async () => {
  const { proc, port } = await startDaemon(['--listen', '0.0.0.0:0', '--dry-run']);
  try {
    for (const path of ['/debugger', '/admin/events', '/admin/stats', '/admin/dead-letters']) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(r.status, 404, path);
    }
    const r = await fetch(`http://127.0.0.1:${port}/admin/replay`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 404);
  } finally {
    assert.equal(await stopDaemon(proc), 0);
  }
});

test('admin.listen serves it apart, behind admin.token', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwtest-admin-'));
  const cfg = join(dir, 'sourcegate.yaml');
  writeFileSync(cfg, 'admin:\n  listen: 127.0.0.1:0\n  token: ${ADMIN_TOKEN}\n  max_requests: 50\n');
  process.env.ADMIN_TOKEN = 'tok-3f9a7c';
  const { proc, port: main } = await startDaemon(['--config', cfg, '--listen', '0.0.0.0:0', '--dry-run']);
  delete process.env.ADMIN_TOKEN;
  const admin = `http://127.0.0.1:${ADMIN_LINE.exec(proc.log())[1]}`;
  try {
    assert.doesNotMatch(proc.log(), /tok-3f9a7c/);
    assert.equal((await fetch(`http://127.0.0.1:${main}/debugger`)).status, 404, 'not on the main listener');
    assert.equal((await fetch(`${admin}/debugger`)).status, 200, 'the page asks for the token itself');
    const none = await fetch(`${admin}/admin/stats`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /Bearer/);
    assert.equal((await fetch(`${admin}/admin/stats`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${admin}/admin/stats?token=tok-3f9a7c`)).status, 401, 'the query token is for the stream only');
    const ok = await fetch(`${admin}/admin/stats`, { headers: { Authorization: 'Bearer tok-3f9a7c' } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).ring.max_requests, 50);
    assert.equal((await fetch(`${admin}/admin/events`)).status, 401);
    await post(`http://127.0.0.1:${main}`, '/webhooks/sendgrid', example('examples/sendgrid/open.json'));
    const s = await readEvents(`${admin}/admin/events?token=tok-3f9a7c`, {}, 1);
    assert.equal(s.events[0].data.source, 'sendgrid');
    assert.equal((await fetch(`${admin}/webhooks/sendgrid`, { method: 'POST', body: '[]' })).status, 404,
      'the admin listener serves the admin routes only');
  } finally {
    assert.equal(await stopDaemon(proc), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sourcegate replay talks to the running daemon that owns the spool', { timeout: 60000 }, async () => {
  const standIn = await startStandIn();
  standIn.status = 400;
  const dir = mkdtempSync(join(tmpdir(), 'gwtest-admin-'));
  const spool = join(dir, 'spool');
  const { proc, port } = await startDaemon(['--listen', '127.0.0.1:0', '--spool', spool,
    '--endpoint', standIn.endpoint]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const key = { Authorization: 'Basic ' + Buffer.from('wk_replay:').toString('base64') };
    for (let i = 0; i < 2; i++) {
      assert.equal((await post(base, '/webhooks/sendgrid', example('examples/sendgrid/open.json'), key)).status, 200);
      await until(async () => (await (await fetch(`${base}/admin/dead-letters`)).json()).total === i + 1,
        30000, 'the dead letter');
    }
    standIn.status = 200;
    // one by id, on the daemon
    const list = await (await fetch(`${base}/admin/dead-letters`)).json();
    const one = await fetch(`${base}/admin/replay`, { method: 'POST', body: JSON.stringify({ id: list.items[0].id }) });
    assert.deepEqual(await one.json(), { success: true, replayed: 1, failed: 0, unverified: 0 });
    assert.equal((await fetch(`${base}/admin/replay`, { method: 'POST', body: '{"id": 999999}' })).status, 404);
    await until(() => standIn.calls.length === 1, 20000, 'the first call at the stand-in');
    // the spool is locked by the daemon: only the online path can replay it
    const out = execFileSync(BIN, ['replay', '--dead-letters', '--listen', `127.0.0.1:${port}`,
      '--spool', spool, '--rules', `${ROOT}/rules`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /replayed 1, still refused 0, unverified kept 0 \(on the running daemon\)/);
    await until(() => standIn.calls.length === 2, 20000, 'the second call at the stand-in');
    assert.equal(standIn.calls[1].event, 'Email Opened');
    assert.equal((await (await fetch(`${base}/admin/dead-letters`)).json()).total, 0);
    // a daemon on another spool is not asked: offline on a fresh spool finds nothing
    const other = execFileSync(BIN, ['replay', '--dead-letters', '--listen', `127.0.0.1:${port}`,
      '--spool', join(dir, 'other'), '--rules', `${ROOT}/rules`, '--endpoint', standIn.endpoint],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(other, /^replayed 0, still refused 0, unverified kept 0$/m);
  } finally {
    assert.equal(await stopDaemon(proc), 0);
    standIn.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an open event stream does not hold up a drain', { timeout: 60000 }, async () => {
  const { proc, port } = await startDaemon(['--listen', '127.0.0.1:0', '--dry-run']);
  const ended = new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/admin/events`, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      res.resume();
      res.on('end', resolve);
      res.on('error', resolve);
    }).on('error', reject);
  });
  await until(async () => (await (await fetch(`http://127.0.0.1:${port}/admin/stats`)).json()).streams === 1,
    10000, 'the stream');
  assert.equal(await stopDaemon(proc), 0);
  await ended;
  assert.doesNotMatch(proc.log(), /still in flight/);
});

test('a write key in a Segment-shaped body shows as its fingerprint only', { timeout: 60000 }, async () => {
  const { proc, port } = await startDaemon(['--listen', '127.0.0.1:0', '--dry-run',
    '--rules', `${process.env.GW_TEST_DATA}/rules/api`]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const call = { writeKey: 'wk_BODY_SECRET', userId: 'u1', event: 'Order Completed',
      properties: { order_id: 'o1' }, context: { integration: { name: 'acme', version: '1.0.0' } } };
    assert.equal((await post(base, '/v1/track', JSON.stringify(call))).status, 200);
    const detail = await (await fetch(`${base}/admin/requests/1`)).json();
    assert.doesNotMatch(JSON.stringify(detail), /wk_BODY_SECRET/);
    assert.match(detail.body, /"writeKey":"\(fingerprint [0-9a-f]{8}\)"/);
    assert.match(detail.write_key, /^[0-9a-f]{8}$/);
    assert.equal(detail.calls[0].event, 'Order Completed');
  } finally {
    assert.equal(await stopDaemon(proc), 0);
  }
});

test('a quarantined /v1 call on the dead letters shows its write key as a fingerprint only', { timeout: 60000 }, async () => {
  const standIn = await startStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'gwtest-admin-'));
  const { proc, port } = await startDaemon(['--listen', '127.0.0.1:0', '--spool', join(dir, 'spool'),
    '--endpoint', standIn.endpoint, '--rules', `${process.env.GW_TEST_DATA}/rules/api`]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const context = { integration: { name: 'acme', version: '1.0.0' } };
    const batch = { writeKey: 'wk_DEAD_SECRET', batch: [
      { type: 'track', userId: 'u1', event: 'Order Completed', properties: { order_id: 'o1' }, context },
      { type: 'track', userId: 'u2', properties: { order_id: 'o2' }, context, writeKey: 'wk_DEAD_SECRET' }] };
    const r = await post(base, '/v1/batch', JSON.stringify(batch));
    assert.equal(r.status, 200);
    assert.equal((await r.json()).refused, 1, 'the call without an event is quarantined');
    const list = await until(async () => {
      const j = await (await fetch(`${base}/admin/dead-letters`)).json();
      return j.total === 1 && j;
    }, 20000, 'the quarantined call');
    assert.doesNotMatch(JSON.stringify(list), /wk_DEAD_SECRET/);
    assert.equal(list.items[0].kind, 'api_call');
    assert.match(list.items[0].write_key, /^[0-9a-f]{8}$/);
    assert.equal(list.items[0].calls[0].userId, 'u2');
    // the same request on the Live side: the batch's keys are fingerprints
    const detail = await (await fetch(`${base}/admin/requests/1`)).text();
    assert.doesNotMatch(detail, /wk_DEAD_SECRET/);
    assert.match(detail, /\(fingerprint [0-9a-f]{8}\)/);
    await until(() => standIn.calls.length === 1, 20000, 'the valid call at the stand-in');
  } finally {
    assert.equal(await stopDaemon(proc), 0);
    standIn.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
