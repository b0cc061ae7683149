// Records exactly what @segment/analytics-node and @rudderstack/rudder-sdk-node
// send (paths, headers, decoded bodies) to a loopback recorder; prints JSON.
// Not a test: the facts the Segment-shaped endpoints are built to.
// Run: node tests/node/record-clients.mjs
// SPDX-License-Identifier: MIT
import { Analytics } from '@segment/analytics-node';
import Rudder from '@rudderstack/rudder-sdk-node';
import { startRecorder } from './recorder.mjs';

function sixCalls(client) {
  client.track({ userId: 'u1', event: 'Order Completed', properties: { revenue: 1 } });
  client.identify({ userId: 'u1', traits: { email: 'ada@example.com' } });
  client.page({ userId: 'u1', name: 'Pricing' });
  client.screen({ userId: 'u1', name: 'Home' });
  client.group({ userId: 'u1', groupId: 'g1' });
  client.alias({ userId: 'u1', previousId: 'a1' });
}

const rec = await startRecorder();
const host = `http://127.0.0.1:${rec.port}`;
const segment = new Analytics({ writeKey: 'wk_node', host, flushAt: 6, flushInterval: 200 });
sixCalls(segment);
await segment.closeAndFlush({ timeout: 5000 });
const rudder = new Rudder('wk_rudder', { dataPlaneUrl: host, flushAt: 6, flushInterval: 200 });
sixCalls(rudder);
await rudder.flush();
const end = Date.now() + 5000;
while (rec.requests.flatMap((q) => q.body?.batch || []).length < 12 && Date.now() < end) {
  await new Promise((r) => setTimeout(r, 50));
}
console.log(JSON.stringify(rec.requests, null, 1));
rec.server.close();
process.exit(0);
