// The portal's browser test (ctest browser_portal) and `make screenshots`.
//   node run.mjs PATH_TO_KRUISPUNT [--journeys SCRIPT] [--screenshots DIR]
// Starts the real demo in a scratch directory (with this process's
// environment, so KRUISPUNT_* variables configure it), then runs
// journeys.mjs, or SCRIPT (tests/interop/oidc), in a child node whose NODE_EXTRA_CA_CERTS is the demo's CA: Playwright's
// client-certificate proxy (the eID login) checks the eID listener's
// certificate with node's trust store, which only reads that variable at
// start. Chromium itself trusts only the demo server's key (journeys.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

let name = 'browser_portal';

function die(msg) {
  console.error(`${name}: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// Three consecutive free ports: the portal finds the eID listener at its
// own port + 2, as the default layout (8443, 8445) and `demo --port N` have.
async function freePortTriple() {
  const probe = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    if ((await probe(base)) && (await probe(base + 1)) && (await probe(base + 2)))
      return base;
  }
  die('found no three consecutive free ports');
}

async function waitFor(file, seconds, child) {
  for (let i = 0; i < seconds * 10; i++) {
    if (fs.existsSync(file)) return;
    if (child.exitCode !== null) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const args = process.argv.slice(2);
  const kp = args[0];
  let script = path.join(here, 'journeys.mjs');
  if (args[1] === '--journeys') {
    script = path.resolve(args[2]);
    name = path.relative(path.join(here, '..'), script);
    args.splice(1, 2);
  }
  if (!kp || !fs.existsSync(kp)) die('usage: node run.mjs PATH_TO_KRUISPUNT [--journeys SCRIPT] [--screenshots DIR]');
  if (!fs.existsSync(CHROMIUM))
    die(`${CHROMIUM} is missing: run scripts/deps.sh (Debian's chromium package)`);
  for (const m of ['playwright-core', '@axe-core/playwright', 'axe-core'])
    if (!fs.existsSync(path.join(here, 'node_modules', m)))
      die(`tests/browser/node_modules/${m} is missing: run scripts/deps.sh (npm ci in tests/browser)`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-browser.'));
  const data = path.join(work, 'demo');
  let port = await freePortTriple();
  let demo;
  const manifest = path.join(data, 'demo.json');
  for (let attempt = 0; attempt < 3; attempt++) {
    const err = fs.openSync(path.join(work, 'demo.err'), 'w');
    demo = spawn(path.resolve(kp), ['demo', '--data', data, '--port', String(port)],
      { stdio: ['ignore', 'ignore', err] });
    await waitFor(manifest, 60, demo);
    if (fs.existsSync(manifest)) break;
    demo.kill('SIGTERM');
    port = await freePortTriple(); // another process took one meanwhile
  }
  if (!fs.existsSync(manifest)) {
    process.stderr.write(fs.readFileSync(path.join(work, 'demo.err'), 'utf8'));
    die('the demo did not start');
  }
  const ca = path.join(data, JSON.parse(fs.readFileSync(manifest, 'utf8')).ca);
  const child = spawn(process.execPath, [script, data, ...args.slice(1)],
    { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, KRUISPUNT: path.resolve(kp) } });
  const rc = await new Promise((r) => child.on('exit', (code) => r(code ?? 1)));
  demo.kill('SIGTERM');
  await new Promise((r) => (demo.exitCode !== null ? r() : demo.on('exit', r)));
  if (rc === 0) fs.rmSync(work, { recursive: true, force: true });
  else console.error(`kept ${work} for inspection`);
  process.exit(rc);
}

main().catch((e) => die(e.stack || String(e)));
