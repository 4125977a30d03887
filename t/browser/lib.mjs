// Helpers for the browser tests: the demo stack (demo/stack), headless
// Chromium (Debian's /usr/bin/chromium driven by playwright-core), and the
// artifacts each test leaves in t/browser/artifacts/<test>/.
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync,
  rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TOP = path.resolve(here, '../..');
// The demo (demo/stack, scripts/demo, conf/demo.conf) is read from the
// source tree: TOP, or OAC_SRCDIR when t/ is make check's copy in a build
// tree outside the sources (make distcheck); run.sh then names the built
// module in OAC_DEMO_MODULE.
export const SRC = process.env.OAC_SRCDIR || TOP;
export const ARTIFACTS = path.join(here, 'artifacts');

export const CHROMIUM = process.env.OAC_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

// ---------------------------------------------------------------------------
// The demo stack: the local provider on "localhost" + httpd on 127.0.0.1,
// on free ports, with conf/demo.conf — exactly what scripts/demo runs.

const stacks = new Set();

export function startStack({ https = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'oac-browser-'));
  const args = [path.join(SRC, 'demo/stack'), 'start', dir];
  if (https) args.push('--https');
  const r = spawnSync('bash', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    spawnSync('bash', [path.join(SRC, 'demo/stack'), 'stop', dir]);
    throw new Error(`demo/stack start failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const info = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) info[m[1]] = m[2];
  }
  const stack = {
    dir,
    https,
    url: info.URL,                     // https?://127.0.0.1:PORT/
    providerUrl: info.PROVIDER_URL,    // http://localhost:PORT/
    providerHost: `localhost:${info.PROVIDER_PORT}`,
    // The control endpoints of the provider, for the tests themselves.
    providerControl: `http://127.0.0.1:${info.PROVIDER_PORT}/_control/`,
  };
  stacks.add(stack);
  return stack;
}

export function stopStack(stack) {
  if (!stack || !stacks.has(stack)) return;
  stacks.delete(stack);
  if (stack.kind === 'op') {
    stopOpStack(stack);
  } else {
    spawnSync('bash', [path.join(SRC, 'demo/stack'), 'stop', stack.dir], { stdio: 'inherit', timeout: 30_000 });
  }
  rmSync(stack.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// The oidc-provider stack: a real OpenID Provider (npm's oidc-provider,
// t/op/op.mjs, on "localhost") and httpd on 127.0.0.1 with
// t/browser/op.conf, whose app has only client_id, client_secret,
// server_metadata_url and scope. Each on a free port; the OP registers
// httpd's callback, so httpd's port is chosen first.

function freePort() {
  const r = spawnSync('/usr/bin/python3', ['-c',
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'],
  { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`no free port: ${r.error?.code || ''} ${r.stderr}`);
  return Number(r.stdout.trim());
}

// Every synchronous call has a limit: one that never returned would stop
// the event loop, and with it every timeout of the test runner.
function apxs(what) {
  const r = spawnSync('apxs', ['-q', what], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`apxs -q ${what}: ${r.error?.code || r.status} ${r.stderr}`);
  return r.stdout.trim();
}

async function startOp(stack, rpOrigin) {
  const log = path.join(stack.dir, 'op.log');
  // --exit-with-parent: a test process killed outright leaves no OP.
  const child = spawn(process.execPath, [path.join(here, '../op/op.mjs'), '--host', '127.0.0.1',
    '--port', '0', '--issuer-host', 'localhost', '--rp', rpOrigin, '--log', log, '--exit-with-parent'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  // Known to the stack from the start, so that a failed start stops it:
  // a live OP (its pipes) would keep the test process from ever exiting.
  stack.op = child;
  let out = '';
  child.stderr.on('data', (d) => { try { appendFileSync(log, d); } catch { /* gone */ } });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `the OP did not start within 30 s; it printed: ${JSON.stringify(out.slice(-500))}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /op listening on (\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the OP exited (${code ?? signal})`));
    });
  });
  child.removeAllListeners('exit');
  return issuer;
}

// Starts the stack; a start that fails is tried once more, and a second
// failure reports both, each with what it got through and the logs. The
// stack is the test's ground, not what it tests: its one known failure
// (CI, twice) left no trace of its cause, and a second start shows
// whether it is the machine's moment or the setup.
export async function startOpStack() {
  let first;
  try {
    return await startOpStackOnce();
  } catch (err) {
    first = err;
  }
  try {
    const stack = await startOpStackOnce();
    stack.firstStartFailed = first.message;
    return stack;
  } catch (err) {
    err.message = `first start: ${first.message}\nsecond start: ${err.message}`;
    throw err;
  }
}

async function startOpStackOnce() {
  const t0 = Date.now();
  const steps = [];
  const step = (what) => steps.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'oac-op-'));
  // httpd's children (nobody, under root) read the backend from here.
  chmodSync(dir, 0o755);
  const stack = { dir, https: false, kind: 'op' };
  stacks.add(stack);
  try {
    const port = freePort();
    const url = `http://127.0.0.1:${port}/`;
    stack.url = url;
    step(`port ${port}; starting the OP`);
    const issuer = await startOp(stack, `http://127.0.0.1:${port}`);
    step(`the OP listens: ${issuer}`);
    stack.issuer = issuer;                          // http://localhost:PORT
    stack.opHost = new URL(issuer).host;
    stack.opControl = `http://127.0.0.1:${new URL(issuer).port}/_test/`;

    cpSync(path.join(SRC, 'demo/htdocs'), path.join(dir, 'htdocs'), { recursive: true });
    mkdirSync(path.join(dir, 'cgi-bin'));
    copyFileSync(path.join(SRC, 'demo/backend.cgi'), path.join(dir, 'cgi-bin/backend.cgi'));
    spawnSync('chmod', ['-R', 'u+w,a+rX', path.join(dir, 'htdocs'), path.join(dir, 'cgi-bin')],
      { timeout: 10_000 });
    chmodSync(path.join(dir, 'cgi-bin/backend.cgi'), 0o755);

    const root = process.getuid() === 0;
    const id = (flag) => spawnSync('id', [flag], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
    const env = {
      ...process.env,
      OAC_OIDC_PORT: String(port),
      OAC_OIDC_OP_PORT: new URL(issuer).port,
      OAC_OIDC_DIR: dir,
      OAC_OIDC_MODULE: process.env.OAC_DEMO_MODULE || path.join(TOP, '.libs/mod_oauthclient.so'),
      OAC_OIDC_LIBEXEC: apxs('LIBEXECDIR'),
      OAC_OIDC_USER: root ? 'nobody' : id('-un'),
      OAC_OIDC_GROUP: root ? 'nogroup' : id('-gn'),
    };
    const httpd = path.join(apxs('SBINDIR'), apxs('TARGET'));
    const conf = path.join(here, 'op.conf');
    step('starting httpd');
    const r = spawnSync(httpd, ['-f', conf, '-d', dir, '-k', 'start'], { env, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) {
      throw new Error(`httpd did not start (${r.error?.code || r.status || r.signal}): ${r.stdout}${r.stderr}`);
    }
    step('httpd started; waiting for its first answer');
    await waitForHttpd(url, dir);
    step('httpd answers');
  } catch (err) {
    // The logs go with the error: CI keeps the output, not the directory.
    step(`failed: ${err.message}`);
    err.message = `${steps.join('\n  ')}${logTails(dir, ['error.log', 'op.log'])}`;
    stopStack(stack);
    throw err;
  }
  return stack;
}

// Waits for httpd to answer url, within 20 s in all. Each try has its own
// 3 s limit: a server that accepts a connection and never answers (no child
// serving it) would otherwise hold fetch for undici's 300 s.
async function waitForHttpd(url, dir) {
  const deadline = Date.now() + 20_000;
  let last = 'no pid file';
  while (Date.now() < deadline) {
    if (existsSync(path.join(dir, 'httpd.pid'))) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        await r.arrayBuffer();
        return;
      } catch (e) {
        last = `${e.name}: ${e.cause?.code || e.message}`;
      }
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const ps = spawnSync('ps', ['-eo', 'pid,ppid,user,stat,etime,args'], { encoding: 'utf8', timeout: 5_000 });
  const httpds = (ps.stdout || '').split('\n').filter((l) => l.includes(dir)).join('\n');
  throw new Error(`httpd does not answer on ${url} within 20 s (last try: ${last});`
    + ` its processes:\n${httpds || '(none)'}`);
}

// The last lines of each log in dir, for an error message.
function logTails(dir, files, lines = 40) {
  let out = '';
  for (const f of files) {
    try {
      const text = readFileSync(path.join(dir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n    ');
      out += `\n  --- ${f} (last ${lines} lines):\n    ${text}`;
    } catch { /* absent */ }
  }
  return out;
}

function stopOpStack(stack) {
  const pidFile = path.join(stack.dir, 'httpd.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    // httpd removes its pid file once its children are gone
    for (let i = 0; i < 100 && existsSync(pidFile); i += 1) {
      spawnSync('sleep', ['0.1']);
    }
  }
  if (stack.op && stack.op.exitCode === null) {
    stack.op.kill('SIGKILL');
    // Its pipes would hold the test process until the OP is reaped.
    stack.op.stdout?.destroy();
    stack.op.stderr?.destroy();
    stack.op.unref();
  }
}

export async function controlOp(stack, what, method = 'GET') {
  const r = await fetch(stack.opControl + what, { method, signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`OP ${what}: HTTP ${r.status}`);
  return r.json();
}

// Whatever happens to the test process, no server is left behind.
function stopAll() { for (const s of [...stacks]) stopStack(s); }
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { stopAll(); process.exit(128 + (sig === 'SIGINT' ? 2 : 15)); });
}

// ---------------------------------------------------------------------------
// The browser.

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  }
  // launch() gives every browser a fresh, empty user-data dir of its own.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

// The landing page's clock for a token that expires at expiresAt (Unix
// seconds): "HH:MM UTC", after the date when that is not today's (UTC).
export function expiryClock(expiresAt, now = Date.now()) {
  const at = new Date(expiresAt * 1000).toISOString();
  const today = new Date(now).toISOString().slice(0, 10);
  return `${at.slice(0, 10) === today ? '' : `${at.slice(0, 10)} `}${at.slice(11, 16)} UTC`;
}

export function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}

// Runs fn({ page, context, step }) in a new browser context (no cookies).
// step(name) saves a screenshot NN-name.png; on failure the page's HTML,
// its console log, a screenshot and the servers' logs are saved too.
export async function withPage(t, browser, stack, fn, contextOptions = {}) {
  const dir = path.join(ARTIFACTS, slug(t.name));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const context = await browser.newContext({
    ignoreHTTPSErrors: stack.https,   // the certificate is self-signed
    viewport: { width: 1000, height: 800 },
    ...contextOptions,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const log = [];
  page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e}`));
  page.on('requestfailed', (r) => log.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => log.push(`[response] ${r.status()} ${r.request().method()} ${r.url()}`));
  let n = 0;
  const step = async (name) => {
    n += 1;
    await page.screenshot({ path: path.join(dir, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  try {
    await fn({ page, context, step });
  } catch (err) {
    const save = (file, data) => { try { writeFileSync(path.join(dir, file), data); } catch { /* best effort */ } };
    save('FAILED-url.txt', `${page.url()}\n`);
    try { save('FAILED-page.html', await page.content()); } catch (e) { save('FAILED-page.html', `(no content: ${e})\n`); }
    save('FAILED-console.log', `${log.join('\n')}\n`);
    try { await page.screenshot({ path: path.join(dir, 'FAILED.png'), fullPage: true }); } catch { /* closed */ }
    for (const f of ['error.log', 'access.log', 'provider.log', 'op.log']) {
      try { copyFileSync(path.join(stack.dir, f), path.join(dir, `FAILED-${f}`)); } catch { /* absent */ }
    }
    err.message += `\n  (artifacts: ${path.relative(TOP, dir)}/)`;
    throw err;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------
// The provider's test controls.

export async function controlProvider(stack, what, body) {
  const r = await fetch(stack.providerControl + what, body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`provider control ${what}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}
