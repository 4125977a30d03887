// End-to-end tests of the demo (conf/demo.conf, demo/) in headless Chromium.
// Run with t/browser/run.sh (or: node --test --test-reporter=tap t/browser/).
// Each describe() starts its own provider + httpd with demo/stack and stops
// them at the end. Screenshots of every step: t/browser/artifacts/<test>/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  controlProvider, expiryClock, launchBrowser, startStack, stopStack, withPage,
} from './lib.mjs';

const APPS = {
  demo2: {
    name: 'demo2', path: 'app2/', authorize: '/oauth2/authorize', clientId: 'oauth2-client',
    auth: 'bearer-header', secretHeaders: ['X-OAuth-Access-Token'],
  },
  demo1: {
    name: 'demo1', path: 'app1/', authorize: '/oauth1/authorize', clientId: 'oauth1-client',
    auth: 'oauth1', secretHeaders: ['X-OAuth-Access-Token', 'X-OAuth-Access-Token-Secret'],
  },
};
const COOKIE = 'oauth_demo';
const T = { timeout: 60_000 };   // per test: a hang fails the test, not the run
const USERS = { alice: 'wonderland', bob: 'builder' };

// --- steps shared by the tests -------------------------------------------

// The browser is on the provider's login + consent page for this app.
function assertOnProvider(page, stack, app) {
  const u = new URL(page.url());
  assert.equal(u.host, stack.providerHost, `expected the provider's page, got ${page.url()}`);
  assert.equal(u.pathname, app.authorize);
  if (app.name === 'demo2') {
    // OAuth 2 with PKCE; the callback on httpd's own origin.
    assert.equal(u.searchParams.get('client_id'), app.clientId);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.match(u.searchParams.get('code_challenge') || '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(u.searchParams.get('state') || '', /.{16,}/);
    assert.equal(u.searchParams.get('redirect_uri'), `${stack.url}oauth/demo2/callback`);
  } else {
    assert.match(u.searchParams.get('oauth_token') || '', /.+/);
  }
}

async function signIn(page, user, decision = 'allow') {
  await page.fill('#username', user);
  await page.fill('#password', USERS[user]);
  await page.click(decision === 'allow' ? '#allow' : '#deny');
}

// Values of the backend's table of received headers.
async function receivedHeaders(page) {
  return page.$$eval('#headers tr', (rows) => Object.fromEntries(
    rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent])));
}

async function sessionCookie(context, stack) {
  return (await context.cookies(stack.url)).find((c) => c.name === COOKIE);
}

async function callApi(page) {
  await page.click('#call-api');
  await page.waitForFunction(() => /^(HTTP|failed)/.test(document.getElementById('api-status').textContent));
  return {
    status: await page.textContent('#api-status'),
    json: JSON.parse(await page.textContent('#api-result')),
  };
}

async function fetchFromPage(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { headers: { Accept: 'application/json' } });
    return { status: r.status, body: await r.text() };
  }, url);
}

// The token the provider last received on its API, as the session holds
// it (OAuth 2: the bearer token; OAuth 1: oauth_token of the signature).
async function tokenSeenByProvider(stack) {
  const { last_api_request: seen } = await controlProvider(stack, 'stats');
  const authz = Object.entries(seen.headers).find(([h]) => h.toLowerCase() === 'authorization')[1];
  const bearer = /^Bearer (\S+)$/.exec(authz);
  return bearer ? bearer[1] : decodeURIComponent(/oauth_token="([^"]*)"/.exec(authz)[1]);
}

// The landing page's sentence for an app, once its script has asked httpd
// about every app (and so shown or hidden each app's links).
async function landingState(page, stack, app) {
  await page.goto(stack.url);
  await page.waitForFunction(() => [...document.querySelectorAll('.state')].every(
    (p) => /^(Logged in|Not logged in|Could not)/.test(p.textContent)));
  return page.textContent(`#state-${app}`);
}

// A logout as the demo has it: the link, the "Log out?" page, its button;
// back on the landing page.
async function logOut(page, stack, app, step) {
  await page.click('#logout');
  await page.waitForURL((u) => u.pathname === '/logout' && u.searchParams.get('app') === app);
  assert.equal(await page.textContent('#logout-title'), 'Log out?');
  if (step) await step('logout-asks');
  await Promise.all([page.waitForURL(stack.url), page.click('#confirm-logout')]);
}

// The whole journey of a user: protected page -> provider -> back on the
// page first asked for -> API call -> logout -> login needed again.
async function fullFlow({ page, context, step }, stack, app, user = 'alice') {
  const target = `${stack.url}${app.path}?from=browser-test`;
  await page.goto(target);
  assertOnProvider(page, stack, app);
  assert.equal(await page.textContent('#client'), app.clientId);
  await step('provider-login-page');

  await page.fill('#username', user);
  await page.fill('#password', USERS[user]);
  await step('credentials-filled');
  await Promise.all([page.waitForURL(target), page.click('#allow')]);

  // Back on the protected page first asked for, logged in.
  assert.equal(page.url(), target);
  assert.equal(await page.textContent('#user'), user);
  assert.equal(await page.textContent('#remote-user'), user);
  assert.equal(await page.textContent('#app'), app.name);
  const headers = await receivedHeaders(page);
  assert.equal(headers['X-OAuth-App'], app.name);
  assert.equal(headers['X-OAuth-User'], user);
  await step('protected-page');

  // The backend shows the tokens masked.
  for (const h of app.secretHeaders) {
    assert.match(headers[h] || '', /^.{4}…$/, `${h} is not masked: ${headers[h]}`);
  }
  if (app.name === 'demo2') {
    assert.equal(headers['X-OAuth-Token-Type'], 'Bearer');
    assert.match(headers['X-OAuth-Expires-At'] || '', /^\d{10}$/);
  }
  const cookie = await sessionCookie(context, stack);
  assert.ok(cookie, `no ${COOKIE} cookie`);

  // The session cookie as the browser stores it; page scripts cannot read it.
  assert.equal(cookie.httpOnly, true, 'session cookie must be HttpOnly');
  assert.equal(cookie.sameSite, 'Lax', 'session cookie must be SameSite=Lax');
  assert.equal(cookie.secure, stack.https, `session cookie Secure must be ${stack.https}`);
  assert.equal(cookie.path, '/');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes(COOKIE), 'document.cookie shows the session');

  // The provider's API through httpd (OAuthProxyAPI), from fetch().
  const api = await callApi(page);
  await step('api-result');
  assert.equal(api.status, 'HTTP 200', JSON.stringify(api.json));
  assert.equal(api.json.user, user);
  assert.equal(api.json.path, '/api/whoami');
  assert.equal(api.json.method, 'GET');
  assert.equal(api.json.client_id, app.clientId);
  assert.equal(api.json.auth, app.auth);
  const sent = Object.keys(api.json.headers).map((h) => h.toLowerCase());
  assert.ok(!sent.includes('cookie'), 'the browser cookie reached the provider');
  const authz = Object.entries(api.json.headers).find(([h]) => h.toLowerCase() === 'authorization');
  assert.ok(authz && authz[1].endsWith('…'), `Authorization shown unmasked: ${authz}`);

  // The session's token, as the provider received it: the backend saw
  // it, the page shows it masked only, and the browser holds it only
  // encrypted (OAuthSessionPassphraseFile): the cookie shows neither the
  // token nor the user.
  const accessToken = await tokenSeenByProvider(stack);
  assert.ok(accessToken.length > 8, 'no access token reached the provider');
  assert.equal(headers['X-OAuth-Access-Token'], `${accessToken.slice(0, 4)}…`);
  assert.ok(!(await page.content()).includes(accessToken), 'the page shows the whole token');
  for (const clear of [accessToken, encodeURIComponent(accessToken), user, 'oauthclient']) {
    assert.ok(!cookie.value.includes(clear), `the session cookie shows "${clear.slice(0, 12)}"`);
  }

  // Log out (the demo asks first): back on the landing page, the token gone.
  await logOut(page, stack, app.name, step);
  assert.equal(page.url(), stack.url);
  await step('logged-out');
  assert.equal(await landingState(page, stack, app.name), 'Not logged in.');
  const gone = await fetchFromPage(page, `/session/${app.name}`);
  assert.equal(gone.status, 401, 'the session endpoint still sees a login');
  const denied = await fetchFromPage(page, `/api/${app.name}/whoami`);
  assert.equal(denied.status, 401);
  assert.equal(JSON.parse(denied.body).error, 'login_required');

  // The protected page asks for a login again.
  await page.goto(target);
  assertOnProvider(page, stack, app);
  await step('login-required-again');
}

// The provider refuses: the demo's own "Login failed" page (its
// ErrorDocument), styled like the demo, with the reason; nothing stored;
// its "Try again" logs in for the page first asked for.
async function deniedFlow({ page, step }, stack, app) {
  const target = `${stack.url}${app.path}?wanted=${app.name}`;
  await page.goto(target);
  assertOnProvider(page, stack, app);
  await step('provider-login-page');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${stack.url}oauth/${app.name}/callback`)),
    signIn(page, 'alice', 'deny'),
  ]);
  await page.waitForLoadState();
  await step('login-failed-page');
  assert.equal(response.status(), 403);
  assert.equal(new URL(page.url()).pathname, `/oauth/${app.name}/callback`);
  assert.equal(await page.textContent('#login-failed'), 'Login failed');
  assert.match(await page.textContent('#reason'), /^The provider refused the login: /);
  assert.match(await page.textContent('#hint'), /declined at the provider/);
  // The demo's stylesheet, not the module's plain page.
  assert.equal(await page.$eval('#try-again', (a) => getComputedStyle(a).backgroundColor), 'rgb(42, 93, 176)');
  assert.equal(await page.getAttribute('#try-again', 'href'),
    `/oauth/${app.name}/login?next=${encodeURIComponent(`/${app.path}?wanted=${app.name}`)}`);

  // Nothing was stored.
  assert.equal((await fetchFromPage(page, `/session/${app.name}`)).status, 401);

  // Try again: the provider once more, then the page first asked for.
  await page.click('#try-again');
  assertOnProvider(page, stack, app);
  await step('try-again-provider');
  await Promise.all([page.waitForURL(target), signIn(page, 'bob')]);
  await step('page-first-asked-for');
  assert.equal(await page.textContent('#user'), 'bob');
}

// The provider sends the browser back with a callback whose state (OAuth 2)
// or oauth_token (OAuth 1) is replaced on the way: the module must refuse
// it (400) and store nothing. Then a genuine login's callback URL, opened a
// second time, must be refused too (single use).
async function tamperedAndReplayedCallback({ page, step }, stack, app) {
  const callback = `${stack.url}oauth/${app.name}/callback`;
  const param = app.name === 'demo2' ? 'state' : 'oauth_token';
  // The consent form's POST answers 302 to the callback: rewrite that
  // redirect (Playwright does not route the redirected request itself).
  const consent = (url) => url.host === stack.providerHost && url.pathname === app.authorize;
  const forge = async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const direct = new URL(route.request().url());
    direct.hostname = '127.0.0.1';
    const resp = await route.fetch({ url: direct.href, maxRedirects: 0 });
    const location = new URL(resp.headers().location);
    assert.ok(location.href.startsWith(callback) && location.searchParams.get(param),
      `unexpected redirect ${location}`);
    location.searchParams.set(param, `forged-${location.searchParams.get(param)}`);
    return route.fulfill({ status: resp.status(), headers: { ...resp.headers(), location: location.href } });
  };
  await page.route(consent, forge);
  await page.goto(`${stack.url}${app.path}`);
  let [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(callback)),
    signIn(page, 'alice'),
  ]);
  await page.waitForLoadState();
  await step('forged-callback');
  assert.equal(response.status(), 400);
  assert.equal(await page.textContent('#login-failed'), 'Login failed');
  assert.match(await page.textContent('#reason'), /unknown or expired/);
  await page.unroute(consent, forge);
  await page.goto(`${stack.url}${app.path}`);
  assertOnProvider(page, stack, app);

  // A genuine login, then its callback URL again.
  [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(callback)),
    signIn(page, 'alice'),
  ]);
  const used = response.url();
  await page.waitForURL(`${stack.url}${app.path}`);
  assert.equal(await page.textContent('#user'), 'alice');
  const again = await page.goto(used);
  await step('replayed-callback');
  assert.equal(again.status(), 400);
  assert.equal(await page.textContent('#login-failed'), 'Login failed');
  assert.match(await page.textContent('#reason'), /unknown or expired/);
}

// --- the tests ------------------------------------------------------------

describe('demo over http', () => {
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

  test('landing page: login links for both apps and the status page', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(stack.url);
      await step('landing');
      assert.equal(await page.textContent('#login-demo2'), 'Log in with the demo OAuth 2 provider');
      assert.equal(await page.getAttribute('#login-demo2', 'href'), '/oauth/demo2/login?next=/app2/');
      assert.equal(await page.textContent('#login-demo1'), 'Log in with the demo OAuth 1.0a provider');
      assert.equal(await page.getAttribute('#login-demo1', 'href'), '/oauth/demo1/login?next=/app1/');

      await page.click('#login-demo2');
      assertOnProvider(page, stack, APPS.demo2);
      await step('demo2-link-leads-to-provider');
      await page.goto(stack.url);
      await page.click('#login-demo1');
      assertOnProvider(page, stack, APPS.demo1);
      await step('demo1-link-leads-to-provider');

      await page.goto(stack.url);
      await page.click('#status');
      await step('status');
      const status = await page.textContent('body');
      assert.match(status, /demo2/);
      assert.match(status, /demo1/);
      assert.ok(!/oauth[12]-secret/.test(status), 'the status page shows a secret');
    });
  });

  test('demo2 (OAuth 2): login, protected page, API, logout', T, async (t) => {
    await withPage(t, browser, stack, (p) => fullFlow(p, stack, APPS.demo2));
  });

  test('demo1 (OAuth 1.0a): login, protected page, API, logout', T, async (t) => {
    await withPage(t, browser, stack, (p) => fullFlow(p, stack, APPS.demo1));
  });

  test('demo2: login from the landing page link lands on /app2/', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(stack.url);
      await page.click('#login-demo2');
      await signIn(page, 'bob');
      await page.waitForURL(`${stack.url}app2/`);
      await step('app2');
      assert.equal(await page.textContent('#user'), 'bob');
    });
  });

  test('demo1: login from the landing page link lands on /app1/', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(stack.url);
      await page.click('#login-demo1');
      await signIn(page, 'bob');
      await page.waitForURL(`${stack.url}app1/`);
      await step('app1');
      assert.equal(await page.textContent('#user'), 'bob');
    });
  });

  test('X-OAuth-* headers sent by the browser never reach the backend', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(`${stack.url}app2/`);
      await Promise.all([page.waitForURL(`${stack.url}app2/`), signIn(page, 'bob')]);
      await step('app2-as-bob');
      const headers = await receivedHeaders(page);
      assert.equal(headers['X-OAuth-User'], 'bob');
      assert.equal(headers['X-OAuth-App'], 'demo2');
      assert.equal(headers['X-OAuth-Scope'], 'profile email');
      assert.ok(!('X-OAuth-Spoofed' in headers), 'a client header was passed on');
    }, { extraHTTPHeaders: { 'X-OAuth-User': 'mallory', 'X-OAuth-App': 'evil', 'X-OAuth-Spoofed': 'yes' } });
  });

  test('both apps logged in at once; logging out of one keeps the other', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(`${stack.url}app2/`);
      await Promise.all([page.waitForURL(`${stack.url}app2/`), signIn(page, 'alice')]);
      await page.goto(`${stack.url}app1/`);
      await Promise.all([page.waitForURL(`${stack.url}app1/`), signIn(page, 'bob')]);
      assert.equal(await page.textContent('#user'), 'bob');
      await page.goto(`${stack.url}app2/`);
      assert.equal(await page.textContent('#user'), 'alice');
      await step('both');
      await logOut(page, stack, 'demo2');
      await page.goto(`${stack.url}app1/`);
      assert.equal(page.url(), `${stack.url}app1/`);
      assert.equal(await page.textContent('#user'), 'bob');
      await step('demo1-still-logged-in');
    });
  });

  test('landing page: who is logged in to which app, and when the token expires', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      for (const app of ['demo2', 'demo1', 'oidc']) {
        assert.equal(await landingState(page, stack, app), 'Not logged in.');
      }
      assert.ok(await page.isVisible('#login-demo2'));
      assert.ok(!(await page.isVisible('#logout-demo2')), 'a logout link for nobody');
      await step('nobody-logged-in');

      await page.click('#login-demo2');
      await Promise.all([page.waitForURL(`${stack.url}app2/`), signIn(page, 'alice')]);
      await page.goto(stack.url);
      await page.click('#login-demo1');
      await Promise.all([page.waitForURL(`${stack.url}app1/`), signIn(page, 'bob')]);

      const demo2 = await landingState(page, stack, 'demo2');
      await step('logged-in');
      const { expires_at: expiresAt } = JSON.parse((await fetchFromPage(page, '/session/demo2')).body);
      const clock = expiryClock(expiresAt);
      // The provider's tokens live an hour (past midnight UTC, the clock
      // has tomorrow's date in front).
      assert.match(demo2, /^Logged in to demo2 as alice, token expires in (59 minutes|1 hour) \((\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)\.$/);
      assert.ok(demo2.includes(`(${clock})`), `${demo2}: not ${clock}`);
      assert.equal(await page.textContent('#state-demo1'), 'Logged in to demo1 as bob, the token does not expire.');
      assert.equal(await landingState(page, stack, 'oidc'), 'Not logged in.');
      assert.ok(!(await page.isVisible('#login-demo2')), 'a login link for a logged-in app');
      assert.ok(await page.isVisible('#open-demo2'));
      assert.equal(await page.getAttribute('#logout-demo2', 'href'), '/logout?app=demo2');

      // The wording, for other lengths of time (demo.js).
      const now = Date.UTC(2026, 0, 31, 13, 5, 30) / 1000;
      const texts = await page.evaluate((n) => [59 * 60 + 10, 2 * 3600 + 5 * 60, 3600, 30, 86400, 5 * 86400, -90]
        .map((d) => oacExpiryText(n + d, n)), now);
      assert.deepEqual(texts, [
        'expires in 59 minutes (14:04 UTC)',
        'expires in 2 hours 5 minutes (15:10 UTC)',
        'expires in 1 hour (14:05 UTC)',
        'expires in less than a minute (13:06 UTC)',
        'expires in 24 hours (2026-02-01 13:05 UTC)',
        'expires in 5 days (2026-02-05 13:05 UTC)',
        'expired at 13:04 UTC',
      ]);
    });
  });

  test('logout asks first: "Stay logged in" keeps the login, "Log out" ends it', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await page.goto(`${stack.url}app2/?page=1`);
      await Promise.all([page.waitForURL(`${stack.url}app2/?page=1`), signIn(page, 'alice')]);
      await page.click('#logout');
      await page.waitForURL((u) => u.pathname === '/logout');
      await step('asks');
      assert.equal(await page.textContent('#logout-title'), 'Log out?');
      assert.equal(await page.textContent('#app'), 'demo2');
      await page.waitForFunction(() => document.getElementById('state').textContent !== '');
      assert.match(await page.textContent('#state'), /^Logged in to demo2 as alice, token expires in /);
      assert.equal(await page.getAttribute('form', 'method'), 'post');
      assert.equal(await page.getAttribute('form', 'action'), '/oauth/demo2/logout');
      const framing = (await page.request.get(page.url())).headers();
      assert.equal(framing['x-frame-options'], 'DENY', 'the page may be framed');

      // Not yet: back on the page, still logged in.
      await Promise.all([page.waitForURL(`${stack.url}app2/?page=1`), page.click('#cancel-logout')]);
      assert.equal(await page.textContent('#user'), 'alice');
      assert.match(await landingState(page, stack, 'demo2'), /^Logged in to demo2 as alice/);

      // From the landing page this time, and confirmed.
      await page.click('#logout-demo2');
      await page.waitForURL((u) => u.pathname === '/logout');
      await Promise.all([page.waitForURL(stack.url), page.click('#confirm-logout')]);
      await step('logged-out');
      assert.equal(await landingState(page, stack, 'demo2'), 'Not logged in.');
      await page.goto(`${stack.url}app2/`);
      assertOnProvider(page, stack, APPS.demo2);
    });
  });

  test('demo2: an expiring access token is refreshed behind the page', T, async (t) => {
    // Tokens that live 30 s are within the module's 60 s refresh margin, so
    // every use refreshes them with the refresh token.
    await controlProvider(stack, 'config', { access_token_lifetime: 30 });
    try {
      await withPage(t, browser, stack, async ({ page, context, step }) => {
        await page.goto(`${stack.url}app2/`);
        await Promise.all([page.waitForURL(`${stack.url}app2/`), signIn(page, 'alice')]);
        const api = await callApi(page);
        await step('api-after-refresh');
        assert.equal(api.status, 'HTTP 200', JSON.stringify(api.json));
        assert.equal(api.json.user, 'alice');
        const status = await (await context.request.get(`${stack.url}oauthclient-status?json`)).json();
        const demo2 = status.apps.find((a) => a.name === 'demo2');
        assert.ok(demo2.counters.refreshes >= 1, `no refresh: ${JSON.stringify(demo2.counters)}`);
        assert.equal(demo2.counters.refresh_failed, 0);
      });
    } finally {
      await controlProvider(stack, 'config', { access_token_lifetime: 3600 });
    }
  });

  test('demo2: Deny at the provider: the demo\'s Login failed page, whose Try again keeps the page', T, async (t) => {
    await withPage(t, browser, stack, (p) => deniedFlow(p, stack, APPS.demo2));
  });

  test('demo1: Deny at the provider: the demo\'s Login failed page, whose Try again keeps the page', T, async (t) => {
    await withPage(t, browser, stack, (p) => deniedFlow(p, stack, APPS.demo1));
  });
  test('demo2: a forged state or a replayed callback is refused', T, async (t) => {
    await withPage(t, browser, stack, (p) => tamperedAndReplayedCallback(p, stack, APPS.demo2));
  });

  test('demo1: a forged oauth_token or a replayed callback is refused', T, async (t) => {
    await withPage(t, browser, stack, (p) => tamperedAndReplayedCallback(p, stack, APPS.demo1));
  });
});

describe('demo over https (self-signed certificate)', () => {
  let stack;
  let browser;
  before(async () => {
    stack = startStack({ https: true });
    browser = await launchBrowser();
  }, T);
  after(async () => {
    await browser?.close();
    stopStack(stack);
  }, T);

  test('https demo2 (OAuth 2): login, API, logout; the session cookie is Secure', T, async (t) => {
    assert.match(stack.url, /^https:/);
    await withPage(t, browser, stack, (p) => fullFlow(p, stack, APPS.demo2));
  });

  test('https demo1 (OAuth 1.0a): login, API, logout; the session cookie is Secure', T, async (t) => {
    await withPage(t, browser, stack, (p) => fullFlow(p, stack, APPS.demo1));
  });
});
