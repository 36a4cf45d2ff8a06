#!/usr/bin/env node
/**
 * A test Time-Stamping Authority: OpenSSL's `openssl ts -reply` behind a small HTTP responder
 * (RFC 3161 §3.4), for the tests only. Started by test/tsa/tsa.ts as
 *
 *   node test/tsa/server.js CONFIG
 *
 * It listens on 127.0.0.1 on a free port and prints "listening PORT" once ready. It stops on
 * SIGTERM, or when its standard input closes (the test that started it is gone).
 *
 *   POST /tsa/SECTION   runs `openssl ts -reply -config CONFIG -section SECTION` on the request
 *   POST /fault/http500, /fault/hang, /fault/flood, /fault/redirect, /fault/html
 *                       misbehaving servers a TSA client must survive
 *   POST /fault/replay  the last reply of /tsa/tsa_rsa again, whatever was asked
 */
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const http = require('node:http');
const { dirname, join } = require('node:path');

const config = process.argv[2];
if (!config) {
  process.stderr.write('usage: server.js OPENSSL-CONFIG\n');
  process.exit(2);
}
const work = mkdtempSync(join(dirname(config), 'requests-'));
const MAX_REQUEST = 64 * 1024;
const FLOOD_BYTES = 5 * 1024 * 1024;
let counter = 0;
let lastRsaReply;
// openssl ts -reply reads and writes the serial file: one reply at a time.
let queue = Promise.resolve();

function runOpenssl(args) {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ status: -1, stderr: String(err) }));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

function reply(section, query) {
  const n = ++counter;
  const req = join(work, `${n}.tsq`);
  const resp = join(work, `${n}.tsr`);
  writeFileSync(req, query);
  const done = queue.then(() => runOpenssl(['ts', '-reply', '-config', config, '-section', section, '-queryfile', req, '-out', resp]));
  queue = done.then(() => undefined);
  return done.then(({ status, stderr }) => {
    try {
      if (status !== 0) return { error: `openssl ts -reply exited ${status}: ${stderr}` };
      return { body: readFileSync(resp) };
    } finally {
      rmSync(req, { force: true });
      rmSync(resp, { force: true });
    }
  });
}

const sockets = new Set();
const server = http.createServer((request, response) => {
  const path = request.url || '/';
  const chunks = [];
  let size = 0;
  request.on('data', (c) => {
    size += c.length;
    if (size <= MAX_REQUEST) chunks.push(c);
  });
  request.on('end', () => {
    if (path === '/fault/hang') return; // never answers
    if (path === '/fault/http500') {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      return response.end('internal error\n');
    }
    if (path === '/fault/redirect') {
      response.writeHead(302, { Location: '/tsa/tsa_rsa' });
      return response.end();
    }
    if (path === '/fault/html') {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      return response.end('<html><body>Please log in</body></html>\n');
    }
    if (path === '/fault/replay' && lastRsaReply) {
      response.writeHead(200, { 'Content-Type': 'application/timestamp-reply' });
      return response.end(lastRsaReply);
    }
    if (path === '/fault/flood') {
      // No Content-Length: the client must stop reading by itself.
      response.writeHead(200, { 'Content-Type': 'application/timestamp-reply' });
      const block = Buffer.alloc(64 * 1024, 0x30);
      let sent = 0;
      const pump = () => {
        while (sent < FLOOD_BYTES) {
          sent += block.length;
          if (!response.write(block)) return response.once('drain', pump);
        }
        response.end();
      };
      response.on('error', () => {});
      return pump();
    }
    const m = /^\/tsa\/([A-Za-z0-9_]+)$/.exec(path);
    if (request.method !== 'POST' || !m) {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      return response.end('not found\n');
    }
    if (size > MAX_REQUEST || request.headers['content-type'] !== 'application/timestamp-query') {
      response.writeHead(400, { 'Content-Type': 'text/plain' });
      return response.end('not a timestamp query\n');
    }
    reply(m[1], Buffer.concat(chunks)).then(({ body, error }) => {
      if (error) {
        process.stderr.write(`${error}\n`);
        response.writeHead(500, { 'Content-Type': 'text/plain' });
        return response.end(`${error}\n`);
      }
      if (m[1] === 'tsa_rsa') lastRsaReply = body;
      response.writeHead(200, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': body.length });
      response.end(body);
    });
  });
});
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

function stop() {
  server.close();
  for (const s of sockets) s.destroy();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
