'use strict';
/**
 * The Node images' Docker HEALTHCHECK: exits 0 when GET /healthz on this container's PORT answers
 * 200 within 2 s, else 1. One file instead of the same inline `node -e` line in every Dockerfile.
 */
const http = require('http');

const port = process.env.PORT || 8080;
const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', () => process.exit(1));
