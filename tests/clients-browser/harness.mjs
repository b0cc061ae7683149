// What the browser tests share: analytics-next bundled by esbuild, a page
// served from its own loopback port (so that calls to sourcegate are
// cross-origin, as on a real website), and Debian's Chromium driven by
// playwright-core. Nothing leaves 127.0.0.0/8: Chromium resolves no host name
// and every request the page makes is listed for the test to check. (Requests
// are not intercepted: Playwright would answer CORS preflights itself.)
// SPDX-License-Identifier: MIT
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Bundles page.js (and the real library) into outdir/page.bundle.js.
export async function bundlePage(outdir) {
  const outfile = join(outdir, 'page.bundle.js');
  await build({ entryPoints: [join(HERE, 'page.js')], bundle: true, format: 'iife',
    platform: 'browser', target: 'chrome120', outfile, logLevel: 'error' });
  return outfile;
}

// Serves an empty page and the bundle on 127.0.0.1, a free port.
export function startPageServer(bundleFile) {
  const html = '<!doctype html><meta charset="utf-8"><title>shop</title>'
    + '<script src="/page.bundle.js"></script><body>shop</body>';
  const server = http.createServer((req, res) => {
    if (req.url === '/page.bundle.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(readFileSync(bundleFile));
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

export async function launchBrowser() {
  // root in a container has no user namespace for the sandbox
  return chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false,
    args: ['--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
}

export function loopback(url) {
  try {
    const u = new URL(url);
    return /^127\./.test(u.hostname) || u.protocol === 'data:' || u.protocol === 'about:';
  } catch {
    return false;
  }
}

// Opens pageUrl in a fresh context, runs the page's runClient(opts) and
// returns its result plus every request the page made.
export async function runPage(browser, pageUrl, opts) {
  const context = await browser.newContext();
  const seen = [];
  const page = await context.newPage();
  page.on('request', (r) => seen.push({ method: r.method(), url: r.url() }));
  page.on('console', (m) => seen.push({ console: m.type(), text: m.text() }));
  try {
    await page.goto(pageUrl);
    await page.waitForFunction(() => typeof window.runClient === 'function');
    const result = await page.evaluate((o) => window.runClient(o), opts);
    return { ...result, seen };
  } finally {
    await context.close();
  }
}
