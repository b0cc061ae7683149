// A loopback HTTP server that records every request exactly as a Segment
// client sent it (method, path, headers, raw and decoded body) and answers as
// Segment does: 200 {"success":true}, and CORS preflights allowed.
// SPDX-License-Identifier: MIT
import http from 'node:http';
import zlib from 'node:zlib';

export function decodeBody(raw, encoding) {
  if (encoding === 'gzip') return zlib.gunzipSync(raw);
  if (encoding === 'deflate') return zlib.inflateSync(raw);
  return raw;
}

export function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body = null;
      try {
        const text = decodeBody(raw, req.headers['content-encoding']).toString('utf8');
        body = text.length ? JSON.parse(text) : null;
      } catch (e) {
        body = { unparsed: String(e) };
      }
      requests.push({ method: req.method, path: req.url, headers: req.headers,
        auth: req.headers.authorization, rawLength: raw.length, body });
      const cors = {
        'Access-Control-Allow-Origin': req.headers.origin || '*',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
      };
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ...cors });
      res.end('{"success":true}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, requests, port: server.address().port }));
  });
}
