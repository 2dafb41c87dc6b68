'use strict';
/**
 * imageview (seed S4, blue/green on GKE): a small page that shows this build's color, the host
 * name, PROJECT_ID (from the ConfigMap) and SECRET_ID (from the Secret). SECRET_KEY is read only
 * to say whether it is set: the book's app printed it into the page, which leaks the key to every
 * visitor; this one never writes its value anywhere (page, headers or logs).
 *
 * One program for both colors: `node lib/imageview/app.js imageview/<color>/color.json` (run from
 * apps/, or /app in the image). The blue and green folders hold only their color.json and the
 * Dockerfile that names it, so the two images are the same code in two visibly different colors.
 */
const fs = require('fs');
const os = require('os');
const { serve, reply, clientAddress } = require('../node/lifecycle');

/** Lower-case name (page title, header, log name) and two CSS hex colors. */
const COLOR_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const CSS_HEX = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/;

/** Reads and checks the color file; a bad one stops the app with one line saying what is wrong. */
function loadColor(file) {
  const fail = (why) => {
    process.stderr.write(`imageview: ${why}\n`);
    process.exit(2);
  };
  if (!file) fail('usage: node lib/imageview/app.js <color.json>');
  let color;
  try {
    color = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read color file ${JSON.stringify(file)}: ${err.message}`);
  }
  const ok =
    color !== null &&
    typeof color === 'object' &&
    COLOR_NAME.test(color.name) &&
    CSS_HEX.test(color.background) &&
    CSS_HEX.test(color.foreground);
  if (!ok) {
    fail(
      `invalid color file ${JSON.stringify(file)}: allowed is {"name": lower-case name, ` +
        `"background": "#rrggbb", "foreground": "#rrggbb"}`,
    );
  }
  return color;
}

const COLOR = loadColor(process.argv[2]);

function escapeHtml(value) {
  return String(value).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch],
  );
}

function shown(name) {
  const value = process.env[name];
  return value ? escapeHtml(value) : '<em>not set</em>';
}

// The environment is fixed for the life of the pod: render once, serve the same bytes.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>imageview: ${COLOR.name}</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font-family:system-ui,sans-serif;background:${COLOR.background};color:${COLOR.foreground}}
main{padding:2rem 3rem;border:4px solid ${COLOR.foreground};border-radius:12px}
h1{font-size:4rem;margin:0 0 1rem;text-transform:uppercase;letter-spacing:.1em}
dt{font-weight:bold;margin-top:.5rem}dd{margin:0;font-family:monospace;font-size:1.2rem}
</style>
</head>
<body>
<main>
<h1>${COLOR.name}</h1>
<dl>
<dt>Host</dt><dd id="host">${escapeHtml(os.hostname())}</dd>
<dt>PROJECT_ID</dt><dd id="project-id">${shown('PROJECT_ID')}</dd>
<dt>SECRET_ID</dt><dd id="secret-id">${shown('SECRET_ID')}</dd>
<dt>SECRET_KEY</dt><dd id="secret-key">${process.env.SECRET_KEY ? 'set (never shown)' : '<em>not set</em>'}</dd>
</dl>
</main>
</body>
</html>
`;

const PAGE_REPLY = reply(200, PAGE, {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'Referrer-Policy': 'no-referrer',
  'X-Imageview-Color': COLOR.name,
});

serve({
  name: `imageview-${COLOR.name}`,
  defaultPort: 8080,
  handle: (req, path) => (path === '/' ? PAGE_REPLY : null),
  accessLine: (req, status, ms) =>
    `${clientAddress(req)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${ms.toFixed(1)}ms`,
  onListen: () => {},
});
