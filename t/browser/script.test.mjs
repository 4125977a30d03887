// The README's first command, scripts/demo, as a newcomer runs it: it
// brings up the provider and httpd, prints the URL to open, serves the
// landing page with a login link per app, and Ctrl-C stops every process
// it started. (The logins themselves run in demo.test.mjs, on the same
// demo/stack that scripts/demo starts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The source tree's scripts/demo (OAC_SRCDIR: see SRC in lib.mjs).
const TOP = process.env.OAC_SRCDIR
  || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function until(what, check, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('scripts/demo starts the demo, prints its URL, and Ctrl-C stops it', { timeout: 180_000 }, async () => {
  const child = spawn('bash', ['scripts/demo'], {
    cwd: TOP,
    env: { ...process.env, OAC_DEMO_PORT: '0', OAC_DEMO_PROVIDER_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await until('the URL to open', () => out.match(/Open:\s+(http:\/\/127\.0\.0\.1:\d+\/)/)?.[1], 150_000);
    const provider = out.match(/provider: (http:\/\/localhost:\d+)/)?.[1];
    assert.ok(provider, `no provider URL in:\n${out}`);
    const dir = out.match(/logs:\s+(\S+)\/error\.log/)?.[1];
    assert.ok(dir, `no log directory in:\n${out}`);

    const landing = await fetch(url);
    assert.equal(landing.status, 200);
    const html = await landing.text();
    assert.match(html, /href="\/oauth\/demo2\/login/);
    assert.match(html, /href="\/oauth\/demo1\/login/);
    const login = await fetch(new URL('/oauth/demo2/login?next=/app2/', url), { redirect: 'manual' });
    assert.equal(login.status, 302);
    assert.ok(login.headers.get('location').startsWith(`${provider}/oauth2/authorize?`),
      `login goes to the provider: ${login.headers.get('location')}`);

    const pids = ['httpd', 'provider'].map((n) => Number(readFileSync(path.join(dir, `${n}.pid`), 'utf8')));
    assert.ok(pids.every(alive), 'both servers run');

    child.kill('SIGINT');
    const { code } = await exited;
    assert.equal(code, 130, `exit status after Ctrl-C; output:\n${out}`);
    assert.match(out, /demo stopped/);
    await until('the servers to stop', () => !pids.some(alive), 10_000);
    assert.ok(!existsSync(path.join(dir, 'httpd.pid')), 'pid files removed');
    await assert.rejects(fetch(url), 'httpd no longer answers');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
});
