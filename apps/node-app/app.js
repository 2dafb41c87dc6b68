'use strict';
/**
 * node-app (seed S2, "Introduction to Docker"): answers `<GREETING>\n` as text/plain, where
 * GREETING defaults to `Hello World` (version 0.1) and the dev stack's green color sets
 * `Welcome to Cloud` (version 0.2). Port 8080 instead of the seed's 80 so a non-root user can
 * bind it; the Kubernetes Service keeps port 80 outside.
 */
const { serve, text, clientAddress } = require('../lib/node/lifecycle');

const GREETING_REPLY = text(200, `${process.env.GREETING || 'Hello World'}\n`);

serve({
  name: 'node-app',
  defaultPort: 8080,
  handle: (req, path) => (path === '/' ? GREETING_REPLY : null),
  accessLine: (req, status, ms) =>
    `${clientAddress(req)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${ms.toFixed(1)}ms`,
  onListen: (port, log) => log.line(`Server running at http://0.0.0.0:${port}/`),
});
