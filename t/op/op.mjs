// A real OpenID Provider for the tests: panva's oidc-provider (certified by
// the OpenID Foundation; pinned in package-lock.json), configured the way a
// production OP would be for a confidential web client, plus a login page
// that scripts can drive and a few test-only endpoints under /_test/.
//
//   node t/op/op.mjs [--host 127.0.0.1] [--port N] [--issuer-host NAME]
//                    [--rp ORIGIN ...] [--log FILE] [--exit-with-parent]
//
// --port 0 (the default) takes a free port. The issuer is
// http://ISSUER-HOST:PORT (ISSUER-HOST defaults to --host). Each --rp
// ORIGIN (e.g. http://localhost:8529) registers ORIGIN/oauth/APP/callback
// as a redirect URI of each client below, and ORIGIN/ and
// ORIGIN/logged-out as its post-logout redirect URIs: oidc-provider
// compares redirect URIs exactly, as it should. Once the socket is bound
// and the provider ready it prints "op listening on ISSUER".
//
// The interaction (login) page is a plain HTML form: login name and
// password, posted to /interaction/UID/login. Consent is given at once for
// everything the client asked for. Test-only endpoints:
//   GET  /_test/log     what the OP saw: token responses (with the tokens),
//                       pushed (PAR) and direct authorization requests, userinfo calls, logins,
//                       revocations, introspections, end-session requests;
//                       and how often its discovery document and keys were
//                       fetched since it started; with each token and PAR
//                       request how the client authenticated (the
//                       assertion's header and claims), its DPoP proof and
//                       the FAPI profile applied to its client, with each
//                       token request its code_verifier, with each
//                       userinfo call its scheme and proof
//   POST /_test/reset   forget that log
//   GET  /_test/token?token=T   what the OP holds of access token T: its
//                       client and the key it is bound to (cnf.jkt)
//   GET  /_test/resource   a resource server for service tokens: validates
//                       the request's Bearer access token (user or client
//                       credentials) and echoes what it is
//   GET|POST /_test/dpop-resource...  a resource server for DPoP-bound
//                       tokens that demands its own nonce (RFC 9449 9)
//   POST /_test/dpop-nonce   that resource server moves to a new nonce
//   POST /_test/fault?NAME=1  (NAME=0 ends it) a misbehaviour for the
//                       negative tests; /_test/reset ends every one:
//                       userinfo_nonce: the userinfo endpoint, a resource
//                       server, requires a DPoP nonce too (401
//                       use_dpop_nonce to a proof without a fresh one);
//                       dpop_replay: the token endpoint refuses the next
//                       DPoP proof as a replay (invalid_dpop_proof)
//                       resource_replay: /_test/dpop-resource does the
//                       same to the next proof with a valid signature,
//                       sending its current nonce with the refusal
//
// --client-key FILE (PEM, as t/TEST.PL makes it) is the key pair of the
// clients that authenticate with private_key_jwt: the OP registers its
// public JWK, the test httpd signs with the private key. --client-rsa-key
// and --client-ed25519-key are the RSA (RS256, and PS256 under FAPI 2.0)
// and Ed25519 (EdDSA) ones of t/oidc/07_fapi2.t.
import { constants as cryptoConstants, createHash, createPublicKey, generateKeyPairSync, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

// --- arguments -----------------------------------------------------------
const opts = {
  host: '127.0.0.1', port: 0, issuerHost: undefined, rp: [], log: undefined, exitWithParent: false,
  clientKey: undefined, clientRsaKey: undefined, clientEd25519Key: undefined,
};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (a) {
      case '--host': opts.host = val(); break;
      case '--port': opts.port = Number(val()); break;
      case '--issuer-host': opts.issuerHost = val(); break;
      case '--rp': opts.rp.push(val().replace(/\/+$/, '')); break;
      case '--log': opts.log = val(); break;
      case '--client-key': opts.clientKey = val(); break;
      case '--client-rsa-key': opts.clientRsaKey = val(); break;
      case '--client-ed25519-key': opts.clientEd25519Key = val(); break;
      case '--exit-with-parent': opts.exitWithParent = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
}

function log(line) {
  const text = `[${new Date().toISOString()}] ${line}\n`;
  if (opts.log) appendFileSync(opts.log, text);
  else process.stderr.write(text);
}

// oidc-provider's notices ("attention") go to the console, at any time:
// into the log, since stdout is a pipe its reader closes once it has read
// the ready line.
for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
  console[m] = (...args) => log(args.map(String).join(' '));
}
process.stdout.on('error', () => {});

// A test driver killed outright runs no cleanup: notice being orphaned
// (as t/provider/lifeline.py does for the Python servers).
// process.ppid is read once, at startup: ask the kernel each time.
function parentPid() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
if (opts.exitWithParent) {
  const parent = parentPid();
  setInterval(() => {
    if (parentPid() !== parent) process.exit(0);
  }, 500).unref();
}

// --- clients and accounts --------------------------------------------------
// Each client serves the httpd apps named in `apps` (their callbacks are its
// redirect URIs); opform is t/browser/op.conf's app that asks for form
// posts. op-short's access tokens live 30 s, inside the module's
// 60 s refresh margin: every protected request refreshes.
// The clients of t/oidc/06_client_auth.t authenticate otherwise:
// op-pkjwt with a JWT signed by --client-key (private_key_jwt), op-csjwt
// with one MACed with its secret (client_secret_jwt), op-dpop with
// private_key_jwt and DPoP-bound tokens only (op-dpop-short's live 30 s,
// so that each use refreshes); op-service has the client
// credentials grant only, op-service-dpop too, its tokens DPoP-bound.
// The clients of t/oidc/07_fapi2.t: op-pkjwt-rsa and op-pkjwt-ed25519
// hold the public JWK of an RSA or Ed25519 key and accept only RS256 or
// EdDSA assertions; op-fapi and op-fapi-rsa are FAPI 2.0 clients (the
// provider's FAPI 2.0 profile for them: PKCE and redirect_uri required),
// registered the way FAPI 2.0 wants: pushed authorization requests
// required, DPoP-bound tokens, private_key_jwt with ES256 or PS256 only,
// id_tokens signed ES256.
const publicJwk = (file, kid) => (file
  ? { ...createPublicKey(readFileSync(file)).export({ format: 'jwk' }), kid, use: 'sig' }
  : undefined);
const clientJwk = publicJwk(opts.clientKey, 'op-test-client');
const clientRsaJwk = publicJwk(opts.clientRsaKey, 'op-test-client-rsa');
const clientEdJwk = publicJwk(opts.clientEd25519Key, 'op-test-client-ed25519');
const fapi = { fapi: true, auth: 'private_key_jwt', dpop: true, par: true, idTokenAlg: 'ES256' };
export const CLIENTS = [
  { client_id: 'op-client', client_secret: 'op-secret', apps: ['op', 'opform'], accessTokenTTL: 3600 },
  { client_id: 'op-short', client_secret: 'op-short-secret', apps: ['opshort'], accessTokenTTL: 30 },
  ...(clientJwk ? [
    { client_id: 'op-pkjwt', apps: ['oppkjwt'], accessTokenTTL: 3600, auth: 'private_key_jwt', jwks: { keys: [clientJwk] } },
    { client_id: 'op-dpop', apps: ['opdpop'], accessTokenTTL: 3600, auth: 'private_key_jwt', jwks: { keys: [clientJwk] }, dpop: true },
    { client_id: 'op-dpop-short', apps: ['opdpopshort'], accessTokenTTL: 30, auth: 'private_key_jwt', jwks: { keys: [clientJwk] }, dpop: true },
    { client_id: 'op-fapi', apps: ['opfapi', 'opfapiapi'], accessTokenTTL: 3600, jwks: { keys: [clientJwk] }, authAlg: 'ES256', ...fapi },
  ] : []),
  ...(clientRsaJwk ? [
    { client_id: 'op-pkjwt-rsa', apps: ['oppkjwtrsa'], accessTokenTTL: 3600, auth: 'private_key_jwt', jwks: { keys: [clientRsaJwk] }, authAlg: 'RS256' },
    { client_id: 'op-fapi-rsa', apps: ['opfapirsa'], accessTokenTTL: 3600, jwks: { keys: [clientRsaJwk] }, authAlg: 'PS256', ...fapi },
  ] : []),
  ...(clientEdJwk ? [
    { client_id: 'op-pkjwt-ed25519', apps: ['oppkjwted'], accessTokenTTL: 3600, auth: 'private_key_jwt', jwks: { keys: [clientEdJwk] }, authAlg: 'EdDSA' },
  ] : []),
  { client_id: 'op-csjwt', client_secret: 'op-csjwt-secret-0123456789abcdef0123456789', apps: ['opcsjwt'], accessTokenTTL: 3600, auth: 'client_secret_jwt' },
  { client_id: 'op-service', client_secret: 'op-service-secret', apps: [], accessTokenTTL: 3600, service: true, scope: 'api:read api:write' },
  { client_id: 'op-service-dpop', client_secret: 'op-service-dpop-secret', apps: [], accessTokenTTL: 3600, service: true, scope: 'api:read', dpop: true },
];

// The subs are opaque, unlike the login names, so that a test can tell
// which claim became the user. The claims are what later claim rules need:
// a boolean, an array, a nested object.
export const ACCOUNTS = {
  alice: {
    password: 'wonderland',
    claims: {
      sub: '248289761001',
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      preferred_username: 'alice',
      email: 'alice@example.org',
      email_verified: true,
      groups: ['staff', 'admins'],
      address: { country: 'FR', locality: 'Paris' },
    },
  },
  bob: {
    password: 'builder',
    claims: {
      sub: '248289761002',
      name: 'Bob Builder',
      given_name: 'Bob',
      family_name: 'Builder',
      preferred_username: 'bob',
      email: 'bob@other.example',
      email_verified: false,
      groups: ['staff'],
      address: { country: 'DE', locality: 'Berlin' },
    },
  },
};
const bySub = new Map(Object.values(ACCOUNTS).map((a) => [a.claims.sub, a]));

// --- what the OP saw (GET /_test/log) --------------------------------------
// Counted since the start (a client caches these documents, so a test
// cannot expect its own fetch):
const documents = { discovery: 0, jwks: 0 };
let seen;
// /_test/dpop-resource's current nonce, and the proofs it has seen
let resourceNonce = randomBytes(16).toString('base64url');
const resourceJtis = new Set();
// The misbehaviours asked for by /_test/fault.
let faults;
function reset() {
  seen = {
    pushed: [], authorizations: [], logins: [], tokens: [], userinfo: [], revocations: [],
    introspections: [], end_sessions: [], resources: [],
  };
  faults = {};
}
reset();

// --- the page --------------------------------------------------------------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function page(title, body) {
  // No external resource: the browser tests must reach nothing but loopback.
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto}label{display:block;margin:.5em 0}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, clientId, error) {
  return page('Sign in to the test OP', `
<p>Client <code id="client">${esc(clientId)}</code> asks you to sign in.</p>
${error ? `<p id="error" style="color:#b00">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${esc(uid)}/login">
<label>Login <input id="login" name="login" autocomplete="username" autofocus></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 65536) throw new Error('form too large');
    chunks.push(c);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

// --- the provider ----------------------------------------------------------
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(opts.port, opts.host, resolve);
});
const { port } = server.address();
const issuer = `http://${opts.issuerHost || opts.host}:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `rsa-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
// FAPI 2.0 (5.4.1) signs with PS256, ES256 or EdDSA: the FAPI clients'
// id_tokens are ES256.
const { privateKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecSigningKey = { ...ecKey.export({ format: 'jwk' }), kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' };
const fapiClients = new Set(CLIENTS.filter((c) => c.fapi).map((c) => c.client_id));

const ttlByClient = Object.fromEntries(CLIENTS.map((c) => [c.client_id, c.accessTokenTTL]));

const provider = new Provider(issuer, {
  clients: CLIENTS.map((c) => (c.service ? {
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: c.scope,
    ...(c.dpop ? { dpop_bound_access_tokens: true } : {}),
    token_endpoint_auth_method: 'client_secret_basic',
  } : {
    client_id: c.client_id,
    ...(c.client_secret ? { client_secret: c.client_secret } : {}),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.dpop ? { dpop_bound_access_tokens: true } : {}),
    ...(c.par ? { require_pushed_authorization_requests: true } : {}),
    ...(c.authAlg ? { token_endpoint_auth_signing_alg: c.authAlg } : {}),
    ...(c.idTokenAlg ? { id_token_signed_response_alg: c.idTokenAlg } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: c.auth || 'client_secret_basic',
    redirect_uris: opts.rp.flatMap((o) => c.apps.map((app) => `${o}/oauth/${app}/callback`)),
    post_logout_redirect_uris: opts.rp.flatMap((o) => [`${o}/`, `${o}/logged-out`]),
  })),
  jwks: { keys: [signingKey, ecSigningKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    // oidc-provider keeps the claims the granted scopes allow (below).
    return { accountId: sub, async claims() { return structuredClone(account.claims); } };
  },
  // The standard scopes, with the extra claims under profile, so that an
  // app asking for "openid email profile" gets all of them (from userinfo:
  // in the code flow oidc-provider puts only sub and the protocol claims in
  // the id_token, as OpenID Connect Core 5.4 allows).
  // The service client's (op-service) scopes besides OpenID Connect's.
  scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'groups', 'address'],
  },
  features: {
    devInteractions: { enabled: false },
    // A client may revoke and introspect its own tokens only.
    revocation: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
    introspection: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
    userinfo: { enabled: true },
    // DPoP (RFC 9449) with server nonces: the token endpoint requires one,
    // so a client's first proof there is answered use_dpop_nonce.
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: (ctx) => ctx.oidc?.route === 'token'
        || (faults.userinfo_nonce === true && ctx.oidc?.route === 'userinfo'),
    },
    // The FAPI 2.0 Security Profile, for the FAPI clients only.
    fapi: {
      enabled: true,
      profile: (ctx, client) => (client && fapiClients.has(client.clientId) ? '2.0' : undefined),
    },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test OP', `${form}
<p>Do you want to sign out of ${esc(ctx.host)}?</p>
<button id="logout-yes" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out of the test OP.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('OP error', Object.entries(out)
      .map(([k, v]) => `<p class="error"><strong>${esc(k)}</strong>: <span id="${esc(k)}">${esc(v)}</span></p>`).join(''));
  },
  // Every confidential client proves possession of its code (oidc-provider
  // requires PKCE only of public clients by default).
  pkce: { required: () => true },
  // A refresh token for every code, whether or not offline_access was
  // asked for, rotated on each use; a consumed one replayed revokes the grant.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // Tokens outlive the OP's browser session: a refresh token that is
  // inactive after logout was revoked, not merely ended with the session.
  expiresWithSession: async () => false,
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: (ctx, token, client) => ttlByClient[client.clientId] ?? 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
});

provider.on('server_error', (ctx, err) => log(`server_error ${ctx.method} ${ctx.path}: ${err.stack || err}`));
for (const ev of ['authorization.error', 'grant.error', 'userinfo.error', 'revocation.error',
  'introspection.error', 'end_session.error', 'check_session.error']) {
  provider.on(ev, (ctx, err) => log(`${ev} ${ctx.method} ${ctx.path}: ${err.name} ${err.message} ${err.error_description || ''}`));
}

const route = (name) => provider.pathFor(name);

// A JWT's header and payload, unchecked (oidc-provider checked it).
function decodeJwt(jwt) {
  if (typeof jwt !== 'string') return undefined;
  const [h, p] = jwt.split('.');
  try {
    return {
      header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
      payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    };
  } catch {
    return undefined;
  }
}

// How the client authenticated at the token or PAR endpoint: the method
// registered for it (oidc-provider accepts no other), whether it sent a
// secret in Authorization, and the client assertion's header and claims.
function clientAuth(ctx, params) {
  const body = ctx.oidc?.body || {};
  const assertion = decodeJwt(body.client_assertion ?? params.client_assertion);
  return {
    auth_method: ctx.oidc?.client?.clientAuthMethod,
    basic: /^basic /i.test(ctx.get('authorization') || '') || undefined,
    assertion_type: body.client_assertion_type ?? params.client_assertion_type,
    assertion: assertion && { alg: assertion.header.alg, kid: assertion.header.kid, ...assertion.payload },
  };
}

// The request's DPoP proof, as sent (typ, alg, the public key's kty/crv,
// and its claims).
function dpopOf(ctx) {
  const proof = decodeJwt(ctx.get('dpop'));
  if (!proof) return undefined;
  return { typ: proof.header.typ, alg: proof.header.alg, jkt: thumbprint(proof.header.jwk), ...proof.payload };
}

// The FAPI profile oidc-provider applied to the request's client.
function fapiProfileOf(ctx) {
  return ctx.oidc?.client ? ctx.oidc.fapiProfile : undefined;
}

// RFC 7638: a JWK's SHA-256 thumbprint (what RFC 9449's cnf.jkt holds).
function thumbprint(jwk) {
  const members = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] }[jwk?.kty];
  if (!members) return undefined;
  const json = JSON.stringify(Object.fromEntries(members.map((k) => [k, jwk[k]])));
  return createHash('sha256').update(json).digest('base64url');
}

// What the test OP records, around oidc-provider's own routes.
provider.use(async (ctx, next) => {
  await next();
  log(`${ctx.method} ${ctx.path} ${ctx.status}`);
  const params = ctx.oidc?.params || {};
  if (ctx.path === '/.well-known/openid-configuration') {
    documents.discovery += 1;
  } else if (ctx.path === route('jwks')) {
    documents.jwks += 1;
  } else if (ctx.path === route('pushed_authorization_request')) {
    seen.pushed.push({
      status: ctx.status,
      client_id: ctx.oidc?.client?.clientId,
      fapi_profile: fapiProfileOf(ctx),
      ...clientAuth(ctx, params),
      dpop: dpopOf(ctx),
      params: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)),
      request_uri: ctx.body?.request_uri,
    });
  } else if (ctx.path === route('authorization')) {
    seen.authorizations.push({ status: ctx.status, query: { ...ctx.query } });
  } else if (ctx.path === route('token') && ctx.method === 'POST') {
    seen.tokens.push({
      status: ctx.status,
      client_id: ctx.oidc?.client?.clientId,
      grant_type: params.grant_type,
      fapi_profile: fapiProfileOf(ctx),
      code_verifier: params.code_verifier,
      body: ctx.body && typeof ctx.body === 'object' ? { ...ctx.body } : ctx.body,
      ...clientAuth(ctx, params),
      dpop: dpopOf(ctx),
      dpop_nonce_sent: ctx.response.get('dpop-nonce') ? true : undefined,
    });
  } else if (ctx.path === route('userinfo')) {
    seen.userinfo.push({
      status: ctx.status,
      sub: ctx.body?.sub,
      scheme: (ctx.get('authorization') || '').split(' ')[0],
      dpop: dpopOf(ctx),
      error: ctx.body?.error,
      host: ctx.get('host'),
    });
  } else if (ctx.path === route('revocation')) {
    seen.revocations.push({ status: ctx.status, client_id: ctx.oidc?.client?.clientId, token_type_hint: params.token_type_hint });
  } else if (ctx.path === route('introspection')) {
    seen.introspections.push({ status: ctx.status, active: ctx.body?.active });
  } else if (ctx.path.startsWith(route('end_session'))) {
    seen.end_sessions.push({ status: ctx.status, path: ctx.path, method: ctx.method, query: { ...ctx.query } });
  }
});

// The login page, consent, and the test endpoints: before oidc-provider's
// routes, which answer 404 for anything else.
provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/log' && ctx.method === 'GET') {
    ctx.body = { ...seen, documents };
    return;
  }
  if (ctx.path === '/_test/resource' && ctx.method === 'GET') {
    // A resource server for Bearer tokens: what the token is, if the OP
    // issued it and it is still valid; 401 otherwise.
    const [scheme, value] = (ctx.get('authorization') || '').split(' ');
    let token;
    if (/^bearer$/i.test(scheme || '') && value) {
      token = await provider.ClientCredentials.find(value) || await provider.AccessToken.find(value);
    }
    const entry = {
      status: token ? 200 : 401,
      scheme,
      kind: token?.kind,
      client_id: token?.clientId,
      scope: token?.scope,
      path: ctx.path,
      query: { ...ctx.query },
    };
    seen.resources.push(entry);
    ctx.status = entry.status;
    ctx.body = token ? entry : { error: 'invalid_token' };
    return;
  }
  if (ctx.path.startsWith('/_test/dpop-resource') && ['GET', 'POST', 'PUT'].includes(ctx.method)) {
    // A resource server that checks DPoP-bound tokens and demands its own
    // nonce in the proofs (RFC 9449 9): a proof without the current nonce
    // is answered 401 use_dpop_nonce with a new one; a proof is accepted
    // once (its jti), for the token it is bound to (cnf.jkt, ath), for
    // this method and URL, with a valid signature.
    const [scheme, value] = (ctx.get('authorization') || '').split(' ');
    const raw = ctx.get('dpop');
    const proof = decodeJwt(raw);
    const token = /^dpop$/i.test(scheme || '') && value
      ? await provider.AccessToken.find(value) || await provider.ClientCredentials.find(value)
      : undefined;
    const url = `http://${ctx.get('host')}${ctx.path}`;
    let error, replayed;
    if (!token || !proof) error = 'invalid_token';
    else if (proof.header.typ !== 'dpop+jwt' || thumbprint(proof.header.jwk) !== token.jkt) error = 'invalid_dpop_proof';
    else if (proof.payload.htm !== ctx.method || proof.payload.htu !== url) error = 'invalid_dpop_proof';
    else if (proof.payload.ath !== createHash('sha256').update(value).digest('base64url')) error = 'invalid_dpop_proof';
    else if (resourceJtis.has(proof.payload.jti)) error = 'invalid_dpop_proof';
    else {
      const [h, p, sig] = raw.split('.');
      const alg = proof.header.alg;
      const key = createPublicKey({ key: proof.header.jwk, format: 'jwk' });
      const opts = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' }
        : alg === 'PS256' ? { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key;
      const ok = cryptoVerify(alg === 'EdDSA' ? null : 'sha256', Buffer.from(`${h}.${p}`), opts, Buffer.from(sig, 'base64url'));
      if (!ok) error = 'invalid_dpop_proof';
      else if (faults.resource_replay) {
        faults.resource_replay = false;
        error = 'invalid_dpop_proof';
        replayed = true;
      } else if (proof.payload.nonce !== resourceNonce) error = 'use_dpop_nonce';
    }
    if (proof?.payload?.jti) resourceJtis.add(proof.payload.jti);
    let body = '';
    if (ctx.method !== 'GET') {
      body = await new Promise((resolve) => {
        const chunks = [];
        ctx.req.on('data', (c) => chunks.push(c));
        ctx.req.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      });
    }
    const entry = {
      status: error ? 401 : 200, error, method: ctx.method, path: ctx.path, query: { ...ctx.query },
      kind: token?.kind, client_id: token?.clientId,
      jti: proof?.payload?.jti, nonce: proof?.payload?.nonce,
      body_sha256: body ? createHash('sha256').update(body, 'latin1').digest('hex') : undefined,
    };
    seen.resources.push(entry);
    ctx.status = entry.status;
    if (error === 'use_dpop_nonce') {
      resourceNonce = randomBytes(16).toString('base64url');
      ctx.set('DPoP-Nonce', resourceNonce);
    }
    // A server may send its nonce with any answer (RFC 9449 8)
    if (replayed) ctx.set('DPoP-Nonce', resourceNonce);
    if (error) ctx.set('WWW-Authenticate', `DPoP error="${error}", algs="ES256 PS256 EdDSA"`);
    ctx.body = error ? { error } : entry;
    return;
  }
  if (ctx.path === '/_test/dpop-nonce' && ctx.method === 'POST') {
    // /_test/dpop-resource moves to a new nonce, as a server does in time
    resourceNonce = randomBytes(16).toString('base64url');
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/_test/token' && ctx.method === 'GET') {
    // What the OP holds of an access token (?token=): its client, and the
    // key thumbprint it is bound to (RFC 9449's cnf.jkt), if any.
    const token = await provider.AccessToken.find(String(ctx.query.token || ''));
    ctx.body = token
      ? { active: true, client_id: token.clientId, jkt: token.jkt, scope: token.scope }
      : { active: false };
    return;
  }
  if (ctx.path === '/_test/fault' && ctx.method === 'POST') {
    for (const [name, on] of Object.entries(ctx.query)) {
      if (!['userinfo_nonce', 'dpop_replay', 'resource_replay'].includes(name)) ctx.throw(400, `unknown fault ${name}`);
      faults[name] = on !== '0';
    }
    ctx.body = { faults };
    return;
  }
  // A proof the OP claims to have seen before: refused as RFC 9449 11.1
  // says a replay is, before oidc-provider sees the request (so neither
  // the code nor the client assertion is spent).
  if (faults.dpop_replay && ctx.path === route('token') && ctx.method === 'POST' && ctx.get('dpop')) {
    faults.dpop_replay = false;
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_dpop_proof', error_description: 'DPoP proof JWT Replay detected' };
    return;
  }
  if (ctx.path === '/_test/reset' && ctx.method === 'POST') {
    reset();
    ctx.body = { reset: true };
    return;
  }
  const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!m) {
    await next();
    return;
  }
  ctx.set('Cache-Control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== m[1]) ctx.throw(400, 'interaction mismatch');
  const { prompt, params } = details;

  if (m[2] && ctx.method === 'POST') {
    if (prompt.name !== 'login') ctx.throw(400, 'no login expected');
    const form = await readForm(ctx.req);
    const account = Object.hasOwn(ACCOUNTS, form.login) ? ACCOUNTS[form.login] : undefined;
    if (!account || account.password !== form.password) {
      seen.logins.push({ login: form.login, ok: false });
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, params.client_id, 'Wrong login or password.');
      return;
    }
    seen.logins.push({ login: form.login, ok: true, client_id: params.client_id });
    const to = await provider.interactionResult(ctx.req, ctx.res,
      { login: { accountId: account.claims.sub } }, { mergeWithLastSubmission: false });
    ctx.redirect(to);
    ctx.status = 303;
    return;
  }
  if (ctx.method !== 'GET' || m[2]) ctx.throw(405);

  if (prompt.name === 'login') {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, params.client_id);
    return;
  }
  if (prompt.name === 'consent') {
    // Everything asked for is granted, as a user clicking "allow" would.
    const { grantId, session } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const saved = await grant.save();
    const to = await provider.interactionResult(ctx.req, ctx.res,
      { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
    ctx.redirect(to);
    ctx.status = 303;
    return;
  }
  ctx.throw(400, `unexpected prompt ${prompt.name}`);
});

server.on('request', provider.callback());
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
process.stdout.write(`op listening on ${issuer}\n`);
