// server.js -- the service a partner would write by hand for what sourcegate
// does with SendGrid's Event Webhook: express parses the JSON array, each
// mapped event becomes an analytics.track with the event names, userId and
// properties of rules/sendgrid.yaml, and @segment/analytics-node batches
// them to Segment (here the stand-in of bench/compare.sh). POST /v1/batch
// hands each call to the library as it is. For comparison only: no
// signature check, no Spec validation, no durable queue.
// Usage: node server.js PORT SEGMENT_HOST (e.g. http://127.0.0.1:9000)
// SPDX-License-Identifier: MIT
'use strict';

const express = require('express');
const { Analytics } = require('@segment/analytics-node');

const port = Number(process.argv[2] || 0);
const host = process.argv[3] || 'http://127.0.0.1:9000';
const analytics = new Analytics({ writeKey: process.env.WRITE_KEY || 'wk_bench', host });
analytics.on('error', (err) => console.error('analytics:', err.reason || err));

const NAMES = {
  delivered: 'Email Delivered',
  open: 'Email Opened',
  click: 'Email Link Clicked',
  bounce: 'Email Bounced',
  spamreport: 'Email Marked as Spam',
  unsubscribe: 'Unsubscribed',
  group_unsubscribe: 'Unsubscribed',
};

function str(v) {
  return v === undefined || v === null ? undefined : String(v);
}

function properties(e) {
  const p = {
    email_id: e.sg_message_id,
    campaign_id: str(e.marketing_campaign_id),
    campaign_name: e.marketing_campaign_name,
    category: e.category,
  };
  switch (e.event) {
    case 'delivered':
      p.smtp_response = e.response;
      break;
    case 'open':
      p.machine_open = e.sg_machine_open;
      break;
    case 'click':
      p.link_url = e.url;
      p.link_id = str(e.url_offset && e.url_offset.index);
      break;
    case 'bounce':
      p.reason = e.reason;
      p.status = e.status;
      p.bounce_type = e.type;
      p.bounce_classification = e.bounce_classification;
      break;
    case 'unsubscribe':
    case 'group_unsubscribe':
      p.list_id = str(e.asm_group_id);
      break;
  }
  return p;
}

const app = express();
app.use(express.json({ limit: '4mb' }));

app.post('/webhooks/sendgrid', (req, res) => {
  if (!Array.isArray(req.body)) {
    return res.status(400).json({ success: false, error: 'not an array' });
  }
  let accepted = 0;
  for (const e of req.body) {
    const name = NAMES[e.event];
    if (!name || e.user_id === undefined) {
      continue;
    }
    analytics.track({
      userId: String(e.user_id),
      event: name,
      timestamp: new Date(e.timestamp * 1000),
      messageId: 'sendgrid-' + e.sg_event_id,
      context: {
        traits: { email: e.email },
        ip: e.ip,
        userAgent: e.useragent,
        sendgrid: { event_id: e.sg_event_id },
      },
      properties: properties(e),
    });
    accepted++;
  }
  res.json({ success: true, accepted });
});

app.post('/v1/batch', (req, res) => {
  const calls = (req.body && req.body.batch) || [];
  let accepted = 0;
  for (const c of calls) {
    const { type, ...rest } = c;
    if (typeof analytics[type] === 'function' && type !== 'on') {
      analytics[type](rest);
      accepted++;
    }
  }
  res.json({ success: true, accepted });
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log('port ' + server.address().port);
});

async function stop() {
  setTimeout(() => process.exit(1), 8000).unref(); // however the flush goes
  server.close();
  await analytics.closeAndFlush({ timeout: 5000 });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
