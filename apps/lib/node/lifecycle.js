'use strict';
/**
 * HTTP plumbing shared by the Node apps: /healthz and /readyz, one access-log line per request,
 * 404/405/400/431 for bad requests, and a SIGTERM/SIGINT drain that stops accepting, lets
 * in-flight requests finish and exits within 2 s (also as PID 1, where Node has no default
 * signal handlers).
 *
 * The one copy: every Node image is built with the context apps/ and copies this file to
 * /app/lib/node/, so `require('../lib/node/lifecycle')` from an app folder resolves the same way
 * in the repository and in the image (docs/apps.md, "Shared code").
 */
const http = require('http');
const { performance } = require('perf_hooks');

/** Longest time from SIGTERM to exit; Kubernetes and `docker stop` are told 2 s is enough. */
const DRAIN_DEADLINE_MS = 1500;
/** How often idle keep-alive connections are closed while draining. */
const DRAIN_POLL_MS = 25;
/** Larger request heads are answered 431 (Node's own default is 16 KiB too; made explicit). */
const MAX_HEADER_BYTES = 16 * 1024;
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Buffers log lines and writes them once per event-loop turn: one write syscall per request
 * would cost a measurable share of throughput (bench/apps), one per turn costs almost nothing.
 */
function createLog(stream) {
  let pending = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    stream.write(text);
  };
  return {
    line(text) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(text + '\n');
    },
    flush,
  };
}

function clientAddress(req) {
  return req.socket.remoteAddress || '-';
}

/**
 * Serves `handle(req, path)` on PORT (default `defaultPort`) on all interfaces. `handle` returns
 * an answer made by `reply`/`text` for paths it knows and `null` for the rest (answered 404).
 * `accessLine(req, status, ms)` formats the access-log line; `onListen(port, log)` may log a
 * banner of its own.
 */
function serve({ name, defaultPort, handle, accessLine, onListen }) {
  const log = createLog(process.stdout);
  const port = parsePort(process.env.PORT, defaultPort);
  let draining = false;

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const started = performance.now();
    if (draining) res.setHeader('Connection', 'close');
    let answer;
    try {
      answer = route(req);
    } catch (err) {
      process.stderr.write(`${name}: handler error: ${err && err.stack}\n`);
      answer = INTERNAL_ERROR;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    // Every answer is complete and handed to the socket here, so the line is written now rather
    // than from a per-request 'finish' listener (cheaper, bench/apps).
    log.line(accessLine(req, answer.status, performance.now() - started));
  });

  function route(req) {
    const url = req.url || '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    let answer;
    if (path === '/healthz') answer = HEALTHY;
    else if (path === '/readyz') answer = draining ? DRAINING : READY;
    else answer = handle(req, path);
    if (answer === null) return NOT_FOUND;
    if (req.method !== 'GET' && req.method !== 'HEAD') return METHOD_NOT_ALLOWED;
    return answer;
  }

  // Malformed or oversized requests never reach the handler; answer them here instead of
  // letting the socket die silently (Node's default) so clients see a 4xx.
  server.on('clientError', (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = http.STATUS_CODES[status];
    const remote = socket.remoteAddress || '-';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${reason.length + 1}\r\n\r\n${reason}\n`,
    );
    log.line(`${remote} "-" ${status} 0.0ms ${err.code}`);
  });

  function drain(signal) {
    if (draining) return;
    draining = true;
    log.line(`${name}: ${signal} received, draining`);
    const done = (how) => {
      log.line(`${name}: stopped (${how})`);
      log.flush();
      process.exit(0);
    };
    server.close(() => done('drained'));
    // Keep-alive connections with no request in progress would hold close() open forever.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS).unref();
    setTimeout(() => {
      server.closeAllConnections();
      done('deadline');
    }, DRAIN_DEADLINE_MS).unref();
  }
  process.on('SIGTERM', () => drain('SIGTERM'));
  process.on('SIGINT', () => drain('SIGINT'));

  server.listen(port, () => {
    onListen(server.address().port, log);
    log.line(`${name} listening on port ${server.address().port}`);
  });
  return server;
}

/**
 * A complete answer: status, every header (Content-Length included) and body. Apps build their
 * answers once at start-up and hand out the same object per request: no header set is built
 * per request, which keeps the apps close to a bare server (bench/apps).
 */
function reply(status, body, headers = {}) {
  return {
    status,
    body,
    headers: {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Type': 'text/plain; charset=utf-8',
      ...headers,
      'Content-Length': Buffer.byteLength(body),
    },
  };
}

function text(status, body) {
  return reply(status, body);
}

const HEALTHY = text(200, 'ok\n');
const READY = text(200, 'ready\n');
const DRAINING = text(503, 'draining\n');
const NOT_FOUND = text(404, 'not found\n');
const METHOD_NOT_ALLOWED = reply(405, 'method not allowed\n', { Allow: ALLOWED_METHODS });
const INTERNAL_ERROR = text(500, 'internal error\n');

function parsePort(raw, fallback) {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid PORT ${JSON.stringify(raw)}: allowed is an integer 0-65535\n`);
    process.exit(2);
  }
  return port;
}

module.exports = { serve, reply, text, clientAddress, MAX_HEADER_BYTES, DRAIN_DEADLINE_MS };
