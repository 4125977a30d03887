// OpenID Connect in headless Chromium: a login through a real OpenID
// Provider's pages (npm's oidc-provider, t/op/op.mjs, on "localhost") into
// httpd on 127.0.0.1 (t/browser/op.conf) whose app is configured with
// nothing but client_id, client_secret, server_metadata_url and
// scope="openid email profile"; then logout, at the OP too (its
// end_session_endpoint). Screenshots: t/browser/artifacts/<test>/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  controlOp, launchBrowser, startOpStack, stopStack, withPage,
} from './lib.mjs';

const T = { timeout: 60_000 };
const ALICE = { login: 'alice', password: 'wonderland', sub: '248289761001' };

async function receivedHeaders(page) {
  return page.$$eval('#headers tr', (rows) => Object.fromEntries(
    rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent])));
}

describe('OpenID Connect login through oidc-provider (an app of four keys)', () => {
  let stack;
  let browser;
  // The limit is over the sum of startOpStack's own (two starts of at most
  // the OP's 30 s, httpd's 30 s and its first answer's 23 s each) and the
  // browser's 30 s: a slow start fails with startOpStack's message and
  // logs, not the hook's bare "failed running before hook".
  before(async () => {
    stack = await startOpStack();
    browser = await launchBrowser();
  }, { timeout: 240_000 });
  after(async () => {
    await browser?.close();
    stopStack(stack);
  }, T);

  test('a protected page, the OP\'s sign-in page, back as the sub, logout at the OP', T, async (t) => {
    if (stack.firstStartFailed) t.diagnostic(`the stack started at the second try; the first: ${stack.firstStartFailed}`);
    await withPage(t, browser, stack, async ({ page, step }) => {
      await controlOp(stack, 'reset', 'POST');
      const authorizeRequests = [];
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.host === stack.opHost && u.pathname === '/auth') authorizeRequests.push(u);
      });
      const target = `${stack.url}app/?from=browser-test`;
      await page.goto(target);

      // On the OP's own sign-in page, on another site than httpd.
      const onOp = new URL(page.url());
      assert.equal(onOp.host, stack.opHost, `expected the OP's page, got ${page.url()}`);
      assert.match(onOp.pathname, /^\/interaction\//);
      assert.equal(await page.textContent('#client'), 'op-client');
      // The request was pushed (PAR: the OP's metadata lists the
      // endpoint); the browser carried only its request_uri.
      const authz = authorizeRequests[0];
      assert.ok(authz, 'the browser never reached the OP\'s authorization endpoint');
      const { pushed } = await controlOp(stack, 'log');
      assert.equal(pushed.length, 1, 'the authorization request was not pushed');
      assert.deepEqual([...authz.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      assert.equal(authz.searchParams.get('request_uri'), pushed[0].request_uri);
      const sent = pushed[0].params;
      assert.equal(sent.client_id, 'op-client');
      assert.equal(sent.scope, 'openid email profile');
      assert.equal(sent.code_challenge_method, 'S256');
      assert.equal(sent.redirect_uri, `${stack.url}oauth/op/callback`);
      await step('op-sign-in-page');

      // A wrong password: the OP says so and keeps the browser.
      await page.fill('#login', ALICE.login);
      await page.fill('#password', 'not-the-password');
      await page.click('#submit');
      await page.waitForSelector('#error');
      assert.equal(new URL(page.url()).host, stack.opHost);
      await step('op-wrong-password');

      const callbacks = [];
      page.on('request', (r) => {
        if (r.url().startsWith(`${stack.url}oauth/op/callback`)) callbacks.push(new URL(r.url()));
      });
      await page.fill('#login', ALICE.login);
      await page.fill('#password', ALICE.password);
      await step('op-credentials-filled');
      await Promise.all([page.waitForURL(target), page.click('#submit')]);

      // RFC 9207: the OP named itself in the authorization response.
      assert.equal(callbacks.length, 1);
      assert.equal(callbacks[0].searchParams.get('iss'), stack.issuer);

      // Back on the page first asked for, as the id_token's sub.
      assert.equal(page.url(), target);
      assert.equal(await page.textContent('#user'), ALICE.sub);
      assert.equal(await page.textContent('#remote-user'), ALICE.sub);
      const headers = await receivedHeaders(page);
      assert.equal(headers['X-OAuth-App'], 'op');
      assert.equal(headers['X-OAuth-User'], ALICE.sub);
      assert.equal(headers['X-OAuth-Scope'], 'openid email profile');
      await step('protected-page');

      // What the OP saw: a code exchange it accepted (PKCE verified), a
      // userinfo call about alice.
      const seen = await controlOp(stack, 'log');
      assert.deepEqual(seen.tokens.map((x) => `${x.grant_type}:${x.status}`), ['authorization_code:200']);
      assert.deepEqual(seen.userinfo.map((x) => `${x.status}:${x.sub}`), [`200:${ALICE.sub}`]);
      assert.ok(seen.documents.jwks >= 1, 'the OP\'s keys were never fetched');

      // Log out: the tokens revoked, then the OP's end-session page (RP-
      // initiated logout), then back on httpd with the state.
      // (the module's logout path itself: demo/backend.cgi's link leads to
      // the demo's own confirmation page, which this httpd does not have)
      await page.goto(`${stack.url}oauth/op/logout`);
      const endSession = new URL(page.url());
      assert.equal(endSession.pathname, '/session/end');
      await step('op-sign-out-page');
      await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.url)), page.click('#logout-yes')]);
      assert.equal(new URL(page.url()).searchParams.get('state'), endSession.searchParams.get('state'));
      await step('signed-out');
      const ended = await controlOp(stack, 'log');
      assert.deepEqual(ended.revocations.map((x) => x.token_type_hint), ['refresh_token', 'access_token']);
      assert.deepEqual(ended.end_sessions.map((x) => `${x.method}:${x.status}`), ['GET:200', 'POST:303']);

      // The OP's session is over: the protected page leads to its sign-in
      // page again, which asks for the password.
      await page.goto(target);
      assert.equal(new URL(page.url()).host, stack.opHost, `expected the OP's page, got ${page.url()}`);
      await page.waitForSelector('#login-form');
      assert.equal(authorizeRequests.length, 2);
      await step('sign-in-again');
    });
  });

  // response_mode=form_post: the OP's page posts the answer from its own
  // site (localhost), so Chromium sends no SameSite=Lax cookie with it; the
  // callback's page posts it again from this site, with the session.
  test('a form post answer with a SameSite=Lax session cookie', T, async (t) => {
    await withPage(t, browser, stack, async ({ page, step }) => {
      await controlOp(stack, 'reset', 'POST');
      const callbacks = [];
      // allHeaders(): the headers as sent, the network stack's (cookies,
      // Sec-Fetch-*) too
      page.on('request', (r) => {
        if (r.url().startsWith(`${stack.url}oauth/opform/callback`)) {
          callbacks.push(r.allHeaders().then((h) => ({
            method: r.method(),
            site: h['sec-fetch-site'],
            cookie: /(^|; )oac_oidc=/.test(h.cookie ?? ''),
            query: new URL(r.url()).search,
          })));
        }
      });
      const target = `${stack.url}formapp/?from=form-post`;
      await page.goto(target);
      assert.equal(new URL(page.url()).host, stack.opHost, `expected the OP's page, got ${page.url()}`);
      const { pushed } = await controlOp(stack, 'log');
      assert.equal(pushed[0]?.params?.response_mode, 'form_post');
      await page.fill('#login', ALICE.login);
      await page.fill('#password', ALICE.password);
      await Promise.all([page.waitForURL(target), page.click('#submit')]);

      assert.equal(await page.textContent('#user'), ALICE.sub);
      assert.deepEqual(await Promise.all(callbacks), [
        // from the OP's page: the browser kept the Lax cookie back
        { method: 'POST', site: 'cross-site', cookie: false, query: '' },
        // from the callback's own page, with it
        { method: 'POST', site: 'same-origin', cookie: true, query: '' },
      ]);
      const seen = await controlOp(stack, 'log');
      assert.deepEqual(seen.tokens.map((x) => `${x.grant_type}:${x.status}`), ['authorization_code:200']);
      await step('protected-page');
    });
  });
});
