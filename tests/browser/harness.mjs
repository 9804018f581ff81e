// Runs the app as `scripts/up` does, on its embedded defaults (SQLite and
// key-value under a temporary state folder) with the local fake providers,
// and drives Debian's Chromium with playwright-core. scripts/test builds
// what this starts (the wasm components, wangjie-host, wangjie-fakes).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, openSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Where screenshots land; scripts/test prints it. */
export const SHOTS = process.env.WANGJIE_SCREENSHOTS || join(ROOT, 'target/browser-screenshots');
mkdirSync(SHOTS, { recursive: true });

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** The fake providers' `export SPIN_VARIABLE_X='v'` lines, as an object. */
function startFakes() {
  const fakes = spawn(join(ROOT, 'target/debug/wangjie-fakes'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(fakes);
  return new Promise((done, fail) => {
    let text = '';
    fakes.stdout.on('data', (chunk) => {
      text += chunk;
      if (!text.includes('# ready')) return;
      const variables = {};
      for (const match of text.matchAll(/^export (SPIN_VARIABLE_\w+)='(.*)'$/gm)) {
        variables[match[1]] = match[2].replace(/\\n/g, '\n');
      }
      done({ process: fakes, variables });
    });
    fakes.on('exit', (code) => fail(new Error(`wangjie-fakes exited with ${code}`)));
  });
}

/**
 * The app on a free port, migrated, with the demo library loaded
 * (`records` titles, and `historyDays` days of past loans and orders for
 * the dashboard). Returns its URL, an operator client and stop().
 */
export async function startApp({ records = 3000, historyDays = 0 } = {}) {
  const fakes = await startFakes();
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'wangjie-browser-'));
  const adminToken = randomBytes(16).toString('hex');
  const env = {
    ...process.env,
    ...fakes.variables,
    SPIN_VARIABLE_ADMIN_TOKEN: adminToken,
    SPIN_VARIABLE_SESSION_KEY: randomBytes(32).toString('hex'),
    SPIN_VARIABLE_LOCKER_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // The host's request log would drown the test report: it goes to a file.
  const log = join(SHOTS, `host-${port}.log`);
  const output = openSync(log, 'w');
  const host = spawn(
    join(ROOT, 'target/debug/wangjie-host'),
    ['up', '--from', join(ROOT, 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--state-dir', state],
    { cwd: ROOT, env, stdio: ['ignore', output, output] },
  );
  children.push(host);
  const url = `http://127.0.0.1:${port}`;
  // Any answer means the host is up (health is a 503 until migrated).
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${url}/api/health`);
      break;
    } catch {
      if (tries > 600 || host.exitCode !== null) throw new Error(`the host did not start; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const admin = async (method, path, body) => {
    const response = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  await admin('POST', '/admin/migrate');
  await admin('POST', `/admin/demo?records=${records}&history_days=${historyDays}`);
  return {
    url,
    adminToken,
    admin,
    /** A JSON call with a session token, as a reader's or staff's app makes. */
    async as(token, method, path, body) {
      const response = await fetch(url + path, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async stop() {
      host.kill('SIGTERM');
      fakes.process.kill('SIGTERM');
      if (existsSync(state)) rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Headless Debian Chromium, as root without a sandbox, quiet on the network. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * Everything the page reports as wrong: console errors, uncaught
 * exceptions, CSP violations. A test ends by asserting it stayed empty.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx answer as a failed resource; an API refusal
    // is an answer the screen shows (a bad scan, a wrong password), so
    // only failures of the app's own files count.
    const url = message.location()?.url ?? '';
    if (message.text().startsWith('Failed to load resource') && /\/(api|admin)\//.test(url)) return;
    problems.push(`console: ${message.text()} ${url}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** A full-page screenshot named `name` in SHOTS. */
export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Runs axe-core in the page; returns the violations of WCAG 2 A/AA rules. */
export async function axe(page) {
  const source = await import('node:fs').then((fs) =>
    fs.readFileSync(join(import.meta.dirname, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  // Evaluated through the DevTools protocol: a <script> element would be
  // refused by the app's own Content-Security-Policy, as it should be.
  await page.evaluate(source);
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }));
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
}
