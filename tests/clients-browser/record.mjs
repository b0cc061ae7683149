// Records exactly what analytics-next sends from Chromium, with the default
// delivery and with batching, to a loopback recorder; prints it as JSON.
// Not a test: the facts the Segment-shaped endpoints are built to.
// SPDX-License-Identifier: MIT
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRecorder } from '../node/recorder.mjs';
import { bundlePage, startPageServer, launchBrowser, runPage } from './harness.mjs';

const out = mkdtempSync(join(tmpdir(), 'gw-ajs-'));
const rec = await startRecorder();
const pages = await startPageServer(await bundlePage(out));
const browser = await launchBrowser();
try {
  for (const strategy of ['standard', 'batching']) {
    const before = rec.requests.length;
    const result = await runPage(browser, pages.url, { writeKey: 'wk_browser',
      apiHost: `127.0.0.1:${rec.port}/v1`, strategy });
    console.log(JSON.stringify({ strategy, result, requests: rec.requests.slice(before) }, null, 1));
  }
} finally {
  await browser.close();
  pages.server.close();
  rec.server.close();
  rmSync(out, { recursive: true, force: true });
}
