// bodies.js -- writes the request bodies of bench/compare.sh into DIR:
//   sendgrid-N.json   SendGrid Event Webhook arrays of N events (N = 1, 10,
//                     100, 1000), cycling through the events of
//                     tests/data/sendgrid/email_events.user_id.json that the
//                     rules map to a call (those whose sg_event_id appears in
//                     its .expected.json), so that every event is accepted;
//   batch-100.json    a /v1/batch body of 100 calls: the calls of that
//                     expected file, cycled, each with its own messageId;
//   github.json       tests/data/golden/github/push.body (X-GitHub-Event: push).
// sg_event_id and messageId values are rewritten per request by post.lua.
// Usage: node bench/bodies.js DIR
// SPDX-License-Identifier: MIT
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/bodies.js DIR');
  process.exit(2);
}
const data = path.join(root, 'tests', 'data');
const read = (p) => JSON.parse(fs.readFileSync(path.join(data, p), 'utf8'));

const events = read('sendgrid/email_events.user_id.json');
const calls = read('sendgrid/email_events.user_id.expected.json');
const mappedIds = new Set(calls.map((c) => c.context.sendgrid.event_id));
const mapped = events.filter((e) => mappedIds.has(e.sg_event_id));
if (mapped.length === 0) {
  console.error('bodies: no mapped SendGrid event found');
  process.exit(1);
}

fs.mkdirSync(dir, { recursive: true });
for (const n of [1, 10, 100, 1000]) {
  const body = [];
  for (let i = 0; i < n; i++) {
    body.push({ ...mapped[i % mapped.length], sg_event_id: `gen-${n}-${i}` });
  }
  fs.writeFileSync(path.join(dir, `sendgrid-${n}.json`), JSON.stringify(body));
}

const batch = [];
for (let i = 0; i < 100; i++) {
  batch.push({ ...calls[i % calls.length], messageId: `gen-batch-${i}` });
}
fs.writeFileSync(path.join(dir, 'batch-100.json'), JSON.stringify({ batch }));

fs.copyFileSync(path.join(data, 'golden', 'github', 'push.body'), path.join(dir, 'github.json'));
