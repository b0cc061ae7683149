// What the node tests share: the real sourcegate binary on a free loopback
// port, the Segment stand-in it relays to, and reads of what the daemon kept
// (its dead letters, its memory).
// SPDX-License-Identifier: MIT
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRecorder } from './recorder.mjs';

export const BIN = process.env.SOURCEGATE_BIN;
export const DATA = process.env.GW_TEST_DATA;

// The Segment stand-in: records every request (body decoded), answers 200.
export const startStandIn = startRecorder;

// Every call the stand-in received, in order.
export function receivedCalls(standIn) {
  return standIn.requests.filter((q) => q.method === 'POST').flatMap((q) => q.body.batch);
}

// The daemon, on a free port read back from its log line. options: config
// (YAML text, written to a file beside the spool), args (more flags).
export function startSourcegate(endpoint, spool, options = {}) {
  const args = ['serve', '--listen', '127.0.0.1:0', '--endpoint', endpoint, '--spool', spool,
    '--rules', `${DATA}/rules/api`, ...(options.args || [])];
  if (options.config !== undefined) {
    const file = join(spool, '..', `${spool.split('/').pop()}.yaml`);
    writeFileSync(file, options.config);
    args.push('--config', file);
  }
  const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${log}`)), 10000);
    proc.stderr.on('data', (c) => {
      log += c;
      const m = /listening on [^ ]*:(\d+) with/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), log: () => log });
      }
    });
    proc.on('exit', (code) => reject(new Error(`sourcegate exited ${code}:\n${log}`)));
  }).catch((e) => { proc.kill('SIGKILL'); throw e; });
}

export async function stopSourcegate(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.on('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

// A fresh spool directory under the system's temporary directory.
export function makeSpool() {
  const dir = mkdtempSync(join(tmpdir(), 'gwtest-node-'));
  return { dir: join(dir, 'spool'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function until(cond, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

// The dead letters the daemon kept in its spool (spool.db, table dead), read
// with the sqlite3 shell; WAL mode lets this read beside the running daemon.
// Each: {kind, source, status, reason, body (text)}.
export function deadLetters(spool) {
  const out = execFileSync('sqlite3', ['-readonly', '-json', join(spool, 'spool.db'),
    'SELECT id, kind, source, status, reason, CAST(body AS TEXT) AS body FROM dead ORDER BY id'],
  { encoding: 'utf8' });
  return out.trim() === '' ? [] : JSON.parse(out);
}

// The process's resident memory now and at its peak, in KiB (Linux).
export function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}
