// Shared by the debugger's tests: a Segment stand-in, the real binary on a
// free port, polling with a deadline.
// SPDX-License-Identifier: MIT
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const BIN = process.env.SOURCEGATE_BIN;
export const ROOT = process.env.GW_SOURCE_ROOT;
export const ARTIFACTS = process.env.GW_ARTIFACTS || '/tmp';

// Records every POST /v1/batch; answers `status` (settable) to each.
export function startStandIn() {
  const s = { calls: [], requests: 0, status: 200 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      s.requests++;
      if (s.status === 200) s.calls.push(...JSON.parse(body).batch);
      res.writeHead(s.status, { 'Content-Type': 'application/json' });
      res.end(s.status === 200 ? '{"success":true}' : '{"success":false,"message":"refused"}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      s.server = server;
      s.endpoint = `http://127.0.0.1:${server.address().port}/v1`;
      resolve(s);
    });
  });
}

// Starts the binary with args; resolves once `pattern` (a regexp with the
// port in group 1) shows in its log. The log stays readable as proc.log().
export function startDaemon(args, pattern = /listening on [^ ]*:(\d+) with/, extraEnv = {}) {
  const rules = args.includes('--rules') ? [] : ['--rules', `${ROOT}/rules`];
  const proc = spawn(BIN, ['serve', ...rules, ...args], { stdio: ['ignore', 'ignore', 'pipe'],
    env: Object.assign({}, process.env, extraEnv) });
  let log = '';
  proc.stderr.on('data', (c) => { log += c; });
  proc.log = () => log;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${log}`)), 15000);
    const check = () => {
      const m = pattern.exec(log);
      if (m) {
        clearTimeout(timer);
        proc.stderr.off('data', check);
        resolve({ proc, port: Number(m[1]) });
      }
    };
    proc.stderr.on('data', check);
    proc.on('exit', (code) => reject(new Error(`sourcegate exited ${code}:\n${log}`)));
  }).catch((e) => { proc.kill('SIGKILL'); throw e; });
}

// SIGTERM; resolves with the exit status, after printing the log when it
// is not 0 (a sanitizer's report is in it).
export function stopDaemon(proc) {
  return new Promise((resolve) => {
    const done = (code) => {
      if (code !== 0) console.log(proc.log().split('\n').filter((l) => !/"level":"(info|warn)"/.test(l)).join('\n'));
      resolve(code);
    };
    if (proc.exitCode !== null) { done(proc.exitCode); return; }
    proc.on('exit', done);
    proc.kill('SIGTERM');
  });
}

export async function until(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function example(rel) {
  return readFileSync(`${ROOT}/${rel}`, 'utf8');
}

export function post(base, path, body, headers = {}) {
  return fetch(base + path, { method: 'POST', body,
    headers: Object.assign({ 'Content-Type': 'application/json' }, headers) });
}
