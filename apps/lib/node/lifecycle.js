'use strict';
/**
 * HTTP plumbing shared by the Node apps: /healthz and /readyz, one access-log line per request,
 * 404/405/400/408/431 for bad requests, and a SIGTERM/SIGINT drain that stops accepting, lets
 * in-flight requests finish and exits within 2 s (also as PID 1, where Node has no default
 * signal handlers).
 *
 * Slow or odd clients (the same limits as py-web-server): a request head must arrive complete
 * within 10 s (else 408), the whole request within 20 s; a head over 16 KiB is answered 431;
 * CONNECT is answered 405; at most 512 connections are open at once (more are answered 503 and
 * closed). PORT follows one rule in every app (parsePort); a port that cannot be listened on is
 * one line and exit 1. COLOR (the color the pod serves as, which the program sets) is answered
 * in an X-Color header on every answer, so requests can be counted by the color that served them.
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
/** A request head must be complete this long after the connection opened or the last answer. */
const HEADER_TIMEOUT_MS = 10000;
/** The whole request (head and body). */
const REQUEST_TIMEOUT_MS = 20000;
/** How often Node checks those two timeouts (its default, 30 s, would let a head take 40 s). */
const TIMEOUT_CHECK_MS = 1000;
/** Connections open at once; more are answered 503 and closed. */
const MAX_CONNECTIONS = 512;
/** After answering on a raw socket, what the client still sends is dropped for this long. */
const LINGER_MS = 1000;
const ALLOWED_METHODS = 'GET, HEAD';
/** PORT: decimal digits, no sign, spaces, point, exponent or leading zero (py-web-server too). */
const PORT_RE = /^(0|[1-9][0-9]{0,4})$/;
/** COLOR: a lower-case name such as blue or green (py-web-server too). */
const COLOR_RE = /^[a-z][a-z0-9-]{0,30}$/;
const LISTEN_ERRORS = {
  EADDRINUSE: 'another process is using it',
  EACCES: 'not allowed for this user (ports below 1024 need privileges)',
};
/** Marks a socket refused for being over MAX_CONNECTIONS: nothing else is answered on it. */
const REFUSED = Symbol('refused');

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
 * COLOR as py-web-server parses it (web_server.py, parse_color): unset or empty is no X-Color
 * header; else a lower-case name, which goes into every answer's headers as it is. Anything else
 * stops the app before it answers anything (a header value must never carry what a client could
 * not parse).
 */
function parseColor(raw) {
  if (raw === undefined || raw === '') return null;
  if (COLOR_RE.test(raw)) return raw;
  process.stderr.write(
    `invalid COLOR ${JSON.stringify(raw)}: allowed is a lower-case name such as blue or green ` +
      "(letters, digits and '-', starting with a letter, at most 31 characters)\n",
  );
  process.exit(2);
}

/** Read once, when the app loads: the apps build their answers at start-up. */
const COLOR = parseColor(process.env.COLOR);
const COLOR_HEADERS = COLOR === null ? {} : { 'X-Color': COLOR };
const COLOR_LINE = COLOR === null ? '' : `X-Color: ${COLOR}\r\n`;

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

  const server = http.createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADER_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    respond,
  );

  function respond(req, res) {
    if (req.socket[REFUSED]) return;
    const started = performance.now();
    // Every answer is made without reading a request body: when one comes, close after the
    // answer rather than keep reading it (a body trickled byte by byte would hold the
    // connection; Node's requestTimeout stops counting once the answer is sent).
    const body = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'];
    if (draining || body) res.setHeader('Connection', 'close');
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
  }

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
    if (err.code === 'ECONNRESET' || !socket.writable || socket[REFUSED]) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT'
          ? 408
          : 400;
    log.line(`${socket.remoteAddress || '-'} "-" ${status} 0.0ms ${err.code}`);
    answerAndClose(socket, rawAnswer(status));
  });

  // CONNECT (a proxy tunnel request) never reaches 'request'; without a listener Node closes
  // the connection unanswered.
  server.on('connect', (req, socket) => {
    const started = performance.now();
    answerAndClose(socket, rawAnswer(405, `Allow: ${ALLOWED_METHODS}\r\n`));
    log.line(accessLine(req, 405, performance.now() - started));
  });

  // A bound on open connections, so slow clients cannot pile up: the ones over it are told 503.
  let open = 0;
  server.on('connection', (socket) => {
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    if (open > MAX_CONNECTIONS) {
      socket[REFUSED] = true;
      socket.end(rawAnswer(503, 'Retry-After: 1\r\n'));
      socket.destroySoon();
      log.line(`${socket.remoteAddress || '-'} "-" 503 0.0ms too many connections`);
    }
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

  // A port in use (or not allowed) is one line, not a stack trace.
  const cannotListen = (err) => {
    const why = LISTEN_ERRORS[err.code] || err.message;
    process.stderr.write(`cannot listen on port ${port} (${err.code}): ${why}\n`);
    process.exit(1);
  };
  server.once('error', cannotListen);
  server.listen(port, () => {
    server.removeListener('error', cannotListen);
    onListen(server.address().port, log);
    log.line(`${name} listening on port ${server.address().port}`);
  });
  return server;
}

/**
 * Answers on a raw socket and closes it: what the client still sends is read and dropped for up
 * to LINGER_MS (closing with unread data would reset the connection before the client has read
 * the answer), then the socket is destroyed even if the client never closes its side, so such a
 * connection never stays half-open and counted.
 */
function answerAndClose(socket, data) {
  socket.end(data);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** A complete plain-text answer that closes the connection, for requests no handler sees. */
function rawAnswer(status, extra = '') {
  const reason = http.STATUS_CODES[status];
  return (
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${reason.length + 1}\r\n` +
    `Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n${COLOR_LINE}${extra}\r\n` +
    `${reason}\n`
  );
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
      ...COLOR_HEADERS,
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

/**
 * PORT as py-web-server parses it (web_server.py, parse_port): unset or empty is the default;
 * else decimal digits without sign, spaces, point, exponent or leading zero, 0-65535. Number()
 * alone would take ' 80', '1e3', '0x50' and '8080.0'.
 */
function parsePort(raw, fallback) {
  if (raw === undefined || raw === '') return fallback;
  if (PORT_RE.test(raw) && Number(raw) <= 65535) return Number(raw);
  process.stderr.write(
    `invalid PORT ${JSON.stringify(raw)}: allowed is a whole number 0-65535 in decimal digits ` +
      '(no sign, spaces, decimal point, exponent or leading zeros)\n',
  );
  process.exit(2);
}

module.exports = { serve, reply, text, clientAddress, MAX_HEADER_BYTES, DRAIN_DEADLINE_MS };
