'use strict';
// The baseline for bench/apps: the smallest Node `http` hello-world (no logging, no probes).
// BODY_BYTES makes it answer a body of that size instead, to compare with imageview's page.
const http = require('http');

const size = Number(process.env.BODY_BYTES || 0);
const body = size > 0 ? 'x'.repeat(size - 1) + '\n' : 'Hello World\n';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(body);
});
server.listen(Number(process.env.PORT || 0), () => {
  console.log(`bare-node listening on port ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
