'use strict';
/**
 * HTTP plumbing shared by the Node apps: /healthz and /readyz, one access-log line per request,
 * 404/405/400/431 for bad requests, and a SIGTERM/SIGINT drain that stops accepting, lets
 * in-flight requests finish and exits within 2 s (also as PID 1, where Node has no default
 * signal handlers).
 *
 * Vendored on purpose: every Node app folder is a self-contained Docker build context, so each
 * holds an identical copy of this file (tests/apps/test_layout.py checks that they match).
 * Edit one copy, then copy it over the others.
 */
const http = require('http');

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
 * Serves `handle(req)` on PORT (default `defaultPort`) on all interfaces. `handle` returns
 * `{status, headers, body}` for paths it knows and `null` for the rest (answered 404).
 * `accessLine(req, status, ms)` formats the access-log line; `onListen(port)` logs the banner.
 */
function serve({ name, defaultPort, handle, accessLine, onListen }) {
  const log = createLog(process.stdout);
  const port = parsePort(process.env.PORT, defaultPort);
  let draining = false;

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const started = process.hrtime.bigint();
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // A response that never finished (client went away) is logged as 499, as nginx does.
      const status = res.writableFinished ? res.statusCode : 499;
      log.line(accessLine(req, status, ms));
    });
    if (draining) res.setHeader('Connection', 'close');
    let reply;
    try {
      reply = route(req);
    } catch (err) {
      process.stderr.write(`${name}: handler error: ${err && err.stack}\n`);
      reply = text(500, 'internal error\n');
    }
    res.writeHead(reply.status, {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
  });

  function route(req) {
    const path = (req.url || '/').split('?', 1)[0];
    let reply;
    if (path === '/healthz') reply = text(200, 'ok\n');
    else if (path === '/readyz') reply = draining ? text(503, 'draining\n') : text(200, 'ready\n');
    else reply = handle(req, path);
    if (reply === null) return text(404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = text(405, 'method not allowed\n');
      refused.headers.Allow = ALLOWED_METHODS;
      return refused;
    }
    return reply;
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

function text(status, body) {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body };
}

function parsePort(raw, fallback) {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid PORT ${JSON.stringify(raw)}: allowed is an integer 0-65535\n`);
    process.exit(2);
  }
  return port;
}

module.exports = { serve, text, clientAddress, MAX_HEADER_BYTES, DRAIN_DEADLINE_MS };
