'use strict';
/**
 * kubia (seed S3, "Kubernetes in Action" ch. 2): answers `you've hit <hostname>` on port 8080
 * and logs `Kubia server starting...` and one `Received request from <address> ...` line per
 * request. Health, readiness, bad requests and the SIGTERM drain live in lib/node/lifecycle.js.
 */
const os = require('os');
const { serve, text, clientAddress } = require('../lib/node/lifecycle');

const HIT = text(200, `you've hit ${os.hostname()}\n`);

console.log('Kubia server starting...');

serve({
  name: 'kubia',
  defaultPort: 8080,
  handle: (req, path) => (path === '/' ? HIT : null),
  accessLine: (req, status, ms) =>
    `Received request from ${clientAddress(req)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ` +
    `${status} ${ms.toFixed(1)}ms`,
  onListen: () => {},
});
