// The page's script: the real @segment/analytics-next, loaded with its
// settings inline (no CDN is asked) and its Segment.io destination pointed at
// the apiHost the test gives. Bundled by esbuild at test time.
// SPDX-License-Identifier: MIT
import { AnalyticsBrowser } from '@segment/analytics-next';

// Runs the calls a website makes: an anonymous page and track, then an
// identify. Resolves with what the library says about each delivery.
window.runClient = async ({ writeKey, apiHost, strategy }) => {
  const segment = { apiKey: writeKey, apiHost, protocol: 'http' };
  if (strategy === 'batching') {
    segment.deliveryStrategy = { strategy: 'batching', config: { size: 3, timeout: 300 } };
  }
  const errors = [];
  const [analytics] = await AnalyticsBrowser.load(
    {
      writeKey,
      cdnSettings: {
        integrations: { 'Segment.io': segment },
        // the library's own usage metrics would go to apiHost/m: off
        metrics: { sampleRate: 0 },
      },
    },
    { integrations: { 'Segment.io': { apiHost, protocol: 'http' } } },
  );
  analytics.on('error', (e) => errors.push(String(e && (e.reason || e.code || e))));
  const delivered = (ctx) => ({
    type: ctx.event.type,
    messageId: ctx.event.messageId,
    failed: ctx.failedDelivery() ? String(ctx.failedDelivery().reason) : null,
  });
  const results = await Promise.all([
    analytics.page('Docs', 'Pricing', { plan: 'pro' }).then(delivered),
    analytics.track('Order Completed', { order_id: 'o-1', revenue: 12.5, currency: 'USD' })
      .then(delivered),
  ]);
  results.push(delivered(await analytics.identify('user-1', { email: 'ada@example.com',
    firstName: 'Ada' })));
  return { results, errors, anonymousId: analytics.user().anonymousId() };
};
