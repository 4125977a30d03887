// The demo's OpenID Connect app (app "oidc" of conf/demo.conf: discovery,
// claims, Require oauth-claim, RP-initiated logout) in headless Chromium.
// Run with t/browser/run.sh. Screenshots: t/browser/artifacts/<test>/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  controlProvider, launchBrowser, startStack, stopStack, withPage,
} from './lib.mjs';

const COOKIE = 'oauth_demo_oidc';
const T = { timeout: 60_000 };
const USERS = { alice: 'wonderland', bob: 'builder' };

// The browser is on the provider's login page for the oidc app: an OpenID
// Connect request whose endpoint came from the discovery document.
function assertOnProvider(page, stack) {
  const u = new URL(page.url());
  assert.equal(u.host, stack.providerHost, `expected the provider's page, got ${page.url()}`);
  assert.equal(u.pathname, '/oauth2/authorize');
  assert.equal(u.searchParams.get('client_id'), 'oauth2-client');
  assert.deepEqual((u.searchParams.get('scope') || '').split(' ').sort(), ['email', 'openid', 'profile']);
  assert.match(u.searchParams.get('nonce') || '', /.{16,}/);
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(u.searchParams.get('redirect_uri'), `${stack.url}oauth/oidc/callback`);
}

async function signIn(page, user) {
  await page.fill('#username', user);
  await page.fill('#password', USERS[user]);
  await page.click('#allow');
}

// The claims page's table, as the browser shows it (text, not markup).
async function claims(page) {
  return page.$$eval('#claims tr', (rows) => Object.fromEntries(
    rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent])));
}

// Navigates to url; returns the status of the answer for url itself
// (after any logins in between, which fn performs).
async function statusOf(page, url, fn) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === url && r.request().isNavigationRequest()
      && r.status() !== 302),
    fn(),
  ]);
  await page.waitForLoadState();
  return response.status();
}

describe('demo: the OpenID Connect app', () => {
  let stack;
  let browser;
  before(async () => {
    stack = startStack();
    browser = await launchBrowser();
  }, T);
  after(async () => {
    await browser?.close();
    stopStack(stack);
  }, T);

  test('alice: login from the landing page, her claims, the admins page, logout via the provider', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, context, step }) => {
      await page.goto(stack.url);
      assert.equal(await page.getAttribute('#login-oidc', 'href'), '/oauth/oidc/login?next=/oidc/claims');
      assert.equal(await page.getAttribute('#oidc-claims', 'href'), '/oidc/claims');
      assert.equal(await page.getAttribute('#oidc-admins', 'href'), '/oidc/admins');
      assert.equal(await page.getAttribute('#logout-oidc', 'href'), '/logout?app=oidc');
      await page.click('#login-oidc');
      assertOnProvider(page, stack);
      await step('provider-login-page');
      await Promise.all([page.waitForURL(`${stack.url}oidc/claims`), signIn(page, 'alice')]);
      await step('claims');

      assert.equal(await page.textContent('#user'), 'alice');
      const c = await claims(page);
      assert.equal(c.email, 'alice@example.org');
      assert.equal(c.groups, 'staff,admins');
      assert.equal(c.email_verified, 'true');
      assert.equal(c.preferred_username, 'alice');
      assert.equal(c.sub, '1001');
      assert.equal(c.iss, stack.providerUrl.replace(/\/$/, ''));
      assert.equal(JSON.parse(c.address).country, 'FR', 'userinfo\'s claims are merged in');
      assert.ok(!('nonce' in c), 'the one-time nonce is not kept');

      // The claims decide who enters: the session is encrypted, so its
      // owner cannot read (or edit) them in the cookie.
      const cookie = (await context.cookies(stack.url)).find((k) => k.name === COOKIE);
      assert.ok(cookie, `no ${COOKIE} cookie`);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      for (const clear of ['alice', 'admins', 'oauthclient']) {
        assert.ok(!cookie.value.includes(clear), `the session cookie shows "${clear}"`);
      }

      await page.goto(stack.url);
      assert.equal(await statusOf(page, `${stack.url}oidc/admins`, () => page.click('#oidc-admins')), 200);
      await step('admins');
      assert.equal(await page.textContent('#title'), 'Admins only');
      assert.equal(await page.textContent('#user'), 'alice');

      // The landing page knows her.
      await page.goto(stack.url);
      await page.waitForFunction(() => /^Logged in/.test(document.getElementById('state-oidc').textContent));
      const state = await page.textContent('#state-oidc');
      const shown = state.match(
        /^Logged in to oidc as alice, token expires in (59 minutes|1 hour) \((\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)\.$/);
      assert.ok(shown, state);
      // A date only when the hour's token expires tomorrow (UTC).
      if (shown[2]) {
        assert.equal(shown[2].trim(), new Date(Date.now() + 3600e3).toISOString().slice(0, 10), state);
        assert.notEqual(shown[2].trim(), new Date().toISOString().slice(0, 10), state);
      }
      await page.goto(`${stack.url}oidc/admins`);

      // Logout asks first, then goes through the provider's
      // end_session_endpoint and back.
      await page.click('#logout');
      await page.waitForURL((u) => u.pathname === '/logout' && u.searchParams.get('app') === 'oidc');
      assert.equal(await page.textContent('#logout-title'), 'Log out?');
      assert.match(await page.textContent('body'), /logged out at the provider too/);
      await step('logout-asks');
      const [endSession] = await Promise.all([
        page.waitForRequest((r) => r.url().startsWith(`${stack.providerUrl}oauth2/logout?`)),
        page.waitForURL((u) => u.origin === new URL(stack.url).origin && u.pathname === '/'),
        page.click('#confirm-logout'),
      ]);
      await step('logged-out');
      const sent = new URL(endSession.url()).searchParams;
      assert.equal(sent.get('client_id'), 'oauth2-client');
      assert.equal(sent.get('post_logout_redirect_uri'), stack.url);
      assert.match(sent.get('id_token_hint') || '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(new URL(page.url()).searchParams.get('state'), sent.get('state'));
      assert.match(await page.textContent('h1'), /mod_oauthclient demo/);
      const stats = await controlProvider(stack, 'stats');
      assert.equal(stats.last_end_session.params.state, sent.get('state'));

      await page.waitForFunction(() => /^Not logged in/.test(document.getElementById('state-oidc').textContent));

      // Logged out: the claims page wants a login again.
      await page.goto(`${stack.url}oidc/claims`);
      assertOnProvider(page, stack);
    });
  });

  test('bob: 403 and the admins-only page at /oidc/admins; his claims say why', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      const target = `${stack.url}oidc/admins`;
      await page.goto(target);
      assertOnProvider(page, stack);
      assert.equal(await statusOf(page, target, () => signIn(page, 'bob')), 403);
      await step('forbidden');
      assert.equal(page.url(), target);
      assert.equal(await page.textContent('#forbidden'), 'Admins only');
      assert.match(await page.textContent('body'), /Require oauth-claim groups:admins/);

      // Logged in all the same: the claims page lets him in.
      await page.click('text=See your claims');
      await page.waitForURL(`${stack.url}oidc/claims`);
      await step('claims');
      assert.equal(await page.textContent('#user'), 'bob');
      const c = await claims(page);
      assert.equal(c.groups, 'staff');
      assert.equal(c.email, 'bob@example.org');
      assert.equal(c.email_verified, 'false');

      const again = await page.goto(target);
      assert.equal(again.status(), 403);
    });
  });

  test('the claims page shows a claim holding markup as text', T, async (t) => {
    const markup = '<img id="injected" src="x" onerror="document.title=\'pwned\'">&amp;';
    await controlProvider(stack, 'config', { id_token_override: { nickname: markup } });
    try {
      await withPage(t, browser, stack, async ({ page, step }) => {
        await page.goto(`${stack.url}oidc/claims`);
        await Promise.all([page.waitForURL(`${stack.url}oidc/claims`), signIn(page, 'alice')]);
        await step('claims');
        assert.equal((await claims(page)).nickname, markup);
        assert.equal(await page.locator('#injected').count(), 0);
        assert.notEqual(await page.title(), 'pwned');
      });
    } finally {
      await controlProvider(stack, 'config', { id_token_override: {} });
    }
  });
});
