'use strict';
// The baseline for bench/apps: the smallest Node `http` hello-world (no logging, no probes).
const http = require('http');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello World\n');
});
server.listen(Number(process.env.PORT || 0), () => {
  console.log(`bare-node listening on port ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
